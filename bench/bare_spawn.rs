//! Bare spawner: the floor for "N jobs of PROG at -j2" (std only).
//!
//! Usage: bare_spawn [-j THREADS] N PROG [ARGS...]
//!
//! Runs PROG [ARGS...] I for I in 1..=N, like `seq N | parallel -j2 PROG ARGS`.
//! Each of THREADS threads (default 2) takes a share of the jobs and spawns and
//! waits them one at a time, so at most THREADS children are in flight: the
//! same concurrency as `-j THREADS`, with no input parsing, no output handling
//! and no bookkeeping.  Children inherit stdin, stdout and stderr.
//! Exit status: 0 if every child exited 0, 1 otherwise, 2 on a usage error.
//!
//! Built by bench/run.sh with `rustc -O -o $TMP/bare_spawn bench/bare_spawn.rs`.

use std::env;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::thread;

fn usage() -> ExitCode {
    eprintln!("usage: bare_spawn [-j THREADS] N PROG [ARGS...]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = env::args().skip(1).collect();
    let mut threads: u64 = 2;
    if args.first().map(String::as_str) == Some("-j") {
        match args.get(1).and_then(|s| s.parse().ok()) {
            Some(t) if t > 0 => threads = t,
            _ => return usage(),
        }
        args.drain(..2);
    }
    if args.len() < 2 {
        return usage();
    }
    let n: u64 = match args[0].parse() {
        Ok(n) => n,
        Err(_) => return usage(),
    };
    let cmd = Arc::new(args.split_off(1)); // PROG ARGS...

    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let cmd = Arc::clone(&cmd);
            thread::spawn(move || {
                let mut failures = 0u64;
                // Thread t runs jobs t+1, t+1+threads, ...: an even split.
                let mut i = t + 1;
                while i <= n {
                    match Command::new(&cmd[0]).args(&cmd[1..]).arg(i.to_string()).status() {
                        Ok(status) if status.success() => {}
                        Ok(_) => failures += 1,
                        Err(e) => {
                            eprintln!("bare_spawn: cannot run {}: {e}", cmd[0]);
                            failures += 1;
                        }
                    }
                    i += threads;
                }
                failures
            })
        })
        .collect();

    let failures: u64 = handles.into_iter().map(|h| h.join().unwrap_or(1)).sum();
    if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
