//! Remote executor: jobs on other machines over OpenSSH (`-S`, `--sshloginfile`).
//!
//! Each remote job is a local `ssh` client process, started by the `Local` executor (so it leads
//! its own process group and is reaped like any job), that runs the job as a multiplexed session
//! over the host's master connection. The masters (`ssh -M -N`, one per 8 slots of a host, so a
//! master never carries more than sshd's default MaxSessions of 10 with room for kill sessions)
//! are started when the run starts, with sockets in a private directory that is removed at the
//! end, and ServerAlive settings that notice a hung host in about 10 s.
//!
//! The remote command is `exec sh -c WRAPPER`, run by the login shell that sshd made a session
//! leader (sshd calls setsid for every session): so the job's whole process tree is one process
//! group on the host, whose number is the wrapper's `$$`. The wrapper exports the job's
//! variables, writes `$$` to `${TMPDIR:-/tmp}/.forkpool-RUN-ID` and runs the job. Killing the
//! local client would not stop the remote job, so a signal for a remote job is a second
//! multiplexed session, `kill -SIG -PGID` with the PGID read from that file: the job's
//! whole group on the host gets it (SIGKILL goes to the local client too, so a dead host cannot
//! hold a job).
//!
//! Signals for one master's jobs share one kill session at a time (`Kills`).
//!
//! Files (`--transferfile`, `--return`, `--basefile`, an init's `$FORKPOOL_ENV`) move as tar
//! streams through sessions of the same master: such a job's local process is `sh -c` running
//! send, job, fetch and cleanup in turn, so the host needs only sh and tar.
//!
//! A lost host: a job's client exits 255 when its session breaks, but a job may exit 255 itself.
//! So a 255 counts as the host's loss only when the host's master has exited: forkpool reaped it,
//! or `ssh -O check` fails and the master is then found dead (the check runs on the event loop,
//! only after a 255 of a job forkpool did not stop: a round trip to the local master's socket). Then the host is marked down (one warning
//! naming it), its slots close, and the scheduler runs its jobs again on the other hosts.
//!
//! Helper processes (masters, kill sessions, checks) are std `Command`s in process groups of
//! their own, so a Ctrl-C at the terminal reaches forkpool only; the ones left running are reaped
//! by `reap` (through `group`) like every child.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::group::{self, Group};
use super::local::Local;
use super::{Executor, SpawnError, SpawnSpec, Spawned};
use crate::error::{Error, Result};
use crate::job::{Command, Exit};
use crate::template::quote;

/// Job slots per master connection: sshd's default MaxSessions is 10; the kill session and an
/// init's fetch fit in the rest.
pub const SLOTS_PER_MASTER: usize = 8;

/// How long a master may take to log in.
const CONNECT_LIMIT: Duration = Duration::from_secs(20);

/// Options every ssh forkpool starts gets, after the user's --ssh words (ssh takes the first
/// value of an option, so the user's own -o settings win).
const COMMON: &[&str] = &[
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "LogLevel=ERROR",
];

/// One `--sshlogin` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    /// The entry without its slot count: how the host is named in the joblog and warnings.
    pub name: String,
    pub slots: Option<usize>,
    /// `:`, this machine.
    pub local: bool,
    /// An entry of several words is an ssh command with its destination last.
    pub ssh: Option<Vec<OsString>>,
    pub dest: OsString,
}

/// Parse `[N/]HOST`, `:` or `[N/]ssh-command HOST`.
pub fn parse_login(text: &[u8]) -> Result<Login> {
    let shown = String::from_utf8_lossy(text).into_owned();
    let mut rest = text;
    let mut slots = None;
    if let Some(i) = text.iter().position(|&b| b == b'/')
        && i > 0
        && text[..i].iter().all(u8::is_ascii_digit)
    {
        let n: usize = std::str::from_utf8(&text[..i])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                Error::new(format!("-S {shown}: the slot count must be 1 or more"))
                    .with_hint("write N/HOST with N > 0, or HOST alone")
            })?;
        slots = Some(n);
        rest = &text[i + 1..];
    }
    let words: Vec<&[u8]> = rest
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let Some((&dest, cmd)) = words.split_last() else {
        return Err(Error::new(format!("-S {shown}: no host given"))
            .with_hint("write [N/]HOST, e.g. -S 4/user@server, or : for this machine"));
    };
    let os = |w: &[u8]| OsString::from_vec(w.to_vec());
    Ok(Login {
        name: String::from_utf8_lossy(rest).trim().to_string(),
        slots,
        local: dest == b":" && cmd.is_empty(),
        ssh: (!cmd.is_empty()).then(|| cmd.iter().map(|w| os(w)).collect()),
        dest: os(dest),
    })
}

/// One entry per host: a host listed more than once (as in a PBS node file, one line per CPU)
/// gets the sum of its slot counts, counting 1 for each entry without one (or, when no entry
/// gives a count, its CPU count for a single entry).
pub fn merge(logins: Vec<Login>) -> Vec<Login> {
    let mut out: Vec<Login> = Vec::new();
    for l in logins {
        match out.iter_mut().find(|o| o.name == l.name) {
            Some(o) => o.slots = Some(o.slots.unwrap_or(1) + l.slots.unwrap_or(1)),
            None => out.push(l),
        }
    }
    out
}

/// How remote jobs are set up.
pub struct Config {
    /// The ssh command's words (`--ssh`).
    pub ssh: Vec<OsString>,
    /// The shell that runs a job's shell code (`--shell`), on the host too.
    pub shell: PathBuf,
    /// `--env`: variables copied to remote jobs, with their local values.
    pub env: Vec<(OsString, OsString)>,
    /// The slots of a host without `N/` (from -j); None: ask the host's CPU count.
    pub jobs: Option<usize>,
    /// One slot per host (`--onall`, `--nonall`).
    pub one_slot: bool,
    /// Drop hosts that do not answer at the start (else that is an error).
    pub filter_hosts: bool,
    /// Where the private control directory goes.
    pub tmpdir: PathBuf,
    /// `--workdir`; `...` is a fresh directory per run.
    pub workdir: Option<Vec<u8>>,
    /// `--basefile`: sent to every host at the start.
    pub basefiles: Vec<Vec<u8>>,
    /// `--cleanup`: remove moved files (and base files at the end) from the hosts.
    pub cleanup: bool,
    /// `--nice`: jobs run under `nice -n N` on their host (and reniced on `:`).
    pub nice: Option<i32>,
}

struct Master {
    socket: PathBuf,
    /// The master's pid while it is forkpool's unreaped child, else 0.
    pid: AtomicI32,
    kills: Mutex<Kills>,
}

impl Master {
    fn new(socket: PathBuf) -> Master {
        Master {
            socket,
            pid: AtomicI32::new(0),
            kills: Mutex::new(Kills::default()),
        }
    }
}

/// Signals for a master's remote jobs. One kill session at a time per master, carrying every
/// signal queued meanwhile, so a master never has more than its 8 jobs and 1 kill session open
/// (a Ctrl-C that stops 8 jobs at once must not open 8 more sessions).
#[derive(Default)]
struct Kills {
    /// The kill session in flight.
    in_flight: Option<i32>,
    /// (signal, remote job id) waiting for the next session.
    queued: Vec<(Signal, u64)>,
}

struct Host {
    name: String,
    ssh: Vec<OsString>,
    dest: OsString,
    local: bool,
    first_slot: usize,
    slots: usize,
    masters: Vec<Master>,
    down: AtomicBool,
}

impl Host {
    fn argv(&self, socket: &Path) -> Vec<OsString> {
        let mut argv = self.ssh.clone();
        argv.extend(COMMON.iter().map(OsString::from));
        argv.extend(["-S".into(), socket.as_os_str().to_owned()]);
        argv.extend(["-o".into(), "ControlMaster=no".into(), "-T".into()]);
        argv.push(self.dest.clone());
        argv
    }
}

/// A job started by the remote executor.
pub struct Job {
    /// The local process: the ssh client, or the job itself on `:`.
    group: Group,
    remote: Option<RemoteJob>,
}

struct RemoteJob {
    host: usize,
    master: usize,
    /// Names the job's pid file on the host.
    id: u64,
    /// The remote job was sent a stop signal (SIGTSTP, SIGSTOP) that SIGCONT must undo.
    paused: AtomicBool,
}

pub struct Ssh {
    local: Local,
    hosts: Vec<Host>,
    dir: PathBuf,
    /// Names this run's pid files on the hosts.
    run: String,
    env: Vec<(OsString, OsString)>,
    /// `--workdir`, and whether forkpool made it (`...`: removed at the end).
    workdir: Option<Vec<u8>>,
    own_workdir: bool,
    /// `--onall`, `--nonall`: one slot per host, slot N on host N.
    one_slot: bool,
    basefiles: Vec<Vec<u8>>,
    cleanup: bool,
    nice: Option<i32>,
    next_id: AtomicU64,
    /// The `$FORKPOOL_ENV` files written on hosts, removed at the end.
    env_files: Mutex<HashSet<Vec<u8>>>,
    /// Kill sessions (with their host and master) and other helpers in flight, reaped quietly.
    helpers: Mutex<HashMap<i32, Option<(usize, usize)>>>,
    closed: AtomicBool,
}

impl Ssh {
    /// Start a master connection to every host (and ask hosts without a slot count for
    /// theirs). A host that cannot be reached is an error, or with `filter_hosts` a warning.
    pub fn connect(logins: Vec<Login>, config: Config) -> Result<Ssh> {
        let dir = control_dir(&config.tmpdir)?;
        let run = format!("{}-{:x}", std::process::id(), nanos());
        let mut ssh = Ssh {
            local: Local {
                shell: config.shell.clone(),
                // Jobs on `:` are reniced here, and with them the ssh clients, as GNU parallel
                // renices itself; a remote job gets `nice -n` on its host.
                nice: config.nice,
            },
            hosts: Vec::new(),
            dir,
            run,
            env: config.env.clone(),
            workdir: None,
            own_workdir: config.workdir.as_deref() == Some(b"..."),
            one_slot: config.one_slot,
            basefiles: config.basefiles.clone(),
            cleanup: config.cleanup,
            nice: config.nice,
            next_id: AtomicU64::new(1),
            helpers: Mutex::new(HashMap::new()),
            env_files: Mutex::new(HashSet::new()),
            closed: AtomicBool::new(false),
        };
        ssh.workdir = match config.workdir {
            Some(w) if w == b"..." => Some(format!(".forkpool/tmp/{}", ssh.run).into_bytes()),
            w => w,
        };
        for (i, l) in merge(logins).into_iter().enumerate() {
            ssh.hosts.push(Host {
                name: l.name,
                ssh: l.ssh.unwrap_or_else(|| config.ssh.clone()),
                dest: l.dest,
                local: l.local,
                first_slot: 0,
                slots: if config.one_slot {
                    1
                } else {
                    l.slots.or(config.jobs).unwrap_or(0)
                },
                masters: vec![Master::new(ssh.dir.join(format!("h{i}-0")))],
                down: AtomicBool::new(false),
            });
        }
        let remote: Vec<usize> = (0..ssh.hosts.len())
            .filter(|&h| !ssh.hosts[h].local)
            .collect();
        let failed = ssh.start_masters(remote.iter().map(|&h| (h, 0)).collect());
        let mut dropped = ssh.drop_failed(failed, config.filter_hosts)?;
        // Hosts without a slot count: their CPU count, asked once.
        let ask: Vec<usize> = (0..ssh.hosts.len())
            .filter(|&h| ssh.hosts[h].slots == 0 && !dropped.contains(&h))
            .collect();
        for (h, n) in ssh.ask_cpus(&ask) {
            ssh.hosts[h].slots = n;
        }
        // More masters for hosts with more slots than one master carries.
        let mut more = Vec::new();
        for &h in &remote {
            let host = &mut ssh.hosts[h];
            let want = host.slots.div_ceil(SLOTS_PER_MASTER).max(1);
            for m in 1..want {
                host.masters
                    .push(Master::new(ssh.dir.join(format!("h{h}-{m}"))));
                more.push((h, m));
            }
        }
        // At most 8 logins at once per host: sshd's default MaxStartups drops more.
        for round in 0.. {
            let batch: Vec<(usize, usize)> = more
                .iter()
                .copied()
                .filter(|&(_, m)| (m - 1) / SLOTS_PER_MASTER == round)
                .collect();
            if batch.is_empty() {
                break;
            }
            let failed = ssh.start_masters(batch);
            dropped.extend(ssh.drop_failed(failed, config.filter_hosts)?);
        }
        let mut next = 1;
        for host in &mut ssh.hosts {
            host.first_slot = next;
            if host.down.load(Ordering::Relaxed) {
                host.slots = 0;
            }
            next += host.slots;
        }
        if next == 1 {
            return Err(Error::new("no host can be reached")
                .with_hint("check the hosts named in the warnings above"));
        }
        ssh.send_basefiles()?;
        Ok(ssh)
    }

    /// Every slot of every host that is up.
    pub fn slots(&self) -> usize {
        self.hosts.iter().map(|h| h.slots).sum()
    }

    /// The hosts' names, in the order of their slots.
    pub fn host_names(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.slots > 0)
            .map(|h| h.name.clone())
            .collect()
    }

    /// Start these masters and wait until each is logged in; returns the ones that failed,
    /// with why.
    fn start_masters(&self, which: Vec<(usize, usize)>) -> Vec<(usize, String)> {
        let mut starting = Vec::new();
        let mut failed = Vec::new();
        for (h, m) in which {
            let host = &self.hosts[h];
            let master = &host.masters[m];
            let log = master.socket.with_extension("log");
            let mut argv = host.ssh.clone();
            argv.extend(COMMON.iter().map(OsString::from));
            argv.extend(
                [
                    "-o",
                    "ServerAliveInterval=3",
                    "-o",
                    "ServerAliveCountMax=3",
                    "-o",
                    "ControlPersist=no",
                    "-M",
                    "-N",
                    "-S",
                ]
                .map(OsString::from),
            );
            argv.push(master.socket.as_os_str().to_owned());
            argv.push(host.dest.clone());
            let err = std::fs::File::create(&log).map(Stdio::from);
            let mut cmd = command(&argv);
            // A master outlives nothing of forkpool's, even when forkpool is killed.
            // SAFETY: prctl is async-signal-safe, and nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
                });
            }
            match err.and_then(|e| cmd.stderr(e).spawn()) {
                Ok(child) => starting.push((h, m, child, log)),
                Err(e) => failed.push((h, format!("cannot run {}: {e}", show(&argv[0])))),
            }
        }
        let deadline = Instant::now() + CONNECT_LIMIT;
        for (h, m, mut child, log) in starting {
            let master = &self.hosts[h].masters[m];
            loop {
                if master.socket.exists() {
                    master.pid.store(child.id() as i32, Ordering::Relaxed);
                    break;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    failed.push((h, last_line(&log)));
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    failed.push((h, "no answer in 20 s".into()));
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        failed
    }

    /// Hosts whose master failed: an error, or with --filter-hosts a warning and the host down.
    fn drop_failed(&self, failed: Vec<(usize, String)>, filter: bool) -> Result<Vec<usize>> {
        let mut dropped = Vec::new();
        for (h, why) in failed {
            let host = &self.hosts[h];
            if !filter {
                self.close();
                return Err(
                    Error::new(format!("cannot connect to host {}: {why}", host.name))
                        .with_hint("check the host and --ssh, or add --filter-hosts to skip hosts that do not answer"),
                );
            }
            if !host.down.swap(true, Ordering::Relaxed) {
                crate::diag::warn(&format!(
                    "warning: dropping host {}: cannot connect: {why}",
                    host.name
                ));
            }
            dropped.push(h);
        }
        Ok(dropped)
    }

    /// Ask each host for its CPU count (`nproc`), all at once.
    fn ask_cpus(&self, hosts: &[usize]) -> Vec<(usize, usize)> {
        let mut asking = Vec::new();
        for &h in hosts {
            let host = &self.hosts[h];
            if host.local {
                asking.push((h, None));
                continue;
            }
            let mut argv = host.argv(&host.masters[0].socket);
            argv.push("nproc 2>/dev/null || getconf _NPROCESSORS_ONLN".into());
            let child = command(&argv).stdout(Stdio::piped()).spawn().ok();
            asking.push((h, child));
        }
        asking
            .into_iter()
            .map(|(h, child)| {
                let n = match child {
                    None if self.hosts[h].local => super::cpu_count(),
                    None => 1,
                    Some(c) => c
                        .wait_with_output()
                        .ok()
                        .and_then(|o| String::from_utf8(o.stdout).ok())
                        .and_then(|s| s.trim().parse().ok())
                        .filter(|&n: &usize| n > 0)
                        .unwrap_or_else(|| {
                            crate::diag::warn(&format!(
                                "warning: host {} did not say how many CPUs it has; giving it 1 slot (write N/{} to choose)",
                                self.hosts[h].name, self.hosts[h].name
                            ));
                            1
                        }),
                };
                (h, n)
            })
            .collect()
    }

    /// The host and master of a slot.
    fn place(&self, slot: usize) -> Option<(usize, usize)> {
        self.hosts.iter().enumerate().find_map(|(i, h)| {
            (slot >= h.first_slot && slot < h.first_slot + h.slots)
                .then(|| (i, (slot - h.first_slot) / SLOTS_PER_MASTER))
        })
    }

    /// The pid file of remote job `id`, as shell code.
    fn pid_file(&self, id: u64) -> String {
        format!("\"${{TMPDIR:-/tmp}}/.forkpool-{}-{id}\"", self.run)
    }

    /// The command line sent to the host: `exec sh -c WRAPPER`.
    fn remote_command(&self, spec: &SpawnSpec, host: &Host, id: u64) -> Vec<u8> {
        let mut w = Vec::new();
        let mut export = |k: &OsStr, v: &OsStr| {
            w.extend_from_slice(k.as_bytes());
            w.push(b'=');
            quote(v.as_bytes(), &mut w);
            w.extend_from_slice(b"; export ");
            w.extend_from_slice(k.as_bytes());
            w.extend_from_slice(b"; ");
        };
        for (k, v) in self.env.iter().chain(&spec.env) {
            export(k, v);
        }

        export(OsStr::new("FORKPOOL_HOST"), OsStr::new(&host.name));
        export(OsStr::new("PARALLEL_SSHLOGIN"), OsStr::new(&host.name));
        if env_file(spec).is_some() {
            // An init's $FORKPOOL_ENV is written on the host and fetched back after it.
            w.extend_from_slice(
                b"mkdir -p \"${FORKPOOL_ENV%/*}\" && : >>\"$FORKPOOL_ENV\" || exit 1; ",
            );
        }
        if self.workdir.is_some() {
            w.extend_from_slice(&self.enter_workdir());
            w.extend_from_slice(b" || exit 1; ");
        }
        // noclobber: a file someone else put there first is not written through (and a kill
        // session reads only a file of the user's own, -O).
        let f = self.pid_file(id);
        w.extend_from_slice(format!("(set -C; echo $$ >{f}) 2>/dev/null; ").as_bytes());
        if let Some(n) = self.nice {
            // An increment from the session's niceness (0 under sshd), as GNU parallel sends.
            w.extend_from_slice(format!("nice -n {n} ").as_bytes());
        }
        match &spec.command {
            Command::Shell(line) => {
                quote(self.local.shell.as_os_str().as_bytes(), &mut w);
                w.extend_from_slice(b" -c ");
                quote(line, &mut w);
            }
            Command::Direct(argv) => {
                for (i, a) in argv.iter().enumerate() {
                    if i > 0 {
                        w.push(b' ');
                    }
                    quote(a, &mut w);
                }
            }
        }
        w.extend_from_slice(format!("\ns=$?; rm -f {f}; exit $s").as_bytes());
        let mut line = b"exec sh -c ".to_vec();
        quote(&w, &mut line);
        line
    }

    /// Shell code that makes and enters `--workdir` (`:` without one).
    fn enter_workdir(&self) -> Vec<u8> {
        let Some(dir) = &self.workdir else {
            return b":".to_vec();
        };
        let mut d = Vec::new();
        quote(dir, &mut d);
        [b"mkdir -p ", &d[..], b" && cd ", &d[..]].concat()
    }

    /// Shell code for the local sh: the files' tar stream piped to the host, or the host's piped
    /// here (`fetch`), relative paths under --workdir there and the current directory here,
    /// absolute ones at the same place.
    fn tar_lines(&self, base: &[OsString], names: &[Vec<u8>], fetch: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let (abs, rel): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = names
            .iter()
            .filter(|n| !n.is_empty())
            .partition(|n| n.starts_with(b"/"));
        for (list, here, there) in [
            (rel, Vec::new(), self.enter_workdir()),
            (abs, b" -C /".to_vec(), b":".to_vec()),
        ] {
            if list.is_empty() {
                continue;
            }
            let mut files = Vec::new();
            for n in list {
                files.push(b' ');
                let n = n.strip_prefix(b"/").unwrap_or(n);
                if n.starts_with(b"-") {
                    quote(&[b"./", n].concat(), &mut files);
                } else {
                    quote(n, &mut files);
                }
            }
            let there_dir = if here.is_empty() { "" } else { " -C /" };
            if fetch {
                let remote = [&there[..], b" && tar cf -", there_dir.as_bytes(), &files].concat();
                out.extend(ssh_line(base, &remote));
                out.extend_from_slice(b" | tar xf -");
                out.extend_from_slice(&here);
                out.push(b'\n');
            } else {
                out.extend_from_slice(b"tar cf -");
                out.extend_from_slice(&here);
                out.extend_from_slice(&files);
                out.extend_from_slice(b" | ");
                let remote = [&there[..], b" && tar xf -", there_dir.as_bytes()].concat();
                out.extend(ssh_line(base, &remote));
                out.extend_from_slice(b" || exit 255\n");
            }
        }
        out
    }

    /// Shell code that removes these files from the host.
    fn remove_line(&self, names: &[&Vec<u8>]) -> Vec<u8> {
        let mut code = b"(".to_vec();
        code.extend(self.enter_workdir());
        code.extend_from_slice(b" && rm -f");
        for n in names.iter().filter(|n| !n.is_empty()) {
            code.push(b' ');
            if n.starts_with(b"-") {
                quote(&[b"./", &n[..]].concat(), &mut code);
            } else {
                quote(n, &mut code);
            }
        }
        code.push(b')');
        code
    }

    /// The local script of a job with files to move: send, run, fetch, clean up; its status is
    /// the job's.
    /// `env_file`, an init's `$FORKPOOL_ENV`, is fetched too (and removed at the end).
    fn transfer_script(
        &self,
        base: &[OsString],
        job: &[u8],
        t: &super::Transfer,
        env_file: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut s = self.tar_lines(base, &t.send, false);
        s.extend(ssh_line(base, job));
        s.extend_from_slice(b"\ns=$?\n");
        let mut fetch = t.fetch.clone();
        fetch.extend(env_file.map(<[u8]>::to_vec));
        s.extend(self.tar_lines(base, &fetch, true));
        let remove: Vec<&Vec<u8>> = match self.cleanup {
            true => t.send.iter().chain(&t.fetch).collect(),
            false => Vec::new(),
        };
        if !remove.is_empty() {
            s.extend(ssh_line(base, &self.remove_line(&remove)));
            s.push(b'\n');
        }
        s.extend_from_slice(b"exit $s");
        s
    }

    /// `--basefile`: send the files to every host that is up, all at once.
    fn send_basefiles(&self) -> Result<()> {
        if self.basefiles.is_empty() {
            return Ok(());
        }
        let mut sending = Vec::new();
        for host in self.hosts.iter().filter(|h| !h.local && h.slots > 0) {
            let script =
                self.tar_lines(&host.argv(&host.masters[0].socket), &self.basefiles, false);
            let argv = ["/bin/sh".into(), "-c".into(), OsString::from_vec(script)];
            let child = command(&argv).stderr(Stdio::inherit()).spawn();
            sending.push((host, child));
        }
        for (host, child) in sending {
            let ok = child.and_then(|mut c| c.wait()).is_ok_and(|s| s.success());
            if !ok {
                return Err(Error::new(format!(
                    "cannot send the --basefile files to host {}",
                    host.name
                ))
                .with_hint("check that the files exist here and that the host has tar"));
            }
        }
        Ok(())
    }

    /// Send `sig` to remote job's process group on its host, through its master's kill session.
    fn remote_kill(&self, r: &RemoteJob, sig: Signal) {
        if self.hosts[r.host].down.load(Ordering::Relaxed) {
            return;
        }
        let mut kills = lock(&self.hosts[r.host].masters[r.master].kills);
        kills.queued.push((sig, r.id));
        if kills.in_flight.is_none() {
            self.send_kills(r.host, r.master, &mut kills);
        }
    }

    /// Start a kill session for the signals queued for a master.
    fn send_kills(&self, h: usize, m: usize, kills: &mut Kills) {
        let queued = std::mem::take(&mut kills.queued);
        if queued.is_empty() {
            return;
        }
        let mut code = String::new();
        for (sig, id) in queued {
            let name = sig.as_str().trim_start_matches("SIG");
            let f = self.pid_file(id);
            code.push_str(&format!(
                "f={f}; [ -O \"$f\" ] && [ -s \"$f\" ] && kill -{name} -$(cat \"$f\")"
            ));
            if !matches!(sig, Signal::SIGTSTP | Signal::SIGSTOP | Signal::SIGCONT) {
                // A stopped job cannot act on SIGTERM.
                code.push_str(" && kill -CONT -$(cat \"$f\")");
            }
            code.push_str("; ");
        }
        code.push(':');
        let host = &self.hosts[h];
        let mut argv = host.argv(&host.masters[m].socket);
        argv.push(code.into());
        if let Ok(child) = command(&argv).spawn() {
            let pid = child.id() as i32;
            kills.in_flight = Some(pid);
            lock(&self.helpers).insert(pid, Some((h, m)));
        }
    }

    /// A host is gone: warn once, and close its slots.
    fn host_lost(&self, h: usize, why: &str) {
        let host = &self.hosts[h];
        if !host.down.swap(true, Ordering::Relaxed) {
            crate::diag::warn(&format!(
                "warning: lost host {} ({why}); its jobs run again on the other hosts",
                host.name
            ));
        }
    }

    /// Whether the master of a host still holds its connection.
    fn master_alive(&self, h: usize, m: usize) -> bool {
        let host = &self.hosts[h];
        let master = &host.masters[m];
        let pid = master.pid.load(Ordering::Relaxed);
        if pid == 0 {
            return false;
        }
        let mut argv = host.ssh.clone();
        argv.extend(["-S".into(), master.socket.as_os_str().to_owned()]);
        argv.extend(["-O".into(), "check".into(), host.dest.clone()]);
        if run_briefly(&argv, Duration::from_secs(10)) {
            return true;
        }
        // A master whose connection broke exits at once (ControlPersist=no); one that lives on
        // failed the check for another reason (a loaded machine), and still serves.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if !is_running(pid) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// End the run's remote side: wait a moment for kill sessions, remove this run's pid files
    /// (and a `--workdir ...`) on every host, close the masters, remove the control directory.
    fn close(&self) {
        if self.closed.swap(true, Ordering::Relaxed) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut cleaning = Vec::new();
        for host in self.hosts.iter().filter(|h| !h.local) {
            let master = &host.masters[0];
            if host.down.load(Ordering::Relaxed) || master.pid.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let mut argv = host.argv(&master.socket);
            let mut code =
                format!("rm -f \"${{TMPDIR:-/tmp}}\"/.forkpool-{}-*", self.run).into_bytes();
            if self.cleanup && !self.basefiles.is_empty() {
                code.extend_from_slice(b"; ");
                code.extend(self.remove_line(&self.basefiles.iter().collect::<Vec<_>>()));
            }
            let env_files = lock(&self.env_files);
            if !env_files.is_empty() {
                code.extend_from_slice(b"; rm -f");
                for f in env_files.iter() {
                    code.push(b' ');
                    quote(f, &mut code);
                }
            }
            if let (true, Some(dir)) = (self.own_workdir, &self.workdir) {
                code.extend_from_slice(b"; rm -rf ");
                quote(dir, &mut code);
            }
            argv.push(OsString::from_vec(code));
            if let Ok(c) = command(&argv).spawn() {
                cleaning.push(c.id() as i32);
            }
        }
        let mut waiting: HashSet<i32> = lock(&self.helpers).drain().map(|(pid, _)| pid).collect();
        waiting.extend(cleaning);
        while !waiting.is_empty() && Instant::now() < deadline {
            group::reap(&mut |pid, _| {
                waiting.remove(&pid);
            });
            std::thread::sleep(Duration::from_millis(5));
        }
        for host in &self.hosts {
            for m in &host.masters {
                let pid = m.pid.swap(0, Ordering::Relaxed);
                if pid > 0 {
                    // Still forkpool's unreaped child: its group number is its own.
                    Group::new(pid).signal(Some(Signal::SIGTERM));
                }
            }
        }
        self.local.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Executor for Ssh {
    type Handle = Job;

    fn spawn(&self, spec: &SpawnSpec) -> std::result::Result<Spawned<Job>, SpawnError> {
        let Some((h, m)) = self.place(spec.slot) else {
            return Err(SpawnError::Failed(format!(
                "no host has slot {}",
                spec.slot
            )));
        };
        let host = &self.hosts[h];
        if host.local {
            let s = self.local.spawn(spec)?;
            return Ok(Spawned {
                handle: Job {
                    group: s.handle,
                    remote: None,
                },
                stdin: s.stdin,
                stdout: s.stdout,
                stderr: s.stderr,
            });
        }
        if host.down.load(Ordering::Relaxed) {
            return Err(SpawnError::Failed(format!("host {} was lost", host.name)));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let base = host.argv(&host.masters[m].socket);
        let job = self.remote_command(spec, host, id);
        let env_file = env_file(spec);
        if let Some(f) = env_file {
            lock(&self.env_files).insert(f.to_vec());
        }
        let command = if spec.transfer.is_empty() && env_file.is_none() {
            let mut argv: Vec<Vec<u8>> = base.into_iter().map(OsString::into_vec).collect();
            argv.push(job);
            Command::Direct(argv)
        } else {
            let script = self.transfer_script(&base, &job, &spec.transfer, env_file);
            Command::Direct(vec![b"/bin/sh".to_vec(), b"-c".to_vec(), script])
        };
        let client = SpawnSpec {
            command,
            capture: spec.capture,
            env: Vec::new(),
            stdin: spec.stdin.clone(),
            slot: spec.slot,
            transfer: Default::default(),
        };
        let s = self.local.spawn(&client)?;
        Ok(Spawned {
            handle: Job {
                group: s.handle,
                remote: Some(RemoteJob {
                    host: h,
                    master: m,
                    id,
                    paused: AtomicBool::new(false),
                }),
            },
            stdin: s.stdin,
            stdout: s.stdout,
            stderr: s.stderr,
        })
    }

    fn key(&self, handle: &Job) -> u64 {
        handle.group.pid() as u64
    }

    fn reap(&self, exited: &mut dyn FnMut(u64, Exit)) {
        let (mut gone, mut killed) = (Vec::new(), Vec::new());
        group::reap(&mut |pid, exit| {
            if let Some(master) = lock(&self.helpers).remove(&pid) {
                killed.extend(master);
                return;
            }
            for (h, host) in self.hosts.iter().enumerate() {
                for m in &host.masters {
                    if m.pid.load(Ordering::Relaxed) == pid {
                        m.pid.store(0, Ordering::Relaxed);
                        gone.push((h, m.socket.with_extension("log")));
                        return;
                    }
                }
            }
            exited(pid as u64, exit)
        });
        for (h, log) in gone {
            let why = last_line(&log);
            self.host_lost(h, &why);
        }
        // A kill session ended: the next one takes what was queued meanwhile.
        for (h, m) in killed {
            let mut kills = lock(&self.hosts[h].masters[m].kills);
            kills.in_flight = None;
            if !self.hosts[h].down.load(Ordering::Relaxed) {
                self.send_kills(h, m, &mut kills);
            }
        }
    }

    fn reaped(&self, handle: &mut Job) {
        handle.group.leader_reaped();
    }

    fn signal(&self, handle: &Job, sig: Option<Signal>) -> bool {
        let Some(r) = &handle.remote else {
            return handle.group.signal(sig);
        };
        let Some(sig) = sig else {
            return handle.group.signal(None);
        };
        if !handle.group.signal(None) {
            return false;
        }
        match sig {
            Signal::SIGCONT => {
                if r.paused.swap(false, Ordering::Relaxed) {
                    self.remote_kill(r, sig);
                }
                handle.group.signal(Some(sig))
            }
            Signal::SIGTSTP | Signal::SIGSTOP => {
                r.paused.store(true, Ordering::Relaxed);
                self.remote_kill(r, sig);
                handle.group.signal(Some(sig))
            }
            Signal::SIGKILL => {
                self.remote_kill(r, sig);
                handle.group.signal(Some(sig))
            }
            _ => {
                self.remote_kill(r, sig);
                true
            }
        }
    }

    fn lost(&self, handle: &Job, exit: Exit) -> bool {
        let Some(r) = &handle.remote else {
            return false;
        };
        if exit != Exit::Code(255) {
            return false;
        }
        let down =
            self.hosts[r.host].down.load(Ordering::Relaxed) || !self.master_alive(r.host, r.master);
        if down {
            self.host_lost(r.host, "its connection broke");
        }
        // With --onall/--nonall a job belongs to its host: it fails with it.
        down && !self.one_slot
    }

    fn slot_open(&self, slot: usize) -> bool {
        self.place(slot)
            .is_some_and(|(h, _)| !self.hosts[h].down.load(Ordering::Relaxed))
    }

    fn host(&self, slot: usize) -> Option<String> {
        let (h, _) = self.place(slot)?;
        let host = &self.hosts[h];
        (!host.local).then(|| host.name.clone())
    }

    fn shutdown(&self) {
        self.close();
    }
}

impl Drop for Ssh {
    fn drop(&mut self) {
        self.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A helper process: its own process group (a Ctrl-C at the terminal is forkpool's to handle),
/// stdin, stdout and stderr from and to /dev/null.
fn command(argv: &[OsString]) -> std::process::Command {
    let mut c = std::process::Command::new(&argv[0]);
    c.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    c
}

/// The `$FORKPOOL_ENV` file of an init or teardown.
fn env_file(spec: &SpawnSpec) -> Option<&[u8]> {
    spec.env
        .iter()
        .find(|(k, _)| k == "FORKPOOL_ENV")
        .map(|(_, v)| v.as_bytes())
}

/// Run a helper to its end (at most `limit`); whether it succeeded.
fn run_briefly(argv: &[OsString], limit: Duration) -> bool {
    let Ok(mut child) = command(argv).spawn() else {
        return false;
    };
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// Whether a child of forkpool's still runs (not a zombie), from /proc/PID/stat.
fn is_running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .iter()
        .rposition(|&b| b == b')')
        .and_then(|end| stat.get(end + 2));
    !matches!(state, Some(b'Z' | b'X') | None)
}

/// `argv` with `remote` as its last word, quoted for the local sh.
fn ssh_line(argv: &[OsString], remote: &[u8]) -> Vec<u8> {
    let mut line = Vec::new();
    for w in argv {
        quote(w.as_bytes(), &mut line);
        line.push(b' ');
    }
    quote(remote, &mut line);
    line
}

fn show(w: &OsStr) -> String {
    w.to_string_lossy().into_owned()
}

/// The last non-empty line of a master's log (its error message).
fn last_line(log: &Path) -> String {
    std::fs::read(log)
        .ok()
        .and_then(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().trim_end_matches('.').to_string())
        })
        .unwrap_or_else(|| "the connection closed or stopped answering".into())
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A fresh private directory for the control sockets: short, since a socket path is at most
/// 107 bytes.
fn control_dir(tmpdir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = if tmpdir.as_os_str().len() <= 60 {
        tmpdir
    } else {
        Path::new("/tmp")
    };
    let mut last = None;
    for i in 0..100u32 {
        let d = base.join(format!("fp-ssh-{}-{i}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => return Ok(d),
            Err(e) => last = Some(e),
        }
    }
    let e = last.expect("tried");
    Err(Error::new(format!(
        "cannot create a directory for ssh control sockets in {}: {}",
        base.display(),
        crate::error::io_reason(&e)
    ))
    .with_hint("point --tmpdir or TMPDIR at a writable directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_take_a_slot_count_a_command_or_a_colon() {
        let l = parse_login(b"4/user@h1").unwrap();
        assert_eq!(
            (l.slots, l.name.as_str(), l.local),
            (Some(4), "user@h1", false)
        );
        assert_eq!(l.dest, "user@h1");
        let l = parse_login(b":").unwrap();
        assert!(l.local && l.slots.is_none());
        let l = parse_login(b"2/ssh -p 2222 h2").unwrap();
        assert_eq!(l.slots, Some(2));
        assert_eq!(l.ssh, Some(vec!["ssh".into(), "-p".into(), "2222".into()]));
        assert_eq!(l.dest, "h2");
        assert!(parse_login(b"0/h").is_err());
        assert!(parse_login(b"3/").is_err());
        // A slash that is not after a count is part of the host.
        assert_eq!(parse_login(b"a/b").unwrap().dest, "a/b");
    }

    #[test]
    fn a_host_listed_again_adds_its_slots() {
        let list = |entries: &[&str]| {
            merge(
                entries
                    .iter()
                    .map(|e| parse_login(e.as_bytes()).unwrap())
                    .collect(),
            )
            .into_iter()
            .map(|l| (l.name, l.slots))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            list(&["n1", "n2", "n1", "n1"]),
            [("n1".to_string(), Some(3)), ("n2".to_string(), None)]
        );
        assert_eq!(list(&["2/n1", "3/n1"]), [("n1".to_string(), Some(5))]);
    }
}
