//! The one event loop's primitives: an epoll set over every child pipe, and the signals forkpool
//! cares about. Signal handlers only count the signal and write a byte to a self-pipe, which
//! wakes the loop; everything else happens in the loop. This is the only module that installs
//! signal handlers.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use signal_hook::consts::{SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGTERM, SIGTSTP};

/// The token of the signal pipe; pipe tokens are below it.
const SIGNAL_TOKEN: u64 = u64::MAX;

/// Signals seen since the last call to `take_signals`.
#[derive(Default, Debug, Clone, Copy)]
pub struct Signals {
    pub interrupt: usize,
    pub terminate: usize,
    pub hangup: usize,
    /// Ctrl-Z: stop the jobs, then forkpool itself.
    pub suspend: usize,
    /// Resumed: continue the jobs.
    pub resume: usize,
}

pub struct Reactor {
    epoll: Epoll,
    /// The read end of the self-pipe.
    wake: File,
    counts: Arc<[AtomicUsize; 5]>,
    events: Vec<EpollEvent>,
}

impl Reactor {
    pub fn new() -> io::Result<Reactor> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let (wake, notify) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        // The handlers own the write end: they stay installed after the reactor is gone.
        let notify = Arc::new(notify);
        let counts: Arc<[AtomicUsize; 5]> = Arc::new(Default::default());
        // One handler per signal, registered once: it counts the signal (the index into
        // `counts`; SIGCHLD is not counted) and wakes the loop.
        let signals = [
            (SIGINT, Some(0)),
            (SIGTERM, Some(1)),
            (SIGHUP, Some(2)),
            (SIGTSTP, Some(3)),
            (SIGCONT, Some(4)),
            (SIGCHLD, None),
        ];
        for (sig, counter) in signals {
            let (c, fd) = (Arc::clone(&counts), Arc::clone(&notify));
            // SAFETY: the handler does an atomic add and a nonblocking write(2), both
            // async-signal-safe (signal-hook keeps errno).
            unsafe {
                signal_hook::low_level::register(sig, move || {
                    if let Some(i) = counter {
                        c[i].fetch_add(1, Ordering::SeqCst);
                    }
                    nix::libc::write(fd.as_raw_fd(), b"X".as_ptr().cast(), 1);
                })
            }?;
        }
        let wake = File::from(wake);
        epoll.add(&wake, EpollEvent::new(EpollFlags::EPOLLIN, SIGNAL_TOKEN))?;
        Ok(Reactor {
            epoll,
            wake,
            counts,
            events: vec![EpollEvent::empty(); 256],
        })
    }

    pub fn add(&self, fd: BorrowedFd, token: u64) -> io::Result<()> {
        Ok(self
            .epoll
            .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))?)
    }

    pub fn remove(&self, fd: BorrowedFd) {
        let _ = self.epoll.delete(fd);
    }

    /// Wait for pipe data, a signal or the timeout; returns the tokens of readable pipes.
    /// A signal (including a child's exit) returns early, with or without tokens.
    pub fn wait(&mut self, timeout: Option<Duration>, ready: &mut Vec<u64>) -> io::Result<()> {
        ready.clear();
        let t = match timeout {
            None => EpollTimeout::NONE,
            Some(d) => EpollTimeout::try_from(
                d.as_millis().min(60_000) as u32 + u32::from(d.subsec_nanos() % 1_000_000 > 0),
            )
            .unwrap_or(EpollTimeout::NONE),
        };
        let n = match self.epoll.wait(&mut self.events, t) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => 0,
            Err(e) => return Err(e.into()),
        };
        for ev in &self.events[..n] {
            if ev.data() == SIGNAL_TOKEN {
                let mut buf = [0u8; 256];
                while matches!((&self.wake).read(&mut buf), Ok(k) if k > 0) {}
            } else {
                ready.push(ev.data());
            }
        }
        if n == self.events.len() {
            self.events.resize(n * 2, EpollEvent::empty());
        }
        Ok(())
    }

    /// The interrupts, terminations and hangups that arrived since the last call.
    pub fn take_signals(&self) -> Signals {
        Signals {
            interrupt: self.counts[0].swap(0, Ordering::SeqCst),
            terminate: self.counts[1].swap(0, Ordering::SeqCst),
            hangup: self.counts[2].swap(0, Ordering::SeqCst),
            suspend: self.counts[3].swap(0, Ordering::SeqCst),
            resume: self.counts[4].swap(0, Ordering::SeqCst),
        }
    }
}

/// Die of `sig` as if forkpool had not caught it, so the calling shell sees the signal.
pub fn die_by(sig: i32) -> ! {
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    // Still alive (the signal is ignored or blocked): exit with the shell's convention.
    std::process::exit(128 + sig)
}
