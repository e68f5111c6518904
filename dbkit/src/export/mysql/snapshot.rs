//! MySQL/MariaDB's catalog as a [`Snapshot`], from the batched `information_schema`
//! queries the dump's lists come from ([`super::catalog`]): tables with their engine,
//! collation and options, columns, the primary key, unique keys and indexes (from their
//! members), checks, foreign keys, views, routines with their parameters, triggers and
//! events. The server's rendering is kept, except what names the database itself (a view
//! reads `` `db`.`t` ``), and bodies written by hand compare without layout or comments.

use std::collections::BTreeMap;

use super::catalog::{self, Definitions, IndexMemberRow, Reader};
use crate::error::{Error, Result};
use crate::export::query_error;
use crate::export::session::{RawMysql, mysql_text};
use crate::snapshot::{Fingerprint, ObjectKind, Scope, Snapshot, SqlText, normalise_sql};

/// MySQL's text: `#` comments, backslash escapes.
const TEXT: SqlText = SqlText {
    fold_case: false,
    hash_comments: true,
    backslash_escapes: true,
};

/// Words after which SQL may change more than the tables and views it names (it runs
/// code, renames, or changes routines, triggers, events or databases), so that a
/// fingerprint within its scope could miss a change: with one of them every object is read.
/// (Triggers and stored functions, which row changes run, cannot change the schema.)
const REACHES_FURTHER: &[&str] = &[
    "CALL",
    "PREPARE",
    "EXECUTE",
    "FUNCTION",
    "PROCEDURE",
    "TRIGGER",
    "EVENT",
    "RENAME",
    "DATABASE",
    "SCHEMA",
    "LOAD",
    "INSTALL",
];

/// A catalog session, and the parts of the fingerprint query as this server spells them.
pub(crate) struct SnapshotSession {
    session: RawMysql,
    /// The parts of `queries/fingerprint.sql`, one line each (see there).
    parts: Vec<String>,
}

impl SnapshotSession {
    /// A catalog session on an open connection; asks which of the columns MySQL and
    /// MariaDB spell apart the server has (MySQL 8's functional index members, MariaDB's
    /// table of a check), for the fingerprint query.
    pub(crate) fn new(mut session: RawMysql) -> Result<SnapshotSession> {
        let columns = session
            .rows(
                "SELECT CAST(CONCAT(TABLE_NAME, '.', COLUMN_NAME) AS CHAR) AS name \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' \
                 AND ((TABLE_NAME = 'STATISTICS' AND COLUMN_NAME = 'EXPRESSION') \
                 OR (TABLE_NAME = 'CHECK_CONSTRAINTS' AND COLUMN_NAME = 'TABLE_NAME'))",
            )
            .map_err(|e| query_error("the catalog's columns", e))?;
        let has = |column: &str| {
            columns
                .iter()
                .any(|r| mysql_text(r, "name").as_deref() == Some(column))
        };
        let parts = fingerprint_parts(
            has("STATISTICS.EXPRESSION"),
            has("CHECK_CONSTRAINTS.TABLE_NAME"),
        );
        Ok(SnapshotSession { session, parts })
    }

    /// The fingerprint's query: every part, or the parts about one table once per table.
    fn fingerprint_sql(&self, tables: Option<&[String]>) -> String {
        let lines: Vec<String> = match tables {
            None => self.parts.iter().map(|p| narrowed(p, None)).collect(),
            Some(tables) => self
                .parts
                .iter()
                .filter(|p| p.contains("{table:"))
                .flat_map(|p| tables.iter().map(|t| narrowed(p, Some(t))))
                .collect(),
        };
        format!(
            "SELECT COUNT(*) AS objects, \
             CAST(SUM(CAST(CONV(SUBSTRING(h, 1, 15), 16, 10) AS UNSIGNED)) AS CHAR) AS a, \
             CAST(SUM(CAST(CONV(SUBSTRING(h, 16, 15), 16, 10) AS UNSIGNED)) AS CHAR) AS b, \
             CAST(SUM(CAST(CONV(SUBSTRING(h, 31, 15), 16, 10) AS UNSIGNED)) AS CHAR) AS c \
             FROM (\n{}\n) catalog_lines",
            lines.join("\nUNION ALL\n")
        )
    }

    /// The tables and views of the database some of the words name (one query).
    fn tables_named(&mut self, scope: &Scope) -> Result<Vec<String>> {
        let words: Vec<String> = scope.words().map(quoted).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT CAST(TABLE_NAME AS CHAR) AS name FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({})",
            words.join(", ")
        );
        let rows = self
            .session
            .rows(&sql)
            .map_err(|e| query_error("the tables a revision names", e))?;
        Ok(rows.iter().filter_map(|r| mysql_text(r, "name")).collect())
    }
}

/// The parts of `queries/fingerprint.sql` as a server spells them that has MySQL 8's
/// functional index members (`expression`) and MariaDB's table of a check (`check_table`).
fn fingerprint_parts(expression: bool, check_table: bool) -> Vec<String> {
    let (kept, left_out) = if check_table {
        ("{with_check_table}", "{without_check_table}")
    } else {
        ("{without_check_table}", "{with_check_table}")
    };
    include_str!("queries/fingerprint.sql")
        .replace(
            "{index_expression}",
            if expression { "EXPRESSION" } else { "NULL" },
        )
        .split("\nUNION ALL\n")
        .filter(|part| !part.contains(left_out))
        .map(|part| part.replace(kept, ""))
        .collect()
}

/// A part of the fingerprint query for every table, or narrowed to one.
fn narrowed(part: &str, table: Option<&str>) -> String {
    let mut out = String::new();
    let mut rest = part;
    while let Some(at) = rest.find("{table:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "{table:".len()..];
        let end = after.find('}').unwrap_or(after.len());
        if let Some(table) = table {
            out.push_str(&format!(" AND {} = {}", &after[..end], quoted(table)));
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// A string literal (quotes doubled; words with a backslash are never scoped, so the
/// server's NO_BACKSLASH_ESCAPES does not matter).
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Reads the catalog's fingerprint: one query (`queries/fingerprint.sql`), the hash summed
/// by the server; within `scope` when its words allow: the tables it names first (one
/// query), then only theirs.
pub(crate) fn fingerprint(
    catalog: &mut SnapshotSession,
    scope: Option<&Scope>,
) -> Result<Fingerprint> {
    let failed = |message: String| Error::Query {
        context: "reading the catalog's fingerprint".into(),
        message,
    };
    let scope =
        scope.filter(|s| !s.has_any(REACHES_FURTHER) && s.words().all(|w| !w.contains('\\')));
    let (sql, queries) = match scope {
        None => (catalog.fingerprint_sql(None), 1),
        Some(scope) => {
            let tables = catalog.tables_named(scope)?;
            if tables.is_empty() {
                // Nothing in scope: nothing to read.
                return Ok(Fingerprint {
                    hash: "0".into(),
                    queries: 1,
                    scoped: true,
                    reaches_further: false,
                });
            }
            (catalog.fingerprint_sql(Some(&tables)), 2)
        }
    };
    let rows = catalog
        .session
        .rows(&sql)
        .map_err(|e| failed(e.to_string()))?;
    let row = rows
        .first()
        .ok_or_else(|| failed("the server returned no hash".into()))?;
    let sums: Vec<String> = ["objects", "a", "b", "c"]
        .iter()
        .map(|c| mysql_text(row, c).unwrap_or_default())
        .collect();
    Ok(Fingerprint {
        hash: sums.join(":"),
        queries,
        scoped: scope.is_some(),
        reaches_further: false,
    })
}

/// Reads a snapshot on a catalog session.
pub(crate) fn snapshot(catalog: &mut SnapshotSession) -> Result<Snapshot> {
    let session = &mut catalog.session;
    let database = session
        .rows("SELECT CAST(DATABASE() AS CHAR) AS name")
        .map_err(|e| query_error("the database's name", e))?
        .first()
        .and_then(|r| mysql_text(r, "name"))
        .unwrap_or_default();
    let mut reader = Reader {
        session,
        queries: 1,
    };
    let relations = catalog::relations(&mut reader)?;
    let defs = catalog::for_snapshot(&mut reader)?;
    let mut s = Snapshot {
        queries: reader.queries,
        ..Snapshot::default()
    };
    for r in relations.iter().filter(|r| !r.is_view()) {
        s.add(ObjectKind::Table, &r.name)
            .set("kind", &r.kind)
            .set_some("engine", r.engine.as_deref())
            .set_some("collation", r.collation.as_deref())
            .set_some("options", r.options.as_deref())
            .set_some("comment", r.comment.as_deref());
    }
    columns(&mut s, &defs);
    indexes(&mut s, &defs.indexes);
    constraints(&mut s, &defs);
    let own = format!("`{}`.", database.replace('`', "``"));
    for v in &defs.views {
        s.add(ObjectKind::View, &v.name)
            .set(
                "definition",
                normalise_sql(&v.definition.replace(&own, ""), TEXT),
            )
            .set("check option", &v.check_option)
            .set("security", &v.security);
    }
    programs(&mut s, &defs);
    Ok(s)
}

fn columns(s: &mut Snapshot, defs: &Definitions) {
    for c in &defs.columns {
        s.add_on(
            ObjectKind::Column,
            format!("{}.{}", c.table, c.name),
            &c.table,
        )
        .set("type", &c.type_name)
        .flag("not null", !c.nullable)
        .set_some(
            "default",
            c.default_value.as_deref().and_then(default_value),
        )
        .set_some("extra", Some(c.extra.as_str()).filter(|e| !e.is_empty()))
        .set_some("collation", c.collation.as_deref())
        .set_some("generated", c.generation.as_deref())
        .set_some("comment", c.comment.as_deref());
    }
}

/// Indexes from their members: `PRIMARY` is the primary key, a unique index a unique key.
fn indexes(s: &mut Snapshot, members: &[IndexMemberRow]) {
    let mut by_index: BTreeMap<(&str, &str), Vec<&IndexMemberRow>> = BTreeMap::new();
    for m in members {
        by_index.entry((&m.table, &m.index)).or_default().push(m);
    }
    for ((table, index), members) in by_index {
        let first = members[0];
        let kind = match (index, first.unique) {
            ("PRIMARY", _) => ObjectKind::PrimaryKey,
            (_, true) => ObjectKind::UniqueKey,
            _ => ObjectKind::Index,
        };
        let columns: Vec<String> = members
            .iter()
            .map(|m| {
                let mut part = m
                    .column
                    .clone()
                    .or_else(|| m.expression.as_ref().map(|e| format!("({e})")))
                    .unwrap_or_default();
                if let Some(length) = &m.sub_part {
                    part.push_str(&format!("({length})"));
                }
                if m.order.as_deref() == Some("D") {
                    part.push_str(" DESC");
                }
                part
            })
            .collect();
        s.add_on(kind, format!("{table}.{index}"), table)
            .set("columns", columns.join(", "))
            .set("using", &first.index_type)
            .set_some("comment", first.comment.as_deref());
    }
}

/// Checks and foreign keys (keys and unique constraints are their indexes).
fn constraints(s: &mut Snapshot, defs: &Definitions) {
    for k in defs.constraints.iter().filter(|k| k.kind == "CHECK") {
        let clause = defs
            .checks
            .iter()
            .find(|c| c.name == k.name && c.table.as_ref().is_none_or(|t| *t == k.table))
            .map(|c| c.clause.as_str());
        s.add_on(
            ObjectKind::Check,
            format!("{}.{}", k.table, k.name),
            &k.table,
        )
        .set_some("definition", clause);
    }
    let mut keys: BTreeMap<(&str, &str), Vec<&catalog::ReferenceRow>> = BTreeMap::new();
    for r in &defs.references {
        keys.entry((&r.table, &r.name)).or_default().push(r);
    }
    for ((table, name), members) in keys {
        let first = members[0];
        let list = |f: fn(&catalog::ReferenceRow) -> &str| {
            members.iter().map(|m| f(m)).collect::<Vec<_>>().join(", ")
        };
        let target = match &first.ref_schema {
            Some(schema) => format!("{schema}.{}", first.ref_table),
            None => first.ref_table.clone(),
        };
        s.add_on(ObjectKind::ForeignKey, format!("{table}.{name}"), table)
            .set("columns", list(|m| &m.column))
            .set(
                "references",
                format!("{target}({})", list(|m| &m.ref_column)),
            )
            .set("on update", &first.on_update)
            .set("on delete", &first.on_delete);
    }
}

fn programs(s: &mut Snapshot, defs: &Definitions) {
    for r in &defs.routines {
        let kind = if r.kind == "PROCEDURE" {
            ObjectKind::Procedure
        } else {
            ObjectKind::Function
        };
        let parameters: Vec<String> = defs
            .parameters
            .iter()
            .filter(|p| p.routine == r.name && p.kind == r.kind)
            .map(|p| {
                let mode = p
                    .mode
                    .as_deref()
                    .map(|m| format!("{m} "))
                    .unwrap_or_default();
                format!("{mode}{} {}", p.name, p.type_name)
            })
            .collect();
        s.add(kind, &r.name)
            .set("parameters", parameters.join(", "))
            .set_some("returns", r.returns.as_deref())
            .set("body", normalise_sql(&r.body, TEXT))
            .set("deterministic", &r.deterministic)
            .set("data access", &r.data_access)
            .set("security", &r.security)
            .set("sql_mode", &r.sql_mode)
            .set_some("comment", r.comment.as_deref());
    }
    for t in &defs.triggers {
        s.add_on(
            ObjectKind::Trigger,
            format!("{}.{}", t.table, t.name),
            &t.table,
        )
        .set("when", format!("{} {}", t.timing, t.event))
        .set("order", &t.position)
        .set("body", normalise_sql(&t.body, TEXT))
        .set("sql_mode", &t.sql_mode);
    }
    for e in &defs.events {
        s.add(ObjectKind::Event, &e.name)
            .set("schedule", &e.kind)
            .set_some("at", e.execute_at.as_deref())
            .set_some("every", e.interval.as_deref())
            .set_some("ends", e.ends.as_deref())
            .set("status", &e.status)
            .set("on completion", &e.on_completion)
            .set("body", normalise_sql(&e.body, TEXT))
            .set_some("comment", e.comment.as_deref())
            .set("sql_mode", &e.sql_mode)
            .set("time_zone", &e.time_zone);
    }
}

/// A default as the server keeps it, with the spellings of one value made one:
/// `current_timestamp()`, `CURRENT_TIMESTAMP` and `now()` are the same, and MariaDB's
/// `NULL` (a nullable column without a default) is no default.
fn default_value(expr: &str) -> Option<String> {
    let lower = expr.to_ascii_lowercase();
    match lower.as_str() {
        "null" => None,
        "current_timestamp" | "current_timestamp()" | "now()" => Some("current_timestamp()".into()),
        _ => Some(expr.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::{default_value, fingerprint_parts, narrowed};

    #[test]
    fn the_fingerprint_query_reads_as_each_server_spells_it() {
        for (expression, check_table) in [(false, true), (true, false)] {
            let parts = fingerprint_parts(expression, check_table);
            assert!(parts[0].contains(" AS h\n"), "{}", parts[0]);
            assert_eq!(parts.iter().filter(|p| p.contains("'check'")).count(), 1);
            for part in &parts {
                let one = narrowed(part, Some("it's"));
                assert!(!one.contains('{'), "{one}");
                assert_eq!(one.contains("= 'it''s'"), part.contains("{table:"));
                assert!(!narrowed(part, None).contains('{'));
            }
        }
    }

    #[test]
    fn one_value_one_spelling() {
        assert_eq!(
            default_value("CURRENT_TIMESTAMP").as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(
            default_value("now()").as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(default_value("'x'").as_deref(), Some("'x'"));
        assert_eq!(default_value("NULL"), None);
        assert_eq!(default_value("'NULL'").as_deref(), Some("'NULL'"));
    }
}
