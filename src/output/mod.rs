//! Output collection: each job's stdout and stderr are gathered while it runs and written out by
//! mode: whole when the job ends (grouped, the default), in input order (`-k`), as whole lines
//! (`--line-buffer`), as they come (`-u` with `--results`, whose files need a copy of what goes
//! out). Waiting output is kept in memory up to a cap; beyond it, it spills to disk. This module
//! is the only writer of stdout.

pub mod json;
pub mod results;
mod sink;
mod spill;

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::error::Error;
pub use crate::job::Stream;
use crate::options::{OutputMode, OutputOptions};
pub use sink::Sink;
use spill::Spill;

/// Bytes of one stream: spilled segments first, then what is still in memory.
#[derive(Default)]
pub struct Buf {
    segs: Vec<(u64, u64)>,
    mem: Vec<u8>,
}

impl Buf {
    /// Bytes held, in memory and spilled.
    pub fn size(&self) -> u64 {
        self.segs.iter().map(|s| s.1).sum::<u64>() + self.mem.len() as u64
    }
}

/// Everything one job printed.
#[derive(Default)]
pub struct JobOutput {
    pub out: Buf,
    pub err: Buf,
    /// `--results` with output that goes out as it comes (`-u`, `--line-buffer`): all of it,
    /// kept for the result files.
    pub copy: Option<Box<[Buf; 2]>>,
}

/// A job that reached the output stage: everything needed to print it.
pub struct Finished {
    pub seq: u64,
    /// `-v`: the command line, printed before the output.
    pub header: Option<Vec<u8>>,
    /// `--tag`: the prefix of each line (without its tab).
    pub tag: Option<Vec<u8>>,
    pub output: JobOutput,
    /// `--json`: what the JSON line says besides the output.
    pub record: Option<crate::job::JobRecord>,
    /// `--joblog`: the job's line, which goes out when the job's output has (so with -k in
    /// input order): to stdout right after it (`--joblog -`), else back to the caller
    /// (`take_logged`), as GNU parallel logs.
    pub log: Option<Vec<u8>>,
}

/// Why output could not be written.
pub enum WriteError {
    /// Nobody reads stdout any more: stop quietly.
    BrokenPipe,
    Fatal(Error),
}

impl From<Error> for WriteError {
    fn from(e: Error) -> Self {
        WriteError::Fatal(e)
    }
}

fn from_io(e: io::Error) -> WriteError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        WriteError::BrokenPipe
    } else {
        WriteError::Fatal(Error::new(format!(
            "cannot write output: {}",
            crate::error::io_reason(&e)
        )))
    }
}

pub struct Collector {
    mode: OutputMode,
    keep_order: bool,
    cap: usize,
    /// Bytes of job output held in memory now.
    mem_used: usize,
    spill: Spill,
    sink: Sink,
    /// `-k`: the next sequence number to print, and the jobs that wait for it.
    next_seq: u64,
    waiting: BTreeMap<u64, Option<Finished>>,
    /// `--results`: each job's whole output must be at hand when it ends, whatever went out.
    keep_all: bool,
    /// `--joblog -`: joblog lines go to stdout after their job's output.
    log_to_stdout: bool,
    /// Joblog lines of the jobs printed, for the joblog file.
    logged: Vec<Vec<u8>>,
}

impl Collector {
    pub fn new(opts: &OutputOptions, sink: Sink) -> Collector {
        Collector {
            mode: opts.mode,
            keep_order: opts.keep_order,
            cap: opts.buffer_cap,
            mem_used: 0,
            spill: Spill::new(opts.tmpdir.clone()),
            sink,
            next_seq: 1,
            waiting: BTreeMap::new(),
            keep_all: false,
            log_to_stdout: false,
            logged: Vec::new(),
        }
    }

    /// `--joblog -`: each job's joblog line goes to stdout, after its output.
    pub fn logging_to_stdout(mut self) -> Collector {
        self.log_to_stdout = true;
        self
    }

    /// The joblog lines of the jobs printed since the last call, in the order printed.
    pub fn take_logged(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.logged)
    }

    /// `--results`: keep each job's whole output until it ends (see `saved`), also when it is
    /// printed as it comes.
    pub fn keeping_all(mut self) -> Collector {
        self.keep_all = true;
        self
    }

    /// Whether job `seq` may write its lines as they come (`--line-buffer`, and its turn with -k).
    fn live(&self, seq: u64) -> bool {
        self.mode == OutputMode::LineBuffer && (!self.keep_order || seq == self.next_seq)
    }

    /// Output a job printed while running. `header` (`-v`) is the job's command line if it has
    /// not gone out yet: it goes before the job's first live line.
    pub fn append(
        &mut self,
        seq: u64,
        output: &mut JobOutput,
        header: &mut Option<Vec<u8>>,
        stream: Stream,
        data: &[u8],
        tag: Option<&[u8]>,
    ) -> Result<(), WriteError> {
        if self.keep_all && self.mode != OutputMode::Group {
            let copy = output.copy.get_or_insert_default();
            let buf = &mut copy[stream.index()];
            buf.mem.extend_from_slice(data);
            self.mem_used += data.len();
            if self.mem_used > self.cap {
                self.spill_to_disk(buf)?;
            }
        }
        if self.mode == OutputMode::Ungroup {
            // Output that is captured only to be saved (`-u --results`) goes out as it comes,
            // untagged, as if the job wrote it itself.
            return self.sink.write(stream, data, None).map_err(from_io);
        }
        let live = self.live(seq);
        let buf = match stream {
            Stream::Out => &mut output.out,
            Stream::Err => &mut output.err,
        };
        buf.mem.extend_from_slice(data);
        self.mem_used += data.len();
        if live {
            // Only the new bytes can hold the line's end: scanning all that is held would be
            // quadratic on a long line (issue 19.6).
            let new = buf.mem.len() - data.len();
            let end = data.iter().rposition(|&b| b == b'\n').map(|i| new + i);
            if end.is_none() && buf.mem.len() >= self.cap.max(64 * 1024) {
                // A partial line past --buffer-size waits on disk, whole.
                return self.spill_buf(stream, output);
            }
            if let Some(nl) = end {
                if let Some(h) = header.take() {
                    self.sink.write(Stream::Out, &h, tag).map_err(from_io)?;
                }
                let segs = std::mem::take(&mut buf.segs);
                let lines: Vec<u8> = buf.mem.drain(..=nl).collect();
                self.mem_used -= lines.len();
                self.write_segments(stream, &segs, tag).map_err(from_io)?;
                self.sink.write(stream, &lines, tag).map_err(from_io)?;
            }
        } else if self.mem_used > self.cap {
            // Over the budget every job's held output counts against: to disk, however small
            // each job's share (1,000 jobs of 60 KB must not hold 60 MB; issue 19.7).
            self.spill_buf(stream, output)?;
        }
        Ok(())
    }

    fn spill_buf(&mut self, stream: Stream, output: &mut JobOutput) -> Result<(), WriteError> {
        let buf = match stream {
            Stream::Out => &mut output.out,
            Stream::Err => &mut output.err,
        };
        self.spill_to_disk(buf)
    }

    fn spill_to_disk(&mut self, buf: &mut Buf) -> Result<(), WriteError> {
        if buf.mem.is_empty() {
            return Ok(());
        }
        let off = self.spill.write(&buf.mem)?;
        buf.segs.push((off, buf.mem.len() as u64));
        self.mem_used -= buf.mem.len();
        buf.mem = Vec::new();
        Ok(())
    }

    /// A job started. `-v` with `-u` or `--line-buffer`: its command line goes out now, unless
    /// with -k it is not the job's turn yet (then it goes with the job's first printed line).
    pub fn started(
        &mut self,
        seq: u64,
        header: &mut Option<Vec<u8>>,
        tag: Option<&[u8]>,
    ) -> Result<(), WriteError> {
        let now = match self.mode {
            OutputMode::Group => false,
            OutputMode::Ungroup => true,
            OutputMode::LineBuffer => self.live(seq),
        };
        // Under -u the job's own lines are not tagged, and neither is its command (as GNU).
        let tag = tag.filter(|_| self.mode != OutputMode::Ungroup);
        match header.take_if(|_| now) {
            Some(h) => self.sink.write(Stream::Out, &h, tag).map_err(from_io),
            None => Ok(()),
        }
    }

    /// forkpool's own lines for stdout (`--joblog -`), between jobs' output.
    pub fn raw(&mut self, data: &[u8]) -> Result<(), WriteError> {
        self.sink.write(Stream::Out, data, None).map_err(from_io)?;
        self.sink.end_block(Stream::Out).map_err(from_io)
    }

    /// `-t`: a command about to run, on stderr.
    pub fn note(&mut self, line: &[u8]) -> io::Result<()> {
        self.sink.write(Stream::Err, line, None)?;
        self.sink.end_block(Stream::Err)
    }

    /// A job ended: print it now, or keep it until its turn (-k).
    pub fn finish(&mut self, mut f: Finished) -> Result<(), WriteError> {
        if !self.keep_order {
            return self.print(f);
        }
        if f.seq != self.next_seq {
            if self.mem_used > self.cap {
                self.spill_buf(Stream::Out, &mut f.output)?;
                self.spill_buf(Stream::Err, &mut f.output)?;
            }
            self.waiting.insert(f.seq, Some(f));
            return Ok(());
        }
        self.print(f)?;
        self.next_seq += 1;
        self.drain_waiting()
    }

    /// A job that will not run (e.g. skipped by --resume) still takes its turn with -k.
    pub fn skip(&mut self, seq: u64) -> Result<(), WriteError> {
        if !self.keep_order {
            return Ok(());
        }
        if seq != self.next_seq {
            self.waiting.insert(seq, None);
            return Ok(());
        }
        self.next_seq += 1;
        self.drain_waiting()
    }

    fn drain_waiting(&mut self) -> Result<(), WriteError> {
        while let Some(entry) = self.waiting.remove(&self.next_seq) {
            if let Some(f) = entry {
                self.print(f)?;
            }
            self.next_seq += 1;
        }
        Ok(())
    }

    /// At the end of a run that stopped early: print what still waits, in order.
    pub fn finish_all(&mut self) -> Result<(), WriteError> {
        while let Some((_, entry)) = self.waiting.pop_first() {
            if let Some(f) = entry {
                self.print(f)?;
            }
        }
        self.flush()
    }

    /// All bytes of a buffer, without forgetting them.
    pub fn contents(&mut self, buf: &Buf) -> Result<Vec<u8>, WriteError> {
        let mut v = Vec::with_capacity(buf.size() as usize);
        for &(off, len) in &buf.segs {
            self.spill.read(off, len, &mut v).map_err(from_io)?;
        }
        v.extend_from_slice(&buf.mem);
        Ok(v)
    }

    /// A job's whole stdout and stderr, for `--results` (kept, not forgotten).
    pub fn saved(&mut self, output: &JobOutput) -> Result<(Vec<u8>, Vec<u8>), WriteError> {
        let [out, err] = match output.copy.as_deref() {
            Some([out, err]) => [out, err],
            None => [&output.out, &output.err],
        };
        Ok((self.contents(out)?, self.contents(err)?))
    }

    fn print(&mut self, mut f: Finished) -> Result<(), WriteError> {
        if let Some(copy) = f.output.copy.take() {
            self.release(*copy);
        }
        let log = f.log.take();
        self.print_output(f)?;
        match log {
            Some(line) if self.log_to_stdout => self.raw(&line),
            Some(line) => {
                self.logged.push(line);
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn print_output(&mut self, f: Finished) -> Result<(), WriteError> {
        if let Some(record) = &f.record {
            let (spill, sink) = (&self.spill, &mut self.sink);
            let mut out = Held(spill, &f.output.out);
            let mut err = Held(spill, &f.output.err);
            json::write(record, &mut out, &mut err, &mut |b| {
                sink.write(Stream::Out, b, None)
            })
            .map_err(from_io)?;
            self.discard(f.output);
            return Ok(());
        }
        let tag = f.tag.as_deref();
        if let Some(h) = &f.header {
            self.sink.write(Stream::Out, h, tag).map_err(from_io)?;
        }
        for (stream, buf) in [(Stream::Out, &f.output.out), (Stream::Err, &f.output.err)] {
            self.write_segments(stream, &buf.segs, tag)
                .map_err(from_io)?;
            self.sink.write(stream, &buf.mem, tag).map_err(from_io)?;
            self.sink.end_block(stream).map_err(from_io)?;
            self.mem_used -= buf.mem.len();
        }
        Ok(())
    }

    fn write_segments(
        &mut self,
        stream: Stream,
        segs: &[(u64, u64)],
        tag: Option<&[u8]>,
    ) -> io::Result<()> {
        for &(off, len) in segs {
            let mut w = SinkWriter {
                sink: &mut self.sink,
                stream,
                tag,
            };
            self.spill.copy_out(off, len, &mut w)?;
        }
        Ok(())
    }

    /// Forget a job's output without printing it (a retried attempt).
    pub fn discard(&mut self, output: JobOutput) {
        self.release([output.out, output.err]);
        if let Some(copy) = output.copy {
            self.release(*copy);
        }
    }

    fn release(&mut self, bufs: [Buf; 2]) {
        for buf in bufs {
            for (_, len) in buf.segs {
                self.spill.release(len);
            }
            self.mem_used -= buf.mem.len();
        }
    }

    pub fn flush(&mut self) -> Result<(), WriteError> {
        self.sink.flush().map_err(from_io)
    }

    /// stdout's backlog is over the limit: stop reading jobs' output for now.
    pub fn congested(&self) -> bool {
        self.sink.congested()
    }

    /// Readable once a congested backlog has halved, after `notify_when_drained`.
    pub fn drained_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.sink.drained_fd()
    }

    pub fn notify_when_drained(&self) {
        self.sink.notify_when_drained();
    }

    /// Everything handed to stdout has been written out (or failed).
    pub fn written(&self) -> bool {
        self.sink.written()
    }
}

/// A job's held stream (spilled segments, then memory), walked chunk by chunk.
struct Held<'a>(&'a Spill, &'a Buf);

impl json::Chunks for Held<'_> {
    fn each(&mut self, f: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        for &(off, len) in &self.1.segs {
            self.0.chunks(off, len, f)?;
        }
        // In pieces, so an encoder's output per piece stays small (JSON escapes a NUL as 6).
        self.1.mem.chunks(256 * 1024).try_for_each(f)
    }
}

/// Adapts the sink to `Write` for copying spilled segments.
struct SinkWriter<'a> {
    sink: &'a mut Sink,
    stream: Stream,
    tag: Option<&'a [u8]>,
}

impl Write for SinkWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(self.stream, buf, self.tag)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
