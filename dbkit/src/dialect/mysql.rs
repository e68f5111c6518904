//! MySQL and MariaDB: backquoted identifiers, DDL that commits implicitly, `GET_LOCK`
//! (its holder from `IS_USED_LOCK` and the process list),
//! `MODIFY COLUMN`, `AUTO_INCREMENT`, `RENAME TABLE`.

use super::{AlterTable, Dialect, TableChanges};
use crate::backend::Backend;
use crate::model::{Column, ForeignKey, TableName};

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
            format!("DELIMITER $$\n{sql}$$\nDELIMITER ;\n")
        } else {
            format!("{sql};\n")
        }
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
}

impl AlterTable for MysqlDialect {
    fn alter_column(&self, table: &TableName, _from: &Column, to: &Column) -> Vec<String> {
        vec![format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            self.quote_table(table),
            self.column_definition(to)
        )]
    }

    fn set_primary_key(
        &self,
        table: &TableName,
        from: &[String],
        _from_name: Option<&str>,
        to: &[String],
    ) -> Vec<String> {
        let mut parts = Vec::new();
        if !from.is_empty() {
            parts.push("DROP PRIMARY KEY".to_owned());
        }
        if !to.is_empty() {
            parts.push(format!("ADD PRIMARY KEY ({})", self.quote_idents(to)));
        }
        vec![format!(
            "ALTER TABLE {} {}",
            self.quote_table(table),
            parts.join(", ")
        )]
    }

    fn drop_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        format!(
            "ALTER TABLE {} DROP FOREIGN KEY {}",
            self.quote_table(table),
            self.quote_ident(&super::foreign_key_name(table, fk))
        )
    }
}

/// `GET_LOCK` names are server-wide: the database name makes them per database.
fn lock_name(dialect: &MysqlDialect, name: &str) -> String {
    format!("CONCAT(DATABASE(), '.', {})", dialect.quote_literal(name))
}
