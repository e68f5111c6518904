//! Ctrl-C, `kill` and a closed terminal during a dump: the temporary file of every dump in
//! progress is removed, so no half-written copy of production rows stays on disk, and the
//! process ends with the shell's code for the signal (130, 143, 129). A restore in
//! progress needs nothing here: the server rolls back the open transaction when the
//! connection drops (SQLite at the next open of the file).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};

/// The temporary files of the dumps in progress.
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs, once per process, handlers for SIGINT, SIGTERM and SIGHUP that remove every
/// temporary dump file in progress, print `error: interrupted by SIGINT` and exit with
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
                        remove_in_progress();
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
