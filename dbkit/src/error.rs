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
    /// The migration lock could not be taken (held by another run, or the server refused).
    #[error("{0}")]
    Lock(String),
    /// The answer is no: `check` found differences, a test or lint found a problem
    /// (exit code 1). The message says what was found.
    #[error("{0}")]
    Differences(String),
    /// The database or a file is in a state the command will not act on without the user
    /// (an edited applied revision, a partially applied revision, an incomplete dump, a
    /// restore target that holds tables). The message says what to do.
    #[error("{0}")]
    Refused(String),
    /// The process was interrupted by a signal (SIGINT, SIGTERM, SIGHUP).
    #[error("interrupted by {name}")]
    Interrupted {
        /// The signal's name (`SIGINT`).
        name: &'static str,
        /// The exit code the shell convention gives it (128 + signal number).
        code: i32,
    },
}

/// The fixed process exit codes of the three tools (documented in `--help` and the README).
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// The answer is no: `check` found differences (or `test`, `lint`, `heads --check` did).
    pub const NO: i32 = 1;
    /// Wrong usage: bad arguments, an unknown or ambiguous target.
    pub const USAGE: i32 = 2;
    /// Bad input: the configuration, the project, revision files, the model (schema.rs).
    pub const INPUT: i32 = 3;
    /// The database could not be reached (connection, credentials, TLS, URL).
    pub const CONNECT: i32 = 4;
    /// A statement failed on the database (a revision, a restore, a catalog query).
    pub const SQL: i32 = 5;
    /// The migration lock was not taken (held by another run past the lock timeout).
    pub const LOCK: i32 = 6;
    /// Reading or writing a file failed.
    pub const IO: i32 = 7;
    /// Refused: a state that needs the user first (edited history, a partially applied
    /// revision, an incomplete dump, a restore into a database that holds tables).
    pub const REFUSED: i32 = 8;
}

impl Error {
    /// Wraps an I/O error with the path it is about.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Differences(_) => exit::NO,
            Error::Usage(_) | Error::Target(_) => exit::USAGE,
            Error::Project(_)
            | Error::Config(_)
            | Error::Script(_)
            | Error::Model(_)
            | Error::Exists { .. } => exit::INPUT,
            Error::Url { .. } | Error::Connect { .. } => exit::CONNECT,
            Error::Query { .. } | Error::Migration(_) | Error::Export(_) => exit::SQL,
            Error::Lock(_) => exit::LOCK,
            Error::Io { .. } => exit::IO,
            Error::Refused(_) => exit::REFUSED,
            Error::Interrupted { code, .. } => *code,
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
