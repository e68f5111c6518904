//! Restore: streams a dump (ours, or the plain output of mysqldump/mariadb-dump, pg_dump or
//! sqlite3 `.dump`, gzip-compressed or not) into the connected database, statement by
//! statement, in one transaction where the backend can roll DDL back.
//!
//! Before anything is written it refuses what would surprise: a target that holds tables
//! (unless told yes), a file that names several databases, and — where nothing could be
//! rolled back (MySQL), after a first streaming pass over the file — a dump without its
//! completion line or cut inside a statement. Where the backend rolls back, those are
//! found on the way and undo everything.

use std::path::Path;

use crate::backend::Backend;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::statements::{SplitError, Statement, StatementKind, StatementReader};
use crate::term::Reporter;

use super::dumpfile::{self, DumpFormat, DumpReader};
use super::scope::{Scope, switch};
use super::session::Failure;

/// How to restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Restore into a database that already holds tables (`--yes`): objects of the same
    /// name are replaced by the dump's.
    pub assume_yes: bool,
    /// Load a dump that lacks its completion line or is cut inside a statement
    /// (`--allow-incomplete`): every whole statement is restored, the rest is skipped.
    pub allow_incomplete: bool,
}

/// What a restore did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreStats {
    /// Statements run.
    pub statements: u64,
}

/// Where a restore's statements go, per backend: a session that speaks the backend's bulk
/// paths (`COPY` on PostgreSQL) and says what failed.
pub(crate) trait Target {
    /// Whether DDL rolls back (the restore is then one transaction).
    fn transactional(&self) -> bool;
    /// Starts the restore's transaction.
    fn begin(&mut self) -> std::result::Result<(), Failure> {
        self.execute("BEGIN")
    }
    /// Runs one statement.
    fn execute(&mut self, sql: &str) -> std::result::Result<(), Failure>;
    /// Starts `COPY ... FROM stdin`.
    fn copy_begin(&mut self, _sql: &str) -> std::result::Result<(), Failure> {
        Err(Failure {
            message: "`COPY ... FROM stdin` is PostgreSQL's; this database is not".into(),
            mysql_code: None,
            copy_line: None,
        })
    }
    /// Sends rows to the open COPY.
    fn copy_send(&mut self, _data: Vec<u8>) -> std::result::Result<(), Failure> {
        Ok(())
    }
    /// Ends the open COPY.
    fn copy_finish(&mut self) -> std::result::Result<(), Failure> {
        Ok(())
    }
    /// Abandons the open COPY, if any, so the session takes statements again.
    fn copy_abort(&mut self) {}
    /// Checks at the end, before COMMIT (SQLite: foreign keys); warnings go to `reporter`.
    fn final_checks(&mut self, _reporter: &Reporter) -> std::result::Result<(), Failure> {
        Ok(())
    }
}

/// How many tables the connected database holds (all its schemas on PostgreSQL; tables
/// that belong to an extension left out).
pub fn target_tables(conn: &mut Connection) -> Result<usize> {
    let sql = match conn.backend() {
        Backend::Sqlite => super::sqlite::TABLE_COUNT,
        Backend::Postgres => super::postgres::TABLE_COUNT,
        Backend::Mysql => super::mysql::TABLE_COUNT,
    };
    let value = conn.query_value(sql).map_err(|e| Error::Query {
        context: format!("counting the tables of {}", conn.url()),
        message: e.to_string(),
    })?;
    Ok(value.and_then(|v| v.trim().parse().ok()).unwrap_or(0))
}

/// The name of the connected database, for messages (the file name on SQLite).
fn database_name(conn: &mut Connection) -> String {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            return Path::new(conn.url().expose())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| conn.url().masked());
        }
        Backend::Postgres => super::postgres::DATABASE_NAME,
        Backend::Mysql => super::mysql::DATABASE_NAME,
    };
    conn.query_value(sql)
        .ok()
        .flatten()
        .unwrap_or_else(|| conn.url().masked())
}

/// Restores the dump in `path` with the default options: a target that holds tables and
/// an incomplete file are refused.
pub fn restore_file(
    conn: &mut Connection,
    path: &Path,
    reporter: &Reporter,
) -> Result<RestoreStats> {
    restore(conn, path, &RestoreOptions::default(), reporter)
}

/// Restores the dump in `path` (gzip recognised by its magic bytes) into the connected
/// database.
pub fn restore(
    conn: &mut Connection,
    path: &Path,
    options: &RestoreOptions,
    reporter: &Reporter,
) -> Result<RestoreStats> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(reporter, size);
    let source = path.display().to_string();
    let stats = restore_input(conn, Input::File(path), &source, options, reporter, &bar);
    bar.finish_and_clear();
    stats
}

/// Restores a dump read once from `input` (another database's dump streamed through a
/// pipe) into the connected database. Where the target cannot roll back (MySQL), the
/// statements run as they come and a stream cut short is found only at its end: use it
/// for a database that is discarded when the restore fails (a scratch database).
pub fn restore_stream(
    conn: &mut Connection,
    input: Box<dyn std::io::Read + Send>,
    source: &str,
    options: &RestoreOptions,
    reporter: &Reporter,
) -> Result<RestoreStats> {
    let bar = indicatif::ProgressBar::hidden();
    restore_input(conn, Input::Stream(input), source, options, reporter, &bar)
}

/// Where a restore reads.
enum Input<'p> {
    /// A file, which may be read twice.
    File(&'p Path),
    /// A stream, read once.
    Stream(Box<dyn std::io::Read + Send>),
}

fn restore_input(
    conn: &mut Connection,
    input: Input<'_>,
    source: &str,
    options: &RestoreOptions,
    reporter: &Reporter,
    bar: &indicatif::ProgressBar,
) -> Result<RestoreStats> {
    let url = conn.url().clone();
    let backend = conn.backend();
    let tables = target_tables(conn)?;
    let database = database_name(conn);
    if tables > 0 && !options.assume_yes {
        return Err(Error::Refused(format!(
            "{url} holds {tables} table(s); restoring {source} replaces the objects it dumps — pass --yes to restore into it anyway, or restore into an empty database"
        )));
    }
    let (path, (format, reader)) = match input {
        Input::File(path) => (Some(path), dumpfile::open(path, bar)?),
        Input::Stream(stream) => (
            None,
            dumpfile::open_reader(stream, bar)
                .map_err(|e| Error::Export(format!("{source}: reading: {e}")))?,
        ),
    };
    let mut target: Box<dyn Target + '_> = match backend {
        Backend::Sqlite => Box::new(super::sqlite::RestoreTarget::new(conn)),
        Backend::Postgres => Box::new(super::postgres::RestoreTarget::connect(&url)?),
        Backend::Mysql => Box::new(super::mysql::RestoreTarget::connect(&url)?),
    };
    let run = Run {
        source,
        database: &database,
        backend,
        format,
        options,
        reporter,
        bar,
        streamed: path.is_none(),
    };
    let (known, reader) = match path {
        Some(path) if !target.transactional() => {
            // Nothing here rolls back: read the whole file once before writing anything.
            bar.set_message("checking");
            let scope = run.check_first(reader)?;
            bar.set_position(0);
            let (_, reader) = dumpfile::open(path, bar)?;
            (Some(scope), reader)
        }
        _ => (None, reader),
    };
    reporter.status(
        "Restoring",
        format!("{source} ({}) into {url}", format.writer()),
    );
    bar.set_message("restoring");
    run.load(target.as_mut(), reader, known)
}

fn progress_bar(reporter: &Reporter, size: u64) -> indicatif::ProgressBar {
    if !reporter.wants_progress() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// One restore's settings, shared by its passes.
struct Run<'a> {
    source: &'a str,
    database: &'a str,
    backend: Backend,
    format: DumpFormat,
    options: &'a RestoreOptions,
    reporter: &'a Reporter,
    bar: &'a indicatif::ProgressBar,
    /// Read once from a stream: a target that cannot roll back learns only at the end
    /// whether the stream was complete.
    streamed: bool,
}

/// Why a restore stopped.
enum Stop {
    /// The file is cut short (or cannot be read) at this line.
    Input(usize, SplitError),
    /// A statement failed.
    Statement(usize, String),
    /// The file names several databases.
    Scope(String),
}

impl Run<'_> {
    fn statements(&self, reader: DumpReader) -> StatementReader<DumpReader> {
        StatementReader::new(reader, self.backend).whole_statements()
    }

    fn incomplete(&self) -> Error {
        Error::Refused(format!(
            "{}: the file starts like a dump by {} but does not end with its completion line (`{}`): it is incomplete, cut short or still being written; nothing was restored — pass --allow-incomplete to load what it holds",
            self.source,
            self.format.writer(),
            self.format.completion_line().unwrap_or_default()
        ))
    }

    /// The first pass, for targets that cannot roll back: every database-level statement,
    /// and the file read to its end (complete, and cut inside no statement).
    fn check_first(&self, reader: DumpReader) -> Result<Scope> {
        let mut scope = Scope::default();
        let mut statements = self.statements(reader);
        for statement in statements.by_ref() {
            let statement = match statement {
                Ok(s) => s,
                Err(e) if self.options.allow_incomplete && is_cut(&e) => break,
                Err(e) => {
                    return Err(input_error(
                        &e,
                        format!(
                            "{}:{}: {}; nothing was restored",
                            self.source,
                            split_line(&e),
                            split_message(&e)
                        ),
                    ));
                }
            };
            if let Some(s) = switch(self.backend, &statement) {
                scope.record(s).map_err(|m| self.several(&m, false))?;
            }
        }
        if !self
            .format
            .is_complete(statements.get_ref().get_ref().tail())
            && !self.options.allow_incomplete
        {
            return Err(self.incomplete());
        }
        Ok(scope)
    }

    fn several(&self, message: &str, rolled_back: bool) -> Error {
        Error::Refused(format!(
            "{}: {message}; nothing was restored{}",
            self.source,
            if rolled_back { " (rolled back)" } else { "" }
        ))
    }

    /// Skips a database-level statement, saying so the first time.
    fn skip(&self, scope: &Scope, said: &mut bool) {
        if !*said {
            if let Some(first) = scope.first() {
                self.reporter.warn(format!(
                    "ignored `{}` at line {}: restoring into {}",
                    first.text, first.line, self.database
                ));
            }
            *said = true;
        }
    }

    /// The pass that writes.
    fn load(
        &self,
        target: &mut dyn Target,
        reader: DumpReader,
        known: Option<Scope>,
    ) -> Result<RestoreStats> {
        let transactional = target.transactional();
        if transactional {
            target.begin().map_err(|e| {
                Error::Export(format!("{}: starting the restore: {e}", self.source))
            })?;
        }
        let mut progress = Progress {
            scope: known.unwrap_or_default(),
            ..Progress::default()
        };
        let mut statements = self.statements(reader);
        let mut stop = self.run(target, &mut statements, &mut progress);
        if stop.is_none() {
            let tail = statements.get_ref().get_ref().tail();
            stop = self.after_the_last(target, tail, &progress)?;
        }
        if let Some(stop) = stop {
            return Err(self.stopped(target, stop, progress.stats.statements));
        }
        if transactional {
            target.execute("COMMIT").map_err(|e| {
                Error::Export(format!("{}: committing the restore: {e}", self.source))
            })?;
        }
        self.bar.finish_and_clear();
        Ok(progress.stats)
    }

    /// Runs the file's statements until the end, a cut (with `--allow-incomplete`) or
    /// the first that stops the restore.
    fn run(
        &self,
        target: &mut dyn Target,
        statements: &mut StatementReader<DumpReader>,
        progress: &mut Progress,
    ) -> Option<Stop> {
        let transactional = target.transactional();
        for statement in statements {
            let statement = match statement {
                Ok(s) => s,
                Err(e) if self.options.allow_incomplete && is_cut(&e) => {
                    self.reporter.warn(format!(
                        "{}:{}: {}; restoring the statements before it (--allow-incomplete)",
                        self.source,
                        split_line(&e),
                        split_message(&e)
                    ));
                    progress.cut = true;
                    return None;
                }
                Err(e) => return Some(Stop::Input(split_line(&e), e)),
            };
            if let Some(s) = switch(self.backend, &statement) {
                if transactional && let Err(m) = progress.scope.record(s) {
                    return Some(Stop::Scope(m));
                }
                self.skip(&progress.scope, &mut progress.said);
                continue;
            }
            match apply(target, statement, &mut progress.copy, transactional) {
                Ok(true) => progress.stats.statements += 1,
                Ok(false) => {}
                Err(stop) => return Some(stop),
            }
        }
        None
    }

    /// After the last statement: the rows of a COPY cut short (`--allow-incomplete`), the
    /// completion line where it was not checked before, the target's final checks.
    fn after_the_last(
        &self,
        target: &mut dyn Target,
        tail: &[u8],
        progress: &Progress,
    ) -> Result<Option<Stop>> {
        if progress.cut
            && let Some((line, _)) = &progress.copy
            && let Err(failure) = target.copy_finish()
        {
            // Whole rows of a COPY cut short are kept with --allow-incomplete.
            return Ok(Some(Stop::Statement(*line, failure.message)));
        }
        if (target.transactional() || self.streamed)
            && !self.options.allow_incomplete
            && !self.format.is_complete(tail)
        {
            target.execute("ROLLBACK").ok();
            return Err(self.incomplete());
        }
        Ok(target
            .final_checks(self.reporter)
            .err()
            .map(|failure| Stop::Statement(0, failure.message)))
    }

    /// The error for a restore that stopped, with what it left: rolled back, or the
    /// statements applied before it.
    fn stopped(&self, target: &mut dyn Target, stop: Stop, applied: u64) -> Error {
        target.copy_abort();
        let state = if target.transactional() {
            let _ = target.execute("ROLLBACK");
            "nothing was restored (rolled back)".to_owned()
        } else {
            format!("the {applied} statement(s) before it were applied")
        };
        match stop {
            Stop::Input(line, e) => input_error(
                &e,
                format!("{}:{line}: {}; {state}", self.source, split_message(&e)),
            ),
            Stop::Statement(0, message) => {
                Error::Export(format!("{}: {message}; {state}", self.source))
            }
            Stop::Statement(line, message) => {
                Error::Export(format!("{}:{line}: {message}; {state}", self.source))
            }
            Stop::Scope(message) => self.several(&message, true),
        }
    }
}

/// What the pass that writes has done so far.
#[derive(Default)]
struct Progress {
    /// The database-level statements met.
    scope: Scope,
    /// Whether skipping one was reported.
    said: bool,
    stats: RestoreStats,
    /// The open `COPY … FROM stdin`: its line and statement.
    copy: Option<(usize, String)>,
    /// The file is cut short, and `--allow-incomplete` restores what comes before.
    cut: bool,
}

/// Runs one statement (or COPY block part) on the target; whether it counts as one run
/// (psql's meta-commands and, in a transaction, transaction control are passed over).
fn apply(
    target: &mut dyn Target,
    statement: Statement,
    copy: &mut Option<(usize, String)>,
    transactional: bool,
) -> std::result::Result<bool, Stop> {
    let Statement { sql, line, kind } = statement;
    let copying = matches!(kind, StatementKind::CopyData(_) | StatementKind::CopyEnd);
    let result = match kind {
        StatementKind::PsqlMeta => return Ok(false),
        StatementKind::Sql if transactional && is_transaction_control(&sql) => return Ok(false),
        StatementKind::Sql => target.execute(&sql),
        StatementKind::CopyFromStdin => {
            let begun = target.copy_begin(&sql);
            *copy = Some((line, sql.clone()));
            begun
        }
        StatementKind::CopyData(data) => target.copy_send(data),
        StatementKind::CopyEnd => {
            let done = target.copy_finish();
            if done.is_ok() {
                *copy = None;
            }
            done
        }
    };
    result.map(|()| true).map_err(|failure| {
        let (line, sql) = match (copying, &*copy) {
            (true, Some((at, sql))) => (*at + failure.copy_line.unwrap_or(0) as usize, sql),
            _ => (line, &sql),
        };
        Stop::Statement(line, format!("{}{}", subject(sql), failure.message))
    })
}

/// A file cut short is refused (it needs the user: `--allow-incomplete`); one that cannot
/// be read or decoded is an export failure.
fn input_error(e: &SplitError, message: String) -> Error {
    if is_cut(e) {
        Error::Refused(format!(
            "{message} — pass --allow-incomplete to load the statements before it"
        ))
    } else {
        Error::Export(message)
    }
}

/// A file cut short: an unterminated statement, string, comment or COPY block.
fn is_cut(e: &SplitError) -> bool {
    matches!(e, SplitError::Unterminated { .. })
}

fn split_line(e: &SplitError) -> usize {
    match e {
        SplitError::Unterminated { line, .. } | SplitError::Encoding { line } => *line,
        SplitError::Io(_) => 0,
    }
}

/// The error without its `line N:` prefix (the line goes after the file name).
fn split_message(e: &SplitError) -> String {
    match e {
        SplitError::Unterminated { what, .. } => {
            format!("unterminated {what}: the file is cut short")
        }
        SplitError::Encoding { .. } => "the statement is not valid UTF-8".into(),
        SplitError::Io(io) => format!("reading: {io}"),
    }
}

/// `INSERT INTO child: ` — the statement's verb and object, to put before the server's
/// message (which often names neither).
fn subject(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(6).collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
    let object = |i: usize| {
        words
            .get(i)
            .map(|w| w.split('(').next().unwrap_or(w).trim_end_matches(';'))
    };
    let found = match upper.as_slice() {
        ["INSERT", "INTO", ..] | ["REPLACE", "INTO", ..] => {
            object(2).map(|o| format!("INSERT INTO {o}"))
        }
        ["COPY", ..] => object(1).map(|o| format!("COPY {o}")),
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS", ..] => {
            object(5).map(|o| format!("CREATE TABLE {o}"))
        }
        ["CREATE", "TABLE", ..] => object(2).map(|o| format!("CREATE TABLE {o}")),
        ["ALTER", "TABLE", "ONLY", ..] => object(3).map(|o| format!("ALTER TABLE {o}")),
        ["ALTER", "TABLE", ..] => object(2).map(|o| format!("ALTER TABLE {o}")),
        _ => None,
    };
    found.map(|f| format!("{f}: ")).unwrap_or_default()
}

/// `BEGIN`, `COMMIT` and friends: the restore is one transaction already.
fn is_transaction_control(sql: &str) -> bool {
    let upper = sql.trim().to_ascii_uppercase();
    let first = upper.split_whitespace().next().unwrap_or_default();
    matches!(first, "BEGIN" | "COMMIT" | "END" | "ROLLBACK")
        || upper.starts_with("START TRANSACTION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_recognised() {
        assert!(is_transaction_control("BEGIN TRANSACTION"));
        assert!(is_transaction_control("commit"));
        assert!(!is_transaction_control("BEGINNING"));
    }

    #[test]
    fn failures_name_the_table() {
        assert_eq!(
            subject("INSERT INTO `child` (`id`) VALUES (1)"),
            "INSERT INTO `child`: "
        );
        assert_eq!(
            subject("COPY public.child (id) FROM stdin"),
            "COPY public.child: "
        );
        assert_eq!(
            subject("ALTER TABLE ONLY public.t ADD CONSTRAINT"),
            "ALTER TABLE public.t: "
        );
        assert_eq!(subject("SELECT 1"), "");
    }
}
