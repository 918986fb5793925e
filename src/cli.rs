//! The command line as the user typed it: every flag, its help text and its heading, defined once.
//! The man page and shell completions are generated from `command()`; `options.rs` turns a parsed
//! `Cli` into the validated options the program runs with.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, Parser};

use crate::error::Error;

const INPUT: &str = "Input";
const COMMAND: &str = "Command";
const SCHEDULING: &str = "Scheduling";
const OUTPUT: &str = "Output";
const PIPE_MODE: &str = "Pipe mode";
const RESULTS: &str = "Results";
const WORKERS: &str = "Workers";
const SEMAPHORE: &str = "Semaphore (sem)";
const REMOTE: &str = "Remote hosts";

const ABOUT: &str =
    "Run commands in parallel: a fast, streaming, byte-exact job runner that speaks GNU parallel.";

const LONG_ABOUT: &str = "\
Run commands in parallel: a fast, streaming, byte-exact job runner that speaks GNU parallel.

forkpool reads job inputs from ::: argument lists, :::: files or stdin lines, fills each into the
COMMAND template and runs the jobs in a bounded pool of child processes, printing each job's
output whole when it ends (or in input order with -k).";

const AFTER_LONG_HELP: &str = "\
REPLACEMENT STRINGS:
  {}      the input (all values of the job, separated by spaces)
  {.}     the input without extension        {/}   its basename
  {//}    its dirname                        {/.}  its basename without extension
  {1} {2} the value of source or column 1, 2, ...; {-1} counts from the end;
          {1.} {1/} {1//} {1/.} as above for that value
  {#}     the job's sequence number, from 1  {%}   the job's slot number, from 1
  {name}  the value of the column or source named by --header
  {= s/a/b/ =}  the value changed by a Perl expression (a subset: s/// tr/// uc lc ...; see
          README: \"Perl expressions\"); {=2 ... =} for value 2. More with --rpl and --plus
Values are shell-quoted: each reaches the job as exactly one argument, byte for byte. With no
replacement string in COMMAND, {} is appended. With no COMMAND, each input is a command line;
so is each value when COMMAND's first word holds a replacement string ({} x, {1}, run_{}): then
no value is quoted, as in GNU parallel.

EXIT STATUS:
  0        every job succeeded
  1-100    that many jobs failed; with --halt ...=N%, the percentage of jobs that failed
  101      more than 100 jobs failed
  (status) --halt now,fail=1 or done=1 (or N% that is one job): the halting job's exit status
           (255 if it timed out)
  255      forkpool's own error (bad option, unreadable input file)
  128+N    forkpool was stopped by signal N (130 for Ctrl-C, 143 for SIGTERM)

JSON OUTPUT (--json, schema version 1):
  One object per finished job, one per line, nothing else on stdout:
  seq (number), slot (number), host (string or null when local), worker (the worker's id
  with --init/--teardown/--worker-max-jobs, else null),
  args (the job's input values), command (as run), exit_code (null if killed by a signal),
  signal (e.g. \"SIGKILL\" or null), timed_out (bool), attempts (number), start (Unix time,
  seconds), runtime (seconds), stdout, stderr (strings). A value that is not valid UTF-8 is
  given in base64 under a sibling key instead: args_base64, command_base64, stdout_base64,
  stderr_base64 (the plain key is then null).

WORKERS (--init, --teardown, --worker-max-jobs):
  A worker is one life of a job slot. --init runs before the slot's first job; --teardown runs
  after its last: when no work is left, before a recycle (--worker-max-jobs), and on interrupt.
  Both run with /bin/sh -c and see FORKPOOL_SLOT, FORKPOOL_WORKER (a run-unique id) and
  FORKPOOL_ENV. Lines KEY=VALUE, or KEY<<END ... END for multi-line values, that init appends
  to $FORKPOOL_ENV are exported to every job of that worker and to its teardown; jobs also see
  FORKPOOL_WORKER. A worker starts only when a job waits for it (-j8 over 2 jobs: 2 inits).
  An init that fails (non-zero exit, or past --init-timeout) is tried 3 times in its slot; then
  the slot is retired and its jobs run in other slots, none lost or run twice. When every slot
  is retired forkpool exits 255, naming the init and its last output line. A failing teardown
  is a warning and does not change the exit status. Init and teardown output goes to stderr,
  whole when the command ends; never to stdout or into --json.

SIGNALS:
  SIGINT, SIGTERM  start no more jobs, stop running ones with --termseq, run each live
                   worker's --teardown (bounded by --init-timeout, else 10 s), print what
                   finished, then exit by the same signal (130, 143). A second SIGINT kills
                   at once.
  SIGHUP           start no more jobs; let running ones finish.
  SIGTSTP (Ctrl-Z) stop every job's process group, then forkpool; SIGCONT (fg, bg) resumes
                   them all.
  Broken pipe      when stdout is closed, stop quietly (exit by SIGPIPE).
  Every job runs in its own process group; stopping a job signals the whole group.

EXAMPLES:
  Compress every log file, two at a time:
    forkpool -j2 gzip ::: *.log
  Convert images, keeping the output in input order:
    find . -name '*.png' | forkpool -k convert {} {.}.jpg
  Every combination of two lists:
    forkpool echo {1}-{2} ::: a b ::: 1 2
  One scratch database per slot for sharded tests, dropped at the end:
    forkpool -j4 --init 'createdb t$FORKPOOL_SLOT &&
        echo DB=t$FORKPOOL_SLOT >> $FORKPOOL_ENV' \\
      --teardown 'dropdb $DB' pytest {} ::: tests/test_*.py
  Columns of a CSV file:
    forkpool --colsep , --header : echo {name} is {age} :::: people.csv";

/// The parsed command line.
#[derive(Parser, Debug)]
#[command(
    name = "forkpool",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = AFTER_LONG_HELP,
    override_usage = "forkpool [OPTIONS] [COMMAND [ARG]...] [::: VALUE... | :::: FILE...]...",
    max_term_width = 100,
    infer_long_args = true,
    // As in GNU parallel, an option given again overrides the earlier one (aliases, wrappers).
    args_override_self = true
)]
pub struct Cli {
    // ----- Input -----
    /// Read job inputs from FILE (repeatable; - is stdin), as :::: FILE does.
    #[arg(short = 'a', long = "arg-file", value_name = "FILE", help_heading = INPUT, action = ArgAction::Append)]
    pub arg_file: Vec<PathBuf>,

    /// Input values are separated by NUL bytes, not newlines (for find -print0).
    #[arg(short = '0', long = "null", help_heading = INPUT)]
    pub null: bool,

    /// Input values are separated by DELIM (escapes: \n \t \0 \\).
    #[arg(short = 'd', long = "delimiter", value_name = "DELIM", help_heading = INPUT, allow_hyphen_values = true)]
    pub delimiter: Option<OsString>,

    /// Split each input value into columns at the regular expression SEP ({1}, {2}, ...).
    #[arg(long = "colsep", short = 'C', value_name = "SEP", help_heading = INPUT, allow_hyphen_values = true)]
    pub colsep: Option<OsString>,

    /// Remove white space from the start (l), the end (r) or both ends (lr, rl) of each input
    /// value, or of each column with --colsep; n: none. --colsep alone trims both ends.
    #[arg(long = "trim", value_name = "n|l|r|lr|rl", value_parser = ["n", "l", "r", "lr", "rl"],
          hide_possible_values = true, help_heading = INPUT)]
    pub trim: Option<String>,

    /// Skip input values that are empty or only white space.
    #[arg(short = 'r', long = "no-run-if-empty", help_heading = INPUT)]
    pub no_run_if_empty: bool,

    /// Pair the input sources element-wise instead of combining them; shorter ones wrap around.
    #[arg(long = "link", visible_alias = "xapply", help_heading = INPUT)]
    pub link: bool,

    /// The first value of each source (its first line with --colsep) names it: use {name}.
    /// With --pipe or --pipepart: N (lines) or a regular expression matched at the start of the
    /// input, repeated at the start of every block.
    #[arg(long = "header", value_name = ":|N|REGEX", help_heading = INPUT)]
    pub header: Option<OsString>,

    /// Stop reading an input source at the value STR.
    #[arg(short = 'E', long = "eof", value_name = "STR", help_heading = INPUT, allow_hyphen_values = true)]
    pub eof: Option<OsString>,

    // ----- Command -----
    /// Use STR instead of {} as the replacement string for the input.
    #[arg(short = 'I', value_name = "STR", help_heading = COMMAND, allow_hyphen_values = true)]
    pub replace: Option<OsString>,

    /// Use at most N inputs per job; -n0 reads one input per job and inserts none.
    #[arg(short = 'n', long = "max-args", value_name = "N", help_heading = COMMAND)]
    pub max_args: Option<usize>,

    /// Use at most N input lines per job (as -n; a line ending in a blank does not continue),
    /// and fill {} once per input, as -N does (unless -m or --xargs).
    #[arg(short = 'L', value_name = "N", help_heading = COMMAND)]
    pub lines: Option<usize>,

    /// Use at most N input lines per job, as -L but without filling {} once per input.
    #[arg(long = "max-lines", value_name = "N", help_heading = COMMAND)]
    pub max_lines: Option<usize>,

    /// Use at most N inputs per job, reachable as {1}..{N}; -N0 reads one input and inserts none.
    #[arg(short = 'N', long = "max-replace-args", value_name = "N", help_heading = COMMAND)]
    pub max_replace_args: Option<usize>,

    /// Put as many inputs in each job as the command line allows, repeating the word around {}
    /// for each one (context replace); spread them over the job slots when they all fit.
    #[arg(short = 'X', help_heading = COMMAND)]
    pub context_replace: bool,

    /// Put as many inputs in each job as the command line allows; spread them over the job
    /// slots when they all fit.
    #[arg(short = 'm', help_heading = COMMAND)]
    pub multiple: bool,

    /// Put as many inputs in each job as the command line allows, as xargs does.
    #[arg(long = "xargs", help_heading = COMMAND)]
    pub xargs: bool,

    /// Limit a job's command line to N bytes (with -X, -m, --xargs).
    #[arg(short = 's', long = "max-chars", value_name = "N", help_heading = COMMAND)]
    pub max_chars: Option<usize>,

    /// Quote the command words too, so they reach the program as literal arguments.
    #[arg(short = 'q', long = "quote", help_heading = COMMAND)]
    pub quote: bool,

    /// Run commands that need a shell with PATH instead of /bin/sh.
    #[arg(long = "shell", value_name = "PATH", help_heading = COMMAND)]
    pub shell: Option<PathBuf>,

    /// Add GNU parallel's --plus replacement strings: {+/} {+.} {+..} {+...} {..} {...} {/..}
    /// {/...} {##} {0#} {0%} {:-STR} {:N} {:N:LEN} {#RE} {##RE} {%RE} {%%RE} {/RE/STR}
    /// {//RE/STR} {/#RE/STR} {/%RE/STR} {^STR} {^^STR} {,STR} {,,STR} {choose_k} {uniq} {slot}
    /// (see README: "Perl expressions").
    #[arg(long = "plus", help_heading = COMMAND)]
    pub plus: bool,

    /// Define a replacement string: 'TAG perl-expression', e.g. --rpl '{..} s/\.[^.]*$//'. A
    /// (group) in TAG is a regex whose text the expression gets as $$1 ... Repeatable.
    #[arg(long = "rpl", value_name = "'TAG EXPR'", help_heading = COMMAND, action = ArgAction::Append,
          allow_hyphen_values = true)]
    pub rpl: Vec<OsString>,

    // ----- Scheduling -----
    /// Run N jobs at once: N, N% of the CPUs, +N or -N relative to the CPU count, 0 for as many
    /// as possible. Default: the number of CPUs. A FILE that holds one of these is read again
    /// every second while the run goes on, so the run can be widened or narrowed (running jobs
    /// are never stopped). With --semaphore: the number of holders at once (default 1).
    #[arg(short = 'j', long = "jobs", visible_alias = "max-procs", short_alias = 'P', value_name = "N",
          help_heading = SCHEDULING, allow_hyphen_values = true)]
    pub jobs: Option<String>,

    /// Wait DURATION between job starts (30, 30s, 2m, 1h30m, 0.5).
    #[arg(long = "delay", value_name = "DURATION", help_heading = SCHEDULING, allow_hyphen_values = true)]
    pub delay: Option<String>,

    /// Stop a job that runs longer than DURATION (30, 30s, 2m, 1h30m; 0: no limit), or longer
    /// than N% of the median runtime of the jobs finished so far. Its whole process group gets
    /// --termseq; the job counts as failed (joblog Exitval -1), even if it then exits 0.
    #[arg(long = "timeout", value_name = "DURATION", help_heading = SCHEDULING, allow_hyphen_values = true)]
    pub timeout: Option<String>,

    /// How to stop a job: signal names and waits in ms, tried in turn while any process of the
    /// job is alive.
    #[arg(long = "termseq", value_name = "SEQ", default_value = "TERM,200,TERM,100,TERM,50,KILL,25", help_heading = SCHEDULING)]
    pub termseq: String,

    /// Run a failed job up to N times in all (0: until it succeeds, as GNU parallel); only the
    /// last attempt's output is printed.
    #[arg(long = "retries", value_name = "N", help_heading = SCHEDULING)]
    pub retries: Option<u32>,

    /// Stop early: WHEN,WHY=N or WHEN,WHY=N%, with WHEN now (stop running jobs) or soon (let
    /// them finish) and WHY fail, success or done. With fail=1 or done=1 the exit status is the
    /// halting job's. Also: never, and GNU's old 0 (never), 1 (soon,fail=1), 2 (now,fail=1).
    #[arg(long = "halt", visible_alias = "halt-on-error", value_name = "WHEN,WHY=N", help_heading = SCHEDULING)]
    pub halt: Option<String>,

    /// Start no job while the machine's load is MAX or more: N, or N% of the CPUs (as -j). The
    /// load is the number of tasks running or waiting for a CPU or the disk right now (state R
    /// or D in /proc, threads counted, kernel threads and forkpool itself not), as GNU parallel
    /// counts it; forkpool's own jobs count too. Not the 1-minute load average.
    #[arg(long = "load", value_name = "MAX", help_heading = SCHEDULING)]
    pub load: Option<String>,

    /// Start no job while less than SIZE of memory is available (MemAvailable; K, M, G, T
    /// suffixes, powers of 1024); a job started in the last 2 seconds, or since then while
    /// available memory keeps falling, counts as using SIZE, as its memory may not show yet. Below SIZE/2 the youngest job is stopped with --termseq and
    /// put back in the queue (its attempt not counted), unless it is the only one running.
    #[arg(long = "memfree", value_name = "SIZE", help_heading = SCHEDULING)]
    pub memfree: Option<String>,

    /// Start no job while the machine swaps both in and out (/proc/vmstat, sampled each second).
    #[arg(long = "noswap", help_heading = SCHEDULING)]
    pub noswap: bool,

    /// Run shell command CMD before starting a job; its exit status decides: 0 start, 1 wait
    /// and ask again, 2 stop the youngest job (it runs again later), as GNU parallel.
    #[arg(long = "limit", value_name = "CMD", help_heading = SCHEDULING, allow_hyphen_values = true)]
    pub limit: Option<OsString>,

    /// Run jobs at niceness N (-20 to 19). Below forkpool's own niceness it takes privilege;
    /// without it jobs run at forkpool's. On a remote host a job runs under `nice -n N`.
    #[arg(long = "nice", value_name = "N", help_heading = SCHEDULING, allow_hyphen_values = true)]
    pub nice: Option<i32>,

    // ----- Semaphore -----
    /// Work as a counting semaphore, as GNU parallel's sem: run COMMAND once, when fewer than
    /// -j (default 1) holders of the same --id run. Also when invoked as `sem`.
    #[arg(long = "semaphore", help_heading = SEMAPHORE)]
    pub semaphore: bool,

    /// The semaphore's name (default: the controlling terminal, or "not a tty"). Implies
    /// --semaphore.
    #[arg(long = "id", visible_alias = "semaphore-name", value_name = "NAME", help_heading = SEMAPHORE)]
    pub semaphore_id: Option<OsString>,

    /// Run COMMAND in the foreground: wait for it and exit with its status. Implies --semaphore.
    #[arg(long = "fg", help_heading = SEMAPHORE)]
    pub fg: bool,

    /// Return as soon as the semaphore is taken; COMMAND runs on in the background, its output
    /// going to forkpool's stdout and stderr (the default). Implies --semaphore.
    #[arg(long = "bg", help_heading = SEMAPHORE, conflicts_with = "fg")]
    pub bg: bool,

    /// Wait until every holder of the semaphore has finished. Implies --semaphore.
    #[arg(long = "wait", help_heading = SEMAPHORE)]
    pub wait: bool,

    /// Wait at most SECS for the semaphore, then run COMMAND anyway; with a negative SECS,
    /// give up and exit 1 instead (as GNU parallel). Implies --semaphore.
    #[arg(long = "semaphore-timeout", visible_alias = "st", value_name = "SECS",
          help_heading = SEMAPHORE, allow_hyphen_values = true)]
    pub semaphore_timeout: Option<String>,

    // ----- Output -----
    /// Print each job's output in input order (it is still written whole when the job ends).
    #[arg(short = 'k', long = "keep-order", help_heading = OUTPUT)]
    pub keep_order: bool,

    /// Write output as whole lines as soon as they are produced; lines of jobs interleave.
    #[arg(long = "line-buffer", visible_alias = "lb", alias = "linebuffer", help_heading = OUTPUT, conflicts_with = "ungroup")]
    pub line_buffer: bool,

    /// Write output straight through, as produced; jobs' output may mix mid-line.
    #[arg(short = 'u', long = "ungroup", help_heading = OUTPUT)]
    pub ungroup: bool,

    /// Write each job's output whole when it ends (the default).
    #[arg(long = "group", help_heading = OUTPUT, conflicts_with_all = ["line_buffer", "ungroup"])]
    pub group: bool,

    /// Prefix each output line with the job's input and a tab.
    #[arg(long = "tag", help_heading = OUTPUT)]
    pub tag: bool,

    /// Prefix each output line with STR and a tab; STR may use replacement strings, and \t, \n,
    /// \r and octal \NNN stand for the characters.
    #[arg(long = "tagstring", alias = "tag-string", value_name = "STR", help_heading = OUTPUT, allow_hyphen_values = true)]
    pub tagstring: Option<OsString>,

    /// Print the commands that would run, in input order, without running them.
    #[arg(long = "dry-run", alias = "dryrun", help_heading = OUTPUT)]
    pub dry_run: bool,

    /// GNU parallel's notice and citation switches and --silent: accepted, and nothing to do.
    #[arg(long = "will-cite", aliases = ["no-notice", "silent"], hide = true)]
    pub gnu_no_ops: bool,

    /// Print each command on stderr before it runs.
    #[arg(short = 't', long = "verbose", help_heading = OUTPUT)]
    pub verbose: bool,

    /// Print each command on stdout before its output.
    #[arg(short = 'v', help_heading = OUTPUT, action = ArgAction::Count)]
    pub print_command: u8,

    /// Print one JSON object per finished job on stdout instead of the jobs' output (see JSON
    /// OUTPUT below).
    #[arg(long = "json", help_heading = RESULTS)]
    pub json: bool,

    /// Log each finished job to FILE in GNU parallel's joblog format (- is stdout).
    #[arg(long = "joblog", value_name = "FILE", help_heading = RESULTS)]
    pub joblog: Option<PathBuf>,

    /// Skip the jobs whose sequence number is already in --joblog; append to it.
    #[arg(long = "resume", help_heading = RESULTS)]
    pub resume: bool,

    /// As --resume, but run again the jobs the joblog records as failed (with today's command).
    #[arg(long = "resume-failed", help_heading = RESULTS)]
    pub resume_failed: bool,

    /// Run again only the jobs that --joblog records as failed, with their logged commands.
    #[arg(long = "retry-failed", help_heading = RESULTS)]
    pub retry_failed: bool,

    /// Save each job's stdout, stderr and sequence number under DIR/1/VALUE/2/VALUE/... (with
    /// --header, the inputs' names instead of 1, 2; a value too long for one file name is split
    /// into subdirectories)
    #[arg(long = "results", visible_alias = "res", value_name = "DIR", help_heading = RESULTS)]
    pub results: Option<PathBuf>,

    /// Show a progress bar on stderr: jobs done of the total, running, failed, rate, elapsed
    /// time and ETA. Shown only when stderr is a terminal; the total appears once it is known.
    /// Pipe mode on a file counts the input's bytes instead.
    #[arg(long = "bar", help_heading = OUTPUT)]
    pub bar: bool,

    /// Show a one-line ETA on stderr: jobs done of the total, failed, and the estimated time left.
    /// Shown only when stderr is a terminal.
    #[arg(long = "eta", help_heading = OUTPUT)]
    pub eta: bool,

    /// Run shell command CMD once in each worker slot before the slot's first job (and again after
    /// each recycle). It sees FORKPOOL_SLOT, FORKPOOL_WORKER (this worker's run-unique id) and
    /// FORKPOOL_ENV, a file: KEY=VALUE lines it writes there are added to the environment of
    /// every job the worker runs. Its output goes to stderr. A worker whose init fails (non-zero
    /// exit, or past --init-timeout) 3 times in a row is retired; its jobs run on other workers.
    #[arg(long = "init", value_name = "CMD", help_heading = WORKERS)]
    pub init: Option<OsString>,

    /// Run shell command CMD once per worker after its last job: at the end of input, before a
    /// recycle and on interrupt. It sees the same environment as the worker's jobs.
    #[arg(long = "teardown", value_name = "CMD", help_heading = WORKERS)]
    pub teardown: Option<OsString>,

    /// Recycle a worker after N jobs: run --teardown, then --init again as a new worker.
    #[arg(long = "worker-max-jobs", value_name = "N", help_heading = WORKERS)]
    pub worker_max_jobs: Option<u64>,

    /// Time limit for each --init and --teardown run (e.g. 30s, 2m). On interrupt, teardowns
    /// get this long, or 10s when it is not given.
    #[arg(long = "init-timeout", value_name = "DURATION", help_heading = WORKERS)]
    pub init_timeout: Option<String>,

    /// Start the command once per worker (after its --init) and send it one request per job on
    /// its stdin; its reply on stdout is the job's output (see --protocol). The command may use
    /// {%} and the worker variables, not per-job replacement strings.
    #[arg(long = "persistent", help_heading = WORKERS)]
    pub persistent: bool,

    /// What a --persistent request holds, filled in per job without shell quoting (default {}),
    /// followed by a newline.
    #[arg(long = "send", value_name = "TEMPLATE", help_heading = WORKERS, requires = "persistent",
          allow_hyphen_values = true)]
    pub send: Option<OsString>,

    /// End --persistent requests with a NUL byte instead of a newline.
    #[arg(long = "send-null", help_heading = WORKERS, requires = "persistent")]
    pub send_null: bool,

    /// How a --persistent worker's reply ends: line (one line per request), end=STR (the lines
    /// up to a line that is exactly STR, which is dropped) or json (one JSON object per line
    /// each way; see the README).
    #[arg(long = "protocol", value_name = "line|end=STR|json", default_value = "line",
          help_heading = WORKERS, requires = "persistent")]
    pub protocol: String,

    /// Run jobs on remote hosts over OpenSSH: [N/]HOST, comma-separated, repeatable. N is the
    /// host's job slots (default: -j if given, else the host's CPU count, asked once with
    /// nproc); HOST is anything ssh takes (user@host, an alias of ~/.ssh/config); : is this
    /// machine. Jobs go to whichever host has a free slot.
    #[arg(short = 'S', long = "sshlogin", value_name = "[N/]HOST[,...]", help_heading = REMOTE, action = ArgAction::Append)]
    pub sshlogin: Vec<OsString>,

    /// Read --sshlogin entries from FILE, one per line (# comments and blank lines skipped), as
    /// from an HPC node list.
    #[arg(long = "sshloginfile", visible_alias = "slf", value_name = "FILE", help_heading = REMOTE, action = ArgAction::Append)]
    pub sshloginfile: Vec<PathBuf>,

    /// The ssh command, split into words as sh would (default: ssh), e.g. --ssh 'ssh -F
    /// ~/.ssh/cluster'. Its options come before forkpool's own -o options, so they win.
    #[arg(long = "ssh", value_name = "CMD", help_heading = REMOTE)]
    pub ssh: Option<OsString>,

    /// Run every job on every host (one at a time per host, hosts in parallel; each host's
    /// output is grouped; --tag tags lines with the host).
    #[arg(long = "onall", help_heading = REMOTE, conflicts_with = "nonall")]
    pub onall: bool,

    /// Run the command once on every host, with no input (--tag tags lines with the host).
    #[arg(long = "nonall", help_heading = REMOTE)]
    pub nonall: bool,

    /// Drop hosts that cannot be reached at the start, with a warning (else that is an error).
    #[arg(long = "filter-hosts", help_heading = REMOTE)]
    pub filter_hosts: bool,

    /// Copy the local environment variable NAME to every job, remote ones too (repeatable).
    #[arg(long = "env", value_name = "NAME", help_heading = REMOTE, action = ArgAction::Append)]
    pub env_vars: Vec<OsString>,

    /// Send FILE (usually {}) to the host before the job, under the same relative path (an
    /// absolute one stays absolute); replacement strings work (repeatable).
    #[arg(long = "transferfile", visible_alias = "tf", value_name = "FILE", help_heading = REMOTE, action = ArgAction::Append)]
    pub transferfile: Vec<OsString>,

    /// Fetch FILE from the host after the job, to the same relative path here; replacement
    /// strings work (repeatable).
    #[arg(long = "return", value_name = "FILE", help_heading = REMOTE, action = ArgAction::Append)]
    pub return_files: Vec<OsString>,

    /// Remove the transferred and returned files from the host after the job.
    #[arg(long = "cleanup", help_heading = REMOTE)]
    pub cleanup: bool,

    /// --transferfile {} --return FILE --cleanup in one.
    #[arg(long = "trc", value_name = "FILE", help_heading = REMOTE, action = ArgAction::Append)]
    pub trc: Vec<OsString>,

    /// Send FILE to every host once, before its first job (repeatable); with --cleanup it is
    /// removed at the end.
    #[arg(long = "basefile", visible_alias = "bf", value_name = "FILE", help_heading = REMOTE, action = ArgAction::Append)]
    pub basefile: Vec<OsString>,

    /// Run remote jobs in DIR on the host (relative to the login directory; created if
    /// missing). DIR ... (three dots) is a fresh directory per run, removed at the end.
    #[arg(long = "workdir", visible_alias = "wd", value_name = "DIR", help_heading = REMOTE)]
    pub workdir: Option<OsString>,

    /// Keep at most SIZE bytes of waiting output in memory (K, M, G suffixes); more is spilled
    /// to unlinked files in the temporary directory.
    #[arg(long = "buffer-size", value_name = "SIZE", default_value = "16M", help_heading = OUTPUT)]
    pub buffer_size: String,

    /// Directory for spilled output (default: $TMPDIR, else /tmp).
    #[arg(long = "tmpdir", value_name = "DIR", help_heading = OUTPUT)]
    pub tmpdir: Option<PathBuf>,

    // ----- Pipe mode -----
    /// Cut the input (stdin, or the one -a/:::: FILE) into blocks of records and give each block
    /// to a job on its stdin. -N N: N records per block; -L N: a record is N lines.
    #[arg(long = "pipe", visible_alias = "spreadstdin", help_heading = PIPE_MODE)]
    pub pipe: bool,

    /// As --pipe, for a regular file (-a FILE): jobs get byte ranges of it, found by reading
    /// only around each cut, so the records never pass through forkpool.
    #[arg(long = "pipepart", visible_alias = "pipe-part", help_heading = PIPE_MODE)]
    pub pipepart: bool,

    /// Bytes per block (default 1M; K M G T = 1024^n, k m g t = 1000^n). A --pipe block ends
    /// on the last record boundary within SIZE (unless one record is larger); a --pipepart block
    /// on the first one from SIZE on, as GNU parallel's. With --pipepart, -N means N blocks per
    /// job slot (default -10).
    #[arg(long = "block", visible_aliases = ["block-size", "blocksize"], value_name = "SIZE",
          help_heading = PIPE_MODE, allow_hyphen_values = true)]
    pub block: Option<String>,

    /// A record ends with STR (default: a newline; escapes \n \t \0 \xHH).
    #[arg(long = "recend", value_name = "STR", help_heading = PIPE_MODE, allow_hyphen_values = true)]
    pub recend: Option<OsString>,

    /// A record starts with STR (cuts go where --recend is followed by STR).
    #[arg(long = "recstart", value_name = "STR", help_heading = PIPE_MODE, allow_hyphen_values = true)]
    pub recstart: Option<OsString>,

    /// Read --recend and --recstart as regular expressions.
    #[arg(long = "regexp", visible_alias = "regex", help_heading = PIPE_MODE)]
    pub regexp: bool,

    /// Leave --recend and --recstart out of the blocks.
    #[arg(long = "remove-rec-sep", visible_aliases = ["removerecsep", "rrs"], help_heading = PIPE_MODE)]
    pub remove_rec_sep: bool,

    /// Start one job per slot and spread the blocks over their stdins (for commands that are
    /// slow to start); each slot's job is one result.
    #[arg(long = "round-robin", visible_aliases = ["roundrobin", "round"], help_heading = PIPE_MODE)]
    pub round_robin: bool,

    /// Write each block to a temporary file, whose name is {} (removed when the job ends).
    #[arg(long = "cat", help_heading = PIPE_MODE, conflicts_with = "fifo")]
    pub cat: bool,

    /// Give each block through a named pipe, whose name is {} (removed when the job ends).
    #[arg(long = "fifo", help_heading = PIPE_MODE)]
    pub fifo: bool,

    /// The command template, then the input sources: ::: VALUES, :::: FILES, and :::+ / ::::+ to
    /// pair a source with the one before it (::::+ pairs each of its files so).
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// The clap command, for the man page and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

const SSH: &str =
    "give hosts with -S and use forkpool's remote options (forkpool --help, Remote hosts)";

/// GNU parallel's options (20221122), each with its aliases as GNU spells them (`|` between)
/// and what to use instead, if anything. A group that shares a name with a forkpool option is a
/// spelling of that option. Retired and internal options are left out.
const GNU_OPTIONS: &[(&str, &str)] = &[
    ("E", ""),
    ("I", ""),
    ("L", ""),
    ("X", ""),
    ("m", ""),
    ("v", ""),
    ("arg-file|argfile|a", ""),
    ("arg-file-sep|argfilesep", ""),
    ("arg-sep|argsep", ""),
    ("bar", ""),
    ("basefile|bf", ""),
    ("basenameextensionreplace|bner", ""),
    ("basenamereplace|bnr", ""),
    ("bg", ""),
    ("bin", ""),
    ("block-size|blocksize|block", ""),
    ("block-timeout|blocktimeout|bt", ""),
    ("bug", ""),
    ("cat", ""),
    ("cleanup", ""),
    ("col-sep|colsep|C", ""),
    (
        "color-failed|colour-failed|colorfailed|colourfailed|color-fail|colour-fail|colorfail|colourfail|cf",
        "",
    ),
    (
        "color|colour",
        "use --tag or --tagstring to tell the jobs' output apart",
    ),
    ("compress", ""),
    (
        "controlmaster|M",
        "leave it out: forkpool always runs remote jobs over one ControlMaster connection per host",
    ),
    ("csv", "use --colsep , for CSV without quoted fields"),
    ("ctag", "use --tag"),
    ("ctag-string|ctagstring", "use --tagstring"),
    ("debug|D", ""),
    ("delay", ""),
    ("delimiter|d", ""),
    ("dirnamereplace|dnr", ""),
    ("dry-run|dryrun|dr", ""),
    ("embed", ""),
    ("env", ""),
    ("eof|e", ""),
    ("eta", ""),
    ("exit|x", ""),
    ("extensionreplace|er", ""),
    ("fg", ""),
    ("fifo", ""),
    ("filter", ""),
    ("filter-hosts|filterhosts|filter-host", ""),
    ("gnu", ""),
    ("group", ""),
    ("group-by|groupby", ""),
    ("halt-on-error|haltonerror|halt", ""),
    ("header", ""),
    ("help|h", ""),
    ("hgrp|hostgrp|hostgroup|hostgroups", SSH),
    ("interactive|p", ""),
    ("joblog|jl", ""),
    ("jobs|j", ""),
    ("keep-order|keeporder|k", ""),
    ("latest-line|latestline|ll", "use --line-buffer"),
    ("limit", ""),
    ("line-buffer|line-buffered|linebuffer|linebuffered|lb", ""),
    ("link|xapply", ""),
    (
        "linkinputsource|xapplyinputsource",
        "use :::+ or ::::+ to link a source to the one before it",
    ),
    ("load", ""),
    ("max-args|maxargs|n", ""),
    ("max-chars|maxchars|s", ""),
    ("max-line-length-allowed|maxlinelengthallowed", ""),
    ("max-lines|maxlines|l", ""),
    ("max-procs|maxprocs|P", ""),
    ("max-replace-args|maxreplaceargs|N", ""),
    ("memfree", ""),
    ("memsuspend", ""),
    ("min-version|minversion", ""),
    ("nice", ""),
    ("no-keep-order|nokeeporder|nok|no-k", "leave out -k"),
    ("no-run-if-empty|norunifempty|r", ""),
    ("nonall", ""),
    ("noswap", ""),
    ("null|0", ""),
    ("number-of-cores|numberofcores", "use nproc"),
    ("number-of-cpus|numberofcpus", "use nproc"),
    ("number-of-sockets|numberofsockets", ""),
    ("number-of-threads|numberofthreads", "use nproc"),
    ("onall", ""),
    ("open-tty|o", ""),
    ("output-as-files|outputasfiles|files", "use --results DIR"),
    ("parens", ""),
    ("pipe-part|pipepart", ""),
    ("pipe|spreadstdin", ""),
    ("plain", ""),
    ("plus", ""),
    ("process-slot-var|processslotvar", "use {%} in the command"),
    ("profile|J", ""),
    ("progress", "use --bar or --eta"),
    ("quote|q", ""),
    ("recend", ""),
    ("recordenv|record-env", ""),
    ("recstart", ""),
    ("regexp|regex", ""),
    ("remove-rec-sep|removerecsep|rrs", ""),
    ("replace|i", "use -I STR"),
    ("results|result|res", ""),
    ("resume", ""),
    ("resume-failed|resumefailed", ""),
    ("retries", ""),
    ("retry-failed|retryfailed", ""),
    ("return", ""),
    ("round-robin|roundrobin|round", ""),
    ("rpl", ""),
    ("rsync-opts|rsyncopts", SSH),
    ("semaphore", ""),
    ("semaphore-name|semaphorename|id", ""),
    ("semaphore-timeout|semaphoretimeout|st", ""),
    ("seqreplace", ""),
    ("session", ""),
    ("shard", ""),
    ("shebang|hashbang", ""),
    ("shell-completion|shellcompletion", ""),
    ("shell-quote|shellquote|shell_quote", ""),
    ("show-limits|showlimits", ""),
    ("shuf", "shuffle the input first: shuf FILE | forkpool CMD"),
    ("silent", ""),
    ("skip-first-line|skipfirstline", ""),
    ("slotreplace", ""),
    ("sql-and-worker|sqlandworker", ""),
    ("sql-master|sqlmaster", ""),
    ("sql-worker|sqlworker", ""),
    ("ssh", ""),
    ("ssh-delay|sshdelay", SSH),
    ("sshlogin|S", ""),
    ("sshloginfile|slf", ""),
    ("tag", ""),
    ("tag-string|tagstring", ""),
    ("tee", ""),
    ("template|tmpl", ""),
    ("term-seq|termseq", ""),
    ("timeout", ""),
    ("tmpdir|tempdir", ""),
    ("tmux", ""),
    ("tmux-pane|tmuxpane", ""),
    ("tollef", ""),
    ("total-jobs|totaljobs|total", "use --bar or --eta"),
    ("transfer", "use --tf {}"),
    (
        "transfer-file|transferfile|transfer-files|transferfiles|tf",
        "",
    ),
    ("trc", ""),
    ("trim", ""),
    ("tty", ""),
    ("ungroup|u", ""),
    (
        "use-compress-program|compress-program|usecompressprogram|compressprogram",
        "",
    ),
    ("use-cores-instead-of-threads|usecoresinsteadofthreads", ""),
    ("use-cpus-instead-of-cores|usecpusinsteadofcores", ""),
    (
        "use-decompress-program|decompress-program|usedecompressprogram|decompressprogram",
        "",
    ),
    (
        "use-sockets-instead-of-threads|usesocketsinsteadofthreads",
        "",
    ),
    ("verbose|t", ""),
    ("version|V", ""),
    ("wait", ""),
    ("will-cite|willcite|nn|nonotice|no-notice", ""),
    ("work-dir|workdir|wd", ""),
    ("xargs", ""),
];

/// A clearer message than clap's for an option forkpool does not know: one of GNU parallel's
/// (not supported yet, or spelled differently here), or an abbreviation of several of forkpool's.
/// None when clap's own message is the better one.
pub fn explain_unknown(err: &clap::Error) -> Option<Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(typed)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let typed = typed.split('=').next().unwrap_or(typed);
    let (dashes, name) = match typed.strip_prefix("--") {
        Some(n) => ("--", n),
        None => ("-", typed.strip_prefix('-')?),
    };
    if name.is_empty() || (dashes == "-" && name.chars().count() != 1) {
        return None;
    }
    let mut cmd = command();
    cmd.build();
    // Each forkpool option's names, its long name first.
    let ours: Vec<Vec<String>> = cmd
        .get_arguments()
        .map(|a| {
            let longs = a
                .get_long()
                .into_iter()
                .chain(a.get_all_aliases().unwrap_or_default());
            let shorts = a
                .get_short()
                .into_iter()
                .chain(a.get_all_short_aliases().unwrap_or_default());
            longs
                .map(str::to_string)
                .chain(shorts.map(String::from))
                .collect()
        })
        .collect();
    let flag = |n: &str| {
        if n.chars().count() == 1 {
            format!("-{n}")
        } else {
            format!("--{n}")
        }
    };
    let explain = |(names, hint): &(&str, &str), shown: String| {
        let ours = names
            .split('|')
            .find_map(|n| ours.iter().find(|o| o.iter().any(|o| o == n)))
            .map(|o| flag(&o[0]));
        let e = match ours {
            Some(o) => Error::new(format!(
                "{shown} is GNU parallel's spelling; forkpool's is {o}"
            )),
            None => Error::new(format!(
                "{shown} is GNU parallel's; forkpool does not support it yet"
            )),
        };
        if hint.is_empty() {
            e
        } else {
            e.with_hint(*hint)
        }
    };
    if let Some(g) = gnu_options(|n| n == name).first() {
        return Some(explain(g, typed.to_string()));
    }
    if dashes == "-" {
        return None;
    }
    // clap refuses an abbreviation that fits several options: name them.
    let mut fits: Vec<String> = ours
        .iter()
        .filter_map(|names| names.iter().find(|n| n.len() > 1 && n.starts_with(name)))
        .map(|n| flag(n))
        .collect();
    fits.sort();
    if fits.len() > 1 {
        let (last, rest) = fits.split_last().expect("two or more");
        return Some(
            Error::new(format!(
                "{typed} is ambiguous: it could be {} or {last}",
                rest.join(", ")
            ))
            .with_hint("write more of the option's name"),
        );
    }
    match gnu_options(|n| n.len() > 1 && n.starts_with(name))[..] {
        [g] => {
            let long = g.0.split('|').next().expect("a name");
            Some(explain(g, format!("{typed} (--{long})")))
        }
        _ => None,
    }
}

/// GNU parallel's options that have a name `pred` accepts.
fn gnu_options(pred: impl Fn(&str) -> bool) -> Vec<&'static (&'static str, &'static str)> {
    GNU_OPTIONS
        .iter()
        .filter(|(names, _)| names.split('|').any(&pred))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and hint `explain_unknown` gives for `args`, if any.
    fn explained(args: &[&str]) -> Option<(String, Option<String>)> {
        let err = Cli::try_parse_from(std::iter::once("forkpool").chain(args.iter().copied()))
            .expect_err("a parse error");
        explain_unknown(&err).map(|e| (e.to_string(), e.hint().map(str::to_string)))
    }

    #[test]
    fn gnu_options_are_named_and_abbreviations_resolved() {
        let msg = |args: &[&str]| explained(args).map(|(m, _)| m);
        assert_eq!(
            msg(&["--memsuspend", "1G", "wc"]).as_deref(),
            Some("--memsuspend is GNU parallel's; forkpool does not support it yet")
        );
        assert_eq!(
            msg(&["--memsuspend=1G", "echo"]).as_deref(),
            Some("--memsuspend is GNU parallel's; forkpool does not support it yet")
        );
        assert_eq!(
            msg(&["-M", "echo"]).as_deref(),
            Some("-M is GNU parallel's; forkpool does not support it yet")
        );
        assert_eq!(
            msg(&["--keeporder", "echo"]).as_deref(),
            Some("--keeporder is GNU parallel's spelling; forkpool's is --keep-order")
        );
        assert_eq!(
            msg(&["--prog", "echo"]).as_deref(),
            Some("--prog (--progress) is GNU parallel's; forkpool does not support it yet")
        );
        assert_eq!(
            msg(&["--jo", "4", "echo"]).as_deref(),
            Some("--jo is ambiguous: it could be --joblog or --jobs")
        );
        // Neither GNU parallel's nor an abbreviation: clap's message stands.
        assert_eq!(msg(&["--frobnicate", "echo"]), None);
        assert_eq!(msg(&["-j", "x", "-Z"]), None);
    }

    #[test]
    fn every_gnu_option_forkpool_lacks_is_explained() {
        for (names, _) in GNU_OPTIONS {
            for n in names.split('|') {
                let typed = if n.len() == 1 {
                    format!("-{n}")
                } else {
                    format!("--{n}")
                };
                // Names forkpool has parse; the rest must be explained.
                if let Err(err) = Cli::try_parse_from(["forkpool", &typed, "x", "echo"])
                    && err.kind() == clap::error::ErrorKind::UnknownArgument
                {
                    assert!(explain_unknown(&err).is_some(), "{typed}");
                }
            }
        }
    }
}
