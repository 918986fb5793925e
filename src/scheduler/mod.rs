//! The scheduler: fills job slots from the job source, starts jobs through an executor, and drives
//! the one event loop that reads every job's pipes, reaps children and reacts to signals. It
//! decides when to stop (input done, interrupt, broken pipe) and stops running jobs with the
//! termination ladder, signalling each job's whole process group.

pub mod jobs;
pub mod workers;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::exec::spawner::{Done, Spawner};
use crate::exec::{Executor, SpawnError, SpawnSpec};
use crate::job::{Command, Exit, Job, JobRecord, Ladder};
use crate::options::{HaltWhen, HaltWhy, Options, OutputMode, Resume, Threshold, Timeout};
use crate::output::{Collector, Finished, JobOutput, Stream, WriteError};
use crate::reactor::Reactor;
use crate::report::Summary;
use crate::report::joblog::{Joblog, Logged};
use crate::report::progress::Progress;
use crate::template::{JobView, Template};
use jobs::JobSource;
use workers::{State, Workers};

/// Why the run stops starting jobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// SIGINT or SIGTERM: stop running jobs, then die of the same signal.
    Signal(i32),
    /// SIGHUP: let running jobs finish, start no more.
    Hangup,
    /// Nobody reads stdout.
    BrokenPipe,
    /// `--halt` was triggered.
    Halt(HaltWhen),
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
    /// The job's command as shell code (for -v, -t, the joblog and --json).
    line: Option<Vec<u8>>,
    start: Instant,
    start_wall: SystemTime,
    deadline: Option<Instant>,
    timed_out: bool,
    /// The worker incarnation running the job (per-worker init).
    worker: Option<u64>,
}

/// What the runner writes besides the output, and what it skips.
#[derive(Default)]
pub struct Extras {
    pub joblog: Option<Joblog>,
    /// `--resume*`: the jobs an earlier run logged.
    pub logged: HashMap<u64, Logged>,
    /// `--tag`, `--tagstring`: the template of each line's prefix.
    pub tag_template: Option<Template>,
    /// `--bar`, `--eta`.
    pub progress: Option<Progress>,
    /// How many jobs the run makes, when counted up front (`--bar`, `--halt ...%`).
    pub total: Option<u64>,
}

pub struct Runner<'a, E: Executor> {
    opts: &'a Options,
    template: &'a Template,
    source: JobSource,
    reactor: Reactor,
    collector: Collector,
    /// Index = slot - 1.
    slots: Vec<Option<Running>>,
    /// Slots ready for a job, lowest first (with workers: only slots whose worker is ready).
    free: BinaryHeap<Reverse<usize>>,
    /// `--init`, `--teardown`, `--worker-max-jobs`: each slot's worker.
    workers: Option<Workers>,
    /// With workers: jobs taken from the source that wait for a ready worker.
    waiting: VecDeque<Job>,
    /// Pids of running init and teardown commands, and their slots.
    worker_pids: HashMap<i32, usize>,
    /// Try to start processes again soon (they could not start for lack of resources).
    wake_soon: bool,
    /// Starts jobs on other threads, so spawns overlap across cores.
    spawner: Spawner<E, Exit>,
    spawn_results: Vec<Done<Exit>>,
    /// When a spawn failed for lack of resources: start nothing until a job ends or a moment passes.
    blocked: Option<Instant>,
    max_slots: usize,
    pids: HashMap<i32, usize>,
    running: usize,
    /// Jobs to start before new ones: lack of resources, or `--retries`.
    retry: VecDeque<Job>,
    extras: Extras,
    /// Runtimes of recent jobs, for `--timeout N%`.
    runtimes: VecDeque<Duration>,
    last_start: Option<Instant>,
    /// The exit status `--halt` decided on.
    pub halt_status: Option<i32>,
    /// Process groups of finished jobs that still had members (to clean up at exit).
    lingering: Vec<i32>,
    pub summary: Summary,
    pub stop: Option<Stop>,
    read_buf: Vec<u8>,
    /// Jobs skipped by `--resume` (for the progress total).
    skipped: u64,
    total_known: bool,
}

impl<'a, E: Executor + 'static> Runner<'a, E> {
    pub fn new(
        opts: &'a Options,
        template: &'a Template,
        source: JobSource,
        exec: E,
        collector: Collector,
        max_slots: usize,
        extras: Extras,
    ) -> Result<Self> {
        let reactor =
            Reactor::new().map_err(|e| Error::new(format!("cannot set up the event loop: {e}")))?;
        let threads = crate::exec::spawner::default_threads(opts.jobs.min(max_slots));
        let spawner = Spawner::new(Arc::new(exec), threads)
            .map_err(|e| Error::new(format!("cannot start the spawner threads: {e}")))?;
        reactor
            .add(spawner.notify_fd(), SPAWNED_TOKEN)
            .map_err(|e| Error::new(format!("cannot set up the event loop: {e}")))?;
        let workers = match &opts.workers {
            Some(_) => Some(Workers::new(&opts.output.tmpdir).map_err(|e| {
                Error::new(format!(
                    "cannot create a directory for $FORKPOOL_ENV files in {}: {}",
                    opts.output.tmpdir.display(),
                    crate::error::io_reason(&e)
                ))
                .with_hint("point --tmpdir or TMPDIR at a writable directory")
            })?),
            None => None,
        };
        Ok(Runner {
            opts,
            template,
            source,
            spawner,
            spawn_results: Vec::new(),
            blocked: None,
            reactor,
            collector,
            slots: Vec::new(),
            free: BinaryHeap::new(),
            workers,
            waiting: VecDeque::new(),
            worker_pids: HashMap::new(),
            wake_soon: false,
            max_slots,
            pids: HashMap::new(),
            running: 0,
            retry: VecDeque::new(),
            extras,
            runtimes: VecDeque::new(),
            last_start: None,
            halt_status: None,
            lingering: Vec::new(),
            summary: Summary::default(),
            stop: None,
            read_buf: vec![0; 64 * 1024],
            skipped: 0,
            total_known: false,
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
            if self.workers.is_some() {
                self.tend_workers();
            }
            if self.running == 0
                && self.workers_quiet()
                && (self.stop.is_some() || self.no_work_left())
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
            if let Err(e) = self.collect_spawns() {
                break Err(e);
            }
            for &token in &ready {
                if token == SPAWNED_TOKEN {
                    continue;
                }
                if let Err(e) = self.read_pipe(token).map(drop)
                    && let Some(e) = self.write_failed(e)
                {
                    return Err(e);
                }
            }
            if let Err(e) = self.handle_signals() {
                break Err(e);
            }
            self.reap();
            self.run_ladders();
        };
        let flushed = match self.collector.finish_all() {
            Err(e) => self.write_failed(e).map_or(Ok(()), Err),
            Ok(()) => Ok(()),
        };
        if let Some(p) = self.extras.progress.as_mut() {
            p.finish();
        }
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

    /// No job waits and none will come (a failed job may still be retried later).
    fn no_work_left(&self) -> bool {
        self.retry.is_empty() && self.waiting.is_empty() && self.source.exhausted()
    }

    /// `--delay`: too early to start another job.
    fn delayed(&self) -> bool {
        matches!((self.opts.delay, self.last_start), (Some(delay), Some(last)) if last.elapsed() < delay)
    }

    /// The next job to start: a retry, else a new one (skipping what `--resume` says is done).
    fn next_job(&mut self) -> Result<Option<Job>> {
        loop {
            let job = match self.retry.pop_front() {
                Some(j) => j,
                None => match self.source.next_job(self.template)? {
                    Some(j) => j,
                    None => {
                        self.input_ended();
                        return Ok(None);
                    }
                },
            };
            if job.attempts == 0 && self.skip_resumed(job.seq) {
                self.skipped += 1;
                if let Err(e) = self.collector.skip(job.seq)
                    && let Some(e) = self.write_failed(e)
                {
                    return Err(e);
                }
                continue;
            }
            return Ok(Some(job));
        }
    }

    fn start_jobs(&mut self) -> Result<()> {
        if self.blocked.is_some_and(|t| t.elapsed() < RESOURCE_WAIT) {
            // Spawns failed for lack of resources: wait for a job to end, or a moment.
            return Ok(());
        }
        if self.workers.is_some() {
            return self.start_jobs_on_workers();
        }
        while self.running < self.capacity() {
            if self.delayed() {
                return Ok(());
            }
            let Some(job) = self.next_job()? else {
                return Ok(());
            };
            let slot = match self.free.pop() {
                Some(Reverse(s)) => s,
                None => {
                    self.slots.push(None);
                    self.slots.len()
                }
            };
            self.start(job, slot)?;
        }
        Ok(())
    }

    /// The input ended: the progress display learns the total.
    fn input_ended(&mut self) {
        if !self.total_known
            && let Some(p) = self.extras.progress.as_mut()
        {
            self.total_known = true;
            p.set_total(self.source.produced() - self.skipped);
        }
    }

    /// `--resume`: whether an earlier run already did this job.
    fn skip_resumed(&self, seq: u64) -> bool {
        match (self.opts.resume, self.extras.logged.get(&seq)) {
            (Resume::Done, Some(_)) => true,
            (Resume::Failed, Some(l)) => !l.failed,
            _ => false,
        }
    }

    /// Start one job in `slot`; gives the job back when resources are short.
    fn start(&mut self, mut job: Job, slot: usize) -> Result<()> {
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
        let tag = self.extras.tag_template.as_ref().map(|t| t.raw_text(&view));
        let mode = self.opts.output.mode;
        let (seq, slot_s) = (
            OsString::from(job.seq.to_string()),
            OsString::from(slot.to_string()),
        );
        let mut env = Vec::new();
        let mut worker = None;
        if let Some(w) = self.workers.as_mut() {
            let w = w.get(slot);
            w.jobs += 1;
            worker = Some(w.id);
            env.extend(w.exported.iter().cloned());
            env.push(("FORKPOOL_WORKER".into(), w.id.to_string().into()));
        }
        env.extend([
            ("FORKPOOL_SEQ".into(), seq.clone()),
            ("FORKPOOL_SLOT".into(), slot_s.clone()),
            ("PARALLEL_SEQ".into(), seq),
            ("PARALLEL_JOBSLOT".into(), slot_s),
        ]);
        let spec = SpawnSpec {
            command,
            capture: mode != OutputMode::Ungroup,
            env,
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
        job.attempts += 1;
        let start = Instant::now();
        let start_wall = SystemTime::now();
        self.last_start = Some(start);
        // The job's state from now on; a job that cannot start completes from it too.
        let r = Running {
            job,
            pid: 0,
            fds: [None, None],
            exit: None,
            output: JobOutput::default(),
            tag,
            header,
            ladder: None,
            line,
            start,
            start_wall,
            deadline: None,
            timed_out: false,
            worker,
        };
        // The spawn overlaps with others on the spawner threads; `spawned` takes it from here.
        self.spawner.submit(slot as u64, spec);
        self.running += 1;
        self.slots[slot - 1] = Some(r);
        Ok(())
    }

    /// Take every finished spawn from the spawner threads.
    fn collect_spawns(&mut self) -> Result<()> {
        if self.spawner.pending() == 0 {
            return Ok(());
        }
        let mut done = std::mem::take(&mut self.spawn_results);
        self.spawner.take_done(&mut done);
        let mut result = Ok(());
        for d in done.drain(..) {
            let slot = d.token as usize;
            let r = self.spawned(slot, d.result, d.reaped);
            if result.is_ok() {
                result = r;
            }
        }
        self.spawn_results = done;
        result
    }

    /// Wait for every spawn in flight, and take the results.
    fn settle_spawns(&mut self) -> Result<()> {
        while self.spawner.pending() > 0 {
            let mut fds = [PollFd::new(self.spawner.notify_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(100u16));
            self.collect_spawns()?;
        }
        Ok(())
    }

    /// A job's spawn ended: watch the started job, or fail it, or try again later.
    fn spawned(
        &mut self,
        slot: usize,
        result: std::result::Result<crate::exec::Spawned, SpawnError>,
        reaped: Option<Exit>,
    ) -> Result<()> {
        let mut r = self.slots[slot - 1].take().expect("a spawning job's slot");
        let spawned = match result {
            Ok(s) => s,
            Err(SpawnError::Transient(e)) => {
                self.running -= 1;
                if self.running == 0 && self.worker_pids.is_empty() {
                    return Err(Error::new(format!("cannot start any job: {}", crate::error::io_reason(&e)))
                        .with_hint("lower -j, or raise the process and open-file limits (ulimit -u, ulimit -n)"));
                }
                // Out of processes or descriptors: try again when a job ends (or soon).
                r.job.attempts -= 1;
                if let Some(w) = self.workers.as_mut() {
                    w.get(slot).jobs -= 1;
                }
                self.blocked = Some(Instant::now());
                self.free.push(Reverse(slot));
                if self.stop.is_none() {
                    self.retry.push_front(r.job);
                }
                return Ok(());
            }
            Err(SpawnError::Failed(msg)) => {
                self.running -= 1;
                crate::diag::warn(&format!("job {} cannot start: {msg}", r.job.seq));
                r.exit = Some(Exit::Code(127));
                if let Some(p) = self.extras.progress.as_mut() {
                    p.started();
                }
                let completed = self.complete(r, slot);
                self.slot_idle(slot);
                if let Err(e) = completed
                    && let Some(e) = self.write_failed(e)
                {
                    return Err(e);
                }
                return Ok(());
            }
        };
        let start = r.start;
        if let Err(e) = self
            .collector
            .started(r.job.seq, &mut r.header, r.tag.as_deref())
            && let Some(e) = self.write_failed(e)
        {
            return Err(e);
        }
        r.fds = [spawned.stdout, spawned.stderr];
        for (i, fd) in r.fds.iter_mut().enumerate() {
            if let Some(f) = fd {
                set_nonblocking(f);
                self.reactor
                    .add(f.as_fd(), token(slot, i, false))
                    .map_err(|e| Error::new(format!("cannot watch a job's output: {e}")))?;
            }
        }
        // A stop requested while the spawn was in flight already set the ladder.
        r.pid = spawned.pid;
        r.deadline = match self.opts.timeout {
            None => None,
            Some(Timeout::Fixed(d)) => Some(start + d),
            Some(Timeout::Percent(p)) => {
                self.median_runtime().map(|m| start + m.mul_f64(p / 100.0))
            }
        };
        self.pids.insert(spawned.pid, slot);
        if let Some(p) = self.extras.progress.as_mut() {
            p.started();
        }
        self.slots[slot - 1] = Some(r);
        if let Some(exit) = reaped {
            // Reaped before its spawn result came back.
            self.exited(spawned.pid, exit);
        }
        Ok(())
    }

    /// One read from a job's pipe; true when it read data (more may be waiting).
    fn read_pipe(&mut self, token: u64) -> std::result::Result<bool, WriteError> {
        let slot = (token >> 2) as usize;
        if token & 2 != 0 {
            return self.read_worker_pipe(slot, token as usize & 1);
        }
        let stream = if token & 1 == 0 {
            Stream::Out
        } else {
            Stream::Err
        };
        let Some(r) = self.slots[slot - 1].as_mut() else {
            return Ok(false);
        };
        let Some(fd) = r.fds[token as usize & 1].as_ref() else {
            return Ok(false);
        };
        match nix::unistd::read(fd, &mut self.read_buf) {
            Ok(0) | Err(Errno::EIO) => {
                let fd = r.fds[token as usize & 1].take().expect("checked above");
                self.reactor.remove(fd.as_fd());
                self.maybe_finish(slot).map(|()| false)
            }
            Ok(n) => self
                .collector
                .append(
                    r.job.seq,
                    &mut r.output,
                    &mut r.header,
                    stream,
                    &self.read_buf[..n],
                    r.tag.as_deref(),
                )
                .map(|()| true),
            Err(_) => Ok(false),
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
            if let Some(slot) = self.worker_pids.remove(&pid) {
                self.worker_exited(slot, exit);
            } else {
                // Perhaps a job whose spawn result is not taken yet; else an orphan.
                self.spawner.hold_exit(pid, exit);
            }
            return;
        };
        let r = self.slots[slot - 1].as_mut().expect("a running job's slot");
        r.exit = Some(exit);
        let drained = if r.fds.iter().any(Option::is_some) && !group_alive(pid) {
            self.drain(slot)
        } else {
            Ok(())
        };
        if let Err(e) = drained.and_then(|()| self.maybe_finish(slot))
            && let Some(e) = self.write_failed(e)
        {
            crate::diag::error(&e.to_string(), e.hint());
        }
    }

    /// Take what a job's pipes hold now, then stop waiting for their end: whatever still holds
    /// them is outside the job's process group.
    fn drain(&mut self, slot: usize) -> std::result::Result<(), WriteError> {
        for i in 0..2 {
            while self.read_pipe(token(slot, i, false))? {}
            if let Some(r) = self.slots[slot - 1].as_mut()
                && let Some(fd) = r.fds[i].take()
            {
                self.reactor.remove(fd.as_fd());
            }
        }
        Ok(())
    }

    /// A job is done when its process has exited and both pipes are closed.
    fn maybe_finish(&mut self, slot: usize) -> std::result::Result<(), WriteError> {
        let done = matches!(&self.slots[slot - 1], Some(r) if r.exit.is_some() && r.fds.iter().all(Option::is_none));
        if !done {
            return Ok(());
        }
        let r = self.slots[slot - 1].take().expect("checked above");
        self.running -= 1;
        self.blocked = None;
        if group_alive(r.pid) {
            self.lingering.push(r.pid);
        }
        let completed = self.complete(r, slot);
        self.slot_idle(slot);
        completed
    }

    /// A slot's job ended: the slot takes another job, or its worker is recycled.
    fn slot_idle(&mut self, slot: usize) {
        let Some(workers) = self.workers.as_mut() else {
            self.free.push(Reverse(slot));
            return;
        };
        let w = workers.get(slot);
        if w.state != State::Ready {
            return;
        }
        let used_up = self
            .opts
            .workers
            .as_ref()
            .and_then(|o| o.max_jobs)
            .is_some_and(|max| w.jobs >= max);
        if used_up || self.stop.is_some() {
            self.begin_teardown(slot);
        } else {
            self.free.push(Reverse(slot));
        }
    }

    /// A job's attempt ended: retry it, or log, report and print it.
    fn complete(&mut self, r: Running, slot: usize) -> std::result::Result<(), WriteError> {
        let exit = r.exit.expect("a completed job has exited");
        let runtime = r.start.elapsed();
        if !r.timed_out && exit.success() {
            if self.runtimes.len() >= 1001 {
                self.runtimes.pop_front();
            }
            self.runtimes.push_back(runtime);
        }
        if crate::job::failed(exit, r.timed_out)
            && r.job.attempts < self.opts.retries
            && self.stop.is_none()
        {
            self.collector.discard(r.output);
            self.retry.push_back(r.job);
            if let Some(p) = self.extras.progress.as_mut() {
                p.retrying();
            }
            return Ok(());
        }
        let record = JobRecord {
            seq: r.job.seq,
            slot,
            host: None,
            worker: r.worker,
            args: r.job.records.iter().flatten().cloned().collect(),
            command: r.line.unwrap_or_default(),
            exit,
            timed_out: r.timed_out,
            stopped: r.ladder.is_some(),
            attempts: r.job.attempts,
            start: r.start_wall,
            runtime,
            stdout_len: r.output.out.size(),
        };
        self.summary.record(&record);
        if let Some(p) = self.extras.progress.as_mut() {
            p.finished(record.failed());
        }
        if let Some(log) = self.extras.joblog.as_mut() {
            log.write(&record)?;
        }
        if let Some(dir) = &self.opts.results {
            let out = self.collector.contents(&r.output.out)?;
            let err = self.collector.contents(&r.output.err)?;
            crate::output::results::save(dir, &r.job.records, r.job.seq, &out, &err)?;
        }
        self.check_halt(&record);
        let record = self.opts.json.then_some(record);
        self.collector.finish(Finished {
            seq: r.job.seq,
            header: r.header,
            tag: r.tag,
            output: r.output,
            record,
        })
    }

    /// `--halt`: stop when the condition is met.
    fn check_halt(&mut self, record: &JobRecord) {
        let Some(h) = self.opts.halt else { return };
        if self.halt_status.is_some() {
            return;
        }
        let s = &self.summary;
        let (count, relevant) = match h.why {
            HaltWhy::Fail => (s.failed, record.failed()),
            HaltWhy::Success => (s.done - s.failed, !record.failed()),
            HaltWhy::Done => (s.done, true),
        };
        let hit = relevant
            && match h.threshold {
                Threshold::Count(n) => count >= n,
                // Of all the jobs, as GNU parallel; when they were not counted (stdin), of the
                // jobs done so far, once there are a few.
                Threshold::Percent(p) => match self.extras.total {
                    Some(total) => count as f64 * 100.0 >= p * total.max(1) as f64,
                    None => count as f64 * 100.0 >= p * s.done.max(1) as f64 && s.done >= 3,
                },
            };
        if !hit {
            return;
        }
        let status = match (h.why, h.threshold) {
            (HaltWhy::Fail, Threshold::Count(1)) => match record.exit {
                Exit::Code(c) => c,
                Exit::Signal(sig) => 128 + sig,
            },
            (HaltWhy::Success, _) => 0,
            _ => self.failure_status(),
        };
        self.halt_status = Some(status);
        let what = match h.why {
            HaltWhy::Fail => "failed",
            HaltWhy::Success => "succeeded",
            HaltWhy::Done => "finished",
        };
        crate::diag::warn(&format!(
            "halting: job {} {what}: {}",
            record.seq,
            String::from_utf8_lossy(&record.command)
        ));
        match h.when {
            HaltWhen::Now => self.request_stop(Stop::Halt(HaltWhen::Now)),
            HaltWhen::Soon => {
                if self.stop.is_none() {
                    self.stop = Some(Stop::Halt(HaltWhen::Soon));
                    self.retry.clear();
                    self.waiting.clear();
                }
            }
        }
    }

    /// The run's exit status: the halting job's, or what the failures add up to.
    pub fn exit_status(&self) -> i32 {
        self.halt_status.unwrap_or_else(|| self.failure_status())
    }

    /// GNU parallel: the number of failed jobs (101 for more than 100), or with `--halt
    /// fail=N%` the percentage of the jobs that failed, rounded up.
    fn failure_status(&self) -> i32 {
        let s = &self.summary;
        match self.opts.halt {
            Some(h) if h.why == HaltWhy::Fail && matches!(h.threshold, Threshold::Percent(_)) => {
                let base = self.extras.total.unwrap_or(s.done).max(1);
                (s.failed * 100).div_ceil(base).min(100) as i32
            }
            _ => s.exit_code(),
        }
    }

    fn median_runtime(&self) -> Option<Duration> {
        if self.runtimes.len() < 3 {
            return None;
        }
        let mut v: Vec<Duration> = self.runtimes.iter().copied().collect();
        v.sort();
        Some(v[v.len() / 2])
    }

    fn handle_signals(&mut self) -> Result<()> {
        let s = self.reactor.take_signals();
        if s.suspend > 0 {
            // Ctrl-Z reaches only the terminal's foreground group, and every job has its own:
            // stop them, then stop forkpool as the default action would. A job whose spawn is
            // in flight has no pid yet and would run on unstopped: let the spawns land first.
            self.settle_spawns()?;
            self.kill_all(Signal::SIGTSTP);
            let _ = nix::sys::signal::raise(Signal::SIGSTOP);
        }
        if s.resume > 0 || s.suspend > 0 {
            // Here after `fg`/`bg` (SIGCONT) resumed forkpool.
            self.kill_all(Signal::SIGCONT);
        }
        if s.interrupt + s.terminate == 0 && s.hangup == 0 {
            return Ok(());
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
                // A second interrupt: no more patience, for jobs still being spawned too.
                self.settle_spawns()?;
                self.kill_all(Signal::SIGKILL);
            } else {
                self.request_stop(Stop::Signal(sig));
            }
        }
        Ok(())
    }

    /// Start no more jobs and stop the running ones with the ladder.
    fn request_stop(&mut self, why: Stop) {
        if matches!(self.stop, Some(Stop::Signal(_) | Stop::BrokenPipe)) {
            return;
        }
        self.stop = Some(why);
        self.retry.clear();
        self.waiting.clear();
        let now = Instant::now();
        for r in self.slots.iter_mut().flatten() {
            if r.ladder.is_none() {
                r.ladder = Some((0, now));
            }
        }
        self.run_ladders();
    }

    fn kill_all(&mut self, sig: Signal) {
        for r in self.slots.iter().flatten().filter(|r| r.pid != 0) {
            let _ = killpg(Pid::from_raw(r.pid), sig);
        }
        for &pid in self.worker_pids.keys() {
            let _ = killpg(Pid::from_raw(pid), sig);
        }
    }

    /// Send each due step of the termination ladder.
    fn run_ladders(&mut self) {
        let now = Instant::now();
        for r in self.slots.iter_mut().flatten() {
            if r.deadline.is_some_and(|d| d <= now) && r.ladder.is_none() {
                // A job whose own process already ended (with its status) but whose group still
                // holds its output did not time out: only the stragglers are stopped.
                if r.exit.is_none() {
                    r.timed_out = true;
                    let cmd = r.line.as_deref().unwrap_or_default();
                    crate::diag::warn(&format!(
                        "job {} timed out after {}, stopping it: {}",
                        r.job.seq,
                        seconds(r.deadline.expect("checked above") - r.start),
                        String::from_utf8_lossy(cmd).replace('\n', " "),
                    ));
                }
                r.ladder = Some((0, now));
            }
            // pid 0: the spawn is in flight; the ladder starts when it is done.
            if r.pid != 0 {
                step_ladder(&mut r.ladder, r.pid, &self.opts.ladder, now);
            }
        }
        if let Some(workers) = self.workers.as_mut() {
            for p in workers.list.iter_mut().filter_map(|w| w.proc.as_mut()) {
                if p.deadline.is_some_and(|d| d <= now) && p.ladder.is_none() && p.exit.is_none() {
                    p.timed_out = true;
                    p.ladder = Some((0, now));
                }
                step_ladder(&mut p.ladder, p.pid, &self.opts.ladder, now);
            }
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |due: Instant| next = Some(next.map_or(due, |n: Instant| n.min(due)));
        for r in self.slots.iter().flatten() {
            if let Some((step, due)) = r.ladder {
                if step != usize::MAX {
                    consider(due);
                }
            } else if let Some(d) = r.deadline {
                consider(d);
            }
        }
        if let Some(workers) = &self.workers {
            for p in workers.list.iter().filter_map(|w| w.proc.as_ref()) {
                if let Some((step, due)) = p.ladder {
                    if step != usize::MAX {
                        consider(due);
                    }
                } else if let Some(d) = p.deadline.filter(|_| p.exit.is_none()) {
                    consider(d);
                }
            }
        }
        if (!self.retry.is_empty() || self.wake_soon) && self.stop.is_none() {
            consider(now + RESOURCE_WAIT);
        }
        if let (Some(delay), Some(last), None) = (self.opts.delay, self.last_start, self.stop) {
            consider(last + delay);
        }
        next.map(|n| n.saturating_duration_since(now))
    }

    /// At exit: no job, grandchild or zombie survives forkpool.
    fn cleanup(&mut self) {
        // Spawns in flight finish first; the sweep below catches what they started.
        self.spawner.shutdown();
        let groups = self
            .slots
            .iter()
            .flatten()
            .map(|r| r.pid)
            .filter(|&p| p != 0);
        let worker_groups = self.worker_pids.keys().copied();
        for pgid in groups
            .chain(worker_groups)
            .chain(self.lingering.iter().copied())
        {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
        // Descendants that left their job's group were re-parented to forkpool (the subreaper);
        // more may arrive while their parents die, so sweep until no child is left. Killing
        // first means the blocking wait never waits on a living process for long.
        loop {
            let children = crate::exec::children();
            if children.is_empty() {
                break;
            }
            for pid in children {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if waitpid(Pid::from_raw(-1), None).is_err() {
                break;
            }
        }
        while matches!(waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)), Ok(s) if s != WaitStatus::StillAlive)
        {
        }
    }
}

/// How long to wait before spawning again after running out of processes or descriptors.
const RESOURCE_WAIT: Duration = Duration::from_millis(50);

/// The epoll token of the spawner's results; pipe tokens are far below it.
const SPAWNED_TOKEN: u64 = u64::MAX - 1;

/// The epoll token of a slot's stdout (0) or stderr (1) pipe, of its job or of its worker's
/// init or teardown.
fn token(slot: usize, stream: usize, worker: bool) -> u64 {
    (slot as u64) << 2 | u64::from(worker) << 1 | stream as u64
}

/// Send each due step of the termination ladder to the process group `pgid`.
fn step_ladder(ladder: &mut Option<(usize, Instant)>, pgid: i32, steps: &Ladder, now: Instant) {
    while let Some((step, due)) = *ladder {
        if due > now {
            break;
        }
        if step >= steps.0.len() || !group_alive(pgid) {
            *ladder = Some((usize::MAX, far_future()));
            break;
        }
        let (sig, wait) = steps.0[step];
        let _ = killpg(Pid::from_raw(pgid), sig);
        // A stopped process cannot act on SIGTERM.
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGCONT);
        *ladder = Some((step + 1, now + wait));
    }
}

/// A duration as people write it: "1s", "2.5s".
fn seconds(d: Duration) -> String {
    let s = format!("{:.3}", d.as_secs_f64());
    format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
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
    // A fresh pipe end has no other status flag to keep (F_SETFL ignores the access mode).
    let _ = fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
}
