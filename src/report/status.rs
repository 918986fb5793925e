//! The run's exit status and `--halt`, as pure functions of what the finished jobs add up to.

use crate::job::JobRecord;
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

/// The status of a run that was not halted: the failures, or with `--halt ...=N%` (fail,
/// success or done, as GNU parallel) the percentage of the jobs that failed, rounded up. `total`
/// is the number of jobs when it was counted up front.
pub fn failure_status(halt: Option<Halt>, s: Summary, total: Option<u64>) -> i32 {
    match halt {
        Some(h) if matches!(h.threshold, Threshold::Percent(_)) => {
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

/// The exit status of a halted run: 0 for `success`; the halting job's own when one job was
/// the threshold (`fail=1`, `done=1`, or N% of the jobs being exactly one), where a job that
/// timed out counts as -1, so 255, as in GNU parallel; else what the failures add up to.
pub fn halt_status(h: Halt, job: &JobRecord, s: Summary, total: Option<u64>) -> i32 {
    let one_job = match h.threshold {
        Threshold::Count(n) => n == 1,
        // GNU parallel's own sum: its count of jobs is total * N / 100.
        Threshold::Percent(p) => total.is_some_and(|t| t as f64 * (p / 100.0) == 1.0),
    };
    match h.why {
        HaltWhy::Success => 0,
        _ if one_job && job.timed_out => 255,
        _ if one_job => job.exit.status(),
        _ => failure_status(Some(h), s, total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Exit;
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

    fn job(exit: Exit, timed_out: bool) -> JobRecord {
        JobRecord {
            seq: 1,
            slot: 1,
            host: None,
            worker: None,
            args: Vec::new(),
            command: Vec::new(),
            exit,
            timed_out,
            stopped: false,
            attempts: 1,
            start: std::time::SystemTime::UNIX_EPOCH,
            runtime: std::time::Duration::ZERO,
            stdout_len: 0,
        }
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
        assert_eq!(
            halt_status(fail1, &job(Exit::Code(7), false), sum(1, 1), None),
            7
        );
        assert_eq!(
            halt_status(fail1, &job(Exit::Signal(9), false), sum(1, 1), None),
            137
        );
        // A job that timed out has GNU parallel's status -1.
        assert_eq!(
            halt_status(fail1, &job(Exit::Signal(15), true), sum(1, 1), None),
            255
        );
        let ok2 = halt(HaltWhy::Success, Threshold::Count(2));
        assert!(!halt_hit(ok2, sum(2, 1), None, false));
        assert!(halt_hit(ok2, sum(3, 1), None, false));
        assert_eq!(
            halt_status(ok2, &job(Exit::Code(0), false), sum(3, 1), None),
            0
        );
        let half = halt(HaltWhy::Fail, Threshold::Percent(50.0));
        assert!(!halt_hit(half, sum(2, 2), Some(10), true));
        assert!(halt_hit(half, sum(6, 5), Some(10), true));
        // Of the jobs so far, once there are three.
        assert!(!halt_hit(half, sum(2, 2), None, true));
        assert!(halt_hit(half, sum(3, 2), None, true));
        let done3 = halt(HaltWhy::Done, Threshold::Count(3));
        assert!(halt_hit(done3, sum(3, 0), None, false));
    }

    #[test]
    fn halt_status_is_the_jobs_own_when_one_job_is_the_threshold() {
        let done1 = halt(HaltWhy::Done, Threshold::Count(1));
        assert_eq!(
            halt_status(done1, &job(Exit::Code(6), false), sum(1, 1), None),
            6
        );
        assert_eq!(
            halt_status(done1, &job(Exit::Code(0), false), sum(1, 0), None),
            0
        );
        let half = halt(HaltWhy::Fail, Threshold::Percent(50.0));
        assert_eq!(
            halt_status(half, &job(Exit::Code(7), false), sum(2, 1), Some(2)),
            7
        );
        assert_eq!(
            halt_status(half, &job(Exit::Code(7), false), sum(2, 1), Some(4)),
            25
        );
        let tenth = halt(HaltWhy::Fail, Threshold::Percent(10.0));
        assert_eq!(
            halt_status(tenth, &job(Exit::Code(7), false), sum(2, 1), Some(10)),
            7
        );
        // done=N% and success=N% add up the failures as fail=N% does.
        let done_half = halt(HaltWhy::Done, Threshold::Percent(50.0));
        assert_eq!(
            halt_status(done_half, &job(Exit::Code(0), false), sum(2, 1), Some(4)),
            25
        );
        let ok_half = halt(HaltWhy::Success, Threshold::Percent(50.0));
        assert_eq!(failure_status(Some(ok_half), sum(4, 3), Some(4)), 75);
    }
}
