//! Reporting: the run's summary and exit status policy, and forkpool's own messages on stderr.

use crate::error::Error;
use crate::scheduler::Exit;

/// What the finished jobs add up to.
#[derive(Default, Debug)]
pub struct Summary {
    pub done: u64,
    pub failed: u64,
}

impl Summary {
    pub fn record(&mut self, exit: Exit) {
        self.done += 1;
        if !exit.success() {
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

/// `forkpool: warning: ...`
pub fn warn(msg: &str) {
    write_stderr(format!("forkpool: {msg}\n").as_bytes());
}

fn write_stderr(b: &[u8]) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(b);
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
