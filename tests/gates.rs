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

#[test]
fn a_holder_killed_with_sigkill_frees_its_slot_at_once() {
    let dir = TempDir::new("sem-kill");
    let second = dir.path().join("second");
    let marker = format!("sleep 3{}", std::process::id() % 1000 + 1000);
    let _sweep = Sweep(marker.clone());
    let mut first = Reaped(
        sem(dir.path())
            .args(["--id", "k", "--fg", &marker])
            .spawn()
            .unwrap(),
    );
    // Its command runs: it holds the slot.
    assert!(wait_for(Duration::from_secs(30), || {
        !crate::support::processes_matching(&marker).is_empty()
    }));
    let mut waiter = Reaped(
        sem(dir.path())
            .args(["--id", "k", "--fg"])
            .arg(format!("touch {}", second.display()))
            .spawn()
            .unwrap(),
    );
    // The waiter is up and waiting (it has its slot files open) before the holder dies.
    assert!(wait_for(Duration::from_secs(30), || {
        std::fs::read_dir(format!("/proc/{}/fd", waiter.pid()))
            .map(|d| d.count() > 4)
            .unwrap_or(false)
    }));
    assert!(
        !second.exists(),
        "the second caller ran while the slot was held"
    );
    kill(Pid::from_raw(first.pid()), Signal::SIGKILL).unwrap();
    let killed = Instant::now();
    assert!(
        wait_for(Duration::from_secs(10), || second.exists()),
        "the slot was never freed"
    );
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the slot took {took:?} to free"
    );
    assert_eq!(
        waiter.wait(Duration::from_secs(10)).map(|s| s.code()),
        Some(Some(0))
    );
    first.wait(Duration::from_secs(10));
    // The dead holder's command got SIGTERM: it does not run on beside the next holder.
    assert!(
        wait_for(Duration::from_secs(10), || {
            crate::support::processes_matching(&marker).is_empty()
        }),
        "the killed holder's command survived it"
    );
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
