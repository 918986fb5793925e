//! The shared vocabulary of every stage: a job's input (`Record`), the `Job` itself, the
//! `Command` it runs, how a process ended (`Exit`), how forkpool stops one (`Ladder`), which of
//! its streams bytes came from (`Stream`), and the finished job as the reports see it
//! (`JobRecord`), and in pipe mode the bytes a job reads (`Block`, `JobInput`). This module
//! imports nothing of forkpool's, so every other one may use it.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
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
    /// Pipe mode: what the job reads, kept until the job is done for good (a retry reads the
    /// same bytes again).
    pub input: Option<JobInput>,
    /// A file made for this job (`--cat`, `--fifo`), removed when the job is dropped.
    pub temp: Option<TempPath>,
    /// Pipe mode: the bytes of the input its block covers (`--bar` counts them when the
    /// input's size is known).
    pub bytes: u64,
}

impl Job {
    pub fn new(seq: u64, records: Vec<Record>) -> Job {
        Job {
            seq,
            records,
            logged_command: None,
            attempts: 0,
            input: None,
            temp: None,
            bytes: 0,
        }
    }
}

/// Pipe mode: one block of input records.
#[derive(Debug)]
pub enum Block {
    Bytes(Vec<u8>),
    /// `--round-robin`: a stream of blocks that someone else writes to the job's stdin.
    Stream(std::sync::Arc<dyn StdinSink>),
    /// `--pipepart`: `head` (the repeated header), then `len` bytes of `file` from `start`,
    /// which go from the file to the job without passing through forkpool's memory.
    Part {
        head: Arc<[u8]>,
        file: Arc<File>,
        start: u64,
        len: u64,
    },
}

/// Takes a job's stdin (the write end of its pipe) and writes it from elsewhere.
pub trait StdinSink: Send + Sync + std::fmt::Debug {
    /// Job `seq` started; this is its stdin.
    fn attach(&self, seq: u64, stdin: std::os::fd::OwnedFd);
    /// Job `seq`'s attempt ended (whether or not it was attached).
    fn ended(&self, seq: u64);
}

impl Block {
    pub fn len(&self) -> u64 {
        match self {
            Block::Bytes(b) => b.len() as u64,
            Block::Stream(_) => 0,
            Block::Part { head, len, .. } => head.len() as u64 + len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a job gets its block.
#[derive(Debug)]
pub struct JobInput {
    pub block: Block,
    /// `--fifo`: through this named pipe (the job's `{}`), not the job's stdin.
    pub fifo: Option<PathBuf>,
}

/// A path removed when dropped.
#[derive(Debug)]
pub struct TempPath(pub PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
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
