//! `revision --autogenerate` and `check`: read the model, inspect the database, diff,
//! plan, and write the revision (or report the differences).
//!
//! Both sides are narrowed to what the model speaks about before the diff: the PostgreSQL
//! schemas its `table!`s name (the current one for unqualified tables), the tables
//! dbrev.toml's `include` / `exclude` keep ([`TableFilter`]), never dbrev's own tables, and
//! never a database table print-schema skips (`__` names) unless the model declares it.

use std::path::PathBuf;

use crate::authoring::{RevisionBody, RevisionOptions};
use crate::changes::{Change, DiffOptions, Rename, diff};
use crate::db::Connection;
use crate::error::{Error, IoContext, Result};
use crate::filter::{TableFilter, print_schema_skips};
use crate::graph::RevisionGraph;
use crate::inspect::{SchemaScope, read_catalog_in};
use crate::migrate::Environment;
use crate::plan::{Plan, PlanOptions, PlannedRevision, plan};
use crate::rust_enums::EnumLabels;
use crate::rust_model::read_model;
use crate::term::Reporter;

/// How to autogenerate.
#[derive(Debug, Clone, Default)]
pub struct AutogenerateOptions {
    /// `--rename old=new` / `--rename table.old=new`.
    pub renames: Vec<Rename>,
    /// `--fill`: an `INSERT` of the first rows, as a FILL marker, for each new table the
    /// model's foreign keys reference.
    pub fill: bool,
}

/// The model compared with the database.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The changes that would bring the database to the model.
    pub changes: Vec<Change>,
    /// The SQL plan for them.
    pub plan: Plan,
    /// How many tables the database has (after exclusions).
    pub tables: usize,
    /// How many catalog queries inspecting the database took.
    pub catalog_queries: usize,
}

impl Comparison {
    /// Whether model and database agree.
    pub fn is_clean(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Parses `--rename`'s `old=new` (a table) or `table.old=new` (a column).
pub fn parse_rename(text: &str) -> Result<Rename> {
    Rename::parse(text).ok_or_else(|| {
        Error::Usage(format!(
            "--rename takes old=new (a table) or table.old=new (a column), not `{text}`"
        ))
    })
}

impl Environment {
    /// Compares the model (`schema` files) with the connected database.
    pub fn compare(
        &self,
        conn: &mut Connection,
        options: &AutogenerateOptions,
    ) -> Result<Comparison> {
        let backend = conn.backend();
        let filter = TableFilter::from_config(&self.config)?;
        let labels = EnumLabels::scan(&self.config.root().join("src"));
        let mut model = read_model(&self.config.schema_files, backend, labels)?;
        model.tables.retain(|name, _| filter.keeps(name));
        let catalog = read_catalog_in(conn, &SchemaScope::of_model(&model))?;
        let catalog_queries = catalog.queries;
        let mut db = catalog.into_schema(backend);
        let compared = |name: &crate::model::TableName| {
            filter.keeps(name) && (!print_schema_skips(name) || model.tables.contains_key(name))
        };
        db.tables.retain(|name, _| compared(name));
        db.relations.retain(|name, _| compared(name));
        let found = diff(
            &db,
            &model,
            &DiffOptions {
                renames: options.renames.clone(),
            },
        );
        let planned = plan(
            &db,
            &model,
            &found,
            backend,
            PlanOptions {
                first_rows: options.fill,
            },
        );
        Ok(Comparison {
            changes: found.changes,
            plan: planned,
            tables: db.tables.len(),
            catalog_queries,
        })
    }

    /// Writes a revision from the differences between model and database, or returns
    /// `None` ("No changes detected") when they agree. The database must be at head. When
    /// the plan has a follow-up part (PostgreSQL's `VALIDATE`, `SET NOT NULL` through a
    /// validated check, indexes built `CONCURRENTLY`), a second revision revising the first
    /// holds it; the first is reported here and the last one returned. A revision that
    /// must run outside the runner's transaction gets diesel's `metadata.toml`.
    pub fn autogenerate(
        &self,
        conn: &mut Connection,
        revision: &RevisionOptions,
        options: &AutogenerateOptions,
        reporter: &Reporter,
    ) -> Result<Option<PathBuf>> {
        let state = self.current(conn)?;
        let heads: Vec<String> = self.graph.heads().iter().map(|r| r.id.clone()).collect();
        let missing: Vec<&String> = heads
            .iter()
            .filter(|h| !state.applied.contains(*h))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Migration(format!(
                "the database is not up to date (missing {}); run `cargo dbrev upgrade head` before autogenerating",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let comparison = self.compare(conn, options)?;
        if comparison.is_clean() {
            reporter.note("No changes", "detected: the model and the database agree");
            return Ok(None);
        }
        for change in &comparison.changes {
            reporter.note("Detected", change.describe());
        }
        for d in &comparison.plan.destructive {
            reporter.warn(format!("destructive: {d}"));
        }
        for hint in &comparison.plan.rename_hints {
            reporter.warn(format!(
                "drop + add may be a rename; to keep the data, run again with --rename {hint}"
            ));
        }
        let mut written = self.write_planned(revision, &comparison.plan.revisions(), reporter)?;
        // The caller reports the last one; the ones before it are reported here, in order.
        let last = written.pop();
        for dir in &written {
            let shown = dir.strip_prefix(self.config.root()).unwrap_or(dir);
            reporter.status(
                "Created",
                format!("{}/up.sql and down.sql", shown.display()),
            );
        }
        if !written.is_empty() {
            reporter.note(
                "Note",
                "the last revision validates what the first adds (and builds indexes without blocking writes); run both",
            );
        }
        Ok(last)
    }
}

impl Environment {
    /// Writes the planned revisions, each revising the one before (the first where
    /// `revision` says), with `metadata.toml` where one runs outside a transaction.
    fn write_planned(
        &self,
        revision: &RevisionOptions,
        planned: &[PlannedRevision],
        reporter: &Reporter,
    ) -> Result<Vec<PathBuf>> {
        let mut written: Vec<PathBuf> = Vec::new();
        for (i, part) in planned.iter().enumerate() {
            let dir = match written.last() {
                None => self.revision_with(revision, &body(part))?,
                Some(first) => {
                    // The follow-up revises the first: a graph that knows it.
                    let env = Environment {
                        config: self.config.clone(),
                        graph: RevisionGraph::load(&self.config.versions_dir)?,
                    };
                    let parent = env
                        .graph
                        .revisions()
                        .iter()
                        .find(|r| r.dir == *first)
                        .map(|r| r.id.clone());
                    let options = RevisionOptions {
                        message: format!(
                            "{} (part {} of {})",
                            revision.message,
                            i + 1,
                            planned.len()
                        ),
                        head: parent,
                        ..RevisionOptions::default()
                    };
                    env.revision_with(&options, &body(part))?
                }
            };
            if !part.run_in_transaction {
                let metadata = dir.join("metadata.toml");
                std::fs::write(&metadata, METADATA_OUTSIDE_TRANSACTION).at(&metadata)?;
            }
            if part.up.contains(crate::migrate::FILL_MARKER) {
                reporter.warn(format!(
                    "{}/up.sql has FILL markers: replace them with values before upgrading",
                    dir.display()
                ));
            }
            written.push(dir);
        }
        Ok(written)
    }
}

/// diesel's `metadata.toml` for a revision the runner must not wrap in a transaction.
const METADATA_OUTSIDE_TRANSACTION: &str = "# Written by cargo dbrev revision --autogenerate: this revision opens its own\n# transaction where it needs one, or runs statements that cannot run inside one.\nrun_in_transaction = false\n";

/// A planned revision's files.
fn body(part: &PlannedRevision) -> RevisionBody {
    RevisionBody {
        upgrades: part.up.clone(),
        downgrades: part.down.clone(),
    }
}
