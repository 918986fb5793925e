//! The scheduler: fills job slots from the job source, starts jobs through an executor, and drives
//! the one event loop that reads every job's pipes, reaps children and reacts to signals. It
//! decides when to stop (input done, interrupt, broken pipe) and stops running jobs with the
//! termination ladder, signalling each job's whole process group.

pub mod jobs;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::exec::{Executor, SpawnError, SpawnSpec};
use crate::options::{Options, OutputMode};
use crate::output::{Collector, Finished, JobOutput, Stream, WriteError};
use crate::reactor::Reactor;
use crate::report::Summary;
use crate::template::{JobView, Template};
use jobs::{Job, JobSource};

/// How a job's process ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

/// Signals and waits that stop a job: send a signal, wait up to the time, go on while the job's
/// process group still has members (GNU parallel's --termseq).
pub struct Ladder(pub Vec<(Signal, Duration)>);

impl Default for Ladder {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Ladder(vec![
            (Signal::SIGTERM, ms(200)),
            (Signal::SIGTERM, ms(100)),
            (Signal::SIGTERM, ms(50)),
            (Signal::SIGKILL, ms(25)),
        ])
    }
}

/// Why the run stops starting jobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// SIGINT or SIGTERM: stop running jobs, then die of the same signal.
    Signal(i32),
    /// SIGHUP: let running jobs finish, start no more.
    Hangup,
    /// Nobody reads stdout.
    BrokenPipe,
}

struct Running {
    job: Job,
    pid: i32,
    fds: [Option<OwnedFd>; 2],
    exit: Option<Exit>,
    output: JobOutput,
    tag: Option<Vec<u8>>,
    header: Option<Vec<u8>>,
    /// The termination ladder's next step, and when it is due.
    ladder: Option<(usize, Instant)>,
}

pub struct Runner<'a, E: Executor> {
    opts: &'a Options,
    template: &'a Template,
    tag_template: Option<Template>,
    source: JobSource,
    exec: E,
    reactor: Reactor,
    collector: Collector,
    ladder: Ladder,
    /// Index = slot - 1.
    slots: Vec<Option<Running>>,
    free: BinaryHeap<Reverse<usize>>,
    max_slots: usize,
    pids: HashMap<i32, usize>,
    running: usize,
    /// A job that could not start for lack of resources, to try again.
    retry: Option<Job>,
    /// Process groups of finished jobs that still had members (to clean up at exit).
    lingering: Vec<i32>,
    pub summary: Summary,
    pub stop: Option<Stop>,
    read_buf: Vec<u8>,
}

impl<'a, E: Executor> Runner<'a, E> {
    pub fn new(
        opts: &'a Options,
        template: &'a Template,
        tag_template: Option<Template>,
        source: JobSource,
        exec: E,
        collector: Collector,
        max_slots: usize,
    ) -> Result<Self> {
        let reactor =
            Reactor::new().map_err(|e| Error::new(format!("cannot set up the event loop: {e}")))?;
        Ok(Runner {
            opts,
            template,
            tag_template,
            source,
            exec,
            reactor,
            collector,
            ladder: Ladder::default(),
            slots: Vec::new(),
            free: BinaryHeap::new(),
            max_slots,
            pids: HashMap::new(),
            running: 0,
            retry: None,
            lingering: Vec::new(),
            summary: Summary::default(),
            stop: None,
            read_buf: vec![0; 64 * 1024],
        })
    }

    /// Run every job. Returns Err only for forkpool's own errors.
    pub fn run(&mut self) -> Result<()> {
        let mut ready = Vec::new();
        let result = loop {
            if self.stop.is_none()
                && let Err(e) = self.start_jobs()
            {
                break Err(e);
            }
            if self.running == 0
                && (self.stop.is_some() || (self.retry.is_none() && self.source.exhausted()))
            {
                break Ok(());
            }
            if let Err(e) = self.collector.flush()
                && let Some(e) = self.write_failed(e)
            {
                break Err(e);
            }
            let timeout = self.next_timeout();
            if let Err(e) = self.reactor.wait(timeout, &mut ready) {
                break Err(Error::new(format!("event loop failed: {e}")));
            }
            for &token in &ready {
                if let Err(e) = self.read_pipe(token)
                    && let Some(e) = self.write_failed(e)
                {
                    return Err(e);
                }
            }
            self.handle_signals();
            self.reap();
            self.run_ladders();
        };
        let flushed = match self.collector.finish_all() {
            Err(e) => self.write_failed(e).map_or(Ok(()), Err),
            Ok(()) => Ok(()),
        };
        self.cleanup();
        result.and(flushed)
    }

    /// A write to stdout failed: a broken pipe stops the run quietly; anything else is fatal.
    fn write_failed(&mut self, e: WriteError) -> Option<Error> {
        match e {
            WriteError::BrokenPipe => {
                self.request_stop(Stop::BrokenPipe);
                None
            }
            WriteError::Fatal(e) => {
                self.request_stop(Stop::BrokenPipe);
                Some(e)
            }
        }
    }

    fn capacity(&self) -> usize {
        if self.opts.jobs == 0 {
            self.max_slots
        } else {
            self.opts.jobs.min(self.max_slots)
        }
    }

    fn start_jobs(&mut self) -> Result<()> {
        while self.running < self.capacity() {
            let job = match self.retry.take() {
                Some(j) => j,
                None => match self.source.next_job(self.template)? {
                    Some(j) => j,
                    None => return Ok(()),
                },
            };
            let slot = match self.free.pop() {
                Some(Reverse(s)) => s,
                None => {
                    self.slots.push(None);
                    self.slots.len()
                }
            };
            if let Some(job) = self.start(job, slot)? {
                // Out of processes or descriptors: try again when a job ends (or soon).
                self.free.push(Reverse(slot));
                self.retry = Some(job);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Start one job in `slot`; gives the job back when resources are short.
    fn start(&mut self, job: Job, slot: usize) -> Result<Option<Job>> {
        let view = JobView {
            records: &job.records,
            seq: job.seq,
            slot,
        };
        let command = self.template.command(&view);
        let needs_line = self.opts.verbose || self.opts.output.print_command;
        let line = needs_line.then(|| self.template.shell_line(&view));
        let tag = self.tag_template.as_ref().map(|t| t.raw_text(&view));
        let mode = self.opts.output.mode;
        let env = [
            ("FORKPOOL_SEQ", job.seq.to_string()),
            ("FORKPOOL_SLOT", slot.to_string()),
            ("PARALLEL_SEQ", job.seq.to_string()),
            ("PARALLEL_JOBSLOT", slot.to_string()),
        ];
        let spec = SpawnSpec {
            command: &command,
            capture: mode != OutputMode::Ungroup,
            env: &env,
        };
        let header = line
            .as_ref()
            .filter(|_| self.opts.output.print_command)
            .map(|l| {
                let mut h = l.clone();
                h.push(b'\n');
                h
            });
        if let Some(l) = line.as_ref().filter(|_| self.opts.verbose) {
            let mut l = l.clone();
            l.push(b'\n');
            self.collector
                .note(&l)
                .map_err(|_| Error::new("cannot write to stderr"))?;
        }
        let spawned = match self.exec.spawn(&spec) {
            Ok(s) => s,
            Err(SpawnError::Transient(e)) => {
                if self.running == 0 {
                    return Err(Error::new(format!("cannot start any job: {}", crate::error::io_reason(&e)))
                        .with_hint("lower -j, or raise the process and open-file limits (ulimit -u, ulimit -n)"));
                }
                return Ok(Some(job));
            }
            Err(SpawnError::Failed(msg)) => {
                crate::report::warn(&format!("job {} cannot start: {msg}", job.seq));
                self.summary.record(Exit::Code(127));
                let f = Finished {
                    seq: job.seq,
                    header,
                    tag,
                    output: JobOutput::default(),
                };
                if let Err(e) = self.collector.finish(f)
                    && let Some(e) = self.write_failed(e)
                {
                    return Err(e);
                }
                self.free.push(Reverse(slot));
                return Ok(None);
            }
        };
        if mode != OutputMode::Group
            && let Some(h) = header.as_ref()
            && let Err(e) = self.collector.started(h, tag.as_deref())
            && let Some(e) = self.write_failed(e)
        {
            return Err(e);
        }
        let mut fds = [spawned.stdout, spawned.stderr];
        for (i, fd) in fds.iter_mut().enumerate() {
            if let Some(f) = fd {
                set_nonblocking(f);
                self.reactor
                    .add(f.as_fd(), (slot as u64) << 1 | i as u64)
                    .map_err(|e| Error::new(format!("cannot watch a job's output: {e}")))?;
            }
        }
        self.pids.insert(spawned.pid, slot);
        self.running += 1;
        let header = if mode == OutputMode::Group {
            header
        } else {
            None
        };
        self.slots[slot - 1] = Some(Running {
            job,
            pid: spawned.pid,
            fds,
            exit: None,
            output: JobOutput::default(),
            tag,
            header,
            ladder: None,
        });
        Ok(None)
    }

    fn read_pipe(&mut self, token: u64) -> std::result::Result<(), WriteError> {
        let slot = (token >> 1) as usize;
        let stream = if token & 1 == 0 {
            Stream::Out
        } else {
            Stream::Err
        };
        let Some(r) = self.slots[slot - 1].as_mut() else {
            return Ok(());
        };
        let Some(fd) = r.fds[token as usize & 1].as_ref() else {
            return Ok(());
        };
        match nix::unistd::read(fd, &mut self.read_buf) {
            Ok(0) | Err(Errno::EIO) => {
                let fd = r.fds[token as usize & 1].take().expect("checked above");
                self.reactor.remove(fd.as_fd());
                self.maybe_finish(slot)
            }
            Ok(n) => self.collector.append(
                r.job.seq,
                &mut r.output,
                stream,
                &self.read_buf[..n],
                r.tag.as_deref(),
            ),
            Err(_) => Ok(()),
        }
    }

    /// Reap every child that has exited.
    fn reap(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => self.exited(pid.as_raw(), Exit::Code(code)),
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.exited(pid.as_raw(), Exit::Signal(sig as i32))
                }
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    }

    fn exited(&mut self, pid: i32, exit: Exit) {
        // Orphaned grandchildren are reaped here too (forkpool is their subreaper); skip them.
        let Some(slot) = self.pids.remove(&pid) else {
            return;
        };
        let r = self.slots[slot - 1].as_mut().expect("a running job's slot");
        r.exit = Some(exit);
        if r.fds.iter().any(Option::is_some) && !group_alive(pid) {
            // The pipes are held by a process outside the job's group: take what is there now.
            self.drain(slot);
        }
        if let Err(e) = self.maybe_finish(slot)
            && let Some(e) = self.write_failed(e)
        {
            crate::report::error(&e);
        }
    }

    fn drain(&mut self, slot: usize) {
        for i in 0..2 {
            loop {
                let r = self.slots[slot - 1].as_mut().expect("running");
                let Some(fd) = r.fds[i].as_ref() else { break };
                match nix::unistd::read(fd, &mut self.read_buf) {
                    Ok(n) if n > 0 => {
                        let stream = if i == 0 { Stream::Out } else { Stream::Err };
                        let _ = self.collector.append(
                            r.job.seq,
                            &mut r.output,
                            stream,
                            &self.read_buf[..n],
                            r.tag.as_deref(),
                        );
                    }
                    _ => {
                        let fd = r.fds[i].take().expect("checked above");
                        self.reactor.remove(fd.as_fd());
                        break;
                    }
                }
            }
        }
    }

    /// A job is done when its process has exited and both pipes are closed.
    fn maybe_finish(&mut self, slot: usize) -> std::result::Result<(), WriteError> {
        let done = matches!(&self.slots[slot - 1], Some(r) if r.exit.is_some() && r.fds.iter().all(Option::is_none));
        if !done {
            return Ok(());
        }
        let r = self.slots[slot - 1].take().expect("checked above");
        self.running -= 1;
        self.free.push(Reverse(slot));
        if group_alive(r.pid) {
            self.lingering.push(r.pid);
        }
        let exit = r.exit.expect("checked above");
        self.summary.record(exit);
        self.collector.finish(Finished {
            seq: r.job.seq,
            header: r.header,
            tag: r.tag,
            output: r.output,
        })
    }

    fn handle_signals(&mut self) {
        let s = self.reactor.take_signals();
        if s.interrupt + s.terminate == 0 && s.hangup == 0 {
            return;
        }
        if s.hangup > 0 && self.stop.is_none() {
            self.stop = Some(Stop::Hangup);
        }
        let sig = if s.interrupt > 0 {
            nix::libc::SIGINT
        } else {
            nix::libc::SIGTERM
        };
        if s.interrupt + s.terminate > 0 {
            if matches!(self.stop, Some(Stop::Signal(_))) || s.interrupt > 1 {
                // A second interrupt: no more patience.
                self.kill_all(Signal::SIGKILL);
            } else {
                self.request_stop(Stop::Signal(sig));
            }
        }
    }

    /// Start no more jobs and stop the running ones with the ladder.
    fn request_stop(&mut self, why: Stop) {
        if matches!(self.stop, Some(Stop::Signal(_) | Stop::BrokenPipe)) {
            return;
        }
        self.stop = Some(why);
        self.retry = None;
        let now = Instant::now();
        for r in self.slots.iter_mut().flatten() {
            if r.ladder.is_none() {
                r.ladder = Some((0, now));
            }
        }
        self.run_ladders();
    }

    fn kill_all(&mut self, sig: Signal) {
        for r in self.slots.iter().flatten() {
            let _ = killpg(Pid::from_raw(r.pid), sig);
        }
    }

    /// Send each due step of the termination ladder.
    fn run_ladders(&mut self) {
        let now = Instant::now();
        for r in self.slots.iter_mut().flatten() {
            while let Some((step, due)) = r.ladder {
                if due > now {
                    break;
                }
                if step >= self.ladder.0.len() || !group_alive(r.pid) {
                    r.ladder = Some((usize::MAX, far_future()));
                    break;
                }
                let (sig, wait) = self.ladder.0[step];
                let _ = killpg(Pid::from_raw(r.pid), sig);
                // A stopped job cannot act on SIGTERM.
                let _ = killpg(Pid::from_raw(r.pid), Signal::SIGCONT);
                r.ladder = Some((step + 1, now + wait));
            }
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for r in self.slots.iter().flatten() {
            if let Some((step, due)) = r.ladder
                && step != usize::MAX
            {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        if self.retry.is_some() {
            let due = now + Duration::from_millis(50);
            next = Some(next.map_or(due, |n| n.min(due)));
        }
        next.map(|n| n.saturating_duration_since(now))
    }

    /// At exit: no job, grandchild or zombie survives forkpool.
    fn cleanup(&mut self) {
        for r in self.slots.iter().flatten() {
            let _ = killpg(Pid::from_raw(r.pid), Signal::SIGKILL);
        }
        for &pgid in &self.lingering {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
        for pid in crate::exec::children() {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        while waitpid(Pid::from_raw(-1), None).is_ok() {}
    }
}

/// Whether the process group led by `pgid` still has a member.
fn group_alive(pgid: i32) -> bool {
    killpg(Pid::from_raw(pgid), None) != Err(Errno::ESRCH)
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365)
}

fn set_nonblocking(fd: &OwnedFd) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
        let _ = fcntl(
            fd,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        );
    }
    let _ = fd.as_raw_fd();
}
