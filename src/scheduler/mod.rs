//! The scheduler: fills job slots from a `JobSource`, starts jobs (and workers' inits and
//! teardowns) through an `Executor`, and drives the one event loop that reads every process's
//! pipes, reaps them and reacts to signals and timers. Each process is a `Supervised` state
//! machine; `Workers` says what the worker life cycle needs done. Every way a run stops (input
//! done, interrupt, `--halt`, a broken pipe, a fatal error) goes through `stop`, and every run
//! ends through `finish`, so no path skips the final flush or leaves a process behind.

mod feed;
pub mod gate;
pub mod persistent;
pub mod pipe;
pub mod source;
pub mod supervised;
pub mod workers;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

use crate::error::{Error, Result};
use crate::exec::spawner::{Done, SpawnResult, Spawner};
use crate::exec::{Executor, SpawnError, SpawnSpec, Stdin};
use crate::job::{Command, Exit, Job, JobRecord, Stream};
use crate::options::{HaltWhen, Options, OutputMode, Timeout};
use crate::output::{Collector, Finished, JobOutput, WriteError};
use crate::reactor::{Interest, Reactor};
use crate::report::joblog::Joblog;
use crate::report::progress::Progress;
use crate::report::status::{self, Summary};
use crate::template::{JobView, Template};
use feed::{Fed, Feeder, FifoFeed};
use persistent::Replies;
use source::{JobSource, Pull};
use supervised::{Supervised, Tick};
use workers::{Action, Kind, ProcOutput, Workers};

/// Why the run stops starting jobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// SIGINT, SIGTERM or another deadly signal: stop running jobs, then die of the same signal.
    Signal(i32),
    /// SIGHUP: let running jobs finish, start no more.
    Hangup,
    /// Nobody reads stdout.
    BrokenPipe,
    /// `--halt` was triggered.
    Halt(HaltWhen),
    /// forkpool's own error (a failed write, an unreadable input): stop everything, exit 255.
    Fatal,
}

impl Stop {
    /// Whether running jobs are stopped too (else they finish).
    fn kills(self) -> bool {
        !matches!(self, Stop::Hangup | Stop::Halt(HaltWhen::Soon))
    }
}

/// What a descriptor in the reactor is.
#[derive(Clone, Copy, Debug)]
enum Tag {
    /// A supervised process's stdout or stderr.
    Pipe(usize, Stream),
    /// A job's stdin (pipe mode) has room.
    Stdin(usize),
    /// The spawner has results.
    Spawned,
    /// The executor has exits to report.
    Exec,
    /// The job source may have jobs.
    Input,
    /// stdout's backlog has shrunk.
    Output,
}

/// A job on its way: what it runs and what it printed so far.
struct JobRun {
    job: Job,
    slot: usize,
    output: JobOutput,
    tag: Option<Vec<u8>>,
    /// `-v`: the command line, printed before the output (taken when printed).
    header: Option<Vec<u8>>,
    /// The job's command as shell code (for -v, -t, the joblog and --json).
    line: Option<Vec<u8>>,
    start_wall: SystemTime,
    /// The worker incarnation running the job (per-worker init).
    worker: Option<u64>,
    /// Pipe mode: the job's stdin, while its block is being written.
    feeder: Option<Feeder>,
    /// `--fifo`: the thread that writes the block into the job's named pipe.
    fifo: Option<FifoFeed>,
    /// Stopped by a gate (`--memfree`, `--limit`): it goes back to the queue when it ends.
    requeue: bool,
}

impl JobRun {
    /// Pass output of the job's to the collector.
    fn append(
        &mut self,
        collector: &mut Collector,
        stream: Stream,
        data: &[u8],
    ) -> std::result::Result<(), WriteError> {
        collector.append(
            self.job.seq,
            &mut self.output,
            &mut self.header,
            stream,
            data,
            self.tag.as_deref(),
        )
    }
}

enum Role {
    Job(Box<JobRun>),
    Server(Box<Server>),
    Worker {
        slot: usize,
        kind: Kind,
        output: ProcOutput,
    },
}

struct Proc<H> {
    sup: Supervised<H>,
    role: Role,
}

/// How a job's attempt ended, as the reports need it.
struct Ended {
    runtime: Duration,
    timed_out: bool,
    /// Stopped by forkpool (halt, interrupt).
    stopped: bool,
}

impl Ended {
    /// An attempt that ended by itself after `runtime` (a reply, or a request never sent).
    fn after(runtime: Duration) -> Ended {
        Ended {
            runtime,
            timed_out: false,
            stopped: false,
        }
    }

    fn of<H>(sup: &Supervised<H>) -> Ended {
        Ended {
            runtime: sup.start.elapsed(),
            timed_out: sup.timed_out(),
            stopped: sup.stopped(),
        }
    }
}

/// `--persistent`: a worker's long-lived command and the job it is answering.
struct Server {
    slot: usize,
    /// The job in flight, and when its request went.
    job: Option<(Box<JobRun>, Instant)>,
    replies: Replies,
    /// Its stdin, while open, with the request bytes it has not taken yet.
    stdin: Option<(OwnedFd, crate::reactor::Token)>,
    outbox: Vec<u8>,
    /// What it wrote to stderr, for the message when it dies before replying.
    output: ProcOutput,
    /// stderr written between jobs, passed on in whole lines.
    partial: Vec<u8>,
    /// Being stopped (timed out, broke the protocol): it gets no request, and what it still
    /// writes to stdout is ignored.
    doomed: bool,
}

/// What the scheduler writes besides the output.
#[derive(Default)]
pub struct Extras {
    pub joblog: Option<Joblog>,
    /// `--tag`, `--tagstring`: the template of each line's prefix.
    pub tag_template: Option<Template>,
    /// `--bar`, `--eta`.
    pub progress: Option<Progress>,
    /// How many jobs the run makes, when counted up front (`--bar`, `--halt ...%`).
    pub total: Option<u64>,
    /// `--header`: the input names, which name `--results`' directory levels.
    pub names: crate::input::Names,
    /// `--persistent --send`: the template of each request.
    pub send_template: Option<Template>,
    /// The most job slots the descriptors allow (what `-j 0` in a `-j FILE` means).
    pub max_slots: usize,
    /// `--tag` with `--onall`/`--nonall`: each line is tagged with its job's host.
    pub tag_hosts: bool,
    /// `--transferfile`, `--return`: templates of the files each remote job needs moved.
    pub send: Vec<Template>,
    pub fetch: Vec<Template>,
}

/// How long to wait before spawning again after running out of processes or descriptors.
const RESOURCE_WAIT: Duration = Duration::from_millis(50);

pub struct Scheduler<'a, E: Executor> {
    opts: &'a Options,
    template: &'a Template,
    source: Box<dyn JobSource + 'a>,
    exec: Arc<E>,
    /// Starts jobs on other threads, so spawns overlap across cores.
    spawner: Spawner<E>,
    reactor: Reactor<Tag>,
    collector: Collector,
    /// Every supervised process, by index; `spare` lists the free indexes.
    procs: Vec<Option<Proc<E::Handle>>>,
    spare: Vec<usize>,
    /// The executor's key of each started process, to its index.
    by_key: HashMap<u64, usize>,
    /// Job slots.
    cap: usize,
    /// Slots ready for a job, lowest first (with workers: only slots whose worker is ready).
    free: BinaryHeap<Reverse<usize>>,
    slots_made: usize,
    /// Jobs in flight (spawning or running).
    running: usize,
    /// Inits and teardowns in flight.
    worker_procs: usize,
    workers: Option<Workers>,
    /// Jobs to start before new ones: retries, jobs that lacked resources, and with workers the
    /// jobs that wait for a ready worker.
    queue: VecDeque<Job>,
    input_ended: bool,
    /// When a spawn failed for lack of resources: start nothing until a job ends or a moment passes.
    blocked: Option<Instant>,
    extras: Extras,
    /// Runtimes of recent successful jobs, for `--timeout N%`.
    runtimes: VecDeque<Duration>,
    last_start: Option<Instant>,
    /// The exit status `--halt` decided on.
    halt_status: Option<i32>,
    pub summary: Summary,
    pub stop: Option<Stop>,
    /// The first fatal error; the run ends with it.
    error: Option<Error>,
    read_buf: Vec<u8>,
    /// Sequence numbers the source skipped (for the progress total).
    skipped: u64,
    total_known: bool,
    spawn_results: Vec<Done<E>>,
    exits: Vec<(u64, Exit)>,
    /// stdout is congested: jobs' pipes are not read until its backlog shrinks.
    paused: bool,
    /// `--persistent`: each slot's worker command, by process index.
    servers: HashMap<usize, usize>,
    /// A slot was freed while jobs were being started: start jobs again.
    refill: bool,
    /// `--load`, `--memfree`, `--noswap`, `--limit`, `-j FILE`.
    gate: Option<gate::Gate>,
}

impl<'a, E: Executor> Scheduler<'a, E> {
    pub fn new(
        opts: &'a Options,
        template: &'a Template,
        source: Box<dyn JobSource + 'a>,
        exec: E,
        collector: Collector,
        cap: usize,
        extras: Extras,
    ) -> Result<Self> {
        let loop_err = |e: std::io::Error| Error::new(format!("cannot set up the event loop: {e}"));
        let mut reactor = Reactor::new().map_err(loop_err)?;
        let exec = Arc::new(exec);
        let threads = crate::exec::spawner::default_threads(opts.jobs.min(cap));
        let spawner = Spawner::new(Arc::clone(&exec), threads)
            .map_err(|e| Error::new(format!("cannot start the spawner threads: {e}")))?;
        reactor
            .add(spawner.notify_fd(), Interest::Read, Tag::Spawned)
            .map_err(loop_err)?;
        if let Some(fd) = exec.wake_fd() {
            reactor
                .add(fd, Interest::Read, Tag::Exec)
                .map_err(loop_err)?;
        }
        if let Some(fd) = source.notify_fd() {
            reactor
                .add(fd, Interest::ReadEdge, Tag::Input)
                .map_err(loop_err)?;
        }
        if let Some(fd) = collector.drained_fd() {
            reactor
                .add(fd, Interest::ReadEdge, Tag::Output)
                .map_err(loop_err)?;
        }
        let workers = match &opts.workers {
            Some(w) => Some(Workers::new(w.clone(), &opts.output.tmpdir).map_err(|e| {
                Error::new(format!(
                    "cannot create a directory for $FORKPOOL_ENV files in {}: {}",
                    opts.output.tmpdir.display(),
                    crate::error::io_reason(&e)
                ))
                .with_hint("point --tmpdir or TMPDIR at a writable directory")
            })?),
            None => None,
        };
        let gate = gate::Gate::new(opts, extras.max_slots.max(cap));
        let mut s = Scheduler {
            opts,
            template,
            source,
            exec,
            spawner,
            reactor,
            collector,
            procs: Vec::new(),
            spare: Vec::new(),
            by_key: HashMap::new(),
            cap,
            free: BinaryHeap::new(),
            slots_made: 0,
            running: 0,
            worker_procs: 0,
            workers,
            queue: VecDeque::new(),
            input_ended: false,
            blocked: None,
            extras,
            runtimes: VecDeque::new(),
            last_start: None,
            halt_status: None,
            summary: Summary::default(),
            stop: None,
            error: None,
            read_buf: vec![0; 64 * 1024],
            skipped: 0,
            total_known: false,
            spawn_results: Vec::new(),
            exits: Vec::new(),
            paused: false,
            servers: HashMap::new(),
            refill: false,
            gate,
        };
        if s.extras.joblog.as_ref().is_some_and(Joblog::to_stdout) {
            let r = s.collector.raw(crate::report::joblog::HEADER.as_bytes());
            s.wrote(r);
        }
        Ok(s)
    }

    /// Run every job. Returns Err only for forkpool's own errors (after stopping every job).
    pub fn run(&mut self) -> Result<()> {
        let mut ready = Vec::new();
        loop {
            if self.stop.is_none() {
                self.start_jobs();
                // A job that failed before it could start freed its slot at once: fill it too.
                while std::mem::take(&mut self.refill) && self.stop.is_none() {
                    self.start_jobs();
                }
            }
            self.tend_workers();
            if self.is_over() {
                break;
            }
            let r = self.collector.flush();
            self.wrote(r);
            self.back_pressure();
            let timeout = self.next_timeout();
            if let Err(e) = self.reactor.wait(timeout, &mut ready) {
                self.fail(Error::new(format!("event loop failed: {e}")));
                break;
            }
            for &tag in &ready {
                match tag {
                    Tag::Pipe(k, stream) => self.on_readable(k, stream),
                    Tag::Stdin(k) => self.feed(k),
                    _ => {}
                }
            }
            self.collect_spawns();
            self.handle_signals();
            self.reap();
            self.tick();
            self.tend_gate();
        }
        self.finish()
    }

    /// Stop reading jobs' output while stdout cannot keep up, and start again once it has.
    fn back_pressure(&mut self) {
        let congested = self.collector.congested();
        if congested == self.paused {
            return;
        }
        self.paused = congested;
        for p in self.procs.iter().flatten() {
            p.sup.pause(&mut self.reactor, congested);
        }
        if congested {
            self.collector.notify_when_drained();
        }
    }

    /// The one way out: print what waits, close the display, leave nothing running.
    fn finish(&mut self) -> Result<()> {
        let r = self.collector.finish_all();
        self.wrote(r);
        self.write_logged();
        // Let stdout's reader take the rest; an interrupt while it is slow ends forkpool.
        let mut ready = Vec::new();
        while !self.collector.written()
            && self.error.is_none()
            && self.stop.is_none_or(|s| !matches!(s, Stop::Signal(_)))
        {
            self.collector.notify_when_drained();
            let _ = self
                .reactor
                .wait(Some(Duration::from_millis(100)), &mut ready);
            self.handle_signals();
        }
        let r = self.collector.flush();
        self.wrote(r);
        if let Some(p) = self.extras.progress.as_mut() {
            p.finish();
        }
        // Spawns in flight finish first; the executor's sweep catches what they started.
        self.spawner.shutdown();
        self.exec.shutdown();
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// No process left, and nothing more to start.
    fn is_over(&self) -> bool {
        self.running == 0
            && self.worker_procs == 0
            && self.spawner.pending() == 0
            && self.workers.as_ref().is_none_or(Workers::quiet)
            && (self.stop.is_some() || self.no_work_left())
    }

    /// No job waits and none will come.
    fn no_work_left(&self) -> bool {
        self.queue.is_empty() && self.input_ended
    }

    /// The run stopped on SIGHUP with jobs it never started: how many, when that can be told
    /// (`Some(None)`: an unknown number, the rest of a stream).
    pub fn unstarted(&mut self) -> Option<Option<u64>> {
        if self.stop != Some(Stop::Hangup) || self.no_work_left() {
            return None;
        }
        let queued = self.queue.len() as u64;
        let left = match self.input_ended {
            true => Some(queued),
            false => self.source.count_rest().map(|n| n + queued),
        };
        (left != Some(0)).then_some(left)
    }

    /// Start no more jobs; with a stop that kills, stop every running job and init too.
    fn stop(&mut self, why: Stop) {
        if self.stop.is_some_and(Stop::kills) {
            return;
        }
        self.stop = Some(why);
        self.queue.clear();
        let now = Instant::now();
        let teardown_limit = self
            .workers
            .as_ref()
            .and_then(Workers::timeout)
            .unwrap_or(workers::INTERRUPT_TEARDOWN);
        for p in self.procs.iter_mut().flatten() {
            match p.role {
                Role::Job(_) | Role::Server(_) if why.kills() => p.sup.stop(now),
                Role::Worker {
                    kind: Kind::Init, ..
                } => p.sup.stop(now),
                // An interrupted run waits a bounded time for teardowns.
                Role::Worker {
                    kind: Kind::Teardown,
                    ..
                } if matches!(why, Stop::Signal(_)) => {
                    p.sup.set_deadline(Some(now + teardown_limit));
                }
                _ => {}
            }
        }
    }

    /// forkpool's own error: remember the first, and stop everything.
    fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.stop(Stop::Fatal);
    }

    /// The result of a write to stdout: a broken pipe stops the run quietly; any other failure
    /// is fatal.
    fn wrote(&mut self, r: std::result::Result<(), WriteError>) {
        match r {
            Ok(()) => {}
            Err(WriteError::BrokenPipe) => self.stop(Stop::BrokenPipe),
            Err(WriteError::Fatal(e)) => self.fail(e),
        }
    }

    /// `--delay`: too early to start another job.
    fn delayed(&self) -> bool {
        matches!((self.opts.delay, self.last_start), (Some(delay), Some(last)) if last.elapsed() < delay)
    }

    /// The next job from the source, passing the output turn of each one it skips.
    fn pull(&mut self) -> Option<Job> {
        if self.input_ended {
            return None;
        }
        loop {
            match self.source.pull() {
                Ok(Pull::Job(j)) => return Some(j),
                Ok(Pull::Skip(seq)) => {
                    self.skipped += 1;
                    let r = self.collector.skip(seq);
                    self.wrote(r);
                    self.write_logged();
                }
                Ok(Pull::Later) => return None,
                Ok(Pull::End) => {
                    self.input_ended = true;
                    if !self.total_known
                        && let Some(p) = self.extras.progress.as_mut()
                    {
                        self.total_known = true;
                        p.set_total(self.source.produced() - self.skipped);
                    }
                    return None;
                }
                Err(e) => {
                    self.input_ended = true;
                    self.fail(e);
                    return None;
                }
            }
        }
    }

    fn start_jobs(&mut self) {
        if self.blocked.is_some_and(|t| t.elapsed() < RESOURCE_WAIT) {
            // Spawns failed for lack of resources: wait for a job to end, or a moment.
            return;
        }
        if self.workers.is_some() {
            return self.start_jobs_on_workers();
        }
        while self.running < self.cap && !self.delayed() && self.stop.is_none() {
            if !self.no_work_left() && !self.gate_open() {
                return;
            }
            let Some(slot) = self.take_slot() else {
                return;
            };
            let Some(job) = self.queue.pop_front().or_else(|| self.pull()) else {
                self.free.push(Reverse(slot));
                return;
            };
            self.start(job, slot);
        }
    }

    /// The lowest free slot, or a new one; slots the executor has closed (a lost host's) are
    /// retired on the way.
    fn take_slot(&mut self) -> Option<usize> {
        while self.running < self.cap {
            let slot = match self.free.pop() {
                Some(Reverse(s)) => s,
                None => {
                    self.slots_made += 1;
                    self.slots_made
                }
            };
            if self.exec.slot_open(slot) {
                return Some(slot);
            }
            self.retire_slot();
        }
        None
    }

    /// A slot closed for good: one job fewer at once; with none left and work waiting, the run
    /// cannot go on. (Workers retire their slots themselves: `spawn_worker_proc`.)
    fn retire_slot(&mut self) {
        if self.workers.is_some() {
            return;
        }
        self.cap -= 1;
        if self.cap == 0 && !self.no_work_left() && self.stop.is_none() {
            self.fail(
                Error::new("no host is left to run jobs on: every host was lost")
                    .with_hint("check the hosts named in the warnings above, then run again (--joblog with --resume skips the jobs that ran)"),
            );
        }
    }

    fn start_jobs_on_workers(&mut self) {
        // Take as many jobs as could run at once, so enough workers start for them.
        while self.queue.len() + self.running < self.cap {
            match self.pull() {
                Some(j) => self.queue.push_back(j),
                None => break,
            }
        }
        // Hand them to ready workers, lowest slot first.
        while !self.queue.is_empty()
            && !self.free.is_empty()
            && !self.delayed()
            && self.stop.is_none()
            && self.gate_open()
        {
            let Some(Reverse(slot)) = self.free.pop() else {
                break;
            };
            // A worker torn down while idle (no work was left) may still be listed.
            let w = self.workers.as_mut().expect("workers are on").get(slot);
            if w.state != workers::State::Ready || w.busy {
                continue;
            }
            let job = self.queue.pop_front().expect("checked above");
            self.start(job, slot);
        }
        if self.stop.is_some() {
            return;
        }
        let workers = self.workers.as_mut().expect("workers are on");
        let actions = workers.start_for(self.queue.len(), self.free.len(), self.cap);
        self.carry_out(actions);
        let workers = self.workers.as_ref().expect("workers are on");
        if !self.queue.is_empty()
            && let Some(e) = workers.all_retired(self.cap)
        {
            self.fail(e);
        }
    }

    /// Stop inits no longer needed and tear down idle workers once no work is left.
    fn tend_workers(&mut self) {
        let Some(workers) = self.workers.as_mut() else {
            return;
        };
        if self.stop.is_none() && !(self.queue.is_empty() && self.input_ended) {
            return;
        }
        let mut actions = Vec::new();
        for slot in workers.idle() {
            actions.extend(workers.teardown(slot));
        }
        self.carry_out(actions);
    }

    /// Do what the workers' state machine asks.
    fn carry_out(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Ready(slot) => self.free.push(Reverse(slot)),
                Action::Close(slot) => self.close_server(slot),
                Action::Spawn {
                    slot,
                    kind,
                    command,
                    env,
                } => self.spawn_worker_proc(slot, kind, command, env),
            }
        }
    }

    fn add_proc(&mut self, p: Proc<E::Handle>) -> usize {
        match self.spare.pop() {
            Some(k) => {
                self.procs[k] = Some(p);
                k
            }
            None => {
                self.procs.push(Some(p));
                self.procs.len() - 1
            }
        }
    }

    fn remove_proc(&mut self, k: usize) -> Proc<E::Handle> {
        let p = self.procs[k].take().expect("a live process");
        self.spare.push(k);
        p
    }

    /// Watch a started process's pipes and remember its key.
    fn watch(
        &mut self,
        k: usize,
        stdout: Option<OwnedFd>,
        stderr: Option<OwnedFd>,
    ) -> std::result::Result<[Option<(OwnedFd, crate::reactor::Token)>; 2], String> {
        let mut pipes = [None, None];
        for (stream, fd) in Stream::BOTH.into_iter().zip([stdout, stderr]) {
            let Some(fd) = fd else { continue };
            set_nonblocking(&fd);
            match self
                .reactor
                .add(fd.as_fd(), Interest::Read, Tag::Pipe(k, stream))
            {
                Ok(token) => pipes[stream.index()] = Some((fd, token)),
                Err(e) => {
                    for (fd, token) in pipes.into_iter().flatten() {
                        self.reactor.remove(fd.as_fd(), token);
                    }
                    return Err(format!("cannot watch a process's output: {e}"));
                }
            }
        }
        Ok(pipes)
    }

    /// Start the slot's init or teardown now, on the loop's thread.
    fn spawn_worker_proc(
        &mut self,
        slot: usize,
        kind: Kind,
        command: Vec<u8>,
        env: Vec<(OsString, OsString)>,
    ) {
        if !self.exec.slot_open(slot) {
            // A lost host's slot: no init or teardown can run there.
            return self.workers.as_mut().expect("workers are on").closed(slot);
        }
        let server = kind == Kind::Server;
        let command = if server {
            // The command itself, with its slot's {%}.
            self.template.command(&JobView {
                records: &[],
                seq: 0,
                slot,
            })
        } else {
            Command::Shell(command)
        };
        let spec = SpawnSpec {
            command,
            capture: true,
            env,
            stdin: if server { Stdin::Pipe } else { Stdin::Null },
            slot,
            transfer: Default::default(),
        };
        let spawned = match self.spawner.spawn_now(&spec) {
            Ok(s) => s,
            Err(e) => {
                let alone = self.running == 0 && self.worker_procs == 0;
                let workers = self.workers.as_mut().expect("workers are on");
                let actions = workers.spawn_failed(slot, kind, e, alone);
                return self.carry_out(actions);
            }
        };
        let now = Instant::now();
        let mut sup = Supervised::new(now);
        if kind == Kind::Init {
            // An init that starts a service leaves it holding the init's output.
            sup = sup.with_grace(workers::INIT_GRACE);
        }
        let limit = self.workers.as_ref().and_then(Workers::timeout);
        let interrupted = matches!(self.stop, Some(Stop::Signal(_)));
        let limit = match (limit, interrupted && kind == Kind::Teardown) {
            (Some(t), _) => Some(t),
            (None, true) => Some(workers::INTERRUPT_TEARDOWN),
            (None, false) => None,
        };
        sup.set_deadline(limit.map(|l| now + l));
        let key = self.exec.key(&spawned.handle);
        let role = if server {
            let protocol = self
                .opts
                .workers
                .as_ref()
                .and_then(|w| w.persistent.as_ref())
                .map(|p| p.protocol.clone())
                .expect("--persistent");
            Role::Server(Box::new(Server {
                slot,
                job: None,
                replies: Replies::new(protocol),
                stdin: None,
                outbox: Vec::new(),
                output: ProcOutput::default(),
                partial: Vec::new(),
                doomed: false,
            }))
        } else {
            Role::Worker {
                slot,
                kind,
                output: ProcOutput::default(),
            }
        };
        let sup = if server { Supervised::new(now) } else { sup };
        let k = self.add_proc(Proc { sup, role });
        self.worker_procs += 1;
        // Unwatched, a pipe would never end: drop it (the command may get SIGPIPE).
        let pipes = self
            .watch(k, spawned.stdout, spawned.stderr)
            .unwrap_or_default();
        let p = self.procs[k].as_mut().expect("just added");
        p.sup.spawned(spawned.handle, pipes);
        self.by_key.insert(key, k);
        if server {
            self.server_started(k, slot, spawned.stdin);
        }
    }

    /// `--persistent`: the slot's worker command runs; watch its stdin and give it jobs.
    fn server_started(&mut self, k: usize, slot: usize, stdin: Option<OwnedFd>) {
        if let Some(fd) = stdin {
            set_nonblocking(&fd);
            match self.reactor.add(fd.as_fd(), Interest::Write, Tag::Stdin(k)) {
                Ok(token) => {
                    // Nothing to send yet.
                    self.reactor.modify(fd.as_fd(), token, None);
                    if let Some(Role::Server(srv)) = self.procs[k].as_mut().map(|p| &mut p.role) {
                        srv.stdin = Some((fd, token));
                    }
                }
                Err(e) => {
                    return self.fail(Error::new(format!("cannot watch a worker's stdin: {e}")));
                }
            }
        }
        self.servers.insert(slot, k);
        let stopping = self.stop.is_some();
        let actions = self
            .workers
            .as_mut()
            .expect("workers are on")
            .server_up(slot, stopping);
        self.carry_out(actions);
    }

    /// `--persistent`: send `job` to the slot's worker as a request.
    fn request(&mut self, k: usize, mut job: Job, slot: usize) {
        let view = JobView {
            records: &job.records,
            seq: job.seq,
            slot,
        };
        let send = self
            .extras
            .send_template
            .as_ref()
            .map(|t| t.raw_text(&view))
            .unwrap_or_default();
        let tag = self.extras.tag_template.as_ref().map(|t| t.raw_text(&view));
        let p = self
            .opts
            .workers
            .as_ref()
            .and_then(|w| w.persistent.as_ref())
            .expect("--persistent");
        let args: Vec<Vec<u8>> = job.records.iter().flatten().cloned().collect();
        let request = persistent::request(&p.protocol, &send, p.null, job.seq, slot, &args);
        let worker = self.workers.as_mut().map(|w| w.job_started(slot).0);
        let mut header = self
            .opts
            .output
            .print_command
            .then(|| [send.as_slice(), b"\n"].concat());
        if self.opts.verbose
            && self
                .collector
                .note(&[send.as_slice(), b"\n"].concat())
                .is_err()
        {
            self.fail(Error::new("cannot write to stderr"));
        }
        job.attempts += 1;
        let now = Instant::now();
        self.last_start = Some(now);
        let r = self.collector.started(job.seq, &mut header, tag.as_deref());
        self.wrote(r);
        if let Some(pr) = self.extras.progress.as_mut() {
            pr.started();
        }
        let run = Box::new(JobRun {
            job,
            slot,
            output: JobOutput::default(),
            tag,
            header,
            line: Some(send),
            start_wall: SystemTime::now(),
            worker,
            feeder: None,
            fifo: None,
            requeue: false,
        });
        self.running += 1;
        let bytes = match request {
            Ok(b) => b,
            Err(why) => {
                // Never sent: the job fails, the worker stays in step.
                crate::diag::warn(&format!("job {} cannot be sent: {why}", run.job.seq));
                self.running -= 1;
                let ended = Ended::after(Duration::ZERO);
                self.complete(*run, ended, Exit::Code(255));
                self.refill = true;
                return self.slot_idle(slot);
            }
        };
        let deadline = self.deadline_for(now);
        let Some(p) = self.procs[k].as_mut() else {
            return;
        };
        p.sup.set_deadline(deadline);
        let Role::Server(srv) = &mut p.role else {
            unreachable!("servers map to servers")
        };
        srv.outbox.extend_from_slice(&bytes);
        srv.job = Some((run, now));
        self.send(k);
    }

    /// `--persistent`: write what the worker's stdin takes of the waiting requests.
    fn send(&mut self, k: usize) {
        let Some(p) = self.procs.get_mut(k).and_then(Option::as_mut) else {
            return;
        };
        let Role::Server(srv) = &mut p.role else {
            return;
        };
        let Some((fd, token)) = srv.stdin.as_ref() else {
            srv.outbox.clear();
            return;
        };
        let mut broken = false;
        while !srv.outbox.is_empty() {
            match nix::unistd::write(fd, &srv.outbox) {
                Ok(n) => {
                    srv.outbox.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    broken = true;
                    break;
                }
            }
        }
        if broken {
            // Its stdin is closed: it is exiting (its exit fails the job in flight), or it
            // will not answer and --timeout stops it.
            srv.outbox.clear();
            if let Some((fd, token)) = srv.stdin.take() {
                self.reactor.remove(fd.as_fd(), token);
            }
            return;
        }
        let want = (!srv.outbox.is_empty()).then_some(Interest::Write);
        self.reactor.modify(fd.as_fd(), *token, want);
    }

    /// `--persistent`: the worker broke the protocol: its job fails, and a new worker starts.
    fn break_server(&mut self, k: usize, why: &str) {
        let Some(p) = self.procs[k].as_mut() else {
            return;
        };
        p.sup.stop(Instant::now());
        let Role::Server(srv) = &mut p.role else {
            return;
        };
        if std::mem::replace(&mut srv.doomed, true) {
            return;
        }
        let slot = srv.slot;
        let taken = srv.job.take();
        match &taken {
            Some((run, _)) => crate::diag::warn(&format!(
                "job {}: {why}; the job fails and a new worker starts",
                run.job.seq
            )),
            None => crate::diag::warn(&format!("{why}; a new worker starts")),
        }
        if let Some((run, sent)) = taken {
            self.end_in_flight(slot, run, Ended::after(sent.elapsed()), Exit::Code(255));
        }
    }

    /// `--persistent`: the job in flight ends with its worker, which takes no further job.
    fn end_in_flight(&mut self, slot: usize, run: Box<JobRun>, ended: Ended, exit: Exit) {
        self.running -= 1;
        if let Some(w) = self.workers.as_mut() {
            w.get(slot).busy = false;
        }
        self.complete(*run, ended, exit);
    }

    /// `--persistent`: take every complete reply the worker's stdout holds.
    fn take_replies(&mut self, k: usize) {
        loop {
            let Some(p) = self.procs.get_mut(k).and_then(Option::as_mut) else {
                return;
            };
            let Role::Server(srv) = &mut p.role else {
                return;
            };
            if srv.doomed {
                return;
            }
            let Some((run, _)) = srv.job.as_ref() else {
                if srv.replies.pending() {
                    let slot = srv.slot;
                    self.break_server(k, &format!("the --persistent worker (slot {slot}) wrote output with no request in flight"));
                }
                return;
            };
            let reply = match srv.replies.next(run.job.seq) {
                None => return,
                Some(Ok(reply)) => reply,
                Some(Err(why)) => {
                    let slot = srv.slot;
                    self.break_server(
                        k,
                        &format!("the --persistent worker (slot {slot}) broke the protocol: {why}"),
                    );
                    return;
                }
            };
            let (mut run, sent) = srv.job.take().expect("checked above");
            let (slot, seq) = (srv.slot, run.job.seq);
            p.sup.set_deadline(None);
            for (stream, data) in [(Stream::Out, &reply.stdout), (Stream::Err, &reply.stderr)] {
                if !data.is_empty() {
                    let r = run.append(&mut self.collector, stream, data);
                    self.wrote(r);
                }
            }
            self.running -= 1;
            if let Some(w) = self.workers.as_mut() {
                w.answered(slot);
            }
            let ended = Ended::after(sent.elapsed());
            self.complete(*run, ended, reply.exit);
            let Some(Role::Server(srv)) = self.procs[k].as_ref().map(|p| &p.role) else {
                return;
            };
            // More than one reply to one request would answer the next job with this one's
            // output: the worker is out of step.
            if srv.replies.pending() {
                return self.break_server(
                    k,
                    &format!("the --persistent worker (slot {slot}) wrote more than one reply to job {seq}"),
                );
            }
            if srv.stdin.is_none() {
                return self.break_server(
                    k,
                    &format!("the --persistent worker (slot {slot}) closed its stdin"),
                );
            }
            self.slot_idle(slot);
        }
    }

    /// `--persistent`: close the slot's worker's stdin; it has until --init-timeout (or 10 s)
    /// to exit before the --termseq ladder.
    fn close_server(&mut self, slot: usize) {
        let Some(&k) = self.servers.get(&slot) else {
            return;
        };
        let limit = self
            .workers
            .as_ref()
            .and_then(Workers::timeout)
            .unwrap_or(workers::INTERRUPT_TEARDOWN);
        let Some(p) = self.procs[k].as_mut() else {
            return;
        };
        p.sup.set_deadline(Some(Instant::now() + limit));
        if let Role::Server(srv) = &mut p.role
            && let Some((fd, token)) = srv.stdin.take()
        {
            self.reactor.remove(fd.as_fd(), token);
        }
    }

    /// Start one job in `slot` (its spawn completes in `spawned`).
    fn start(&mut self, mut job: Job, slot: usize) {
        if let Some(&k) = self.servers.get(&slot) {
            return self.request(k, job, slot);
        }
        let view = JobView {
            records: &job.records,
            seq: job.seq,
            slot,
        };
        let needs_line = self.opts.verbose
            || self.opts.output.print_command
            || self.opts.json
            || self.extras.joblog.is_some()
            || self.opts.halt.is_some()
            || self.opts.timeout.is_some();
        let (command, line) = match &job.logged_command {
            Some(c) => (Command::Shell(c.clone()), Some(c.clone())),
            None => (
                self.template.command(&view),
                needs_line.then(|| self.template.shell_line(&view)),
            ),
        };
        let tag = match self.extras.tag_hosts {
            true => Some(
                self.exec
                    .host(slot)
                    .unwrap_or_else(|| ":".into())
                    .into_bytes(),
            ),
            false => self.extras.tag_template.as_ref().map(|t| t.raw_text(&view)),
        };
        let (seq, slot_s) = (
            OsString::from(job.seq.to_string()),
            OsString::from(slot.to_string()),
        );
        let mut env = Vec::new();
        let mut worker = None;
        if let Some(w) = self.workers.as_mut() {
            let (id, exported) = w.job_started(slot);
            worker = Some(id);
            env = exported;
        }
        env.extend([
            ("FORKPOOL_SEQ".into(), seq.clone()),
            ("FORKPOOL_SLOT".into(), slot_s.clone()),
            ("PARALLEL_SEQ".into(), seq),
            ("PARALLEL_JOBSLOT".into(), slot_s),
        ]);
        if let Some(t) = &job.temp {
            // --cat, --fifo: the block's file, named as GNU parallel names it.
            env.push(("PARALLEL_TMP".into(), t.0.clone().into_os_string()));
        }
        let piped = job.input.as_ref().is_some_and(|i| i.fifo.is_none());
        let spec = SpawnSpec {
            command,
            // `-u --results`: captured to be saved, and printed as it comes.
            capture: self.opts.output.mode != OutputMode::Ungroup || self.opts.results.is_some(),
            env,
            stdin: if piped { Stdin::Pipe } else { Stdin::Null },
            slot,
            transfer: crate::exec::Transfer {
                send: self.extras.send.iter().map(|t| t.raw_text(&view)).collect(),
                fetch: self
                    .extras
                    .fetch
                    .iter()
                    .map(|t| t.raw_text(&view))
                    .collect(),
            },
        };
        let mut header = line
            .as_ref()
            .filter(|_| self.opts.output.print_command)
            .map(|l| [l.as_slice(), b"\n"].concat());
        if self.opts.output.mode == OutputMode::Ungroup {
            // `-u -v`: the command line is out before the job can write to the same stdout.
            let r = self
                .collector
                .started(job.seq, &mut header, tag.as_deref())
                .and_then(|()| self.collector.flush());
            self.wrote(r);
        }
        if let Some(l) = line.as_ref().filter(|_| self.opts.verbose) {
            let l = [l.as_slice(), b"\n"].concat();
            if self.collector.note(&l).is_err() {
                self.fail(Error::new("cannot write to stderr"));
            }
        }
        job.attempts += 1;
        let now = Instant::now();
        self.last_start = Some(now);
        let k = self.add_proc(Proc {
            sup: Supervised::new(now),
            role: Role::Job(Box::new(JobRun {
                job,
                slot,
                output: JobOutput::default(),
                tag,
                header,
                line,
                start_wall: SystemTime::now(),
                worker,
                feeder: None,
                fifo: None,
                requeue: false,
            })),
        });
        self.running += 1;
        self.gate_started();
        self.spawner.submit(k as u64, spec);
    }

    /// Take every finished spawn from the spawner.
    fn collect_spawns(&mut self) {
        if self.spawner.pending() == 0 {
            return;
        }
        let mut done = std::mem::take(&mut self.spawn_results);
        self.spawner.take_done(&mut done);
        for d in done.drain(..) {
            self.spawned(d.token as usize, d.result, d.reaped);
        }
        self.spawn_results = done;
    }

    /// Wait for every spawn in flight, and take the results.
    fn settle_spawns(&mut self) {
        while self.spawner.pending() > 0 {
            let mut fds = [PollFd::new(self.spawner.notify_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(100u16));
            self.collect_spawns();
        }
    }

    /// A job's spawn ended: watch the started job, or fail it, or try again later.
    fn spawned(&mut self, k: usize, result: SpawnResult<E>, reaped: Option<Exit>) {
        let spawned = match result {
            Ok(s) => s,
            Err(SpawnError::Transient(e)) => {
                let Role::Job(run) = self.remove_proc(k).role else {
                    unreachable!("only jobs spawn on the spawner")
                };
                self.running -= 1;
                if self.running == 0 && self.worker_procs == 0 {
                    return self.fail(Error::new(format!("cannot start any job: {}", crate::error::io_reason(&e)))
                        .with_hint("lower -j, or raise the process and open-file limits (ulimit -u, ulimit -n)"));
                }
                // Out of processes or descriptors: try again when a job ends (or soon).
                let mut job = run.job;
                job.attempts -= 1;
                if let Some(w) = self.workers.as_mut() {
                    w.job_unstarted(run.slot);
                }
                self.blocked = Some(Instant::now());
                self.free.push(Reverse(run.slot));
                if self.stop.is_none() {
                    self.queue.push_front(job);
                }
                return;
            }
            Err(SpawnError::Failed(msg)) => {
                let p = self.remove_proc(k);
                let Role::Job(run) = p.role else {
                    unreachable!("only jobs spawn on the spawner")
                };
                self.running -= 1;
                if !self.exec.slot_open(run.slot) {
                    // Its host was lost while the spawn was on its way.
                    let slot = run.slot;
                    self.requeue(*run, false);
                    return self.slot_idle(slot);
                }
                crate::diag::warn(&format!("job {} cannot start: {msg}", run.job.seq));
                if let Some(pr) = self.extras.progress.as_mut() {
                    pr.started();
                }
                let slot = run.slot;
                self.complete(*run, Ended::of(&p.sup), Exit::Code(127));
                return self.slot_idle(slot);
            }
        };
        let key = self.exec.key(&spawned.handle);
        let pipes = match self.watch(k, spawned.stdout, spawned.stderr) {
            Ok(p) => p,
            Err(msg) => {
                self.fail(Error::new(msg));
                [None, None]
            }
        };
        let deadline = self.deadline_for(self.procs[k].as_ref().expect("spawning").sup.start);
        let p = self.procs[k].as_mut().expect("a spawning job");
        p.sup.spawned(spawned.handle, pipes);
        p.sup.set_deadline(deadline);
        let Role::Job(run) = &mut p.role else {
            unreachable!("only jobs spawn on the spawner")
        };
        let r = self
            .collector
            .started(run.job.seq, &mut run.header, run.tag.as_deref());
        self.wrote(r);
        self.by_key.insert(key, k);
        self.start_feeding(k, spawned.stdin);
        if let Some(pr) = self.extras.progress.as_mut() {
            pr.started();
        }
        if let Some(exit) = reaped {
            // Reaped before its spawn result came back.
            self.by_key.remove(&key);
            self.exited(k, exit);
        }
    }

    /// Pipe mode: start giving a started job its block.
    fn start_feeding(&mut self, k: usize, stdin: Option<OwnedFd>) {
        let Some(Role::Job(run)) = self.procs[k].as_mut().map(|p| &mut p.role) else {
            return;
        };
        let Some(input) = run.job.input.as_ref() else {
            return;
        };
        if let Some(path) = &input.fifo {
            match FifoFeed::start(path.clone(), &input.block) {
                Ok(f) => run.fifo = Some(f),
                Err(e) => self.fail(Error::new(format!(
                    "cannot start a thread to feed --fifo: {}",
                    crate::error::io_reason(&e)
                ))),
            }
            return;
        }
        let Some(fd) = stdin else { return };
        if let crate::job::Block::Stream(sink) = &input.block {
            return sink.attach(run.job.seq, fd);
        }
        set_nonblocking(&fd);
        match self.reactor.add(fd.as_fd(), Interest::Write, Tag::Stdin(k)) {
            Ok(token) => {
                run.feeder = Some(Feeder::new(fd, token));
                self.feed(k);
            }
            Err(e) => self.fail(Error::new(format!("cannot watch a job's stdin: {e}"))),
        }
    }

    /// Write what a job's stdin takes now; close it when the block is all written.
    fn feed(&mut self, k: usize) {
        if let Some(Role::Server(srv)) = self
            .procs
            .get_mut(k)
            .and_then(Option::as_mut)
            .map(|p| &mut p.role)
        {
            if srv.outbox.is_empty() {
                // Woken with nothing to send: the pipe reports an error or hang-up (its reader
                // closed it). Stop watching it; the next reply, or the worker's exit, tells.
                if let Some((fd, token)) = srv.stdin.take() {
                    self.reactor.remove(fd.as_fd(), token);
                }
                return;
            }
            return self.send(k);
        }
        let Some(Role::Job(run)) = self
            .procs
            .get_mut(k)
            .and_then(Option::as_mut)
            .map(|p| &mut p.role)
        else {
            return;
        };
        let (Some(feeder), Some(input)) = (run.feeder.as_mut(), run.job.input.as_ref()) else {
            return;
        };
        if feeder.write(&input.block) == Fed::Done {
            let f = run.feeder.take().expect("checked above");
            self.reactor.remove(f.fd.as_fd(), f.token);
        }
    }

    /// `--timeout`: the deadline of a job that started at `start`.
    fn deadline_for(&self, start: Instant) -> Option<Instant> {
        match self.opts.timeout {
            None => None,
            Some(Timeout::Fixed(d)) => Some(start + d),
            Some(Timeout::Percent(p)) => {
                self.median_runtime().map(|m| start + m.mul_f64(p / 100.0))
            }
        }
    }

    /// Read a ready pipe; at its end, the process may be done.
    fn on_readable(&mut self, k: usize, stream: Stream) {
        if !self.read(k, stream) {
            self.maybe_done(k);
        }
    }

    /// One read from a process's pipe; true when it read data (more may be waiting). At the
    /// pipe's end it closes the pipe, and leaves `maybe_done` to the caller: a process that is
    /// done gives its index to the next one (a teardown after an init), whose pipes a caller
    /// still reading the old one's must never touch.
    fn read(&mut self, k: usize, stream: Stream) -> bool {
        let Some(p) = self.procs.get_mut(k).and_then(Option::as_mut) else {
            return false;
        };
        let Some(fd) = p.sup.pipe(stream) else {
            return false;
        };
        match nix::unistd::read(fd, &mut self.read_buf) {
            Ok(0) | Err(Errno::EIO) => {
                p.sup.close(stream, &mut self.reactor);
                false
            }
            Ok(n) => {
                let data = &self.read_buf[..n];
                match &mut p.role {
                    Role::Job(run) => {
                        let r = run.append(&mut self.collector, stream, data);
                        self.wrote(r);
                    }
                    Role::Worker { output, .. } => {
                        if let Some(full) = output.append(data) {
                            let _ = self.collector.note(&full);
                        }
                    }
                    Role::Server(srv) if stream == Stream::Out => {
                        if !srv.doomed {
                            srv.replies.feed(data);
                            self.take_replies(k);
                        }
                    }
                    Role::Server(srv) => {
                        srv.output.append(data);
                        match srv.job.as_mut() {
                            // What it writes to stderr during a job is that job's stderr.
                            Some((run, _)) => {
                                let r = run.append(&mut self.collector, stream, data);
                                self.wrote(r);
                            }
                            None => {
                                srv.partial.extend_from_slice(data);
                                if let Some(end) = srv.partial.iter().rposition(|&b| b == b'\n') {
                                    let lines: Vec<u8> = srv.partial.drain(..=end).collect();
                                    let _ = self.collector.note(&lines);
                                }
                            }
                        }
                    }
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Read what a process's pipes hold now, then let them go.
    fn drain(&mut self, k: usize) {
        for stream in Stream::BOTH {
            while self.read(k, stream) {}
            if let Some(p) = self.procs[k].as_mut() {
                p.sup.close(stream, &mut self.reactor);
            }
        }
    }

    /// Take every exit the executor has to report.
    fn reap(&mut self) {
        let mut exits = std::mem::take(&mut self.exits);
        self.exec.reap(&mut |key, exit| exits.push((key, exit)));
        let mut orphan = false;
        for (key, exit) in exits.drain(..) {
            match self.by_key.remove(&key) {
                Some(k) => self.exited(k, exit),
                // Perhaps a job whose spawn result is not taken yet; else an orphan, whose end
                // may have emptied a finished job's process group.
                None => orphan |= !self.spawner.hold_exit(key, exit),
            }
        }
        self.exits = exits;
        if orphan {
            let now = Instant::now();
            for p in self.procs.iter_mut().flatten() {
                p.sup.look_now(now);
            }
        }
    }

    fn exited(&mut self, k: usize, exit: Exit) {
        let p = self.procs[k].as_mut().expect("a known process");
        if let Some(h) = p.sup.exited(exit, Instant::now()) {
            self.exec.reaped(h);
        }
        self.maybe_done(k);
    }

    /// A process is done when it has exited and its pipes are closed: take it out and act.
    fn maybe_done(&mut self, k: usize) {
        if !self.procs[k].as_ref().is_some_and(|p| p.sup.is_done()) {
            return;
        }
        let p = self.remove_proc(k);
        let exit = p.sup.exit().expect("a done process has exited");
        match p.role {
            Role::Job(mut run) => {
                if let Some(f) = run.feeder.take() {
                    self.reactor.remove(f.fd.as_fd(), f.token);
                }
                run.fifo = None;
                self.running -= 1;
                self.blocked = None;
                let slot = run.slot;
                // A stopping run, or a job forkpool stopped (its 255 is expected), asks no host
                // whether it was lost.
                let lost = self.stop.is_none()
                    && !p.sup.stopped()
                    && p.sup.handle().is_some_and(|h| self.exec.lost(h, exit));
                if lost {
                    self.requeue(*run, true);
                } else {
                    self.complete(*run, Ended::of(&p.sup), exit);
                }
                self.slot_idle(slot);
            }
            Role::Server(mut srv) => {
                self.worker_procs -= 1;
                let slot = srv.slot;
                self.servers.remove(&slot);
                if let Some((fd, token)) = srv.stdin.take() {
                    self.reactor.remove(fd.as_fd(), token);
                }
                if !srv.partial.is_empty() {
                    srv.partial.push(b'\n');
                    let _ = self.collector.note(&srv.partial);
                }
                // Only a worker that died on a job's first attempt counts toward retiring the
                // slot: a job that kills every worker it is sent to fails after its --retries.
                let retried = srv.job.as_ref().is_some_and(|(r, _)| r.job.attempts > 1);
                let blameless = p.sup.timed_out() || p.sup.stopped() || retried;
                if let Some((run, sent)) = srv.job.take() {
                    // The worker died with a job in flight: the job ends with it.
                    let ended = Ended {
                        runtime: sent.elapsed(),
                        ..Ended::of(&p.sup)
                    };
                    self.end_in_flight(slot, run, ended, exit);
                }
                let stopping = self.stop.is_some();
                let workers = self.workers.as_mut().expect("workers are on");
                let actions =
                    workers.proc_ended(slot, Kind::Server, exit, blameless, &srv.output, stopping);
                self.carry_out(actions);
            }
            Role::Worker {
                slot,
                kind,
                mut output,
            } => {
                self.worker_procs -= 1;
                if !output.bytes.is_empty() {
                    // Job output that came first goes out first.
                    let _ = self.collector.flush();
                    let mut out = std::mem::take(&mut output.bytes);
                    if !out.ends_with(b"\n") {
                        out.push(b'\n');
                    }
                    let _ = self.collector.note(&out);
                }
                let stopping = self.stop.is_some();
                let workers = self.workers.as_mut().expect("workers are on");
                let actions =
                    workers.proc_ended(slot, kind, exit, p.sup.timed_out(), &output, stopping);
                self.carry_out(actions);
            }
        }
    }

    /// A job's host was lost: run it again first, as if this attempt never started
    /// (`started`: the progress display counted it as running).
    fn requeue(&mut self, mut run: JobRun, started: bool) {
        self.collector.discard(run.output);
        run.job.attempts -= 1;
        self.queue.push_front(run.job);
        if let Some(p) = self.extras.progress.as_mut().filter(|_| started) {
            p.retrying();
        }
    }

    /// A slot's job ended: the slot takes another job, or its worker is recycled.
    fn slot_idle(&mut self, slot: usize) {
        // A lost host's slot retires; its worker ends (a teardown cannot start there).
        let open = self.exec.slot_open(slot);
        if !open {
            self.retire_slot();
        }
        let stopping = self.stop.is_some() || !open;
        match self.workers.as_mut() {
            None if open => self.free.push(Reverse(slot)),
            None => {}
            Some(w) => {
                let actions = w.job_ended(slot, stopping);
                self.carry_out(actions);
            }
        }
    }

    /// A job's attempt ended: retry it, or log, report and print it.
    fn complete(&mut self, run: JobRun, ended: Ended, exit: Exit) {
        if let Some(crate::job::Block::Stream(sink)) = run.job.input.as_ref().map(|i| &i.block) {
            sink.ended(run.job.seq);
        }
        let Ended {
            runtime,
            timed_out,
            stopped,
        } = ended;
        if !timed_out && exit.success() {
            if self.runtimes.len() >= 1001 {
                self.runtimes.pop_front();
            }
            self.runtimes.push_back(runtime);
            if matches!(self.opts.timeout, Some(Timeout::Percent(_))) {
                self.refresh_deadlines();
            }
        }
        if run.requeue && self.stop.is_none() {
            // Stopped by a gate: it runs again later, and this attempt does not count.
            self.collector.discard(run.output);
            let mut job = run.job;
            job.attempts -= 1;
            self.queue.push_front(job);
            if let Some(p) = self.extras.progress.as_mut() {
                p.retrying();
            }
            return;
        }
        if crate::job::failed(exit, timed_out)
            && run.job.attempts < self.opts.retries
            && self.stop.is_none()
        {
            self.collector.discard(run.output);
            self.queue.push_back(run.job);
            if let Some(p) = self.extras.progress.as_mut() {
                p.retrying();
            }
            return;
        }
        let record = JobRecord {
            seq: run.job.seq,
            slot: run.slot,
            host: self.exec.host(run.slot),
            worker: run.worker,
            args: run.job.records.iter().flatten().cloned().collect(),
            command: run.line.unwrap_or_default(),
            exit,
            timed_out,
            stopped,
            attempts: run.job.attempts,
            start: run.start_wall,
            runtime,
            stdout_len: run.output.out.size(),
        };
        self.summary.record(&record);
        if let Some(p) = self.extras.progress.as_mut() {
            p.finished(record.failed(), run.job.bytes);
        }
        // A job killed by an interrupt or by `--halt now` is not logged, so --resume runs it
        // again (as GNU). The line is written when the job's output goes out.
        let interrupted =
            matches!(self.stop, Some(Stop::Signal(_) | Stop::Halt(HaltWhen::Now))) && stopped;
        let log = self
            .extras
            .joblog
            .as_ref()
            .filter(|_| !interrupted || !record.failed())
            .map(|_| crate::report::joblog::line(&record));
        if let Some(dir) = &self.opts.results {
            let saved = self.collector.saved(&run.output).and_then(|(out, err)| {
                Ok(crate::output::results::save(
                    dir,
                    &self.extras.names,
                    &run.job.records,
                    run.job.seq,
                    &out,
                    &err,
                )?)
            });
            self.wrote(saved);
        }
        self.check_halt(&record);
        self.source.done(&record);
        let record = self.opts.json.then_some(record);
        let r = self.collector.finish(Finished {
            seq: run.job.seq,
            header: run.header,
            tag: run.tag,
            output: run.output,
            record,
            log,
        });
        self.wrote(r);
        self.write_logged();
    }

    /// Write the joblog lines of the jobs whose output went out.
    fn write_logged(&mut self) {
        for line in self.collector.take_logged() {
            let Some(log) = self.extras.joblog.as_mut() else {
                return;
            };
            if let Err(e) = log.write(&line) {
                return self.fail(e);
            }
        }
    }

    /// `--timeout N%`: the median changed, so every running job's deadline moves with it.
    fn refresh_deadlines(&mut self) {
        let starts: Vec<(usize, Instant)> = self
            .procs
            .iter()
            .enumerate()
            .filter_map(|(k, p)| match p {
                Some(p) if matches!(p.role, Role::Job(_)) => Some((k, p.sup.start)),
                _ => None,
            })
            .collect();
        for (k, start) in starts {
            let d = self.deadline_for(start);
            if let Some(p) = self.procs[k].as_mut() {
                p.sup.set_deadline(d);
            }
        }
    }

    /// `--halt`: stop when the condition is met.
    fn check_halt(&mut self, record: &JobRecord) {
        let Some(h) = self.opts.halt else { return };
        if self.halt_status.is_some()
            || !status::halt_hit(h, self.summary, self.extras.total, record.failed())
        {
            return;
        }
        self.halt_status = Some(status::halt_status(
            h,
            record,
            self.summary,
            self.extras.total,
        ));
        let what = match h.why {
            crate::options::HaltWhy::Fail => "failed",
            crate::options::HaltWhy::Success => "succeeded",
            crate::options::HaltWhy::Done => "finished",
        };
        crate::diag::warn(&format!(
            "halting: job {} {what}: {}",
            record.seq,
            String::from_utf8_lossy(&record.command)
        ));
        self.stop(Stop::Halt(h.when));
    }

    /// The run's exit status: the halting job's, or what the failures add up to.
    pub fn exit_status(&self) -> i32 {
        self.halt_status.unwrap_or_else(|| {
            status::failure_status(self.opts.halt, self.summary, self.extras.total)
        })
    }

    fn median_runtime(&self) -> Option<Duration> {
        if self.runtimes.len() < 3 {
            return None;
        }
        let mut v: Vec<Duration> = self.runtimes.iter().copied().collect();
        v.sort();
        Some(v[v.len() / 2])
    }

    fn handle_signals(&mut self) {
        let s = self.reactor.take_signals();
        if s.suspend > 0 {
            // Ctrl-Z reaches only the terminal's foreground group, and every job has its own:
            // stop them, then stop forkpool as the default action would. A job whose spawn is
            // in flight has no handle yet and would run on unstopped: let the spawns land first.
            self.settle_spawns();
            self.signal_all(Signal::SIGTSTP);
            let _ = nix::sys::signal::raise(Signal::SIGSTOP);
        }
        if s.resume > 0 || s.suspend > 0 {
            // Here after `fg`/`bg` (SIGCONT) resumed forkpool.
            self.signal_all(Signal::SIGCONT);
        }
        if s.hangup > 0 && self.stop.is_none() {
            crate::diag::warn(&format!(
                "SIGHUP received: no new job starts; waiting for {} running job{} to finish",
                self.running,
                if self.running == 1 { "" } else { "s" }
            ));
            self.stop(Stop::Hangup);
        }
        if let Some(sig) = s.fatal {
            self.stop(Stop::Signal(sig));
        }
        if s.interrupt + s.terminate > 0 {
            let sig = if s.interrupt > 0 {
                nix::libc::SIGINT
            } else {
                nix::libc::SIGTERM
            };
            let again = matches!(self.stop, Some(Stop::Signal(_))) || s.interrupt > 1;
            self.stop(Stop::Signal(sig));
            if again {
                // A second interrupt: no more patience, for jobs still being spawned too.
                self.settle_spawns();
                self.signal_all(Signal::SIGKILL);
            }
        }
    }

    /// Send `sig` to every process of ours that has started.
    fn signal_all(&self, sig: Signal) {
        for p in self.procs.iter().flatten() {
            p.sup.signal(&*self.exec, sig);
        }
    }

    /// Serve every process's deadline, ladder and looks after its exit.
    fn tick(&mut self) {
        let now = Instant::now();
        for k in 0..self.procs.len() {
            let Some(p) = self.procs[k].as_mut() else {
                continue;
            };
            match p.sup.tick(now, &*self.exec, &self.opts.ladder) {
                Tick::Nothing => {}
                Tick::TimedOut => {
                    if let Role::Server(srv) = &mut p.role {
                        // Its late reply must not count: the job has timed out.
                        srv.doomed = true;
                    }
                    if let Role::Server(srv) = &p.role
                        && let Some((run, sent)) = &srv.job
                    {
                        crate::diag::warn(&format!(
                            "job {} timed out after {}, stopping its --persistent worker (slot {})",
                            run.job.seq,
                            seconds(sent.elapsed()),
                            srv.slot
                        ));
                    }
                    if let Role::Job(run) = &p.role {
                        let cmd = run.line.as_deref().unwrap_or_default();
                        crate::diag::warn(&format!(
                            "job {} timed out after {}, stopping it: {}",
                            run.job.seq,
                            seconds(p.sup.deadline().unwrap_or(now) - p.sup.start),
                            String::from_utf8_lossy(cmd).replace('\n', " "),
                        ));
                    }
                }
                Tick::Drain => {
                    self.drain(k);
                    self.maybe_done(k);
                }
            }
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |due: Instant| next = Some(next.map_or(due, |n: Instant| n.min(due)));
        for p in self.procs.iter().flatten() {
            if let Some(due) = p.sup.next_due() {
                consider(due);
            }
        }
        let wake_soon = self.workers.as_ref().is_some_and(|w| w.wake_soon);
        if (!self.queue.is_empty() || wake_soon) && self.stop.is_none() {
            consider(now + RESOURCE_WAIT);
        }
        if let (Some(delay), Some(last), None) = (self.opts.delay, self.last_start, self.stop) {
            consider(last + delay);
        }
        if let (Some(due), None) = (self.gate_due(), self.stop) {
            consider(due);
        }
        next.map(|n| n.saturating_duration_since(now))
    }
}

/// A duration as people write it: "1s", "2.5s".
fn seconds(d: Duration) -> String {
    let s = format!("{:.3}", d.as_secs_f64());
    format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
}

fn set_nonblocking(fd: &OwnedFd) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    // A fresh pipe end has no other status flag to keep (F_SETFL ignores the access mode).
    let _ = fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
}
