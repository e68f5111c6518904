//! The per-backend differences, behind one trait: quoting, the version table, locking and
//! transactions. Later stages (inspection, DDL rendering, dumps) extend the same trait, so
//! backend-specific SQL lives only here and in the dialect's own modules.

use crate::backend::Backend;

/// What differs between SQLite, PostgreSQL and MySQL/MariaDB.
pub trait Dialect: Send + Sync {
    /// The backend this dialect speaks for.
    fn backend(&self) -> Backend;

    /// Quotes an identifier (table, column, index, database name).
    fn quote_ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// Quotes a string literal.
    fn quote_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// Whether DDL statements can be rolled back inside a transaction.
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// The statement that opens a migration transaction.
    fn begin_transaction(&self) -> &'static str {
        "BEGIN"
    }

    /// The query returning the server version in a column named `value`.
    fn server_version_query(&self) -> &'static str;

    /// `CREATE TABLE IF NOT EXISTS` for the version table, in diesel's own shape
    /// (`version VARCHAR(50) PRIMARY KEY`, `run_on TIMESTAMP`), so diesel_migrations shares it.
    fn create_version_table(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n)",
            self.quote_ident(table)
        )
    }

    /// Takes the migration lock for the whole run (`None`: the backend locks per transaction).
    fn acquire_lock(&self, _name: &str) -> Option<String> {
        None
    }

    /// Releases the migration lock taken by [`Self::acquire_lock`].
    fn release_lock(&self, _name: &str) -> Option<String> {
        None
    }

    /// Whether the migration lock is taken per transaction (SQLite's exclusive transaction)
    /// rather than once for the whole run.
    fn locks_per_transaction(&self) -> bool {
        self.acquire_lock("").is_none()
    }

    /// One statement as a client script line (`psql`, `sqlite3`, `mariadb`), terminated.
    fn script_statement(&self, sql: &str) -> String {
        format!("{sql};\n")
    }

    /// Lists the names of the user tables in the current database/schema, in a column
    /// named `value`.
    fn list_tables_query(&self) -> &'static str;
}

/// SQLite: double-quoted identifiers, transactional DDL, exclusive transactions as the lock.
pub struct SqliteDialect;

/// PostgreSQL: transactional DDL and a session advisory lock.
pub struct PostgresDialect;

/// MySQL and MariaDB: backquoted identifiers, DDL that commits implicitly, `GET_LOCK`.
pub struct MysqlDialect;

impl Dialect for SqliteDialect {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn begin_transaction(&self) -> &'static str {
        // Taking the write lock up front serialises concurrent migrators.
        "BEGIN EXCLUSIVE"
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT sqlite_version() AS value"
    }

    fn list_tables_query(&self) -> &'static str {
        "SELECT name AS value FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    }
}

impl Dialect for PostgresDialect {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT current_setting('server_version') AS value"
    }

    fn acquire_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT pg_advisory_lock(hashtext({}))",
            self.quote_literal(name)
        ))
    }

    fn release_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT pg_advisory_unlock(hashtext({}))",
            self.quote_literal(name)
        ))
    }

    fn list_tables_query(&self) -> &'static str {
        "SELECT table_name::text AS value FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    }
}

impl Dialect for MysqlDialect {
    fn backend(&self) -> Backend {
        Backend::Mysql
    }

    fn quote_ident(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    fn quote_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    fn script_statement(&self, sql: &str) -> String {
        // Routine and trigger bodies hold `;`: the mariadb client needs another delimiter.
        if sql.contains(';') {
            format!("DELIMITER $$\n{sql}$$\nDELIMITER ;\n")
        } else {
            format!("{sql};\n")
        }
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT VERSION() AS value"
    }

    fn acquire_lock(&self, name: &str) -> Option<String> {
        // GET_LOCK names are server-wide: include the database name.
        Some(format!(
            "SELECT GET_LOCK(CONCAT(DATABASE(), '.', {}), 3600)",
            self.quote_literal(name)
        ))
    }

    fn release_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.', {}))",
            self.quote_literal(name)
        ))
    }

    fn list_tables_query(&self) -> &'static str {
        "SELECT CAST(table_name AS CHAR) AS value FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
    }
}

/// The dialect of a backend.
pub fn dialect_for(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Sqlite => &SqliteDialect,
        Backend::Postgres => &PostgresDialect,
        Backend::Mysql => &MysqlDialect,
    }
}
