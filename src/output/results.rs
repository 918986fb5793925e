//! `--results DIR`: each job's stdout, stderr and sequence number in files laid out as GNU
//! parallel lays them out: `DIR/1/<value of input 1>/2/<value of input 2>/{stdout,stderr,seq}`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_reason};
use crate::job::Record;

pub fn save(dir: &Path, records: &[Record], seq: u64, stdout: &[u8], stderr: &[u8]) -> Result<()> {
    let mut path = dir.to_path_buf();
    if let Some(record) = records.first() {
        for (i, v) in record.iter().enumerate() {
            path.push((i + 1).to_string());
            path.push(std::ffi::OsStr::new(&escape(v)));
        }
    }
    let err = |p: &PathBuf, e: std::io::Error| {
        Error::new(format!(
            "cannot write results to {}: {}",
            p.display(),
            io_reason(&e)
        ))
        .with_hint("give --results a writable directory")
    };
    std::fs::create_dir_all(&path).map_err(|e| err(&path, e))?;
    for (name, data) in [
        ("stdout", stdout),
        ("stderr", stderr),
        ("seq", format!("{seq}\n").as_bytes()),
    ] {
        let p = path.join(name);
        std::fs::write(&p, data).map_err(|e| err(&p, e))?;
    }
    Ok(())
}

/// A value as one path component: `\` is `\\` and `/` is `\_`, as in GNU parallel.
fn escape(v: &[u8]) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    let mut out = Vec::with_capacity(v.len());
    for &b in v {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\_"),
            _ => out.push(b),
        }
    }
    if out.is_empty() || out == b"." || out == b".." {
        out.insert(0, b'\\');
    }
    std::ffi::OsString::from_vec(out)
}
