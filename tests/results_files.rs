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

/// The result files hold the job's whole output also when it is printed as it comes (GNU
/// parallel's files are the job's output, whatever the output mode).
#[test]
fn results_files_are_complete_with_line_buffer_and_ungroup() {
    for mode in [
        &["--lb"][..],
        &["-u"],
        &["-k", "--lb"],
        &["--lb", "--buffer-size", "1K"],
    ] {
        let dir = TempDir::new("results-live");
        let res = dir.path().join("r");
        let out = forkpool()
            .arg("--results")
            .arg(&res)
            .args(mode)
            .args([
                "-j3",
                "echo {}; echo e{} >&2; sleep 0.{}; seq {}000 | tail -1",
            ])
            .args([":::", "3", "1", "2"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{mode:?}");
        let mut printed: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').collect();
        printed.sort();
        assert_eq!(
            printed,
            [&b""[..], b"1", b"1000", b"2", b"2000", b"3", b"3000"]
        );
        assert_eq!(
            tree(&res),
            [
                "1/1/seq: 2",
                "1/1/stderr: e1\n",
                "1/1/stdout: 1\n1000\n",
                "1/2/seq: 3",
                "1/2/stderr: e2\n",
                "1/2/stdout: 2\n2000\n",
                "1/3/seq: 1",
                "1/3/stderr: e3\n",
                "1/3/stdout: 3\n3000\n",
            ],
            "{mode:?}"
        );
    }
    // Past --buffer-size the copy spills to disk and comes back whole.
    let dir = TempDir::new("results-live-spill");
    let res = dir.path().join("r");
    for mode in ["--lb", "-u"] {
        let out = forkpool()
            .arg("--results")
            .arg(&res)
            .args([
                mode,
                "--buffer-size",
                "1K",
                "-j2",
                "seq {}",
                ":::",
                "30000",
                "20000",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(out.stdout.len(), 168894 + 108894, "{mode}");
        let seq = |n: u32| (1..=n).map(|i| format!("{i}\n")).collect::<String>();
        for n in [30000, 20000] {
            let got = std::fs::read_to_string(res.join(format!("1/{n}/stdout"))).unwrap();
            assert!(got == seq(n), "{mode} {n}: {} bytes", got.len());
        }
    }
}
