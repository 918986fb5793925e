//! forkpool's own messages on stderr: errors, warnings and notes, each one line with the
//! `forkpool:` prefix. While a progress display is on the terminal, every message goes around it
//! (the display registers itself with `set_screen`), so no frame is split by a message.

use std::io::Write;
use std::sync::{Arc, OnceLock};

/// A display on the terminal that writes must go around.
pub trait Screen: Send + Sync {
    /// Run `write` with the display off the screen; it is drawn again below what was written.
    fn hold(&self, write: &mut dyn FnMut());
}

static SCREEN: OnceLock<Arc<dyn Screen>> = OnceLock::new();

/// The display that stderr's messages (and the output sink's writes to the terminal) go around.
pub fn set_screen(screen: Arc<dyn Screen>) {
    let _ = SCREEN.set(screen);
}

pub fn screen() -> Option<Arc<dyn Screen>> {
    SCREEN.get().cloned()
}

/// `forkpool: error: ...` with its hint on the next line.
pub fn error(message: &str, hint: Option<&str>) {
    let mut msg = format!("forkpool: error: {message}\n");
    if let Some(h) = hint {
        msg.push_str(&format!("forkpool: hint: {h}\n"));
    }
    write_stderr(msg.as_bytes());
}

/// A message already in forkpool's style.
pub fn raw(msg: &str) {
    write_stderr(msg.as_bytes());
}

/// `forkpool: ...`: a warning or a note.
pub fn warn(msg: &str) {
    write_stderr(format!("forkpool: {msg}\n").as_bytes());
}

fn write_stderr(b: &[u8]) {
    let mut write = || {
        let _ = std::io::stderr().lock().write_all(b);
    };
    match SCREEN.get() {
        Some(screen) => screen.hold(&mut write),
        None => write(),
    }
}
