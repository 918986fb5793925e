//! Executors: how a process is started, signalled and reaped. The scheduler sees only the
//! `Executor` trait: `spawn` gives back a handle, and everything later (a signal, whether anything
//! of the process is left, its exit) goes through the executor with that handle, so a remote
//! executor can stop its jobs its own way and a mock can drive the scheduler without processes.
//! `local` spawns on this machine, `ssh` on other hosts; `group` is the only code that calls
//! waitpid, kill or killpg.

pub mod group;
pub mod local;
#[cfg(test)]
pub mod mock;
pub mod spawner;
pub mod ssh;

use std::ffi::OsString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use nix::sys::signal::Signal;

use crate::job::{Command, Exit};

/// Where a process's stdin comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Stdin {
    /// /dev/null.
    Null,
    /// A pipe that forkpool writes (`Spawned::stdin`).
    Pipe,
}

/// What to start for one job (or one worker's init or teardown). Owned, so it can be handed to
/// another thread.
pub struct SpawnSpec {
    pub command: Command,
    /// Pipe the job's stdout and stderr to forkpool (else they are forkpool's own).
    pub capture: bool,
    /// Extra environment for the job.
    pub env: Vec<(OsString, OsString)>,
    pub stdin: Stdin,
    /// The job slot (or worker) it runs in: with remote hosts, it says which host.
    pub slot: usize,
    /// Files a remote job needs moved (nothing for a local one).
    pub transfer: Transfer,
}

/// `--transferfile`, `--return`: the files sent to a remote job's host before it runs and
/// fetched after, as paths relative to the working directory (or absolute).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transfer {
    pub send: Vec<Vec<u8>>,
    pub fetch: Vec<Vec<u8>>,
}

impl Transfer {
    pub fn is_empty(&self) -> bool {
        self.send.is_empty() && self.fetch.is_empty()
    }
}

/// A started process: its handle, and forkpool's ends of its pipes.
pub struct Spawned<H> {
    pub handle: H,
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// Why a job could not be started.
#[derive(Debug)]
pub enum SpawnError {
    /// Out of processes, memory or file descriptors: wait for a job to end and try again.
    Transient(io::Error),
    /// This job can never start (e.g. its command line is too long); the message says why.
    Failed(String),
}

/// Starts processes, and watches and stops what it started. `spawn` may run on several threads
/// at once; the rest is called from the event loop only.
pub trait Executor: Send + Sync + 'static {
    /// What the executor needs to find the process again.
    type Handle: Send + 'static;

    fn spawn(&self, spec: &SpawnSpec) -> Result<Spawned<Self::Handle>, SpawnError>;

    /// The key under which `reap` reports this process's exit.
    fn key(&self, handle: &Self::Handle) -> u64;

    /// Report each process that ended since the last call, once, by key. Keys the caller does
    /// not know (orphaned descendants adopted by forkpool) are reaped too and may be ignored.
    fn reap(&self, exited: &mut dyn FnMut(u64, Exit));

    /// The process of `handle` was reported by `reap`.
    fn reaped(&self, handle: &mut Self::Handle);

    /// Send `sig` to everything the process started that is still forkpool's (`None`: only
    /// look). Returns false when nothing of it is left.
    fn signal(&self, handle: &Self::Handle, sig: Option<Signal>) -> bool;

    /// The process ended with `exit` because the host it ran on was lost, not because of its
    /// command: the job is to run again elsewhere, and not to count.
    fn lost(&self, _handle: &Self::Handle, _exit: Exit) -> bool {
        false
    }

    /// Whether `slot` can still take work (its host is not lost).
    fn slot_open(&self, _slot: usize) -> bool {
        true
    }

    /// The host that runs `slot`'s processes, as the user named it (None: this machine).
    fn host(&self, _slot: usize) -> Option<String> {
        None
    }

    /// A descriptor that is readable when `reap` has something to report that no SIGCHLD
    /// announces (a mock's processes).
    fn wake_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// At the end of the run: kill and reap whatever is left, so nothing outlives forkpool.
    fn shutdown(&self) {}
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
