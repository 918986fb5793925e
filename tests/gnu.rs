//! GNU parallel behaviours that the recorded corpus (`compat`) cannot show, because they involve
//! stderr, both streams in one file, or timing.

use std::process::Command;

use crate::support::{bin, forkpool};

/// Run forkpool with `args` under `sh -c '... 2>&1'`: both streams into one pipe.
fn merged(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec \"$@\" 2>&1")
        .arg("sh")
        .arg(bin())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn with_both_streams_in_one_file_each_jobs_stdout_comes_before_its_stderr() {
    let job = "echo out {}; echo err {} >&2; echo out2 {}";
    let want = "out a\nout2 a\nerr a\nout b\nout2 b\nerr b\n";
    assert_eq!(
        merged(&["-j1", job, ":::", "a", "b"]),
        (Some(0), want.into())
    );
    assert_eq!(
        merged(&["-k", "-j2", job, ":::", "a", "b"]),
        (Some(0), want.into())
    );
    let tagged = "a\tout a\na\tout2 a\na\terr a\nb\tout b\nb\tout2 b\nb\terr b\n";
    assert_eq!(
        merged(&["-k", "--tag", job, ":::", "a", "b"]),
        (Some(0), tagged.into())
    );
}

#[test]
fn an_option_given_twice_takes_the_last_value() {
    let out = forkpool()
        .args(["-j2", "-j1", "-k", "-k", "--tag", "--tag", "-n2", "-n1"])
        .args([
            "--tagstring",
            "A",
            "--tagstring",
            "B{}",
            "echo",
            ":::",
            "x",
            "y",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Bx\tx\nBy\ty\n");
}

#[test]
fn gnu_spellings_and_notice_switches_are_accepted() {
    for args in [
        &["--will-cite", "echo", ":::", "a"][..],
        &["--no-notice", "echo", ":::", "a"],
        &["--silent", "echo", ":::", "a"],
        &["--linebuffer", "echo", ":::", "a"],
    ] {
        forkpool()
            .args(args)
            .assert()
            .success()
            .stdout("a\n")
            .stderr("");
    }
    forkpool()
        .args(["--dryrun", "echo", ":::", "a b"])
        .assert()
        .success()
        .stdout("echo 'a b'\n");
    forkpool()
        .args(["--tag-string", "T", "echo", ":::", "a"])
        .assert()
        .success()
        .stdout("T\ta\n");
}

#[test]
fn output_modes_that_contradict_each_other_are_refused() {
    for (a, b) in [
        ("--group", "--lb"),
        ("--group", "-u"),
        ("-u", "--line-buffer"),
    ] {
        let out = forkpool()
            .args([a, b, "echo", ":::", "x"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255), "{a} {b}");
        assert_eq!(out.stdout, b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("forkpool: error: the argument '"), "{err}");
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

#[test]
fn a_timed_out_job_fails_even_when_it_exits_0_and_the_kill_is_reported() {
    let dir = crate::support::TempDir::new("timeout-exit0");
    let log = dir.path().join("log");
    let out = forkpool()
        .args(["--joblog", log.to_str().unwrap(), "--timeout", "0.5"])
        .args(["trap 'exit 0' TERM; echo {}; sleep 30 & wait", ":::", "3"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"3\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "forkpool: job 1 timed out after 0.5s, stopping it: trap 'exit 0' TERM; echo 3; sleep 30 & wait\n"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    let cols: Vec<&str> = log.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!((cols[6], cols[7]), ("-1", "0"), "{log}");
}

#[test]
fn timeout_0_means_no_time_limit() {
    for t in ["0", "0s"] {
        forkpool()
            .args(["--timeout", t, "sleep 0.2; echo {}", ":::", "a"])
            .assert()
            .success()
            .stdout("a\n")
            .stderr("");
    }
}

/// The job itself ended with its status; a background child still holding its stdout is stopped
/// at the deadline, and the job keeps its status.
#[test]
fn timeout_stops_a_background_child_that_holds_the_jobs_output() {
    let marker = format!("sleep 7{}", std::process::id() % 1000 + 1000);
    let start = std::time::Instant::now();
    forkpool()
        .args([
            "--timeout",
            "0.5",
            &format!("{marker} & echo {{}}"),
            ":::",
            "1",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout("1\n")
        .stderr("");
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    assert!(crate::support::processes_matching(&marker).is_empty());
}

#[test]
fn colsep_trims_white_space_around_each_column() {
    forkpool()
        .args(["--colsep", ",", "echo", "[{1}]", "[{2}]"])
        .write_stdin(" a , b \n")
        .assert()
        .success()
        .stdout("[a] [b]\n")
        .stderr("");
    forkpool()
        .args([
            "-k",
            "--colsep",
            ",",
            "echo",
            "[{1}]",
            "[{2}]",
            ":::",
            "\t x ,\ty\t",
        ])
        .assert()
        .success()
        .stdout("[x] [y]\n");
}

#[test]
fn colsep_header_names_are_trimmed_so_every_column_can_be_named() {
    let dir = crate::support::TempDir::new("colsep-header");
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "name, age\nbob, 3\n").unwrap();
    forkpool()
        .args([
            "--colsep", ",", "--header", ":", "echo", "{name}", "is", "{age}",
        ])
        .args(["::::", csv.to_str().unwrap()])
        .assert()
        .success()
        .stdout("bob is 3\n")
        .stderr("");
}

#[test]
fn trim_option_picks_which_side_of_each_value_is_trimmed() {
    let cases = [
        (&["--trim", "n", "--colsep", ","][..], "[ a ] [ b ]\n"),
        (&["--trim", "l", "--colsep", ","], "[a ] [b ]\n"),
        (&["--trim", "r", "--colsep", ","], "[ a] [ b]\n"),
        (&["--trim", "lr", "--colsep", ","], "[a] [b]\n"),
        (&["--trim", "rl", "--colsep", ","], "[a] [b]\n"),
        // Without --colsep the whole value is trimmed.
        (&["--trim", "lr"], "[a , b] [a , b]\n"),
        (&["--trim", "l"], "[a , b ] [a , b ]\n"),
    ];
    for (opts, want) in cases {
        let template = if opts.contains(&"--colsep") {
            ["echo", "[{1}]", "[{2}]"]
        } else {
            ["echo", "[{1}]", "[{}]"]
        };
        forkpool()
            .args(opts)
            .args(template)
            .write_stdin(" a , b \n")
            .assert()
            .success()
            .stdout(want)
            .stderr("");
    }
    // Without --trim and --colsep nothing is trimmed.
    forkpool()
        .args(["echo", "[{}]", ":::", " x "])
        .assert()
        .success()
        .stdout("[ x ]\n");
    let out = forkpool()
        .args(["--trim", "x", "echo", ":::", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(out.stdout, b"");
}

#[test]
fn a_replacement_string_that_starts_the_command_is_a_command_line_not_one_word() {
    let cases = [
        (&["{}", ":::", "echo a b"][..], "a b\n"),
        (&["{}", "x", ":::", "echo a b"], "a b x\n"),
        (&["{1}", "x", ":::", "echo a b"], "a b x\n"),
        (&["{.}", ":::", "echo a.b c.d"], "a.b c\n"),
        // Once the command starts with one, every value is unquoted, as in GNU parallel.
        (&["{}", "{}", ":::", "echo a b"], "a b echo a b\n"),
        (&["{2}", "{1}", ":::", "x  y", ":::", "echo c"], "c x y\n"),
        (&["{}x", ":::", "echo a b"], "a bx\n"),
        (&["-I", "XX", "XX", "y", ":::", "echo a b"], "a b y\n"),
    ];
    for (args, want) in cases {
        forkpool()
            .args(args)
            .assert()
            .success()
            .stdout(want)
            .stderr("");
    }
    // A leading word with `=` is a variable assignment, and a value later in the command is
    // still one quoted word.
    forkpool()
        .args(["--dry-run", "V={}", "echo", "{}", ":::", "a b"])
        .assert()
        .success()
        .stdout("V='a b' echo 'a b'\n");
    forkpool()
        .args(["--dry-run", "echo", "{}", ":::", "a b"])
        .assert()
        .success()
        .stdout("echo 'a b'\n");
    forkpool()
        .args(["--dry-run", "-q", "{}", "x", ":::", "echo a b"])
        .assert()
        .success()
        .stdout("'echo a b' x\n");
}

#[test]
fn a_linked_file_source_may_come_first_and_links_every_file_after_it() {
    let dir = crate::support::TempDir::new("linked-first");
    let p = |name: &str, text: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        f.to_str().unwrap().to_string()
    };
    let (f1, f2, f3) = (
        p("f1", "1\n2\n3\n"),
        p("f2", "a\nb\n"),
        p("f3", "x\ny\nz\nw\n"),
    );
    forkpool()
        .args(["-k", "echo", "{1}", "-", "{2}", "::::+", &f1, &f2])
        .assert()
        .success()
        .stdout("1 - a\n2 - b\n")
        .stderr("");
    forkpool()
        .args([
            "-k", "echo", "{1}", "{2}", "{3}", "::::", &f1, "::::+", &f2, &f3,
        ])
        .assert()
        .success()
        .stdout("1 a x\n2 b y\n")
        .stderr("");
    forkpool()
        .args([
            "-k", "echo", "{1}", "{2}", "{3}", "::::+", &f1, &f2, ":::", "p", "q",
        ])
        .assert()
        .success()
        .stdout("1 a p\n1 a q\n2 b p\n2 b q\n");
    // GNU parallel takes a leading :::+ as a plain :::.
    forkpool()
        .args(["-k", "echo", "{1}{2}", ":::+", "a", "b", ":::", "c", "d"])
        .assert()
        .success()
        .stdout("ac\nad\nbc\nbd\n");
}

/// GNU parallel splits with Perl's `split`, where a separator that matches the empty string
/// splits between characters: `--colsep '|'` (an empty alternation) gives `a` for `{1}`.
#[test]
fn colsep_that_can_match_nothing_splits_between_characters() {
    forkpool()
        .args(["--colsep", "|", "echo", "[{1}]", "[{2}]", "[{3}]"])
        .write_stdin("a|b\n")
        .assert()
        .success()
        .stdout("[a] [|] [b]\n")
        .stderr("");
    forkpool()
        .args(["--colsep", " *", "echo", "[{1}]", "[{2}]"])
        .write_stdin("a  b\n")
        .assert()
        .success()
        .stdout("[a] [b]\n");
}

#[test]
fn a_gnu_parallel_option_forkpool_lacks_is_named_as_such() {
    forkpool()
        .args(["--shuf", "echo", "{}", ":::", "a"])
        .assert()
        .code(255)
        .stdout("")
        .stderr(
            "forkpool: error: --shuf is GNU parallel's; forkpool does not support it yet\n\
             forkpool: hint: shuffle the input first: shuf FILE | forkpool CMD\n",
        );
    forkpool()
        .args(["--hostgroups", "-S", "host", "echo", ":::", "a"])
        .assert()
        .code(255)
        .stdout("")
        .stderr(
            "forkpool: error: --hostgroups is GNU parallel's; forkpool does not support it yet\n\
             forkpool: hint: give hosts with -S and use forkpool's remote options (forkpool --help, Remote hosts)\n",
        );
    forkpool()
        .args(["--tmux", "echo", ":::", "a"])
        .assert()
        .code(255)
        .stdout("")
        .stderr("forkpool: error: --tmux is GNU parallel's; forkpool does not support it yet\n");
    forkpool()
        .args(["--keeporder", "echo", ":::", "a"])
        .assert()
        .code(255)
        .stdout("")
        .stderr(
            "forkpool: error: --keeporder is GNU parallel's spelling; forkpool's is --keep-order\n",
        );
}

#[test]
fn an_ambiguous_abbreviation_lists_the_options_it_could_be() {
    forkpool()
        .args(["--jo", "2", "echo", ":::", "a"])
        .assert()
        .code(255)
        .stdout("")
        .stderr(
            "forkpool: error: --jo is ambiguous: it could be --joblog or --jobs\n\
             forkpool: hint: write more of the option's name\n",
        );
}
