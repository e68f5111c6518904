//! MySQL and MariaDB: backquoted identifiers, DDL that commits implicitly, `GET_LOCK`
//! (its holder from `IS_USED_LOCK` and the process list),
//! `MODIFY COLUMN`, `AUTO_INCREMENT`, `RENAME TABLE`, enums as column types, and
//! `ALGORITHM=INPLACE, LOCK=NONE` on every change the server can make without blocking;
//! dbrev's tables in InnoDB; and MariaDB Galera ([`GaleraDialect`]): `wsrep_on`, causal
//! reads (`wsrep_sync_wait`), the lock table, the node's identity from `wsrep_*` status.

use super::{
    AlterTable, ClusterDialect, Dialect, Key, NativeDump, Opening, ScriptSyntax, TableChanges,
};
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

    fn create_version_table(&self, table: &str) -> String {
        // InnoDB whatever the server's default engine: transactional, and replicated by
        // Galera (diesel's shape is the columns, which stay as diesel has them).
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n) ENGINE=InnoDB",
            self.quote_ident(table)
        )
    }

    fn create_revisions_table(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       checksum VARCHAR(64),\n       state VARCHAR(16) NOT NULL,\n       applied_at {},\n       applied_by VARCHAR(255),\n       duration_ms BIGINT,\n       statements_done BIGINT NOT NULL DEFAULT 0,\n       statements_total BIGINT NOT NULL DEFAULT 0,\n       note VARCHAR(1000)\n) ENGINE=InnoDB",
            self.quote_ident(table),
            self.timestamp_type()
        )
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

    fn cluster(&self) -> Option<&'static dyn ClusterDialect> {
        Some(&GaleraDialect)
    }
}

/// MariaDB Galera (and other wsrep clusters): a node says `@@wsrep_on`; its identity and
/// its cluster's come from the `wsrep_*` status variables.
pub struct GaleraDialect;

/// One `wsrep_*` status variable's value ('' when the server has none).
macro_rules! wsrep_status {
    ($name:literal) => {
        concat!(
            "COALESCE((SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '",
            $name,
            "'), '')"
        )
    };
}

impl ClusterDialect for GaleraDialect {
    fn name(&self) -> &'static str {
        "Galera"
    }

    fn probe(&self) -> &'static str {
        "SELECT CAST(IF(@@wsrep_on, 1, 0) AS CHAR) AS value"
    }

    fn probe_unsupported(&self, message: &str) -> bool {
        // MySQL, or MariaDB built without wsrep: ER_UNKNOWN_SYSTEM_VARIABLE.
        message.contains("Unknown system variable")
    }

    fn causal_reads(&self) -> &'static str {
        // Bit 1: reads (SELECT, SHOW, BEGIN) wait for the cluster's earlier commits.
        "SET SESSION wsrep_sync_wait = @@session.wsrep_sync_wait | 1"
    }

    fn local_reads(&self) -> &'static str {
        "SET SESSION wsrep_sync_wait = @@session.wsrep_sync_wait & ~1"
    }

    fn is_catch_up_timeout(&self, message: &str) -> bool {
        // ER_LOCK_WAIT_TIMEOUT on a read: `repl.causal_read_timeout` ran out.
        message.contains("Lock wait timeout exceeded")
    }

    fn session_query(&self) -> &'static str {
        concat!(
            "SELECT CAST(@@wsrep_node_name AS CHAR) AS node, CAST(",
            wsrep_status!("WSREP_GCOMM_UUID"),
            " AS CHAR) AS node_id, CAST(CONCAT(",
            wsrep_status!("WSREP_CLUSTER_STATE_UUID"),
            ", '/', DATABASE()) AS CHAR) AS scope, CAST(CONNECTION_ID() AS CHAR) AS connection_id, CAST(USER() AS CHAR) AS db_user"
        )
    }

    fn create_lock_table(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n       name VARCHAR(191) PRIMARY KEY NOT NULL,\n       token VARCHAR(64) NOT NULL,\n       process VARCHAR(255) NOT NULL,\n       db_user VARCHAR(255) NOT NULL,\n       node VARCHAR(255) NOT NULL,\n       node_id VARCHAR(64) NOT NULL,\n       connection_id BIGINT NOT NULL,\n       scope VARCHAR(255) NOT NULL,\n       since TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n) ENGINE=InnoDB",
            MysqlDialect.quote_ident(table)
        )
    }

    fn is_conflict(&self, message: &str) -> bool {
        // ER_LOCK_DEADLOCK (1213): a certification failure, or a local lock wait lost.
        message.to_ascii_lowercase().contains("deadlock")
    }

    fn hazards_query(&self) -> &'static str {
        "SELECT CAST(t.TABLE_NAME AS CHAR) AS table_name, \
         CAST(CASE WHEN UPPER(t.ENGINE) = 'INNODB' THEN NULL ELSE t.ENGINE END AS CHAR) AS engine, \
         CAST(EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c \
                      WHERE c.CONSTRAINT_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME \
                        AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS CHAR) AS primary_key \
         FROM information_schema.TABLES t \
         WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') \
         HAVING engine IS NOT NULL OR primary_key = '0' ORDER BY 1"
    }

    fn replicated_engine(&self) -> &'static str {
        "InnoDB"
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
