//! `--results DIR` as GNU parallel 20221122 lays it out and fills it: one pair of levels per
//! argument, empty values collapsed, and the files complete in every output mode.

use std::path::Path;

use crate::support::{TempDir, forkpool};

/// Every file under `dir`, as `relative/path: contents`, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                out.push(format!("{rel}: {text}"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn results(args: &[&str]) -> (TempDir, Vec<String>) {
    let dir = TempDir::new("results-files");
    let res = dir.path().join("r");
    forkpool()
        .arg("--results")
        .arg(&res)
        .args(args)
        .assert()
        .success();
    let files = tree(&res);
    (dir, files)
}

#[test]
fn results_has_a_level_pair_per_argument_of_a_job() {
    let (_d, files) = results(&["-n2", "echo", ":::", "a", "b", "c"]);
    assert_eq!(
        files,
        [
            "1/a/1/b/seq: 1",
            "1/a/1/b/stderr: ",
            "1/a/1/b/stdout: a b\n",
            "1/c/seq: 2",
            "1/c/stderr: ",
            "1/c/stdout: c\n",
        ]
    );
    for opt in ["-X", "-m"] {
        let (_d, files) = results(&["-j1", opt, "echo", ":::", "a", "b", "c"]);
        assert_eq!(
            files,
            [
                "1/a/1/b/1/c/seq: 1",
                "1/a/1/b/1/c/stderr: ",
                "1/a/1/b/1/c/stdout: a b c\n",
            ],
            "{opt}"
        );
    }
    // Two sources: each argument's levels in order, argument after argument.
    let (_d, files) = results(&["-n2", "echo", ":::", "a", "b", ":::", "x", "y"]);
    assert_eq!(
        files,
        [
            "1/a/2/x/1/a/2/y/seq: 1",
            "1/a/2/x/1/a/2/y/stderr: ",
            "1/a/2/x/1/a/2/y/stdout: a x a y\n",
            "1/b/2/x/1/b/2/y/seq: 2",
            "1/b/2/x/1/b/2/y/stderr: ",
            "1/b/2/x/1/b/2/y/stdout: b x b y\n",
        ]
    );
}

#[test]
fn results_empty_value_is_no_level() {
    let (_d, files) = results(&["true", ":::", ""]);
    assert_eq!(files, ["1/seq: 1", "1/stderr: ", "1/stdout: "]);
    let (_d, files) = results(&["true", ":::", "", ":::", "x"]);
    assert_eq!(files, ["1/2/x/seq: 1", "1/2/x/stderr: ", "1/2/x/stdout: "]);
    let (_d, files) = results(&["true", ":::", "x", ":::", "", ":::", "y"]);
    assert_eq!(
        files,
        [
            "1/x/2/3/y/seq: 1",
            "1/x/2/3/y/stderr: ",
            "1/x/2/3/y/stdout: "
        ]
    );
}

#[test]
fn results_escapes_tab_as_gnu_parallel() {
    let (_d, files) = results(&["true", ":::", "a\tb"]);
    assert_eq!(
        files,
        ["1/a\\tb/seq: 1", "1/a\\tb/stderr: ", "1/a\\tb/stdout: "]
    );
}
