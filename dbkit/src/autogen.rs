//! `revision --autogenerate` and `check`: read the model, inspect the database, diff,
//! plan, and write the revision (or report the differences).

use std::path::PathBuf;

use crate::authoring::{RevisionBody, RevisionOptions};
use crate::changes::{Change, DiffOptions, diff};
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::inspect::read_catalog;
use crate::migrate::Environment;
use crate::plan::{Plan, PlanOptions, plan};
use crate::rust_model::read_model;
use crate::term::Reporter;

/// How to autogenerate.
#[derive(Debug, Clone, Default)]
pub struct AutogenerateOptions {
    /// `--rename old=new` / `--rename table.old=new`.
    pub renames: Vec<(String, String)>,
    /// `--fill`: INSERT placeholders for new tables that others reference.
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

/// Parses `old=new` for `--rename`.
pub fn parse_rename(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((old, new)) if !old.trim().is_empty() && !new.trim().is_empty() => {
            Ok((old.trim().to_owned(), new.trim().to_owned()))
        }
        _ => Err(Error::Usage(format!(
            "--rename takes old=new (a table) or table.old=new (a column), not `{text}`"
        ))),
    }
}

impl Environment {
    /// Compares the model (`schema` files) with the connected database.
    pub fn compare(
        &self,
        conn: &mut Connection,
        options: &AutogenerateOptions,
    ) -> Result<Comparison> {
        let backend = conn.backend();
        let model = read_model(&self.config.schema_files, backend)?;
        // dbrev's companion table is bookkeeping, like the version table: not in the model.
        let mut exclude = self.config.exclude.clone();
        exclude.push(self.config.revisions_table.clone());
        let catalog = read_catalog(conn, &self.config.version_table, &exclude)?;
        let catalog_queries = catalog.queries;
        let db = catalog.into_schema(backend);
        let mut model = model;
        let version_table = &self.config.version_table;
        model
            .tables
            .retain(|name, _| name.name != *version_table && !exclude.contains(&name.name));
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
            PlanOptions { fill: options.fill },
        );
        Ok(Comparison {
            changes: found.changes,
            plan: planned,
            tables: db.tables.len(),
            catalog_queries,
        })
    }

    /// Writes a revision from the differences between model and database, or returns
    /// `None` ("No changes detected") when they agree. The database must be at head.
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
        let dir = self.revision_with(
            revision,
            &RevisionBody {
                upgrades: comparison.plan.up_sql(),
                downgrades: comparison.plan.down_sql(),
            },
        )?;
        if comparison
            .plan
            .up_sql()
            .contains(crate::migrate::FILL_MARKER)
        {
            reporter.warn(format!(
                "{}/up.sql has FILL markers: replace them with values before upgrading",
                dir.display()
            ));
        }
        Ok(Some(dir))
    }
}
