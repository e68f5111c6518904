//! SQLite's dump: the `CREATE` statements stored in `sqlite_master`, rows formatted by
//! `quote()` (reals with 17 significant digits, so they round-trip), and the
//! `sqlite_sequence` counters of AUTOINCREMENT tables.

use diesel::QueryableByName;
use diesel::sql_types::Text;

use super::{
    DataTable, Ddl, DumpOptions, Objects, RowSource, columns_by_table, query_error, selected,
};
use crate::db::Connection;
use crate::dialect::{Dialect, SqliteDialect};
use crate::error::Result;

#[derive(QueryableByName)]
struct MasterRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl_name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// One value as an SQL literal that reads back identically.
fn literal(column: &str) -> String {
    format!(
        "CASE typeof({c}) WHEN 'real' THEN CASE WHEN {c} = 9e999 THEN '9e999' WHEN {c} = -9e999 THEN '-9e999' ELSE printf('%!.17g', {c}) END ELSE quote({c}) END",
        c = column
    )
}

/// Reads what to dump, inside a read transaction (one snapshot for the whole dump).
pub(super) fn objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    let d = SqliteDialect;
    conn.batch_execute("BEGIN")
        .map_err(|e| query_error("snapshot", e))?;
    let master: Vec<MasterRow> = conn
        .load(
            "SELECT type AS kind, name, tbl_name, sql FROM sqlite_master \
             WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
        )
        .map_err(|e| query_error("sqlite_master", e))?;
    let mut objects = Objects {
        settings: vec!["PRAGMA foreign_keys=OFF".into(), "BEGIN TRANSACTION".into()],
        footer: vec!["COMMIT".into()],
        ..Objects::default()
    };
    let keep = |row: &MasterRow| row.kind == "view" || selected(options, &row.tbl_name);
    for row in master.iter().rev().filter(|r| keep(r)) {
        let what = match row.kind.as_str() {
            "trigger" if !options.no_triggers => "TRIGGER",
            "view" => "VIEW",
            "table" => "TABLE",
            _ => continue,
        };
        objects.drops.push(Ddl::plain(format!(
            "DROP {what} IF EXISTS {}",
            d.quote_ident(&row.name)
        )));
    }
    for row in master.iter().filter(|r| keep(r)) {
        match row.kind.as_str() {
            "table" => objects.before.push(Ddl::plain(row.sql.clone())),
            "index" | "view" => objects.after.push(Ddl::plain(row.sql.clone())),
            "trigger" if !options.no_triggers => objects.after.push(Ddl::plain(row.sql.clone())),
            _ => {}
        }
    }
    for t in columns_by_table(conn)? {
        let (table, columns) = (t.name, t.columns);
        if !selected(options, &table) {
            continue;
        }
        let copied: Vec<&str> = columns
            .iter()
            .filter(|c| c.extra.as_deref() != Some("generated"))
            .map(|c| c.column_name.as_str())
            .collect();
        let quoted: Vec<String> = copied.iter().map(|c| d.quote_ident(c)).collect();
        let values: Vec<String> = quoted.iter().map(|c| literal(c)).collect();
        objects.tables.push(DataTable {
            name: table.clone(),
            insert: format!(
                "INSERT INTO {} ({}) VALUES",
                d.quote_ident(&table),
                quoted.join(", ")
            ),
            rows: RowSource::Literals(format!(
                "SELECT '(' || {} || ')' AS value FROM {}",
                values.join(" || ',' || "),
                d.quote_ident(&table)
            )),
        });
    }
    let has_sequence = conn
        .query_value("SELECT name AS value FROM sqlite_master WHERE name = 'sqlite_sequence'")
        .map_err(|e| query_error("sqlite_sequence", e))?
        .is_some();
    if has_sequence && !options.schema_only {
        let counters = conn
            .load::<crate::db::ValueRow>(
                "SELECT 'INSERT INTO sqlite_sequence (name, seq) VALUES (' || quote(name) || ', ' || seq || ')' AS value FROM sqlite_sequence",
            )
            .map_err(|e| query_error("sqlite_sequence", e))?;
        objects
            .after
            .push(Ddl::plain("DELETE FROM sqlite_sequence"));
        for counter in counters.into_iter().filter_map(|c| c.value) {
            objects.after.push(Ddl::plain(counter));
        }
    }
    Ok(objects)
}
