//! SQLite's catalog through the `pragma_*` table-valued functions: three queries in all.

use super::{Catalog, ColumnRow, KeyRow, query};
use crate::db::Connection;
use crate::error::Result;

const TABLES: &str = "(SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\')";

/// Reads columns, keys and indexes of every table.
pub fn read(conn: &mut Connection) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let columns = format!(
        "SELECT NULL AS table_schema, t.name AS table_name, c.name AS column_name, \
         c.type AS data_type, CASE WHEN c.\"notnull\" = 0 AND c.pk = 0 THEN 'YES' ELSE 'NO' END AS is_nullable, \
         c.dflt_value AS column_default, \
         CASE WHEN c.hidden IN (2, 3) THEN 'generated' END AS extra \
         FROM {TABLES} t JOIN pragma_table_xinfo(t.name) c ORDER BY t.name, c.cid"
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
