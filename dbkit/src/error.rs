//! The library's typed errors: every variant names the file, revision, object or (masked)
//! URL it is about, so the binaries can print one line and exit non-zero.

use std::path::PathBuf;

/// Result alias used throughout `dbkit`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in dbkit, with enough context for a one-line message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The cargo project could not be found or is ambiguous.
    #[error("{0}")]
    Project(String),
    /// The configuration file is invalid (the message names file, line and key).
    #[error("{0}")]
    Config(String),
    /// A database URL could not be understood (the URL is masked).
    #[error("invalid database URL `{url}`: {reason}")]
    Url {
        /// The masked URL.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Connecting to the database failed (the URL is masked).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The masked URL.
        url: String,
        /// The backend's reason.
        reason: String,
    },
    /// A statement failed on the database.
    #[error("{context}: {message}")]
    Query {
        /// What was being done (file and line, revision, object).
        context: String,
        /// The database's message.
        message: String,
    },
    /// A file or directory exists and `--force` was not given.
    #[error("{} already exists{hint}", path.display())]
    Exists {
        /// What would have been overwritten.
        path: PathBuf,
        /// What to do instead.
        hint: String,
    },
    /// The revision files or the revision graph are invalid.
    #[error("{0}")]
    Script(String),
    /// A target (`head`, `-1`, a revision prefix…) could not be resolved.
    #[error("{0}")]
    Target(String),
    /// A migration failed or may not run (the message names revision, file and line).
    #[error("{0}")]
    Migration(String),
    /// The model (schema.rs) could not be read.
    #[error("{0}")]
    Model(String),
    /// Dumping or restoring failed.
    #[error("{0}")]
    Export(String),
    /// Wrong usage detected after argument parsing (exit code 2).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// Wraps an I/O error with the path it is about.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Adds the path to an `io::Result`.
pub trait IoContext<T> {
    /// Turns an I/O error into [`Error::Io`] naming `path`.
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
