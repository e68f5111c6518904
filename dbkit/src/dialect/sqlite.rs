//! SQLite: double-quoted identifiers, transactional DDL, exclusive transactions as the
//! migration lock, and table rebuilds instead of most `ALTER TABLE`s.

use super::Dialect;
use crate::backend::Backend;

/// SQLite: double-quoted identifiers, transactional DDL, exclusive transactions as the lock.
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn begin_transaction(&self) -> &'static str {
        // Taking the write lock up front serialises concurrent migrators.
        "BEGIN EXCLUSIVE"
    }

    fn timestamp_type(&self) -> &'static str {
        "TIMESTAMP"
    }

    fn epoch_seconds(&self, expr: &str) -> String {
        format!("CAST(strftime('%s', {expr}) AS INTEGER)")
    }

    fn wait_for_locks(&self, timeout: std::time::Duration) -> Option<String> {
        Some(format!("PRAGMA busy_timeout = {}", timeout.as_millis()))
    }

    fn is_lock_timeout(&self, message: &str) -> bool {
        message.contains("database is locked")
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT sqlite_version() AS value"
    }

    fn list_tables_query(&self) -> &'static str {
        "SELECT name AS value FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    }

    fn identity_type(&self, ty: &str) -> String {
        // An INTEGER primary key is the rowid: it numbers itself.
        ty.to_owned()
    }

    fn rebuilds_tables(&self) -> bool {
        true
    }

    fn connection_setup(&self) -> Option<&'static str> {
        // Wait for other writers; leave foreign keys off as sqlite3 and alembic do (diesel
        // turns them on): the table-rebuild recipe needs them off and checks them itself
        // with `pragma_foreign_key_check`.
        Some("PRAGMA busy_timeout = 60000; PRAGMA foreign_keys = OFF;")
    }
}
