//! SQLite: double-quoted identifiers, transactional DDL, exclusive transactions as the
//! migration lock, and table rebuilds instead of most `ALTER TABLE`s (SQLite's own recipe:
//! foreign keys off, new table, copy, drop, rename, indexes, then `pragma_foreign_key_check`
//! of the table and of those that reference it).

use super::{
    Dialect, NativeDump, Opening, RebuildTable, ScriptSyntax, StatementBodies, TableChanges,
};
use crate::backend::Backend;
use crate::model::{Table, TableName};

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

    fn create_revisions_table(&self, table: &str) -> String {
        // WITHOUT ROWID: the rows live in the key's own b-tree, so recording a revision
        // writes (and journals) one page of this table, not a table page and an index page.
        // A table made before keeps its shape: every statement names its columns.
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       checksum VARCHAR(64),\n       state VARCHAR(16) NOT NULL,\n       applied_at {},\n       applied_by VARCHAR(255),\n       duration_ms BIGINT,\n       statements_done BIGINT NOT NULL DEFAULT 0,\n       statements_total BIGINT NOT NULL DEFAULT 0,\n       note VARCHAR(1000)\n) WITHOUT ROWID",
            self.quote_ident(table),
            self.timestamp_type()
        )
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

    fn table_changes(&self) -> TableChanges<'_> {
        TableChanges::Rebuild(self)
    }

    fn enum_labels_in_check(&self) -> bool {
        true
    }

    fn create_indexes(&self, table: &Table) -> Vec<String> {
        // SQLite makes its `sqlite_autoindex_*` indexes itself, for UNIQUE and PRIMARY KEY.
        table
            .indexes
            .iter()
            .filter(|i| !i.constraint && !i.name.starts_with("sqlite_autoindex"))
            .map(|i| self.create_index(&table.name, i))
            .collect()
    }

    fn connection_setup(&self) -> Option<&'static str> {
        // Wait for other writers; leave foreign keys off as sqlite3 and alembic do (diesel
        // turns them on): the table-rebuild recipe needs them off and checks them itself
        // with `pragma_foreign_key_check`.
        Some("PRAGMA busy_timeout = 60000; PRAGMA foreign_keys = OFF;")
    }

    fn script_syntax(&self) -> ScriptSyntax {
        ScriptSyntax {
            bodies: StatementBodies::Triggers,
            ..ScriptSyntax::STANDARD
        }
    }

    fn native_dumps(&self) -> &'static [NativeDump] {
        &[NativeDump {
            writer: "sqlite3 .dump",
            opening: Opening::FirstLines(&["PRAGMA foreign_keys=OFF;", "BEGIN TRANSACTION;"]),
            completion: "COMMIT;",
            completion_is_whole: true,
        }]
    }
}

impl RebuildTable for SqliteDialect {
    fn rebuild_session(&self) -> (Vec<String>, Vec<String>) {
        // `PRAGMA foreign_keys` cannot change inside a transaction, and with foreign keys on,
        // `DROP TABLE` first deletes every row (firing ON DELETE actions elsewhere): turn
        // them off before the revision's own transaction, back on after it (diesel's
        // runner and apps keep them on; dbrev's own connection keeps them off).
        (
            vec!["PRAGMA foreign_keys = OFF".into(), "BEGIN".into()],
            vec!["COMMIT".into(), "PRAGMA foreign_keys = ON".into()],
        )
    }

    fn rebuild_table(
        &self,
        from: &Table,
        to: &Table,
        values: &[String],
        left_out: Option<&str>,
        referencing: &[TableName],
    ) -> Vec<String> {
        let staged = Table {
            name: TableName {
                schema: to.name.schema.clone(),
                name: format!("_dbrev_new_{}", to.name.name),
            },
            ..to.clone()
        };
        let columns: Vec<String> = to.columns.iter().map(|c| c.name.clone()).collect();
        let mut out = vec![
            self.create_table(&staged, true),
            format!(
                "INSERT INTO {} ({}) SELECT {} FROM {}",
                self.quote_table(&staged.name),
                self.quote_idents(&columns),
                values.join(", "),
                self.quote_table(&from.name)
            ),
            match left_out {
                Some(reason) => self.acknowledged("ALL001", reason, self.drop_table(&from.name)),
                None => self.drop_table(&from.name),
            },
            self.rename_table(&staged.name, &to.name),
        ];
        out.extend(self.create_indexes(to));
        // pragma_foreign_key_check lists violations (of the table's own keys, and of the
        // keys that reference it); json() of a text that is no JSON turns any into an error.
        let mut checked = vec![&to.name];
        checked.extend(referencing.iter().filter(|t| **t != to.name));
        let checks: Vec<String> = checked
            .iter()
            .map(|t| {
                format!(
                    "SELECT 1 FROM pragma_foreign_key_check({})",
                    self.quote_literal(&t.name)
                )
            })
            .collect();
        out.push(format!(
            "SELECT CASE WHEN EXISTS ({}) THEN json({}) END",
            checks.join(" UNION ALL "),
            self.quote_literal(&format!(
                "foreign key violation after rebuilding {}",
                to.name
            ))
        ));
        out
    }
}
