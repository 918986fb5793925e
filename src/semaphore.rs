//! `--semaphore`, and forkpool invoked as `sem`: a counting semaphore for shell scripts, as GNU
//! parallel's `sem`. `sem --id publish -j1 --fg ./publish.sh` runs the command once no other
//! holder of `publish` runs; without `--fg` it returns as soon as it holds a slot and the
//! command runs on in the background; `--wait` waits for every holder of the id.
//!
//! A semaphore is a directory of slot files in a per-user runtime directory
//! (`$XDG_RUNTIME_DIR/forkpool/sem/ID`, else `/tmp/forkpool-UID/sem/ID`; each level mode 0700 and
//! checked to be the user's own). Holding a slot is holding an exclusive `flock` on its file,
//! taken by the forkpool process that runs the command. The kernel drops the lock when that
//! process's last descriptor of the file closes, so a holder killed with SIGKILL frees its slot at
//! once and nothing stale is left (GNU parallel keeps pid files that a later caller must find
//! dead). The holder's child, the shell that runs the command, gets the holder's death as SIGTERM
//! (`PR_SET_PDEATHSIG`); what the command started in turn is not signalled. Waiters try every slot without
//! blocking, then sleep on inotify until a slot file is closed (a holder ended), looking again
//! each second in any case.

use std::ffi::{OsStr, OsString};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::signal::{SigHandler, Signal, signal};

use crate::cli::Cli;
use crate::error::{Error, Result, io_reason};

/// What `--semaphore` runs with.
#[derive(Debug, PartialEq)]
pub struct SemOptions {
    /// The semaphore's name (`--id`).
    pub id: Vec<u8>,
    /// Holders at once (`-j`).
    pub slots: usize,
    pub fg: bool,
    /// `--wait`: wait for every holder instead of running a command.
    pub wait: bool,
    pub patience: Patience,
    /// The command, as shell code.
    pub command: Vec<u8>,
    pub shell: PathBuf,
}

/// `--semaphore-timeout`: what to do when no slot frees up in time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Patience {
    Forever,
    /// A positive timeout: run the command anyway, without a slot.
    Steal(Duration),
    /// A negative one: give up, exit 1.
    GiveUp(Duration),
}

/// How often a waiter looks at the slots when no inotify event woke it.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Whether the command line asks for the semaphore: `--semaphore` or an option that implies it
/// (as in GNU parallel), or forkpool invoked as `sem`.
pub fn wanted(cli: &Cli, argv0: Option<&OsStr>) -> bool {
    let as_sem = argv0
        .map(Path::new)
        .and_then(Path::file_name)
        .is_some_and(|n| n == "sem");
    as_sem
        || cli.semaphore
        || cli.semaphore_id.is_some()
        || cli.fg
        || cli.bg
        || cli.wait
        || cli.semaphore_timeout.is_some()
}

impl SemOptions {
    pub fn from_cli(cli: Cli) -> Result<SemOptions> {
        if cli
            .command
            .iter()
            .any(|w| matches!(w.as_bytes(), b":::" | b":::+" | b"::::" | b"::::+"))
            || !cli.arg_file.is_empty()
        {
            return Err(
                Error::new("a semaphore runs one command; it takes no ::: or :::: input")
                    .with_hint("drop --semaphore (or --id, --fg, --wait) to run jobs over inputs"),
            );
        }
        if cli.wait && !cli.command.is_empty() {
            return Err(Error::new("--wait takes no command")
                .with_hint("run the command with its own sem call, then `sem --wait --id ID`"));
        }
        if !cli.wait && cli.command.is_empty() {
            return Err(Error::new("--semaphore needs a command to run")
                .with_hint("write e.g. sem --id build -j2 make all, or sem --wait to wait"));
        }
        let slots = match &cli.jobs {
            Some(j) => crate::options::parse_jobs(j, crate::exec::cpu_count)?,
            None => 1,
        };
        if slots == 0 {
            return Err(Error::new("-j 0 would put no limit on the semaphore")
                .with_hint("give the number of holders at once, e.g. -j 4"));
        }
        let patience = match cli.semaphore_timeout.as_deref().map(str::trim) {
            None => Patience::Forever,
            Some(t) => {
                let (negative, abs) = match t.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, t),
                };
                let d = crate::options::parse_duration(abs, "--semaphore-timeout")?;
                match (d.is_zero(), negative) {
                    // As in GNU parallel, 0 is no timeout.
                    (true, _) => Patience::Forever,
                    (false, false) => Patience::Steal(d),
                    (false, true) => Patience::GiveUp(d),
                }
            }
        };
        let id = match cli.semaphore_id {
            Some(id) if id.is_empty() => {
                return Err(
                    Error::new("--id is empty").with_hint("name the semaphore, e.g. --id build")
                );
            }
            Some(id) => id.into_vec(),
            None => terminal_name(),
        };
        let mut command = Vec::new();
        for (i, w) in cli.command.iter().enumerate() {
            if i > 0 {
                command.push(b' ');
            }
            // As GNU parallel: the words are joined into one line of shell code, unless -q.
            if cli.quote {
                crate::template::quote(w.as_bytes(), &mut command);
            } else {
                command.extend_from_slice(w.as_bytes());
            }
        }
        Ok(SemOptions {
            id,
            slots,
            fg: cli.fg,
            wait: cli.wait,
            patience,
            command,
            shell: cli.shell.unwrap_or_else(|| PathBuf::from("/bin/sh")),
        })
    }
}

/// GNU parallel's default name: what `tty` prints for stdin.
fn terminal_name() -> Vec<u8> {
    match nix::unistd::ttyname(std::io::stdin()) {
        Ok(p) => p.into_os_string().into_vec(),
        Err(_) => b"not a tty".to_vec(),
    }
}

/// How the semaphore call ends: the exit status for forkpool.
pub fn run(opts: &SemOptions) -> Result<i32> {
    let dir = semaphore_dir(&opts.id)?;
    if opts.wait {
        wait_all(&dir)?;
        return Ok(0);
    }
    let lock = match acquire(&dir, opts.slots, opts.patience)? {
        Taken::Slot(lock) => Some(lock),
        Taken::Stolen => {
            crate::diag::warn("semaphore timed out; running the command without a slot");
            None
        }
        Taken::GaveUp => {
            crate::diag::warn("semaphore timed out; giving up");
            return Ok(1);
        }
    };
    if !opts.fg {
        // Return to the caller now; a child keeps the slot (the lock belongs to the open file,
        // which the child shares) and runs the command.
        // SAFETY: forkpool has started no thread in semaphore mode, so the child is a full copy.
        match unsafe { nix::unistd::fork() } {
            Ok(nix::unistd::ForkResult::Parent { .. }) => {
                // Dropping the lock here would unlock the child's shared file too.
                std::mem::forget(lock);
                return Ok(0);
            }
            Ok(nix::unistd::ForkResult::Child) => {}
            Err(e) => {
                return Err(Error::new(format!(
                    "cannot start the command in the background: {}",
                    e.desc()
                )));
            }
        }
    }
    let status = run_command(opts);
    drop(lock);
    status
}

/// Run the command with forkpool's stdin, stdout and stderr, and return its exit status (128 + N
/// when signal N killed it).
fn run_command(opts: &SemOptions) -> Result<i32> {
    let mut cmd = std::process::Command::new(&opts.shell);
    cmd.arg("-c").arg(OsStr::from_bytes(&opts.command));
    let holder = nix::unistd::getpid();
    // SAFETY: only async-signal-safe system calls run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // The holder died before the line above: its slot is free already.
            if nix::unistd::getppid() != holder {
                return Err(io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::new(format!(
            "cannot run the shell {}: {}",
            opts.shell.display(),
            io_reason(&e)
        ))
        .with_hint("see --shell")
    })?;
    // As system(3): Ctrl-C and Ctrl-\ reach the command (same process group), which decides;
    // forkpool waits for it and reports how it ended.
    // SAFETY: setting a signal to be ignored installs no handler.
    unsafe {
        let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
        let _ = signal(Signal::SIGQUIT, SigHandler::SigIgn);
    }
    let status = child
        .wait()
        .map_err(|e| Error::new(format!("cannot wait for the command: {}", io_reason(&e))))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// What waiting for a slot came to.
enum Taken {
    Slot(Flock<File>),
    /// `--semaphore-timeout` positive: run without one.
    Stolen,
    /// `--semaphore-timeout` negative.
    GaveUp,
}

/// Take a free slot of `slots`, waiting as `patience` allows.
fn acquire(dir: &Path, slots: usize, patience: Patience) -> Result<Taken> {
    // Watch before the first try, so a holder that ends in between still wakes the wait.
    let notify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
        .and_then(|i| i.add_watch(dir, AddWatchFlags::IN_CLOSE).map(|_| i))
        .ok();
    let mut files = (1..=slots)
        .map(|n| open_slot(dir, n))
        .collect::<Result<Vec<File>>>()?;
    let deadline = match patience {
        Patience::Forever => None,
        Patience::Steal(d) | Patience::GiveUp(d) => Some(Instant::now() + d),
    };
    loop {
        let mut kept = Vec::with_capacity(files.len());
        for f in files {
            match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(Taken::Slot(lock)),
                Err((f, Errno::EWOULDBLOCK | Errno::EINTR)) => kept.push(f),
                Err((_, e)) => {
                    return Err(Error::new(format!(
                        "cannot lock a slot of the semaphore in {}: {}",
                        dir.display(),
                        e.desc()
                    )));
                }
            }
        }
        files = kept;
        let now = Instant::now();
        let wait = match deadline {
            Some(d) if d <= now => {
                return Ok(match patience {
                    Patience::GiveUp(_) => Taken::GaveUp,
                    _ => Taken::Stolen,
                });
            }
            Some(d) => (d - now).min(LOOK_AGAIN),
            None => LOOK_AGAIN,
        };
        match &notify {
            Some(n) => {
                let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(u16::MAX);
                let mut fds = [PollFd::new(n.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, PollTimeout::from(ms));
                // Only the wake-up matters.
                while n.read_events().is_ok_and(|e| !e.is_empty()) {}
            }
            None => std::thread::sleep(wait.min(Duration::from_millis(100))),
        }
    }
}

/// `--wait`: take each slot's lock in turn (blocking), so every holder there was has ended.
fn wait_all(dir: &Path) -> Result<()> {
    let mut slots: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| dir_error(dir, &e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.as_bytes().starts_with(b"slot-"))
        })
        .collect();
    slots.sort();
    for path in slots {
        let Ok(file) = OpenOptions::new().read(true).open(&path) else {
            continue;
        };
        let mut file = file;
        loop {
            match Flock::lock(file, FlockArg::LockExclusive) {
                Ok(lock) => {
                    drop(lock);
                    break;
                }
                Err((f, Errno::EINTR)) => file = f,
                Err((_, e)) => {
                    return Err(Error::new(format!(
                        "cannot wait for the semaphore in {}: {}",
                        dir.display(),
                        e.desc()
                    )));
                }
            }
        }
    }
    Ok(())
}

fn open_slot(dir: &Path, n: usize) -> Result<File> {
    let path = dir.join(format!("slot-{n}"));
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| {
            Error::new(format!(
                "cannot open the semaphore slot {}: {}",
                path.display(),
                io_reason(&e)
            ))
        })
}

/// The directory of the semaphore `id`, made if need be.
fn semaphore_dir(id: &[u8]) -> Result<PathBuf> {
    let uid = nix::unistd::getuid().as_raw();
    let root = match std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && private_dir(d, uid).is_ok())
    {
        Some(xdg) => xdg.join("forkpool"),
        None => PathBuf::from(format!("/tmp/forkpool-{uid}")),
    };
    let dir = root.join("sem").join(file_name(id));
    let mut at = PathBuf::new();
    for part in [root.as_path(), Path::new("sem"), Path::new(&file_name(id))] {
        at.push(part);
        match DirBuilder::new().mode(0o700).create(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(dir_error(&at, &e)),
        }
        private_dir(&at, uid)?;
    }
    Ok(dir)
}

/// `dir` is a real directory (not a link), owned by `uid`, that no one else may write to.
fn private_dir(dir: &Path, uid: u32) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| dir_error(dir, &e))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        return Err(Error::new(format!(
            "{} is not a private directory of yours, so it cannot hold semaphores",
            dir.display()
        ))
        .with_hint("remove it, or set XDG_RUNTIME_DIR to a directory only you can write to"));
    }
    Ok(())
}

fn dir_error(dir: &Path, e: &io::Error) -> Error {
    Error::new(format!(
        "cannot use the semaphore directory {}: {}",
        dir.display(),
        io_reason(e)
    ))
}

/// A semaphore name as one file name: letters, digits, `-` and `_` as they are, every other byte
/// as `%XX` (so `/dev/pts/3` is `%2Fdev%2Fpts%2F3`, and no name is `.` or `..`).
fn file_name(id: &[u8]) -> OsString {
    let mut out = Vec::with_capacity(id.len());
    for &b in id {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    OsString::from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn opts(args: &[&str]) -> Result<SemOptions> {
        SemOptions::from_cli(
            Cli::try_parse_from(std::iter::once("forkpool").chain(args.iter().copied())).unwrap(),
        )
    }

    #[test]
    fn names_become_one_file_name() {
        assert_eq!(file_name(b"/dev/pts/3"), OsString::from("%2Fdev%2Fpts%2F3"));
        assert_eq!(file_name(b"build-1_a"), OsString::from("build-1_a"));
        assert_eq!(file_name(b".."), OsString::from("%2E%2E"));
        assert_eq!(file_name(b"a b\xff"), OsString::from("a%20b%FF"));
    }

    #[test]
    fn options_as_gnu_parallel_takes_them() {
        let o = opts(&["--id", "t", "-j2", "--fg", "echo", "a  b"]).unwrap();
        assert_eq!((o.slots, o.fg, o.wait), (2, true, false));
        assert_eq!(o.command, b"echo a  b");
        assert_eq!(o.patience, Patience::Forever);
        let o = opts(&["--id", "t", "--st", "-2", "true"]).unwrap();
        assert_eq!(o.patience, Patience::GiveUp(Duration::from_secs(2)));
        assert_eq!(o.slots, 1);
        let o = opts(&["--id", "t", "--semaphore-timeout", "1m", "true"]).unwrap();
        assert_eq!(o.patience, Patience::Steal(Duration::from_secs(60)));
        let o = opts(&["--id", "t", "-q", "echo", "a b"]).unwrap();
        assert_eq!(o.command, b"echo 'a b'");
        assert!(opts(&["--wait", "--id", "t"]).unwrap().wait);
        assert!(opts(&["--id", "t"]).is_err());
        assert!(opts(&["--wait", "--id", "t", "true"]).is_err());
        assert!(opts(&["--id", "t", "-j0", "true"]).is_err());
        assert!(opts(&["--id", "t", "echo", ":::", "a"]).is_err());
    }
}
