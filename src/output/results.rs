//! `--results DIR`: each job's stdout, stderr and sequence number in files laid out as GNU
//! parallel lays them out: `DIR/<name 1>/<value 1>/<name 2>/<value 2>/{stdout,stderr,seq}`, where
//! a name is the `--header` name of its input (its position, 1 2 ..., without one) and the levels
//! are sorted by name as GNU sorts them.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_reason};
use crate::job::Record;

/// Save one job's output; `names` are the `--header` names with the positions they stand for.
pub fn save(
    dir: &Path,
    names: &[(Vec<u8>, usize)],
    records: &[Record],
    seq: u64,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<()> {
    let mut path = dir.to_path_buf();
    if let Some(record) = records.first() {
        for (name, value) in levels(names, record) {
            path.push(escape(&name));
            path.push(escape(value));
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
    // GNU parallel's seq file holds the number without a newline.
    let seq = seq.to_string();
    for (name, data) in [
        ("stdout", stdout),
        ("stderr", stderr),
        ("seq", seq.as_bytes()),
    ] {
        let p = path.join(name);
        std::fs::write(&p, data).map_err(|e| err(&p, e))?;
    }
    Ok(())
}

/// Each value of `record` with the name of its level, in GNU parallel's order: sorted by name,
/// numerically (as Perl's `<=>` reads a string) and then byte-wise, so positions stay in order.
fn levels<'r>(names: &[(Vec<u8>, usize)], record: &'r Record) -> Vec<(Vec<u8>, &'r [u8])> {
    let mut levels: Vec<(Vec<u8>, &[u8])> = record
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let name = names
                .iter()
                .find(|(_, pos)| *pos == i + 1)
                .map_or_else(|| (i + 1).to_string().into_bytes(), |(n, _)| n.clone());
            (name, v.as_slice())
        })
        .collect();
    levels.sort_by(|(a, _), (b, _)| {
        perl_number(a)
            .total_cmp(&perl_number(b))
            .then_with(|| a.cmp(b))
    });
    levels
}

/// A string's number as Perl reads it: the leading decimal number, or 0 without one.
fn perl_number(s: &[u8]) -> f64 {
    let s = s.trim_ascii_start();
    let digits = |from: usize| {
        s[from.min(s.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut end = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let whole = digits(end);
    end += whole;
    let mut frac = 0;
    if s.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        end += 1 + frac;
    }
    if whole + frac == 0 {
        return 0.0;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        let exp = digits(end + 1 + sign);
        if exp > 0 {
            end += 1 + sign + exp;
        }
    }
    std::str::from_utf8(&s[..end])
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_sort_by_name_as_gnu_parallel() {
        let record: Record = vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()];
        let names = [(b"zz".to_vec(), 1), (b"aa".to_vec(), 2)];
        let got: Vec<_> = levels(&names, &record)
            .into_iter()
            .map(|(n, v)| (String::from_utf8(n).unwrap(), v))
            .collect();
        // Names that are no number count as 0, before the position 3.
        assert_eq!(
            got,
            [
                ("aa".into(), &b"y"[..]),
                ("zz".into(), &b"x"[..]),
                ("3".into(), &b"z"[..])
            ]
        );
        let many: Record = (1..=11).map(|i| i.to_string().into_bytes()).collect();
        let order: Vec<_> = levels(&[], &many).into_iter().map(|(_, v)| v).collect();
        assert_eq!(order, many.iter().map(Vec::as_slice).collect::<Vec<_>>());
    }

    #[test]
    fn perl_number_reads_the_leading_number() {
        for (s, n) in [
            ("11a", 11.0),
            (" -2.5e1x", -25.0),
            (".5", 0.5),
            ("1e", 1.0),
            ("abc", 0.0),
            ("-", 0.0),
            ("", 0.0),
        ] {
            assert_eq!(perl_number(s.as_bytes()), n, "{s:?}");
        }
    }
}
