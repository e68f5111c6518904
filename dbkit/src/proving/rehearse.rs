//! `cargo dbrev rehearse`: the seed loop's "upgrade a copy of production" in one command.
//! A copy — a dump file (ours or a native dumper's), or a database streamed straight from
//! its URL (one consistent snapshot, read only, no file) — is restored into a scratch
//! database; `upgrade TARGET` runs there, each revision and statement timed (the slowest
//! statements are what will hold locks in production); `check` compares the model; then
//! every revision applied is reverted, and the copy must be what it was: the same
//! snapshot, and every table the same rows (a `down.sql` that loses rows, or a column's
//! values, is reported with the revisions that touch the table). The scratch database is
//! dropped unless `--keep`, which prints its URL for a look around.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::{Check, Replay, Status, on_database, own_tables};
use crate::apply::{Direction, Step};
use crate::autogen::AutogenerateOptions;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::export::{RestoreOptions, TableRows, copy_database, restore, table_rows};
use crate::graph::Applied;
use crate::migrate::Environment;
use crate::scratch::ScratchDatabase;
use crate::snapshot::{Sides, Snapshot, SnapshotReader, compare};
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// How the schema check's differences read.
pub const REHEARSE_SIDES: Sides = Sides {
    left: "after the downgrade",
    right: "in the copy before the upgrade",
};

/// How many of a revision's statements the report names.
const SLOWEST: usize = 3;

/// Where the copy comes from.
#[derive(Debug, Clone)]
pub enum RehearseSource {
    /// `--from-dump FILE`: a dump (ours, mysqldump's, pg_dump's, sqlite3's; gzip too).
    Dump(PathBuf),
    /// `--from-url URL`: a database, read in one snapshot and never written.
    Url(DatabaseUrl),
}

/// What `cargo dbrev rehearse` does.
#[derive(Debug, Clone)]
pub struct RehearseOptions {
    /// The copy.
    pub source: RehearseSource,
    /// `--to TARGET` (default `head`).
    pub to: String,
    /// `--keep`: leave the scratch database for a look around.
    pub keep: bool,
    /// `--scratch-url`: an empty database to work in instead of creating one.
    pub scratch_url: Option<DatabaseUrl>,
}

/// One statement's time.
#[derive(Debug, Clone, Serialize)]
pub struct StatementTiming {
    /// Its line in the file.
    pub line: usize,
    /// Its first line.
    pub sql: String,
    /// Milliseconds.
    pub ms: f64,
}

/// One revision applied or reverted, timed.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionTiming {
    /// The revision.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// Milliseconds.
    pub ms: f64,
    /// Its slowest statements, slowest first.
    pub slowest: Vec<StatementTiming>,
}

impl RevisionTiming {
    fn of(step: &Step) -> RevisionTiming {
        let mut statements: Vec<_> = step.statements.iter().collect();
        statements.sort_by_key(|s| std::cmp::Reverse(s.elapsed));
        RevisionTiming {
            revision: step.id.clone(),
            message: step.message.clone(),
            ms: millis(step.elapsed),
            slowest: statements
                .into_iter()
                .take(SLOWEST)
                .map(|s| StatementTiming {
                    line: s.line,
                    sql: first_line(&s.sql),
                    ms: millis(s.elapsed),
                })
                .collect(),
        }
    }
}

/// A table whose rows are not what they were.
#[derive(Debug, Clone, Serialize)]
pub struct RowChange {
    /// The table.
    pub table: String,
    /// Rows in the copy before the upgrade.
    pub before: u64,
    /// Rows after the downgrade (`None`: the table is gone).
    pub after: Option<u64>,
    /// The same number of rows, other values.
    pub values_changed: bool,
    /// The rehearsed revisions whose SQL names the table.
    pub revisions: Vec<String>,
}

impl RowChange {
    fn describe(&self) -> String {
        let suspects = if self.revisions.is_empty() {
            String::new()
        } else {
            format!(" (revisions that touch it: {})", self.revisions.join(", "))
        };
        match self.after {
            None => format!(
                "table {}: {} row(s) before the upgrade, the table is gone after the downgrade{suspects}",
                self.table, self.before
            ),
            Some(after) if after != self.before => format!(
                "table {}: {} row(s) before the upgrade, {after} after the downgrade: a down.sql loses rows{suspects}",
                self.table, self.before
            ),
            Some(_) => format!(
                "table {}: {} row(s) before the upgrade and after the downgrade, but their values differ: a down.sql loses data (a column dropped and put back empty, values overwritten){suspects}",
                self.table, self.before
            ),
        }
    }
}

/// What `cargo dbrev rehearse` found (the JSON of `--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct RehearseReport {
    /// Whether every check passed.
    pub ok: bool,
    /// The copy's source (a file, or the masked URL).
    pub source: String,
    /// The scratch database (masked).
    pub scratch: String,
    /// Whether it was kept (`--keep`).
    pub kept: bool,
    /// The revisions the copy was at (its heads).
    pub started_at: Vec<String>,
    /// The target rehearsed.
    pub target: String,
    /// Each revision applied, timed.
    pub upgrade: Vec<RevisionTiming>,
    /// Each revision reverted, timed.
    pub downgrade: Vec<RevisionTiming>,
    /// The checks: `upgrade`, `model`, `downgrade`, `schema`, `rows`.
    pub checks: Vec<Check>,
    /// Tables whose rows changed between the start and the end.
    pub rows: Vec<RowChange>,
}

impl RehearseReport {
    /// The first check that failed.
    pub fn failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Failed)
    }

    /// Prints the report (stderr): each revision with its time and slowest statements,
    /// then the checks.
    pub fn print(&self, reporter: &Reporter) {
        for (verb, timings) in [("Upgraded", &self.upgrade), ("Downgraded", &self.downgrade)] {
            for t in timings {
                reporter.status(
                    verb,
                    format!("{} {} in {:.0} ms", t.revision, t.message, t.ms),
                );
                for s in &t.slowest {
                    reporter.note("", format!("{:>8.0} ms  line {}: {}", s.ms, s.line, s.sql));
                }
            }
        }
        for check in &self.checks {
            check.print(reporter, &REHEARSE_SIDES);
        }
        if self.kept {
            reporter.note("Kept", format!("the scratch database {}", self.scratch));
        }
    }
}

impl Environment {
    /// `cargo dbrev rehearse` (see the module's documentation). Checks that fail are in the
    /// report (`ok` false); errors are for what kept the rehearsal from running (the copy
    /// could not be made, a lost connection).
    pub fn rehearse(
        &self,
        options: &RehearseOptions,
        reporter: &Reporter,
    ) -> Result<RehearseReport> {
        let mut scratch = ScratchDatabase::create(
            &self.config.database_url,
            options.scratch_url.as_ref(),
            reporter,
        )?;
        let env = on_database(self, scratch.url());
        let mut conn = env.connect()?;
        let source = match &options.source {
            RehearseSource::Dump(path) => {
                restore(&mut conn, path, &RestoreOptions::default(), reporter)?;
                path.display().to_string()
            }
            RehearseSource::Url(url) => {
                reporter.status(
                    "Copying",
                    format!("{url} (read only) into {}", scratch.url()),
                );
                copy_database(url, &mut conn, reporter)?;
                url.masked()
            }
        };
        let mut report = RehearseReport {
            ok: false,
            source,
            scratch: scratch.url().masked(),
            kept: options.keep,
            started_at: Vec::new(),
            target: options.to.clone(),
            upgrade: Vec::new(),
            downgrade: Vec::new(),
            checks: Vec::new(),
            rows: Vec::new(),
        };
        env.rehearse_copy(&mut conn, options, &mut report)?;
        drop(conn);
        report.ok = report.checks.iter().all(|c| c.status != Status::Failed);
        if options.keep {
            scratch.keep();
        } else {
            scratch.finish(reporter)?;
        }
        Ok(report)
    }

    /// Upgrade, check, downgrade and compare, on the restored copy.
    fn rehearse_copy(
        &self,
        conn: &mut Connection,
        options: &RehearseOptions,
        report: &mut RehearseReport,
    ) -> Result<()> {
        let state = self.current(conn)?;
        if let Some(partial) = state.partial.first() {
            return Err(Error::Refused(format!(
                "the copy holds a partial revision: {}; settle it in the source first",
                partial.describe()
            )));
        }
        report.started_at = state.heads.clone();
        let own = own_tables(self);
        let before_schema = snapshot(conn, &own)?;
        let before_rows = rows(conn, &own)?;
        let quiet = Reporter::quiet();
        let steps = match self.upgrade(conn, &options.to, &quiet) {
            Ok(steps) => steps,
            Err(e) => {
                report.checks.push(Check::failed(
                    "upgrade",
                    format!("upgrade {} fails on the copy: {e}", options.to),
                ));
                return Ok(());
            }
        };
        report.upgrade = steps.iter().map(RevisionTiming::of).collect();
        report.checks.push(Check::passed(
            "upgrade",
            format!(
                "upgrade {}: {} revision(s) applied to the copy",
                options.to,
                steps.len()
            ),
        ));
        report.checks.push(self.rehearsed_model(conn, &options.to)?);
        let (reverted, failure) = self.revert(conn, &steps)?;
        report.downgrade = reverted.iter().map(RevisionTiming::of).collect();
        if let Some(failure) = failure {
            report.checks.push(Check::failed(
                "downgrade",
                format!("the downgrade back to where the copy started fails at {failure}"),
            ));
            return Ok(());
        }
        report.checks.push(Check::passed(
            "downgrade",
            format!(
                "downgrade: {} revision(s) reverted, back to where the copy started",
                reverted.len()
            ),
        ));
        let differences = compare(&snapshot(conn, &own)?, &before_schema);
        report.checks.push(if differences.is_empty() {
            Check::passed(
                "schema",
                "the schema after the downgrade is the copy's as restored",
            )
        } else {
            let mut check = Check::failed(
                "schema",
                format!(
                    "the downgrade does not restore the copy's schema ({} difference(s))",
                    differences.len()
                ),
            );
            check.differences = differences;
            check
        });
        report.rows = row_changes(self, &before_rows, &rows(conn, &own)?, &steps);
        report
            .checks
            .push(rows_check(&report.rows, before_rows.len()));
        Ok(())
    }

    /// Reverts the revisions `steps` applied, newest first; stops at the first that fails
    /// (returned with what failed).
    fn revert(&self, conn: &mut Connection, steps: &[Step]) -> Result<(Vec<Step>, Option<String>)> {
        self.locked(conn, &Reporter::quiet(), |env, c, _| {
            let replay = Replay::new(env, c);
            let mut done = Vec::new();
            for step in steps.iter().rev() {
                let Some(revision) = env.graph.get(&step.id) else {
                    continue;
                };
                match replay.run(c, revision, Direction::Down) {
                    Ok(reverted) => done.push(reverted),
                    Err(e) => return Ok((done, Some(format!("revision {}: {e}", step.id)))),
                }
            }
            Ok((done, None))
        })
    }

    /// `check` on the upgraded copy, when the target is the head.
    fn rehearsed_model(&self, conn: &mut Connection, target: &str) -> Result<Check> {
        let ids = self
            .graph
            .resolve(target, &Applied::new())
            .unwrap_or_default();
        if ids.is_empty() || !ids.iter().all(|id| self.graph.is_head(id)) {
            return Ok(Check::skipped(
                "model",
                format!("the model: not compared, {target} is not the head"),
            ));
        }
        let comparison = self.compare(conn, &AutogenerateOptions::default())?;
        if comparison.is_clean() {
            return Ok(Check::passed(
                "model",
                "the model matches the upgraded copy",
            ));
        }
        let mut check = Check::failed(
            "model",
            format!(
                "the model differs from the upgraded copy in {} place(s)",
                comparison.changes.len()
            ),
        );
        check.details = comparison.changes.iter().map(|c| c.describe()).collect();
        Ok(check)
    }
}

fn snapshot(conn: &mut Connection, own: &[&str]) -> Result<Snapshot> {
    Ok(SnapshotReader::new(conn)?.read(conn)?.without_tables(own))
}

fn rows(conn: &mut Connection, own: &[&str]) -> Result<BTreeMap<String, TableRows>> {
    let mut all = table_rows(conn)?;
    all.retain(|table, _| !own.iter().any(|o| bare(table) == *o));
    Ok(all)
}

/// Every table holds the rows it held, or which do not.
fn rows_check(changes: &[RowChange], tables: usize) -> Check {
    if changes.is_empty() {
        return Check::passed(
            "rows",
            format!("every table holds the rows it held ({tables} table(s))"),
        );
    }
    let mut check = Check::failed(
        "rows",
        format!(
            "{} table(s) do not hold the rows they held before the upgrade",
            changes.len()
        ),
    );
    check.details = changes.iter().map(RowChange::describe).collect();
    check
}

/// The tables whose rows differ, with the rehearsed revisions whose SQL names them.
fn row_changes(
    env: &Environment,
    before: &BTreeMap<String, TableRows>,
    after: &BTreeMap<String, TableRows>,
    steps: &[Step],
) -> Vec<RowChange> {
    before
        .iter()
        .filter(|(table, rows)| after.get(*table) != Some(rows))
        .map(|(table, rows)| {
            let now = after.get(table);
            let name = bare(table).to_ascii_lowercase();
            let revisions = steps
                .iter()
                .filter(|s| {
                    env.graph.get(&s.id).is_some_and(|r| {
                        [r.up_path(), r.down_path()].iter().any(|p| {
                            std::fs::read_to_string(p)
                                .is_ok_and(|sql| names_word(&sql.to_ascii_lowercase(), &name))
                        })
                    })
                })
                .map(|s| s.id.clone())
                .collect();
            RowChange {
                table: table.clone(),
                before: rows.rows,
                after: now.map(|r| r.rows),
                values_changed: now.is_some_and(|r| r.rows == rows.rows),
                revisions,
            }
        })
        .collect()
}

/// `schema.table` → `table`, quotes taken off.
fn bare(table: &str) -> &str {
    table
        .rsplit('.')
        .next()
        .unwrap_or(table)
        .trim_matches(|c| c == '"' || c == '`')
}

/// Whether `word` appears in `text` as a whole word.
fn names_word(text: &str, word: &str) -> bool {
    let is_part = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_part) && !after.is_some_and(is_part)
    })
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

fn first_line(sql: &str) -> String {
    let line = sql
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim();
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_found_as_words() {
        assert!(names_word("alter table posts drop column x", "posts"));
        assert!(!names_word(
            "alter table posts_archive drop column x",
            "posts"
        ));
        assert_eq!(bare("public.\"Posts\""), "Posts");
    }
}
