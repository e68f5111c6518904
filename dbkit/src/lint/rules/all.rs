//! Rules for every backend (ALL001–ALL005): data loss, renames the running app still
//! reads, row changes without `WHERE`, and NOT NULL columns nothing fills.

use super::{FileContext, Hit, rebuilds};
use crate::lint::facts::Fact;

/// Runs ALL001–ALL005 on one file.
pub fn check(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    let rebuilt = rebuilds(ctx);
    let reverted = ctx.reverted;
    let reverts_column = |table: &str, column: &str| {
        reverted.is_some_and(|r| {
            r.tables.contains(table)
                || r.columns
                    .contains(&(table.to_owned(), column.to_lowercase()))
        })
    };
    let reverts_rename = |table: &str, from: &str, to: &str| {
        reverted.is_some_and(|r| {
            r.renames
                .contains(&(table.to_owned(), to.to_lowercase(), from.to_lowercase()))
        })
    };
    let expand_contract = "expand and contract: stop using it in the app and deploy that first, then drop it in a later revision (keep a copy: `cargo dbexport --tables ...`)";
    for (i, fact) in ctx.facts() {
        let Some(table) = fact.table() else {
            continue;
        };
        if ctx.is_new(i, table) {
            continue;
        }
        let key = table.key();
        let hit = match fact {
            Fact::DropTable { table }
                if !ctx.reverts_table(table) && !rebuilt.iter().any(|r| r.drop == i) =>
            {
                Hit::new(
                    "ALL001",
                    i,
                    format!("DROP TABLE {table} deletes the table and every row in it"),
                )
                .effect("all of them are lost")
                .safe(expand_contract)
            }
            Fact::DropColumn { column, .. } if !reverts_column(&key, column) => Hit::new(
                "ALL001",
                i,
                format!(
                    "DROP COLUMN {table}.{column} deletes the column's data, and the running app fails if it still reads {column}"
                ),
            )
            .effect("the column's value in every row is lost")
            .safe(expand_contract),
            Fact::RenameTable { to, .. } if !reverts_rename("", &table.name, to) => Hit::new(
                "ALL002",
                i,
                format!(
                    "renaming {table} to {to} breaks the running app, which reads {table} until its new version is deployed"
                ),
            )
            .safe(format!(
                "expand and contract: create {to}, write to both, copy the rows, switch the app, drop {table} later (PostgreSQL: rename, then `CREATE VIEW {table} AS SELECT * FROM {to}` keeps old readers working)"
            )),
            Fact::RenameColumn { from, to, .. } if !reverts_rename(&key, from, to) => Hit::new(
                "ALL002",
                i,
                format!(
                    "renaming {table}.{from} to {to} breaks the running app, which reads {from} until its new version is deployed"
                ),
            )
            .safe(format!(
                "expand and contract: add {to}, write to both, fill it in batches, switch the app to {to}, drop {from} in a later revision"
            )),
            Fact::Delete {
                filtered: false, ..
            } => Hit::new(
                "ALL003",
                i,
                format!("DELETE without WHERE deletes every row of {table}"),
            )
            .effect("all of them are lost")
            .safe("add the WHERE you mean; to empty a table on purpose, say why with `-- dbrev:allow ALL003 <reason>`"),
            Fact::Truncate { .. } => Hit::new(
                "ALL003",
                i,
                format!("TRUNCATE deletes every row of {table}"),
            )
            .effect("all of them are lost")
            .safe("delete what you mean with a WHERE; to empty a table on purpose, say why with `-- dbrev:allow ALL003 <reason>`"),
            Fact::Update {
                filtered: false, ..
            } => Hit::new(
                "ALL005",
                i,
                format!("UPDATE without WHERE changes every row of {table} in one transaction, locking each until it commits"),
            )
            .effect("every row stays locked until the end")
            .safe("update in batches by key range (WHERE id BETWEEN ... AND ...), in a revision of its own"),
            Fact::AddColumn { column, .. }
                if column.not_null && column.default.is_none() && column.generated.is_none() =>
            {
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
                ))
            }
            _ => continue,
        };
        hits.push(hit.table(table));
    }
    // A rebuild that leaves columns out of the copy drops them.
    for rebuild in &rebuilt {
        let key = rebuild.table.key();
        let Some(before) = ctx.catalog_at(rebuild.create).columns(&key) else {
            continue;
        };
        let lost: Vec<String> = before
            .into_iter()
            .filter(|c| !rebuild.copies(c) && !reverts_column(&key, c))
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
                .safe(expand_contract),
            );
        }
    }
}
