//! Drive `exec::spawner::Spawner` the way the event loop would, to measure spawning alone.
//!
//! Usage: spawner_bench [-t THREADS] [-j JOBS] [--capture] N PROG [ARGS...]
//!
//! Runs PROG ARGS I for I in 1..=N with at most JOBS (default 2) children at once, like
//! `seq N | forkpool -jJOBS PROG ARGS`, through the local executor. One thread polls the
//! spawner's notification descriptor and a SIGCHLD self-pipe and reaps with `waitpid(-1)`.
//! THREADS (default 2) spawner threads start the jobs; with `-t 0` the polling thread spawns
//! them itself, as forkpool does today. `--capture` gives each job stdout and stderr pipes (which
//! are closed unread). Prints on stderr how many exits were reaped before their spawn result was
//! taken. Compare with `bench/bare_spawn.rs` under hyperfine:
//!
//! ```sh
//! cargo build --release --example spawner_bench
//! hyperfine -N 'target/release/examples/spawner_bench -t 0 5000 true' \
//!     'target/release/examples/spawner_bench -t 2 5000 true'
//! ```

use std::collections::HashSet;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use forkpool::exec::local::Local;
use forkpool::exec::spawner::{Done, Spawner};
use forkpool::exec::{Executor, SpawnSpec, Stdin};
use forkpool::job::{Command, Exit};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

fn usage() -> ExitCode {
    eprintln!("usage: spawner_bench [-t THREADS] [-j JOBS] [--capture] N PROG [ARGS...]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let (mut threads, mut jobs, mut capture) = (2usize, 2usize, false);
    loop {
        match args.first().map(String::as_str) {
            Some("-t") if args.len() > 1 => match args[1].parse() {
                Ok(t) => threads = t,
                Err(_) => return usage(),
            },
            Some("-j") if args.len() > 1 => match args[1].parse() {
                Ok(j) if j > 0 => jobs = j,
                _ => return usage(),
            },
            Some("--capture") => {
                capture = true;
                args.remove(0);
                continue;
            }
            _ => break,
        }
        args.drain(..2);
    }
    if args.len() < 2 {
        return usage();
    }
    let Ok(n) = args[0].parse::<u64>() else {
        return usage();
    };
    let words: Vec<Vec<u8>> = args[1..].iter().map(|a| a.as_bytes().to_vec()).collect();

    let (wake, notify) = UnixStream::pair().expect("socketpair");
    wake.set_nonblocking(true).expect("nonblocking");
    notify.set_nonblocking(true).expect("nonblocking");
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGCHLD, notify)
        .expect("SIGCHLD handler");

    let exec = Arc::new(Local {
        shell: PathBuf::from("/bin/sh"),
        nice: None,
    });
    let mut spawner: Spawner<Local> =
        Spawner::new(Arc::clone(&exec), threads).expect("spawner threads");
    let mut known = HashSet::new();
    let (mut next, mut running, mut finished, mut failures, mut early) =
        (1u64, 0usize, 0u64, 0u64, 0u64);
    let mut done: Vec<Done<Local>> = Vec::new();
    let spec = |i: u64| {
        let mut argv = words.clone();
        argv.push(i.to_string().into_bytes());
        SpawnSpec {
            command: Command::Direct(argv),
            capture,
            env: Vec::new(),
            stdin: Stdin::Null,
            slot: 1,
            transfer: Default::default(),
        }
    };
    let finish = |status: Exit, failures: &mut u64| {
        if !status.success() {
            *failures += 1;
        }
    };

    while finished < n {
        while running < jobs && next <= n {
            running += 1;
            if threads == 0 {
                // Spawn on this thread and know the pid at once, as forkpool does today.
                match exec.spawn(&spec(next)) {
                    Ok(s) => {
                        known.insert(s.handle.pid());
                    }
                    Err(_) => {
                        failures += 1;
                        finished += 1;
                        running -= 1;
                    }
                }
            } else {
                spawner.submit(next, spec(next));
            }
            next += 1;
        }
        let mut fds = [
            PollFd::new(spawner.notify_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => panic!("poll: {e}"),
        }
        let mut buf = [0u8; 64];
        while matches!((&wake).read(&mut buf), Ok(k) if k > 0) {}

        done.clear();
        spawner.take_done(&mut done);
        for d in done.drain(..) {
            match d.result {
                Ok(s) => match d.reaped {
                    Some(status) => {
                        early += 1;
                        finish(status, &mut failures);
                        finished += 1;
                        running -= 1;
                    }
                    None => {
                        known.insert(s.handle.pid());
                    }
                },
                Err(_) => {
                    failures += 1;
                    finished += 1;
                    running -= 1;
                }
            }
        }
        let mut exits = Vec::new();
        exec.reap(&mut |key, status| exits.push((key, status)));
        for (key, status) in exits {
            if known.remove(&(key as i32)) {
                finish(status, &mut failures);
                finished += 1;
                running -= 1;
            } else if !spawner.hold_exit(key, status) {
                eprintln!("spawner_bench: reaped a stranger, pid {key}");
            }
        }
    }
    eprintln!(
        "spawner_bench: {n} jobs, {failures} failed, {early} reaped before their spawn result"
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
