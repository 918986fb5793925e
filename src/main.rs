//! forkpool: run commands in parallel. All the work is in the library; this only exits with
//! the status it reports.

fn main() {
    match forkpool::run() {
        forkpool::Outcome::Exit(code) => std::process::exit(code),
        forkpool::Outcome::Signal(sig) => forkpool::die_by(sig),
    }
}
