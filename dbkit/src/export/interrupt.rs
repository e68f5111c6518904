//! Ctrl-C, `kill` and a closed terminal during a dump: the temporary file of every dump in
//! progress is removed, so no half-written copy of production rows stays on disk, every
//! scratch database in use is dropped (see [`crate::scratch`]), and the process ends with
//! the shell's code for the signal (130, 143, 129). A restore in progress needs nothing
//! here: the server rolls back the open transaction when the connection drops (SQLite at
//! the next open of the file).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};

/// The temporary files of the dumps in progress.
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// What to undo if a signal ends the process (dropping a scratch database), by id. The
/// lock is held while one runs, so the signal handler waits for a clean-up under way.
pub(crate) type Cleanup = Box<dyn FnOnce() -> std::result::Result<(), String> + Send>;
static CLEANUPS: Mutex<Vec<(u64, Cleanup)>> = Mutex::new(Vec::new());
static NEXT_CLEANUP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Set once a signal is being handled: the process is about to end with its code.
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Installs, once per process, handlers for SIGINT, SIGTERM and SIGHUP that remove every
/// temporary dump file in progress, drop every scratch database in use, print `error: interrupted by SIGINT` and exit with
/// 128 + the signal's number ([`Error::Interrupted`]). The binaries call it first thing;
/// a program that embeds the library calls it if it wants the same.
pub fn exit_on_signal() -> Result<()> {
    static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
                .map_err(|e| e.to_string())?;
            std::thread::Builder::new()
                .name("dbrev-signals".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
                        remove_in_progress();
                        run_cleanups();
                        let name = match signal {
                            SIGINT => "SIGINT",
                            SIGTERM => "SIGTERM",
                            _ => "SIGHUP",
                        };
                        crate::cli::exit_with(Err(Error::Interrupted {
                            name,
                            code: 128 + signal,
                        }));
                    }
                })
                .map_err(|e| e.to_string())?;
            Ok(())
        })
        .clone()
        .map_err(|reason| Error::Export(format!("cannot watch for signals: {reason}")))
}

/// Registers a temporary dump file, to be removed if a signal ends the process.
pub(crate) fn register(path: &Path) {
    if let Ok(mut list) = IN_PROGRESS.lock() {
        list.push(path.to_owned());
    }
}

/// Forgets a temporary dump file (renamed into place, or removed).
pub(crate) fn unregister(path: &Path) {
    if let Ok(mut list) = IN_PROGRESS.lock() {
        list.retain(|p| p != path);
    }
}

fn remove_in_progress() {
    if let Ok(list) = IN_PROGRESS.lock() {
        for path in list.iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Registers what to undo if a signal ends the process; returns its id for
/// [`run_cleanup`].
pub(crate) fn register_cleanup(cleanup: Cleanup) -> u64 {
    let id = NEXT_CLEANUP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut list = CLEANUPS.lock().unwrap_or_else(|e| e.into_inner());
    list.push((id, cleanup));
    id
}

/// Runs a registered clean-up now (once: a signal will not run it again); `None` when it
/// was no longer there to run.
pub(crate) fn run_cleanup(id: u64) -> Option<std::result::Result<(), String>> {
    let mut list = CLEANUPS.lock().unwrap_or_else(|e| e.into_inner());
    let at = list.iter().position(|(i, _)| *i == id)?;
    let (_, cleanup) = list.remove(at);
    // Still holding the lock: a signal now waits for this clean-up to finish.
    Some(cleanup())
}

/// Forgets a registered clean-up (what it would undo is to stay).
pub(crate) fn forget_cleanup(id: u64) {
    let mut list = CLEANUPS.lock().unwrap_or_else(|e| e.into_inner());
    list.retain(|(i, _)| *i != id);
}

fn run_cleanups() {
    let mut list = CLEANUPS.lock().unwrap_or_else(|e| e.into_inner());
    for (_, cleanup) in list.drain(..) {
        if let Err(e) = cleanup() {
            crate::term::print_error(crate::url::mask(&e));
        }
    }
}

/// When a signal is being handled, waits for the handler to end the process (with the
/// signal's code) instead of going on: the main thread's own error (a statement cut short
/// by the clean-up) must not end the process first.
pub(crate) fn yield_to_signal() {
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}
