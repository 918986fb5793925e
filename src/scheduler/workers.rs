//! Per-worker life cycle: `--init`, `--teardown`, `--worker-max-jobs`.
//!
//! A worker is one incarnation of a job slot. Its init command runs before the slot's first job;
//! the `KEY=VALUE` lines it writes to `$FORKPOOL_ENV` become part of the environment of every
//! job it runs; after `--worker-max-jobs` jobs, or when no work is left, or on interrupt, its
//! teardown runs and the slot is empty again. A new worker (a new `FORKPOOL_WORKER` id) starts
//! in an empty slot only when a waiting job needs one, so `-j8` over two jobs runs two inits.
//!
//! A slot whose init fails `INIT_ATTEMPTS` times in a row is retired: it runs nothing more and
//! its waiting jobs go to other slots. A failed init is followed by the teardown, which must
//! therefore tolerate a half-done init. Jobs are handed to a worker only once its init
//! succeeded, so no job is lost or run twice. When every slot is retired the run stops with an
//! error.
//!
//! `Workers` is the state machine alone: it is told what happened (a job ended in a slot, an
//! init or teardown ended or could not start) and answers with `Action`s that the scheduler
//! carries out, running init and teardown through the same executor as the jobs.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, io_reason};
use crate::exec::SpawnError;
use crate::job::Exit;
use crate::options::WorkerOptions;

/// Init attempts in a row before a slot is retired.
pub const INIT_ATTEMPTS: u32 = 3;

/// Output of an init or teardown kept in memory before it is copied to stderr.
const OUTPUT_CAP: usize = 64 * 1024;

/// How long teardowns may take after an interrupt when --init-timeout is not given.
pub const INTERRUPT_TEARDOWN: Duration = Duration::from_secs(10);

/// An init that exited 0 but left something running (a service it started) that holds its
/// output: the output is read this long after the exit, then let go.
pub const INIT_GRACE: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum State {
    /// No worker: one starts when a waiting job needs this slot.
    Empty,
    /// The init command is running.
    Init,
    /// Ready for jobs.
    Ready,
    /// The teardown command is running; the slot is empty afterwards.
    Teardown,
    /// Init failed `INIT_ATTEMPTS` times in a row: the slot runs nothing more.
    Retired,
    /// `--persistent`: the worker's stdin is closed; its teardown runs once it has exited.
    Closing,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Init,
    Teardown,
    /// `--persistent`: the command itself, which takes the worker's jobs as requests.
    Server,
}

impl Kind {
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Init => "--init",
            Kind::Teardown => "--teardown",
            Kind::Server => "--persistent",
        }
    }
}

/// What the scheduler is to do for the workers.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Start the slot's init or teardown with this environment.
    Spawn {
        slot: usize,
        kind: Kind,
        command: Vec<u8>,
        env: Vec<(OsString, OsString)>,
    },
    /// The slot's worker is ready for a job.
    Ready(usize),
    /// `--persistent`: close the slot's worker's stdin; it is to exit.
    Close(usize),
}

/// What an init or teardown printed, kept until it ends.
#[derive(Default)]
pub struct ProcOutput {
    /// Its stdout and stderr, copied to forkpool's stderr when it ends (or when this fills up).
    pub bytes: Vec<u8>,
    /// The last few non-empty lines it printed, for the error message when an init fails.
    last_lines: Vec<Vec<u8>>,
}

/// Lines of a failed init's output quoted in its error message.
const QUOTED_LINES: usize = 3;

impl ProcOutput {
    /// Keep `data`; returns what should go to stderr now because the buffer is full.
    pub fn append(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        self.bytes.extend_from_slice(data);
        for line in data.split(|&b| b == b'\n') {
            if !line.iter().all(u8::is_ascii_whitespace) {
                if self.last_lines.len() == QUOTED_LINES {
                    self.last_lines.remove(0);
                }
                self.last_lines
                    .push(line.iter().take(200).copied().collect());
            }
        }
        (self.bytes.len() > OUTPUT_CAP).then(|| std::mem::take(&mut self.bytes))
    }

    /// The last lines, joined for a one-line message.
    pub fn last(&self) -> String {
        self.last_lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).trim().to_string())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

pub struct Worker {
    pub state: State,
    /// The current incarnation's id (`FORKPOOL_WORKER`), 0 before the first.
    pub id: u64,
    /// Jobs started by this incarnation.
    pub jobs: u64,
    /// A job of this worker runs now.
    pub busy: bool,
    /// What init exported, for the jobs and the teardown.
    pub exported: Vec<(OsString, OsString)>,
    /// Init failures (or with --persistent, workers that died before any reply) in a row.
    pub failures: u32,
    /// `--persistent`: replies this incarnation gave.
    pub answered: u64,
    /// The teardown after a failed init runs; then the slot is retired.
    retire: bool,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            state: State::Empty,
            id: 0,
            jobs: 0,
            busy: false,
            exported: Vec::new(),
            failures: 0,
            answered: 0,
            retire: false,
        }
    }
}

/// Every slot's worker, and the private directory of their `$FORKPOOL_ENV` files.
pub struct Workers {
    opts: WorkerOptions,
    /// Index = slot - 1. Change a worker's state only through `set_state`.
    list: Vec<Worker>,
    /// How many slots are in each state (Empty is not counted).
    counts: [usize; 6],
    dir: PathBuf,
    next_id: u64,
    /// The last failed init: its command's status and last lines of output.
    last_failure: Option<String>,
    /// An init must be tried again with no event to wake the loop: come back soon.
    pub wake_soon: bool,
}

impl Workers {
    /// Creates a private directory for the env files under `tmpdir`.
    pub fn new(opts: WorkerOptions, tmpdir: &Path) -> std::io::Result<Workers> {
        let dir = private_dir(tmpdir, "workers")?;
        Ok(Workers {
            opts,
            list: Vec::new(),
            counts: [0; 6],
            dir,
            next_id: 1,
            last_failure: None,
            wake_soon: false,
        })
    }

    pub fn get(&mut self, slot: usize) -> &mut Worker {
        if self.list.len() < slot {
            self.list.resize_with(slot, Worker::new);
        }
        &mut self.list[slot - 1]
    }

    /// A job starts in `slot`: the worker's id and the environment its jobs get.
    pub fn job_started(&mut self, slot: usize) -> (u64, Vec<(OsString, OsString)>) {
        let w = self.get(slot);
        w.jobs += 1;
        w.busy = true;
        let mut env = w.exported.clone();
        env.push(("FORKPOOL_WORKER".into(), w.id.to_string().into()));
        (w.id, env)
    }

    /// A job that was to start in `slot` could not (no resources): as if it never began.
    pub fn job_unstarted(&mut self, slot: usize) {
        let w = self.get(slot);
        w.jobs -= 1;
        w.busy = false;
    }

    /// A job in `slot` ended: the worker takes another, or is recycled.
    pub fn job_ended(&mut self, slot: usize, stopping: bool) -> Vec<Action> {
        let max = self.opts.max_jobs;
        let w = self.get(slot);
        w.busy = false;
        if w.state != State::Ready {
            return Vec::new();
        }
        if stopping || max.is_some_and(|m| w.jobs >= m) {
            self.teardown(slot)
        } else {
            vec![Action::Ready(slot)]
        }
    }

    /// Start workers for `waiting` jobs that neither a starting worker nor one of the `free`
    /// ready ones will take, in at most `cap` slots.
    pub fn start_for(&mut self, waiting: usize, free: usize, cap: usize) -> Vec<Action> {
        self.wake_soon = false;
        let mut actions = Vec::new();
        let mut need = waiting.saturating_sub(self.count(State::Init) + free);
        while need > 0 {
            let slot = match self.list.iter().position(|w| w.state == State::Empty) {
                Some(i) => i + 1,
                None if self.list.len() < cap => self.list.len() + 1,
                None => break,
            };
            actions.extend(self.init(slot));
            need -= 1;
        }
        actions
    }

    /// The slot's host is gone (remote hosts): the worker ends without its teardown, and the
    /// slot is retired.
    pub fn closed(&mut self, slot: usize) {
        self.get(slot).retire = true;
        self.end(slot);
    }

    /// The error that ends the run when jobs wait and every slot is retired.
    pub fn all_retired(&self, cap: usize) -> Option<Error> {
        (self.count(State::Retired) >= cap).then(|| {
            let last = self.last_failure.clone().unwrap_or_default();
            if self.persistent() && last.starts_with("the --persistent") {
                return Error::new(format!(
                    "every worker slot is retired ({INIT_ATTEMPTS} workers in each of {cap} died before replying); last: {last}"
                ))
                .with_hint("run the command by hand and give it a request on stdin to see why it exits");
            }
            Error::new(format!(
                "--init failed in every worker slot ({INIT_ATTEMPTS} attempts in each of {cap}); last: {last}"
            ))
            .with_hint("run the --init command by hand to see why it fails, or raise --init-timeout")
        })
    }

    /// The slots whose worker is ready and idle (to tear down when no work is left).
    pub fn idle(&self) -> Vec<usize> {
        (1..=self.list.len())
            .filter(|&s| self.list[s - 1].state == State::Ready && !self.list[s - 1].busy)
            .collect()
    }

    /// No init or teardown runs, and no worker is left to tear down.
    pub fn quiet(&self) -> bool {
        self.count(State::Init)
            + self.count(State::Teardown)
            + self.count(State::Ready)
            + self.count(State::Closing)
            == 0
    }

    fn persistent(&self) -> bool {
        self.opts.persistent.is_some()
    }

    /// `--persistent`: start the slot's worker command (after its init, if any).
    fn serve(&mut self, slot: usize) -> Vec<Action> {
        self.set_state(slot, State::Init);
        vec![Action::Spawn {
            slot,
            kind: Kind::Server,
            command: Vec::new(),
            env: self.proc_env(slot),
        }]
    }

    /// `--persistent`: the slot's worker command started; it takes jobs now.
    pub fn server_up(&mut self, slot: usize, stopping: bool) -> Vec<Action> {
        self.set_state(slot, State::Ready);
        if stopping {
            return self.teardown(slot);
        }
        vec![Action::Ready(slot)]
    }

    /// `--persistent`: the slot's worker replied to a job.
    pub fn answered(&mut self, slot: usize) {
        let w = self.get(slot);
        w.answered += 1;
        w.failures = 0;
    }

    /// A new worker in `slot`: its init, or ready at once without one.
    fn init(&mut self, slot: usize) -> Vec<Action> {
        let id = self.next_id;
        self.next_id += 1;
        if let Err(e) = std::fs::File::create(self.env_file(id)) {
            let why = format!("cannot create $FORKPOOL_ENV: {}", io_reason(&e));
            self.get(slot).id = id;
            return self.init_failed(slot, why, false);
        }
        let w = self.get(slot);
        w.id = id;
        w.jobs = 0;
        w.answered = 0;
        w.exported.clear();
        match self.opts.init.clone() {
            Some(command) => {
                self.set_state(slot, State::Init);
                vec![Action::Spawn {
                    slot,
                    kind: Kind::Init,
                    command,
                    env: self.proc_env(slot),
                }]
            }
            None if self.persistent() => self.serve(slot),
            None => {
                self.set_state(slot, State::Ready);
                vec![Action::Ready(slot)]
            }
        }
    }

    /// The worker in `slot` is done: run its teardown, or end it now when there is none. A
    /// `--persistent` worker's stdin is closed first, and its teardown waits for its exit.
    pub fn teardown(&mut self, slot: usize) -> Vec<Action> {
        if self.persistent() && self.get(slot).state == State::Ready {
            self.set_state(slot, State::Closing);
            return vec![Action::Close(slot)];
        }
        if self.get(slot).state == State::Closing {
            return Vec::new();
        }
        self.run_teardown(slot)
    }

    fn run_teardown(&mut self, slot: usize) -> Vec<Action> {
        match self.opts.teardown.clone() {
            Some(command) => {
                self.set_state(slot, State::Teardown);
                vec![Action::Spawn {
                    slot,
                    kind: Kind::Teardown,
                    command,
                    env: self.proc_env(slot),
                }]
            }
            None => {
                self.end(slot);
                Vec::new()
            }
        }
    }

    /// The slot's init or teardown could not start. `alone`: nothing of forkpool's runs that
    /// could free the resources it lacked.
    pub fn spawn_failed(
        &mut self,
        slot: usize,
        kind: Kind,
        e: SpawnError,
        alone: bool,
    ) -> Vec<Action> {
        match (kind, e) {
            // Out of processes or descriptors: wait for some to be freed, unless nothing of
            // ours runs to free them; then it counts as a failed attempt, so it cannot loop.
            (Kind::Init, SpawnError::Transient(e)) if !alone => {
                let _ = e;
                self.end(slot);
                self.wake_soon = true;
                Vec::new()
            }
            (Kind::Init, SpawnError::Transient(e)) => {
                self.init_failed(slot, format!("cannot start: {}", io_reason(&e)), false)
            }
            (Kind::Init, SpawnError::Failed(msg)) => {
                self.init_failed(slot, format!("cannot start: {msg}"), false)
            }
            (Kind::Server, e) => {
                let why = match e {
                    SpawnError::Transient(e) => io_reason(&e),
                    SpawnError::Failed(msg) => msg,
                };
                self.server_failed(slot, format!("cannot start: {why}"))
            }
            (Kind::Teardown, e) => {
                let why = match e {
                    SpawnError::Transient(e) => io_reason(&e),
                    SpawnError::Failed(msg) => msg,
                };
                crate::diag::warn(&format!(
                    "--teardown of worker {} (slot {slot}) cannot start: {why}",
                    self.get(slot).id
                ));
                self.end(slot);
                Vec::new()
            }
        }
    }

    /// The slot's init or teardown ended with `exit` (`timed_out`: its deadline stopped it).
    pub fn proc_ended(
        &mut self,
        slot: usize,
        kind: Kind,
        exit: Exit,
        timed_out: bool,
        output: &ProcOutput,
        stopping: bool,
    ) -> Vec<Action> {
        let failure = if timed_out {
            Some(match self.opts.timeout {
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
        match (kind, failure) {
            (Kind::Server, failure) => {
                let w = self.get(slot);
                let (closing, answered) = (w.state == State::Closing, w.answered);
                // A worker that died before giving any reply counts as a failed start; one
                // that forkpool stopped (timeout, protocol), or that died on a job's retry,
                // does not (`timed_out` says so here).
                if !closing && !stopping && !timed_out && answered == 0 {
                    let why = failure.unwrap_or_else(|| "exited with status 0".to_string());
                    let last = output.last();
                    let why = if last.is_empty() {
                        why
                    } else {
                        format!("{why}: {last}")
                    };
                    return self.server_failed(slot, why);
                }
                self.run_teardown(slot)
            }
            (Kind::Init, None) => {
                if let Err(msg) = self.load_env(slot) {
                    return self.init_failed(slot, msg, true);
                }
                if self.persistent() && !stopping {
                    return self.serve(slot);
                }
                self.get(slot).failures = 0;
                self.set_state(slot, State::Ready);
                if stopping {
                    self.teardown(slot)
                } else {
                    vec![Action::Ready(slot)]
                }
            }
            (Kind::Init, Some(why)) => {
                let last = output.last();
                let why = if last.is_empty() {
                    why
                } else {
                    format!("{why}: {last}")
                };
                if stopping {
                    // Stopped with the run: not the init's failure, but it may have begun.
                    return self.teardown(slot);
                }
                self.init_failed(slot, why, true)
            }
            (Kind::Teardown, failure) => {
                if let Some(why) = failure {
                    crate::diag::warn(&format!(
                        "--teardown of worker {} (slot {slot}) {why}",
                        self.get(slot).id
                    ));
                }
                self.end(slot);
                Vec::new()
            }
        }
    }

    /// The slot's init failed: try again later, or retire the slot. `ran`: the init ran (and
    /// may have left something for the teardown to undo).
    fn init_failed(&mut self, slot: usize, why: String, ran: bool) -> Vec<Action> {
        let cmd =
            String::from_utf8_lossy(self.opts.init.as_deref().unwrap_or_default()).into_owned();
        let id = self.get(slot).id;
        // An init that could not even start leaves nothing to wait for: come back soon to retry
        // (or to see that every slot is retired).
        self.wake_soon = true;
        let w = self.get(slot);
        w.failures += 1;
        let failures = w.failures;
        self.last_failure = Some(format!("`{cmd}` {why}"));
        if failures >= INIT_ATTEMPTS {
            crate::diag::warn(&format!(
                "--init of worker {id} (slot {slot}) {why}; slot {slot} is retired after {failures} failed attempts, its jobs go to other slots"
            ));
            self.get(slot).retire = true;
        } else {
            crate::diag::warn(&format!(
                "--init of worker {id} (slot {slot}) {why}; trying again (attempt {} of {INIT_ATTEMPTS})",
                failures + 1
            ));
        }
        if ran && self.opts.teardown.is_some() {
            return self.teardown(slot);
        }
        self.end(slot);
        Vec::new()
    }

    /// `--persistent`: the slot's worker died before its first reply (or could not start): try
    /// a new worker, or retire the slot after `INIT_ATTEMPTS` in a row.
    fn server_failed(&mut self, slot: usize, why: String) -> Vec<Action> {
        self.wake_soon = true;
        let id = self.get(slot).id;
        let w = self.get(slot);
        w.failures += 1;
        let failures = w.failures;
        let cmd = self
            .opts
            .persistent
            .as_ref()
            .map(|p| String::from_utf8_lossy(&p.command).into_owned())
            .unwrap_or_default();
        self.last_failure = Some(format!("the --persistent worker `{cmd}` {why}"));
        if failures >= INIT_ATTEMPTS {
            crate::diag::warn(&format!(
                "--persistent worker {id} (slot {slot}) {why}; slot {slot} is retired after {failures} workers died before replying"
            ));
            self.get(slot).retire = true;
        } else {
            crate::diag::warn(&format!(
                "--persistent worker {id} (slot {slot}) {why}; starting a new one (attempt {} of {INIT_ATTEMPTS})",
                failures + 1
            ));
        }
        self.run_teardown(slot)
    }

    fn env_file(&self, id: u64) -> PathBuf {
        self.dir.join(format!("worker-{id}.env"))
    }

    /// The slot's worker is gone: forget its env file.
    fn end(&mut self, slot: usize) {
        let id = self.get(slot).id;
        let _ = std::fs::remove_file(self.env_file(id));
        let w = self.get(slot);
        w.exported.clear();
        w.busy = false;
        let retire = std::mem::take(&mut w.retire);
        if retire {
            self.set_state(slot, State::Retired);
        } else if self.get(slot).state != State::Retired {
            self.set_state(slot, State::Empty);
        }
    }

    /// The environment of an init or teardown in `slot`.
    fn proc_env(&mut self, slot: usize) -> Vec<(OsString, OsString)> {
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
    fn load_env(&mut self, slot: usize) -> std::result::Result<(), String> {
        let id = self.get(slot).id;
        let file = self.env_file(id);
        let text = std::fs::read(&file)
            .map_err(|e| format!("cannot read $FORKPOOL_ENV: {}", io_reason(&e)))?;
        self.get(slot).exported = parse_env(&text)?;
        Ok(())
    }

    /// How many slots are in `state` (not counting Empty).
    pub fn count(&self, state: State) -> usize {
        self.counts[state as usize]
    }

    fn set_state(&mut self, slot: usize, state: State) {
        let old = std::mem::replace(&mut self.get(slot).state, state);
        if old != State::Empty {
            self.counts[old as usize] -= 1;
        }
        if state != State::Empty {
            self.counts[state as usize] += 1;
        }
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.opts.timeout
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new directory only this user can enter, under `parent`, named for `what` it holds.
pub fn private_dir(parent: &Path, what: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut n = 0u32;
    loop {
        let dir = parent.join(format!(
            "forkpool-{what}-{}-{:x}",
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
    fn a_failed_init_is_quoted_by_its_last_few_lines() {
        // psql's error ends with a caret line: the last line alone says nothing.
        let mut out = ProcOutput::default();
        out.append(b"psql: error: connection refused\nLINE 1: CREATE DATABASE t1\n");
        out.append(b"                        ^\n\n");
        assert_eq!(
            out.last(),
            "psql: error: connection refused / LINE 1: CREATE DATABASE t1 / ^"
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(parse_env(b"JUSTANAME\n").unwrap_err().contains("line 1"));
        assert!(parse_env(b"A=1\n=2\n").unwrap_err().contains("line 2"));
        assert!(parse_env(b"M<<EOF\nno end\n").is_err());
    }
}
