//! GNU parallel behaviours that the recorded corpus (`compat`) cannot show, because they involve
//! stderr, both streams in one file, or timing.

use std::process::Command;

use crate::support::bin;

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
