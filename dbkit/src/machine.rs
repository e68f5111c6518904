//! `--format json` of `current`, `history`, `heads`, `branches`, `show` and `check`: one
//! JSON document each on stdout, in the shapes README's "Machine output" section documents.
//! Every document carries `"version": 1`; fields are only ever added, and the version is
//! bumped only if one changes meaning. Paths are relative to the package root.

use std::path::Path;

use serde::Serialize;

use crate::autogen::Comparison;
use crate::changes::Change;
use crate::error::Result;
use crate::fork::HeadsCheck;
use crate::graph::{Applied, RevisionGraph};
use crate::journal::RevisionRecord;
use crate::listing;
use crate::migrate::{CurrentState, EditedRevision, Environment, PartialRun};
use crate::script::Revision;
use crate::url::DatabaseUrl;

/// The shape version every document carries.
const VERSION: u32 = 1;

/// What the documents are rendered from: the graph, where paths are relative to, and the
/// database's state when the command read it.
#[derive(Clone, Copy)]
pub struct Listing<'a> {
    /// The revision graph.
    pub graph: &'a RevisionGraph,
    /// The package root (paths are shown relative to it).
    pub root: &'a Path,
    /// The database's state, when the command connected.
    pub state: Option<&'a CurrentState>,
}

/// One revision, as every document shows it.
#[derive(Serialize)]
pub struct RevisionJson {
    id: String,
    message: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    branch_labels: Vec<String>,
    children: Vec<String>,
    head: bool,
    branch_point: bool,
    merge_point: bool,
    create_date: Option<String>,
    path: String,
    has_header: bool,
    run_in_transaction: bool,
    /// Whether the database has it; null when the command did not read the database.
    applied: Option<bool>,
    /// Whether it is one of the database's current heads; null as `applied`.
    current: Option<bool>,
    /// dbrev's record of applying it, when there is one.
    record: Option<RecordJson>,
}

/// A row of the companion table.
#[derive(Serialize)]
struct RecordJson {
    state: &'static str,
    applied_at: Option<String>,
    applied_by: Option<String>,
    duration_ms: Option<i64>,
}

/// A revision a run left half-way.
#[derive(Serialize)]
struct PartialJson {
    id: String,
    direction: &'static str,
    path: String,
    statements_done: usize,
    statements_total: usize,
    next_statement_line: Option<usize>,
    error: Option<String>,
}

impl<'a> Listing<'a> {
    /// The listing of an environment's revisions, with the database's state when read.
    pub fn new(env: &'a Environment, state: Option<&'a CurrentState>) -> Self {
        Listing {
            graph: &env.graph,
            root: env.config.root(),
            state,
        }
    }

    /// A revision's document part.
    pub fn revision(&self, r: &Revision) -> RevisionJson {
        let applied = self.state.map(|s| s.applied.contains(&r.id));
        RevisionJson {
            id: r.id.clone(),
            message: r.message.clone(),
            parents: r.parents.clone(),
            depends_on: r.depends_on.clone(),
            branch_labels: r.branch_labels.clone(),
            children: self
                .graph
                .children(&r.id)
                .iter()
                .map(|c| c.id.clone())
                .collect(),
            head: self.graph.is_head(&r.id),
            branch_point: self.graph.children(&r.id).len() > 1,
            merge_point: r.parents.len() > 1,
            create_date: r.create_date.clone(),
            path: self.shown(&r.dir),
            has_header: r.has_header,
            run_in_transaction: r.run_in_transaction,
            applied,
            current: self.state.map(|s| s.heads.contains(&r.id)),
            record: self.state.and_then(|s| s.records.get(&r.id)).map(record),
        }
    }

    fn revisions<'r>(
        &self,
        revisions: impl IntoIterator<Item = &'r Revision>,
    ) -> Vec<RevisionJson> {
        revisions.into_iter().map(|r| self.revision(r)).collect()
    }

    /// A path relative to the package root (as it is when outside it).
    pub fn shown(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn partial(&self, p: &PartialRun) -> PartialJson {
        PartialJson {
            id: p.id.clone(),
            direction: match p.direction {
                crate::apply::Direction::Up => "up",
                crate::apply::Direction::Down => "down",
            },
            path: self.shown(&p.path),
            statements_done: p.done,
            statements_total: p.total,
            next_statement_line: p.lines.as_ref().and_then(|(_, next)| *next),
            error: p.note.clone(),
        }
    }
}

fn record(r: &RevisionRecord) -> RecordJson {
    RecordJson {
        state: r.state.as_str(),
        applied_at: r.applied_at.and_then(rfc3339),
        applied_by: r.applied_by.clone(),
        duration_ms: r.duration_ms,
    }
}

/// Seconds since the Unix epoch as `2026-11-24T14:30:00Z`.
fn rfc3339(seconds: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// A document as pretty JSON and a newline.
pub use crate::format::render_json as render;

#[derive(Serialize)]
struct RevisionsDocument {
    version: u32,
    revisions: Vec<RevisionJson>,
}

/// `history --format json`: `{"version", "revisions": [...]}`, newest first.
pub fn history(listing: Listing<'_>, range: Option<&str>) -> Result<String> {
    let revisions = listing::history_revisions(listing.graph, range, listing.state)?;
    Ok(render(&RevisionsDocument {
        version: VERSION,
        revisions: listing.revisions(revisions),
    }))
}

/// `show --format json`: `{"version", "revisions": [...]}`, the revisions TARGET names.
pub fn show(listing: Listing<'_>, target: &str) -> Result<String> {
    let revisions = listing::show_revisions(listing.graph, target, listing.state)?;
    Ok(render(&RevisionsDocument {
        version: VERSION,
        revisions: listing.revisions(revisions),
    }))
}

#[derive(Serialize)]
struct HeadsDocument {
    version: u32,
    heads: Vec<RevisionJson>,
    /// With `--check`: what was checked and found; null without.
    check: Option<HeadsCheckJson>,
}

#[derive(Serialize)]
struct HeadsCheckJson {
    against: Option<String>,
    ok: bool,
    problems: Vec<ProblemJson>,
}

#[derive(Serialize)]
struct ProblemJson {
    kind: &'static str,
    message: String,
    revisions: Vec<String>,
    fix: Vec<String>,
}

/// `heads --format json`: `{"version", "heads": [...], "check": null}`.
pub fn heads(listing: Listing<'_>) -> String {
    render(&HeadsDocument {
        version: VERSION,
        heads: listing.revisions(listing.graph.heads()),
        check: None,
    })
}

/// `heads --check [--against REF] --format json`: the heads of the graph checked (after
/// the merge, with `--against`) and `check`: `ok`, and each problem with its kind, the
/// revisions, and the commands that fix it.
pub fn heads_checked(listing: Listing<'_>, checked: &HeadsCheck) -> String {
    render(&HeadsDocument {
        version: VERSION,
        heads: listing.revisions(listing.graph.heads()),
        check: Some(HeadsCheckJson {
            against: checked.against.clone(),
            ok: checked.problems.is_empty(),
            problems: checked
                .problems
                .iter()
                .map(|p| ProblemJson {
                    kind: p.kind.name(),
                    message: p.message.clone(),
                    revisions: p.revisions.clone(),
                    fix: p.fix.clone(),
                })
                .collect(),
        }),
    })
}

#[derive(Serialize)]
struct BranchesDocument {
    version: u32,
    branch_points: Vec<RevisionJson>,
}

/// `branches --format json`: `{"version", "branch_points": [...]}` (each with its
/// `children`).
pub fn branches(listing: Listing<'_>) -> String {
    render(&BranchesDocument {
        version: VERSION,
        branch_points: listing.revisions(listing.graph.branch_points()),
    })
}

#[derive(Serialize)]
struct CurrentDocument {
    version: u32,
    database: String,
    heads: Vec<RevisionJson>,
    applied: Vec<String>,
    pending: Vec<String>,
    unknown: Vec<String>,
    partial: Vec<PartialJson>,
}

/// `current --format json`: the database (masked), its current heads in full, every
/// applied id, the ids `upgrade heads` would apply (in order), applied ids without a
/// directory, and partially applied revisions.
pub fn current(listing: Listing<'_>, state: &CurrentState, database: &DatabaseUrl) -> String {
    let listing = Listing {
        state: Some(state),
        ..listing
    };
    let graph_heads: Vec<String> = listing.graph.heads().iter().map(|r| r.id.clone()).collect();
    render(&CurrentDocument {
        version: VERSION,
        database: database.to_string(),
        heads: listing.revisions(state.heads.iter().filter_map(|id| listing.graph.get(id))),
        applied: state.applied.iter().cloned().collect(),
        pending: pending(listing.graph, &graph_heads, &state.applied),
        unknown: state.unknown.clone(),
        partial: state.partial.iter().map(|p| listing.partial(p)).collect(),
    })
}

fn pending(graph: &RevisionGraph, heads: &[String], applied: &Applied) -> Vec<String> {
    graph
        .upgrade_plan(heads, applied)
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

#[derive(Serialize)]
struct CheckDocument {
    version: u32,
    database: String,
    clean: bool,
    changes: Vec<ChangeJson>,
    edited: Vec<EditedJson>,
    partial: Vec<PartialJson>,
    tables_inspected: usize,
    upgrade_sql: Option<String>,
}

/// One difference between the model and the database.
#[derive(Serialize)]
struct ChangeJson {
    kind: &'static str,
    table: Option<String>,
    #[serde(rename = "type")]
    type_name: Option<String>,
    description: String,
    destructive: Option<String>,
}

/// An applied revision whose `up.sql` changed.
#[derive(Serialize)]
struct EditedJson {
    id: String,
    path: String,
    applied_at: Option<String>,
}

/// What `check` found, for [`check`].
pub struct CheckFindings<'a> {
    /// The model compared with the database.
    pub comparison: &'a Comparison,
    /// The database's state.
    pub state: &'a CurrentState,
    /// Applied revisions whose files changed.
    pub edited: &'a [EditedRevision],
    /// The database compared.
    pub database: &'a DatabaseUrl,
}

/// `check --format json`: `clean` is true when nothing was found (the command then exits
/// 0); the differences, edited and partial revisions otherwise, and the SQL autogenerate
/// would write.
pub fn check(listing: Listing<'_>, found: &CheckFindings<'_>) -> String {
    let clean =
        found.comparison.is_clean() && found.edited.is_empty() && found.state.partial.is_empty();
    render(&CheckDocument {
        version: VERSION,
        database: found.database.to_string(),
        clean,
        changes: found.comparison.changes.iter().map(change).collect(),
        edited: found
            .edited
            .iter()
            .map(|e| EditedJson {
                id: e.id.clone(),
                path: listing.shown(&e.path),
                applied_at: e.applied_at.clone(),
            })
            .collect(),
        partial: found
            .state
            .partial
            .iter()
            .map(|p| listing.partial(p))
            .collect(),
        tables_inspected: found.comparison.tables,
        upgrade_sql: (!found.comparison.is_clean()).then(|| found.comparison.plan.up_sql()),
    })
}

fn change(c: &Change) -> ChangeJson {
    let (kind, type_name) = match c {
        Change::CreateTable(_) => ("create_table", None),
        Change::DropTable(_) => ("drop_table", None),
        Change::RenameTable { .. } => ("rename_table", None),
        Change::AddColumn { .. } => ("add_column", None),
        Change::DropColumn { .. } => ("drop_column", None),
        Change::RenameColumn { .. } => ("rename_column", None),
        Change::AlterColumn { .. } => ("alter_column", None),
        Change::SetPrimaryKey { .. } => ("set_primary_key", None),
        Change::AddForeignKey { .. } => ("add_foreign_key", None),
        Change::DropForeignKey { .. } => ("drop_foreign_key", None),
        Change::CreateEnum { name, .. } => ("create_enum", Some(name)),
        Change::DropEnum { name, .. } => ("drop_enum", Some(name)),
        Change::AddEnumLabels { name, .. } => ("add_enum_labels", Some(name)),
        Change::RebuildEnum { name, .. } => ("rebuild_enum", Some(name)),
    };
    ChangeJson {
        kind,
        table: c.table().map(ToString::to_string),
        type_name: type_name.map(ToString::to_string),
        description: c.describe(),
        destructive: c.destructive(),
    }
}
