//! The commands `--fleet` runs on each tenant, silently (a quiet reporter: what they find
//! goes into the report, not onto stderr): `upgrade` and `downgrade` (each tenant under
//! its own migration lock), `current`, `check`, `test` (a scratch database beside each
//! tenant's database) and `dbexport` (one file per tenant). Commands that only read never
//! create a SQLite file that is not there.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::report::{Detail, FleetReport, Outcome, Status};
use super::run::{FleetOptions, Ran, run};
use super::source::{Fleet, Tenant};
use crate::apply::Direction;
use crate::autogen::AutogenerateOptions;
use crate::db::{Connection, ValueRow};
use crate::error::{Error, IoContext, Result};
use crate::export::{DumpFile, DumpOptions};
use crate::graph::RevisionGraph;
use crate::migrate::Environment;
use crate::proving::TestOptions;
use crate::term::Reporter;

/// Revision ids as one state: `base` for none, `a+b` for several heads.
fn heads_text(ids: &[String]) -> String {
    if ids.is_empty() {
        "base".to_owned()
    } else {
        ids.join("+")
    }
}

/// What `upgrade` / `downgrade --fleet` did on one tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Movement {
    /// Its heads before the run (empty: base); null when they could not be read.
    pub from: Option<Vec<String>>,
    /// Its heads after the run, as far as it got; null when they could not be read.
    pub to: Option<Vec<String>>,
    /// How many revisions ran.
    pub revisions: usize,
}

impl Detail for Movement {
    fn state(&self) -> String {
        let shown = |ids: &Option<Vec<String>>| ids.as_deref().map_or("?".to_owned(), heads_text);
        match (&self.from, &self.to) {
            (Some(from), Some(to)) if from == to && self.revisions == 0 => {
                format!("{} (nothing to do)", heads_text(to))
            }
            (None, None) => "-".to_owned(),
            _ => format!("{} → {}", shown(&self.from), shown(&self.to)),
        }
    }
}

/// Where one tenant is, for `current --fleet`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Position {
    /// Its current heads (empty: base); null when they could not be read.
    pub heads: Option<Vec<String>>,
    /// Whether it is at the revision graph's heads.
    pub at_head: bool,
    /// How many revisions `upgrade heads` would apply.
    pub pending: usize,
    /// Revisions a run left partially applied (or reverted).
    pub partial: Vec<String>,
    /// A SQLite file not created yet (shown at base; `upgrade --fleet` creates it).
    pub missing_file: bool,
}

impl Detail for Position {
    fn state(&self) -> String {
        let Some(heads) = &self.heads else {
            return "-".to_owned();
        };
        let mut state = heads_text(heads);
        match (self.pending, self.missing_file) {
            (0, _) => {}
            (n, false) => state.push_str(&format!(" ({n} pending)")),
            (n, true) => state.push_str(&format!(" ({n} pending, no file yet)")),
        }
        if !self.partial.is_empty() {
            state.push_str(&format!(" (partial: {})", self.partial.join(", ")));
        }
        state
    }
}

/// What `check --fleet` found on one tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    /// Whether model, files and database agree; null when the check could not run.
    pub clean: Option<bool>,
    /// Differences between the model and the database.
    pub changes: usize,
    /// Applied revisions whose files changed since.
    pub edited: usize,
    /// Partially applied revisions.
    pub partial: usize,
}

impl Detail for Verdict {
    fn state(&self) -> String {
        match self.clean {
            None => "-".to_owned(),
            Some(true) => "clean".to_owned(),
            Some(false) => format!(
                "{} change(s), {} edited, {} partial",
                self.changes, self.edited, self.partial
            ),
        }
    }
}

/// What `test --fleet` proved beside one tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Proof {
    /// The scratch database it ran in (masked).
    pub scratch: Option<String>,
    /// How many revisions the stairway climbed.
    pub revisions: usize,
    /// The first check that failed.
    pub failed_check: Option<String>,
}

impl Detail for Proof {
    fn state(&self) -> String {
        match &self.failed_check {
            Some(check) => format!("{} revisions, {check} failed", self.revisions),
            None if self.scratch.is_some() => format!("{} revisions", self.revisions),
            None => "-".to_owned(),
        }
    }
}

/// What `dbexport --fleet` wrote for one tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dumped {
    /// The dump file.
    pub file: Option<String>,
    /// Tables whose rows were written.
    pub tables: usize,
    /// Rows written.
    pub rows: u64,
    /// Bytes written (before compression).
    pub bytes: u64,
}

impl Detail for Dumped {
    fn state(&self) -> String {
        match &self.file {
            Some(file) => format!("{} tables, {} rows → {file}", self.tables, self.rows),
            None => "-".to_owned(),
        }
    }
}

/// A command that only reads refuses a SQLite file that is not there rather than
/// creating it.
fn must_exist(tenant: &Tenant) -> Result<()> {
    if tenant.url.is_missing_file() {
        return Err(crate::driver::connect_error(
            &tenant.url,
            "the file does not exist (only `upgrade --fleet` creates a SQLite database)",
        ));
    }
    Ok(())
}

/// Runs `work` on every tenant and times the whole run.
fn report<T: Detail>(
    command: &'static str,
    verb: &'static str,
    fleet: &Fleet,
    options: &FleetOptions,
    reporter: &Reporter,
    work: impl Fn(&Tenant) -> Ran<T> + Sync,
) -> FleetReport<T> {
    let started = Instant::now();
    let outcomes = run(fleet, options, verb, reporter, work);
    FleetReport {
        command,
        source: fleet.source.clone(),
        outcomes,
        elapsed: started.elapsed(),
    }
}

/// Turns the result of work that found `detail` into what [`run`] collects.
fn ran<T: Default>(detail: T, result: Result<()>) -> Ran<T> {
    match result {
        Ok(()) => Ran::ok(detail),
        Err(e) => Ran::failed(detail, e),
    }
}

impl Environment {
    /// `upgrade --fleet TARGET` / `downgrade --fleet TARGET`: every tenant moved to
    /// `target` under its own migration lock (a SQLite file that is not there is created
    /// by `upgrade`, as without `--fleet`).
    pub fn fleet_migrate(
        &self,
        fleet: &Fleet,
        target: &str,
        direction: Direction,
        options: &FleetOptions,
        reporter: &Reporter,
    ) -> FleetReport<Movement> {
        fleet.announce(reporter);
        let (command, verb) = match direction {
            Direction::Up => ("upgrade", "Upgraded"),
            Direction::Down => ("downgrade", "Downgraded"),
        };
        report(command, verb, fleet, options, reporter, |tenant| {
            let mut movement = Movement::default();
            let result = self.migrate_tenant(tenant, target, direction, &mut movement);
            ran(movement, result)
        })
    }

    fn migrate_tenant(
        &self,
        tenant: &Tenant,
        target: &str,
        direction: Direction,
        movement: &mut Movement,
    ) -> Result<()> {
        if direction == Direction::Down {
            must_exist(tenant)?;
        }
        let env = tenant.environment(self);
        let quiet = Reporter::quiet();
        let mut conn = env.connect()?;
        // Where the tenant starts, for the summary only, read before the migration lock:
        // a tenant whose lock another session holds fails in the run below with the
        // lock's own error (holder, time-out), not with this read's.
        movement.from = env.current(&mut conn).ok().map(|s| s.heads);
        let result = match direction {
            Direction::Up => env.upgrade(&mut conn, target, &quiet),
            Direction::Down => env.downgrade(&mut conn, target, &quiet),
        };
        movement.to = env.current(&mut conn).ok().map(|s| s.heads);
        movement.revisions = result?.len();
        Ok(())
    }

    /// `current --fleet`: where each tenant is.
    pub fn fleet_current(
        &self,
        fleet: &Fleet,
        options: &FleetOptions,
        reporter: &Reporter,
    ) -> FleetReport<Position> {
        fleet.announce(reporter);
        let graph_heads: Vec<String> = self.graph.heads().iter().map(|r| r.id.clone()).collect();
        report("current", "Read", fleet, options, reporter, |tenant| {
            let mut position = Position::default();
            let result = self.locate_tenant(tenant, &graph_heads, &mut position);
            ran(position, result)
        })
    }

    /// Where one tenant is; a SQLite file not created yet is at base (and stays absent).
    fn locate_tenant(
        &self,
        tenant: &Tenant,
        graph_heads: &[String],
        position: &mut Position,
    ) -> Result<()> {
        let (applied, heads) = if tenant.url.is_missing_file() {
            position.missing_file = true;
            (crate::graph::Applied::new(), Vec::new())
        } else {
            let env = tenant.environment(self);
            let mut conn = env.connect()?;
            let state = env.current(&mut conn)?;
            position.partial = state.partial.iter().map(|p| p.id.clone()).collect();
            (state.applied, state.heads)
        };
        position.pending = self.graph.upgrade_plan(graph_heads, &applied).len();
        let sorted = |ids: &[String]| {
            let mut ids = ids.to_vec();
            ids.sort();
            ids
        };
        position.at_head = position.pending == 0 && sorted(&heads) == sorted(graph_heads);
        position.heads = Some(heads);
        Ok(())
    }

    /// `check --fleet`: each tenant's database against the model, and its applied files
    /// against what ran; a tenant that differs fails with exit code 1.
    pub fn fleet_check(
        &self,
        fleet: &Fleet,
        options: &FleetOptions,
        reporter: &Reporter,
    ) -> FleetReport<Verdict> {
        fleet.announce(reporter);
        report("check", "Checked", fleet, options, reporter, |tenant| {
            let mut verdict = Verdict::default();
            let result = self.check_tenant(tenant, &mut verdict);
            ran(verdict, result)
        })
    }

    fn check_tenant(&self, tenant: &Tenant, verdict: &mut Verdict) -> Result<()> {
        must_exist(tenant)?;
        let env = tenant.environment(self);
        let mut conn = env.connect()?;
        let comparison = env.compare(&mut conn, &AutogenerateOptions::default())?;
        let state = env.current(&mut conn)?;
        let edited = env.edited_revisions(&state)?;
        verdict.changes = comparison.changes.len();
        verdict.edited = edited.len();
        verdict.partial = state.partial.len();
        let clean = verdict.changes + verdict.edited + verdict.partial == 0;
        verdict.clean = Some(clean);
        if clean {
            return Ok(());
        }
        let first = comparison
            .changes
            .first()
            .map(|c| c.describe())
            .or_else(|| edited.first().map(|e| e.describe()))
            .or_else(|| state.partial.first().map(|p| p.describe()))
            .unwrap_or_default();
        Err(Error::Differences(format!(
            "{} difference(s) with the model, {} edited and {} partially applied revision(s); first: {first}",
            verdict.changes, verdict.edited, verdict.partial
        )))
    }

    /// `test --fleet`: the history proven on a scratch database beside each tenant's
    /// database (on its server); a failing check fails the tenant with exit code 1.
    pub fn fleet_test(
        &self,
        fleet: &Fleet,
        test: &TestOptions,
        options: &FleetOptions,
        reporter: &Reporter,
    ) -> FleetReport<Proof> {
        fleet.announce(reporter);
        report("test", "Tested", fleet, options, reporter, |tenant| {
            let mut proof = Proof::default();
            let result = (|| {
                let mut env = self.clone();
                env.config.database_url = tenant.database.clone();
                let test = TestOptions {
                    scratch_url: None,
                    ..test.clone()
                };
                let tested = env.test(&test, &Reporter::quiet())?;
                proof.scratch = tested.scratch.clone();
                proof.revisions = tested.revisions;
                match tested.failure() {
                    Some(check) => {
                        proof.failed_check = Some(check.check.to_owned());
                        Err(Error::Differences(format!(
                            "cargo dbrev test failed: {}",
                            check.message
                        )))
                    }
                    None => Ok(()),
                }
            })();
            ran(proof, result)
        })
    }
}

/// Where `dbexport --fleet` writes and what it dumps.
#[derive(Debug, Clone, Copy)]
pub struct FleetExport<'a> {
    /// The directory that gets one `NAME.sql` per tenant (created when missing).
    pub dir: &'a Path,
    /// What every dump holds.
    pub options: &'a DumpOptions,
}

/// `dbexport --fleet -o DIR`: one dump per tenant, `DIR/NAME.sql`, NAME from its database
/// (and schema) name. A schema tenant's dump holds the objects of its schema only.
pub fn fleet_export(
    fleet: &Fleet,
    export: &FleetExport<'_>,
    options: &FleetOptions,
    reporter: &Reporter,
) -> Result<FleetReport<Dumped>> {
    fleet.announce(reporter);
    std::fs::create_dir_all(export.dir).at(export.dir)?;
    Ok(report(
        "dbexport",
        "Dumped",
        fleet,
        options,
        reporter,
        |tenant| {
            let mut dumped = Dumped::default();
            let result = dump_tenant(tenant, export, &mut dumped);
            ran(dumped, result)
        },
    ))
}

fn dump_tenant(tenant: &Tenant, export: &FleetExport<'_>, dumped: &mut Dumped) -> Result<()> {
    must_exist(tenant)?;
    let path = export.dir.join(format!("{}.sql", tenant.file_stem));
    let file = DumpFile::create(&path)?;
    let mut conn = Connection::establish(&tenant.url)?;
    let mut options = export.options.clone();
    if tenant.schema.is_some() {
        must_hold_tables(&mut conn, tenant)?;
        options.current_schema_only = true;
    }
    let stats = file.write(&mut conn, &options, &Reporter::quiet())?;
    dumped.file = Some(path.display().to_string());
    dumped.tables = stats.tables;
    dumped.rows = stats.rows;
    dumped.bytes = stats.bytes;
    Ok(())
}

/// A schema tenant's schema (its search path) holds tables: an empty or missing one is an
/// error rather than a dump of nothing.
fn must_hold_tables(conn: &mut Connection, tenant: &Tenant) -> Result<()> {
    let sql = conn.dialect().list_tables_query();
    let tables: Vec<String> = conn
        .load::<ValueRow>(sql)
        .map_err(|e| Error::sql(format!("listing the tables of {}", tenant.name), e))?
        .into_iter()
        .filter_map(|r| r.value)
        .collect();
    if tables.is_empty() {
        return Err(Error::Export(format!(
            "{} holds no tables: nothing to dump",
            tenant.name
        )));
    }
    Ok(())
}

/// How many tenants sit at one revision (their heads), for `current --fleet`.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionCount {
    /// The heads (empty: base).
    pub heads: Vec<String>,
    /// Whether these are the revision graph's heads.
    pub at_head: bool,
    /// How many tenants.
    pub databases: usize,
}

/// The tenants counted per revision, the graph's heads first, then newest to oldest,
/// base last (tenants whose state could not be read are not counted).
pub fn revision_counts(
    report: &FleetReport<Position>,
    graph: &RevisionGraph,
) -> Vec<RevisionCount> {
    let mut counts: Vec<RevisionCount> = Vec::new();
    for o in &report.outcomes {
        let Some(heads) = &o.detail.heads else {
            continue;
        };
        match counts.iter_mut().find(|c| c.heads == *heads) {
            Some(c) => c.databases += 1,
            None => counts.push(RevisionCount {
                heads: heads.clone(),
                at_head: o.detail.at_head,
                databases: 1,
            }),
        }
    }
    let position = |heads: &[String]| {
        heads
            .iter()
            .filter_map(|id| graph.revisions().iter().position(|r| r.id == *id))
            .max()
    };
    counts.sort_by_key(|c| {
        (
            !c.at_head,
            std::cmp::Reverse(position(&c.heads).map_or(0, |p| p + 1)),
        )
    });
    counts
}

/// `current --fleet` as text: how many databases at each revision, then those not at the
/// head and those that failed, each with its state or error.
pub fn current_text(report: &FleetReport<Position>, graph: &RevisionGraph) -> String {
    let counts = revision_counts(report, graph);
    let mut out = String::new();
    for c in &counts {
        let head = if c.at_head { " (head)" } else { "" };
        out.push_str(&format!(
            "{:>6}  {}{head}\n",
            c.databases,
            heads_text(&c.heads)
        ));
    }
    let list = |out: &mut String, title: &str, rows: Vec<(&Outcome<Position>, String)>| {
        if rows.is_empty() {
            return;
        }
        out.push_str(&format!("{title} ({}):\n", rows.len()));
        for (o, what) in rows {
            out.push_str(&format!("  {}  {what}\n", o.database));
        }
    };
    let behind = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Ok && !o.detail.at_head)
        .map(|o| (o, o.detail.state()))
        .collect();
    list(&mut out, "not at head", behind);
    let failed = report
        .outcomes
        .iter()
        .filter(|o| o.status != Status::Ok)
        .map(|o| (o, o.error.clone().unwrap_or_default()))
        .collect();
    list(&mut out, "failed", failed);
    out
}

/// `current --fleet --format json`: the fleet document with `revisions`, the counts.
pub fn current_json(report: &FleetReport<Position>, graph: &RevisionGraph) -> String {
    #[derive(Serialize)]
    struct Extra {
        revisions: Vec<RevisionCount>,
    }
    report.json(Extra {
        revisions: revision_counts(report, graph),
    })
}
