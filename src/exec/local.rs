//! Local executor: each job is spawned as the leader of a new process group, with stdin from
//! /dev/null. There is no `pre_exec` hook, so std takes its fast posix_spawn path.
//!
//! A job whose command needs no shell is exec'ed directly. If that fails because the program is
//! not an executable file (a shell builtin such as `exit`, a missing command, a script without
//! a `#!` line), the same words go to the shell instead, which runs builtins and prints the
//! familiar "not found" message with status 127 or 126.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command as StdCommand, Stdio};

use super::{Executor, SpawnError, SpawnSpec, Spawned};
use crate::template::{Command, quote};

pub struct Local {
    pub shell: PathBuf,
}

impl Executor for Local {
    fn spawn(&self, spec: &SpawnSpec) -> Result<Spawned, SpawnError> {
        match &spec.command {
            Command::Direct(argv) => match self.start(argv, spec) {
                Err(e) if falls_back_to_shell(&e) => {
                    let mut line = Vec::new();
                    for (i, w) in argv.iter().enumerate() {
                        if i > 0 {
                            line.push(b' ');
                        }
                        quote(w, &mut line);
                    }
                    self.start_shell(&line, spec)
                }
                other => other.map_err(classify),
            },
            Command::Shell(line) => self.start_shell(line, spec),
        }
    }
}

impl Local {
    fn start_shell(&self, line: &[u8], spec: &SpawnSpec) -> Result<Spawned, SpawnError> {
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

    fn start<W: AsRef<[u8]>>(&self, argv: &[W], spec: &SpawnSpec) -> io::Result<Spawned> {
        let mut cmd = StdCommand::new(OsStr::from_bytes(argv[0].as_ref()));
        cmd.args(argv[1..].iter().map(|a| OsStr::from_bytes(a.as_ref())));
        cmd.stdin(Stdio::null());
        if spec.capture {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        cmd.process_group(0);
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd.spawn()?;
        let pid = child.id() as i32;
        Ok(Spawned {
            pid,
            stdout: child.stdout.take().map(Into::into),
            stderr: child.stderr.take().map(Into::into),
        })
    }
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
        // std refuses an argument with a NUL byte before any exec; say which rule was broken.
        None if e.kind() == io::ErrorKind::InvalidInput => SpawnError::Failed(
            "an argument holds a NUL byte, which no command can receive (NUL-separated input needs -0)".into(),
        ),
        _ => SpawnError::Failed(crate::error::io_reason(&e)),
    }
}
