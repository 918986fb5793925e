//! Byte-exact agreement with GNU parallel: every case recorded from it under `tests/compat/cases`
//! (see its README) runs through forkpool and must give the same stdout and exit status.
//! Departures that forkpool makes on purpose are listed in `DEPARTURES` with the reason.

use std::path::Path;

use crate::support::forkpool;

/// Cases whose stdout differs from GNU parallel's on purpose, and why (README: "Departures").
/// Their exit status must still match.
const STDOUT_DEPARTURES: &[(&str, &str)] = &[
    (
        "bad-option-j-abc",
        "usage errors go to stderr only; stdout stays clean",
    ),
    (
        "bad-option-unknown",
        "usage errors go to stderr only; stdout stays clean",
    ),
];

/// Cases whose exit status differs from GNU parallel's on purpose, and why. Their stdout must
/// still match.
const STATUS_DEPARTURES: &[(&str, &str)] = &[
    (
        "plus-choose-k",
        "a job {choose_k} skips is not a failed job (GNU counts it in the exit status)",
    ),
    (
        "plus-choose-k-three",
        "a job {choose_k} skips is not a failed job (GNU counts it in the exit status)",
    ),
    (
        "plus-uniq",
        "a job {uniq} skips is not a failed job (GNU counts it in the exit status)",
    ),
];

/// Cases that forkpool does not follow at all, and why.
const DEPARTURES: &[(&str, &str)] = &[
    (
        "option-ambiguous-shell",
        "forkpool has a --shell option, so --shell is not ambiguous",
    ),
    (
        "L1-trailing-space-continues",
        "-L does not join a line that ends in a blank with the next",
    ),
];

fn sorted_lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    v.sort();
    v
}

#[test]
fn gnu_parallel_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/cases");
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    let only = std::env::var("COMPAT_CASE").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in names {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let args = std::fs::read(dir.join("args")).unwrap();
        let mut argv: Vec<std::ffi::OsString> = Vec::new();
        if !args.is_empty() {
            let body = args.strip_suffix(b"\n").unwrap_or(&args);
            for a in body.split(|&c| c == b'\n') {
                argv.push(
                    <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(a).to_os_string(),
                );
            }
        }
        let stdin = std::fs::read(dir.join("stdin")).unwrap_or_default();
        let want_out = std::fs::read(dir.join("stdout")).unwrap();
        let want_status: i32 = std::fs::read_to_string(dir.join("status"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let out = forkpool()
            .args(&argv)
            .current_dir(&dir)
            .env("SHELL", "/bin/bash")
            .write_stdin(stdin)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        ran += 1;
        let status = out.status.code().unwrap_or(-1);
        let departure = DEPARTURES.iter().any(|(d, _)| *d == name);
        let same_out = if dir.join("sorted").exists() {
            sorted_lines(&out.stdout) == sorted_lines(&want_out)
        } else {
            out.stdout == want_out
        };
        let stdout_departure = STDOUT_DEPARTURES.iter().any(|(d, _)| *d == name);
        let status_departure = STATUS_DEPARTURES.iter().any(|(d, _)| *d == name);
        if !departure
            && ((status != want_status && !status_departure) || !(same_out || stdout_departure))
        {
            failures.push(format!(
                "{name}: status {status} (want {want_status})\n  stdout: {:?}\n  want:   {:?}\n  stderr: {:?}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&want_out),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(ran > 0, "no compat case ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} cases differ from GNU parallel:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
