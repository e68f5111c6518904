//! MySQL/MariaDB's catalog from `information_schema`, for the connection's database: two
//! queries (columns; keys and indexes).

use super::{Catalog, ColumnRow, KeyRow, query};
use crate::db::Connection;
use crate::error::Result;

const COLUMNS: &str = "SELECT NULL AS table_schema, CAST(c.TABLE_NAME AS CHAR) AS table_name, \
        CAST(c.COLUMN_NAME AS CHAR) AS column_name, CAST(c.COLUMN_TYPE AS CHAR) AS data_type, \
        CAST(c.IS_NULLABLE AS CHAR) AS is_nullable, CAST(c.COLUMN_DEFAULT AS CHAR) AS column_default, \
        CAST(NULLIF(c.EXTRA, '') AS CHAR) AS extra \
    FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
      ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
    WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
    ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

const KEYS: &str = "SELECT NULL AS table_schema, CAST(k.TABLE_NAME AS CHAR) AS table_name, \
        CAST(CASE tc.CONSTRAINT_TYPE WHEN 'PRIMARY KEY' THEN 'PRIMARY' WHEN 'UNIQUE' THEN 'UNIQUE' ELSE 'FOREIGN' END AS CHAR) AS kind, \
        CAST(k.CONSTRAINT_NAME AS CHAR) AS key_name, CAST(k.COLUMN_NAME AS CHAR) AS column_name, \
        CAST(k.ORDINAL_POSITION AS CHAR) AS position, NULL AS ref_schema, \
        CAST(k.REFERENCED_TABLE_NAME AS CHAR) AS ref_table, CAST(k.REFERENCED_COLUMN_NAME AS CHAR) AS ref_column, \
        CAST(r.DELETE_RULE AS CHAR) AS on_delete, CAST(r.UPDATE_RULE AS CHAR) AS on_update \
    FROM information_schema.KEY_COLUMN_USAGE k \
    JOIN information_schema.TABLE_CONSTRAINTS tc \
      ON tc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND tc.TABLE_NAME = k.TABLE_NAME \
     AND tc.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
    LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
      ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
     AND r.TABLE_NAME = k.TABLE_NAME \
    WHERE k.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') \
    UNION ALL \
    SELECT NULL, CAST(s.TABLE_NAME AS CHAR), CAST('INDEX' AS CHAR), CAST(s.INDEX_NAME AS CHAR), \
        CAST(s.COLUMN_NAME AS CHAR), CAST(s.SEQ_IN_INDEX AS CHAR), NULL, NULL, NULL, NULL, NULL \
    FROM information_schema.STATISTICS s \
    WHERE s.TABLE_SCHEMA = DATABASE() AND s.NON_UNIQUE = 1 AND s.COLUMN_NAME IS NOT NULL \
    ORDER BY 2, 3, 4, 6";

/// Reads columns, keys and indexes of every base table in the current database.
pub fn read(conn: &mut Connection) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    catalog.columns = query::<ColumnRow>(conn, &mut catalog, "columns", COLUMNS)?;
    catalog.keys = query::<KeyRow>(conn, &mut catalog, "keys", KEYS)?;
    Ok(catalog)
}
