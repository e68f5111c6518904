//! PostgreSQL: transactional DDL, a session advisory lock whose holder `pg_locks` and
//! `pg_stat_activity` name, `ALTER COLUMN .. TYPE .. USING` casts, `serial` columns, and
//! primary keys named `<table>_pkey`.

use super::{AlterTable, Dialect, TableChanges};
use crate::backend::Backend;
use crate::model::{Column, TableName};

/// PostgreSQL: transactional DDL and a session advisory lock.
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT current_setting('server_version') AS value"
    }

    fn session_identity(&self) -> Option<&'static str> {
        Some("current_user || '@' || coalesce(host(inet_client_addr()), 'local')")
    }

    fn session_setup(&self) -> Option<&'static str> {
        Some(
            "SELECT set_config('application_name', 'cargo-dbrev', false) WHERE current_setting('application_name') = ''",
        )
    }

    fn try_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT CASE WHEN pg_try_advisory_lock({}) THEN '1' ELSE '0' END AS value",
            lock_key(self, name)
        ))
    }

    fn release_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT CASE WHEN pg_advisory_unlock({}) THEN '1' ELSE '0' END AS value",
            lock_key(self, name)
        ))
    }

    fn lock_holder(&self, name: &str) -> Option<String> {
        // The two-key form shows up in pg_locks as classid/objid with objsubid 2.
        let name = self.quote_literal(name);
        Some(format!(
            "SELECT format('pid %s (%s@%s, %s, connected since %s, %s)', a.pid, a.usename, \
             coalesce(host(a.client_addr), 'local socket'), \
             coalesce(nullif(a.application_name, ''), 'no application name'), \
             to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), \
             coalesce(a.state, 'unknown state')) AS value \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid = hashtext('dbrev')::oid AND l.objid = hashtext({name})::oid"
        ))
    }
    fn list_tables_query(&self) -> &'static str {
        "SELECT table_name::text AS value FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    }

    fn default_schema(&self) -> Option<&'static str> {
        Some("public")
    }

    fn default_is_sequence(&self, column: &Column) -> bool {
        column
            .default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("))
    }

    fn table_changes(&self) -> TableChanges<'_> {
        TableChanges::Alter(self)
    }
}

impl AlterTable for PostgresDialect {
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
            // A key declared without a name is `<table>_pkey`.
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
}

/// The advisory lock's two keys: dbrev's, and the lock name's (per database already).
fn lock_key(dialect: &PostgresDialect, name: &str) -> String {
    format!(
        "hashtext('dbrev'), hashtext({})",
        dialect.quote_literal(name)
    )
}
