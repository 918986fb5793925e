//! Test helpers: the built binary as an `assert_cmd` command, and polling for conditions
//! instead of sleeping.

#![allow(dead_code)]

pub mod hosts;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The built forkpool binary, with a clean environment for determinism.
pub fn forkpool() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin());
    cmd.env_remove("TMPDIR");
    cmd
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_forkpool"))
}

/// Wait until `cond` holds, checking often, for at most `limit`. Returns whether it held.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "forkpool-test-{}-{}-{}",
            name,
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Living processes whose command line contains `needle` (from /proc).
pub fn processes_matching(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    let me = std::process::id() as i32;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd: Vec<u8> = cmd.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
        if String::from_utf8_lossy(&cmd).contains(needle) {
            found.push(pid);
        }
    }
    found
}

/// Whether `unshare --pid --fork --mount-proc` works here (root, or user namespaces allowed);
/// when it does not, says so on stderr for the test that is skipped.
pub fn pid_namespace_usable() -> bool {
    let usable = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !usable {
        eprintln!("note: unshare --pid --fork --mount-proc is not usable here; test skipped");
    }
    usable
}
