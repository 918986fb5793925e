//! `--joblog`: GNU parallel's joblog, one tab-separated line per finished job, flushed as each job
//! ends so that killing forkpool loses no finished job; and reading one back for `--resume`.
//! As in GNU parallel, a newline in a command is logged as a NUL byte (no command can hold a
//! NUL), so every job stays one line and its command reads back byte for byte.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_reason};
use crate::job::{Exit, JobRecord};

pub const HEADER: &str =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

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
    /// Open for writing: a new log (with its header) or, when resuming, append to the old one.
    pub fn open(path: &Path, append: bool) -> Result<Joblog> {
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
        let exists = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        let mut f = if append {
            OpenOptions::new().create(true).append(true).open(path)
        } else {
            File::create(path)
        }
        .map_err(err)?;
        if !(append && exists) {
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

    /// Write `r`'s line to the joblog file, or return it for stdout.
    pub fn write(&mut self, r: &JobRecord) -> Result<Option<Vec<u8>>> {
        let line = line(r);
        let Some(out) = self.out.as_mut() else {
            return Ok(Some(line));
        };
        out.write_all(&line)
            .and_then(|()| out.flush())
            .map_err(|e| {
                Error::new(format!(
                    "cannot write the joblog {}: {}",
                    self.path.display(),
                    io_reason(&e)
                ))
            })?;
        Ok(None)
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
pub fn read(path: &Path) -> Result<HashMap<u64, Logged>> {
    let mut jobs = HashMap::new();
    let f = match File::open(path) {
        Ok(f) => f,
        // Nothing ran before: resume from the start.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(jobs),
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
    for (i, line) in BufReader::new(f).split(b'\n').enumerate() {
        let line = line.map_err(|e| {
            Error::new(format!(
                "cannot read the joblog {}: {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
        if i == 0 {
            if line != HEADER.trim_end().as_bytes() {
                return Err(not_joblog(1));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&[u8]> = line.splitn(9, |&b| b == b'\t').collect();
        let num = |k: usize| {
            std::str::from_utf8(fields[k])
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
        };
        if fields.len() != 9 {
            return Err(not_joblog(i + 1));
        }
        let (Some(seq), Some(exitval), Some(signal)) = (num(0), num(6), num(7)) else {
            return Err(not_joblog(i + 1));
        };
        jobs.insert(
            seq as u64,
            Logged {
                failed: exitval != 0 || signal != 0,
                command: fields[8]
                    .iter()
                    .map(|&b| if b == 0 { b'\n' } else { b })
                    .collect(),
            },
        );
    }
    Ok(jobs)
}
