//! The shared vocabulary of every stage: a job's input (`Record`), the `Job` itself, the
//! `Command` it runs, how a process ended (`Exit`), how forkpool stops one (`Ladder`), which of
//! its streams bytes came from (`Stream`), and the finished job as the reports see it
//! (`JobRecord`). This module imports nothing of forkpool's, so every other one may use it.

use std::time::{Duration, SystemTime};

use nix::sys::signal::Signal;

/// The values of one job input: one per source, or one per column with `--colsep`.
pub type Record = Vec<Vec<u8>>;

/// One job: its sequence number (from 1, in input order) and its input records.
#[derive(Debug)]
pub struct Job {
    pub seq: u64,
    pub records: Vec<Record>,
    /// `--retry-failed`: the command from the joblog, run instead of the template.
    pub logged_command: Option<Vec<u8>>,
    /// Attempts started so far (`--retries`).
    pub attempts: u32,
}

/// Whether a job's command can run without a shell.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Words for execvp.
    Direct(Vec<Vec<u8>>),
    /// Shell code for `sh -c`.
    Shell(Vec<u8>),
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The status a shell would report: the code, or 128 + the signal.
    pub fn status(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }
}

/// A signal's name as people write it: "SIGKILL" (or "SIG99" for one nix does not know).
pub fn signal_name(s: i32) -> String {
    Signal::try_from(s).map_or_else(|_| format!("SIG{s}"), |sig| sig.as_str().to_string())
}

/// Signals and waits that stop a process group: send a signal, wait up to the time, go on while
/// the group still has members (GNU parallel's --termseq).
#[derive(Clone, Debug)]
pub struct Ladder(pub Vec<(Signal, Duration)>);

/// A process's stdout or stderr.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Out,
    Err,
}

impl Stream {
    pub const BOTH: [Stream; 2] = [Stream::Out, Stream::Err];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One finished job, as the joblog, `--json` and `--results` describe it.
#[derive(Debug)]
pub struct JobRecord {
    pub seq: u64,
    pub slot: usize,
    /// None when local.
    pub host: Option<String>,
    /// The worker incarnation that ran the job (per-worker init), if any.
    pub worker: Option<u64>,
    pub args: Vec<Vec<u8>>,
    pub command: Vec<u8>,
    pub exit: Exit,
    pub timed_out: bool,
    /// Stopped by forkpool (halt, interrupt) rather than ending by itself.
    pub stopped: bool,
    pub attempts: u32,
    pub start: SystemTime,
    pub runtime: Duration,
    pub stdout_len: u64,
}

impl JobRecord {
    pub fn failed(&self) -> bool {
        failed(self.exit, self.timed_out)
    }
}

/// Whether a job's attempt failed. One that timed out did, even when it caught the signal and
/// exited 0 (as in GNU parallel).
pub fn failed(exit: Exit, timed_out: bool) -> bool {
    timed_out || !exit.success()
}
