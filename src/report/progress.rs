//! `--bar` and `--eta`: progress on stderr while jobs run.
//!
//! STUB: the scheduler calls these hooks; the drawing is not written yet.

use crate::options::Progress as Mode;

pub struct Progress {
    _mode: Mode,
}

impl Progress {
    /// A progress display in `mode`; `total` is the number of jobs when known up front.
    pub fn new(mode: Mode, total: Option<u64>) -> Progress {
        let _ = total;
        Progress { _mode: mode }
    }

    /// The number of jobs is now known (the input ended).
    pub fn set_total(&mut self, total: u64) {
        let _ = total;
    }

    /// A job started.
    pub fn started(&mut self) {}

    /// A job's attempt ended and the job will run again (`--retries`): it is no longer running.
    pub fn retrying(&mut self) {}

    /// A job finished for good (after its retries); `failed` when it did not succeed.
    pub fn finished(&mut self, failed: bool) {
        let _ = failed;
    }

    /// The run is over: leave a clean final line (or nothing) on stderr.
    pub fn finish(&mut self) {}
}
