//! Executors: how one job's process is started. The scheduler only sees the `Executor` trait;
//! `local` spawns on this machine.

pub mod local;
pub mod spawner;

use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;

use crate::job::Command;

/// What to start for one job (or one worker's init or teardown). Owned, so it can be handed to
/// another thread.
pub struct SpawnSpec {
    pub command: Command,
    /// Pipe the job's stdout and stderr to forkpool (else they are forkpool's own).
    pub capture: bool,
    /// Extra environment for the job.
    pub env: Vec<(OsString, OsString)>,
}

/// A started job: the leader of its own process group, whose id is `pid`.
pub struct Spawned {
    pub pid: i32,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// Why a job could not be started.
pub enum SpawnError {
    /// Out of processes, memory or file descriptors: wait for a job to end and try again.
    Transient(io::Error),
    /// This job can never start (e.g. its command line is too long); the message says why.
    Failed(String),
}

/// Starts processes. `Sync`, so several threads can spawn at once.
pub trait Executor: Send + Sync {
    fn spawn(&self, spec: &SpawnSpec) -> Result<Spawned, SpawnError>;
}

/// The number of CPUs this process may use (affinity and cgroup quota), worked out once: it takes
/// several reads under /proc and /sys.
pub fn cpu_count() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The number of CPUs this process may run on (its affinity mask, not the cgroup quota that
/// `cpu_count` also applies): one syscall.
pub fn affinity_count() -> usize {
    use nix::sched::{CpuSet, sched_getaffinity};
    match sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => (0..CpuSet::count())
            .filter(|&i| set.is_set(i).unwrap_or(false))
            .count()
            .max(1),
        Err(_) => cpu_count(),
    }
}

/// Raise the soft open-files limit to the hard one, so thousands of jobs' pipes fit; returns
/// the limit in force.
pub fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

/// Make forkpool the reaper of its jobs' orphaned descendants, so none outlives it unseen.
pub fn become_subreaper() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// The pids of forkpool's living children (including adopted orphans).
pub fn children() -> Vec<i32> {
    use nix::sys::wait::{Id, WaitPidFlag, waitid};
    let mut pids = Vec::new();
    // No child at all, alive or not, as at the end of most runs: one syscall instead of the scan
    // of /proc (issue 7). WNOWAIT: nothing is reaped.
    let any =
        WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT | WaitPidFlag::__WALL;
    if waitid(Id::All, any) == Err(nix::errno::Errno::ECHILD) {
        return pids;
    }
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                pids.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
            }
        }
    }
    pids
}
