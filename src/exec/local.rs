//! Local executor: each job is spawned as the leader of a new process group, with stdin from
//! /dev/null.
//!
//! A job whose command needs no shell is exec'ed directly. If that fails because the program is
//! not an executable file (a shell builtin such as `exit`, a missing command, a script without
//! a `#!` line), the same words go to the shell instead, which runs builtins and prints the
//! familiar "not found" message with status 127 or 126.
//!
//! Jobs start with `posix_spawn` (glibc 2.24 and later: a clone(CLONE_VM|CLONE_VFORK) that
//! returns exec's error, such as ENOENT, which the shell fallback needs). std's `Command` would
//! copy, sort and rebuild forkpool's whole environment on every spawn that adds a variable;
//! here that environment is captured once, and each job's is the captured one with the job's
//! variables replacing or joining it.

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::spawn::{
    PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawn, posix_spawnp,
};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{Pid, pipe2};

use super::group::{self, Group};
use super::{Executor, SpawnError, SpawnSpec, Spawned, Stdin};
use crate::job::{Command, Exit};
use crate::template::{is_csh, quote, quote_csh};

pub struct Local {
    pub shell: PathBuf,
    /// `--nice`: each job's process group is set to this niceness as soon as it is spawned.
    pub nice: Option<i32>,
}

impl Executor for Local {
    type Handle = Group;

    fn spawn(&self, spec: &SpawnSpec) -> Result<Spawned<Group>, SpawnError> {
        match &spec.command {
            Command::Direct(argv) => match self.start(argv, spec) {
                Err(e) if falls_back_to_shell(&e) => {
                    let mut line = Vec::new();
                    for (i, w) in argv.iter().enumerate() {
                        if i > 0 {
                            line.push(b' ');
                        }
                        if is_csh(&self.shell) {
                            quote_csh(w, &mut line);
                        } else {
                            quote(w, &mut line);
                        }
                    }
                    self.start_shell(&line, spec)
                }
                other => other.map_err(classify),
            },
            Command::Shell(line) => self.start_shell(line, spec),
        }
    }

    fn key(&self, handle: &Group) -> u64 {
        handle.pid() as u64
    }

    fn reap(&self, exited: &mut dyn FnMut(u64, Exit)) {
        group::reap(&mut |pid, exit| exited(pid as u64, exit));
    }

    fn reaped(&self, handle: &mut Group) {
        handle.leader_reaped();
    }

    fn signal(&self, handle: &Group, sig: Option<Signal>) -> bool {
        handle.signal(sig)
    }

    fn shutdown(&self) {
        group::kill_descendants();
    }
}

impl Local {
    fn start_shell(&self, line: &[u8], spec: &SpawnSpec) -> Result<Spawned<Group>, SpawnError> {
        let argv = [self.shell.as_os_str().as_bytes(), b"-c", line];
        self.start(&argv, spec).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                SpawnError::Failed(format!(
                    "cannot run the shell {}: not found (see --shell)",
                    self.shell.display()
                ))
            } else {
                classify(e)
            }
        })
    }

    fn start<W: AsRef<[u8]>>(&self, argv: &[W], spec: &SpawnSpec) -> io::Result<Spawned<Group>> {
        let args = argv
            .iter()
            .map(|w| c_string(w.as_ref().to_vec()))
            .collect::<io::Result<Vec<_>>>()?;
        let base = base_env();
        let job = JobEnv::new(base, &spec.env)?;
        let envp = base.with(&job);

        let mut actions = PosixSpawnFileActions::init()?;
        let stdin = match spec.stdin {
            Stdin::Null => {
                actions.add_dup2(dev_null()?.as_raw_fd(), 0)?;
                None
            }
            Stdin::Pipe => {
                let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
                actions.add_dup2(read.as_raw_fd(), 0)?;
                Some((read, write))
            }
        };
        // All of forkpool's descriptors are close-on-exec, so a job spawned at the same time on
        // another thread gets none of these pipes. The write ends are never 0, 1 or 2 (those
        // stay open: Rust's runtime opens /dev/null on any that forkpool started without), so
        // each dup2 really duplicates and the copy on 1 or 2 loses close-on-exec.
        let pipes = if spec.capture {
            let (out, err) = (pipe2(OFlag::O_CLOEXEC)?, pipe2(OFlag::O_CLOEXEC)?);
            debug_assert!(out.1.as_raw_fd() > 2 && err.1.as_raw_fd() > 2);
            actions.add_dup2(out.1.as_raw_fd(), 1)?;
            actions.add_dup2(err.1.as_raw_fd(), 2)?;
            Some((out, err))
        } else {
            None
        };
        let attr = job_attr()?;
        let program = &args[0];
        let pid = match job.path.filter(|_| !program.to_bytes().contains(&b'/')) {
            Some(path) => spawn_in_path(path, program, &actions, &attr, &args, &envp),
            // posix_spawnp searches forkpool's own PATH, which is the job's unless the job sets
            // one (the arm above).
            None => posix_spawnp(program, &actions, &attr, &args, &envp),
        }?;
        if let Some(n) = self.nice {
            group::renice(pid.as_raw(), n);
        }
        // The pipes' write ends close here: only the job holds them now.
        let (stdout, stderr) = match pipes {
            Some(((out, _), (err, _))) => (Some(out), Some(err)),
            None => (None, None),
        };
        Ok(Spawned {
            handle: Group::new(pid.as_raw()),
            stdin: stdin.map(|(_, write)| write),
            stdout,
            stderr,
        })
    }
}

/// The spawn attributes of every job: its own process group, no signal blocked, and the signals
/// forkpool ignores or catches at their default. Rust's runtime ignores SIGPIPE, which a job
/// would inherit (`yes | head` would end with "Broken pipe" on stderr, and a writer that ignores
/// write errors would never end); caught signals are reset by exec anyway, and listing them
/// also covers a spawn before forkpool installs its handlers. Other ignored signals pass on as
/// they came to forkpool (`nohup`, a shell's background job), as with std.
fn job_attr() -> nix::Result<PosixSpawnAttr> {
    let mut attr = PosixSpawnAttr::init()?;
    attr.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
    )?;
    attr.set_pgroup(Pid::from_raw(0))?;
    attr.set_sigmask(&SigSet::empty())?;
    let mut default = SigSet::empty();
    for sig in [
        Signal::SIGPIPE,
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGTSTP,
        Signal::SIGCONT,
    ] {
        default.add(sig);
    }
    attr.set_sigdefault(&default)?;
    Ok(attr)
}

/// Spawn `program` (no `/` in it) found in `path`, the job's own PATH, the way execvp searches:
/// an empty entry is the current directory, and a later entry is tried after a missing file or
/// a denied one (EACCES if any was denied).
fn spawn_in_path(
    path: &OsStr,
    program: &CStr,
    actions: &PosixSpawnFileActions,
    attr: &PosixSpawnAttr,
    args: &[CString],
    envp: &[&CStr],
) -> nix::Result<Pid> {
    let mut denied = false;
    let mut file = Vec::new();
    for dir in path.as_bytes().split(|&b| b == b':') {
        file.clear();
        file.extend_from_slice(dir);
        if !dir.is_empty() {
            file.push(b'/');
        }
        file.extend_from_slice(program.to_bytes());
        match posix_spawn(file.as_slice(), actions, attr, args, envp) {
            Err(Errno::EACCES) => denied = true,
            Err(
                Errno::ENOENT
                | Errno::ENOTDIR
                | Errno::ESTALE
                | Errno::ENODEV
                | Errno::ETIMEDOUT
                | Errno::ENAMETOOLONG,
            ) => {}
            done => return done,
        }
    }
    Err(if denied { Errno::EACCES } else { Errno::ENOENT })
}

/// /dev/null, opened once (close-on-exec) for every job's stdin.
fn dev_null() -> io::Result<BorrowedFd<'static>> {
    static NULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = NULL.get() {
        return Ok(fd.as_fd());
    }
    let fd = OwnedFd::from(std::fs::File::open("/dev/null")?);
    Ok(NULL.get_or_init(|| fd).as_fd())
}

fn c_string(bytes: Vec<u8>) -> io::Result<CString> {
    // std refuses a NUL byte in the same way, before any exec.
    CString::new(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// forkpool's environment, captured at the first spawn (forkpool never changes its own).
fn base_env() -> &'static BaseEnv {
    static BASE: OnceLock<BaseEnv> = OnceLock::new();
    BASE.get_or_init(|| BaseEnv::new(std::env::vars_os()))
}

struct BaseEnv {
    /// `KEY=VALUE`, one per key.
    entries: Vec<CString>,
    /// Where each key is in `entries`.
    index: HashMap<OsString, usize>,
}

impl BaseEnv {
    fn new(vars: impl Iterator<Item = (OsString, OsString)>) -> BaseEnv {
        let mut base = BaseEnv {
            entries: Vec::new(),
            index: HashMap::new(),
        };
        for (k, v) in vars {
            // An environment string holds no NUL byte, so this only skips the impossible.
            let Ok(entry) = c_string(key_value(&k, &v)) else {
                continue;
            };
            // A key listed twice keeps its last value, as std's Command would.
            match base.index.get(&k) {
                Some(&i) => base.entries[i] = entry,
                None => {
                    base.index.insert(k, base.entries.len());
                    base.entries.push(entry);
                }
            }
        }
        base
    }

    /// The environment of a job: these entries but the ones it replaces, then its own.
    fn with<'a>(&'a self, job: &'a JobEnv) -> Vec<&'a CStr> {
        let mut envp = Vec::with_capacity(self.entries.len() + job.entries.len());
        envp.extend(
            self.entries
                .iter()
                .enumerate()
                .filter(|(i, _)| !job.replaced.contains(i))
                .map(|(_, e)| e.as_c_str()),
        );
        envp.extend(job.entries.iter().map(CString::as_c_str));
        envp
    }
}

/// A job's own variables.
struct JobEnv<'a> {
    /// `KEY=VALUE`, one per key.
    entries: Vec<CString>,
    /// The indexes of the base entries with the same keys.
    replaced: Vec<usize>,
    /// The job's PATH, if it sets one.
    path: Option<&'a OsStr>,
}

impl<'a> JobEnv<'a> {
    fn new(base: &BaseEnv, vars: &'a [(OsString, OsString)]) -> io::Result<JobEnv<'a>> {
        let mut job = JobEnv {
            entries: Vec::with_capacity(vars.len()),
            replaced: Vec::new(),
            path: None,
        };
        for (i, (k, v)) in vars.iter().enumerate() {
            // A key given twice takes its last value, as with std's Command::envs. The lists are
            // a handful of variables long, so a scan beats hashing.
            if vars[i + 1..].iter().any(|(later, _)| later == k) {
                continue;
            }
            if let Some(&b) = base.index.get(k) {
                job.replaced.push(b);
            }
            if k == "PATH" {
                job.path = Some(v);
            }
            job.entries.push(c_string(key_value(k, v))?);
        }
        Ok(job)
    }
}

fn key_value(k: &OsStr, v: &OsStr) -> Vec<u8> {
    let mut kv = Vec::with_capacity(k.len() + v.len() + 2);
    kv.extend_from_slice(k.as_bytes());
    kv.push(b'=');
    kv.extend_from_slice(v.as_bytes());
    kv
}

fn falls_back_to_shell(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(nix::libc::ENOENT | nix::libc::EACCES | nix::libc::ENOEXEC | nix::libc::ENOTDIR)
    )
}

fn classify(e: io::Error) -> SpawnError {
    match e.raw_os_error() {
        Some(nix::libc::EAGAIN | nix::libc::ENOMEM | nix::libc::EMFILE | nix::libc::ENFILE) => {
            SpawnError::Transient(e)
        }
        Some(nix::libc::E2BIG) => {
            SpawnError::Failed("the command line is longer than the system allows".into())
        }
        // A NUL byte is refused before any exec; say which rule was broken.
        None if e.kind() == io::ErrorKind::InvalidInput => SpawnError::Failed(
            "an argument holds a NUL byte, which no command can receive (NUL-separated input needs -0)".into(),
        ),
        _ => SpawnError::Failed(crate::error::io_reason(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        list.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    fn render(envp: &[&CStr]) -> Vec<String> {
        envp.iter()
            .map(|e| e.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn job_variables_replace_or_join_the_base() {
        let base = BaseEnv::new(vars(&[("A", "1"), ("SLOT", "99"), ("B", "2")]).into_iter());
        let own = vars(&[("SEQ", "7"), ("SLOT", "3")]);
        let job = JobEnv::new(&base, &own).unwrap();
        assert_eq!(job.path, None);
        assert_eq!(render(&base.with(&job)), ["A=1", "B=2", "SEQ=7", "SLOT=3"]);
        let none = JobEnv::new(&base, &[]).unwrap();
        assert_eq!(render(&base.with(&none)), ["A=1", "SLOT=99", "B=2"]);
    }

    #[test]
    fn a_key_given_twice_takes_its_last_value() {
        let base = BaseEnv::new(vars(&[("A", "1"), ("A", "2"), ("PATH", "/bin")]).into_iter());
        assert_eq!(base.entries.len(), 2);
        let own = vars(&[("X", "a"), ("PATH", "/x"), ("X", "b"), ("PATH", "/y")]);
        let job = JobEnv::new(&base, &own).unwrap();
        assert_eq!(job.path, Some(OsStr::new("/y")));
        assert_eq!(render(&base.with(&job)), ["A=2", "X=b", "PATH=/y"]);
    }

    #[test]
    fn a_nul_byte_in_a_variable_is_invalid_input() {
        let base = BaseEnv::new(std::iter::empty());
        let own = vars(&[("A", "x\0y")]);
        let e = JobEnv::new(&base, &own).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
