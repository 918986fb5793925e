//! The validated options the program runs with, built from what the user typed (`cli.rs`).
//! Every check that can fail before a job starts is here, with a message that says what to fix.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use regex::bytes::Regex;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::input::blocks::{Cutting, Header, Split};
use crate::input::{InputConfig, SourceKind, SourceSpec, Trim};
use crate::job::Ladder;
use std::time::Duration;

/// How many inputs go into one job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Batching {
    /// One input per job (the default).
    One,
    /// `-n N` / `-N N`: up to N inputs; 0 reads one and inserts none.
    Max(usize),
    /// `-X`, `-m`, `--xargs`: as many as fit in the command line (and at most `max`, from -n).
    /// `spread` divides the inputs evenly over the job slots when the rest fit in one line.
    Fill { spread: bool, max: Option<usize> },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutputMode {
    /// Each job's output written whole when it ends.
    Group,
    /// Whole lines as they are produced.
    LineBuffer,
    /// Straight through: jobs write to forkpool's own stdout and stderr.
    Ungroup,
}

pub struct OutputOptions {
    pub mode: OutputMode,
    pub keep_order: bool,
    /// `--tag` / `--tagstring`: the tag template.
    pub tag: Option<Vec<u8>>,
    /// `-v`: the command goes to stdout before the job's output.
    pub print_command: bool,
    /// Bytes of waiting output kept in memory before spilling to disk.
    pub buffer_cap: usize,
    pub tmpdir: PathBuf,
}

/// `--timeout`: a fixed limit, or a percentage of the median runtime so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timeout {
    Fixed(Duration),
    Percent(f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HaltWhen {
    /// Stop running jobs too.
    Now,
    /// Let running jobs finish.
    Soon,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HaltWhy {
    Fail,
    Success,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    Count(u64),
    Percent(f64),
}

/// `--halt`
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Halt {
    pub when: HaltWhen,
    pub why: HaltWhy,
    pub threshold: Threshold,
}

/// What `--resume`, `--resume-failed` and `--retry-failed` skip or redo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resume {
    No,
    /// Skip every job in the joblog.
    Done,
    /// Skip the jobs that succeeded.
    Failed,
    /// Run only the failed jobs, with their logged commands.
    RetryFailed,
}

pub struct Options {
    pub command: Vec<Vec<u8>>,
    pub quote_words: bool,
    pub replace: Option<Vec<u8>>,
    pub batching: Batching,
    /// `-X`: repeat the words around replacement strings for each input.
    pub context_replace: bool,
    /// A job's command line must be shorter than this (-s, or the system's limit).
    pub max_chars: usize,
    /// `-s` was given: check every job's command line against it.
    pub check_length: bool,
    pub shell: PathBuf,
    /// `--plus`: GNU parallel's extra replacement strings.
    pub plus: bool,
    /// `--rpl`: replacement strings defined as 'TAG perl-expression'.
    pub rpl: Vec<Vec<u8>>,
    pub jobs: usize,
    pub output: OutputOptions,
    pub dry_run: bool,
    /// `-t`: commands go to stderr as they start.
    pub verbose: bool,
    pub delay: Option<Duration>,
    pub timeout: Option<Timeout>,
    pub ladder: Ladder,
    /// Attempts per job (at least 1; `u32::MAX` for `--retries 0`, no limit).
    pub retries: u32,
    pub halt: Option<Halt>,
    pub json: bool,
    pub joblog: Option<PathBuf>,
    pub resume: Resume,
    pub results: Option<PathBuf>,
    /// `--init`, `--teardown`, `--worker-max-jobs`: the worker life cycle, when any is given.
    pub workers: Option<WorkerOptions>,
    pub progress: Progress,
    /// `--pipe`, `--pipepart`: jobs read blocks of the input on their stdin.
    pub pipe: Option<PipeOptions>,
    /// `--load`, `--memfree`, `--noswap`, `--limit`, `-j FILE`: when a job may start.
    pub gates: GateOptions,
    /// `--nice`: the niceness jobs run at.
    pub nice: Option<i32>,
    /// `--env NAME`: local variables copied to every job.
    pub env_vars: Vec<OsString>,
    /// `-S`, `--slf`: where jobs run, when not only here.
    pub remote: Option<RemoteOptions>,
}

/// Pipe mode.
#[derive(Clone, Debug)]
pub struct PipeOptions {
    pub cut: Cutting,
    /// `--pipepart`: byte ranges of this regular file.
    pub part: bool,
    /// `--pipepart --block -N`: N blocks per job slot.
    pub blocks_per_slot: Option<u64>,
    pub round_robin: bool,
    pub via: Via,
    /// The input: `-` is stdin.
    pub path: PathBuf,
}

impl PipeOptions {
    /// The input as a path that can be opened: `-` is /dev/stdin.
    pub fn input(&self) -> &std::path::Path {
        openable(&self.path)
    }
}

/// `path`, with `-` (stdin) as /dev/stdin.
fn openable(path: &std::path::Path) -> &std::path::Path {
    if path.as_os_str() == "-" {
        std::path::Path::new("/dev/stdin")
    } else {
        path
    }
}

/// How a job gets its block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Via {
    Stdin,
    /// `--cat`: a temporary file named by {}.
    Cat,
    /// `--fifo`: a named pipe named by {}.
    Fifo,
}

/// What must hold before a job starts, and where the slot count may change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GateOptions {
    /// `--load`: start no job while this many tasks or more are runnable.
    pub load: Option<f64>,
    /// `--memfree`: bytes that must be available.
    pub memfree: Option<u64>,
    pub noswap: bool,
    /// `--limit`: shell code whose exit status decides (0 start, 1 wait, 2 stop the youngest).
    pub limit: Option<Vec<u8>>,
    /// `-j FILE`: read the slot count from FILE again while the run goes on.
    pub jobs_file: Option<PathBuf>,
}

impl GateOptions {
    /// Whether any gate is on (else nothing is measured).
    pub fn any(&self) -> bool {
        self.load.is_some()
            || self.memfree.is_some()
            || self.noswap
            || self.limit.is_some()
            || self.jobs_file.is_some()
    }
}

/// `--onall` / `--nonall`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnAll {
    /// Every job on every host.
    Jobs,
    /// The command once on every host, with no input.
    Command,
}

/// Remote hosts and how jobs reach them.
#[derive(Clone, Debug, Default)]
pub struct RemoteOptions {
    /// The sshlogins as given (`[N/]HOST`, `:`), one per entry.
    pub logins: Vec<Vec<u8>>,
    /// The ssh command's words.
    pub ssh: Vec<OsString>,
    /// `-j` as given: the slots of a host without `N/`.
    pub jobs: Option<usize>,
    pub on_all: Option<OnAll>,
    pub filter_hosts: bool,
    /// `--transferfile`, `--return`: templates of file names.
    pub transfer: Vec<Vec<u8>>,
    pub fetch: Vec<Vec<u8>>,
    pub cleanup: bool,
    pub basefiles: Vec<Vec<u8>>,
    pub workdir: Option<Vec<u8>>,
}

/// The per-worker life cycle.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    pub init: Option<Vec<u8>>,
    pub teardown: Option<Vec<u8>>,
    /// Recycle a worker after this many jobs.
    pub max_jobs: Option<u64>,
    /// Time limit of each init and teardown.
    pub timeout: Option<Duration>,
    /// `--persistent`: the command runs once per worker and takes jobs as requests.
    pub persistent: Option<Persistent>,
}

/// `--persistent`: how requests and replies look.
#[derive(Clone, Debug)]
pub struct Persistent {
    /// The worker command as typed, for messages.
    pub command: Vec<u8>,
    /// `--send`: the request template.
    pub send: Vec<u8>,
    /// `--send-null`: requests end with NUL.
    pub null: bool,
    pub protocol: Protocol,
}

/// How a persistent worker's reply ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Protocol {
    Line,
    End(Vec<u8>),
    Json,
}

/// What progress forkpool shows on stderr.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress {
    Off,
    Bar,
    Eta,
}

/// The longest argument Linux passes to a program (MAX_ARG_STRLEN), less its NUL: `sh -c` gets
/// the whole command line as one argument.
const MAX_LINE: usize = 128 * 1024 - 1;

impl Options {
    pub fn from_cli(mut cli: Cli) -> Result<(Options, InputConfig)> {
        let (command, sources) = split_sources(std::mem::take(&mut cli.command))?;
        let mut specs: Vec<SourceSpec> = std::mem::take(&mut cli.arg_file)
            .into_iter()
            .map(|p| SourceSpec {
                kind: SourceKind::File(p),
                linked: false,
            })
            .collect();
        specs.extend(sources);
        let implied_stdin = specs.is_empty();
        if implied_stdin {
            specs.push(SourceSpec {
                kind: SourceKind::File(PathBuf::from("-")),
                linked: false,
            });
        }

        let delimiter = match (&cli.delimiter, cli.null) {
            (Some(d), _) => {
                let d = unescape(d.as_bytes());
                if d.is_empty() {
                    return Err(Error::new("the delimiter given with -d is empty")
                        .with_hint("give one or more bytes, e.g. -d , or -d '\\t'"));
                }
                d
            }
            (None, true) => vec![0],
            (None, false) => vec![b'\n'],
        };
        let colsep = match &cli.colsep {
            Some(sep) => {
                let text = String::from_utf8_lossy(sep.as_bytes());
                let re = Regex::new(&format!("(?-u:{text})")).map_err(|e| {
                    Error::new(format!(
                        "--colsep {text:?} is not a valid regular expression: {}",
                        first_line(&e)
                    ))
                })?;
                Some(re)
            }
            None => None,
        };
        // As in GNU parallel, --colsep trims both ends of each column unless --trim says otherwise.
        let trim = match cli.trim.as_deref() {
            Some("l") => Trim::Left,
            Some("r") => Trim::Right,
            Some("lr" | "rl") => Trim::Both,
            Some(_) => Trim::None,
            None if colsep.is_some() => Trim::Both,
            None => Trim::None,
        };
        let pipe = pipe_options(&cli, &specs)?;
        if pipe.is_some() && command.is_empty() {
            return Err(Error::new("--pipe needs a command to give the blocks to")
                .with_hint("name one, e.g. forkpool --pipe wc -l < FILE"));
        }
        let header = match &cli.header {
            None => false,
            Some(_) if pipe.is_some() => false,
            Some(h) if h == ":" => true,
            Some(h) => {
                return Err(Error::new(format!(
                    "--header {} is not supported",
                    h.to_string_lossy()
                ))
                .with_hint("use --header : to take the first line as the header"));
            }
        };

        let batching = match (
            cli.context_replace || cli.multiple || cli.xargs,
            cli.max_replace_args
                .or(cli.max_args)
                .or(cli.max_lines)
                .or(cli.lines),
        ) {
            (true, max) => Batching::Fill {
                spread: cli.context_replace || cli.multiple,
                max: max.filter(|&n| n > 0),
            },
            (false, Some(n)) => Batching::Max(n),
            (false, None) => Batching::One,
        };
        let max_chars = match cli.max_chars {
            Some(0) => {
                return Err(Error::new("-s 0 leaves no room for a command")
                    .with_hint("give -s a positive size"));
            }
            Some(n) => n.min(MAX_LINE + 1),
            None => MAX_LINE + 1,
        };

        let (jobs, jobs_file) = match &cli.jobs {
            Some(j) => match parse_jobs(j, crate::exec::cpu_count) {
                Ok(n) => (n, None),
                // As GNU parallel: a value that is no number of jobs may name a file holding one.
                Err(_) if Path::new(j).is_file() => {
                    (read_jobs_file(Path::new(j))?, Some(PathBuf::from(j)))
                }
                Err(e) => return Err(e),
            },
            None => (crate::exec::cpu_count(), None),
        };
        let gates = gate_options(
            cli.load.as_deref(),
            cli.memfree.as_deref(),
            cli.noswap,
            cli.limit.as_ref(),
            jobs_file,
        )?;

        let mode = if cli.ungroup {
            OutputMode::Ungroup
        } else if cli.line_buffer {
            OutputMode::LineBuffer
        } else {
            OutputMode::Group
        };
        // As in GNU parallel, an empty --tagstring is no tag string at all.
        // --tagstring takes GNU parallel's escapes; --tag is the whole value, also under -I.
        let tag = match (cli.tagstring.as_ref().filter(|s| !s.is_empty()), cli.tag) {
            (Some(s), _) => Some(unquote_printf(s.as_bytes())),
            (None, true) => Some(tag_all(cli.replace.as_deref().map(OsStrExt::as_bytes))),
            (None, false) => None,
        };
        let buffer_cap = parse_size(&cli.buffer_size).ok_or_else(|| {
            Error::new(format!("--buffer-size {:?} is not a size", cli.buffer_size))
                .with_hint("write it like 512K, 16M or 1G")
        })?;
        let tmpdir = cli
            .tmpdir
            .or_else(|| {
                std::env::var_os("TMPDIR")
                    .filter(|t| !t.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("/tmp"));

        let input = InputConfig {
            sources: specs,
            delimiter,
            trim,
            colsep,
            skip_empty: cli.no_run_if_empty,
            // -E '' disables the end-of-input string, as in GNU parallel.
            eof: cli.eof.map(OsString::into_vec).filter(|e| !e.is_empty()),
            link_all: cli.link,
            header,
            implied_stdin,
        };
        let delay = cli
            .delay
            .as_deref()
            .map(|d| parse_duration(d, "--delay"))
            .transpose()?;
        let timeout = match cli.timeout.as_deref() {
            None => None,
            Some(t) => match t.trim().strip_suffix('%') {
                Some(p) => Some(Timeout::Percent(
                    p.parse::<f64>().ok().filter(|p| *p > 0.0).ok_or_else(|| {
                        Error::new(format!("--timeout {t:?} is not a percentage"))
                            .with_hint("write it like 200%")
                    })?,
                )),
                // As in GNU parallel, 0 means no time limit.
                None => Some(parse_duration(t, "--timeout")?)
                    .filter(|d| !d.is_zero())
                    .map(Timeout::Fixed),
            },
        };
        let ladder = parse_termseq(&cli.termseq)?;
        let halt = cli.halt.as_deref().map(parse_halt).transpose()?.flatten();
        let resume = match (cli.retry_failed, cli.resume_failed, cli.resume) {
            (true, _, _) => Resume::RetryFailed,
            (false, true, _) => Resume::Failed,
            (false, false, true) => Resume::Done,
            _ => Resume::No,
        };
        if resume != Resume::No && cli.joblog.is_none() {
            return Err(
                Error::new("--resume, --resume-failed and --retry-failed need --joblog")
                    .with_hint("name the joblog of the earlier run with --joblog FILE"),
            );
        }
        if cli.worker_max_jobs == Some(0) {
            return Err(Error::new("--worker-max-jobs 0 would run no job")
                .with_hint("give --worker-max-jobs 1 or more"));
        }
        let persistent = if cli.persistent {
            if pipe.is_some() {
                return Err(
                    Error::new("--persistent cannot be used with --pipe or --pipepart")
                        .with_hint("use --pipe --round-robin to feed long-lived jobs with blocks"),
                );
            }
            let protocol = match cli.protocol.as_str() {
                "line" => Protocol::Line,
                "json" => Protocol::Json,
                p => match p.strip_prefix("end=") {
                    Some(end) if !end.is_empty() && !end.contains('\n') => {
                        Protocol::End(end.as_bytes().to_vec())
                    }
                    _ => {
                        return Err(Error::new(format!(
                            "--protocol {p:?} is not one forkpool knows"
                        ))
                        .with_hint("use line, json, or end=STR (a line that ends each reply)"));
                    }
                },
            };
            if protocol == Protocol::Json && (cli.send.is_some() || cli.send_null) {
                return Err(Error::new(
                    "--send and --send-null have no effect with --protocol json: each request is a JSON object",
                )
                .with_hint("drop them, or use --protocol line or end=STR"));
            }
            if cli.dry_run {
                return Err(Error::new("--persistent cannot be used with --dry-run")
                    .with_hint("run the worker on a few inputs instead"));
            }
            Some(Persistent {
                command: command.join(&b' '),
                send: cli
                    .send
                    .take()
                    .map_or_else(|| b"{}".to_vec(), OsString::into_vec),
                null: cli.send_null,
                protocol,
            })
        } else {
            None
        };
        let workers = if persistent.is_some()
            || cli.init.is_some()
            || cli.teardown.is_some()
            || cli.worker_max_jobs.is_some()
        {
            Some(WorkerOptions {
                init: cli.init.map(OsString::into_vec),
                teardown: cli.teardown.map(OsString::into_vec),
                max_jobs: cli.worker_max_jobs,
                timeout: cli
                    .init_timeout
                    .as_deref()
                    .map(|t| parse_duration(t, "--init-timeout"))
                    .transpose()?,
                persistent,
            })
        } else {
            if cli.init_timeout.is_some() {
                return Err(Error::new(
                    "--init-timeout has no effect without --init or --teardown",
                )
                .with_hint("add --init CMD, or drop --init-timeout"));
            }
            None
        };
        let progress = match (cli.bar, cli.eta) {
            (true, _) => Progress::Bar,
            (false, true) => Progress::Eta,
            _ => Progress::Off,
        };
        let shell = cli.shell.unwrap_or_else(|| default_shell(&command));
        let env_vars = env_names(cli.env_vars)?;
        let remote = remote_options(
            cli.sshlogin,
            cli.sshloginfile,
            cli.ssh,
            cli.jobs.as_deref(),
            jobs,
            (cli.onall, cli.nonall, cli.filter_hosts, cli.cleanup),
            (
                cli.transferfile,
                cli.return_files,
                cli.trc,
                cli.basefile,
                cli.workdir,
            ),
        )?;
        let opts = Options {
            command,
            quote_words: cli.quote,
            replace: cli.replace.map(OsString::into_vec),
            batching,
            // -N, and -L unless -m or --xargs, fill {} once per input, as -X does (GNU parallel;
            // --max-lines does not).
            context_replace: cli.context_replace
                || cli.max_replace_args.is_some()
                || (cli.lines.is_some() && !(cli.multiple || cli.xargs)),
            max_chars,
            check_length: cli.max_chars.is_some(),
            shell,
            plus: cli.plus,
            rpl: cli.rpl.into_iter().map(OsString::into_vec).collect(),
            jobs,
            output: OutputOptions {
                mode,
                keep_order: cli.keep_order,
                tag,
                print_command: cli.print_command > 0,
                buffer_cap,
                tmpdir,
            },
            dry_run: cli.dry_run,
            verbose: cli.verbose,
            delay,
            timeout,
            ladder,
            // GNU parallel: `--retries 0` is no limit.
            retries: match cli.retries {
                Some(0) => u32::MAX,
                n => n.unwrap_or(1),
            },
            halt,
            json: cli.json,
            joblog: cli.joblog,
            resume,
            results: cli.results,
            workers,
            progress,
            pipe,
            gates,
            nice: cli.nice,
            env_vars,
            remote,
        };
        Ok((opts, input))
    }
}

/// `--pipe`, `--pipepart` and what goes with them, checked.
fn pipe_options(cli: &Cli, specs: &[SourceSpec]) -> Result<Option<PipeOptions>> {
    if !cli.pipe && !cli.pipepart {
        let stray = [
            (cli.block.is_some(), "--block"),
            (cli.recend.is_some(), "--recend"),
            (cli.recstart.is_some(), "--recstart"),
            (cli.regexp, "--regexp"),
            (cli.remove_rec_sep, "--remove-rec-sep"),
            (cli.round_robin, "--round-robin"),
            (cli.cat, "--cat"),
            (cli.fifo, "--fifo"),
        ];
        if let Some((_, flag)) = stray.iter().find(|(given, _)| *given) {
            return Err(
                Error::new(format!("{flag} works only with --pipe or --pipepart")).with_hint(
                    "add --pipe (or --pipepart -a FILE), or drop {flag}".replace("{flag}", flag),
                ),
            );
        }
        return Ok(None);
    }
    let mode = if cli.pipepart { "--pipepart" } else { "--pipe" };
    let path = match specs {
        [
            SourceSpec {
                kind: SourceKind::File(p),
                ..
            },
        ] => p.clone(),
        [
            SourceSpec {
                kind: SourceKind::Args(_),
                ..
            },
            ..,
        ] => {
            return Err(Error::new(format!(
                "{mode} reads its blocks from a file or stdin, not from ::: values"
            ))
            .with_hint("give the input on stdin or with -a FILE"));
        }
        _ => {
            return Err(Error::new(format!("{mode} takes one input: stdin or one file"))
                .with_hint("give one -a FILE or :::: FILE, or concatenate the files: cat A B | forkpool --pipe ..."));
        }
    };
    let refuse = |what: &str, hint: &str| {
        Err(Error::new(format!("{mode} cannot be used with {what}")).with_hint(hint.to_string()))
    };
    if cli.context_replace || cli.multiple || cli.xargs {
        return refuse("-X, -m or --xargs", "leave them out: each block is one job");
    }
    if cli.max_args.is_some() {
        return refuse("-n", "use -N N for N records per block");
    }
    if cli.pipepart
        && (cli.max_replace_args.is_some() || cli.max_lines.is_some() || cli.lines.is_some())
    {
        return refuse(
            "-N or -L (as in GNU parallel)",
            "use --pipe, or cut with --block",
        );
    }
    if cli.retry_failed {
        return refuse(
            "--retry-failed (the blocks are not in the joblog)",
            "run the pipe again, with --resume-failed to skip the blocks that succeeded",
        );
    }
    if cli.pipepart && cli.round_robin {
        return refuse(
            "--round-robin",
            "use --pipe --round-robin, or --pipepart --block -N for N blocks per job slot",
        );
    }
    if cli.round_robin && cli.retries.is_some() {
        // A round-robin job's blocks are gone once written: nothing could be fed again.
        return refuse(
            "--round-robin and --retries (as in GNU parallel)",
            "drop --retries, or use --pipe without --round-robin",
        );
    }
    if cli.round_robin && (cli.cat || cli.fifo) {
        return refuse(
            "--round-robin and --cat or --fifo",
            "drop --cat/--fifo: round-robin jobs read their stdin",
        );
    }
    if cli.pipepart {
        let meta = std::fs::metadata(openable(&path));
        if !meta.is_ok_and(|m| m.is_file()) {
            return Err(Error::new(format!(
                "--pipepart needs a regular file to cut, and {} is not one",
                if path.as_os_str() == "-" {
                    "stdin".to_string()
                } else {
                    path.display().to_string()
                }
            ))
            .with_hint("give the file with -a FILE, or use --pipe for pipes and stdin"));
        }
    }
    let text = |v: &Option<OsString>| v.as_ref().map(|s| s.as_bytes().to_vec());
    let (recend, recstart) = (text(&cli.recend), text(&cli.recstart));
    // GNU parallel: -L wins over --max-lines.
    let split = if let Some(n) = cli.lines.or(cli.max_lines) {
        if n == 0 {
            return Err(Error::new("-L 0 makes records of no lines").with_hint("give -L 1 or more"));
        }
        Split::Lines(n)
    } else if cli.regexp {
        let s = |v: Option<Vec<u8>>| String::from_utf8_lossy(&v.unwrap_or_default()).into_owned();
        let (end, start) = match (&recend, &recstart) {
            (None, None) => ("\\n".to_string(), String::new()),
            _ => (s(recend.clone()), s(recstart.clone())),
        };
        Split::regex(&end, &start).map_err(|e| {
            Error::new(format!(
                "--recend {end:?} / --recstart {start:?} is not a valid regular expression: {}",
                first_line(&e)
            ))
        })?
    } else {
        let end = match (&recend, &recstart) {
            (None, Some(_)) => Vec::new(),
            (None, None) => b"\n".to_vec(),
            (Some(e), _) => unescape(e),
        };
        let start = recstart.as_deref().map(unescape).unwrap_or_default();
        Split::Literal { end, start }
    };
    let records = match cli.max_replace_args {
        Some(0) => {
            return Err(Error::new("-N 0 puts no record in a block").with_hint("give -N 1 or more"));
        }
        n => n,
    };
    let (block, blocks_per_slot) = match cli.block.as_deref() {
        // GNU parallel's --pipepart makes 10 blocks per job slot unless told otherwise.
        None if cli.pipepart => (1 << 20, Some(10)),
        None => (1 << 20, None),
        Some(t) => match t.trim().strip_prefix('-') {
            Some(n) if cli.pipepart => match n.parse::<u64>() {
                Ok(n) if n > 0 => (1 << 20, Some(n)),
                _ => {
                    return Err(Error::new(format!("--block {t:?} is not a size or -N"))
                        .with_hint("write it like 10M, or -2 for two blocks per job slot"));
                }
            },
            Some(_) => {
                return Err(Error::new(format!(
                    "--block {t:?}: a negative size works only with --pipepart"
                ))
                .with_hint("give a size like 10M"));
            }
            None => match parse_gnu_size(t) {
                // As GNU parallel: a block of 2 GiB or more is cut down to 2 GiB - 1.
                Some(n) if n >= 1 << 31 && !cli.pipepart => {
                    crate::diag::warn(&format!(
                        "--block {t} is 2 GiB or more; using 2 GiB - 1 (2147483647 bytes)"
                    ));
                    ((1 << 31) - 1, None)
                }
                Some(n) if n > 0 => (n as usize, None),
                _ => {
                    return Err(Error::new(format!("--block {t:?} is not a size"))
                        .with_hint("write it like 512K, 10M or 1G"));
                }
            },
        },
    };
    let header = match cli.header.as_deref() {
        None => None,
        Some(h) if h == ":" => Some(Header::Lines(1)),
        Some(h) => {
            match h.to_str().and_then(|t| t.parse::<usize>().ok()) {
                Some(0) => None,
                Some(n) => Some(Header::Lines(n)),
                None => {
                    let text = h.to_string_lossy();
                    Some(Header::Regex(Regex::new(&format!("(?-u:^(?:{text}))")).map_err(|e| {
                    Error::new(format!("--header {text:?} is not a number or a valid regular expression: {}", first_line(&e)))
                })?))
                }
            }
        }
    };
    let via = match (cli.cat, cli.fifo) {
        (true, _) => Via::Cat,
        (_, true) => Via::Fifo,
        _ => Via::Stdin,
    };
    Ok(Some(PipeOptions {
        cut: Cutting {
            split,
            block,
            records,
            header,
            remove_separators: cli.remove_rec_sep,
        },
        part: cli.pipepart,
        blocks_per_slot,
        round_robin: cli.round_robin,
        via,
        path,
    }))
}

/// A size as GNU parallel writes it: K M G T P multiply by powers of 1024, k m g t p by powers
/// of 1000; a fraction is allowed (1.5M).
pub fn parse_gnu_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, mult): (&str, f64) = match t.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => {
            let p = "kmgtp".find(c.to_ascii_lowercase())? as i32 + 1;
            let base: f64 = if c.is_ascii_uppercase() {
                1024.0
            } else {
                1000.0
            };
            (&t[..i], base.powi(p))
        }
        _ => (t, 1.0),
    };
    let n = num
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)?
        * mult;
    (n < u64::MAX as f64).then_some(n as u64)
}

/// /bin/sh, or bash when the command's first word names a function exported with `export -f`
/// (`BASH_FUNC_name%%` in the environment), which only bash can call, as GNU parallel does.
fn default_shell(command: &[Vec<u8>]) -> PathBuf {
    if names_exported_function(command)
        && let Some(bash) = std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("bash"))
                .find(|p| p.is_file())
        })
    {
        return bash;
    }
    PathBuf::from("/bin/sh")
}

/// Whether the command's first word names a bash function exported into the environment
/// (`export -f name` sets `BASH_FUNC_name%%`): such a job must run in bash, never directly.
pub fn names_exported_function(words: &[Vec<u8>]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    let name = first
        .split(|b| b.is_ascii_whitespace())
        .find(|w| !w.is_empty())
        .unwrap_or_default();
    if name.is_empty() || name.contains(&b'/') || name.contains(&b'=') {
        return false;
    }
    let mut var = b"BASH_FUNC_".to_vec();
    var.extend_from_slice(name);
    var.extend_from_slice(b"%%");
    std::env::var_os(OsStr::from_bytes(&var)).is_some()
}

/// `--env NAME`: each must be a variable name a shell can export.
fn env_names(names: Vec<OsString>) -> Result<Vec<OsString>> {
    for n in &names {
        let b = n.as_bytes();
        let ok = !b.is_empty()
            && !b[0].is_ascii_digit()
            && b.iter().all(|&c| c == b'_' || c.is_ascii_alphanumeric());
        if !ok {
            return Err(Error::new(format!(
                "--env {} is not a variable name",
                n.to_string_lossy()
            ))
            .with_hint("give a name of letters, digits and _, e.g. --env PATH"));
        }
    }
    Ok(names)
}

type Flags = (bool, bool, bool, bool);
type Files = (
    Vec<OsString>,
    Vec<OsString>,
    Vec<OsString>,
    Vec<OsString>,
    Option<OsString>,
);

/// `-S`, `--slf` and the options that only make sense with them.
fn remote_options(
    logins: Vec<OsString>,
    files: Vec<PathBuf>,
    ssh: Option<OsString>,
    jobs_text: Option<&str>,
    jobs: usize,
    (onall, nonall, filter_hosts, cleanup): Flags,
    (transfer, fetch, trc, basefiles, workdir): Files,
) -> Result<Option<RemoteOptions>> {
    let mut list = Vec::new();
    for l in &logins {
        list.extend(
            l.as_bytes()
                .split(|&b| b == b',')
                .map(|s| s.trim_ascii().to_vec())
                .filter(|s| !s.is_empty()),
        );
    }
    for f in &files {
        let text = std::fs::read(f).map_err(|e| {
            Error::new(format!(
                "cannot read --sshloginfile {}: {}",
                f.display(),
                crate::error::io_reason(&e)
            ))
        })?;
        list.extend(
            text.split(|&b| b == b'\n')
                .map(|l| l.trim_ascii())
                .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
                .map(<[u8]>::to_vec),
        );
    }
    if list.is_empty() {
        if !logins.is_empty() || !files.is_empty() {
            return Err(Error::new("no host in -S or --sshloginfile")
                .with_hint("give hosts like -S 2/host1,host2 (: is this machine)"));
        }
        let used = [
            (onall, "--onall"),
            (nonall, "--nonall"),
            (filter_hosts, "--filter-hosts"),
            (ssh.is_some(), "--ssh"),
            (!transfer.is_empty(), "--transferfile"),
            (!fetch.is_empty(), "--return"),
            (!trc.is_empty(), "--trc"),
            (!basefiles.is_empty(), "--basefile"),
            (workdir.is_some(), "--workdir"),
        ];
        if let Some((_, flag)) = used.iter().find(|(on, _)| *on) {
            return Err(Error::new(format!("{flag} needs remote hosts"))
                .with_hint("add -S HOST or --sshloginfile FILE"));
        }
        return Ok(None);
    }
    // Split as a shell would (quotes keep a path with blanks whole); bytes that are not UTF-8
    // split on blanks.
    let ssh_words: Vec<OsString> = match &ssh {
        Some(s) => match s.to_str() {
            Some(text) => shell_words::split(text)
                .map_err(|_| {
                    Error::new(format!("--ssh {text:?} has an unmatched quote"))
                        .with_hint("quote the ssh command as you would in sh")
                })?
                .into_iter()
                .map(OsString::from)
                .collect(),
            None => s
                .as_bytes()
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .map(|w| OsString::from_vec(w.to_vec()))
                .collect(),
        },
        None => vec![OsString::from("ssh")],
    };
    if ssh_words.is_empty() {
        return Err(Error::new("--ssh is empty")
            .with_hint("give the ssh command, e.g. --ssh 'ssh -F CONFIG'"));
    }
    let bytes = |v: Vec<OsString>| v.into_iter().map(OsString::into_vec).collect::<Vec<_>>();
    let trc_given = !trc.is_empty();
    let mut send = bytes(transfer);
    let mut back = bytes(fetch);
    for r in bytes(trc) {
        send.push(b"{}".to_vec());
        back.push(r);
    }
    send.dedup();
    Ok(Some(RemoteOptions {
        logins: list,
        ssh: ssh_words,
        jobs: jobs_text.map(|_| jobs),
        on_all: match (onall, nonall) {
            (true, _) => Some(OnAll::Jobs),
            (_, true) => Some(OnAll::Command),
            _ => None,
        },
        filter_hosts,
        transfer: send,
        fetch: back,
        cleanup: cleanup || trc_given,
        basefiles: bytes(basefiles),
        workdir: workdir.map(OsString::into_vec),
    }))
}

fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Split the trailing words into the command template and the `:::`/`::::` input sources.
fn split_sources(words: Vec<OsString>) -> Result<(Vec<Vec<u8>>, Vec<SourceSpec>)> {
    let mut command = Vec::new();
    let mut sources: Vec<SourceSpec> = Vec::new();
    // (is a file source, linked) of the source being filled.
    let mut current: Option<(bool, bool)> = None;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut values: Vec<Vec<u8>> = Vec::new();
    let flush = |cur: Option<(bool, bool)>,
                 files: &mut Vec<PathBuf>,
                 values: &mut Vec<Vec<u8>>,
                 sources: &mut Vec<SourceSpec>|
     -> Result<()> {
        match cur {
            None => {}
            Some((true, linked)) => {
                if files.is_empty() {
                    return Err(Error::new(":::: must be followed by at least one file")
                        .with_hint("write :::: FILE, or :::: - for stdin"));
                }
                // As in GNU parallel, every file after ::::+ is linked to the one before it.
                for f in files.drain(..) {
                    sources.push(SourceSpec {
                        kind: SourceKind::File(f),
                        linked,
                    });
                }
            }
            Some((false, linked)) => {
                sources.push(SourceSpec {
                    kind: SourceKind::Args(std::mem::take(values)),
                    linked,
                });
            }
        }
        Ok(())
    };
    for w in words {
        let sep = match w.as_bytes() {
            b":::" => Some((false, false)),
            b":::+" => Some((false, true)),
            b"::::" => Some((true, false)),
            b"::::+" => Some((true, true)),
            _ => None,
        };
        if let Some(s) = sep {
            flush(current, &mut files, &mut values, &mut sources)?;
            current = Some(s);
            continue;
        }
        match current {
            None => command.push(w.into_vec()),
            Some((true, _)) => files.push(PathBuf::from(w)),
            Some((false, _)) => values.push(w.into_vec()),
        }
    }
    flush(current, &mut files, &mut values, &mut sources)?;
    // GNU parallel: a first source has nothing before it to pair with, so `::::+ f1 f2` links f2
    // to f1 and a leading `:::+` is a plain `:::`.
    if let Some(first) = sources.first_mut() {
        first.linked = false;
    }
    Ok((command, sources))
}

/// `-j FILE`: the count in FILE, in any form `-j` takes.
pub fn read_jobs_file(path: &Path) -> Result<usize> {
    let text = std::fs::read(path).map_err(|e| {
        Error::new(format!(
            "cannot read the number of jobs from {}: {}",
            path.display(),
            crate::error::io_reason(&e)
        ))
    })?;
    parse_jobs(&String::from_utf8_lossy(&text), crate::exec::cpu_count).map_err(|_| {
        Error::new(format!(
            "{} does not hold a number of jobs: {:?}",
            path.display(),
            String::from_utf8_lossy(&text).trim()
        ))
        .with_hint("write N, N%, +N, -N or 0 in it, as -j takes them")
    })
}

/// `--load`, `--memfree`, `--noswap`, `--limit` (with GNU parallel's `mem SIZE` and `load MAX`).
fn gate_options(
    load: Option<&str>,
    memfree: Option<&str>,
    noswap: bool,
    limit: Option<&OsString>,
    jobs_file: Option<PathBuf>,
) -> Result<GateOptions> {
    let mut gates = GateOptions {
        load: load.map(parse_load).transpose()?,
        memfree: memfree
            .map(|m| parse_memfree(m, "--memfree"))
            .transpose()?
            .filter(|&m| m > 0),
        noswap,
        limit: None,
        jobs_file,
    };
    if let Some(limit) = limit {
        let text = limit.to_string_lossy();
        let words: Vec<&str> = text.split_whitespace().collect();
        match words[..] {
            ["mem", size] => gates.memfree = Some(parse_memfree(size, "--limit mem")?),
            ["load", max] => gates.load = Some(parse_load(max)?),
            ["io", ..] => {
                return Err(Error::new(
                    "--limit io is GNU parallel's; forkpool does not support it",
                )
                .with_hint("give --limit a command of your own that exits 0, 1 or 2"));
            }
            _ => gates.limit = Some(limit.as_bytes().to_vec()),
        }
    }
    Ok(gates)
}

/// `--load`: N, N% of the CPUs, +N, -N (as -j); 0 is 0.01, as in GNU parallel.
fn parse_load(text: &str) -> Result<f64> {
    let bad = || {
        Error::new(format!("--load {text:?} is not a load"))
            .with_hint("write a number of runnable tasks (2, 1.5) or a share of the CPUs (100%)")
    };
    let t = text.trim();
    let cpus = || crate::exec::cpu_count() as f64;
    let n = if let Some(p) = t.strip_suffix('%') {
        cpus() * p.parse::<f64>().map_err(|_| bad())? / 100.0
    } else if let Some(p) = t.strip_prefix('+') {
        cpus() + p.parse::<f64>().map_err(|_| bad())?
    } else if let Some(p) = t.strip_prefix('-') {
        cpus() - p.parse::<f64>().map_err(|_| bad())?
    } else {
        t.parse::<f64>().map_err(|_| bad())?
    };
    if !n.is_finite() || n < 0.0 {
        return Err(bad());
    }
    Ok(if n == 0.0 { 0.01 } else { n })
}

/// `--memfree`: a size in bytes, K, M, G, T (powers of 1024, either case).
fn parse_memfree(text: &str, flag: &str) -> Result<u64> {
    parse_size(text).map(|n| n as u64).ok_or_else(|| {
        Error::new(format!("{flag} {text:?} is not a size"))
            .with_hint("write it like 512M, 2G or 1.5G")
    })
}

/// `-j`: N, N%, +N, -N, 0.
/// `cpus` is called only for the forms relative to the CPU count: working it out takes several
/// reads under /proc and /sys (issue 7).
pub fn parse_jobs(text: &str, cpus: impl FnOnce() -> usize) -> Result<usize> {
    let bad = || {
        Error::new(format!("-j {text:?} is not a number of jobs"))
            .with_hint("use N, N% (of the CPUs), +N or -N (relative to the CPUs), or 0 for as many as possible")
    };
    let t = text.trim();
    let n = if let Some(p) = t.strip_suffix('%') {
        let pct: f64 = p.parse().map_err(|_| bad())?;
        if !pct.is_finite() || pct < 0.0 {
            return Err(bad());
        }
        (cpus() as f64 * pct / 100.0).floor() as i64
    } else if let Some(p) = t.strip_prefix('+') {
        cpus() as i64 + p.parse::<i64>().map_err(|_| bad())?
    } else if let Some(p) = t.strip_prefix('-') {
        cpus() as i64 - p.parse::<i64>().map_err(|_| bad())?
    } else {
        let n: i64 = t.parse().map_err(|_| bad())?;
        if n == 0 {
            return Ok(0);
        }
        n
    };
    // As GNU parallel: a relative count below one still runs one job at a time.
    Ok(n.max(1) as usize)
}

/// `30`, `30s`, `1.5`, `2m`, `1h30m`, `1d`, `250ms`.
pub fn parse_duration(text: &str, flag: &str) -> Result<Duration> {
    let bad = || {
        Error::new(format!("{flag} {text:?} is not a duration"))
            .with_hint("write seconds (30, 0.5) or with units: 30s, 2m, 1h30m, 250ms")
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let num: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        total += num * mult;
        rest = &rest[u..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// `--termseq TERM,200,TERM,100,KILL,25`
pub fn parse_termseq(text: &str) -> Result<Ladder> {
    use std::str::FromStr;
    let bad = || {
        Error::new(format!("--termseq {text:?} is not a signal sequence"))
            .with_hint("write signal names and waits in ms, e.g. TERM,200,KILL,25")
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut steps = Vec::new();
    for pair in parts.chunks(2) {
        let name = pair[0].to_ascii_uppercase();
        let name = if name.starts_with("SIG") {
            name
        } else {
            format!("SIG{name}")
        };
        let sig = nix::sys::signal::Signal::from_str(&name).map_err(|_| bad())?;
        let wait = match pair.get(1) {
            Some(ms) => Duration::from_millis(ms.parse().map_err(|_| bad())?),
            None => Duration::from_millis(25),
        };
        steps.push((sig, wait));
    }
    if steps.is_empty() {
        return Err(bad());
    }
    Ok(Ladder(steps))
}

/// `--halt now,fail=1`, `soon,success=30%`, `never`, or a bare 0/1/2 (GNU's old form). None
/// means never. A bare `now` or `soon` is an error, as in GNU parallel.
pub fn parse_halt(text: &str) -> Result<Option<Halt>> {
    let bad = || {
        Error::new(format!("--halt {text:?} is not a halt condition"))
            .with_hint("write WHEN,WHY=N with WHEN now or soon and WHY fail, success or done, e.g. now,fail=1 or soon,fail=20%")
    };
    let t = text.trim();
    let one = Threshold::Count(1);
    let simple = |when| {
        Ok(Some(Halt {
            when,
            why: HaltWhy::Fail,
            threshold: one,
        }))
    };
    match t {
        "never" | "0" => return Ok(None),
        "1" => return simple(HaltWhen::Soon),
        "2" => return simple(HaltWhen::Now),
        _ => {}
    }
    if let Some(when) = ["now", "soon"].into_iter().find(|w| {
        t.strip_prefix(w)
            .is_some_and(|rest| rest.is_empty() || rest == ",")
    }) {
        return Err(Error::new(format!(
            "--halt {when} must be followed by ,fail=N, ,success=N or ,done=N"
        ))
        .with_hint(format!("e.g. --halt {when},fail=1")));
    }
    let (when, cond) = t.split_once(',').ok_or_else(bad)?;
    let when = match when {
        "now" => HaltWhen::Now,
        "soon" => HaltWhen::Soon,
        _ => return Err(bad()),
    };
    let (why, n) = cond.split_once('=').ok_or_else(bad)?;
    let why = match why {
        "fail" => HaltWhy::Fail,
        "success" => HaltWhy::Success,
        "done" => HaltWhy::Done,
        _ => return Err(bad()),
    };
    let threshold = match n.strip_suffix('%') {
        Some(p) => Threshold::Percent(
            p.parse::<f64>()
                .ok()
                .filter(|p| *p > 0.0 && *p <= 100.0)
                .ok_or_else(bad)?,
        ),
        None => Threshold::Count(n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(bad)?),
    };
    Ok(Some(Halt {
        when,
        why,
        threshold,
    }))
}

/// `16M`, `512K`, `1G`, `1.5G`, `2T`, `4096`.
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let (num, mult): (&str, u64) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        (i, 't' | 'T') => (&t[..i], 1 << 40),
        _ => (t, 1),
    };
    if let Ok(n) = num.parse::<usize>() {
        return n.checked_mul(mult as usize);
    }
    let f = num
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)?;
    let bytes = f * mult as f64;
    (bytes < usize::MAX as f64).then_some(bytes as usize)
}

/// Escapes in -d: \n \t \r \0 \\ \xHH and octal \NNN.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 == s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex: Vec<u8> = s[i..]
                    .iter()
                    .take(2)
                    .take_while(|b| b.is_ascii_hexdigit())
                    .copied()
                    .collect();
                match u8::from_str_radix(std::str::from_utf8(&hex).unwrap_or(""), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += hex.len();
                    }
                    Err(_) => out.extend_from_slice(b"\\x"),
                }
            }
            b'0'..=b'7' => {
                let oct: Vec<u8> = std::iter::once(c)
                    .chain(
                        s[i..]
                            .iter()
                            .take(2)
                            .take_while(|b| (b'0'..=b'7').contains(b))
                            .copied(),
                    )
                    .collect();
                i += oct.len() - 1;
                out.push(oct.iter().fold(0u32, |a, d| a * 8 + u32::from(d - b'0')) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

/// The tag string of `--tag`: the replacement string that stands for the whole value (`-I`'s, if
/// given, else `{}`).
pub fn tag_all(replace: Option<&[u8]>) -> Vec<u8> {
    replace.filter(|r| !r.is_empty()).unwrap_or(b"{}").to_vec()
}

/// GNU parallel's `unquote_printf` for `--tagstring`, pass by pass as it does them: `\t`, `\n`,
/// `\r`, then `\DDD` and `\D` as a Perl string reads them (octal; `\8`, `\9` are the digit).
fn unquote_printf(s: &[u8]) -> Vec<u8> {
    /// One `s/\\(.{width})/.../g`: `f` gives the replacement of what follows a backslash.
    fn pass(s: &[u8], width: usize, f: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'\\'
                && let Some(r) = s.get(i + 1..i + 1 + width).and_then(&f)
            {
                out.extend_from_slice(&r);
                i += 1 + width;
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        out
    }
    // Perl's "\DDD": up to three octal digits, the rest as they are; above 255 a wide character,
    // which Perl prints as UTF-8.
    let octal = |d: &[u8]| {
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = d.iter().take_while(|c| (b'0'..=b'7').contains(c)).count();
        let v = d[..n].iter().fold(0u32, |a, c| a * 8 + u32::from(c - b'0'));
        let mut out = match char::from_u32(v) {
            _ if n == 0 => Vec::new(),
            Some(c) if v > 0xff => c.to_string().into_bytes(),
            _ => vec![v as u8],
        };
        out.extend_from_slice(&d[n..]);
        Some(out)
    };
    let mut s = s.to_vec();
    for (letter, byte) in [(b't', b'\t'), (b'n', b'\n'), (b'r', b'\r')] {
        s = pass(&s, 1, |a| (a[0] == letter).then(|| vec![byte]));
    }
    let s = pass(&s, 3, octal);
    pass(&s, 1, octal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagstring_escapes_as_gnu_unquote_printf() {
        assert_eq!(
            unquote_printf(br"\\t|\t|\101|\1|\8|\1234|\x41|\\\\|\n\r"),
            b"\\\t|\t|A|\x01|8|S4|\\x41|\\\\\\\\|\n\r"
        );
        assert_eq!(unquote_printf(b"plain"), b"plain");
        assert_eq!(unquote_printf(br"\"), br"\");
        assert_eq!(unquote_printf(br"\777"), "\u{1ff}".as_bytes());
    }

    #[test]
    fn jobs_forms() {
        assert_eq!(parse_jobs("4", || 2).unwrap(), 4);
        assert_eq!(parse_jobs("+2", || 2).unwrap(), 4);
        assert_eq!(parse_jobs("-1", || 2).unwrap(), 1);
        assert_eq!(parse_jobs("-5", || 2).unwrap(), 1);
        assert_eq!(parse_jobs("50%", || 4).unwrap(), 2);
        assert_eq!(parse_jobs("0", || 4).unwrap(), 0);
        assert!(parse_jobs("abc", || 2).is_err());
    }

    #[test]
    fn gate_values() {
        assert_eq!(parse_load("2").unwrap(), 2.0);
        assert_eq!(parse_load("1.5").unwrap(), 1.5);
        assert_eq!(parse_load("0").unwrap(), 0.01);
        assert!(parse_load("x").is_err());
        assert!(parse_load("-1000").is_err());
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("-1G"), None);
    }

    #[test]
    fn durations() {
        let d = |t| parse_duration(t, "--timeout").unwrap().as_secs_f64();
        assert_eq!(d("30"), 30.0);
        assert_eq!(d("30s"), 30.0);
        assert_eq!(d("2m"), 120.0);
        assert_eq!(d("1h30m"), 5400.0);
        assert_eq!(d("0.5"), 0.5);
        assert_eq!(d("250ms"), 0.25);
        assert!(parse_duration("abc", "--timeout").is_err());
        assert!(parse_duration("5x", "--timeout").is_err());
        assert!(parse_duration("", "--timeout").is_err());
    }

    #[test]
    fn halt_conditions() {
        let h = parse_halt("now,fail=1").unwrap().unwrap();
        assert_eq!(
            (h.when, h.why, h.threshold),
            (HaltWhen::Now, HaltWhy::Fail, Threshold::Count(1))
        );
        let h = parse_halt("soon,success=20%").unwrap().unwrap();
        assert_eq!(h.threshold, Threshold::Percent(20.0));
        assert!(parse_halt("never").unwrap().is_none());
        assert!(parse_halt("later,fail=1").is_err());
        assert!(parse_halt("now,fail=0").is_err());
        for bare in ["now", "soon", "now,"] {
            assert!(parse_halt(bare).is_err(), "{bare}");
        }
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(unescape(b"\\n"), b"\n");
        assert_eq!(unescape(b"\\0"), b"\0");
        assert_eq!(unescape(b"a\\tb"), b"a\tb");
        assert_eq!(unescape(b"\\x41\\101"), b"AA");
    }
}
