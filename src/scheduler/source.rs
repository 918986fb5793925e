//! Where jobs come from. The scheduler pulls jobs from a `JobSource` and tells it when each one
//! is done for good. `Batcher` turns input records into jobs: one record per job, up to N (`-n`,
//! `-N`), or as many as fit in the command line (`-X`, `-m`, `--xargs`). It runs inline when
//! reading can never block (`:::` lists, regular files), else on a reader thread that feeds a
//! bounded channel, so a quiet stdin (`tail -f queue | forkpool`) delays no timeout, output or
//! signal. `Resumed` skips what a joblog says is done (`--resume`, `--resume-failed`), and
//! `Replay` runs a joblog's failed commands again (`--retry-failed`); both name every sequence
//! number they skip, so `-k` never waits for a job that will not come.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::error::{Error, Result};
use crate::input::Inputs;
use crate::job::{Job, JobRecord, Record};
use crate::options::Batching;
use crate::options::Resume;
use crate::report::joblog::Logged;
use crate::template::{JobView, Template};

/// Input records made into jobs.
pub struct Batcher {
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
    /// `--tag`, `--tagstring` with a replacement string the command lacks: values count twice
    /// towards -s (quoted, as GNU parallel counts them).
    count_tag: bool,
}

impl Batcher {
    pub fn new(
        inputs: Inputs,
        batching: Batching,
        max_chars: usize,
        check_length: bool,
        slots: usize,
    ) -> Batcher {
        Batcher {
            inputs,
            batching,
            max_chars,
            check_length,
            slots,
            pending: VecDeque::new(),
            input_done: false,
            spread_done: false,
            spread_max: None,
            next_seq: 1,
            count_tag: false,
        }
    }

    /// Count the values once more towards -s, as GNU parallel does when the tag (`--tag`,
    /// `--tagstring`) holds a replacement string that the command does not.
    pub fn counting_tag(mut self, count_tag: bool) -> Batcher {
        self.count_tag = count_tag;
        self
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

    /// Whether no more jobs can come.
    pub fn exhausted(&self) -> bool {
        self.input_done && self.pending.is_empty()
    }

    pub fn next_job(&mut self, template: &Template) -> Result<Option<Job>> {
        // `{choose_k}`, `{uniq}` (--plus): a skipped job still takes its sequence number.
        loop {
            match self.next_any(template)? {
                Some(job) if template.skips(&job.records) => continue,
                job => return Ok(job),
            }
        }
    }

    fn next_any(&mut self, template: &Template) -> Result<Option<Job>> {
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
        Ok(Some(Job::new(seq, records)))
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
            // A further record adds what a second copy of it adds: its text (with the word
            // around it under -X) and a separating space, at each `{}` of the command.
            // (Saturating: under -q no value at all is an empty word, `''`.)
            let mut add = if v.is_empty() {
                one.saturating_sub(base)
            } else {
                line_len(&[r.clone(), r.clone()]).saturating_sub(one)
            };
            // As GNU parallel: a tag with a replacement string the command lacks counts each
            // value once more (and, without -X, the space before it).
            if self.count_tag {
                let mut quoted = Vec::new();
                for value in &r {
                    crate::template::quote(value, &mut quoted);
                }
                add += quoted.len() + usize::from(!v.is_empty() && !template.context_replace());
            }
            // As GNU parallel: the line must stay shorter than -s.
            if len + add >= self.max_chars {
                if v.is_empty() {
                    if self.check_length {
                        // -s is the user's own limit: as GNU parallel, an error.
                        return Err(too_long(len + add, self.max_chars));
                    }
                    // Longer than the system allows: this value alone makes a job, which fails
                    // alone at its start, as without -X (issue 19.9).
                    v.push(r);
                    break;
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

/// What a pull from a job source gives.
#[derive(Debug)]
pub enum Pull {
    Job(Job),
    /// This sequence number will not run (its output turn passes).
    Skip(u64),
    /// Nothing yet: the source's `notify_fd` becomes readable when there may be.
    Later,
    /// No job will come any more.
    End,
}

/// Jobs for the scheduler, in sequence order.
pub trait JobSource {
    fn pull(&mut self) -> Result<Pull>;

    /// Job `record.seq` is finished for good (a queue may acknowledge it).
    fn done(&mut self, _record: &JobRecord) {}

    /// How many sequence numbers the source has given out so far (jobs and skips).
    fn produced(&self) -> u64;

    /// Readable when a pull that said `Later` may give something now.
    fn notify_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// How many jobs are left, when that can be found without waiting (it uses them up).
    fn count_rest(&mut self) -> Option<u64> {
        None
    }
}

/// Batches read on the calling thread: for inputs whose reads never wait (lists, regular files).
pub struct Inline<'a> {
    batcher: Batcher,
    template: &'a Template,
}

impl<'a> Inline<'a> {
    pub fn new(batcher: Batcher, template: &'a Template) -> Inline<'a> {
        Inline { batcher, template }
    }
}

impl JobSource for Inline<'_> {
    fn pull(&mut self) -> Result<Pull> {
        Ok(match self.batcher.next_job(self.template)? {
            Some(job) => Pull::Job(job),
            None => Pull::End,
        })
    }

    fn produced(&self) -> u64 {
        self.batcher.produced()
    }

    fn count_rest(&mut self) -> Option<u64> {
        let mut n = 0;
        while let Ok(Some(_)) = self.batcher.next_job(self.template) {
            n += 1;
        }
        Some(n)
    }
}

/// Batches read on a reader thread, for inputs that can wait (stdin, pipes, terminals). The
/// queue between them is bounded, and each side wakes the other only at a mark (the reader
/// when half the queue is free, the event loop when it waits for input), not once per job:
/// a wake-up per job costs a context switch each on a machine that is busy spawning.
pub struct Threaded {
    feed: Arc<Feed>,
    produced: u64,
}

struct Feed {
    state: Mutex<FeedState>,
    /// The reader waits here for room.
    room: Condvar,
    /// Readable when the event loop waits for input and some came (or the input ended).
    wake: EventFd,
    /// The most jobs read ahead.
    ahead: usize,
}

#[derive(Default)]
struct FeedState {
    jobs: VecDeque<Result<Job>>,
    ended: bool,
    /// The event loop found the queue empty and waits for the next job.
    waiting: bool,
}

/// Jobs read ahead of the scheduler; more would only use memory.
const READ_AHEAD: usize = 256;

impl Threaded {
    pub fn spawn(mut batcher: Batcher, template: Arc<Template>) -> Result<Threaded> {
        Threaded::spawn_with(READ_AHEAD, move || batcher.next_job(&template))
    }

    /// Jobs from `next` (None: the end), read ahead at most `ahead` at a time.
    pub fn spawn_with(
        ahead: usize,
        mut next: impl FnMut() -> Result<Option<Job>> + Send + 'static,
    ) -> Result<Threaded> {
        let wake = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(|e| Error::new(format!("cannot set up the input reader: {e}")))?;
        let feed = Arc::new(Feed {
            state: Mutex::new(FeedState::default()),
            room: Condvar::new(),
            wake,
            ahead: ahead.max(1),
        });
        let f = Arc::clone(&feed);
        // Never joined: at exit it may still wait on a quiet stdin, and the process ends it.
        std::thread::Builder::new()
            .name("forkpool-input".into())
            .stack_size(256 * 1024)
            .spawn(move || f.read_ahead(&mut next))
            .map_err(|e| Error::new(format!("cannot start the input reader: {e}")))?;
        Ok(Threaded { feed, produced: 0 })
    }
}

impl Feed {
    fn lock(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_ahead(&self, next: &mut dyn FnMut() -> Result<Option<Job>>) {
        loop {
            let next = next();
            let last = !matches!(next, Ok(Some(_)));
            let mut st = self.lock();
            while st.jobs.len() >= self.ahead {
                st = self.room.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            match next {
                Ok(Some(job)) => st.jobs.push_back(Ok(job)),
                Ok(None) => {}
                Err(e) => st.jobs.push_back(Err(e)),
            }
            st.ended = last;
            let wake = std::mem::take(&mut st.waiting) || last;
            drop(st);
            if wake {
                let _ = self.wake.write(1);
            }
            if last {
                return;
            }
        }
    }
}

impl JobSource for Threaded {
    fn pull(&mut self) -> Result<Pull> {
        let mut st = self.feed.lock();
        match st.jobs.pop_front() {
            Some(job) => {
                if st.jobs.len() == self.feed.ahead / 2 {
                    self.feed.room.notify_one();
                }
                drop(st);
                let job = job?;
                self.produced = job.seq;
                Ok(Pull::Job(job))
            }
            None if st.ended => Ok(Pull::End),
            None => {
                // Under the lock: the reader's next job sees the request and wakes the loop.
                st.waiting = true;
                Ok(Pull::Later)
            }
        }
    }

    fn produced(&self) -> u64 {
        self.produced
    }

    fn notify_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.feed.wake.as_fd())
    }
}

/// `--resume`, `--resume-failed`: the jobs of `inner` that an earlier run's joblog does not
/// count as done; the others are skipped.
pub struct Resumed<'a> {
    inner: Box<dyn JobSource + 'a>,
    logged: HashMap<u64, Logged>,
    mode: Resume,
}

impl<'a> Resumed<'a> {
    pub fn new(inner: Box<dyn JobSource + 'a>, logged: HashMap<u64, Logged>, mode: Resume) -> Self {
        Resumed {
            inner,
            logged,
            mode,
        }
    }
}

impl JobSource for Resumed<'_> {
    fn pull(&mut self) -> Result<Pull> {
        let pull = self.inner.pull()?;
        let Pull::Job(job) = &pull else {
            return Ok(pull);
        };
        let done = match (self.mode, self.logged.get(&job.seq)) {
            (Resume::Done, Some(_)) => true,
            (Resume::Failed, Some(l)) => !l.failed,
            _ => false,
        };
        Ok(if done { Pull::Skip(job.seq) } else { pull })
    }

    fn done(&mut self, record: &JobRecord) {
        self.inner.done(record);
    }

    fn count_rest(&mut self) -> Option<u64> {
        self.inner.count_rest()
    }

    fn produced(&self) -> u64 {
        self.inner.produced()
    }

    fn notify_fd(&self) -> Option<BorrowedFd<'_>> {
        self.inner.notify_fd()
    }
}

/// `--retry-failed`: the failed jobs of a joblog, run with their logged commands; every other
/// sequence number up to the last logged one is skipped.
pub struct Replay {
    logged: HashMap<u64, Logged>,
    next: u64,
    last: u64,
}

impl Replay {
    pub fn new(logged: HashMap<u64, Logged>) -> Replay {
        let last = logged.keys().copied().max().unwrap_or(0);
        Replay {
            logged,
            next: 1,
            last,
        }
    }

    /// How many jobs it will run.
    pub fn jobs(&self) -> u64 {
        self.logged.values().filter(|l| l.failed).count() as u64
    }
}

impl JobSource for Replay {
    fn pull(&mut self) -> Result<Pull> {
        if self.next > self.last {
            return Ok(Pull::End);
        }
        let seq = self.next;
        self.next += 1;
        Ok(match self.logged.remove(&seq) {
            Some(l) if l.failed => Pull::Job(Job {
                logged_command: Some(l.command),
                ..Job::new(seq, Vec::new())
            }),
            _ => Pull::Skip(seq),
        })
    }

    fn produced(&self) -> u64 {
        self.next - 1
    }
}

/// Jobs made up front (`--nonall`, `--onall`: one per host), each with its command.
pub struct Listed {
    jobs: VecDeque<Job>,
    produced: u64,
}

impl Listed {
    /// One job per command, numbered from 1.
    pub fn new(commands: Vec<Vec<u8>>) -> Listed {
        let jobs = commands
            .into_iter()
            .zip(1..)
            .map(|(c, seq)| Job {
                logged_command: Some(c),
                ..Job::new(seq, Vec::new())
            })
            .collect();
        Listed { jobs, produced: 0 }
    }
}

impl JobSource for Listed {
    fn pull(&mut self) -> Result<Pull> {
        Ok(match self.jobs.pop_front() {
            Some(j) => {
                self.produced += 1;
                Pull::Job(j)
            }
            None => Pull::End,
        })
    }

    fn produced(&self) -> u64 {
        self.produced
    }
}
