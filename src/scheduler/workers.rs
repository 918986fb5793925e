//! Per-worker life cycle: `--init`, `--teardown`, `--worker-max-jobs`.
//!
//! A worker is one incarnation of a job slot. Its init command runs before the slot's first job;
//! the `KEY=VALUE` lines it writes to `$FORKPOOL_ENV` become part of the environment of every
//! job it runs; after `--worker-max-jobs` jobs, or when no work is left, or on interrupt, its
//! teardown runs and the slot is empty again. A new worker (a new `FORKPOOL_WORKER` id) starts
//! in an empty slot only when a waiting job needs one, so `-j8` over two jobs runs two inits.
//!
//! A slot whose init fails `INIT_ATTEMPTS` times in a row is retired: it runs nothing more and
//! its waiting jobs go to other slots. Jobs are handed to a worker only once its init succeeded,
//! so no job is lost or run twice. When every slot is retired the run stops with an error.
//!
//! Init and teardown run through the same executor as the jobs, in the slot they serve, so the
//! life cycle is the same wherever the executor starts processes; only reading `$FORKPOOL_ENV`
//! back is the executor's business on a remote host.

use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use std::cmp::Reverse;
use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Runner, Stop, token};
use crate::error::{Error, Result};
use crate::exec::{Executor, SpawnError, SpawnSpec};
use crate::job::Command;
use crate::job::Exit;
use crate::output::WriteError;

/// Init attempts in a row before a slot is retired.
pub const INIT_ATTEMPTS: u32 = 3;

/// Output of an init or teardown kept in memory before it is copied to stderr.
const OUTPUT_CAP: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum State {
    /// No worker: one starts when a waiting job needs this slot.
    Empty,
    /// The init command is running.
    Init,
    /// Ready for jobs (the slot's running job, if any, is in the runner's `slots`).
    Ready,
    /// The teardown command is running; the slot is empty afterwards.
    Teardown,
    /// Init failed `INIT_ATTEMPTS` times in a row: the slot runs nothing more.
    Retired,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Init,
    Teardown,
}

impl Kind {
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Init => "--init",
            Kind::Teardown => "--teardown",
        }
    }
}

/// A running init or teardown command.
pub struct Proc {
    pub kind: Kind,
    pub pid: i32,
    pub fds: [Option<OwnedFd>; 2],
    pub exit: Option<Exit>,
    /// Its stdout and stderr, copied to forkpool's stderr when it ends (or when this fills up).
    pub output: Vec<u8>,
    /// The last line it printed, for the error message when every init fails.
    pub last_line: Vec<u8>,
    pub deadline: Option<Instant>,
    pub ladder: Option<(usize, Instant)>,
    pub timed_out: bool,
}

impl Proc {
    pub fn new(kind: Kind, pid: i32, fds: [Option<OwnedFd>; 2], deadline: Option<Instant>) -> Proc {
        Proc {
            kind,
            pid,
            fds,
            exit: None,
            output: Vec::new(),
            last_line: Vec::new(),
            deadline,
            ladder: None,
            timed_out: false,
        }
    }

    /// Keep `data`; returns what should go to stderr now because the buffer is full.
    pub fn append(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        self.output.extend_from_slice(data);
        if let Some(line) = data
            .split(|&b| b == b'\n')
            .rev()
            .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        {
            self.last_line = line.to_vec();
        }
        (self.output.len() > OUTPUT_CAP).then(|| std::mem::take(&mut self.output))
    }

    pub fn done(&self) -> bool {
        self.exit.is_some() && self.fds.iter().all(Option::is_none)
    }
}

pub struct Worker {
    pub state: State,
    /// The current incarnation's id (`FORKPOOL_WORKER`), 0 before the first.
    pub id: u64,
    /// Jobs started by this incarnation.
    pub jobs: u64,
    /// What init exported, for the jobs and the teardown.
    pub exported: Vec<(OsString, OsString)>,
    /// Init failures in a row.
    pub failures: u32,
    pub proc: Option<Proc>,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            state: State::Empty,
            id: 0,
            jobs: 0,
            exported: Vec::new(),
            failures: 0,
            proc: None,
        }
    }
}

/// Every slot's worker, and the private directory of their `$FORKPOOL_ENV` files.
pub struct Workers {
    /// Index = slot - 1. Change a worker's state only through `set_state`.
    pub list: Vec<Worker>,
    /// How many slots are in each state (Empty is not counted).
    counts: [usize; 5],
    dir: PathBuf,
    next_id: u64,
    /// The last failed init: its command's status and last line of output.
    pub last_failure: Option<String>,
}

impl Workers {
    /// Creates a private directory for the env files under `tmpdir`.
    pub fn new(tmpdir: &Path) -> std::io::Result<Workers> {
        let dir = private_dir(tmpdir)?;
        Ok(Workers {
            list: Vec::new(),
            counts: [0; 5],
            dir,
            next_id: 1,
            last_failure: None,
        })
    }

    pub fn get(&mut self, slot: usize) -> &mut Worker {
        if self.list.len() < slot {
            self.list.resize_with(slot, Worker::new);
        }
        &mut self.list[slot - 1]
    }

    /// A new incarnation in `slot`: a fresh id and an empty env file. Returns the id.
    pub fn begin(&mut self, slot: usize) -> std::io::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        std::fs::File::create(self.env_file(id))?;
        let w = self.get(slot);
        w.id = id;
        w.jobs = 0;
        w.exported.clear();
        Ok(id)
    }

    pub fn env_file(&self, id: u64) -> PathBuf {
        self.dir.join(format!("worker-{id}.env"))
    }

    /// The slot's worker is gone: forget its env file.
    pub fn end(&mut self, slot: usize) {
        let id = self.get(slot).id;
        let _ = std::fs::remove_file(self.env_file(id));
        self.get(slot).exported.clear();
        if self.get(slot).state != State::Retired {
            self.set_state(slot, State::Empty);
        }
    }

    /// The environment of an init or teardown in `slot`.
    pub fn proc_env(&mut self, slot: usize) -> Vec<(OsString, OsString)> {
        let id = self.get(slot).id;
        let file = self.env_file(id);
        let w = self.get(slot);
        let mut env = w.exported.clone();
        env.push(("FORKPOOL_SLOT".into(), slot.to_string().into()));
        env.push(("PARALLEL_JOBSLOT".into(), slot.to_string().into()));
        env.push(("FORKPOOL_WORKER".into(), id.to_string().into()));
        env.push(("FORKPOOL_ENV".into(), file.into_os_string()));
        env
    }

    /// Read what the slot's init exported; the error says what is wrong with the file.
    pub fn load_env(&mut self, slot: usize) -> std::result::Result<(), String> {
        let id = self.get(slot).id;
        let file = self.env_file(id);
        let text = std::fs::read(&file)
            .map_err(|e| format!("cannot read $FORKPOOL_ENV: {}", crate::error::io_reason(&e)))?;
        self.get(slot).exported = parse_env(&text)?;
        Ok(())
    }

    /// How many slots are in `state` (not counting Empty).
    pub fn count(&self, state: State) -> usize {
        self.counts[state as usize]
    }

    pub fn set_state(&mut self, slot: usize, state: State) {
        let old = std::mem::replace(&mut self.get(slot).state, state);
        if old != State::Empty {
            self.counts[old as usize] -= 1;
        }
        if state != State::Empty {
            self.counts[state as usize] += 1;
        }
    }

    /// The lowest slot with no worker.
    pub fn first_empty(&self) -> Option<usize> {
        self.list
            .iter()
            .position(|w| w.state == State::Empty)
            .map(|i| i + 1)
    }

    /// Any init or teardown still running.
    pub fn busy(&self) -> bool {
        self.list.iter().any(|w| w.proc.is_some())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new directory only this user can enter, under `parent`.
fn private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut n = 0u32;
    loop {
        let dir = parent.join(format!(
            "forkpool-workers-{}-{:x}",
            std::process::id(),
            stamp.wrapping_add(n)
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Parse `$FORKPOOL_ENV` as GitHub Actions parses `$GITHUB_ENV`: `KEY=VALUE` lines, and
/// `KEY<<DELIMITER` followed by value lines up to a line that is exactly `DELIMITER`.
pub fn parse_env(text: &[u8]) -> std::result::Result<Vec<(OsString, OsString)>, String> {
    let mut vars = Vec::new();
    let mut lines = text.split(|&b| b == b'\n').enumerate();
    // A final newline leaves one empty piece; it is not a line.
    let count = text.split(|&b| b == b'\n').count() - usize::from(text.ends_with(b"\n"));
    while let Some((i, line)) = lines.next() {
        if i >= count || line.is_empty() {
            continue;
        }
        let bad = |why: &str| {
            format!(
                "line {} of $FORKPOOL_ENV ({:?}) {why}",
                i + 1,
                String::from_utf8_lossy(line)
            )
        };
        let heredoc = find(line, b"<<").filter(|&h| find(line, b"=").is_none_or(|e| h < e));
        let (key, value) = if let Some(h) = heredoc {
            let delim = &line[h + 2..];
            if delim.is_empty() {
                return Err(bad("has an empty heredoc delimiter"));
            }
            let mut value: Vec<u8> = Vec::new();
            let mut closed = false;
            for (j, l) in lines.by_ref() {
                if j >= count {
                    break;
                }
                if l == delim {
                    closed = true;
                    break;
                }
                if !value.is_empty() || j > i + 1 {
                    value.push(b'\n');
                }
                value.extend_from_slice(l);
            }
            if !closed {
                return Err(bad("starts a value that never ends with its delimiter"));
            }
            (&line[..h], value)
        } else if let Some(e) = find(line, b"=") {
            (&line[..e], line[e + 1..].to_vec())
        } else {
            return Err(bad("is not KEY=VALUE or KEY<<DELIMITER"));
        };
        if key.is_empty() || key.contains(&0) || value.contains(&0) {
            return Err(bad("has an empty name or a NUL byte"));
        }
        vars.push((OsStr::from_bytes(key).into(), OsString::from_vec(value)));
    }
    Ok(vars)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The runner's side of the life cycle: starting, watching and ending inits and teardowns.
impl<E: Executor + 'static> Runner<'_, E> {
    pub(super) fn start_jobs_on_workers(&mut self) -> Result<()> {
        // Set again below when an init must be retried without an event to wake the loop.
        self.wake_soon = false;
        let cap = self.capacity();
        // Take as many jobs as could run at once, so enough workers start for them.
        while self.waiting.len() + self.running < cap {
            match self.next_job()? {
                Some(j) => self.waiting.push_back(j),
                None => break,
            }
        }
        // Hand them to ready workers, lowest slot first.
        while !self.waiting.is_empty() && !self.delayed() {
            let Some(Reverse(slot)) = self.free.pop() else {
                break;
            };
            // A worker torn down while idle (no work was left) may still be listed.
            let ready = self
                .workers
                .as_mut()
                .is_some_and(|w| w.get(slot).state == State::Ready);
            if !ready || self.slots.get(slot - 1).is_some_and(Option::is_some) {
                continue;
            }
            let job = self.waiting.pop_front().expect("checked above");
            self.start(job, slot)?;
        }
        let Some(workers) = self.workers.as_ref() else {
            return Ok(());
        };
        // Start a worker for each waiting job that no starting or ready worker will take.
        let mut need = self
            .waiting
            .len()
            .saturating_sub(workers.count(State::Init) + self.free.len());
        while need > 0 {
            let workers = self.workers.as_ref().expect("checked above");
            let slot = match workers.first_empty() {
                Some(s) => s,
                None if workers.list.len() < cap => workers.list.len() + 1,
                None => break,
            };
            if !self.start_worker(slot, Kind::Init) {
                break;
            }
            need -= 1;
        }
        let workers = self.workers.as_ref().expect("checked above");
        if !self.waiting.is_empty() && workers.count(State::Retired) >= cap {
            let last = workers.last_failure.clone().unwrap_or_default();
            return Err(Error::new(format!(
                "--init failed in every worker slot ({INIT_ATTEMPTS} attempts in each of {cap}); last: {last}"
            ))
            .with_hint("run the --init command by hand to see why it fails, or raise --init-timeout"));
        }
        Ok(())
    }

    /// Whether no init or teardown runs and no worker is left to tear down.
    pub(super) fn workers_quiet(&self) -> bool {
        self.workers
            .as_ref()
            .is_none_or(|w| !w.busy() && w.count(State::Ready) == 0)
    }

    /// Stop inits that are no longer needed and tear down idle workers when no work is left.
    pub(super) fn tend_workers(&mut self) {
        let stopping = self.stop.is_some();
        if !stopping && !self.no_work_left() {
            return;
        }
        let now = Instant::now();
        let interrupted = matches!(self.stop, Some(Stop::Signal(_)));
        let limit = self
            .opts
            .workers
            .as_ref()
            .and_then(|o| o.timeout)
            .unwrap_or(INTERRUPT_TEARDOWN);
        let workers = self.workers.as_mut().expect("workers are on");
        let mut idle = Vec::new();
        for (i, w) in workers.list.iter_mut().enumerate() {
            if let Some(p) = w.proc.as_mut() {
                if stopping && p.kind == Kind::Init && p.ladder.is_none() {
                    p.ladder = Some((0, now));
                }
                if interrupted && p.kind == Kind::Teardown && p.deadline.is_none() {
                    p.deadline = Some(now + limit);
                }
            } else if w.state == State::Ready && self.slots.get(i).is_none_or(Option::is_none) {
                idle.push(i + 1);
            }
        }
        for slot in idle {
            self.begin_teardown(slot);
        }
    }

    /// The worker in `slot` is done: run its teardown, or end it now when there is none.
    pub(super) fn begin_teardown(&mut self, slot: usize) {
        let has_teardown = self
            .opts
            .workers
            .as_ref()
            .is_some_and(|o| o.teardown.is_some());
        if !has_teardown || !self.start_worker(slot, Kind::Teardown) {
            self.workers.as_mut().expect("workers are on").end(slot);
        }
    }

    /// Start the slot's init or teardown; false when it could not start (already handled).
    fn start_worker(&mut self, slot: usize, kind: Kind) -> bool {
        let o = self.opts.workers.as_ref().expect("workers are on");
        let workers = self.workers.as_mut().expect("workers are on");
        if self.slots.len() < slot {
            self.slots.resize_with(slot, || None);
        }
        let command = match kind {
            Kind::Init => {
                if let Err(e) = workers.begin(slot) {
                    let msg = format!(
                        "cannot create $FORKPOOL_ENV: {}",
                        crate::error::io_reason(&e)
                    );
                    self.init_failed(slot, msg);
                    return false;
                }
                match &o.init {
                    Some(c) => c.clone(),
                    None => {
                        // No init command: the worker is ready at once.
                        workers.set_state(slot, State::Ready);
                        self.free.push(Reverse(slot));
                        return true;
                    }
                }
            }
            Kind::Teardown => o.teardown.clone().expect("checked by the caller"),
        };
        let spec = SpawnSpec {
            command: Command::Shell(command),
            capture: true,
            env: workers.proc_env(slot),
        };
        let spawned = match self.spawner.spawn_now(&spec) {
            Ok(s) => s,
            // Out of processes or descriptors: wait for some to be freed, unless nothing of
            // ours runs to free them; then it counts as a failed attempt, so it cannot loop.
            Err(SpawnError::Transient(e)) if kind == Kind::Init => {
                if self.running == 0 && self.worker_pids.is_empty() {
                    let why = format!("cannot start: {}", crate::error::io_reason(&e));
                    self.init_failed(slot, why);
                } else {
                    workers.end(slot);
                    self.wake_soon = true;
                }
                return false;
            }
            Err(SpawnError::Transient(e)) => {
                crate::diag::warn(&format!(
                    "--teardown of worker {} (slot {slot}) cannot start: {}",
                    workers.get(slot).id,
                    crate::error::io_reason(&e)
                ));
                return false;
            }
            Err(SpawnError::Failed(msg)) => {
                if kind == Kind::Init {
                    self.init_failed(slot, format!("cannot start: {msg}"));
                } else {
                    crate::diag::warn(&format!("--teardown cannot start: {msg}"));
                }
                return false;
            }
        };
        let mut fds = [spawned.stdout, spawned.stderr];
        for (i, fd) in fds.iter_mut().enumerate() {
            if let Some(f) = fd {
                super::set_nonblocking(f);
                if self.reactor.add(f.as_fd(), token(slot, i, true)).is_err() {
                    // Unwatched, the pipe would never end; drop it (the command may get SIGPIPE).
                    *fd = None;
                }
            }
        }
        let interrupted = matches!(self.stop, Some(Stop::Signal(_)));
        let limit = match (o.timeout, interrupted && kind == Kind::Teardown) {
            (Some(t), _) => Some(t),
            (None, true) => Some(INTERRUPT_TEARDOWN),
            (None, false) => None,
        };
        let deadline = limit.map(|l| Instant::now() + l);
        self.worker_pids.insert(spawned.pid, slot);
        let state = match kind {
            Kind::Init => State::Init,
            Kind::Teardown => State::Teardown,
        };
        workers.set_state(slot, state);
        workers.get(slot).proc = Some(Proc::new(kind, spawned.pid, fds, deadline));
        true
    }

    /// One read from an init's or teardown's pipe; true when it read data.
    pub(super) fn read_worker_pipe(
        &mut self,
        slot: usize,
        stream: usize,
    ) -> std::result::Result<bool, WriteError> {
        let Some(p) = self
            .workers
            .as_mut()
            .and_then(|w| w.get(slot).proc.as_mut())
        else {
            return Ok(false);
        };
        let Some(fd) = p.fds[stream].as_ref() else {
            return Ok(false);
        };
        match nix::unistd::read(fd, &mut self.read_buf) {
            Ok(0) | Err(Errno::EIO) => {
                let fd = p.fds[stream].take().expect("checked above");
                self.reactor.remove(fd.as_fd());
                if p.done() {
                    self.worker_done(slot);
                }
                Ok(false)
            }
            Ok(n) => {
                if let Some(full) = p.append(&self.read_buf[..n]) {
                    let _ = self.collector.note(&full);
                }
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    pub(super) fn worker_exited(&mut self, slot: usize, exit: Exit) {
        let Some(p) = self
            .workers
            .as_mut()
            .and_then(|w| w.get(slot).proc.as_mut())
        else {
            return;
        };
        p.exit = Some(exit);
        let pid = p.pid;
        // Output still held by a process outside the group must not keep the worker waiting.
        if !super::group_alive(pid) {
            for i in 0..2 {
                // Reading to EOF can finish this process, and the slot may at once start the
                // next one (a teardown): never read or close the newcomer's pipes.
                while self.slot_proc(slot, pid).is_some()
                    && let Ok(true) = self.read_worker_pipe(slot, i)
                {}
                if let Some(p) = self.slot_proc(slot, pid)
                    && let Some(fd) = p.fds[i].take()
                {
                    self.reactor.remove(fd.as_fd());
                }
            }
        }
        if self.slot_proc(slot, pid).is_some_and(|p| p.done()) {
            self.worker_done(slot);
        }
    }

    /// The init or teardown running in `slot`, if it is still the process `pid`.
    fn slot_proc(&mut self, slot: usize, pid: i32) -> Option<&mut Proc> {
        self.workers
            .as_mut()
            .and_then(|w| w.get(slot).proc.as_mut())
            .filter(|p| p.pid == pid)
    }

    /// An init or teardown ended: its output goes to stderr; the worker moves on.
    fn worker_done(&mut self, slot: usize) {
        let workers = self.workers.as_mut().expect("workers are on");
        let Some(p) = workers.get(slot).proc.take() else {
            return;
        };
        if super::group_alive(p.pid) {
            self.lingering.push(p.pid);
        }
        if !p.output.is_empty() {
            // Job output that came first goes out first.
            let _ = self.collector.flush();
            let mut out = p.output;
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            let _ = self.collector.note(&out);
        }
        let exit = p.exit.expect("a done process has exited");
        let failure = if p.timed_out {
            let limit = self.opts.workers.as_ref().and_then(|o| o.timeout);
            Some(match limit {
                Some(t) => format!("timed out after {t:?} (--init-timeout)"),
                None => "timed out".to_string(),
            })
        } else {
            match exit {
                Exit::Code(0) => None,
                Exit::Code(c) => Some(format!("exited with status {c}")),
                Exit::Signal(s) => Some(format!("was killed by {}", crate::job::signal_name(s))),
            }
        };
        match (p.kind, failure) {
            (Kind::Init, None) => {
                if let Err(msg) = workers.load_env(slot) {
                    self.init_failed(slot, msg);
                    return;
                }
                let w = workers.get(slot);
                w.failures = 0;
                workers.set_state(slot, State::Ready);
                if self.stop.is_some() {
                    self.begin_teardown(slot);
                } else {
                    self.free.push(Reverse(slot));
                }
            }
            (Kind::Init, Some(why)) => {
                let last = String::from_utf8_lossy(&p.last_line).trim().to_string();
                let why = if last.is_empty() {
                    why
                } else {
                    format!("{why}: {last}")
                };
                self.init_failed(slot, why);
            }
            (Kind::Teardown, failure) => {
                if let Some(why) = failure {
                    crate::diag::warn(&format!(
                        "--teardown of worker {} (slot {slot}) {why}",
                        workers.get(slot).id
                    ));
                }
                workers.end(slot);
            }
        }
    }

    /// The slot's init failed: try again later, or retire the slot.
    fn init_failed(&mut self, slot: usize, why: String) {
        let o = self.opts.workers.as_ref().expect("workers are on");
        let workers = self.workers.as_mut().expect("workers are on");
        let cmd = String::from_utf8_lossy(o.init.as_deref().unwrap_or_default()).into_owned();
        let id = workers.get(slot).id;
        workers.end(slot);
        if self.stop.is_some() {
            return;
        }
        // An init that could not even start leaves nothing to wait for: come back soon to retry
        // (or to see that every slot is retired).
        self.wake_soon = true;
        let w = workers.get(slot);
        w.failures += 1;
        let failures = w.failures;
        workers.last_failure = Some(format!("`{cmd}` {why}"));
        if failures >= INIT_ATTEMPTS {
            workers.set_state(slot, State::Retired);
            crate::diag::warn(&format!(
                "--init of worker {id} (slot {slot}) {why}; slot {slot} is retired after {failures} failed attempts, its jobs go to other slots"
            ));
        } else {
            crate::diag::warn(&format!(
                "--init of worker {id} (slot {slot}) {why}; trying again (attempt {} of {INIT_ATTEMPTS})",
                failures + 1
            ));
        }
    }
}

/// How long teardowns may take after an interrupt when --init-timeout is not given.
const INTERRUPT_TEARDOWN: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &[u8]) -> Vec<(String, String)> {
        parse_env(text)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect()
    }

    #[test]
    fn key_value_lines() {
        assert_eq!(
            pairs(b"A=1\n\nB=x=y\nC=\n"),
            [("A", "1"), ("B", "x=y"), ("C", "")].map(|(k, v)| (k.into(), v.into()))
        );
    }

    #[test]
    fn heredoc_values_keep_their_lines() {
        assert_eq!(
            pairs(b"M<<EOF\none\n\ntwo\nEOF\nN=2"),
            [("M", "one\n\ntwo"), ("N", "2")].map(|(k, v)| (k.into(), v.into()))
        );
        assert_eq!(pairs(b"E<<X\nX\n"), [("E".into(), "".into())]);
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(parse_env(b"JUSTANAME\n").unwrap_err().contains("line 1"));
        assert!(parse_env(b"A=1\n=2\n").unwrap_err().contains("line 2"));
        assert!(parse_env(b"M<<EOF\nno end\n").is_err());
    }
}
