//! `{= perl expression =}` without Perl: the subset of Perl that real command lines use, parsed
//! once into a `Program` and run on each value (Perl's `$_`) as bytes.
//!
//! Supported: `s/RE/REPL/` (flags `g`, `i`, `x`; any delimiter, `s{RE}{REPL}`; `$1`..`$9`,
//! `$10`.., `${n}`, `\1`..`\9`, `$&`, `\U` `\L` `\E` `\u` `\l` in REPL), `tr/a-z/A-Z/` and `y///` (flag `d`),
//! `$_ = EXPR`, `$_ .= EXPR`, `$_ ||= EXPR`, where EXPR joins with `.` strings (`"..$_.."`,
//! `'...'`), `$_`, numbers and the functions `uc` `lc` `ucfirst` `lcfirst` `Q` `substr` `seq()`
//! `slot()` `total_jobs()`; `uq()`; `substr($_,POS,LEN) = ""`; a bare EXPR (evaluated, ignored);
//! statements joined by `;` and `||`. Strings, REPL and `tr` lists take Perl's escapes (`\n`,
//! `\x41`, `\x{41}`, `\101`, `\e`, `\cX`...); a character above 255 is refused. Anything else is refused at parse time with the part that
//! is not supported. Regexes are the `regex` crate's on bytes with Unicode off (as Perl treats a
//! byte string); Perl features it lacks (backreferences, look-around) are refused. A plain-text
//! substitution (`s/a/b/`, `s/\.gz$//`) skips the regex engine (`Quick`), and a job's value is
//! built in a reused buffer, so an expression costs little per job.

use std::borrow::Cow;

use regex::bytes::{Captures, Regex, RegexBuilder};

/// A parsed expression.
#[derive(Clone, Debug)]
pub struct Program {
    /// Statements in order; each is a chain `a || b || c` run until one succeeds.
    stmts: Vec<Vec<Stmt>>,
}

/// What a statement needs from the job besides its value.
pub struct Ctx {
    pub seq: u64,
    pub slot: usize,
    /// The number of jobs (`total_jobs()`), when the run counted them.
    pub total: u64,
    /// The number of job slots (`{0%}` pads to its width).
    pub slots: usize,
}

#[derive(Clone, Debug)]
enum Stmt {
    Subst {
        re: Regex,
        /// The same substitution without the regex engine, when it can be done so.
        quick: Option<Quick>,
        repl: Vec<Piece>,
        global: bool,
    },
    /// `tr///`: what each byte becomes (None: deleted).
    Tr(Box<[Option<u8>; 256]>),
    Assign(Expr),
    Append(Expr),
    /// `$_ ||= EXPR`: replace a false value ("" or "0").
    OrAssign(Expr),
    /// `substr($_, pos, len) = ""`.
    Cut(i64, Option<i64>),
    /// `uq()`: the value is not quoted.
    Unquote,
    /// An expression whose value only counts for `||`.
    Expr(Expr),
}

/// A substitution that matches at most once, plain text (`a`, `^a`, `a$`) by plain text: the
/// most common `{= =}` (`s/_R1/_R2/`, `s/\.gz$//`) runs without the regex engine.
#[derive(Clone, Debug)]
struct Quick {
    find: Fast,
    with: Vec<u8>,
}

#[derive(Clone, Debug)]
enum Fast {
    Anywhere(Box<memchr::memmem::Finder<'static>>),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
}

impl Quick {
    /// The quick form of `s/pat/repl/`, if it has one.
    fn of(pat: &[u8], repl: &[Piece], global: bool, icase: bool, verbose: bool) -> Option<Quick> {
        if icase || verbose {
            return None;
        }
        let mut with = Vec::new();
        for p in repl {
            match p {
                Piece::Lit(l) => with.extend_from_slice(l),
                _ => return None,
            }
        }
        let find = if let Some(rest) = pat.strip_prefix(b"^") {
            Fast::Prefix(plain(rest)?)
        } else if let Some(rest) = pat.strip_suffix(b"$") {
            Fast::Suffix(plain(rest)?)
        } else if global {
            return None;
        } else {
            Fast::Anywhere(Box::new(
                memchr::memmem::Finder::new(&plain(pat)?).into_owned(),
            ))
        };
        Some(Quick { find, with })
    }

    /// Where the one match is, if there is one.
    fn find(&self, v: &[u8]) -> Option<(usize, usize)> {
        match &self.find {
            // A short value is searched faster byte by byte than with memmem's set-up.
            Fast::Anywhere(f) if v.len() < 64 => {
                let n = f.needle();
                let (&first, rest) = n.split_first()?;
                let mut from = 0;
                while let Some(p) = v[from..].iter().position(|&b| b == first) {
                    let at = from + p;
                    if v[at + 1..].starts_with(rest) {
                        return Some((at, at + n.len()));
                    }
                    from = at + 1;
                }
                None
            }
            Fast::Anywhere(f) => f.find(v).map(|at| (at, at + f.needle().len())),
            Fast::Prefix(p) => v.starts_with(p).then_some((0, p.len())),
            Fast::Suffix(s) => v.ends_with(s).then(|| (v.len() - s.len(), v.len())),
        }
    }
}

/// The text a regex without metacharacters matches (escaped punctuation is itself).
fn plain(pat: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(pat.len());
    let mut i = 0;
    while i < pat.len() {
        let b = pat[i];
        i += 1;
        match b {
            b'\\' => match pat.get(i) {
                Some(&n) if n.is_ascii_punctuation() => {
                    out.push(n);
                    i += 1;
                }
                _ => return None,
            },
            b'^' | b'$' | b'.' | b'|' | b'?' | b'*' | b'+' | b'(' | b')' | b'[' | b']' | b'{'
            | b'}' | b'@' => return None,
            b => out.push(b),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Parts of an `s///` replacement or a double-quoted string.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Lit(Vec<u8>),
    Group(usize),
    Value,
    /// `\U`, `\L`, `\E`, `\u`, `\l`.
    Case(u8),
}

#[derive(Clone, Debug)]
struct Expr(Vec<Term>);

#[derive(Clone, Debug)]
enum Term {
    Str(Vec<Piece>),
    Call(Func, Box<Expr>),
    Substr(Box<Expr>, i64, Option<i64>),
    Seq,
    Slot,
    Total,
    /// `{0#}`, `{0%}`: the sequence number or slot, zero-padded as GNU parallel pads them.
    PadSeq,
    PadSlot,
}

#[derive(Clone, Copy, Debug)]
enum Func {
    Uc,
    Lc,
    Ucfirst,
    Lcfirst,
    Quote,
}

type Parse<T> = std::result::Result<T, String>;

impl Program {
    /// Parse an expression. The error names the part that is not supported.
    pub fn parse(src: &[u8]) -> Parse<Program> {
        Program::parse_with(src, &[], false)
    }

    /// Parse an expression of a `--rpl` or `--plus` replacement string: `$$1`... are the texts
    /// its groups matched; `internal` allows forkpool's own helpers (`--plus` only).
    pub fn parse_with(src: &[u8], params: &[Vec<u8>], internal: bool) -> Parse<Program> {
        let mut p = Parser {
            s: src,
            i: 0,
            params,
            internal,
        };
        let mut stmts = Vec::new();
        loop {
            p.ws();
            if p.eof() {
                break;
            }
            if p.eat(b";") {
                continue;
            }
            let mut chain = vec![p.stmt()?];
            loop {
                p.ws();
                if p.eat(b"||") {
                    p.ws();
                    chain.push(p.stmt()?);
                } else {
                    break;
                }
            }
            stmts.push(chain);
            p.ws();
            if !p.eof() && !p.eat(b";") {
                return Err(p.unsupported());
            }
        }
        Ok(Program { stmts })
    }

    /// Whether the program may leave its value unquoted (`uq()`).
    pub fn may_unquote(&self) -> bool {
        self.stmts
            .iter()
            .flatten()
            .any(|s| matches!(s, Stmt::Unquote))
    }

    /// Whether the program needs the number of jobs (`total_jobs()`, `{##}`, `{0#}`).
    pub fn needs_total(&self) -> bool {
        fn expr(e: &Expr) -> bool {
            e.0.iter().any(|t| match t {
                Term::Total | Term::PadSeq => true,
                Term::Call(_, a) | Term::Substr(a, _, _) => expr(a),
                _ => false,
            })
        }
        self.stmts.iter().flatten().any(|s| match s {
            Stmt::Assign(e) | Stmt::Append(e) | Stmt::OrAssign(e) => expr(e),
            _ => false,
        })
    }

    /// Run on one value and hand `f` the result and whether it is to stay unquoted (`uq()`).
    /// The buffers are reused from job to job.
    pub fn eval_with<R>(&self, value: &[u8], ctx: &Ctx, f: impl FnOnce(&[u8], bool) -> R) -> R {
        let (v, unquote) = self.eval(value, ctx);
        let r = f(&v, unquote);
        if let Cow::Owned(buf) = v {
            give_back(buf);
        }
        r
    }

    /// Run on one value: the new value and whether it is to stay unquoted (`uq()`).
    pub fn eval<'v>(&self, value: &'v [u8], ctx: &Ctx) -> (Cow<'v, [u8]>, bool) {
        // Borrowed until a statement changes it: most values do not match, most jobs copy once.
        let mut v = Cow::Borrowed(value);
        let mut unquote = false;
        for chain in &self.stmts {
            for st in chain {
                if st.run(&mut v, ctx, &mut unquote) {
                    break;
                }
            }
        }
        (v, unquote)
    }
}

impl Stmt {
    /// Run on `v`; the statement's truth value (for `||`).
    fn run(&self, v: &mut Cow<[u8]>, ctx: &Ctx, unquote: &mut bool) -> bool {
        if let Stmt::Subst { quick: Some(q), .. } = self {
            let cur: &[u8] = v;
            let Some((start, end)) = q.find(cur) else {
                return false;
            };
            let mut out = take_buffer(cur.len() + q.with.len());
            out.extend_from_slice(&cur[..start]);
            out.extend_from_slice(&q.with);
            out.extend_from_slice(&cur[end..]);
            replace(v, out);
            return true;
        }
        self.run_other(v, ctx, unquote)
    }

    #[inline(never)]
    fn run_other(&self, v: &mut Cow<[u8]>, ctx: &Ctx, unquote: &mut bool) -> bool {
        match self {
            Stmt::Subst {
                re, repl, global, ..
            } => {
                let cur: &[u8] = v;
                let mut out = Vec::new();
                let mut out_taken = false;
                let mut last = 0;
                let mut any = false;
                let mut put = |start: usize, end: usize, caps: Option<&Captures>| {
                    if !out_taken {
                        out = take_buffer(cur.len() + 32);
                        out_taken = true;
                    }
                    out.extend_from_slice(&cur[last..start]);
                    expand(repl, caps, cur, &mut out);
                    last = end;
                    any = true;
                };
                // Capture groups cost time; most replacements do not use them.
                let groups = repl.iter().any(|p| matches!(p, Piece::Group(_)));
                // As Perl: after an empty match, the next match must start further on; after a
                // non-empty one, an empty match right at its end counts.
                let (mut pos, mut empty_at) = (0, None);
                while pos <= cur.len() {
                    let (start, end, caps) = if groups {
                        let Some(c) = re.captures_at(cur, pos) else {
                            break;
                        };
                        let m = c.get(0).expect("group 0");
                        (m.start(), m.end(), Some(c))
                    } else {
                        let Some(m) = re.find_at(cur, pos) else { break };
                        (m.start(), m.end(), None)
                    };
                    if start == end && empty_at == Some(start) {
                        pos = start + 1;
                        continue;
                    }
                    put(start, end, caps.as_ref());
                    if !*global {
                        break;
                    }
                    empty_at = (start == end).then_some(start);
                    pos = end;
                }
                if any {
                    out.extend_from_slice(&cur[last..]);
                    replace(v, out);
                }
                any
            }
            Stmt::Tr(map) => {
                let mut n = false;
                let mut out = take_buffer(v.len());
                for &b in v.iter() {
                    match map[b as usize] {
                        Some(c) => {
                            n |= c != b;
                            out.push(c)
                        }
                        None => n = true,
                    }
                }
                replace(v, out);
                n
            }
            Stmt::Assign(e) => {
                *v = Cow::Owned(e.eval(v, ctx));
                !is_false(v)
            }
            Stmt::Append(e) => {
                let tail = e.eval(v, ctx);
                v.to_mut().extend_from_slice(&tail);
                !is_false(v)
            }
            Stmt::OrAssign(e) => {
                if is_false(v) {
                    *v = Cow::Owned(e.eval(v, ctx));
                }
                !is_false(v)
            }
            Stmt::Cut(pos, len) => {
                let (a, b) = span(v.len(), *pos, *len);
                v.to_mut().drain(a..b);
                true
            }
            Stmt::Unquote => {
                *unquote = true;
                true
            }
            Stmt::Expr(e) => !is_false(&e.eval(v, ctx)),
        }
    }
}

thread_local! {
    /// The buffer of the last finished evaluation, so that a job's value costs no allocation.
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// An empty buffer with room for `len` bytes, reused when one is free.
fn take_buffer(len: usize) -> Vec<u8> {
    let mut buf = SPARE.take();
    buf.clear();
    buf.reserve(len);
    buf
}

/// Keep a buffer for the next `take_buffer` (not too large a one).
fn give_back(buf: Vec<u8>) {
    if buf.capacity() <= 1 << 16 {
        SPARE.set(buf);
    }
}

/// Set the value to `new`, keeping the old buffer for reuse.
fn replace(v: &mut Cow<[u8]>, new: Vec<u8>) {
    if let Cow::Owned(old) = std::mem::replace(v, Cow::Owned(new)) {
        give_back(old);
    }
}

/// Perl's truth of a string: "" and "0" are false.
fn is_false(v: &[u8]) -> bool {
    v.is_empty() || v == b"0"
}

/// The byte range `substr` selects, clamped as Perl does.
fn span(len: usize, pos: i64, n: Option<i64>) -> (usize, usize) {
    let len_i = len as i64;
    // As Perl: the part of [pos, pos+n) that lies within the string.
    let from = if pos < 0 {
        len_i.saturating_add(pos)
    } else {
        pos
    };
    let to = match n {
        None => len_i,
        Some(n) if n < 0 => len_i.saturating_add(n),
        Some(n) => from.saturating_add(n),
    };
    let start = from.clamp(0, len_i);
    (start as usize, to.clamp(start, len_i) as usize)
}

impl Expr {
    fn eval(&self, v: &[u8], ctx: &Ctx) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &self.0 {
            match t {
                Term::Str(pieces) => expand(pieces, None, v, &mut out),
                Term::Call(f, arg) => {
                    let a = arg.eval(v, ctx);
                    out.extend_from_slice(&call(*f, &a));
                }
                Term::Substr(arg, pos, len) => {
                    let a = arg.eval(v, ctx);
                    let (s, e) = span(a.len(), *pos, *len);
                    out.extend_from_slice(&a[s..e]);
                }
                Term::Seq => out.extend_from_slice(ctx.seq.to_string().as_bytes()),
                Term::Slot => out.extend_from_slice(ctx.slot.to_string().as_bytes()),
                Term::Total => out.extend_from_slice(ctx.total.to_string().as_bytes()),
                Term::PadSeq => {
                    let w = digits(ctx.total);
                    out.extend_from_slice(format!("{:0w$}", ctx.seq).as_bytes());
                }
                Term::PadSlot => {
                    let w = digits(ctx.slots.max(1) as u64);
                    out.extend_from_slice(format!("{:0w$}", ctx.slot).as_bytes());
                }
            }
        }
        out
    }
}

/// GNU parallel's width for `{0#}` and `{0%}`: `1+int(log(n)/log(10))`, floating point and all
/// (so 1000 gives 3).
fn digits(n: u64) -> usize {
    let w = 1.0 + ((n.max(1) as f64).ln() / 10f64.ln()).trunc();
    w as usize
}

fn call(f: Func, a: &[u8]) -> Vec<u8> {
    match f {
        Func::Uc => a.to_ascii_uppercase(),
        Func::Lc => a.to_ascii_lowercase(),
        Func::Ucfirst => {
            let mut a = a.to_vec();
            if let Some(c) = a.first_mut() {
                c.make_ascii_uppercase();
            }
            a
        }
        Func::Lcfirst => {
            let mut a = a.to_vec();
            if let Some(c) = a.first_mut() {
                c.make_ascii_lowercase();
            }
            a
        }
        Func::Quote => {
            let mut out = Vec::new();
            super::quote(a, &mut out);
            out
        }
    }
}

/// Expand a replacement or string: groups of the match, `$_`, case changes.
fn expand(pieces: &[Piece], caps: Option<&Captures>, v: &[u8], out: &mut Vec<u8>) {
    // Case state: `\U`/`\L` until `\E`; `\u`/`\l` for the next byte only.
    let mut span_case = 0u8;
    let mut next_case = 0u8;
    let push = |bytes: &[u8], out: &mut Vec<u8>, span_case: u8, next_case: &mut u8| {
        if span_case == 0 && *next_case == 0 {
            out.extend_from_slice(bytes);
            return;
        }
        for &b in bytes {
            let mut c = match span_case {
                b'U' => b.to_ascii_uppercase(),
                b'L' => b.to_ascii_lowercase(),
                _ => b,
            };
            match std::mem::take(next_case) {
                b'u' => c = c.to_ascii_uppercase(),
                b'l' => c = c.to_ascii_lowercase(),
                _ => {}
            }
            out.push(c);
        }
    };
    for p in pieces {
        match p {
            Piece::Lit(l) => push(l, out, span_case, &mut next_case),
            Piece::Group(n) => {
                if let Some(m) = caps.and_then(|c| c.get(*n)) {
                    push(m.as_bytes(), out, span_case, &mut next_case);
                }
            }
            Piece::Value => push(v, out, span_case, &mut next_case),
            Piece::Case(c @ (b'u' | b'l')) => next_case = *c,
            Piece::Case(b'E') => span_case = 0,
            Piece::Case(c) => span_case = *c,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// `$$1`...: the texts a `--rpl` tag's groups matched.
    params: &'a [Vec<u8>],
    internal: bool,
}

impl Parser<'_> {
    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &[u8]) -> bool {
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    /// The unsupported part: the rest of the expression from here.
    fn unsupported(&self) -> String {
        let rest = String::from_utf8_lossy(&self.s[self.i.min(self.s.len())..]);
        let rest = rest.trim();
        if rest.is_empty() {
            "unexpected end of the expression".to_string()
        } else {
            format!("`{rest}` is not supported")
        }
    }
    /// `$$n`: the text group n of a `--rpl` tag matched.
    fn param(&mut self) -> Option<Vec<u8>> {
        let (n, len) = param_at(&self.s[self.i..])?;
        let p = self.params.get(n - 1)?.clone();
        self.i += len;
        Some(p)
    }

    fn word(&mut self) -> &[u8] {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    fn stmt(&mut self) -> Parse<Stmt> {
        let start = self.i;
        if self.eat(b"$_") {
            self.ws();
            let st = if self.eat(b".=") {
                Stmt::Append(self.expr()?)
            } else if self.eat(b"||=") {
                Stmt::OrAssign(self.expr()?)
            } else if self.peek() == Some(b'=') && self.s.get(self.i + 1) != Some(&b'~') {
                self.i += 1;
                Stmt::Assign(self.expr()?)
            } else {
                self.i = start;
                return Err(self.unsupported());
            };
            return Ok(st);
        }
        let w = self.word().to_vec();
        match &w[..] {
            b"s" | b"tr" | b"y" if self.peek().is_some_and(is_delim) => {
                if w == b"s" {
                    self.subst()
                } else {
                    self.tr()
                }
            }
            b"uq" => {
                self.ws();
                if self.eat(b"(") {
                    self.ws();
                    if !self.eat(b")") {
                        return Err(self.unsupported());
                    }
                }
                Ok(Stmt::Unquote)
            }
            b"substr" => {
                self.i = start;
                let Term::Substr(arg, pos, len) = self.term()? else {
                    unreachable!("substr parses as a substr term")
                };
                self.ws();
                let is_value = matches!(&arg.0[..], [Term::Str(p)] if p[..] == [Piece::Value]);
                if is_value && self.eat(b"=") {
                    let e = self.expr()?;
                    if e.0
                        .iter()
                        .all(|t| matches!(t, Term::Str(p) if p.is_empty()))
                    {
                        return Ok(Stmt::Cut(pos, len));
                    }
                }
                self.i = start;
                Err(self.unsupported())
            }
            _ => {
                // A bare expression (`uc`, `"x"`): Perl evaluates it and keeps `$_` as it was.
                self.i = start;
                Ok(Stmt::Expr(self.expr()?))
            }
        }
    }

    /// The body between delimiters; `open` was just consumed. Returns the raw bytes, with the
    /// escaped closing delimiter unescaped unless it means something in a regex.
    fn delimited(&mut self, open: u8) -> Parse<Vec<u8>> {
        let close = closing(open);
        let mut depth = 0;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            if b == b'\\' {
                match self.peek() {
                    Some(n) if (n == close || n == open) && !b"{}[]()^$.|*+?\\/".contains(&n) => {
                        out.push(n);
                        self.i += 1;
                    }
                    Some(b'/') if close == b'/' => {
                        out.push(b'/');
                        self.i += 1;
                    }
                    Some(n) => {
                        out.extend_from_slice(&[b'\\', n]);
                        self.i += 1;
                    }
                    None => out.push(b'\\'),
                }
                continue;
            }
            if open != close && b == open {
                depth += 1;
            } else if b == close {
                if depth == 0 {
                    return Ok(out);
                }
                depth -= 1;
            }
            out.push(b);
        }
        Err("unterminated s///, tr/// or string".to_string())
    }

    /// Both parts of `s/A/B/` or `s{A}{B}`; the first delimiter is next.
    fn two_parts(&mut self) -> Parse<(u8, Vec<u8>, Vec<u8>)> {
        let open = self.peek().unwrap_or(b'/');
        self.i += 1;
        let a = self.delimited(open)?;
        let second = if open != closing(open) {
            self.ws();
            match self.peek() {
                Some(d) if is_delim(d) => {
                    self.i += 1;
                    d
                }
                _ => return Err(self.unsupported()),
            }
        } else {
            open
        };
        let b = self.delimited(second)?;
        Ok((open, a, b))
    }

    fn flags(&mut self) -> Vec<u8> {
        self.word().to_vec()
    }

    fn subst(&mut self) -> Parse<Stmt> {
        let (open, pat, rep) = self.two_parts()?;
        let flags = self.flags();
        let (mut global, mut icase, mut verbose) = (false, false, false);
        for &f in &flags {
            match f {
                b'g' => global = true,
                b'i' => icase = true,
                b'x' => verbose = true,
                b'e' => {
                    return Err("the s///e flag (code in the replacement) is not supported".into());
                }
                _ => return Err(format!("the s/// flag `{}` is not supported", f as char)),
            }
        }
        let pat = with_params(&pat, self.params);
        let re = compile(&pat, icase, verbose)?;
        let repl = if open == b'\'' {
            vec![Piece::Lit(rep)]
        } else {
            interpolate(&rep, true, self.params)?
        };
        Ok(Stmt::Subst {
            re,
            quick: Quick::of(&pat, &repl, global, icase, verbose),
            repl,
            global,
        })
    }

    fn tr(&mut self) -> Parse<Stmt> {
        let (_, from, to) = self.two_parts()?;
        let flags = self.flags();
        let mut delete = false;
        for &f in &flags {
            match f {
                b'd' => delete = true,
                _ => return Err(format!("the tr/// flag `{}` is not supported", f as char)),
            }
        }
        let from = tr_list(&from)?;
        let mut to = tr_list(&to)?;
        if to.is_empty() && !delete {
            to = from.clone();
        }
        let mut map: Box<[Option<u8>; 256]> = Box::new(std::array::from_fn(|i| Some(i as u8)));
        let mut seen = [false; 256];
        for (k, &c) in from.iter().enumerate() {
            if seen[c as usize] {
                continue;
            }
            seen[c as usize] = true;
            map[c as usize] = match to.get(k) {
                Some(&t) => Some(t),
                None if delete => None,
                None => to.last().copied(),
            };
        }
        Ok(Stmt::Tr(map))
    }

    /// EXPR: terms joined with `.`.
    fn expr(&mut self) -> Parse<Expr> {
        let mut terms = Vec::new();
        loop {
            self.ws();
            terms.push(self.term()?);
            self.ws();
            if self.peek() == Some(b'.') && self.s.get(self.i + 1) != Some(&b'=') {
                self.i += 1;
            } else {
                return Ok(Expr(terms));
            }
        }
    }

    fn term(&mut self) -> Parse<Term> {
        let start = self.i;
        if let Some(p) = self.param() {
            return Ok(Term::Str(vec![Piece::Lit(p)]));
        }
        if self.eat(b"$_") {
            return Ok(Term::Str(vec![Piece::Value]));
        }
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                let body = self.delimited(b'"')?;
                return Ok(Term::Str(interpolate(&body, false, self.params)?));
            }
            Some(b'\'') => {
                self.i += 1;
                let body = self.delimited(b'\'')?;
                return Ok(Term::Str(vec![Piece::Lit(single_quoted(&body))]));
            }
            Some(b'0'..=b'9') => {
                let w = self.word().to_vec();
                if w.iter().all(u8::is_ascii_digit) {
                    return Ok(Term::Str(vec![Piece::Lit(w)]));
                }
                self.i = start;
                return Err(self.unsupported());
            }
            _ => {}
        }
        let w = self.word().to_vec();
        let func = match &w[..] {
            b"uc" => Func::Uc,
            b"lc" => Func::Lc,
            b"ucfirst" => Func::Ucfirst,
            b"lcfirst" => Func::Lcfirst,
            b"Q" => Func::Quote,
            b"seq" | b"slot" | b"total_jobs" | b"__pad_seq" | b"__pad_slot" => {
                let term = match &w[..] {
                    b"seq" => Term::Seq,
                    b"slot" => Term::Slot,
                    b"total_jobs" => Term::Total,
                    b"__pad_seq" if self.internal => Term::PadSeq,
                    b"__pad_slot" if self.internal => Term::PadSlot,
                    _ => {
                        self.i = start;
                        return Err(self.unsupported());
                    }
                };
                self.ws();
                if self.eat(b"(") {
                    self.ws();
                    if !self.eat(b")") {
                        self.i = start;
                        return Err(self.unsupported());
                    }
                }
                return Ok(term);
            }
            b"substr" => {
                self.ws();
                if !self.eat(b"(") {
                    self.i = start;
                    return Err(self.unsupported());
                }
                let arg = self.expr()?;
                let pos = self.int_arg()?;
                let len = if self.eat(b",") {
                    Some(self.int()?)
                } else {
                    None
                };
                self.ws();
                if !self.eat(b")") {
                    return Err(self.unsupported());
                }
                return Ok(Term::Substr(Box::new(arg), pos, len));
            }
            _ => {
                self.i = start;
                return Err(self.unsupported());
            }
        };
        self.ws();
        // `uc($_)`, `uc $_`, `uc` (of $_).
        let arg = if self.eat(b"(") {
            let e = self.expr()?;
            self.ws();
            if !self.eat(b")") {
                return Err(self.unsupported());
            }
            e
        } else if self.s[self.i..].starts_with(b"$_")
            || matches!(self.peek(), Some(b'"' | b'\''))
            || self.peek().is_some_and(|b| b.is_ascii_alphabetic())
        {
            // `ucfirst lc $_`: a function's argument may itself be a call.
            Expr(vec![self.term()?])
        } else {
            Expr(vec![Term::Str(vec![Piece::Value])])
        };
        Ok(Term::Call(func, Box::new(arg)))
    }

    fn int_arg(&mut self) -> Parse<i64> {
        self.ws();
        if !self.eat(b",") {
            return Err(self.unsupported());
        }
        self.int()
    }

    fn int(&mut self) -> Parse<i64> {
        self.ws();
        let start = self.i;
        if let Some(p) = self.param() {
            self.ws();
            return match std::str::from_utf8(&p).ok().and_then(|d| d.parse().ok()) {
                Some(n) => Ok(n),
                None => Err(format!("`{}` is not a number", String::from_utf8_lossy(&p))),
            };
        }
        let neg = self.eat(b"-");
        let w = self.word();
        match std::str::from_utf8(w)
            .ok()
            .and_then(|d| d.parse::<i64>().ok())
        {
            Some(n) if w.iter().all(u8::is_ascii_digit) => {
                self.ws();
                Ok(if neg { -n } else { n })
            }
            _ => {
                self.i = start;
                Err(self.unsupported())
            }
        }
    }
}

fn is_delim(b: u8) -> bool {
    b.is_ascii_punctuation() && b != b'_' && b != b'=' && b != b';'
}

fn closing(open: u8) -> u8 {
    match open {
        b'{' => b'}',
        b'(' => b')',
        b'[' => b']',
        b'<' => b'>',
        o => o,
    }
}

/// A single-quoted Perl string: only `\\` and `\'` are escapes.
fn single_quoted(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' && matches!(body.get(i + 1), Some(b'\\' | b'\'')) {
            out.push(body[i + 1]);
            i += 2;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// A double-quoted string or an `s///` replacement: `$1`, `${1}`, `$&` (replacements only),
/// `$_`, escapes and case changes.
fn interpolate(body: &[u8], groups: bool, params: &[Vec<u8>]) -> Parse<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut lit = Vec::new();
    let flush = |lit: &mut Vec<u8>, pieces: &mut Vec<Piece>| {
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(lit)));
        }
    };
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        match b {
            b'\\' => {
                let Some(&n) = body.get(i) else {
                    lit.push(b'\\');
                    break;
                };
                match n {
                    b'U' | b'L' | b'E' | b'u' | b'l' => {
                        i += 1;
                        flush(&mut lit, &mut pieces);
                        pieces.push(Piece::Case(n));
                    }
                    // In a replacement `\1`..`\9` (one digit) is `$1`..`$9`, as in sed.
                    b'1'..=b'9' if groups && !body.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                        i += 1;
                        flush(&mut lit, &mut pieces);
                        pieces.push(Piece::Group((n - b'0') as usize));
                    }
                    _ => {
                        let (c, len) = escape(&body[i..])?;
                        lit.push(c);
                        i += len;
                    }
                }
            }
            b'$' => {
                let rest = &body[i..];
                if let Some((n, len)) = param_at(&body[i - 1..])
                    && let Some(p) = params.get(n - 1)
                {
                    lit.extend_from_slice(p);
                    i += len - 1;
                    continue;
                }
                let (piece, len) = if rest.starts_with(b"_") && !rest.get(1).is_some_and(is_word) {
                    (Piece::Value, 1)
                } else if rest.starts_with(b"{_}") {
                    (Piece::Value, 3)
                } else if groups && rest.starts_with(b"&") {
                    (Piece::Group(0), 1)
                } else if groups && rest.first().is_some_and(|c| (b'1'..=b'9').contains(c)) {
                    // `$10` is group 10, not `$1` and a `0`.
                    let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                    (Piece::Group(number(&rest[..len])), len)
                } else if groups
                    && let Some(len) = rest
                        .strip_prefix(b"{")
                        .map(|r| r.iter().take_while(|c| c.is_ascii_digit()).count())
                        .filter(|&len| len > 0 && rest.get(len + 1) == Some(&b'}'))
                {
                    (Piece::Group(number(&rest[1..=len])), len + 2)
                } else if rest.is_empty() {
                    return Err(
                        "a `$` at the end of a string is a syntax error in Perl: write `\\$` for a dollar sign"
                            .into(),
                    );
                } else {
                    let shown: String = String::from_utf8_lossy(rest).chars().take(12).collect();
                    return Err(format!("the variable `${shown}` is not supported"));
                };
                flush(&mut lit, &mut pieces);
                pieces.push(piece);
                i += len;
            }
            b'@' if body.get(i).is_some_and(|c| is_word(c) || *c == b'{') => {
                return Err("array interpolation `@...` in a string is not supported".into());
            }
            _ => lit.push(b),
        }
    }
    flush(&mut lit, &mut pieces);
    Ok(pieces)
}

/// `$$n` at the start of `s`: n and the length.
fn param_at(s: &[u8]) -> Option<(usize, usize)> {
    let rest = s.strip_prefix(b"$$")?;
    let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let n: usize = std::str::from_utf8(&rest[..len]).ok()?.parse().ok()?;
    (n > 0).then_some((n, len + 2))
}

/// A regex with each `$$n` replaced by the text of group n (Perl interpolates it as regex).
fn with_params(pat: &[u8], params: &[Vec<u8>]) -> Vec<u8> {
    if params.is_empty() {
        return pat.to_vec();
    }
    let mut out = Vec::with_capacity(pat.len());
    let mut i = 0;
    while i < pat.len() {
        if let Some((n, len)) = param_at(&pat[i..])
            && let Some(p) = params.get(n - 1)
        {
            out.extend_from_slice(p);
            i += len;
        } else {
            out.push(pat[i]);
            i += 1;
        }
    }
    out
}

fn is_word(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'_'
}

/// A group number (saturating: a group that large never exists).
fn number(digits: &[u8]) -> usize {
    digits.iter().fold(0usize, |n, d| {
        n.saturating_mul(10).saturating_add((d - b'0') as usize)
    })
}

/// The byte a backslash escape in a double-quoted string or `tr` list stands for, and the
/// length of the escape after the backslash (`s` starts after it). As Perl: `\n` `\t` `\r` `\f`
/// `\b` `\a` `\e`, `\cX`, octal `\0`..`\377` (up to three digits) and `\o{...}`, hex `\xHH` (up to two
/// digits) and `\x{...}`; any other character stands for itself. Escapes with another meaning in
/// Perl (`\c`, `\N`, `\Q`, `\F`, a character above 255) are refused.
fn escape(s: &[u8]) -> Parse<(u8, usize)> {
    let Some(&n) = s.first() else {
        return Ok((b'\\', 0));
    };
    let wide = |what: &[u8]| {
        format!(
            "the escape `\\{}` stands for a character above 255, which is not supported",
            String::from_utf8_lossy(what)
        )
    };
    let braced = |radix: u32| -> Parse<(u8, usize)> {
        let Some(end) = s.iter().position(|&b| b == b'}') else {
            return Err(format!(
                "the escape `\\{}{{` is missing its `}}`",
                n as char
            ));
        };
        let digits = String::from_utf8_lossy(&s[2..end]);
        let digits: String = digits.chars().filter(|c| !c.is_whitespace()).collect();
        // As Perl: the digits up to the first that is not one; none is 0.
        let valid: String = digits.chars().take_while(|c| c.is_digit(radix)).collect();
        match u32::from_str_radix(if valid.is_empty() { "0" } else { &valid }, radix) {
            Ok(v) if v <= 0xff => Ok((v as u8, end + 1)),
            _ => Err(wide(&s[..=end])),
        }
    };
    Ok(match n {
        b'n' => (b'\n', 1),
        b't' => (b'\t', 1),
        b'r' => (b'\r', 1),
        b'f' => (0x0c, 1),
        b'b' => (0x08, 1),
        b'a' => (0x07, 1),
        b'e' => (0x1b, 1),
        b'0'..=b'7' => {
            let len = s
                .iter()
                .take(3)
                .take_while(|c| matches!(c, b'0'..=b'7'))
                .count();
            let v = s[..len].iter().fold(0u32, |v, d| v * 8 + (d - b'0') as u32);
            if v > 0xff {
                return Err(wide(&s[..len]));
            }
            (v as u8, len)
        }
        b'o' if s.get(1) == Some(&b'{') => braced(8)?,
        b'x' if s.get(1) == Some(&b'{') => braced(16)?,
        b'x' => {
            let len = s[1..]
                .iter()
                .take(2)
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            let v = s[1..=len].iter().fold(0u8, |v, d| {
                v * 16 + (*d as char).to_digit(16).expect("a hex digit") as u8
            });
            (v, len + 1)
        }
        // `\cX`: the control character (`\c[` is ESC).
        b'c' if s.get(1).is_some_and(|c| c.is_ascii_graphic()) => {
            (s[1].to_ascii_uppercase() ^ 64, 2)
        }
        b'c' | b'N' | b'Q' | b'F' | b'o' => {
            return Err(format!("the escape `\\{}` is not supported", n as char));
        }
        n => (n, 1),
    })
}

/// A `tr` list: ranges `a-z`, escapes as in a double-quoted string (`\\`, `\-`, `\n`, `\x41`,
/// `\101`...).
fn tr_list(body: &[u8]) -> Parse<Vec<u8>> {
    // Each character, and whether it is an unescaped `-`.
    let mut items = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' && i + 1 < body.len() {
            let (c, len) = escape(&body[i + 1..])?;
            items.push((c, false));
            i += 1 + len;
        } else {
            items.push((body[i], body[i] == b'-'));
            i += 1;
        }
    }
    let mut chars = Vec::with_capacity(items.len());
    let mut k = 0;
    while k < items.len() {
        let c = items[k].0;
        // A range: a character, an unescaped `-`, a character (a `-` first or last is itself).
        if k + 2 < items.len() && items[k + 1].1 {
            let hi = items[k + 2].0;
            if hi < c {
                return Err(format!(
                    "invalid tr/// range `{}-{}`",
                    c as char, hi as char
                ));
            }
            chars.extend(c..=hi);
            k += 3;
        } else {
            chars.push(c);
            k += 1;
        }
    }
    Ok(chars)
}

/// Translate a Perl regex to the `regex` crate's syntax, refusing what it cannot do.
pub fn compile(pat: &[u8], icase: bool, verbose: bool) -> Parse<Regex> {
    let mut out = String::with_capacity(pat.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < pat.len() {
        let b = pat[i];
        i += 1;
        match b {
            b'\\' => {
                let Some(&n) = pat.get(i) else {
                    return Err("a regex may not end with `\\`".into());
                };
                i += 1;
                match n {
                    b'1'..=b'9' if !in_class => {
                        return Err(format!(
                            "backreference `\\{}` in a regex is not supported",
                            n as char
                        ));
                    }
                    b'Z' | b'G' | b'K' | b'Q' | b'E' | b'g' | b'k' | b'R' | b'X' | b'C' | b'N'
                    | b'h' | b'H' | b'v' | b'V' => {
                        return Err(format!("`\\{}` in a regex is not supported", n as char));
                    }
                    // Perl takes an escaped punctuation character literally; the regex crate
                    // gives `\<` and `\>` a meaning, and `x` mode drops a bare space.
                    b' ' => out.push_str("\\x20"),
                    n if n.is_ascii_punctuation() => {
                        out.push_str(&regex::escape(&(n as char).to_string()))
                    }
                    n if n >= 0x80 => push_byte(&mut out, n),
                    n => {
                        out.push('\\');
                        out.push(n as char);
                    }
                }
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                // `[]...]` and `[^]...]`: a leading `]` is literal.
                if pat.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if pat.get(i) == Some(&b']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            b'[' if in_class => {
                if pat[i..].starts_with(b":") {
                    // A POSIX class `[:alpha:]`.
                    let end = pat[i..].windows(2).position(|w| w == b":]");
                    if let Some(e) = end {
                        out.push('[');
                        out.push_str(&String::from_utf8_lossy(&pat[i..i + e + 2]));
                        i += e + 2;
                        continue;
                    }
                }
                out.push_str("\\[");
            }
            b']' if in_class => {
                in_class = false;
                out.push(']');
            }
            b'(' if !in_class && pat.get(i) == Some(&b'?') => {
                let rest = &pat[i + 1..];
                if rest.starts_with(b"=")
                    || rest.starts_with(b"!")
                    || rest.starts_with(b"<=")
                    || rest.starts_with(b"<!")
                {
                    return Err(
                        "look-around `(?=`, `(?!`, `(?<=`, `(?<!` in a regex is not supported"
                            .into(),
                    );
                }
                if rest.starts_with(b">") || rest.starts_with(b"|") || rest.starts_with(b"#") {
                    return Err(format!(
                        "`(?{}` in a regex is not supported",
                        rest[0] as char
                    ));
                }
                out.push('(');
            }
            b'$' if !in_class => match pat.get(i) {
                None | Some(b')') | Some(b'|') => out.push('$'),
                Some(_) => {
                    return Err(format!(
                        "variable `${}` in a regex is not supported",
                        String::from_utf8_lossy(&pat[i..])
                            .chars()
                            .take(12)
                            .collect::<String>()
                    ));
                }
            },
            b'@' if !in_class && pat.get(i).is_some_and(|c| is_word(c) || *c == b'{') => {
                return Err("array interpolation `@...` in a regex is not supported".into());
            }
            b'{' if !in_class && !is_quantifier(&pat[i..]) => out.push_str("\\{"),
            b'}' if !in_class => {
                // A `}` that closes a quantifier was copied with it.
                out.push_str("\\}");
            }
            b'{' if !in_class => {
                let end = pat[i..].iter().position(|&c| c == b'}').unwrap_or(0);
                out.push('{');
                if pat[i] == b',' {
                    out.push('0');
                }
                out.push_str(&String::from_utf8_lossy(&pat[i..=i + end]));
                i += end + 1;
            }
            b if b >= 0x80 => push_byte(&mut out, b),
            // In `x` mode Perl keeps blanks and `#` inside a class; the regex crate does not.
            b if in_class && (b.is_ascii_whitespace() || b == b'#') => push_byte(&mut out, b),
            b => {
                // Inside a class the regex crate gives `&&`, `--` and `~~` a meaning Perl lacks.
                if in_class && matches!(b, b'&' | b'~')
                    || (in_class && b == b'-' && pat.get(i) == Some(&b'-'))
                {
                    out.push('\\');
                }
                out.push(b as char)
            }
        }
    }
    RegexBuilder::new(&out)
        .unicode(false)
        .case_insensitive(icase)
        .ignore_whitespace(verbose)
        .build()
        .map_err(|e| {
            let msg = e.to_string();
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            format!(
                "regex not supported: {}",
                last.trim_start_matches("error: ")
            )
        })
}

/// Whether `{` starts a quantifier `{n}`, `{n,}`, `{n,m}` (else Perl takes it literally).
fn is_quantifier(rest: &[u8]) -> bool {
    let Some(end) = rest.iter().position(|&c| c == b'}') else {
        return false;
    };
    let body = &rest[..end];
    let mut parts = body.splitn(2, |&c| c == b',');
    let a = parts.next().unwrap_or_default();
    let b = parts.next();
    // `{n}`, `{n,}`, `{n,m}`, and Perl 5.34's `{,m}`.
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    match b {
        None => !a.is_empty() && digits(a),
        Some(b) => digits(a) && digits(b) && !(a.is_empty() && b.is_empty()),
    }
}

fn push_byte(out: &mut String, b: u8) {
    out.push_str(&format!("\\x{b:02X}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: &str, v: &[u8]) -> Vec<u8> {
        Program::parse(expr.as_bytes())
            .unwrap()
            .eval(
                v,
                &Ctx {
                    seq: 7,
                    slot: 2,
                    total: 9,
                    slots: 2,
                },
            )
            .0
            .into_owned()
    }

    #[test]
    fn substitutions() {
        assert_eq!(run("s/a/b/", b"aaa"), b"baa");
        assert_eq!(run("s/a/b/g", b"aaa"), b"bbb");
        assert_eq!(run("s:A:b:gi", b"aAa"), b"bbb");
        assert_eq!(run("s{a}{b}", b"xa"), b"xb");
        assert_eq!(run("s{a} {b}g", b"aa"), b"bb");
        assert_eq!(run(r"s/\.gz$//", b"x.gz"), b"x");
        assert_eq!(run(r"s/(a)(b)/\U$2$1\E-$&-\u$1x/", b"abab"), b"BA-ab-Axab");
        assert_eq!(run(r"s/ a /b/x", b"a"), b"b");
        assert_eq!(run(r"s/\//-/g", b"a/b/c"), b"a-b-c");
        assert_eq!(run(r"s/a{2}/x/", b"aaa"), b"xa");
        assert_eq!(run(r"s/\xff/x/", b"\xff"), b"x");
    }

    #[test]
    fn tr_and_functions() {
        assert_eq!(run("tr/a-c/A-C/", b"abcdz"), b"ABCdz");
        assert_eq!(run("y/ab//d", b"abcdz"), b"cdz");
        assert_eq!(run("tr/a-z/A/", b"abcdz"), b"AAAAA");
        assert_eq!(run(r#"$_ = ucfirst(lc($_)) . "x""#, b"HELLO"), b"Hellox");
        assert_eq!(run(r#"$_ = "pre$_"; $_ .= 'post'"#, b"a"), b"preapost");
        assert_eq!(run("$_ = uc", b"ab"), b"AB");
        assert_eq!(run("$_ = Q($_)", b"a b"), b"'a b'");
        assert_eq!(run("$_ = seq() . slot()", b""), b"72");
        assert_eq!(run("s/x/y/ || s/a/c/", b"ab"), b"cb");
    }

    /// Escapes mean the characters they stand for, as in Perl (differential fuzz with GNU).
    #[test]
    fn escapes_in_tr_strings_and_replacements() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            (r"tr/\x41//d", &b"ABA"[..], &b"B"[..]),
            (r"tr/\x00-\x1f//d", &b"hello world"[..], &b"hello world"[..]),
            (r"tr/\x00-\x1f//d", &b"a\tb\x1b"[..], &b"ab"[..]),
            (r"tr/\101\e\0/xyz/", &b"A\x1b\0"[..], &b"xyz"[..]),
            (r"tr/\x{61}-c/A-C/", &b"abcd"[..], &b"ABCd"[..]),
            (r"tr/\-\\/_/", &b"a-b\\"[..], &b"a_b_"[..]),
            (r"s/b/\101/", &b"abc"[..], &b"aAc"[..]),
            (
                r#"$_ = "\101\x42\x{43}\e\cA\o{104}""#,
                &b""[..],
                &b"ABC\x1b\x01D"[..],
            ),
            (r"s/(b)/\1\1/", &b"abc"[..], &b"abbc"[..]),
            (r"s/(b)/[\12]/", &b"abc"[..], &b"a[\n]c"[..]),
            (r"s/(b)/$10/", &b"abc"[..], &b"ac"[..]),
            (r"s/(b)/${1}0/", &b"abc"[..], &b"ab0c"[..]),
            (
                r"s/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/$11${10}/",
                &b"abcdefghijkl"[..],
                &b"kjl"[..],
            ),
        ];
        for &(expr, value, want) in cases {
            assert_eq!(run(expr, value), want, "{expr}");
        }
        let err = |e: &str| Program::parse(e.as_bytes()).unwrap_err();
        assert!(err(r#"$_ = "a$""#).contains("`$` at the end"));
        assert!(err(r"s/b/a$/").contains("`$` at the end"));
        assert!(err(r#"$_ = "\x{100}""#).contains("above 255"));
        assert!(err(r"tr/\400//d").contains("above 255"));
        assert!(err(r#"$_ = "\N{U+41}""#).contains("`\\N`"));
        assert!(err(r"tr/\Fa//d").contains("`\\F`"));
    }

    #[test]
    fn refusals_name_the_part() {
        let err = |e: &str| Program::parse(e.as_bytes()).unwrap_err();
        assert!(err(r#"$_ = join(",", split //)"#).contains("join"));
        assert!(err(r"s/(a)\1/b/").contains("backreference"));
        assert!(err(r"s/a(?=b)/c/").contains("look-around"));
        assert!(err(r"s/a/b/e").contains("e flag"));
        assert!(err(r"s/$x/b/").contains("variable"));
        assert!(err(r"print").contains("print"));
    }
}

#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    /// Bytes that Perl-like expressions are made of, so that random strings reach deep into the
    /// parser, and now and then any byte at all.
    fn perlish() -> impl Strategy<Value = Vec<u8>> {
        let atoms = prop_oneof![
            Just(b"s/".to_vec()),
            Just(b"tr/".to_vec()),
            Just(b"y{".to_vec()),
            Just(b"$_".to_vec()),
            Just(b"$$1".to_vec()),
            Just(b"$1".to_vec()),
            Just(b" = ".to_vec()),
            Just(b".=".to_vec()),
            Just(b"||".to_vec()),
            Just(b"uc(".to_vec()),
            Just(b"substr($_,".to_vec()),
            Just(b"Q(".to_vec()),
            Just(b"uq()".to_vec()),
            Just(b"\\U".to_vec()),
            Just(b"(?".to_vec()),
            Just(b"[:".to_vec()),
            Just(b"{2,".to_vec()),
            proptest::collection::vec(any::<u8>(), 1..3),
            "[-a-z0-9/\\\\()\\[\\]{}.*+?^$|\"';:,@#&~ ]{1,3}".prop_map(String::into_bytes),
        ];
        proptest::collection::vec(atoms, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Plain-text patterns take a path around the regex engine; it finds the same matches.
        #[test]
        fn plain_patterns_match_as_the_regex_does(
            pat in "[-ab.^$\\\\]{1,4}",
            value in "[-ab.^$\\\\\n]{0,8}",
            global in any::<bool>(),
        ) {
            let g = if global { "g" } else { "" };
            let fast = Program::parse(format!("s/{pat}/<&>/{g}").as_bytes());
            let slow = Program::parse(format!("s/(?:){pat}/<&>/{g}").as_bytes());
            if let (Ok(fast), Ok(slow)) = (fast, slow) {
                let ctx = Ctx { seq: 1, slot: 1, total: 1, slots: 1 };
                prop_assert_eq!(fast.eval(value.as_bytes(), &ctx).0, slow.eval(value.as_bytes(), &ctx).0);
            }
        }

        /// Any expression parses or is refused with a message; one that parses runs on any value.
        #[test]
        fn parser_never_panics(expr in perlish(), value in proptest::collection::vec(any::<u8>(), 0..12)) {
            if let Ok(p) = Program::parse(&expr) {
                let ctx = Ctx { seq: 1, slot: 1, total: 1, slots: 1 };
                let _ = p.eval(&value, &ctx);
            }
            let params = [value.clone(), b"3".to_vec()];
            if let Ok(p) = Program::parse_with(&expr, &params, true) {
                let ctx = Ctx { seq: 1, slot: 1, total: 0, slots: 0 };
                let _ = p.eval(&value, &ctx);
            }
        }
    }
}
