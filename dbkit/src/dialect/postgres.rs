//! PostgreSQL: transactional DDL, a session advisory lock whose holder `pg_locks` and
//! `pg_stat_activity` name, `ALTER COLUMN .. TYPE .. USING` casts, `serial` columns,
//! primary keys named `<table>_pkey`, enum types, and the forms that do not block a table
//! that holds rows: `NOT VALID` then `VALIDATE`, `SET NOT NULL` through a validated check,
//! indexes built `CONCURRENTLY`, a `lock_timeout` on every revision that locks a table.

use super::{
    AlterTable, Dialect, Key, Later, NativeDump, Opening, ScriptSyntax, Staged, StatementBodies,
    TableChanges, foreign_key_name,
};
use crate::backend::Backend;
use crate::model::{Column, ForeignKey, TableName};
use crate::sqltype::SqlType;

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
        let object = lock_object(self, name);
        Some(format!(
            "SELECT format('pid %s (%s@%s, %s, connected since %s, %s)', a.pid, a.usename, \
             coalesce(host(a.client_addr), 'local socket'), \
             coalesce(nullif(a.application_name, ''), 'no application name'), \
             to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), \
             coalesce(a.state, 'unknown state')) AS value \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid = hashtext('dbrev')::oid AND l.objid = ({object})::oid"
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

    // ---- Enum types and lock timeouts (issue 12).

    fn named_enum_types(&self) -> bool {
        true
    }

    fn create_enum(&self, name: &TableName, labels: &str) -> Option<String> {
        Some(format!(
            "CREATE TYPE {} AS ENUM ({labels})",
            self.quote_table(name)
        ))
    }

    fn drop_enum(&self, name: &TableName) -> Option<String> {
        Some(format!("DROP TYPE {}", self.quote_table(name)))
    }

    fn add_enum_label(
        &self,
        name: &TableName,
        label: &str,
        after: Option<&str>,
        first: &str,
    ) -> Option<String> {
        // PostgreSQL 12+ runs ADD VALUE inside a transaction; the new label cannot be used
        // in that transaction, and nothing in the revision uses it.
        let place = match after {
            Some(after) => format!(" AFTER {}", self.quote_literal(after)),
            None if first.is_empty() => String::new(),
            None => format!(" BEFORE {}", self.quote_literal(first)),
        };
        Some(format!(
            "ALTER TYPE {} ADD VALUE {}{place}",
            self.quote_table(name),
            self.quote_literal(label)
        ))
    }

    fn rebuild_enum(
        &self,
        name: &TableName,
        labels: &str,
        columns: &[(TableName, Column)],
    ) -> Vec<String> {
        let old = TableName {
            schema: name.schema.clone(),
            name: format!("{}__dbrev_old", name.name),
        };
        let ty = self.quote_table(name);
        let mut out = vec![
            format!("ALTER TYPE {ty} RENAME TO {}", self.quote_ident(&old.name)),
            format!("CREATE TYPE {ty} AS ENUM ({labels})"),
        ];
        for (table, column) in columns {
            let t = self.quote_table(table);
            let c = self.quote_ident(&column.name);
            let (new_type, cast) = if column.ty.array {
                (format!("{ty}[]"), format!("{c}::text[]::{ty}[]"))
            } else {
                (ty.clone(), format!("{c}::text::{ty}"))
            };
            if column.default.is_some() {
                out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"));
            }
            out.push(self.acknowledged(
                "PG005",
                &format!("generated: enum type {name} changes its labels, so {table}.{} is converted (a rewrite under an ACCESS EXCLUSIVE lock)", column.name),
                format!("ALTER TABLE {t} ALTER COLUMN {c} TYPE {new_type} USING {cast}"),
            ));
            if let Some(default) = &column.default {
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default}"
                ));
            }
        }
        out.push(format!("DROP TYPE {}", self.quote_table(&old)));
        out
    }

    fn lock_timeout(&self, transactional: bool) -> Option<(String, Option<String>)> {
        Some(if transactional {
            (format!("SET LOCAL lock_timeout = {LOCK_TIMEOUT}"), None)
        } else {
            (
                format!("SET lock_timeout = {LOCK_TIMEOUT}"),
                Some("RESET lock_timeout".to_owned()),
            )
        })
    }

    // ---- How PostgreSQL's SQL text reads (as psql splits it).

    fn script_syntax(&self) -> ScriptSyntax {
        ScriptSyntax {
            dollar_quoting: true,
            escape_strings: true,
            nested_comments: true,
            meta_commands: true,
            copy_from_stdin: true,
            parenthesised_statements: true,
            bodies: StatementBodies::AtomicRoutines,
            ..ScriptSyntax::STANDARD
        }
    }

    fn native_dumps(&self) -> &'static [NativeDump] {
        // pg_dumpall's first: a cluster dump holds pg_dump's header lines further down.
        &[
            NativeDump {
                writer: "pg_dumpall",
                opening: Opening::Line("-- PostgreSQL database cluster dump"),
                completion: "-- PostgreSQL database cluster dump complete",
                completion_is_whole: false,
            },
            NativeDump {
                writer: "pg_dump",
                opening: Opening::Line("-- PostgreSQL database dump"),
                completion: "-- PostgreSQL database dump complete",
                completion_is_whole: false,
            },
        ]
    }

    fn schema_url_parameter(&self, schema: &str) -> Option<(&'static str, String)> {
        // libpq's `options`: server settings for the session. The server splits them at
        // spaces, a backslash escaping the next character.
        let path: String = self
            .quote_ident(schema)
            .chars()
            .flat_map(|c| match c {
                ' ' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        Some(("options", format!("-c search_path={path}")))
    }
}

/// How long a generated revision waits for a table lock before it fails (and can be run
/// again), rather than queueing every other query on the table behind it.
const LOCK_TIMEOUT: &str = "'5s'";

impl AlterTable for PostgresDialect {
    fn alter_column(&self, table: &TableName, from: &Column, to: &Column) -> Vec<String> {
        let t = self.quote_table(table);
        let c = self.quote_ident(&to.name);
        let mut out = Vec::new();
        if from.ty.native != to.ty.native {
            let sql = format!(
                "ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty} USING {c}::{ty}",
                ty = to.ty.native
            );
            out.push(if rewrites(&from.ty, &to.ty) {
                self.acknowledged(
                    "PG005",
                    &format!(
                        "generated: {table}.{} changes from {} to {}, which rewrites the table under an ACCESS EXCLUSIVE lock; on a big table, expand and contract instead",
                        to.name, from.ty.native, to.ty.native
                    ),
                    sql,
                )
            } else {
                sql
            });
        }
        if from.nullable != to.nullable {
            let action = if to.nullable { "DROP" } else { "SET" };
            let sql = format!("ALTER TABLE {t} ALTER COLUMN {c} {action} NOT NULL");
            // The planner makes a column NOT NULL in parts (`staged_not_null`) on the way
            // up; this plain form is for undoing a revision.
            out.push(if to.nullable {
                sql
            } else {
                self.acknowledged(
                    "PG004",
                    &format!("generated: reverting puts NOT NULL back on {table}.{} in the revert's transaction (a scan under an ACCESS EXCLUSIVE lock)", to.name),
                    sql,
                )
            });
        }
        out
    }

    fn set_primary_key(&self, table: &TableName, from: &Key, to: &Key) -> Vec<String> {
        let t = self.quote_table(table);
        let mut parts = Vec::new();
        if !from.columns.is_empty() {
            // A key declared without a name is `<table>_pkey`.
            let name = from
                .name
                .clone()
                .unwrap_or_else(|| format!("{}_pkey", table.name));
            parts.push(format!("DROP CONSTRAINT {}", self.quote_ident(&name)));
        }
        if !to.columns.is_empty() {
            parts.push(format!(
                "ADD {}PRIMARY KEY ({})",
                constraint(self, to),
                self.quote_idents(&to.columns)
            ));
        }
        let sql = format!("ALTER TABLE {t} {}", parts.join(", "));
        if to.columns.is_empty() {
            return vec![sql];
        }
        vec![self.acknowledged(
            "PG001",
            &format!("generated: the primary key of {table} changes in this revision's transaction (its index is built under an ACCESS EXCLUSIVE lock)"),
            sql,
        )]
    }

    fn staged_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> Option<Staged> {
        let t = self.quote_table(table);
        let name = self.quote_ident(&foreign_key_name(table, fk));
        Some(Staged {
            now_up: vec![format!("{} NOT VALID", self.add_foreign_key(table, fk))],
            now_down: vec![self.drop_foreign_key(table, fk)],
            later_up: Later {
                builds: Vec::new(),
                statements: vec![format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name}")],
            },
            later_down: Later::default(),
        })
    }

    fn restore_foreign_key(&self, table: &TableName, fk: &ForeignKey) -> String {
        self.acknowledged(
            "PG003",
            &format!("generated: reverting puts the foreign key back on {table} checked in the revert's transaction"),
            self.add_foreign_key(table, fk),
        )
    }

    fn staged_not_null(&self, table: &TableName, column: &str, check: &str) -> Option<Staged> {
        let t = self.quote_table(table);
        let c = self.quote_ident(column);
        let check = self.quote_ident(check);
        let add_check =
            format!("ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID");
        let drop_check = format!("ALTER TABLE {t} DROP CONSTRAINT {check}");
        Some(Staged {
            now_up: vec![add_check.clone()],
            now_down: vec![drop_check.clone()],
            later_up: Later {
                builds: Vec::new(),
                // SET NOT NULL uses the validated check instead of scanning (PostgreSQL 12+).
                statements: vec![
                    format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check}"),
                    format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"),
                    drop_check,
                ],
            },
            later_down: Later {
                builds: Vec::new(),
                statements: vec![
                    add_check,
                    format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"),
                ],
            },
        })
    }

    fn staged_primary_key(
        &self,
        table: &TableName,
        from: &Key,
        to: &Key,
        index: &str,
        old_index: &str,
    ) -> Option<Staged> {
        let t = self.quote_table(table);
        let swap = |from: &Key, to: &Key, index: &str| {
            let mut parts = Vec::new();
            if let Some(name) = from.name.as_deref().filter(|_| !from.columns.is_empty()) {
                parts.push(format!("DROP CONSTRAINT {}", self.quote_ident(name)));
            }
            if !to.columns.is_empty() {
                parts.push(format!(
                    "ADD {}PRIMARY KEY USING INDEX {}",
                    constraint(self, to),
                    self.quote_ident(index)
                ));
            }
            format!("ALTER TABLE {t} {}", parts.join(", "))
        };
        let build = |key: &Key, index: &str| {
            format!(
                "CREATE UNIQUE INDEX CONCURRENTLY {} ON {t} ({})",
                self.quote_ident(index),
                self.quote_idents(&key.columns)
            )
        };
        let builds = |key: &Key, index: &str| {
            if key.columns.is_empty() {
                Vec::new()
            } else {
                vec![build(key, index)]
            }
        };
        Some(Staged {
            now_up: Vec::new(),
            now_down: Vec::new(),
            later_up: Later {
                builds: builds(to, index),
                statements: vec![swap(from, to, index)],
            },
            later_down: Later {
                builds: builds(from, old_index),
                statements: vec![swap(to, from, old_index)],
            },
        })
    }
}

/// `CONSTRAINT "name" ` for a key with a name.
fn constraint(dialect: &PostgresDialect, key: &Key) -> String {
    key.name
        .as_deref()
        .map(|n| format!("CONSTRAINT {} ", dialect.quote_ident(n)))
        .unwrap_or_default()
}

/// Whether PostgreSQL rewrites the table to change a column from `from` to `to`: every
/// change but a text type growing (`varchar(n)` to a longer `varchar`, unbounded
/// `varchar` or `text`), which changes the catalog only.
fn rewrites(from: &SqlType, to: &SqlType) -> bool {
    use crate::sqltype::TypeKind::{Text, Varchar};
    if from.array || to.array {
        return from.native != to.native;
    }
    match (&from.kind, &to.kind) {
        (Varchar | Text, Text) => false,
        (Varchar, Varchar) => match (from.max_length, to.max_length) {
            (Some(a), Some(b)) => b < a,
            (_, None) => false,
            (None, Some(_)) => true,
        },
        (Text, Varchar) => to.max_length.is_some(),
        _ => from.native != to.native,
    }
}

/// The advisory lock's two keys: dbrev's, and the lock name's with the schema the version
/// table lives in (advisory locks are per database already): runs on two schemas of one
/// database (a fleet's schema tenants) keep two version tables and do not wait for each
/// other.
fn lock_key(dialect: &PostgresDialect, name: &str) -> String {
    format!("hashtext('dbrev'), {}", lock_object(dialect, name))
}

/// The lock's second key: `name` and the current schema, hashed.
fn lock_object(dialect: &PostgresDialect, name: &str) -> String {
    format!(
        "hashtext({} || coalesce(':' || current_schema(), ''))",
        dialect.quote_literal(name)
    )
}
