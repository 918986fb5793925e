//! The scheduler driven by the mock executor: no processes, scripted jobs over real pipes, and
//! assertions on what it printed, its exit status and every spawn and signal it sent.

use std::collections::HashMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;

use super::source::{Batcher, Inline, JobSource, Replay, Resumed};
use super::{Extras, Scheduler, Stop};
use crate::cli::Cli;
use crate::exec::mock::{Mock, Script};
use crate::input::Inputs;
use crate::options::{Options, Resume};
use crate::output::{Collector, Sink};
use crate::report::joblog::Logged;
use crate::template::{Syntax, Template};

struct Run {
    stdout: String,
    stderr: String,
    status: Result<i32, String>,
    stop: Option<Stop>,
    log: Vec<String>,
    took: Duration,
}

/// Run forkpool's scheduler on `args` (as typed after `forkpool`) with `mock` for an executor;
/// `logged`: a joblog's entries for `--resume*` and `--retry-failed`.
fn run_with(args: &[&str], mock: Mock, logged: HashMap<u64, Logged>) -> Run {
    let cli = Cli::try_parse_from(std::iter::once("forkpool").chain(args.iter().copied()))
        .expect("valid arguments");
    let (opts, input) = Options::from_cli(cli).expect("valid options");
    run_opts(&opts, input, mock, logged)
}

fn run_opts(
    opts: &Options,
    input: crate::input::InputConfig,
    mock: Mock,
    logged: HashMap<u64, Logged>,
) -> Run {
    let (inputs, names) = Inputs::open(input).expect("inputs");
    let syntax = Syntax {
        replace: None,
        names: &names,
        rpls: &Default::default(),
    };
    let template = Template::parse(&opts.command, false, false, true, &syntax).expect("template");
    let batcher = Batcher::new(inputs, opts.batching, usize::MAX, false, opts.jobs);
    let inline: Box<dyn JobSource> = Box::new(Inline::new(batcher, &template));
    let source: Box<dyn JobSource> = match opts.resume {
        Resume::No => inline,
        Resume::RetryFailed => Box::new(Replay::new(logged)),
        mode => Box::new(Resumed::new(inline, logged, mode)),
    };
    let dir = std::env::temp_dir();
    let name = format!("forkpool-unit-{}-{}", std::process::id(), unique());
    let (out_path, err_path) = (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.err")),
    );
    let out = std::fs::File::create(&out_path).unwrap();
    let err = std::fs::File::create(&err_path).unwrap();
    let sink = Sink::to_fds(out.as_raw_fd(), err.as_raw_fd());
    let collector = Collector::new(&opts.output, sink);
    let log = mock.share();
    let start = Instant::now();
    let mut s = Scheduler::new(
        opts,
        &template,
        source,
        mock,
        collector,
        opts.jobs,
        Extras::default(),
    )
    .expect("scheduler");
    let result = s.run();
    let took = start.elapsed();
    let status = result.map(|()| s.exit_status()).map_err(|e| e.to_string());
    let stop = s.stop;
    drop(s);
    let read = |p: &std::path::Path| {
        let mut text = String::new();
        std::fs::File::open(p)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let _ = std::fs::remove_file(p);
        text
    };
    Run {
        stdout: read(&out_path),
        stderr: read(&err_path),
        status,
        stop,
        log: log.log(),
        took,
    }
}

fn run(args: &[&str], mock: Mock) -> Run {
    run_with(args, mock, HashMap::new())
}

/// A joblog's entries: (seq, failed, command).
fn logged(entries: &[(u64, bool, &str)]) -> HashMap<u64, Logged> {
    entries
        .iter()
        .map(|&(seq, failed, cmd)| {
            let command = cmd.as_bytes().to_vec();
            (seq, Logged { failed, command })
        })
        .collect()
}

fn unique() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sorted(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

#[test]
fn a_failed_job_is_retried_until_it_succeeds() {
    let tries = Arc::new(AtomicUsize::new(0));
    let t = Arc::clone(&tries);
    let mock = Mock::new(move |cmd| match cmd {
        "flaky x" => {
            let n = t.fetch_add(1, Ordering::SeqCst) + 1;
            Script::ok(&format!("try {n}\n")).exit(if n < 3 { 1 } else { 0 })
        }
        _ => Script::ok(""),
    });
    let r = run(&["--retries", "3", "flaky", ":::", "x"], mock);
    assert_eq!(r.status, Ok(0));
    // Only the last attempt's output is printed.
    assert_eq!(r.stdout, "try 3\n");
    assert_eq!(r.log, ["spawn flaky x"; 3]);
}

#[test]
fn retries_give_up_after_the_last_attempt() {
    let mock = Mock::new(|_| Script::ok("no\n").exit(4));
    let r = run(&["--retries", "2", "job", ":::", "a", "b"], mock);
    assert_eq!(r.status, Ok(2));
    assert_eq!(r.log.len(), 4);
    assert_eq!(r.stdout, "no\nno\n");
}

#[test]
fn halt_now_stops_running_jobs_with_the_ladder() {
    let mock = Mock::new(|cmd| match cmd {
        "job fail" => Script::ok("").exit(3).runs(ms(50)),
        _ => Script::ok("").runs(Duration::from_secs(30)),
    });
    let r = run(
        &[
            "-j2",
            "--halt",
            "now,fail=1",
            "job",
            ":::",
            "slow",
            "fail",
            "never",
        ],
        mock,
    );
    assert_eq!(r.status, Ok(3), "the failing job's status");
    assert_eq!(r.stop, Some(Stop::Halt(crate::options::HaltWhen::Now)));
    assert_eq!(
        r.log,
        ["spawn job slow", "spawn job fail", "SIGTERM job slow"]
    );
    assert!(r.took < Duration::from_secs(10), "{:?}", r.took);
}

#[test]
fn halt_soon_lets_running_jobs_finish_and_starts_no_more() {
    let mock = Mock::new(|cmd| match cmd {
        "job fail" => Script::ok("").exit(1).runs(ms(20)),
        "job slow" => Script::ok("slow done\n").runs(ms(300)),
        _ => Script::ok("never\n"),
    });
    let r = run(
        &[
            "-j2",
            "--halt",
            "soon,fail=1",
            "job",
            ":::",
            "slow",
            "fail",
            "later",
        ],
        mock,
    );
    assert_eq!(r.status, Ok(1));
    assert_eq!(r.stdout, "slow done\n");
    assert_eq!(r.log, ["spawn job slow", "spawn job fail"]);
}

#[test]
fn a_timed_out_job_climbs_the_whole_ladder_when_it_ignores_term() {
    let mock = Mock::new(|_| Script {
        ignore_term: true,
        ..Script::ok("started\n").runs(Duration::from_secs(60))
    });
    let r = run(
        &[
            "--timeout",
            "0.1",
            "--termseq",
            "TERM,100,KILL,50",
            "stubborn",
            ":::",
            "1",
        ],
        mock,
    );
    assert_eq!(r.status, Ok(1), "a timed-out job failed");
    assert_eq!(r.stdout, "started\n", "output before the kill is kept");
    assert_eq!(
        r.stderr, "",
        "diagnostics go to forkpool's own stderr, not the sink"
    );
    assert_eq!(
        r.log,
        [
            "spawn stubborn 1",
            "SIGTERM stubborn 1",
            "SIGKILL stubborn 1"
        ]
    );
}

#[test]
fn keep_order_passes_the_turns_of_skipped_jobs() {
    // Jobs 1 and 3 are done according to the joblog; 2 is slow and 4 is fast: 4 waits for 2
    // only, and nothing waits for the skipped turns.
    let mock = Mock::new(|cmd| match cmd {
        "job 2" => Script::ok("two\n").runs(ms(200)),
        "job 4" => Script::ok("four\n"),
        other => panic!("{other} was done already"),
    });
    let logged = logged(&[(1, false, "job 1"), (3, false, "job 3")]);
    let r = run_with(
        &[
            "-k",
            "-j2",
            "--resume",
            "--joblog",
            "/dev/null",
            "job",
            ":::",
            "1",
            "2",
            "3",
            "4",
        ],
        mock,
        logged,
    );
    assert_eq!(r.status, Ok(0));
    assert_eq!(r.stdout, "two\nfour\n");
}

#[test]
fn retry_failed_replays_logged_commands_in_order_with_gaps() {
    let mock = Mock::new(|cmd| Script::ok(&format!("{cmd}\n")));
    let logged = logged(&[
        (1, false, "echo 1"),
        (2, true, "echo 2"),
        (3, false, "echo 3"),
        (4, true, "echo 4"),
    ]);
    let r = run_with(
        &["-k", "--retry-failed", "--joblog", "/dev/null"],
        mock,
        logged,
    );
    assert_eq!(r.status, Ok(0));
    assert_eq!(r.stdout, "echo 2\necho 4\n");
    assert_eq!(r.log, ["spawn echo 2", "spawn echo 4"]);
}

#[test]
fn a_job_that_exits_while_its_output_is_still_coming_gets_all_of_it() {
    let mock = Mock::new(|_| Script {
        late: Some((ms(150), b"late\n".to_vec())),
        ..Script::ok("early\n")
    });
    let r = run(&["job", ":::", "1"], mock);
    assert_eq!(r.status, Ok(0));
    assert_eq!(r.stdout, "early\nlate\n");
}

#[test]
fn a_daemon_holding_the_pipe_does_not_keep_the_job_running() {
    let mock = Mock::new(|_| Script {
        late: Some((Duration::from_secs(60), b"never\n".to_vec())),
        daemon: true,
        ..Script::ok("hi\n")
    });
    let r = run(&["job", ":::", "1"], mock);
    assert_eq!(r.status, Ok(0));
    assert_eq!(r.stdout, "hi\n");
    assert!(r.took < Duration::from_secs(10), "{:?}", r.took);
}

#[test]
fn workers_init_run_jobs_and_recycle_after_max_jobs() {
    let mock = Mock::new(|_| Script::ok(""));
    let r = run(
        &[
            "-j1",
            "--init",
            "init",
            "--teardown",
            "down",
            "--worker-max-jobs",
            "2",
            "job",
            ":::",
            "1",
            "2",
            "3",
        ],
        mock,
    );
    assert_eq!(r.status, Ok(0));
    assert_eq!(
        r.log,
        [
            "spawn init",
            "spawn job 1",
            "spawn job 2",
            "spawn down",
            "spawn init",
            "spawn job 3",
            "spawn down",
        ]
    );
}

#[test]
fn a_failing_init_is_torn_down_retried_and_its_slot_retired() {
    let mock = Mock::new(|cmd| match cmd {
        "init" => Script::ok("no database\n").exit(2),
        _ => Script::ok(""),
    });
    let r = run(
        &[
            "-j1",
            "--init",
            "init",
            "--teardown",
            "down",
            "job",
            ":::",
            "1",
        ],
        mock,
    );
    let err = r
        .status
        .expect_err("every slot retired is forkpool's error");
    assert!(err.contains("--init failed in every worker slot"), "{err}");
    assert!(err.contains("exited with status 2: no database"), "{err}");
    // Each failed init is followed by the teardown (it may have half set up); no job runs.
    assert_eq!(r.log, ["spawn init", "spawn down"].repeat(3));
}

#[test]
fn jobs_run_in_slots_up_to_the_limit_and_exit_statuses_add_up() {
    let mock = Mock::new(|cmd| {
        let n: i32 = cmd.rsplit(' ').next().unwrap().parse().unwrap();
        Script::ok(&format!("{n}\n"))
            .exit(i32::from(n % 3 == 0))
            .runs(ms(10))
    });
    let args: Vec<String> = ["-j3", "job", ":::"]
        .iter()
        .map(|s| s.to_string())
        .chain((1..=30).map(|n| n.to_string()))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(&args, mock);
    assert_eq!(r.status, Ok(10));
    let mut want: Vec<String> = (1..=30).map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(sorted(&r.stdout), want);
    assert_eq!(r.log.len(), 30);
}
