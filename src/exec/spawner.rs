//! Spawner threads: start jobs on a few threads so that spawns overlap across cores, while the
//! one event loop keeps owning every pipe, exit and signal.
//!
//! A spawn (posix_spawn, a vfork-like clone) blocks the calling thread until the child has
//! exec'ed, so one thread caps the start rate at about one job per exec. The event loop
//! `submit`s owned `SpawnSpec`s; a spawner thread runs `Executor::spawn` and queues the result;
//! `notify_fd` becomes readable and the loop moves the results out with `take_done`.
//!
//! The local executor gives every job an empty signal mask, so the threads' own masks do not
//! leak into jobs and the threads leave them alone.
//! Signal handlers may run on a spawner thread; forkpool's only count and write a self-pipe.
//!
//! One race is the event loop's to close: it reaps with `waitpid(-1)`, so a short job can be
//! reaped before its spawn result is taken. The loop passes such an unknown pid to `hold_exit`,
//! which keeps the exit while a spawn in flight may own the pid; `take_done` hands it back with
//! that spawn's result (`Done::reaped`), and forgets exits no spawn in flight can own (orphaned
//! grandchildren, of which forkpool is the subreaper).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use nix::sys::eventfd::{EfdFlags, EventFd};

use super::{Executor, SpawnError, SpawnSpec, Spawned};
use crate::job::Exit;

/// The most spawner threads worth having. Each spawn in flight keeps its thread blocked until the
/// child has exec'ed, and exec is CPU work, so about one thread per CPU keeps the cores busy.
pub const MAX_THREADS: usize = 4;

/// The number of spawner threads for `jobs` job slots (0: as many as there are CPUs). None (spawn
/// on the event loop) while there are no more slots than CPUs: then the loop and the jobs already
/// keep every core busy, and each hand-off to a thread costs two wake-ups per job. More slots than
/// CPUs: one thread per CPU, at most `MAX_THREADS`.
///
/// In forkpool's loop on 2 CPUs, 5,000 `true` (bare two-thread spawner = 1): -j2 inline 1.22,
/// one thread 1.47, two 1.41; -j1 inline 4.50 s, one thread 4.97 s; -j8 inline 2.60 s, two
/// threads 2.47 s. (In isolation, examples/spawner_bench, two threads reach 0.96 of bare.)
pub fn default_threads(jobs: usize) -> usize {
    if jobs != 0 && jobs <= super::affinity_count() {
        return 0;
    }
    super::cpu_count().clamp(1, MAX_THREADS)
}

/// The result of one spawn.
pub type SpawnResult<E> = Result<Spawned<<E as Executor>::Handle>, SpawnError>;

/// One finished spawn.
pub struct Done<E: Executor> {
    /// The token given to `submit`.
    pub token: u64,
    pub result: SpawnResult<E>,
    /// The process's exit, when the event loop reaped it (and gave it to `hold_exit`) before
    /// this result was taken. Treat it as if `reap` had just reported it.
    pub reaped: Option<Exit>,
}

/// Starts jobs on `threads` threads (or on the calling thread when there are none).
pub struct Spawner<E: Executor> {
    shared: Arc<Shared<E>>,
    threads: Vec<JoinHandle<()>>,
    /// Exits of unknown keys that a spawn in flight may own: (key, exit, spawns started by then).
    held: Vec<(u64, Exit, u64)>,
    /// Spawns submitted and not yet taken.
    pending: usize,
}

struct Shared<E: Executor> {
    exec: Arc<E>,
    state: Mutex<State<E>>,
    /// Spawner threads wait here for work.
    work: Condvar,
    /// Readable while results wait to be taken.
    notify: EventFd,
}

struct State<E: Executor> {
    queue: VecDeque<(u64, SpawnSpec)>,
    /// Finished spawns: (token, ticket, result).
    done: Vec<(u64, u64, SpawnResult<E>)>,
    /// Tickets of the spawns that threads are running now.
    running: Vec<u64>,
    /// Spawns started so far; each spawn's ticket is the count when it started.
    started: u64,
    /// Threads waiting for work.
    idle: usize,
    shutdown: bool,
}

impl<E: Executor> Spawner<E> {
    /// Start `threads` spawner threads (0: `submit` spawns on the calling thread).
    pub fn new(exec: Arc<E>, threads: usize) -> io::Result<Self> {
        let notify = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        let shared = Arc::new(Shared {
            exec,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                done: Vec::new(),
                running: Vec::new(),
                started: 0,
                idle: 0,
                shutdown: false,
            }),
            work: Condvar::new(),
            notify,
        });
        let mut spawner = Spawner {
            shared,
            threads: Vec::with_capacity(threads),
            held: Vec::new(),
            pending: 0,
        };
        for i in 0..threads {
            let shared = Arc::clone(&spawner.shared);
            // On error, dropping `spawner` stops the threads already started.
            let handle = std::thread::Builder::new()
                .name(format!("forkpool-spawn-{i}"))
                .stack_size(256 * 1024)
                .spawn(move || shared.serve())?;
            spawner.threads.push(handle);
        }
        Ok(spawner)
    }

    /// Queue a spawn; `token` comes back with its result from `take_done`.
    pub fn submit(&mut self, token: u64, spec: SpawnSpec) {
        self.pending += 1;
        let shared = &*self.shared;
        if self.threads.is_empty() {
            let result = shared.exec.spawn(&spec);
            let mut st = shared.lock();
            let ticket = st.started;
            st.started += 1;
            shared.publish(&mut st, token, ticket, result);
            return;
        }
        let mut st = shared.lock();
        st.queue.push_back((token, spec));
        let wake = st.idle > 0;
        drop(st);
        if wake {
            shared.work.notify_one();
        }
    }

    /// Spawn on the calling thread, now (for a latency-sensitive job, or without threads).
    pub fn spawn_now(&self, spec: &SpawnSpec) -> SpawnResult<E> {
        self.shared.exec.spawn(spec)
    }

    /// A descriptor that is readable while results wait to be taken (register it in epoll).
    pub fn notify_fd(&self) -> BorrowedFd<'_> {
        self.shared.notify.as_fd()
    }

    /// Spawns submitted whose results have not been taken yet (each holds a job slot).
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Move every finished spawn's result into `out`, and clear the notification.
    pub fn take_done(&mut self, out: &mut Vec<Done<E>>) {
        // Clear first, then drain: a result queued after the drain sets it again.
        let _ = self.shared.notify.read();
        let (done, low_water) = {
            let mut st = self.shared.lock();
            let low = st.running.iter().copied().min().unwrap_or(st.started);
            (std::mem::take(&mut st.done), low)
        };
        self.pending -= done.len();
        for (token, ticket, result) in done {
            let reaped = match &result {
                // The child must have started before its exit was reaped.
                Ok(s) if !self.held.is_empty() => self
                    .held
                    .iter()
                    .position(|&(key, _, seen)| {
                        key == self.shared.exec.key(&s.handle) && ticket < seen
                    })
                    .map(|i| self.held.swap_remove(i).1),
                _ => None,
            };
            out.push(Done {
                token,
                result,
                reaped,
            });
        }
        // Every spawn that started before these exits were reaped has now been taken.
        self.held.retain(|&(_, _, seen)| seen > low_water);
    }

    /// The event loop reaped `key`, which it does not know. Keep its exit if a spawn in flight
    /// may own it (true: it comes back from `take_done`); false: no job of ours.
    pub fn hold_exit(&mut self, key: u64, exit: Exit) -> bool {
        let st = self.shared.lock();
        let exec = &self.shared.exec;
        let may_own = !st.running.is_empty()
            || st
                .done
                .iter()
                .any(|(_, _, r)| matches!(r, Ok(s) if exec.key(&s.handle) == key));
        let started = st.started;
        drop(st);
        if may_own {
            self.held.push((key, exit, started));
        }
        may_own
    }
}

impl<E: Executor> Spawner<E> {
    /// Stop the threads: queued spawns are dropped, spawns in progress finish (their results,
    /// and the pipes in them, are dropped), then every thread is joined. Idempotent.
    pub fn shutdown(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl<E: Executor> Drop for Spawner<E> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl<E: Executor> Shared<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<E: Executor> Shared<E> {
    /// A spawner thread: take a spec, spawn it, queue the result, until shutdown.
    fn serve(&self) {
        let mut st = self.lock();
        loop {
            if st.shutdown {
                return;
            }
            let Some((token, spec)) = st.queue.pop_front() else {
                st.idle += 1;
                st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
                st.idle -= 1;
                continue;
            };
            let ticket = st.started;
            st.started += 1;
            st.running.push(ticket);
            drop(st);
            let result = catch_unwind(AssertUnwindSafe(|| self.exec.spawn(&spec)))
                .unwrap_or_else(|_| Err(SpawnError::Failed("the spawner thread panicked".into())));
            drop(spec);
            st = self.lock();
            if let Some(i) = st.running.iter().position(|&t| t == ticket) {
                st.running.swap_remove(i);
            }
            self.publish(&mut st, token, ticket, result);
        }
    }

    /// Queue a result; wake the event loop when it is the first one waiting.
    fn publish(&self, st: &mut State<E>, token: u64, ticket: u64, result: SpawnResult<E>) {
        st.done.push((token, ticket, result));
        if st.done.len() == 1 {
            // Nonblocking; fails only if the counter would overflow, i.e. it is already set.
            let _ = self.notify.write(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::PathBuf;
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::time::{Duration, Instant};

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::Signal;
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::Pid;

    use super::*;
    use crate::exec::Stdin;
    use crate::exec::group::Group;
    use crate::exec::local::Local;
    use crate::job::Command;

    const EARLY: Exit = Exit::Code(3);
    const OTHER: Exit = Exit::Code(4);

    fn local() -> Arc<Local> {
        Arc::new(Local {
            shell: PathBuf::from("/bin/sh"),
            nice: None,
        })
    }

    fn shell(code: &str) -> SpawnSpec {
        SpawnSpec {
            command: Command::Shell(code.as_bytes().to_vec()),
            capture: true,
            env: Vec::new(),
            stdin: Stdin::Null,
            slot: 1,
            transfer: Default::default(),
        }
    }

    /// A job that prints its own blocked-signal mask (no shell: dash blocks every signal in
    /// itself while it forks a command, which a command reading the shell's mask would see).
    fn own_mask() -> SpawnSpec {
        let argv = ["grep", "SigBlk", "/proc/self/status"];
        SpawnSpec {
            command: Command::Direct(argv.iter().map(|w| w.as_bytes().to_vec()).collect()),
            capture: true,
            env: Vec::new(),
            stdin: Stdin::Null,
            slot: 1,
            transfer: Default::default(),
        }
    }

    fn readable<E: Executor>(s: &Spawner<E>, ms: u16) -> bool {
        let mut fds = [PollFd::new(s.notify_fd(), PollFlags::POLLIN)];
        // Other tests in this process install signal handlers (the scheduler's reactor): a
        // child's SIGCHLD may interrupt the wait, which then just looks again.
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) => n > 0,
            Err(nix::errno::Errno::EINTR) => false,
            Err(e) => panic!("poll: {e}"),
        }
    }

    /// Wait (by polling the notification descriptor) until `n` results have come back.
    fn collect<E: Executor>(s: &mut Spawner<E>, n: usize) -> Vec<Done<E>> {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while out.len() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} results came back",
                out.len()
            );
            if readable(s, 100) {
                s.take_done(&mut out);
            }
        }
        out
    }

    fn output(spawned: Spawned<Group>) -> (String, WaitStatus) {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::from(spawned.stdout.expect("captured"))
            .read_to_string(&mut text)
            .expect("read the job's stdout");
        (
            text,
            waitpid(Pid::from_raw(spawned.handle.pid()), None).expect("wait"),
        )
    }

    #[test]
    fn every_submitted_job_comes_back_once_with_its_token() {
        let mut s: Spawner<_> = Spawner::new(local(), 3).unwrap();
        for t in 0..40 {
            s.submit(t, shell(&format!("echo {t}")));
        }
        assert_eq!(s.pending(), 40);
        let done = collect(&mut s, 40);
        assert_eq!(s.pending(), 0);
        let mut tokens = HashSet::new();
        for d in done {
            assert!(tokens.insert(d.token), "token {} came back twice", d.token);
            let Ok(spawned) = d.result else {
                panic!("job {} did not start", d.token)
            };
            let (text, status) = output(spawned);
            assert_eq!(text, format!("{}\n", d.token));
            assert_eq!(
                status,
                WaitStatus::Exited(Pid::from_raw(status.pid().unwrap().as_raw()), 0)
            );
        }
        assert_eq!(tokens, (0..40).collect());
        assert!(
            !readable(&s, 0),
            "notification left set with nothing to take"
        );
    }

    #[test]
    fn without_threads_submit_spawns_at_once() {
        let mut s: Spawner<_> = Spawner::new(local(), 0).unwrap();
        s.submit(7, shell("echo now"));
        assert!(readable(&s, 0));
        let mut done = Vec::new();
        s.take_done(&mut done);
        let d = done.pop().expect("one result");
        assert_eq!(d.token, 7);
        let (text, _) = output(d.result.expect("started"));
        assert_eq!(text, "now\n");
    }

    #[test]
    fn a_job_started_from_a_spawner_thread_dies_of_its_own_interrupt() {
        // Children inherit the spawning thread's signal mask: a blocked SIGINT would survive.
        let mut s: Spawner<_> = Spawner::new(local(), 2).unwrap();
        s.submit(1, shell("kill -INT $$; echo alive"));
        s.submit(2, own_mask());
        let mut done = collect(&mut s, 2);
        done.sort_by_key(|d| d.token);
        let mut done = done.into_iter().map(|d| output(d.result.expect("started")));
        let (text, status) = done.next().unwrap();
        assert_eq!(text, "");
        assert!(
            matches!(status, WaitStatus::Signaled(_, Signal::SIGINT, _)),
            "{status:?}"
        );
        let (threaded, _) = done.next().unwrap();
        let (inline, _) = output(s.spawn_now(&own_mask()).ok().unwrap());
        assert_eq!(
            threaded, inline,
            "same signal mask as a job spawned on the calling thread"
        );
    }

    /// Returns the pids it is fed, one per spawn, when they are fed; counts its spawns.
    struct Fed(Mutex<Receiver<Option<i32>>>);

    impl Executor for Fed {
        type Handle = i32;

        fn spawn(&self, _: &SpawnSpec) -> Result<Spawned<i32>, SpawnError> {
            let next = self.0.lock().unwrap().recv().unwrap_or(None);
            match next {
                Some(-1) => panic!("a broken executor"),
                Some(pid) => Ok(Spawned {
                    handle: pid,
                    stdin: None,
                    stdout: None,
                    stderr: None,
                }),
                None => Err(SpawnError::Transient(io::Error::from_raw_os_error(
                    nix::libc::EAGAIN,
                ))),
            }
        }
        fn key(&self, pid: &i32) -> u64 {
            *pid as u64
        }
        fn reap(&self, _: &mut dyn FnMut(u64, Exit)) {}
        fn reaped(&self, _: &mut i32) {}
        fn signal(&self, _: &i32, _: Option<Signal>) -> bool {
            false
        }
    }

    fn fed(threads: usize) -> (Spawner<Fed>, Sender<Option<i32>>, Arc<Fed>) {
        let (tx, rx) = channel();
        let exec = Arc::new(Fed(Mutex::new(rx)));
        (Spawner::new(Arc::clone(&exec), threads).unwrap(), tx, exec)
    }

    fn dummy() -> SpawnSpec {
        SpawnSpec {
            command: Command::Direct(vec![b"true".to_vec()]),
            capture: false,
            env: Vec::new(),
            stdin: Stdin::Null,
            slot: 1,
            transfer: Default::default(),
        }
    }

    #[test]
    fn errors_and_panics_come_back_as_results() {
        let (mut s, tx, _) = fed(2);
        s.submit(1, dummy());
        s.submit(2, dummy());
        tx.send(None).unwrap();
        tx.send(Some(-1)).unwrap();
        let done = collect(&mut s, 2);
        let mut transient = 0;
        let mut failed = 0;
        for d in done {
            match d.result {
                Err(SpawnError::Transient(e)) => {
                    assert_eq!(e.raw_os_error(), Some(nix::libc::EAGAIN));
                    transient += 1
                }
                Err(SpawnError::Failed(m)) => {
                    assert!(m.contains("panicked"), "{m}");
                    failed += 1
                }
                Ok(_) => panic!("no job should start"),
            }
        }
        assert_eq!((transient, failed), (1, 1));
        // The thread that caught the panic still serves.
        s.submit(3, dummy());
        tx.send(Some(42)).unwrap();
        assert!(matches!(&collect(&mut s, 1)[0].result, Ok(sp) if sp.handle == 42));
    }

    #[test]
    fn an_exit_reaped_before_its_spawn_result_comes_back_with_it() {
        let (mut s, tx, _) = fed(1);
        s.submit(1, dummy());
        // Wait until the thread is inside `spawn` (blocked on the channel).
        while s.shared.lock().running.is_empty() {
            std::thread::yield_now();
        }
        assert!(
            s.hold_exit(500, EARLY),
            "a spawn is in flight: it may own the pid"
        );
        tx.send(Some(500)).unwrap();
        let done = collect(&mut s, 1);
        assert_eq!(done[0].reaped, Some(EARLY));
        assert!(s.held.is_empty());
        // Nothing in flight, nothing waiting: a stranger (an orphaned grandchild).
        assert!(!s.hold_exit(500, OTHER));
        assert!(s.held.is_empty());
    }

    #[test]
    fn a_held_exit_goes_to_a_spawn_waiting_to_be_taken_but_never_to_a_later_one() {
        let (mut s, tx, _) = fed(1);
        s.submit(1, dummy());
        tx.send(Some(600)).unwrap();
        while !readable(&s, 100) {}
        // The result is queued, not taken: the exit is its.
        assert!(s.hold_exit(600, EARLY));
        assert_eq!(collect(&mut s, 1)[0].reaped, Some(EARLY));

        // An exit held while spawn 2 is in flight is not spawn 3's, even with the same pid
        // (reused): spawn 3 started after it was reaped.
        s.submit(2, dummy());
        while s.shared.lock().running.is_empty() {
            std::thread::yield_now();
        }
        assert!(s.hold_exit(700, OTHER));
        tx.send(Some(601)).unwrap();
        assert_eq!(collect(&mut s, 1)[0].reaped, None);
        assert!(
            s.held.is_empty(),
            "forgotten once no spawn in flight can own it"
        );
        s.submit(3, dummy());
        tx.send(Some(700)).unwrap();
        assert_eq!(collect(&mut s, 1)[0].reaped, None);
    }

    #[test]
    fn dropping_the_spawner_stops_its_threads() {
        let (mut s, tx, exec) = fed(3);
        for t in 0..10 {
            s.submit(t, dummy());
        }
        // Two spawns finish, one stays blocked until after the drop starts; the rest are queued.
        tx.send(Some(1)).unwrap();
        tx.send(Some(2)).unwrap();
        let feeder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = tx.send(Some(3));
            // Disconnects the channel: any further spawn fails at once.
        });
        let start = Instant::now();
        drop(s);
        feeder.join().unwrap();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(
            Arc::strong_count(&exec),
            1,
            "every thread let go of the executor"
        );
    }
}
