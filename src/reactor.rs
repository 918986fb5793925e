//! The one event loop's primitives: an epoll set over every descriptor the loop serves (child
//! pipes to read or write, the spawner's and the input reader's notifications), and the signals
//! forkpool cares about. Each watched descriptor gets a token from a slab, with the caller's
//! own tag for it; `wait` hands back the tags of the ready ones. Signal handlers only count the
//! signal and write a byte to a self-pipe, which wakes the loop; everything else happens in the
//! loop. This is the only module that installs signal handlers.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use signal_hook::consts::{
    SIGALRM, SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGUSR1, SIGUSR2, SIGXFSZ,
};

/// The epoll data of the signal pipe; slab tokens are below it.
const SIGNAL_TOKEN: u64 = u64::MAX;

/// A watched descriptor's place in the reactor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token(usize);

/// What the loop waits for on a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    Read,
    /// Readable, reported once per change (for a notification the loop does not always clear).
    ReadEdge,
    Write,
}

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
    /// Another signal whose default action ends forkpool (SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2,
    /// SIGXFSZ): stop the jobs, then die of it.
    pub fatal: Option<i32>,
}

/// Counted signals, in `Signals` order; the last slot holds the number of a fatal one.
const COUNTED: usize = 6;

pub struct Reactor<T: Copy> {
    epoll: Epoll,
    /// The read end of the self-pipe.
    wake: File,
    counts: Arc<[AtomicUsize; COUNTED]>,
    events: Vec<EpollEvent>,
    /// Each token's tag; None for a free token.
    slab: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T: Copy> Reactor<T> {
    pub fn new() -> io::Result<Reactor<T>> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let (wake, notify) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        // The handlers own the write end: they stay installed after the reactor is gone.
        let notify = Arc::new(notify);
        let counts: Arc<[AtomicUsize; COUNTED]> = Arc::new(Default::default());
        // One handler per signal: it counts the signal (the index into `counts`; SIGCHLD is
        // not counted, a fatal one is stored by number) and wakes the loop.
        let signals = [
            (SIGINT, Some(0)),
            (SIGTERM, Some(1)),
            (SIGHUP, Some(2)),
            (SIGTSTP, Some(3)),
            (SIGCONT, Some(4)),
            (SIGQUIT, Some(5)),
            (SIGALRM, Some(5)),
            (SIGUSR1, Some(5)),
            (SIGUSR2, Some(5)),
            (SIGXFSZ, Some(5)),
            (SIGCHLD, None),
        ];
        for (sig, counter) in signals {
            let (c, fd) = (Arc::clone(&counts), Arc::clone(&notify));
            // SAFETY: the handler does an atomic store or add and a nonblocking write(2), all
            // async-signal-safe (signal-hook keeps errno).
            unsafe {
                signal_hook::low_level::register(sig, move || {
                    match counter {
                        Some(5) => c[5].store(sig as usize, Ordering::SeqCst),
                        Some(i) => {
                            c[i].fetch_add(1, Ordering::SeqCst);
                        }
                        None => {}
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
            slab: Vec::new(),
            free: Vec::new(),
        })
    }

    /// Watch `fd` for `interest`; `wait` reports it ready with `tag`.
    pub fn add(&mut self, fd: BorrowedFd, interest: Interest, tag: T) -> io::Result<Token> {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slab.push(None);
                self.slab.len() - 1
            }
        };
        let flags = match interest {
            Interest::Read => EpollFlags::EPOLLIN,
            Interest::ReadEdge => EpollFlags::EPOLLIN | EpollFlags::EPOLLET,
            Interest::Write => EpollFlags::EPOLLOUT,
        };
        if let Err(e) = self.epoll.add(fd, EpollEvent::new(flags, i as u64)) {
            self.free.push(i);
            return Err(e.into());
        }
        self.slab[i] = Some(tag);
        Ok(Token(i))
    }

    /// Change what the loop waits for on `fd` (None: nothing for now, but keep its token).
    pub fn modify(&mut self, fd: BorrowedFd, token: Token, interest: Option<Interest>) {
        let flags = match interest {
            None => EpollFlags::empty(),
            Some(Interest::Read) => EpollFlags::EPOLLIN,
            Some(Interest::ReadEdge) => EpollFlags::EPOLLIN | EpollFlags::EPOLLET,
            Some(Interest::Write) => EpollFlags::EPOLLOUT,
        };
        let _ = self
            .epoll
            .modify(fd, &mut EpollEvent::new(flags, token.0 as u64));
    }

    /// Stop watching `fd`; its token may be given out again.
    pub fn remove(&mut self, fd: BorrowedFd, token: Token) {
        let _ = self.epoll.delete(fd);
        if self.slab[token.0].take().is_some() {
            self.free.push(token.0);
        }
    }

    /// Wait for a descriptor, a signal or the timeout; `ready` gets the tags of the ready
    /// descriptors. A signal (including a child's exit) returns early, with or without tags.
    pub fn wait(&mut self, timeout: Option<Duration>, ready: &mut Vec<T>) -> io::Result<()> {
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
            } else if let Some(Some(tag)) = self.slab.get(ev.data() as usize) {
                ready.push(*tag);
            }
        }
        if n == self.events.len() {
            self.events.resize(n * 2, EpollEvent::empty());
        }
        Ok(())
    }

    /// The signals that arrived since the last call.
    pub fn take_signals(&self) -> Signals {
        let fatal = self.counts[5].swap(0, Ordering::SeqCst);
        Signals {
            interrupt: self.counts[0].swap(0, Ordering::SeqCst),
            terminate: self.counts[1].swap(0, Ordering::SeqCst),
            hangup: self.counts[2].swap(0, Ordering::SeqCst),
            suspend: self.counts[3].swap(0, Ordering::SeqCst),
            resume: self.counts[4].swap(0, Ordering::SeqCst),
            fatal: (fatal != 0).then_some(fatal as i32),
        }
    }
}

/// Die of `sig` as if forkpool had not caught it, so the calling shell sees the signal.
pub fn die_by(sig: i32) -> ! {
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    // Still alive (the signal is ignored or blocked): exit with the shell's convention.
    std::process::exit(128 + sig)
}
