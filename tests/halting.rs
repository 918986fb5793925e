//! `--halt`, `--retries`, `--retry-failed` and the joblog at a halt, each checked against what
//! GNU parallel 20221122 does.

use crate::support::{TempDir, forkpool};

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

/// A fresh directory and the path of a joblog in it.
fn joblog_in(name: &str) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new(name);
    let log = dir.path().join("jl");
    (dir, log)
}

fn with_joblog(log: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = forkpool();
    cmd.arg("--joblog").arg(log);
    cmd
}

fn joblog_seqs(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

/// Jobs that `--halt now` kills are not logged (as in GNU parallel), so `--resume` runs them.
#[test]
fn jobs_killed_by_halt_now_are_not_logged_and_resume_runs_them() {
    let (dir, log) = joblog_in("halt-joblog");
    with_joblog(&log)
        .args([
            "-j2",
            "--halt",
            "now,fail=1",
            "sleep {}; exit 1",
            ":::",
            "30",
            "0.2",
        ])
        .assert()
        .code(1)
        .stdout("");
    assert_eq!(joblog_seqs(&log), ["2"]);
    // `--halt soon` lets the running job end: it is logged.
    let soon = dir.path().join("soon");
    with_joblog(&soon)
        .args([
            "-j2",
            "--halt",
            "soon,fail=1",
            "sleep {}; exit 1",
            ":::",
            "0.5",
            "0.1",
        ])
        .assert()
        .code(1);
    let mut seqs = joblog_seqs(&soon);
    seqs.sort();
    assert_eq!(seqs, ["1", "2"]);
    with_joblog(&log)
        .args(["--resume", "-j2", "echo {}", ":::", "30", "0.2"])
        .assert()
        .success()
        .stdout("30\n");
    assert_eq!(joblog_seqs(&log), ["2", "1"]);
}

/// With -k a job is logged when its output goes out, so in input order; with `--joblog -` its
/// line comes right after its output (as GNU parallel).
#[test]
fn keep_order_logs_jobs_in_input_order_after_their_output() {
    let (_dir, log) = joblog_in("keep-joblog");
    with_joblog(&log)
        .args(["-k", "-j3", "sleep {}; echo {}", ":::", "1", "0.1", "0.5"])
        .assert()
        .success()
        .stdout("1\n0.1\n0.5\n");
    assert_eq!(joblog_seqs(&log), ["1", "2", "3"]);
    for keep in [true, false] {
        let out = forkpool()
            .args(["--joblog", "-", "-j2"])
            .args(keep.then_some("-k"))
            .args(["sleep {}; echo out{}", ":::", "1", "0.1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        let want = if keep {
            ["Seq", "out1", "1", "out0.1", "2"]
        } else {
            ["Seq", "out0.1", "2", "out1", "1"]
        };
        assert_eq!(lines, want, "-k {keep}");
    }
}

/// `--retries 0` is no limit (GNU parallel's "0 = Inf"): the job runs until it succeeds.
#[test]
fn retries_0_retries_until_the_job_succeeds() {
    let dir = TempDir::new("retries-0");
    let count = dir.path().join("count");
    let log = dir.path().join("jl");
    with_joblog(&log)
        .args(["--retries", "0", "echo x >> {}; test $(wc -l < {}) -ge 5"])
        .arg(":::")
        .arg(&count)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n".repeat(5));
    assert_eq!(joblog_seqs(&log), ["1"]);
}

/// `--retry-failed` before any joblog exists runs the inputs and logs them, as GNU parallel;
/// the next `--retry-failed` then replays only the failed commands.
#[test]
fn retry_failed_without_a_joblog_runs_the_inputs() {
    let (_dir, log) = joblog_in("retry-failed-new");
    with_joblog(&log)
        .args([
            "-k",
            "--retry-failed",
            "echo {}; test {} = ok",
            ":::",
            "ok",
            "bad",
        ])
        .assert()
        .code(1)
        .stdout("ok\nbad\n");
    assert_eq!(joblog_seqs(&log), ["1", "2"]);
    with_joblog(&log)
        .args(["--retry-failed", "echo ignored", ":::", "x"])
        .assert()
        .code(1)
        .stdout("bad\n");
    assert_eq!(joblog_seqs(&log), ["1", "2", "2"]);
}

/// `-u -v`: each command line is out before its job starts (the job writes to the same stdout
/// itself), and `--tag` tags neither, as in GNU parallel.
#[test]
fn ungroup_verbose_prints_each_command_before_its_output_untagged() {
    forkpool()
        .args(["-u", "-v", "--tag", "-j1", "echo", ":::", "a", "b"])
        .assert()
        .success()
        .stdout("echo a\na\necho b\nb\n");
    let values: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
    for _ in 0..5 {
        let out = forkpool()
            .args(["-u", "-v", "-j6", "echo"])
            .arg(":::")
            .args(&values)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 24, "{text}");
        for v in &values {
            let command = lines.iter().position(|l| *l == format!("echo {v}"));
            let output = lines.iter().position(|l| l == v);
            assert!(command.is_some() && command < output, "{v}: {text}");
        }
    }
}
