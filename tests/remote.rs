//! Remote hosts over OpenSSH (-S, --sshloginfile, --nonall): real sshd "hosts" on loopback from
//! tests/support/ssh-harness.sh, each test with its own port. A test is skipped, with the reason
//! printed, when sshd is missing or the harness cannot start.

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::hosts::Hosts;
use crate::support::{TempDir, bin, forkpool, wait_for};

/// Run forkpool (for a minute at most) and check that it exits 0.
fn succeeds(cmd: &mut assert_cmd::Command) -> std::process::Output {
    let out = cmd.timeout(Duration::from_secs(120)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    out
}

/// The lines of every file in `dir`, by file name.
fn side_effects(dir: &Path) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                text.lines().map(str::to_string).collect(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The Host column of a joblog.
fn logged_hosts(log: &Path) -> BTreeSet<String> {
    String::from_utf8_lossy(&std::fs::read(log).unwrap())
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect()
}

/// Wait for `child` at most `limit`; kill it if it runs longer.
fn wait_child(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("forkpool still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    use std::io::Read;
    let mut s = String::new();
    child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

/// Inputs that a shell would mangle if they were not quoted right on their way to the host.
fn awkward_inputs(dir: &Path) -> std::path::PathBuf {
    let mut input: Vec<u8> = Vec::new();
    for i in 1..=195 {
        input.extend_from_slice(format!("{i}\n").as_bytes());
    }
    for v in [
        &b"two  spaces"[..],
        b"it's \"quoted\"",
        b"$HOME;`id` && $(echo x) *",
        b"back\\slash\ttab",
        b"\xff\xfe not utf-8",
    ] {
        input.extend_from_slice(v);
        input.push(b'\n');
    }
    let path = dir.join("input");
    std::fs::write(&path, input).unwrap();
    path
}

#[test]
fn two_hundred_jobs_over_three_hosts_run_once_each_spread_and_in_order() {
    let Some(hosts) = Hosts::start("two_hundred_jobs") else {
        return;
    };
    let dir = TempDir::new("remote-200");
    let input = awkward_inputs(dir.path());
    let (remote_marks, local_marks) = (dir.path().join("remote"), dir.path().join("local"));
    std::fs::create_dir(&remote_marks).unwrap();
    std::fs::create_dir(&local_marks).unwrap();
    let log = dir.path().join("log");
    // The same bytes arrive as locally: {} and the job's variables, printed with printf.
    let cmd =
        "printf '%s|%s|%s\\n' {} \"$FORKPOOL_SEQ\" \"$WHO\"; echo \"$JR_TEST_HOST\" >> \"$D/{#}\"";
    let remote = succeeds(
        forkpool()
            .env("D", &remote_marks)
            .env("WHO", "it's me")
            .args(["--ssh", &hosts.ssh(), "-S", "2/h1,2/h2", "-S", "2/h3"])
            .args(["--env", "D", "--env", "WHO", "-k", "--joblog"])
            .arg(&log)
            .args([cmd, "::::"])
            .arg(&input),
    );
    assert!(
        remote.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let local = forkpool()
        .env("D", &local_marks)
        .env("WHO", "it's me")
        .args(["-k", cmd, "::::"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&remote.stdout),
        String::from_utf8_lossy(&local.stdout)
    );
    assert_eq!(remote.stdout, local.stdout);
    let marks = side_effects(&remote_marks);
    assert_eq!(marks.len(), 200);
    let mut seen = BTreeSet::new();
    for (name, lines) in &marks {
        assert_eq!(lines.len(), 1, "job {name} ran {} times", lines.len());
        seen.insert(lines[0].clone());
    }
    assert_eq!(
        seen,
        BTreeSet::from(["h1".into(), "h2".into(), "h3".into()])
    );
    assert_eq!(logged_hosts(&log), seen);
}

#[test]
fn nonall_runs_the_command_once_per_host_tagged_with_the_host() {
    let Some(hosts) = Hosts::start("nonall") else {
        return;
    };
    let out = succeeds(
        forkpool()
            .args(["--ssh", &hosts.ssh(), "--nonall", "--tag", "-S", "h1,h2,h3"])
            .arg("echo $JR_TEST_HOST $FORKPOOL_HOST"),
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(lines, ["h1\th1 h1", "h2\th2 h2", "h3\th3 h3"]);
}

#[test]
fn onall_runs_every_job_on_every_host() {
    let Some(hosts) = Hosts::start("onall") else {
        return;
    };
    let out = succeeds(
        forkpool()
            .args(["--ssh", &hosts.ssh(), "--onall", "--tag", "-S", "h1,h3"])
            .args(["echo {} $JR_TEST_HOST", ":::", "a", "b c"]),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Each host's output is one group, its jobs in input order.
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.contains("h1\ta h1\nh1\tb c h1\n") && text.contains("h3\ta h3\nh3\tb c h3\n"),
        "{text}"
    );
}

#[test]
fn sshloginfile_lists_hosts_with_comments_and_slot_counts() {
    let Some(hosts) = Hosts::start("slf") else {
        return;
    };
    let dir = TempDir::new("remote-slf");
    let file = dir.path().join("nodes");
    std::fs::write(&file, "# nodes of this job\n\n1/h2\n  1/h3  \n").unwrap();
    let log = dir.path().join("log");
    succeeds(
        forkpool()
            .args(["--ssh", &hosts.ssh(), "--slf"])
            .arg(&file)
            .arg("--joblog")
            .arg(&log)
            .args(["sleep 0.2; echo {}", ":::", "1", "2", "3", "4"]),
    );
    assert_eq!(
        logged_hosts(&log),
        BTreeSet::from(["h2".to_string(), "h3".to_string()])
    );
}

#[test]
fn a_host_that_does_not_answer_is_an_error_or_with_filter_hosts_dropped() {
    let Some(hosts) = Hosts::start("filter_hosts") else {
        return;
    };
    // Nothing listens on 127.0.0.9 at the harness's port.
    let out = forkpool()
        .args([
            "--ssh",
            &hosts.ssh(),
            "-S",
            "h1,127.0.0.9",
            "echo",
            ":::",
            "x",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.starts_with("forkpool: error: cannot connect to host 127.0.0.9: "),
        "{stderr}"
    );
    let out = forkpool()
        .args([
            "--ssh",
            &hosts.ssh(),
            "--filter-hosts",
            "-S",
            "h1,127.0.0.9",
        ])
        .args(["echo $JR_TEST_HOST", ":::", "x"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(out.stdout, b"h1 x\n");
    assert!(
        stderr.starts_with("forkpool: warning: dropping host 127.0.0.9: cannot connect: "),
        "{stderr}"
    );
}

/// Start `n` short jobs on `logins`, each appending its host's name to a file named by its input
/// in the returned directory.
fn start_marking(
    hosts: &Hosts,
    dir: &TempDir,
    logins: &str,
    n: u32,
    extra: &[&str],
) -> (std::path::PathBuf, Child) {
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let child = Command::new(bin())
        .env("D", &marks)
        .args(["--ssh", &hosts.ssh(), "-S", logins, "--env", "D"])
        .args(extra)
        .args(["echo $JR_TEST_HOST >> \"$D/{}\"; sleep 0.25", ":::"])
        .args((1..=n).map(|i| i.to_string()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (marks, child)
}

/// Run 60 short jobs over h1, h2 and h3 (2 slots each), do `what` to h2 once it has run a job,
/// and check that forkpool still ran every job and exited 0 with a warning naming h2. Returns its
/// stderr and the time from `what` to its end.
fn lose_h2(
    hosts: &Hosts,
    dir: &TempDir,
    what: fn(&Hosts, &str),
    extra: &[&str],
) -> (String, Duration) {
    let (marks, mut child) = start_marking(hosts, dir, "2/h1,2/h2,2/h3", 60, extra);
    assert!(
        wait_for(Duration::from_secs(30), || {
            side_effects(&marks)
                .iter()
                .any(|(_, l)| l.iter().any(|h| h == "h2"))
        }),
        "h2 ran no job"
    );
    what(hosts, "h2");
    let lost_at = Instant::now();
    let status = wait_child(&mut child, Duration::from_secs(90));
    let took = lost_at.elapsed();
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("forkpool: warning: lost host h2 ("),
        "{stderr}"
    );
    assert_each_job_ran(&side_effects(&marks));
    (stderr, took)
}

/// Every job ran; only the lost host's jobs in flight (2 slots) ran twice, first on h2.
fn assert_each_job_ran(marks: &[(String, Vec<String>)]) {
    assert_eq!(marks.len(), 60);
    let twice: Vec<_> = marks.iter().filter(|(_, l)| l.len() > 1).collect();
    assert!(twice.len() <= 2, "{twice:?}");
    for (name, lines) in twice {
        assert_eq!(lines.len(), 2, "job {name}: {lines:?}");
        assert_eq!(lines[0], "h2", "job {name}: {lines:?}");
        assert_ne!(lines[1], "h2", "job {name}: {lines:?}");
    }
}

#[test]
fn a_crashed_host_costs_no_job() {
    let Some(hosts) = Hosts::start("crash") else {
        return;
    };
    let dir = TempDir::new("remote-crash");
    let (stderr, _) = lose_h2(&hosts, &dir, Hosts::crash, &[]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_crashed_host_costs_no_job_with_workers_either() {
    let Some(hosts) = Hosts::start("crash_workers") else {
        return;
    };
    let dir = TempDir::new("remote-crash-workers");
    let workers = ["--init", "echo A=1 >> $FORKPOOL_ENV", "--teardown", "true"];
    lose_h2(&hosts, &dir, Hosts::crash, &workers);
}

#[test]
fn a_frozen_host_is_noticed_within_seconds_and_costs_no_job() {
    let Some(hosts) = Hosts::start("freeze") else {
        return;
    };
    let dir = TempDir::new("remote-freeze");
    let (_, took) = lose_h2(&hosts, &dir, Hosts::freeze, &[]);
    // ServerAlive notices the hung host in about 10 s; the other hosts do the rest quickly.
    assert!(took < Duration::from_secs(25), "took {took:?}");
}

#[test]
fn when_every_host_is_lost_forkpool_exits_255() {
    let Some(hosts) = Hosts::start("all_lost") else {
        return;
    };
    let dir = TempDir::new("remote-all-lost");
    let (marks, mut child) = start_marking(&hosts, &dir, "1/h1", 30, &[]);
    assert!(wait_for(Duration::from_secs(30), || !side_effects(&marks).is_empty()));
    hosts.crash("h1");
    let status = wait_child(&mut child, Duration::from_secs(60));
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("warning: lost host h1"), "{stderr}");
    assert!(
        stderr.contains("forkpool: error: no host is left to run jobs on"),
        "{stderr}"
    );
}

/// Nothing of `sleep 300` is left on the hosts (soon).
fn assert_no_sleepers(hosts: &Hosts) {
    assert!(
        wait_for(Duration::from_secs(5), || hosts
            .job_processes("sleep 300")
            .is_empty()),
        "left on the host: {:?}",
        hosts.job_processes("sleep 300")
    );
}

/// Start `sh -c "sleep 300 & sleep 300"` on h1, wait until both sleeps run there, and return
/// forkpool.
fn start_sleepers(hosts: &Hosts, extra: &[&str]) -> Child {
    let child = Command::new(bin())
        .args(["--ssh", &hosts.ssh(), "-S", "h1"])
        .args(extra)
        .args(["sh -c \"sleep 300 & sleep 300\"", ":::", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || hosts
            .job_processes("sleep 300")
            .len()
            == 2),
        "the remote sleeps did not start"
    );
    child
}

#[test]
fn a_timeout_stops_the_whole_remote_process_group() {
    let Some(hosts) = Hosts::start("timeout") else {
        return;
    };
    let mut child = start_sleepers(&hosts, &["--timeout", "2"]);
    let status = wait_child(&mut child, Duration::from_secs(30));
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("job 1 timed out after 2s"), "{stderr}");
    assert_no_sleepers(&hosts);
}

#[test]
fn an_interrupt_stops_remote_jobs_too() {
    let Some(hosts) = Hosts::start("interrupt") else {
        return;
    };
    let mut child = start_sleepers(&hosts, &[]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = wait_child(&mut child, Duration::from_secs(30));
    assert_eq!(status.signal(), Some(nix::libc::SIGINT));
    assert_no_sleepers(&hosts);
    // The private directory of the control sockets is gone too.
    let control = std::env::temp_dir().join(format!("fp-ssh-{}-0", child.id()));
    assert!(!control.exists(), "{} is left", control.display());
}

#[test]
fn transferred_files_come_back_as_results_and_are_cleaned_up_on_the_host() {
    let Some(hosts) = Hosts::start("transfer") else {
        return;
    };
    let here = TempDir::new("remote-tf-here");
    let there = TempDir::new("remote-tf-there");
    std::fs::create_dir(here.path().join("sub")).unwrap();
    std::fs::write(here.path().join("sub/a.txt"), "hello\n").unwrap();
    std::fs::write(here.path().join("b c.txt"), "it's\n").unwrap();
    std::fs::write(here.path().join("base.cfg"), "base\n").unwrap();
    succeeds(
        forkpool()
            .current_dir(here.path())
            .args(["--ssh", &hosts.ssh(), "-S", "h1,h2", "--workdir"])
            .arg(there.path())
            .args([
                "--basefile",
                "base.cfg",
                "--tf",
                "{}",
                "--return",
                "{}.out",
                "--cleanup",
            ])
            .args([
                "(tr a-z A-Z < {}; cat base.cfg; pwd) > {}.out",
                ":::",
                "sub/a.txt",
                "b c.txt",
            ]),
    );
    let wd = there.path().display();
    assert_eq!(
        std::fs::read_to_string(here.path().join("sub/a.txt.out")).unwrap(),
        format!("HELLO\nbase\n{wd}\n")
    );
    assert_eq!(
        std::fs::read_to_string(here.path().join("b c.txt.out")).unwrap(),
        format!("IT'S\nbase\n{wd}\n")
    );
    // Nothing is left on the host but the directories the files were in.
    let left: Vec<_> = walk(there.path());
    assert!(left.is_empty(), "{left:?}");
}

/// The files under `dir`, recursively.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            files.extend(walk(&e.path()));
        } else {
            files.push(e.path());
        }
    }
    files
}

#[test]
fn a_host_without_a_slot_count_gets_one_slot_per_cpu_and_dash_j_overrides_it() {
    let Some(hosts) = Hosts::start("nproc") else {
        return;
    };
    let cpus: usize = String::from_utf8(Command::new("nproc").output().unwrap().stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let slots = |extra: &[&str]| -> BTreeSet<String> {
        let out = succeeds(
            forkpool()
                .args(["--ssh", &hosts.ssh(), "-S", "h1"])
                .args(extra)
                .args(["sleep 0.2; echo $FORKPOOL_SLOT", ":::"])
                .args((1..=12).map(|i| i.to_string())),
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(slots(&[]).len(), cpus.min(12));
    // More than one master connection's worth of slots (8).
    assert_eq!(slots(&["-j", "11"]).len(), 11);
}

#[test]
fn init_runs_once_per_remote_slot_on_its_host_and_its_exports_reach_the_jobs() {
    let Some(hosts) = Hosts::start("init") else {
        return;
    };
    let dir = TempDir::new("remote-init");
    let log = dir.path().join("inits");
    let out = succeeds(
        forkpool()
            .env("LOG", &log)
            .args(["--ssh", &hosts.ssh(), "-S", "1/h1,1/h2", "--env", "LOG", "-k"])
            .args(["--init", "echo $JR_TEST_HOST $FORKPOOL_SLOT >> $LOG; echo DB=db-$JR_TEST_HOST >> $FORKPOOL_ENV"])
            .args(["sleep 0.3; echo {} $DB $JR_TEST_HOST", ":::", "1", "2", "3", "4"]),
    );
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let w: Vec<&str> = line.split(' ').collect();
        assert_eq!(w[1], format!("db-{}", w[2]), "{line}");
    }
    let mut inits: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    inits.sort();
    assert_eq!(inits, ["h1 1", "h2 2"]);
}

#[test]
fn twelve_slots_on_a_host_with_sshds_default_max_sessions_all_run_and_all_stop() {
    let Some(hosts) = Hosts::start("max_sessions") else {
        return;
    };
    hosts.default_max_sessions("h1");
    // 12 slots need two master connections (8 jobs each at most), and stopping 8 jobs of one
    // master at once must not open 8 more sessions on it.
    let mut child = Command::new(bin())
        .args([
            "--ssh",
            &hosts.ssh(),
            "-S",
            "12/h1",
            "--timeout",
            "3",
            "sleep",
            ":::",
        ])
        .args((0..12).map(|i| format!("30{i:02}")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sleeping = || {
        (0..12)
            .filter(|i| !hosts.job_processes(&format!("sleep 30{i:02}")).is_empty())
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(30), || sleeping() == 12),
        "{} of 12 jobs started",
        sleeping()
    );
    let status = wait_child(&mut child, Duration::from_secs(30));
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(12), "{stderr}");
    assert!(
        wait_for(Duration::from_secs(5), || sleeping() == 0),
        "{} jobs left on the host",
        sleeping()
    );
    // No session was refused (ssh would quietly open a connection of its own instead): two
    // logins, the two masters.
    let log = hosts.log("h1");
    assert!(!log.contains("no more sessions"), "{log}");
    assert_eq!(log.matches("Accepted publickey").count(), 2, "{log}");
}

#[test]
fn halt_now_stops_the_other_remote_jobs() {
    let Some(hosts) = Hosts::start("halt") else {
        return;
    };
    let mut child = Command::new(bin())
        .args([
            "--ssh",
            &hosts.ssh(),
            "-S",
            "2/h1",
            "--halt",
            "now,fail=1",
            ":::",
        ])
        .args(["sh -c \"sleep 300 & sleep 300\"", "sleep 1; exit 3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_child(&mut child, Duration::from_secs(30));
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert_no_sleepers(&hosts);
}

#[test]
fn nice_reaches_remote_jobs_and_jobs_on_the_local_host() {
    let Some(hosts) = Hosts::start("nice") else {
        return;
    };
    // Field 19 of /proc/PID/stat is the niceness of the job's shell. The hosts' sshd runs at the
    // test's niceness, which `nice -n` adds to.
    let own: i32 = std::fs::read_to_string("/proc/self/stat")
        .unwrap()
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(16)
        .unwrap()
        .parse()
        .unwrap();
    if own != 0 {
        eprintln!("note: the test runs at niceness {own}; test skipped");
        return;
    }
    let out = succeeds(
        forkpool()
            .args(["--ssh", &hosts.ssh(), "--nonall", "--tag", "--nice", "7"])
            .args(["-S", "h1,:", "cut -d' ' -f19 /proc/$$/stat"]),
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(lines, [":\t7", "h1\t7"]);
}
