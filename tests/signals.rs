//! Interrupts and termination: the jobs' whole process groups are stopped, nothing survives, and
//! forkpool dies of the same signal so the calling shell sees it.

use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{bin, processes_matching, wait_for};

fn stop_with(sig: Signal, marker: &str) -> Option<i32> {
    let job = format!("sh -c \"{marker} & {marker}\"");
    let mut child = Command::new(bin())
        .args(["-j4", &job, ":::", "1", "2", "3", "4"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Both sleeps of all four jobs are running.
    assert!(wait_for(Duration::from_secs(30), || processes_matching(
        marker
    )
    .len()
        >= 8));
    kill(Pid::from_raw(child.id() as i32), sig).unwrap();
    let status = child.wait().unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || processes_matching(marker)
            .is_empty()),
        "job processes survived {sig}"
    );
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[test]
fn sigint_stops_every_job_group_and_dies_of_sigint() {
    let marker = format!("sleep 5{}", std::process::id() % 1000 + 1000);
    assert_eq!(
        stop_with(Signal::SIGINT, &marker),
        Some(Signal::SIGINT as i32)
    );
}

#[test]
fn sigterm_stops_every_job_group_and_dies_of_sigterm() {
    let marker = format!("sleep 6{}", std::process::id() % 1000 + 1000);
    assert_eq!(
        stop_with(Signal::SIGTERM, &marker),
        Some(Signal::SIGTERM as i32)
    );
}

#[test]
fn jobs_that_ignore_sigterm_are_killed() {
    let marker = format!("sleep 7{}", std::process::id() % 1000 + 1000);
    let job = format!("trap '' TERM; {marker}; true");
    let mut child = Command::new(bin())
        .args(["--termseq", "TERM,100,KILL,25", &job, ":::", "1"])
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(30), || !processes_matching(
        &marker
    )
    .is_empty()));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    child.wait().unwrap();
    assert!(wait_for(Duration::from_secs(10), || processes_matching(
        &marker
    )
    .is_empty()));
}

#[test]
fn broken_stdout_pipe_ends_quietly() {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "yes | head -n 100000 | {} echo | head -1",
            bin().display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"y\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn no_background_grandchild_outlives_forkpool() {
    let marker = format!("sleep 8{}", std::process::id() % 1000 + 1000);
    let out = Command::new(bin())
        .args([
            &format!("{marker} > /dev/null 2>&1 & echo started {{}}"),
            ":::",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"started 1\n");
    assert!(wait_for(Duration::from_secs(10), || processes_matching(
        &marker
    )
    .is_empty()));
}

/// A process's state letter from /proc (T when stopped).
fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

#[test]
fn ctrl_z_stops_the_jobs_with_forkpool_and_sigcont_resumes_them() {
    let marker = format!("sleep 4{}", std::process::id() % 1000 + 1000);
    let mut child = Command::new(bin())
        .args(["-j2", &format!("{marker}{{}}"), ":::", "1", "2"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let fp = child.id() as i32;
    // Jobs only: forkpool's own command line holds the marker too.
    let jobs = || -> Vec<i32> {
        processes_matching(&marker)
            .into_iter()
            .filter(|&p| p != fp)
            .collect()
    };
    assert!(wait_for(Duration::from_secs(30), || jobs().len() == 2));
    let all_in = |want: char| jobs().iter().all(|&p| state(p) == Some(want));

    kill(Pid::from_raw(fp), Signal::SIGTSTP).unwrap();
    assert!(wait_for(Duration::from_secs(30), || state(fp) == Some('T')
        && all_in('T')));

    kill(Pid::from_raw(fp), Signal::SIGCONT).unwrap();
    assert!(wait_for(Duration::from_secs(30), || state(fp) != Some('T')
        && all_in('S')));

    kill(Pid::from_raw(fp), Signal::SIGINT).unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(Signal::SIGINT as i32));
    assert!(jobs().is_empty());
}
