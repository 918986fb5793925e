//! Core behaviour end to end: byte-exact values through the direct and the shell path, input
//! sources, replacement strings, the job environment and process groups, exit statuses, output
//! modes (including spilling waiting output to disk), scale, broken pipes and --dry-run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::{TempDir, bin, forkpool, processes_matching, wait_for};

const LIMIT: Duration = Duration::from_secs(60);

/// Run forkpool with `args` and `stdin` (empty when `None`), with a generous timeout.
fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = forkpool();
    cmd.args(args).timeout(LIMIT);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    cmd.output().expect("forkpool runs")
}

/// Run and require exit status 0 and an empty stderr; return stdout.
fn ok(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let out = run(args, stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "forkpool {args:?}: stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "forkpool {args:?}: stderr should be empty"
    );
    out.stdout
}

/// Run and require success; return stdout as a String.
fn ok_str(args: &[&str], stdin: Option<&[u8]>) -> String {
    String::from_utf8(ok(args, stdin)).expect("utf-8 stdout")
}

fn sorted_lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A `--shell` wrapper that logs each call to `log` and then runs /bin/sh: proves whether a job
/// went through the shell (logged) or was exec'ed directly (not logged).
fn logging_shell(dir: &TempDir) -> (String, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.path().join("shell.log");
    let sh = dir.path().join("logsh");
    std::fs::write(
        &sh,
        format!(
            "#!/bin/sh\necho called >> '{}'\nexec /bin/sh \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755)).unwrap();
    (path_str(&sh).to_string(), log)
}

fn shell_calls(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// 1. Hostile values arrive byte-exact, through the direct path and through the shell.
// ---------------------------------------------------------------------------------------------

/// Values that mean something to a shell, as `:::` arguments (no newline, no NUL).
fn hostile_values(pwned: &Path) -> Vec<String> {
    vec![
        "it's".into(),
        "'".into(),
        "''".into(),
        "say \"hi\"".into(),
        format!("$(touch {})", pwned.display()),
        format!("`touch {}`", pwned.display()),
        "$HOME".into(),
        "a;b".into(),
        ";".into(),
        "a|b".into(),
        "|".into(),
        "*".into(),
        "~".into(),
        "~root".into(),
        "-n".into(),
        "--help".into(),
        "-".into(),
        "a\tb".into(),
        "\\n\\\\".into(),
        "a b".into(),
        "  lead and trail  ".into(),
        " ".into(),
        "".into(),
        "&& true".into(),
        "> out".into(),
        "{} {1} {#}".into(),
        "é".into(),
        "#comment".into(),
        "x=y".into(),
    ]
}

/// The expected output of `printf @%s@` run once per value, in order.
fn framed(values: &[impl AsRef<[u8]>]) -> Vec<u8> {
    let mut want = Vec::new();
    for v in values {
        want.push(b'@');
        want.extend_from_slice(v.as_ref());
        want.push(b'@');
    }
    want
}

/// Run `template` over `values` (from `:::`) through the logging shell; return stdout and the
/// number of shell calls.
fn through(template: &[&str], values: &[String], dir: &TempDir) -> (Vec<u8>, usize) {
    let (sh, log) = logging_shell(dir);
    let _ = std::fs::remove_file(&log);
    let mut args = vec!["-k", "-j2", "--shell", &sh];
    args.extend_from_slice(template);
    args.push(":::");
    args.extend(values.iter().map(String::as_str));
    let out = ok(&args, None);
    (out, shell_calls(&log))
}

#[test]
fn hostile_values_byte_exact_direct_path() {
    let dir = TempDir::new("hostile-direct");
    let pwned = dir.path().join("pwned");
    let values = hostile_values(&pwned);
    let (out, calls) = through(&["printf", "@%s@"], &values, &dir);
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&framed(&values))
    );
    assert_eq!(
        calls, 0,
        "a template without metacharacters must not use the shell"
    );
    assert!(!pwned.exists(), "a value was executed as shell code");
}

#[test]
fn hostile_values_byte_exact_shell_path() {
    let dir = TempDir::new("hostile-shell");
    let pwned = dir.path().join("pwned");
    let values = hostile_values(&pwned);
    // `;` in a template word is shell code, so this goes through the shell.
    let (out, calls) = through(&["printf", "@%s@", "{};", "true"], &values, &dir);
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&framed(&values))
    );
    assert_eq!(calls, values.len(), "each job must run through --shell");
    assert!(!pwned.exists(), "a value was executed as shell code");
}

#[test]
fn hostile_values_default_shell_path_does_not_execute_values() {
    // Same as above with the default /bin/sh (no --shell).
    let dir = TempDir::new("hostile-binsh");
    let pwned = dir.path().join("pwned");
    let values = hostile_values(&pwned);
    let mut args = vec!["-k", "printf", "@%s@", "{}", "|", "cat", ":::"];
    args.extend(values.iter().map(String::as_str));
    let out = ok(&args, None);
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&framed(&values))
    );
    assert!(!pwned.exists(), "a value was executed as shell code");
}

/// Records with newline, tab, CR, invalid UTF-8, empty and quote bytes, NUL-separated on stdin.
const NUL_RECORDS: &[&[u8]] = &[
    b"line1\nline2",
    b"\n",
    b"tab\there",
    b"cr\r",
    b"\xff\xfe",
    b"mixed\xc3(\xff'\"$(x)",
    b"",
    b" ",
    b"end",
];

fn nul_input() -> Vec<u8> {
    let mut input = Vec::new();
    for r in NUL_RECORDS {
        input.extend_from_slice(r);
        input.push(0);
    }
    input
}

#[test]
fn newline_tab_and_invalid_utf8_via_null_stdin_both_paths() {
    let dir = TempDir::new("nul-both");
    let (sh, log) = logging_shell(&dir);
    let want = framed(NUL_RECORDS);

    let direct = ok(
        &["-0", "-k", "--shell", &sh, "printf", "@%s@"],
        Some(&nul_input()),
    );
    assert_eq!(direct, want, "direct path");
    assert_eq!(shell_calls(&log), 0, "direct path used the shell");

    let shell = ok(
        &[
            "-0", "-k", "--shell", &sh, "printf", "@%s@", "{}", "|", "cat",
        ],
        Some(&nul_input()),
    );
    assert_eq!(shell, want, "shell path");
    assert_eq!(shell_calls(&log), NUL_RECORDS.len());
}

#[test]
fn invalid_utf8_and_empty_lines_via_stdin_lines_both_paths() {
    let input = b"\xff\xfe\n\nplain\n\xc3\n \n";
    let want = framed(&[&b"\xff\xfe"[..], b"", b"plain", b"\xc3", b" "]);
    assert_eq!(ok(&["-k", "printf", "@%s@"], Some(input)), want);
    assert_eq!(
        ok(&["-k", "printf", "@%s@", "{}", "|", "cat"], Some(input)),
        want
    );
}

#[test]
fn hundred_kilobyte_argument_byte_exact_both_paths() {
    // Mostly plain, with a hostile character every 100 bytes (quoting stays well under the
    // kernel's 128 KiB limit for one argument).
    let hostile = b"'\"$`;|*~ \t\\&<>(){}";
    let big: String = (0..100_000)
        .map(|i| {
            if i % 100 == 99 {
                hostile[(i / 100) % hostile.len()] as char
            } else {
                (b'a' + (i % 26) as u8) as char
            }
        })
        .collect();
    let dir = TempDir::new("big-arg");
    let values = vec![big.clone(), "small".to_string()];
    let want = framed(&values);

    let (out, calls) = through(&["printf", "@%s@"], &values, &dir);
    assert!(out == want, "direct path: 100 kB value not byte-exact");
    assert_eq!(calls, 0);

    let (out, calls) = through(&["printf", "@%s@", "{}", "|", "cat"], &values, &dir);
    assert!(out == want, "shell path: 100 kB value not byte-exact");
    assert_eq!(calls, 2);
}

// ---------------------------------------------------------------------------------------------
// 2. Input sources and how records are split and grouped.
// ---------------------------------------------------------------------------------------------

#[test]
fn input_stdin_lines() {
    assert_eq!(
        ok_str(&["-k", "echo"], Some(b"a\nb c\nlast")),
        "a\nb c\nlast\n"
    );
}

#[test]
fn input_empty_stdin_and_empty_colon_source_run_nothing() {
    assert_eq!(ok_str(&["echo", "x"], Some(b"")), "");
    assert_eq!(ok_str(&["echo", "x", ":::"], None), "");
}

#[test]
fn input_colon_source_ignores_stdin() {
    assert_eq!(
        ok_str(&["-k", "echo", ":::", "a", "b"], Some(b"from-stdin\n")),
        "a\nb\n"
    );
}

#[test]
fn input_values_after_colons_are_not_options() {
    assert_eq!(
        ok_str(&["-k", "echo", ":::", "-k", "-j", "--tag"], None),
        "-k\n-j\n--tag\n"
    );
}

#[test]
fn input_four_colon_file_and_arg_file() {
    let dir = TempDir::new("files");
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "x\ny z\n").unwrap();
    let f = path_str(&f);
    assert_eq!(ok_str(&["-k", "echo", "::::", f], None), "x\ny z\n");
    assert_eq!(ok_str(&["-k", "-a", f, "echo"], None), "x\ny z\n");
    assert_eq!(ok_str(&["-k", "--arg-file", f, "echo"], None), "x\ny z\n");
}

#[test]
fn input_arg_file_dash_and_four_colon_dash_read_stdin() {
    assert_eq!(
        ok_str(&["-k", "-a", "-", "echo"], Some(b"p\nq\n")),
        "p\nq\n"
    );
    assert_eq!(
        ok_str(&["-k", "echo", "::::", "-"], Some(b"p\nq\n")),
        "p\nq\n"
    );
}

#[test]
fn input_two_sources_combine_first_slowest() {
    assert_eq!(
        ok_str(&["-k", "echo", ":::", "a", "b", ":::", "1", "2", "3"], None),
        "a 1\na 2\na 3\nb 1\nb 2\nb 3\n"
    );
    // A file and a ::: list combine the same way.
    let dir = TempDir::new("combine");
    let f = dir.path().join("f");
    std::fs::write(&f, "x\ny\n").unwrap();
    assert_eq!(
        ok_str(&["-k", "echo", "::::", path_str(&f), ":::", "1", "2"], None),
        "x 1\nx 2\ny 1\ny 2\n"
    );
}

#[test]
fn input_linked_source_truncates_to_shortest() {
    assert_eq!(
        ok_str(
            &["-k", "echo", ":::", "a", "b", "c", ":::+", "1", "2"],
            None
        ),
        "a 1\nb 2\n"
    );
    assert_eq!(
        ok_str(
            &[
                "-k", "echo", ":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"
            ],
            None
        ),
        "a 1 x\na 1 y\nb 2 x\nb 2 y\n"
    );
}

#[test]
fn input_link_option_wraps_shorter_sources() {
    let want = "a 1\nb 2\nc 1\nd 2\ne 1\n";
    let args = ["echo", ":::", "a", "b", "c", "d", "e", ":::", "1", "2"];
    let mut with = vec!["-k", "--link"];
    with.extend_from_slice(&args);
    assert_eq!(ok_str(&with, None), want);
    with[1] = "--xapply";
    assert_eq!(ok_str(&with, None), want);
}

#[test]
fn input_null_separated() {
    assert_eq!(
        ok_str(&["-0", "-k", "echo", "={}="], Some(b"a\0b c\0d\ne\0")),
        "=a=\n=b c=\n=d\ne=\n"
    );
    assert_eq!(
        ok_str(&["--null", "-k", "echo", "={}="], Some(b"last-without-nul")),
        "=last-without-nul=\n"
    );
}

#[test]
fn input_delimiter_comma_and_tab() {
    // With -d, a newline is an ordinary byte.
    assert_eq!(
        ok(&["-d", ",", "-k", "printf", "@%s@"], Some(b"a,b,c\n")),
        b"@a@@b@@c\n@"
    );
    // ::: values are split by the delimiter as well.
    assert_eq!(
        ok_str(&["-d", ",", "-k", "echo", ":::", "a,b"], None),
        "a\nb\n"
    );
    assert_eq!(
        ok(&["-d", "\\t", "-k", "printf", "@%s@"], Some(b"a b\tc\td")),
        b"@a b@@c@@d@"
    );
}

#[test]
fn input_colsep_columns() {
    assert_eq!(
        ok_str(
            &["--colsep", ",", "-k", "echo", "{2}={1}"],
            Some(b"a,b\nc,d\ne\n")
        ),
        "b=a\nd=c\n=e\n"
    );
    // {} is all columns, each quoted on its own.
    assert_eq!(
        ok_str(
            &["--colsep", ",", "-k", "printf", "@%s@", "{}"],
            Some(b"a b,c\n")
        ),
        "@a b@@c@"
    );
    // A regular expression as separator.
    assert_eq!(
        ok_str(
            &["-C", "[;:]+", "-k", "echo", "{3}{2}{1}"],
            Some(b"a;b::c\n")
        ),
        "cba\n"
    );
}

#[test]
fn input_header_names_sources_and_columns() {
    assert_eq!(
        ok_str(
            &[
                "--header", ":", "-k", "echo", "{a}-{b}", ":::", "a", "1", "2", ":::", "b", "x",
                "y",
            ],
            None
        ),
        "1-x\n1-y\n2-x\n2-y\n"
    );
    assert_eq!(
        ok_str(
            &[
                "--header",
                ":",
                "--colsep",
                ",",
                "-k",
                "echo",
                "{name} is {age}",
            ],
            Some(b"name,age\nann,31\nbob,7\n")
        ),
        "ann is 31\nbob is 7\n"
    );
}

#[test]
fn input_eof_string_stops_input() {
    assert_eq!(
        ok_str(&["-E", "stop", "-k", "echo"], Some(b"a\nstop\nb\n")),
        "a\n"
    );
    assert_eq!(
        ok_str(
            &["-E", "stop", "-k", "echo", ":::", "a", "stop ", "stop", "b"],
            None
        ),
        "a\nstop \n"
    );
}

#[test]
fn input_no_run_if_empty_skips_blank_records() {
    assert_eq!(
        ok_str(&["-r", "-k", "echo", "X"], Some(b"a\n\n \n\t\nb \n")),
        "X a\nX b \n"
    );
    // Without -r empty lines are real, empty arguments.
    assert_eq!(
        ok_str(&["-k", "echo", "X"], Some(b"a\n\nb\n")),
        "X a\nX \nX b\n"
    );
}

#[test]
fn input_max_args_n2() {
    assert_eq!(
        ok_str(&["-n", "2", "-k", "echo"], Some(b"a\nb\nc\n")),
        "a b\nc\n"
    );
    assert_eq!(
        ok_str(
            &["-n2", "-k", "echo", "{2}-{1}", ":::", "a", "b", "c"],
            None
        ),
        "b-a\n-c\n"
    );
}

#[test]
fn input_max_replace_args_n2_positional() {
    assert_eq!(
        ok_str(
            &["-N", "2", "-k", "echo", "{1}{2}", ":::", "a", "b", "c"],
            None
        ),
        "ab\nc\n"
    );
}

#[test]
fn input_n0_runs_once_per_input_without_args() {
    assert_eq!(
        ok_str(&["-N0", "-k", "echo", "hi", ":::", "a", "b", "c"], None),
        "hi\nhi\nhi\n"
    );
}

#[test]
fn input_x_and_m_with_one_slot() {
    assert_eq!(
        ok_str(
            &["-j1", "-X", "echo", "pre{}post", ":::", "a", "b", "c"],
            None
        ),
        "preapost prebpost precpost\n"
    );
    assert_eq!(
        ok_str(
            &["-j1", "-m", "echo", "pre{}post", ":::", "a", "b", "c"],
            None
        ),
        "prea b cpost\n"
    );
    assert_eq!(
        ok_str(&["-j1", "-X", "echo", "a{}b{}c", ":::", "1", "2"], None),
        "a1b1c a2b2c\n"
    );
}

#[test]
fn input_xargs_puts_all_in_one_job() {
    assert_eq!(
        ok_str(&["--xargs", "-k", "echo", ":::", "a", "b", "c", "d"], None),
        "a b c d\n"
    );
    assert_eq!(
        ok_str(&["--xargs", "-k", "echo"], Some(b"a\nb c\n")),
        "a b c\n"
    );
}

#[test]
fn input_max_chars_packs_greedily() {
    // `echo aaa bbb ccc ddd` is 20 bytes: it must be shorter than -s.
    assert_eq!(
        ok_str(
            &[
                "-j1", "-s", "21", "--xargs", "-k", "echo", ":::", "aaa", "bbb", "ccc", "ddd",
                "eee"
            ],
            None
        ),
        "aaa bbb ccc ddd\neee\n"
    );
    assert_eq!(
        ok_str(
            &[
                "-j1", "-s", "20", "--xargs", "-k", "echo", ":::", "aaa", "bbb", "ccc", "ddd",
                "eee"
            ],
            None
        ),
        "aaa bbb ccc\nddd eee\n"
    );
}

#[test]
fn input_max_chars_too_small_for_one_arg_is_an_error_and_runs_nothing() {
    let dir = TempDir::new("s-too-small");
    let marker = dir.path().join("ran");
    let out = run(
        &[
            "-s",
            "5",
            "--xargs",
            "touch",
            path_str(&marker),
            ":::",
            "abcdefgh",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("forkpool: error:"));
    assert!(!marker.exists());
}

// ---------------------------------------------------------------------------------------------
// 3. Replacement strings.
// ---------------------------------------------------------------------------------------------

#[test]
fn replacement_strings_path_parts_seq_and_slot() {
    let out = ok_str(
        &[
            "-j1", "-k", "echo", "={}=", "={.}=", "={/}=", "={//}=", "={/.}=", "={#}=", "={%}=",
            ":::", "/x/y.z", "a.b.c", "dir/", "a", ".hidden", "a//b.c", "",
        ],
        None,
    );
    assert_eq!(
        out,
        "=/x/y.z= =/x/y= =y.z= =/x= =y= =1= =1=\n\
         =a.b.c= =a.b= =a.b.c= =.= =a.b= =2= =1=\n\
         =dir/= =dir/= == =.= == =3= =1=\n\
         =a= =a= =a= =.= =a= =4= =1=\n\
         =.hidden= == =.hidden= =.= == =5= =1=\n\
         =a//b.c= =a//b= =b.c= =a= =b= =6= =1=\n\
         == == == =.= == =7= =1=\n"
    );
}

#[test]
fn replacement_positional_and_from_end() {
    assert_eq!(
        ok_str(
            &[
                "-k", "echo", "{-1}", "{1}", "{2}", "{3}", ":::", "a", "b", ":::", "c", "d"
            ],
            None
        ),
        // {3} has no value: the word vanishes, as in GNU parallel.
        "c a c\nd a d\nc b c\nd b d\n"
    );
    assert_eq!(
        ok_str(
            &["-k", "echo", "{1/}", "{2.}", ":::", "/p/q.r", ":::", "s.t"],
            None
        ),
        "q.r s\n"
    );
}

/// Run `args` through the logging shell with `stdin`; return stdout and the number of shell calls.
fn through_stdin(args: &[&str], stdin: &[u8], dir: &TempDir) -> (String, usize) {
    let (sh, log) = logging_shell(dir);
    let _ = std::fs::remove_file(&log);
    let mut all = vec!["-k", "-j1", "--shell", &sh];
    all.extend_from_slice(args);
    let out = ok_str(&all, Some(stdin));
    (out, shell_calls(&log))
}

#[test]
fn replacement_with_no_value_is_nothing_both_paths() {
    let dir = TempDir::new("missing-value");
    let ragged = b"a,b\nc\n";
    // Direct path: a word that is only a missing {2} is no argument at all; inside a word it
    // adds nothing; an empty value that exists is still an (empty) argument.
    let (out, calls) = through_stdin(
        &[
            "--colsep", ",", "printf", "%s,", "{1}", "{2}", "x{2}y", "{2}{2}",
        ],
        ragged,
        &dir,
    );
    assert_eq!(out, "a,b,xby,bb,c,xy,");
    assert_eq!(calls, 0, "this template must run without a shell");
    let (out, calls) = through_stdin(
        &["--colsep", ",", "printf", "%s,", "{1}", "{2}"],
        b"a,\n",
        &dir,
    );
    assert_eq!(out, "a,,");
    assert_eq!(calls, 0);
    // Shell path: the same, and --dry-run shows the vanished word as GNU parallel does.
    let (out, calls) = through_stdin(
        &["--colsep", ",", "printf", "[%s]", "{1}", "{2}", "x{2}y"],
        ragged,
        &dir,
    );
    assert_eq!(out, "[a][b][xby][c][xy]");
    assert_eq!(calls, 2, "each job must run through --shell");
    assert_eq!(
        ok_str(
            &[
                "-k",
                "--dry-run",
                "--colsep",
                ",",
                "printf",
                "[%s]",
                "{1}",
                "{2}",
                "{2.}",
                "{2//}",
                "x{2/}y"
            ],
            Some(b"a,b\nc\n,\n")
        ),
        "printf [%s] a b b . xby\nprintf [%s] c    xy\nprintf [%s] '' '' '' . x''y\n"
    );
}

#[test]
fn replacement_with_no_value_from_groups_and_sources() {
    // The short last group of -N2.
    assert_eq!(
        ok_str(
            &[
                "-k", "-N2", "printf", "[%s]", "{1}", "{2}", ":::", "a", "b", "c"
            ],
            None
        ),
        "[a][b][c]"
    );
    // {3} with two sources; an empty value from ::: stays an argument.
    assert_eq!(
        ok_str(
            &[
                "-k", "printf", "%s,", "{1}", "{3}", "{2}", ":::", "a", "", ":::", "c"
            ],
            None
        ),
        "a,c,,c,"
    );
    // {-n} counts as GNU parallel's Perl array index does: past the start it wraps once.
    assert_eq!(
        ok_str(
            &[
                "-k",
                "--dry-run",
                "-N2",
                "echo",
                "{-1}",
                "{-2}",
                "{-3}",
                "{-4}",
                "{-5}",
                ":::",
                "a",
                "b",
                "c"
            ],
            None
        ),
        "echo b a b a \necho c c   \n"
    );
    // -q quotes the whole word, so a missing value there is an empty argument.
    assert_eq!(
        ok_str(
            &[
                "-k", "-q", "-N2", "printf", "[%s]", "{2}", "x{2}y", ":::", "a", "b", "c"
            ],
            None
        ),
        "[b][xby][][xy]"
    );
    // --tagstring
    assert_eq!(
        ok_str(
            &[
                "-k",
                "-N2",
                "--tagstring",
                "<{2}>",
                "echo",
                "{1}",
                ":::",
                "a",
                "b",
                "c"
            ],
            None
        ),
        "<b>\ta\n<>\tc\n"
    );
}

#[test]
fn replacement_context_words_with_missing_and_positional_values() {
    // -X/-m: a missing value adds nothing to a repeated word; {n} in a repeated word indexes all
    // of the job's values while {} is the copy's own value.
    assert_eq!(
        ok_str(
            &[
                "-k",
                "-j1",
                "--dry-run",
                "-X",
                "-N2",
                "echo",
                "{3}",
                "x{3}y",
                "A{}{1}B",
                ":::",
                "a",
                "b",
                "c"
            ],
            None
        ),
        "echo  xy AaaB AbaB\necho  xy AccB\n"
    );
    assert_eq!(
        ok_str(
            &[
                "-k", "-j1", "-m", "-N2", "printf", "%s,", "{3}", "A{}B", ":::", "a", "b", "c"
            ],
            None
        ),
        "AaB,AbB,AcB,"
    );
    assert_eq!(
        ok_str(
            &[
                "-k", "-j1", "-X", "echo", "A{}{2}B", ":::", "a", "b", ":::", "c", "d"
            ],
            None
        ),
        "AacB AccB AacB AdcB AbcB AccB AbcB AdcB\n"
    );
}

#[test]
fn replacement_perl_expression_outside_the_subset_is_refused() {
    let dir = TempDir::new("perl-refused");
    let marker = dir.path().join("ran");
    let m = path_str(&marker);
    for args in [
        vec!["touch", m, "{=s/(a)\\1/b/=}", ":::", "abc"],
        // The shell splits an unquoted {= s/a/b/e =} into three words.
        vec!["touch", m, "{=", "s/a/b/e", "=}", ":::", "abc"],
        vec!["-q", "touch", m, "x{=print=}y", ":::", "abc"],
        vec!["--tagstring", "{=split=}", "touch", m, ":::", "abc"],
        vec!["touch", m, "{= $_ = join(\",\", split //) =}", ":::", "abc"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(255), "{args:?}");
        assert_eq!(out.stdout, b"", "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let mut lines = err.lines();
        let first = lines.next().unwrap_or_default();
        assert!(
            first.starts_with("forkpool: error: {=") && first.contains("not supported"),
            "{args:?}: stderr {err:?}"
        );
        assert!(
            lines
                .next()
                .is_some_and(|l| l.starts_with("forkpool: hint: ")),
            "{args:?}: stderr {err:?}"
        );
        assert!(!marker.exists(), "{args:?}: a job ran");
    }
    assert_eq!(
        String::from_utf8_lossy(
            &run(
                &["echo", "{= $_ = join(\",\", split //) =}", ":::", "abc"],
                None
            )
            .stderr
        ),
        "forkpool: error: {= $_ = join(\",\", split //) =}: `join(\",\", split //)` is not supported\n\
         forkpool: hint: forkpool evaluates a subset of Perl (see README: \"Perl expressions\"); \
         use a shell command instead, e.g. $(echo {} | sed s/a/b/)\n"
    );
    // A {= with no =} after it is plain text, and -I may use {=.
    assert_eq!(
        ok_str(&["-k", "echo", "=}{=", "x{=", ":::", "a"], None),
        "=}{= x{= a\n"
    );
    assert_eq!(
        ok_str(
            &[
                "-k", "-I", "{=}", "printf", "[%s]", "x{=}y", "{}", ":::", "a b"
            ],
            None
        ),
        "[xa by][{}]"
    );
}

#[test]
fn replacement_any_string_suppresses_append() {
    assert_eq!(
        ok_str(&["-k", "echo", "n{#}", ":::", "a", "b"], None),
        "n1\nn2\n"
    );
}

#[test]
fn replacement_custom_string_with_i() {
    assert_eq!(
        ok_str(
            &[
                "-I", "XX", "-k", "echo", "XX", "{}", "=XX=", ":::", "a", "b c"
            ],
            None
        ),
        "a {} =a=\nb c {} =b c=\n"
    );
}

#[test]
fn replacement_quote_option_makes_command_words_literal() {
    assert_eq!(
        ok_str(&["-q", "-k", "printf", "%s x\\n", ":::", "a b"], None),
        "a b x\n"
    );
    assert_eq!(
        ok_str(&["-q", "-k", "echo", "a|b", ";", "$HOME", ":::", "v"], None),
        "a|b ; $HOME v\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. No command: each input is a command line.
// ---------------------------------------------------------------------------------------------

#[test]
fn no_command_runs_each_input_as_a_command() {
    assert_eq!(
        ok_str(&["-k", ":::", "echo a", "echo b | tr b B"], None),
        "a\nB\n"
    );
    assert_eq!(
        ok_str(&["-k"], Some(b"echo one; echo two\nprintf x\n")),
        "one\ntwo\nx"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. The job environment and job slots.
// ---------------------------------------------------------------------------------------------

#[test]
fn environment_seq_and_slot_through_shell() {
    assert_eq!(
        ok_str(
            &[
                "-j1",
                "-k",
                "echo $FORKPOOL_SEQ $FORKPOOL_SLOT $PARALLEL_SEQ $PARALLEL_JOBSLOT",
                ":::",
                "a",
                "b",
                "c",
            ],
            None
        ),
        "1 1 1 1 a\n2 1 2 1 b\n3 1 3 1 c\n"
    );
}

#[test]
fn environment_seq_and_slot_direct_path() {
    let dir = TempDir::new("env-direct");
    let (sh, log) = logging_shell(&dir);
    assert_eq!(
        ok_str(
            &[
                "-j1",
                "-k",
                "-N0",
                "--shell",
                &sh,
                "printenv",
                "FORKPOOL_SEQ",
                "FORKPOOL_SLOT",
                "PARALLEL_SEQ",
                "PARALLEL_JOBSLOT",
                ":::",
                "a",
                "b",
            ],
            None
        ),
        "1\n1\n1\n1\n2\n1\n2\n1\n"
    );
    assert_eq!(shell_calls(&log), 0);
}

#[test]
fn environment_job_stdin_is_dev_null() {
    // The job must not see forkpool's stdin (here: the input lines themselves).
    assert_eq!(
        ok_str(&["-k", "-j1", "cat; echo {}"], Some(b"a\nb\n")),
        "a\nb\n"
    );
}

#[test]
fn slots_never_exceed_jobs_and_are_exclusive() {
    let dir = TempDir::new("slots");
    let d = path_str(dir.path());
    // A job holds a lock directory named after its slot while it runs: two running jobs with
    // the same slot would make mkdir fail, and the job with it.
    let template = format!(
        "mkdir {d}/slot-{{%}} && echo {{%}} $FORKPOOL_SLOT $PARALLEL_JOBSLOT && sleep 0.02 && rmdir {d}/slot-{{%}}"
    );
    let seq: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    let mut args = vec!["-j3", "-N0", template.as_str(), ":::"];
    args.extend(seq.iter().map(String::as_str));
    let out = ok_str(&args, None);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 30);
    for line in lines {
        let w: Vec<&str> = line.split(' ').collect();
        assert_eq!(w.len(), 3, "{line:?}");
        assert!(w[0] == w[1] && w[1] == w[2], "slot disagrees: {line:?}");
        let slot: u32 = w[0].parse().unwrap();
        assert!((1..=3).contains(&slot), "slot {slot} outside 1..=3");
    }
}

#[test]
fn environment_job_variables_replace_inherited_ones_once() {
    // A forkpool run by a forkpool job inherits FORKPOOL_SLOT and friends: its jobs must see
    // their own values, each variable once, and the rest of the environment unchanged.
    for template in [&["env"][..], &["env; true"][..]] {
        let mut args = vec!["-j1", "-N0"];
        args.extend_from_slice(template);
        args.extend([":::", "a"]);
        let out = forkpool()
            .args(&args)
            .env("FORKPOOL_SLOT", "99")
            .env("PARALLEL_SEQ", "x")
            .env("FORKPOOL_TEST_KEPT", "kept")
            .timeout(LIMIT)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{template:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let named = |key: &str| -> Vec<&str> {
            text.lines()
                .filter(|l| l.split('=').next() == Some(key))
                .collect()
        };
        assert_eq!(named("FORKPOOL_SLOT"), ["FORKPOOL_SLOT=1"], "{template:?}");
        assert_eq!(named("PARALLEL_SEQ"), ["PARALLEL_SEQ=1"], "{template:?}");
        assert_eq!(named("FORKPOOL_SEQ"), ["FORKPOOL_SEQ=1"], "{template:?}");
        assert_eq!(named("FORKPOOL_TEST_KEPT"), ["FORKPOOL_TEST_KEPT=kept"]);
    }
}

#[test]
fn environment_path_exported_by_a_worker_finds_direct_commands() {
    // A worker's PATH (a virtualenv, say) is searched for a job's program, without the shell.
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("worker-path");
    let (sh, log) = logging_shell(&dir);
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let tool = bin_dir.join("forkpool-test-tool");
    std::fs::write(&tool, "#!/bin/sh\necho tool \"$@\"\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let init = format!(
        "echo \"PATH={}:$PATH\" >> \"$FORKPOOL_ENV\"",
        bin_dir.display()
    );
    assert_eq!(
        ok_str(
            &[
                "-j1",
                "-k",
                "--shell",
                &sh,
                "--init",
                &init,
                "forkpool-test-tool",
                ":::",
                "a",
                "b"
            ],
            None
        ),
        "tool a\ntool b\n"
    );
    assert_eq!(shell_calls(&log), 1, "only the init goes through the shell");
}

/// The `Sig...:` mask of a /proc/PID/status text, as a number.
fn status_mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in {status:?}"));
    u64::from_str_radix(line[field.len()..].trim(), 16).unwrap()
}

#[test]
fn environment_jobs_get_sigpipe_at_its_default_and_no_blocked_signal() {
    // forkpool (like every Rust program) ignores SIGPIPE; its jobs must not, or `yes | head`
    // would end with "yes: Broken pipe" instead of quietly.
    let sigpipe_bit = 1u64 << (nix::libc::SIGPIPE - 1);
    for template in ["cat /proc/self/status", "cat /proc/self/status; true"] {
        let text = ok_str(&["-N0", template, ":::", "a"], None);
        assert_eq!(status_mask(&text, "SigIgn:") & sigpipe_bit, 0, "{template}");
        assert_eq!(status_mask(&text, "SigBlk:"), 0, "{template}");
    }
    assert_eq!(ok_str(&["-N0", "yes | head -1", ":::", "a"], None), "y\n");
}

// ---------------------------------------------------------------------------------------------
// 6. Process groups: every job leads its own.
// ---------------------------------------------------------------------------------------------

/// Fields after the `(comm)` of a /proc/PID/stat line: [state, ppid, pgrp, ...].
fn stat_fields(stat: &str) -> Vec<i64> {
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ')
        .skip(1)
        .take(3)
        .map(|f| f.parse().unwrap())
        .collect()
}

fn my_pgrp() -> i64 {
    stat_fields(&std::fs::read_to_string("/proc/self/stat").unwrap())[1]
}

#[test]
fn process_group_per_job_shell_path() {
    let out = std::process::Command::new(bin())
        .args([
            "-j2",
            "-N0",
            "echo $$ $(cut -d' ' -f5 /proc/$$/stat) $PPID $(cut -d' ' -f5 /proc/$PPID/stat) $(cat /proc/$PPID/comm)",
            ":::",
            "1",
            "2",
            "3",
            "4",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let forkpool_pid = out.id() as i64;
    let out = out.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pgids = BTreeSet::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        assert_eq!(w.len(), 5, "{line:?}");
        let (pid, pgid, ppid, parent_pgid): (i64, i64, i64, i64) = (
            w[0].parse().unwrap(),
            w[1].parse().unwrap(),
            w[2].parse().unwrap(),
            w[3].parse().unwrap(),
        );
        assert_eq!(ppid, forkpool_pid, "job's parent is not forkpool: {line:?}");
        assert_eq!(w[4], "forkpool");
        assert_eq!(
            pid, pgid,
            "job is not its own process group leader: {line:?}"
        );
        assert_ne!(pgid, parent_pgid, "job shares forkpool's process group");
        assert_ne!(pgid, my_pgrp());
        pgids.insert(pgid);
    }
    assert_eq!(pgids.len(), 4, "each job has its own group: {text}");
}

#[test]
fn process_group_per_job_direct_path() {
    let child = std::process::Command::new(bin())
        .args([
            "-j2",
            "-k",
            "-N0",
            "cat",
            "/proc/self/stat",
            ":::",
            "1",
            "2",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let forkpool_pid = child.id() as i64;
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        let pid: i64 = line.split(' ').next().unwrap().parse().unwrap();
        assert!(line.contains(" (cat) "), "{line:?}");
        let f = stat_fields(line);
        assert_eq!(f[0], forkpool_pid, "direct job's parent is not forkpool");
        assert_eq!(f[1], pid, "direct job is not its own process group leader");
        assert_ne!(f[1], my_pgrp());
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Exit statuses.
// ---------------------------------------------------------------------------------------------

fn status(args: &[&str]) -> Option<i32> {
    run(args, None).status.code()
}

fn numbers(n: u32) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

#[test]
fn exit_zero_when_all_succeed() {
    assert_eq!(status(&["true", ":::", "a", "b", "c"]), Some(0));
}

#[test]
fn exit_counts_failed_jobs() {
    // `test N -gt 3` fails for 1, 2, 3.
    assert_eq!(
        status(&[
            "test", "{}", "-gt", "3", ":::", "1", "2", "3", "4", "5", "6"
        ]),
        Some(3)
    );
}

#[test]
fn exit_caps_at_101() {
    for (n, want) in [(100, 100), (101, 101), (150, 101)] {
        let seq = numbers(n);
        let mut args = vec!["-N0", "false", ":::"];
        args.extend(seq.iter().map(String::as_str));
        assert_eq!(status(&args), Some(want), "{n} failing jobs");
    }
}

#[test]
fn exit_command_not_found_is_one_failed_job() {
    for template in [
        &["no-such-command-fp-xyz"][..],
        &[
            "no-such-command-fp-xyz",
            "{};",
            "true;",
            "no-such-command-fp-xyz",
        ][..],
    ] {
        let mut args = template.to_vec();
        args.extend([":::", "a"]);
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not found"), "{args:?}: stderr {err:?}");
        assert!(err.contains("no-such-command-fp-xyz"), "{err:?}");
    }
}

#[test]
fn exit_status_of_job_is_not_passed_through() {
    assert_eq!(status(&["exit 7", ":::", "a"]), Some(1));
    assert_eq!(status(&["-N0", "exit 7", ":::", "a", "b"]), Some(2));
}

#[test]
fn exit_job_killed_by_signal_counts_as_failed() {
    assert_eq!(status(&["-N0", "kill -9 $$", ":::", "a", "b"]), Some(2));
}

#[test]
fn exit_bad_option_is_255_with_stdout_clean() {
    let dir = TempDir::new("bad-opt");
    let marker = dir.path().join("ran");
    let out = run(
        &[
            "--no-such-option-xyz",
            "touch",
            path_str(&marker),
            ":::",
            "a",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("forkpool: error:"), "stderr: {err:?}");
    assert!(err.contains("no-such-option-xyz"), "stderr: {err:?}");
    assert!(!marker.exists());
}

#[test]
fn exit_bad_jobs_value_is_255_with_forkpool_error() {
    let dir = TempDir::new("bad-j");
    let marker = dir.path().join("ran");
    let out = run(&["-j", "abc", "touch", path_str(&marker), ":::", "a"], None);
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("forkpool: error:"), "stderr: {err:?}");
    assert!(err.contains("abc"), "stderr: {err:?}");
    assert!(!marker.exists());
}

#[test]
fn exit_missing_input_file_is_255_and_runs_nothing() {
    let dir = TempDir::new("missing-file");
    let marker = dir.path().join("ran");
    let good = dir.path().join("good");
    std::fs::write(&good, "1\n2\n").unwrap();
    let missing = dir.path().join("no-such-file");
    let touch = format!("{}-{{}}", marker.display());
    for args in [
        vec!["touch", touch.as_str(), "::::", path_str(&missing)],
        vec![
            "touch",
            touch.as_str(),
            "::::",
            path_str(&good),
            path_str(&missing),
        ],
        vec![
            "-a",
            path_str(&good),
            "-a",
            path_str(&missing),
            "touch",
            &touch,
        ],
        vec!["touch", &touch, "::::", path_str(&missing), ":::", "x"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(255), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("forkpool: error:"), "stderr: {err:?}");
        assert!(err.contains(path_str(&missing)), "stderr: {err:?}");
        let ran: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(ran.len(), 1, "a job ran: {args:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Output modes.
// ---------------------------------------------------------------------------------------------

/// Check that `out` consists of whole blocks `P-1`..`P-n` per prefix, each contiguous and in
/// order, one for each of `prefixes`.
fn assert_grouped_blocks(out: &str, prefixes: &[&str], n: usize) {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut current: Option<(&str, usize)> = None;
    for line in out.lines() {
        let (p, num) = line.split_once('-').expect("prefix-number line");
        let num: usize = num.parse().unwrap_or_else(|_| panic!("bad line {line:?}"));
        match current {
            Some((cp, last)) if cp == p => {
                assert_eq!(num, last + 1, "job {p} out of order or mixed");
                current = Some((p, num));
            }
            _ => {
                if let Some((cp, last)) = current {
                    assert_eq!(last, n, "job {cp}'s block was interrupted by job {p}");
                    done.insert(cp);
                }
                assert!(!done.contains(p), "job {p}'s output appears in two pieces");
                assert_eq!(num, 1, "job {p}'s block does not start at its first line");
                current = Some((p, num));
            }
        }
    }
    if let Some((cp, last)) = current {
        assert_eq!(last, n);
        done.insert(cp);
    }
    let want: BTreeSet<&str> = prefixes.iter().copied().collect();
    assert_eq!(done, want);
}

#[test]
fn output_grouped_never_mixes_jobs() {
    // Eight jobs, four at a time, each writing 20000 lines (well over a pipe buffer).
    let prefixes = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let mut args = vec!["-j4", "seq", "-f", "{}-%g", "20000", ":::"];
    args.extend(prefixes);
    let out = ok_str(&args, None);
    assert_grouped_blocks(&out, &prefixes, 20000);
}

/// A template where job N waits (bounded) until job N+1 has finished its work, so jobs
/// complete in reverse input order. Jobs must all run at once (-j >= number of jobs).
fn reverse_finish_template(dir: &Path, last: u32, body: &str) -> String {
    let d = dir.display();
    format!(
        "n={{}}; if [ $n -lt {last} ]; then i=0; \
         while [ ! -e {d}/done-$((n+1)) ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; fi; \
         {body}; touch {d}/done-$n"
    )
}

#[test]
fn output_keep_order_when_jobs_finish_in_reverse() {
    let dir = TempDir::new("keep-order");
    let template = reverse_finish_template(dir.path(), 4, "echo job-$n");
    let out = ok_str(&["-k", "-j4", &template, ":::", "1", "2", "3", "4"], None);
    assert_eq!(out, "job-1\njob-2\njob-3\njob-4\n");
}

#[test]
fn output_line_buffer_delivers_whole_lines() {
    // Each line is written in two pieces; four jobs run at once.
    let template = "for i in $(seq 300); do printf %s {}-; printf '%s\\n' $i; done";
    let out = ok_str(
        &["--line-buffer", "-j4", template, ":::", "a", "b", "c", "d"],
        None,
    );
    let mut next: BTreeMap<&str, usize> = BTreeMap::new();
    for line in out.lines() {
        let (p, num) = line
            .split_once('-')
            .unwrap_or_else(|| panic!("partial line {line:?}"));
        let num: usize = num
            .parse()
            .unwrap_or_else(|_| panic!("mixed line {line:?}"));
        let e = next.entry(p).or_insert(1);
        assert_eq!(num, *e, "job {p}: line {num} out of order");
        *e += 1;
    }
    assert_eq!(next.len(), 4, "{next:?}");
    assert!(next.values().all(|&n| n == 301), "{next:?}");
    // The --lb alias.
    assert_eq!(ok_str(&["--lb", "-k", "echo", ":::", "x"], None), "x\n");
}

#[test]
fn output_ungroup_passes_everything_through() {
    let out = ok_str(&["-u", "-j2", "echo", ":::", "a", "b", "c"], None);
    assert_eq!(sorted_lines(&out), ["a", "b", "c"]);
    let out = ok_str(&["--ungroup", "-j1", "printf", "%s", ":::", "a", "b"], None);
    assert_eq!(out, "ab");
}

#[test]
fn output_tag_exact() {
    assert_eq!(
        ok_str(
            &[
                "--tag",
                "-k",
                "printf",
                "'x%s\\ny\\n'",
                ":::",
                "a",
                "b c",
                ""
            ],
            None
        ),
        "a\txa\na\ty\nb c\txb c\nb c\ty\n\tx\n\ty\n"
    );
    // Last line without newline stays without; a silent job prints nothing.
    assert_eq!(
        ok_str(&["--tag", "-k", "printf", "%s", ":::", "p", "", "q"], None),
        "p\tpq\tq"
    );
    // Several sources: values joined by one space.
    assert_eq!(
        ok_str(&["--tag", "-k", "echo", ":::", "a", ":::", "1", "2"], None),
        "a 1\ta 1\na 2\ta 2\n"
    );
}

#[test]
fn output_tagstring_exact() {
    assert_eq!(
        ok_str(
            &[
                "--tagstring",
                "<{#}:{}:{.}>",
                "-k",
                "echo",
                "v",
                ":::",
                "a.txt",
                "b c"
            ],
            None
        ),
        "<1:a.txt:a>\tv a.txt\n<2:b c:b c>\tv b c\n"
    );
}

#[test]
fn output_v_prints_command_on_stdout_before_output() {
    assert_eq!(
        ok_str(&["-v", "-k", "echo", ":::", "a", "b c", "it's"], None),
        "echo a\na\necho 'b c'\nb c\necho 'it'\"'\"'s'\nit's\n"
    );
    // Even a silent job gets its line.
    assert_eq!(ok_str(&["-v", "-k", "true", ":::", "x"], None), "true x\n");
}

#[test]
fn output_t_prints_command_on_stderr() {
    let out = run(&["-t", "-j1", "-k", "echo", ":::", "a", "b c"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\nb c\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "echo a\necho 'b c'\n");
}

/// 100 kB of job N's digit.
fn big_block(n: u8) -> Vec<u8> {
    vec![b'0' + n; 100_000]
}

fn spill_template(dir: &Path) -> String {
    // Job 1 waits until the others have finished, so their output must wait (and spill).
    reverse_finish_template_first(dir, "head -c 100000 /dev/zero | tr '\\0' $n")
}

/// Job 1 waits (bounded) until job 4 is done; the others run at once.
fn reverse_finish_template_first(dir: &Path, body: &str) -> String {
    let d = dir.display();
    format!(
        "n={{}}; if [ $n -eq 1 ]; then i=0; \
         while [ ! -e {d}/done-4 ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; fi; \
         {body}; touch {d}/done-$n"
    )
}

#[test]
fn output_buffer_size_spills_and_stays_exact() {
    let dir = TempDir::new("spill");
    let markers = TempDir::new("spill-markers");
    let template = spill_template(markers.path());
    let out = ok(
        &[
            "-k",
            "-j2",
            "--buffer-size",
            "1K",
            "--tmpdir",
            path_str(dir.path()),
            &template,
            ":::",
            "1",
            "2",
            "3",
            "4",
        ],
        None,
    );
    let want: Vec<u8> = (1..=4).flat_map(big_block).collect();
    assert_eq!(out.len(), want.len());
    assert!(out == want, "spilled output not exact or not in order");
    // Spill files are unlinked: nothing is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left in tmpdir: {left:?}");
}

#[test]
fn output_buffer_size_spill_uses_tmpdir_env() {
    let dir = TempDir::new("spill-env");
    let markers = TempDir::new("spill-env-markers");
    let template = spill_template(markers.path());
    let out = forkpool()
        .env("TMPDIR", dir.path())
        .args([
            "-k",
            "-j2",
            "--buffer-size",
            "1K",
            &template,
            ":::",
            "1",
            "2",
            "3",
            "4",
        ])
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let want: Vec<u8> = (1..=4).flat_map(big_block).collect();
    assert!(
        out.stdout == want,
        "spilled output not exact or not in order"
    );
}

#[test]
fn output_buffer_size_spill_to_missing_tmpdir_fails() {
    let dir = TempDir::new("spill-missing");
    let markers = TempDir::new("spill-missing-markers");
    let missing = dir.path().join("does-not-exist");
    let template = spill_template(markers.path());
    let out = run(
        &[
            "-k",
            "-j2",
            "--buffer-size",
            "1K",
            "--tmpdir",
            path_str(&missing),
            &template,
            ":::",
            "1",
            "2",
            "3",
            "4",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("forkpool: error:"), "stderr: {err:?}");
    assert!(err.contains(path_str(&missing)), "stderr: {err:?}");
    // The run is over: job 1 (still waiting for job 4, which never ran) must not linger.
    let needle = path_str(markers.path()).to_string();
    assert!(
        wait_for(Duration::from_secs(10), || processes_matching(&needle)
            .is_empty()),
        "jobs outlived forkpool's fatal error"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Scale.
// ---------------------------------------------------------------------------------------------

#[test]
fn scale_two_thousand_concurrent_sleeps() {
    let seq = numbers(2000);
    let mut args = vec!["-j", "2000", "-N0", "sleep", "1", ":::"];
    args.extend(seq.iter().map(String::as_str));
    assert_eq!(ok_str(&args, None), "");
}

#[test]
fn scale_twenty_thousand_stdin_jobs() {
    let input: String = (1..=20000).map(|i| format!("{i}\n")).collect();
    assert_eq!(ok_str(&["-j2", "true"], Some(input.as_bytes())), "");
}

#[test]
fn scale_five_thousand_ordered_outputs() {
    let input: String = (1..=5000).map(|i| format!("{i}\n")).collect();
    let out = ok_str(&["-k", "echo"], Some(input.as_bytes()));
    assert!(out == input, "-k output of 5000 jobs is not seq 5000");
}

// ---------------------------------------------------------------------------------------------
// 10. Broken pipe.
// ---------------------------------------------------------------------------------------------

#[test]
fn broken_pipe_stops_quietly() {
    let script = format!(
        "set +o pipefail; yes | head -n 100000 | '{}' echo | head -1",
        bin().display()
    );
    let out = assert_cmd::Command::new("bash")
        .args(["-c", &script])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "y\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// 11. --dry-run.
// ---------------------------------------------------------------------------------------------

#[test]
fn dry_run_quotes_hostile_values_exactly() {
    let dir = TempDir::new("dry-run");
    let marker = dir.path().join("pwned");
    let m = path_str(&marker);
    let sub = format!("$(touch {m})");
    let out = ok_str(
        &[
            "--dry-run",
            "-k",
            "echo",
            ":::",
            "plain",
            "a/b.c",
            "-n",
            "it's",
            "'",
            "''",
            "say \"hi\"",
            &sub,
            "`id`",
            ";",
            "|",
            "*",
            "~",
            "a b",
            "",
            "a\tb",
            "é",
            "x=1",
        ],
        None,
    );
    let want = format!(
        "echo plain\n\
         echo a/b.c\n\
         echo -n\n\
         echo 'it'\"'\"'s'\n\
         echo \"'\"\n\
         echo \"'\"''\"'\"\n\
         echo 'say \"hi\"'\n\
         echo '$(touch {m})'\n\
         echo '`id`'\n\
         echo ';'\n\
         echo '|'\n\
         echo '*'\n\
         echo '~'\n\
         echo 'a b'\n\
         echo ''\n\
         echo 'a\tb'\n\
         echo 'é'\n\
         echo 'x=1'\n"
    );
    assert_eq!(out, want);
    assert!(!marker.exists());
}

#[test]
fn dry_run_newline_and_invalid_utf8_values() {
    let out = ok(
        &["--dry-run", "-0", "-k", "printf", "@%s@"],
        Some(b"a\nb\0\xff\xfe\0c\td\0"),
    );
    assert_eq!(
        out,
        b"printf @%s@ 'a\nb'\nprintf @%s@ '\xff\xfe'\nprintf @%s@ 'c\td'\n"
    );
}

#[test]
fn dry_run_runs_nothing_and_exits_zero() {
    let dir = TempDir::new("dry-run-nothing");
    let marker = dir.path().join("ran");
    let out = ok_str(&["--dry-run", "touch", path_str(&marker), ":::", "a"], None);
    assert_eq!(out, format!("touch {} a\n", marker.display()));
    assert!(!marker.exists());
    assert_eq!(status(&["--dry-run", "false", ":::", "a", "b"]), Some(0));
}

#[test]
fn dry_run_tag_and_positional() {
    assert_eq!(
        ok_str(
            &[
                "--dry-run",
                "--tag",
                "-k",
                "echo",
                "{2}",
                "{1}",
                ":::",
                "a b",
                ":::",
                "$x"
            ],
            None
        ),
        "a b $x\techo '$x' 'a b'\n"
    );
}

/// A newline between words of the command is a command separator to the shell, not a blank: such
/// a command goes through the shell, as it would in GNU parallel.
#[test]
fn a_newline_in_a_command_word_separates_commands_as_in_the_shell() {
    assert_eq!(
        ok_str(&["-k", "echo a\necho b", ":::", "x"], None),
        "a\nb x\n"
    );
    let out = run(&["-k", "echo", "a\ntrue", ":::", "x"], None);
    assert_eq!((out.status.code(), out.stdout), (Some(0), b"a\n".to_vec()));
    // A tab is a blank in both, so that command still runs without a shell.
    assert_eq!(ok_str(&["echo", "a\tb", ":::", "x"], None), "a b x\n");
}
