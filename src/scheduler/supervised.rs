//! One state machine for every process forkpool supervises: jobs, and workers' inits and
//! teardowns alike. A process is spawning (on a spawner thread), running, or exited; it is done
//! when it has exited and its output pipes are closed. Stopping it climbs the termination
//! ladder (`--termseq`) through the executor, and a deadline (`--timeout`, `--init-timeout`)
//! starts the ladder.
//!
//! Pipes can outlive the process: a background child keeps them open. Once the process has
//! exited, whatever is left is looked at again from time to time (and whenever forkpool reaps
//! an orphan): when nothing of the process group is left, or its ladder is done, or (for an
//! init that started a service) a grace period has passed, what the pipes hold is read and they
//! are let go. A daemon that left the group and holds the pipe never keeps a job running.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::exec::Executor;
use crate::job::{Exit, Ladder, Stream};
use crate::reactor::{Reactor, Token};

/// Where a process is in its life.
pub enum Phase<H> {
    /// The spawn is in flight.
    Spawning,
    Running(H),
    /// The process itself ended; its group and pipes may live on.
    Exited(H, Exit),
}

/// The termination ladder's progress.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Climb {
    Idle,
    /// The next step and when it is due.
    Next(usize, Instant),
    /// Every step was sent, or nothing was left to signal.
    Done,
}

/// What a tick found.
#[derive(Debug, PartialEq)]
pub enum Tick {
    Nothing,
    /// The deadline passed while the process ran: the ladder has started.
    TimedOut,
    /// Read what the pipes hold and close them: nothing will end them otherwise.
    Drain,
}

/// The first look after an exit with open pipes, and the longest wait between looks.
const FIRST_LOOK: Duration = Duration::from_millis(20);
const LAST_LOOK: Duration = Duration::from_secs(1);

pub struct Supervised<H> {
    phase: Phase<H>,
    pipes: [Option<(OwnedFd, Token)>; 2],
    pub start: Instant,
    deadline: Option<Instant>,
    climb: Climb,
    timed_out: bool,
    /// Exited with pipes open: when to look again, and the wait after that.
    look: Option<(Instant, Duration)>,
    /// Let the pipes go this long after the exit, whatever holds them (an init's service).
    grace: Option<Duration>,
    exited_at: Option<Instant>,
}

impl<H> Supervised<H> {
    pub fn new(start: Instant) -> Self {
        Supervised {
            phase: Phase::Spawning,
            pipes: [None, None],
            start,
            deadline: None,
            climb: Climb::Idle,
            timed_out: false,
            look: None,
            grace: None,
            exited_at: None,
        }
    }

    /// After the process exits, its pipes are let go after `grace` even if something holds them.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// The spawn succeeded; `pipes` are already registered with the reactor.
    pub fn spawned(&mut self, handle: H, pipes: [Option<(OwnedFd, Token)>; 2]) {
        self.phase = Phase::Running(handle);
        self.pipes = pipes;
    }

    /// The process ended; returns its handle for the executor to update.
    pub fn exited(&mut self, exit: Exit, now: Instant) -> Option<&mut H> {
        let phase = std::mem::replace(&mut self.phase, Phase::Spawning);
        let Phase::Running(h) = phase else {
            self.phase = phase;
            return None;
        };
        self.phase = Phase::Exited(h, exit);
        self.exited_at = Some(now);
        if self.pipes.iter().any(Option::is_some) {
            self.look = Some((now + FIRST_LOOK, FIRST_LOOK));
        }
        match &mut self.phase {
            Phase::Exited(h, _) => Some(h),
            _ => None,
        }
    }

    pub fn exit(&self) -> Option<Exit> {
        match self.phase {
            Phase::Exited(_, e) => Some(e),
            _ => None,
        }
    }

    pub fn handle(&self) -> Option<&H> {
        match &self.phase {
            Phase::Running(h) | Phase::Exited(h, _) => Some(h),
            Phase::Spawning => None,
        }
    }

    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Forkpool stopped it (or began to): the ladder was started.
    pub fn stopped(&self) -> bool {
        self.climb != Climb::Idle
    }

    /// Exited, and both pipes closed.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Exited(..)) && self.pipes.iter().all(Option::is_none)
    }

    pub fn pipe(&self, stream: Stream) -> Option<&OwnedFd> {
        self.pipes[stream.index()].as_ref().map(|(fd, _)| fd)
    }

    /// Read this process's pipes, or leave them be for now (back-pressure).
    pub fn pause<T: Copy>(&self, reactor: &mut Reactor<T>, paused: bool) {
        let interest = (!paused).then_some(crate::reactor::Interest::Read);
        for (fd, token) in self.pipes.iter().flatten() {
            reactor.modify(fd.as_fd(), *token, interest);
        }
    }

    pub fn close<T: Copy>(&mut self, stream: Stream, reactor: &mut Reactor<T>) {
        if let Some((fd, token)) = self.pipes[stream.index()].take() {
            reactor.remove(fd.as_fd(), token);
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Start the termination ladder (once); a spawn in flight climbs it when it lands.
    pub fn stop(&mut self, now: Instant) {
        if self.climb == Climb::Idle {
            self.climb = Climb::Next(0, now);
        }
    }

    /// Look again at once whether anything of the process is left (an orphan was reaped).
    pub fn look_now(&mut self, now: Instant) {
        if let Some((at, _)) = self.look.as_mut() {
            *at = now;
        }
    }

    /// Send `sig` to what is left of the process, if it has started.
    pub fn signal<E: Executor<Handle = H>>(&self, exec: &E, sig: Signal) {
        if let Some(h) = self.handle() {
            exec.signal(h, Some(sig));
        }
    }

    /// Serve the deadline, the ladder's due steps and the looks after an exit.
    pub fn tick<E: Executor<Handle = H>>(
        &mut self,
        now: Instant,
        exec: &E,
        steps: &Ladder,
    ) -> Tick {
        let mut result = Tick::Nothing;
        if self.climb == Climb::Idle && self.deadline.is_some_and(|d| d <= now) {
            // A process that already ended (with its status) but whose group still holds its
            // pipes did not time out: only the stragglers are stopped.
            if matches!(self.phase, Phase::Running(_)) {
                self.timed_out = true;
                result = Tick::TimedOut;
            }
            self.climb = Climb::Next(0, now);
        }
        while let Climb::Next(step, due) = self.climb {
            let Some(h) = self.handle() else { break };
            if due > now {
                break;
            }
            if step >= steps.0.len() || !exec.signal(h, None) {
                self.climb = Climb::Done;
                break;
            }
            let (sig, wait) = steps.0[step];
            exec.signal(h, Some(sig));
            // A stopped process cannot act on SIGTERM.
            exec.signal(h, Some(Signal::SIGCONT));
            self.climb = Climb::Next(step + 1, now + wait);
        }
        if let (Some((at, wait)), Phase::Exited(h, _)) = (self.look, &self.phase) {
            let graced = self
                .grace
                .zip(self.exited_at)
                .is_some_and(|(g, t)| now >= t + g);
            if self.climb == Climb::Done || graced || (at <= now && !exec.signal(h, None)) {
                self.look = None;
                return Tick::Drain;
            }
            if at <= now {
                let wait = (wait * 2).min(LAST_LOOK);
                self.look = Some((now + wait, wait));
            }
        }
        result
    }

    /// When `tick` has something to do next.
    pub fn next_due(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        match self.climb {
            Climb::Idle => {
                if let Some(d) = self.deadline {
                    consider(d);
                }
            }
            Climb::Next(_, due) if self.handle().is_some() => consider(due),
            _ => {}
        }
        if let Some((at, _)) = self.look {
            consider(at);
            if let (Some(g), Some(t)) = (self.grace, self.exited_at) {
                consider(t + g);
            }
        }
        next
    }
}
