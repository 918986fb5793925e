//! Starting jobs only when the machine can take them (`--load`, `--memfree`, `-j FILE`,
//! `--nice`) and the `--semaphore` (`sem`) mode, through the built binary, watching the process
//! table and the files the jobs write.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{TempDir, bin, wait_for};

/// A child process killed (SIGKILL) and reaped when the test ends, whatever happens.
struct Reaped(Child);

impl Reaped {
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut status = None;
        wait_for(limit, || {
            status = self.0.try_wait().unwrap();
            status.is_some()
        });
        status
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// forkpool in semaphore mode, with its semaphores under `dir` (not the user's own).
fn sem(dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("XDG_RUNTIME_DIR", dir).stdin(Stdio::null());
    cmd
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn semaphore_lets_at_most_j_holders_run_at_once() {
    let dir = TempDir::new("sem-j2");
    let log = dir.path().join("log");
    let job = format!(
        "echo start >> {0}; sleep 0.2; echo end >> {0}",
        log.display()
    );
    let callers: Vec<Reaped> = (0..10)
        .map(|_| {
            Reaped(
                sem(dir.path())
                    .args(["--semaphore", "--id", "t", "-j2", "--fg", &job])
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for mut c in callers {
        let status = c
            .wait(Duration::from_secs(60))
            .expect("a caller never ended");
        assert!(status.success(), "{status}");
    }
    let text = read(&log);
    let (mut now, mut most) = (0i32, 0i32);
    for line in text.lines() {
        now += if line == "start" { 1 } else { -1 };
        most = most.max(now);
        assert!(now >= 0, "{text}");
    }
    assert_eq!(text.lines().filter(|l| *l == "start").count(), 10, "{text}");
    assert_eq!(now, 0, "{text}");
    assert_eq!(
        most, 2,
        "never more than 2 at once, and 2 at some point:\n{text}"
    );
}

/// Kills (SIGKILL) the processes whose command line holds `marker` when dropped.
struct Sweep(String);

impl Drop for Sweep {
    fn drop(&mut self) {
        for pid in crate::support::processes_matching(&self.0) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// The children of `pid`.
fn children(pid: i32) -> Vec<i32> {
    read(Path::new(&format!("/proc/{pid}/task/{pid}/children")))
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether the test process could take the semaphore's slot file `slot` now (and let it go).
fn slot_is_free(slot: &Path) -> bool {
    use nix::fcntl::{Flock, FlockArg};
    let Ok(f) = std::fs::OpenOptions::new().read(true).open(slot) else {
        return false;
    };
    Flock::lock(f, FlockArg::LockExclusiveNonblock).is_ok()
}

#[test]
fn a_holder_killed_with_sigkill_frees_its_slot_at_once() {
    let dir = TempDir::new("sem-kill");
    let slot = dir.path().join("forkpool/sem/k/slot-1");
    let marker = format!("sleep 3{}", std::process::id() % 1000 + 1000);
    let _sweep = Sweep(marker.clone());
    let holder = || {
        Reaped(
            sem(dir.path())
                .args(["--id", "k", "--fg", &marker])
                .spawn()
                .unwrap(),
        )
    };
    // Its command runs: it holds the slot. (Its own child, not just any process with the
    // marker: the first holder's `sleep` outlives it, as only the shell gets SIGTERM.)
    let held = |h: &Reaped| {
        wait_for(Duration::from_secs(30), || {
            children(h.pid())
                .iter()
                .any(|&c| read(Path::new(&format!("/proc/{c}/cmdline"))).contains(&marker))
        })
    };
    let mut first = holder();
    assert!(held(&first));
    assert!(!slot_is_free(&slot));
    let command = children(first.pid());
    assert_eq!(command.len(), 1, "{command:?}");
    kill(Pid::from_raw(first.pid()), Signal::SIGKILL).unwrap();
    let killed = Instant::now();
    assert!(wait_for(Duration::from_secs(10), || slot_is_free(&slot)));
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the slot took {took:?} to free"
    );
    first.wait(Duration::from_secs(10));
    // The dead holder's command (the shell) got SIGTERM.
    assert!(
        wait_for(Duration::from_secs(10), || {
            !Path::new(&format!("/proc/{}", command[0])).exists()
        }),
        "the killed holder's command survived it"
    );
    // What that shell started is not forkpool's to stop; the test cleans it up.
    for pid in crate::support::processes_matching(&marker) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }

    // A caller waiting for the slot gets it when its holder is killed.
    let second = dir.path().join("second");
    let first = holder();
    assert!(held(&first));
    let mut waiter = Reaped(
        sem(dir.path())
            .args(["--id", "k", "--fg"])
            .arg(format!("touch {}", second.display()))
            .spawn()
            .unwrap(),
    );
    // The waiter is up and waiting (it has its slot file open) before the holder dies.
    assert!(wait_for(Duration::from_secs(30), || {
        std::fs::read_dir(format!("/proc/{}/fd", waiter.pid())).is_ok_and(|d| {
            d.flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == slot))
        })
    }));
    assert!(
        !second.exists(),
        "the second caller ran while the slot was held"
    );
    kill(Pid::from_raw(first.pid()), Signal::SIGKILL).unwrap();
    assert_eq!(
        waiter.wait(Duration::from_secs(10)).map(|s| s.code()),
        Some(Some(0))
    );
    assert!(second.exists());
}

#[test]
fn semaphore_wait_returns_after_the_last_holder_ends() {
    let dir = TempDir::new("sem-wait");
    for i in 1..=3 {
        let done = dir.path().join(format!("done-{i}"));
        // In the background (the default): each call returns once it holds a slot.
        let status = sem(dir.path())
            .args(["--id", "w", "-j3"])
            .arg(format!("sleep 0.{}; touch {}", 3 * i, done.display()))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let status = sem(dir.path())
        .args(["--wait", "--id", "w"])
        .status()
        .unwrap();
    assert!(status.success());
    for i in 1..=3 {
        assert!(
            dir.path().join(format!("done-{i}")).exists(),
            "--wait returned before holder {i} ended"
        );
    }
}

#[test]
fn semaphore_in_the_foreground_exits_with_the_commands_status() {
    let dir = TempDir::new("sem-status");
    let code = |cmd: &str| {
        sem(dir.path())
            .args(["--id", "s", "--fg", cmd])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(code("exit 7"), Some(7));
    assert_eq!(code("true"), Some(0));
    assert_eq!(code("kill -TERM $$"), Some(143));
}

#[test]
fn semaphore_in_the_background_returns_at_once_and_the_output_follows() {
    let dir = TempDir::new("sem-bg");
    let go = dir.path().join("go");
    let mut caller = Reaped(
        sem(dir.path())
            .args(["--id", "b", "-j1"])
            .arg(format!(
                "while [ ! -e {0} ]; do sleep 0.01; done; echo late",
                go.display()
            ))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // It returns while its command still waits for `go`.
    let status = caller
        .wait(Duration::from_secs(30))
        .expect("sem did not return");
    assert!(status.success(), "{status}");
    std::fs::write(&go, "").unwrap();
    let mut out = String::new();
    use std::io::Read;
    caller
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "late\n");
}

#[test]
fn semaphore_timeout_negative_gives_up_and_positive_runs_anyway() {
    let dir = TempDir::new("sem-timeout");
    let held = dir.path().join("held");
    let stop = dir.path().join("stop");
    let _holder = Reaped(
        sem(dir.path())
            .args(["--id", "o", "--fg"])
            .arg(format!(
                "touch {}; while [ ! -e {} ]; do sleep 0.05; done",
                held.display(),
                stop.display()
            ))
            .spawn()
            .unwrap(),
    );
    assert!(wait_for(Duration::from_secs(30), || held.exists()));
    let out = sem(dir.path())
        .args(["--id", "o", "--fg", "--st", "-0.3", "echo ran"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "forkpool: semaphore timed out; giving up\n"
    );
    let out = sem(dir.path())
        .args([
            "--id",
            "o",
            "--fg",
            "--semaphore-timeout",
            "0.3",
            "echo ran",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "forkpool: semaphore timed out; running the command without a slot\n"
    );
    std::fs::write(&stop, "").unwrap();
}

#[test]
fn invoked_as_sem_it_is_a_semaphore() {
    let dir = TempDir::new("sem-name");
    let link = dir.path().join("sem");
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    let out = Command::new(&link)
        .env("XDG_RUNTIME_DIR", dir.path())
        .args(["--id", "n", "--fg", "echo", "a  b"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // The words are one line of shell code, as GNU parallel's sem joins them.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a b\n");
}

/// The children of `parent` (forkpool) whose command line holds `marker`: its jobs, not their
/// forks on the way to exec another program (which show the same command line for a moment).
fn jobs(marker: &str, parent: i32) -> Vec<i32> {
    let ppid = |pid: i32| -> Option<i32> {
        let stat = read(Path::new(&format!("/proc/{pid}/stat")));
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let mut pids = crate::support::processes_matching(marker);
    pids.retain(|&p| ppid(p) == Some(parent));
    pids
}

#[test]
fn jobs_file_widens_a_running_run_and_narrowing_stops_nothing() {
    let dir = TempDir::new("jobs-file");
    let file = dir.path().join("procs");
    std::fs::write(&file, "1\n").unwrap();
    let marker = format!("jobsfile{}x", std::process::id());
    let job = format!(
        "while [ ! -e {}/go-{{}} ]; do sleep 0.02; done; echo {marker} {{}}",
        dir.path().display()
    );
    let go = |i: u32| std::fs::write(dir.path().join(format!("go-{i}")), "").unwrap();
    let mut fp = Reaped(
        Command::new(bin())
            .arg("-j")
            .arg(&file)
            .arg(&job)
            .arg(":::")
            .args((1..=8).map(|i| i.to_string()))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let running = |fp: &Reaped| jobs(&marker, fp.pid()).len();
    assert!(wait_for(Duration::from_secs(30), || running(&fp) == 1));
    std::fs::write(&file, "4\n").unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || running(&fp) == 4),
        "the run was not widened to 4: {} running",
        running(&fp)
    );
    // Narrowed to 1: the four running jobs go on; no new one starts until three have ended.
    std::fs::write(&file, "1\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(running(&fp), 4, "narrowing stopped a running job");
    for i in 1..=4 {
        go(i);
    }
    assert!(wait_for(Duration::from_secs(10), || running(&fp) == 1));
    for i in 5..=8 {
        assert!(running(&fp) <= 1);
        go(i);
    }
    let status = fp
        .wait(Duration::from_secs(30))
        .expect("forkpool did not end");
    assert!(status.success(), "{status}");
    let mut out = String::new();
    use std::io::Read;
    fp.0.stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out.lines().count(), 8, "{out}");
}

#[test]
fn jobs_file_that_holds_no_count_is_an_error() {
    let dir = TempDir::new("jobs-file-bad");
    let file = dir.path().join("procs");
    std::fs::write(&file, "many\n").unwrap();
    let out = Command::new(bin())
        .arg("-j")
        .arg(&file)
        .args(["echo", ":::", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "forkpool: error: {} does not hold a number of jobs: \"many\"\n\
             forkpool: hint: write N, N%, +N, -N or 0 in it, as -j takes them\n",
            file.display()
        )
    );
}

/// In a fresh pid namespace (so other programs' load on the machine does not count), two busy
/// loops hold `--load 1` shut until they are killed.
const LOAD_SCRIPT: &str = r#"
D=$1; FP=$2
sh -c 'while :; do :; done' & L1=$!
sh -c 'while :; do :; done' & L2=$!
"$FP" --load 1 "date +%s%N > $D/started{}" ::: 1 > "$D/out" 2>&1 &
FPPID=$!
# forkpool looks at the load every half second: give it several looks.
sleep 2
[ -e "$D/started1" ] && echo EARLY
date +%s%N > "$D/killed"
kill $L1 $L2
wait $FPPID; echo "forkpool status $?"
"#;

#[test]
fn load_holds_jobs_while_the_machine_is_busy() {
    if !crate::support::pid_namespace_usable() {
        return;
    }
    let dir = TempDir::new("load");
    let mut ns = Reaped(
        Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "--mount-proc"])
            .args(["sh", "-c", LOAD_SCRIPT, "sh"])
            .arg(dir.path())
            .arg(bin())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let status = ns
        .wait(Duration::from_secs(60))
        .expect("the namespace run did not end");
    let mut report = String::new();
    use std::io::Read;
    ns.0.stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    assert!(status.success(), "{report}");
    let out = read(&dir.path().join("out"));
    assert!(report.contains("forkpool status 0"), "{report} {out}");
    assert!(
        !report.contains("EARLY"),
        "a job started under load: {report}"
    );
    let time = |f: &str| -> u128 { read(&dir.path().join(f)).trim().parse().unwrap() };
    assert!(time("started1") >= time("killed"), "{report}");
}

/// MemAvailable now, in bytes.
fn available() -> u64 {
    let text = read(Path::new("/proc/meminfo"));
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("MemAvailable in /proc/meminfo");
    kb * 1024
}

#[test]
fn memfree_starts_memory_hungry_jobs_one_at_a_time() {
    const JOB: u64 = 2 << 30;
    let free = available();
    if free < 3 * JOB {
        eprintln!("note: less than 6G available; test skipped");
        return;
    }
    let dir = TempDir::new("memfree");
    let log = dir.path().join("log");
    // Each job takes and touches 2G, then holds it for a while.
    let job = format!(
        "python3 -c 'import time; b = bytearray({JOB}); b[::4096] = bytes(len(b[::4096])); \
         open(\"{0}\", \"a\").write(\"start\\n\"); time.sleep(1); \
         open(\"{0}\", \"a\").write(\"end\\n\")' && echo {{}}",
        log.display()
    );
    // Room for one job and a margin of half a job either way for the rest of the machine.
    let memfree = free - JOB / 2;
    let out = Command::new(bin())
        .args([
            "-j3",
            "--memfree",
            &memfree.to_string(),
            &job,
            ":::",
            "1",
            "2",
            "3",
        ])
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
    let mut lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    lines.sort();
    assert_eq!(lines, ["1", "2", "3"]);
    assert_eq!(read(&log), "start\nend\nstart\nend\nstart\nend\n");
}

#[test]
fn nice_sets_the_niceness_of_each_job() {
    let marker = format!("sleep 4{}", std::process::id() % 1000 + 1000);
    let _sweep = Sweep(marker.clone());
    let mut fp = Reaped(
        Command::new(bin())
            .args(["--nice", "9", &format!("{marker}; true"), ":::", "1"])
            .spawn()
            .unwrap(),
    );
    // Field 19 of /proc/PID/stat (the 17th after the name) is the niceness.
    let nice = |pid: i32| -> Option<i32> {
        let stat = read(Path::new(&format!("/proc/{pid}/stat")));
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(16)?
            .parse()
            .ok()
    };
    assert!(wait_for(Duration::from_secs(30), || {
        let pids = jobs(&marker, fp.pid());
        !pids.is_empty() && pids.iter().all(|&p| nice(p) == Some(9))
    }));
    drop(_sweep);
    fp.wait(Duration::from_secs(30));
}

#[test]
fn limit_exit_2_stops_the_youngest_job_which_runs_again() {
    let dir = TempDir::new("limit");
    let d = dir.path().display();
    // 0 while fewer than two jobs run; the first time two run, 2; then 1 while two run.
    let limit = format!(
        "n=$(ls {d} | grep -c '^run-'); if [ $n -lt 2 ]; then exit 0; fi; \
         if [ ! -e {d}/said2 ]; then touch {d}/said2; exit 2; fi; exit 1"
    );
    let job = format!(
        "echo {{}} >> {d}/starts; touch {d}/run-{{}}; trap 'rm -f {d}/run-{{}}; exit 143' TERM; \
         sleep 2; rm {d}/run-{{}}; echo {{}}"
    );
    let out = Command::new(bin())
        .args(["-j3", "--limit", &limit, &job, ":::", "1", "2", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    lines.sort();
    assert_eq!(lines, ["1", "2", "3"], "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let stopped = stderr
        .strip_prefix("forkpool: --limit exited 2: stopping job ")
        .and_then(|r| r.split_once(", the youngest; it runs again later: "))
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| panic!("{stderr}"));
    // The stopped job started twice, the others once; when it was stopped, no job had started
    // after it.
    let starts = read(&dir.path().join("starts"));
    let starts: Vec<&str> = starts.lines().collect();
    let at: Vec<usize> = (0..starts.len())
        .filter(|&i| starts[i] == stopped)
        .collect();
    assert_eq!(at.len(), 2, "{starts:?}");
    assert_eq!(starts.len(), 4, "{starts:?}");
    let before_restart = &starts[..at[1]];
    assert_eq!(
        before_restart.last(),
        Some(&stopped.as_str()),
        "not the youngest: {starts:?}"
    );
}

#[test]
fn bar_says_why_no_job_starts() {
    use nix::pty::openpty;
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    let dir = TempDir::new("gate-bar");
    let go = dir.path().join("go");
    let pty = openpty(None, None).unwrap();
    let mut fp = Reaped(
        Command::new(bin())
            .args(["--bar", "--limit"])
            .arg(format!("test -e {}", go.display()))
            .args(["true", ":::", "a", "b"])
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(pty.slave))
            .spawn()
            .unwrap(),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        let mut master = std::fs::File::from(pty.master);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            // Ends with EIO when the last slave end closes.
            while let Ok(n @ 1..) = master.read(&mut chunk) {
                seen.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        })
    };
    let text = || String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
    // Nothing starts while --limit says 1, and the bar says so.
    let waiting = regex::Regex::new(
        r"\] 0/2 done, 0 running, 0 failed, [0-9.]+/s, [0-9.]+s, ETA \?, waiting: --limit exited 1",
    )
    .unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || waiting.is_match(&text())),
        "{}",
        text().chars().rev().take(400).collect::<String>()
    );
    std::fs::write(&go, "").unwrap();
    let status = fp
        .wait(Duration::from_secs(30))
        .expect("forkpool did not end");
    assert!(status.success());
    reader.join().unwrap();
    let text = text();
    // The final line: both jobs ran once the gate opened.
    assert!(text.contains("2/2 done, 0 failed, "), "{text}");
}
