//! The spill file: output that must wait beyond the memory cap goes to one unlinked temporary file,
//! appended to and read back by offset. It is truncated whenever nothing in it is still waiting.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_reason};

pub struct Spill {
    dir: PathBuf,
    file: Option<File>,
    len: u64,
    /// Bytes written and not yet read back.
    live: u64,
}

impl Spill {
    pub fn new(dir: PathBuf) -> Spill {
        Spill {
            dir,
            file: None,
            len: 0,
            live: 0,
        }
    }

    /// Append `data`; returns its offset.
    pub fn write(&mut self, data: &[u8]) -> Result<u64> {
        if self.file.is_none() {
            self.file = Some(create_unlinked(&self.dir).map_err(|e| self.error(&e))?);
        }
        let off = self.len;
        let file = self.file.as_ref().expect("opened above");
        file.write_all_at(data, off).map_err(|e| self.error(&e))?;
        self.len += data.len() as u64;
        self.live += data.len() as u64;
        Ok(off)
    }

    /// Copy a spilled segment to `out`, and forget it.
    pub fn copy_out(&mut self, off: u64, len: u64, out: &mut dyn Write) -> io::Result<()> {
        self.chunks(off, len, &mut |c| out.write_all(c))?;
        self.release(len);
        Ok(())
    }

    /// Hand a spilled segment to `f` in chunks, keeping it.
    pub fn chunks(
        &self,
        off: u64,
        len: u64,
        f: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let file = self.file.as_ref().expect("a segment was written");
        let mut buf = vec![0; len.min(256 * 1024) as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(buf.len() as u64) as usize;
            file.read_exact_at(&mut buf[..n], off + done)?;
            f(&buf[..n])?;
            done += n as u64;
        }
        Ok(())
    }

    /// Append a spilled segment to `out`, keeping it.
    pub fn read(&self, off: u64, len: u64, out: &mut Vec<u8>) -> io::Result<()> {
        let file = self.file.as_ref().expect("a segment was written");
        let start = out.len();
        out.resize(start + len as usize, 0);
        file.read_exact_at(&mut out[start..], off)
    }

    /// Forget a segment without reading it.
    pub fn release(&mut self, len: u64) {
        self.live -= len;
        if self.live == 0 && self.len > 0 {
            if let Some(f) = &self.file {
                let _ = f.set_len(0);
            }
            self.len = 0;
        }
    }

    fn error(&self, e: &io::Error) -> Error {
        Error::new(format!(
            "cannot write waiting output to a temporary file in {}: {}",
            self.dir.display(),
            io_reason(e)
        ))
        .with_hint("free space there, or point --tmpdir (or TMPDIR) at a writable directory")
    }
}

fn create_unlinked(dir: &Path) -> io::Result<File> {
    match OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_TMPFILE)
        .mode(0o600)
        .open(dir)
    {
        Ok(f) => Ok(f),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(nix::libc::EOPNOTSUPP | nix::libc::EISDIR | nix::libc::EINVAL)
            ) =>
        {
            // No O_TMPFILE on this filesystem: create a private name and unlink it at once.
            for i in 0..100 {
                let p = dir.join(format!(".forkpool-{}-{}", std::process::id(), i));
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&p)
                {
                    Ok(f) => {
                        std::fs::remove_file(&p)?;
                        return Ok(f);
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(io::Error::other("no free temporary file name"))
        }
        Err(e) => Err(e),
    }
}
