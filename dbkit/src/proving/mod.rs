//! Proving a migration before production sees it, on scratch databases
//! ([`crate::scratch`]) compared through full catalog snapshots ([`crate::snapshot`]):
//! `cargo dbrev test` (the history: one head, base → head, the model, the stairway, head →
//! base), `rehearse` (a copy of production upgraded and downgraded again, timed),
//! `check --drift` (the live database against a replay of its history) and
//! `upgrade --backup` (a dump first). Each is a function on [`Environment`] returning a
//! report the binary prints (stderr) or writes as JSON (stdout).

mod backup;
mod drift;
mod rehearse;
mod stairway;

use console::style;
use serde::Serialize;

pub use backup::{BackupOptions, BackupReport};
pub use drift::{DRIFT_SIDES, DriftOptions, DriftReport};
pub use rehearse::{
    REHEARSE_SIDES, RehearseOptions, RehearseReport, RehearseSource, RevisionTiming, RowChange,
    StatementTiming,
};
pub use stairway::{CatalogReads, STAIRWAY_SIDES, TestOptions, TestReport};

use crate::apply::{Direction, Runner, Step};
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::format::{Format, print_json};
use crate::journal::read_records;
use crate::migrate::Environment;
use crate::script::Revision;
use crate::snapshot::Difference;
use crate::term::{Reporter, Verbosity};
use crate::url::DatabaseUrl;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It holds.
    Passed,
    /// It does not: the message says where and why.
    Failed,
    /// It was not run (an earlier check failed, or it does not apply).
    Skipped,
}

/// One check of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Its stable name (`single_head`, `upgrade`, `model`, `stairway`, `downgrade`…).
    pub check: &'static str,
    /// How it ended.
    pub status: Status,
    /// What was found, in one line.
    pub message: String,
    /// The revision it failed at, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The catalog differences that made it fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// Further lines (the model's differences, what to do).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Check {
    fn new(check: &'static str, status: Status, message: impl Into<String>) -> Check {
        Check {
            check,
            status,
            message: message.into(),
            revision: None,
            differences: Vec::new(),
            details: Vec::new(),
        }
    }

    /// A check that holds.
    fn passed(check: &'static str, message: impl Into<String>) -> Check {
        Check::new(check, Status::Passed, message)
    }

    /// A check that does not hold.
    fn failed(check: &'static str, message: impl Into<String>) -> Check {
        Check::new(check, Status::Failed, message)
    }

    /// A check not run.
    fn skipped(check: &'static str, message: impl Into<String>) -> Check {
        Check::new(check, Status::Skipped, message)
    }

    fn at(mut self, revision: &str) -> Check {
        self.revision = Some(revision.to_owned());
        self
    }

    /// Prints it: a green `Passed`, a red `Failed` (with its differences and details
    /// indented below), a cyan `Skipped`.
    pub fn print(&self, reporter: &Reporter, sides: &crate::snapshot::Sides) {
        match self.status {
            Status::Passed => reporter.status("Passed", &self.message),
            Status::Skipped => reporter.note("Skipped", &self.message),
            Status::Failed => {
                failed_line(reporter, &self.message);
                for d in &self.differences {
                    reporter.note("", d.describe(sides));
                }
                for line in &self.details {
                    reporter.note("", line);
                }
            }
        }
    }
}

/// A red `Failed` status line (errors are shown even with `-q`).
fn failed_line(reporter: &Reporter, message: &str) {
    if reporter.verbosity > Verbosity::Quiet {
        eprintln!(
            "{} {message}",
            style(format!("{:>12}", "Failed")).red().bold().for_stderr()
        );
    }
}

/// An environment whose database is `url` (a scratch database): the same revisions,
/// `session_sql` and lock timeout.
fn on_database(env: &Environment, url: &DatabaseUrl) -> Environment {
    let mut env = env.clone();
    env.config.database_url = url.clone();
    env
}

/// Runs single revisions one way on a scratch database inside [`Environment::locked`],
/// with their bookkeeping, as `upgrade` and `downgrade` run them.
struct Replay<'a> {
    env: &'a Environment,
    ledger: crate::journal::Ledger,
    quiet: Reporter,
}

impl<'a> Replay<'a> {
    fn new(env: &'a Environment, conn: &Connection) -> Replay<'a> {
        Replay {
            env,
            ledger: env.ledger(conn.dialect()),
            quiet: Reporter::quiet(),
        }
    }

    /// Runs `revision` one way, after the checks `upgrade` and `downgrade` make (an
    /// unfilled FILL marker, a missing or empty `down.sql`).
    fn run(
        &self,
        conn: &mut Connection,
        revision: &Revision,
        direction: Direction,
    ) -> Result<Step> {
        self.env.check_runnable(revision, direction)?;
        let journaled = !(conn.dialect().transactional_ddl() && revision.run_in_transaction);
        let record = if journaled && direction == Direction::Down {
            read_records(conn, &self.env.config.revisions_table)?.remove(&revision.id)
        } else {
            None
        };
        let runner = Runner {
            ledger: &self.ledger,
            version_table: &self.env.config.version_table,
            lock_timeout: self.env.config.lock_timeout,
            reporter: &self.quiet,
        };
        let step = runner.run(conn, revision, direction, record.as_ref(), None)?;
        Ok(step.unwrap_or_else(|| Step {
            id: revision.id.clone(),
            message: revision.message.clone(),
            direction,
            elapsed: std::time::Duration::ZERO,
            statements: Vec::new(),
        }))
    }
}

/// dbrev's own tables (the version and companion tables, the migration lock's on Galera),
/// which a comparison leaves out.
fn own_tables(env: &Environment) -> [&str; 3] {
    [
        env.config.version_table.as_str(),
        env.config.revisions_table.as_str(),
        crate::lock::LOCK_TABLE,
    ]
}

/// `cargo dbrev test`: the report on stderr, JSON on stdout with `--format json`, and
/// [`Error::Differences`] (exit 1) naming the first check that failed.
pub fn test_command(
    env: &Environment,
    options: &TestOptions,
    format: Format,
    reporter: &Reporter,
) -> Result<()> {
    let report = env.test(options, reporter)?;
    report.print(reporter);
    if format == Format::Json {
        print_json(&report)?;
    }
    match report.failure() {
        Some(check) => Err(Error::Differences(format!(
            "cargo dbrev test failed: {}",
            check.message
        ))),
        None => Ok(()),
    }
}

/// `cargo dbrev check --drift` on the connected database: the differences on stderr, JSON
/// on stdout with `--format json`, [`Error::Differences`] (exit 1) when there is drift.
pub fn drift_command(
    env: &Environment,
    conn: &mut Connection,
    options: &DriftOptions,
    format: Format,
    reporter: &Reporter,
) -> Result<()> {
    let report = env.drift(conn, options, reporter)?;
    report.print(reporter);
    if format == Format::Json {
        print_json(&report)?;
    }
    if report.ok {
        return Ok(());
    }
    Err(Error::Differences(format!(
        "{} differs from what its {} revision(s) make in {} place(s): a change made by hand, or one a revision forgot; write a revision for it, or undo it",
        report.database,
        report.revisions,
        report.differences.len()
    )))
}

/// `cargo dbrev rehearse`: the per-revision report on stderr, JSON on stdout with
/// `--format json`, [`Error::Differences`] (exit 1) naming the first check that failed.
pub fn rehearse_command(
    env: &Environment,
    options: &RehearseOptions,
    format: Format,
    reporter: &Reporter,
) -> Result<()> {
    let report = env.rehearse(options, reporter)?;
    report.print(reporter);
    if format == Format::Json {
        print_json(&report)?;
    }
    match report.failure() {
        Some(check) => Err(Error::Differences(format!(
            "cargo dbrev rehearse failed: {}",
            check.message
        ))),
        None => Ok(()),
    }
}
