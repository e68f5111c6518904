//! Rules for every backend (ALL001–ALL005): data loss, renames the running app still
//! reads, row changes without `WHERE`, and NOT NULL columns nothing fills.

use super::{FileContext, Hit, Rebuild, rebuilds};
use crate::lint::facts::Fact;

/// What every drop that loses data should do instead.
const EXPAND_CONTRACT: &str = "expand and contract: stop using it in the app and deploy that first, then drop it in a later revision (keep a copy: `cargo dbexport --tables ...`)";

/// Runs ALL001–ALL005 on one file.
pub fn check(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    let rebuilt = rebuilds(ctx);
    for (i, fact) in ctx.facts() {
        let Some(table) = fact.table() else {
            continue;
        };
        if ctx.is_new(i, table) {
            continue;
        }
        let hit = dropped(ctx, i, fact, &rebuilt)
            .or_else(|| renamed(ctx, i, fact))
            .or_else(|| every_row(i, fact))
            .or_else(|| unfilled(i, fact));
        if let Some(hit) = hit {
            hits.push(hit.table(table));
        }
    }
    rebuilds_leaving_out_columns(ctx, &rebuilt, hits);
}

/// ALL001: a table or a column dropped with its data (not up.sql's own undone by
/// down.sql, not a rebuild's old table).
fn dropped(ctx: &FileContext<'_>, i: usize, fact: &Fact, rebuilt: &[Rebuild]) -> Option<Hit> {
    match fact {
        Fact::DropTable { table }
            if !ctx.reverts_table(table) && !rebuilt.iter().any(|r| r.drop == i) =>
        {
            Some(
                Hit::new(
                    "ALL001",
                    i,
                    format!("DROP TABLE {table} deletes the table and every row in it"),
                )
                .effect("all of them are lost")
                .safe(EXPAND_CONTRACT),
            )
        }
        Fact::DropColumn { table, column } if !ctx.reverts_column(&table.key(), column) => Some(
            Hit::new(
                "ALL001",
                i,
                format!(
                    "DROP COLUMN {table}.{column} deletes the column's data, and the running app fails if it still reads {column}"
                ),
            )
            .effect("the column's value in every row is lost")
            .safe(EXPAND_CONTRACT),
        ),
        _ => None,
    }
}

/// ALL002: a table or a column renamed under the running app (not up.sql's own undone).
fn renamed(ctx: &FileContext<'_>, i: usize, fact: &Fact) -> Option<Hit> {
    match fact {
        Fact::RenameTable { from: table, to } if !ctx.reverts_rename("", &table.name, to) => Some(
            Hit::new(
                "ALL002",
                i,
                format!(
                    "renaming {table} to {to} breaks the running app, which reads {table} until its new version is deployed"
                ),
            )
            .safe(format!(
                "expand and contract: create {to}, write to both, copy the rows, switch the app, drop {table} later (PostgreSQL: rename, then `CREATE VIEW {table} AS SELECT * FROM {to}` keeps old readers working)"
            )),
        ),
        Fact::RenameColumn {
            table, from, to, ..
        } if !ctx.reverts_rename(&table.key(), from, to) => Some(
            Hit::new(
                "ALL002",
                i,
                format!(
                    "renaming {table}.{from} to {to} breaks the running app, which reads {from} until its new version is deployed"
                ),
            )
            .safe(format!(
                "expand and contract: add {to}, write to both, fill it in batches, switch the app to {to}, drop {from} in a later revision"
            )),
        ),
        _ => None,
    }
}

/// ALL003 and ALL005: every row of a table deleted or updated at once.
fn every_row(i: usize, fact: &Fact) -> Option<Hit> {
    match fact {
        Fact::Delete {
            table,
            filtered: false,
        } => Some(Hit::new(
            "ALL003",
            i,
            format!("DELETE without WHERE deletes every row of {table}"),
        )
        .effect("all of them are lost")
        .safe("add the WHERE you mean; to empty a table on purpose, say why with `-- dbrev:allow ALL003 <reason>`")),
        Fact::Truncate { table } => Some(Hit::new(
            "ALL003",
            i,
            format!("TRUNCATE deletes every row of {table}"),
        )
        .effect("all of them are lost")
        .safe("delete what you mean with a WHERE; to empty a table on purpose, say why with `-- dbrev:allow ALL003 <reason>`")),
        Fact::Update {
            table,
            filtered: false,
        } => Some(Hit::new(
            "ALL005",
            i,
            format!("UPDATE without WHERE changes every row of {table} in one transaction, locking each until it commits"),
        )
        .effect("every row stays locked until the end")
        .safe("update in batches by key range (WHERE id BETWEEN ... AND ...), in a revision of its own")),
        _ => None,
    }
}

/// ALL004: a NOT NULL column added with nothing to fill the existing rows.
fn unfilled(i: usize, fact: &Fact) -> Option<Hit> {
    match fact {
        Fact::AddColumn { table, column }
            if column.not_null && column.default.is_none() && column.generated.is_none() =>
        {
            Some(
                Hit::new(
                    "ALL004",
                    i,
                    format!(
                        "ADD COLUMN {} NOT NULL without a DEFAULT: PostgreSQL and SQLite refuse it on a table with rows, MySQL fills existing rows with 0 or ''",
                        column.name
                    ),
                )
                .safe(format!(
                    "ALTER TABLE {table} ADD COLUMN {} {} NOT NULL DEFAULT <value>; or add it nullable, fill it in batches, then make it NOT NULL",
                    column.name, column.ty
                )),
            )
        }
        _ => None,
    }
}

/// ALL001: a rebuild whose copy leaves columns out drops them.
fn rebuilds_leaving_out_columns(ctx: &FileContext<'_>, rebuilt: &[Rebuild], hits: &mut Vec<Hit>) {
    for rebuild in rebuilt {
        let key = rebuild.table.key();
        let Some(before) = ctx.catalog_at(rebuild.create).columns(&key) else {
            continue;
        };
        let lost: Vec<String> = before
            .into_iter()
            .filter(|c| !rebuild.copies(c) && !ctx.reverts_column(&key, c))
            .collect();
        if !lost.is_empty() {
            hits.push(
                Hit::new(
                    "ALL001",
                    rebuild.drop,
                    format!(
                        "rebuilding {} leaves out {}: the data in it is lost",
                        rebuild.table,
                        lost.join(", ")
                    ),
                )
                .table(&rebuild.table)
                .effect("those values in every row are lost")
                .safe(EXPAND_CONTRACT),
            );
        }
    }
}
