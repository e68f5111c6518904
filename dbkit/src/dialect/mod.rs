//! The per-backend differences, behind one trait: quoting, the version table, locking,
//! transactions and DDL rendering. Each backend's implementation lives in its own module
//! and overrides only what it spells differently from standard SQL. How a backend changes
//! an existing table is one of two shapes ([`TableChanges`]): `ALTER TABLE` in place
//! ([`AlterTable`], PostgreSQL and MySQL) or the table-rebuild recipe ([`RebuildTable`],
//! SQLite).

mod client;
mod cluster;
mod mysql;
mod postgres;
mod sqlite;

pub use client::{NativeDump, Opening, ScriptSyntax, StatementBodies};
pub use cluster::ClusterDialect;
pub use mysql::{GaleraDialect, MysqlDialect};
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

    /// A statement whose body holds `;`s of its own (a routine, trigger or event) as a
    /// client script line, terminated: where the client splits on every `;` (MySQL's),
    /// between commands that set another delimiter and back.
    fn script_body(&self, sql: &str) -> String {
        format!("{sql};\n")
    }

    /// Lists the names of the user tables in the current database/schema, in a column
    /// named `value`.
    fn list_tables_query(&self) -> &'static str;

    /// The schema that unqualified names mean when the backend has one by name
    /// (PostgreSQL's `public`), so `public.users` and `users` are one table.
    fn default_schema(&self) -> Option<&'static str> {
        None
    }

    // ---- DDL rendering (used by the planner). Defaults are standard SQL; each backend
    // overrides what it spells differently.

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

    /// The type of an auto-incrementing integer column (SQL's identity column).
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

    /// Whether the column's default draws from a sequence that its own numbering replaces
    /// when the column is declared again (PostgreSQL's `serial`).
    fn default_is_sequence(&self, _column: &Column) -> bool {
        false
    }

    /// How the backend changes the columns and keys of an existing table.
    fn table_changes(&self) -> TableChanges<'_>;

    /// Whether the backend changes tables by rebuilding them (SQLite): foreign keys are
    /// then declared inside `CREATE TABLE`, never added to a table that exists.
    fn rebuilds_tables(&self) -> bool {
        matches!(self.table_changes(), TableChanges::Rebuild(_))
    }

    /// One column's definition: name, type, nullability, default, auto-increment.
    fn column_definition(&self, c: &Column) -> String {
        let extra = c.extra.as_deref().unwrap_or_default().to_ascii_lowercase();
        let name = self.quote_ident(&c.name);
        if let Some(kind) = generated_kind(&extra) {
            if let Some(expr) = &c.default {
                return format!("{name} {} GENERATED ALWAYS AS ({expr}) {kind}", c.ty.native);
            }
        }
        let serial = self.default_is_sequence(c);
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
        if let (true, Some(labels)) = (self.enum_labels_in_check(), &c.ty.labels) {
            let quoted: Vec<String> = labels.iter().map(|l| self.quote_literal(l)).collect();
            out.push_str(&format!(" CHECK ({name} IN ({}))", quoted.join(", ")));
        }
        out
    }

    /// `FOREIGN KEY (..) REFERENCES .. [(..)] [ON DELETE ..] [ON UPDATE ..]`; without
    /// referenced columns the key references the table's primary key.
    fn foreign_key_clause(&self, fk: &ForeignKey) -> String {
        let mut out = format!(
            "FOREIGN KEY ({}) REFERENCES {}",
            self.quote_idents(&fk.columns),
            self.quote_table(&fk.ref_table)
        );
        if !fk.ref_columns.is_empty() {
            out.push_str(&format!(" ({})", self.quote_idents(&fk.ref_columns)));
        }
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

    /// `CREATE INDEX` for each index of `table` that `CREATE TABLE` does not make.
    fn create_indexes(&self, table: &Table) -> Vec<String> {
        table
            .indexes
            .iter()
            .filter(|i| !i.constraint)
            .map(|i| self.create_index(&table.name, i))
            .collect()
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

    /// `UPDATE t SET c = <expr>`.
    fn update_column(&self, table: &TableName, column: &str, expr: &str) -> String {
        format!(
            "UPDATE {} SET {} = {expr}",
            self.quote_table(table),
            self.quote_ident(column)
        )
    }

    // ---- Enum types and the forms that keep a migration from blocking production (used
    // by the planner; issue 12). Defaults: the backend has no such thing.

    /// Whether a column's enum labels become `CHECK (col IN (..))` (SQLite, which has no
    /// enum type).
    fn enum_labels_in_check(&self) -> bool {
        false
    }

    /// Whether enums are named types (PostgreSQL's `CREATE TYPE .. AS ENUM`) rather than
    /// column types, so a `sql_types` struct may stand for one; its `postgres_type` name is
    /// then the type's.
    fn named_enum_types(&self) -> bool {
        false
    }

    /// `CREATE TYPE .. AS ENUM (labels)` (`labels`: the SQL list, or a FILL marker);
    /// `None` where enums are column types.
    fn create_enum(&self, _name: &TableName, _labels: &str) -> Option<String> {
        None
    }

    /// `DROP TYPE`.
    fn drop_enum(&self, _name: &TableName) -> Option<String> {
        None
    }

    /// Adds `label` to an enum type after `after` (`None`: before `first`, the type's
    /// first label; at the end of a type without labels when `first` is empty).
    fn add_enum_label(
        &self,
        _name: &TableName,
        _label: &str,
        _after: Option<&str>,
        _first: &str,
    ) -> Option<String> {
        None
    }

    /// Makes the enum type again with `labels` and converts `columns` (table, column) to
    /// it: where labels cannot be removed or moved in place.
    fn rebuild_enum(
        &self,
        _name: &TableName,
        _labels: &str,
        _columns: &[(TableName, Column)],
    ) -> Vec<String> {
        Vec::new()
    }

    /// The statement bounding how long a revision's DDL waits for a table lock, and the one
    /// ending it in a revision that runs outside a transaction (`transactional` false).
    fn lock_timeout(&self, _transactional: bool) -> Option<(String, Option<String>)> {
        None
    }

    /// `-- dbrev:allow RULE reason`: the comment line that tells `cargo dbrev lint` a
    /// generated statement has no safer form, put on the line above it.
    fn acknowledged(&self, rule: &str, reason: &str, sql: String) -> String {
        format!("-- dbrev:allow {rule} {reason}\n{sql}")
    }

    /// Statements run on every new connection before anything else (`None`: nothing).
    fn connection_setup(&self) -> Option<&'static str> {
        None
    }

    // ---- How the backend's SQL text reads, for what reads scripts without a parser
    // (`statements`, lint's suppression comments) and what recognises its dumps.

    /// How the backend's command-line client splits a script (standard SQL by default).
    fn script_syntax(&self) -> ScriptSyntax {
        ScriptSyntax::STANDARD
    }

    /// Whether `#` starts a comment running to the end of the line (MySQL).
    fn hash_comments(&self) -> bool {
        self.script_syntax().hash_comments
    }

    /// Whether a backslash escapes the next character inside quotes (MySQL).
    fn backslash_escapes(&self) -> bool {
        self.script_syntax().backslash_escapes
    }

    /// Whether backquotes quote identifiers (MySQL).
    fn backquoted_identifiers(&self) -> bool {
        self.script_syntax().backquoted_identifiers
    }

    /// Whether `$tag$ .. $tag$` quotes a string (PostgreSQL's dollar quoting).
    fn dollar_quoting(&self) -> bool {
        self.script_syntax().dollar_quoting
    }

    /// The plain-SQL dumps the backend's own dumpers write (restore recognises them and
    /// checks that they are complete).
    fn native_dumps(&self) -> &'static [NativeDump] {
        &[]
    }

    // ---- Clusters whose every node takes writes (issue 15).

    /// What the backend knows of synchronous multi-primary clusters (MariaDB Galera),
    /// where a session lock holds on one node only; `None` where it has none.
    fn cluster(&self) -> Option<&'static dyn ClusterDialect> {
        None
    }

    // ---- Fleets of tenants (`[fleet]`, `--fleet`).

    /// The URL parameter (name, value before percent-encoding) that makes every session of
    /// a connection work in `schema`, for a fleet whose tenants are schemas of one database
    /// (`schemas_query`); `None` where a tenant cannot be a schema (the default).
    fn schema_url_parameter(&self, _schema: &str) -> Option<(&'static str, String)> {
        None
    }
}

/// How a backend changes the columns and keys of an existing table.
pub enum TableChanges<'a> {
    /// In place, with `ALTER TABLE` (PostgreSQL, MySQL).
    Alter(&'a dyn AlterTable),
    /// By rebuilding the table in its new shape and copying the rows over (SQLite, whose
    /// `ALTER TABLE` only renames and adds columns).
    Rebuild(&'a dyn RebuildTable),
}

/// The `ALTER TABLE` statements of a backend that changes tables in place.
pub trait AlterTable: Dialect {
    /// Changes a column's type and/or nullability.
    fn alter_column(&self, table: &TableName, from: &Column, to: &Column) -> Vec<String>;

    /// Replaces the primary key `from` (named `from_name`) with `to`, named `to_name`
    /// where the backend names keys.
    fn set_primary_key(&self, table: &TableName, from: &Key, to: &Key) -> Vec<String>;

    /// Adds a named foreign key.
    fn add_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            self.quote_table(table),
            self.quote_ident(&foreign_key_name(table, fk)),
            self.foreign_key_clause(fk)
        )
    }

    /// Drops a foreign key by name.
    fn drop_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            self.quote_table(table),
            self.quote_ident(&foreign_key_name(table, fk))
        )
    }

    /// Adds a foreign key to a table that exists and may hold rows, in parts that do not
    /// block it (PostgreSQL: `NOT VALID` now, `VALIDATE` in the follow-up revision);
    /// `None` where the plain form is the backend's best.
    fn staged_foreign_key(&self, _table: &TableName, _fk: &ForeignKey) -> Option<Staged> {
        None
    }

    /// Puts back, on the way down, a foreign key the revision dropped.
    fn restore_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        self.add_foreign_key(table, fk)
    }

    /// Makes an existing column NOT NULL in parts that do not block the table (PostgreSQL:
    /// a `CHECK (col IS NOT NULL) NOT VALID` now; `VALIDATE`, `SET NOT NULL` and dropping the
    /// check in the follow-up revision); `None` where the plain form is the backend's best.
    /// `check` names the constraint.
    fn staged_not_null(&self, _table: &TableName, _column: &str, _check: &str) -> Option<Staged> {
        None
    }

    /// Replaces the primary key of a table that holds rows without blocking it
    /// (PostgreSQL: the unique index built `CONCURRENTLY` in the follow-up revision, then
    /// swapped in with `USING INDEX`); `index` and `old_index` name the indexes built for
    /// `to` and, on the way down, for `from`. `None` where the plain form is the best.
    fn staged_primary_key(
        &self,
        _table: &TableName,
        _from: &Key,
        _to: &Key,
        _index: &str,
        _old_index: &str,
    ) -> Option<Staged> {
        None
    }
}

/// A primary key: its columns (empty: none) and its constraint name where the backend
/// names keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Key {
    /// The columns, in key order.
    pub columns: Vec<String>,
    /// The constraint's name.
    pub name: Option<String>,
}

/// One change made in parts: what the revision itself runs, and what the follow-up
/// revision runs once that has committed; each with its reverse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staged {
    /// In the revision, up.
    pub now_up: Vec<String>,
    /// In the revision, down (run after the follow-up's down).
    pub now_down: Vec<String>,
    /// In the follow-up revision, up.
    pub later_up: Later,
    /// In the follow-up revision, down.
    pub later_down: Later,
}

/// Statements of the follow-up revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Later {
    /// Index builds that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`): they run
    /// first, outside any lock timeout (their waits for older transactions count as lock
    /// waits).
    pub builds: Vec<String>,
    /// The rest, in order.
    pub statements: Vec<String>,
}

impl Later {
    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.builds.is_empty() && self.statements.is_empty()
    }
}

/// The table-rebuild recipe of a backend whose `ALTER TABLE` cannot change columns and
/// keys.
pub trait RebuildTable: Dialect {
    /// The statements that turn table `from` into `to` (same name): `to` created under
    /// another name, the rows copied with `values` (one SQL expression per column of `to`,
    /// reading `from`'s columns), `from` dropped, the new table renamed, its indexes made.
    /// `left_out`: why columns of `from` are not copied (the model dropped them), said to
    /// `cargo dbrev lint` on the drop. Last, the foreign keys of `to` and of `referencing`
    /// (the tables whose keys reference it) are checked: a broken one fails the revision.
    fn rebuild_table(
        &self,
        from: &Table,
        to: &Table,
        values: &[String],
        left_out: Option<&str>,
        referencing: &[TableName],
    ) -> Vec<String>;

    /// What a revision that rebuilds tables runs first and last, outside the revision's
    /// own transaction (its `metadata.toml` says `run_in_transaction = false`): foreign
    /// keys off, its own transaction around the rebuilds.
    fn rebuild_session(&self) -> (Vec<String>, Vec<String>);
}

/// How a generated column stores its values, from the catalog's `extra` (`generated`:
/// STORED, `generated virtual`: VIRTUAL); `None` for a column that is not generated.
fn generated_kind(extra: &str) -> Option<&'static str> {
    match extra {
        "generated" => Some("STORED"),
        "generated virtual" => Some("VIRTUAL"),
        _ => None,
    }
}

/// A foreign key's name: its own, or the one dbrev gives a key it creates (PostgreSQL's
/// convention, which the planner follows on every backend).
pub fn foreign_key_name(table: &TableName, fk: &ForeignKey) -> String {
    fk.name
        .clone()
        .unwrap_or_else(|| format!("{}_{}_fkey", table.name, fk.columns.join("_")))
}

/// The dialect of a backend.
pub fn dialect_for(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Sqlite => &SqliteDialect,
        Backend::Postgres => &PostgresDialect,
        Backend::Mysql => &MysqlDialect,
    }
}
