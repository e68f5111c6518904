//! MySQL/MariaDB's catalog from `information_schema`, for the connection's database: three
//! flat queries (columns of tables and views; index members and foreign key members;
//! foreign key actions),
//! joined here rather than in SQL, where MariaDB's information_schema joins are slow.

use diesel::QueryableByName;
use diesel::sql_types::Text;

use super::{Catalog, ColumnRow, KeyRow, query};
use crate::db::Connection;
use crate::error::Result;

const COLUMNS: &str = "SELECT NULL AS table_schema, CAST(TABLE_NAME AS CHAR) AS table_name, \
        CAST(COLUMN_NAME AS CHAR) AS column_name, CAST(COLUMN_TYPE AS CHAR) AS data_type, \
        CAST(IS_NULLABLE AS CHAR) AS is_nullable, CAST(COLUMN_DEFAULT AS CHAR) AS column_default, \
        CAST(NULLIF(EXTRA, '') AS CHAR) AS extra, \
        CAST(IF(TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()), 'view', NULL) AS CHAR) AS relation, \
        NULL AS base_type \
    FROM information_schema.COLUMNS \
    WHERE TABLE_SCHEMA = DATABASE() \
    ORDER BY TABLE_NAME, ORDINAL_POSITION";

const KEYS: &str = "SELECT NULL AS table_schema, CAST(TABLE_NAME AS CHAR) AS table_name, \
        CAST(IF(INDEX_NAME = 'PRIMARY', 'PRIMARY', IF(NON_UNIQUE = 0, 'UNIQUE', 'INDEX')) AS CHAR) AS kind, \
        CAST(INDEX_NAME AS CHAR) AS key_name, CAST(COLUMN_NAME AS CHAR) AS column_name, \
        CAST(SEQ_IN_INDEX AS CHAR) AS position, NULL AS ref_schema, NULL AS ref_table, NULL AS ref_column, \
        NULL AS on_delete, NULL AS on_update \
    FROM information_schema.STATISTICS \
    WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME IS NOT NULL \
    UNION ALL \
    SELECT NULL, CAST(TABLE_NAME AS CHAR), CAST('FOREIGN' AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), \
        CAST(COLUMN_NAME AS CHAR), CAST(ORDINAL_POSITION AS CHAR), NULL, \
        CAST(REFERENCED_TABLE_NAME AS CHAR), CAST(REFERENCED_COLUMN_NAME AS CHAR), NULL, NULL \
    FROM information_schema.KEY_COLUMN_USAGE \
    WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL";

const ACTIONS: &str = "SELECT CAST(TABLE_NAME AS CHAR) AS table_name, \
        CAST(CONSTRAINT_NAME AS CHAR) AS key_name, CAST(DELETE_RULE AS CHAR) AS on_delete, \
        CAST(UPDATE_RULE AS CHAR) AS on_update \
    FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";

#[derive(QueryableByName)]
struct ActionRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    key_name: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
}

/// Reads columns, keys and indexes of every base table in the current database, and the
/// columns of its views.
pub fn read(conn: &mut Connection) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    catalog.columns = query::<ColumnRow>(conn, &mut catalog, "columns", COLUMNS)?;
    let mut keys = query::<KeyRow>(conn, &mut catalog, "keys", KEYS)?;
    let actions = query::<ActionRow>(conn, &mut catalog, "foreign key actions", ACTIONS)?;
    for key in keys.iter_mut().filter(|k| k.kind == "FOREIGN") {
        if let Some(action) = actions
            .iter()
            .find(|a| a.table_name == key.table_name && Some(&a.key_name) == key.key_name.as_ref())
        {
            key.on_delete = Some(action.on_delete.clone());
            key.on_update = Some(action.on_update.clone());
        }
    }
    catalog.keys = keys;
    Ok(catalog)
}
