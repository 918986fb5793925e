//! What forkpool shows on a terminal (a pseudo-terminal here). `--bar` and `--eta`: drawn on stderr
//! when it is a terminal, never on stdout, nothing at all when stderr is a file or a pipe, and a
//! clean final line at the end. Job inputs read from a terminal: one line says so.
//!
//! Timing-dependent details (how many frames, the rate, the ETA's value) are only matched by
//! pattern, so a loaded machine passes too.

use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};

use nix::pty::{Winsize, openpty};
use regex::Regex;

use crate::support::{TempDir, bin, forkpool};

/// What a run wrote to its terminal (stderr, a 120-column pseudo-terminal) and to stdout (a
/// pipe), and whether it succeeded. `stdin` is the job input on stdin, if any.
fn on_terminal(args: &[&str], stdin: Option<&str>) -> (String, String, bool) {
    let size = Winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(Some(&size), None).unwrap();
    let mut child = {
        // The command (and with it this process's copy of the terminal's slave end) is dropped
        // once the child runs, so reading the master ends when the child and its jobs are gone.
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("TERM", "xterm")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::from(pty.slave));
        cmd.spawn().unwrap()
    };
    let mut master = File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        // Ends with EIO when the last slave end closes.
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut chunk) {
            seen.extend_from_slice(&chunk[..n]);
        }
        seen
    });
    if let Some(text) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let ok = child.wait().unwrap().success();
    let terminal = String::from_utf8(reader.join().unwrap()).unwrap();
    (terminal, stdout, ok)
}

/// The text lines and frames drawn on the terminal: escape sequences removed, split at carriage
/// returns and newlines, trailing padding trimmed, empty pieces dropped.
fn frames(terminal: &str) -> Vec<String> {
    let escape = Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    escape
        .replace_all(terminal, "")
        .split(['\r', '\n'])
        .map(|f| f.trim_end().to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// The terminal ends with exactly `final_line` (a pattern) and a newline, after the last escape
/// sequence: the display is gone and one clean line is left.
fn assert_clean_final_line(terminal: &str, final_line: &str) {
    let tail = Regex::new(&format!(r"\x1b\[[0-9;?]*[A-Za-z]{final_line}\r\n\z")).unwrap();
    assert!(
        tail.is_match(terminal),
        "no clean final line at the end of {terminal:?}"
    );
}

#[test]
fn bar_on_a_terminal_shows_counts_and_eta_then_a_clean_final_line() {
    let seq: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    let mut args = vec!["--bar", "-j2", "-N0", "sleep", "0.2", ":::"];
    args.extend(seq.iter().map(String::as_str));
    let (terminal, stdout, ok) = on_terminal(&args, None);
    assert!(ok);
    assert_eq!(stdout, "");
    let frames = frames(&terminal);
    let (last, drawn) = frames.split_last().expect("something was drawn");
    assert!(
        Regex::new(r"^20/20 done, 0 failed, [0-9]+\.[0-9]s$")
            .unwrap()
            .is_match(last),
        "final line {last:?}"
    );
    assert_clean_final_line(&terminal, r"20/20 done, 0 failed, [0-9]+\.[0-9]s");
    let bar = Regex::new(
        r"^\[[=> ]+\] [0-9]+/20 done, [0-2] running, 0 failed, [0-9]+\.[0-9]/s, [0-9]+\.[0-9]s, ETA (\?|[0-9]+s)$",
    )
    .unwrap();
    assert!(!drawn.is_empty(), "no frame before the final line");
    for f in drawn {
        assert!(bar.is_match(f), "frame {f:?}");
    }
}

#[test]
fn eta_on_a_terminal_shows_done_failed_and_eta_then_a_clean_final_line() {
    let mut args = vec!["--eta", "-j2", "sleep 0.2; exit {}", ":::"];
    args.extend(["0", "1", "0", "0", "0", "0", "0", "0", "0", "0"]);
    let (terminal, stdout, ok) = on_terminal(&args, None);
    assert!(!ok, "one job failed");
    assert_eq!(stdout, "");
    let frames = frames(&terminal);
    let (last, drawn) = frames.split_last().expect("something was drawn");
    assert!(
        Regex::new(r"^10/10 done, 1 failed, [0-9]+\.[0-9]s$")
            .unwrap()
            .is_match(last),
        "final line {last:?}"
    );
    assert_clean_final_line(&terminal, r"10/10 done, 1 failed, [0-9]+\.[0-9]s");
    let eta = Regex::new(r"^[0-9]+/10 done, [01] failed, ETA (\?|[0-9]+s)$").unwrap();
    assert!(!drawn.is_empty(), "no frame before the final line");
    for f in drawn {
        assert!(eta.is_match(f), "frame {f:?}");
    }
}

#[test]
fn bar_shows_done_without_a_total_until_stdin_ends() {
    let input: String = (1..=8).map(|i| format!("{i}\n")).collect();
    let (terminal, stdout, ok) =
        on_terminal(&["--bar", "-j2", "-N0", "sleep", "0.2"], Some(&input));
    assert!(ok);
    assert_eq!(stdout, "");
    let frames = frames(&terminal);
    let (last, drawn) = frames.split_last().expect("something was drawn");
    assert!(
        Regex::new(r"^8/8 done, 0 failed, [0-9]+\.[0-9]s$")
            .unwrap()
            .is_match(last),
        "final line {last:?}"
    );
    // The first frame is drawn at once, before the input can have ended.
    let open =
        Regex::new(r"^[0-9] done, [0-2] running, 0 failed, [0-9]+\.[0-9]/s, [0-9]+\.[0-9]s$")
            .unwrap();
    let closed =
        Regex::new(r"^\[[=> ]+\] [0-9]/8 done, [0-2] running, 0 failed, .*, ETA ").unwrap();
    assert!(open.is_match(&drawn[0]), "first frame {:?}", drawn[0]);
    for f in drawn {
        assert!(open.is_match(f) || closed.is_match(f), "frame {f:?}");
    }
}

#[test]
fn bar_counts_bytes_when_pipe_mode_cuts_a_file() {
    let dir = TempDir::new("bar-bytes");
    let file = dir.path().join("in");
    // A header line, then 5000 bytes of records: the bytes after the header are what is cut.
    let mut text = String::from("h\n");
    for i in 0..100 {
        text.push_str(&format!("{i:049}\n"));
    }
    std::fs::write(&file, &text).unwrap();
    let file = file.to_str().unwrap();
    let final_line =
        Regex::new(r"^5 done, 4\.88 KiB of 4\.88 KiB, 0 failed, [0-9]+\.[0-9]s$").unwrap();
    let bar = Regex::new(
        r"^\[[=> ]+\] [0-9.]+ (B|KiB)/4\.88 KiB, [0-5] done, [0-2] running, 0 failed, [0-9.]+ (B|KiB)/s, [0-9]+\.[0-9]s, ETA (\?|[0-9]+s)$",
    )
    .unwrap();
    for mode in ["--pipepart", "--pipe"] {
        let (terminal, stdout, ok) = on_terminal(
            &[
                "--bar",
                mode,
                "-a",
                file,
                "--header",
                "1",
                "--block",
                "1k",
                "-j2",
                "sleep 0.1; wc -c >/dev/null",
            ],
            None,
        );
        assert!(ok, "{mode}");
        assert_eq!(stdout, "");
        let frames = frames(&terminal);
        let (last, drawn) = frames.split_last().expect("something was drawn");
        assert!(final_line.is_match(last), "{mode}: final line {last:?}");
        assert!(!drawn.is_empty(), "{mode}: no frame before the final line");
        for f in drawn {
            assert!(bar.is_match(f), "{mode}: frame {f:?}");
        }
    }
}

#[test]
fn job_stderr_lines_stay_whole_beneath_the_bar() {
    let (terminal, stdout, ok) = on_terminal(
        &[
            "--bar",
            "-j3",
            "sleep 0.1; echo line {} >&2; echo out {}",
            ":::",
            "1",
            "2",
            "3",
            "4",
            "5",
            "6",
        ],
        None,
    );
    assert!(ok);
    let mut out: Vec<&str> = stdout.lines().collect();
    out.sort_unstable();
    assert_eq!(out, ["out 1", "out 2", "out 3", "out 4", "out 5", "out 6"]);
    let frames = frames(&terminal);
    let mut lines: Vec<&str> = frames
        .iter()
        .map(String::as_str)
        .filter(|f| !f.starts_with('[') && !f.contains(" done, "))
        .collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["line 1", "line 2", "line 3", "line 4", "line 5", "line 6"],
        "terminal {terminal:?}"
    );
    assert_clean_final_line(&terminal, r"6/6 done, 0 failed, [0-9]+\.[0-9]s");
}

#[test]
fn a_halted_run_counts_only_the_jobs_that_ran_and_its_warning_stays_whole() {
    let (terminal, stdout, ok) = on_terminal(
        &[
            "--bar",
            "--halt",
            "now,fail=1",
            "-j1",
            "sleep 0.1; exit {}",
            ":::",
            "0",
            "1",
            "0",
            "0",
        ],
        None,
    );
    assert!(!ok);
    assert_eq!(stdout, "");
    let frames = frames(&terminal);
    assert!(
        frames
            .iter()
            .any(|f| f == "forkpool: halting: job 2 failed: sleep 0.1; exit 1"),
        "terminal {terminal:?}"
    );
    assert_clean_final_line(&terminal, r"2/4 done, 1 failed, [0-9]+\.[0-9]s");
}

#[test]
fn bar_and_eta_write_nothing_when_stderr_is_a_file() {
    let dir = TempDir::new("progress");
    let expected: String = (1..=20).map(|i| format!("{i}\n")).collect();
    for flag in ["--bar", "--eta"] {
        let path = dir.path().join("stderr");
        let output = Command::new(bin())
            .args([flag, "-j2", "-k", "echo", ":::"])
            .args((1..=20).map(|i| i.to_string()))
            .env("TERM", "xterm")
            .stderr(File::create(&path).unwrap())
            .output()
            .unwrap();
        assert!(output.status.success());
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            expected,
            "{flag}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"", "{flag}");
    }
}

#[test]
fn bar_and_eta_write_nothing_when_stderr_is_a_pipe() {
    for flag in ["--bar", "--eta"] {
        forkpool()
            .args([
                flag, "-j2", "-N0", "sleep", "0.2", ":::", "1", "2", "3", "4",
            ])
            .env("TERM", "xterm")
            .assert()
            .success()
            .stdout("")
            .stderr("");
    }
}

/// `forkpool CMD` with no input source reads stdin; when that is a terminal, one line on stderr
/// says so instead of a silent wait, and the typed inputs then run.
#[test]
fn stdin_on_a_terminal_with_no_input_source_says_it_reads_job_inputs_from_it() {
    use nix::sys::termios::{LocalFlags, OutputFlags, SetArg, tcgetattr, tcsetattr};
    use std::io::Write;
    let pty = openpty(None, None).unwrap();
    // No echo of what is typed and no \n -> \r\n, so the terminal shows only forkpool's stderr.
    let mut modes = tcgetattr(&pty.slave).unwrap();
    modes.local_flags.remove(LocalFlags::ECHO);
    modes.output_flags.remove(OutputFlags::OPOST);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &modes).unwrap();
    let mut child = {
        let mut cmd = Command::new(bin());
        cmd.args(["-k", "echo", "got"])
            .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(pty.slave));
        cmd.spawn().unwrap()
    };
    let mut master = File::from(pty.master);
    // Typed input, then Ctrl-D at the start of a line: the end of input.
    master.write_all(b"a\nb\n\x04").unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut chunk) {
            seen.extend_from_slice(&chunk[..n]);
        }
        seen
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(stdout, "got a\ngot b\n");
    assert_eq!(
        String::from_utf8(reader.join().unwrap()).unwrap(),
        "forkpool: reading job inputs from stdin (a terminal): end them with Ctrl-D, or give them \
         with ::: VALUES or :::: FILE\n"
    );
}

/// With an input source, or with stdin not a terminal, nothing is said.
#[test]
fn stdin_is_not_announced_when_inputs_are_given_or_piped() {
    let (terminal, stdout, ok) = on_terminal(&["-k", "echo", ":::", "a"], None);
    assert!(ok);
    assert_eq!((terminal.as_str(), stdout.as_str()), ("", "a\n"));
    let (terminal, stdout, ok) = on_terminal(&["-k", "echo"], Some("b\n"));
    assert!(ok);
    assert_eq!((terminal.as_str(), stdout.as_str()), ("", "b\n"));
}
