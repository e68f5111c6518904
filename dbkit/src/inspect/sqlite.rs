//! SQLite's catalog through the `pragma_*` table-valued functions: two queries in all
//! (columns of tables and views; keys and indexes), and what diesel's print-schema makes
//! of them ([`as_diesel_reads_it`]).

use super::{Catalog, ColumnRow, KeyRow, query};
use crate::db::Connection;
use crate::error::Result;
use crate::model::Schema;

const TABLES: &str = "(SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\')";

const RELATIONS: &str = "(SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\')";

/// The names a table's implicit row key answers to, in the order print-schema picks the
/// first one no column has taken.
const ROWID_ALIASES: &[&str] = &["rowid", "oid", "_rowid_"];

/// Reads columns, keys and indexes of every table, and the columns of every view.
pub fn read(conn: &mut Connection) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let columns = format!(
        "SELECT NULL AS table_schema, t.name AS table_name, c.name AS column_name, \
         c.type AS data_type, CASE WHEN c.\"notnull\" = 0 THEN 'YES' ELSE 'NO' END AS is_nullable, \
         c.dflt_value AS column_default, \
         CASE WHEN c.hidden IN (2, 3) THEN 'generated' END AS extra, \
         CASE WHEN t.type = 'view' THEN 'view' END AS relation, NULL AS base_type \
         FROM {RELATIONS} t JOIN pragma_table_xinfo(t.name) c ORDER BY t.name, c.cid"
    );
    catalog.columns = query::<ColumnRow>(conn, &mut catalog, "columns", &columns)?;
    let keys = format!(
        "SELECT NULL AS table_schema, t.name AS table_name, 'PRIMARY' AS kind, NULL AS key_name, \
                c.name AS column_name, CAST(c.pk AS TEXT) AS position, NULL AS ref_schema, NULL AS ref_table, \
                NULL AS ref_column, NULL AS on_delete, NULL AS on_update \
         FROM {TABLES} t JOIN pragma_table_info(t.name) c WHERE c.pk > 0 \
         UNION ALL \
         SELECT NULL, t.name, 'FOREIGN', 'fk' || f.id, f.\"from\", CAST(f.seq + 1 AS TEXT), NULL, f.\"table\", \
                f.\"to\", f.on_delete, f.on_update \
         FROM {TABLES} t JOIN pragma_foreign_key_list(t.name) f \
         UNION ALL \
         SELECT NULL, t.name, CASE WHEN i.origin = 'u' THEN 'UNIQUE' WHEN i.\"unique\" THEN 'UNIQUE INDEX' ELSE 'INDEX' END, \
                i.name, ii.name, CAST(ii.seqno + 1 AS TEXT), NULL, NULL, NULL, NULL, NULL \
         FROM {TABLES} t JOIN pragma_index_list(t.name) i JOIN pragma_index_info(i.name) ii \
         WHERE i.origin <> 'pk' \
         ORDER BY 2, 3, 4, 6"
    );
    catalog.keys = query::<KeyRow>(conn, &mut catalog, "keys", &keys)?;
    Ok(catalog)
}

/// What diesel's print-schema makes of a SQLite catalog, recorded on the schema so the
/// comparison needs no backend knowledge:
/// - foreign keys have no name to drop by (SQLite numbers them);
/// - a table without a primary key is keyed by its implicit `rowid` (`oid`, `_rowid_`
///   when a column takes the name), which print-schema writes as an `Integer` column;
/// - a primary key column declared without NOT NULL (SQLite's legacy rule lets it hold
///   NULL) is written `Nullable<..>` by print-schema and without by most people: either is
///   the same column;
/// - an `INTEGER` column that is the rowid key, or a single-column foreign key to one, is
///   `BigInt` with diesel.toml's `sqlite_integer_primary_key_is_bigint`.
pub fn as_diesel_reads_it(schema: &mut Schema) {
    let mut rowid_keys = Vec::new();
    for table in schema.tables.values_mut() {
        for fk in &mut table.foreign_keys {
            fk.name = None;
        }
        if table.primary_key.is_empty() {
            table.implicit_key = ROWID_ALIASES
                .iter()
                .find(|alias| table.column(alias).is_none())
                .map(|alias| (*alias).to_owned());
        }
        let key = table.primary_key.clone();
        for column in &mut table.columns {
            if key.contains(&column.name) && column.nullable {
                column.nullability_either = true;
            }
        }
        if let [pk] = key.as_slice()
            && let Some(column) = table.columns.iter_mut().find(|c| &c.name == pk)
            && column.ty.native.eq_ignore_ascii_case("integer")
        {
            column.ty.alias_kind = Some("BigInt".into());
            rowid_keys.push((table.name.clone(), pk.clone()));
        }
    }
    for table in schema.tables.values_mut() {
        for fk in &table.foreign_keys {
            let [column] = fk.columns.as_slice() else {
                continue;
            };
            let references_rowid = rowid_keys.iter().any(|(parent, pk)| {
                *parent == fk.ref_table
                    && (fk.ref_columns.is_empty() || fk.ref_columns == [pk.clone()])
            });
            if references_rowid
                && let Some(c) = table.columns.iter_mut().find(|c| &c.name == column)
                && c.ty.kind == "Integer"
            {
                c.ty.alias_kind = Some("BigInt".into());
            }
        }
    }
}
