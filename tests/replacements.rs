//! The replacement strings people write (issue 17): exported bash functions called by name,
//! `{= =}` refused before anything runs, `{##}` needing countable input, `--env` accepted.
//! The outputs of `{= =}`, `--rpl` and `--plus` are checked against GNU parallel in the compat
//! corpus (`tests/compat/cases/perl-*`, `rpl-*`, `plus-*`).

use crate::support::{TempDir, forkpool};

/// `f() { printf '<%s>' "$@"; echo " $FOO"; }; export -f f`, as bash puts it in the environment.
const F: &str = "() {  printf '<%s>' \"$@\";\n echo \" $FOO\"\n}";

/// GNU parallel 20221122's output of `parallel -k f ::: a 'b c' "it's" ::: 1 2` with `f` above.
const GNU_K: &str =
    "<a><1> bar\n<a><2> bar\n<b c><1> bar\n<b c><2> bar\n<it's><1> bar\n<it's><2> bar\n";

#[test]
fn an_exported_bash_function_runs_as_in_gnu_parallel() {
    let values = ["a", "b c", "it's", ":::", "1", "2"];
    let mut keep = forkpool();
    keep.env("BASH_FUNC_f%%", F)
        .env("FOO", "bar")
        .args(["-k", "f", ":::"])
        .args(values);
    keep.assert().success().stdout(GNU_K).stderr("");
    // Without -k: the same lines, in any order.
    let out = forkpool()
        .env("BASH_FUNC_f%%", F)
        .env("FOO", "bar")
        .args(["-j3", "f", ":::"])
        .args(values)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    got.sort_unstable();
    let mut want: Vec<&str> = GNU_K.lines().collect();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn an_exported_function_still_honours_an_explicit_shell() {
    // --shell says which shell runs the job: sh does not import bash functions.
    forkpool()
        .env("BASH_FUNC_f%%", F)
        .args(["--shell", "/bin/sh", "f", ":::", "a"])
        .assert()
        .code(1)
        .stdout("");
    // A name with no exported function is not run through bash by the default shell's choice.
    forkpool()
        .env_remove("BASH_FUNC_f%%")
        .args(["-k", "echo", ":::", "a"])
        .assert()
        .success()
        .stdout("a\n");
}

#[test]
fn a_refused_expression_runs_nothing_and_names_the_unsupported_part() {
    let dir = TempDir::new("perl-refused-17");
    let marker = dir.path().join("ran");
    let out = forkpool()
        .args(["touch"])
        .arg(&marker)
        .args([";", "echo", "{= $_ = join(\",\", split //) =}", ":::", "ab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(out.stdout, b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().next().unwrap_or_default(),
        "forkpool: error: {= $_ = join(\",\", split //) =}: `join(\",\", split //)` is not supported"
    );
    assert!(!marker.exists(), "a job ran");
    for (expr, part) in [
        ("{= s/(a)\\1/b/ =}", "backreference `\\1`"),
        ("{= s/a(?=b)/c/ =}", "look-around"),
        ("{= s/a/uc($&)/e =}", "s///e flag"),
        ("{= s/a/b/r =}", "flag `r`"),
        // Perl: a syntax error; escapes forkpool cannot give are never passed on as letters.
        ("{= $_ = \"a$\" =}", "`$` at the end of a string"),
        ("{= s/b/x$/ =}", "`$` at the end of a string"),
        ("{= $_ = \"\\x{100}\" =}", "above 255"),
        ("{= tr/\\N{U+41}//d =}", "escape `\\N`"),
        ("{= s/a/\\Qb/ =}", "escape `\\Q`"),
    ] {
        let out = forkpool()
            .args(["echo", expr, ":::", "ab"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255), "{expr}");
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("forkpool: error: {expr}: ")) && first.contains(part),
            "{expr}: {err}"
        );
    }
    // A --rpl is checked before any job starts too.
    let out = forkpool()
        .args(["--rpl", "{x} print", "echo", "{x}", ":::", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("forkpool: error: --rpl {x} print: `print` is not supported\n")
    );
}

#[test]
fn total_jobs_needs_input_that_can_be_counted_first() {
    let out = forkpool()
        .args(["--plus", "echo", "{##}"])
        .write_stdin("a\nb\n")
        .output()
        .unwrap();
    assert_eq!((out.status.code(), &out.stdout[..]), (Some(255), &b""[..]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("{##} and {0#} need the number of jobs"));
    forkpool()
        .args(["-k", "--plus", "echo", "{##}", "{}", ":::", "a", "b"])
        .assert()
        .success()
        .stdout("2 a\n2 b\n");
}

#[test]
fn env_is_accepted_and_jobs_here_inherit_the_environment() {
    forkpool()
        .env("FP_VAR", "v")
        .args([
            "-k",
            "--env",
            "FP_VAR",
            "--env",
            "OTHER",
            "echo",
            "$FP_VAR-{}",
            ":::",
            "1",
        ])
        .assert()
        .success()
        .stdout("v-1\n");
}

#[test]
fn max_chars_counts_every_occurrence_of_a_replacement_string() {
    // -X/-m fill a job up to -s by the line the command really makes: `{}` twice takes each
    // value twice (GNU parallel: `echo a b c a b c`, 16 bytes; with d it would be 20).
    let out = forkpool()
        .args([
            "-j1",
            "-X",
            "-s",
            "20",
            "--dry-run",
            "echo",
            "{}",
            "x{}y",
            ":::",
        ])
        .args(["aa", "b", "ccc", "d", "ee"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "echo aa b xaay xby\necho ccc xcccy\necho d ee xdy xeey\n"
    );
    for line in text.lines() {
        assert!(line.len() < 20, "{line:?} is not shorter than -s 20");
    }
}
