//! Applying and reverting revisions: the migration session (`session_sql`, lock timeout),
//! the lock around every run that writes, the state of diesel's version table and dbrev's
//! companion table (edited, unknown and partially applied revisions are stopped before
//! anything runs), and the plan each `upgrade`/`downgrade` runs. `stamp` and the offline
//! scripts live in `stamp.rs` and `offline.rs`.

use std::sync::Arc;

use crate::apply::{Job, RevisionFile, Runner, exec, line_span, split_file};
use crate::config::{Config, ConfigRequest};
use crate::db::Connection;
use crate::dialect::Dialect;
use crate::error::{Error, Result, one_line};
use crate::graph::{Applied, RevisionGraph};
use crate::graph_error::GraphError;
use crate::journal::{
    Ledger, RecordState, Records, RevisionRecord, ensure_tables, read_applied, read_records,
};
use crate::lock::MigrationLock;
use crate::script::{Revision, checksum};
use crate::target::Motion;
use crate::term::Reporter;

pub use crate::apply::{Direction, Step};

/// The marker autogenerate leaves where the user must supply a value.
pub const FILL_MARKER: &str = "/* FILL";

/// A migration environment: the configuration and its revision graph.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The loaded `dbrev.toml`.
    pub config: Config,
    /// The revisions in `version_locations`.
    pub graph: RevisionGraph,
}

/// How `upgrade` and `downgrade` run.
#[derive(Debug, Clone, Copy, Default)]
pub struct MigrateOptions {
    /// `--resume`: first finish the partially applied (or reverted) revision, from the
    /// first statement that did not complete.
    pub resume: bool,
}

/// What the version table and the companion table say.
#[derive(Debug, Clone)]
pub struct CurrentState {
    /// Every applied revision id.
    pub applied: Applied,
    /// Applied revisions no applied revision revises, in id order.
    pub heads: Vec<String>,
    /// Applied ids that have no revision directory.
    pub unknown: Vec<String>,
    /// The companion table's rows (checksums, applied at/by, journal).
    pub records: Records,
    /// Revisions a run left half-way (statements that cannot roll back).
    pub partial: Vec<PartialRun>,
}

/// A revision whose journaled run stopped half-way.
#[derive(Debug, Clone)]
pub struct PartialRun {
    /// The revision id.
    pub id: String,
    /// Which file was running.
    pub direction: Direction,
    /// The file.
    pub path: std::path::PathBuf,
    /// How many statements completed.
    pub done: usize,
    /// How many statements the file had.
    pub total: usize,
    /// Lines of the completed statements and of the next one (from the file as it is now).
    pub lines: Option<(String, Option<usize>)>,
    /// The error that stopped it, when it failed rather than being killed.
    pub note: Option<String>,
}

impl PartialRun {
    /// `c3 partially applied: statements 1–2 of 5 completed (…/up.sql lines 8–9); …`.
    pub fn describe(&self) -> String {
        let completed = if self.done == 0 {
            format!("no statement of {} completed", self.total)
        } else {
            format!("statements 1–{} of {} completed", self.done, self.total)
        };
        let (lines, next_line) = match &self.lines {
            Some((lines, next)) => (format!(" {lines}"), *next),
            None => (String::new(), None),
        };
        let next = match (next_line, &self.note) {
            (Some(line), Some(note)) => {
                format!("; statement {} (line {line}) failed: {note}", self.done + 1)
            }
            (Some(line), None) => format!(
                "; statement {} (line {line}) was running when the run stopped and may or may not have taken effect",
                self.done + 1
            ),
            (None, _) => "; every statement completed, the run was not recorded".into(),
        };
        format!(
            "{} partially {}: {completed} ({}{lines}){next}",
            self.id,
            self.direction.done_verb(),
            self.path.display()
        )
    }

    /// What to do about it, for a command going `command`'s way.
    pub fn advice(&self, command: Direction) -> String {
        let next = self.done + 1;
        match (command, self.direction) {
            (Direction::Up, Direction::Up) => format!(
                "; fix the file and run `cargo dbrev upgrade --resume` (it continues at statement {next}), or undo the completed statements by hand and run `cargo dbrev stamp current`"
            ),
            (Direction::Down, Direction::Up) => "; downgrade will not revert a revision that is only partly applied: finish it with `cargo dbrev upgrade --resume`, or undo its statements by hand and run `cargo dbrev stamp current`".to_owned(),
            (Direction::Up, Direction::Down) => format!(
                "; finish the revert with `cargo dbrev downgrade --resume`, or redo its statements by hand and run `cargo dbrev stamp {}`",
                self.id
            ),
            (Direction::Down, Direction::Down) => format!(
                "; fix the file and run `cargo dbrev downgrade --resume TARGET` (it continues at statement {next}), or finish reverting by hand and run `cargo dbrev stamp {}-1`",
                self.id
            ),
        }
    }
}

/// An applied revision whose `up.sql` changed since it ran.
#[derive(Debug, Clone)]
pub struct EditedRevision {
    /// The revision id.
    pub id: String,
    /// Its `up.sql`.
    pub path: std::path::PathBuf,
    /// When it was applied, if known.
    pub applied_at: Option<String>,
}

impl EditedRevision {
    /// `…/up.sql: revision X changed since it was applied (on …)`.
    pub fn describe(&self) -> String {
        format!(
            "{}: revision {} changed since it was applied{}",
            self.path.display(),
            self.id,
            self.applied_at
                .as_ref()
                .map(|at| format!(" on {at}"))
                .unwrap_or_default()
        )
    }
}

/// The state a locked run works from.
pub(crate) struct RunState {
    /// The applied revision ids.
    pub applied: Applied,
    /// The companion table's rows.
    pub records: Records,
}

impl Environment {
    /// Loads the configuration and the revision graph.
    pub fn load(request: &ConfigRequest) -> Result<Environment> {
        Self::from_config(Config::load(request)?)
    }

    /// Reads the revision graph of a loaded configuration.
    pub fn from_config(config: Config) -> Result<Environment> {
        let graph = RevisionGraph::load(&config.versions_dir)?;
        Ok(Environment { config, graph })
    }

    /// Opens a migration session on the configured database: how long it waits for other
    /// writers (`lock_timeout`), then every `session_sql` statement from dbrev.toml.
    pub fn connect(&self) -> Result<Connection> {
        let mut conn = Connection::establish(&self.config.database_url)?;
        let dialect = conn.dialect();
        let setup: Vec<String> = dialect
            .wait_for_locks(self.config.lock_timeout)
            .into_iter()
            .chain(dialect.session_setup().map(str::to_owned))
            .collect();
        if !setup.is_empty() {
            exec(&mut conn, &setup.join(";\n"), "setting up the session")?;
        }
        for sql in &self.config.session_sql {
            conn.batch_execute(sql).map_err(|e| {
                Error::sql(
                    format!(
                        "{}: session_sql `{}`",
                        self.config.location.file.display(),
                        one_line(sql)
                    ),
                    e,
                )
            })?;
        }
        Ok(conn)
    }

    /// Reads the version table and the companion table; creates nothing.
    pub fn current(&self, conn: &mut Connection) -> Result<CurrentState> {
        let applied = read_applied(conn, &self.config.version_table)?;
        let records = read_records(conn, &self.config.revisions_table)?;
        Ok(self.state_of(applied, records, conn.backend()))
    }

    pub(crate) fn state_of(
        &self,
        applied: Applied,
        records: Records,
        backend: crate::Backend,
    ) -> CurrentState {
        let heads = self
            .graph
            .current_heads(&applied)
            .iter()
            .map(|r| r.id.clone())
            .collect();
        let unknown = applied
            .iter()
            .filter(|id| self.graph.get(id).is_none())
            .cloned()
            .collect();
        let partial = records
            .values()
            .filter(|r| r.state.is_partial())
            .map(|r| self.partial_run(r, backend))
            .collect();
        CurrentState {
            applied,
            heads,
            unknown,
            records,
            partial,
        }
    }

    fn partial_run(&self, record: &RevisionRecord, backend: crate::Backend) -> PartialRun {
        let direction = if record.state == RecordState::Applying {
            Direction::Up
        } else {
            Direction::Down
        };
        let revision = self.graph.get(&record.version);
        let path = revision.map_or_else(
            || self.config.versions_dir.join(&record.version),
            |r| direction.path_of(r),
        );
        let lines = self
            .graph
            .texts()
            .read(&path)
            .ok()
            .and_then(|text| split_file(&path, &text, backend).ok())
            .map(|statements| {
                let done = record.statements_done.min(statements.len());
                (
                    line_span(&statements[..done]),
                    statements.get(done).map(|s| s.line),
                )
            });
        PartialRun {
            id: record.version.clone(),
            direction,
            path,
            done: record.statements_done,
            total: record.statements_total,
            lines,
            note: record.note.clone(),
        }
    }

    /// Applied revisions whose `up.sql` changed since they ran (by their recorded checksum).
    pub fn edited_revisions(&self, state: &CurrentState) -> Result<Vec<EditedRevision>> {
        let mut edited = Vec::new();
        for record in state.records.values() {
            let (Some(sum), Some(revision)) = (&record.checksum, self.graph.get(&record.version))
            else {
                continue;
            };
            if record.state.is_partial() || !state.applied.contains(&record.version) {
                continue;
            }
            let path = revision.up_path();
            if checksum(&self.graph.texts().read(&path)?) != *sum {
                edited.push(EditedRevision {
                    id: record.version.clone(),
                    path,
                    applied_at: record.applied_at_text(),
                });
            }
        }
        Ok(edited)
    }

    /// Applies every missing ancestor of `target`, in graph order, each in its own
    /// transaction where the backend allows, under the migration lock.
    pub fn upgrade(
        &self,
        conn: &mut Connection,
        target: &str,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.upgrade_with(conn, target, MigrateOptions::default(), reporter)
    }

    /// [`Self::upgrade`] with options (`--resume`).
    pub fn upgrade_with(
        &self,
        conn: &mut Connection,
        target: &str,
        options: MigrateOptions,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.migrate(conn, target, Direction::Up, options, reporter)
    }

    /// Reverts the applied revisions above `target` on its branch, newest first (alembic's
    /// rule). A missing or 0-byte `down.sql` on the way is an error before anything runs.
    pub fn downgrade(
        &self,
        conn: &mut Connection,
        target: &str,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.downgrade_with(conn, target, MigrateOptions::default(), reporter)
    }

    /// [`Self::downgrade`] with options (`--resume`).
    pub fn downgrade_with(
        &self,
        conn: &mut Connection,
        target: &str,
        options: MigrateOptions,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.migrate(conn, target, Direction::Down, options, reporter)
    }

    /// Checks the state, plans the way to `target`, checks every file on it before running
    /// anything, runs.
    fn migrate(
        &self,
        conn: &mut Connection,
        target: &str,
        direction: Direction,
        options: MigrateOptions,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.locked(conn, reporter, |env, conn, run| {
            env.refuse_unknown(run)?;
            let state = env.state_of(run.applied.clone(), run.records.clone(), conn.backend());
            let resumable = env.check_partial(&state, direction, options.resume)?;
            env.check_edits(&state, direction, reporter)?;
            let ledger = env.ledger(conn.dialect());
            let runner = Runner {
                ledger: &ledger,
                version_table: &env.config.version_table,
                lock_timeout: env.config.lock_timeout,
                reporter,
            };
            let mut steps = env.resume(conn, &runner, &resumable, direction, run)?;
            let plan = env.plan(target, direction, &run.applied)?;
            for revision in &plan {
                env.check_runnable(revision, direction)?;
            }
            if direction == Direction::Up {
                env.lint_before_upgrade(conn, &plan, reporter)?;
            }
            env.run_plan(conn, &runner, &plan, direction, &run.records, &mut steps)?;
            if steps.is_empty() {
                env.report_nothing_to_do(target, direction, &run.applied, reporter);
            }
            Ok(steps)
        })
    }

    /// `--resume`: finishes the partially applied (or reverted) revisions first.
    fn resume(
        &self,
        conn: &mut Connection,
        runner: &Runner<'_>,
        resumable: &[PartialRun],
        direction: Direction,
        run: &mut RunState,
    ) -> Result<Vec<Step>> {
        let mut steps = Vec::new();
        for partial in resumable {
            let revision = self
                .graph
                .get(&partial.id)
                .ok_or_else(|| self.cannot_locate(&partial.id))?;
            self.check_runnable(revision, direction)?;
            let job = Job {
                revision,
                direction,
                file: RevisionFile::from_texts(
                    self.graph.texts(),
                    revision,
                    direction,
                    conn.backend(),
                )?,
                record: run.records.get(&partial.id),
                resume_from: Some(partial.done),
            };
            if let Some(step) = runner.run_job(conn, &job, false, None)? {
                report_step(runner.reporter, &step);
                steps.push(step);
            }
            match direction {
                Direction::Up => run.applied.insert(partial.id.clone()),
                Direction::Down => run.applied.remove(&partial.id),
            };
            run.records.remove(&partial.id);
        }
        Ok(steps)
    }

    /// Runs the plan in order. Each revision's file is read and split before the revision
    /// before it commits, so that its journal's first row can go in that commit
    /// ([`Runner::ahead`]).
    fn run_plan(
        &self,
        conn: &mut Connection,
        runner: &Runner<'_>,
        plan: &[&Revision],
        direction: Direction,
        records: &Records,
        steps: &mut Vec<Step>,
    ) -> Result<()> {
        let backend = conn.backend();
        let job = |revision| -> Result<Job<'_>> {
            Ok(Job {
                revision,
                direction,
                file: RevisionFile::from_texts(self.graph.texts(), revision, direction, backend)?,
                record: records.get(&revision.id),
                resume_from: None,
            })
        };
        let mut prepared = None;
        let mut started = false;
        for (i, revision) in plan.iter().enumerate() {
            let this = match prepared.take() {
                Some(job) => job,
                None => job(revision)?,
            };
            // A next file that does not split stops the run when its turn comes.
            let next = plan.get(i + 1).and_then(|r| job(r).ok());
            let ahead = next.as_ref().and_then(|n| runner.ahead(conn, n));
            let step = runner.run_job(conn, &this, started, ahead.as_ref())?;
            started = ahead.is_some() && step.is_some();
            if let Some(step) = step {
                report_step(runner.reporter, &step);
                steps.push(step);
            }
            prepared = next;
        }
        Ok(())
    }

    /// Refuses, before anything runs, a revision that cannot run this way: a `down.sql` that
    /// cannot revert, an unfilled marker (the file read once, kept for the run).
    pub(crate) fn check_runnable(&self, revision: &Revision, direction: Direction) -> Result<()> {
        let path = direction.path_of(revision);
        let text = match direction {
            Direction::Up => self.graph.texts().read(&path)?,
            Direction::Down => self.check_revertible(revision)?,
        };
        if let Some((line, _)) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(FILL_MARKER) && !l.trim_start().starts_with("--"))
        {
            return Err(Error::Migration(format!(
                "{}:{}: revision {} still has an unfilled FILL marker; replace it with a value or expression, then run again",
                path.display(),
                line + 1,
                revision.id
            )));
        }
        Ok(())
    }

    /// A revision can be reverted when `down.sql` exists and is not 0 bytes, as diesel has
    /// it (one holding only comments reverts as a no-op, with a warning when it runs);
    /// returns its text.
    pub(crate) fn check_revertible(&self, revision: &Revision) -> Result<Arc<str>> {
        let down = revision.down_path();
        match self.graph.texts().read_if_exists(&down)? {
            Some(text) if !text.is_empty() => Ok(text),
            Some(_) => Err(Error::Migration(format!(
                "revision {} cannot be reverted: {} is empty (0 bytes; diesel refuses it too); write the SQL that undoes up.sql, or a comment such as `-- irreversible: nothing to undo` to revert it as a no-op. Nothing was reverted",
                revision.id,
                down.display()
            ))),
            None => Err(Error::Migration(format!(
                "revision {} cannot be reverted: {} does not exist; nothing was reverted",
                revision.id,
                down.display()
            ))),
        }
    }

    /// The revisions to run to reach `target` from `applied`, in order.
    fn plan(
        &self,
        target: &str,
        direction: Direction,
        applied: &Applied,
    ) -> Result<Vec<&Revision>> {
        Ok(match direction {
            Direction::Up => {
                let d = self.graph.destination(target, applied, Motion::Up)?;
                self.graph.upgrade_plan(&d.ids, applied)
            }
            Direction::Down => {
                let d = self.graph.destination(target, applied, Motion::Down)?;
                self.graph.downgrade_plan(&d, applied)?
            }
        })
    }

    /// `Nothing to do`, saying when the database is past an upgrade's target.
    fn report_nothing_to_do(
        &self,
        target: &str,
        direction: Direction,
        applied: &Applied,
        reporter: &Reporter,
    ) {
        let past = direction == Direction::Up
            && self
                .graph
                .destination(target, applied, Motion::Up)
                .is_ok_and(|d| {
                    d.ids.iter().any(|id| {
                        self.graph
                            .children(id)
                            .iter()
                            .any(|c| applied.contains(&c.id))
                    })
                });
        if past {
            reporter.note(
                "Nothing",
                format!("to do: the database is past `{target}`; `cargo dbrev downgrade {target}` goes back"),
            );
        } else {
            reporter.note("Nothing", "to do: the database is already there");
        }
    }

    pub(crate) fn ledger(&self, dialect: &'static dyn Dialect) -> Ledger {
        Ledger::new(
            dialect,
            &self.config.version_table,
            &self.config.revisions_table,
        )
    }

    /// Takes the lock, makes sure both tables exist, reads and reconciles them, runs
    /// `work`, and releases the lock whatever happened.
    pub(crate) fn locked<T>(
        &self,
        conn: &mut Connection,
        reporter: &Reporter,
        work: impl FnOnce(&Self, &mut Connection, &mut RunState) -> Result<T>,
    ) -> Result<T> {
        let lock = MigrationLock::acquire(
            conn,
            &self.config.version_table,
            self.config.lock_timeout,
            reporter,
        )?;
        let result = match self.setup(conn, reporter) {
            Ok(mut run) => lock
                .end_setup(conn)
                .and_then(|()| work(self, conn, &mut run)),
            Err(e) => {
                lock.abandon_setup(conn);
                Err(e)
            }
        };
        let released = lock.release(conn);
        let value = result?;
        released?;
        Ok(value)
    }

    /// Creates missing tables, reads both, and brings the companion table in line with
    /// diesel's: revisions applied without dbrev get their checksum recorded now (adopted),
    /// rows of revisions reverted without dbrev go.
    fn setup(&self, conn: &mut Connection, reporter: &Reporter) -> Result<RunState> {
        ensure_tables(
            conn,
            &self.config.version_table,
            &self.config.revisions_table,
        )?;
        let applied = read_applied(conn, &self.config.version_table)?;
        let records = read_records(conn, &self.config.revisions_table)?;
        let ledger = self.ledger(conn.dialect());
        let file_sum = |id: &str| -> Result<Option<String>> {
            match self.graph.get(id) {
                Some(r) => Ok(Some(checksum(&self.graph.texts().read(&r.up_path())?))),
                None => Ok(None),
            }
        };
        let mut sql = Vec::new();
        let mut adopt = Vec::new();
        for id in &applied {
            match records.get(id) {
                None => adopt.push((id.clone(), file_sum(id)?)),
                Some(r) if r.state == RecordState::Applying || r.checksum.is_none() => {
                    // Finished outside dbrev (diesel), or its file is back: record it now.
                    if let Some(sum) = file_sum(id)? {
                        let state = if r.state == RecordState::Applying {
                            RecordState::Adopted
                        } else {
                            r.state
                        };
                        sql.push(ledger.set_checksum(id, Some(&sum), state));
                    }
                }
                Some(_) => {}
            }
        }
        for record in records.values() {
            if !applied.contains(&record.version) && record.state != RecordState::Applying {
                sql.push(ledger.delete_record(&record.version));
            }
        }
        if !adopt.is_empty() {
            reporter.note(
                "Recorded",
                format!(
                    "the checksums of {} revision(s) applied before dbrev's table {} knew them",
                    adopt.len(),
                    self.config.revisions_table
                ),
            );
            sql.extend(ledger.adopt(&adopt));
        }
        if sql.is_empty() {
            return Ok(RunState { applied, records });
        }
        exec(
            conn,
            &sql.join(";\n"),
            &format!("updating {}", self.config.revisions_table),
        )?;
        let records = read_records(conn, &self.config.revisions_table)?;
        Ok(RunState { applied, records })
    }

    fn cannot_locate(&self, id: &str) -> Error {
        GraphError::CannotLocate {
            id: id.to_owned(),
            version_table: self.config.version_table.clone(),
            versions_dir: self.config.versions_dir.clone(),
        }
        .into()
    }

    fn refuse_unknown(&self, run: &RunState) -> Result<()> {
        match run.applied.iter().find(|id| self.graph.get(id).is_none()) {
            Some(id) => Err(self.cannot_locate(id)),
            None => Ok(()),
        }
    }

    /// Refuses to run past a partially applied or reverted revision; with `--resume`,
    /// returns the ones to finish first (in this direction).
    fn check_partial(
        &self,
        state: &CurrentState,
        direction: Direction,
        resume: bool,
    ) -> Result<Vec<PartialRun>> {
        let mut resumable = Vec::new();
        for partial in &state.partial {
            if resume && partial.direction == direction {
                resumable.push(partial.clone());
                continue;
            }
            return Err(Error::Refused(format!(
                "{}{}",
                partial.describe(),
                partial.advice(direction)
            )));
        }
        if resume && resumable.is_empty() {
            return Err(Error::Usage(format!(
                "nothing to resume: no revision is partially {}",
                direction.done_verb()
            )));
        }
        Ok(resumable)
    }

    /// Upgrade refuses to run while an applied revision's file differs from what ran;
    /// downgrade warns.
    fn check_edits(
        &self,
        state: &CurrentState,
        direction: Direction,
        reporter: &Reporter,
    ) -> Result<()> {
        let edited = self.edited_revisions(state)?;
        let Some(first) = edited.first() else {
            return Ok(());
        };
        if direction == Direction::Down {
            for e in &edited {
                reporter.warn(e.describe());
            }
            return Ok(());
        }
        let more = if edited.len() > 1 {
            format!(
                " (and {} more: {})",
                edited.len() - 1,
                edited[1..]
                    .iter()
                    .map(|e| e.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        Err(Error::Refused(format!(
            "{}{more}; applied history must not change unnoticed: restore the file, or if the edit is intended (the database already has what it does), accept it with `cargo dbrev stamp --accept-edits {}`",
            first.describe(),
            first.id
        )))
    }
}

fn report_step(reporter: &Reporter, step: &Step) {
    let verb = match step.direction {
        Direction::Up => "Applied",
        Direction::Down => "Reverted",
    };
    reporter.status(
        verb,
        format!(
            "{} {} ({} ms)",
            step.id,
            step.message,
            step.elapsed.as_millis()
        ),
    );
}
