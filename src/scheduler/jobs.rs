//! Turning input records into jobs: one record per job, up to N (`-n`, `-N`), or as many as fit
//! in the command line (`-X`, `-m`, `--xargs`).

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::input::Inputs;
use crate::job::{Job, Record};
use crate::options::Batching;
use crate::template::{JobView, Template};

pub struct JobSource {
    inputs: Inputs,
    batching: Batching,
    max_chars: usize,
    check_length: bool,
    /// The number of job slots, to spread -X/-m inputs over.
    slots: usize,
    pending: VecDeque<Record>,
    input_done: bool,
    spread_done: bool,
    /// After -X/-m spread the inputs, every later job takes at most this many.
    spread_max: Option<usize>,
    next_seq: u64,
    /// `--retry-failed`: a fixed list of jobs instead of the inputs.
    fixed: Option<VecDeque<Job>>,
}

impl JobSource {
    /// Jobs given in full (`--retry-failed`).
    pub fn fixed(inputs: Inputs, jobs: Vec<Job>) -> JobSource {
        let mut s = JobSource::new(inputs, Batching::One, usize::MAX, false, 1);
        s.fixed = Some(jobs.into());
        s
    }

    pub fn new(
        inputs: Inputs,
        batching: Batching,
        max_chars: usize,
        check_length: bool,
        slots: usize,
    ) -> JobSource {
        JobSource {
            inputs,
            batching,
            max_chars,
            check_length,
            slots,
            pending: VecDeque::new(),
            fixed: None,
            input_done: false,
            spread_done: false,
            spread_max: None,
            next_seq: 1,
        }
    }

    fn pull(&mut self) -> Result<Option<Record>> {
        if let Some(r) = self.pending.pop_front() {
            return Ok(Some(r));
        }
        if self.input_done {
            return Ok(None);
        }
        let r = self.inputs.next_record()?;
        if r.is_none() {
            self.input_done = true;
        }
        Ok(r)
    }

    /// How many jobs the source has given so far.
    pub fn produced(&self) -> u64 {
        self.next_seq - 1
    }

    /// Whether more jobs may come.
    pub fn exhausted(&self) -> bool {
        if let Some(f) = &self.fixed {
            return f.is_empty();
        }
        self.input_done && self.pending.is_empty()
    }

    pub fn next_job(&mut self, template: &Template) -> Result<Option<Job>> {
        if let Some(f) = &mut self.fixed {
            return Ok(f.pop_front());
        }
        let records = match self.batching {
            Batching::One => match self.pull()? {
                Some(r) => vec![r],
                None => return Ok(None),
            },
            Batching::Max(0) => match self.pull()? {
                Some(_) => Vec::new(),
                None => return Ok(None),
            },
            Batching::Max(n) => {
                let mut v = Vec::with_capacity(n.min(64));
                while v.len() < n {
                    match self.pull()? {
                        Some(r) => v.push(r),
                        None => break,
                    }
                }
                if v.is_empty() {
                    return Ok(None);
                }
                v
            }
            Batching::Fill { spread, max } => match self.fill(template, spread, max)? {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        let seq = self.next_seq;
        if self.check_length && !matches!(self.batching, Batching::Fill { .. }) {
            let len = template
                .shell_line(&JobView {
                    records: &records,
                    seq,
                    slot: 1,
                })
                .len();
            if len >= self.max_chars {
                return Err(too_long(len, self.max_chars));
            }
        }
        self.next_seq += 1;
        Ok(Some(Job {
            seq,
            records,
            logged_command: None,
            attempts: 0,
        }))
    }

    /// As many records as fit in `max_chars`, judged on the shell form of the command line.
    fn fill(
        &mut self,
        template: &Template,
        spread: bool,
        max: Option<usize>,
    ) -> Result<Option<Vec<Record>>> {
        let max = match (max, self.spread_max) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(usize::MAX),
        };
        let seq = self.next_seq;
        let line_len = |records: &[Record]| {
            template
                .shell_line(&JobView {
                    records,
                    seq,
                    slot: 1,
                })
                .len()
        };
        let base = line_len(&[]);
        let mut len = base;
        let mut v: Vec<Record> = Vec::new();
        while v.len() < max {
            let Some(r) = self.pull()? else { break };
            let one = line_len(std::slice::from_ref(&r));
            // Each further record adds its own text and a separating space.
            let add = one - base + usize::from(!v.is_empty());
            // As GNU parallel: the line must stay shorter than -s.
            if len + add >= self.max_chars {
                if v.is_empty() {
                    return Err(too_long(one, self.max_chars));
                }
                self.pending.push_front(r);
                break;
            }
            len += add;
            v.push(r);
        }
        if v.is_empty() {
            return Ok(None);
        }
        // -X/-m, as GNU parallel: when all remaining inputs fit in one line, share them out over
        // the job slots instead of running one job.
        if spread && !self.spread_done && self.exhausted() && v.len() > 1 && self.slots > 1 {
            self.spread_done = true;
            let per = v.len().div_ceil(self.slots);
            self.spread_max = Some(per);
            for r in v.drain(per..).rev() {
                self.pending.push_front(r);
            }
        }
        Ok(Some(v))
    }
}

fn too_long(len: usize, max: usize) -> Error {
    Error::new(format!(
        "command line too long ({len} bytes; it must be shorter than {max})"
    ))
    .with_hint("raise -s, or give fewer or shorter inputs per job")
}
