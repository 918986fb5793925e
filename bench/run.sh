#!/usr/bin/env bash
# bench/run.sh: benchmark forkpool against GNU parallel, rust-parallel, GNU
# xargs and a bare spawner, and write bench/RESULTS.md.
#
#   bench/run.sh            full run (about 20 minutes on 2 cores)
#   bench/run.sh --quick    scaled-down run (about a minute)
#
# Timing uses hyperfine, one hyperfine call per round with every tool in it,
# the order rotated each round, so the tools alternate.  Peak RSS comes from
# /usr/bin/time -v.  See --help for options and environment variables.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/run.sh [--quick] [--no-build] [--output FILE]

  --quick        scaled-down workloads, one round each (about a minute)
  --no-build     do not run `cargo build --release`; use the binary as it is
  --output FILE  where to write the report (default: bench/RESULTS.md)

Environment:
  FORKPOOL=/path  benchmark this binary as forkpool (no build), e.g. a
                  stand-in to check the plumbing before forkpool exists.

Peers: GNU parallel, hyperfine, GNU time and jq are installed with apt-get
when missing (as root); rust-parallel with `cargo install rust-parallel
--locked`.  A peer that cannot be found or installed is left out; so is
forkpool when it cannot be built, and the report says so.
EOF
}

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- options ---
QUICK=0
BUILD=1
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$REPO/bench
OUTPUT=$BENCH/RESULTS.md
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --no-build) BUILD=0 ;;
        --output)
            (($# >= 2)) || die "--output needs a file name"
            OUTPUT=$2
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done

# ------------------------------------------------------------------ sizes ---
# The targets are stated for the full sizes; --quick evaluates them on the
# scaled-down workloads, which is indicative only.
if ((QUICK)); then
    MODE_FLAG=" --quick"
    STARTUP_ROUNDS=3 STARTUP_RUNS=5
    OVERHEAD_SIZES=(1000) OVERHEAD_ROUNDS=(1)
    OUTPUT_JOBS=50 OUTPUT_ROUNDS=1
    STREAM_SECS=5
    STALL_JOBS=500 STALL_ROUNDS=1
    WIDE_J=250 WIDE_JOBS=500 WIDE_ROUNDS=1
    FLAGS_ROUNDS=1
    LONG_MB=20 SMALL_JOBS=250
    PIPE_MB=100 PIPE_ROUNDS=1 PERSIST_N=20000 SPAWN_N=500 PERL_JOBS=20000 REMOTE_JOBS=200 REMOTE_ROUNDS=1
    ROUND_LIMIT=300
else
    MODE_FLAG=""
    STARTUP_ROUNDS=10 STARTUP_RUNS=10
    OVERHEAD_SIZES=(5000 20000) OVERHEAD_ROUNDS=(5 3)
    OUTPUT_JOBS=200 OUTPUT_ROUNDS=5
    STREAM_SECS=30
    STALL_JOBS=2000 STALL_ROUNDS=3
    WIDE_J=1000 WIDE_JOBS=2000 WIDE_ROUNDS=3
    FLAGS_ROUNDS=5
    LONG_MB=100 SMALL_JOBS=1000
    PIPE_MB=500 PIPE_ROUNDS=3 PERSIST_N=100000 SPAWN_N=2000 PERL_JOBS=100000 REMOTE_JOBS=200 REMOTE_ROUNDS=3
    ROUND_LIMIT=1800
fi
TARGET_N=${OVERHEAD_SIZES[0]} # the "5,000 x true" workload (1,000 in --quick)
FLAGS_N=$TARGET_N
STALL_SLEEP=3

# -------------------------------------------------------------- temp dir ---
TMP=$(mktemp -d "${TMPDIR:-/tmp}/forkpool-bench.XXXXXX")
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
# hyperfine runs under `timeout` in its own process group, which a Ctrl-C at
# the terminal does not reach: pass the signal on.
CHILD=""
on_signal() {
    [[ -z $CHILD ]] || kill -TERM "$CHILD" 2>/dev/null || true
    echo "interrupted" >&2
    exit 130
}
trap on_signal INT TERM
IN=$TMP/in OUTD=$TMP/out RSSD=$TMP/rss
mkdir -p "$IN" "$OUTD" "$RSSD" "$TMP/cmds" "$TMP/data" "$TMP/json"
: >"$TMP/summary.tsv"
HFLOG=$TMP/hyperfine.log

# ---------------------------------------------------------- find the tools ---
ORIG_PATH="$PATH:${HOME:-/root}/.cargo/bin"
find_tool() { PATH=$ORIG_PATH command -v "$1" 2>/dev/null || true; }

missing=()
for t in parallel hyperfine jq; do [[ -n $(find_tool "$t") ]] || missing+=("$t"); done
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && [[ -n $(find_tool apt-get) ]]; then
        log "installing with apt-get: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || warn "apt-get update failed"
        apt-get install -y -qq "${missing[@]}" >&2 || warn "apt-get install failed"
    else
        warn "missing: ${missing[*]} (run as root to install them with apt-get)"
    fi
fi
HYPERFINE=$(find_tool hyperfine)
JQ=$(find_tool jq)
[[ -n $HYPERFINE ]] || die "hyperfine is required (apt-get install hyperfine)"
[[ -n $JQ ]] || die "jq is required (apt-get install jq)"
[[ -x /usr/bin/time ]] || die "GNU time is required at /usr/bin/time (apt-get install time)"

declare -A BIN=() # tool name -> absolute path
TOOLS=()          # tools that take part, forkpool first
NOTES=()          # lines for the report about tools left out

# forkpool: $FORKPOOL, or built here.
FORKPOOL_NOTE=""
if [[ -n ${FORKPOOL:-} ]]; then
    [[ -x $FORKPOOL ]] || die "FORKPOOL=$FORKPOOL is not an executable file"
    BIN[forkpool]=$FORKPOOL
    FORKPOOL_NOTE="FORKPOOL=$FORKPOOL given: not built by this script"
else
    built=1
    if ((BUILD)); then
        log "building forkpool: cargo build --release"
        if ! (cd "$REPO" && PATH=$ORIG_PATH cargo build --release >&2); then
            built=0
            warn "cargo build --release failed: benchmarking the peers only"
            NOTES+=("forkpool: \`cargo build --release\` failed, so forkpool was not benchmarked.")
        fi
    fi
    if ((built)) && [[ -x $REPO/target/release/forkpool ]]; then
        BIN[forkpool]=$REPO/target/release/forkpool
    elif ((built)); then
        warn "no $REPO/target/release/forkpool: benchmarking the peers only"
        NOTES+=("forkpool: no target/release/forkpool, so forkpool was not benchmarked.")
    fi
fi

if p=$(find_tool parallel) && [[ -n $p ]] && "$p" --version 2>/dev/null | grep -q 'GNU parallel'; then
    BIN[gnu-parallel]=$p
else
    warn "GNU parallel not found: left out"
    NOTES+=("GNU parallel: not found, left out.")
fi

p=$(find_tool rust-parallel)
if [[ -z $p ]] && [[ -n $(find_tool cargo) ]]; then
    log "installing rust-parallel: cargo install rust-parallel --locked"
    PATH=$ORIG_PATH cargo install rust-parallel --locked >&2 || warn "cargo install rust-parallel failed"
    p=$(find_tool rust-parallel)
fi
if [[ -n $p ]]; then
    BIN[rust-parallel]=$p
else
    warn "rust-parallel not found: left out"
    NOTES+=("rust-parallel: not found and could not be installed, left out.")
fi

if p=$(find_tool xargs) && [[ -n $p ]] && "$p" --version 2>/dev/null | grep -q 'GNU findutils'; then
    BIN[xargs]=$p
else
    warn "GNU xargs not found: left out"
    NOTES+=("xargs: GNU xargs not found, left out.")
fi

have() { [[ -n ${BIN[$1]:-} ]]; }
for t in forkpool gnu-parallel rust-parallel xargs; do
    if have "$t"; then TOOLS+=("$t"); fi
done

RUSTC=$(find_tool rustc)
if [[ -n $RUSTC ]] && "$RUSTC" -O -o "$TMP/bare_spawn" "$BENCH/bare_spawn.rs" >&2; then
    BIN[bare-spawn]=$TMP/bare_spawn
else
    warn "could not compile bench/bare_spawn.rs: no bare-spawner floor"
    NOTES+=("bare spawner: bench/bare_spawn.rs did not compile, left out.")
fi

((${#TOOLS[@]})) || die "no tool to benchmark"

# ------------------------------------------------------ pin the environment ---
# Every tool runs `true`, `cat`, `echo`, `sleep` from the same PATH, and GNU
# parallel (and forkpool, which follows it) run each job as one /bin/sh.
export PATH=/usr/bin:/bin
export PARALLEL_SHELL=/bin/sh SHELL=/bin/sh LC_ALL=C
unset PARALLEL
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # -j 1000 needs file handles

version_of() { # TOOL -> one line
    local v=""
    case $1 in
        forkpool) v=$("${BIN[forkpool]}" --version 2>&1 | head -n1) || true ;;
        gnu-parallel) v=$("${BIN[gnu-parallel]}" --version 2>/dev/null | head -n1) || true ;;
        rust-parallel) v=$("${BIN[rust-parallel]}" --version 2>&1 | head -n1) || true ;;
        xargs) v=$("${BIN[xargs]}" --version 2>/dev/null | head -n1) || true ;;
        bare-spawn) v="bench/bare_spawn.rs, $("$RUSTC" --version)" ;;
    esac
    printf '%s' "${v:-unknown}"
}

# --------------------------------------------------------------- inputs ---
log "preparing inputs in $TMP"
printf '1\n' >"$IN/one"
for n in "${OVERHEAD_SIZES[@]}"; do seq "$n" >"$IN/seq.$n"; done
head -c 1000000 /dev/zero >"$IN/mb"
yes "$IN/mb" | head -n "$OUTPUT_JOBS" >"$IN/mb.list" || true
seq $((STALL_JOBS + 1)) >"$IN/seq.stall"
# Job 1 sleeps, then every job prints exactly 100,000 bytes: its number,
# zero-padded, and a newline (printf is a dash builtin: one exec per job).
cat >"$IN/stall.sh" <<EOF
case \$1 in 1) sleep $STALL_SLEEP ;; esac
printf '%099999d\n' "\$1"
EOF
yes 1 | head -n "$WIDE_JOBS" >"$IN/wide" || true

# -------------------------------------------------------- command lines ---
# cmdline TOOL WORKLOAD: the shell command hyperfine times (nothing: n/a).
cmdline() {
    local t=$1 w=$2 b k=""
    b=$(printf '%q' "${BIN[$t]}")
    [[ $t == gnu-parallel ]] && b+=" --will-cite"
    case $w in
        startup) # run with hyperfine -N: no shell, so no stdin redirection
            case $t in
                xargs) echo "$b -a $IN/one -P2 -n1 true" ;;
                bare-spawn) echo "$b 1 true" ;;
                *) echo "$b -j2 true ::: 1" ;;
            esac
            ;;
        overhead-*)
            local n=${w#overhead-}
            case $t in
                xargs) echo "$b -P2 -n1 true < $IN/seq.$n" ;;
                bare-spawn) echo "$b $n true" ;;
                *) echo "$b -j2 true < $IN/seq.$n" ;;
            esac
            ;;
        output-grouped | output-keep) # xargs does not group output: n/a
            [[ $w == output-keep ]] && k="-k "
            case $t in
                xargs | bare-spawn) ;;
                *) echo "$b $k-j2 cat < $IN/mb.list | wc -c > $OUTD/$w.$t" ;;
            esac
            ;;
        stream)
            case $t in
                xargs) echo "$b -P2 -n1 echo" ;;
                bare-spawn) ;;
                *) echo "$b -j2 echo" ;;
            esac
            ;;
        stall) # xargs cannot keep order: n/a
            case $t in
                xargs | bare-spawn) ;;
                *) echo "/usr/bin/time -v -a -o $RSSD/stall.$t $b -k -j2 sh $IN/stall.sh < $IN/seq.stall > $OUTD/stall.$t" ;;
            esac
            ;;
        wide)
            case $t in
                xargs) echo "$b -P$WIDE_J -n1 sleep < $IN/wide" ;;
                bare-spawn) ;;
                *) echo "$b -j$WIDE_J sleep < $IN/wide" ;;
            esac
            ;;
    esac
}

# register WORKLOAD NAME CMD: add a command to a workload.
register() { printf '%s\t%s\n' "$2" "$3" >>"$TMP/cmds/$1.tsv"; }

# register_tools WORKLOAD TOOL...: register each available tool's command.
register_tools() {
    local w=$1 t c
    shift
    for t in "$@"; do
        have "$t" || continue
        c=$(cmdline "$t" "$w")
        [[ -n $c ]] && register "$w" "$t" "$c"
    done
    return 0
}

# bench WORKLOAD ROUNDS RUNS [hyperfine options]: time every registered
# command, ROUNDS hyperfine calls of RUNS runs each, the order rotated each
# round.  Appends "name<TAB>seconds<TAB>exit code" to $TMP/data/WORKLOAD.tsv.
bench() {
    local w=$1 rounds=$2 runs=$3 name cmd n r i json rc
    shift 3
    local -a names=() cmds=() args
    [[ -s $TMP/cmds/$w.tsv ]] || return 0
    while IFS=$'\t' read -r name cmd; do
        names+=("$name")
        cmds+=("$cmd")
    done <"$TMP/cmds/$w.tsv"
    n=${#names[@]}
    for ((r = 0; r < rounds; r++)); do
        args=()
        for ((i = 0; i < n; i++)); do
            args+=(-n "${names[(i + r) % n]}" "${cmds[(i + r) % n]}")
        done
        log "$w: round $((r + 1))/$rounds"
        json=$TMP/json/$w.$r.json
        timeout -k 10 "$ROUND_LIMIT" "$HYPERFINE" --style none -i --runs "$runs" "$@" \
            --export-json "$json" "${args[@]}" 2>>"$HFLOG" &
        CHILD=$!
        rc=0
        wait "$CHILD" || rc=$?
        CHILD=""
        if ((rc == 0)) && [[ -s $json ]]; then
            # shellcheck disable=SC2016 # jq variables, not shell ones
            "$JQ" -r '.results[] | .command as $c | range(0; .times | length) as $i
                | [$c, .times[$i], (.exit_codes[$i] // 0)] | @tsv' "$json" >>"$TMP/data/$w.tsv"
        else
            warn "$w: hyperfine exited $rc in round $((r + 1)) (124: timed out after ${ROUND_LIMIT}s); the end of its log:"
            tail -n 5 "$HFLOG" >&2 || true
        fi
    done
}

# ------------------------------------------------------------- workloads ---
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=""
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    BUSY="the 1-minute load average was ${LOAD_BEFORE%% *} on $(nproc) CPUs at the start: something else was running, so the figures are noisy"
    warn "$BUSY"
fi
STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
SECONDS=0

log "start-up: one job of true"
register_tools startup "${TOOLS[@]}" bare-spawn
bench startup "$STARTUP_ROUNDS" "$STARTUP_RUNS" -N --warmup 2

for idx in "${!OVERHEAD_SIZES[@]}"; do
    n=${OVERHEAD_SIZES[idx]}
    log "overhead: $n jobs of true"
    register_tools "overhead-$n" "${TOOLS[@]}" bare-spawn
    bench "overhead-$n" "${OVERHEAD_ROUNDS[idx]}" 1
done

for w in output-grouped output-keep; do
    log "$w: $OUTPUT_JOBS jobs of 1 MB | wc -c"
    register_tools "$w" "${TOOLS[@]}"
    bench "$w" "$OUTPUT_ROUNDS" 1 --warmup 1
done

log "streaming: seq 1000000 | TOOL echo, ${STREAM_SECS}s each"
for t in "${TOOLS[@]}"; do
    c=$(cmdline "$t" stream)
    [[ -n $c ]] || continue
    register stream "$t" "seq 1000000 | timeout $STREAM_SECS $c"
    log "stream: $t"
    rc=0
    sh -c "seq 1000000 | /usr/bin/time -v -o $RSSD/stream.$t timeout -k 5 $STREAM_SECS $c \
        > $OUTD/stream.$t 2> $OUTD/stream.$t.err" || rc=$?
    echo "$rc" >"$OUTD/stream.$t.rc"
done

log "keep-order stall: job 1 sleeps ${STALL_SLEEP}s, $STALL_JOBS jobs of 100 kB, -k"
register_tools stall "${TOOLS[@]}"
bench stall "$STALL_ROUNDS" 1

log "wide: -j$WIDE_J over $WIDE_JOBS x sleep 1"
register_tools wide "${TOOLS[@]}"
bench wide "$WIDE_ROUNDS" 1

if have forkpool; then
    log "--json and --joblog over $FLAGS_N jobs (forkpool only)"
    fp=$(printf '%q' "${BIN[forkpool]}")
    register flags "forkpool" "$fp -j2 true < $IN/seq.$FLAGS_N"
    register flags "forkpool --json" "$fp -j2 --json true < $IN/seq.$FLAGS_N"
    register flags "forkpool --joblog" "$fp -j2 --joblog $OUTD/joblog true < $IN/seq.$FLAGS_N"
    bench flags "$FLAGS_ROUNDS" 1

    log "--line-buffer on one ${LONG_MB} MB line, and grouped (forkpool only)"
    head -c "$((LONG_MB * 1000000))" /dev/zero | tr '\0' x >"$IN/longline"
    echo >>"$IN/longline"
    register longline "forkpool" "$fp cat ::: $IN/longline > /dev/null"
    register longline "forkpool --line-buffer" "$fp --line-buffer cat ::: $IN/longline > /dev/null"
    bench longline "$FLAGS_ROUNDS" 1 --warmup 1

    log "held output: $SMALL_JOBS jobs of 60 kB at once, --buffer-size 1M (forkpool only)"
    printf 'head -c 60000 /dev/zero; sleep 1\n' >"$IN/60k.sh"
    seq "$SMALL_JOBS" >"$IN/seq.small"
    register small "forkpool" "$fp -j$SMALL_JOBS --buffer-size 1M sh $IN/60k.sh < $IN/seq.small | wc -c"
    sh -c "/usr/bin/time -v -o $RSSD/small.forkpool $fp -j$SMALL_JOBS --buffer-size 1M sh $IN/60k.sh \
        < $IN/seq.small | wc -c > $OUTD/small.forkpool" 2>/dev/null || true
fi

if have forkpool; then
    # Issue 15: pipe mode on a text file of lines of 10-150 bytes, 10 MB blocks, -j2.
    log "pipe mode: ${PIPE_MB} MB of text, --block 10M -j2 wc -l"
    python3 -c "
import random, sys
random.seed(1)
pool = bytes(random.randint(32, 126) for _ in range(4000))
out = bytearray()
while len(out) < 40_000_000:
    o = random.randint(0, 3000)
    out += pool[o:o + random.randint(10, 150)] + b'\\n'
n = $PIPE_MB * 1_000_000 // len(out) + 1
with open('$IN/pipe.txt', 'wb') as f:
    for _ in range(n): f.write(out)
"
    truncate -s "$((PIPE_MB * 1000000))" "$IN/pipe.txt"
    printf '\n' >>"$IN/pipe.txt"
    fp=$(printf '%q' "${BIN[forkpool]}")
    register pipe "cat, wc -l" "cat $IN/pipe.txt | wc -l > $OUTD/pipe.cat"
    register pipe "forkpool --pipe" "/usr/bin/time -v -a -o $RSSD/pipe.forkpool $fp --pipe --block 10M -j2 wc -l < $IN/pipe.txt > $OUTD/pipe.forkpool"
    register pipe "forkpool --pipe -N 100000" "$fp --pipe -N 100000 -j2 wc -l < $IN/pipe.txt > /dev/null"
    register pipe "forkpool --pipepart" "$fp --pipepart -a $IN/pipe.txt --block 10M -j2 wc -l > $OUTD/pipepart.forkpool"
    have gnu-parallel && register pipe "gnu-parallel --pipe" "${BIN[gnu-parallel]} --will-cite --pipe --block 10M -j2 wc -l < $IN/pipe.txt > /dev/null"
    have gnu-parallel && register pipe "gnu-parallel --pipepart --block -1" "${BIN[gnu-parallel]} --will-cite --pipepart -a $IN/pipe.txt --block -1 -j2 wc -l > /dev/null"
    have rust-parallel && register pipe "rust-parallel --pipe" "${BIN[rust-parallel]} --pipe --block-size 10MiB -j2 wc -l < $IN/pipe.txt > /dev/null"
    bench pipe "$PIPE_ROUNDS" 1 --warmup 1

    # Issue 16: a Python worker per job against one per slot, and against multiprocessing.Pool.
    PY=$(find_tool python3)
    if [[ -n $PY ]]; then
        log "persistent workers: $SPAWN_N jobs one python3 each; $PERSIST_N through --persistent and Pool(2)"
        printf 'import sys\nfor l in sys.stdin:\n    print(l.strip().upper(), flush=True)\n' >"$IN/upper.py"
        printf 'import sys\nprint(sys.argv[1].upper())\n' >"$IN/upper1.py"
        printf 'import sys\nfrom multiprocessing import Pool\ndef f(l): return l.strip().upper()\nif __name__ == "__main__":\n    items = open(sys.argv[1]).readlines()\n    with Pool(2) as p:\n        for r in p.imap(f, items, chunksize=1): print(r)\n' >"$IN/pool.py"
        seq "$SPAWN_N" | sed 's/^/v/' >"$IN/items.spawn"
        seq "$PERSIST_N" | sed 's/^/v/' >"$IN/items.persist"
        register spawnpy "forkpool (python3 per job)" "$fp -j2 -k $PY $IN/upper1.py < $IN/items.spawn > /dev/null"
        register spawnpy "forkpool --persistent" "$fp --persistent -j2 -k $PY $IN/upper.py < $IN/items.spawn > /dev/null"
        bench spawnpy 1 1
        register persist "forkpool --persistent" "/usr/bin/time -f '%U %S' -a -o $RSSD/persist.cpu $fp --persistent -j2 -k $PY $IN/upper.py < $IN/items.persist > $OUTD/persist.forkpool"
        register persist "multiprocessing.Pool(2).imap" "$PY $IN/pool.py $IN/items.persist > $OUTD/persist.pool"
        bench persist "$PIPE_ROUNDS" 1
        # The workers' own CPU, to subtract: the same transformation in one process.
        /usr/bin/time -f '%U %S' -o "$RSSD/persist.alone" "$PY" "$IN/upper.py" <"$IN/items.persist" >/dev/null
    fi

    log "{= s/a/b/ =} over $PERL_JOBS --dry-run jobs (forkpool only)"
    for ((i = 1; i <= PERL_JOBS; i++)); do printf 'dir/a%d.gz\n' "$i"; done >"$IN/perl.in"
    register perl "forkpool" "$fp --dry-run echo {} < $IN/perl.in > /dev/null"
    register perl "forkpool {= s/a/b/ =}" "$fp --dry-run echo '{= s/a/b/ =}' < $IN/perl.in > /dev/null"
    bench perl "$FLAGS_ROUNDS" 1 --warmup 1
fi

# Remote hosts (issue 14): three throwaway sshd "hosts" on loopback from the
# test harness. The per-job cost over a multiplexed connection is compared with
# a plain loop of `ssh -o ControlPath=...` over an open master, one job at a
# time; 200 jobs over -S 2/h1,2/h2,2/h3 with GNU parallel's -S on the same hosts.
RCFG=""
if have forkpool && [[ -x /usr/sbin/sshd ]]; then
    log "remote: $REMOTE_JOBS jobs of true over three loopback sshd hosts"
    RCFG=$(JR_SSH_PORT=auto bash "$REPO/tests/support/ssh-harness.sh" start 2>>"$HFLOG" | tail -n 1) || RCFG=""
fi
if [[ -n $RCFG && -f $RCFG ]]; then
    seq "$REMOTE_JOBS" >"$IN/seq.remote"
    rssh="ssh -F $RCFG"
    rctl=$TMP/rctl
    $rssh -o ControlMaster=yes -o ControlPersist=1800 -o ControlPath="$rctl" -N -f h1
    register remote-1 "ssh loop" "for i in \$(seq $REMOTE_JOBS); do $rssh -n -o ControlPath=$rctl h1 true; done"
    register remote-1 "forkpool" "$fp --ssh '$rssh' -S 1/h1 true < $IN/seq.remote"
    bench remote-1 "$REMOTE_ROUNDS" 1 --warmup 1
    register remote-3 "forkpool" "$fp --ssh '$rssh' -S 2/h1,2/h2,2/h3 true < $IN/seq.remote"
    if have gnu-parallel; then
        register remote-3 "gnu-parallel" "$(printf '%q' "${BIN[gnu-parallel]}") --will-cite --ssh '$rssh' -S 2/h1,2/h2,2/h3 true < $IN/seq.remote"
    fi
    bench remote-3 "$REMOTE_ROUNDS" 1
    $rssh -o ControlPath="$rctl" -O exit h1 2>/dev/null || true
    bash "$REPO/tests/support/ssh-harness.sh" stop "$RCFG" 2>>"$HFLOG" || true
fi

ELAPSED=$SECONDS
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------ statistics ---
# stats WORKLOAD NAME: set S_MED S_MIN S_MAX (seconds), S_N (runs), S_FAIL.
stats() {
    local line
    line=$(awk -F'\t' -v n="$2" '$1 == n { print $2, $3 }' "$TMP/data/$1.tsv" 2>/dev/null |
        sort -g | awk '
            { t[NR] = $1; if ($2 != 0) f++ }
            END {
                if (NR == 0) exit
                m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                printf "%.6f %.6f %.6f %d %d\n", m, t[1], t[NR], NR, f
            }') || true
    read -r S_MED S_MIN S_MAX S_N S_FAIL <<<"$line" || true
}

# med WORKLOAD NAME: the median, or nothing if not run or any run failed.
med() {
    stats "$1" "$2"
    [[ -n $S_MED && $S_FAIL == 0 ]] && printf '%s' "$S_MED"
    return 0
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.4f", a / b }'; }
fmt_s() { awk -v s="$1" 'BEGIN { if (s == "") printf "—"; else if (s < 1) printf "%.1f ms", s * 1000; else if (s < 10) printf "%.3f s", s; else printf "%.2f s", s }'; }
fmt_x() { awk -v r="$1" 'BEGIN { if (r == "") printf "—"; else printf "%.2f×", r }'; }
fmt_mib() { awk -v k="$1" 'BEGIN { if (k == "") printf "—"; else printf "%.1f MiB", k / 1024 }'; }

# verdict VALUE OP LIMIT: "met", "**missed**", or "n/a" when VALUE is empty.
verdict() {
    if [[ -z $1 ]]; then
        printf 'n/a'
    elif awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }"; then
        printf 'met'
    else
        printf '**missed**'
    fi
}

# judge VALUE OP LIMIT WORKLOAD NAME...: the status of a target computed
# from the named tools' timings on WORKLOAD: a failed forkpool run misses
# it; a peer that is missing or failed leaves it unevaluated.
judge() {
    local v=$1 op=$2 lim=$3 w=$4 n
    shift 4
    if ! have forkpool; then
        printf '%s' "$NO_FP"
        return 0
    fi
    for n in "$@"; do
        [[ $n == forkpool* ]] || have "$n" || {
            printf 'n/a (no %s)' "$n"
            return 0
        }
        stats "$w" "$n"
        if [[ -z $S_N ]]; then
            printf 'n/a (%s not run)' "$n"
            return 0
        elif ((S_FAIL > 0)) && [[ $n == forkpool* ]]; then
            printf '**missed** (%s failed)' "$n"
            return 0
        elif ((S_FAIL > 0)); then
            printf 'n/a (%s failed)' "$n"
            return 0
        fi
    done
    verdict "$v" "$op" "$lim"
}

# summary WORKLOAD TARGET FIGURE STATUS: one line of the targets table.
summary() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$TMP/summary.tsv"; }

# peak RSS in KiB from a /usr/bin/time -v output file (max over appended runs)
max_rss() { [[ -s $1 ]] && awk -F': *' '/Maximum resident set size/ { if ($2 + 0 > m) m = $2 + 0 } END { if (m) print m }' "$1"; }

# timing_table WORKLOAD BASE [NAME TARGET STATUS]...: a markdown table of the
# workload's commands; BASE is the name the ratio column divides by.
timing_table() {
    local w=$1 base=$2 name cmd bm r cells target status
    shift 2
    declare -A tgt=() st=()
    while (($# >= 3)); do
        tgt[$1]=$2 st[$1]=$3
        shift 3
    done
    [[ -s $TMP/cmds/$w.tsv ]] || {
        echo "_Not run._"
        return 0
    }
    bm=$(med "$w" "$base")
    echo "| tool | median | min – max | runs | ÷ $base | target | status |"
    echo "|---|---|---|---|---|---|---|"
    while IFS=$'\t' read -r name cmd; do
        stats "$w" "$name"
        if [[ -z $S_N ]]; then
            cells="not run | — | —"
        elif ((S_FAIL > 0)); then
            cells="**failed** ($S_FAIL of $S_N runs exited non-zero) | $(fmt_s "$S_MIN") – $(fmt_s "$S_MAX") | $S_N"
        else
            cells="$(fmt_s "$S_MED") | $(fmt_s "$S_MIN") – $(fmt_s "$S_MAX") | $S_N"
        fi
        r=""
        [[ $name != "$base" && -n $S_MED && $S_FAIL == 0 ]] && r=$(ratio "$S_MED" "$bm")
        target=${tgt[$name]:-} status=${st[$name]:-}
        echo "| $name | $cells | $(fmt_x "$r") | $target | $status |"
    done <"$TMP/cmds/$w.tsv"
}

# commands_list WORKLOAD: the command lines, with the temp dir shown as $TMP.
commands_list() {
    local name cmd
    [[ -s $TMP/cmds/$1.tsv ]] || return 0
    echo
    echo "<details><summary>command lines</summary>"
    echo
    while IFS=$'\t' read -r name cmd; do
        printf -- "- %s: \`%s\`\n" "$name" "${cmd//"$TMP"/\$TMP}"
    done <"$TMP/cmds/$1.tsv"
    echo
    echo "</details>"
}

# ---------------------------------------------------------------- report ---
log "writing $OUTPUT"
NO_FP="n/a (no forkpool)"
REPORT=$TMP/report.md
{
    # Start-up.
    echo "## Start-up: one job of \`true\`"
    echo
    echo "hyperfine -N (no shell), $STARTUP_ROUNDS rounds × $STARTUP_RUNS runs after 2 warm-ups."
    echo
    fm=$(med startup forkpool) xm=$(med startup xargs)
    r=$(ratio "$fm" "$xm")
    s=$(judge "$r" "<=" 1 startup forkpool xargs)
    summary "start-up, 1 job" "forkpool no slower than xargs" "forkpool $(fmt_s "$fm"), xargs $(fmt_s "$xm")" "$s"
    timing_table startup forkpool forkpool "≤ xargs ($(fmt_x "$r") of xargs)" "$s"
    commands_list startup
    echo

    # Overhead.
    for n in "${OVERHEAD_SIZES[@]}"; do
        w=overhead-$n
        echo "## Overhead: $n jobs of \`true\`, input on stdin"
        echo
        fm=$(med "$w" forkpool)
        if [[ $n == "$TARGET_N" ]]; then
            args=()
            r=$(ratio "$fm" "$(med "$w" bare-spawn)")
            s=$(judge "$r" "<=" 1.15 "$w" forkpool bare-spawn)
            summary "$n × true" "forkpool ≤ 1.15× bare spawner" "$(fmt_x "$r")" "$s"
            args+=(forkpool "≤ 1.15× bare spawner ($(fmt_x "$r"))" "$s")
            for spec in rust-parallel:1.5 xargs:2 gnu-parallel:10; do
                t=${spec%:*} lim=${spec#*:}
                r=$(ratio "$(med "$w" "$t")" "$fm")
                s=$(judge "$r" ">=" "$lim" "$w" forkpool "$t")
                summary "$n × true" "forkpool ≥ ${lim}× faster than $t" "$(fmt_x "$r")" "$s"
                args+=("$t" "≥ ${lim}×" "$s")
            done
            timing_table "$w" forkpool "${args[@]}"
        else
            timing_table "$w" forkpool
        fi
        commands_list "$w"
        echo
    done

    # Output.
    for w in output-grouped output-keep; do
        if [[ $w == output-keep ]]; then label="with -k"; else label="grouped"; fi
        echo "## Output: $OUTPUT_JOBS jobs × 1 MB ($label), piped to \`wc -c\`"
        echo
        echo "Each job is \`cat\` of a 1,000,000-byte file. xargs is left out: it does not group output."
        echo
        fm=$(med "$w" forkpool)
        args=()
        for t in rust-parallel gnu-parallel; do
            r=$(ratio "$(med "$w" "$t")" "$fm")
            s=$(judge "$r" ">=" 1.5 "$w" forkpool "$t")
            summary "$OUTPUT_JOBS × 1 MB $label" "forkpool ≥ 1.5× faster than $t" "$(fmt_x "$r")" "$s"
            args+=("$t" "≥ 1.5×" "$s")
        done
        timing_table "$w" forkpool "${args[@]}"
        echo
        expect=$((OUTPUT_JOBS * 1000000))
        for t in "${TOOLS[@]}"; do
            [[ -s $OUTD/$w.$t ]] || continue
            got=$(tr -d ' ' <"$OUTD/$w.$t")
            if [[ $got == "$expect" ]]; then
                echo "- $t: output size right ($got bytes)."
            else
                echo "- $t: **output size wrong**: $got bytes, expected $expect."
            fi
        done
        commands_list "$w"
        echo
    done

    # Streaming.
    echo "## Streaming: \`seq 1000000 | TOOL echo\` for ${STREAM_SECS} s"
    echo
    echo "Jobs done = lines of output when \`timeout $STREAM_SECS\` stops the tool; peak RSS from \`/usr/bin/time -v timeout ...\` (largest of the tool, \`timeout\` and one job)."
    echo
    echo "| tool | jobs done | jobs/s | peak RSS | exit | target | status |"
    echo "|---|---|---|---|---|---|---|"
    best_peer=0 best_name=""
    for t in "${TOOLS[@]}"; do
        [[ -f $OUTD/stream.$t.rc && $t != forkpool ]] || continue
        d=$(wc -l <"$OUTD/stream.$t")
        ((d > best_peer)) && best_peer=$d best_name=$t
    done
    fp_rss="" fp_done=""
    if [[ -f $OUTD/stream.forkpool.rc ]]; then
        fp_rss=$(max_rss "$RSSD/stream.forkpool") || true
        fp_done=$(wc -l <"$OUTD/stream.forkpool")
    fi
    s_rss=$(verdict "$fp_rss" "<=" 4096)
    s_done=$(verdict "$fp_done" ">" "$best_peer")
    fp_rc=$(cat "$OUTD/stream.forkpool.rc" 2>/dev/null || echo 0)
    if [[ $fp_rc != 0 && $fp_rc != 124 ]]; then
        s_rss="**missed** (forkpool exited $fp_rc)" s_done=$s_rss
    fi
    have forkpool || { s_rss=$NO_FP s_done=$NO_FP; }
    summary "streaming 1M lines" "forkpool peak RSS ≤ 4 MiB" "$(fmt_mib "$fp_rss")" "$s_rss"
    summary "streaming 1M lines" "forkpool does more jobs than any peer" "forkpool ${fp_done:-—}, best peer ${best_name:-—} $best_peer" "$s_done"
    for t in "${TOOLS[@]}"; do
        [[ -f $OUTD/stream.$t.rc ]] || continue
        d=$(wc -l <"$OUTD/stream.$t")
        rss=$(max_rss "$RSSD/stream.$t") || true
        rc=$(cat "$OUTD/stream.$t.rc")
        case $rc in 124) rcs="124 (timed out, as expected)" ;; 0) rcs="0 (finished early)" ;; *) rcs="**$rc**" ;; esac
        target="" status=""
        [[ $t == forkpool ]] && target="RSS ≤ 4 MiB; most jobs done" status="RSS: $s_rss; jobs: $s_done"
        echo "| $t | $d | $(awk -v d="$d" -v s="$STREAM_SECS" 'BEGIN { printf "%.0f", d / s }') | $(fmt_mib "$rss") | $rcs | $target | $status |"
    done
    commands_list stream
    echo

    # Keep-order stall.
    echo "## Keep-order stall: job 1 sleeps ${STALL_SLEEP} s, $STALL_JOBS others print 100 kB each, \`-k\`"
    echo
    echo "Each job is \`sh stall.sh N\`: job 1 sleeps, then every job prints N zero-padded to 100,000 bytes. xargs is left out: it cannot keep order."
    echo
    echo "| tool | wall median | min – max | runs | ÷ forkpool | output in order | peak RSS | target | status |"
    echo "|---|---|---|---|---|---|---|---|---|"
    fm=$(med stall forkpool)
    limit=$(awk -v s="$STALL_SLEEP" 'BEGIN { print s * 1.1 }')
    for t in "${TOOLS[@]}"; do
        grep -q "^$t	" "$TMP/cmds/stall.tsv" 2>/dev/null || continue
        stats stall "$t"
        order="—"
        if [[ -s $OUTD/stall.$t ]]; then
            if sed 's/^0*//' "$OUTD/stall.$t" | cmp -s - "$IN/seq.stall" &&
                [[ $(wc -c <"$OUTD/stall.$t") == $(((STALL_JOBS + 1) * 100000)) ]]; then
                order=yes
            else
                order="**no**"
            fi
        fi
        rss=$(max_rss "$RSSD/stall.$t") || true
        r=""
        [[ $t != forkpool && -n $S_MED && $S_FAIL == 0 ]] && r=$(ratio "$S_MED" "$fm")
        wall="$(fmt_s "$S_MED")"
        [[ -n $S_FAIL && $S_FAIL != 0 ]] && wall="**failed**"
        target="" status=""
        if [[ $t == forkpool ]]; then
            s_wall=$(judge "$fm" "<=" "$limit" stall forkpool)
            if [[ $order == yes ]]; then s_order=met; else s_order="**missed**"; fi
            s_rss=$(verdict "$rss" "<" 65536)
            summary "keep-order stall" "wall within 10 % of ${STALL_SLEEP} s (≤ $(fmt_s "$limit"))" "$(fmt_s "$fm")" "$s_wall"
            summary "keep-order stall" "output in order" "$order" "$s_order"
            summary "keep-order stall" "peak RSS < 64 MiB" "$(fmt_mib "$rss")" "$s_rss"
            target="wall ≤ $(fmt_s "$limit"); in order; RSS < 64 MiB"
            status="wall: $s_wall; order: $s_order; RSS: $s_rss"
        fi
        echo "| $t | $wall | $(fmt_s "$S_MIN") – $(fmt_s "$S_MAX") | ${S_N:-0} | $(fmt_x "$r") | $order | $(fmt_mib "$rss") | $target | $status |"
    done
    if ! have forkpool; then
        for tg in "wall within 10 % of ${STALL_SLEEP} s" "output in order" "peak RSS < 64 MiB"; do
            summary "keep-order stall" "$tg" "—" "$NO_FP"
        done
    fi
    commands_list stall
    echo

    # Wide.
    echo "## Wide: \`-j $WIDE_J\` over $WIDE_JOBS × \`sleep 1\`"
    echo
    fm=$(med wide forkpool)
    s=$(judge "$fm" "<" 4 wide forkpool)
    summary "wide -j $WIDE_J × $WIDE_JOBS sleep 1" "forkpool < 4 s" "$(fmt_s "$fm")" "$s"
    timing_table wide forkpool forkpool "< 4 s" "$s"
    commands_list wide
    echo

    # --json / --joblog.
    echo "## \`--json\` and \`--joblog\`: $FLAGS_N jobs of \`true\` (forkpool only)"
    echo
    fm=$(med flags forkpool)
    args=()
    for f in --json --joblog; do
        r=$(ratio "$(med flags "forkpool $f")" "$fm")
        s=$(judge "$r" "<=" 1.10 flags forkpool "forkpool $f")
        summary "$FLAGS_N × true" "$f adds ≤ 10 %" "$(fmt_x "$r")" "$s"
        args+=("forkpool $f" "≤ 1.10×" "$s")
    done
    timing_table flags forkpool "${args[@]}"
    commands_list flags
    echo

    # Issue 17: a perl expression is compiled once, so evaluating it costs little per job.
    echo "## \`{= s/a/b/ =}\`: $PERL_JOBS jobs, \`--dry-run\` (forkpool only)"
    echo
    r=$(ratio "$(med perl "forkpool {= s/a/b/ =}")" "$(med perl forkpool)")
    s=$(judge "$r" "<=" 1.10 perl forkpool "forkpool {= s/a/b/ =}")
    summary "$PERL_JOBS × --dry-run" "{= s/a/b/ =} adds ≤ 10 %" "$(fmt_x "$r")" "$s"
    timing_table perl forkpool "forkpool {= s/a/b/ =}" "≤ 1.10×" "$s"
    commands_list perl
    echo

    # Issue 19: a long line with --line-buffer, and many jobs' held output under one budget.
    echo "## \`--line-buffer\` on one ${LONG_MB} MB line (forkpool only)"
    echo
    fm=$(med longline forkpool)
    r=$(ratio "$(med longline "forkpool --line-buffer")" "$fm")
    s=$(judge "$r" "<=" 2 longline forkpool "forkpool --line-buffer")
    summary "one ${LONG_MB} MB line" "--line-buffer within 2× of grouped" "$(fmt_x "$r")" "$s"
    timing_table longline forkpool "forkpool --line-buffer" "≤ 2× grouped" "$s"
    commands_list longline
    echo
    echo "## Held output: $SMALL_JOBS jobs of 60 kB at once, \`--buffer-size 1M\` (forkpool only)"
    echo
    rss=$(max_rss "$RSSD/small.forkpool") || true
    got=$(cat "$OUTD/small.forkpool" 2>/dev/null || true)
    s=$(verdict "$rss" "<" 16384)
    [[ $got == "$((SMALL_JOBS * 60000))" ]] || s="**missed** (output $got bytes)"
    have forkpool || s=$NO_FP
    summary "$SMALL_JOBS × 60 kB held" "peak RSS < 16 MiB" "$(fmt_mib "$rss")" "$s"
    echo "Peak RSS $(fmt_mib "$rss") (target < 16 MiB: $s); output $got bytes."
    commands_list small
    echo

    # Issue 15: pipe mode.
    echo "## Pipe mode: ${PIPE_MB} MB of text lines, \`--block 10M -j2 wc -l\`"
    echo
    fm=$(med pipe "forkpool --pipe")
    args=()
    r=$(ratio "$fm" "$(med pipe "cat, wc -l")")
    s=$(judge "$r" "<=" 2 pipe "forkpool --pipe")
    summary "--pipe ${PIPE_MB} MB" "forkpool --pipe within 2× of cat FILE, wc -l" "$(fmt_x "$r")" "$s"
    args+=("forkpool --pipe" "≤ 2× cat, wc -l ($(fmt_x "$r"))" "$s")
    r=$(ratio "$(med pipe "gnu-parallel --pipe")" "$fm")
    s=$(judge "$r" ">=" 5 pipe "forkpool --pipe")
    summary "--pipe ${PIPE_MB} MB" "forkpool --pipe ≥ 5× faster than GNU --pipe" "$(fmt_x "$r")" "$s"
    args+=("gnu-parallel --pipe" "≥ 5× slower than forkpool" "$s")
    r=$(ratio "$(med pipe "forkpool --pipe -N 100000")" "$fm")
    s=$(judge "$r" "<=" 1.5 pipe "forkpool --pipe" "forkpool --pipe -N 100000")
    summary "--pipe ${PIPE_MB} MB" "-N 100000 ≤ 1.5× --block" "$(fmt_x "$r")" "$s"
    args+=("forkpool --pipe -N 100000" "≤ 1.5× --block" "$s")
    r=$(ratio "$(med pipe "forkpool --pipepart")" "$(med pipe "gnu-parallel --pipepart --block -1")")
    s=$(judge "$r" "<=" 1 pipe "forkpool --pipepart")
    summary "--pipepart ${PIPE_MB} MB" "forkpool --pipepart no slower than GNU --pipepart --block -1" "$(fmt_x "$r")" "$s"
    args+=("forkpool --pipepart" "≤ GNU --pipepart --block -1" "$s")
    rss=$(max_rss "$RSSD/pipe.forkpool") || true
    s=$(verdict "$rss" "<=" "$(((4 * 10 + 8) * 1024))")
    [[ $(cat "$OUTD/pipe.forkpool" 2>/dev/null | awk '{ s += $1 } END { print s }') == $(wc -l <"$IN/pipe.txt" 2>/dev/null) ]] || s="**missed** (line count wrong)"
    have forkpool || s=$NO_FP
    summary "--pipe ${PIPE_MB} MB" "peak RSS ≤ (2 + 2) × 10 MB + 8 MiB" "$(fmt_mib "$rss")" "$s"
    timing_table pipe "forkpool --pipe" "${args[@]}"
    echo
    echo "forkpool --pipe peak RSS: $(fmt_mib "$rss") (target ≤ 48 MiB: $s)."
    commands_list pipe
    echo

    # Issue 16: persistent workers.
    echo "## Persistent workers: a Python worker that upper-cases lines, -j2 -k"
    echo
    r=$(ratio "$(med spawnpy "forkpool (python3 per job)")" "$(med spawnpy "forkpool --persistent")")
    s=$(judge "$r" ">=" 50 spawnpy "forkpool --persistent" "forkpool (python3 per job)")
    summary "$SPAWN_N Python jobs" "--persistent ≥ 50× the jobs/s of python3 per job" "$(fmt_x "$r")" "$s"
    timing_table spawnpy "forkpool --persistent" "forkpool (python3 per job)" "≥ 50× slower" "$s"
    commands_list spawnpy
    echo
    r=$(ratio "$(med persist "forkpool --persistent")" "$(med persist "multiprocessing.Pool(2).imap")")
    s=$(judge "$r" "<=" 2 persist "forkpool --persistent")
    cmp -s "$OUTD/persist.forkpool" "$OUTD/persist.pool" || s="**missed** (outputs differ)"
    summary "$PERSIST_N Python jobs" "--persistent within 2× of Pool(2).imap(chunksize=1)" "$(fmt_x "$r")" "$s"
    timing_table persist "forkpool --persistent" "forkpool --persistent" "≤ 2× Pool ($(fmt_x "$r"))" "$s"
    cpu=$(awk 'NR == FNR { t += $1 + $2; n++; next } { a = $1 + $2 } END { if (n) printf "%.1f", (t / n - a) / '"$PERSIST_N"' * 1e6 }' "$RSSD/persist.cpu" "$RSSD/persist.alone" 2>/dev/null || true)
    echo
    echo "forkpool's own CPU time per job: ${cpu:-—} µs (user + system of the whole run, less that of the same worker doing all $PERSIST_N items alone)."
    commands_list persist
    echo

    # Remote hosts.
    echo "## Remote hosts: $REMOTE_JOBS × \`true\` over loopback sshd hosts"
    echo
    if [[ -s $TMP/cmds/remote-1.tsv ]]; then
        r=$(ratio "$(med remote-1 forkpool)" "$(med remote-1 "ssh loop")")
        s=$(judge "$r" "<=" 1.5 remote-1 forkpool)
        summary "$REMOTE_JOBS × true on 1 host" "forkpool ≤ 1.5× an ssh loop over a master" "$(fmt_x "$r")" "$s"
        timing_table remote-1 "ssh loop" forkpool "≤ 1.5×" "$s"
        commands_list remote-1
        echo
        r=$(ratio "$(med remote-3 gnu-parallel)" "$(med remote-3 forkpool)")
        s=$(judge "$r" ">=" 3 remote-3 forkpool gnu-parallel)
        summary "$REMOTE_JOBS × true on 3 hosts" "GNU parallel -S ≥ 3× forkpool" "$(fmt_x "$r")" "$s"
        timing_table remote-3 forkpool gnu-parallel "≥ 3×" "$s"
        commands_list remote-3
    else
        echo "_Not run: no sshd (apt-get install openssh-server), or the harness did not start._"
    fi
    echo
} >"$REPORT"

{
    echo "# forkpool benchmark results"
    echo
    echo "Generated by \`bench/run.sh$MODE_FLAG\` on $STARTED in $((ELAPSED / 60)) min $((ELAPSED % 60)) s."
    if ((QUICK)); then
        echo
        echo "**Quick mode**: scaled-down workloads ($TARGET_N instead of 5,000 jobs, $OUTPUT_JOBS instead of 200 × 1 MB, $STALL_JOBS instead of 2,000 stall jobs, -j $WIDE_J × $WIDE_JOBS instead of -j 1000 × 2,000, ${STREAM_SECS} s streaming) and one round each: the targets below are indicative only."
    fi
    echo
    echo "## Machine"
    echo
    echo "- CPUs (nproc): $(nproc)"
    echo "- CPU model: $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- kernel: $(uname -srm)"
    echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- load average (1, 5, 15 min): $LOAD_BEFORE before, $LOAD_AFTER after"
    [[ -z $BUSY ]] || echo "- **warning**: $BUSY"
    echo "- environment: \`PATH=$PATH\`, \`PARALLEL_SHELL=$PARALLEL_SHELL\`, \`SHELL=$SHELL\`, \`ulimit -n\` $(ulimit -n)"
    echo
    echo "## Tools"
    echo
    for t in "${TOOLS[@]}" bare-spawn; do
        have "$t" || continue
        printf -- "- %s: %s (\`%s\`)\n" "$t" "$(version_of "$t")" "${BIN[$t]//"$TMP"/\$TMP}"
    done
    echo "- hyperfine: $("$HYPERFINE" --version)"
    [[ -n $FORKPOOL_NOTE ]] && echo "- note: $FORKPOOL_NOTE"
    for note in "${NOTES[@]}"; do echo "- note: $note"; done
    echo
    echo "Each timed workload runs as rounds of one hyperfine call with every tool in it, the order rotated each round, so the tools alternate; median and min – max are over all rounds. \"÷ forkpool\" is the tool's median divided by forkpool's: above 1 means forkpool is faster."
    echo
    echo "## Targets"
    echo
    echo "| workload | target | figure | status |"
    echo "|---|---|---|---|"
    while IFS=$'\t' read -r a b c d; do echo "| $a | $b | $c | $d |"; done <"$TMP/summary.tsv"
    echo
    echo "met: $(grep -c '	met$' "$TMP/summary.tsv" || true), missed: $(grep -c '	\*\*missed' "$TMP/summary.tsv" || true), not evaluated: $(grep -c '	n/a' "$TMP/summary.tsv" || true)"
    echo
    cat "$REPORT"
} >"$TMP/RESULTS.md"

mkdir -p "$(dirname "$OUTPUT")"
cp "$TMP/RESULTS.md" "$OUTPUT"
log "done in ${ELAPSED}s: $OUTPUT"
awk '/^## Targets/,/^met:/' "$OUTPUT" >&2
