//! `--results DIR`: each job's stdout, stderr and sequence number in files laid out as GNU parallel
//! lays them out: `DIR/<name 1>/<value 1>/<name 2>/<value 2>/{stdout,stderr,seq}`, where a name is
//! the `--header` name of its input (its position, 1 2 ..., without one) and the levels are sorted
//! by name as GNU sorts them, argument after argument of a job. A value longer than a file name may
//! be is split into subdirectories (GNU parallel 20221122 cuts it short, so two long values can
//! share a directory), and the levels are made one by one, so no path length limit stops the run.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, mkdirat};

use crate::error::{Error, Result, io_reason};
use crate::job::Record;

/// The longest file name that Linux file systems take (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// Save one job's output; `names` are the `--header` names with the positions they stand for.
pub fn save(
    dir: &Path,
    names: &[(Vec<u8>, usize)],
    records: &[Record],
    seq: u64,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<()> {
    // One pair of levels per value: a job of several arguments (`-n2`, `-X`) has a pair for
    // each, record after record, as GNU parallel has.
    let mut components = Vec::new();
    for record in records {
        for (name, value) in levels(names, record) {
            components.extend(escape(&name));
            components.extend(escape(value));
        }
    }
    let err = |p: &Path, e: std::io::Error| {
        Error::new(format!(
            "cannot write results to {}: {}",
            p.display(),
            io_reason(&e)
        ))
        .with_hint("give --results a writable directory")
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let mut at: OwnedFd = File::open(dir).map_err(|e| err(dir, e))?.into();
    let mut path = dir.to_path_buf();
    for c in &components {
        path.push(OsStr::from_bytes(c));
        // Relative to the level above: the whole path may be longer than PATH_MAX.
        match mkdirat(&at, c.as_slice(), Mode::from_bits_truncate(0o777)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(err(&path, e.into())),
        }
        let dir_flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
        at = openat(&at, c.as_slice(), dir_flags, Mode::empty())
            .map_err(|e| err(&path, e.into()))?;
    }
    // GNU parallel's seq file holds the number without a newline.
    let seq = seq.to_string();
    for (name, data) in [
        ("stdout", stdout),
        ("stderr", stderr),
        ("seq", seq.as_bytes()),
    ] {
        let p = path.join(name);
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_CLOEXEC;
        openat(&at, name, flags, Mode::from_bits_truncate(0o666))
            .map_err(std::io::Error::from)
            .and_then(|fd| File::from(fd).write_all(data))
            .map_err(|e| err(&p, e))?;
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

/// A value as path components: `\\` is `\\\\`, `/` is `\\_`, a tab `\\t` and a NUL `\\0`, as in GNU
/// parallel; past `NAME_MAX` bytes it goes on in a subdirectory, each cut at the start of a UTF-8
/// character. An empty value is no level at all: GNU parallel joins the levels with `/`, and the
/// empty name between two slashes collapses.
fn escape(v: &[u8]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut piece = Vec::with_capacity(v.len().min(NAME_MAX));
    for (i, &b) in v.iter().enumerate() {
        let unit: &[u8] = match b {
            b'\\' => b"\\\\",
            b'/' => b"\\_",
            b'\t' => b"\\t",
            0 => b"\\0",
            _ => std::slice::from_ref(&b),
        };
        if piece.len() + unit.len() > NAME_MAX {
            // Bytes from 0x80 are one byte each in `piece`, so a character begun there moves whole.
            let start = (i.saturating_sub(3)..i).rev().find(|&j| v[j] >= 0xC0);
            let tail = match start {
                Some(j)
                    if is_continuation(b) && v[j + 1..i].iter().all(|&c| is_continuation(c)) =>
                {
                    piece.split_off(piece.len() - (i - j))
                }
                _ => Vec::new(),
            };
            pieces.push(std::mem::replace(&mut piece, tail));
        }
        piece.extend_from_slice(unit);
    }
    if v.is_empty() {
        return Vec::new();
    }
    if piece == b"." || piece == b".." {
        piece.insert(0, b'\\');
    }
    pieces.push(piece);
    pieces
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
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
    fn escape_splits_long_values_between_characters() {
        assert_eq!(escape(b"a/b\\c"), [b"a\\_b\\\\c".to_vec()]);
        assert_eq!(escape(b"a\tb\0"), [b"a\\tb\\0".to_vec()]);
        assert!(escape(b"").is_empty());
        assert_eq!(escape(b".."), [b"\\..".to_vec()]);
        let exact = vec![b'x'; NAME_MAX];
        assert_eq!(escape(&exact), std::slice::from_ref(&exact));
        // A last piece of "." must not name the directory itself.
        let dot = [exact.clone(), b".".to_vec()].concat();
        assert_eq!(escape(&dot), [exact.clone(), b"\\.".to_vec()]);
        // An escape is never cut in two.
        let slash = [vec![b'x'; NAME_MAX - 1], b"/".to_vec()].concat();
        assert_eq!(escape(&slash), [vec![b'x'; NAME_MAX - 1], b"\\_".to_vec()]);
        // "é" is two bytes: the one that would straddle the cut starts the next piece.
        let text = format!("{}{}", "x".repeat(NAME_MAX - 1), "é".repeat(2));
        let pieces = escape(text.as_bytes());
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], "x".repeat(NAME_MAX - 1).into_bytes());
        assert_eq!(pieces[1], "éé".as_bytes());
        assert!(escape(&[b'x'; 600]).iter().all(|p| p.len() <= NAME_MAX));
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
