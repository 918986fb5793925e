//! Pipe mode (`--pipe`, `--pipepart`, `--round-robin`, `--cat`, `--fifo`): blocks reach the jobs
//! byte for byte, end on record boundaries, and a job that reads slowly, partly or not at all
//! holds up nothing else. GNU parallel's exact block boundaries for -N, -L, --recstart,
//! --recend, --regexp and --header are checked by the compat corpus (`pipe-*` cases).

use std::time::Duration;

use crate::support::{TempDir, forkpool};

/// A small deterministic generator (xorshift), so failures can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Text: lines of 0-80 printable bytes, some starting with '>'.
    fn text(&mut self, len: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(len);
        while v.len() < len {
            let n = (self.next() % 81) as usize;
            if self.next().is_multiple_of(5) {
                v.push(b'>');
            }
            for _ in 0..n {
                v.push(b' ' + (self.next() % 95) as u8);
            }
            v.push(b'\n');
        }
        v.truncate(len);
        v
    }

    fn binary(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn run_on(input: &[u8], args: &[&str]) -> Vec<u8> {
    let out = forkpool()
        .args(args)
        .write_stdin(input.to_vec())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sorted_lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    v.sort();
    v
}

#[test]
fn every_way_of_cutting_gives_back_the_input_byte_for_byte() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut inputs = vec![Vec::new(), b"x".to_vec(), b"\n".to_vec()];
    for len in [1000, 70_000, 1_500_000] {
        let mut t = rng.text(len);
        inputs.push(t.clone());
        // The same without its last separator.
        while t.last() == Some(&b'\n') {
            t.pop();
        }
        inputs.push(t);
        inputs.push(rng.binary(len));
    }
    let modes: &[&[&str]] = &[
        &["--pipe", "--block", "1k"],
        &["--pipe", "--block", "64k"],
        &["--pipe"],
        &["--pipe", "-N", "7"],
        &["--pipe", "-L", "3", "--block", "10k"],
        &["--pipe", "-L", "2", "-N", "5"],
        &["--pipe", "--recstart", ">", "--block", "3k"],
        &["--pipe", "--recstart", ">", "--recend", "\\n", "-N", "4"],
        &["--pipe", "--recend", "\\0", "--block", "5k"],
        &[
            "--pipe", "--regexp", "--recend", "[0-9]\\n", "--block", "2k",
        ],
        &["--pipe", "--cat", "--block", "20k"],
        &["--pipe", "--fifo", "--block", "20k"],
    ];
    for input in &inputs {
        for mode in modes {
            let mut args = mode.to_vec();
            let cmd = if args.contains(&"--cat") || args.contains(&"--fifo") {
                "cat {}"
            } else {
                "cat"
            };
            args.extend(["-k", "-j3", cmd]);
            let out = run_on(input, &args);
            assert!(
                out == *input,
                "{mode:?} on {} bytes: got {} bytes back",
                input.len(),
                out.len()
            );
        }
    }
}

#[test]
fn pipepart_and_round_robin_give_back_the_input() {
    let dir = TempDir::new("pipepart");
    let mut rng = Rng(42);
    for (i, mut input) in [rng.text(2_000_000), rng.binary(300_000), rng.text(10)]
        .into_iter()
        .enumerate()
    {
        // Whole lines, so that lines survive blocks being joined in any order.
        input.push(b'\n');
        let f = dir.path().join(format!("in{i}"));
        std::fs::write(&f, &input).unwrap();
        let f = f.to_str().unwrap();
        for block in ["1k", "100k", "-3", "10M"] {
            let out = run_on(b"", &["--pipepart", "-a", f, "--block", block, "-k", "cat"]);
            assert!(out == input, "--pipepart --block {block} on in{i}");
        }
        // Blocks spread over three long-lived jobs: all there, order aside.
        let out = run_on(
            &input,
            &["--pipe", "--round-robin", "--block", "10k", "-j3", "cat"],
        );
        if i != 1 {
            assert!(
                sorted_lines(&out) == sorted_lines(&input),
                "--round-robin in{i}"
            );
        }
        assert_eq!(out.len(), input.len());
    }
}

/// --pipe's blocks end on the last record end within --block (unless one record is longer);
/// --pipepart's, as GNU parallel's, run on from --block bytes to the next record end.
#[test]
fn blocks_end_on_a_record_where_pipe_and_pipepart_cut() {
    let dir = TempDir::new("pipe-blocks");
    let mut rng = Rng(7);
    let input = rng.text(500_000);
    let cmd = format!("cat > {}/{{#}}", dir.path().display());
    for mode in ["--pipe", "--pipepart"] {
        let f = dir.path().join("input");
        std::fs::write(&f, &input).unwrap();
        forkpool()
            .args([mode, "-a", f.to_str().unwrap(), "--block", "10000", &cmd])
            .timeout(Duration::from_secs(60))
            .assert()
            .success();
        std::fs::remove_file(&f).unwrap();
        let mut blocks: Vec<(u64, Vec<u8>)> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| {
                let n = e.file_name().to_string_lossy().parse().unwrap();
                (n, std::fs::read(e.path()).unwrap())
            })
            .collect();
        blocks.sort();
        assert!(blocks.len() >= 50, "{mode}: {} blocks", blocks.len());
        let last = blocks.len() as u64;
        for (n, b) in &blocks {
            if mode == "--pipe" {
                assert!(b.len() <= 10000, "{mode}: block {n} has {} bytes", b.len());
            } else if *n != last {
                assert!(
                    b.len() > 10000 && !b[10000..b.len() - 1].contains(&b'\n'),
                    "{mode}: block {n} ({} bytes) does not end at the first newline from byte 10000",
                    b.len()
                );
            }
            // The input's last line has no newline; every other block ends with one.
            assert!(
                *n == last || b.last() == Some(&b'\n'),
                "{mode}: block {n} ends mid-record"
            );
        }
        let joined: Vec<u8> = blocks.into_iter().flat_map(|(_, b)| b).collect();
        assert!(
            joined == input,
            "{mode}: the blocks do not add up to the input"
        );
        for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
}

#[test]
/// As GNU parallel: the block size grows (x 1.3 + 1 at a time) until the record fits, and stays
/// grown for the rest of the run (GNU 20221122 gives these blocks).
fn a_record_longer_than_the_block_grows_the_blocks_with_one_warning() {
    let long = "x".repeat(5000);
    let input = format!("a\n{long}\nb\n{long}\nc\n");
    let out = forkpool()
        .args(["--pipe", "--block", "100", "-k", "wc -c"])
        .write_stdin(input)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n5003\n5003\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("longer than --block").count(), 1, "{err}");
}

#[test]
fn a_job_that_stops_reading_ends_its_block_quietly() {
    // 40 blocks of 1 MB; each job reads one line and exits: its stdin breaks, and that is the
    // job's business, not an error.
    let input: Vec<u8> = (0..400_000)
        .flat_map(|i| format!("{i:09}\n").into_bytes())
        .collect();
    let out = forkpool()
        .args(["--pipe", "--block", "100k", "-k", "-j2", "head -1"])
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.split(|&c| c == b'\n').count() - 1, 40);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_job_that_does_not_read_holds_up_no_other() {
    // Job 1 reads nothing until job 2 has read all of its block and finished; blocks are
    // larger than a pipe holds, so a blocking write to job 1 would hang the run.
    let dir = TempDir::new("pipe-stall");
    let done = dir.path().join("done2");
    let cmd = format!(
        "if [ {{#}} = 1 ]; then while [ ! -e {d} ]; do sleep 0.02; done; wc -c; \
         else wc -c; touch {d}; fi",
        d = done.display()
    );
    let input = vec![b'y'; 8 << 20]
        .chunks(99)
        .flat_map(|c| [c, b"\n"].concat())
        .collect::<Vec<u8>>();
    let out = forkpool()
        .args(["--pipe", "--block", "4M", "-N", "42000", "-j2", "-k", &cmd])
        .write_stdin(input.clone())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success());
    let counts: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), input.len() as u64);
    assert_eq!(counts.len(), 3);
}

#[test]
fn a_retried_block_is_fed_again() {
    let dir = TempDir::new("pipe-retry");
    let c = dir.path().join("count");
    // Fails twice after reading its block, then succeeds: the third attempt must see the block.
    let cmd = format!(
        "n=$(cat {c} 2>/dev/null || echo 0); echo $((n+1)) > {c}; cat; [ $n -ge 2 ]",
        c = c.display()
    );
    forkpool()
        .args(["--pipe", "--retries", "3", "-k", &cmd])
        .write_stdin("one\ntwo\n")
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stdout("one\ntwo\n");
    assert_eq!(std::fs::read_to_string(&c).unwrap(), "3\n");
}

#[test]
fn each_block_is_a_job_in_the_joblog_and_json() {
    let dir = TempDir::new("pipe-log");
    let log = dir.path().join("log");
    let out = forkpool()
        .args(["--pipe", "-N", "2", "--json", "-k", "--joblog"])
        .arg(&log)
        .arg("cat; [ {#} != 2 ]")
        .write_stdin("a\nb\nc\nd\ne\n")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(u64, String, i64)> = lines
        .iter()
        .map(|v| {
            (
                v["seq"].as_u64().unwrap(),
                v["stdout"].as_str().unwrap().to_string(),
                v["exit_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "a\nb\n".to_string(), 0),
            (2, "c\nd\n".to_string(), 1),
            (3, "e\n".to_string(), 0)
        ]
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 4);
}

#[test]
fn temporary_files_and_fifos_are_removed() {
    let dir = TempDir::new("pipe-tmp");
    for mode in ["--cat", "--fifo"] {
        forkpool()
            .args(["--pipe", mode, "-N", "1", "--tmpdir"])
            .arg(dir.path())
            .arg("cat {} > /dev/null")
            .write_stdin("a\nb\nc\n")
            .timeout(Duration::from_secs(30))
            .assert()
            .success();
        // A job that never opens its fifo must not hang the run either.
        forkpool()
            .args(["--pipe", mode, "-N", "1", "--tmpdir"])
            .arg(dir.path())
            .arg("true")
            .write_stdin("a\nb\nc\n")
            .timeout(Duration::from_secs(30))
            .assert()
            .success();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert!(left.is_empty(), "{mode} left {left:?}");
    }
}

#[test]
fn impossible_combinations_exit_255_with_a_reason() {
    let dir = TempDir::new("pipe-bad");
    let cases: &[(&[&str], &str)] = &[
        (&["--pipe", "cat", ":::", "a"], "not from ::: values"),
        (&["--pipepart", "cat"], "needs a regular file"),
        (&["--pipe", "--block", "-2", "cat"], "only with --pipepart"),
        (&["--pipe", "--block", "lots", "cat"], "is not a size"),
        (&["--cat", "cat"], "only with --pipe"),
        (&["--round-robin", "cat"], "only with --pipe"),
        (
            &["--pipepart", "-a", "/etc/hostname", "-N", "2", "cat"],
            "-N or -L",
        ),
        (&["--pipe", "-X", "cat"], "-X"),
        (
            &["--pipe", "--regexp", "--recend", "(", "cat"],
            "not a valid regular expression",
        ),
        (
            &["--pipe", "--round-robin", "--cat", "cat"],
            "--round-robin",
        ),
        (&["--pipe"], "needs a command"),
        (
            &["--pipe", "--round-robin", "--retries", "2", "cat"],
            "--round-robin and --retries",
        ),
    ];
    for (args, why) in cases {
        let out = forkpool()
            .args(*args)
            .current_dir(dir.path())
            .write_stdin("a\n")
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{args:?}: {err}");
        assert!(
            err.contains(why) && err.lines().count() <= 2,
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn round_robin_sends_the_header_once_per_job_and_a_stalled_job_holds_up_no_other() {
    let out = forkpool()
        .args([
            "--pipe",
            "--round-robin",
            "-j1",
            "--block",
            "20",
            "--header",
            "1",
        ])
        .arg("tr '\\n' ' '")
        .write_stdin((1..=30).map(|i| format!("{i}\n")).collect::<String>())
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let want: String = (1..=30).map(|i| format!("{i} ")).collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);

    // Slot 1's job stops reading until slot 2's has read 250,000 lines: a block owed to a job
    // that does not read must not keep the others from theirs.
    let dir = TempDir::new("rr-stall");
    let release = dir.path().join("release");
    let cmd = format!(
        "if [ {{%}} = 1 ]; then head -c 10 > /dev/null; while [ ! -e {r} ]; do sleep 0.05; done; \
         else head -n 250000 | wc -l; touch {r}; cat > /dev/null; fi",
        r = release.display()
    );
    let input: String = (1..=300_000).map(|i| format!("{i}\n")).collect();
    let out = forkpool()
        .args(["--pipe", "--round-robin", "-j2", "--block", "100k", &cmd])
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "250000");
}

#[test]
fn a_run_that_stops_early_leaves_no_cat_or_fifo_file() {
    let dir = TempDir::new("pipe-early");
    let input: String = (1..=200_000).map(|i| format!("{i}\n")).collect();
    for mode in ["--cat", "--fifo"] {
        forkpool()
            .args([
                "--pipe",
                mode,
                "--block",
                "10k",
                "-j2",
                "--halt",
                "now,fail=1",
                "--tmpdir",
            ])
            .arg(dir.path())
            .arg("exit 1")
            .write_stdin(input.clone())
            .timeout(Duration::from_secs(60))
            .assert()
            .code(1);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert!(left.is_empty(), "{mode} left {left:?}");
    }
}

#[test]
fn odd_cuts_agree_with_pipe_and_gnu() {
    // A huge --block is cut down (as GNU) instead of allocated.
    let out = forkpool()
        .args(["--pipe", "--block", "1T", "cat"])
        .write_stdin("1\n2\n")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"1\n2\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 GiB - 1"));

    // A multi-byte --recend across the --block limit: --pipe cuts before it, --pipepart (as
    // GNU's) at the first one that starts at or after it.
    let dir = TempDir::new("pipepart-straddle");
    let mut data = vec![b'a'; 3000];
    data[999..1001].copy_from_slice(b"\r\n");
    data[2000..2002].copy_from_slice(b"\r\n");
    let f = dir.path().join("in");
    std::fs::write(&f, &data).unwrap();
    for (mode, want) in [
        ("--pipe", "1001\n1001\n998\n"),
        ("--pipepart", "2002\n998\n"),
    ] {
        let out = forkpool()
            .args([
                mode,
                "-a",
                f.to_str().unwrap(),
                "--block",
                "1000",
                "--recend",
                "\\r\\n",
                "-k",
                "wc -c",
            ])
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{mode}");
    }
}

#[test]
fn a_regexp_cut_waits_for_the_rest_of_its_match() {
    // The second newline arrives later: `\n+` must take both, however the input is read.
    let mut child = std::process::Command::new(crate::support::bin())
        .args([
            "--pipe", "-k", "--regexp", "--recend", "\\n+", "-N", "1", "wc -c",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    use std::io::Write;
    stdin.write_all(b"a\n").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"\nb\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n2\n");
}

#[test]
fn stdin_from_a_file_is_cut_from_where_it_stands_and_left_read() {
    // A regular file on stdin goes to the jobs by splice, from the offset the shell left it at;
    // afterwards it reads as consumed, as after GNU parallel.
    let dir = TempDir::new("pipe-offset");
    let f = dir.path().join("in");
    std::fs::write(&f, (1..=10).map(|i| format!("{i}\n")).collect::<String>()).unwrap();
    let script = format!(
        "(read x; {} --pipe -N3 -k 'echo ---; cat'; echo \"rest: $(cat)\") < {}",
        crate::support::bin().display(),
        f.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "---\n2\n3\n4\n---\n5\n6\n7\n---\n8\n9\n10\nrest: \n"
    );
}

#[test]
fn dry_run_prints_a_command_per_block_and_runs_none() {
    let dir = TempDir::new("pipe-dry");
    let seq10: String = (1..=10).map(|i| format!("{i}\n")).collect();
    let touch = format!("touch {}/{{#}}", dir.path().display());
    let out = forkpool()
        .args(["--pipe", "-N3", "--dry-run", &touch])
        .write_stdin(seq10.clone())
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(out.status.success());
    let want: String = (1..=4)
        .map(|i| format!("touch {}/{i}\n", dir.path().display()))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // --round-robin: the jobs that would start, one per slot at most.
    let out = forkpool()
        .args([
            "--pipe",
            "--round-robin",
            "-j2",
            "-N1",
            "--dry-run",
            "echo {%}",
        ])
        .write_stdin(seq10.clone())
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "echo 1\necho 2\n");
    // --fifo: the file is $PARALLEL_TMP in the printed command, and in the job's environment.
    let out = forkpool()
        .args(["--pipe", "-N5", "--fifo", "--dry-run", "wc -l {}"])
        .write_stdin(seq10.clone())
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "wc -l $PARALLEL_TMP\nwc -l $PARALLEL_TMP\n"
    );
    let out = forkpool()
        .args(["--pipe", "-N5", "--fifo", "-k", "wc -l < \"$PARALLEL_TMP\""])
        .write_stdin(seq10)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5\n5\n");
}
