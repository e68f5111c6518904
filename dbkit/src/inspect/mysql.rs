//! MySQL/MariaDB's catalog from `information_schema`, for the connection's database: three
//! flat queries (`mysql/columns.sql`: columns of tables and views; `mysql/keys.sql`: index
//! members and foreign key members; `mysql/actions.sql`: foreign key actions), joined here
//! rather than in SQL, where MariaDB's information_schema joins are slow. And what diesel
//! makes of them ([`as_diesel_reads_it`]). Row estimates for `lint`:
//! `mysql/row_estimates.sql` ([`row_estimates`]).

use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName};

use super::{Catalog, RowEstimate, columns_and_keys, query, quoted_names};
use crate::db::Connection;
use crate::error::Result;
use crate::model::{Schema, TableName};

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
    let mut catalog = columns_and_keys(
        conn,
        include_str!("mysql/columns.sql"),
        include_str!("mysql/keys.sql"),
    )?;
    let actions = query::<ActionRow>(
        conn,
        &mut catalog,
        "foreign key actions",
        include_str!("mysql/actions.sql"),
    )?;
    for key in catalog.keys.iter_mut().filter(|k| k.kind == "FOREIGN") {
        if let Some(action) = actions
            .iter()
            .find(|a| a.table_name == key.table_name && Some(&a.key_name) == key.key_name.as_ref())
        {
            key.on_delete = Some(action.on_delete.clone());
            key.on_update = Some(action.on_update.clone());
        }
    }
    Ok(catalog)
}

/// What diesel makes of a MySQL/MariaDB catalog: MariaDB reports "no default" on a
/// nullable column as the text `NULL`, which is no default.
pub fn as_diesel_reads_it(schema: &mut Schema) {
    for table in schema.tables.values_mut() {
        for column in &mut table.columns {
            if column
                .default
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case("NULL"))
            {
                column.default = None;
            }
        }
    }
}

/// InnoDB's row estimates of `tables` (`mysql/row_estimates.sql`).
pub fn row_estimates(conn: &mut Connection, tables: &[TableName]) -> QueryResult<Vec<RowEstimate>> {
    let wanted: Vec<String> = quoted_names(conn, tables, "DATABASE()")
        .map(|(name, schema)| format!("(table_schema = {schema} AND table_name = {name})"))
        .collect();
    conn.load(&include_str!("mysql/row_estimates.sql").replace("{tables}", &wanted.join(" OR ")))
}
