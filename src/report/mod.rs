//! Reporting: the run's summary and exit status policy, and forkpool's own messages on stderr.

pub mod joblog;
pub mod progress;
pub mod results;

use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::scheduler::Exit;

/// One finished job, as the joblog, `--json` and `--results` describe it.
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

/// What the finished jobs add up to.
#[derive(Default, Debug)]
pub struct Summary {
    pub done: u64,
    pub failed: u64,
}

impl Summary {
    pub fn record(&mut self, job: &JobRecord) {
        self.done += 1;
        if job.failed() {
            self.failed += 1;
        }
    }

    /// GNU parallel's exit status: 0 when all succeeded, else the number of failed jobs,
    /// 101 when more than 100 failed.
    pub fn exit_code(&self) -> i32 {
        exit_code_for(self.failed)
    }
}

pub fn exit_code_for(failed: u64) -> i32 {
    match failed {
        0..=100 => failed as i32,
        _ => 101,
    }
}

/// `forkpool: error: ...` with its hint on the next line.
pub fn error(e: &Error) {
    let mut msg = format!("forkpool: error: {e}\n");
    if let Some(h) = e.hint() {
        msg.push_str(&format!("forkpool: hint: {h}\n"));
    }
    write_stderr(msg.as_bytes());
}

/// A message already in forkpool's style.
pub fn raw_error(msg: &str) {
    write_stderr(msg.as_bytes());
}

/// `forkpool: warning: ...`
pub fn warn(msg: &str) {
    write_stderr(format!("forkpool: {msg}\n").as_bytes());
}

/// The `--bar`/`--eta` display on stderr, once one is shown: messages are written around it.
static SCREEN: std::sync::OnceLock<progress::Screen> = std::sync::OnceLock::new();

fn write_stderr(b: &[u8]) {
    use std::io::Write;
    let write = || {
        let _ = std::io::stderr().lock().write_all(b);
    };
    match SCREEN.get() {
        Some(screen) => screen.hold(write),
        None => write(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_counts_failures_up_to_101() {
        assert_eq!(exit_code_for(0), 0);
        assert_eq!(exit_code_for(7), 7);
        assert_eq!(exit_code_for(100), 100);
        assert_eq!(exit_code_for(101), 101);
        assert_eq!(exit_code_for(5000), 101);
    }
}
