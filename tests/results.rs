//! Results you can script against: --json, --joblog, --resume*, --retries, --timeout, --halt,
//! --delay and --results.

use std::time::Duration;

use crate::support::{TempDir, forkpool, processes_matching, wait_for};

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every line parses as JSON"))
        .collect()
}

#[test]
fn json_reports_exit_codes_and_output_in_order() {
    let out = forkpool()
        .args([
            "--json",
            "-k",
            "printf \"%s\" {}; exit {}",
            ":::",
            "0",
            "1",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as u64 + 1);
        assert_eq!(l["exit_code"], i as i64);
        assert_eq!(l["stdout"], i.to_string());
        assert_eq!(l["stderr"], "");
        assert_eq!(l["args"], serde_json::json!([i.to_string()]));
        assert_eq!(l["signal"], serde_json::Value::Null);
        assert_eq!(l["host"], serde_json::Value::Null);
        assert_eq!(l["timed_out"], false);
        assert_eq!(l["attempts"], 1);
        assert!(l["start"].as_f64().unwrap() > 1.0e9);
        assert!(l["runtime"].as_f64().unwrap() >= 0.0);
        assert!(l["slot"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn json_keeps_invalid_utf8_output_as_base64() {
    let out = forkpool()
        .args(["--json", "printf '\\377\\376'", ":::", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["stdout"], serde_json::Value::Null);
    assert_eq!(lines[0]["stdout_base64"], "//4=");
}

#[test]
fn json_reports_signals() {
    let out = forkpool()
        .args(["--json", "kill -9 $$", ":::", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let l = &json_lines(&out.stdout)[0];
    assert_eq!(l["exit_code"], serde_json::Value::Null);
    assert_eq!(l["signal"], "SIGKILL");
}

fn joblog_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand")
    );
    lines
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

#[test]
fn joblog_has_gnu_columns() {
    let dir = TempDir::new("joblog");
    let log = dir.path().join("log");
    forkpool()
        .args(["--joblog"])
        .arg(&log)
        .args(["-k", "echo hello{}; exit {#}", ":::", "a", "bb"])
        .assert()
        .code(2);
    let mut rows = joblog_rows(&log);
    rows.sort_by_key(|r| r[0].parse::<u64>().unwrap());
    assert_eq!(rows.len(), 2);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 9);
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[1], ":");
        assert!(row[2].contains('.') && row[2].split('.').nth(1).unwrap().len() == 3);
        assert_eq!(row[3].len(), 10, "runtime is %10.3f: {:?}", row[3]);
        assert_eq!(row[4], "0");
        assert_eq!(row[6], (i + 1).to_string());
        assert_eq!(row[7], "0");
    }
    assert_eq!(rows[0][5], "7");
    assert_eq!(rows[1][5], "8");
    assert_eq!(rows[0][8], "echo helloa; exit 1");
}

#[test]
fn resume_skips_logged_jobs_and_appends() {
    let dir = TempDir::new("resume");
    let log = dir.path().join("log");
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["-k", "echo {}", ":::", "a", "b"])
        .assert()
        .success()
        .stdout("a\nb\n");
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["--resume", "-k", "echo {}", ":::", "a", "b", "c"])
        .assert()
        .success()
        .stdout("c\n");
    // The joblog is in completion order; jobs 1 and 2 may have finished either way round.
    let mut seqs: Vec<String> = joblog_rows(&log)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    seqs.sort();
    assert_eq!(seqs, ["1", "2", "3"]);
}

#[test]
fn resume_failed_and_retry_failed_rerun_failures() {
    let dir = TempDir::new("resume-failed");
    let log = dir.path().join("log");
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["-k", "echo {}; exit {}", ":::", "0", "1"])
        .assert()
        .code(1);
    // --resume-failed runs the failed job with today's command.
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["--resume-failed", "-k", "echo new{}", ":::", "0", "1"])
        .assert()
        .success()
        .stdout("new1\n");
    let log2 = dir.path().join("log2");
    forkpool()
        .arg("--joblog")
        .arg(&log2)
        .args(["-k", "echo {}; exit {}", ":::", "0", "3"])
        .assert()
        .code(1);
    // --retry-failed runs the logged command, ignoring the new one.
    forkpool()
        .arg("--joblog")
        .arg(&log2)
        .args(["--retry-failed", "echo ignored"])
        .write_stdin("")
        .assert()
        .code(1)
        .stdout("3\n");
}

#[test]
fn resume_after_sigkill_runs_only_unfinished_jobs() {
    let dir = TempDir::new("resume-kill");
    let log = dir.path().join("log");
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    // Jobs 1-4 finish at once; job 5 and later block until a release file appears (or the test's
    // directory goes: the killed run's jobs are orphans nobody else stops, even if the test fails).
    let script = format!(
        "echo {{}} >> {m}/ran.{{}}; if [ {{}} -gt 4 ]; then while [ -d {m} ] && [ ! -e {m}/release ]; do sleep 0.05; done; fi",
        m = marks.display()
    );
    let mut child = std::process::Command::new(crate::support::bin())
        .arg("--joblog")
        .arg(&log)
        .args(["-j2", &script, ":::"])
        .args((1..=8).map(|i| i.to_string()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(30), || {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().count() == 5)
            .unwrap_or(false)
            && marks.join("ran.6").exists()
    }));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(marks.join("release"), "").unwrap();
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["--resume", "-j2", &script, ":::"])
        .args((1..=8).map(|i| i.to_string()))
        .assert()
        .success();
    let mut seqs: Vec<u64> = joblog_rows(&log)
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    seqs.sort();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    for i in 1..=8 {
        let runs = std::fs::read_to_string(marks.join(format!("ran.{i}")))
            .unwrap()
            .lines()
            .count();
        let expected = if i == 5 || i == 6 { 2 } else { 1 };
        assert_eq!(runs, expected, "job {i} ran {runs} times");
    }
}

#[test]
fn retries_run_failed_jobs_again_and_print_the_last_attempt() {
    let dir = TempDir::new("retries");
    let count = dir.path().join("count");
    let script = format!(
        ": {{}}; echo x >> {c}; n=$(wc -l < {c}); echo attempt $n; [ $n -ge 3 ]",
        c = count.display()
    );
    let out = forkpool()
        .args(["--json", "--retries", "5", &script, ":::", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let l = &json_lines(&out.stdout)[0];
    assert_eq!(l["attempts"], 3);
    assert_eq!(l["stdout"], "attempt 3\n");
    forkpool()
        .args(["--retries", "2", "echo try; exit 1", ":::", "1"])
        .assert()
        .code(1)
        .stdout("try\n");
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let marker = format!("sleep 3{}", std::process::id() % 1000 + 1000);
    let out = forkpool()
        .args([
            "--json",
            "--timeout",
            "1",
            &format!("sh -c \"{marker} & {marker}\"; echo after"),
            ":::",
            "x",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let l = &json_lines(&out.stdout)[0];
    assert_eq!(l["timed_out"], true);
    assert_eq!(l["signal"], "SIGTERM");
    assert!(wait_for(Duration::from_secs(10), || processes_matching(
        &marker
    )
    .is_empty()));
}

#[test]
fn timeout_keeps_output_printed_before_the_kill() {
    forkpool()
        .args(["--timeout", "0.5s", "echo before; sleep 30", ":::", "x"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
        .stdout("before\n");
}

#[test]
fn halt_now_fail_1_exits_with_the_failing_jobs_status() {
    forkpool()
        .args([
            "--halt",
            "now,fail=1",
            "-j1",
            "echo {}; exit {}",
            ":::",
            "0",
            "2",
            "3",
        ])
        .assert()
        .code(2)
        .stdout("0\n2\n");
    forkpool()
        .args([
            "--halt",
            "soon,fail=1",
            "-j1",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
            "4",
        ])
        .assert()
        .code(3)
        .stdout("0\n3\n");
    forkpool()
        .args([
            "--halt",
            "now,success=1",
            "-j1",
            "echo {}; exit {}",
            ":::",
            "1",
            "0",
            "3",
        ])
        .assert()
        .code(0)
        .stdout("1\n0\n");
    forkpool()
        .args([
            "--halt",
            "now,done=2",
            "-j1",
            "echo {}; exit {}",
            ":::",
            "1",
            "0",
            "3",
        ])
        .assert()
        .code(1)
        .stdout("1\n0\n");
}

#[test]
fn halt_now_stops_running_jobs() {
    let marker = format!("sleep 4{}", std::process::id() % 1000 + 1000);
    forkpool()
        .args([
            "--halt",
            "now,fail=1",
            "-j2",
            &format!("if [ {{}} = 1 ]; then {marker}; else exit 5; fi"),
            ":::",
            "1",
            "2",
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(5);
    assert!(wait_for(Duration::from_secs(10), || processes_matching(
        &marker
    )
    .is_empty()));
}

#[test]
fn results_dir_is_laid_out_as_gnu_parallel() {
    let dir = TempDir::new("results");
    let res = dir.path().join("res");
    forkpool()
        .arg("--results")
        .arg(&res)
        .args(["echo", ":::", "a/b", "x y", ":::", "1"])
        .assert()
        .success();
    let base = res.join("1").join("a\\_b").join("2").join("1");
    assert_eq!(
        std::fs::read_to_string(base.join("stdout")).unwrap(),
        "a/b 1\n"
    );
    assert_eq!(std::fs::read_to_string(base.join("stderr")).unwrap(), "");
    assert_eq!(std::fs::read_to_string(base.join("seq")).unwrap(), "1");
    assert!(
        res.join("1")
            .join("x y")
            .join("2")
            .join("1")
            .join("stdout")
            .exists()
    );
}

#[test]
fn delay_spaces_job_starts() {
    let out = forkpool()
        .args([
            "--json", "--delay", "0.2", "-j4", "true", ":::", "1", "2", "3",
        ])
        .output()
        .unwrap();
    let mut starts: Vec<f64> = json_lines(&out.stdout)
        .iter()
        .map(|l| l["start"].as_f64().unwrap())
        .collect();
    starts.sort_by(f64::total_cmp);
    assert!(starts[2] - starts[0] >= 0.35, "starts {starts:?}");
}

#[test]
fn bad_result_options_are_clear_errors() {
    let dir = TempDir::new("bad-results");
    let notlog = dir.path().join("notlog");
    std::fs::write(&notlog, "hello\n").unwrap();
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec!["--timeout".into(), "abc".into()],
        vec!["--timeout".into(), "5x".into()],
        vec!["--delay".into(), "1y".into()],
        vec!["--halt".into(), "sometimes".into()],
        vec!["--termseq".into(), "FOO,10".into()],
        vec!["--resume".into()],
        vec!["--joblog".into(), notlog.clone().into(), "--resume".into()],
    ];
    for args in cases {
        let out = forkpool()
            .args(&args)
            .args(["true", ":::", "1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("forkpool: error: "), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// Issue 13.7: a newline inside a command is logged as NUL (GNU parallel's encoding, since no
/// command holds a NUL) and read back as a newline, so `--retry-failed` runs the very command.
#[test]
fn retry_failed_runs_a_command_with_a_newline_byte_exact() {
    let dir = TempDir::new("joblog-newline");
    let log = dir.path().join("log");
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["-0", "printf '[%s]\\n' {}; exit 1"])
        .write_stdin("a\nb\0")
        .assert()
        .code(1)
        .stdout("[a\nb]\n");
    let text = std::fs::read(&log).unwrap();
    let line = text.split(|&b| b == b'\n').nth(1).unwrap();
    let command = line.splitn(9, |&b| b == b'\t').nth(8).unwrap();
    assert_eq!(
        String::from_utf8_lossy(command),
        "printf '[%s]\\n' 'a\0b'; exit 1"
    );
    assert_eq!(text.split(|&b| b == b'\n').count(), 3, "one line per job");
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["--retry-failed", "echo ignored"])
        .write_stdin("")
        .assert()
        .code(1)
        .stdout("[a\nb]\n");
}

/// Issue 13.8: with `--header :` the directory levels are the header names, in GNU parallel's
/// order (sorted by name: numerically, then byte-wise), and a column without a name keeps its
/// position.
#[test]
fn results_levels_are_named_by_the_header() {
    let dir = TempDir::new("results-header");
    let res = dir.path().join("res");
    forkpool()
        .arg("--results")
        .arg(&res)
        .args(["--header", ":", "-k", "echo", ":::", "f1", "A", "B"])
        .args([":::", "f2", "C", "D"])
        .assert()
        .success()
        .stdout("A C\nA D\nB C\nB D\n");
    for (a, c, seq) in [("A", "C", 1), ("A", "D", 2), ("B", "C", 3), ("B", "D", 4)] {
        let base = res.join("f1").join(a).join("f2").join(c);
        assert_eq!(
            std::fs::read_to_string(base.join("stdout")).unwrap(),
            format!("{a} {c}\n")
        );
        assert_eq!(
            std::fs::read_to_string(base.join("seq")).unwrap(),
            seq.to_string()
        );
    }
    assert!(!res.join("1").exists());
    let sorted = dir.path().join("sorted");
    forkpool()
        .arg("--results")
        .arg(&sorted)
        .args(["--header", ":", "--colsep", ",", "echo"])
        .write_stdin("zz,aa\nx,y,z\n")
        .assert()
        .success()
        .stdout("x y z\n");
    let base = sorted.join("aa/y/zz/x/3/z");
    assert_eq!(
        std::fs::read_to_string(base.join("stdout")).unwrap(),
        "x y z\n"
    );
}

/// Issue 13.8: the `seq` file holds the number alone, as GNU parallel writes it.
#[test]
fn results_seq_file_has_no_trailing_newline() {
    let dir = TempDir::new("results-seq");
    let res = dir.path().join("res");
    forkpool()
        .arg("--results")
        .arg(&res)
        .args(["true", ":::", "a", "b"])
        .assert()
        .success();
    assert_eq!(std::fs::read(res.join("1/a/seq")).unwrap(), b"1");
    assert_eq!(std::fs::read(res.join("1/b/seq")).unwrap(), b"2");
}

/// Issue 19.10: a value longer than a file name may be (255 bytes) is split into
/// subdirectories of at most 255 bytes, so the run goes on and no two values share a directory.
#[test]
fn results_splits_a_value_longer_than_a_file_name_into_subdirectories() {
    let dir = TempDir::new("results-long");
    let res = dir.path().join("res");
    let long = "x".repeat(600);
    let longer = format!("{long}y");
    forkpool()
        .arg("--results")
        .arg(&res)
        .args(["-k", "echo {#}", ":::", &long, &longer, "short"])
        .assert()
        .success()
        .stdout("1\n2\n3\n");
    let top = res.join("1").join("x".repeat(255)).join("x".repeat(255));
    for (rest, seq) in [("x".repeat(90), 1), (format!("{}y", "x".repeat(90)), 2)] {
        let base = top.join(rest).join("stdout");
        assert_eq!(
            std::fs::read_to_string(&base).unwrap(),
            format!("{seq}\n"),
            "{}",
            base.display()
        );
    }
    assert_eq!(
        std::fs::read_to_string(res.join("1/short/stdout")).unwrap(),
        "3\n"
    );
    // Longer than PATH_MAX in all: the levels are made one at a time.
    let huge = "é".repeat(3000);
    let out = dir.path().join("huge");
    forkpool()
        .arg("--results")
        .arg(&out)
        .args(["echo", ":::", &huge])
        .assert()
        .success();
    let pieces: Vec<&str> = huge
        .as_bytes()
        .chunks(254)
        .map(|p| std::str::from_utf8(p).unwrap())
        .collect();
    assert!(pieces.iter().map(|p| p.len() + 1).sum::<usize>() > 4096);
    // `cd -P` one level at a time: the whole path is too long for one system call.
    let mut read = std::process::Command::new("sh")
        .args([
            "-c",
            "for d; do cd -P \"$d\" || exit; done; cat stdout",
            "sh",
            "1",
        ])
        .args(&pieces)
        .current_dir(&out)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(read.pop(), Some(b'\n'));
    assert_eq!(read, huge.as_bytes());
}

/// A joblog of jobs 1 and 2 done, and `tail` after them.
fn joblog_with(tail: &str) -> String {
    let mut text =
        "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n".to_string();
    for i in 1..=2 {
        text += &format!("{i}\t:\t1700000000.000\t     0.001\t0\t2\t0\t0\techo {i}\n");
    }
    text + tail
}

/// Issue 19.12: a joblog whose last line was cut short (no newline, or too few columns: a full
/// disk or a power cut) still resumes: that line is ignored with one warning, its job runs again,
/// and the cut line is replaced, so the joblog stays whole.
#[test]
fn resume_reruns_the_job_of_a_cut_short_last_joblog_line() {
    let dir = TempDir::new("joblog-cut");
    for tail in [
        "3\t:\t1700000000.000\t     0.001\t0\t2\t0\t0\techo",
        "3\t:\t17000",
        "3\t:\t17000\n",
    ] {
        let log = dir.path().join("log");
        std::fs::write(&log, joblog_with(tail)).unwrap();
        let out = forkpool()
            .arg("--joblog")
            .arg(&log)
            .args(["--resume", "-k", "echo {}", ":::", "1", "2", "3", "4"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{tail:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n4\n", "{tail:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{tail:?}: {err}");
        assert!(
            err.starts_with("forkpool: warning: ") && err.contains("line 4"),
            "{err}"
        );
        let mut seqs: Vec<String> = joblog_rows(&log)
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert!(joblog_rows(&log).iter().all(|r| r.len() == 9), "{tail:?}");
        seqs.sort();
        assert_eq!(seqs, ["1", "2", "3", "4"], "{tail:?}");
    }
    // Cut inside the header: nothing is logged, every job runs and the header is written again.
    let log = dir.path().join("header");
    std::fs::write(&log, "Seq\tHost\tStart").unwrap();
    forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["--resume", "-k", "echo {}", ":::", "1", "2"])
        .assert()
        .success()
        .stdout("1\n2\n");
    assert_eq!(joblog_rows(&log).len(), 2);
}

/// Issue 19.12: only the last line may be cut short; a malformed line before it is an error.
#[test]
fn a_malformed_joblog_line_before_the_last_is_an_error() {
    let dir = TempDir::new("joblog-bad");
    let log = dir.path().join("log");
    let good = "3\t:\t1700000000.000\t     0.001\t0\t2\t0\t0\techo 3\n";
    std::fs::write(&log, joblog_with(&format!("3\t:\t17000\n{good}"))).unwrap();
    let out = forkpool()
        .arg("--joblog")
        .arg(&log)
        .args(["--resume", "echo {}", ":::", "1", "2", "3", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a joblog (line 4)"), "{err}");
}
