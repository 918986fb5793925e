//! Feeding a job its block (pipe mode). The block goes to the job's stdin pipe as fast as the
//! job reads it, from the event loop, with non-blocking writes: a job that reads slowly or not
//! at all holds up nothing else. A `--pipepart` range goes from the file to the pipe with
//! splice(2), never through forkpool's memory. A job that ends without reading everything
//! (`head -1`) gets EPIPE here, which is no error: its own exit status decides. `--fifo` blocks
//! go through a named pipe, which can only be opened once the job opens it; a small thread
//! waits for that, so the loop never does.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{OFlag, SpliceFFlags, splice};

use crate::job::Block;
use crate::reactor::Token;

/// A job's stdin pipe with the part of its block still to write.
pub struct Feeder {
    pub fd: OwnedFd,
    pub token: Token,
    sent: u64,
    /// splice(2) does not work for this file: copy through memory.
    no_splice: bool,
}

/// What a write left.
#[derive(Debug, PartialEq)]
pub enum Fed {
    /// The pipe is full; write again when it is writable.
    More,
    /// All written, or the job closed its end: close the pipe.
    Done,
}

/// Bytes per splice or copy; a pipe holds at most 1 MiB by default.
const STEP: usize = 1 << 20;

impl Feeder {
    pub fn new(fd: OwnedFd, token: Token) -> Feeder {
        // A bigger pipe means fewer wake-ups per block (best effort: the limit is
        // /proc/sys/fs/pipe-max-size).
        let _ = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(STEP as i32));
        Feeder {
            fd,
            token,
            sent: 0,
            no_splice: false,
        }
    }

    /// Write as much of `block` as the pipe takes now.
    pub fn write(&mut self, block: &Block) -> Fed {
        loop {
            if self.sent >= block.len() {
                return Fed::Done;
            }
            let r = match block {
                Block::Stream(_) => return Fed::Done,
                Block::Bytes(b) => nix::unistd::write(&self.fd, &b[self.sent as usize..]),
                Block::Part { head, .. } if self.sent < head.len() as u64 => {
                    nix::unistd::write(&self.fd, &head[self.sent as usize..])
                }
                Block::Part {
                    head,
                    file,
                    start,
                    len,
                } => {
                    let done = self.sent - head.len() as u64;
                    let mut at = (start + done) as i64;
                    let want = (len - done).min(STEP as u64) as usize;
                    if self.no_splice {
                        copy_range(file, at as u64, want, &self.fd)
                    } else {
                        match splice(
                            file.as_fd(),
                            Some(&mut at),
                            &self.fd,
                            None,
                            want,
                            SpliceFFlags::SPLICE_F_NONBLOCK | SpliceFFlags::SPLICE_F_MOVE,
                        ) {
                            Err(Errno::EINVAL | Errno::ENOSYS) => {
                                self.no_splice = true;
                                continue;
                            }
                            other => other,
                        }
                    }
                }
            };
            match r {
                // A file cut short under us: nothing more to give.
                Ok(0) => return Fed::Done,
                Ok(n) => self.sent += n as u64,
                Err(Errno::EAGAIN) => return Fed::More,
                Err(Errno::EINTR) => {}
                // EPIPE: the job stopped reading; its exit status tells the rest.
                Err(_) => return Fed::Done,
            }
        }
    }
}

/// Copy part of a file to a pipe through memory; returns how much the pipe took.
fn copy_range(file: &File, at: u64, want: usize, to: &OwnedFd) -> nix::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; want.min(64 * 1024)];
    let n = file
        .read_at(&mut buf, at)
        .map_err(|e| e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))?;
    if n == 0 {
        return Ok(0);
    }
    nix::unistd::write(to, &buf[..n])
}

/// `--fifo`: a thread that writes a block into a named pipe once the job opens it.
pub struct FifoFeed {
    abandoned: Arc<AtomicBool>,
}

impl FifoFeed {
    pub fn start(path: PathBuf, block: &Block) -> std::io::Result<FifoFeed> {
        let abandoned = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&abandoned);
        let block = match block {
            Block::Bytes(b) => Block::Bytes(b.clone()),
            Block::Stream(s) => Block::Stream(Arc::clone(s)),
            Block::Part {
                head,
                file,
                start,
                len,
            } => Block::Part {
                head: Arc::clone(head),
                file: Arc::clone(file),
                start: *start,
                len: *len,
            },
        };
        std::thread::Builder::new()
            .name("forkpool-fifo".into())
            .stack_size(128 * 1024)
            .spawn(move || {
                // Opening for writing fails (ENXIO) until the job opens its end: look again
                // now and then until it does, or until the job is over.
                let fd = loop {
                    match nix::fcntl::open(
                        &path,
                        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                        nix::sys::stat::Mode::empty(),
                    ) {
                        Ok(fd) => break fd,
                        Err(Errno::ENXIO | Errno::EINTR) if !flag.load(Ordering::Relaxed) => {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                        Err(_) => return,
                    }
                };
                let _ = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()));
                let mut f = File::from(fd);
                let _ = super::pipe::write_block(&block, &mut f);
            })?;
        Ok(FifoFeed { abandoned })
    }
}

impl Drop for FifoFeed {
    fn drop(&mut self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }
}
