//! Command templates: the command words, parsed once into tokens, and the rendering of one job's
//! command from them.
//!
//! Command words are shell code (as in GNU parallel): they are joined with spaces and only the
//! replacement strings in them are touched. Every substituted value is shell-quoted, so any byte
//! sequence reaches the job as exactly the bytes it was. When the literal parts of a template hold
//! nothing the shell would interpret, the job can be run directly (execvp) instead of through
//! `sh -c`: rendering into an argument vector gives the same words the shell would have built.
//!
//! `{= perl expression =}`, `--rpl` tags and `--plus` are evaluated natively (`perl`, `rpl`):
//! each is compiled once, when the template is parsed, and run on each value it selects.

mod perl;
mod rpl;

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::job::{Command, Record};

use perl::{Ctx, Program};
pub use rpl::Rpls;
use rpl::Skip;

/// Which input values a replacement string selects.
#[derive(Clone, Debug, PartialEq)]
enum Selector {
    /// `{}`: every value of the job, separated by spaces.
    All,
    /// `{n}`: the n-th value (1-based).
    Pos(usize),
    /// `{-n}`: the n-th value from the end (1-based).
    FromEnd(usize),
}

/// The path operation applied to each selected value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transform {
    None,
    /// `{.}`: without the extension.
    NoExt,
    /// `{/}`: the basename.
    Basename,
    /// `{//}`: the dirname.
    Dirname,
    /// `{/.}`: the basename without extension.
    BasenameNoExt,
}

/// A compiled expression in a token (compared by identity).
#[derive(Clone, Debug)]
struct Perl(Arc<Program>);

impl PartialEq for Perl {
    fn eq(&self, other: &Perl) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// Shell code from the command words, copied as is.
    Code(Vec<u8>),
    /// A whole command word under `-q`: filled in with raw values, then quoted as one value.
    Quoted(Vec<Token>),
    /// White space between shell words.
    Space(Vec<u8>),
    Value(Selector, Transform),
    /// `{= perl expression =}`, a `--rpl` or `--plus` string: the selected values, evaluated.
    Perl(Selector, Perl),
    /// `{#}`
    Seq,
    /// `{%}`
    Slot,
}

/// How replacement strings are spelled and which ones exist.
pub struct Syntax<'a> {
    /// `-I`: the string that stands for `{}`.
    pub replace: Option<&'a [u8]>,
    /// `--header`: names that stand for column positions (`{name}` is `{position}`).
    pub names: &'a [(Vec<u8>, usize)],
    /// `--rpl` and `--plus` replacement strings.
    pub rpls: &'a Rpls,
}

/// A parsed command template.
#[derive(Debug)]
pub struct Template {
    tokens: Vec<Token>,
    /// Values are shell code themselves: no command was given (each input is a command line),
    /// or the command starts with a replacement string.
    raw_values: bool,
    /// `-X`, `-N`: repeat each word that holds `{}` (or `{.}`...) once per input value.
    context: bool,
    /// No literal part needs a shell, so a rendered job can be exec'ed directly.
    direct: bool,
    /// The shell is csh or tcsh: values are quoted for it (`quote_csh`).
    csh: bool,
    /// `{choose_k}`, `{uniq}`: jobs to skip.
    skip: Vec<Skip>,
    /// `{##}`, `{0#}`: the number of jobs (`set_total`).
    total: u64,
    /// `{0%}`: the number of job slots (`for_slots`).
    slots: usize,
    /// ` {}` was added because the words held no replacement string.
    appended: bool,
}

/// What one job's rendering needs to know.
pub struct JobView<'a> {
    pub records: &'a [Record],
    pub seq: u64,
    pub slot: usize,
}

impl Template {
    /// Parse the command words. `quote_words` is `-q`: the words themselves are quoted.
    /// `append_input` adds ` {}` when the words hold no replacement string.
    /// Fails on a `{= perl expression =}` outside the subset forkpool evaluates.
    pub fn parse(
        words: &[Vec<u8>],
        quote_words: bool,
        context: bool,
        append_input: bool,
        syntax: &Syntax,
    ) -> Result<Template> {
        let mut tokens = Vec::new();
        if words.is_empty() {
            return Ok(Template {
                tokens: vec![Token::Value(Selector::All, Transform::None)],
                raw_values: true,
                context: false,
                direct: false,
                csh: false,
                skip: Vec::new(),
                total: 0,
                slots: 1,
                appended: true,
            });
        }
        let words = merge_expressions(words);
        let mut skip = Vec::new();
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                tokens.push(Token::Space(b" ".to_vec()));
            }
            if quote_words {
                let mut inner = Vec::new();
                parse_into(word, syntax, &mut inner, &mut skip, |text, toks| {
                    if !text.is_empty() {
                        toks.push(Token::Code(text.to_vec()))
                    }
                })?;
                tokens.push(Token::Quoted(inner));
            } else {
                parse_into(word, syntax, &mut tokens, &mut skip, push_code)?;
            }
        }
        let has_value = has_value(&tokens);
        let appended = !has_value && append_input;
        if appended {
            tokens.push(Token::Space(b" ".to_vec()));
            tokens.push(Token::Value(Selector::All, Transform::None));
        }
        // GNU parallel: a replacement string in the first word (before any `=`) makes the values
        // part of the command itself, so none of them is quoted: `forkpool {} ::: 'echo a b'`.
        let raw_values = starts_with_value(&tokens);
        let direct = !raw_values && is_direct(&tokens);
        Ok(Template {
            tokens,
            raw_values,
            context,
            direct,
            csh: false,
            skip,
            total: 0,
            slots: 1,
            appended,
        })
    }

    /// Whether this tag template makes GNU parallel count the values once more towards -s: it
    /// holds a replacement string that the command's own words do not.
    pub fn counts_beside(&self, command: &Template) -> bool {
        fn keys(tokens: &[Token], out: &mut Vec<String>) {
            for t in tokens {
                match t {
                    Token::Value(..) | Token::Perl(..) | Token::Seq | Token::Slot => {
                        out.push(format!("{t:?}"))
                    }
                    Token::Quoted(inner) => keys(inner, out),
                    _ => {}
                }
            }
        }
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        keys(&self.tokens, &mut ours);
        if !command.appended {
            keys(&command.tokens, &mut theirs);
        }
        ours.iter().any(|k| !theirs.contains(k))
    }

    /// Whether a word around `{}` is repeated for each value (-X, -N).
    pub fn context_replace(&self) -> bool {
        self.context
    }

    /// The command must run in a shell (its first word names an exported bash function).
    pub fn in_shell(mut self, shell: bool) -> Template {
        self.direct &= !shell;
        self
    }

    /// `{0%}` pads the slot number to the width of the number of slots.
    pub fn for_slots(mut self, slots: usize) -> Template {
        self.slots = slots;
        self
    }

    /// Whether the template needs the number of jobs (`{##}`, `{0#}`, `total_jobs()`).
    pub fn needs_total(&self) -> bool {
        fn any(tokens: &[Token]) -> bool {
            tokens.iter().any(|t| match t {
                Token::Perl(_, p) => p.0.needs_total(),
                Token::Quoted(inner) => any(inner),
                _ => false,
            })
        }
        any(&self.tokens)
    }

    /// The number of jobs, for `{##}`, `{0#}` and `total_jobs()`.
    pub fn set_total(&mut self, total: u64) {
        self.total = total;
    }

    /// Whether `{choose_k}` or `{uniq}` skip this job (GNU parallel: its values are not
    /// strictly increasing, or not all different). A skipped job keeps its sequence number.
    pub fn skips(&self, records: &[Record]) -> bool {
        if self.skip.is_empty() {
            return false;
        }
        let all: Vec<&[u8]> = records
            .iter()
            .flat_map(|r| r.iter().map(Vec::as_slice))
            .collect();
        self.skip.iter().any(|s| match s {
            Skip::UnlessIncreasing => all.windows(2).any(|w| w[0] >= w[1]),
            Skip::UnlessUnique => {
                let mut sorted = all.clone();
                sorted.sort_unstable();
                sorted.windows(2).any(|w| w[0] == w[1])
            }
        })
    }

    /// Quote values for csh or tcsh (`--shell`), whose quoting differs from sh's.
    pub fn for_csh(mut self, csh: bool) -> Template {
        self.csh = csh;
        self
    }

    /// The command for one job: direct words when no shell is needed, else shell code.
    pub fn command(&self, job: &JobView) -> Command {
        if self.direct {
            let mut sink = ArgvSink::default();
            self.render(job, &mut sink);
            Command::Direct(sink.finish())
        } else {
            Command::Shell(self.shell_line(job))
        }
    }

    /// The job as shell code, as `--dry-run`, `-v` and the joblog show it.
    pub fn shell_line(&self, job: &JobView) -> Vec<u8> {
        let mut sink = ShellSink {
            out: Vec::new(),
            raw: self.raw_values,
            csh: self.csh,
        };
        self.render(job, &mut sink);
        sink.out
    }

    /// The job's text with values unquoted (`--tagstring`).
    pub fn raw_text(&self, job: &JobView) -> Vec<u8> {
        let mut sink = ShellSink {
            out: Vec::new(),
            raw: true,
            csh: false,
        };
        self.render(job, &mut sink);
        sink.out
    }

    fn render(&self, job: &JobView, sink: &mut impl Sink) {
        let ctx = Ctx {
            seq: job.seq,
            slot: job.slot,
            total: self.total,
            slots: self.slots,
        };
        // `{n}` and `{-n}` index the job's values in order, whichever records they came from.
        let all: Vec<&[u8]> = job
            .records
            .iter()
            .flat_map(|r| r.iter().map(Vec::as_slice))
            .collect();
        if !self.context {
            return render_tokens(&self.tokens, &all, &all, &ctx, sink);
        }
        // -X: a word (a run of tokens between spaces) that holds `{}` (or `{.}`...) is repeated
        // once per value, `{}` standing for that value alone; `{n}` still indexes all of them.
        let mut start = 0;
        while start < self.tokens.len() {
            if let Token::Space(s) = &self.tokens[start] {
                sink.space(s);
                start += 1;
                continue;
            }
            let end = self.tokens[start..]
                .iter()
                .position(|t| matches!(t, Token::Space(_)))
                .map_or(self.tokens.len(), |p| start + p);
            let word = &self.tokens[start..end];
            if holds_all(word) && !all.is_empty() {
                for (i, v) in all.iter().enumerate() {
                    if i > 0 {
                        sink.space(b" ");
                    }
                    render_tokens(word, &all, std::slice::from_ref(v), &ctx, sink);
                }
            } else {
                render_tokens(word, &all, &all, &ctx, sink);
            }
            start = end;
        }
    }
}

/// Whether `tokens` hold a `{}` (or `{.}`, `{= =}`...) that stands for all the job's values.
fn holds_all(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| match t {
        Token::Value(Selector::All, _) | Token::Perl(Selector::All, _) => true,
        Token::Quoted(inner) => holds_all(inner),
        _ => false,
    })
}

fn has_value(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| match t {
        Token::Value(..) | Token::Perl(..) | Token::Seq | Token::Slot => true,
        Token::Quoted(inner) => has_value(inner),
        _ => false,
    })
}

/// Whether a command word may use the number of jobs (`{##}`, `{0#}`, `total_jobs()`), judged on
/// its text before parsing (the inputs must be copied to count them before they are opened).
pub fn may_need_total(word: &[u8]) -> bool {
    [&b"##"[..], b"0#", b"total_jobs"]
        .iter()
        .any(|n| word.windows(n.len()).any(|w| w == *n))
}

/// GNU parallel's `merge_rpl_parts`: the shell splits `{= s/a/b/ =}` into three words; a word
/// with a `{=` that no `=}` closes is joined (with a space) to the words after it until one does.
fn merge_expressions(words: &[Vec<u8>]) -> Vec<Vec<u8>> {
    fn open(w: &[u8]) -> bool {
        // After removing each closed `{= ... =}`, is a `{=` left?
        let mut i = 0;
        let mut open = false;
        while i + 1 < w.len() {
            if w[i..].starts_with(b"{=") {
                open = true;
                i += 2;
            } else if w[i..].starts_with(b"=}") && open {
                open = false;
                i += 2;
            } else {
                i += 1;
            }
        }
        open
    }
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(words.len());
    let mut joining = false;
    for w in words {
        match out.last_mut() {
            Some(last) if joining => {
                last.push(b' ');
                last.extend_from_slice(w);
            }
            _ => out.push(w.clone()),
        }
        joining = open(out.last().expect("pushed"));
    }
    out
}

/// A `{= expression =}` at the start of `rest`: its length, position and program.
fn expression(rest: &[u8]) -> Option<Result<(usize, Option<i64>, Program)>> {
    let body_start = 2;
    let end = rest[body_start..].windows(2).position(|w| w == b"=}")? + body_start;
    // The innermost `{=` pairs with the `=}` (GNU: `{={==}` holds one expression).
    if rest[body_start..end].windows(2).any(|w| w == b"{=") {
        return None;
    }
    let body = &rest[body_start..end];
    let digits = body
        .iter()
        .enumerate()
        .take_while(|&(i, &b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
        .count();
    let position = std::str::from_utf8(&body[..digits])
        .ok()
        .and_then(|d| d.parse::<i64>().ok());
    let expr = if position.is_some() {
        &body[digits..]
    } else {
        body
    };
    Some(
        Program::parse(expr)
            .map(|p| (end + 2, position, p))
            .map_err(|why| {
                Error::new(format!(
                    "{}: {why}",
                    String::from_utf8_lossy(&rest[..end + 2])
                ))
                .with_hint(rpl::HINT)
            }),
    )
}

/// The selector of an expression's position (`{=2 ...=}`, `{-1..}`).
fn selector(position: Option<i64>) -> Selector {
    match position {
        Some(n) if n > 0 => Selector::Pos(n as usize),
        Some(n) if n < 0 => Selector::FromEnd(n.unsigned_abs() as usize),
        _ => Selector::All,
    }
}

fn push_code(text: &[u8], tokens: &mut Vec<Token>) {
    // Split shell code into code and white space so that -X can find words.
    let mut rest = text;
    while !rest.is_empty() {
        let ws = is_space(rest[0]);
        let n = rest
            .iter()
            .position(|&b| is_space(b) != ws)
            .unwrap_or(rest.len());
        let part = rest[..n].to_vec();
        match (ws, tokens.last_mut()) {
            (true, Some(Token::Space(prev))) => prev.extend_from_slice(&part),
            (false, Some(Token::Code(prev))) => prev.extend_from_slice(&part),
            (true, _) => tokens.push(Token::Space(part)),
            (false, _) => tokens.push(Token::Code(part)),
        }
        rest = &rest[n..];
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n')
}

/// Split one command word into literal text and replacement strings.
fn parse_into(
    word: &[u8],
    syntax: &Syntax,
    tokens: &mut Vec<Token>,
    skip: &mut Vec<Skip>,
    lit: impl Fn(&[u8], &mut Vec<Token>),
) -> Result<()> {
    let mut text_start = 0;
    let mut i = 0;
    while i < word.len() {
        if word[i..].starts_with(b"{=")
            && let Some(found) = expression(&word[i..])
        {
            let (len, position, program) = found?;
            lit(&word[text_start..i], tokens);
            tokens.push(Token::Perl(selector(position), Perl(Arc::new(program))));
            i += len;
            text_start = i;
            continue;
        }
        if !syntax.rpls.is_empty()
            && let Some(found) = syntax.rpls.at(&word[i..])?
        {
            lit(&word[text_start..i], tokens);
            tokens.push(Token::Perl(selector(found.position), Perl(found.program)));
            skip.extend(found.skip);
            i += found.len;
            text_start = i;
            continue;
        }
        if let Some(r) = syntax
            .replace
            .filter(|r| !r.is_empty() && word[i..].starts_with(r))
        {
            lit(&word[text_start..i], tokens);
            tokens.push(Token::Value(Selector::All, Transform::None));
            i += r.len();
            text_start = i;
            continue;
        }
        if word[i] == b'{'
            && let Some(len) = word[i + 1..].iter().position(|&b| b == b'}')
            && let Some(tok) = replacement(&word[i + 1..i + 1 + len], syntax)
        {
            lit(&word[text_start..i], tokens);
            tokens.push(tok);
            i += len + 2;
            text_start = i;
            continue;
        }
        i += 1;
    }
    lit(&word[text_start..], tokens);
    Ok(())
}

/// The token for the inside of `{...}`, or None when it is not a replacement string.
fn replacement(inner: &[u8], syntax: &Syntax) -> Option<Token> {
    match inner {
        b"#" => return Some(Token::Seq),
        b"%" => return Some(Token::Slot),
        _ => {}
    }
    let (head, tf) = split_transform(inner);
    if head.is_empty() {
        // With -I, `{}` is no longer special but `{.}` and friends still are.
        if syntax.replace.is_some() && tf == Transform::None {
            return None;
        }
        return Some(Token::Value(Selector::All, tf));
    }
    if let Some((_, pos)) = syntax
        .names
        .iter()
        .find(|(name, _)| name.as_slice() == head)
    {
        return Some(Token::Value(Selector::Pos(*pos), tf));
    }
    let (neg, digits) = match head.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, head),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if n == 0 {
        return None;
    }
    Some(Token::Value(
        if neg {
            Selector::FromEnd(n)
        } else {
            Selector::Pos(n)
        },
        tf,
    ))
}

fn split_transform(inner: &[u8]) -> (&[u8], Transform) {
    for (suffix, tf) in [
        (&b"/."[..], Transform::BasenameNoExt),
        (b"//", Transform::Dirname),
        (b"/", Transform::Basename),
        (b".", Transform::NoExt),
    ] {
        if let Some(head) = inner.strip_suffix(suffix) {
            return (head, tf);
        }
    }
    (inner, Transform::None)
}

/// Whether a replacement string comes before the first blank and any `=` of the command (GNU
/// parallel's `/^[^ \t\n=]*\257</` on the joined command words).
fn starts_with_value(tokens: &[Token]) -> bool {
    for t in tokens {
        match t {
            Token::Code(c) if c.contains(&b'=') => return false,
            Token::Code(_) => {}
            Token::Value(..) | Token::Perl(..) | Token::Seq | Token::Slot => return true,
            // -q quotes every word anyway.
            Token::Quoted(_) | Token::Space(_) => return false,
        }
    }
    false
}

/// Bytes that mean nothing special to the shell anywhere in a word.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_./,:@%+^=".contains(&b)
}

fn is_direct(tokens: &[Token]) -> bool {
    let mut first_word = true;
    for t in tokens {
        match t {
            Token::Code(c)
                if (!c.iter().all(|&b| is_plain(b)) || (first_word && c.contains(&b'='))) =>
            {
                return false;
            }
            // To the shell a newline ends the command; only a blank separates words.
            Token::Space(s) if s.contains(&b'\n') => return false,
            Token::Space(_) => first_word = false,
            // `uq()` makes a value shell code.
            Token::Perl(_, p) if p.0.may_unquote() => return false,
            _ => {}
        }
    }
    true
}

/// Render `tokens`: `{n}` and `{-n}` pick from `all`, `{}` stands for the values in `each`.
///
/// A `{n}` with no value (a column a short --colsep line lacks, the short last group of -N)
/// renders as nothing at all, not as a quoted empty value: as in GNU parallel, a word that is
/// only such replacements disappears from the command, while a value that is empty gives `''`.
fn render_tokens(tokens: &[Token], all: &[&[u8]], each: &[&[u8]], job: &Ctx, sink: &mut impl Sink) {
    for t in tokens {
        match t {
            Token::Code(c) => sink.code(c),
            Token::Quoted(inner) => {
                // As GNU parallel: where `{}` holds several values, the word breaks between
                // them, and each part is quoted as a word of its own.
                let mut words = WordsSink(vec![Vec::new()]);
                render_tokens(inner, all, each, job, &mut words);
                for (i, w) in words.0.iter().enumerate() {
                    if i > 0 {
                        sink.space(b" ");
                    }
                    sink.value(w);
                }
            }
            Token::Space(s) => sink.space(s),
            Token::Seq => sink.code(job.seq.to_string().as_bytes()),
            Token::Slot => sink.code(job.slot.to_string().as_bytes()),
            Token::Value(Selector::All, tf) => {
                for (i, v) in each.iter().enumerate() {
                    if i > 0 {
                        sink.space(b" ");
                    }
                    sink.value(&transform(v, *tf));
                }
            }
            Token::Value(sel, tf) => {
                if let Some(v) = positional(all, sel) {
                    sink.value(&transform(v, *tf));
                }
            }
            Token::Perl(Selector::All, p) => {
                for (i, v) in each.iter().enumerate() {
                    if i > 0 {
                        sink.space(b" ");
                    }
                    evaluate(&p.0, v, job, sink);
                }
            }
            Token::Perl(sel, p) => {
                if let Some(v) = positional(all, sel) {
                    evaluate(&p.0, v, job, sink);
                }
            }
        }
    }
}

/// An expression's value: quoted as any value, unless it called `uq()`.
fn evaluate(p: &Program, v: &[u8], ctx: &Ctx, sink: &mut impl Sink) {
    p.eval_with(v, ctx, |out, unquoted| {
        if unquoted {
            sink.code(out)
        } else {
            sink.value(out)
        }
    })
}

/// The value `{n}` or `{-n}` selects, if there is one.
fn positional<'a>(all: &[&'a [u8]], sel: &Selector) -> Option<&'a [u8]> {
    let len = all.len();
    match *sel {
        Selector::All => None,
        Selector::Pos(n) => all.get(n - 1).copied(),
        // GNU parallel indexes a Perl array with `count - n`, and Perl counts a negative index from
        // the end: so `{-3}` with two values is the last one, and only beyond twice the count is
        // there no value.
        Selector::FromEnd(n) if n <= len => Some(all[len - n]),
        Selector::FromEnd(n) if n <= 2 * len => Some(all[2 * len - n]),
        Selector::FromEnd(_) => None,
    }
}

/// Apply a path transform, as GNU parallel does it.
pub fn transform(v: &[u8], tf: Transform) -> Cow<'_, [u8]> {
    match tf {
        Transform::None => Cow::Borrowed(v),
        Transform::NoExt => Cow::Borrowed(strip_ext(v)),
        Transform::Basename => Cow::Borrowed(basename(v)),
        Transform::BasenameNoExt => Cow::Borrowed(strip_ext(basename(v))),
        Transform::Dirname => Cow::Owned(dirname(v)),
    }
}

/// `s:\.[^/.]*$::`: drop a final extension, never a directory part.
fn strip_ext(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&b| b == b'.' || b == b'/') {
        Some(dot) if v[dot] == b'.' => &v[..dot],
        _ => v,
    }
}

/// `s:^.*/::`
fn basename(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&b| b == b'/') {
        Some(i) => &v[i + 1..],
        None => v,
    }
}

/// Perl's File::Basename::dirname.
fn dirname(v: &[u8]) -> Vec<u8> {
    let trimmed = match v.iter().rposition(|&b| b != b'/') {
        Some(i) => &v[..=i],
        None => {
            return if v.is_empty() {
                b".".to_vec()
            } else {
                b"/".to_vec()
            };
        }
    };
    match trimmed.iter().rposition(|&b| b == b'/') {
        None => b".".to_vec(),
        Some(i) => {
            let dir = &trimmed[..i];
            match dir.iter().rposition(|&b| b != b'/') {
                Some(j) => dir[..=j].to_vec(),
                None => b"/".to_vec(),
            }
        }
    }
}

/// Quote a value for the shell as GNU parallel does: plain words stay bare, anything else goes in
/// single quotes, with each `'` written as `'"'"'`.
pub fn quote(v: &[u8], out: &mut Vec<u8>) {
    if v.is_empty() {
        out.extend_from_slice(b"''");
        return;
    }
    if v.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-_.+/".contains(&b))
    {
        out.extend_from_slice(v);
        return;
    }
    let start = out.len();
    out.push(b'\'');
    for &b in v {
        if b == b'\'' {
            out.extend_from_slice(b"'\"'\"'");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    // Drop the empty '' that a leading or trailing quote leaves.
    if out[start..].starts_with(b"''") {
        out.drain(start..start + 2);
    }
    if out[start..].ends_with(b"''") {
        out.truncate(out.len() - 2);
    }
}

/// Quote a value for csh or tcsh: in single quotes as for sh, but `!` (history) and a newline
/// are escaped with a backslash there, and a `'` is written as `'\''`. Plain words stay bare.
pub fn quote_csh(v: &[u8], out: &mut Vec<u8>) {
    if !v.is_empty()
        && v.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-_.+/".contains(&b))
    {
        out.extend_from_slice(v);
        return;
    }
    out.push(b'\'');
    for &b in v {
        match b {
            b'\'' => out.extend_from_slice(b"'\\''"),
            b'!' => out.extend_from_slice(b"\\!"),
            b'\n' => out.extend_from_slice(b"\\\n"),
            _ => out.push(b),
        }
    }
    out.push(b'\'');
}

/// Whether `shell` is csh or tcsh, which need `quote_csh`.
pub fn is_csh(shell: &std::path::Path) -> bool {
    shell
        .file_name()
        .is_some_and(|n| n == "csh" || n == "tcsh" || n == "bsd-csh")
}

trait Sink {
    fn code(&mut self, c: &[u8]);
    fn value(&mut self, v: &[u8]);
    fn space(&mut self, s: &[u8]);
}

struct ShellSink {
    out: Vec<u8>,
    raw: bool,
    csh: bool,
}

impl Sink for ShellSink {
    fn code(&mut self, c: &[u8]) {
        self.out.extend_from_slice(c);
    }
    fn value(&mut self, v: &[u8]) {
        if self.raw {
            self.out.extend_from_slice(v);
        } else if self.csh {
            quote_csh(v, &mut self.out);
        } else {
            quote(v, &mut self.out);
        }
    }
    fn space(&mut self, s: &[u8]) {
        self.out.extend_from_slice(s);
    }
}

/// The words of a `-q` word once filled in: a space between values starts a new one.
struct WordsSink(Vec<Vec<u8>>);

impl Sink for WordsSink {
    fn code(&mut self, c: &[u8]) {
        self.0.last_mut().expect("a word").extend_from_slice(c);
    }
    fn value(&mut self, v: &[u8]) {
        self.code(v);
    }
    fn space(&mut self, _: &[u8]) {
        self.0.push(Vec::new());
    }
}

/// Builds the words the shell would have built from the same tokens.
#[derive(Default)]
struct ArgvSink {
    words: Vec<Vec<u8>>,
    cur: Vec<u8>,
    started: bool,
}

impl ArgvSink {
    fn finish(mut self) -> Vec<Vec<u8>> {
        self.space(b" ");
        self.words
    }
}

impl Sink for ArgvSink {
    fn code(&mut self, c: &[u8]) {
        self.cur.extend_from_slice(c);
        self.started |= !c.is_empty();
    }
    fn value(&mut self, v: &[u8]) {
        self.cur.extend_from_slice(v);
        self.started = true;
    }
    fn space(&mut self, _: &[u8]) {
        if self.started {
            self.words.push(std::mem::take(&mut self.cur));
            self.started = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: &str) -> String {
        let mut out = Vec::new();
        quote(v.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csh_quoting_escapes_history_and_newlines() {
        let q = |v: &[u8]| {
            let mut out = Vec::new();
            quote_csh(v, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(q(b"plain/word.txt"), "plain/word.txt");
        assert_eq!(q(b""), "''");
        assert_eq!(q(b"a!b"), "'a\\!b'");
        assert_eq!(q(b"x\ny"), "'x\\\ny'");
        assert_eq!(q(b"q'r"), "'q'\\''r'");
        assert_eq!(q(b"e$f `g`"), "'e$f `g`'");
    }

    #[test]
    fn quoting_matches_gnu_parallel() {
        assert_eq!(q("abc/d.e"), "abc/d.e");
        assert_eq!(q(""), "''");
        assert_eq!(q("a b"), "'a b'");
        assert_eq!(q("it's"), "'it'\"'\"'s'");
        assert_eq!(q("'a"), "\"'\"'a'");
        assert_eq!(q("''"), "\"'\"''\"'\"");
    }

    #[test]
    fn path_transforms() {
        assert_eq!(strip_ext(b"a.b.c"), b"a.b");
        assert_eq!(strip_ext(b"d.x/file"), b"d.x/file");
        assert_eq!(basename(b"/x/y.z"), b"y.z");
        assert_eq!(dirname(b"/x/y.z"), b"/x");
        assert_eq!(dirname(b"a"), b".");
        assert_eq!(dirname(b"/a"), b"/");
        assert_eq!(dirname(b"a/b/"), b"a");
    }
}

#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = Vec<u8>> {
        let atoms = prop_oneof![
            Just(b"{=".to_vec()),
            Just(b"=}".to_vec()),
            Just(b"{".to_vec()),
            Just(b"}".to_vec()),
            Just(b"{}".to_vec()),
            Just(b"s/a/b/".to_vec()),
            Just(b"$_".to_vec()),
            Just(b"+/".to_vec()),
            Just(b":-".to_vec()),
            Just(b"##".to_vec()),
            Just(b"choose_k".to_vec()),
            "[-0-9a-z/.:%#^,()\\ *+?]{1,3}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 1..3),
        ];
        proptest::collection::vec(atoms, 0..8).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any --rpl definition is taken or refused, and a word that uses it parses or is refused.
        #[test]
        fn any_rpl_definition_is_taken_or_refused(def in word(), use_ in word()) {
            if let Ok(rpls) = Rpls::new(&[def], false) {
                let syntax = Syntax { replace: None, names: &[], rpls: &rpls };
                if let Ok(t) = Template::parse(&[use_], false, false, true, &syntax) {
                    let records: Vec<Record> = vec![vec![b"a.b".to_vec()]];
                    let _ = t.shell_line(&JobView { records: &records, seq: 1, slot: 1 });
                }
            }
        }

        /// Any command words, with --plus and a --rpl with a group, parse or are refused, and a
        /// template that parses renders any values.
        #[test]
        fn any_command_parses_or_is_refused(
            words in proptest::collection::vec(word(), 1..4),
            values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..3),
        ) {
            static RPLS: std::sync::LazyLock<Rpls> = std::sync::LazyLock::new(|| {
                Rpls::new(&[br"{r(\d+)} s/a/$$1/".to_vec()], true).unwrap()
            });
            let syntax = Syntax { replace: None, names: &[], rpls: &RPLS };
            for context in [false, true] {
                if let Ok(t) = Template::parse(&words, false, context, true, &syntax) {
                    let records: Vec<Record> = vec![values.clone()];
                    let job = JobView { records: &records, seq: 3, slot: 1 };
                    let _ = t.command(&job);
                    let _ = t.shell_line(&job);
                    let _ = t.skips(&records);
                }
            }
        }
    }
}
