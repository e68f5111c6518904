//! PostgreSQL's catalog from `pg_catalog`: three queries (`postgres/columns.sql`: columns
//! of tables, views and partitions; `postgres/keys.sql`: keys and indexes;
//! `postgres/types.sql`: enum labels and the other user-defined types) for the user schemas in scope, which the queries take
//! as their one `{scope}` condition. Tables of the current schema get no schema name.
//! Row estimates for `lint`: `postgres/row_estimates.sql` ([`row_estimates`]).

use diesel::QueryResult;

use super::{Catalog, RowEstimate, SchemaScope, TypeRow, columns_and_keys, query, quoted_names};
use crate::db::Connection;
use crate::dialect::dialect_for;
use crate::error::Result;
use crate::model::TableName;

/// The condition on `n.nspname` that selects the schemas in scope (the queries leave out
/// the system schemas themselves).
fn in_scope(scope: &SchemaScope) -> String {
    match scope {
        SchemaScope::All => "TRUE".to_owned(),
        SchemaScope::Only(schemas) => {
            let dialect = dialect_for(crate::backend::Backend::Postgres);
            let named: Vec<String> = schemas
                .iter()
                .flatten()
                .map(|s| dialect.quote_literal(s))
                .collect();
            let mut any = Vec::new();
            if schemas.contains(&None) {
                any.push("n.nspname = current_schema()".to_owned());
            }
            if !named.is_empty() {
                any.push(format!("n.nspname IN ({})", named.join(", ")));
            }
            if any.is_empty() {
                return "FALSE".to_owned();
            }
            format!("({})", any.join(" OR "))
        }
    }
}

/// Reads columns, keys, indexes and user-defined types of the schemas in `scope`, and the columns
/// of their views, materialized views and partitions.
pub fn read(conn: &mut Connection, scope: &SchemaScope) -> Result<Catalog> {
    let scope = in_scope(scope);
    let mut catalog = columns_and_keys(
        conn,
        &include_str!("postgres/columns.sql").replace("{scope}", &scope),
        &include_str!("postgres/keys.sql").replace("{scope}", &scope),
    )?;
    let types = include_str!("postgres/types.sql");
    catalog.types = query::<TypeRow>(conn, &mut catalog, "user-defined types", types)?;
    Ok(catalog)
}

/// The planner's row estimates of `tables` (`postgres/row_estimates.sql`).
pub fn row_estimates(conn: &mut Connection, tables: &[TableName]) -> QueryResult<Vec<RowEstimate>> {
    let rows: Vec<String> = quoted_names(conn, tables, "NULL")
        .map(|(name, schema)| format!("({name}, {schema})"))
        .collect();
    conn.load(&include_str!("postgres/row_estimates.sql").replace("{tables}", &rows.join(", ")))
}
