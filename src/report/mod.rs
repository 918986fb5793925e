//! Reporting: the progress display, the joblog, and the run's exit status policy.

pub mod joblog;
pub mod progress;
pub mod status;
