//! GNU parallel behaviours that the recorded corpus (`compat`) cannot show, because they involve
//! stderr, both streams in one file, or timing.

use std::process::Command;

use crate::support::{bin, forkpool};

/// Run forkpool with `args` under `sh -c '... 2>&1'`: both streams into one pipe.
fn merged(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec \"$@\" 2>&1")
        .arg("sh")
        .arg(bin())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn with_both_streams_in_one_file_each_jobs_stdout_comes_before_its_stderr() {
    let job = "echo out {}; echo err {} >&2; echo out2 {}";
    let want = "out a\nout2 a\nerr a\nout b\nout2 b\nerr b\n";
    assert_eq!(
        merged(&["-j1", job, ":::", "a", "b"]),
        (Some(0), want.into())
    );
    assert_eq!(
        merged(&["-k", "-j2", job, ":::", "a", "b"]),
        (Some(0), want.into())
    );
    let tagged = "a\tout a\na\tout2 a\na\terr a\nb\tout b\nb\tout2 b\nb\terr b\n";
    assert_eq!(
        merged(&["-k", "--tag", job, ":::", "a", "b"]),
        (Some(0), tagged.into())
    );
}

#[test]
fn an_option_given_twice_takes_the_last_value() {
    let out = forkpool()
        .args(["-j2", "-j1", "-k", "-k", "--tag", "--tag", "-n2", "-n1"])
        .args([
            "--tagstring",
            "A",
            "--tagstring",
            "B{}",
            "echo",
            ":::",
            "x",
            "y",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Bx\tx\nBy\ty\n");
}

#[test]
fn gnu_spellings_and_notice_switches_are_accepted() {
    for args in [
        &["--will-cite", "echo", ":::", "a"][..],
        &["--no-notice", "echo", ":::", "a"],
        &["--silent", "echo", ":::", "a"],
        &["--linebuffer", "echo", ":::", "a"],
    ] {
        forkpool()
            .args(args)
            .assert()
            .success()
            .stdout("a\n")
            .stderr("");
    }
    forkpool()
        .args(["--dryrun", "echo", ":::", "a b"])
        .assert()
        .success()
        .stdout("echo 'a b'\n");
    forkpool()
        .args(["--tag-string", "T", "echo", ":::", "a"])
        .assert()
        .success()
        .stdout("T\ta\n");
}

#[test]
fn output_modes_that_contradict_each_other_are_refused() {
    for (a, b) in [
        ("--group", "--lb"),
        ("--group", "-u"),
        ("-u", "--line-buffer"),
    ] {
        let out = forkpool()
            .args([a, b, "echo", ":::", "x"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255), "{a} {b}");
        assert_eq!(out.stdout, b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("forkpool: error: the argument '"), "{err}");
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

#[test]
fn a_timed_out_job_fails_even_when_it_exits_0_and_the_kill_is_reported() {
    let dir = crate::support::TempDir::new("timeout-exit0");
    let log = dir.path().join("log");
    let out = forkpool()
        .args(["--joblog", log.to_str().unwrap(), "--timeout", "0.5"])
        .args(["trap 'exit 0' TERM; echo {}; sleep 30 & wait", ":::", "3"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"3\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "forkpool: job 1 timed out after 0.5s, stopping it: trap 'exit 0' TERM; echo 3; sleep 30 & wait\n"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    let cols: Vec<&str> = log.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!((cols[6], cols[7]), ("-1", "0"), "{log}");
}

#[test]
fn timeout_0_means_no_time_limit() {
    for t in ["0", "0s"] {
        forkpool()
            .args(["--timeout", t, "sleep 0.2; echo {}", ":::", "a"])
            .assert()
            .success()
            .stdout("a\n")
            .stderr("");
    }
}

/// The job itself ended with its status; a background child still holding its stdout is stopped
/// at the deadline, and the job keeps its status.
#[test]
fn timeout_stops_a_background_child_that_holds_the_jobs_output() {
    let marker = format!("sleep 7{}", std::process::id() % 1000 + 1000);
    let start = std::time::Instant::now();
    forkpool()
        .args([
            "--timeout",
            "0.5",
            &format!("{marker} & echo {{}}"),
            ":::",
            "1",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout("1\n")
        .stderr("");
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    assert!(crate::support::processes_matching(&marker).is_empty());
}
