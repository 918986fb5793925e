//! `--halt`, `--retries`, `--retry-failed` and the joblog at a halt, each checked against what
//! GNU parallel 20221122 does.

use crate::support::forkpool;

fn status(args: &[&str]) -> Option<i32> {
    forkpool().args(args).output().unwrap().status.code()
}

/// With one job as the threshold (`done=1`, `fail=1`, or N% of the jobs being one job), the
/// run exits with that job's own status (128 + signal when killed).
#[test]
fn halt_of_one_job_exits_with_its_status() {
    let exit = ["exit {}", ":::"];
    let cases: &[(&[&str], &[&str], i32)] = &[
        (&["--halt", "now,done=1"], &["6", "4", "3"], 6),
        (&["--halt", "now,fail=50%"], &["0", "7"], 7),
        (
            &["--halt", "now,fail=10%"],
            &["0", "7", "0", "0", "0", "0", "0", "0", "0", "0"],
            7,
        ),
        // Otherwise the failed percentage, rounded up, or the failed count.
        (&["--halt", "now,done=50%"], &["3", "0", "0", "0"], 25),
        (&["--halt", "now,done=2"], &["3", "4", "0", "0"], 2),
        (&["--halt", "soon,success=50%"], &["3", "4", "0", "5"], 75),
        (&["--halt", "soon,success=2"], &["3", "4", "0", "5"], 3),
    ];
    for (halt, values, want) in cases {
        let args: Vec<&str> = ["-j1"]
            .iter()
            .chain(*halt)
            .chain(&exit)
            .chain(*values)
            .copied()
            .collect();
        assert_eq!(status(&args), Some(*want), "{args:?}");
    }
    assert_eq!(
        status(&["--halt", "now,done=1", "kill -9 $$", ":::", "x"]),
        Some(137)
    );
}

/// A job that timed out has GNU parallel's status -1 for the halt: the run exits 255.
#[test]
fn halt_on_a_timed_out_job_exits_255() {
    for (halt, values) in [
        ("now,fail=1", &["30"][..]),
        ("now,done=1", &["30"]),
        ("now,fail=50%", &["30", "0"]),
    ] {
        let mut args = vec!["--timeout", "0.3", "--halt", halt, "sleep {}", ":::"];
        args.extend(values);
        assert_eq!(status(&args), Some(255), "{halt}");
    }
}

/// A bare `--halt now` or `--halt soon` is an error in GNU parallel ("must be followed by
/// ,success or ,fail"): a one-line error with a hint, exit 255, no job run.
#[test]
fn bare_halt_now_or_soon_is_an_error() {
    for when in ["now", "soon"] {
        let out = forkpool()
            .args(["--halt", when, "echo", ":::", "ran"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255), "{when}");
        assert!(out.stdout.is_empty(), "{when}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "forkpool: error: --halt {when} must be followed by ,fail=N, ,success=N or \
                 ,done=N\nforkpool: hint: e.g. --halt {when},fail=1\n"
            )
        );
    }
    // GNU's old numeric forms still work.
    assert_eq!(
        status(&["-j1", "--halt", "2", "exit {}", ":::", "3", "4"]),
        Some(3)
    );
}
