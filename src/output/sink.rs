//! The text sink: forkpool's stdout and stderr, buffered and flushed whenever the event loop is
//! about to wait, with `--tag` prefixes put at the start of each line. With `--bar`/`--eta` on
//! the terminal, each write to it takes the progress display off the screen first.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::BorrowedFd;

use super::Stream;
use std::sync::Arc;

use crate::diag::Screen;

pub struct Sink {
    out: BufWriter<Fd>,
    err: BufWriter<Fd>,
    /// Whether the next byte written to each stream starts a line (for tags).
    at_line_start: [bool; 2],
    /// The stream written last: on a switch the other is flushed first, so that with `2>&1`
    /// the bytes arrive in the order forkpool wrote them (a job's stdout, then its stderr).
    last: Stream,
}

impl Sink {
    /// Write to the process's own fds 1 and 2.
    pub fn stdio() -> Sink {
        Sink::to_fds(1, 2)
    }

    /// Write to `out` and `err`, which must stay open as long as the sink (tests use files).
    pub fn to_fds(out: i32, err: i32) -> Sink {
        Sink {
            out: BufWriter::with_capacity(64 * 1024, Fd(out, None)),
            err: BufWriter::with_capacity(8 * 1024, Fd(err, None)),
            at_line_start: [true; 2],
            last: Stream::Out,
        }
    }

    /// Writes to the terminal that `screen`'s progress display is on (stderr, and stdout when it
    /// is a terminal too) go around the display.
    pub fn with_progress(mut self, screen: Option<Arc<dyn Screen>>) -> Sink {
        if let Some(screen) = screen {
            if io::stdout().is_terminal() {
                self.out.get_mut().1 = Some(screen.clone());
            }
            self.err.get_mut().1 = Some(screen);
        }
        self
    }

    pub fn write(&mut self, stream: Stream, data: &[u8], tag: Option<&[u8]>) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if stream != self.last {
            match self.last {
                Stream::Out => self.out.flush()?,
                Stream::Err => self.err.flush()?,
            }
            self.last = stream;
        }
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

/// A process fd that this sink writes to but never closes, and the progress display on it.
pub struct Fd(i32, Option<Arc<dyn Screen>>);

impl Write for Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: the sink's fds stay open as long as it (fds 1 and 2, or a test's files).
        let fd = unsafe { BorrowedFd::borrow_raw(self.0) };
        let write = || loop {
            match nix::unistd::write(fd, buf) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => return other.map_err(io::Error::from),
            }
        };
        match &self.1 {
            Some(screen) => {
                let mut result = Ok(0);
                screen.hold(&mut || result = write());
                result
            }
            None => write(),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
