//! Never leak, never lose (issue #5): properties that any byte string survives substitution and
//! input splitting unchanged, a 20,000-job stress run whose exit status, joblog and output add
//! up, and a table of bad inputs, each with its exact exit status, stderr and stdout.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use proptest::prelude::*;

use crate::support::{TempDir, forkpool};

const LIMIT: Duration = Duration::from_secs(60);

/// Run forkpool with byte-string arguments and `stdin`, with a generous timeout.
fn run(args: &[Vec<u8>], stdin: &[u8]) -> Output {
    let mut cmd = forkpool();
    cmd.args(args.iter().map(|a| OsString::from_vec(a.clone())))
        .write_stdin(stdin.to_vec())
        .timeout(LIMIT);
    cmd.output().expect("forkpool runs")
}

fn words(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A `--shell` that counts its calls in `log` before running /bin/sh: tells whether jobs went
/// through the shell.
fn counting_shell(dir: &TempDir) -> (Vec<u8>, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.path().join("calls");
    let sh = dir.path().join("countsh");
    std::fs::write(
        &sh,
        format!(
            "#!/bin/sh\necho >> '{}'\nexec /bin/sh \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755)).unwrap();
    (sh.into_os_string().into_vec(), log)
}

fn calls(log: &Path) -> usize {
    std::fs::read(log).map_or(0, |s| s.len())
}

/// Standard base64 with padding, decoded (the `*_base64` keys of --json).
fn unbase64(s: &str) -> Vec<u8> {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ABC.iter().position(|&a| a == c).expect("base64 digit") as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// A JSON string field that may instead be under `<key>_base64`.
fn json_bytes(obj: &serde_json::Value, key: &str) -> Vec<u8> {
    match obj[key].as_str() {
        Some(s) => s.as_bytes().to_vec(),
        None => unbase64(
            obj[format!("{key}_base64")]
                .as_str()
                .unwrap_or_else(|| panic!("{key} or {key}_base64 in {obj}")),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Properties. Each case is one forkpool run over many values, so that 64 cases stay fast.
// ---------------------------------------------------------------------------------------------

/// Bytes that mean something to a shell, to printf or to forkpool, mixed with any other byte
/// except NUL (no argument can hold one).
fn hostile_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        2 => prop::sample::select(b"'\"\\$`;|&<>(){}*?[]~#!%\n\t -=".to_vec()),
        1 => 1u8..=255,
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(hostile_byte(), 0..24)
}

fn values() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(value(), 1..24)
}

/// The values as `-0` input: each one ends with a NUL, so an empty last value is a job too.
fn nul_terminated(values: &[Vec<u8>]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| v.iter().chain(&[0]))
        .copied()
        .collect()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// `printf %s {}` needs no shell, so each value goes to printf as one argv word. Every value
    /// is a job (empty ones too, as in GNU parallel), and --json gives each job's stdout apart
    /// from the others, so each must equal its value byte for byte.
    #[test]
    fn any_value_is_byte_exact_through_the_direct_path(values in values()) {
        let dir = TempDir::new("prop-direct");
        let (sh, log) = counting_shell(&dir);
        let mut args = words(&["-0", "-k", "-j3", "--json", "--shell"]);
        args.push(sh);
        args.extend(words(&["printf", "%s", "{}"]));
        let out = run(&args, &nul_terminated(&values));
        prop_assert_eq!(out.status.code(), Some(0), "stderr: {}", show(&out.stderr));
        prop_assert_eq!(show(&out.stderr), "");
        prop_assert_eq!(calls(&log), 0, "no job may go through the shell");
        let jobs: Vec<serde_json::Value> = out
            .stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("a JSON line"))
            .collect();
        prop_assert_eq!(jobs.len(), values.len());
        for (i, (job, v)) in jobs.iter().zip(&values).enumerate() {
            prop_assert_eq!(job["seq"].as_u64(), Some(i as u64 + 1));
            prop_assert_eq!(&json_bytes(job, "stdout"), v, "job {}", i + 1);
        }
    }

    /// `printf '%s\0' {}` is shell code (the quotes), so each value is quoted into a `sh -c`
    /// line; the shell must hand printf exactly the value. With -k the output is every value
    /// followed by a NUL, in input order.
    #[test]
    fn any_value_is_byte_exact_through_the_shell_path(values in values()) {
        let dir = TempDir::new("prop-shell");
        let (sh, log) = counting_shell(&dir);
        let mut args = words(&["-0", "-k", "-j3", "--shell"]);
        args.push(sh);
        args.extend(words(&["printf", r"'%s\0'", "{}"]));
        let out = run(&args, &nul_terminated(&values));
        prop_assert_eq!(out.status.code(), Some(0), "stderr: {}", show(&out.stderr));
        prop_assert_eq!(show(&out.stderr), "");
        prop_assert_eq!(calls(&log), values.len(), "every job goes through the shell");
        prop_assert_eq!(show(&out.stdout), show(&nul_terminated(&values)));
        prop_assert_eq!(out.stdout, nul_terminated(&values));
    }

    /// Input split at any separator loses and invents no byte: the records forkpool runs are
    /// exactly GNU parallel's (split at each leftmost occurrence, a separator at the very end
    /// ends the last record instead of starting an empty one, empty input has no records), and
    /// joined with the separator again they are the input.
    #[test]
    fn input_splitting_loses_and_invents_no_bytes((sep, spelling, stream) in split_case()) {
        let mut args = spelling;
        args.extend(words(&["-k", "-j3", "printf", r"'%s\0'", "{}"]));
        let out = run(&args, &stream);
        prop_assert_eq!(out.status.code(), Some(0), "stderr: {}", show(&out.stderr));
        prop_assert_eq!(show(&out.stderr), "");
        let mut got: Vec<Vec<u8>> = out.stdout.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
        prop_assert_eq!(got.pop(), Some(vec![]), "output ends with a NUL or is empty");
        prop_assert_eq!(&got, &gnu_split(&stream, &sep));
        let mut joined: Vec<u8> = got.iter().flat_map(|r| r.iter().chain(&sep)).copied().collect();
        if joined != stream {
            joined.truncate(joined.len().saturating_sub(sep.len()));
        }
        prop_assert_eq!(joined, stream);
    }
}

/// A separator, the forkpool arguments that select it, and an input stream of records joined
/// with it (records may contain separator bytes and, split differently, the separator itself).
fn split_case() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>, Vec<u8>)> {
    let sep_byte = prop_oneof![
        2 => prop::sample::select(b"\0\n\\x0-:ab".to_vec()),
        1 => any::<u8>(),
    ];
    let seps = prop_oneof![
        Just((b"\n".to_vec(), 0u8)),
        Just((b"\0".to_vec(), 1u8)),
        (prop::collection::vec(sep_byte, 1..4), 2u8..4),
    ];
    seps.prop_flat_map(|(sep, how)| {
        let spelling = match how {
            0 => vec![],
            1 => vec![b"-0".to_vec()],
            // Every byte as \xHH.
            2 => vec![
                b"-d".to_vec(),
                sep.iter()
                    .flat_map(|b| format!("\\x{b:02x}").into_bytes())
                    .collect(),
            ],
            // Raw bytes; only a backslash (\\) and NUL (\x00) need escaping.
            _ => vec![
                b"-d".to_vec(),
                sep.iter()
                    .flat_map(|&b| match b {
                        b'\\' => b"\\\\".to_vec(),
                        0 => b"\\x00".to_vec(),
                        b => vec![b],
                    })
                    .collect(),
            ],
        };
        // Record bytes: often the separator's own bytes, never NUL (no argument can hold one).
        let mut near: Vec<u8> = sep.iter().copied().filter(|&b| b != 0).collect();
        near.extend_from_slice(b"a\n");
        let byte = prop_oneof![prop::sample::select(near), 1u8..=255];
        let records = prop::collection::vec(prop::collection::vec(byte, 0..8), 0..16);
        (Just(sep), Just(spelling), records, any::<bool>())
    })
    .prop_map(|(sep, spelling, records, terminated)| {
        let mut stream = Vec::new();
        for (i, r) in records.iter().enumerate() {
            stream.extend_from_slice(r);
            if terminated || i + 1 < records.len() {
                stream.extend_from_slice(&sep);
            }
        }
        (sep, spelling, stream)
    })
}

/// GNU parallel's records: split at each leftmost occurrence of `sep`; a separator at the very
/// end ends the last record, and empty input has none.
fn gnu_split(stream: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        match rest.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                out.push(rest[..i].to_vec());
                rest = &rest[i + sep.len()..];
            }
            None => {
                out.push(rest.to_vec());
                break;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 2. Stress: 20,000 jobs with seeded random exit codes and output sizes.
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so the run is the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` jobs as input lines `SIZE CODE`, and the (size, code) of each. Mostly small outputs,
/// some empty, a few past a pipe buffer (64 KiB); about one job in 300 fails.
fn stress_jobs(n: usize) -> (String, Vec<(u64, u64)>) {
    let mut rng = Rng(0x5eed_f00d_cafe_d00d);
    let mut input = String::new();
    let mut jobs = Vec::with_capacity(n);
    for _ in 0..n {
        let size = match rng.below(100) {
            0..=9 => 0,
            10 => 64 * 1024 + rng.below(64 * 1024),
            _ => rng.below(2000),
        };
        let code = if rng.below(300) == 0 {
            1 + rng.below(255)
        } else {
            0
        };
        input.push_str(&format!("{size} {code}\n"));
        jobs.push((size, code));
    }
    (input, jobs)
}

const STRESS_JOB: [&str; 6] = ["printf", "%{1}s", "''", "&&", "exit", "{2}"];

/// Every job prints its size in spaces and exits with its code, through one `sh -c` (printf
/// and exit are builtins). The exit status is the number of failed jobs, the joblog has one
/// line per job with its exit value and byte count, and stdout holds every byte printed.
#[test]
fn twenty_thousand_jobs_are_all_counted_logged_and_printed() {
    const JOBS: usize = 20_000;
    let (input, jobs) = stress_jobs(JOBS);
    let failed = jobs.iter().filter(|j| j.1 != 0).count();
    assert!(
        (1..=100).contains(&failed),
        "the seed gives {failed} failures"
    );

    let dir = TempDir::new("stress");
    let joblog = dir.path().join("joblog");
    let out = forkpool()
        .args(["-j4", "--colsep", " ", "--joblog"])
        .arg(&joblog)
        .args(STRESS_JOB)
        .write_stdin(input)
        .timeout(Duration::from_secs(180))
        .output()
        .expect("forkpool runs");

    assert_eq!(show(&out.stderr), "");
    assert_eq!(
        out.status.code(),
        Some(failed as i32),
        "one count per failed job"
    );
    let printed: u64 = jobs.iter().map(|j| j.0).sum();
    assert_eq!(
        out.stdout.len() as u64,
        printed,
        "every byte printed arrives"
    );
    assert!(out.stdout.iter().all(|&b| b == b' '), "and nothing else");

    let log = std::fs::read_to_string(&joblog).unwrap();
    let mut lines = log.lines();
    assert!(lines.next().unwrap().starts_with("Seq\tHost\tStarttime"));
    let mut seen = vec![false; JOBS];
    let mut rows = 0;
    for line in lines {
        rows += 1;
        let f: Vec<&str> = line.split('\t').collect();
        let seq: usize = f[0].parse().unwrap();
        let (size, code) = jobs[seq - 1];
        assert!(
            !std::mem::replace(&mut seen[seq - 1], true),
            "job {seq} logged twice"
        );
        assert_eq!(f[5], size.to_string(), "bytes received by job {seq}");
        assert_eq!(f[6], code.to_string(), "exit value of job {seq}");
        assert_eq!(f[7], "0", "signal of job {seq}");
    }
    assert_eq!(rows, JOBS, "one joblog line per job");
}

/// The same kind of run through --json (2,000 jobs, to keep it quick): one object per job, each
/// with its exit code and all of its output, and the exit status counting the failures.
#[test]
fn json_accounts_for_every_job_of_a_stress_run() {
    const JOBS: usize = 2_000;
    let (input, jobs) = stress_jobs(JOBS);
    let failed = jobs.iter().filter(|j| j.1 != 0).count();
    let out = forkpool()
        .args(["-j4", "--json", "--colsep", " "])
        .args(STRESS_JOB)
        .write_stdin(input)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("forkpool runs");
    assert_eq!(show(&out.stderr), "");
    assert_eq!(out.status.code(), Some(failed as i32));
    let mut seen = vec![false; JOBS];
    let mut total = 0;
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let obj: serde_json::Value = serde_json::from_slice(line).expect("a JSON line");
        let seq = obj["seq"].as_u64().unwrap() as usize;
        let (size, code) = jobs[seq - 1];
        assert!(
            !std::mem::replace(&mut seen[seq - 1], true),
            "job {seq} twice"
        );
        assert_eq!(
            obj["exit_code"].as_u64(),
            Some(code),
            "exit code of job {seq}"
        );
        assert_eq!(
            json_bytes(&obj, "stdout").len() as u64,
            size,
            "output of job {seq}"
        );
        total += 1;
    }
    assert_eq!(total, JOBS, "one object per job");
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input: every row says exactly what the user sees.
// ---------------------------------------------------------------------------------------------

enum Stderr {
    /// The whole of stderr.
    Exact(String),
    /// The first line, and text the rest must hold (clap's own usage errors).
    FirstLine(&'static str, &'static str),
}

struct Row {
    name: &'static str,
    args: Vec<Vec<u8>>,
    stdin: Vec<u8>,
    status: i32,
    stderr: Stderr,
    stdout: Vec<u8>,
}

fn row(name: &'static str, args: &[&str], status: i32, stderr: Stderr, stdout: &[u8]) -> Row {
    Row {
        name,
        args: words(args),
        stdin: Vec::new(),
        status,
        stderr,
        stdout: stdout.to_vec(),
    }
}

fn exact(s: &str) -> Stderr {
    Stderr::Exact(s.to_string())
}

const DURATION_HINT: &str =
    "forkpool: hint: write seconds (30, 0.5) or with units: 30s, 2m, 1h30m, 250ms\n";
const TOO_LONG: &str = "cannot start: the command line is longer than the system allows";

/// A path that open(2) refuses even to root, or None (then that row cannot be checked here).
fn unreadable_file(dir: &TempDir) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.path().join("secret");
    std::fs::write(&p, "x\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&p).is_err() {
        return Some(p.to_str()?.to_string());
    }
    // Root reads any mode-000 file; a write-only sysctl it still may not open for reading.
    let proc = "/proc/sys/vm/compact_memory";
    match std::fs::File::open(proc) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Some(proc.to_string()),
        _ => None,
    }
}

#[test]
fn bad_input_gives_one_clear_message_and_the_right_status() {
    let dir = TempDir::new("bad-input");
    let d = dir.path().to_str().unwrap().to_string();
    let mut rows = vec![
        row(
            "unknown option: clap's error, with its suggestion",
            &["--jbos", "2", "echo", ":::", "a"],
            255,
            Stderr::FirstLine(
                "forkpool: error: unexpected argument '--jbos' found",
                "tip: a similar argument exists: '--jobs'",
            ),
            b"",
        ),
        row(
            "-j that is not a number",
            &["-j", "abc", "echo", ":::", "a"],
            255,
            exact(
                "forkpool: error: -j \"abc\" is not a number of jobs\nforkpool: hint: use N, N% \
                 (of the CPUs), +N or -N (relative to the CPUs), or 0 for as many as possible\n",
            ),
            b"",
        ),
        row(
            "-j -N beyond the CPU count runs one at a time (a documented departure)",
            &["-k", "-j", "-1000", "echo", ":::", "a", "b"],
            0,
            exact(""),
            b"a\nb\n",
        ),
        row(
            "--timeout that is not a duration",
            &["--timeout", "abc", "echo", ":::", "a"],
            255,
            exact(&format!(
                "forkpool: error: --timeout \"abc\" is not a duration\n{DURATION_HINT}"
            )),
            b"",
        ),
        row(
            "a negative --delay",
            &["--delay", "-1", "echo", ":::", "a"],
            255,
            exact(&format!(
                "forkpool: error: --delay \"-1\" is not a duration\n{DURATION_HINT}"
            )),
            b"",
        ),
        row(
            "a missing input file",
            &["echo", "::::", "/nonexistent"],
            255,
            exact(
                "forkpool: error: cannot read input file /nonexistent: No such file or directory\n",
            ),
            b"",
        ),
        row(
            "an input file that fails while being read",
            &["echo", "::::", "/proc/self/mem"],
            255,
            exact("forkpool: error: cannot read input file /proc/self/mem: Input/output error\n"),
            b"",
        ),
        row(
            "a directory after :::: gives no input, with a warning",
            &["echo", "::::", &d],
            0,
            exact(&format!(
                "forkpool: warning: input file {d} is a directory; it gives no input\n"
            )),
            b"",
        ),
        row(
            "a directory given to -a: the same",
            &["-a", &d, "echo"],
            0,
            exact(&format!(
                "forkpool: warning: input file {d} is a directory; it gives no input\n"
            )),
            b"",
        ),
        row(
            ":::: with no file (a documented departure: GNU parallel reads stdin)",
            &["echo", "::::"],
            255,
            exact(
                "forkpool: error: :::: must be followed by at least one file\n\
                 forkpool: hint: write :::: FILE, or :::: - for stdin\n",
            ),
            b"",
        ),
        row(
            "unbalanced braces are literal text, as in GNU parallel",
            &[
                "-k", "echo", "{", "a{b", "}{", "{}}", "{{}", "{1", ":::", "x",
            ],
            0,
            exact(""),
            b"{ a{b }{ x} {x {1\n",
        ),
        row(
            "{99} beyond the inputs is empty, as in GNU parallel",
            &["-k", "echo", "x{99}y", ":::", "a", "b"],
            0,
            exact(""),
            b"xy\nxy\n",
        ),
    ];
    match unreadable_file(&dir) {
        Some(p) => rows.push(Row {
            name: "an input file that cannot be opened",
            args: words(&["echo", "::::", &p]),
            stdin: Vec::new(),
            status: 255,
            stderr: exact(&format!(
                "forkpool: error: cannot read input file {p}: Permission denied\n"
            )),
            stdout: Vec::new(),
        }),
        None => eprintln!("note: no unreadable file available here; that row is not checked"),
    }
    // Invalid UTF-8 in the template goes through as bytes, exec'ed directly or via the shell.
    rows.push(Row {
        name: "invalid UTF-8 in the template, direct",
        args: vec![
            b"-k".to_vec(),
            b"printf".to_vec(),
            b"\xff\xfe%s".to_vec(),
            b":::".to_vec(),
            b"a".to_vec(),
        ],
        stdin: Vec::new(),
        status: 0,
        stderr: exact(""),
        stdout: b"\xff\xfea".to_vec(),
    });
    rows.push(Row {
        name: "invalid UTF-8 in the template, through the shell",
        args: vec![
            b"-k".to_vec(),
            b"printf".to_vec(),
            b"'\xff\xfe%s'".to_vec(),
            b"{}".to_vec(),
            b"|".to_vec(),
            b"cat".to_vec(),
            b":::".to_vec(),
            b"a".to_vec(),
        ],
        stdin: Vec::new(),
        status: 0,
        stderr: exact(""),
        stdout: b"\xff\xfea".to_vec(),
    });
    // A NUL inside a value (newline-separated input) fails that job alone.
    rows.push(Row {
        name: "a NUL byte in a value",
        args: words(&["-k", "printf", "%s"]),
        stdin: b"a\0b\nc\n".to_vec(),
        status: 1,
        stderr: exact(
            "forkpool: job 1 cannot start: an argument holds a NUL byte, which no command can \
             receive (NUL-separated input needs -0)\n",
        ),
        stdout: b"c".to_vec(),
    });
    // Command lines longer than the OS allows: the job fails with one line, the others run.
    let big = vec![b'a'; 200 * 1024];
    let mut stdin = b"small1\n".to_vec();
    stdin.extend_from_slice(&big);
    stdin.extend_from_slice(b"\nsmall2\n");
    rows.push(Row {
        name: "one value over 128 KiB through the shell (one sh -c argument too long)",
        args: words(&["-k", r"printf '%.5s\n'", "{}"]),
        stdin: stdin.clone(),
        status: 1,
        stderr: exact(&format!("forkpool: job 2 {TOO_LONG}\n")),
        stdout: b"small\nsmall\n".to_vec(),
    });
    rows.push(Row {
        name: "one value over 128 KiB exec'ed directly",
        args: words(&["-k", "printf", "%.5s", "{}"]),
        stdin,
        status: 1,
        stderr: exact(&format!("forkpool: job 2 {TOO_LONG}\n")),
        stdout: b"smallsmall".to_vec(),
    });
    // 60 values of 120,000 bytes: job 1 has 59 of them, past the 6 MiB the kernel allows at
    // most for all arguments together; job 2 has the last one and a small value.
    let mut stdin = b"s1\n".to_vec();
    for _ in 0..60 {
        stdin.extend_from_slice(&[b'b'; 120_000]);
        stdin.push(b'\n');
    }
    stdin.extend_from_slice(b"s2\n");
    rows.push(Row {
        name: "arguments over the total the OS allows, exec'ed directly",
        args: words(&["-k", "-N", "60", "printf", "%.3s", "{}"]),
        stdin,
        status: 1,
        stderr: exact(&format!("forkpool: job 1 {TOO_LONG}\n")),
        stdout: b"bbbs2".to_vec(),
    });

    let mut failures = Vec::new();
    for r in &rows {
        let out = run(&r.args, &r.stdin);
        let err = show(&out.stderr);
        let err_ok = match &r.stderr {
            Stderr::Exact(want) => &err == want,
            Stderr::FirstLine(first, holds) => {
                err.lines().next() == Some(first) && err.contains(holds)
            }
        };
        if out.status.code() != Some(r.status) || !err_ok || out.stdout != r.stdout {
            failures.push(format!(
                "{}:\n  status {:?}, want {}\n  stderr {:?}\n  stdout {:?}, want {:?}",
                r.name,
                out.status.code(),
                r.status,
                err,
                show(&out.stdout),
                show(&r.stdout),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
