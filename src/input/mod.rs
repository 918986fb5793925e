//! Input sources: `:::` lists, `::::`/`-a` files and stdin, read as byte records and combined into
//! one record per job input.
//!
//! Reading streams: the first input source (or linked group) is read one record at a time, so jobs
//! start before the input ends and memory does not grow with its length. The other sources of a
//! combination are read whole, since every one of their values is needed again for each value of
//! the first (GNU parallel does the same).

pub mod blocks;
mod reader;

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use regex::bytes::Regex;

use crate::error::{Error, Result};
pub use reader::RecordReader;

pub use crate::job::Record;

#[derive(Clone)]
pub enum SourceKind {
    /// `::: a b c`
    Args(Vec<Vec<u8>>),
    /// `:::: FILE`, `-a FILE`; `-` is stdin.
    File(PathBuf),
}

impl SourceKind {
    pub fn is_stdin(&self) -> bool {
        matches!(self, SourceKind::File(p) if p.as_os_str() == "-")
    }

    /// Reading it never waits on another process: a list, or a regular file (stdin too, when
    /// it is redirected from one).
    pub fn never_waits(&self) -> bool {
        match self {
            SourceKind::Args(_) => true,
            SourceKind::File(p) => {
                let p = if self.is_stdin() {
                    std::path::Path::new("/dev/stdin")
                } else {
                    p
                };
                std::fs::metadata(p).is_ok_and(|m| m.is_file())
            }
        }
    }
}

#[derive(Clone)]
pub struct SourceSpec {
    pub kind: SourceKind,
    /// `:::+` / `::::+`: paired element-wise with the source before it.
    pub linked: bool,
}

#[derive(Clone)]
pub struct InputConfig {
    pub sources: Vec<SourceSpec>,
    pub delimiter: Vec<u8>,
    pub colsep: Option<Regex>,
    /// `--trim`, or `--colsep`'s default: white space removed from each value (each column).
    pub trim: Trim,
    /// `-r`: skip values that are empty or only white space.
    pub skip_empty: bool,
    /// `-E`: a value that ends its source.
    pub eof: Option<Vec<u8>>,
    /// `--link`: pair all sources element-wise, shorter ones wrapping around.
    pub link_all: bool,
    /// `--header`: the first value of each source names it (or its columns).
    pub header: bool,
    /// No source was given, so the one source is stdin: say so when that is a terminal.
    pub implied_stdin: bool,
}

/// Which ends of a value `--trim` strips of white space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    None,
    Left,
    Right,
    Both,
}

impl Trim {
    fn apply(self, v: &[u8]) -> &[u8] {
        // Perl's \s, which GNU parallel trims with.
        let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        let start = match self {
            Trim::Left | Trim::Both => v.iter().position(|b| !space(b)).unwrap_or(v.len()),
            _ => 0,
        };
        let end = match self {
            Trim::Right | Trim::Both => v.iter().rposition(|b| !space(b)).map_or(0, |i| i + 1),
            _ => v.len(),
        };
        v.get(start..end.max(start)).unwrap_or_default()
    }
}

/// How one value becomes a record's values: `--colsep` columns, then `--trim`.
#[derive(Clone)]
struct Columns {
    colsep: Option<Regex>,
    trim: Trim,
}

impl Columns {
    fn split(&self, v: Vec<u8>, out: &mut Record) {
        match (&self.colsep, self.trim) {
            (Some(re), trim) => out.extend(perl_split(re, &v).map(|c| trim.apply(c).to_vec())),
            (None, Trim::None) => out.push(v),
            (None, trim) => out.push(trim.apply(&v).to_vec()),
        }
    }
}

/// Split `v` at `re` as Perl's `split /re/, v, -1` does in GNU parallel: an empty match at the
/// start or where the previous match ended does not split, so a separator that can match nothing
/// (`--colsep '|'`) splits between characters instead of giving empty columns. An empty value is
/// one empty column.
fn perl_split<'a>(re: &Regex, v: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut prev_end = None;
    for m in re.find_iter(v) {
        if m.is_empty() && (m.start() == 0 || prev_end == Some(m.start())) {
            continue;
        }
        fields.push(&v[start..m.start()]);
        start = m.end();
        prev_end = Some(m.end());
    }
    fields.push(&v[start..]);
    fields.into_iter()
}

/// Header names with the 1-based positions they stand for.
pub type Names = Vec<(Vec<u8>, usize)>;

/// One source's values, in order.
enum Stream {
    List(std::vec::IntoIter<Vec<u8>>),
    Reader(RecordReader<Box<dyn Read + Send>>),
}

struct Source {
    stream: Stream,
    /// What to call the source in a read error: `input file NAME` or `stdin`.
    name: String,
    eof: Option<Vec<u8>>,
    skip_empty: bool,
    done: bool,
}

impl Source {
    fn next_value(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let v = match &mut self.stream {
                Stream::List(it) => it.next(),
                Stream::Reader(r) => r.next_record().map_err(|e| {
                    Error::new(format!(
                        "cannot read {}: {}",
                        self.name,
                        crate::error::io_reason(&e)
                    ))
                })?,
            };
            let Some(v) = v else {
                self.done = true;
                return Ok(None);
            };
            if self.eof.as_deref() == Some(v.as_slice()) {
                self.done = true;
                return Ok(None);
            }
            if self.skip_empty && v.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Ok(Some(v));
        }
    }
}

/// Sources paired element-wise (`:::+`, `--link`); a lone source is a group of one.
struct Group {
    sources: Vec<Source>,
    /// `--link`: every source materialized; shorter ones wrap around to the longest.
    wrap: Option<(Vec<Vec<Record>>, usize)>,
}

impl Group {
    fn next(&mut self, cols: &Columns) -> Result<Option<Record>> {
        if let Some((lists, i)) = &mut self.wrap {
            let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
            if *i >= longest || lists.iter().any(Vec::is_empty) {
                return Ok(None);
            }
            let rec = lists
                .iter()
                .flat_map(|l| l[*i % l.len()].iter().cloned())
                .collect();
            *i += 1;
            return Ok(Some(rec));
        }
        let mut rec = Vec::new();
        for s in &mut self.sources {
            match s.next_value()? {
                Some(v) => cols.split(v, &mut rec),
                None => return Ok(None),
            }
        }
        Ok(Some(rec))
    }
}

/// All job inputs: the combination of every group, first group slowest.
pub struct Inputs {
    first: Group,
    rest: Vec<Vec<Record>>,
    /// The odometer over `rest`, and the current record of the first group.
    idx: Vec<usize>,
    current: Option<Record>,
    cols: Columns,
    done: bool,
}

impl Inputs {
    /// Open every source (so that a missing file fails before any job runs) and read headers.
    /// Returns the inputs and the header names with their 1-based positions.
    pub fn open(cfg: InputConfig) -> Result<(Inputs, Names)> {
        use std::io::IsTerminal;
        // Otherwise forkpool would wait silently for input the user may not know it wants (GNU
        // parallel warns too, also only when stderr is a terminal to see it on).
        if cfg.implied_stdin && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            crate::diag::warn(
                "reading job inputs from stdin (a terminal): end them with Ctrl-D, or give them with ::: VALUES or :::: FILE",
            );
        }
        let mut groups: Vec<Vec<Source>> = Vec::new();
        for spec in cfg.sources {
            let (stream, name) = match spec.kind {
                // As GNU parallel: ::: values are split at the delimiter like file input.
                SourceKind::Args(v) => (
                    Stream::List(split_values(v, &cfg.delimiter).into_iter()),
                    String::new(),
                ),
                SourceKind::File(p) => (
                    Stream::Reader(RecordReader::new(open_file(&p)?, cfg.delimiter.clone())),
                    if p.as_os_str() == "-" {
                        "stdin".to_string()
                    } else {
                        format!("input file {}", p.display())
                    },
                ),
            };
            let src = Source {
                stream,
                name,
                eof: cfg.eof.clone(),
                skip_empty: cfg.skip_empty,
                done: false,
            };
            match groups.last_mut() {
                Some(g) if spec.linked || cfg.link_all => g.push(src),
                _ => groups.push(vec![src]),
            }
        }
        let cols = Columns {
            colsep: cfg.colsep,
            trim: cfg.trim,
        };
        let mut names = Vec::new();
        if cfg.header {
            let mut pos = 1;
            for src in groups.iter_mut().flatten() {
                let Some(h) = src.next_value()? else { continue };
                // Names are trimmed like the values: `name, age` names `{age}`.
                let mut header = Vec::new();
                cols.split(h, &mut header);
                for name in header {
                    names.push((name, pos));
                    pos += 1;
                }
            }
        }
        let mut groups = groups.into_iter().map(|sources| Group {
            sources,
            wrap: None,
        });
        let mut first = groups.next().expect("at least one input source");
        if cfg.link_all && first.sources.len() > 1 {
            let mut lists = Vec::new();
            for s in &mut first.sources {
                let mut l = Vec::new();
                while let Some(v) = s.next_value()? {
                    let mut rec = Vec::new();
                    cols.split(v, &mut rec);
                    l.push(rec);
                }
                lists.push(l);
            }
            first.wrap = Some((lists, 0));
        }
        let mut rest = Vec::new();
        for mut g in groups {
            let mut all = Vec::new();
            while let Some(r) = g.next(&cols)? {
                all.push(r);
            }
            rest.push(all);
        }
        let idx = vec![0; rest.len()];
        let done = rest.iter().any(Vec::is_empty);
        Ok((
            Inputs {
                first,
                rest,
                idx,
                current: None,
                cols,
                done,
            },
            names,
        ))
    }

    /// The next job input, or None at the end.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        if self.done {
            return Ok(None);
        }
        if self.current.is_none() {
            match self.first.next(&self.cols)? {
                Some(r) => self.current = Some(r),
                None => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
        let cur = self.current.as_ref().expect("set above");
        let mut rec = cur.clone();
        for (list, &i) in self.rest.iter().zip(&self.idx) {
            rec.extend(list[i].iter().cloned());
        }
        // Advance the odometer: the last source is fastest.
        let mut carry = true;
        for (k, list) in self.rest.iter().enumerate().rev() {
            self.idx[k] += 1;
            if self.idx[k] < list.len() {
                carry = false;
                break;
            }
            self.idx[k] = 0;
        }
        if carry {
            self.current = None;
        }
        Ok(Some(rec))
    }
}

fn split_values(values: Vec<Vec<u8>>, delim: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        if !v.windows(delim.len()).any(|w| w == delim) {
            out.push(v);
            continue;
        }
        let mut rest = v.as_slice();
        while let Some(i) = rest.windows(delim.len()).position(|w| w == delim) {
            out.push(rest[..i].to_vec());
            rest = &rest[i + delim.len()..];
        }
        out.push(rest.to_vec());
    }
    out
}

fn open_file(path: &PathBuf) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        let fd = nix::unistd::dup(std::io::stdin())
            .map_err(|e| Error::new(format!("cannot read stdin: {e}")))?;
        return Ok(Box::new(File::from(fd)));
    }
    let f = File::open(path).map_err(|e| {
        Error::new(format!(
            "cannot read input file {}: {}",
            path.display(),
            crate::error::io_reason(&e)
        ))
    })?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        // GNU parallel reads a directory as empty input; do the same, but say so.
        crate::diag::warn(&format!(
            "warning: input file {} is a directory; it gives no input",
            path.display()
        ));
        return Ok(Box::new(std::io::empty()));
    }
    Ok(Box::new(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(sep: &str, v: &str) -> Vec<String> {
        let re = Regex::new(&format!("(?-u:{sep})")).unwrap();
        perl_split(&re, v.as_bytes())
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    /// Each expected list is what `perl -e 'split /SEP/, V, -1'` gives.
    #[test]
    fn columns_split_as_perl_does() {
        assert_eq!(split("|", "a|b"), ["a", "|", "b", ""]);
        assert_eq!(split("", "ab"), ["a", "b", ""]);
        assert_eq!(split(" *", "a  b"), ["a", "b", ""]);
        assert_eq!(split(" *", " a"), ["", "a", ""]);
        assert_eq!(split("b*", "ab"), ["a", ""]);
        assert_eq!(split(",*", "a,b,,"), ["a", "b", ""]);
        assert_eq!(split(",", "a,b,,"), ["a", "b", "", ""]);
        assert_eq!(split(",", ",a"), ["", "a"]);
        assert_eq!(split(",", ""), [""]);
    }
}
