//! MySQL and MariaDB: backquoted identifiers, DDL that commits implicitly, `GET_LOCK`
//! (its holder from `IS_USED_LOCK` and the process list),
//! `MODIFY COLUMN`, `AUTO_INCREMENT`, `RENAME TABLE`, enums as column types, and
//! `ALGORITHM=INPLACE, LOCK=NONE` on every change the server can make without blocking.

use super::{AlterTable, Dialect, Key, NativeDump, Opening, ScriptSyntax, TableChanges};
use crate::backend::Backend;
use crate::model::{Column, ForeignKey, TableName};
use crate::sqltype::{SqlType, TypeKind};

/// MySQL and MariaDB: backquoted identifiers, DDL that commits implicitly, `GET_LOCK`.
pub struct MysqlDialect;

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
            self.script_body(sql)
        } else {
            format!("{sql};\n")
        }
    }

    fn script_body(&self, sql: &str) -> String {
        // mysqldump's spelling.
        format!("DELIMITER ;;\n{sql} ;;\nDELIMITER ;\n")
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT VERSION() AS value"
    }

    fn timestamp_type(&self) -> &'static str {
        "TIMESTAMP NULL"
    }

    fn epoch_seconds(&self, expr: &str) -> String {
        format!("CAST(UNIX_TIMESTAMP({expr}) AS SIGNED)")
    }

    fn session_identity(&self) -> Option<&'static str> {
        Some("USER()")
    }

    fn try_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT CAST(GET_LOCK({}, 0) AS CHAR) AS value",
            lock_name(self, name)
        ))
    }

    fn release_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT CAST(RELEASE_LOCK({}) AS CHAR) AS value",
            lock_name(self, name)
        ))
    }

    fn lock_holder(&self, name: &str) -> Option<String> {
        // PROCESSLIST shows other users' sessions only with the PROCESS privilege: the
        // connection id alone is still worth printing.
        Some(format!(
            "SELECT CAST(CONCAT('connection ', l.id, COALESCE(CONCAT(' (', p.USER, '@', p.HOST, ', ', \
             p.COMMAND, ' since ', DATE_FORMAT(NOW() - INTERVAL p.TIME SECOND, '%Y-%m-%d %H:%i:%s'), ')'), '')) AS CHAR) AS value \
             FROM (SELECT IS_USED_LOCK({}) AS id) l \
             LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id WHERE l.id IS NOT NULL",
            lock_name(self, name)
        ))
    }
    fn list_tables_query(&self) -> &'static str {
        "SELECT CAST(table_name AS CHAR) AS value FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
    }

    fn identity_type(&self, ty: &str) -> String {
        ty.to_owned()
    }

    fn auto_increment_suffix(&self) -> &'static str {
        " AUTO_INCREMENT"
    }

    fn explicit_null(&self) -> bool {
        // A TIMESTAMP column is NOT NULL unless it says NULL.
        true
    }

    fn rename_table(&self, from: &TableName, to: &TableName) -> String {
        format!(
            "RENAME TABLE {} TO {}",
            self.quote_table(from),
            self.quote_table(to)
        )
    }

    fn table_changes(&self) -> TableChanges<'_> {
        TableChanges::Alter(self)
    }

    // ---- Online forms (issue 12): each statement the server can run without blocking
    // writes says so, so the server refuses instead of blocking (verified on MariaDB 10.11).

    fn add_column(&self, table: &TableName, c: &Column) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {}{ONLINE}",
            self.quote_table(table),
            self.column_definition(c)
        )
    }

    fn drop_column(&self, table: &TableName, column: &str) -> String {
        format!(
            "ALTER TABLE {} DROP COLUMN {}{ONLINE}",
            self.quote_table(table),
            self.quote_ident(column)
        )
    }

    fn rename_column(&self, table: &TableName, from: &str, to: &str) -> String {
        format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}{ONLINE}",
            self.quote_table(table),
            self.quote_ident(from),
            self.quote_ident(to)
        )
    }

    // ---- How MySQL's SQL text reads.

    fn script_syntax(&self) -> ScriptSyntax {
        ScriptSyntax {
            hash_comments: true,
            backslash_escapes: true,
            backquoted_identifiers: true,
            spaced_dash_comments: true,
            executable_comments: true,
            delimiter_command: Some("DELIMITER"),
            raw_binary_strings: true,
            ..ScriptSyntax::STANDARD
        }
    }

    fn native_dumps(&self) -> &'static [NativeDump] {
        &[NativeDump {
            writer: "mysqldump/mariadb-dump",
            opening: Opening::LineStarting(&["-- MySQL dump ", "-- MariaDB dump "]),
            completion: "-- Dump completed",
            completion_is_whole: false,
        }]
    }
}

/// The clause asking for an in-place change that lets writes through (MySQL 5.6+,
/// MariaDB 10.0+; with INSTANT where the server can, MariaDB picks it itself).
const ONLINE: &str = ", ALGORITHM=INPLACE, LOCK=NONE";

impl AlterTable for MysqlDialect {
    fn alter_column(&self, table: &TableName, from: &Column, to: &Column) -> Vec<String> {
        let sql = format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            self.quote_table(table),
            self.column_definition(to)
        );
        if in_place(&from.ty, &to.ty) {
            vec![format!("{sql}{ONLINE}")]
        } else {
            vec![self.acknowledged(
                "MY001",
                &format!(
                    "generated: {table}.{} changes from {} to {}, which copies the table with writes blocked; on a big table, expand and contract instead",
                    to.name, from.ty.native, to.ty.native
                ),
                sql,
            )]
        }
    }

    fn set_primary_key(&self, table: &TableName, from: &Key, to: &Key) -> Vec<String> {
        let mut parts = Vec::new();
        if !from.columns.is_empty() {
            parts.push("DROP PRIMARY KEY".to_owned());
        }
        if !to.columns.is_empty() {
            parts.push(format!(
                "ADD PRIMARY KEY ({})",
                self.quote_idents(&to.columns)
            ));
        }
        let sql = format!(
            "ALTER TABLE {} {}",
            self.quote_table(table),
            parts.join(", ")
        );
        if to.columns.is_empty() {
            // Dropping the key without a new one can only copy the table.
            vec![self.acknowledged(
                "MY001",
                &format!("generated: {table} had no primary key before this revision; dropping it copies the table with writes blocked"),
                sql,
            )]
        } else {
            vec![format!("{sql}{ONLINE}")]
        }
    }

    fn drop_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        format!(
            "ALTER TABLE {} DROP FOREIGN KEY {}{ONLINE}",
            self.quote_table(table),
            self.quote_ident(&super::foreign_key_name(table, fk))
        )
    }
}

/// Whether MySQL/MariaDB change a column from `from` to `to` in place: the same type
/// (nullability or default changes), a `VARCHAR` growing within the same length-prefix
/// size (up to 63 characters or from 64 on, with 4-byte utf8mb4), an `ENUM` gaining labels
/// at its end.
fn in_place(from: &SqlType, to: &SqlType) -> bool {
    if from.native.eq_ignore_ascii_case(&to.native) || from.appends_labels_to(to) {
        return true;
    }
    match (&from.kind, &to.kind, from.max_length, to.max_length) {
        (TypeKind::Varchar, TypeKind::Varchar, Some(a), Some(b)) => {
            b >= a && (a < 64) == (b < 64) && from.unsigned == to.unsigned
        }
        _ => false,
    }
}

/// `GET_LOCK` names are server-wide: the database name makes them per database.
fn lock_name(dialect: &MysqlDialect, name: &str) -> String {
    format!("CONCAT(DATABASE(), '.', {})", dialect.quote_literal(name))
}
