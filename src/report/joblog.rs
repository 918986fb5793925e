//! `--joblog`: GNU parallel's joblog, one tab-separated line per finished job, flushed as each
//! job's output goes out (with -k in input order, as GNU parallel), so that killing forkpool loses
//! no printed job; and reading one back for `--resume`.
//! As in GNU parallel, a newline in a command is logged as a NUL byte (no command can hold a
//! NUL), so every job stays one line and its command reads back byte for byte. A last line that
//! was cut short (a full disk, a power cut) is ignored with a warning, so its job runs again, and
//! cut off before the log is appended to; a malformed line before it is an error.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_reason};
use crate::job::{Exit, JobRecord};

pub const HEADER: &str =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

/// An earlier run's joblog, as `--resume*` reads it.
#[derive(Default)]
pub struct Earlier {
    /// Each logged Seq: whether it failed, and its command.
    pub jobs: HashMap<u64, Logged>,
    /// The length of its whole lines: where a cut-short last line starts, or the file's length.
    pub whole: u64,
    /// Whether the file was there (`--retry-failed` without one runs the inputs, as GNU).
    pub found: bool,
}

/// A job as an earlier run logged it.
pub struct Logged {
    pub failed: bool,
    pub command: Vec<u8>,
}

pub struct Joblog {
    path: PathBuf,
    /// None: the joblog goes to stdout, through the output sink (`--joblog -`).
    out: Option<File>,
}

impl Joblog {
    /// Open for writing: a new log (with its header) or, when resuming, `Some(whole)`: append to
    /// the old one after its first `whole` bytes (`Earlier::whole`), dropping a cut-short line.
    pub fn open(path: &Path, append: Option<u64>) -> Result<Joblog> {
        let err = |e: std::io::Error| {
            Error::new(format!(
                "cannot write the joblog {}: {}",
                path.display(),
                io_reason(&e)
            ))
        };
        if path.as_os_str() == "-" {
            return Ok(Joblog {
                path: path.to_path_buf(),
                out: None,
            });
        }
        let mut f = match append {
            Some(whole) => OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|f| {
                    // Appended after a cut-short line, the next job's line would be garbled too.
                    if f.metadata()?.len() > whole {
                        f.set_len(whole)?;
                    }
                    Ok(f)
                }),
            None => File::create(path),
        }
        .map_err(err)?;
        if append.is_none_or(|whole| whole == 0) {
            f.write_all(HEADER.as_bytes()).map_err(err)?;
        }
        Ok(Joblog {
            path: path.to_path_buf(),
            out: Some(f),
        })
    }

    /// Whether the lines go to stdout (the caller writes them, the header first).
    pub fn to_stdout(&self) -> bool {
        self.out.is_none()
    }

    /// Write a job's line (`line`) to the joblog file; with `--joblog -` the output stage
    /// writes it instead, after the job's output.
    pub fn write(&mut self, line: &[u8]) -> Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        out.write_all(line).and_then(|()| out.flush()).map_err(|e| {
            Error::new(format!(
                "cannot write the joblog {}: {}",
                self.path.display(),
                io_reason(&e)
            ))
        })
    }
}

/// One job's joblog line, GNU parallel's tab-separated columns.
pub fn line(r: &JobRecord) -> Vec<u8> {
    let start = r
        .start
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    // GNU parallel: a job that was stopped (timed out, halted) has Exitval -1.
    let (exitval, signal) = match r.exit {
        Exit::Code(_) if r.timed_out => (-1, 0),
        Exit::Code(c) => (c, 0),
        Exit::Signal(s) if r.timed_out || r.stopped => (-1, s),
        Exit::Signal(s) => (0, s),
    };
    let mut line = format!(
        "{}\t{}\t{:.3}\t{:10.3}\t0\t{}\t{}\t{}\t",
        r.seq,
        r.host.as_deref().unwrap_or(":"),
        start,
        r.runtime.as_secs_f64(),
        r.stdout_len,
        exitval,
        signal
    )
    .into_bytes();
    // A newline would end the line early; NUL (never in a command) stands for it, as in GNU.
    line.extend(r.command.iter().map(|&b| if b == b'\n' { 0 } else { b }));
    line.push(b'\n');
    line
}

/// Read an earlier run's joblog: each logged Seq, whether it failed, and its command.
pub fn read(path: &Path) -> Result<Earlier> {
    let mut earlier = Earlier::default();
    let f = match File::open(path) {
        Ok(f) => f,
        // Nothing ran before: resume from the start.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(earlier),
        Err(e) => {
            return Err(Error::new(format!(
                "cannot read the joblog {}: {}",
                path.display(),
                io_reason(&e)
            )));
        }
    };
    let not_joblog = |n: usize| {
        Error::new(format!("{} is not a joblog (line {n})", path.display()))
            .with_hint("give --joblog the file an earlier run wrote with --joblog")
    };
    earlier.found = true;
    let mut reader = BufReader::new(f);
    let mut line = Vec::new();
    // A line with too few columns: an error, unless it is the last.
    let mut cut = None;
    for n in 1.. {
        line.clear();
        let len = reader.read_until(b'\n', &mut line).map_err(|e| {
            Error::new(format!(
                "cannot read the joblog {}: {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
        if len == 0 {
            break;
        }
        if let Some(bad) = cut {
            return Err(not_joblog(bad));
        }
        // Only the last line can lack its newline.
        let whole = line.pop_if(|b| *b == b'\n').is_some();
        if n == 1 {
            if whole && line == HEADER.trim_end().as_bytes() {
                earlier.whole += len as u64;
            } else if !whole && HEADER.as_bytes().starts_with(&line) {
                cut = Some(n);
            } else {
                return Err(not_joblog(n));
            }
            continue;
        }
        if line.is_empty() {
            earlier.whole += len as u64;
            continue;
        }
        let fields: Vec<&[u8]> = line.splitn(9, |&b| b == b'\t').collect();
        if !whole || fields.len() < 9 {
            cut = Some(n);
            continue;
        }
        let num = |k: usize| {
            std::str::from_utf8(fields[k])
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
        };
        let (Some(seq), Some(exitval), Some(signal)) = (num(0), num(6), num(7)) else {
            return Err(not_joblog(n));
        };
        earlier.jobs.insert(
            seq as u64,
            Logged {
                failed: exitval != 0 || signal != 0,
                command: fields[8]
                    .iter()
                    .map(|&b| if b == 0 { b'\n' } else { b })
                    .collect(),
            },
        );
        earlier.whole += len as u64;
    }
    if let Some(n) = cut {
        crate::diag::warn(&format!(
            "warning: the last line of the joblog {} (line {n}) was cut short; ignoring it, so \
             its job runs again",
            path.display()
        ));
    }
    Ok(earlier)
}
