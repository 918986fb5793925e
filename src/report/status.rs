//! The run's exit status and `--halt`, as pure functions of what the finished jobs add up to.

use crate::job::{Exit, JobRecord};
use crate::options::{Halt, HaltWhy, Threshold};

/// What the finished jobs add up to.
#[derive(Default, Debug, Clone, Copy)]
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
}

/// GNU parallel's exit status: 0 when all succeeded, else the number of failed jobs, 101 when
/// more than 100 failed.
pub fn exit_code_for(failed: u64) -> i32 {
    match failed {
        0..=100 => failed as i32,
        _ => 101,
    }
}

/// The status of a run that was not halted: the failures, or with `--halt fail=N%` the
/// percentage of the jobs that failed, rounded up. `total` is the number of jobs when it was
/// counted up front.
pub fn failure_status(halt: Option<Halt>, s: Summary, total: Option<u64>) -> i32 {
    match halt {
        Some(h) if h.why == HaltWhy::Fail && matches!(h.threshold, Threshold::Percent(_)) => {
            let base = total.unwrap_or(s.done).max(1);
            (s.failed * 100).div_ceil(base).min(100) as i32
        }
        _ => exit_code_for(s.failed),
    }
}

/// `--halt`: whether the job just recorded in `s` (which `failed` or not) meets the condition.
pub fn halt_hit(h: Halt, s: Summary, total: Option<u64>, failed: bool) -> bool {
    let (count, relevant) = match h.why {
        HaltWhy::Fail => (s.failed, failed),
        HaltWhy::Success => (s.done - s.failed, !failed),
        HaltWhy::Done => (s.done, true),
    };
    relevant
        && match h.threshold {
            Threshold::Count(n) => count >= n,
            // Of all the jobs, as GNU parallel; when they were not counted (stdin), of the jobs
            // done so far, once there are a few.
            Threshold::Percent(p) => match total {
                Some(total) => count as f64 * 100.0 >= p * total.max(1) as f64,
                None => count as f64 * 100.0 >= p * s.done.max(1) as f64 && s.done >= 3,
            },
        }
}

/// The exit status of a halted run: the halting job's own with `fail=1`, 0 for `success`,
/// else what the failures add up to.
pub fn halt_status(h: Halt, exit: Exit, s: Summary, total: Option<u64>) -> i32 {
    match (h.why, h.threshold) {
        (HaltWhy::Fail, Threshold::Count(1)) => exit.status(),
        (HaltWhy::Success, _) => 0,
        _ => failure_status(Some(h), s, total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::HaltWhen;

    fn halt(why: HaltWhy, threshold: Threshold) -> Halt {
        Halt {
            when: HaltWhen::Now,
            why,
            threshold,
        }
    }

    fn sum(done: u64, failed: u64) -> Summary {
        Summary { done, failed }
    }

    #[test]
    fn exit_status_counts_failures_up_to_101() {
        assert_eq!(exit_code_for(0), 0);
        assert_eq!(exit_code_for(7), 7);
        assert_eq!(exit_code_for(100), 100);
        assert_eq!(exit_code_for(101), 101);
        assert_eq!(exit_code_for(5000), 101);
    }

    #[test]
    fn fail_percent_is_of_all_jobs_rounded_up() {
        let h = halt(HaltWhy::Fail, Threshold::Percent(30.0));
        assert_eq!(failure_status(Some(h), sum(4, 1), Some(10)), 10);
        assert_eq!(failure_status(Some(h), sum(3, 1), Some(3)), 34);
        assert_eq!(failure_status(Some(h), sum(2, 1), None), 50);
        assert_eq!(failure_status(None, sum(200, 150), None), 101);
    }

    #[test]
    fn halt_thresholds() {
        let fail1 = halt(HaltWhy::Fail, Threshold::Count(1));
        assert!(halt_hit(fail1, sum(1, 1), None, true));
        assert!(!halt_hit(fail1, sum(1, 0), None, false));
        assert_eq!(halt_status(fail1, Exit::Code(7), sum(1, 1), None), 7);
        assert_eq!(halt_status(fail1, Exit::Signal(9), sum(1, 1), None), 137);
        let ok2 = halt(HaltWhy::Success, Threshold::Count(2));
        assert!(!halt_hit(ok2, sum(2, 1), None, false));
        assert!(halt_hit(ok2, sum(3, 1), None, false));
        assert_eq!(halt_status(ok2, Exit::Code(0), sum(3, 1), None), 0);
        let half = halt(HaltWhy::Fail, Threshold::Percent(50.0));
        assert!(!halt_hit(half, sum(2, 2), Some(10), true));
        assert!(halt_hit(half, sum(6, 5), Some(10), true));
        // Of the jobs so far, once there are three.
        assert!(!halt_hit(half, sum(2, 2), None, true));
        assert!(halt_hit(half, sum(3, 2), None, true));
        let done3 = halt(HaltWhy::Done, Threshold::Count(3));
        assert!(halt_hit(done3, sum(3, 0), None, false));
    }
}
