//! Gates on starting a job: `--load`, `--memfree`, `--noswap`, `--limit`, and the slot count
//! of `-j FILE`. The scheduler asks the `Gate` whether a job may start now, tells it when one
//! started, asks whether the youngest running job must be stopped, and wakes up when the gate
//! wants to look again (`next_due`): readings are taken on a timer, never in a busy loop.
//!
//! - `--load MAX`: the tasks that are running or waiting for a CPU or the disk right now (state
//!   R or D, threads counted, kernel threads and forkpool's own not), counted from
//!   `/proc/*/task/*/stat` as GNU parallel counts `ps` lines, read at most every `LOOK`; each job
//!   started since the reading counts as one more, so a burst stops at MAX.
//! - `--memfree SIZE`: `MemAvailable` from `/proc/meminfo`. A job may start while what is
//!   available, less SIZE for each job that started in the last `SETTLE` or while memory has
//!   kept falling since (it may still be growing into its memory; at most `SETTLE_MAX`), is
//!   SIZE or more. Below SIZE/2 the youngest job is stopped and runs again later.
//! - `--noswap`: `/proc/vmstat`'s `pswpin` and `pswpout`, sampled each `SWAP_SAMPLE`; no job
//!   starts while both grew over the last sample.
//! - `--limit CMD`: CMD runs (`sh -c`, its stdout sent to stderr) before each start, without
//!   blocking the loop: its exit status is read from a pipe when it ends. 0: one job may start;
//!   1 (or anything else): wait, ask again after `LOOK`; 2: stop the youngest job. While two or
//!   more jobs run, it also runs each `LIMIT_EVERY`, so a 2 can stop one.
//! - `-j FILE`: FILE is read again each `JOBS_FILE_EVERY`; a new count takes effect at once
//!   (narrowing never stops a running job).
//!
//! The youngest job is never stopped while it is the only one running, so every run makes
//! progress; a stopped job goes back to the queue without using up a `--retries` attempt.

use std::collections::VecDeque;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::exec::Executor;
use crate::options::{GateOptions, Options};

use super::{Role, Scheduler};

/// How long a reading of the load or the memory stands, and how often a shut gate looks again.
const LOOK: Duration = Duration::from_millis(500);
/// How long a started job is assumed to be still growing into its memory.
const SETTLE: Duration = Duration::from_secs(2);
/// The longest a started job counts as using SIZE while memory keeps falling.
const SETTLE_MAX: Duration = Duration::from_secs(30);
/// How far back memory readings are kept, and how much of a fall is noise.
const HISTORY: Duration = Duration::from_secs(2);
const NOISE: u64 = 16 << 20;
/// How long a memory reading stands while no job waits (when only a kill may be due).
const MEM_WATCH: Duration = Duration::from_millis(250);
const SWAP_SAMPLE: Duration = Duration::from_secs(1);
const LIMIT_EVERY: Duration = Duration::from_secs(1);
/// How often a running `--limit` command is looked at.
const LIMIT_POLL: Duration = Duration::from_millis(20);
const JOBS_FILE_EVERY: Duration = Duration::from_secs(1);

/// What the gates say about starting a job now.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Open,
    /// Wait; the reason, for `--bar`.
    Shut(String),
}

/// The machine's state as the gates read it; `Proc` reads /proc, tests give their own.
pub trait Machine {
    /// Tasks running or waiting to run (R or D), not counting forkpool's own.
    fn runnable(&mut self) -> Option<u64>;
    /// Bytes of memory available.
    fn available(&mut self) -> Option<u64>;
    /// Pages swapped in and out since boot.
    fn swapped(&mut self) -> Option<(u64, u64)>;
}

/// The gates, with their last readings.
pub struct Gate {
    machine: Box<dyn Machine>,
    load: Option<Load>,
    memory: Option<Memory>,
    swap: Option<Swap>,
    limit: Option<Limit>,
    jobs_file: Option<JobsFile>,
    /// When a shut gate looks again.
    retry: Option<Instant>,
}

struct Load {
    max: f64,
    /// The last count, when it was taken, and the jobs started since.
    reading: Option<(Instant, u64)>,
    started: u64,
}

struct Memory {
    size: u64,
    /// Readings of the last `HISTORY`, oldest first.
    history: VecDeque<(Instant, u64)>,
    /// Starts that still count as using SIZE.
    recent: VecDeque<Instant>,
}

impl Memory {
    fn take(&mut self, now: Instant, available: u64) {
        self.history.push_back((now, available));
        while self.history.len() > 1 && self.history[0].0 + HISTORY < now {
            self.history.pop_front();
        }
    }

    fn latest(&self) -> Option<(Instant, u64)> {
        self.history.back().copied()
    }

    /// Whether what is available fell by more than `NOISE` since a reading at least
    /// `MEM_WATCH` older than the latest: a job is still growing into its memory.
    fn falling(&self) -> bool {
        let Some((t, a)) = self.latest() else {
            return false;
        };
        self.history
            .iter()
            .rev()
            .find(|(at, _)| *at + MEM_WATCH <= t)
            .is_some_and(|&(_, before)| a + NOISE < before)
    }
}

struct Swap {
    /// The last sample and when it was taken.
    last: Option<(Instant, (u64, u64))>,
    swapping: bool,
}

struct Limit {
    command: Vec<u8>,
    shell: PathBuf,
    running: Option<Probe>,
    /// The last exit status, when it came, and whether a start or a kill has used it.
    status: Option<(Instant, i32)>,
    used: bool,
}

/// A `--limit` command on its way: the pipe its status comes through.
struct Probe {
    // Reaped by the scheduler's reaper like any orphan; only the pipe is read.
    _child: Child,
    out: std::process::ChildStdout,
    text: Vec<u8>,
}

struct JobsFile {
    path: PathBuf,
    /// What `-j 0` means: as many as descriptors allow.
    max: usize,
    text: Vec<u8>,
    next: Instant,
}

impl Gate {
    /// The gates `opts` asks for, or None when there are none (then nothing is ever measured).
    pub fn new(opts: &Options, max_slots: usize) -> Option<Gate> {
        Gate::with_machine(&opts.gates, &opts.shell, max_slots, Box::new(Proc))
    }

    pub fn with_machine(
        g: &GateOptions,
        shell: &std::path::Path,
        max_slots: usize,
        machine: Box<dyn Machine>,
    ) -> Option<Gate> {
        if !g.any() {
            return None;
        }
        let now = Instant::now();
        let mut gate = Gate {
            machine,
            load: g.load.map(|max| Load {
                max,
                reading: None,
                started: 0,
            }),
            memory: g.memfree.map(|size| Memory {
                size,
                history: VecDeque::new(),
                recent: VecDeque::new(),
            }),
            swap: g.noswap.then_some(Swap {
                last: None,
                swapping: false,
            }),
            limit: g.limit.as_ref().map(|c| Limit {
                command: c.clone(),
                shell: shell.to_path_buf(),
                running: None,
                status: None,
                used: false,
            }),
            jobs_file: g.jobs_file.as_ref().map(|p| JobsFile {
                path: p.clone(),
                max: max_slots,
                text: std::fs::read(p).unwrap_or_default(),
                next: now + JOBS_FILE_EVERY,
            }),
            retry: None,
        };
        if let Some(s) = gate.swap.as_mut() {
            s.last = gate.machine.swapped().map(|v| (now, v));
        }
        Some(gate)
    }

    /// Whether a job may start now.
    pub fn verdict(&mut self, now: Instant) -> Verdict {
        let v = self.judge(now);
        self.retry = match v {
            Verdict::Open => None,
            Verdict::Shut(_) => Some(self.retry.filter(|r| *r > now).unwrap_or(now + LOOK)),
        };
        v
    }

    fn judge(&mut self, now: Instant) -> Verdict {
        if let Some(l) = self.load.as_mut() {
            if l.reading.is_none_or(|(at, _)| now >= at + LOOK)
                && let Some(n) = self.machine.runnable()
            {
                l.reading = Some((now, n));
                l.started = 0;
            }
            let count = l
                .reading
                .map_or(u64::MAX, |(_, n)| n.saturating_add(l.started));
            if count as f64 >= l.max {
                return Verdict::Shut(match l.reading {
                    Some(_) => format!("load {count} of --load {}", trim_float(l.max)),
                    None => "the load cannot be read".into(),
                });
            }
        }
        if let Some(m) = self.memory.as_mut() {
            // Always a fresh reading before a start: it is one small read.
            if let Some(a) = self.machine.available() {
                m.take(now, a);
            }
            let falling = m.falling();
            while m
                .recent
                .front()
                .is_some_and(|t| (now >= *t + SETTLE && !falling) || now >= *t + SETTLE_MAX)
            {
                m.recent.pop_front();
            }
            let available = m.latest().map_or(0, |(_, a)| a);
            let reserved = m.size.saturating_mul(m.recent.len() as u64);
            if available.saturating_sub(reserved) < m.size {
                return Verdict::Shut(format!(
                    "{} of memory available, --memfree {}",
                    size(available),
                    size(m.size)
                ));
            }
        }
        if let Some(s) = self.swap.as_mut() {
            if s.last.is_none_or(|(at, _)| now >= at + SWAP_SAMPLE)
                && let Some(v) = self.machine.swapped()
            {
                if let Some((_, (i, o))) = s.last {
                    s.swapping = v.0 > i && v.1 > o;
                }
                s.last = Some((now, v));
            }
            if s.swapping {
                return Verdict::Shut("the machine is swapping".into());
            }
        }
        if let Some(l) = self.limit.as_mut() {
            l.poll(now);
            if l.running.is_some() {
                return Verdict::Shut("--limit runs".into());
            }
            match l.status {
                // Its answer since the last start: one job may start.
                Some((_, 0)) if !l.used => {}
                Some((at, code)) if code != 0 && now < at + LOOK => {
                    return Verdict::Shut(format!("--limit exited {code}"));
                }
                _ => {
                    l.launch();
                    return Verdict::Shut("--limit runs".into());
                }
            }
        }
        Verdict::Open
    }

    /// A job started now.
    pub fn started(&mut self, now: Instant) {
        if let Some(l) = self.load.as_mut() {
            l.started += 1;
        }
        if let Some(m) = self.memory.as_mut() {
            m.recent.push_back(now);
        }
        if let Some(l) = self.limit.as_mut() {
            l.used = true;
        }
    }

    /// Whether the youngest of `running` jobs must be stopped now, and why.
    pub fn must_stop_one(&mut self, now: Instant, running: usize) -> Option<String> {
        if running < 2 {
            return None;
        }
        if let Some(m) = self.memory.as_mut() {
            if m.latest().is_none_or(|(at, _)| now >= at + MEM_WATCH)
                && let Some(a) = self.machine.available()
            {
                m.take(now, a);
            }
            if let Some((_, a)) = m.latest()
                && a < m.size / 2
            {
                // The next look needs a new reading, after the stopped job let its memory go.
                m.history.clear();
                return Some(format!(
                    "only {} of memory available, under half of --memfree {}",
                    size(a),
                    size(m.size)
                ));
            }
        }
        if let Some(l) = self.limit.as_mut() {
            l.poll(now);
            if let Some((_, 2)) = l.status
                && !l.used
            {
                l.used = true;
                return Some("--limit exited 2".into());
            }
            if l.running.is_none() && l.status.is_none_or(|(at, _)| now >= at + LIMIT_EVERY) {
                l.launch();
            }
        }
        None
    }

    /// `-j FILE`: the new slot count, when the file changed (a warning when it holds no count).
    pub fn slots(&mut self, now: Instant) -> Option<std::result::Result<usize, String>> {
        let f = self.jobs_file.as_mut()?;
        if now < f.next {
            return None;
        }
        f.next = now + JOBS_FILE_EVERY;
        let text = std::fs::read(&f.path).ok()?;
        if text == f.text {
            return None;
        }
        f.text = text;
        let shown = String::from_utf8_lossy(&f.text).trim().to_string();
        Some(
            match crate::options::parse_jobs(&shown, crate::exec::cpu_count) {
                Ok(0) => Ok(f.max),
                Ok(n) => Ok(n.min(f.max)),
                Err(_) => Err(format!(
                    "{} holds {shown:?}, not a number of jobs; the number stays as it was",
                    f.path.display()
                )),
            },
        )
    }

    /// When the gate wants to look again: a shut gate's next look, a `--limit` command's end,
    /// `-j FILE`'s next read, and (with two or more jobs running) the memory or limit watch.
    pub fn next_due(&self, running: usize) -> Option<Instant> {
        let now = Instant::now();
        // A look that is past due and not taken (no job could start) waits for the next one.
        let mut due = self.retry.filter(|r| *r > now);
        let mut consider = |t: Instant| due = Some(due.map_or(t, |d: Instant| d.min(t)));
        if let Some(f) = &self.jobs_file {
            consider(f.next);
        }
        if let Some(l) = &self.limit {
            if l.running.is_some() {
                consider(now + LIMIT_POLL);
            } else if running >= 2 {
                consider(l.status.map_or(now, |(at, _)| at + LIMIT_EVERY));
            }
        }
        if running >= 2
            && let Some(m) = &self.memory
        {
            consider(m.latest().map_or(now, |(at, _)| at + MEM_WATCH));
        }
        // Never sooner than a moment from now: a look the loop does not take (while a stopped
        // job has yet to end) must not make it spin.
        due.map(|d| d.max(now + LIMIT_POLL))
    }
}

impl Limit {
    /// Start the command unless it runs.
    fn launch(&mut self) {
        if self.running.is_some() {
            return;
        }
        // The command's stdout goes to stderr; the wrapper's own stdout carries the status.
        let spawned = Command::new(&self.shell)
            .arg("-c")
            .arg("(eval \"$1\") >&2; echo $?")
            .arg("sh")
            .arg(std::ffi::OsStr::from_bytes(&self.command))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn();
        match spawned {
            Ok(mut child) => {
                let out = child.stdout.take().expect("piped");
                set_nonblocking(out.as_raw_fd());
                self.running = Some(Probe {
                    _child: child,
                    out,
                    text: Vec::new(),
                });
            }
            Err(_) => {
                // Cannot run it now (out of processes): as a "wait".
                self.status = Some((Instant::now(), 1));
                self.used = false;
            }
        }
    }

    /// Read what the running command wrote; at its end, take its status.
    fn poll(&mut self, now: Instant) {
        let Some(p) = self.running.as_mut() else {
            return;
        };
        let mut buf = [0u8; 64];
        loop {
            match p.out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => p.text.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
        let code = std::str::from_utf8(&p.text)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
            .unwrap_or(1);
        self.running = None;
        self.status = Some((now, code));
        self.used = false;
    }
}

fn set_nonblocking(fd: std::os::fd::RawFd) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    // SAFETY: the descriptor is the child's stdout pipe, open for as long as `Probe` lives.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let _ = fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
}

/// `2.5G`, `512M`: a size as people read it.
fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ];
    for (unit, n) in UNITS {
        if bytes >= n {
            return format!(
                "{}{unit}",
                trim_float((bytes as f64 / n as f64 * 10.0).round() / 10.0)
            );
        }
    }
    format!("{bytes}")
}

fn trim_float(f: f64) -> String {
    let s = format!("{f:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The machine, read from /proc.
#[derive(Default)]
pub struct Proc;

impl Machine for Proc {
    fn runnable(&mut self) -> Option<u64> {
        let me = std::process::id().to_string();
        let mut n = 0;
        for p in std::fs::read_dir("/proc").ok()?.flatten() {
            let name = p.file_name();
            if !name.as_bytes().iter().all(u8::is_ascii_digit) || name.as_bytes() == me.as_bytes() {
                continue;
            }
            let Ok(tasks) = std::fs::read_dir(p.path().join("task")) else {
                continue;
            };
            for t in tasks.flatten() {
                if std::fs::read(t.path().join("stat")).is_ok_and(|s| counts_as_load(&s)) {
                    n += 1;
                }
            }
        }
        Some(n)
    }

    fn available(&mut self) -> Option<u64> {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        meminfo_available(&text)
    }

    fn swapped(&mut self) -> Option<(u64, u64)> {
        let text = std::fs::read_to_string("/proc/vmstat").ok()?;
        vmstat_swaps(&text)
    }
}

/// Whether a task's `/proc/.../stat` line says it runs or waits to (R), or waits for the disk
/// (D), and is no kernel thread.
fn counts_as_load(stat: &[u8]) -> bool {
    const PF_KTHREAD: u64 = 0x0020_0000;
    let Some(end) = stat.iter().rposition(|&b| b == b')') else {
        return false;
    };
    let Ok(rest) = std::str::from_utf8(&stat[end + 1..]) else {
        return false;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3rd field of the line), ..., flags (9th).
    let state = fields.first().copied().unwrap_or("");
    let flags: u64 = fields.get(6).and_then(|f| f.parse().ok()).unwrap_or(0);
    matches!(state, "R" | "D") && flags & PF_KTHREAD == 0
}

fn meminfo_available(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn vmstat_swaps(text: &str) -> Option<(u64, u64)> {
    let get = |key: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))?
            .trim()
            .parse()
            .ok()
    };
    Some((get("pswpin")?, get("pswpout")?))
}

/// The scheduler's side: asking the gate before a start, and acting on what it says.
impl<E: Executor> Scheduler<'_, E> {
    /// Whether the gates let a job start now; the reason to wait goes to `--bar`.
    pub(super) fn gate_open(&mut self) -> bool {
        let Some(g) = self.gate.as_mut() else {
            return true;
        };
        let v = g.verdict(Instant::now());
        if let Some(p) = self.extras.progress.as_mut() {
            p.waiting(match &v {
                Verdict::Open => None,
                Verdict::Shut(why) => Some(why.as_str()),
            });
        }
        v == Verdict::Open
    }

    /// A job started: the gates count it.
    pub(super) fn gate_started(&mut self) {
        if let Some(g) = self.gate.as_mut() {
            g.started(Instant::now());
        }
    }

    /// Each turn of the loop: take `-j FILE`'s new count, and stop the youngest job when memory
    /// runs low or `--limit` says so.
    pub(super) fn tend_gate(&mut self) {
        let Some(g) = self.gate.as_mut() else {
            return;
        };
        let now = Instant::now();
        match g.slots(now) {
            // Workers keep their slots: with them the count only grows.
            Some(Ok(n)) if self.workers.is_some() && n < self.cap => crate::diag::warn(&format!(
                "-j FILE: with --init, --teardown or --worker-max-jobs the number of jobs only grows; it stays {}",
                self.cap
            )),
            Some(Ok(n)) => self.cap = n,
            Some(Err(msg)) => crate::diag::warn(&msg),
            None => {}
        }
        if self.stop.is_some() {
            return;
        }
        let live = self.procs.iter().flatten().filter(|p| match &p.role {
            Role::Job(run) => !run.requeue && !p.sup.stopped(),
            _ => false,
        });
        let live = live.count();
        // One at a time: the last one stopped must be gone before the next is chosen.
        let stopping = self.procs.iter().flatten().any(|p| match &p.role {
            Role::Job(run) => run.requeue,
            _ => false,
        });
        if stopping {
            return;
        }
        let g = self.gate.as_mut().expect("checked above");
        let Some(why) = g.must_stop_one(now, live) else {
            return;
        };
        let youngest = self
            .procs
            .iter_mut()
            .flatten()
            .filter(|p| {
                matches!(&p.role, Role::Job(_)) && p.sup.handle().is_some() && !p.sup.stopped()
            })
            .max_by_key(|p| p.sup.start);
        if let Some(p) = youngest
            && let Role::Job(run) = &mut p.role
        {
            run.requeue = true;
            p.sup.stop(now);
            crate::diag::warn(&format!(
                "{why}: stopping job {}, the youngest; it runs again later: {}",
                run.job.seq,
                String::from_utf8_lossy(run.line.as_deref().unwrap_or_default()).replace('\n', " ")
            ));
        }
    }

    /// When the gate wants the loop to wake.
    pub(super) fn gate_due(&self) -> Option<Instant> {
        self.gate.as_ref()?.next_due(self.running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Default)]
    struct Fake {
        runnable: u64,
        available: u64,
        swapped: (u64, u64),
        reads: u32,
    }

    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Fake>>);

    impl Machine for Shared {
        fn runnable(&mut self) -> Option<u64> {
            let mut f = self.0.borrow_mut();
            f.reads += 1;
            Some(f.runnable)
        }
        fn available(&mut self) -> Option<u64> {
            Some(self.0.borrow().available)
        }
        fn swapped(&mut self) -> Option<(u64, u64)> {
            Some(self.0.borrow().swapped)
        }
    }

    fn gate(g: GateOptions) -> (Gate, Shared) {
        let m = Shared::default();
        let gate = Gate::with_machine(&g, std::path::Path::new("/bin/sh"), 64, Box::new(m.clone()))
            .unwrap();
        (gate, m)
    }

    const G: u64 = 1 << 30;

    #[test]
    fn no_gate_no_gate() {
        assert!(
            Gate::with_machine(
                &GateOptions::default(),
                std::path::Path::new("/bin/sh"),
                1,
                Box::new(Shared::default())
            )
            .is_none()
        );
    }

    #[test]
    fn load_counts_jobs_started_since_the_reading() {
        let (mut g, m) = gate(GateOptions {
            load: Some(2.0),
            ..Default::default()
        });
        let t = Instant::now();
        m.0.borrow_mut().runnable = 1;
        assert_eq!(g.verdict(t), Verdict::Open);
        g.started(t);
        assert_eq!(g.verdict(t), Verdict::Shut("load 2 of --load 2".into()));
        assert_eq!(g.next_due(1), Some(t + LOOK));
        // The job's end shows at the next reading, not before.
        m.0.borrow_mut().runnable = 0;
        assert!(matches!(g.verdict(t + LOOK / 2), Verdict::Shut(_)));
        assert_eq!(m.0.borrow().reads, 1);
        assert_eq!(g.verdict(t + LOOK), Verdict::Open);
        assert_eq!(g.next_due(1), None);
    }

    #[test]
    fn memory_reserves_for_jobs_just_started_and_stops_the_youngest_below_half() {
        let (mut g, m) = gate(GateOptions {
            memfree: Some(2 * G),
            ..Default::default()
        });
        let t = Instant::now();
        m.0.borrow_mut().available = 5 * G;
        assert_eq!(g.verdict(t), Verdict::Open);
        g.started(t);
        // 5G less 2G for the job just started leaves 3G: one more.
        assert_eq!(g.verdict(t), Verdict::Open);
        g.started(t);
        assert_eq!(
            g.verdict(t),
            Verdict::Shut("5G of memory available, --memfree 2G".into())
        );
        assert_eq!(g.verdict(t + SETTLE), Verdict::Open);
        m.0.borrow_mut().available = G - 1;
        let later = t + SETTLE + MEM_WATCH;
        assert_eq!(g.must_stop_one(later, 1), None, "never the only job");
        assert!(
            g.must_stop_one(later, 2)
                .unwrap()
                .contains("under half of --memfree 2G")
        );
        // A new reading after the stop: no second stop while enough is back.
        m.0.borrow_mut().available = G;
        assert_eq!(g.must_stop_one(later, 2), None);
    }

    #[test]
    fn a_job_still_growing_into_its_memory_keeps_its_share() {
        let (mut g, m) = gate(GateOptions {
            memfree: Some(2 * G),
            ..Default::default()
        });
        let t = Instant::now();
        m.0.borrow_mut().available = 7 * G / 2;
        assert_eq!(g.verdict(t), Verdict::Open);
        g.started(t);
        // Memory keeps falling past SETTLE: the job still counts as using 2G.
        let mut at = t;
        for _ in 0..12 {
            at += MEM_WATCH;
            m.0.borrow_mut().available -= G / 16;
            assert!(matches!(g.verdict(at), Verdict::Shut(_)), "{at:?}");
        }
        // Steady again: the share is given back.
        assert_eq!(g.verdict(at + MEM_WATCH), Verdict::Open);
    }

    #[test]
    fn noswap_waits_while_pages_go_both_ways() {
        let (mut g, m) = gate(GateOptions {
            noswap: true,
            ..Default::default()
        });
        let t = Instant::now();
        assert_eq!(g.verdict(t), Verdict::Open);
        m.0.borrow_mut().swapped = (10, 0);
        assert_eq!(g.verdict(t + SWAP_SAMPLE), Verdict::Open, "only in");
        m.0.borrow_mut().swapped = (20, 5);
        assert!(matches!(g.verdict(t + SWAP_SAMPLE * 2), Verdict::Shut(_)));
        assert!(matches!(
            g.verdict(t + SWAP_SAMPLE * 2 + LOOK),
            Verdict::Shut(_)
        ));
        assert_eq!(g.verdict(t + SWAP_SAMPLE * 3), Verdict::Open);
    }

    #[test]
    fn limit_status_decides_one_start_each() {
        let dir = std::env::temp_dir().join(format!("forkpool-gate-limit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let code = dir.join("code");
        std::fs::write(&code, "exit 0").unwrap();
        let (mut g, _) = gate(GateOptions {
            limit: Some(format!(". {}", code.display()).into_bytes()),
            ..Default::default()
        });
        let ask = |g: &mut Gate| {
            let start = Instant::now();
            loop {
                match g.verdict(Instant::now()) {
                    Verdict::Shut(w) if w == "--limit runs" => {
                        assert!(start.elapsed() < Duration::from_secs(20));
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    v => return v,
                }
            }
        };
        assert_eq!(ask(&mut g), Verdict::Open);
        g.started(Instant::now());
        std::fs::write(&code, "exit 1").unwrap();
        assert_eq!(ask(&mut g), Verdict::Shut("--limit exited 1".into()));
        std::fs::write(&code, "exit 2").unwrap();
        std::thread::sleep(LOOK);
        assert_eq!(ask(&mut g), Verdict::Shut("--limit exited 2".into()));
        assert_eq!(
            g.must_stop_one(Instant::now(), 2).as_deref(),
            Some("--limit exited 2")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn proc_lines() {
        let running = b"12 (a (b) c) R 1 12 12 0 -1 4194304 1 0";
        assert!(counts_as_load(running));
        let kthread = b"2 (kthreadd) R 0 0 0 0 -1 2129984 0 0";
        assert!(!counts_as_load(kthread));
        assert!(counts_as_load(b"5 (x) D 1 5 5 0 -1 0"));
        assert!(!counts_as_load(b"5 (x) S 1 5 5 0 -1 0"));
        assert_eq!(
            meminfo_available("MemTotal: 100 kB\nMemAvailable:    2048 kB\n"),
            Some(2 << 20)
        );
        assert_eq!(vmstat_swaps("pswpin 3\npswpout 4\n"), Some((3, 4)));
        assert_eq!(size(3 * G / 2), "1.5G");
        assert_eq!(size(512 << 20), "512M");
    }
}
