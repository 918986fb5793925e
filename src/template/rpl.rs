//! Replacement strings defined by a perl expression: `--rpl 'TAG expression'` and the ones
//! `--plus` adds, as GNU parallel defines them.
//!
//! A tag is literal text, optionally with one group part in parentheses, a regex whose matches
//! become `$$1`, `$$2`... in the expression (`--rpl '{:(\d+)} substr($_,0,$$1) = ""'`). A tag
//! that starts with `{` also has the positional form `{n TAG-REST}` (`{2+/}`, `{-1..}`). As in
//! GNU parallel, the longer tag is tried first, and a `--rpl` overrides a `--plus` tag of the
//! same spelling.

use std::sync::Arc;

use regex::bytes::Regex;

use super::perl::{self, Program};
use crate::error::{Error, Result};

/// GNU parallel 20221122's `--plus` table, in forkpool's perl subset where GNU's used more Perl
/// (`{choose_k}` and `{uniq}` are `SKIPS`; the groups of `UNGREEDY` tags are made non-greedy).
const PLUS: &[(&str, &str)] = &[
    ("{+/}", r"s:/[^/]*$:: || s:.*$::"),
    ("{+.}", r"s:.*\.:: || s:.*$::"),
    ("{+..}", r"s:.*\.([^/.]*\.[^/.]*)$:$1: || s:.*$::"),
    ("{+...}", r"s:.*\.([^/.]*\.[^/.]*\.[^/.]*)$:$1: || s:.*$::"),
    ("{..}", r"s:\.[^/.]*\.[^/.]*$::"),
    ("{...}", r"s:\.[^/.]*\.[^/.]*\.[^/.]*$::"),
    ("{/..}", r"s:.*/::; s:\.[^/.]*\.[^/.]*$::"),
    ("{/...}", r"s:.*/::; s:\.[^/.]*\.[^/.]*\.[^/.]*$::"),
    ("{choose_k}", ""),
    ("{uniq}", ""),
    ("{##}", "1 $_=total_jobs()"),
    ("{0%}", "1 $_=__pad_slot()"),
    ("{0#}", "1 $_=__pad_seq()"),
    (r"{:-([^}]+?)}", "$_ ||= $$1"),
    (r"{:(\d+?)}", r#"substr($_,0,$$1) = """#),
    (r"{:(\d+?):(\d+?)}", "$_ = substr($_,$$1,$$2);"),
    (r"{#([^#}][^}]*?)}", "s/^$$1(.*)/$1/;"),
    (r"{##([^#}][^}]*?)}", "s/^$$1//;"),
    (r"{%([^}]+?)}", "s/(.*)$$1$/$1/;"),
    (r"{%%([^}]+?)}", "s/$$1$//;"),
    (r"{/([^#%}/]+?)/([^}]*?)}", "s/$$1/$$2/;"),
    (r"{/#([^}]+?)/([^}]*?)}", "s/^$$1/$$2/g;"),
    (r"{/%([^}]+?)/([^}]*?)}", "s/$$1$/$$2/g;"),
    (r"{//([^}]+?)/([^}]*?)}", "s/$$1/$$2/g;"),
    (r"{^([^}]+?)}", r"s/^($$1)/\U$1/;"),
    (r"{^^([^}]+?)}", r"s/($$1)/\U$1/g;"),
    (r"{,([^}]+?)}", r"s/^($$1)/\L$1/;"),
    (r"{,,([^}]+?)}", r"s/($$1)/\L$1/g;"),
    ("{slot}", r#"1 $_="\${PARALLEL_JOBSLOT}";uq()"#),
    ("{host}", r#"1 $_="\${PARALLEL_SSHHOST}";uq()"#),
    ("{sshlogin}", r#"1 $_="\${PARALLEL_SSHLOGIN}";uq()"#),
    ("{hgrp}", r#"1 $_="\${PARALLEL_HOSTGROUPS}";uq()"#),
    ("{agrp}", r#"1 $_="\${PARALLEL_ARGHOSTGROUPS}";uq()"#),
];

/// `--plus` tags whose expression is GNU's `skip()` rule: the value is unchanged.
const SKIPS: &[(&str, Skip)] = &[
    ("{choose_k}", Skip::UnlessIncreasing),
    ("{uniq}", Skip::UnlessUnique),
];

/// `--plus` tags that make their group non-greedy (GNU's `make_regexp_ungreedy`).
const UNGREEDY: &[&str] = &[r"{#([^#}][^}]*?)}", r"{%([^}]+?)}"];

/// Which jobs a replacement string skips (`{choose_k}`, `{uniq}`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Skip {
    /// Unless the job's values are strictly increasing.
    UnlessIncreasing,
    /// Unless the job's values are all different.
    UnlessUnique,
}

/// A `{= =}`-like replacement found in a command word.
pub struct Found {
    /// Bytes of the word it spans.
    pub len: usize,
    /// `{n...}`: the position.
    pub position: Option<i64>,
    pub program: Arc<Program>,
    pub skip: Option<Skip>,
}

struct Rpl {
    /// The tag as given, for GNU's longest-first order.
    key: Vec<u8>,
    plain: Regex,
    /// The `{n TAG}` form of a tag that starts with `{`.
    positional: Option<Regex>,
    /// The expression (with a leading position, as `1 $_=...`, taken off).
    expr: Vec<u8>,
    /// Position the expression itself gives (`1 ...`).
    position: Option<i64>,
    ungreedy: bool,
    skip: Option<Skip>,
}

/// The `--rpl` and `--plus` replacement strings of a run.
#[derive(Default)]
pub struct Rpls {
    list: Vec<Rpl>,
}

impl Rpls {
    /// Compile `--rpl` definitions (`TAG expression`) and, with `plus`, GNU's `--plus` set.
    pub fn new(defs: &[Vec<u8>], plus: bool) -> Result<Rpls> {
        let mut list: Vec<Rpl> = Vec::new();
        fn add(list: &mut Vec<Rpl>, rpl: Rpl) {
            list.retain(|r| r.key != rpl.key);
            list.push(rpl);
        }
        if plus {
            for (key, expr) in PLUS {
                let skip = SKIPS.iter().find(|(k, _)| k == key).map(|(_, s)| *s);
                let rpl = Rpl::new(
                    key.as_bytes(),
                    expr.as_bytes(),
                    UNGREEDY.contains(key),
                    skip,
                )?;
                add(&mut list, rpl);
            }
        }
        for def in defs {
            let split = def.iter().position(|b| b.is_ascii_whitespace());
            let (key, expr) = match split {
                Some(i) => (&def[..i], &def[i + 1..]),
                None => (&def[..], &b""[..]),
            };
            if key.is_empty() {
                return Err(Error::new(format!(
                    "--rpl {}: the tag is empty",
                    String::from_utf8_lossy(def)
                ))
                .with_hint("write --rpl 'TAG perl-expression', e.g. --rpl '{..} s/\\.[^.]*$//'"));
            }
            add(&mut list, Rpl::new(key, expr, false, None)?);
            // Check the expression now, before any job starts (a tag with groups is checked
            // when it is used, with the text its groups matched).
            if !key.contains(&b'(') {
                Program::parse_with(&list.last().expect("just added").expr, &[], false).map_err(
                    |why| {
                        Error::new(format!("--rpl {}: {why}", String::from_utf8_lossy(def)))
                            .with_hint(HINT)
                    },
                )?;
            }
        }
        // GNU parallel tries the longest tag first.
        list.sort_by_key(|r| std::cmp::Reverse(r.key.len()));
        Ok(Rpls { list })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The replacement string that starts `rest`, if any.
    pub fn at(&self, rest: &[u8]) -> Result<Option<Found>> {
        for r in &self.list {
            let (caps, position, first) = if let Some(c) = r.plain.captures(rest) {
                (c, r.position, 1)
            } else if let Some(c) = r.positional.as_ref().and_then(|p| p.captures(rest)) {
                let n = std::str::from_utf8(&c[1]).ok().and_then(|d| d.parse().ok());
                (c, n, 2)
            } else {
                continue;
            };
            let len = caps[0].len();
            // GNU parallel stops at the first group that did not take part.
            let mut params = Vec::new();
            for i in first..caps.len() {
                match caps.get(i) {
                    Some(m) if r.ungreedy => params.push(ungreedy(m.as_bytes())),
                    Some(m) => params.push(m.as_bytes().to_vec()),
                    None => break,
                }
            }
            let program = Program::parse_with(&r.expr, &params, true).map_err(|why| {
                Error::new(format!("{}: {why}", String::from_utf8_lossy(&rest[..len])))
                    .with_hint(HINT)
            })?;
            return Ok(Some(Found {
                len,
                position,
                program: Arc::new(program),
                skip: r.skip,
            }));
        }
        Ok(None)
    }
}

/// What to do about an expression outside the subset.
pub const HINT: &str = "forkpool evaluates a subset of Perl (see README: \"Perl expressions\"); \
     use a shell command instead, e.g. $(echo {} | sed s/a/b/)";

impl Rpl {
    fn new(key: &[u8], expr: &[u8], ungreedy: bool, skip: Option<Skip>) -> Result<Rpl> {
        let bad = |why: String| {
            Error::new(format!(
                "--rpl {} {}: {why}",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(expr)
            ))
        };
        // GNU: prefix without `(`, an optional `(...)` group part, a postfix without `)`.
        let (prefix, group, postfix) = match (
            key.iter().position(|&b| b == b'('),
            key.iter().rposition(|&b| b == b')'),
        ) {
            (Some(a), Some(b)) if a < b => (&key[..a], &key[a..=b], &key[b + 1..]),
            _ => (key, &b""[..], &b""[..]),
        };
        let mut pat = b"^".to_vec();
        pat.extend(escape(prefix));
        pat.extend_from_slice(group);
        pat.extend(escape(postfix));
        let plain = perl::compile(&pat, false, false).map_err(bad)?;
        let positional = match prefix.strip_prefix(b"{") {
            Some(rest) => {
                let mut pat = br"^\{(-?\d+)\s*".to_vec();
                pat.extend(escape(rest));
                pat.extend_from_slice(group);
                pat.extend(escape(postfix));
                Some(perl::compile(&pat, false, false).map_err(bad)?)
            }
            None => None,
        };
        // GNU parallel takes a leading `n ` off every expression as its position.
        let digits = expr
            .iter()
            .enumerate()
            .take_while(|&(i, &b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
            .count();
        let (position, expr) = match std::str::from_utf8(&expr[..digits])
            .ok()
            .and_then(|d| d.parse::<i64>().ok())
        {
            Some(n) if expr.get(digits).is_none_or(|&b| b == b' ') => {
                let rest = &expr[digits..];
                let spaces = rest.iter().take_while(|&&b| b == b' ').count();
                (Some(n), &rest[spaces..])
            }
            _ => (None, expr),
        };
        Ok(Rpl {
            key: key.to_vec(),
            plain,
            positional,
            expr: expr.to_vec(),
            position,
            ungreedy,
            skip,
        })
    }
}

/// Escape text so that a Perl regex matches it literally (`\Q...\E`).
fn escape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for &b in text {
        if b.is_ascii_punctuation() || b == b' ' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// GNU parallel's `make_regexp_ungreedy`: every quantifier (`*`, `+`, `{...}`) outside a class
/// and not already followed by `?` gets a `?`.
fn ungreedy(re: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(re.len() + 4);
    let (mut in_class, mut escaped, mut found) = (false, false, false);
    for &c in re {
        if found {
            if c != b'?' {
                out.push(b'?');
            }
            found = false;
        }
        out.push(c);
        if escaped {
            escaped = false;
            continue;
        }
        if c == b'\\' {
            escaped = true;
            continue;
        }
        if c == b'[' {
            in_class = true;
            continue;
        }
        if in_class {
            if c == b']' {
                in_class = false;
            }
            continue;
        }
        if matches!(c, b'*' | b'}' | b'+') {
            found = true;
        }
    }
    if found {
        out.push(b'?');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ungreedy_as_gnu() {
        assert_eq!(ungreedy(b"a*"), b"a*?");
        assert_eq!(ungreedy(b"a*?b+"), b"a*?b+?");
        assert_eq!(ungreedy(b"[*]x{2}"), b"[*]x{2}?");
        assert_eq!(ungreedy(br"\*"), br"\*");
    }

    #[test]
    fn positional_and_group_tags() {
        let r = Rpls::new(&[br"{r(\d)} s/a/$$1/".to_vec()], true).unwrap();
        let f = r.at(b"{r3}x").unwrap().unwrap();
        assert_eq!((f.len, f.position), (4, None));
        let f = r.at(b"{2 r4}").unwrap().unwrap();
        assert_eq!((f.len, f.position), (6, Some(2)));
        let f = r.at(b"{-1+..}").unwrap().unwrap();
        assert_eq!((f.len, f.position), (7, Some(-1)));
        let f = r.at(b"{##}").unwrap().unwrap();
        assert_eq!(f.position, Some(1));
        assert!(r.at(b"{#}").unwrap().is_none());
        assert!(r.at(b"{}").unwrap().is_none());
    }
}
