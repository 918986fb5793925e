//! The text sink: forkpool's stdout and stderr, buffered and flushed whenever the event loop is
//! about to wait, with `--tag` prefixes put at the start of each line. With `--bar`/`--eta` on
//! the terminal, each write to it takes the progress display off the screen first.
//!
//! A stdout that can stall (a pipe, a socket, a terminal) is written by a thread of its own, so
//! that a slow reader (`forkpool ... | less`) never blocks the event loop: signals and timers
//! are still served. Past a backlog of `--buffer-size` bytes the sink reports itself congested
//! and the scheduler stops reading jobs' output (back-pressure) until the backlog halves.

use std::collections::VecDeque;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::stat::{SFlag, fstat};

use super::Stream;
use crate::diag::Screen;

pub struct Sink {
    out: BufWriter<Out>,
    err: BufWriter<Out>,
    /// Whether the next byte written to each stream starts a line (for tags).
    at_line_start: [bool; 2],
    /// The stream written last: on a switch the other is flushed first, so that with `2>&1`
    /// the bytes arrive in the order forkpool wrote them (a job's stdout, then its stderr).
    last: Stream,
    /// stdout and stderr are one file: a switch waits until stdout's backlog is written.
    same_file: bool,
}

impl Sink {
    /// Write to the process's own fds 1 and 2; stdout through a writer thread when it can
    /// stall.
    pub fn stdio(backlog: usize) -> Sink {
        let mut sink = Sink::to_fds(1, 2);
        if can_stall(1) {
            // Without the thread there is nothing to fall back on but writing inline.
            if let Ok(w) = Queued::start(Fd(1, None), backlog) {
                sink.same_file = same_file(1, 2);
                sink.out = BufWriter::with_capacity(64 * 1024, Out::Queued(w));
            }
        }
        sink
    }

    /// Write to `out` and `err` directly, which must stay open as long as the sink (tests use
    /// files; `-u` uses fds 1 and 2, whose writes must be out before a job starts).
    pub fn to_fds(out: i32, err: i32) -> Sink {
        Sink {
            out: BufWriter::with_capacity(64 * 1024, Out::Direct(Fd(out, None))),
            err: BufWriter::with_capacity(8 * 1024, Out::Direct(Fd(err, None))),
            at_line_start: [true; 2],
            last: Stream::Out,
            same_file: false,
        }
    }

    /// More stdout waits to be written than the backlog allows: stop reading jobs' output.
    pub fn congested(&self) -> bool {
        match self.out.get_ref() {
            Out::Queued(q) => q.lock().bytes > q.shared.high,
            Out::Direct(_) => false,
        }
    }

    /// Readable once a congested backlog has halved (for the event loop), after
    /// `notify_when_drained`.
    pub fn drained_fd(&self) -> Option<BorrowedFd<'_>> {
        match self.out.get_ref() {
            Out::Queued(q) => Some(q.shared.drained.as_fd()),
            Out::Direct(_) => None,
        }
    }

    pub fn notify_when_drained(&self) {
        if let Out::Queued(q) = self.out.get_ref() {
            let mut st = q.lock();
            if st.bytes > q.shared.high / 2 {
                st.want_notice = true;
            } else {
                let _ = q.shared.drained.write(1);
            }
        }
    }

    /// Everything handed to stdout has been written (or failed: the error comes from `flush`).
    pub fn written(&self) -> bool {
        match self.out.get_ref() {
            Out::Queued(q) => q.lock().bytes == 0,
            Out::Direct(_) => true,
        }
    }

    /// Writes to the terminal that `screen`'s progress display is on (stderr, and stdout when it
    /// is a terminal too) go around the display.
    pub fn with_progress(mut self, screen: Option<Arc<dyn Screen>>) -> Sink {
        if let Some(screen) = screen {
            if io::stdout().is_terminal() {
                self.out.get_mut().set_screen(screen.clone());
            }
            self.err.get_mut().set_screen(screen);
        }
        self
    }

    pub fn write(&mut self, stream: Stream, data: &[u8], tag: Option<&[u8]>) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if stream != self.last {
            match self.last {
                Stream::Out => {
                    self.out.flush()?;
                    // Into one file, stderr may only follow what stdout has really written.
                    if self.same_file
                        && let Out::Queued(q) = self.out.get_ref()
                    {
                        q.wait_written();
                    }
                }
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
            // As GNU parallel, a carriage return starts a new tagged line too (progress output
            // redraws its line), even right before a newline.
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
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

/// How long a write waits for a slow reader before the rest goes to the writer thread: short
/// enough that signals and timers wait no longer.
const STALL_MS: u8 = 10;

/// Where stdout's bytes go: straight to the fd, or to the writer thread.
enum Out {
    Direct(Fd),
    Queued(Queued),
}

impl Out {
    fn set_screen(&mut self, screen: Arc<dyn Screen>) {
        match self {
            Out::Direct(fd) => fd.1 = Some(screen),
            Out::Queued(q) => q.lock().screen = Some(screen),
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Direct(fd) => fd.write(buf),
            Out::Queued(q) => q.push(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Direct(_) => Ok(()),
            Out::Queued(q) => q.error(),
        }
    }
}

/// stdout written by a thread when it would block: the event loop writes what the reader takes
/// at once through a nonblocking descriptor of its own, and queues the rest.
struct Queued {
    shared: Arc<Shared>,
    /// stdout opened anew (/proc/self/fd/1) with O_NONBLOCK: a file description of forkpool's
    /// own, so the flag never reaches the caller's shared one. None when it cannot be had
    /// (a socket): then every byte goes through the thread.
    nonblock: Option<std::fs::File>,
}

struct Shared {
    state: Mutex<QueueState>,
    /// The writer waits here for bytes.
    work: Condvar,
    /// Waiters for the backlog to shrink.
    progress: Condvar,
    /// Readable when a backlog that was congested has halved (`want_notice`).
    drained: EventFd,
    /// The backlog above which the sink is congested.
    high: usize,
}

struct QueueState {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes queued and not yet written.
    bytes: usize,
    /// The write error that ended the writer; every later write returns it.
    error: Option<(io::ErrorKind, String)>,
    want_notice: bool,
    screen: Option<Arc<dyn Screen>>,
}

impl Queued {
    fn start(fd: Fd, high: usize) -> io::Result<Queued> {
        let shared = Arc::new(Shared {
            state: Mutex::new(QueueState {
                chunks: VecDeque::new(),
                bytes: 0,
                error: None,
                want_notice: false,
                screen: None,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            drained: EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?,
            high: high.max(64 * 1024),
        });
        let writer = Arc::clone(&shared);
        // Never joined: at exit it may still wait on a reader that never reads.
        std::thread::Builder::new()
            .name("forkpool-stdout".into())
            .stack_size(128 * 1024)
            .spawn(move || writer.serve(fd))?;
        let nonblock = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC | nix::libc::O_NOCTTY)
            .open("/proc/self/fd/1")
            .ok();
        Ok(Queued { shared, nonblock })
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.shared.lock()
    }

    fn push(&self, buf: &[u8]) -> io::Result<usize> {
        let mut st = self.lock();
        if let Some((kind, msg)) = &st.error {
            return Err(io::Error::new(*kind, msg.clone()));
        }
        let mut rest = buf;
        // Nothing queued (so order holds) and no display to go around: write now what the
        // reader takes within a moment; only a reader that stalls longer gets a backlog.
        if st.bytes == 0
            && st.screen.is_none()
            && let Some(mut f) = self.nonblock.as_ref()
        {
            loop {
                match f.write(rest) {
                    Ok(n) if n == rest.len() => return Ok(buf.len()),
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLOUT)];
                if !matches!(poll(&mut fds, PollTimeout::from(STALL_MS)), Ok(n) if n > 0) {
                    break;
                }
            }
        }
        // One job's output (a huge --json line) can be larger than the backlog allowed between
        // two turns of the loop: past twice the limit, wait for the reader rather than hold it
        // all in memory.
        while st.bytes > 2 * self.shared.high && st.error.is_none() {
            st = self
                .shared
                .wait(st, &self.shared.progress, Duration::from_secs(1));
        }
        st.bytes += rest.len();
        st.chunks.push_back(rest.to_vec());
        drop(st);
        self.shared.work.notify_one();
        Ok(buf.len())
    }

    /// Block until the writer has taken every queued byte.
    fn wait_written(&self) {
        let mut st = self.lock();
        while st.bytes > 0 {
            st = self
                .shared
                .wait(st, &self.shared.progress, Duration::from_secs(1));
        }
    }

    fn error(&self) -> io::Result<()> {
        match &self.lock().error {
            Some((kind, msg)) => Err(io::Error::new(*kind, msg.clone())),
            None => Ok(()),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(
        &self,
        st: MutexGuard<'a, QueueState>,
        cv: &Condvar,
        limit: Duration,
    ) -> MutexGuard<'a, QueueState> {
        cv.wait_timeout(st, limit)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// The writer thread: write each chunk in turn; after an error, drop what is queued.
    fn serve(&self, mut fd: Fd) {
        let mut st = self.lock();
        loop {
            let Some(chunk) = st.chunks.pop_front() else {
                st = self.wait(st, &self.work, Duration::from_secs(3600));
                continue;
            };
            fd.1 = st.screen.clone();
            drop(st);
            let result = fd.write_all(&chunk);
            st = self.lock();
            st.bytes -= chunk.len();
            if let Err(e) = result {
                st.error = Some((e.kind(), e.to_string()));
                let rest: usize = st.chunks.drain(..).map(|c| c.len()).sum();
                st.bytes -= rest;
            }
            if st.want_notice && st.bytes <= self.high / 2 {
                st.want_notice = false;
                let _ = self.drained.write(1);
            }
            self.progress.notify_all();
        }
    }
}

/// Whether writing to `fd` can wait on someone else: a pipe, a socket or a terminal.
fn can_stall(fd: i32) -> bool {
    // SAFETY: fd 1 stays open for the life of the process.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    match fstat(borrowed) {
        Ok(st) => {
            let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            kind == SFlag::S_IFIFO || kind == SFlag::S_IFSOCK || borrowed.is_terminal()
        }
        Err(_) => false,
    }
}

fn same_file(a: i32, b: i32) -> bool {
    // SAFETY: fds 1 and 2 stay open for the life of the process.
    let (a, b) = unsafe { (BorrowedFd::borrow_raw(a), BorrowedFd::borrow_raw(b)) };
    matches!((fstat(a), fstat(b)), (Ok(x), Ok(y)) if x.st_dev == y.st_dev && x.st_ino == y.st_ino)
}
