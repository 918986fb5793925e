//! Regression tests for the defects of issues 13 and 19 that the architecture step fixed in the
//! scheduler and the output stage: resuming after an interrupt, `--timeout N%` for jobs that
//! started early, SIGHUP with jobs left, long lines with `--line-buffer`, and an oversized value
//! with `-X`.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{TempDir, bin, forkpool, wait_for};

const SLOW: Duration = Duration::from_secs(30);

fn lines(p: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn resume_reruns_a_job_that_an_interrupt_killed() {
    let dir = TempDir::new("resume-int");
    let log = dir.path().join("b.log");
    let ran = dir.path().join("ran");
    let go = dir.path().join("go");
    let job = format!(
        "echo {{}} >> {r}; while [ ! -e {g} ]; do sleep 0.02; done",
        r = ran.display(),
        g = go.display()
    );
    let args = [
        "-j1",
        "--joblog",
        log.to_str().unwrap(),
        "--resume",
        &job,
        ":::",
        "t1",
        "t2",
    ];
    let mut child = Command::new(bin())
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(SLOW, || lines(&ran) == ["t1"]));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(Signal::SIGINT as i32));
    // The killed job is not in the joblog (only its header), so the same command runs it again.
    assert_eq!(lines(&log).len(), 1, "{:?}", lines(&log));
    std::fs::write(&go, "").unwrap();
    forkpool().args(args).timeout(SLOW).assert().code(0);
    assert_eq!(lines(&ran), ["t1", "t1", "t2"]);
    assert_eq!(lines(&log).len(), 3);
}

#[test]
fn percent_timeout_also_stops_a_job_that_started_before_the_median_was_known() {
    // Jobs 1-3 take 0.2 s; job 4 starts with job 3, before three runtimes are known, and would
    // run 30 s: the median (0.2 s) gives it 0.4 s once job 3 ends.
    let start = Instant::now();
    let out = forkpool()
        .args([
            "-j2",
            "--timeout",
            "200%",
            "sleep {}; echo {}",
            ":::",
            "0.2",
            "0.2",
            "0.2",
            "30",
        ])
        .timeout(SLOW)
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"0.2\n0.2\n0.2\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("job 4 timed out"), "{err}");
}

/// forkpool -j2 over `inputs` jobs that each wait for a go-ahead; SIGHUP once two run, then
/// the go-ahead.
fn hangup_after_two_start(name: &str, inputs: u32) -> std::process::Output {
    let dir = TempDir::new(name);
    let go = dir.path().join("go");
    let job = format!(
        "touch {d}/up.{{}}; while [ ! -e {g} ]; do sleep 0.02; done; echo {{}}",
        d = dir.path().display(),
        g = go.display()
    );
    let mut child = Command::new(bin())
        .args(["-j2", &job, ":::"])
        .args((1..=inputs).map(|i| i.to_string()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let up = |n: u32| dir.path().join(format!("up.{n}")).exists();
    assert!(wait_for(SLOW, || up(1) && up(2)));
    // Collect stderr as it comes, to see the SIGHUP taken before the jobs may end.
    let mut stderr = child.stderr.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stderr, &mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).unwrap();
    let taken = || String::from_utf8_lossy(&seen.lock().unwrap()).contains("SIGHUP received");
    assert!(wait_for(SLOW, taken), "SIGHUP was not taken");
    std::fs::write(&go, "").unwrap();
    let mut out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    out.stderr = seen.lock().unwrap().clone();
    out
}

#[test]
fn sighup_with_jobs_left_says_how_many_and_dies_of_sighup() {
    let out = hangup_after_two_start("hup", 10);
    assert_eq!(out.status.signal(), Some(Signal::SIGHUP as i32));
    let mut done: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    done.sort();
    assert_eq!(done, ["1", "2"], "the running jobs finish");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SIGHUP received: no new job starts; waiting for 2 running jobs to finish"),
        "{err}"
    );
    assert!(err.contains("SIGHUP: 8 jobs were not started"), "{err}");
}

#[test]
fn sighup_after_every_job_started_is_a_normal_end() {
    let out = hangup_after_two_start("hup-all", 2);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn line_buffer_keeps_a_long_line_whole_past_the_buffer_size() {
    // 20 MB without a newline, then a newline: one whole line, held on disk past --buffer-size.
    let dir = TempDir::new("long-line");
    let file = dir.path().join("line");
    let mut data = vec![b'x'; 20_000_000];
    data.push(b'\n');
    data.extend_from_slice(b"tail\n");
    std::fs::write(&file, &data).unwrap();
    let out = forkpool()
        .args([
            "--line-buffer",
            "--buffer-size",
            "1M",
            "--tag",
            "cat",
            ":::",
        ])
        .arg(&file)
        .timeout(SLOW)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let tag = format!("{}\t", file.display());
    let mut want = tag.clone().into_bytes();
    want.extend_from_slice(&data[..20_000_001]);
    want.extend_from_slice(tag.as_bytes());
    want.extend_from_slice(b"tail\n");
    assert!(out.stdout == want, "the long line came out changed");
}

#[test]
fn an_oversized_value_with_x_fails_alone_and_the_rest_run() {
    let dir = TempDir::new("x-e2big");
    let vals = dir.path().join("vals");
    let mut data = b"a\n".to_vec();
    data.extend(std::iter::repeat_n(b'x', 200_000));
    data.extend_from_slice(b"\nb\n");
    std::fs::write(&vals, &data).unwrap();
    let out = forkpool()
        .args(["-X", "-j1", "echo", "::::"])
        .arg(&vals)
        .timeout(SLOW)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "one failed job");
    assert_eq!(out.stdout, b"a\nb\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("job 2 cannot start: the command line is longer than the system allows"),
        "{err}"
    );
}

#[test]
fn tag_goes_after_every_carriage_return_as_in_gnu_parallel() {
    let dir = TempDir::new("tag-cr");
    let file = dir.path().join("f");
    std::fs::write(&file, b"a\r\nb\rc\n").unwrap();
    let out = forkpool()
        .current_dir(dir.path())
        .args(["--tag", "cat", ":::", "f"])
        .timeout(SLOW)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Recorded from GNU parallel 20221122.
    assert_eq!(out.stdout, b"f\ta\rf\t\nf\tb\rf\tc\n");
}

/// A 64 KiB tmpfs for --tmpdir, unmounted when dropped.
struct SmallDisk(TempDir);

impl SmallDisk {
    /// None when this user may not mount (the test then says so and checks nothing).
    fn mount() -> Option<SmallDisk> {
        let dir = TempDir::new("small-disk");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_spill_directory_stops_every_job_and_exits_255() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("skipped: cannot mount a tmpfs (needs root)");
        return;
    };
    let marker = format!("sleep 1000.{}", std::process::id());
    // Job 1 ignores TERM and keeps running; job 2's output must wait (-k) and fills the disk.
    let out = forkpool()
        .args(["-k", "-j2", "--buffer-size", "1K", "--tmpdir"])
        .arg(disk.0.path())
        .args([
            ":::",
            &format!("trap '' TERM; sleep 1; head -c 200000 /dev/zero; {marker}"),
            "head -c 300000 /dev/zero",
        ])
        .timeout(SLOW)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(255),
        "not 141: only a closed stdout is a broken pipe"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot write waiting output to a temporary file")
            && err.contains("No space left"),
        "{err}"
    );
    assert!(
        wait_for(SLOW, || crate::support::processes_matching(&marker)
            .is_empty()),
        "the job that ignores TERM survived"
    );
}

#[test]
fn csh_and_tcsh_get_values_quoted_for_them() {
    let shells: Vec<&str> = ["/bin/csh", "/bin/tcsh"]
        .into_iter()
        .filter(|s| std::path::Path::new(s).exists())
        .collect();
    if shells.is_empty() {
        eprintln!("skipped: neither csh nor tcsh is installed (.ci/run installs them)");
        return;
    }
    for shell in shells {
        let out = forkpool()
            .args(["-0", "-k", "--shell", shell, "printf '[%s]\\n'"])
            .write_stdin(&b"a!b\0x\ny\0q'r\0e$f\0!!\0\0"[..])
            .timeout(SLOW)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "[a!b]\n[x\ny]\n[q'r]\n[e$f]\n[!!]\n[]\n",
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{shell}");
    }
}
