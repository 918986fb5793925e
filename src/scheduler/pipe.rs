//! Pipe mode's jobs (`--pipe`, `--pipepart`): each block of the input is one job, whose stdin
//! (or `--cat` file, or `--fifo`) holds the block. `--pipe` reads on the input thread, one block
//! ahead of the scheduler, so memory stays near (slots + 2) x block; `--pipepart` only works out
//! byte ranges and reads inline.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result, io_reason};
use crate::input::blocks::{BlockReader, Parts, Split};
use crate::job::{Block, Job, JobInput, StdinSink, TempPath};
use crate::options::{PipeOptions, Via};

use super::source::{JobSource, Pull, Threaded};

/// Blocks made into jobs.
struct Maker {
    via: Via,
    tmpdir: PathBuf,
    next_seq: u64,
    warned: bool,
    block: usize,
}

impl Maker {
    /// The job for `block`, which covers `bytes` of the input.
    fn job(&mut self, block: Block, bytes: u64) -> Result<Job> {
        let seq = self.next_seq;
        self.next_seq += 1;
        // `{}` is empty in pipe mode, as in GNU parallel; with --cat or --fifo it is the file.
        let mut job = Job::new(seq, vec![vec![Vec::new()]]);
        job.bytes = bytes;
        match self.via {
            Via::Stdin => {
                job.input = Some(JobInput { block, fifo: None });
            }
            Via::Cat => {
                let temp = self.temp_name(seq, "blk");
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&temp.0)
                    .map_err(|e| self.temp_error(&temp.0, &e))?;
                write_block(&block, &mut f).map_err(|e| self.temp_error(&temp.0, &e))?;
                job.records = vec![vec![temp.0.as_os_str().as_bytes().to_vec()]];
                job.temp = Some(temp);
            }
            Via::Fifo => {
                let temp = self.temp_name(seq, "fifo");
                nix::unistd::mkfifo(&temp.0, nix::sys::stat::Mode::from_bits_truncate(0o600))
                    .map_err(|e| self.temp_error(&temp.0, &std::io::Error::from(e)))?;
                job.records = vec![vec![temp.0.as_os_str().as_bytes().to_vec()]];
                job.input = Some(JobInput {
                    block,
                    fifo: Some(temp.0.clone()),
                });
                job.temp = Some(temp);
            }
        }
        Ok(job)
    }

    fn temp_name(&self, seq: u64, ext: &str) -> TempPath {
        TempPath(
            self.tmpdir
                .join(format!("forkpool-{}-{seq}.{ext}", std::process::id())),
        )
    }

    fn temp_error(&self, path: &Path, e: &std::io::Error) -> Error {
        Error::new(format!("cannot write {}: {}", path.display(), io_reason(e)))
            .with_hint("point --tmpdir or TMPDIR at a writable directory with room")
    }

    /// A record longer than --block: say so once (GNU parallel says so at every step).
    fn note_growth(&mut self, grew: bool, now: usize) {
        if grew && !self.warned {
            self.warned = true;
            crate::diag::warn(&format!(
                "a record is longer than --block ({} bytes); blocks grow to {now} bytes from here on, as in GNU parallel",
                self.block
            ));
        }
    }
}

pub fn write_block(block: &Block, to: &mut File) -> std::io::Result<()> {
    match block {
        Block::Bytes(b) => to.write_all(b),
        Block::Stream(_) => Ok(()),
        Block::Part {
            head,
            file,
            start,
            len,
        } => {
            to.write_all(head)?;
            // std copies file to file with copy_file_range.
            let mut part = PartReader {
                file,
                at: *start,
                left: *len,
            };
            std::io::copy(&mut part, to).map(|_| ())
        }
    }
}

/// A byte range of a file, read with pread (the shared file offset stays untouched).
struct PartReader<'a> {
    file: &'a File,
    at: u64,
    left: u64,
}

impl Read for PartReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(self.left as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        self.left -= n as u64;
        Ok(n)
    }
}

/// `--pipepart`: how many blocks the file makes, found up front for `--bar` (reading only the
/// windows around the cuts, as the run itself does).
pub fn count_parts(opts: &PipeOptions, slots: usize) -> Option<u64> {
    if !opts.part {
        return None;
    }
    let file = File::open(opts.input()).ok()?;
    count_ranges(file, opts, slots).ok()
}

fn count_ranges(file: File, opts: &PipeOptions, slots: usize) -> std::io::Result<u64> {
    let mut parts = Parts::new(file, part_cutting(opts, slots))?.forward();
    let mut n = 0;
    while parts.next_range()?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// `--dry-run`: how many jobs the input makes, read (and used up) as a run would read it.
/// `--round-robin` starts a job per block up to the slots.
pub fn count_jobs(opts: &PipeOptions, slots: usize) -> Result<u64> {
    let file = open_input(&opts.path)?;
    let name = input_name(opts);
    let read_error =
        |e: std::io::Error| Error::new(format!("cannot read {name}: {}", io_reason(&e)));
    if opts.part {
        return count_ranges(file, opts, slots).map_err(read_error);
    }
    let mut reader = BlockReader::new(file, opts.cut.clone());
    let mut n = 0;
    while reader.next_block().map_err(read_error)?.is_some() {
        n += 1;
        if opts.round_robin && n == slots as u64 {
            break;
        }
    }
    Ok(n)
}

/// The input file, or stdin for `-`.
fn open_input(path: &Path) -> Result<File> {
    if path.as_os_str() == "-" {
        let fd = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::new(format!("cannot read stdin: {}", io_reason(&e))))?;
        return Ok(File::from(fd));
    }
    File::open(path).map_err(|e| {
        Error::new(format!("cannot read {}: {}", path.display(), io_reason(&e)))
            .with_hint("check the file's name and permissions")
    })
}

/// The input's name in messages.
fn input_name(opts: &PipeOptions) -> String {
    if opts.path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        opts.path.display().to_string()
    }
}

/// `--pipepart`'s cutting, with `--block -N` made a size as GNU parallel makes it.
fn part_cutting(opts: &PipeOptions, slots: usize) -> crate::input::blocks::Cutting {
    let mut cut = opts.cut.clone();
    if let Some(n) = opts.blocks_per_slot {
        let size = std::fs::metadata(opts.input()).map_or(0, |m| m.len());
        let blocks = n.saturating_mul(slots as u64).max(1);
        cut.block = (1 + size / blocks) as usize;
    }
    cut
}

/// The job source for pipe mode.
/// A private directory for `--cat` and `--fifo` files, removed with whatever is left in it
/// (the files of jobs read ahead but never run, when a run stops early).
pub struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pipe mode's job source, and what goes with it.
pub struct Piped {
    pub source: Box<dyn JobSource>,
    /// The directory its jobs' files are in (keep it until the run is over).
    pub scratch: Option<Scratch>,
    /// The bytes the blocks will cover, when the input is a file (`--bar` counts bytes then).
    pub size: Option<u64>,
}

/// The job source for pipe mode.
pub fn source(opts: &PipeOptions, tmpdir: &Path, slots: usize) -> Result<Piped> {
    let scratch = match opts.via {
        Via::Stdin => None,
        _ => Some(Scratch(
            super::workers::private_dir(tmpdir, "pipe").map_err(|e| {
                Error::new(format!(
                    "cannot create a directory in {}: {}",
                    tmpdir.display(),
                    io_reason(&e)
                ))
                .with_hint("point --tmpdir or TMPDIR at a writable directory")
            })?,
        )),
    };
    let dir = scratch.as_ref().map_or(tmpdir, |s| s.0.as_path());
    let (source, size) = pipe_source(opts, dir, slots)?;
    Ok(Piped {
        source,
        scratch,
        size,
    })
}

fn pipe_source(
    opts: &PipeOptions,
    tmpdir: &Path,
    slots: usize,
) -> Result<(Box<dyn JobSource>, Option<u64>)> {
    // Blocks are made on the input thread and freed on the loop's: glibc would raise its mmap
    // threshold after the first free and then keep freed blocks in the arenas, so that memory
    // grew past (slots + 2) x block. A fixed threshold keeps every block its own mapping,
    // returned to the system when its job is done.
    // SAFETY: mallopt only sets an allocator parameter; no memory is touched.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
    let file = open_input(&opts.path)?;
    let mut maker = Maker {
        via: opts.via,
        tmpdir: tmpdir.to_path_buf(),
        next_seq: 1,
        warned: false,
        block: opts.cut.block,
    };
    let name = input_name(opts);
    let read_error =
        move |e: std::io::Error| Error::new(format!("cannot read {name}: {}", io_reason(&e)));
    // --pipe on a regular file (-a FILE, or stdin redirected from one) is cut as --pipepart
    // cuts, from where the file's offset stands: the same blocks, but the records go from the
    // file to the jobs by splice instead of through forkpool. (-L without -N counts lines from
    // each block's start, so it reads.)
    let lines_by_size = matches!(opts.cut.split, Split::Lines(_)) && opts.cut.records.is_none();
    let seekable = !opts.part
        && !opts.round_robin
        && !lines_by_size
        && file.metadata().is_ok_and(|m| m.is_file());
    if opts.part || seekable {
        let (cut, start) = if opts.part {
            (part_cutting(opts, slots), 0)
        } else {
            use nix::unistd::{Whence, lseek};
            let at = lseek(&file, 0, Whence::SeekCur).unwrap_or(0).max(0) as u64;
            // Whoever reads the file after forkpool finds it read, as after GNU parallel.
            let _ = lseek(&file, 0, Whence::SeekEnd);
            (opts.cut.clone(), at)
        };
        maker.block = cut.block;
        let rrs = cut.remove_separators;
        let split = cut.split.clone();
        let mut parts = Parts::starting_at(file, cut, start).map_err(&read_error)?;
        if opts.part {
            parts = parts.forward();
        }
        let whole = Arc::new(parts.file().map_err(&read_error)?);
        let head: Arc<[u8]> = parts.header.clone().into();
        // What the ranges will add up to: the file after its header.
        let size = whole
            .metadata()
            .map_err(&read_error)?
            .len()
            .saturating_sub(start + head.len() as u64);
        let source = Box::new(Inline(
            Box::new(move || {
                let Some((start, len)) = parts.next_range().map_err(&read_error)? else {
                    return Ok(None);
                };
                maker.note_growth(parts.grew, parts.block());
                let block = if rrs {
                    // The separators must go: the range passes through memory after all.
                    let mut body = vec![0; len as usize];
                    whole.read_exact_at(&mut body, start).map_err(&read_error)?;
                    let mut b = head.to_vec();
                    b.extend_from_slice(&split.remove_separators(&body));
                    Block::Bytes(b)
                } else {
                    Block::Part {
                        head: Arc::clone(&head),
                        file: Arc::clone(&whole),
                        start,
                        len,
                    }
                };
                maker.job(block, len).map(Some)
            }),
            0,
        ));
        return Ok((source, Some(size)));
    }
    let mut reader = BlockReader::new(file, opts.cut.clone());
    if opts.round_robin {
        let spread = Arc::new(Spread::new()?);
        let mut out = Outlets {
            spread: Arc::clone(&spread),
            pipes: Vec::new(),
            made: 0,
            slots,
            header: None,
        };
        // A block read and not yet delivered, and the job started for it, if one was.
        let mut pending: Option<(Vec<u8>, Option<u64>)> = None;
        let source = Box::new(Threaded::spawn_with(slots, move || {
            loop {
                let (block, for_job) = match pending.take() {
                    Some(p) => p,
                    None => match reader.next_block().map_err(&read_error)? {
                        Some(b) => (b, None),
                        None => {
                            // The end of the input is the end of every job's stdin, once
                            // each has taken what it was given.
                            out.finish();
                            return Ok(None);
                        }
                    },
                };
                // The header goes once at the start of each job's stream, not per block.
                let header = out.header.get_or_insert_with(|| reader.header().to_vec());
                let head = header.len();
                maker.note_growth(reader.grew, reader.block());
                if let Some(seq) = for_job {
                    // The block a job was started for is that job's first.
                    match out.deliver_to(seq, block, head) {
                        Ok(()) => continue,
                        Err(block) => {
                            pending = Some((block, None));
                            continue;
                        }
                    }
                }
                if out.wants_job() {
                    // As GNU parallel: a job per block until -j jobs run.
                    pending = Some((block, Some(maker.next_seq)));
                    out.made += 1;
                    let mut job = Job::new(maker.next_seq, vec![vec![Vec::new()]]);
                    maker.next_seq += 1;
                    job.input = Some(JobInput {
                        block: Block::Stream(Arc::clone(&out.spread) as Arc<dyn StdinSink>),
                        fifo: None,
                    });
                    return Ok(Some(job));
                }
                if let Err(block) = out.deliver(block, head) {
                    pending = Some((block, None));
                }
            }
        })?);
        return Ok((source, None));
    }
    let source = Box::new(Threaded::spawn_with(1, move || {
        let Some(block) = reader.next_block().map_err(&read_error)? else {
            return Ok(None);
        };
        maker.note_growth(reader.grew, reader.block());
        let bytes = block.len() as u64;
        maker.job(Block::Bytes(block), bytes).map(Some)
    })?);
    Ok((source, None))
}

/// `--round-robin`: the stdins of the running jobs, which the input thread writes blocks to.
#[derive(Debug)]
struct Spread {
    state: std::sync::Mutex<SpreadState>,
    /// Readable when a job attached or ended.
    wake: nix::sys::eventfd::EventFd,
}

#[derive(Debug, Default)]
struct SpreadState {
    fresh: Vec<(u64, std::os::fd::OwnedFd)>,
    ended: Vec<u64>,
    closed: bool,
}

impl Spread {
    fn new() -> Result<Spread> {
        use nix::sys::eventfd::{EfdFlags, EventFd};
        Ok(Spread {
            state: Default::default(),
            wake: EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
                .map_err(|e| Error::new(format!("cannot set up --round-robin: {e}")))?,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SpreadState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.fresh.clear();
    }
}

impl StdinSink for Spread {
    fn attach(&self, seq: u64, stdin: std::os::fd::OwnedFd) {
        let mut st = self.lock();
        // After the input's end a new stdin gets nothing: dropping it is its end.
        if !st.closed {
            st.fresh.push((seq, stdin));
            drop(st);
            let _ = self.wake.write(1);
        }
    }

    fn ended(&self, seq: u64) {
        self.lock().ended.push(seq);
        let _ = self.wake.write(1);
    }
}

/// The input thread's side of `Spread`.
struct Outlets {
    spread: Arc<Spread>,
    /// Attached stdins (non-blocking), by job, each with the part of a block it still has to
    /// take: a block goes whole to one job, while the others go on taking theirs.
    pipes: Vec<Outlet>,
    /// Jobs made and not yet ended.
    made: usize,
    slots: usize,
    /// `--header`, sent first to each job.
    header: Option<Vec<u8>>,
}

struct Outlet {
    seq: u64,
    file: File,
    /// Bytes to write and how many are written.
    owed: Option<(Vec<u8>, usize)>,
}

impl Outlet {
    /// Write what the pipe takes now. False when the job's stdin is gone.
    fn pump(&mut self) -> bool {
        use std::io::ErrorKind;
        while let Some((bytes, sent)) = self.owed.as_mut() {
            if *sent >= bytes.len() {
                self.owed = None;
                break;
            }
            match self.file.write(&bytes[*sent..]) {
                Ok(n) => *sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // The job closed its stdin: the rest of its block goes with its failure.
                Err(_) => return false,
            }
        }
        true
    }
}

impl Outlets {
    /// Fewer jobs than slots: make one.
    fn wants_job(&mut self) -> bool {
        self.take_news();
        self.made < self.slots
    }

    /// Attach new stdins and drop ended jobs; the jobs that ended.
    fn take_news(&mut self) -> Vec<u64> {
        let _ = self.spread.wake.read();
        let mut st = self.spread.lock();
        for (seq, fd) in st.fresh.drain(..) {
            let _ = nix::fcntl::fcntl(
                &fd,
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            );
            let owed = self
                .header
                .as_ref()
                .filter(|h| !h.is_empty())
                .map(|h| (h.clone(), 0));
            self.pipes.push(Outlet {
                seq,
                file: File::from(fd),
                owed,
            });
        }
        let ended: Vec<u64> = st.ended.drain(..).collect();
        for &seq in &ended {
            self.pipes.retain(|p| p.seq != seq);
            self.made = self.made.saturating_sub(1);
        }
        ended
    }

    /// Give `block` to job `seq`, started for it, once its stdin is attached. Gives it back if
    /// the job ended first (it could not start, or it did not wait for its input).
    fn deliver_to(
        &mut self,
        seq: u64,
        block: Vec<u8>,
        start: usize,
    ) -> std::result::Result<(), Vec<u8>> {
        loop {
            if self.take_news().contains(&seq) {
                return Err(block);
            }
            if let Some(i) = self.pipes.iter().position(|p| p.seq == seq) {
                let p = &mut self.pipes[i];
                if p.owed.is_none() {
                    p.owed = Some((block, start));
                    if !p.pump() {
                        self.pipes.remove(i);
                    }
                    return Ok(());
                }
                // Its header first.
                if !p.pump() {
                    self.pipes.remove(i);
                    continue;
                }
                if self.pipes[i].owed.is_none() {
                    continue;
                }
            }
            // Wait for news or for a job that owes bytes to take some; idle stdins are not
            // watched, so this does not spin while the job starts.
            let owing: Vec<usize> = (0..self.pipes.len())
                .filter(|&i| self.pipes[i].owed.is_some())
                .collect();
            let Some(ready) = self.poll_writable(&owing) else {
                continue;
            };
            for i in ready.into_iter().rev() {
                if !self.pipes[i].pump() {
                    self.pipes.remove(i);
                }
            }
        }
    }

    /// Wait until a job's stdin can take more, writing what the others owe meanwhile; the
    /// index of a writable job with nothing owed, if any.
    fn wait_idle(&mut self) -> Option<usize> {
        let all: Vec<usize> = (0..self.pipes.len()).collect();
        let ready = self.poll_writable(&all)?;
        let mut idle = None;
        let mut dead = Vec::new();
        for i in ready {
            let p = &mut self.pipes[i];
            if p.owed.is_some() {
                if !p.pump() {
                    dead.push(i);
                }
            } else if idle.is_none() {
                idle = Some(i);
            }
        }
        for i in dead.into_iter().rev() {
            // Its end is reported by the loop; it takes no more.
            self.pipes.remove(i);
        }
        idle.filter(|&i| i < self.pipes.len() && self.pipes[i].owed.is_none())
    }

    /// Wait until one of the stdins `which` (indexes into `pipes`) can take more, or news
    /// comes; those that can, in order (None if poll failed).
    fn poll_writable(&self, which: &[usize]) -> Option<Vec<usize>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds: Vec<PollFd> = which
            .iter()
            .map(|&i| PollFd::new(self.pipes[i].file.as_fd(), PollFlags::POLLOUT))
            .collect();
        fds.push(PollFd::new(self.spread.wake.as_fd(), PollFlags::POLLIN));
        poll(&mut fds, PollTimeout::NONE).ok()?;
        Some(
            which
                .iter()
                .zip(&fds)
                .filter(|(_, f)| f.revents().is_some_and(|r| !r.is_empty()))
                .map(|(&i, _)| i)
                .collect(),
        )
    }

    /// Give `block` (from byte `start`: past the header) whole to the first job ready for
    /// it. Gives it back when every job has ended, so that the caller starts another.
    fn deliver(&mut self, block: Vec<u8>, start: usize) -> std::result::Result<(), Vec<u8>> {
        loop {
            self.take_news();
            if self.made == 0 {
                return Err(block);
            }
            if let Some(i) = self.wait_idle() {
                let p = &mut self.pipes[i];
                p.owed = Some((block, start));
                if !p.pump() {
                    self.pipes.remove(i);
                }
                // Rotate, so that the next block tries another job first.
                if i < self.pipes.len() {
                    let p = self.pipes.remove(i);
                    self.pipes.push(p);
                }
                return Ok(());
            }
        }
    }

    /// The input ended: let every job take what it is owed, then close their stdins.
    fn finish(&mut self) {
        loop {
            self.take_news();
            if self.pipes.iter().all(|p| p.owed.is_none()) {
                break;
            }
            self.wait_idle();
        }
        self.spread.close();
        self.pipes.clear();
    }
}

/// Jobs made on the loop's thread, from reads that never wait.
struct Inline(Box<dyn FnMut() -> Result<Option<Job>>>, u64);

impl JobSource for Inline {
    fn pull(&mut self) -> Result<Pull> {
        Ok(match (self.0)()? {
            Some(job) => {
                self.1 = job.seq;
                Pull::Job(job)
            }
            None => Pull::End,
        })
    }

    fn produced(&self) -> u64 {
        self.1
    }
}
