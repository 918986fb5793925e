#!/usr/bin/env bash
# Copied from the project's shared ../shared/ssh-harness.sh (the forkpool team's own harness, unchanged
# below this note) so that tests/remote.rs and CI have it inside the repository.
# ssh-harness.sh - throwaway OpenSSH "hosts" on loopback for tests and CI.
#
# Starts one sshd per fake host (default 127.0.0.1, 127.0.0.2, 127.0.0.3, all
# on port 2222; one process per host so that a single host can be crashed), each
# from its own config in a fresh temp dir that also holds a host key (shared by
# the fake hosts), a user key, an authorized_keys file, a pre-filled known_hosts
# and a client config for `ssh -F`.  No config or key under ~/.ssh or /etc/ssh is
# used, and nothing is written there.  Traffic goes only to the loopback
# addresses listed in JR_SSH_HOSTS.  Needs: openssh-server, openssh-client, bash,
# coreutils, procps (ps) or /proc; iproute2 + util-linux only for netns-run.
#
# Usage:
#   ssh-harness.sh install              # root: apt-get install openssh-server (if sshd is missing)
#   CFG=$(ssh-harness.sh start)         # prints the client config path (last stdout line)
#   ssh -F "$CFG" h2 'echo $JR_TEST_HOST $SSH_CONNECTION'    # or: ssh -F "$CFG" 127.0.0.2 ...
#   ssh-harness.sh status  "$CFG"       # DIR or the config path are both accepted
#   ssh-harness.sh crash   "$CFG" h2    # SIGKILL h2's sshd and its sessions (lost host)
#   ssh-harness.sh freeze  "$CFG" h2    # SIGSTOP them (hung host / partition); `thaw` = SIGCONT
#   ssh-harness.sh restart "$CFG" h2    # start h2's sshd again after a crash
#   ssh-harness.sh bench   "$CFG" [N]   # time N fresh connections and N multiplexed commands
#   ssh-harness.sh netns-run CMD...     # root: run CMD in a private net namespace (loopback only,
#                                       # quickack routes: fresh ssh ~2x faster); start/stop inside it
#   ssh-harness.sh stop    "$CFG"       # kill only the sshds this harness started (PID files) with their
#                                       # sessions, plus job processes orphaned by lost sessions
#                                       # (found by JR_TEST_HARNESS=<dir> in their environment); rm the dir
#
# Environment knobs (read by `start`):
#   JR_SSH_HOSTS   space-separated listen addresses   (default "127.0.0.1 127.0.0.2 127.0.0.3";
#                  must be loopback: 127.x.y.z or ::1).  Host i gets the alias h<i>.
#   JR_SSH_PORT    port shared by all hosts (default 2222; "auto" = pick a free one)
#   JR_SSH_DIR     use this (new, empty or absent) dir instead of mktemp -d
#   JR_SSH_RC=1    let the remote login shell read ~/.bashrc (default: skipped via SetEnv SHLVL=1,
#                  because e.g. root's .bashrc on the CI image runs `pyenv init`, ~150-250 ms/job)
#   JR_SSH_FAST_KEX=0  keep OpenSSH's default KEX (sntrup761x25519, ~150-250 ms client CPU here);
#                  default 1 writes `KexAlgorithms curve25519-sha256` into the client config
#
# Works as root (CI) and as a non-root user (then sshd runs as that user and only that
# user can log in; /run/sshd is not needed).  As root, sshd refuses to start unless
# the privilege-separation dir /run/sshd exists; `start` creates it (mode 0755).
set -euo pipefail

SSHD=${SSHD:-/usr/sbin/sshd}
log() { printf '%s\n' "ssh-harness: $*" >&2; }
die() { log "error: $*"; exit 1; }

resolve_dir() {  # accept DIR or DIR/ssh_config
  local p=${1:?missing DIR or client config path}
  [[ -f $p && $(basename "$p") == ssh_config ]] && p=$(dirname "$p")
  [[ -f $p/harness.env ]] || die "$p is not a harness dir (no harness.env)"
  (cd "$p" && pwd)
}

# All descendants of a pid (children first walk), via /proc/<pid>/task/*/children or ps.
descendants() {
  local p=$1 kids c
  if [[ -r /proc/$p/task ]]; then
    kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
  else
    kids=$(ps -o pid= --ppid "$p" 2>/dev/null || true)
  fi
  for c in $kids; do echo "$c"; descendants "$c"; done
}

# PID from a host's pid file, only if that process really is our sshd (guards against PID reuse).
host_pid() {
  local d=$1 h=$2 pid cmd
  [[ -s $d/hosts/$h/sshd.pid ]] || return 1
  pid=$(<"$d/hosts/$h/sshd.pid")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  # sshd retitles itself "sshd: /usr/sbin/sshd -f <config> ... [listener] ..."
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$d/hosts/$h/sshd_config"* ]] || return 1
  echo "$pid"
}

host_names() {  # h1 h2 ... in numeric order
  local d=$1 x
  for x in "$d"/hosts/h*/; do if [[ -d $x ]]; then basename "$x"; fi; done | sort -V
}

start_host() {  # dir host -> 0 when listening (pid file written after bind), 1 on bind failure
  local d=$1 h=$2 i
  rm -f "$d/hosts/$h/sshd.pid"
  : >"$d/hosts/$h/sshd.log"
  # sshd daemonizes first, then binds, then writes the PID file: poll for it.
  "$SSHD" -f "$d/hosts/$h/sshd_config" -E "$d/hosts/$h/sshd.log" || return 1
  for i in $(seq 1 100); do
    [[ -s $d/hosts/$h/sshd.pid ]] && return 0
    grep -q 'Cannot bind any address' "$d/hosts/$h/sshd.log" && return 1
    sleep 0.05
  done
  log "sshd for $h did not come up; log:"; cat "$d/hosts/$h/sshd.log" >&2
  return 1
}

signal_host() {  # dir host SIG: listener + its sessions (children: per-connection sshd, job shells)
  local d=$1 h=$2 sig=$3 pid pids
  pid=$(host_pid "$d" "$h") || return 0
  pids="$pid $(descendants "$pid" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  kill -s "$sig" $pids 2>/dev/null || true
  echo "$pids"
}

stop_host() {
  local d=$1 h=$2 pids p i alive
  pids=$(signal_host "$d" "$h" TERM) || true
  [[ -n ${pids// /} ]] || return 0
  # shellcheck disable=SC2086
  kill -s CONT $pids 2>/dev/null || true   # a frozen host must be able to act on TERM
  for i in $(seq 1 50); do
    alive=""
    for p in $pids; do
      if [[ -d /proc/$p && $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]]; then alive+=" $p"; fi
    done
    if [[ -z $alive ]]; then break; fi
    sleep 0.1
  done
  # shellcheck disable=SC2086
  if [[ -n ${alive:-} ]]; then kill -s KILL $alive 2>/dev/null || true; fi
  rm -f "$d/hosts/$h/sshd.pid"
}

# Jobs whose ssh session died (crash, freeze + client timeout) are reparented to init and keep
# running (no SIGHUP without a tty).  They carry JR_TEST_HARNESS=<dir> in their environment.
orphan_pids() {
  local d=$1 e p env nl=$'\n'
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}; p=${p%/environ}
    [[ $p == "$$" ]] && continue
    env=$(tr '\0' '\n' 2>/dev/null <"$e") || continue
    if [[ $nl$env$nl == *"${nl}JR_TEST_HARNESS=$d$nl"* ]]; then echo "$p"; fi
  done
}
kill_orphans() {
  local d=$1 pids
  pids=$(orphan_pids "$d" | tr '\n' ' ')
  [[ -n ${pids// /} ]] || return 0
  log "killing leftover job processes: $pids"
  # shellcheck disable=SC2086
  kill -s KILL $pids 2>/dev/null || true
}

is_loopback() { [[ $1 == ::1 || $1 =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; }
fmt_hostport() { echo "[$1]:$2"; }  # known_hosts form for a non-22 port, IPv4 and IPv6 alike

cmd_install() {
  [[ -x $SSHD ]] && { log "sshd already installed: $("$SSHD" -V 2>&1 | head -1 || true)"; return 0; }
  [[ $(id -u) == 0 ]] || die "run as root to install openssh-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
  # The package's postinst does not start a daemon in containers without an init (policy-rc.d
  # denies it), so nothing listens on :22 afterwards; we never use /etc/ssh anyway.
}

failed_start() {
  local d=${START_DIR:-} h
  [[ -n $d && -d $d ]] || return 0
  if [[ -d $d/hosts ]]; then for h in $(host_names "$d"); do stop_host "$d" "$h"; done; fi
  if [[ ${JR_SSH_KEEP:-0} == 1 ]]; then log "start failed; kept $d"; else rm -rf "$d"; fi
}

cmd_start() {
  [[ -x $SSHD ]] || die "$SSHD not found: run '$0 install' (root) or apt-get install openssh-server"
  command -v ssh-keygen >/dev/null || die "ssh-keygen not found (openssh-client)"
  local hosts=${JR_SSH_HOSTS:-127.0.0.1 127.0.0.2 127.0.0.3}
  local port=${JR_SSH_PORT:-2222}
  local user; user=$(id -un)
  local d a h n
  for a in $hosts; do is_loopback "$a" || die "refusing non-loopback address $a"; done

  if [[ -n ${JR_SSH_DIR:-} ]]; then
    d=$JR_SSH_DIR; mkdir -p "$d"; [[ -z $(ls -A "$d") ]] || die "$d is not empty"
  else
    d=$(mktemp -d "${TMPDIR:-/tmp}/jr-ssh.XXXXXX")
  fi
  d=$(cd "$d" && pwd); chmod 700 "$d"
  START_DIR=$d
  trap 'failed_start' EXIT   # on any failure below: stop what was started, remove the dir
  # UNIX socket paths are limited to ~107 bytes; ControlPath = $d/cm/<40 hex chars>.
  (( ${#d} <= 60 )) || log "warning: $d is long; ControlPath=$d/cm/%C may exceed the socket path limit"

  if [[ $(id -u) == 0 && ! -d /run/sshd ]]; then
    # root sshd: "Missing privilege separation directory: /run/sshd" otherwise (compile-time path).
    install -d -m 0755 /run/sshd
  fi

  ssh-keygen -q -t ed25519 -N '' -C jr-harness-host -f "$d/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C jr-harness-user -f "$d/id_ed25519"
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  mkdir -p "$d/cm" "$d/hosts"

  local tries=0
  while :; do
    if [[ $port == auto || $tries -gt 0 && ${JR_SSH_PORT:-} == auto ]]; then
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    fi
    n=0; local ok=1
    for a in $hosts; do
      n=$((n + 1)); h=h$n
      mkdir -p "$d/hosts/$h"
      cat >"$d/hosts/$h/sshd_config" <<EOF
# throwaway sshd for fake host $h ($a) - generated by ssh-harness.sh
Port $port
ListenAddress $a
HostKey $d/host_ed25519
PidFile $d/hosts/$h/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers $user
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
UseDNS no
# many parallel jobs: defaults (MaxStartups 10:30:100, MaxSessions 10) drop connections (ssh rc 255)
MaxStartups 200:30:400
MaxSessions 200
LoginGraceTime 30
Subsystem sftp internal-sftp
# jobs can tell which fake host runs them: \$JR_TEST_HOST (also field 3 of \$SSH_CONNECTION);
# JR_TEST_HARNESS marks every job process so that 'stop' can find jobs orphaned by a lost session;
# SHLVL=1 (unless JR_SSH_RC=1): bash started by sshd reads ~/.bashrc only when SHLVL<2.
# Only the first SetEnv line counts, so all variables go on this one.
SetEnv JR_TEST_HOST=$h JR_TEST_HARNESS=$d$( [[ ${JR_SSH_RC:-0} == 1 ]] || printf ' SHLVL=1' )
LogLevel INFO
EOF
      "$SSHD" -t -f "$d/hosts/$h/sshd_config" || die "sshd -t rejected $d/hosts/$h/sshd_config"
      if ! start_host "$d" "$h"; then ok=0; break; fi
    done
    if (( ok )); then break; fi
    for h in $(host_names "$d"); do stop_host "$d" "$h"; done
    rm -rf "$d/hosts"; mkdir -p "$d/hosts"
    tries=$((tries + 1))
    if [[ ${JR_SSH_PORT:-} != auto || $tries -ge 10 ]]; then
      die "could not bind port $port on all of: $hosts (in use?); set JR_SSH_PORT=auto or another port"
    fi
  done

  # Client side: known_hosts pre-filled with our host key, so StrictHostKeyChecking can stay on.
  local pub; pub=$(cut -d' ' -f1,2 "$d/host_ed25519.pub")
  : >"$d/known_hosts"
  {
    echo "# generated by ssh-harness.sh; use with: ssh -F $d/ssh_config h1 ..."
    n=0
    for a in $hosts; do
      n=$((n + 1))
      echo "$(fmt_hostport "$a" "$port") $pub" >>"$d/known_hosts"
      printf 'Host h%s\n  HostName %s\n' "$n" "$a"
    done
    cat <<EOF
Host *
  Port $port
  User $user
  IdentityFile $d/id_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  BatchMode yes
  StrictHostKeyChecking yes
  UserKnownHostsFile $d/known_hosts
  GlobalKnownHostsFile /dev/null
  UpdateHostKeys no
  CheckHostIP no
  LogLevel ERROR
  ConnectTimeout 5
  ServerAliveInterval 2
  ServerAliveCountMax 3
  ControlPath $d/cm/%C
EOF
    [[ ${JR_SSH_FAST_KEX:-1} == 1 ]] && echo "  KexAlgorithms curve25519-sha256"
  } >"$d/ssh_config"

  n=0; local aliases=""
  for a in $hosts; do n=$((n + 1)); aliases+="h$n "; done
  cat >"$d/harness.env" <<EOF
JR_SSH_DIR=$d
JR_SSH_CONFIG=$d/ssh_config
JR_SSH_PORT=$port
JR_SSH_USER=$user
JR_SSH_ADDRS="$hosts"
JR_SSH_ALIASES="${aliases% }"
EOF
  # smoke test every host
  for h in ${aliases}; do
    ssh -n -F "$d/ssh_config" -o ControlPath=none "$h" true || die "smoke test to $h failed"
  done
  trap - EXIT
  log "started ${aliases% } on port $port (dir $d)"
  echo "$d/ssh_config"
}

cmd_status() {
  local d; d=$(resolve_dir "$1"); local h pid
  cat "$d/harness.env"
  for h in $(host_names "$d"); do
    if pid=$(host_pid "$d" "$h"); then
      echo "$h: sshd pid $pid ($(awk '{print $3}' /proc/"$pid"/stat)), sessions: $(descendants "$pid" | tr '\n' ' ')"
    else
      echo "$h: not running"
    fi
  done
}

cmd_stop() {
  local d; d=$(resolve_dir "$1"); local h s
  # Server side first: listener + per-connection sshds + running jobs, while they are still
  # descendants of the listener (closing a session first would orphan its job).
  for h in $(host_names "$d"); do stop_host "$d" "$h"; done
  kill_orphans "$d"
  # ControlPersist masters that tests left behind (client side, our ControlPath only) exit on
  # their own once the connection drops; ask any survivor to exit.
  for s in "$d"/cm/*; do
    if [[ -S $s ]]; then ssh -F /dev/null -o ControlPath="$s" -O exit harness-host >/dev/null 2>&1 || true; fi
  done
  if [[ ${JR_SSH_KEEP:-0} == 1 ]]; then log "stopped; kept $d"; else rm -rf "$d"; log "stopped; removed $d"; fi
}

cmd_signal() {  # crash|freeze|thaw
  local what=$1 d; d=$(resolve_dir "$2"); local h=${3:?host alias, e.g. h2}
  [[ -d $d/hosts/$h ]] || die "no host $h"
  case $what in
    crash)  signal_host "$d" "$h" KILL >/dev/null; rm -f "$d/hosts/$h/sshd.pid" ;;
    freeze) signal_host "$d" "$h" STOP >/dev/null ;;
    thaw)   signal_host "$d" "$h" CONT >/dev/null ;;
  esac
  log "$what $h done"
}

cmd_restart() {
  local d; d=$(resolve_dir "$1"); local h=${2:?host alias}
  [[ -d $d/hosts/$h ]] || die "no host $h"
  if host_pid "$d" "$h" >/dev/null; then stop_host "$d" "$h"; fi
  start_host "$d" "$h" || die "restart of $h failed"
  log "restarted $h"
}

# Run a command (e.g. the whole test step) in a fresh, private network namespace: only its own
# loopback exists there, so nothing the tests do can reach any other address.  The loopback
# routes get `quickack 1`, which removes the ~40 ms delayed-ACK stalls of the SSH handshake
# (fresh connection ~80 ms instead of ~180 ms here).  Root only (unshare --net).
cmd_netns_run() {
  [[ $# -gt 0 ]] || die "usage: $0 netns-run CMD [ARGS...]"
  [[ $(id -u) == 0 ]] || die "netns-run needs root (unshare --net)"
  command -v unshare >/dev/null || die "needs unshare (util-linux)"
  command -v ip >/dev/null || die "needs ip (iproute2)"
  exec unshare --net -- bash -c '
    set -e
    ip link set lo up
    ip route replace local 127.0.0.0/8 dev lo table local quickack 1
    ip route replace local 127.0.0.1 dev lo table local quickack 1
    ip -6 route replace local ::1 dev lo table local quickack 1 2>/dev/null || true
    exec "$@"' netns-run "$@"
}

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
cmd_bench() {
  local d; d=$(resolve_dir "$1"); local n=${2:-20} cfg h i t0 t1
  cfg=$d/ssh_config; h=h2; [[ -d $d/hosts/h2 ]] || h=h1
  t0=$(now_ms); for ((i = 0; i < n; i++)); do ssh -n -F "$cfg" -o ControlPath=none "$h" true; done; t1=$(now_ms)
  echo "fresh connection + 'true': $(( (t1 - t0) / n )) ms/command (mean of $n, $h)"
  local mux=(-o ControlMaster=auto -o ControlPersist=30)
  t0=$(now_ms); ssh -n -F "$cfg" "${mux[@]}" "$h" true; t1=$(now_ms)
  echo "first command (opens ControlMaster): $((t1 - t0)) ms"
  t0=$(now_ms); for ((i = 0; i < n; i++)); do ssh -n -F "$cfg" "${mux[@]}" "$h" true; done; t1=$(now_ms)
  echo "multiplexed 'true' via ControlMaster: $(( (t1 - t0) / n )) ms/command (mean of $n)"
  ssh -F "$cfg" -O exit "$h" 2>/dev/null || true
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

case ${1:-} in
  install) cmd_install ;;
  start)   cmd_start ;;
  stop)    cmd_stop "${2:?DIR or config path}" ;;
  status)  cmd_status "${2:?DIR or config path}" ;;
  crash|freeze|thaw) cmd_signal "$1" "${2:?DIR or config path}" "${3:-}" ;;
  restart) cmd_restart "${2:?DIR or config path}" "${3:-}" ;;
  bench)   cmd_bench "${2:?DIR or config path}" "${3:-20}" ;;
  netns-run) shift; cmd_netns_run "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
