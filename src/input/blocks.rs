//! Pipe mode's input (`--pipe`, `--pipepart`): a byte stream or a file cut into blocks that end
//! on record boundaries, each block one job's stdin.
//!
//! A record ends where `--recend` is followed by `--recstart` (either may be empty; by default
//! a record is a line), or with `--regexp` where those regular expressions match in turn, or
//! with `-L N` after every N lines. `--pipe` fills a buffer to `--block` bytes and cuts after
//! its last record (`-N`: after exactly N records); nothing but that search touches the bytes,
//! and the buffer that was filled is handed on as the block, with the `--header` already at its
//! front. `--pipepart` works out byte ranges of a seekable file by reading only a small window
//! around each cut, so the records themselves never pass through forkpool.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use regex::bytes::Regex;

/// Where one record ends and the next begins.
#[derive(Clone, Debug)]
pub enum Split {
    /// `--recend` then `--recstart`; the cut goes between them.
    Literal { end: Vec<u8>, start: Vec<u8> },
    /// `--regexp`: `(?:END)()(?:START)`; the cut goes where the empty group matches.
    Regex(Regex),
    /// `-L N`: N lines make a record.
    Lines(usize),
}

/// `--header`: what is repeated at the front of every block.
#[derive(Clone, Debug)]
pub enum Header {
    Lines(usize),
    /// Matched at the very start of the input.
    Regex(Regex),
}

/// How to cut the input.
#[derive(Clone, Debug)]
pub struct Cutting {
    pub split: Split,
    /// Bytes per block (records permitting).
    pub block: usize,
    /// `-N`: exactly this many records per block (the last one may have fewer).
    pub records: Option<usize>,
    pub header: Option<Header>,
    /// `--rrs`: leave the separators out of the blocks.
    pub remove_separators: bool,
}

impl Split {
    /// The regular expression for `--regexp` with END and START (either may be empty).
    pub fn regex(end: &str, start: &str) -> Result<Split, regex::Error> {
        // Bytes, as Perl matches them: `.` is any byte but a newline, valid UTF-8 or not.
        Regex::new(&format!("(?-u:(?:{end})()(?:{start}))")).map(Split::Regex)
    }

    /// The first cut after `from` (a record is never empty), if `buf` shows one. Unless `eof`,
    /// more bytes may follow `buf`, and a regular expression whose match reaches its end might
    /// match more: such a cut is not final yet.
    pub fn next(&self, buf: &[u8], from: usize, eof: bool) -> Option<usize> {
        match self {
            Split::Literal { end, start } => {
                // A record holds at least its recend, or at least one byte before a recstart.
                let at = from + usize::from(end.is_empty());
                if at > buf.len() {
                    return None;
                }
                let i = if start.is_empty() && end.len() == 1 {
                    memchr::memchr(end[0], &buf[at..])?
                } else if start.is_empty() {
                    memchr::memmem::find(&buf[at..], end)?
                } else {
                    memchr::memmem::find(&buf[at..], &[end.as_slice(), start].concat())?
                };
                Some(at + i + end.len())
            }
            Split::Regex(re) => {
                let mut at = from;
                while at <= buf.len() {
                    let caps = re.captures_at(buf, at)?;
                    let cut = caps.get(1).map_or(0, |m| m.start());
                    let end = caps.get(0).map_or(0, |m| m.end());
                    if !eof && end == buf.len() {
                        return None;
                    }
                    if cut > from {
                        return Some(cut);
                    }
                    at = caps.get(0).map_or(at, |m| m.start()) + 1;
                }
                None
            }
            Split::Lines(n) => memchr::memchr_iter(b'\n', &buf[from..])
                .nth(n - 1)
                .map(|i| from + i + 1),
        }
    }

    /// The last cut after `from` and at most at `limit`.
    pub fn last(&self, buf: &[u8], from: usize, limit: usize, eof: bool) -> Option<usize> {
        let limit = limit.min(buf.len());
        if limit <= from {
            return None;
        }
        match self {
            Split::Literal { end, start } if start.is_empty() => {
                memchr::memmem::rfind(&buf[from..limit], end).map(|i| from + i + end.len())
            }
            Split::Literal { end, start } if end.is_empty() => {
                let window = &buf[from + 1..(limit + start.len()).min(buf.len())];
                memchr::memmem::rfind(window, start).map(|i| from + 1 + i)
            }
            _ => {
                let mut last = None;
                let mut at = from;
                while let Some(cut) = self.next(buf, at, eof).filter(|&c| c <= limit) {
                    last = Some(cut);
                    at = cut;
                }
                last
            }
        }
    }

    /// Up to `want` cuts after `from`: where the last one is, and how many there were.
    pub fn advance(&self, buf: &[u8], from: usize, want: usize, eof: bool) -> (usize, usize) {
        // One pass of memchr's iterator is far faster than a search per record.
        let byte = match self {
            Split::Literal { end, start } if start.is_empty() && end.len() == 1 => Some(end[0]),
            Split::Lines(1) => Some(b'\n'),
            _ => None,
        };
        if let Some(b) = byte {
            let mut last = from;
            let mut found = 0;
            for i in memchr::memchr_iter(b, &buf[from..]).take(want) {
                last = from + i + 1;
                found += 1;
            }
            return (last, found);
        }
        let (mut at, mut found) = (from, 0);
        while found < want {
            match self.next(buf, at, eof) {
                Some(c) => {
                    at = c;
                    found += 1;
                }
                None => break,
            }
        }
        (at, found)
    }

    /// `--rrs`: `block` without the separators between its records, before its first record
    /// and after its last.
    pub fn remove_separators(&self, block: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(block.len());
        match self {
            Split::Literal { end, start } => {
                let mut from = 0;
                let mut record_start = 0;
                loop {
                    let cut = self.next(block, from, true);
                    let stop = cut.unwrap_or(block.len());
                    let mut body = &block[record_start..stop];
                    if body.starts_with(start) {
                        body = &body[start.len()..];
                    }
                    if body.ends_with(end) && (cut.is_some() || !end.is_empty()) {
                        body = &body[..body.len() - end.len()];
                    }
                    out.extend_from_slice(body);
                    match cut {
                        Some(c) => {
                            from = c;
                            record_start = c;
                        }
                        None => break,
                    }
                }
            }
            Split::Regex(re) => {
                // Remove what END and START matched at each cut.
                let mut copied = 0;
                for caps in re.captures_iter(block) {
                    let m = caps.get(0).expect("a match");
                    out.extend_from_slice(&block[copied..m.start()]);
                    copied = m.end();
                }
                out.extend_from_slice(&block[copied..]);
            }
            // As GNU parallel: with -L every newline goes.
            Split::Lines(_) => out.extend(block.iter().filter(|&&b| b != b'\n')),
        }
        out
    }
}

impl Header {
    /// The header's length at the front of `buf`, once `buf` holds enough to tell (or `eof`).
    fn len(&self, buf: &[u8], eof: bool) -> Option<usize> {
        match self {
            // Fewer lines than the header has: no header, and the lines are data (GNU's
            // header pattern does not match them either).
            Header::Lines(n) => match Split::Lines(*n).next(buf, 0, eof) {
                Some(end) => Some(end),
                None if eof => Some(0),
                None => None,
            },
            Header::Regex(re) => match re.find(buf) {
                Some(m)
                    if m.start() == 0 && (m.end() < buf.len() || eof || buf.len() >= 1 << 20) =>
                {
                    Some(m.end())
                }
                Some(m) if m.start() == 0 => None,
                _ if eof || buf.len() >= 1 << 20 => Some(0),
                _ => None,
            },
        }
    }
}

/// Reads at least this much at a time.
const READ_CHUNK: usize = 256 * 1024;

/// `--pipe`: blocks read from a stream.
pub struct BlockReader<R> {
    src: R,
    cut: Cutting,
    /// The header, then the records read so far; `filled` bytes of it hold data.
    buf: Vec<u8>,
    filled: usize,
    header: Option<Vec<u8>>,
    eof: bool,
    made: u64,
    /// `-N`: where the count of records in `buf` got to, and how many it found, so that each
    /// read scans only what is new.
    counted: (usize, usize),
    /// A record was longer than the block (warned once).
    pub grew: bool,
}

impl<R: Read> BlockReader<R> {
    pub fn new(src: R, cut: Cutting) -> BlockReader<R> {
        BlockReader {
            src,
            buf: Vec::new(),
            filled: 0,
            header: None,
            eof: false,
            made: 0,
            counted: (0, 0),
            grew: false,
            cut,
        }
    }

    /// A new buffer's size: the block and a read's worth, up to 64 MiB to begin with (a huge
    /// --block grows only as the input fills it).
    fn first_size(&self) -> usize {
        self.cut.block.clamp(READ_CHUNK, 64 << 20) + READ_CHUNK
    }

    /// The block size in force (grown past --block after a longer record).
    pub fn block(&self) -> usize {
        self.cut.block
    }

    /// The `--header` at the front of every block (empty before the first block is read).
    pub fn header(&self) -> &[u8] {
        self.header.as_deref().unwrap_or_default()
    }

    /// Where the records start in `buf`.
    fn head(&self) -> usize {
        self.header.as_ref().map_or(0, Vec::len)
    }

    /// Read more into `buf`, growing it when full. False at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.buf.len() - self.filled < READ_CHUNK / 4 {
            // Zeroed memory from the allocator is fresh pages, not a memset (as resize would).
            let want = (self.buf.len() * 2).max(self.filled + READ_CHUNK);
            let mut bigger = vec![0; want];
            bigger[..self.filled].copy_from_slice(&self.buf[..self.filled]);
            self.buf = bigger;
        }
        loop {
            match self.src.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn read_header(&mut self) -> io::Result<()> {
        let Some(rule) = self.cut.header.clone() else {
            self.header = Some(Vec::new());
            return Ok(());
        };
        loop {
            if let Some(n) = rule.len(&self.buf[..self.filled], self.eof) {
                self.header = Some(self.buf[..n].to_vec());
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// The next block (header included), or None at the end of the input.
    pub fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.header.is_none() {
            self.buf = vec![0; self.first_size()];
            self.read_header()?;
        }
        let head = self.head();
        let cut = loop {
            let data = &self.buf[..self.filled];
            if let Some(n) = self.cut.records {
                let (at, found) = self.counted;
                let (more_at, more) =
                    self.cut
                        .split
                        .advance(data, at.max(head), n - found, self.eof);
                let (at, found) = (more_at, found + more);
                self.counted = (at, found);
                if found == n {
                    break at;
                }
                if self.eof {
                    break self.filled;
                }
            } else {
                let limit = head + self.cut.block;
                let lines = matches!(self.cut.split, Split::Lines(_));
                if self.eof && self.filled <= limit && !lines {
                    break self.filled;
                }
                // A byte past the limit (or the end) must be seen: a buffer that ends exactly at
                // the limit may be the whole rest of the input.
                if self.filled > limit || self.eof {
                    if let Some(c) = self.cut.split.last(data, head, limit, self.eof) {
                        break c;
                    }
                    if self.eof && self.filled <= limit {
                        break self.filled;
                    }
                    // A record longer than the block: the block size grows, for the rest of
                    // the run, until a cut fits (at the end, the rest is one block).
                    self.grew = true;
                    let bigger = grown(self.cut.block);
                    if bigger == self.cut.block {
                        // At the 2 GiB cap: the record's block holds it whole.
                        if let Some(c) = self.cut.split.next(data, head, self.eof) {
                            break c;
                        }
                    }
                    self.cut.block = bigger;
                    continue;
                }
            }
            self.fill()?;
        };
        if cut == head && (self.made > 0 || head == 0) {
            return Ok(None);
        }
        self.made += 1;
        self.counted = (0, 0);
        // The rest starts the next buffer, behind the header.
        let header = self.header.as_deref().unwrap_or_default();
        // Blocks of -N records are often bigger than --block: start the next buffer as big as
        // this one grew, rather than growing (and copying) it again for every block.
        let size = self
            .buf
            .len()
            .min(self.cut.block.max(64 << 20) + READ_CHUNK);
        let mut next = vec![0; size.max(head + self.filled - cut + READ_CHUNK)];
        next[..head].copy_from_slice(header);
        let rest = self.filled - cut;
        next[head..head + rest].copy_from_slice(&self.buf[cut..self.filled]);
        let mut block = std::mem::replace(&mut self.buf, next);
        self.filled = head + rest;
        block.truncate(cut);
        if self.cut.remove_separators {
            let body = self.cut.split.remove_separators(&block[head..]);
            block.truncate(head);
            block.extend_from_slice(&body);
        }
        Ok(Some(block))
    }
}

/// `--pipepart`: byte ranges of a regular file, each ending on a record boundary.
pub struct Parts {
    file: File,
    size: u64,
    cut: Cutting,
    /// The header, read from the front of the file.
    pub header: Vec<u8>,
    next: u64,
    pub grew: bool,
    /// `-N`: the window records are counted in.
    count_buf: Vec<u8>,
    /// `--pipepart`'s rule: a block runs to the first separator at or after `--block` bytes,
    /// not to the last one before.
    forward: bool,
}

/// How much of the file one look around a cut reads.
const WINDOW: u64 = 256 * 1024;

impl Parts {
    pub fn new(file: File, cut: Cutting) -> io::Result<Parts> {
        Parts::starting_at(file, cut, 0)
    }

    /// The ranges of `file` from byte `start` on (stdin may have been read partly before).
    pub fn starting_at(file: File, cut: Cutting, start: u64) -> io::Result<Parts> {
        let size = file.metadata()?.len().max(start);
        let mut header = Vec::new();
        if let Some(rule) = &cut.header {
            let mut len = WINDOW;
            loop {
                let window = read_at(&file, start, len.min(size - start))?;
                let eof = start + len >= size;
                if let Some(n) = rule.len(&window, eof) {
                    header = window[..n].to_vec();
                    break;
                }
                len *= 2;
            }
        }
        Ok(Parts {
            next: start + header.len() as u64,
            file,
            size,
            cut,
            header,
            grew: false,
            count_buf: Vec::new(),
            forward: false,
        })
    }

    /// Cut as GNU parallel's `--pipepart` cuts: each block is at least `--block` bytes and runs
    /// on to the end of the record that holds its last byte, or with `--regexp` to the last
    /// separator in the 128 KiB read there (GNU reads that much and matches greedily). So a
    /// block is never cut short, and the ranges are the same as GNU's.
    pub fn forward(mut self) -> Parts {
        self.forward = true;
        self
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The block size in force (grown past --block after a longer record).
    pub fn block(&self) -> usize {
        self.cut.block
    }

    /// The next range, or None at the end of the file.
    pub fn next_range(&mut self) -> io::Result<Option<(u64, u64)>> {
        let from = self.next;
        if from >= self.size {
            return Ok(None);
        }
        if let Some(n) = self.cut.records {
            let end = self.records_end(from, n)?;
            self.next = end;
            return Ok(Some((from, end - from)));
        }
        let end = loop {
            let limit = from + self.cut.block as u64;
            if limit >= self.size {
                break self.size;
            }
            if self.forward {
                break self.forward_cut(limit)?.unwrap_or(self.size);
            }
            if let Some(c) = self.last_cut(from, limit)? {
                break c;
            }
            // As BlockReader: the block size grows for the rest of the run.
            self.grew = true;
            self.cut.block = grown(self.cut.block);
        };
        self.next = end;
        Ok(Some((from, end - from)))
    }

    /// `-N`: where `n` records from `from` end, counting through the file a large window at a
    /// time (the only way to count them; the bytes still go to the job by splice).
    fn records_end(&mut self, from: u64, n: usize) -> io::Result<u64> {
        // One buffer for the whole run: a fresh one per block would be fresh pages to fault
        // in, and zero, for every window.
        let mut buf = std::mem::take(&mut self.count_buf);
        let end = self.count_records(&mut buf, from, n);
        self.count_buf = buf;
        end
    }

    /// `records_end`'s search, in `buf`.
    fn count_records(&self, buf: &mut Vec<u8>, from: u64, n: usize) -> io::Result<u64> {
        let (mut at, mut found, mut len) = (from, 0, COUNT_WINDOW);
        loop {
            if at >= self.size {
                return Ok(self.size);
            }
            read_into(&self.file, at, len.min(self.size - at), buf)?;
            let eof = at + buf.len() as u64 >= self.size;
            let (pos, more) = self.cut.split.advance(buf, 0, n - found, eof);
            found += more;
            if found == n {
                return Ok(at + pos as u64);
            }
            if eof {
                return Ok(self.size);
            }
            if more > 0 {
                at += pos as u64;
            } else {
                // One record longer than the window: look at more of it.
                len *= 2;
            }
        }
    }

    /// Bytes past a cut that must be seen to confirm it, and the overlap between windows that
    /// keeps a separator across their border in view.
    fn reach(&self) -> (u64, u64) {
        match &self.cut.split {
            Split::Literal { end, start } => (start.len() as u64, (end.len() + start.len()) as u64),
            _ => (4096, 4096),
        }
    }

    /// The last cut in (from, limit], looking back from `limit` a window at a time.
    fn last_cut(&self, from: u64, limit: u64) -> io::Result<Option<u64>> {
        let (ahead, overlap) = self.reach();
        let mut hi = limit;
        loop {
            let lo = hi.saturating_sub(WINDOW).max(from);
            let end = (hi + ahead).min(self.size);
            let buf = read_at(&self.file, lo, end - lo)?;
            let eof = end >= self.size;
            let (first, last) = ((from.max(lo) - lo) as usize, (hi - lo) as usize);
            if let Some(c) = self.cut.split.last(&buf, first, last, eof) {
                return Ok(Some(lo + c as u64));
            }
            if lo == from {
                return Ok(None);
            }
            hi = lo + overlap;
        }
    }

    /// `forward`'s cut: after the first separator that starts at or after `at`; with a regular
    /// expression, the last cut in the first 128 KiB read from `at` that holds one.
    fn forward_cut(&self, at: u64) -> io::Result<Option<u64>> {
        let (end, start) = match &self.cut.split {
            Split::Literal { end, start } => (end.as_slice(), start.as_slice()),
            Split::Lines(_) => (&b"\n"[..], &b""[..]),
            Split::Regex(_) => {
                const READ: u64 = 128 * 1024;
                let mut len = READ;
                loop {
                    let buf = read_at(&self.file, at, len.min(self.size - at))?;
                    if let Some(c) = self.cut.split.last(&buf, 0, buf.len(), true) {
                        return Ok(Some(at + c as u64));
                    }
                    if at + len >= self.size {
                        return Ok(None);
                    }
                    len += READ;
                }
            }
        };
        let pattern = [end, start].concat();
        if pattern.is_empty() {
            return Ok(Some(at));
        }
        let mut lo = at;
        while lo < self.size {
            let buf = read_at(&self.file, lo, WINDOW.min(self.size - lo))?;
            if let Some(i) = memchr::memmem::find(&buf, &pattern) {
                return Ok(Some(lo + (i + end.len()) as u64));
            }
            if lo + buf.len() as u64 >= self.size {
                break;
            }
            // The next window overlaps this one by a pattern's length less one.
            lo += (buf.len() + 1 - pattern.len()).max(1) as u64;
        }
        Ok(None)
    }

    pub fn file(&self) -> io::Result<File> {
        self.file.try_clone()
    }
}

/// `--pipe`'s block size after a record did not fit in `block`: GNU parallel's
/// `ceil(block * 1.3 + 1)` (in floating point, as Perl computes it), at most 2 GiB - 1.
pub fn grown(block: usize) -> usize {
    ((block as f64 * 1.3 + 1.0).ceil() as usize).min((1 << 31) - 1)
}

/// How much `-N` counting reads at a time.
const COUNT_WINDOW: u64 = 4 << 20;

/// Read `len` bytes at `offset` into `buf` (fewer at the end of the file).
fn read_into(file: &File, offset: u64, len: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.resize(len as usize, 0);
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(())
}

fn read_at(file: &File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    read_into(file, offset, len, &mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Split {
        Split::Literal {
            end: b"\n".to_vec(),
            start: Vec::new(),
        }
    }

    fn blocks(input: &[u8], cut: Cutting) -> Vec<Vec<u8>> {
        let mut r = BlockReader::new(input, cut);
        let mut v = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            v.push(b);
        }
        v
    }

    fn cutting(split: Split, block: usize, records: Option<usize>) -> Cutting {
        Cutting {
            split,
            block,
            records,
            header: None,
            remove_separators: false,
        }
    }

    fn seq(n: usize) -> Vec<u8> {
        (1..=n)
            .map(|i| format!("{i}\n"))
            .collect::<String>()
            .into_bytes()
    }

    fn text(v: &[Vec<u8>]) -> Vec<String> {
        v.iter()
            .map(|b| String::from_utf8_lossy(b).replace('\n', " "))
            .collect()
    }

    #[test]
    fn blocks_fill_to_the_size_and_end_on_a_line() {
        let v = blocks(&seq(30), cutting(lines(), 20, None));
        assert_eq!(
            text(&v)[..3],
            [
                "1 2 3 4 5 6 7 8 9 ",
                "10 11 12 13 14 15 ",
                "16 17 18 19 20 21 "
            ]
        );
        assert_eq!(v.concat(), seq(30));
    }

    #[test]
    fn records_per_block_and_lines_per_record_as_gnu() {
        assert_eq!(
            text(&blocks(&seq(10), cutting(lines(), 1 << 20, Some(3)))),
            ["1 2 3 ", "4 5 6 ", "7 8 9 ", "10 "]
        );
        assert_eq!(
            text(&blocks(&seq(10), cutting(Split::Lines(3), 1 << 20, None))),
            ["1 2 3 4 5 6 7 8 9 ", "10 "]
        );
        assert_eq!(
            text(&blocks(
                &seq(20),
                cutting(Split::Lines(3), 1 << 20, Some(2))
            )),
            [
                "1 2 3 4 5 6 ",
                "7 8 9 10 11 12 ",
                "13 14 15 16 17 18 ",
                "19 20 "
            ]
        );
    }

    #[test]
    fn recstart_and_recend_together() {
        let split = Split::Literal {
            end: b"\n".to_vec(),
            start: b">".to_vec(),
        };
        let v = blocks(b"x\n>a\ny\n>b\nz>c\n>d\n", cutting(split, 1 << 20, Some(1)));
        assert_eq!(text(&v), ["x ", ">a y ", ">b z>c ", ">d "]);
    }

    #[test]
    fn regexp_and_removed_separators() {
        let mut c = cutting(Split::regex("[0-9]+", "").unwrap(), 1 << 20, Some(1));
        assert_eq!(
            text(&blocks(b"a1b22c333d", c.clone())),
            ["a1", "b22", "c333", "d"]
        );
        c.remove_separators = true;
        assert_eq!(text(&blocks(b"a1b22c333d", c)), ["a", "b", "c", "d"]);
        let mut c = cutting(
            Split::Literal {
                end: b",".to_vec(),
                start: Vec::new(),
            },
            1 << 20,
            Some(2),
        );
        c.remove_separators = true;
        assert_eq!(text(&blocks(b"a,b,c,d,e", c)), ["ab", "cd", "e"]);
    }

    #[test]
    fn the_header_leads_every_block() {
        let mut c = cutting(lines(), 1 << 20, Some(3));
        c.header = Some(Header::Lines(1));
        assert_eq!(
            text(&blocks(&seq(10), c.clone())),
            ["1 2 3 4 ", "1 5 6 7 ", "1 8 9 10 "]
        );
        c.header = Some(Header::Lines(5));
        assert_eq!(text(&blocks(&seq(3), c)), ["1 2 3 "]);
    }

    #[test]
    fn a_long_record_makes_its_own_block() {
        let input = b"ab\ncdefghijkl\nm\n";
        let mut r = BlockReader::new(&input[..], cutting(lines(), 5, None));
        let mut v = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            v.push(b);
        }
        assert_eq!(text(&v), ["ab ", "cdefghijkl ", "m "]);
        assert!(r.grew);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(blocks(b"", cutting(lines(), 10, None)).is_empty());
        assert_eq!(
            text(&blocks(b"1\n2\n3", cutting(lines(), 1 << 20, None))),
            ["1 2 3"]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn split_for(kind: u8) -> Split {
            let lit = |end: &[u8], start: &[u8]| Split::Literal {
                end: end.to_vec(),
                start: start.to_vec(),
            };
            match kind % 5 {
                0 => lit(b"\n", b""),
                1 => lit(b"", b">"),
                2 => lit(b"\n", b">"),
                3 => lit(b",;", b""),
                _ => Split::Lines(2),
            }
        }

        fn ranges(input: &[u8], cut: Cutting) -> Vec<Vec<u8>> {
            let path = std::env::temp_dir().join(format!(
                "forkpool-blocks-prop-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&path, input).unwrap();
            let mut parts = Parts::new(File::open(&path).unwrap(), cut).unwrap();
            let mut v = Vec::new();
            while let Some((start, len)) = parts.next_range().unwrap() {
                let mut b = parts.header.clone();
                b.extend_from_slice(&input[start as usize..(start + len) as usize]);
                v.push(b);
            }
            std::fs::remove_file(&path).unwrap();
            v
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            /// Blocks add up to the input, stay within the block size unless one record is
            /// larger, and --pipepart's ranges are the same blocks as --pipe's.
            #[test]
            fn blocks_are_the_input_cut_on_records(
                input in proptest::collection::vec(
                    prop_oneof![Just(b'a'), Just(b'\n'), Just(b'>'), Just(b','), Just(b';')],
                    0..400,
                ),
                kind in 0u8..5,
                block in 1usize..60,
                records in proptest::option::of(1usize..6),
            ) {
                let split = split_for(kind);
                let lines_by_size = matches!(split, Split::Lines(_)) && records.is_none();
                let cut = Cutting { split: split.clone(), block, records, header: None, remove_separators: false };
                let got = blocks(&input, cut.clone());
                prop_assert_eq!(got.concat(), input.clone());
                // The block size grows (as GNU's) only until the longest record fits.
                let (mut longest, mut at) = (0, 0);
                while at < input.len() {
                    let c = split.next(&input, at, true).unwrap_or(input.len());
                    longest = longest.max(c - at);
                    at = c;
                }
                let mut most = block;
                while most < longest {
                    most = grown(most);
                }
                for (i, b) in got.iter().enumerate() {
                    prop_assert!(!b.is_empty());
                    let last = i + 1 == got.len();
                    if records.is_none() && !last {
                        prop_assert!(b.len() <= most, "{} > {}", b.len(), most);
                    }
                }
                if !lines_by_size {
                    prop_assert_eq!(ranges(&input, cut), got);
                }
            }
        }
    }
}
