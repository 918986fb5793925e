//! The text sink: forkpool's stdout and stderr, buffered and flushed whenever the event loop is
//! about to wait, with `--tag` prefixes put at the start of each line.

use std::io::{self, BufWriter, Write};
use std::os::fd::BorrowedFd;

use super::Stream;

pub struct Sink {
    out: BufWriter<Fd>,
    err: BufWriter<Fd>,
    /// Whether the next byte written to each stream starts a line (for tags).
    at_line_start: [bool; 2],
}

impl Sink {
    /// Write to the process's own fds 1 and 2.
    pub fn stdio() -> Sink {
        Sink {
            out: BufWriter::with_capacity(64 * 1024, Fd(1)),
            err: BufWriter::with_capacity(8 * 1024, Fd(2)),
            at_line_start: [true; 2],
        }
    }

    pub fn write(&mut self, stream: Stream, data: &[u8], tag: Option<&[u8]>) -> io::Result<()> {
        let (w, start) = match stream {
            Stream::Out => (&mut self.out, &mut self.at_line_start[0]),
            Stream::Err => (&mut self.err, &mut self.at_line_start[1]),
        };
        let Some(tag) = tag else {
            return w.write_all(data);
        };
        let mut rest = data;
        while !rest.is_empty() {
            if *start {
                w.write_all(tag)?;
                w.write_all(b"\t")?;
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    w.write_all(&rest[..=i])?;
                    *start = true;
                    rest = &rest[i + 1..];
                }
                None => {
                    w.write_all(rest)?;
                    *start = false;
                    rest = &[];
                }
            }
        }
        Ok(())
    }

    /// A job's block on `stream` ends: the next one starts a fresh line for tagging.
    pub fn end_block(&mut self, stream: Stream) -> io::Result<()> {
        match stream {
            Stream::Out => self.at_line_start[0] = true,
            Stream::Err => {
                self.at_line_start[1] = true;
                self.err.flush()?;
            }
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.err.flush()?;
        self.out.flush()
    }
}

/// A process fd that this sink writes to but never closes.
pub struct Fd(i32);

impl Write for Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: fds 1 and 2 stay open for the life of the process.
        let fd = unsafe { BorrowedFd::borrow_raw(self.0) };
        loop {
            match nix::unistd::write(fd, buf) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => return other.map_err(io::Error::from),
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
