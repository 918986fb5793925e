//! Per-worker init and teardown, worker recycling, and what happens when init fails.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{TempDir, bin, forkpool, processes_matching, wait_for};

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn seq_input(n: usize) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

/// Output lines "SEQ REST..." keyed by SEQ; fails on a duplicate.
fn by_seq(stdout: &[u8]) -> BTreeMap<u64, Vec<String>> {
    let mut m = BTreeMap::new();
    for l in String::from_utf8_lossy(stdout).lines() {
        let mut w = l.split(' ').map(str::to_string);
        let seq: u64 = w.next().unwrap().parse().unwrap();
        assert!(m.insert(seq, w.collect()).is_none(), "job {seq} ran twice");
    }
    m
}

#[test]
fn init_runs_once_per_slot_and_every_job_sees_what_it_exported() {
    let dir = TempDir::new("init-once");
    let log = dir.path().join("init.log");
    let init = format!(
        "echo \"$FORKPOOL_SLOT $FORKPOOL_WORKER\" >> {}; echo DB=db$FORKPOOL_SLOT >> \"$FORKPOOL_ENV\"",
        log.display()
    );
    let out = forkpool()
        .args([
            "-j3",
            "--init",
            &init,
            "echo {} $DB $FORKPOOL_SLOT $FORKPOOL_WORKER",
        ])
        .write_stdin(seq_input(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stderr, b"");
    let inits = lines(&log);
    assert_eq!(inits.len(), 3, "init ran {inits:?}");
    // Slot -> worker id, as init saw them.
    let workers: BTreeMap<String, String> = inits
        .iter()
        .map(|l| {
            let (s, w) = l.split_once(' ').unwrap();
            (s.to_string(), w.to_string())
        })
        .collect();
    assert_eq!(workers.keys().collect::<Vec<_>>(), ["1", "2", "3"]);
    let jobs = by_seq(&out.stdout);
    assert_eq!(
        jobs.keys().copied().collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    for (seq, rest) in jobs {
        let [db, slot, worker] = &rest[..] else {
            panic!("job {seq}: {rest:?}")
        };
        assert_eq!(db, &format!("db{slot}"), "job {seq}");
        assert_eq!(worker, &workers[slot], "job {seq}");
    }
}

#[test]
fn workers_start_only_for_waiting_jobs() {
    let dir = TempDir::new("init-lazy");
    let log = dir.path().join("init.log");
    forkpool()
        .args([
            "-j8",
            "--init",
            &format!("echo x >> {}", log.display()),
            "true",
            ":::",
            "a",
            "b",
        ])
        .assert()
        .code(0);
    assert_eq!(lines(&log).len(), 2);
}

#[test]
fn worker_max_jobs_recycles_with_teardown_then_init() {
    let dir = TempDir::new("recycle");
    let log = dir.path().join("life.log");
    let init = format!(
        "echo init $FORKPOOL_WORKER >> {0}; echo \"TOKEN=t$FORKPOOL_WORKER\" >> \"$FORKPOOL_ENV\"",
        log.display()
    );
    let teardown = format!("echo teardown $FORKPOOL_WORKER $TOKEN >> {}", log.display());
    let out = forkpool()
        .args([
            "-j1",
            "--worker-max-jobs",
            "4",
            "--init",
            &init,
            "--teardown",
            &teardown,
            "echo {} $FORKPOOL_WORKER $TOKEN",
        ])
        .write_stdin(seq_input(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut expected = Vec::new();
    for w in 1..=8 {
        expected.push(format!("init {w}"));
        expected.push(format!("teardown {w} t{w}"));
    }
    assert_eq!(lines(&log), expected);
    for (seq, rest) in by_seq(&out.stdout) {
        let w = (seq - 1) / 4 + 1;
        assert_eq!(rest, [w.to_string(), format!("t{w}")], "job {seq}");
    }
}

#[test]
fn a_slot_whose_init_fails_is_retired_and_its_jobs_run_elsewhere() {
    let dir = TempDir::new("init-one-fails");
    let log = dir.path().join("init.log");
    let init = format!(
        "echo $FORKPOOL_SLOT >> {}; test $FORKPOOL_SLOT != 2 || {{ echo no database >&2; exit 3; }}",
        log.display()
    );
    // Jobs 5 and 6 fail: the exit status is the jobs' (2 failed), not the init's.
    let out = forkpool()
        .args([
            "-j3",
            "--init",
            &init,
            "echo {} $FORKPOOL_SLOT; test {} != 5 -a {} != 6",
        ])
        .write_stdin(seq_input(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let jobs = by_seq(&out.stdout);
    assert_eq!(
        jobs.keys().copied().collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    assert!(
        jobs.values().all(|r| r[0] != "2"),
        "a job ran in the failing slot"
    );
    // Slot 2 tried exactly 3 times.
    assert_eq!(lines(&log).iter().filter(|l| *l == "2").count(), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("slot 2 is retired after 3 failed attempts"),
        "{err}"
    );
    assert!(err.contains("exited with status 3: no database"), "{err}");
}

#[test]
fn init_failing_everywhere_is_an_error_naming_it() {
    let dir = TempDir::new("init-all-fail");
    let ran = dir.path().join("ran");
    let out = forkpool()
        .args([
            "-j3",
            "--init",
            "echo cannot connect to db >&2; exit 1",
            &format!("touch {}", ran.display()),
        ])
        .write_stdin(seq_input(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(out.stdout, b"");
    assert!(!ran.exists(), "a job ran without a worker");
    let err = String::from_utf8_lossy(&out.stderr);
    let error: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("forkpool: error:"))
        .collect();
    assert_eq!(
        error,
        [
            "forkpool: error: --init failed in every worker slot (3 attempts in each of 3); last: \
          `echo cannot connect to db >&2; exit 1` exited with status 1: cannot connect to db"
        ]
    );
}

#[test]
fn init_timeout_retires_hanging_inits_and_leaves_nothing_behind() {
    let marker = format!("sleep 8{}", std::process::id() % 1000 + 1000);
    let out = forkpool()
        .args([
            "-j2",
            "--init",
            &marker,
            "--init-timeout",
            "0.2",
            "echo {}",
            ":::",
            "a",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("timed out after 200ms (--init-timeout)"),
        "{err}"
    );
    assert!(processes_matching(&marker).is_empty());
}

#[test]
fn ctrl_c_runs_each_live_workers_teardown_once() {
    let dir = TempDir::new("init-sigint");
    let log = dir.path().join("teardown.log");
    let marker = format!("sleep 9{}", std::process::id() % 1000 + 1000);
    let mut child = Command::new(bin())
        .args([
            "-j3",
            "--init",
            "true",
            "--teardown",
            &format!("echo $FORKPOOL_WORKER >> {}", log.display()),
            &marker,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(seq_input(10).as_bytes())
        .unwrap();
    assert!(wait_for(Duration::from_secs(30), || processes_matching(
        &marker
    )
    .len()
        >= 3));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(Signal::SIGINT as i32));
    let mut ids = lines(&log);
    ids.sort();
    assert_eq!(ids, ["1", "2", "3"]);
    assert!(processes_matching(&marker).is_empty());
}

#[test]
fn init_output_goes_to_stderr_and_json_names_the_worker() {
    let out = forkpool()
        .args([
            "--json",
            "-j2",
            "--init",
            "echo hello from init $FORKPOOL_WORKER",
            "echo {}",
            ":::",
            "a",
            "b",
            "c",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut workers = BTreeSet::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("only JSON on stdout");
        workers.insert(v["worker"].as_u64().expect("worker is a number"));
    }
    assert!(workers.is_subset(&BTreeSet::from([1, 2])), "{workers:?}");
    let mut err: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    err.sort();
    assert_eq!(err, ["hello from init 1", "hello from init 2"]);
}

#[test]
fn env_file_takes_multiline_values_and_rejects_malformed_lines() {
    let out = forkpool()
        .args([
            "--init",
            "printf 'MSG<<END\\nline one\\n  line two\\nEND\\nX=a=b\\n' >> \"$FORKPOOL_ENV\"",
            "printf '%s|%s|%s\\n' \"$MSG\" \"$X\" {}",
            ":::",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "line one\n  line two|a=b|1\n"
    );
    assert_eq!(out.status.code(), Some(0));

    let out = forkpool()
        .args([
            "-j1",
            "--init",
            "echo oops >> \"$FORKPOOL_ENV\"",
            "echo {}",
            ":::",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1 of $FORKPOOL_ENV (\"oops\") is not KEY=VALUE or KEY<<DELIMITER"),
        "{err}"
    );
}

#[test]
fn joblog_keeps_gnu_columns_and_env_files_are_removed() {
    let dir = TempDir::new("init-joblog");
    let log = dir.path().join("log");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    forkpool()
        .args([
            "--joblog",
            log.to_str().unwrap(),
            "--tmpdir",
            tmp.to_str().unwrap(),
        ])
        .args([
            "--init",
            "echo A=1 >> \"$FORKPOOL_ENV\"",
            "--teardown",
            "true",
            "-j2",
            "true",
            ":::",
            "1",
            "2",
            "3",
        ])
        .assert()
        .code(0);
    let rows = lines(&log);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.split('\t').count() == 9), "{rows:?}");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "worker files left behind"
    );
}

#[test]
fn a_retry_after_idle_workers_were_torn_down_gets_a_live_worker() {
    let dir = TempDir::new("init-retry");
    let count = dir.path().join("count");
    let log = dir.path().join("life.log");
    // Job "slow" (slot 2) fails on its first attempt, after job "fast" (slot 1) has ended and its
    // worker, idle with no work left, was torn down: the retry must not run in that dead slot.
    let job = format!(
        "if [ {{}} = slow ]; then sleep 0.3; echo x >> {c}; [ $(wc -l < {c}) -ge 2 ] || exit 1; fi; echo job $FORKPOOL_WORKER >> {l}",
        c = count.display(),
        l = log.display()
    );
    forkpool()
        .args([
            "-j2",
            "--retries",
            "2",
            "--init",
            &format!("echo init $FORKPOOL_WORKER >> {}", log.display()),
            "--teardown",
            &format!("echo teardown $FORKPOOL_WORKER >> {}", log.display()),
            &job,
            ":::",
            "fast",
            "slow",
        ])
        .assert()
        .code(0);
    let life = lines(&log);
    let mut live = BTreeSet::new();
    let mut jobs = 0;
    for l in &life {
        let (what, id) = l.split_once(' ').unwrap();
        match what {
            "init" => assert!(live.insert(id), "{life:?}"),
            "teardown" => assert!(live.remove(id), "{life:?}"),
            _ => {
                assert!(live.contains(id), "a job ran in a dead worker: {life:?}");
                jobs += 1;
            }
        }
    }
    assert_eq!(jobs, 2, "{life:?}");
    assert!(live.is_empty(), "a worker was never torn down: {life:?}");
}

/// Regression: an init that ends while forkpool is stopping starts the teardown in the same slot
/// at once; the end of the init's output must not close the teardown's pipes (it died of SIGPIPE).
#[test]
fn sighup_during_init_runs_every_teardown_with_its_output() {
    let dir = TempDir::new("init-sighup");
    let d = dir.path().display().to_string();
    let init = format!(
        "trap '' TERM; touch {d}/up.$FORKPOOL_SLOT; n=0; while [ ! -e {d}/go ] && [ $n -lt 3000 ]; do sleep 0.01; n=$((n+1)); done; echo init $FORKPOOL_SLOT"
    );
    let child = Command::new(bin())
        .args([
            "-j8",
            // The stop sends TERM to the inits, which ignore it and end when told to.
            "--termseq",
            "TERM,30000,KILL,25",
            "--init",
            &init,
            "--teardown",
            "echo td $FORKPOOL_SLOT >&2",
            "echo {}",
            ":::",
        ])
        .args((1..=16).map(|i| i.to_string()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let up = || (1..=8).all(|s| dir.path().join(format!("up.{s}")).exists());
    assert!(wait_for(Duration::from_secs(30), up), "inits did not start");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).unwrap();
    std::fs::write(dir.path().join("go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    // No job had started: the run did not do its work, so it dies of the SIGHUP (issue 13).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(Signal::SIGHUP as i32));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut td: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with("td "))
        .map(str::to_string)
        .collect();
    td.sort();
    let want: Vec<String> = (1..=8).map(|s| format!("td {s}")).collect();
    assert_eq!(td, want, "{stderr}");
    assert!(!stderr.contains("SIGPIPE"), "{stderr}");
}

/// Under any open-files limit, a run with --init either works or ends with forkpool's error:
/// an init that cannot even start must not leave the loop waiting for an event that never comes.
#[test]
fn init_that_cannot_start_under_a_low_fd_limit_ends_cleanly() {
    for limit in 10..=24 {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {limit} && exec \"$0\" -j2 --init 'echo hi' 'echo {{}}' ::: 1 2"
            ))
            .arg(bin())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let ended = wait_for(Duration::from_secs(30), || {
            child.try_wait().unwrap().is_some()
        });
        if !ended {
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        assert!(ended, "hung with ulimit -n {limit}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                let mut lines: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').collect();
                lines.sort();
                assert_eq!(lines, [&b""[..], b"1", b"2"], "ulimit -n {limit}");
            }
            Some(255) => assert!(
                stderr.contains("forkpool: error: "),
                "ulimit -n {limit}: {stderr}"
            ),
            other => panic!("ulimit -n {limit}: status {other:?}: {stderr}"),
        }
    }
}
