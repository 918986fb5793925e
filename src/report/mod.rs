//! Reporting: the progress display, the joblog, the run's summary and its exit status policy.

pub mod joblog;
pub mod progress;

use crate::job::JobRecord;

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
