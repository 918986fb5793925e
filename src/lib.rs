//! forkpool: a streaming, bounded process pool that speaks GNU parallel.
//!
//! Data flows one way: `input` (records) -> `template` (one command per job) -> `scheduler`
//! (slots, the event loop, supervised processes) -> `exec` (executors: spawn, signal, reap) ->
//! `output` (collection and printing) -> `report` (progress, joblog, exit status). Imports flow
//! the same way down to the shared vocabulary in `job`, `diag`, `error`, `cli` and `reactor`.
//! This file only wires the stages together.

pub mod cli;
pub mod diag;
pub mod error;
pub mod exec;
pub mod input;
pub mod job;
pub mod options;
pub mod output;
pub mod reactor;
pub mod report;
pub mod scheduler;
pub mod semaphore;
pub mod template;

use std::sync::Arc;

use clap::Parser;

use error::Result;
use job::{Job, Stream};
use options::Options;
use output::{Collector, Sink};
use scheduler::source::{Batcher, Inline, JobSource, Replay, Resumed, Threaded};
use scheduler::{Scheduler, Stop};
use template::{JobView, Syntax, Template};

pub use reactor::die_by;

/// How the process should end.
pub enum Outcome {
    Exit(i32),
    /// Die of this signal, as the caller would expect after Ctrl-C or SIGTERM.
    Signal(i32),
}

/// forkpool's exit status for its own errors.
pub const EXIT_ERROR: i32 = 255;

pub fn run() -> Outcome {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            if let Some(why) = cli::explain_unknown(&e) {
                diag::error(&why.to_string(), why.hint());
                return Outcome::Exit(EXIT_ERROR);
            }
            // clap's own message (with its suggestions), in forkpool's error style.
            diag::raw(&format!("forkpool: {e}"));
            return Outcome::Exit(EXIT_ERROR);
        }
        Err(e) => {
            // --help and --version.
            let _ = e.print();
            return Outcome::Exit(0);
        }
    };
    match execute(cli) {
        Ok(o) => o,
        Err(e) => {
            diag::error(&e.to_string(), e.hint());
            Outcome::Exit(EXIT_ERROR)
        }
    }
}

fn execute(cli: cli::Cli) -> Result<Outcome> {
    if semaphore::wanted(&cli, std::env::args_os().next().as_deref()) {
        let opts = semaphore::SemOptions::from_cli(cli)?;
        return Ok(Outcome::Exit(semaphore::run(&opts)?));
    }
    let (opts, input) = Options::from_cli(cli)?;
    // `--bar`, `--eta` and `--halt ...%`: `:::` lists and regular files are counted up front on
    // a copy of the inputs.
    let percent_halt = opts
        .halt
        .is_some_and(|h| matches!(h.threshold, options::Threshold::Percent(_)));
    let countable = ((opts.progress != options::Progress::Off || percent_halt)
        && opts.resume == options::Resume::No
        && !opts.dry_run
        && opts.pipe.is_none()
        && !input.sources.is_empty()
        // Lists and regular files can be read twice; stdin and pipes cannot.
        && input
            .sources
            .iter()
            .all(|s| s.kind.never_waits() && !s.kind.is_stdin()))
    .then(|| input.clone());
    // Reads that can wait (stdin, pipes, terminals) go to a reader thread, so that a quiet
    // input never holds up the event loop.
    let may_wait = !input.sources.iter().all(|s| s.kind.never_waits());
    // `{##}`, `{0#}` (--plus) and `total_jobs()` need the number of jobs before the first one
    // starts: keep a copy of the inputs to count them when the command may use them.
    let for_total = opts
        .command
        .iter()
        .chain(opts.output.tag.as_ref())
        .any(|w| template::may_need_total(w))
        .then(|| input.clone());
    // Pipe mode reads its input itself, in blocks.
    let (inputs, names) = if opts.pipe.is_some() {
        input::Inputs::open(input::InputConfig {
            sources: vec![input::SourceSpec {
                kind: input::SourceKind::Args(Vec::new()),
                linked: false,
            }],
            header: false,
            ..input
        })?
    } else {
        input::Inputs::open(input)?
    };
    let rpls = template::Rpls::new(&opts.rpl, opts.plus)?;
    let syntax = Syntax {
        replace: opts.replace.as_deref(),
        names: &names,
        rpls: &rpls,
    };
    let (slots, max_slots) = job_slots(&opts);
    let on_all = opts.remote.as_ref().and_then(|r| r.on_all);
    // Job N runs in slot N, which is host N's only slot, because all start at once and none
    // runs again.
    if on_all.is_some() && (opts.delay.is_some() || opts.retries > 1) {
        return Err(error::Error::new(
            "--delay and --retries do not work with --onall or --nonall",
        )
        .with_hint("leave them out: every host runs its jobs at once, once"));
    }
    let hosts = match opts.remote.as_ref().filter(|_| !opts.dry_run) {
        Some(r) => Some(connect(r, &opts)?),
        None => None,
    };
    let slots = match &hosts {
        Some(h) => h.slots().min(max_slots),
        None => slots,
    };
    let mut template = Template::parse(
        &opts.command,
        opts.quote_words,
        opts.context_replace,
        // In pipe mode (and for --persistent workers) the input arrives on stdin, not as an
        // argument.
        opts.pipe.is_none() && opts.workers.as_ref().is_none_or(|w| w.persistent.is_none()),
        &syntax,
    )?
    .for_csh(template::is_csh(&opts.shell))
    .in_shell(options::names_exported_function(&opts.command))
    .for_slots(slots);
    let mut tag_template = opts
        .output
        .tag
        .as_ref()
        // As GNU parallel: under -X, -N and -L the tag's `{}` is filled once per value too.
        .map(|t| {
            Template::parse(
                std::slice::from_ref(t),
                false,
                opts.context_replace,
                false,
                &syntax,
            )
        })
        .transpose()?
        .map(|t| t.for_slots(slots));
    let count_tag = tag_template
        .as_ref()
        .is_some_and(|t| t.counts_beside(&template));
    if template.needs_total() || tag_template.as_ref().is_some_and(Template::needs_total) {
        let total = for_total
            .filter(|i| {
                i.sources
                    .iter()
                    .all(|s| s.kind.never_waits() && !s.kind.is_stdin())
            })
            .and_then(|i| count_jobs(i, &opts, &template, slots, count_tag));
        match total {
            Some(n) => {
                template.set_total(n);
                if let Some(t) = &mut tag_template {
                    t.set_total(n);
                }
            }
            None => {
                return Err(error::Error::new(
                    "{##} and {0#} need the number of jobs before they start, which input from stdin or a pipe does not give",
                )
                .with_hint("give the input as ::: values or :::: files"));
            }
        }
    }
    let template = Arc::new(template);

    let mut batcher = Batcher::new(
        inputs,
        opts.batching,
        opts.max_chars,
        opts.check_length,
        slots,
    )
    .counting_tag(count_tag);
    if opts.dry_run {
        // --cat and --fifo: `{}` stands for the file as GNU parallel prints it, unquoted.
        let raw = opts
            .pipe
            .as_ref()
            .is_some_and(|p| p.via != options::Via::Stdin);
        let mut next: Box<dyn FnMut() -> Result<Option<Job>>> = match &opts.pipe {
            Some(pipe) => {
                // A job per block, as the run would cut them.
                let blocks = scheduler::pipe::count_jobs(pipe, slots)?;
                let value: &[u8] = if raw { b"$PARALLEL_TMP" } else { b"" };
                let mut seq = 0;
                Box::new(move || {
                    seq += 1;
                    Ok((seq <= blocks).then(|| Job::new(seq, vec![vec![value.to_vec()]])))
                })
            }
            None => Box::new(|| batcher.next_job(&template)),
        };
        return dry_run(&mut next, &template, tag_template.as_ref(), &opts, raw);
    }
    let mut total = countable.and_then(|c| count_jobs(c, &opts, &template, slots, count_tag));
    if let Some(pipe) = &opts.pipe {
        // --pipepart knows its blocks up front (for --bar and --halt N%).
        total = scheduler::pipe::count_parts(pipe, slots);
    }
    let earlier = match &opts.joblog {
        Some(path) if opts.resume != options::Resume::No => report::joblog::read(path)?,
        _ => Default::default(),
    };
    let (logged, logged_whole) = (earlier.jobs, earlier.whole);
    // `--retry-failed` with no joblog yet: nothing ran before, so the inputs run (as GNU).
    let resume = match opts.resume {
        options::Resume::RetryFailed if !earlier.found => options::Resume::Failed,
        r => r,
    };
    let mut _scratch = None;
    // Pipe mode on a file: the input's size, which --bar then counts in.
    let mut bytes = None;
    let source: Box<dyn JobSource + '_> = if let (Some(all), Some(h)) = (on_all, &hosts) {
        let command = on_all_command(all, batcher, &template, &opts)?;
        let n = h.host_names().len();
        total = Some(n as u64);
        Box::new(scheduler::source::Listed::new(vec![command; n]))
    } else if let Some(pipe) = &opts.pipe {
        let piped = scheduler::pipe::source(pipe, &opts.output.tmpdir, slots)?;
        let inner = piped.source;
        _scratch = piped.scratch;
        bytes = piped.size;
        if resume == options::Resume::No {
            inner
        } else {
            Box::new(Resumed::new(inner, logged, resume))
        }
    } else if resume == options::Resume::RetryFailed {
        let replay = Replay::new(logged);
        total = Some(replay.jobs());
        Box::new(replay)
    } else {
        let inner: Box<dyn JobSource + '_> = if may_wait {
            Box::new(Threaded::spawn(batcher, Arc::clone(&template))?)
        } else {
            Box::new(Inline::new(batcher, &template))
        };
        if resume == options::Resume::No {
            inner
        } else {
            Box::new(Resumed::new(inner, logged, resume))
        }
    };
    let mut extras = scheduler::Extras::default();
    if let Some(path) = &opts.joblog {
        extras.joblog = Some(report::joblog::Joblog::open(
            path,
            (opts.resume != options::Resume::No).then_some(logged_whole),
        )?);
    }
    extras.tag_hosts = on_all.is_some()
        && opts.output.tag.as_deref() == Some(&options::tag_all(opts.replace.as_deref())[..]);
    extras.tag_template = tag_template.filter(|_| !extras.tag_hosts);
    extras.send_template = persistent_send(&opts, &template, &syntax)?;
    if let Some(r) = &opts.remote {
        let parse = |names: &[Vec<u8>]| {
            names
                .iter()
                .map(|n| Template::parse(std::slice::from_ref(n), false, false, false, &syntax))
                .collect::<Result<Vec<_>>>()
        };
        extras.send = parse(&r.transfer)?;
        extras.fetch = parse(&r.fetch)?;
    }
    extras.total = total;
    extras.names = names;
    extras.max_slots = max_slots;
    let progress = match bytes {
        Some(size) => report::progress::Progress::in_bytes(opts.progress, size),
        None => report::progress::Progress::new(opts.progress, total),
    };
    // `-u`: jobs write to stdout themselves, so what forkpool writes there (`-v`) must be out
    // before a job starts, not queued for a writer thread.
    let sink = if opts.output.mode == options::OutputMode::Ungroup && opts.results.is_none() {
        Sink::to_fds(1, 2)
    } else {
        Sink::stdio(opts.output.buffer_cap)
    };
    let sink = sink.with_progress(diag::screen());
    if opts.progress != options::Progress::Off {
        extras.progress = Some(progress);
    }
    exec::group::become_subreaper();
    let mut collector = Collector::new(&opts.output, sink);
    if opts.results.is_some() {
        collector = collector.keeping_all();
    }
    if extras
        .joblog
        .as_ref()
        .is_some_and(report::joblog::Joblog::to_stdout)
    {
        collector = collector.logging_to_stdout();
    }
    let run = Run {
        opts: &opts,
        template: &template,
        source,
        collector,
        slots,
        extras,
    };
    match hosts {
        Some(h) => run.go(h),
        None => run.go(exec::local::Local {
            shell: opts.shell.clone(),
            nice: opts.nice,
        }),
    }
}

/// Everything a scheduler needs but its executor.
struct Run<'a> {
    opts: &'a Options,
    template: &'a Template,
    source: Box<dyn JobSource + 'a>,
    collector: Collector,
    slots: usize,
    extras: scheduler::Extras,
}

impl Run<'_> {
    fn go<E: exec::Executor>(self, executor: E) -> Result<Outcome> {
        let mut scheduler = Scheduler::new(
            self.opts,
            self.template,
            self.source,
            executor,
            self.collector,
            self.slots,
            self.extras,
        )?;
        finish(&mut scheduler)
    }
}

/// Run the jobs, and say how forkpool should end.
fn finish<E: exec::Executor>(scheduler: &mut Scheduler<'_, E>) -> Result<Outcome> {
    let result = scheduler.run();
    if result.is_ok() {
        match scheduler.stop {
            Some(Stop::Signal(sig)) => return Ok(Outcome::Signal(sig)),
            Some(Stop::BrokenPipe) => return Ok(Outcome::Signal(nix::libc::SIGPIPE)),
            _ => {}
        }
        if let Some(left) = scheduler.unstarted() {
            // GNU parallel exits 0 here; a run that left work undone must not look successful.
            diag::warn(&match left {
                Some(1) => "SIGHUP: 1 job was not started".to_string(),
                Some(n) => format!("SIGHUP: {n} jobs were not started"),
                None => "SIGHUP: the jobs of the rest of the input were not started".to_string(),
            });
            return Ok(Outcome::Signal(nix::libc::SIGHUP));
        }
    }
    result?;
    Ok(Outcome::Exit(scheduler.exit_status()))
}

/// `--persistent`: the request template; the command must not use per-job replacement strings.
fn persistent_send(
    opts: &Options,
    command: &Template,
    syntax: &Syntax,
) -> Result<Option<Template>> {
    let Some(p) = opts.workers.as_ref().and_then(|w| w.persistent.as_ref()) else {
        return Ok(None);
    };
    // A per-job string renders differently for two different jobs in the same slot.
    let render = |value: &[u8], seq| {
        command.shell_line(&JobView {
            records: &[vec![value.to_vec()]],
            seq,
            slot: 1,
        })
    };
    if render(b"a", 1) != render(b"b", 2) {
        return Err(error::Error::new(
            "--persistent starts the command once per worker, so it cannot use per-job replacement strings such as {} or {#}",
        )
        .with_hint("put them in --send TEMPLATE (what each request holds); {% } and $FORKPOOL_WORKER work in the command".replace("{% }", "{%}")));
    }
    Template::parse(std::slice::from_ref(&p.send), false, false, false, syntax).map(Some)
}

/// How many jobs run at once: -j, within the limit of open file descriptors; and that limit.
fn job_slots(opts: &Options) -> (usize, usize) {
    let fd_limit = exec::raise_fd_limit();
    // Each running job holds two pipe ends; keep room for forkpool's own descriptors.
    let max_slots = ((fd_limit.saturating_sub(64)) / 2).clamp(1, 1 << 20) as usize;
    if opts.jobs > max_slots {
        diag::warn(&format!(
            "only enough file descriptors for {max_slots} job{} at once (ulimit -n); running that many",
            if max_slots == 1 { "" } else { "s" }
        ));
    }
    let slots = if opts.jobs == 0 {
        max_slots
    } else {
        opts.jobs.min(max_slots)
    };
    (slots, max_slots)
}

/// Connect to the hosts of `-S` and `--sshloginfile`.
fn connect(remote: &options::RemoteOptions, opts: &Options) -> Result<exec::ssh::Ssh> {
    let logins = remote
        .logins
        .iter()
        .map(|l| exec::ssh::parse_login(l))
        .collect::<Result<Vec<_>>>()?;
    let env = opts
        .env_vars
        .iter()
        .filter_map(|k| std::env::var_os(k).map(|v| (k.clone(), v)))
        .collect();
    exec::ssh::Ssh::connect(
        logins,
        exec::ssh::Config {
            ssh: remote.ssh.clone(),
            shell: opts.shell.clone(),
            env,
            jobs: remote.jobs,
            one_slot: remote.on_all.is_some(),
            filter_hosts: remote.filter_hosts,
            tmpdir: opts.output.tmpdir.clone(),
            workdir: remote.workdir.clone(),
            basefiles: remote.basefiles.clone(),
            cleanup: remote.cleanup,
            nice: opts.nice,
        },
    )
}

/// The one command each host runs with `--nonall` (the command as typed) or `--onall` (every
/// job in turn; its exit status is the number of jobs that failed, at most 101).
fn on_all_command(
    all: options::OnAll,
    mut batcher: Batcher,
    template: &Template,
    opts: &Options,
) -> Result<Vec<u8>> {
    if all == options::OnAll::Command {
        return Ok(opts.command.join(&b' '));
    }
    let mut script = b"f=0\n".to_vec();
    while let Some(job) = batcher.next_job(template)? {
        let view = JobView {
            records: &job.records,
            seq: job.seq,
            slot: 1,
        };
        template::quote(opts.shell.as_os_str().as_encoded_bytes(), &mut script);
        script.extend_from_slice(b" -c ");
        template::quote(&template.shell_line(&view), &mut script);
        script.extend_from_slice(b" || f=$((f+1))\n");
    }
    script.extend_from_slice(b"[ $f -gt 101 ] && f=101\nexit $f");
    Ok(script)
}

/// The number of jobs `input` (`:::` lists and regular files) makes, found by making them, as GNU parallel
/// reads all input before `--bar` and `--eta`. None on an error, which the real run reports.
fn count_jobs(
    input: input::InputConfig,
    opts: &Options,
    template: &Template,
    slots: usize,
    count_tag: bool,
) -> Option<u64> {
    let (inputs, _) = input::Inputs::open(input).ok()?;
    let mut source = Batcher::new(
        inputs,
        opts.batching,
        opts.max_chars,
        opts.check_length,
        slots,
    )
    .counting_tag(count_tag);
    let mut n = 0;
    while source.next_job(template).ok()?.is_some() {
        n += 1;
    }
    Some(n)
}

/// `--dry-run`: the commands as they would run, in input order.
/// `--dry-run`: print each job's command. `raw`: values go in unquoted (shell variables).
fn dry_run(
    next: &mut dyn FnMut() -> Result<Option<Job>>,
    template: &Template,
    tag: Option<&Template>,
    opts: &Options,
    raw: bool,
) -> Result<Outcome> {
    // No event loop to keep serving: write inline.
    let mut sink = Sink::to_fds(1, 2);
    let slots = opts.jobs.max(1);
    while let Some(job) = next()? {
        let slot = ((job.seq - 1) % slots as u64) as usize + 1;
        let view = JobView {
            records: &job.records,
            seq: job.seq,
            slot,
        };
        let mut line = match raw {
            true => template.raw_text(&view),
            false => template.shell_line(&view),
        };
        line.push(b'\n');
        let tag = tag.map(|t| t.raw_text(&view));
        if let Err(e) = sink.write(Stream::Out, &line, tag.as_deref()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(Outcome::Signal(nix::libc::SIGPIPE));
            }
            return Err(error::Error::new(format!(
                "cannot write output: {}",
                error::io_reason(&e)
            )));
        }
    }
    let _ = sink.flush();
    Ok(Outcome::Exit(0))
}
