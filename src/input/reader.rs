//! Splitting a byte stream into records at a delimiter of one or more bytes, without decoding.

use std::io::{self, BufRead, BufReader, Read};

pub struct RecordReader<R> {
    inner: BufReader<R>,
    delimiter: Vec<u8>,
}

impl<R: Read> RecordReader<R> {
    pub fn new(inner: R, delimiter: Vec<u8>) -> Self {
        assert!(!delimiter.is_empty(), "delimiter must not be empty");
        RecordReader {
            inner: BufReader::with_capacity(64 * 1024, inner),
            delimiter,
        }
    }

    /// The next record without its delimiter; a last record need not end with one.
    pub fn next_record(&mut self) -> io::Result<Option<Vec<u8>>> {
        let last = *self.delimiter.last().expect("non-empty");
        let mut buf = Vec::new();
        loop {
            let n = self.inner.read_until(last, &mut buf)?;
            if n == 0 {
                return Ok(if buf.is_empty() { None } else { Some(buf) });
            }
            if buf.ends_with(&self.delimiter) {
                buf.truncate(buf.len() - self.delimiter.len());
                return Ok(Some(buf));
            }
            if buf.last() != Some(&last) {
                // End of input inside a record.
                return Ok(Some(buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], delim: &[u8]) -> Vec<Vec<u8>> {
        let mut r = RecordReader::new(input, delim.to_vec());
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        out
    }

    #[test]
    fn splits_lines_and_keeps_empty_ones() {
        assert_eq!(
            split(b"a\n\nb\n", b"\n"),
            vec![b"a".to_vec(), vec![], b"b".to_vec()]
        );
        assert_eq!(split(b"a\nb", b"\n"), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(split(b"", b"\n").is_empty());
    }

    #[test]
    fn multibyte_delimiter() {
        assert_eq!(
            split(b"a::b:c::", b"::"),
            vec![b"a".to_vec(), b"b:c".to_vec()]
        );
    }
}
