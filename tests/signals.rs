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

/// forkpool's direct children (the jobs), from /proc.
fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            kids.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    kids
}

/// Regression: with more slots than CPUs, spawns overlap on spawner threads; a job whose spawn
/// was in flight at Ctrl-Z must be stopped too. Each job notes each time it sees forkpool
/// stopped: an escaped job runs on and notes it many times; a stopped one at most once (its
/// last read may straddle forkpool's own stop).
#[test]
fn ctrl_z_also_stops_jobs_whose_spawn_was_in_flight() {
    let dir = crate::support::TempDir::new("tstp-flight");
    let log = dir.path().join("escaped");
    let script = dir.path().join("job.sh");
    std::fs::write(
        &script,
        format!(
            "i=0; while [ $i -lt 300 ]; do read -r _ _ st _ < /proc/$PPID/stat; \
             [ \"$st\" = T ] && echo $$ >> {}; i=$((i+1)); done\n",
            log.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(bin())
        .args(["-j32", "sh", &script.display().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all("x\n".repeat(1_000_000).as_bytes());
    });
    let fp = child.id() as i32;
    assert!(wait_for(Duration::from_secs(30), || children_of(fp).len() >= 16));
    for _ in 0..30 {
        kill(Pid::from_raw(fp), Signal::SIGTSTP).unwrap();
        assert!(wait_for(Duration::from_secs(30), || state(fp) == Some('T')
            && children_of(fp)
                .iter()
                .all(|&p| matches!(state(p), Some('T' | 'Z') | None))));
        kill(Pid::from_raw(fp), Signal::SIGCONT).unwrap();
        assert!(wait_for(Duration::from_secs(30), || state(fp) != Some('T')));
    }
    kill(Pid::from_raw(fp), Signal::SIGINT).unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(Signal::SIGINT as i32));
    let seen = std::fs::read_to_string(&log).unwrap_or_default();
    let mut per_job = std::collections::HashMap::new();
    for pid in seen.lines() {
        *per_job.entry(pid).or_insert(0) += 1;
    }
    let escaped: Vec<_> = per_job.iter().filter(|&(_, &n)| n > 1).collect();
    assert!(
        escaped.is_empty(),
        "jobs ran while forkpool was stopped: {escaped:?}"
    );
}
