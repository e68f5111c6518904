//! Scratch databases on a MySQL/MariaDB server: created with the character set and
//! collation of the database they stand in for (so the columns a revision creates get the
//! same collations), dropped with the sessions still using them killed first.

use crate::db::{Connection, ValueRow};
use crate::dialect::{Dialect, MysqlDialect};

/// The database every user may connect to.
pub(crate) const MAINTENANCE_DATABASE: &str = "information_schema";

/// `CREATE DATABASE `name`` with the connected database's character set and collation.
pub(crate) fn create_sql(conn: &mut Connection, name: &str) -> Result<String, String> {
    let collation = conn
        .query_value("SELECT CAST(@@collation_database AS CHAR) AS value")
        .map_err(|e| e.to_string())?;
    let mut sql = format!("CREATE DATABASE {}", MysqlDialect.quote_ident(name));
    if let Some(collation) = collation.filter(|c| !c.is_empty()) {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    Ok(sql)
}

/// Kills every other session using the database, then drops it.
pub(crate) fn drop_database(conn: &mut Connection, name: &str) -> Result<(), String> {
    let d = MysqlDialect;
    let sessions = conn
        .load::<ValueRow>(&format!(
            "SELECT CAST(ID AS CHAR) AS value FROM information_schema.PROCESSLIST WHERE DB = {} AND ID <> CONNECTION_ID()",
            d.quote_literal(name)
        ))
        .map_err(|e| e.to_string())?;
    for id in sessions.into_iter().filter_map(|r| r.value) {
        // A session that ended meanwhile is no error.
        let _ = conn.batch_execute(&format!("KILL {id}"));
    }
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {}", d.quote_ident(name)))
        .map_err(|e| e.to_string())
}
