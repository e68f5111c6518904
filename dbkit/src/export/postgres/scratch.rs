//! Scratch databases on a PostgreSQL server: created from the server's default template,
//! dropped with the sessions still connected to them ended first (what `DROP DATABASE …
//! WITH (FORCE)` does, spelled so that servers before 13 take it too).

use crate::db::Connection;
use crate::dialect::{Dialect, PostgresDialect};

/// The database every user may connect to.
pub(crate) const MAINTENANCE_DATABASE: &str = "postgres";

/// `CREATE DATABASE "name"`.
pub(crate) fn create_sql(name: &str) -> String {
    format!("CREATE DATABASE {}", PostgresDialect.quote_ident(name))
}

/// Ends every other session in the database, then drops it.
pub(crate) fn drop_database(conn: &mut Connection, name: &str) -> Result<(), String> {
    let d = PostgresDialect;
    conn.batch_execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()",
        d.quote_literal(name)
    ))
    .map_err(|e| e.to_string())?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {}", d.quote_ident(name)))
        .map_err(|e| e.to_string())
}
