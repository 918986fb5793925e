//! A mock executor for the scheduler's unit tests: no processes, scripted behaviour over real
//! pipes (so the event loop reads a mock job exactly as it reads a real one), and a log of every
//! spawn and signal to assert on.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::signal::Signal;
use nix::unistd::pipe2;

use super::{Executor, SpawnError, SpawnSpec, Spawned};
use crate::job::{Command, Exit};

/// What one mock process does.
#[derive(Clone)]
pub struct Script {
    pub out: Vec<u8>,
    pub err: Vec<u8>,
    pub exit: Exit,
    /// How long it runs before it exits by itself.
    pub runtime: Duration,
    /// Only SIGKILL ends it.
    pub ignore_term: bool,
    /// After it exits, something it started keeps its pipes open, writes this, then closes them.
    pub late: Option<(Duration, Vec<u8>)>,
    /// It cannot start.
    pub spawn_error: Option<&'static str>,
    /// What holds the pipes after the exit (`late`) left the process group (a daemon).
    pub daemon: bool,
}

impl Script {
    pub fn ok(out: &str) -> Script {
        Script {
            out: out.as_bytes().to_vec(),
            err: Vec::new(),
            exit: Exit::Code(0),
            runtime: Duration::ZERO,
            ignore_term: false,
            late: None,
            spawn_error: None,
            daemon: false,
        }
    }

    pub fn exit(mut self, code: i32) -> Script {
        self.exit = Exit::Code(code);
        self
    }

    pub fn runs(mut self, d: Duration) -> Script {
        self.runtime = d;
        self
    }
}

type Scripts = Box<dyn Fn(&str) -> Script + Send + Sync>;

pub struct Mock {
    inner: Arc<Inner>,
}

struct Inner {
    scripts: Scripts,
    state: Mutex<State>,
    wake: EventFd,
}

#[derive(Default)]
struct State {
    next: u64,
    procs: HashMap<u64, Proc>,
    exited: Vec<(u64, Exit)>,
    log: Vec<String>,
}

struct Proc {
    cmd: String,
    pipes: Option<(File, File)>,
    running: bool,
    script: Script,
}

impl Mock {
    /// `scripts` maps a command line (its shell form) to what the process does.
    pub fn new(scripts: impl Fn(&str) -> Script + Send + Sync + 'static) -> Mock {
        Mock {
            inner: Arc::new(Inner {
                scripts: Box::new(scripts),
                state: Mutex::new(State::default()),
                wake: EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
                    .expect("eventfd"),
            }),
        }
    }

    /// A handle on the same mock, to read its log after the scheduler took the executor.
    pub fn share(&self) -> Mock {
        Mock {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Every spawn (`spawn <command>`) and signal (`SIGTERM <command>`) so far, in order.
    pub fn log(&self) -> Vec<String> {
        self.inner.state.lock().unwrap().log.clone()
    }
}

fn line(c: &Command) -> String {
    match c {
        Command::Shell(l) => String::from_utf8_lossy(l).into_owned(),
        Command::Direct(w) => w
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

impl Inner {
    /// Process `id` exits now (if it still runs); its pipes close unless something holds them.
    fn end(self: &Arc<Self>, id: u64, exit: Exit) {
        let mut st = self.state.lock().unwrap();
        let Some(p) = st.procs.get_mut(&id) else {
            return;
        };
        if !p.running {
            return;
        }
        p.running = false;
        match p.script.late.clone() {
            None => p.pipes = None,
            Some((after, bytes)) => {
                let me = Arc::clone(self);
                std::thread::spawn(move || {
                    std::thread::sleep(after);
                    let mut st = me.state.lock().unwrap();
                    if let Some((out, _)) = st.procs.get_mut(&id).and_then(|p| p.pipes.as_mut()) {
                        let _ = out.write_all(&bytes);
                    }
                    if let Some(p) = st.procs.get_mut(&id) {
                        p.pipes = None;
                    }
                });
            }
        }
        st.exited.push((id, exit));
        drop(st);
        let _ = self.wake.write(1);
    }
}

impl Executor for Mock {
    type Handle = u64;

    fn spawn(&self, spec: &SpawnSpec) -> Result<Spawned<u64>, SpawnError> {
        let cmd = line(&spec.command);
        let script = (self.inner.scripts)(&cmd);
        let mut st = self.inner.state.lock().unwrap();
        st.log.push(format!("spawn {cmd}"));
        if let Some(why) = script.spawn_error {
            return Err(SpawnError::Failed(why.to_string()));
        }
        let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC).expect("pipe");
        let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).expect("pipe");
        let (mut out_w, mut err_w) = (File::from(out_w), File::from(err_w));
        out_w
            .write_all(&script.out)
            .expect("small output fits the pipe");
        err_w
            .write_all(&script.err)
            .expect("small output fits the pipe");
        st.next += 1;
        let id = st.next;
        let runtime = script.runtime;
        let exit = script.exit;
        st.procs.insert(
            id,
            Proc {
                cmd: cmd.clone(),
                pipes: Some((out_w, err_w)),
                running: true,
                script,
            },
        );
        drop(st);
        let inner = Arc::clone(&self.inner);
        std::thread::spawn(move || {
            std::thread::sleep(runtime);
            inner.end(id, exit);
        });
        Ok(Spawned {
            handle: id,
            stdin: None,
            stdout: Some(out_r),
            stderr: Some(err_r),
        })
    }

    fn key(&self, id: &u64) -> u64 {
        *id
    }

    fn reap(&self, exited: &mut dyn FnMut(u64, Exit)) {
        let _ = self.inner.wake.read();
        let done = std::mem::take(&mut self.inner.state.lock().unwrap().exited);
        for (id, exit) in done {
            exited(id, exit);
        }
    }

    fn reaped(&self, _: &mut u64) {}

    fn signal(&self, id: &u64, sig: Option<Signal>) -> bool {
        let mut st = self.inner.state.lock().unwrap();
        let Some(p) = st.procs.get(id) else {
            return false;
        };
        let (running, ignore_term, cmd) = (p.running, p.script.ignore_term, p.cmd.clone());
        let alive = running || (p.pipes.is_some() && !p.script.daemon);
        let Some(sig) = sig else { return alive };
        if sig == Signal::SIGCONT {
            return alive;
        }
        st.log.push(format!("{} {cmd}", sig.as_str()));
        let dies = sig == Signal::SIGKILL || !ignore_term;
        if dies {
            if sig == Signal::SIGKILL
                && let Some(p) = st.procs.get_mut(id)
            {
                p.pipes = None;
            }
            drop(st);
            if running {
                self.inner.end(*id, Exit::Signal(sig as i32));
            }
        }
        alive
    }

    fn wake_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.inner.wake.as_fd())
    }
}
