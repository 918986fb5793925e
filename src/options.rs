//! The validated options the program runs with, built from what the user typed (`cli.rs`).
//! Every check that can fail before a job starts is here, with a message that says what to fix.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use regex::bytes::Regex;

use crate::cli::Cli;
use crate::error::{Error, Result};
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
    pub jobs: usize,
    pub output: OutputOptions,
    pub dry_run: bool,
    /// `-t`: commands go to stderr as they start.
    pub verbose: bool,
    pub delay: Option<Duration>,
    pub timeout: Option<Timeout>,
    pub ladder: Ladder,
    /// Attempts per job (at least 1).
    pub retries: u32,
    pub halt: Option<Halt>,
    pub json: bool,
    pub joblog: Option<PathBuf>,
    pub resume: Resume,
    pub results: Option<PathBuf>,
    /// `--init`, `--teardown`, `--worker-max-jobs`: the worker life cycle, when any is given.
    pub workers: Option<WorkerOptions>,
    pub progress: Progress,
    /// `--env NAME`: local variables copied to every job.
    pub env_vars: Vec<OsString>,
    /// `-S`, `--slf`: where jobs run, when not only here.
    pub remote: Option<RemoteOptions>,
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
    pub fn from_cli(cli: Cli) -> Result<(Options, InputConfig)> {
        let (command, sources) = split_sources(cli.command)?;
        let mut specs: Vec<SourceSpec> = cli
            .arg_file
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
        let header = match &cli.header {
            None => false,
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
            cli.max_replace_args.or(cli.max_args).or(cli.max_lines),
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

        let jobs = match &cli.jobs {
            Some(j) => parse_jobs(j, crate::exec::cpu_count)?,
            None => crate::exec::cpu_count(),
        };

        let mode = if cli.ungroup {
            OutputMode::Ungroup
        } else if cli.line_buffer {
            OutputMode::LineBuffer
        } else {
            OutputMode::Group
        };
        // As in GNU parallel, an empty --tagstring is no tag string at all.
        let tag = match (cli.tagstring.as_ref().filter(|s| !s.is_empty()), cli.tag) {
            (Some(s), _) => Some(s.as_bytes().to_vec()),
            (None, true) => Some(b"{}".to_vec()),
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
        if cli.retries == Some(0) {
            return Err(
                Error::new("--retries 0 would run no job").with_hint("give --retries 1 or more")
            );
        }
        if cli.worker_max_jobs == Some(0) {
            return Err(Error::new("--worker-max-jobs 0 would run no job")
                .with_hint("give --worker-max-jobs 1 or more"));
        }
        let workers =
            if cli.init.is_some() || cli.teardown.is_some() || cli.worker_max_jobs.is_some() {
                Some(WorkerOptions {
                    init: cli.init.map(OsString::into_vec),
                    teardown: cli.teardown.map(OsString::into_vec),
                    max_jobs: cli.worker_max_jobs,
                    timeout: cli
                        .init_timeout
                        .as_deref()
                        .map(|t| parse_duration(t, "--init-timeout"))
                        .transpose()?,
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
            // -N fills {} once per input, as -X does (GNU parallel).
            context_replace: cli.context_replace || cli.max_replace_args.is_some(),
            max_chars,
            check_length: cli.max_chars.is_some(),
            shell: cli.shell.unwrap_or_else(|| PathBuf::from("/bin/sh")),
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
            retries: cli.retries.unwrap_or(1),
            halt,
            json: cli.json,
            joblog: cli.joblog,
            resume,
            results: cli.results,
            workers,
            progress,
            env_vars,
            remote,
        };
        Ok((opts, input))
    }
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

/// `--halt now,fail=1`, `soon,success=30%`, `never`, `now`, `soon`, or a bare 0/1/2 (GNU's
/// old form). None means never.
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
        "soon" | "1" => return simple(HaltWhen::Soon),
        "now" | "2" => return simple(HaltWhen::Now),
        _ => {}
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

/// `16M`, `512K`, `1G`, `4096`.
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let (num, mult) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(unescape(b"\\n"), b"\n");
        assert_eq!(unescape(b"\\0"), b"\0");
        assert_eq!(unescape(b"a\\tb"), b"a\tb");
        assert_eq!(unescape(b"\\x41\\101"), b"AA");
    }
}
