//! Running one revision's SQL: statement by statement (so an error names file and line),
//! inside one transaction with its bookkeeping where the backend can roll DDL back, and
//! otherwise journaled statement by statement in the companion table, so a failure or a
//! killed process leaves "statements 1–2 of 5" recorded, and `--resume` continues at the
//! first statement that did not complete. Where the session holds the migration lock for
//! the whole run, a journaled revision's first journal row goes in the commit that records
//! the revision before it (`Ahead`): one durable commit less per revision, and a kill
//! between the two leaves what a kill after that row's own commit would.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::Connection;
use crate::error::{Error, Result, one_line};
use crate::journal::{Ledger, RecordState, RevisionRecord, is_applied};
use crate::lock::begin_exclusive;
use crate::script::{Revision, RevisionTexts, checksum, read_sql_file};
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
    /// The file a revision runs this way: `up.sql` or `down.sql`.
    pub fn path_of(self, revision: &Revision) -> PathBuf {
        match self {
            Direction::Up => revision.up_path(),
            Direction::Down => revision.down_path(),
        }
    }

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
    pub text: Arc<str>,
    /// Its statements.
    pub statements: Vec<Statement>,
}

impl RevisionFile {
    /// Reads and splits a revision's file for `direction`.
    pub fn read(revision: &Revision, direction: Direction, conn: &Connection) -> Result<Self> {
        let path = direction.path_of(revision);
        let text = read_sql_file(&path)?.into();
        Self::split(path, text, conn.backend())
    }

    /// A revision's file for `direction` as `texts` has it (read once per run), split.
    pub fn from_texts(
        texts: &RevisionTexts,
        revision: &Revision,
        direction: Direction,
        backend: crate::Backend,
    ) -> Result<Self> {
        let path = direction.path_of(revision);
        let text = texts.read(&path)?;
        Self::split(path, text, backend)
    }

    fn split(path: PathBuf, text: Arc<str>, backend: crate::Backend) -> Result<Self> {
        let statements = split_file(&path, &text, backend)?;
        Ok(RevisionFile {
            path,
            text,
            statements,
        })
    }
}

/// One revision to run one way: its file, read and split, and its companion row.
pub(crate) struct Job<'a> {
    /// The revision.
    pub revision: &'a Revision,
    /// Which way.
    pub direction: Direction,
    /// The file that runs.
    pub file: RevisionFile,
    /// Its companion row, if any.
    pub record: Option<&'a RevisionRecord>,
    /// How many statements a journaled run already completed (`--resume`).
    pub resume_from: Option<usize>,
}

/// The first journal row of the revision that runs next, written in the commit that
/// records the one before it (one durable commit less per revision), and how to take it
/// back. A run killed between that commit and the next revision's first statement leaves
/// what a kill right after a journal's own first commit leaves: the revision started, no
/// statement completed, the first one perhaps running.
pub(crate) struct Ahead {
    start: String,
    undo: String,
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
        let job = Job {
            revision,
            direction,
            file: RevisionFile::read(revision, direction, conn)?,
            record,
            resume_from,
        };
        self.run_job(conn, &job, false, None)
    }

    /// Runs a job. `started`: its journal's first row was written ahead (in the commit of
    /// the revision before it); `ahead`: the next revision's, for this one's commit.
    pub fn run_job(
        &self,
        conn: &mut Connection,
        job: &Job<'_>,
        started: bool,
        ahead: Option<&Ahead>,
    ) -> Result<Option<Step>> {
        let (revision, direction, file) = (job.revision, job.direction, &job.file);
        if file.statements.is_empty() {
            self.reporter.warn(format!(
                "revision {}: {} holds no SQL statement; {} as a no-op",
                revision.id,
                file.path.display(),
                direction.done_verb()
            ));
        }
        let run = Run {
            runner: self,
            revision,
            direction,
            file,
            ahead,
            started: Instant::now(),
            times: RefCell::new(Vec::new()),
        };
        let done = if !self.journaled(conn, job) {
            run.in_transaction(conn)?
        } else {
            let done = run.journaled(conn, job.record, job.resume_from, started);
            // Its statements ran on the session itself (SQLite's rebuild turns foreign keys
            // back on at the end): later revisions get the session a new run would.
            let reset = self.reset_session(conn);
            let done = done?;
            if reset.is_err()
                && let Some(ahead) = ahead
            {
                // The next revision will not start: its journal row goes again.
                let _ = conn.batch_execute(&ahead.undo);
            }
            reset?;
            done
        };
        Ok(done.then(|| Step {
            id: revision.id.clone(),
            message: revision.message.clone(),
            direction,
            elapsed: run.started.elapsed(),
            statements: run.times.into_inner(),
        }))
    }

    /// Whether a job runs statement by statement with a journal (the backend cannot roll
    /// DDL back, the revision opts out of a transaction, or a journaled run resumes).
    fn journaled(&self, conn: &Connection, job: &Job<'_>) -> bool {
        !(conn.dialect().transactional_ddl()
            && job.revision.run_in_transaction
            && job.resume_from.is_none())
    }

    /// The journal start of `next` to write ahead, in the commit of the revision before it:
    /// only for a fresh journaled run, and only where the session holds the migration lock
    /// for the whole run (SQLite's per-revision lock re-checks first).
    pub fn ahead(&self, conn: &Connection, next: &Job<'_>) -> Option<Ahead> {
        if !self.journaled(conn, next)
            || next.resume_from.is_some()
            || conn.dialect().locks_per_transaction()
        {
            return None;
        }
        Some(Ahead {
            start: self.journal_start(next.revision, next.direction, &next.file, next.record, 0),
            undo: self.undo_start(next.revision, next.direction, next.record),
        })
    }

    /// The journal's first row: `from` statements of the file completed.
    fn journal_start(
        &self,
        revision: &Revision,
        direction: Direction,
        file: &RevisionFile,
        record: Option<&RevisionRecord>,
        from: usize,
    ) -> String {
        let state = match direction {
            Direction::Up => RecordState::Applying,
            Direction::Down => RecordState::Reverting,
        };
        let checksum = (direction == Direction::Up).then(|| checksum(&file.text));
        self.ledger.start_journal(
            &revision.id,
            checksum.as_deref(),
            state,
            from,
            file.statements.len(),
            record.is_some(),
        )
    }

    /// Takes back the first row of a fresh journal whose first statement did not run:
    /// the row goes, or (a revert) the applied revision's row is as it was.
    fn undo_start(
        &self,
        revision: &Revision,
        direction: Direction,
        record: Option<&RevisionRecord>,
    ) -> String {
        match (direction, record) {
            (Direction::Down, Some(r)) => {
                self.ledger
                    .set_checksum(&revision.id, r.checksum.as_deref(), r.state)
            }
            _ => self.ledger.delete_record(&revision.id),
        }
    }

    /// Sets the connection up again as [`Connection::establish`] and the migration session
    /// leave it (SQLite: foreign keys off, the lock timeout).
    fn reset_session(&self, conn: &mut Connection) -> Result<()> {
        let dialect = conn.dialect();
        let Some(setup) = dialect.connection_setup() else {
            return Ok(());
        };
        // The set-up's own wait for other writers gives way to the run's lock timeout.
        let setup: Vec<String> = std::iter::once(setup.trim_end().trim_end_matches(';').to_owned())
            .chain(dialect.wait_for_locks(self.lock_timeout))
            .collect();
        exec(conn, &setup.join(";\n"), "setting the session up again")
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

/// One revision running one way.
struct Run<'a> {
    runner: &'a Runner<'a>,
    revision: &'a Revision,
    direction: Direction,
    file: &'a RevisionFile,
    /// The next revision's journal start, for this one's commit.
    ahead: Option<&'a Ahead>,
    started: Instant,
    /// How long each statement ran, as they run.
    times: RefCell<Vec<StatementTime>>,
}

impl Run<'_> {
    /// Runs one statement of the file, timing it.
    fn execute(&self, conn: &mut Connection, statement: &Statement) -> diesel::QueryResult<()> {
        self.execute_after(conn, None, statement)
    }

    /// Runs one statement of the file after `before` (which cannot fail on its own, such as
    /// `BEGIN`) in the same round trip, timing both.
    fn execute_after(
        &self,
        conn: &mut Connection,
        before: Option<&str>,
        statement: &Statement,
    ) -> diesel::QueryResult<()> {
        let began = Instant::now();
        let ran = match before {
            Some(before) => conn.batch_execute(&format!("{before};\n{}", statement.sql)),
            None => conn.batch_execute(&statement.sql),
        };
        self.times.borrow_mut().push(StatementTime {
            line: statement.line,
            sql: statement.sql.clone(),
            elapsed: began.elapsed(),
        });
        ran
    }

    /// The statements, the version row and the companion row in one transaction. Where no
    /// lock is taken with it, `BEGIN` goes in the first statement's round trip (or, with no
    /// statement, in the bookkeeping's), so a one-statement revision takes two round trips.
    fn in_transaction(&self, conn: &mut Connection) -> Result<bool> {
        let dialect = conn.dialect();
        let mut begin = (!dialect.locks_per_transaction()).then(|| dialect.begin_transaction());
        if begin.is_none() && !self.begin(conn, true)? {
            return Ok(false);
        }
        for statement in &self.file.statements {
            self.runner.reporter.detail(&statement.sql);
            if let Err(e) = self.execute_after(conn, begin.take(), statement) {
                let _ = conn.batch_execute("ROLLBACK");
                let outcome = format!(
                    "; revision {} was rolled back, earlier revisions stay applied",
                    self.revision.id
                );
                return Err(self.failed(statement, outcome, e));
            }
        }
        let context = format!(
            "recording revision {} as {} (rolled back)",
            self.revision.id,
            self.direction.done_verb()
        );
        self.commit_bookkeeping(conn, begin.is_some(), false, context)?;
        Ok(true)
    }

    /// Opens the revision's transaction. SQLite's exclusive transaction is the lock: when
    /// `recheck`, it first looks whether another process got here first (then commits and
    /// returns false).
    fn begin(&self, conn: &mut Connection, recheck: bool) -> Result<bool> {
        let dialect = conn.dialect();
        if !dialect.locks_per_transaction() {
            exec(conn, dialect.begin_transaction(), "starting a transaction")?;
            return Ok(true);
        }
        begin_exclusive(conn, self.runner.lock_timeout)?;
        if recheck
            && self
                .runner
                .already_done(conn, self.revision, self.direction)?
        {
            exec(conn, "COMMIT", "committing")?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Statement by statement, recording before each one how many completed. `started`:
    /// the journal's first row was written ahead.
    fn journaled(
        &self,
        conn: &mut Connection,
        record: Option<&RevisionRecord>,
        resume_from: Option<usize>,
        started: bool,
    ) -> Result<bool> {
        let from = resume_from.unwrap_or(0).min(self.file.statements.len());
        if let Some(done) = resume_from {
            self.announce_resume(done, from);
        }
        if !started && !self.start_journal(conn, record, from, resume_from.is_none())? {
            return Ok(false);
        }
        let id = &self.revision.id;
        for (index, statement) in self.file.statements.iter().enumerate().skip(from) {
            if index > from {
                let progress = self.runner.ledger.progress(id, index);
                exec(conn, &progress, &format!("journaling revision {id}"))?;
            }
            self.runner.reporter.detail(&statement.sql);
            if let Err(e) = self.execute(conn, statement) {
                let first_run = index == 0 && resume_from.is_none();
                return Err(self.journaled_failure(conn, record, index, first_run, e));
            }
        }
        let context = format!(
            "recording revision {id} as {} (all its statements ran; `cargo dbrev {} --resume` records it)",
            self.direction.done_verb(),
            match self.direction {
                Direction::Up => "upgrade",
                Direction::Down => "downgrade",
            }
        );
        self.commit_bookkeeping(conn, true, true, context)?;
        Ok(true)
    }

    /// `Resuming c3 (2 statement(s) completed before) at statement 3 of 5 (…)`.
    fn announce_resume(&self, done: usize, from: usize) {
        let total = self.file.statements.len();
        let next = self.file.statements.get(from).map_or_else(
            || format!("nothing is left to run in {}", self.file.path.display()),
            |s| {
                format!(
                    "at statement {} of {total} ({}:{}: {})",
                    from + 1,
                    self.file.path.display(),
                    s.line,
                    first_line(&s.sql)
                )
            },
        );
        self.runner.reporter.status(
            "Resuming",
            format!(
                "{} ({done} statement(s) completed before) {next}",
                self.revision.id
            ),
        );
    }

    /// Writes the journal's first row (committed before any statement runs). Returns false
    /// when SQLite's re-check finds another process already did the revision.
    fn start_journal(
        &self,
        conn: &mut Connection,
        record: Option<&RevisionRecord>,
        from: usize,
        recheck: bool,
    ) -> Result<bool> {
        let start =
            self.runner
                .journal_start(self.revision, self.direction, self.file, record, from);
        let what = format!("journaling revision {}", self.revision.id);
        if !conn.dialect().locks_per_transaction() {
            exec(conn, &start, &what)?;
            return Ok(true);
        }
        if !self.begin(conn, recheck)? {
            return Ok(false);
        }
        let begun = exec(conn, &start, &what);
        if let Err(e) = begun.and_then(|()| exec(conn, "COMMIT", "committing")) {
            let _ = conn.batch_execute("ROLLBACK");
            return Err(e);
        }
        Ok(true)
    }

    /// A statement of a journaled run failed at `index`: when it was the first statement
    /// of a fresh run, nothing ran and the journal row goes; otherwise the error is noted
    /// in it and the partial state stays recorded.
    fn journaled_failure(
        &self,
        conn: &mut Connection,
        record: Option<&RevisionRecord>,
        index: usize,
        first_run: bool,
        error: diesel::result::Error,
    ) -> Error {
        let ledger = self.runner.ledger;
        let id = &self.revision.id;
        let outcome = if first_run {
            let undo = self
                .runner
                .undo_start(self.revision, self.direction, record);
            let _ = conn.batch_execute(&undo);
            format!("; no statement of {id} had run, the database is unchanged by it")
        } else {
            let _ = conn.batch_execute(&ledger.note(id, &one_line(&error)));
            partial_advice(
                self.revision,
                self.direction,
                &self.file.path,
                &self.file.statements,
                index,
            )
        };
        self.failed(&self.file.statements[index], outcome, error)
    }

    /// Writes the version row and the companion row (and the next revision's journal start,
    /// when written ahead) and commits, in one round trip: in the revision's own transaction
    /// (opened here when `begin`), or (`journaled`) in one of their own that finishes the
    /// journal. A failure rolls back.
    fn commit_bookkeeping(
        &self,
        conn: &mut Connection,
        begin: bool,
        journaled: bool,
        context: String,
    ) -> Result<()> {
        let ledger = self.runner.ledger;
        let id = &self.revision.id;
        let elapsed = self.started.elapsed().as_millis();
        let total = self.file.statements.len();
        let rows = match (self.direction, journaled) {
            (Direction::Up, false) => [
                ledger.insert_version(id),
                ledger.insert_record(
                    id,
                    Some(&checksum(&self.file.text)),
                    RecordState::Applied,
                    Some(elapsed),
                    total,
                ),
            ],
            (Direction::Up, true) => [
                ledger.insert_version(id),
                ledger.finish_journal(id, Some(&checksum(&self.file.text)), elapsed, total),
            ],
            (Direction::Down, _) => [ledger.delete_version(id), ledger.delete_record(id)],
        };
        let begin = if begin {
            format!("{};\n", conn.dialect().begin_transaction())
        } else {
            String::new()
        };
        let ahead = self
            .ahead
            .map(|a| format!("{};\n", a.start))
            .unwrap_or_default();
        let sql = format!("{begin}{};\n{};\n{ahead}COMMIT", rows[0], rows[1]);
        conn.batch_execute(&sql).map_err(|e| {
            let _ = conn.batch_execute("ROLLBACK");
            Error::sql(context, e)
        })
    }

    /// The error for a failed statement, with what it left (`outcome`).
    fn failed(
        &self,
        statement: &Statement,
        outcome: String,
        error: diesel::result::Error,
    ) -> Error {
        Error::RevisionFailed {
            revision: self.revision.id.clone(),
            path: self.file.path.clone(),
            line: statement.line,
            outcome,
            source: error.into(),
        }
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

fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default();
    if line.chars().count() > 60 {
        format!("{}...", line.chars().take(60).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Runs statements that return no rows; an error says what was being done.
pub(crate) fn exec(conn: &mut Connection, sql: &str, what: &str) -> Result<()> {
    conn.batch_execute(sql).map_err(|e| Error::sql(what, e))
}
