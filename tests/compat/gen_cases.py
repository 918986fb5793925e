#!/usr/bin/env python3
"""(Re)create the case inputs (args, stdin, input files, sorted marker) under cases/.
Outputs (stdout, status) are then produced by record.sh from the real GNU parallel.
Usage: python3 tests/compat/gen_cases.py && tests/compat/record.sh
"""
import os, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
cases = {}

def case(name, args, stdin=None, files=None, sorted=False):
    assert name not in cases, name
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        assert b"\n" not in a, (name, a)
    if isinstance(stdin, str):
        stdin = stdin.encode()
    cases[name] = dict(args=args, stdin=stdin, files=files or {}, sorted=sorted)

P = "printf '[%s]\\n' {}"          # shows each value intact, one per line
HOSTILE = ["a b", "it's", 'x"y', "$(echo hi)", "`echo hi`", "a;b", "*", "a\\b",
           "a\tb", "", "é", "-n", "~", "plain", "''", "'", "a  b ", "#x", "!x", "%", "a=b"]

# ---- input sources ----
case("colon-list-basic", ["-k", "echo", ":::", "a", "b", "c"])
case("colon-list-braces-in-word", ["-k", "echo", "x{}y", ":::", "a", "b"])
case("colon-list-no-values", ["echo", ":::"])
case("stdin-lines", ["-k", "echo"], stdin="a\nb\nc\n")
case("stdin-no-trailing-newline", ["-k", "echo"], stdin="a\nb")
case("stdin-empty-no-jobs", ["echo", "hi"], stdin="")
case("stdin-crlf-kept", ["-k", "--dry-run", "echo"], stdin="a\r\nb\r\n")
case("stdin-ignored-with-colon-source", ["-k", "echo", ":::", "a"], stdin="zzz\n")
case("stdin-spaces-one-arg", ["-k", P], stdin="a b  c\n d \n")
case("four-colon-file", ["-k", "echo", "::::", "in1"], files={"in1": "f1\nf2\nf3\n"})
case("four-colon-stdin", ["-k", "echo", "::::", "-"], stdin="s1\ns2\n")
case("four-colon-two-files-one-marker", ["-k", "echo", "::::", "in1", "in2"],
     files={"in1": "a\nb\n", "in2": "1\n2\n"})
case("a-option-stdin", ["-k", "-a", "-", "echo"], stdin="s1\ns2\n")
case("a-option-file", ["-k", "-a", "in1", "echo"], files={"in1": "f1\nf2\n"})
case("a-option-two-files", ["-k", "-a", "in1", "-a", "in2", "echo"],
     files={"in1": "a\nb\n", "in2": "1\n2\n"})
case("combine-two-sources", ["-k", "echo", ":::", "a", "b", ":::", "1", "2", "3"])
case("combine-three-sources", ["-k", "echo", ":::", "a", "b", ":::", "1", "2", ":::", "x", "y"])
case("combine-colon-and-file", ["-k", "echo", ":::", "a", "b", "::::", "in1"], files={"in1": "1\n2\n"})
case("combine-stdin-and-colon", ["-k", "echo", "::::", "-", ":::", "1", "2"], stdin="a\nb\n")
case("combine-positional", ["-k", "echo", "{2}-{1}", ":::", "a", "b", ":::", "1", "2"])
case("link-plus-equal", ["-k", "echo", ":::", "a", "b", "c", ":::+", "1", "2", "3"])
case("link-plus-shorter", ["-k", "echo", ":::", "a", "b", "c", ":::+", "1", "2"])
case("link-plus-longer", ["-k", "echo", ":::", "a", "b", ":::+", "1", "2", "3", "4"])
case("link-plus-files", ["-k", "echo", "::::", "in1", "::::+", "in2"],
     files={"in1": "a\nb\nc\n", "in2": "1\n2\n3\n"})
case("link-plus-then-cross", ["-k", "echo", ":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"])
case("link-plus-cross-then-link", ["-k", "echo", ":::", "a", "b", ":::", "1", "2", ":::+", "x", "y"])
case("link-option-equal", ["-k", "--link", "echo", ":::", "a", "b", "c", ":::", "1", "2", "3"])
case("link-option-wrap", ["-k", "--link", "echo", ":::", "a", "b", "c", "d", "e", ":::", "1", "2"])
case("link-option-wrap-three", ["-k", "--link", "echo", ":::", "a", "b", "c", ":::", "1", "2", ":::", "x"])
case("xapply-alias", ["-k", "--xapply", "echo", ":::", "a", "b", "c", ":::", "1", "2"])

# ---- empty lines / -r ----
case("empty-lines-kept", ["-k", "echo", "x{}y"], stdin="a\n\nb\n")
case("empty-lines-r", ["-k", "-r", "echo", "x{}y"], stdin="a\n\nb\n\n")
case("r-whitespace-only-lines", ["-k", "-r", P], stdin="a\n  \n\t\nb \n")
case("r-all-empty", ["-r", "echo", "hi"], stdin="\n\n \n")
case("empty-line-only", ["-k", "echo", "x{}y"], stdin="\n")
case("empty-colon-value", ["-k", "echo", "x{}y", ":::", "", "a"])
case("empty-colon-value-r", ["-k", "-r", "echo", "x{}y", ":::", "", "a", " "])

# ---- delimiters ----
case("null-delim", ["-k", "-0", P], stdin=b"a\nb\0c d\0")
case("null-delim-no-trailing", ["-k", "-0", P], stdin=b"a\0b")
case("null-long-option", ["-k", "--null", P], stdin=b"x\0y\0")
case("d-escape-newline", ["-k", "-d", "\\n", P], stdin="a\nb\n")
case("d-escape-tab", ["-k", "-d", "\\t", P], stdin="a\tb c\td\n")
case("d-escape-nul", ["-k", "-d", "\\0", P], stdin=b"a\0b\0")
case("d-escape-octal", ["-k", "-d", "\\101", P], stdin="xAyAz")
case("d-comma", ["-k", "-d", ",", P], stdin="a,b,c\n")
case("d-multi-char", ["-k", "-d", "ab", P], stdin="1ab2ab3a4")
case("d-dot-literal", ["-k", "-d", ".", P], stdin="x.y.z")
case("d-escape-cr-lf", ["-k", "-d", "\\r\\n", P], stdin="a\r\nb\nc\r\n")
case("d-with-colon-source", ["-k", "-d", ",", P, ":::", "a,b"])

# ---- colsep ----
case("colsep-comma", ["-k", "--colsep", ",", "echo", "{2}", "{1}"], stdin="a,b\nc,d\n")
case("colsep-tab-escape", ["-k", "--colsep", "\\t", "echo", "{2}", "{1}"], stdin="a\tb\nc\td\n")
case("colsep-regex-class", ["-k", "--colsep", "[,;]", "echo", "{1}", "{2}", "{3}"], stdin="a,b;c\n")
case("colsep-regex-plus", ["-k", "--colsep", " +", "echo", "{2}"], stdin="a   b  c\n")
case("colsep-braces-whole", ["-k", "--colsep", ",", P], stdin="a,b\nc,d\n")
case("colsep-no-replacement", ["-k", "--colsep", ",", "echo"], stdin="a,b\nc,d,e\n")
case("colsep-missing-column", ["-k", "--colsep", ",", "echo", "[{1}][{2}][{3}]"], stdin="a,b,c\nd\ne,f\n")
case("colsep-colon-source", ["-k", "--colsep", ",", "echo", "{2}", "{1}", ":::", "a,b", "c,d"])
case("colsep-two-sources", ["-k", "--colsep", ",", "echo", "{1}/{2}/{3}/{4}", ":::", "a,b", ":::", "c,d"])
case("colsep-dry-run-quoting", ["-k", "--dry-run", "--colsep", ",", "echo", "{2}", "{1}"], stdin="a b,c'd\n")
case("colsep-rpl-modifiers", ["-k", "--colsep", ",", "echo", "{1.}", "{2/}", "{2//}"], stdin="a.x,d/e.f\n")
case("colsep-empty-columns", ["-k", "--colsep", ",", "echo", "[{1}][{2}][{3}]"], stdin=",,c\n")

# ---- a replacement with no value renders as nothing, an empty value as '' ----
RAGGED = "a,b\nc\n"
case("novalue-colsep-word-dropped", ["-k", "--colsep", ",", "printf", "[%s]", "{1}", "{2}"], stdin=RAGGED)
case("novalue-colsep-dry-run", ["-k", "--dry-run", "--colsep", ",", "printf", "[%s]", "{1}", "{2}"], stdin=RAGGED)
case("novalue-colsep-direct-words", ["-k", "--colsep", ",", "printf", "%s,", "{1}", "{2}", "x{2}y", "{2}{2}"],
     stdin=RAGGED)
case("novalue-inside-word", ["-k", "--dry-run", "--colsep", ",", "echo", "x{2}y", "{1}{2}"], stdin=RAGGED)
case("novalue-modifiers", ["-k", "--dry-run", "--colsep", ",", "echo", "{2.}", "{2/}", "{2//}", "{2/.}"],
     stdin=RAGGED)
case("novalue-vs-empty-value", ["-k", "--dry-run", "--colsep", ",", "echo", "{1}", "{2}"], stdin="a,\nc\n\n")
case("novalue-empty-colon-value", ["-k", "printf", "%s,", "{1}", "{2}", ":::", "", "a"])
case("novalue-N2-last-group", ["-k", "-N2", "printf", "[%s]", "{1}", "{2}", ":::", "a", "b", "c"])
case("novalue-beyond-sources", ["-k", "printf", "%s,", "{1}", "{2}", "{3}", ":::", "a", "b", ":::", "c"])
case("novalue-from-end", ["-k", "--dry-run", "-N2", "echo", "{-1}", "{-2}", "{-3}", "{-4}", "{-5}",
                          ":::", "a", "b", "c"])
case("novalue-quote-option", ["-k", "-q", "--colsep", ",", "printf", "[%s]", "{1}", "{2}", "x{2}y"], stdin=RAGGED)
case("novalue-tagstring", ["-k", "--colsep", ",", "--tagstring", "<{2}>", "echo", "{1}"], stdin=RAGGED)
case("novalue-X-context", ["-k", "-j1", "--dry-run", "-X", "-N2", "echo", "{1}", "{3}", "x{3}y", "A{}{3}B",
                           ":::", "a", "b", "c"])
case("novalue-m-context", ["-k", "-j1", "-m", "-N2", "printf", "%s,", "{3}", "x{3}y", "A{}B", ":::", "a", "b", "c"])

# ---- header ----
case("header-colon-sources", ["-k", "--header", ":", "echo", "{a}-{b}", ":::", "a", "1", "2", ":::", "b", "x", "y"])
case("header-colsep-stdin", ["-k", "--header", ":", "--colsep", ",", "echo", "{age}:{name}"],
     stdin="name,age\nbob,3\namy,4\n")
case("header-stdin-no-colsep", ["-k", "--header", ":", "echo", "{h}"], stdin="h\nv1\nv2\n")
case("header-positional-too", ["-k", "--header", ":", "echo", "{1}={a}", ":::", "a", "1", "2"])
case("header-no-replacement", ["-k", "--header", ":", "echo", ":::", "a", "1", "2"])
case("header-rpl-modifier", ["-k", "--header", ":", "echo", "{f.}", "{f/}", ":::", "f", "d/x.txt"])

# ---- -E ----
case("eof-string-stdin", ["-k", "-E", "stop", "echo"], stdin="a\nb\nstop\nc\n")
case("eof-string-colon-source", ["-k", "-E", "b", "echo", ":::", "a", "b", "c"])
case("eof-string-not-whole-line", ["-k", "-E", "st", "echo"], stdin="a\nstop\nst \nst\nz\n")
case("eof-string-first-line", ["-k", "-E", "a", "echo", "hi"], stdin="a\nb\n")

# ---- -n/-N/-X/-m/--xargs/-s ----
case("n2-append", ["-k", "-n", "2", "echo", ":::", "a", "b", "c", "d", "e"])
case("n2-braces", ["-k", "-n", "2", "echo", "x{}y", ":::", "a", "b", "c"])
case("n2-positional", ["-k", "-n", "2", "echo", "{2}-{1}", ":::", "a", "b", "c"])
case("n2-dry-run-quoting", ["-k", "--dry-run", "-n", "2", "echo", "{}", ":::", "a b", "c", "d'e"])
case("N2-positional", ["-k", "-N", "2", "echo", "{1}-{2}", ":::", "a", "b", "c"])
case("N2-append", ["-k", "-N", "2", "echo", ":::", "a", "b", "c", "d", "e"])
case("N2-braces", ["-k", "-N", "2", "echo", "x{}y", ":::", "a", "b", "c"])
case("N0-no-args", ["-k", "-N0", "echo", "hi", ":::", "a", "b", "c"])
case("n2-two-sources", ["-k", "-n", "2", "echo", ":::", "a", "b", ":::", "1", "2"])
case("N3-stdin", ["-k", "-N3", "echo", "{3}{2}{1}"], stdin="a\nb\nc\nd\n")
case("X-basic", ["-j1", "-X", "echo", ":::", "a", "b", "c"])
case("X-context", ["-j1", "-X", "echo", "pre{}post", ":::", "a", "b", "c"])
case("X-context-two-words", ["-j1", "-X", "echo", "_{}_", "{.}.x", ":::", "a.c", "b.c"])
case("X-two-braces-one-word", ["-j1", "-X", "echo", "a{}b{}c", ":::", "1", "2"])
case("X-seq", ["-j1", "-X", "echo", "{#}", "{}", ":::", "a", "b"])
case("X-dry-run", ["-j1", "--dry-run", "-X", "echo", "pre{}post", ":::", "a b", "c"])
case("X-s-split", ["-j1", "-X", "-s", "20", "echo", ":::", "aaa", "bbb", "ccc", "ddd", "eee", "fff"])
case("X-j2-split", ["-k", "-j2", "-X", "echo", ":::", "a", "b", "c", "d", "e"])
case("m-context", ["-j1", "-m", "echo", "pre{}post", ":::", "a", "b", "c"])
case("m-basic", ["-j1", "-m", "echo", ":::", "a", "b", "c"])
case("m-s-split", ["-j1", "-m", "-s", "20", "echo", "x{}", ":::", "aaa", "bbb", "ccc", "ddd", "eee", "fff"])
case("xargs-basic", ["-j1", "--xargs", "echo", ":::", "a", "b", "c"])
case("xargs-s-split", ["-j1", "--xargs", "-s", "20", "echo", ":::", "aaa", "bbb", "ccc", "ddd", "eee", "fff"])
case("xargs-stdin", ["-j1", "--xargs", "echo"], stdin="a\nb\nc\n")
case("s-too-small", ["-k", "-s", "5", "echo", ":::", "abcdefgh"])
case("X-n2", ["-k", "-j1", "-X", "-n", "2", "echo", "_{}_", ":::", "a", "b", "c"])
case("X-positional-in-context-word", ["-k", "-j1", "-X", "-N2", "echo", "A{}{1}B", "C{}{-1}D", ":::", "a", "b", "c"])
case("X-two-sources-context-word", ["-k", "-j1", "-X", "echo", "A{}{2}B", ":::", "a", "b", ":::", "c", "d"])
case("L2-lines", ["-k", "-L", "2", "echo"], stdin="a\nb\nc\nd\ne\n")
case("L1-trailing-space-continues", ["-k", "-L", "1", "echo"], stdin="a \nb\nc\n")

# ---- replacement strings over tricky paths ----
RPL = "printf '[%s]\\n' {} {.} {/} {//} {/.}"
for nm, v in [("plain", "a"), ("multi-dot", "a.b.c"), ("abs", "/x/y.z"), ("trailing-slash", "dir/"),
              ("hidden", ".hidden"), ("dotted-dir", "a/b.c/d"), ("dot-slash", "./x"),
              ("root", "/"), ("dotdot", ".."), ("hidden-in-dir", "x/.y"), ("double-slash", "a//b.c")]:
    case("rpl-" + nm, ["-k", RPL, ":::", v])
case("rpl-empty-value", ["-k", RPL, ":::", ""])
case("rpl-seq-slot", ["-k", "-j1", "echo", "{#}", "{%}", "{}", ":::", "a", "b", "c"])
case("rpl-positional-mods", ["-k", "printf '[%s]\\n' {1} {2.} {-1} {1/} {1//} {1/.} {-2}", ":::", "/p/q.r", ":::", "s/t.u.v"])
case("rpl-positional-beyond", ["-k", "echo", "[{3}]", "[{99}]", ":::", "a", ":::", "b"])
case("rpl-positional-single-source", ["-k", "echo", "[{1}][{2}]", ":::", "a"])
case("rpl-negative-positional", ["-k", "echo", "{-1}{-2}{-3}", ":::", "a", ":::", "b", ":::", "c"])
case("rpl-I-string", ["-k", "-I", "XX", "echo", "XX-XX", "{}", ":::", "a", "b"])
case("rpl-I-modifiers", ["-k", "-I", "@", "echo", "@", "{.}", "{/}", ":::", "d/a.b"])
case("rpl-braces-appended-when-absent", ["-k", "echo", "x", ":::", "a b"])
case("rpl-appended-with-seq-only", ["-k", "echo", "{#}", ":::", "a", "b"])
case("rpl-braces-in-quotes", ["-k", "echo \"{}\" '{}'", ":::", "a b"])
case("rpl-seq-with-stdin", ["-k", "echo", "{#}:{}"], stdin="x\ny\n")

# ---- quoting: -q, no command ----
case("q-quotes-command", ["-k", "-q", "printf", "[%s]\\n", "{}", ":::", "a b", "c"])
case("q-dry-run", ["-k", "-q", "--dry-run", "printf", "%s x", "{}", ":::", "a b", "c"])
case("no-q-shell-interprets", ["-k", "echo", "{}", "|", "tr", "a", "b", ":::", "aaa"])
case("no-command-stdin", ["-k"], stdin="echo a\necho b; echo c\n")
case("no-command-colon", ["-k", ":::", "echo x", "printf '%s\\n' y"])
case("no-command-dry-run", ["-k", "--dry-run", ":::", "echo x", "echo 'y z'"])

# ---- hostile values ----
case("quote-dry-run-hostile", ["-k", "--dry-run", "echo", "{}", ":::"] + HOSTILE)
case("quote-executed-hostile", ["-k", P, ":::"] + HOSTILE)
case("quote-dry-run-newline-value", ["-k", "-0", "--dry-run", "echo"], stdin=b"a\nb\0")
case("quote-executed-newline-value", ["-k", "-0", P], stdin=b"a\nb\0c\n\0")
case("quote-dry-run-safe-chars", ["-k", "--dry-run", "echo", ":::", "a-b_c.d+e/f", "A9", "-", "x@y", "a,b", "a:b"])
case("quote-dry-run-quotes", ["-k", "--dry-run", "echo", ":::", "'", "''", "a'b'c", "\"", "'\"'"])
case("quote-dry-run-utf8", ["-k", "--dry-run", "echo", ":::", "é", "日本", "aé"])
case("invalid-utf8-stdin-dry-run", ["-k", "--dry-run", "echo"], stdin=b"\xff\xfe\na\xc3\n")
case("invalid-utf8-stdin-executed", ["-k", P], stdin=b"\xff\xfe\na\xc3\n")
case("quote-in-context", ["-k", "--dry-run", "echo", "pre{}post", "x{.}", ":::", "a b.c"])
case("quote-positional-dry-run", ["-k", "--dry-run", "echo", "{1}{2}", ":::", "a b", ":::", "$x"])

# ---- ordering, tag, verbose ----
case("k-ordering-sleep", ["-k", "-j3", "sleep {}; echo {}", ":::", "0.3", "0.1", "0.2"])
case("unordered-sleep-sorted", ["-j3", "sleep {}; echo {}", ":::", "0.3", "0.1", "0.2"], sorted=True)
case("j1-order", ["-j1", "echo", ":::", "c", "a", "b"])
case("j2-k-order", ["-j2", "-k", "sleep 0.{}; echo {}", ":::", "3", "1", "2"])
case("output-grouped", ["-k", "-j2", "printf 'x{}\\n'; sleep 0.1; printf 'y{}\\n'", ":::", "1", "2"])
case("tag-basic", ["-k", "--tag", "echo", ":::", "a", "b"])
case("tag-two-sources", ["-k", "--tag", "echo", ":::", "a", "b", ":::", "1", "2"])
case("tag-multiline", ["-k", "--tag", "printf 'l1\\nl2\\n'; echo", ":::", "a"])
case("tag-no-trailing-newline", ["-k", "--tag", "printf", "'x\\ny'", ":::", "a"])
case("tag-hostile-value", ["-k", "--tag", "echo", "hi", ":::", "a b", "c'd", ""])
case("tagstring-rpl", ["-k", "--tagstring", "<{#}:{.}>", "echo", ":::", "a.x", "b.y"])
case("tagstring-positional", ["-k", "--tagstring", "{2}/{1}", "echo", ":::", "a", ":::", "1", "2"])
case("tag-colsep", ["-k", "--tag", "--colsep", ",", "echo", "{2}"], stdin="a,b\n")
case("tag-n2", ["-k", "--tag", "-n", "2", "echo", ":::", "a", "b", "c"])
case("verbose-basic", ["-k", "-v", "echo", ":::", "a", "b c"])
case("verbose-X", ["-j1", "-v", "-X", "echo", "p{}", ":::", "a", "b"])
case("verbose-tag", ["-k", "-v", "--tag", "echo", ":::", "a"])
case("verbose-twice", ["-k", "-vv", "echo", ":::", "a"])
case("t-stderr-only", ["-k", "-t", "echo", ":::", "a", "b"])
case("dry-run-multi-source", ["-k", "--dry-run", "echo", "{1}", "{2}", ":::", "a", "b", ":::", "1 2", "3"])
case("dry-run-X-multi-source", ["-j1", "--dry-run", "-X", "echo", ":::", "a", "b", ":::", "1", "2"])
case("dry-run-verbose", ["-k", "--dry-run", "-v", "echo", ":::", "a"])
case("dry-run-tag", ["-k", "--dry-run", "--tag", "echo", ":::", "a", "b"])
case("dry-run-unordered-sorted", ["--dry-run", "echo", ":::", "a", "b", "c", "d"], sorted=True)

# ---- exit statuses ----
case("exit-all-ok", ["-k", "true", ":::", "a", "b"])
case("exit-count-failed", ["-k", "-j1", "exit {}", ":::", "0", "1", "0", "1", "1"])
case("exit-3-single", ["true {}; exit 3", ":::", "a"])
case("exit-3-two-jobs", ["-k", "true {}; exit 3", ":::", "a", "b"])
case("exit-100-failures", ["false", "::::", "in1"], files={"in1": "".join("%d\n" % i for i in range(100))})
case("exit-101-failures", ["false", "::::", "in1"], files={"in1": "".join("%d\n" % i for i in range(101))})
case("exit-105-failures", ["false", "::::", "in1"], files={"in1": "".join("%d\n" % i for i in range(105))})
case("exit-command-not-found", ["-k", "nonexistent_cmd_forkpool_xyz", ":::", "a"])
case("exit-command-not-found-output", ["-k", "echo before; nonexistent_cmd_forkpool_xyz; echo after {}", ":::", "a"])
case("exit-failed-output-still-printed", ["-k", "echo {}; exit 2", ":::", "a", "b"])
case("halt-now-fail-1", ["-j1", "--halt", "now,fail=1", "echo {}; exit {}", ":::", "0", "2", "0"])
case("halt-soon-fail-1", ["-j1", "--halt", "soon,fail=1", "echo {}; exit {}", ":::", "0", "3", "0"])
case("bad-option-j-abc", ["-j", "abc", "echo", ":::", "a"])
case("bad-option-unknown", ["--no-such-option-xyz", "echo", ":::", "a"])
case("missing-four-colon-file", ["-k", "echo", "::::", "no-such-file"])
case("missing-a-file", ["-k", "-a", "no-such-file", "echo"])
case("exit-dry-run-status", ["--dry-run", "false", ":::", "a"])

# ---- added after first review ----
case("X-j3-split", ["-k", "-j3", "-X", "echo", ":::", "a", "b", "c", "d", "e", "f", "g"])
case("X-j2-dry-run-split", ["-k", "-j2", "--dry-run", "-X", "echo", ":::", "a", "b", "c", "d", "e"])
case("m-j2-split", ["-k", "-j2", "-m", "echo", ":::", "a", "b", "c", "d", "e"])
case("xargs-j2-no-split", ["-k", "-j2", "--xargs", "echo", ":::", "a", "b", "c", "d", "e"])
case("n3-j2", ["-k", "-j2", "-n3", "echo", ":::", "a", "b", "c", "d", "e", "f", "g"])
case("n2-seq", ["-k", "-n2", "echo", "{#}:{}", ":::", "a", "b", "c"])
case("halt-command-not-found", ["--halt", "now,fail=1", "nonexistent_cmd_forkpool_xyz", ":::", "a"])
case("colsep-dry-run-braces", ["-k", "--dry-run", "--colsep", ",", "echo", "{}"], stdin="a b,c\n")
case("N2-dry-run", ["-k", "--dry-run", "-N2", "echo", "x{}y", ":::", "a", "b c", "d"])
case("template-empty-arg", ["-k", "--dry-run", "echo", "", "{}", ":::", "a"])
case("template-double-space", ["-k", "--dry-run", "echo", "x  y", ":::", "1"])
case("template-double-space-executed", ["-k", "printf '[%s]\\n'", "x  y", ":::", "1"])
case("multi-source-braces-dry-run", ["-k", "--dry-run", "echo", "{}", ":::", "a b", ":::", "c"])
case("multi-source-braces-context", ["-k", "echo", "x{}y", ":::", "a", ":::", "b"])
case("tag-X", ["-j1", "--tag", "-X", "echo", ":::", "a", "b"])
case("q-dry-run-quote-value", ["-k", "-q", "--dry-run", "echo", "{}", ":::", "a'b"])
case("option-abbreviation", ["-k", "--tagst", "T", "echo", ":::", "a"])
case("option-ambiguous-shell", ["--shell", "echo", ":::", "a"])
case("dash-dash-values", ["-k", P, ":::", "--", "-v", "--tag"])
case("colon-values-look-like-options", ["-k", "echo", "x", ":::", "-k", "-j"])
case("tag-empty-output", ["-k", "--tag", "true", ":::", "a"])
case("verbose-empty-output", ["-k", "-v", "true", ":::", "a"])
case("eof-string-empty-disabled", ["-k", "-E", "", "echo", "x{}y", ":::", "a", "", "b"])
case("eof-string-file", ["-k", "-E", "b", "echo", "::::", "in1"], files={"in1": "a\nb\nc\n"})
case("four-colon-directory", ["-k", "echo", "::::", "."])
case("s-boundary-fits", ["-j1", "-X", "-s", "21", "echo", ":::", "aaa", "bbb", "ccc", "ddd", "eee", "fff"])
case("s-counts-quoted-length", ["-j1", "-X", "-s", "20", "--dry-run", "echo", ":::", "a b", "bbb", "ccc", "ddd", "eee", "fff"])
case("s-single-exact-limit", ["-s", "14", "echo", ":::", "abcdefgh"])
case("s-single-over-limit", ["-s", "13", "echo", ":::", "abcdefgh"])
case("halt-fail-percent-of-all-jobs-not-reached", ["-j1", "--halt", "soon,fail=20%", "echo {}; exit {}", ":::", "3", "0", "0", "0", "0", "0"])
case("halt-fail-percent-of-all-jobs-reached", ["-j1", "--halt", "soon,fail=20%", "echo {}; exit {}", ":::", "3", "3", "0", "0", "0", "0"])
case("halt-fail-percent-status-rounds-up", ["-j1", "--halt", "soon,fail=90%", "exit {}", ":::", "3", "0", "0"])
case("halt-now-fail-percent-not-reached", ["-j1", "--halt", "now,fail=50%", "echo {}; exit {}", ":::", "0", "3", "5", "0", "0", "0"])
case("halt-success-percent", ["-j1", "--halt", "soon,success=50%", "echo {}; exit {}", ":::", "0", "3", "0", "0", "0", "0"])
case("halt-fail-percent-files", ["-j1", "--halt", "soon,fail=20%", "echo {}; exit {}", "::::", "in1"], files={"in1": "3\n0\n0\n0\n0\n0\n"})
case("tagstring-empty-is-no-tag", ["-k", "--tagstring", "", "echo", ":::", "a", "b"])
case("tagstring-empty-with-tag", ["-k", "--tag", "--tagstring", "", "echo", ":::", "a", "b"])
case("keep-order-line-buffer-verbose", ["-k", "-v", "--line-buffer", "-j3", "echo a{}; sleep 0.{}; echo b{}", ":::", "3", "1", "2"])
case("keep-order-line-buffer-verbose-turn-mid-run", ["-k", "-v", "--line-buffer", "-j3", "echo a{}; sleep 0.{}; echo b{}", ":::", "2", "1", "3"])
case("keep-order-line-buffer-verbose-tag", ["-k", "-v", "--tag", "--line-buffer", "-j3", "sleep 0.{}; echo {}", ":::", "3", "1", "2"])

# ---- --trim and --colsep's implied trim (issue 13) ----
case("colsep-trims-columns", ["-k", "--colsep", ",", "echo", "[{1}]", "[{2}]"], stdin=" a , b \n\t c\t,d\n")
case("trim-n-with-colsep", ["-k", "--trim", "n", "--colsep", ",", "echo", "[{1}]", "[{2}]"], stdin=" a , b \n")
case("trim-l-with-colsep", ["-k", "--trim", "l", "--colsep", ",", "echo", "[{1}]", "[{2}]"], stdin=" a , b \n")
case("trim-r-with-colsep", ["-k", "--trim", "r", "--colsep", ",", "echo", "[{1}]", "[{2}]"], stdin=" a , b \n")
case("trim-lr-whole-value", ["-k", "--trim", "lr", "echo", "[{}]", ":::", " a , b ", "\tc "])
case("trim-rl-stdin", ["-k", "--trim", "rl", "echo", "[{}]"], stdin=" a \n b\n")
case("trim-bad-value", ["--trim", "x", "echo", ":::", "a"])

# ---- a replacement string in the first word: values are the command, unquoted (issue 13) ----
case("leading-replacement-is-command", ["-k", "{}", ":::", "echo a b", "echo c  d"])
case("leading-replacement-then-words", ["-k", "--dry-run", "{}", "x", "{}", ":::", "echo a b"])
case("leading-positional-replacement", ["-k", "{2}", "{1}", ":::", "x  y", ":::", "echo c"])
case("leading-replacement-glued", ["-k", "--dry-run", "{.}x", ":::", "echo a.b c.d"])
case("leading-assignment-still-quoted", ["-k", "--dry-run", "V={}", "echo", "{}", ":::", "a b"])
case("leading-space-still-quoted", ["-k", "--dry-run", " {}", "x", ":::", "echo a b"])
case("leading-replacement-with-q", ["-k", "--dry-run", "-q", "{}", "x", ":::", "echo a b"])
case("leading-seq-unquotes-all", ["-k", "--dry-run", "{#}", "{}", ":::", "a b"])

# ---- ::::+ links every file after it; a first linked source has nothing to link to (issue 13) ----
case("link-plus-files-first", ["-k", "echo", "{1}", "-", "{2}", "::::+", "in1", "in2"],
     files={"in1": "1\n2\n3\n", "in2": "a\nb\n"})
case("link-plus-files-first-then-cross", ["-k", "echo", "::::+", "in1", "in2", ":::", "p", "q"],
     files={"in1": "1\n2\n3\n", "in2": "a\nb\n"})
case("link-plus-files-all-linked", ["-k", "echo", "::::", "in1", "::::+", "in2", "in3"],
     files={"in1": "1\n2\n3\n", "in2": "a\nb\n", "in3": "x\ny\nz\nw\n"})
case("link-plus-colon-first", ["-k", "echo", ":::+", "a", "b", ":::", "c", "d"])

# ---- --colsep with a regex that matches the empty string: Perl's split (issue 19) ----
case("colsep-empty-match-alternation", ["-k", "--colsep", "|", "echo", "[{1}]", "[{2}]", "[{3}]"], stdin="a|b\nxy\n")
case("colsep-empty-match-star", ["-k", "--colsep", " *", "echo", "[{1}]", "[{2}]", "[{3}]"], stdin="a  b\n c\n")
case("colsep-trailing-empty-columns", ["-k", "--colsep", ",", "echo", "[{1}]", "[{2}]", "[{3}]", "[{4}]"], stdin="a,b,,\n,a\n")

# ---- pipe mode (issue 15) ----
SEQ20 = "".join("%d\n" % i for i in range(1, 21))
SEQ100 = "".join("%d\n" % i for i in range(1, 101))
BLK = "echo ---; cat"
case("pipe-N3", ["--pipe", "-N3", "-k", BLK], stdin=SEQ20)
case("pipe-N1-no-trailing-newline", ["--pipe", "-N2", "-k", BLK], stdin="1\n2\n3")
case("pipe-L3", ["--pipe", "-L3", "-k", BLK], stdin=SEQ20)
case("pipe-L3-N2", ["--pipe", "-L3", "-N2", "-k", BLK], stdin=SEQ20)
case("pipe-L2-block", ["--pipe", "-L2", "--block", "10", "-k", BLK], stdin=SEQ20)
case("pipe-block-20", ["--pipe", "--block", "20", "-k", BLK], stdin=SEQ100)
case("pipe-block-suffix", ["--pipe", "--block", "1k", "-k", BLK], stdin=SEQ100 * 10)
case("pipe-recstart", ["--pipe", "-N1", "--recstart", ">", "-k", BLK], stdin=">a\nx\n>b\ny\n>c\nz\n")
case("pipe-recstart-N2", ["--pipe", "-N2", "--recstart", ">", "-k", BLK], stdin=">a\nx\n>b\ny\n>c\nz\n")
case("pipe-recend-comma", ["--pipe", "--recend", ",", "-N2", "-k", BLK], stdin="a,b,c,d,e")
case("pipe-recstart-recend", ["--pipe", "--recstart", ">", "--recend", "\\n", "-N1", "-k", BLK], stdin="x\n>a\ny\n>b\nz>c\n>d\n")
case("pipe-regexp", ["--pipe", "--regexp", "--recend", "[0-9]+", "-N1", "-k", BLK], stdin="a1b22c333d")
case("pipe-rrs-recend", ["--pipe", "--recend", ",", "--rrs", "-N2", "-k", BLK], stdin="a,b,c,d,e")
case("pipe-rrs-recstart", ["--pipe", "-N1", "--recstart", ">", "--rrs", "-k", BLK], stdin=">a\nx\n>b\ny\n")
case("pipe-header-1", ["--pipe", "--header", "1", "-N3", "-k", BLK], stdin="".join("%d\n" % i for i in range(1, 11)))
case("pipe-header-regex", ["--pipe", "--header", ".*\\n.*\\n", "-N3", "-k", BLK], stdin="".join("%d\n" % i for i in range(1, 11)))
case("pipe-cat", ["--pipe", "-N2", "--cat", "-k", "echo {#} ---; cat {}"], stdin="1\n2\n3\n4\n5\n")
case("pipe-fifo", ["--pipe", "-N2", "--fifo", "-k", "echo {#} ---; cat {}"], stdin="1\n2\n3\n4\n5\n")
case("pipe-seq-slot-empty-braces", ["--pipe", "-N2", "-j1", "-k", "echo {#} {%} [{}]; cat"], stdin="1\n2\n3\n4\n5\n")
case("pipe-empty-input", ["--pipe", "-k", BLK], stdin="")
case("pipe-exit-status", ["--pipe", "-N1", "-k", "cat; exit 3"], stdin="a\nb\n")
case("pipe-head-ignores-rest", ["--pipe", "-k", "head -1"], stdin=SEQ100 * 100)
case("pipe-L2-rrs", ["--pipe", "-k", "-L", "2", "-N", "1", "--rrs", BLK], stdin=">a\nxx\n>b\nyy\n")
case("pipepart-whole", ["--pipepart", "-a", "in1", "-k", "cat"], files={"in1": SEQ100})
FASTA = "a\nb\n>x\ny\n>z\n>w\nq\n"
case("pipepart-block-5", ["--pipepart", "-a", "in1", "--block", "5", "-k", "wc -l"], files={"in1": "".join("%d\n" % i for i in range(1, 11))})
case("pipepart-block-20", ["--pipepart", "-a", "in1", "--block", "20", "-k", BLK], files={"in1": SEQ100})
case("pipepart-default-block", ["--pipepart", "-a", "in1", "-j2", "-k", "wc -l"], files={"in1": SEQ100 * 10})
case("pipepart-block-minus-1", ["--pipepart", "-a", "in1", "-j3", "--block", "-1", "-k", "wc -l"], files={"in1": SEQ100})
case("pipepart-recstart", ["--pipepart", "-a", "in1", "--block", "3", "--recstart", ">", "-k", BLK], files={"in1": FASTA})
case("pipepart-recstart-recend", ["--pipepart", "-a", "in1", "--block", "3", "--recstart", ">", "--recend", "\\n", "-k", BLK], files={"in1": FASTA})
case("pipepart-regexp", ["--pipepart", "-a", "in1", "--block", "10", "--regexp", "--recend", "\\n", "-k", "wc -c"], files={"in1": SEQ100})
case("pipepart-header", ["--pipepart", "-a", "in1", "--header", "2", "--block", "3", "-k", BLK], files={"in1": "h1\nh2\n1\n2\n3\n4\n5\n6\n"})
case("pipepart-recend-crlf", ["--pipepart", "-a", "in1", "--block", "4", "--recend", "\\r\\n", "-k", BLK], files={"in1": "ab\r\ncd\r\ne\rf\r\ng\r\n"})
case("pipe-long-record-grows-block", ["--pipe", "--block", "3", "-k", BLK], stdin="aaaaa\nb\nc\nd\n")
case("pipe-long-records-grow-block-for-good", ["--pipe", "--block", "4", "-k", BLK], stdin="a\n" + "x" * 30 + "\nb\nc\nd\ne\nf\ng\nh\n")
case("pipe-header-lines-missing", ["--pipe", "--block", "2", "--header", "2", "-k", BLK], stdin="abc")
case("pipe-header-regex-non-utf8", ["--pipe", "--block", "4", "--header", ".*\\n", "-k", BLK], stdin=b"hh\x80\nx\ny\n")
case("pipe-regexp-non-utf8", ["--pipe", "-N1", "--regexp", "--recend", "X.Y", "-k", BLK], stdin=b"1X\x80Y2X\x80Y3")
case("pipe-round-robin-a-block-per-job", ["--pipe", "-j2", "--block", "2", "--round-robin", "-k", "wc -c"], stdin="a\nb\n")
case("pipe-dry-run", ["--pipe", "-N3", "--dry-run", "echo {#} {}"], stdin=SEQ20)
case("pipe-dry-run-cat", ["--pipe", "-N3", "--cat", "--dry-run", "cat {}"], stdin="1\n2\n3\n4\n")
case("pipepart-dry-run", ["--pipepart", "-a", "in1", "--block", "50", "--dry-run", "wc -l"], files={"in1": SEQ100})
case("pipe-cat-parallel-tmp", ["--pipe", "-N2", "--cat", "-k", "test \"$PARALLEL_TMP\" = {} && cat $PARALLEL_TMP"], stdin="1\n2\n3\n")

# ---- {= perl expression =}, --rpl, --plus (issue 17) ----
PV = ["a b.tar.gz", "it's", 'x"y', "dir/sub.d/file.txt", "", "0", "$(echo hi)", "Mixed Case", "a/b"]
case("perl-subst", ["-k", "echo", "{= s/a/b/ =}"] + [":::"] + PV)
case("perl-subst-merged-words", ["-k", "echo", "{=", "s/\\.gz$//", "=}", ":::", "x.gz", "y.gz.gz", "z"])
case("perl-subst-g-i", ["-k", "echo", "{= s/A/_/gi =}", ":::", "aAbA", "Banana"])
case("perl-subst-x", ["-k", "echo", "{= s/ (\\d+) \\. (\\d+) /$2.$1/x =}", "{= s/[ #]/_/gx =}", ":::", "v1.22", "a b#c"])
case("perl-subst-delims", ["-k", "echo", "{= s:/:_:g =}", "{= s{a}{A}g =}", "{= s|b|B| =}", "{= s#\\.#,# =}", ":::", "a/b.c/a"])
case("perl-subst-captures", ["-k", "echo", "{= s/(\\w+)_R(\\d)/$1_R${2}x-$&/ =}", ":::", "s1_R1.fq", "nomatch"])
case("perl-subst-case", ["-k", "echo", "{= s/(\\w+) (\\w+)/\\U$1\\E \\u$2 \\L$&/ =}", ":::", "hello world", "ONE TWO"])
case("perl-subst-anchors-classes", ["-k", "echo", "{= s/^[^.]*\\.//; s/[[:digit:]]+$/N/ =}", ":::", "a.b.c12", "x.y", "plain"])
case("perl-subst-quantifiers", ["-k", "echo", "{= s/a{2,3}/X/g; s/b+?/Y/ =}", ":::", "aaaaab", "abbb"])
case("perl-subst-empty-matches", ["-k", "echo", "{= s/b*/-/g =}", "{= s/x*/-/g =}", "{= s/^/>/g =}", "{= s/$/</g =}", ":::", "abc", ""])
case("perl-tr", ["-k", "echo", "{= tr/a-z/A-Z/ =}", "{= y/abc/xyz/ =}", "{= tr/a-c//d =}", "{= tr/a-y/b/ =}", ":::", "abcdef", "Hello, it's"])
case("perl-substr", ["-k", "echo", "{= $_ = substr($_,1) =}", "{= $_ = substr($_,-3,2) =}", "{= $_ = substr($_,1,-1) =}", "{= substr($_,0,1) = \"\" =}", "{= $_ ||= 'empty' =}", ":::", "abcdef", "b", "", "0"])
case("perl-case-functions", ["-k", "echo", "{= $_ = uc($_) =}", "{= $_ = lc =}", "{= $_ = ucfirst($_) =}", "{= $_ = lcfirst $_ =}", ":::", "mIxEd wOrds", "ABC"])
case("perl-append-prepend", ["-k", "echo", "{= $_ .= \".bak\" =}", "{= $_ = \"pre_$_\" =}", "{= $_ = 'lit$_' =}", "{= $_ = \"<\" . uc($_) . '>' =}", ":::", "a b", "it's"])
case("perl-statements", ["-k", "echo", "{= s/\\.txt$//; $_ .= \".csv\"; tr/a-z/A-Z/ =}", ":::", "x.txt", "y.dat"])
case("perl-bare-expressions", ["-k", "echo", "{= uc =}", "{=1 ucfirst lc $_ =}", "{= \"x\" || s/a/b/ =}", "{= s/a{,2}/x/ =}", ":::", "aaab", "Ab"])
case("perl-or-chain", ["-k", "echo", "{= s/x/X/ || s/y/Y/ =}", ":::", "xy", "yy", "zz"])
case("perl-positional", ["-k", "echo", "{=2 s/a/b/ =}", "{=1 s/x/y/ =}", "{=-1 $_ = uc($_) =}", ":::", "x", "xa", ":::", "aa", "ab"])
case("perl-uq-and-q", ["-k", "echo", "{= uq() =}", "{= $_ = Q($_) =}", "{= $_ = Q($_); uq =}", ":::", "a b", "it's"])
case("perl-dry-run-quoting", ["-k", "--dry-run", "echo", "{= s/a/ /g =}", "pre{= s/a/b/ =}post", ":::", "a", "a'b", "a\"b", "$a", "", "ab*"])
case("perl-with-x", ["-k", "-j1", "-X", "echo", "{= s/a/b/ =}", "x{= $_ = uc =}", ":::", "a", "ab", "c"])
case("perl-with-n2", ["-k", "-N2", "echo", "{= s/a/b/ =}", "{=2 s/c/d/ =}", ":::", "a", "c", "ac"])
case("perl-seq-slot", ["-k", "-j1", "echo", "{= $_ = seq() . \"-\" . slot() =}", ":::", "a", "b"])
case("perl-newline-values", ["-k", "-0", P.replace("{}", "{= s/\\n/N/ =}")], stdin=b"a\nb\0c\n\nd\0x\n\0")
case("perl-newline-values-dry-run", ["-k", "-0", "--dry-run", "echo", "{= s/a/A/ =}"], stdin=b"a\nb\0\na\0")
case("perl-invalid-utf8", ["-k", P.replace("{}", "{= s/\\xff/<ff>/; s/b/B/ =}"), "::::", "in1"], files={"in1": b"a\xffb\nc\xfe\xfd\n\xc3\xa9b\n"})
case("perl-invalid-utf8-dry-run", ["-k", "--dry-run", "echo", "{= tr/a-z/A-Z/ =}", "::::", "in1"], files={"in1": b"a\xffb\nc\xfe\n"})
case("perl-tagstring", ["-k", "--tagstring", "{= s/a/T/ =}", "echo", "x", ":::", "a", "ba"])
case("rpl-simple", ["-k", "--rpl", "{x} s/a/b/g", "echo", "{x}", "{2x}", "{-1 x}", ":::", "a", ":::", "aa"])
case("rpl-group", ["-k", "--rpl", "{r(\\d+)} s/a/$$1/", "echo", "{r3}", "{2r45}", ":::", "a", ":::", "aa"])
case("rpl-two-groups", ["-k", "--rpl", "{s/(\\w+)/(\\w+)} s/$$1/$$2/g", "echo", "{s/o/0}", ":::", "foo boo"])
case("rpl-not-braced", ["-k", "--rpl", ".. s/\\.[^.]*$//", "echo", "..", "x..", ":::", "a.b.c"])
case("rpl-overrides-builtin", ["-k", "--rpl", "{.} s/\\..*//", "echo", "{.}", ":::", "a.b.c"])
PP = ["dir/sub/a.b.c.d", "x.tar.gz", "plain", "/abs/f.e", "d.x/file", "a b/c d.e f"]
case("plus-paths", ["-k", "--plus", "echo", "{+/}", "{+.}", "{+..}", "{+...}", "{..}", "{...}", "{/..}", "{/...}", ":::"] + PP)
case("plus-paths-positional", ["-k", "--plus", "echo", "{1+/}", "{2..}", "{-1/...}", "{1+..}", ":::", "a/b.c.d", ":::", "x/y.z.w"])
case("plus-slot-pad", ["-k", "-j10", "--plus", "echo", "{0%}", "{0#}", ":::", "a"])
case("plus-count-pad", ["-k", "-j3", "--plus", "echo", "{##}", "{0#}", ":::", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"])
case("plus-count-pad-1000", ["-k", "-j1", "--plus", "echo", "{0#}", "::::", "in1"], files={"in1": "".join("%d\n" % i for i in range(1, 1001))})
case("plus-default", ["-k", "--plus", "echo", "[{:-none}]", "[{1:-x y}]", ":::", "", "0", "val", "a b"])
case("plus-substr", ["-k", "--plus", "echo", "{:2}", "{:1:3}", "{:0:2}", "{:10}", ":::", "abcdef", "xy", ""])
case("plus-prefix-suffix", ["-k", "--plus", "echo", "{#a*}", "{##a*}", "{%b*}", "{%%b*}", "{#*.}", "{%.*}", "{##*.}", "{%%.*}", ":::", "aabcbb", "x.y.z"])
case("plus-prefix-suffix-regex", ["-k", "--plus", "echo", "{#.*/}", "{##.*/}", "{%.[a-z]+}", "{%%\\..*}", ":::", "a/b/c.tar.gz"])
case("plus-replace", ["-k", "--plus", "echo", "{/a/x}", "{//a/x}", "{/#a/x}", "{/%a/x}", "{/a/}", ":::", "aAbaA", "banana"])
case("plus-case", ["-k", "--plus", "echo", "{^a}", "{^^a}", "{,A}", "{,,A}", "{^[a-c]}", ":::", "aAbaA", "AbAba"])
case("plus-choose-k", ["-k", "--plus", "echo", "{#}", "{choose_k}", ":::", "a", "b", "c", ":::", "a", "b", "c"])
case("plus-choose-k-three", ["-k", "--plus", "echo", "{choose_k}", ":::", "1", "2", "3", "4", ":::", "1", "2", "3", "4", ":::", "1", "2", "3", "4"])
case("plus-uniq", ["-k", "--plus", "echo", "{#}", "{uniq}", ":::", "a", "b", "c", ":::", "a", "b"])
case("plus-slot", ["-k", "-j1", "--plus", "echo", "{slot}", ":::", "a", "b"])
case("plus-quoted-values", ["-k", "--plus", "--dry-run", "echo", "{+.}", "{..}", "{:-d f}", "{/ /_}", ":::", "it's a.b.c", "$x y.z", ""])
case("plus-keeps-builtins", ["-k", "--plus", "echo", "{}", "{.}", "{/}", "{//}", "{/.}", "{#}", "{%}", ":::", "d/a.b"])

# ---- command construction (differential fuzz against GNU parallel) ----
case("L2-context-replace", ["-j1", "-L", "2", "--dry-run", "echo", "x{}y", ":::", "a", "b", "c"])
case("L2-m-no-context", ["-j1", "-m", "-L", "2", "--dry-run", "echo", "x{}y", ":::", "a", "b", "c"])
case("max-lines-no-context", ["-j1", "--max-lines", "2", "--dry-run", "echo", "x{}y", ":::", "a", "b", "c"])
case("max-lines-then-L", ["-j1", "--max-lines", "1", "-L", "2", "--dry-run", "echo", "x{}y", ":::", "a", "b", "c"])
case("perl-tr-hex-escape", ["-k", "echo", "{= tr/\\x41//d =}", "{= tr/\\x00-\\x1f//d =}", "{= tr/\\101/x/ =}", ":::", "ABA", "hello world"])
case("perl-octal-escape", ["-k", "echo", "{= s/b/\\101/ =}", "{= $_ .= \"\\101\\x42\\x{43}\" =}", ":::", "abc"])
case("perl-backslash-group", ["-k", "echo", "{= s/(b)/\\1\\1/ =}", "{= s/(b)/$10/ =}", "{= s/(b)/${1}0/ =}", ":::", "abc"])
case("perl-group-eleven", ["-k", "echo", "{= s/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/$11$10/ =}", ":::", "abcdefghijkl"])
case("perl-final-dollar", ["-k", "echo", "{= $_ = \"a$\" =}", ":::", "abc"])
V16 = list("abcdefghijklmnop")
case("X-s-repeated-braces", ["-j1", "-X", "-s", "20", "--dry-run", "echo", "{}", "{}", ":::"] + list("abcdef"))
case("m-s-repeated-braces", ["-j1", "-m", "-s", "20", "--dry-run", "echo", "{}", "{}", ":::"] + V16)
case("X-s-context-word", ["-j1", "-X", "-s", "20", "--dry-run", "echo", "{}", "x{}y", ":::", "aa", "b", "ccc", "d", "ee", "f", "g", "h"])
case("X-s-tag-counts", ["-j1", "-X", "-s", "30", "--tag", "--dry-run", "echo", ":::"] + V16)
case("X-s-tag-same-as-command", ["-j1", "-X", "-s", "20", "--tag", "--dry-run", "echo", "{}", ":::"] + V16)
case("X-s-tagstring-seq-counts", ["-j1", "-X", "-s", "20", "--tagstring", "{#}", "--dry-run", "echo", "{}", ":::"] + V16)
case("X-s-tagstring-plain", ["-j1", "-X", "-s", "20", "--tagstring", "XX", "--dry-run", "echo", ":::"] + V16)
case("m-s-tag-counts", ["-j1", "-m", "-s", "20", "--tag", "--dry-run", "echo", ":::"] + V16)
case("q-two-sources-two-words", ["-j1", "-q", "-k", "printf", "[%s]\\n", "{}", ":::", "a", "b c", ":::", "d"])
case("q-X-word-per-value", ["-j1", "-q", "-k", "-X", "printf", "[%s]\\n", "x{}y", ":::", "a", "b c", "d"])
case("q-m-word-breaks", ["-j1", "-q", "-k", "-m", "printf", "[%s]\\n", "x{}y{}", ":::", "a", "b c"])
case("q-xargs-word-breaks", ["-j1", "-q", "-k", "--xargs", "printf", "[%s]\\n", "x{}y", ":::", "a", "b c"])
case("q-N2-word-per-value", ["-j1", "-q", "-k", "-N2", "printf", "[%s]\\n", "x{}y{1}", ":::", "a", "b c", "d"])
case("q-colsep-columns", ["-j1", "-q", "-k", "--colsep", ",", "printf", "[%s]\\n", "x{}y", ":::", "a,b c", "d"])
case("q-dry-run-values", ["-j1", "-q", "--dry-run", "printf", "%s\\n", "{}", "x{}y", ":::", "a", ":::", "b c"])
case("tagstring-escapes", ["-k", "--tagstring", "a\\tb|\\101|\\1|\\8|\\1234|\\x41|\\\\t", "echo", ":::", "x"])
case("tagstring-X-per-value", ["-j1", "-X", "--tagstring", "<{}>", "--dry-run", "echo", "x{}y", ":::", "a", "b"])
case("tagstring-N2-per-value", ["-j1", "-k", "-N2", "--tagstring", "<{}> {1}", "echo", "x{}y", ":::", "a", "b", "c"])
case("tagstring-m-not-per-value", ["-j1", "-m", "--tagstring", "<{}>", "--dry-run", "echo", "x{}y", ":::", "a", "b"])
case("tag-ignores-I", ["-k", "--tag", "-I", "XX", "echo", "XX", ":::", "a", "b"])
case("tagstring-follows-I", ["-k", "--tagstring", "<XX>{}", "-I", "XX", "echo", "XX", ":::", "a"])
case("q-xargs-fill", ["-j1", "-q", "--xargs", "--dry-run", "printf", "{.}", ":::", "a", "h", "b c", "gg", "d.e"])
case("m-s-tag-quoted-values", ["-j1", "-m", "-s", "30", "--tag", "--dry-run", "echo", ":::", "a b", "c'd"] + list("efghijklmnop"))

def main():
    # Remove cases no longer listed; in kept cases remove inputs but keep the
    # recorded stdout/status (record.sh overwrites them).
    os.makedirs(CASES, exist_ok=True)
    for name in os.listdir(CASES):
        d = os.path.join(CASES, name)
        if name not in cases:
            shutil.rmtree(d)
        else:
            for fn in os.listdir(d):
                if fn not in ("stdout", "status"):
                    os.remove(os.path.join(d, fn))
    for name, c in cases.items():
        d = os.path.join(CASES, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "args"), "wb") as f:
            for a in c["args"]:
                f.write((a.encode() if isinstance(a, str) else a) + b"\n")
        if c["stdin"] is not None:
            with open(os.path.join(d, "stdin"), "wb") as f:
                f.write(c["stdin"])
        for fn, data in c["files"].items():
            with open(os.path.join(d, fn), "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
        if c["sorted"]:
            open(os.path.join(d, "sorted"), "wb").close()
    print(len(cases), "cases written to", CASES)

if __name__ == "__main__":
    main()
