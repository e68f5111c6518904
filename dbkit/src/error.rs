//! The library's typed errors: every variant names the file, revision, object or (masked)
//! URL it is about, so the binaries can print one line and exit non-zero, and keeps the
//! error that caused it ([`std::error::Error::source`]): the driver's ([`DriverError`]),
//! the operating system's (`io::Error`), the revision graph's ([`GraphError`],
//! [`TargetError`]).

use std::path::PathBuf;

pub use crate::graph_error::{Candidates, GraphError, TargetError};

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
    /// A TOML file (dbrev.toml, diesel.toml) does not parse or has the wrong keys.
    #[error("{message}")]
    ConfigSyntax {
        /// `file:line:col: reason (key `k`)`.
        message: String,
        /// The parser's error.
        #[source]
        source: Box<toml::de::Error>,
    },
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
        /// The backend's reason, on one line, with the URL masked in it.
        reason: String,
        /// The driver's error, when a driver gave one.
        #[source]
        source: Option<DriverError>,
    },
    /// A statement failed on the database (the message as text; see [`Error::Sql`] for
    /// one that keeps the driver's error).
    #[error("{context}: {message}")]
    Query {
        /// What was being done (file and line, revision, object).
        context: String,
        /// The database's message.
        message: String,
    },
    /// A statement failed on the database.
    #[error("{context}: {}", one_line(source))]
    Sql {
        /// What was being done (file and line, revision, object).
        context: String,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// A statement of a revision failed.
    #[error("revision {revision} failed at {}:{line}: {}{outcome}", path.display(), one_line(source))]
    RevisionFailed {
        /// The revision id.
        revision: String,
        /// Its `up.sql` or `down.sql`.
        path: PathBuf,
        /// The statement's first line.
        line: usize,
        /// What state it left and what to do (`; revision X was rolled back…`).
        outcome: String,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// Writing a dump or a listing failed (exit code 5, as other export failures).
    #[error("{context}: {source}")]
    Write {
        /// What was being written.
        context: String,
        /// The operating system's reason ([`Error::is_broken_pipe`] tells a reader that
        /// went away).
        #[source]
        source: std::io::Error,
    },
    /// A file or directory exists and `--force` was not given.
    #[error("{} already exists{hint}", path.display())]
    Exists {
        /// What would have been overwritten.
        path: PathBuf,
        /// What to do instead.
        hint: String,
    },
    /// The revision files are invalid.
    #[error("{0}")]
    Script(String),
    /// The revision files do not form a valid graph.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A target (`head`, `-1`, a revision prefix…) could not be resolved (a message).
    #[error("{0}")]
    Target(String),
    /// A target (`head`, `-1`, a revision prefix…) could not be resolved.
    #[error(transparent)]
    Resolve(#[from] TargetError),
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
    /// Taking or releasing the migration lock failed on the server.
    #[error("{what} the migration lock failed: {}", one_line(source))]
    LockFailed {
        /// `taking` or `releasing`.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// The answer is no: `check` found differences, a test or lint found a problem
    /// (exit code 1). The message says what was found.
    #[error("{0}")]
    Differences(String),
    /// The database or a file is in a state the command will not act on without the user
    /// (an edited applied revision, a partially applied revision, an incomplete dump, a
    /// restore target that holds tables). The message says what to do.
    #[error("{0}")]
    Refused(String),
    /// A `--fleet` command failed on some databases (its summary names each); the exit
    /// code is the highest of theirs.
    #[error("{message}")]
    Fleet {
        /// How many failed, of how many.
        message: String,
        /// The highest exit code among the failed databases.
        code: i32,
    },
    /// The process was interrupted by a signal (SIGINT, SIGTERM, SIGHUP).
    #[error("interrupted by {name}")]
    Interrupted {
        /// The signal's name (`SIGINT`).
        name: &'static str,
        /// The exit code the shell convention gives it (128 + signal number).
        code: i32,
    },
}

/// A database driver's error, kept as the cause of [`Error::Connect`], [`Error::Sql`] and
/// the other failures on the database. It prints as the driver's message (for
/// tokio-postgres, with the server's reason it keeps in its own source). Boxed, so an
/// [`Error`] stays small.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// diesel's (SQLite, and the statements of diesel-async's sessions).
    #[error(transparent)]
    Diesel(Box<diesel::result::Error>),
    /// diesel's connection error (opening SQLite, setting up a diesel-async session).
    #[error(transparent)]
    Connection(Box<diesel::ConnectionError>),
    /// tokio-postgres' (connecting, `COPY`).
    #[error("{}", crate::driver::postgres_reason(.0))]
    Postgres(#[source] Box<tokio_postgres::Error>),
    /// mysql_async's.
    #[error(transparent)]
    Mysql(Box<mysql_async::Error>),
    /// The operating system's (starting the driver's runtime).
    #[error(transparent)]
    Io(Box<std::io::Error>),
}

macro_rules! driver_error_from {
    ($($variant:ident($error:ty)),* $(,)?) => {
        $(impl From<$error> for DriverError {
            fn from(error: $error) -> Self {
                DriverError::$variant(Box::new(error))
            }
        })*
    };
}

driver_error_from!(
    Diesel(diesel::result::Error),
    Connection(diesel::ConnectionError),
    Postgres(tokio_postgres::Error),
    Mysql(mysql_async::Error),
    Io(std::io::Error),
);

/// A (driver's) message on one line: runs of whitespace, newlines included, become one
/// space.
pub fn one_line(text: impl std::fmt::Display) -> String {
    text.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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

    /// A statement failed on the database while doing `context`.
    pub fn sql(context: impl Into<String>, source: impl Into<DriverError>) -> Self {
        Error::Sql {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Writing `context` (the dump, a listing) failed.
    pub fn write(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Write {
            context: context.into(),
            source,
        }
    }

    /// Whether the error comes from writing to a pipe whose reader went away (`| head`):
    /// a command whose output nobody reads any more has nothing left to do, which is not
    /// a failure. Looks through the causes for an `io::Error` of kind `BrokenPipe`.
    pub fn is_broken_pipe(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            cause = error.source();
        }
        false
    }

    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Differences(_) => exit::NO,
            Error::Usage(_) | Error::Target(_) | Error::Resolve(_) => exit::USAGE,
            Error::Project(_)
            | Error::Config(_)
            | Error::ConfigSyntax { .. }
            | Error::Script(_)
            | Error::Graph(_)
            | Error::Model(_)
            | Error::Exists { .. } => exit::INPUT,
            Error::Url { .. } | Error::Connect { .. } => exit::CONNECT,
            Error::Query { .. }
            | Error::Sql { .. }
            | Error::RevisionFailed { .. }
            | Error::Migration(_)
            | Error::Export(_)
            | Error::Write { .. } => exit::SQL,
            Error::Lock(_) | Error::LockFailed { .. } => exit::LOCK,
            Error::Io { .. } => exit::IO,
            Error::Refused(_) => exit::REFUSED,
            Error::Interrupted { code, .. } | Error::Fleet { code, .. } => *code,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_went_away_is_told_by_type_not_text() {
        let gone = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(Error::write("writing the dump", gone).is_broken_pipe());
        assert!(Error::io("<stdout>", std::io::ErrorKind::BrokenPipe.into()).is_broken_pipe());
        let full = std::io::Error::other("No space left on device");
        assert!(!Error::write("writing the dump", full).is_broken_pipe());
        assert!(!Error::Export("Broken pipe (os error 32)".into()).is_broken_pipe());
    }

    #[test]
    fn errors_keep_their_cause_and_print_one_line() {
        let cause = diesel::result::Error::QueryBuilderError("near \"x\":\nsyntax error".into());
        let error = Error::sql("creating the tables", cause);
        assert_eq!(
            error.to_string(),
            "creating the tables: near \"x\": syntax error"
        );
        let source = std::error::Error::source(&error).expect("a source");
        assert!(source.downcast_ref::<DriverError>().is_some());
        assert_eq!(error.exit_code(), exit::SQL);
        let graph: Error = GraphError::Cycle {
            files: vec!["a/up.sql".into(), "b/up.sql".into()],
        }
        .into();
        assert_eq!(
            graph.to_string(),
            "the revisions form a cycle: a/up.sql, b/up.sql"
        );
        assert_eq!(graph.exit_code(), exit::INPUT);
        let target: Error = TargetError::AmbiguousPrefix {
            text: "20".into(),
            matches: vec!["201".into(), "202".into()],
            more: false,
        }
        .into();
        assert_eq!(target.to_string(), "`20` is ambiguous; it matches 201, 202");
        assert_eq!(target.exit_code(), exit::USAGE);
    }
}
