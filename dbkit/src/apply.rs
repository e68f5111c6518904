//! Running one revision's SQL: statement by statement (so an error names file and line),
//! inside one transaction with its bookkeeping where the backend can roll DDL back, and
//! otherwise journaled statement by statement in the companion table, so a failure or a
//! killed process leaves "statements 1–2 of 5" recorded, and `--resume` continues at the
//! first statement that did not complete.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::db::Connection;
use crate::error::{Error, Result};
use crate::journal::{Ledger, RecordState, RevisionRecord, is_applied};
use crate::lock::begin_exclusive;
use crate::script::{Revision, checksum, read_sql_file};
use crate::statements::{Statement, split_str};
use crate::term::Reporter;

/// Which way a revision runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `up.sql`.
    Up,
    /// `down.sql`.
    Down,
}

impl Direction {
    /// `applied` / `reverted`.
    pub fn done_verb(self) -> &'static str {
        match self {
            Direction::Up => "applied",
            Direction::Down => "reverted",
        }
    }
}

/// One revision applied or reverted.
#[derive(Debug, Clone)]
pub struct Step {
    /// The revision id.
    pub id: String,
    /// Its message.
    pub message: String,
    /// Which way it ran.
    pub direction: Direction,
    /// How long it took.
    pub elapsed: Duration,
    /// How long each statement that ran took, in order (what `rehearse` reports).
    pub statements: Vec<StatementTime>,
}

/// How long one statement of a revision ran.
#[derive(Debug, Clone)]
pub struct StatementTime {
    /// Its line in the file.
    pub line: usize,
    /// Its text.
    pub sql: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl StatementTime {
    fn of(statement: &Statement, started: Instant) -> StatementTime {
        StatementTime {
            line: statement.line,
            sql: statement.sql.clone(),
            elapsed: started.elapsed(),
        }
    }
}

/// Everything a run needs besides the revision.
pub(crate) struct Runner<'a> {
    /// The bookkeeping SQL.
    pub ledger: &'a Ledger,
    /// diesel's version table (for the re-check inside SQLite's exclusive transaction).
    pub version_table: &'a str,
    /// How long SQLite waits for another writer.
    pub lock_timeout: Duration,
    /// Where to report.
    pub reporter: &'a Reporter,
}

/// The file of a revision in one direction, read and split.
pub(crate) struct RevisionFile {
    /// `up.sql` or `down.sql`.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its statements.
    pub statements: Vec<Statement>,
}

impl RevisionFile {
    /// Reads and splits a revision's file for `direction`.
    pub fn read(revision: &Revision, direction: Direction, conn: &Connection) -> Result<Self> {
        let path = match direction {
            Direction::Up => revision.up_path(),
            Direction::Down => revision.down_path(),
        };
        let text = read_sql_file(&path)?;
        let statements = split_file(&path, &text, conn.backend())?;
        Ok(RevisionFile {
            path,
            text,
            statements,
        })
    }
}

/// Splits a file into statements; an error names the file.
pub(crate) fn split_file(
    path: &Path,
    text: &str,
    backend: crate::Backend,
) -> Result<Vec<Statement>> {
    split_str(text, backend).map_err(|e| Error::Script(format!("{}: {e}", path.display())))
}

impl Runner<'_> {
    /// Runs `revision` one way. `record` is its companion row, if any; `resume_from` the
    /// number of statements a journaled run already completed. Returns `None` when another
    /// process had already done it (SQLite's re-check).
    pub fn run(
        &self,
        conn: &mut Connection,
        revision: &Revision,
        direction: Direction,
        record: Option<&RevisionRecord>,
        resume_from: Option<usize>,
    ) -> Result<Option<Step>> {
        let file = RevisionFile::read(revision, direction, conn)?;
        if file.statements.is_empty() {
            self.reporter.warn(format!(
                "revision {}: {} holds no SQL statement; {} as a no-op",
                revision.id,
                file.path.display(),
                direction.done_verb()
            ));
        }
        let started = Instant::now();
        let dialect = conn.dialect();
        let mut times = Vec::new();
        let done = if dialect.transactional_ddl()
            && revision.run_in_transaction
            && resume_from.is_none()
        {
            self.run_in_transaction(conn, revision, direction, &file, started, &mut times)?
        } else {
            self.run_journaled(
                conn,
                revision,
                direction,
                &file,
                record,
                resume_from,
                started,
                &mut times,
            )?
        };
        Ok(done.then(|| Step {
            id: revision.id.clone(),
            message: revision.message.clone(),
            direction,
            elapsed: started.elapsed(),
            statements: times,
        }))
    }

    /// The statements, the version row and the companion row in one transaction.
    fn run_in_transaction(
        &self,
        conn: &mut Connection,
        revision: &Revision,
        direction: Direction,
        file: &RevisionFile,
        started: Instant,
        times: &mut Vec<StatementTime>,
    ) -> Result<bool> {
        let dialect = conn.dialect();
        if dialect.locks_per_transaction() {
            begin_exclusive(conn, self.lock_timeout)?;
            // The exclusive transaction is the lock: did another process get here first?
            if self.already_done(conn, revision, direction)? {
                exec(conn, "COMMIT", "committing")?;
                return Ok(false);
            }
        } else {
            exec(conn, dialect.begin_transaction(), "starting a transaction")?;
        }
        for statement in &file.statements {
            self.reporter.detail(&statement.sql);
            let began = Instant::now();
            let ran = conn.batch_execute(&statement.sql);
            times.push(StatementTime::of(statement, began));
            if let Err(e) = ran {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(failed(
                    revision,
                    &file.path,
                    statement,
                    &e.to_string(),
                    &format!(
                        "; revision {} was rolled back, earlier revisions stay applied",
                        revision.id
                    ),
                ));
            }
        }
        let bookkeeping = match direction {
            Direction::Up => [
                self.ledger.insert_version(&revision.id),
                self.ledger.insert_record(
                    &revision.id,
                    Some(&checksum(&file.text)),
                    RecordState::Applied,
                    Some(started.elapsed().as_millis()),
                    file.statements.len(),
                ),
            ],
            Direction::Down => [
                self.ledger.delete_version(&revision.id),
                self.ledger.delete_record(&revision.id),
            ],
        };
        let sql = format!("{};\n{};\nCOMMIT", bookkeeping[0], bookkeeping[1]);
        if let Err(e) = conn.batch_execute(&sql) {
            let _ = conn.batch_execute("ROLLBACK");
            return Err(Error::Query {
                context: format!(
                    "recording revision {} as {} (rolled back)",
                    revision.id,
                    direction.done_verb()
                ),
                message: one_line(&e.to_string()),
            });
        }
        Ok(true)
    }

    /// Statement by statement, recording before each one how many completed.
    #[allow(clippy::too_many_arguments)]
    fn run_journaled(
        &self,
        conn: &mut Connection,
        revision: &Revision,
        direction: Direction,
        file: &RevisionFile,
        record: Option<&RevisionRecord>,
        resume_from: Option<usize>,
        started: Instant,
        times: &mut Vec<StatementTime>,
    ) -> Result<bool> {
        let dialect = conn.dialect();
        let total = file.statements.len();
        let from = resume_from.unwrap_or(0).min(total);
        let id = &revision.id;
        let state = match direction {
            Direction::Up => RecordState::Applying,
            Direction::Down => RecordState::Reverting,
        };
        if let Some(done) = resume_from {
            let next = file.statements.get(from).map_or_else(
                || format!("nothing is left to run in {}", file.path.display()),
                |s| {
                    format!(
                        "at statement {} of {total} ({}:{}: {})",
                        from + 1,
                        file.path.display(),
                        s.line,
                        first_line(&s.sql)
                    )
                },
            );
            self.reporter.status(
                "Resuming",
                format!("{id} ({done} statement(s) completed before) {next}"),
            );
        }
        let start = self.ledger.start_journal(
            id,
            (direction == Direction::Up)
                .then(|| checksum(&file.text))
                .as_deref(),
            state,
            from,
            total,
            record.is_some(),
        );
        if dialect.locks_per_transaction() {
            begin_exclusive(conn, self.lock_timeout)?;
            if resume_from.is_none() && self.already_done(conn, revision, direction)? {
                exec(conn, "COMMIT", "committing")?;
                return Ok(false);
            }
            let begun = exec(conn, &start, &format!("journaling revision {id}"));
            if let Err(e) = begun.and_then(|()| exec(conn, "COMMIT", "committing")) {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(e);
            }
        } else {
            exec(conn, &start, &format!("journaling revision {id}"))?;
        }
        for (index, statement) in file.statements.iter().enumerate().skip(from) {
            if index > from {
                exec(
                    conn,
                    &self.ledger.progress(id, index),
                    &format!("journaling revision {id}"),
                )?;
            }
            self.reporter.detail(&statement.sql);
            let began = Instant::now();
            let ran = conn.batch_execute(&statement.sql);
            times.push(StatementTime::of(statement, began));
            if let Err(e) = ran {
                let message = one_line(&e.to_string());
                let advice = if index == 0 && resume_from.is_none() {
                    // Nothing ran: the database is as it was, no partial state to keep.
                    let undo = match (direction, record) {
                        (Direction::Down, Some(r)) => {
                            self.ledger.set_checksum(id, r.checksum.as_deref(), r.state)
                        }
                        _ => self.ledger.delete_record(id),
                    };
                    let _ = conn.batch_execute(&undo);
                    format!("; no statement of {id} had run, the database is unchanged by it")
                } else {
                    let _ = conn.batch_execute(&self.ledger.note(id, &message));
                    partial_advice(revision, direction, &file.path, &file.statements, index)
                };
                return Err(failed(revision, &file.path, statement, &message, &advice));
            }
        }
        let finish = match direction {
            Direction::Up => [
                self.ledger.insert_version(id),
                self.ledger.finish_journal(
                    id,
                    Some(&checksum(&file.text)),
                    started.elapsed().as_millis(),
                    total,
                ),
            ],
            Direction::Down => [
                self.ledger.delete_version(id),
                self.ledger.delete_record(id),
            ],
        };
        let sql = format!(
            "{};\n{};\n{};\nCOMMIT",
            dialect.begin_transaction(),
            finish[0],
            finish[1]
        );
        if let Err(e) = conn.batch_execute(&sql) {
            let _ = conn.batch_execute("ROLLBACK");
            return Err(Error::Query {
                context: format!(
                    "recording revision {id} as {} (all its statements ran; `cargo dbrev {} --resume` records it)",
                    direction.done_verb(),
                    match direction {
                        Direction::Up => "upgrade",
                        Direction::Down => "downgrade",
                    }
                ),
                message: one_line(&e.to_string()),
            });
        }
        Ok(true)
    }

    /// Inside SQLite's exclusive transaction: whether the version table already shows the
    /// revision in the state this run would bring it to.
    fn already_done(
        &self,
        conn: &mut Connection,
        revision: &Revision,
        direction: Direction,
    ) -> Result<bool> {
        let present = is_applied(conn, self.version_table, &revision.id)?;
        Ok(present == (direction == Direction::Up))
    }
}

/// What to do about a revision whose statements ran only in part.
fn partial_advice(
    revision: &Revision,
    direction: Direction,
    path: &Path,
    statements: &[Statement],
    failed_at: usize,
) -> String {
    let (command, undo) = match direction {
        Direction::Up => (
            "upgrade --resume",
            "undo them by hand and run `cargo dbrev stamp current`".to_owned(),
        ),
        Direction::Down => (
            "downgrade --resume TARGET",
            format!(
                "finish reverting by hand and run `cargo dbrev stamp {}-1`",
                revision.id
            ),
        ),
    };
    format!(
        "; statements 1–{failed_at} of {} already ran and stay committed ({} {}); {} is recorded as partially {}. Fix the file, then `cargo dbrev {command}` continues at statement {} — or {undo}",
        statements.len(),
        path.display(),
        line_span(&statements[..failed_at]),
        revision.id,
        direction.done_verb(),
        failed_at + 1,
    )
}

/// `lines 8–9` / `line 8` for a run of statements.
pub(crate) fn line_span(statements: &[Statement]) -> String {
    match statements {
        [] => "no lines".into(),
        [one] => format!("line {}", one.line),
        [first, .., last] => format!("lines {}–{}", first.line, last.line),
    }
}

fn failed(
    revision: &Revision,
    path: &Path,
    statement: &Statement,
    message: &str,
    note: &str,
) -> Error {
    Error::Migration(format!(
        "revision {} failed at {}:{}: {}{note}",
        revision.id,
        path.display(),
        statement.line,
        one_line(message)
    ))
}

fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default();
    if line.chars().count() > 60 {
        format!("{}...", line.chars().take(60).collect::<String>())
    } else {
        line.to_owned()
    }
}

pub(crate) fn exec(conn: &mut Connection, sql: &str, what: &str) -> Result<()> {
    conn.batch_execute(sql).map_err(|e| Error::Query {
        context: what.to_owned(),
        message: one_line(&e.to_string()),
    })
}

pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
