//! `--persistent`: one long-lived worker command per slot takes the jobs as requests on its
//! stdin, and each reply on its stdout is one job's output. Faults (a worker that dies, hangs,
//! or breaks the protocol) cost the job in flight only.

use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{TempDir, bin, forkpool, processes_matching, wait_for};

/// A worker that upper-cases each line; `os._exit(3)` on `die`, hangs on `hang`.
const UPPER: &str = r#"
import os, sys, time
for l in sys.stdin:
    v = l.rstrip("\n")
    if v == "die":
        os._exit(3)
    if v == "hang":
        time.sleep(3600)
    print(v.upper(), flush=True)
"#;

fn worker(dir: &TempDir, name: &str, code: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, code).unwrap();
    format!("python3 {}", p.display())
}

fn lines(range: std::ops::RangeInclusive<u32>) -> String {
    range.map(|i| format!("v{i}\n")).collect()
}

#[test]
fn a_hundred_thousand_jobs_through_two_workers_match_the_per_job_result() {
    let dir = TempDir::new("persist-many");
    let cmd = worker(&dir, "upper.py", UPPER);
    let input = lines(1..=100_000);
    let out = forkpool()
        .args(["--persistent", "-j2", "-k", &cmd])
        .write_stdin(input.clone())
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == input.to_uppercase().into_bytes());
}

#[test]
fn a_worker_that_dies_fails_only_its_job_and_is_replaced() {
    let dir = TempDir::new("persist-die");
    let cmd = worker(&dir, "upper.py", UPPER);
    let input: String = (1..=100)
        .map(|i| {
            if i == 42 {
                "die\n".to_string()
            } else {
                format!("v{i}\n")
            }
        })
        .collect();
    let log = dir.path().join("log");
    let out = forkpool()
        .args(["--persistent", "-j2", "-k", "--joblog"])
        .arg(&log)
        .arg(&cmd)
        .write_stdin(input.clone())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: String = input
        .lines()
        .filter(|l| *l != "die")
        .map(|l| l.to_uppercase() + "\n")
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    let log = std::fs::read_to_string(&log).unwrap();
    let failed: Vec<(String, String)> = log
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[6] != "0")
        .map(|f| (f[0].to_string(), f[6].to_string()))
        .collect();
    assert_eq!(failed, [("42".to_string(), "3".to_string())]);

    // --retries 3 (three attempts in all, as in GNU parallel) tries job 42 three times, each
    // on a fresh worker, and costs no other job: the slot is not retired for it.
    let tries = dir.path().join("tries");
    let counting = worker(
        &dir,
        "count.py",
        &format!(
            "import os, sys\nfor l in sys.stdin:\n    if l.strip() == 'die':\n        open({:?}, 'a').write('x')\n        os._exit(3)\n    print(l.strip(), flush=True)\n",
            tries.display().to_string()
        ),
    );
    let out = forkpool()
        .args(["--persistent", "-j1", "--retries", "3", "--joblog", "-"])
        .arg(&counting)
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("42\t"))
        .expect("job 42 in the joblog");
    assert_eq!(row.split('\t').nth(6), Some("3"), "{row}");
    assert_eq!(std::fs::read_to_string(&tries).unwrap(), "xxx");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout.lines().count(), 1 + 100 + 99, "every other job ran");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("retired"), "{err}");
}

#[test]
fn a_late_reply_after_a_timeout_does_not_count() {
    let dir = TempDir::new("persist-late");
    // On TERM it answers the job it hung on, then exits.
    let cmd = worker(
        &dir,
        "late.py",
        r#"
import signal, sys, time
cur = [None]
def term(*a):
    print("late-" + str(cur[0]), flush=True)
    sys.exit(1)
signal.signal(signal.SIGTERM, term)
for l in sys.stdin:
    cur[0] = l.strip()
    if cur[0] == "2":
        time.sleep(100)
    print("ok-" + cur[0], flush=True)
"#,
    );
    let out = forkpool()
        .args(["--persistent", "-j1", "-k", "--timeout", "1", &cmd])
        .write_stdin("1\n2\n3\n4\n")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok-1\nok-3\nok-4\n");
}

#[test]
fn requests_that_would_break_the_framing_are_refused_per_job() {
    let dir = TempDir::new("persist-frame");
    let cmd = worker(&dir, "upper.py", UPPER);
    // A value with a newline cannot go as one line: that job fails, the others run.
    let out = forkpool()
        .args(["--persistent", "-0", "-j1", "-k", &cmd])
        .write_stdin("a\0b\nc\0d\0")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "A\nD\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("job 2 cannot be sent"));
    // Two lines for one request put the worker out of step: the next job must not get the
    // second line.
    let out = forkpool()
        .args(["--persistent", "-j1", "-k"])
        .arg("while read x; do printf 'r-%s\\nextra-%s\\n' $x $x; done")
        .write_stdin("1\n2\n3\n")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "r-1\nr-2\nr-3\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote more than one reply to job 1"));
}

#[test]
fn json_requests_carry_bytes_that_are_not_utf8_as_base64() {
    let dir = TempDir::new("persist-b64");
    let cmd = worker(
        &dir,
        "echo.py",
        "import json, sys\nfor l in sys.stdin:\n    r = json.loads(l)\n    print(json.dumps({'stdout': repr(r.get('args')) + ' ' + repr(r.get('args_base64')) + '\\n'}), flush=True)\n",
    );
    let out = forkpool()
        .args(["--persistent", "--protocol", "json", &cmd, ":::"])
        .arg(std::ffi::OsStr::from_bytes(b"a\xffb"))
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "None ['Yf9i']\n");
}

#[test]
fn a_hung_job_times_out_alone() {
    let dir = TempDir::new("persist-hang");
    let cmd = worker(&dir, "upper.py", UPPER);
    let out = forkpool()
        .args(["--persistent", "-j1", "-k", "--timeout", "1", &cmd])
        .write_stdin("a\nhang\nb\n")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "A\nB\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("job 2 timed out"));
}

#[test]
fn protocols_json_and_end_marker() {
    let dir = TempDir::new("persist-proto");
    let json = worker(
        &dir,
        "jw.py",
        r#"
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    a = r["args"][0]
    print(json.dumps({"stdout": a + " " + str(r["slot"]) + "\n", "stderr": "e " + a + "\n",
                      "exit_code": 4 if a == "b" else 0, "seq": r["seq"]}), flush=True)
"#,
    );
    let out = forkpool()
        .args(["--persistent", "-j1", "-k", "--protocol", "json", &json])
        .write_stdin("a\nb\nc\n")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a 1\nb 1\nc 1\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "e a\ne b\ne c\n");

    let out = forkpool()
        .args([
            "--persistent",
            "-k",
            "--protocol",
            "end=END",
            "--send",
            "<{}>",
        ])
        .arg("while read l; do echo \"1 $l\"; echo \"2 $l\"; echo END; done")
        .write_stdin("x\ny\n")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 <x>\n2 <x>\n1 <y>\n2 <y>\n"
    );
}

#[test]
fn a_protocol_violation_fails_the_job_and_restarts_the_worker() {
    let dir = TempDir::new("persist-bad");
    let bad = worker(
        &dir,
        "bad.py",
        r#"
import json, sys
for l in sys.stdin:
    bad = json.loads(l)["args"] == ["2"]
    print("not json" if bad else '{"stdout": "ok\\n"}', flush=True)
"#,
    );
    let out = forkpool()
        .args(["--persistent", "-j1", "-k", "--protocol", "json", &bad])
        .write_stdin("1\n2\n3\n")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\nok\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("job 2: the --persistent worker (slot 1) broke the protocol"),
        "{err}"
    );
}

#[test]
fn worker_max_jobs_recycles_with_init_and_teardown() {
    let dir = TempDir::new("persist-recycle");
    let cmd = worker(&dir, "upper.py", UPPER);
    let inits = dir.path().join("inits");
    let downs = dir.path().join("downs");
    let out = forkpool()
        .args(["--persistent", "-j1", "-k", "--worker-max-jobs", "10"])
        .arg("--init")
        .arg(format!("echo $FORKPOOL_WORKER >> {}", inits.display()))
        .arg("--teardown")
        .arg(format!("echo $FORKPOOL_WORKER >> {}", downs.display()))
        .arg(&cmd)
        .write_stdin(lines(1..=100))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, lines(1..=100).to_uppercase().into_bytes());
    let want: String = (1..=10).map(|i| format!("{i}\n")).collect();
    assert_eq!(std::fs::read_to_string(&inits).unwrap(), want);
    assert_eq!(std::fs::read_to_string(&downs).unwrap(), want);
}

#[test]
fn workers_that_always_die_retire_every_slot_and_exit_255() {
    let out = forkpool()
        .args(["--persistent", "-j2", "echo broken >&2; exit 7"])
        .write_stdin(lines(1..=20))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        err.contains("every worker slot is retired") && err.contains("broken"),
        "{last}"
    );
}

#[test]
fn per_job_strings_in_the_command_are_refused() {
    for cmd in [["echo", "{}"], ["echo", "{#}"]] {
        let out = forkpool()
            .arg("--persistent")
            .args(cmd)
            .write_stdin("a\n")
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot use per-job replacement strings"),
            "{err}"
        );
    }
}

#[test]
fn interrupt_leaves_no_worker_alive() {
    let dir = TempDir::new("persist-int");
    let marker = format!("persist-int-{}", std::process::id());
    let cmd = format!(
        "exec python3 {} {marker}",
        dir.path().join("upper.py").display()
    );
    std::fs::write(dir.path().join("upper.py"), UPPER).unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["--persistent", "-j2", &cmd])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Two jobs that never end keep both workers busy; the input stays open.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"hang\nhang\n").unwrap();
    // forkpool itself and its two workers carry the marker.
    assert!(wait_for(Duration::from_secs(30), || processes_matching(
        &marker
    )
    .len()
        == 3));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    let left = processes_matching(&marker);
    for pid in &left {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(left.is_empty(), "a worker outlived forkpool");
}
