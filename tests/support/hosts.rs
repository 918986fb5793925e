//! Throwaway sshd "hosts" on loopback for the remote tests, through tests/support/ssh-harness.sh:
//! each `Hosts` has its own port and directory, and stops what it started when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Hosts {
    /// The client config for `ssh -F`.
    pub config: PathBuf,
    /// The harness directory (every job process carries JR_TEST_HARNESS=<dir>).
    pub dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/ssh-harness.sh")
}

impl Hosts {
    /// Start h1, h2, h3 (127.0.0.1-3) on a free port; None, with the reason printed, when sshd
    /// is missing or the harness cannot start.
    pub fn start(test: &str) -> Option<Hosts> {
        if !Path::new("/usr/sbin/sshd").exists() {
            eprintln!(
                "skipping {test}: /usr/sbin/sshd is missing (apt-get install openssh-server)"
            );
            return None;
        }
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .env("JR_SSH_PORT", "auto")
            .output()
            .expect("bash runs");
        if !out.status.success() {
            eprintln!(
                "skipping {test}: the ssh harness did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        let text = String::from_utf8(out.stdout).expect("a path");
        let config = PathBuf::from(text.lines().last().expect("the config path").trim());
        let dir = config.parent().expect("a dir").to_path_buf();
        Some(Hosts { config, dir })
    }

    /// The --ssh value that reaches these hosts.
    pub fn ssh(&self) -> String {
        format!("ssh -F {}", self.config.display())
    }

    fn harness(&self, what: &str, host: &str) {
        let ok = Command::new("bash")
            .arg(script())
            .args([what, self.config.to_str().unwrap(), host])
            .output()
            .expect("bash runs")
            .status
            .success();
        assert!(ok, "ssh-harness {what} {host} failed");
    }

    /// SIGKILL the host's sshd and its sessions.
    pub fn crash(&self, host: &str) {
        self.harness("crash", host);
    }

    /// SIGSTOP them: a hung machine.
    pub fn freeze(&self, host: &str) {
        self.harness("freeze", host);
    }

    /// Give `host`'s sshd OpenSSH's default limit of sessions per connection (MaxSessions 10)
    /// instead of the harness's 200, and restart it.
    pub fn default_max_sessions(&self, host: &str) {
        let config = self.dir.join("hosts").join(host).join("sshd_config");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains("MaxSessions 200"));
        std::fs::write(&config, text.replace("MaxSessions 200", "MaxSessions 10")).unwrap();
        self.harness("restart", host);
    }

    /// What `host`'s sshd logged since it (re)started.
    pub fn log(&self, host: &str) -> String {
        std::fs::read_to_string(self.dir.join("hosts").join(host).join("sshd.log")).unwrap()
    }

    /// Processes of jobs on these hosts whose command line is `command` (words joined by spaces).
    pub fn job_processes(&self, command: &str) -> Vec<i32> {
        let marker = format!("JR_TEST_HARNESS={}", self.dir.display());
        super::processes_matching(command)
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                    let words: Vec<&[u8]> =
                        c.split(|&b| b == 0).filter(|w| !w.is_empty()).collect();
                    words.join(&b' ') == command.as_bytes()
                })
            })
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == marker.as_bytes()))
            })
            .collect()
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", self.config.to_str().unwrap()])
            .output();
    }
}
