//! The architecture as a test: imports among `src/` modules flow one way, down the layers the
//! README's "Layout" lists, so no module below `scheduler` can reach back up into it.

use std::collections::BTreeSet;
use std::path::Path;

/// Each top-level module and the modules it may import (the README's layers).
const ALLOWED: &[(&str, &[&str])] = &[
    ("job", &[]),
    ("error", &[]),
    ("cli", &["error"]),
    ("reactor", &[]),
    ("diag", &["error"]),
    ("template", &["job", "error"]),
    ("input", &["job", "error", "diag"]),
    ("exec", &["job", "error", "diag", "template"]),
    ("options", &["job", "error", "diag", "cli", "exec", "input"]),
    ("output", &["job", "error", "diag", "options"]),
    ("report", &["job", "error", "diag", "options"]),
    (
        "semaphore",
        &["error", "diag", "cli", "options", "exec", "template"],
    ),
    (
        "scheduler",
        &[
            "job", "error", "diag", "options", "exec", "input", "template", "reactor", "output",
            "report",
        ],
    ),
];

/// Every `crate::name` a file mentions outside its tests.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        found.insert(name);
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn imports_flow_one_way_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let mut wrong = Vec::new();
    for p in paths {
        let rel = p.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy();
        let module = top.trim_end_matches(".rs");
        // A module's test-only file may use anything to set up its tests.
        if matches!(module, "lib" | "main") || p.file_name().is_some_and(|f| f == "tests.rs") {
            continue;
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == module) else {
            panic!(
                "src/{} is in no layer: add it to ALLOWED and the README",
                rel.display()
            );
        };
        let text = std::fs::read_to_string(&p).unwrap();
        for m in imports(&text) {
            if m != module && !allowed.contains(&m.as_str()) {
                wrong.push(format!("src/{} imports crate::{m}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}
