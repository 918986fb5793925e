//! `--bar` and `--eta`: progress on stderr while jobs run, drawn by indicatif.
//!
//! The display exists only when stderr is a terminal (and `TERM` is not `dumb`); otherwise every
//! hook is a no-op and nothing is ever written. The scheduler calls the hooks once per job, so
//! they only bump counters (atomics shared with the template's keys); indicatif's ticker thread
//! formats and draws ten times a second. Job output written to the terminal goes through
//! [`Screen::hold`], which takes the bar off the screen for the write and draws it again below,
//! so a frame is never split by output; forkpool's own warnings (`diag::warn`) do the same.
//! (Output that does not end in a newline gets the bar drawn after it, and the next frame wipes
//! that line: a partial line is not kept on screen.) At the end the bar is cleared and one plain
//! line is left: `20/20 done, 0 failed, 4.1s`.
//!
//! Pipe mode on a file (`--pipepart`, `--pipe < FILE`) knows the input's size, so the bar counts
//! the bytes whose blocks are done, and shows the blocks done beside them.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::options::Progress as Mode;

/// How often the ticker redraws (elapsed time and ETA move even while no job ends).
const TICK: Duration = Duration::from_millis(100);
/// The most frames per second indicatif may draw.
const MAX_HZ: u8 = 15;

pub struct Progress {
    shown: Option<Shown>,
}

/// A display that is on the screen.
struct Shown {
    bar: ProgressBar,
    mode: Mode,
    counts: Arc<Counts>,
    total: Option<u64>,
    /// The position counts input bytes, not jobs (`total` is the input's size).
    bytes: bool,
    start: Instant,
    finished: bool,
}

/// What the template shows besides indicatif's own position and length.
#[derive(Default)]
struct Counts {
    running: AtomicU64,
    failed: AtomicU64,
    /// Jobs done, when the position counts bytes.
    done: AtomicU64,
}

/// Lets the output sink write to the terminal the bar is drawn on without garbling it.
#[derive(Clone)]
pub struct Screen(ProgressBar);

impl crate::diag::Screen for Screen {
    fn hold(&self, write: &mut dyn FnMut()) {
        self.0.suspend(write)
    }
}

impl Progress {
    /// A progress display in `mode`; `total` is the number of jobs when known up front.
    pub fn new(mode: Mode, total: Option<u64>) -> Progress {
        Progress::shown(mode, total, false)
    }

    /// A progress display in `mode` that counts the `size` bytes of pipe mode's input file.
    pub fn in_bytes(mode: Mode, size: u64) -> Progress {
        Progress::shown(mode, Some(size), true)
    }

    fn shown(mode: Mode, total: Option<u64>, bytes: bool) -> Progress {
        if mode == Mode::Off || !std::io::stderr().is_terminal() {
            return Progress { shown: None };
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(MAX_HZ));
        if bar.is_hidden() {
            // indicatif's own check: TERM unset or dumb.
            return Progress { shown: None };
        }
        // forkpool's own diagnostics on stderr go around the display too.
        crate::diag::set_screen(Arc::new(Screen(bar.clone())));
        let counts = Arc::new(Counts::default());
        bar.set_style(style(mode, total.is_some(), bytes, &counts));
        bar.enable_steady_tick(TICK);
        Progress {
            shown: Some(Shown {
                bar,
                mode,
                counts,
                total,
                bytes,
                start: Instant::now(),
                finished: false,
            }),
        }
    }

    /// The number of jobs is now known (the input ended). A total given to `new` stands: it was
    /// counted from the same inputs before the run.
    pub fn set_total(&mut self, total: u64) {
        let Some(s) = self.shown.as_mut() else { return };
        if s.total.is_some() {
            return;
        }
        s.bar.set_style(style(s.mode, true, false, &s.counts));
        s.total = Some(total);
        s.bar.set_length(total);
    }

    /// A job started.
    pub fn started(&mut self) {
        if let Some(s) = &self.shown {
            s.counts.running.fetch_add(1, Relaxed);
        }
    }

    /// A job's attempt ended and the job will run again (`--retries`): it is no longer running.
    pub fn retrying(&mut self) {
        if let Some(s) = &self.shown {
            s.counts.running.fetch_sub(1, Relaxed);
        }
    }

    /// Why no job starts now (`--load`, `--memfree`, ...), shown at the end of the line; None
    /// once jobs may start again.
    pub fn waiting(&mut self, why: Option<&str>) {
        if let Some(s) = &self.shown {
            s.bar
                .set_message(why.map_or(String::new(), |w| format!(", waiting: {w}")));
        }
    }

    /// A job finished for good (after its retries); `failed` when it did not succeed. `bytes`:
    /// the input its block covered (pipe mode).
    pub fn finished(&mut self, failed: bool, bytes: u64) {
        if let Some(s) = &self.shown {
            s.counts.running.fetch_sub(1, Relaxed);
            if failed {
                s.counts.failed.fetch_add(1, Relaxed);
            }
            s.counts.done.fetch_add(1, Relaxed);
            s.bar.inc(if s.bytes { bytes } else { 1 });
        }
    }

    /// The run is over: clear the display and leave one plain line on stderr (nothing when no
    /// display was shown).
    pub fn finish(&mut self) {
        let Some(s) = self.shown.as_mut() else { return };
        if s.finished {
            return;
        }
        s.finished = true;
        // Before finishing: indicatif's finish moves the position to the total.
        let done = s.bar.position();
        s.bar.finish_and_clear();
        let mut line = match s.total {
            Some(t) if s.bytes => format!(
                "{} done, {} of {}",
                s.counts.done.load(Relaxed),
                HumanBytes(done),
                HumanBytes(t)
            ),
            Some(t) => format!("{done}/{t} done"),
            None => format!("{done} done"),
        };
        let failed = s.counts.failed.load(Relaxed);
        let _ = write!(line, ", {failed} failed, ");
        push_duration(&mut line, s.start.elapsed(), true);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

impl Drop for Progress {
    /// A run that ended early (an error) still leaves the terminal tidy.
    fn drop(&mut self) {
        self.finish();
    }
}

/// The template for `mode`, with or without a known total, counting jobs or `bytes`.
fn style(mode: Mode, total: bool, bytes: bool, counts: &Arc<Counts>) -> ProgressStyle {
    let template = match (mode, total) {
        (Mode::Eta, true) if bytes => {
            "{bytes}/{total_bytes}, {done} done, {failed} failed, ETA {left}{msg}"
        }
        (_, true) if bytes => {
            "[{wide_bar}] {bytes}/{total_bytes}, {done} done, {running} running, {failed} failed, {binary_bytes_per_sec}, {took}, ETA {left}{msg}"
        }
        (Mode::Eta, true) => "{pos}/{len} done, {failed} failed, ETA {left}{msg}",
        (Mode::Eta, false) => "{pos} done, {failed} failed{msg}",
        (_, true) => {
            "[{wide_bar}] {pos}/{len} done, {running} running, {failed} failed, {rate}, {took}, ETA {left}{msg}"
        }
        (_, false) => "{pos} done, {running} running, {failed} failed, {rate}, {took}{msg}",
    };
    let running = Arc::clone(counts);
    let failed = Arc::clone(counts);
    let done = Arc::clone(counts);
    ProgressStyle::with_template(template)
        .expect("the progress templates are valid")
        .progress_chars("=> ")
        .with_key(
            "running",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", running.running.load(Relaxed));
            },
        )
        .with_key(
            "failed",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", failed.failed.load(Relaxed));
            },
        )
        .with_key(
            "done",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", done.done.load(Relaxed));
            },
        )
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1}/s", s.per_sec());
        })
        .with_key("took", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let mut t = String::new();
            push_duration(&mut t, s.elapsed(), true);
            let _ = w.write_str(&t);
        })
        .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            // Before the first job ends there is nothing to estimate from.
            if s.pos() == 0 || s.per_sec() == 0.0 {
                let _ = w.write_str("?");
                return;
            }
            let mut t = String::new();
            push_duration(&mut t, s.eta(), false);
            let _ = w.write_str(&t);
        })
}

/// `4.1s` (`5s` without `tenths`: whole seconds round up, for an ETA), `2m05s`, `1h02m`.
fn push_duration(out: &mut String, d: Duration, tenths: bool) {
    let secs = if tenths {
        d.as_secs()
    } else {
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    };
    let _ = match secs {
        0..60 if tenths => write!(out, "{secs}.{}s", d.subsec_millis() / 100),
        0..60 => write!(out, "{secs}s"),
        60..3600 => write!(out, "{}m{:02}s", secs / 60, secs % 60),
        _ => write!(out, "{}h{:02}m", secs / 3600, secs % 3600 / 60),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(d: Duration, tenths: bool) -> String {
        let mut s = String::new();
        push_duration(&mut s, d, tenths);
        s
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(dur(Duration::from_millis(4140), true), "4.1s");
        assert_eq!(dur(Duration::from_millis(4100), false), "5s");
        assert_eq!(dur(Duration::from_millis(59990), true), "59.9s");
        assert_eq!(dur(Duration::from_secs(125), true), "2m05s");
        assert_eq!(dur(Duration::from_secs(3720), false), "1h02m");
    }
}
