//! Applying and reverting revisions: the version table, the migration lock, one
//! transaction per revision where the backend can roll DDL back, statement-by-statement
//! execution with file and line in every error, and offline `--sql` scripts.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{Config, ConfigRequest};
use crate::db::{Connection, ValueRow};
use crate::dialect::Dialect;
use crate::error::{Error, IoContext, Result};
use crate::graph::{Applied, RevisionGraph};
use crate::script::Revision;
use crate::statements::{Statement, split_str};
use crate::term::Reporter;

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

/// Which way a revision runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `up.sql`.
    Up,
    /// `down.sql`.
    Down,
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
}

/// What the version table says.
#[derive(Debug, Clone)]
pub struct CurrentState {
    /// Every applied revision id.
    pub applied: Applied,
    /// Applied revisions no applied revision revises, in id order.
    pub heads: Vec<String>,
    /// Applied ids that have no revision directory.
    pub unknown: Vec<String>,
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

    /// Connects to the configured database.
    pub fn connect(&self) -> Result<Connection> {
        Connection::establish(&self.config.database_url)
    }

    /// Reads the version table (an absent table means nothing is applied).
    pub fn current(&self, conn: &mut Connection) -> Result<CurrentState> {
        let applied = VersionTable::new(conn, &self.config.version_table).applied()?;
        Ok(self.state_of(applied))
    }

    fn state_of(&self, applied: Applied) -> CurrentState {
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
        CurrentState {
            applied,
            heads,
            unknown,
        }
    }

    /// Applies every missing ancestor of `target`, in graph order, each in its own
    /// transaction where the backend allows, under the migration lock.
    pub fn upgrade(
        &self,
        conn: &mut Connection,
        target: &str,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.migrate(conn, target, Direction::Up, reporter)
    }

    /// Reverts, newest first, every applied revision that is not an ancestor of `target`.
    /// A missing or empty `down.sql` on the way is an error before anything runs.
    pub fn downgrade(
        &self,
        conn: &mut Connection,
        target: &str,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.migrate(conn, target, Direction::Down, reporter)
    }

    /// Plans the way to `target`, checks every file on it before running anything, runs.
    fn migrate(
        &self,
        conn: &mut Connection,
        target: &str,
        direction: Direction,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        self.with_lock(conn, |env, conn, applied| {
            let plan = match direction {
                Direction::Up => {
                    let d = env
                        .graph
                        .destination(target, applied, crate::target::Motion::Up)?;
                    env.graph.upgrade_plan(&d.ids, applied)
                }
                Direction::Down => {
                    let d = env
                        .graph
                        .destination(target, applied, crate::target::Motion::Down)?;
                    env.graph.downgrade_plan(&d, applied)?
                }
            };
            for revision in &plan {
                if direction == Direction::Down {
                    check_revertible(revision, conn.dialect())?;
                }
                check_filled(revision, direction)?;
            }
            env.run_plan(conn, &plan, direction, reporter)
        })
    }

    /// Sets the version table to `target` without running any SQL. With `purge`, every
    /// row is deleted first (also rows of unknown revisions).
    pub fn stamp(
        &self,
        conn: &mut Connection,
        target: &str,
        purge: bool,
        reporter: &Reporter,
    ) -> Result<()> {
        self.with_lock(conn, |env, conn, applied| {
            if !purge {
                let unknown: Vec<&String> =
                    applied.iter().filter(|id| env.graph.get(id).is_none()).collect();
                if !unknown.is_empty() {
                    return Err(Error::Target(format!(
                        "the version table holds revisions with no directory ({}); use `stamp --purge`",
                        unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            let targets = env.graph.resolve(target, applied)?;
            let wanted = env.graph.ancestors(targets.iter().map(String::as_str));
            let mut table = VersionTable::new(conn, &env.config.version_table);
            if purge {
                table.clear()?;
            }
            let current: &BTreeSet<String> = if purge { &BTreeSet::new() } else { applied };
            for id in current.difference(&wanted) {
                table.remove(id)?;
                reporter.status("Unstamped", id);
            }
            for revision in env.graph.revisions() {
                if wanted.contains(&revision.id) && !current.contains(&revision.id) {
                    table.record(&revision.id)?;
                    reporter.status("Stamped", format!("{} {}", revision.id, revision.message));
                }
            }
            Ok(Vec::new())
        })
        .map(|_| ())
    }

    /// Takes the lock, makes sure the version table exists, reads it, runs `work`, and
    /// releases the lock whatever happened.
    fn with_lock(
        &self,
        conn: &mut Connection,
        work: impl FnOnce(&Self, &mut Connection, &Applied) -> Result<Vec<Step>>,
    ) -> Result<Vec<Step>> {
        let dialect = conn.dialect();
        let lock_name = format!("dbrev:{}", self.config.version_table);
        if let Some(sql) = dialect.acquire_lock(&lock_name) {
            conn.batch_execute(&sql).map_err(|e| Error::Query {
                context: "taking the migration lock".into(),
                message: e.to_string(),
            })?;
        }
        let result = (|| {
            let mut table = VersionTable::new(conn, &self.config.version_table);
            table.ensure()?;
            let applied = table.applied()?;
            work(self, conn, &applied)
        })();
        if let Some(sql) = dialect.release_lock(&lock_name) {
            let released = conn.batch_execute(&sql);
            if result.is_ok() {
                released.map_err(|e| Error::Query {
                    context: "releasing the migration lock".into(),
                    message: e.to_string(),
                })?;
            }
        }
        result
    }

    fn run_plan(
        &self,
        conn: &mut Connection,
        plan: &[&Revision],
        direction: Direction,
        reporter: &Reporter,
    ) -> Result<Vec<Step>> {
        let mut steps = Vec::with_capacity(plan.len());
        for revision in plan {
            let started = Instant::now();
            let ran = run_revision(
                conn,
                revision,
                direction,
                &self.config.version_table,
                reporter,
            )?;
            if !ran {
                continue;
            }
            let step = Step {
                id: revision.id.clone(),
                message: revision.message.clone(),
                direction,
                elapsed: started.elapsed(),
            };
            let verb = match direction {
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
            steps.push(step);
        }
        if steps.is_empty() {
            reporter.note("Nothing", "to do: the database is already there");
        }
        Ok(steps)
    }

    /// The offline script for `upgrade --sql FROM:TO` (FROM defaults to base): version
    /// table, transaction control and every revision's SQL, without connecting.
    pub fn upgrade_sql(&self, backend: crate::Backend, range: &str) -> Result<String> {
        let (from, to) = split_range(range);
        let applied = self.offline_state(from)?;
        let targets = self.graph.resolve(to, &applied)?;
        let plan = self.graph.upgrade_plan(&targets, &applied);
        self.offline_script(backend, &plan, Direction::Up)
    }

    /// The offline script for `downgrade --sql FROM:TO`.
    pub fn downgrade_sql(&self, backend: crate::Backend, range: &str) -> Result<String> {
        let (from, to) = split_range(range);
        let Some(from) = from else {
            return Err(Error::Usage(
                "downgrade --sql needs a range FROM:TO (the offline script cannot ask the database where it is)".into(),
            ));
        };
        let applied = self.offline_state(Some(from))?;
        let d = self
            .graph
            .destination(to, &applied, crate::target::Motion::Down)?;
        let plan = self.graph.downgrade_plan(&d, &applied)?;
        let dialect = crate::dialect::dialect_for(backend);
        for revision in &plan {
            check_revertible(revision, dialect)?;
        }
        self.offline_script(backend, &plan, Direction::Down)
    }

    fn offline_state(&self, from: Option<&str>) -> Result<Applied> {
        let Some(from) = from else {
            return Ok(Applied::new());
        };
        let none = Applied::new();
        let ids = self.graph.resolve(from, &none)?;
        Ok(self.graph.ancestors(ids.iter().map(String::as_str)))
    }

    fn offline_script(
        &self,
        backend: crate::Backend,
        plan: &[&Revision],
        direction: Direction,
    ) -> Result<String> {
        let dialect = crate::dialect::dialect_for(backend);
        let table = &self.config.version_table;
        let mut out = format!(
            "-- dbrev offline script ({backend}): {} revision(s)\n\n{};\n",
            plan.len(),
            dialect.create_version_table(table)
        );
        for revision in plan {
            let (path, text) = read_sql(revision, direction)?;
            let statements = split_file(&path, &text, backend)?;
            let transactional = dialect.transactional_ddl() && revision.run_in_transaction;
            let verb = match direction {
                Direction::Up => "upgrade",
                Direction::Down => "downgrade",
            };
            out.push_str(&format!(
                "\n-- Running {verb} {} {}\n",
                revision.id, revision.message
            ));
            if transactional {
                out.push_str("BEGIN;\n");
            }
            for statement in &statements {
                out.push_str(&dialect.script_statement(&statement.sql));
            }
            out.push_str(&format!(
                "{};\n",
                version_change(dialect, table, &revision.id, direction)
            ));
            if transactional {
                out.push_str("COMMIT;\n");
            }
        }
        Ok(out)
    }
}

/// `FROM:TO` or `TO`.
fn split_range(range: &str) -> (Option<&str>, &str) {
    match range.split_once(':') {
        Some((from, to)) => (Some(from), to),
        None => (None, range),
    }
}

fn version_change(dialect: &dyn Dialect, table: &str, id: &str, direction: Direction) -> String {
    let table = dialect.quote_ident(table);
    let id = dialect.quote_literal(id);
    match direction {
        Direction::Up => format!("INSERT INTO {table} (version) VALUES ({id})"),
        Direction::Down => format!("DELETE FROM {table} WHERE version = {id}"),
    }
}

fn read_sql(revision: &Revision, direction: Direction) -> Result<(std::path::PathBuf, String)> {
    let path = match direction {
        Direction::Up => revision.up_path(),
        Direction::Down => revision.down_path(),
    };
    let text = std::fs::read_to_string(&path).at(&path)?;
    Ok((path, text))
}

fn split_file(path: &Path, text: &str, backend: crate::Backend) -> Result<Vec<Statement>> {
    split_str(text, backend).map_err(|e| Error::Script(format!("{}: {e}", path.display())))
}

/// Refuses a revision whose file still holds an unfilled `/* FILL ... */` marker.
fn check_filled(revision: &Revision, direction: Direction) -> Result<()> {
    let (path, text) = read_sql(revision, direction)?;
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

/// A revision can be reverted when `down.sql` exists and, if `up.sql` does anything, holds
/// at least one statement.
fn check_revertible(revision: &Revision, dialect: &dyn Dialect) -> Result<()> {
    let down = revision.down_path();
    let text = match std::fs::read_to_string(&down) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Migration(format!(
                "revision {} cannot be reverted: {} does not exist; nothing was reverted",
                revision.id,
                down.display()
            )));
        }
        Err(e) => return Err(Error::io(down, e)),
    };
    let backend = dialect.backend();
    if split_file(&down, &text, backend)?.is_empty() {
        let (up_path, up) = read_sql(revision, Direction::Up)?;
        if !split_file(&up_path, &up, backend)?.is_empty() {
            return Err(Error::Migration(format!(
                "revision {} cannot be reverted: {} is empty; write the SQL that undoes up.sql. Nothing was reverted",
                revision.id,
                down.display()
            )));
        }
    }
    Ok(())
}

/// Runs one revision; returns false when another process had already done it.
fn run_revision(
    conn: &mut Connection,
    revision: &Revision,
    direction: Direction,
    table: &str,
    reporter: &Reporter,
) -> Result<bool> {
    let dialect = conn.dialect();
    let (path, text) = read_sql(revision, direction)?;
    let statements = split_file(&path, &text, dialect.backend())?;
    let fail = |statement: &Statement, e: diesel::result::Error, note: String| {
        Error::Migration(format!(
            "revision {} failed at {}:{}: {}{note}",
            revision.id,
            path.display(),
            statement.line,
            one_line(&e.to_string())
        ))
    };
    if dialect.transactional_ddl() && revision.run_in_transaction {
        exec(conn, dialect.begin_transaction(), "starting a transaction")?;
        if dialect.locks_per_transaction() {
            // No session lock (SQLite): the exclusive transaction is the lock, so check
            // again inside it whether another process got here first.
            let done = VersionTable::new(conn, table).contains(&revision.id)?;
            if done == (direction == Direction::Up) {
                exec(conn, "COMMIT", "committing")?;
                return Ok(false);
            }
        }
        for statement in &statements {
            reporter.detail(&statement.sql);
            if let Err(e) = conn.batch_execute(&statement.sql) {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(fail(
                    statement,
                    e,
                    format!(
                        "; revision {} was rolled back, earlier revisions stay applied",
                        revision.id
                    ),
                ));
            }
        }
        let change = version_change(dialect, table, &revision.id, direction);
        if let Err(e) = conn
            .batch_execute(&change)
            .and_then(|()| conn.batch_execute("COMMIT"))
        {
            let _ = conn.batch_execute("ROLLBACK");
            return Err(Error::Query {
                context: format!("recording revision {} in {table}", revision.id),
                message: one_line(&e.to_string()),
            });
        }
    } else {
        for (done, statement) in statements.iter().enumerate() {
            reporter.detail(&statement.sql);
            if let Err(e) = conn.batch_execute(&statement.sql) {
                let note = if done == 0 {
                    format!(
                        "; no statement of {} had run, the database is unchanged by it",
                        revision.id
                    )
                } else {
                    let lines: Vec<String> = statements[..done]
                        .iter()
                        .map(|s| s.line.to_string())
                        .collect();
                    format!(
                        "; {done} earlier statement(s) of this revision already ran and stay committed ({} lines {}); undo them by hand or fix the file and finish it, then `cargo dbrev stamp {}`",
                        path.display(),
                        lines.join(", "),
                        revision.id
                    )
                };
                return Err(fail(statement, e, note));
            }
        }
        exec(
            conn,
            &version_change(dialect, table, &revision.id, direction),
            "recording the revision",
        )?;
    }
    Ok(true)
}

fn exec(conn: &mut Connection, sql: &str, what: &str) -> Result<()> {
    conn.batch_execute(sql).map_err(|e| Error::Query {
        context: what.to_owned(),
        message: one_line(&e.to_string()),
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads and writes the version table.
struct VersionTable<'c> {
    conn: &'c mut Connection,
    table: &'c str,
}

impl<'c> VersionTable<'c> {
    fn new(conn: &'c mut Connection, table: &'c str) -> Self {
        VersionTable { conn, table }
    }

    fn quoted(&self) -> String {
        self.conn.dialect().quote_ident(self.table)
    }

    fn ensure(&mut self) -> Result<()> {
        let sql = self.conn.dialect().create_version_table(self.table);
        exec(
            self.conn,
            &sql,
            &format!("creating the version table {}", self.table),
        )
    }

    fn applied(&mut self) -> Result<Applied> {
        let sql = format!("SELECT version AS value FROM {}", self.quoted());
        match self.conn.load::<ValueRow>(&sql) {
            Ok(rows) => Ok(rows.into_iter().filter_map(|r| r.value).collect()),
            Err(e) if self.exists()? => Err(Error::Query {
                context: format!("reading the version table {}", self.table),
                message: one_line(&e.to_string()),
            }),
            Err(_) => Ok(Applied::new()),
        }
    }

    fn exists(&mut self) -> Result<bool> {
        let sql = self.conn.dialect().list_tables_query();
        let tables = self.conn.load::<ValueRow>(sql).map_err(|e| Error::Query {
            context: "listing tables".into(),
            message: one_line(&e.to_string()),
        })?;
        Ok(tables
            .iter()
            .any(|t| t.value.as_deref() == Some(self.table)))
    }

    fn contains(&mut self, id: &str) -> Result<bool> {
        let sql = format!(
            "SELECT version AS value FROM {} WHERE version = {}",
            self.quoted(),
            self.conn.dialect().quote_literal(id)
        );
        let rows = self.conn.load::<ValueRow>(&sql).map_err(|e| Error::Query {
            context: format!("reading the version table {}", self.table),
            message: one_line(&e.to_string()),
        })?;
        Ok(!rows.is_empty())
    }

    fn record(&mut self, id: &str) -> Result<()> {
        let sql = version_change(self.conn.dialect(), self.table, id, Direction::Up);
        exec(self.conn, &sql, &format!("recording revision {id}"))
    }

    fn remove(&mut self, id: &str) -> Result<()> {
        let sql = version_change(self.conn.dialect(), self.table, id, Direction::Down);
        exec(self.conn, &sql, &format!("removing revision {id}"))
    }

    fn clear(&mut self) -> Result<()> {
        let sql = format!("DELETE FROM {}", self.quoted());
        exec(self.conn, &sql, "purging the version table")
    }
}
