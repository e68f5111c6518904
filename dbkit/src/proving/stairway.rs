//! `cargo dbrev test`: the history proven on a scratch database, no production data. In
//! order, stopping at the first that fails: one head; base → head applies; the model
//! (`schema.rs`) matches the database at head; the stairway — every revision in order up,
//! down, up, the catalog after each down equal to the one before its up (the first
//! revision whose `down.sql` does not restore the schema is named with the differences);
//! head → base leaves nothing but dbrev's version tables. Checks 2 and 4 share one climb:
//! each revision is applied (check 2), reverted and compared, and applied again.
//!
//! The climb reads no full snapshot: before each up.sql and after its down.sql it reads a
//! [`Fingerprint`] (one query) of what the revision's two files name, so that it costs the
//! same however many objects the database holds. Only where the two differ does it replay
//! the history on the emptied scratch database with a full snapshot on each side, for
//! the differences a person reads (none: the catalogs differ only in a spelling the
//! snapshot normalises, and the climb goes on).
//!
//! `--from REV` / `--to REV` limit the range: what comes before `--from` is applied first
//! without checks, and the descent ends where the climb started.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Check, Replay, Status, on_database, own_tables};
use crate::apply::Direction;
use crate::autogen::AutogenerateOptions;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::graph::Applied;
use crate::migrate::Environment;
use crate::scratch::ScratchDatabase;
use crate::script::Revision;
use crate::snapshot::{Fingerprint, Scope, Sides, Snapshot, SnapshotReader, compare};
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// How the stairway's differences read: the snapshot after `down.sql` against the one
/// before `up.sql`.
pub const STAIRWAY_SIDES: Sides = Sides {
    left: "after down.sql",
    right: "before up.sql",
};

/// How the descent's differences read.
const DESCENT_SIDES: Sides = Sides {
    left: "after the downgrade",
    right: "before the first revision",
};

/// What `cargo dbrev test` replays.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// `--from REV`: the first revision of the stairway (its ancestors are applied first,
    /// unchecked).
    pub from: Option<String>,
    /// `--to REV`: the last one (default: the head).
    pub to: Option<String>,
    /// `--scratch-url`: an empty database to work in instead of creating one.
    pub scratch_url: Option<DatabaseUrl>,
}

/// What `cargo dbrev test` found (the JSON of `--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// Whether every check passed.
    pub ok: bool,
    /// The scratch database it ran in (masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratch: Option<String>,
    /// How many revisions the stairway climbed.
    pub revisions: usize,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// How the scratch database's catalog was read (not in the JSON).
    #[serde(skip)]
    pub reads: CatalogReads,
}

/// How `cargo dbrev test` read the scratch database's catalog: a fingerprint before each
/// revision's up.sql and after its down.sql, full snapshots at the ends of the stairway,
/// and a replay (with two snapshots) only where a fingerprint changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogReads {
    /// Fingerprints read.
    pub fingerprints: usize,
    /// How many of them within the scope of a revision's files.
    pub scoped: usize,
    /// How long reading them took.
    pub fingerprint_time: Duration,
    /// Full snapshots read.
    pub snapshots: usize,
    /// How long reading them took.
    pub snapshot_time: Duration,
    /// Times the history was replayed on the emptied scratch database to say what a
    /// changed fingerprint is made of.
    pub replays: usize,
}

impl fmt::Display for CatalogReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} fingerprint(s) ({} scoped) in {:.0} ms, {} snapshot(s) in {:.0} ms, {} replay(s)",
            self.fingerprints,
            self.scoped,
            self.fingerprint_time.as_secs_f64() * 1000.0,
            self.snapshots,
            self.snapshot_time.as_secs_f64() * 1000.0,
            self.replays
        )
    }
}

impl TestReport {
    /// The first check that failed.
    pub fn failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Failed)
    }

    /// Prints every check (stderr).
    pub fn print(&self, reporter: &Reporter) {
        for check in &self.checks {
            let sides = if check.check == "downgrade" {
                &DESCENT_SIDES
            } else {
                &STAIRWAY_SIDES
            };
            check.print(reporter, sides);
        }
    }

    fn finish(&mut self, rest: &[&'static str]) {
        for name in rest {
            if !self.checks.iter().any(|c| c.check == *name) {
                self.checks.push(Check::skipped(
                    name,
                    format!("{name}: not run, an earlier check failed"),
                ));
            }
        }
        self.checks
            .sort_by_key(|c| CHECKS.iter().position(|n| *n == c.check));
        self.ok = self.checks.iter().all(|c| c.status != Status::Failed);
    }
}

/// The checks, in order.
const CHECKS: [&str; 5] = ["single_head", "upgrade", "model", "stairway", "downgrade"];

impl Environment {
    /// `cargo dbrev test`: proves the history on a scratch database (see the module's
    /// documentation). A check that fails is in the report (`ok` false), not an error;
    /// errors are for what kept the checks from running (no scratch database, a lost
    /// connection).
    pub fn test(&self, options: &TestOptions, reporter: &Reporter) -> Result<TestReport> {
        let mut report = TestReport {
            ok: false,
            scratch: None,
            revisions: 0,
            checks: vec![self.single_head()],
            reads: CatalogReads::default(),
        };
        if report.checks[0].status == Status::Failed || self.graph.is_empty() {
            report.finish(&CHECKS);
            return Ok(report);
        }
        let range = self.test_range(options)?;
        report.revisions = range.climb.len();
        let scratch = ScratchDatabase::create(
            &self.config.database_url,
            options.scratch_url.as_ref(),
            reporter,
        )?;
        report.scratch = Some(scratch.url().masked());
        let env = on_database(self, scratch.url());
        let mut conn = env.connect()?;
        let quiet = Reporter::quiet();
        let (checks, reads) = env.locked(&mut conn, &quiet, |env, conn, _| {
            Stairway::new(env, conn, reporter)?.run(conn, &range)
        })?;
        drop(conn);
        report.checks.extend(checks);
        report.reads = reads;
        reporter.detail(format!("stairway: {reads}"));
        report.finish(&CHECKS);
        scratch.finish(reporter)?;
        Ok(report)
    }

    fn single_head(&self) -> Check {
        let heads = self.graph.heads();
        match heads.as_slice() {
            [] => Check::passed("single_head", "no revisions yet: nothing to test"),
            [one] => Check::passed("single_head", format!("one head: {}", one.id)),
            several => {
                let ids: Vec<&str> = several.iter().map(|r| r.id.as_str()).collect();
                let mut check = Check::failed(
                    "single_head",
                    format!(
                        "{} heads: {}; join them with `cargo dbrev merge -m MSG heads`",
                        ids.len(),
                        ids.join(", ")
                    ),
                );
                check.details = several
                    .iter()
                    .map(|r| format!("head {} ({})", r.id, r.message))
                    .collect();
                check
            }
        }
    }

    /// The revisions before the stairway and on it, in graph order.
    fn test_range(&self, options: &TestOptions) -> Result<TestRange<'_>> {
        let none = Applied::new();
        let to = match &options.to {
            Some(to) => self.graph.resolve(to, &none)?,
            None => self.graph.heads().iter().map(|r| r.id.clone()).collect(),
        };
        let at_head = to.iter().all(|id| self.graph.is_head(id));
        let wanted = self.graph.ancestors(to.iter().map(String::as_str));
        let climbed = match &options.from {
            Some(from) => {
                let first = self.graph.resolve_one(from, &none)?;
                if !wanted.contains(&first.id) {
                    return Err(Error::Usage(format!(
                        "--from {from} ({}) is not on the way to {}",
                        first.id,
                        to.join(", ")
                    )));
                }
                self.graph.dependants([first.id.as_str()])
            }
            None => wanted.clone(),
        };
        let in_order = self
            .graph
            .revisions()
            .iter()
            .filter(|r| wanted.contains(&r.id));
        let (climb, before): (Vec<&Revision>, Vec<&Revision>) =
            in_order.partition(|r| climbed.contains(&r.id));
        Ok(TestRange {
            before,
            climb,
            at_head,
            to: match &options.to {
                Some(_) => to.join(", "),
                None => "head".into(),
            },
        })
    }
}

/// What the stairway climbs.
struct TestRange<'a> {
    /// Applied first, unchecked (`--from`).
    before: Vec<&'a Revision>,
    /// The stairway, parents first.
    climb: Vec<&'a Revision>,
    /// Whether it ends at the head (the model describes the head).
    at_head: bool,
    /// Where it ends, for messages.
    to: String,
}

/// One run of the checks on the scratch database, on one connection (and, on PostgreSQL
/// and MySQL, one catalog session beside it with its queries prepared once).
struct Stairway<'a> {
    env: &'a Environment,
    replay: Replay<'a>,
    reader: SnapshotReader,
    reporter: &'a Reporter,
    reads: CatalogReads,
}

impl<'a> Stairway<'a> {
    fn new(env: &'a Environment, conn: &Connection, reporter: &'a Reporter) -> Result<Self> {
        Ok(Stairway {
            env,
            replay: Replay::new(env, conn),
            reader: SnapshotReader::new(conn)?,
            reporter,
            reads: CatalogReads::default(),
        })
    }

    fn snapshot(&mut self, conn: &mut Connection) -> Result<Snapshot> {
        let started = Instant::now();
        let snapshot = self.reader.read(conn)?;
        self.reads.snapshots += 1;
        self.reads.snapshot_time += started.elapsed();
        Ok(snapshot.without_tables(&own_tables(self.env)))
    }

    /// The fingerprint of what SQL with the words of `scope` can change, before it runs:
    /// within the scope, or of every object when the server holds what the SQL could
    /// reach beyond its words. (dbrev's own tables may be in it: their definitions do not
    /// change, and their rows are not in it.)
    fn fingerprint_within(&mut self, conn: &mut Connection, scope: &Scope) -> Result<Fingerprint> {
        let within = self.read_fingerprint(conn, scope, false)?;
        match within.reaches_further {
            true => self.read_fingerprint(conn, scope, true),
            false => Ok(within),
        }
    }

    /// A fingerprint of every object (`whole`), or within `scope` where its words allow.
    fn read_fingerprint(
        &mut self,
        conn: &mut Connection,
        scope: &Scope,
        whole: bool,
    ) -> Result<Fingerprint> {
        let started = Instant::now();
        let fingerprint = match whole {
            true => self.reader.fingerprint(conn)?,
            false => self.reader.fingerprint_within(conn, scope)?,
        };
        self.reads.fingerprints += 1;
        self.reads.scoped += usize::from(fingerprint.scoped);
        self.reads.fingerprint_time += started.elapsed();
        Ok(fingerprint)
    }

    fn run(
        mut self,
        conn: &mut Connection,
        range: &TestRange<'_>,
    ) -> Result<(Vec<Check>, CatalogReads)> {
        for revision in &range.before {
            if let Err(e) = self.replay.run(conn, revision, Direction::Up) {
                let message = format!("revision {} (before --from) fails: {e}", revision.id);
                let check = Check::failed("upgrade", message).at(&revision.id);
                return Ok((vec![check], self.reads));
            }
        }
        let start = self.snapshot(conn)?;
        let mut checks = Vec::new();
        let climbed = self.climb(conn, range)?;
        let failed = climbed.iter().any(|c| c.status == Status::Failed);
        let (upgrade, stairway) = split_climb(climbed, range);
        checks.extend(upgrade);
        if failed {
            checks.extend(stairway);
            return Ok((checks, self.reads));
        }
        let model = self.model(conn, range)?;
        let model_failed = model.status == Status::Failed;
        checks.push(model);
        checks.extend(stairway);
        if !model_failed {
            checks.push(self.descend(conn, range, &start)?);
        }
        Ok((checks, self.reads))
    }

    /// Up, down, up for each revision; the checks `upgrade` and `stairway` it decides
    /// (only the failing one when it stops).
    fn climb(&mut self, conn: &mut Connection, range: &TestRange<'_>) -> Result<Vec<Check>> {
        for index in 0..range.climb.len() {
            if let Some(failed) = self.step(conn, range, index)? {
                return Ok(vec![failed]);
            }
        }
        Ok(Vec::new())
    }

    /// Up, down, up for `range.climb[index]`, or the check that fails. The catalog after
    /// its down.sql is compared with the one before its up.sql by fingerprint, within the
    /// scope of what the two files name; where they differ, [`Self::explain`] says how (or
    /// that the snapshots do not).
    fn step(
        &mut self,
        conn: &mut Connection,
        range: &TestRange<'_>,
        index: usize,
    ) -> Result<Option<Check>> {
        let revision = range.climb[index];
        let (id, message) = (&revision.id, &revision.message);
        self.reporter.detail(format!("stairway: {id} up, down, up"));
        // A file that cannot be read fails when the revision runs, before any comparison.
        let read = |path: std::path::PathBuf| std::fs::read_to_string(path).unwrap_or_default();
        let (up, down) = (read(revision.up_path()), read(revision.down_path()));
        let scope = Scope::of([up.as_str(), down.as_str()]);
        let before = self.fingerprint_within(conn, &scope)?;
        if let Err(e) = self.replay.run(conn, revision, Direction::Up) {
            let failed = format!("base → head stops at revision {id} ({message}): {e}");
            return Ok(Some(Check::failed("upgrade", failed).at(id)));
        }
        if let Err(e) = self.replay.run(conn, revision, Direction::Down) {
            let failed = format!("revision {id} ({message}): its down.sql fails: {e}");
            return Ok(Some(Check::failed("stairway", failed).at(id)));
        }
        let after = self.read_fingerprint(conn, &scope, !before.scoped)?;
        let differences = if after == before {
            Vec::new()
        } else {
            self.explain(conn, range, index)?
        };
        if !differences.is_empty() {
            let mut check = Check::failed(
                "stairway",
                format!(
                    "revision {id} ({message}): its down.sql does not restore the schema before its up.sql ({} difference(s)): {}",
                    differences.len(),
                    revision.down_path().display()
                ),
            )
            .at(id);
            check.differences = differences;
            return Ok(Some(check));
        }
        if let Err(e) = self.replay.run(conn, revision, Direction::Up) {
            let failed =
                format!("revision {id} ({message}): its up.sql fails after its down.sql ran: {e}");
            return Ok(Some(Check::failed("stairway", failed).at(id)));
        }
        Ok(None)
    }

    /// What a fingerprint that changed across the down.sql of `range.climb[index]` is made
    /// of: the scratch database emptied, the history replayed up to that revision, a
    /// snapshot; its up.sql and down.sql, a snapshot; their differences. None means the
    /// catalogs differ only where the snapshot does not look (a column put back at the
    /// end of its table, a spelling it normalises), and the stairway goes on from here.
    fn explain(
        &mut self,
        conn: &mut Connection,
        range: &TestRange<'_>,
        index: usize,
    ) -> Result<Vec<crate::snapshot::Difference>> {
        let revision = range.climb[index];
        self.reporter.detail(format!(
            "stairway: {}: the catalog's fingerprint changed; replaying the history on the emptied scratch database to compare snapshots",
            revision.id
        ));
        self.reads.replays += 1;
        crate::scratch::empty(conn)?;
        crate::journal::ensure_tables(
            conn,
            &self.env.config.version_table,
            &self.env.config.revisions_table,
        )?;
        for earlier in range.before.iter().chain(&range.climb[..index]) {
            self.replay.run(conn, earlier, Direction::Up)?;
        }
        let before = self.snapshot(conn)?;
        self.replay.run(conn, revision, Direction::Up)?;
        self.replay.run(conn, revision, Direction::Down)?;
        let after = self.snapshot(conn)?;
        Ok(compare(&after, &before))
    }

    /// What `check` does, at the head.
    fn model(&mut self, conn: &mut Connection, range: &TestRange<'_>) -> Result<Check> {
        if !range.at_head {
            return Ok(Check::skipped(
                "model",
                format!(
                    "the model: not compared, {} is not the head (the model describes the head)",
                    range.to
                ),
            ));
        }
        let files: Vec<String> = self
            .env
            .config
            .schema_files
            .iter()
            .map(|f| {
                f.strip_prefix(self.env.config.root())
                    .unwrap_or(f)
                    .display()
                    .to_string()
            })
            .collect();
        let files = files.join(", ");
        let comparison = self.env.compare(conn, &AutogenerateOptions::default())?;
        if comparison.is_clean() {
            return Ok(Check::passed(
                "model",
                format!("the model ({files}) matches the database at head"),
            ));
        }
        let mut check = Check::failed(
            "model",
            format!(
                "the model ({files}) differs from the database at head in {} place(s); `cargo dbrev revision --autogenerate -m MSG` writes the revision",
                comparison.changes.len()
            ),
        );
        check.details = comparison.changes.iter().map(|c| c.describe()).collect();
        Ok(check)
    }

    /// Every revision of the range reverted, newest first, back to where the climb started.
    fn descend(
        &mut self,
        conn: &mut Connection,
        range: &TestRange<'_>,
        start: &Snapshot,
    ) -> Result<Check> {
        for revision in range.climb.iter().rev() {
            if let Err(e) = self.replay.run(conn, revision, Direction::Down) {
                let message = format!("head → base stops at revision {}: {e}", revision.id);
                return Ok(Check::failed("downgrade", message).at(&revision.id));
            }
        }
        let end = self.snapshot(conn)?;
        let differences = compare(&end, start);
        let (whole, what) = if range.before.is_empty() {
            (
                "head → base",
                "only dbrev's version tables are left".to_owned(),
            )
        } else {
            (
                "the downgrade",
                "the schema is as before the first revision of the range".to_owned(),
            )
        };
        if differences.is_empty() {
            return Ok(Check::passed("downgrade", format!("{whole}: {what}")));
        }
        let mut check = Check::failed(
            "downgrade",
            format!("{whole} leaves {} difference(s) behind", differences.len()),
        );
        check.differences = differences;
        Ok(check)
    }
}

/// The climb's outcome as the checks `upgrade` and `stairway`: both passed, or the one that
/// failed (the other skipped).
fn split_climb(failed: Vec<Check>, range: &TestRange<'_>) -> (Vec<Check>, Vec<Check>) {
    let n = range.climb.len();
    match failed.into_iter().next() {
        None => (
            vec![Check::passed(
                "upgrade",
                format!("base → {}: {n} revision(s) apply", range.to),
            )],
            vec![Check::passed(
                "stairway",
                format!(
                    "stairway: up, down, up for each of {n} revision(s); every down.sql restores the schema before its up.sql"
                ),
            )],
        ),
        Some(check) if check.check == "upgrade" => (vec![check], Vec::new()),
        Some(check) => (
            vec![Check::skipped(
                "upgrade",
                format!(
                    "base → {}: not finished, the stairway stopped at {} (every revision before it applies)",
                    range.to,
                    check.revision.as_deref().unwrap_or_default()
                ),
            )],
            vec![check],
        ),
    }
}
