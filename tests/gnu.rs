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
