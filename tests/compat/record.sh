#!/usr/bin/env bash
# Re-record compat cases from the real GNU parallel.
# Usage: tests/compat/record.sh [case-dir ...]   (default: every case under cases/)
# For each case: cd into the case dir, run `parallel` with the argv from `args`
# (one argument per line, literal bytes), stdin from `stdin` (or an empty pipe),
# and write raw stdout to `stdout` and the exit status to `status`.
# Each case is run twice; if the two runs differ a warning is printed
# (unless the case has a `sorted` marker and the sorted outputs agree).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PARALLEL_BIN=${PARALLEL_BIN:-parallel}
mkdir -p "$HOME/.parallel" && touch "$HOME/.parallel/will-cite"

run_case() { # $1 = case dir, $2 = output prefix
    local dir=$1 out=$2 st
    local -a argv=()
    mapfile -t argv < "$dir/args"
    (
        cd "$dir" || exit 99
        if [ -f stdin ]; then
            timeout 20 "$PARALLEL_BIN" "${argv[@]}" < stdin > "$out.stdout" 2> "$out.stderr"
        else
            printf '' | timeout 20 "$PARALLEL_BIN" "${argv[@]}" > "$out.stdout" 2> "$out.stderr"
        fi
        echo $? > "$out.status"
    )
}

if [ $# -eq 0 ]; then set -- "$here"/cases/*/; fi
tmp=$(mktemp -d)
rc=0
for d in "$@"; do
    d=${d%/}
    name=$(basename "$d")
    run_case "$d" "$tmp/a"
    run_case "$d" "$tmp/b"
    if ! cmp -s "$tmp/a.stdout" "$tmp/b.stdout" || ! cmp -s "$tmp/a.status" "$tmp/b.status"; then
        if [ -e "$d/sorted" ] && cmp -s <(LC_ALL=C sort "$tmp/a.stdout") <(LC_ALL=C sort "$tmp/b.stdout") \
             && cmp -s "$tmp/a.status" "$tmp/b.status"; then
            :
        else
            echo "NONDETERMINISTIC: $name" >&2
            rc=1
        fi
    fi
    cp "$tmp/a.stdout" "$d/stdout"
    cp "$tmp/a.status" "$d/status"
    # stderr is kept out of the corpus (not compared); set KEEP_STDERR=dir to inspect it
    if [ -n "${KEEP_STDERR:-}" ]; then mkdir -p "$KEEP_STDERR"; cp "$tmp/a.stderr" "$KEEP_STDERR/$name"; fi
done
rm -rf "$tmp"
exit $rc
