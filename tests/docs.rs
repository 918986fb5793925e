//! The man page (`man/forkpool.1`) and shell completions (`completions/`) are generated from the
//! clap definitions in `src/cli.rs` and committed. After changing a flag or its help, regenerate
//! them with:
//!
//!     UPDATE_DOCS=1 cargo test --release --test tests docs::
//!
//! Without `UPDATE_DOCS`, `generated_docs_are_up_to_date` fails when the committed files differ
//! from a fresh generation. Nothing here lists the options by hand, so new flags need only the
//! regeneration. The README's comparison table and `--json` field list are checked against its
//! departures list and the real output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use clap_complete::{Generator, Shell};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

const REGENERATE: &str = "UPDATE_DOCS=1 cargo test --release --test tests docs::";

const MAN_PAGE: &str = "man/forkpool.1";

const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Elvish,
    Shell::PowerShell,
];

/// The clap command, built so that the generated `--help` and `--version` are among its arguments.
fn command() -> clap::Command {
    let mut cmd = forkpool::cli::command();
    cmd.build();
    cmd
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every generated file: its path relative to the crate root and its contents.
fn generate() -> Vec<(String, Vec<u8>)> {
    let mut files = vec![(MAN_PAGE.to_owned(), man_page())];
    for shell in SHELLS {
        let mut cmd = command();
        let name = cmd.get_name().to_owned();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, &name, &mut out);
        files.push((format!("completions/{}", shell.file_name(&name)), out));
    }
    files
}

/// The full man page. `Man::render` would put the after-help text, the replacement strings, exit
/// status and examples, into one section called EXTRA as filled text, which runs their tables
/// together; here each `HEADING:` of it becomes a section and indented lines keep their layout.
fn man_page() -> Vec<u8> {
    let cmd = with_aliases_in_help(command());
    let after_help = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|s| s.to_string());
    let version = format!(
        "{} {}",
        cmd.get_name(),
        cmd.get_version().unwrap_or_default()
    );
    let man = Man::new(cmd)
        .title("FORKPOOL")
        // An empty argument would vanish from the `.TH` line and shift the ones after it; `""`
        // keeps the date empty (no clock, so the page is the same on every run).
        .date("\"\"")
        .source(version)
        .manual("User Commands");

    // Each `render_*` writes the apostrophe preamble; keep only the first.
    let preamble = Roff::new().render();
    let mut page = preamble.clone();
    let mut section = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        render(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        page.push_str(text.strip_prefix(&preamble).unwrap_or(&text));
    };
    section(&|w| man.render_title(w));
    // Left-aligned, unhyphenated text, so option and key names (exit_code) stay whole.
    section(&|w| {
        let mut roff = Roff::new();
        roff.control("ad", ["l"]).control("nh", []);
        roff.to_writer(w)
    });
    section(&|w| man.render_name_section(w));
    section(&|w| man.render_synopsis_section(w));
    section(&|w| man.render_description_section(w));
    section(&|w| man.render_options_section(w));
    if let Some(text) = &after_help {
        section(&|w| after_help_sections(text).to_writer(w));
    }
    section(&|w| man.render_version_section(w));
    page.into_bytes()
}

/// clap_mangen leaves out visible aliases; add them to the help as `--help` shows them.
fn with_aliases_in_help(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| {
        let mut aliases: Vec<String> = arg
            .get_visible_aliases()
            .unwrap_or_default()
            .iter()
            .map(|a| format!("--{a}"))
            .collect();
        aliases.extend(
            arg.get_visible_short_aliases()
                .unwrap_or_default()
                .iter()
                .map(|a| format!("-{a}")),
        );
        if aliases.is_empty() {
            return arg;
        }
        let label = if aliases.len() == 1 {
            "alias"
        } else {
            "aliases"
        };
        let note = format!("[{label}: {}]", aliases.join(", "));
        match arg.get_long_help().map(|h| h.to_string()) {
            Some(long) => arg.long_help(format!("{long} {note}")),
            None => {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                arg.help(format!("{help} {note}").trim_start().to_owned())
            }
        }
    })
}

/// One piece of the after-help text.
enum Piece {
    /// `SOME HEADING:` or `SOME HEADING (detail):` at the left margin.
    Heading(String),
    /// A blank line.
    Break,
    /// A line of prose, filled.
    Text(String),
    /// Rows of a two-column table (`term  description`, continued on more deeply indented lines),
    /// with the column where the descriptions start.
    Table(usize, Vec<(String, String)>),
    /// An indented line that is not part of a table (an example command): kept as it is.
    Pre(String),
}

/// A heading is a line at the left margin ending in ':' that starts with a word in capitals.
fn heading(line: &str) -> Option<&str> {
    let title = line.strip_suffix(':')?;
    let caps = title.split('(').next().unwrap_or("").trim();
    let is_heading = caps.chars().filter(char::is_ascii_uppercase).count() >= 2
        && caps
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ');
    is_heading.then_some(title)
}

/// A table row's cells: the line split at runs of two or more spaces.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// Where the second cell of a row starts.
fn description_column(line: &str) -> usize {
    let term = line.split("  ").next().unwrap_or("");
    term.len() + (line[term.len()..].len() - line[term.len()..].trim_start().len())
}

/// The after-help text, parsed: indented runs of lines are tables where a line at the run's
/// indentation has a gap of two spaces after its first words, preformatted where they are
/// indented further (and not a table row's continuation), and prose otherwise.
fn parse_after_help(text: &str) -> Vec<Piece> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        i += 1;
        if line.is_empty() {
            pieces.push(Piece::Break);
            continue;
        }
        if indent(line) == 0 {
            pieces.push(match heading(line) {
                Some(title) => Piece::Heading(title.to_owned()),
                None => Piece::Text(line.to_owned()),
            });
            continue;
        }
        // An indented run: measure from the indentation its lines share.
        let mut block = vec![line];
        while i < lines.len() && indent(lines[i]) > 0 && !lines[i].trim().is_empty() {
            block.push(lines[i].trim_end());
            i += 1;
        }
        let base = block.iter().map(|l| indent(l)).min().unwrap_or(0);
        for l in block {
            let rel = l.get(base..).unwrap_or_else(|| l.trim_start());
            let row = cells(rel);
            if indent(rel) == 0 && row.len() >= 2 {
                let column = description_column(rel);
                // Several term/description pairs on one line become several rows, when the
                // later terms are short; otherwise the rest is one description.
                let pairs: Vec<(String, String)> = if row.len().is_multiple_of(2)
                    && row.iter().step_by(2).all(|t| t.len() <= 16)
                {
                    row.chunks(2)
                        .map(|p| (p[0].to_owned(), p[1].to_owned()))
                        .collect()
                } else {
                    vec![(row[0].to_owned(), row[1..].join(" "))]
                };
                if let Some(Piece::Table(width, rows)) = pieces.last_mut() {
                    *width = (*width).max(column);
                    rows.extend(pairs);
                } else {
                    pieces.push(Piece::Table(column, pairs));
                }
            } else if indent(rel) > 0
                && let Some(Piece::Table(_, rows)) = pieces.last_mut()
            {
                let (_, description) = rows.last_mut().expect("a table has rows");
                description.push(' ');
                description.push_str(rel.trim());
            } else if indent(rel) > 0 {
                pieces.push(Piece::Pre(rel.to_owned()));
            } else {
                pieces.push(Piece::Text(rel.to_owned()));
            }
        }
    }
    pieces
}

/// The after-help text as man sections (each heading its own section), laid out as `--help`
/// shows it: tables as tagged paragraphs with filled descriptions, example commands unfilled.
fn after_help_sections(text: &str) -> Roff {
    // Text in control lines is not escaped by roff: keep dashes plain hyphen-minus.
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('-', "\\-")
            .replace('"', "\\(dq")
    };
    let pieces = parse_after_help(text);
    let mut roff = Roff::new();
    if !matches!(pieces.first(), Some(Piece::Heading(_))) {
        roff.control("SH", ["NOTES"]);
    }
    for (i, piece) in pieces.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &pieces[p]);
        let next = pieces.get(i + 1);
        match piece {
            Piece::Heading(title) => {
                roff.control("SH", [escape(title).as_str()]);
            }
            Piece::Break => {
                let between = !matches!(prev, None | Some(Piece::Heading(_) | Piece::Break))
                    && !matches!(next, None | Some(Piece::Heading(_) | Piece::Break));
                if between {
                    roff.control("PP", []);
                }
            }
            Piece::Text(line) => {
                if matches!(prev, Some(Piece::Table(..))) {
                    roff.control("PP", []);
                }
                roff.text([roman(line.as_str())]);
            }
            Piece::Table(width, rows) => {
                // No blank line between rows, as in a table.
                roff.control("PD", ["0"]);
                for (term, description) in rows {
                    roff.control("TP", [format!("{width}n").as_str()]);
                    roff.text([bold(term.as_str())]);
                    roff.text([roman(description.as_str())]);
                }
                roff.control("PD", []);
            }
            Piece::Pre(line) => {
                if !matches!(prev, Some(Piece::Pre(_))) {
                    roff.control("nf", []);
                }
                for part in wrap_preformatted(line, PREFORMATTED_WIDTH) {
                    roff.text([roman(part)]);
                }
                if !matches!(next, Some(Piece::Pre(_))) {
                    roff.control("fi", []);
                }
            }
        }
    }
    roff
}

/// The widest preformatted line that fits an 80-column terminal after the man page's indentation
/// of section text (7 columns).
const PREFORMATTED_WIDTH: usize = 80 - 7;

/// Split a preformatted line longer than `width` at spaces, the way `--help` wraps: continuation
/// lines are indented to where the line's text column starts (after its first run of two or more
/// spaces), else a little past the line's own indentation.
fn wrap_preformatted(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width {
        return vec![line.to_owned()];
    }
    let lead = chars.iter().take_while(|c| **c == ' ').count();
    let column = (lead..chars.len().saturating_sub(2))
        .find(|&i| chars[i] != ' ' && chars[i + 1] == ' ' && chars[i + 2] == ' ')
        .map(|i| i + 1 + chars[i + 1..].iter().take_while(|c| **c == ' ').count());
    let hang = column.unwrap_or(lead + 4).min(width / 2);

    let mut parts = Vec::new();
    let mut rest: Vec<char> = chars;
    loop {
        let start = if parts.is_empty() { lead } else { hang };
        if rest.len() <= width {
            parts.push(rest.iter().collect());
            return parts;
        }
        // The last space that ends a word within the width, past the indentation.
        let Some(cut) = (start + 1..=width)
            .rev()
            .find(|&i| rest[i] == ' ' && rest[i - 1] != ' ')
        else {
            parts.push(rest.iter().collect());
            return parts;
        };
        parts.push(rest[..cut].iter().collect());
        let next = rest[cut..].iter().skip_while(|c| **c == ' ');
        rest = std::iter::repeat_n(' ', hang)
            .chain(next.copied())
            .collect();
    }
}

fn update_requested() -> bool {
    std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// With UPDATE_DOCS, write every generated file, once per test run, before any test reads one.
fn update_if_requested() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if !update_requested() {
            return;
        }
        for (rel, contents) in generate() {
            let path = root().join(&rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if std::fs::read(&path).is_ok_and(|old| old == contents) {
                continue;
            }
            // Write aside and rename, so a reader never sees half a file.
            let tmp = path.with_extension("tmp-update-docs");
            std::fs::write(&tmp, &contents).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
            eprintln!("regenerated {rel}");
        }
    });
}

/// A committed generated file, regenerated first when UPDATE_DOCS asks for it.
fn committed(rel: &str) -> PathBuf {
    update_if_requested();
    root().join(rel)
}

#[test]
fn generated_docs_are_up_to_date() {
    update_if_requested();
    let mut stale = Vec::new();
    for (rel, fresh) in generate() {
        match std::fs::read(root().join(&rel)) {
            Ok(old) if old == fresh => {}
            Ok(old) => {
                let old = String::from_utf8_lossy(&old);
                let fresh = String::from_utf8_lossy(&fresh);
                let first = old
                    .lines()
                    .zip(fresh.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| old.lines().count().min(fresh.lines().count()));
                stale.push(format!(
                    "  {rel} differs from line {}:\n    committed: {:?}\n    generated: {:?}",
                    first + 1,
                    old.lines().nth(first).unwrap_or("<end of file>"),
                    fresh.lines().nth(first).unwrap_or("<end of file>"),
                ));
            }
            Err(e) => stale.push(format!("  {rel} cannot be read: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "the committed man page or completions are out of date with src/cli.rs:\n{}\n\
         regenerate them with:\n    {REGENERATE}",
        stale.join("\n")
    );
}

#[test]
fn man_page_documents_every_long_option() {
    let page = std::fs::read_to_string(committed(MAN_PAGE)).unwrap_or_else(|e| {
        panic!("cannot read {MAN_PAGE} ({e}); generate it with:\n    {REGENERATE}")
    });
    // roff escapes dashes, so --arg-file is written \-\-arg\-file.
    let escaped = |long: &str| format!("\\-\\-{}", long.replace('-', "\\-"));
    let mut missing = Vec::new();
    for arg in command().get_arguments().filter(|a| !a.is_hide_set()) {
        let longs = arg
            .get_long()
            .into_iter()
            .chain(arg.get_visible_aliases().unwrap_or_default());
        for long in longs {
            let word = escaped(long);
            // The whole option, not the start of a longer one (--max-args in --max-args-x).
            let found = page.match_indices(&word).any(|(at, _)| {
                let rest = &page[at + word.len()..];
                !rest.starts_with(char::is_alphanumeric) && !rest.starts_with("\\-")
            });
            if !found {
                missing.push(format!("--{long}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{MAN_PAGE} does not mention {}; regenerate it with:\n    {REGENERATE}",
        missing.join(", ")
    );
}

#[test]
fn bash_completion_loads() {
    let script = committed("completions/forkpool.bash");
    assert!(
        script.is_file(),
        "{} is missing; generate it with:\n    {REGENERATE}",
        script.display()
    );
    let out = match Command::new("bash")
        .current_dir(root())
        .args([
            "-c",
            "source completions/forkpool.bash && complete -p forkpool",
        ])
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: bash is not installed");
            return;
        }
        Err(e) => panic!("cannot run bash: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("forkpool"),
        "sourcing completions/forkpool.bash failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_page_renders_cleanly() {
    let page = committed(MAN_PAGE);
    // man-db keeps groff's warnings to itself unless asked; MANROFFOPT=-ww asks for all of them.
    let out = match Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .env("MANROFFOPT", "-ww")
        .env_remove("MAN_KEEP_FORMATTING")
        .env_remove("MANPAGER")
        .env_remove("PAGER")
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: man is not installed");
            return;
        }
        Err(e) => panic!("cannot run man: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty() && stdout.contains("forkpool"),
        "man -l {} did not render cleanly ({}):\nstderr: {stderr}\nstdout: {stdout}",
        page.display(),
        out.status
    );
    let wide: Vec<&str> = stdout.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(
        wide.is_empty(),
        "man -l {} has lines wider than 80 columns:\n{}",
        page.display(),
        wide.join("\n")
    );
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The comparison table says just "same" only of options that no departure is about.
#[test]
fn readme_table_calls_nothing_same_that_is_a_departure() {
    let text = readme();
    let departures: Vec<&str> = text
        .split("Departures from GNU parallel, on purpose:")
        .nth(1)
        .expect("a departures list")
        .lines()
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("- `"))
        .collect();
    for row in text.lines().filter(|l| l.ends_with("| same |")) {
        for option in row.split('`').skip(1).step_by(2) {
            let name = option.split_whitespace().next().unwrap_or(option);
            let listed = departures.iter().find(|d| {
                d.split('`')
                    .nth(1)
                    .and_then(|s| s.split_whitespace().next())
                    == Some(name)
            });
            assert!(
                listed.is_none(),
                "{name} is \"same\" in the table but a departure: {listed:?}"
            );
        }
    }
}

/// Every key of a `--json` object is in the README's field list, and `worker` is described as
/// the number it is with `--init`.
#[test]
fn readme_json_field_list_matches_the_output() {
    let out = crate::support::forkpool()
        .args(["--json", "--init", "true", "echo", ":::", "a"])
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    let text = readme();
    let fields = text
        .split("- `--json`:")
        .nth(1)
        .and_then(|t| t.split("\n- ").next())
        .expect("the --json paragraph");
    let keys = regex::Regex::new(r#""([a-z_]+)":"#).unwrap();
    for key in keys.captures_iter(&line).map(|c| c[1].to_string()) {
        assert!(
            fields.contains(&format!("`{key}`")),
            "{key} missing from: {fields}"
        );
    }
    assert!(line.contains("\"worker\":1"), "{line}");
    assert!(!fields.contains("`worker` (null)"), "{fields}");
}

/// Roff text back to what a reader copies from the rendered page.
fn unroff(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        for (esc, text) in [
            ("-", "-"),
            ("\\", "\\"),
            ("*(Aq", "'"),
            ("(dq", "\""),
            ("&", ""),
            ("e", "\\"),
        ] {
            if let Some(r) = rest.strip_prefix(esc) {
                out.push_str(text);
                rest = r;
                break;
            }
        }
    }
    out + rest
}

/// Every example in the man page is shell that works when copied: it passes `sh -n`, and none of
/// its lines was wrapped to fit the page (a break inside quotes leaves valid shell that does
/// something else: `--init '... && echo` / `DB=...'`).
#[test]
fn man_page_examples_run_when_copied() {
    let page = String::from_utf8(man_page()).unwrap();
    let section = page
        .split(".SH EXAMPLES\n")
        .nth(1)
        .and_then(|s| s.split("\n.SH ").next())
        .expect("an EXAMPLES section");
    let source = command()
        .get_after_long_help()
        .expect("after-help")
        .to_string();
    let source: Vec<&str> = source.lines().map(str::trim).collect();
    let examples: Vec<Vec<String>> = section
        .split(".nf\n")
        .skip(1)
        .map(|b| {
            let block = b.split("\n.fi").next().unwrap();
            block.lines().map(unroff).collect()
        })
        .collect();
    assert!(examples.len() >= 5, "{section}");
    for lines in examples {
        let script = lines.join("\n");
        for line in &lines {
            assert!(
                source.contains(&line.trim()),
                "the man page wrapped this example; shorten its lines in src/cli.rs:\n{script}"
            );
        }
        let mut sh = Command::new("sh")
            .arg("-n")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        sh.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = sh.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "sh -n refuses the example:\n{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
