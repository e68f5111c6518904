//! The per-backend differences, behind one trait: quoting, the version table, locking,
//! transactions and DDL rendering. Each backend's implementation lives in its own module
//! and overrides only what it spells differently from standard SQL.

mod mysql;
mod postgres;
mod sqlite;

pub use mysql::MysqlDialect;
pub use postgres::PostgresDialect;
pub use sqlite::SqliteDialect;

use crate::backend::Backend;
use crate::model::{Column, ForeignKey, Index, Table, TableName};

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

    /// `CREATE TABLE IF NOT EXISTS` for dbrev's companion table: per revision the checksum
    /// of its `up.sql`, when, by whom and how long it ran, and the statement journal of a
    /// run that cannot roll back (`state`, `statements_done`, `statements_total`, `note`).
    fn create_revisions_table(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       checksum VARCHAR(64),\n       state VARCHAR(16) NOT NULL,\n       applied_at {},\n       applied_by VARCHAR(255),\n       duration_ms BIGINT,\n       statements_done BIGINT NOT NULL DEFAULT 0,\n       statements_total BIGINT NOT NULL DEFAULT 0,\n       note VARCHAR(1000)\n)",
            self.quote_ident(table),
            self.timestamp_type()
        )
    }

    /// The type of a point in time in the companion table.
    fn timestamp_type(&self) -> &'static str {
        "TIMESTAMP WITH TIME ZONE"
    }

    /// `expr` (a point in time) as whole seconds since the Unix epoch, a BIGINT.
    fn epoch_seconds(&self, expr: &str) -> String {
        format!("CAST(EXTRACT(EPOCH FROM {expr}) AS BIGINT)")
    }

    /// An expression naming who runs the session (`user@client host`) for `applied_by`;
    /// `None` when the database has no users (SQLite: the operating system's user is used).
    fn session_identity(&self) -> Option<&'static str> {
        None
    }

    /// Run once on every migration session before anything else (naming the session so a
    /// waiting run can say who holds the lock).
    fn session_setup(&self) -> Option<&'static str> {
        None
    }

    /// The query that takes the migration lock without waiting: one row whose `value` is
    /// `1` when taken and `0` when another session holds it (NULL: the server refused).
    /// `None`: no session lock; each revision's exclusive transaction is the lock (SQLite).
    fn try_lock(&self, _name: &str) -> Option<String> {
        None
    }

    /// The query releasing the lock taken by [`Self::try_lock`] (`value` `1` when it was held).
    fn release_lock(&self, _name: &str) -> Option<String> {
        None
    }

    /// The query describing the session that holds the migration lock (`value`: its
    /// pid or connection id, user@host and since when), or no row.
    fn lock_holder(&self, _name: &str) -> Option<String> {
        None
    }

    /// Whether the migration lock is taken per transaction (SQLite's exclusive transaction)
    /// rather than once for the whole run.
    fn locks_per_transaction(&self) -> bool {
        self.try_lock("").is_none()
    }

    /// The statement making the session wait up to `timeout` for another connection's
    /// lock (SQLite's busy timeout); `None` where dbrev polls the session lock itself.
    fn wait_for_locks(&self, _timeout: std::time::Duration) -> Option<String> {
        None
    }

    /// Whether a database error means a lock wait ran out (SQLite: "database is locked").
    fn is_lock_timeout(&self, _message: &str) -> bool {
        false
    }

    /// One statement as a client script line (`psql`, `sqlite3`, `mariadb`), terminated.
    fn script_statement(&self, sql: &str) -> String {
        format!("{sql};\n")
    }

    /// Lists the names of the user tables in the current database/schema, in a column
    /// named `value`.
    fn list_tables_query(&self) -> &'static str;

    // ---- DDL rendering (used by the planner). Defaults are standard SQL as PostgreSQL
    // spells it; MySQL and SQLite override what they spell differently.

    /// `"schema"."table"`.
    fn quote_table(&self, name: &TableName) -> String {
        match &name.schema {
            Some(schema) => format!(
                "{}.{}",
                self.quote_ident(schema),
                self.quote_ident(&name.name)
            ),
            None => self.quote_ident(&name.name),
        }
    }

    /// Quoted, comma-separated identifiers.
    fn quote_idents(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.quote_ident(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The type of an auto-incrementing integer column.
    fn identity_type(&self, ty: &str) -> String {
        format!("{ty} GENERATED BY DEFAULT AS IDENTITY")
    }

    /// What follows an auto-incrementing column's definition.
    fn auto_increment_suffix(&self) -> &'static str {
        ""
    }

    /// Whether nullable columns say `NULL` explicitly.
    fn explicit_null(&self) -> bool {
        false
    }

    /// Whether the backend changes tables only by rebuilding them (SQLite): foreign keys are
    /// declared inside `CREATE TABLE`, and type, nullability and key changes go through the
    /// table-rebuild recipe.
    fn rebuilds_tables(&self) -> bool {
        false
    }

    /// One column's definition: name, type, nullability, default, auto-increment.
    fn column_definition(&self, c: &Column) -> String {
        let extra = c.extra.as_deref().unwrap_or_default().to_ascii_lowercase();
        let name = self.quote_ident(&c.name);
        if extra == "generated" {
            if let Some(expr) = &c.default {
                return format!("{name} {} GENERATED ALWAYS AS ({expr}) STORED", c.ty.native);
            }
        }
        let serial = c
            .default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        let auto = extra.contains("auto_increment") || extra == "identity" || serial;
        let (ty, default) = if auto {
            (
                self.identity_type(&c.ty.native),
                if serial { None } else { c.default.clone() },
            )
        } else {
            (c.ty.native.clone(), c.default.clone())
        };
        let mut out = format!("{name} {ty}");
        if !c.nullable {
            out.push_str(" NOT NULL");
        } else if self.explicit_null() {
            out.push_str(" NULL");
        }
        if let Some(d) = default {
            out.push_str(&format!(" DEFAULT {d}"));
        }
        if auto {
            out.push_str(self.auto_increment_suffix());
        }
        out
    }

    /// `FOREIGN KEY (..) REFERENCES .. (..) [ON DELETE ..] [ON UPDATE ..]`.
    fn foreign_key_clause(&self, fk: &ForeignKey) -> String {
        let mut out = format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            self.quote_idents(&fk.columns),
            self.quote_table(&fk.ref_table),
            self.quote_idents(&fk.ref_columns)
        );
        if let Some(action) = &fk.on_delete {
            out.push_str(&format!(" ON DELETE {action}"));
        }
        if let Some(action) = &fk.on_update {
            out.push_str(&format!(" ON UPDATE {action}"));
        }
        out
    }

    /// `CREATE TABLE` with its unique constraints, and its foreign keys when `with_fks`
    /// (always, where tables are rebuilt rather than altered).
    fn create_table(&self, t: &Table, with_fks: bool) -> String {
        let mut lines: Vec<String> = t
            .columns
            .iter()
            .map(|c| self.column_definition(c))
            .collect();
        if !t.primary_key.is_empty() {
            lines.push(format!(
                "PRIMARY KEY ({})",
                self.quote_idents(&t.primary_key)
            ));
        }
        for index in t.indexes.iter().filter(|i| i.constraint) {
            lines.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                self.quote_ident(&index.name),
                self.quote_idents(&index.columns)
            ));
        }
        if with_fks || self.rebuilds_tables() {
            for fk in &t.foreign_keys {
                let clause = self.foreign_key_clause(fk);
                lines.push(match &fk.name {
                    Some(name) if !self.rebuilds_tables() => {
                        format!("CONSTRAINT {} {clause}", self.quote_ident(name))
                    }
                    _ => clause,
                });
            }
        }
        format!(
            "CREATE TABLE {} (\n    {}\n)",
            self.quote_table(&t.name),
            lines.join(",\n    ")
        )
    }

    /// `CREATE [UNIQUE] INDEX` for an index that is not a constraint.
    fn create_index(&self, table: &TableName, index: &Index) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            self.quote_ident(&index.name),
            self.quote_table(table),
            self.quote_idents(&index.columns)
        )
    }

    /// `DROP TABLE`.
    fn drop_table(&self, name: &TableName) -> String {
        format!("DROP TABLE {}", self.quote_table(name))
    }

    /// `ALTER TABLE .. ADD COLUMN`.
    fn add_column(&self, table: &TableName, c: &Column) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.quote_table(table),
            self.column_definition(c)
        )
    }

    /// `ALTER TABLE .. DROP COLUMN`.
    fn drop_column(&self, table: &TableName, column: &str) -> String {
        format!(
            "ALTER TABLE {} DROP COLUMN {}",
            self.quote_table(table),
            self.quote_ident(column)
        )
    }

    /// Renames a column.
    fn rename_column(&self, table: &TableName, from: &str, to: &str) -> String {
        format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            self.quote_table(table),
            self.quote_ident(from),
            self.quote_ident(to)
        )
    }

    /// Renames a table.
    fn rename_table(&self, from: &TableName, to: &TableName) -> String {
        format!(
            "ALTER TABLE {} RENAME TO {}",
            self.quote_table(from),
            self.quote_ident(&to.name)
        )
    }

    /// Changes a column's type and/or nullability.
    fn alter_column(&self, table: &TableName, from: &Column, to: &Column) -> Vec<String> {
        let t = self.quote_table(table);
        let c = self.quote_ident(&to.name);
        let mut out = Vec::new();
        if from.ty.native != to.ty.native {
            out.push(format!(
                "ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty} USING {c}::{ty}",
                ty = to.ty.native
            ));
        }
        if from.nullable != to.nullable {
            let action = if to.nullable { "DROP" } else { "SET" };
            out.push(format!(
                "ALTER TABLE {t} ALTER COLUMN {c} {action} NOT NULL"
            ));
        }
        out
    }

    /// Replaces the primary key (`from_name`: the current constraint's name, if known).
    fn set_primary_key(
        &self,
        table: &TableName,
        from: &[String],
        from_name: Option<&str>,
        to: &[String],
    ) -> Vec<String> {
        let t = self.quote_table(table);
        let mut out = Vec::new();
        if !from.is_empty() {
            let name = from_name.map_or_else(|| format!("{}_pkey", table.name), str::to_owned);
            out.push(format!(
                "ALTER TABLE {t} DROP CONSTRAINT {}",
                self.quote_ident(&name)
            ));
        }
        if !to.is_empty() {
            out.push(format!(
                "ALTER TABLE {t} ADD PRIMARY KEY ({})",
                self.quote_idents(to)
            ));
        }
        out
    }

    /// Adds a named foreign key.
    fn add_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        let name = fk
            .name
            .clone()
            .unwrap_or_else(|| foreign_key_name(table, fk));
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            self.quote_table(table),
            self.quote_ident(&name),
            self.foreign_key_clause(fk)
        )
    }

    /// Drops a foreign key by name.
    fn drop_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        let name = fk
            .name
            .clone()
            .unwrap_or_else(|| foreign_key_name(table, fk));
        format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            self.quote_table(table),
            self.quote_ident(&name)
        )
    }

    /// `UPDATE t SET c = <expr>`.
    fn fill_column(&self, table: &TableName, column: &str, expr: &str) -> String {
        format!(
            "UPDATE {} SET {} = {expr}",
            self.quote_table(table),
            self.quote_ident(column)
        )
    }

    /// Statements run on every new connection before anything else (`None`: nothing).
    fn connection_setup(&self) -> Option<&'static str> {
        None
    }
}

/// The name dbrev gives a foreign key it creates (PostgreSQL's own convention).
pub fn foreign_key_name(table: &TableName, fk: &ForeignKey) -> String {
    format!("{}_{}_fkey", table.name, fk.columns.join("_"))
}

/// The dialect of a backend.
pub fn dialect_for(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Sqlite => &SqliteDialect,
        Backend::Postgres => &PostgresDialect,
        Backend::Mysql => &MysqlDialect,
    }
}
