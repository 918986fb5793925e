//! Process groups and reaping: the only code that calls waitpid, kill and killpg.
//!
//! Every job leads its own process group, and forkpool is the subreaper of the jobs'
//! descendants. A group's number is its leader's pid, and a pid is free for reuse once its
//! process is reaped and no group or session uses it. So a group is signalled only while
//! something in it is known to be forkpool's: its leader not yet reaped (alive or a zombie, it
//! holds the number), or afterwards a child of forkpool's (an adopted orphan) that is a member.
//! An emptied group's number, reused by some other program's group, is never signalled.

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

use crate::job::Exit;

/// A process group that forkpool started: its leader's pid, and whether the leader was reaped.
#[derive(Debug)]
pub struct Group {
    pid: i32,
    reaped: bool,
}

impl Group {
    pub fn new(pid: i32) -> Group {
        Group { pid, reaped: false }
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The leader was reaped: from now on the group is signalled only through a member that is
    /// forkpool's child.
    pub fn leader_reaped(&mut self) {
        self.reaped = true;
    }

    /// Send `sig` to the group (`None`: only look); false when no member of ours is left.
    pub fn signal(&self, sig: Option<Signal>) -> bool {
        if self.reaped && !has_member_child(self.pid) {
            return false;
        }
        killpg(Pid::from_raw(self.pid), sig) != Err(Errno::ESRCH)
    }
}

/// `--nice`: set every process of the job's new group `pgid` to niceness `nice`. posix_spawn
/// cannot set a niceness, so this runs right after the spawn returns (the job has just exec'ed):
/// the job's first moments run at forkpool's niceness, and a child it forked in them is in its
/// group and reniced with it. A niceness below forkpool's own needs privilege; without it the
/// call fails and the job keeps forkpool's, as GNU parallel's jobs do.
pub fn renice(pgid: i32, nice: i32) {
    // SAFETY: setpriority takes plain integers and touches no memory of ours.
    unsafe {
        nix::libc::setpriority(nix::libc::PRIO_PGRP, pgid as nix::libc::id_t, nice);
    }
}

/// Make forkpool the reaper of its jobs' orphaned descendants, so none outlives it unseen.
pub fn become_subreaper() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Reap every child that has exited, leaders and adopted orphans alike.
pub fn reap(exited: &mut dyn FnMut(i32, Exit)) {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => exited(pid.as_raw(), Exit::Code(code)),
            Ok(WaitStatus::Signaled(pid, sig, _)) => exited(pid.as_raw(), Exit::Signal(sig as i32)),
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// The pids of forkpool's living children (including adopted orphans and unreaped zombies).
pub fn children() -> Vec<i32> {
    let mut pids = Vec::new();
    // No child at all, alive or not, as at the end of most runs: one syscall instead of the scan
    // of /proc (issue 7). WNOWAIT: nothing is reaped.
    let any =
        WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT | WaitPidFlag::__WALL;
    if waitid(Id::All, any) == Err(Errno::ECHILD) {
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

/// Whether a child of forkpool's is in the process group `pgid`. A child cannot be reaped while
/// this runs (only the event loop reaps), so a positive answer holds until the next reap.
fn has_member_child(pgid: i32) -> bool {
    children().into_iter().any(|c| pgid_of(c) == Some(pgid))
}

/// A process's group, from field 5 of /proc/PID/stat (after the parenthesised name).
fn pgid_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let end = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[end + 1..]).ok()?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// At exit: kill every child of forkpool's (jobs, and descendants adopted as orphans) and reap
/// them, until none is left, so no job, grandchild or zombie survives forkpool.
pub fn kill_descendants() {
    // More orphans may arrive while their parents die, so sweep until no child is left. Killing
    // first means the blocking wait never waits on a living process for long.
    loop {
        let children = children();
        if children.is_empty() {
            break;
        }
        for pid in children {
            // A child of ours that is not reaped yet: its pid cannot have been reused.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        if waitpid(Pid::from_raw(-1), None).is_err() {
            break;
        }
    }
    while matches!(waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)), Ok(s) if s != WaitStatus::StillAlive)
    {
    }
}
