//! MySQL/MariaDB's dump, as mysqldump lays it out: `SHOW CREATE` for tables (foreign key
//! checks off while loading), views in dependency order, procedures, functions, triggers
//! and events in `DELIMITER ;;` blocks, `DEFINER` clauses left out so the dump loads on
//! any server. Rows are formatted by `QUOTE()`, binary values as `X'..'`, bits as `b'..'`.

use diesel::QueryableByName;
use diesel::sql_types::Text;

use std::io::Write;

use mysql_async::Value;
use mysql_async::consts::ColumnType;

use super::{
    CountingWriter, DataTable, Ddl, DumpOptions, Objects, RowSource, columns_by_table, query_error,
    selected,
};
use crate::db::{AnyRow, Connection, RawMysql};
use crate::dialect::{Dialect, MysqlDialect};
use crate::error::Result;
use crate::url::DatabaseUrl;

#[derive(QueryableByName)]
struct NameKind {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

#[derive(QueryableByName)]
struct CreateTable {
    #[diesel(sql_type = Text, column_name = "Create Table")]
    ddl: String,
}

#[derive(QueryableByName)]
struct CreateView {
    #[diesel(sql_type = Text, column_name = "Create View")]
    ddl: String,
}

#[derive(QueryableByName)]
struct CreateProcedure {
    #[diesel(sql_type = Text, column_name = "Create Procedure")]
    ddl: String,
}

#[derive(QueryableByName)]
struct CreateFunction {
    #[diesel(sql_type = Text, column_name = "Create Function")]
    ddl: String,
}

#[derive(QueryableByName)]
struct CreateTrigger {
    #[diesel(sql_type = Text, column_name = "SQL Original Statement")]
    ddl: String,
}

#[derive(QueryableByName)]
struct CreateEvent {
    #[diesel(sql_type = Text, column_name = "Create Event")]
    ddl: String,
}

fn show<T: AnyRow>(conn: &mut Connection, sql: &str) -> Result<Option<T>> {
    Ok(conn
        .load::<T>(sql)
        .map_err(|e| query_error(sql, e))?
        .into_iter()
        .next())
}

fn list(conn: &mut Connection, what: &str, sql: &str) -> Result<Vec<NameKind>> {
    conn.load::<NameKind>(sql).map_err(|e| query_error(what, e))
}

/// `CREATE DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW` → `CREATE VIEW`.
fn without_definer(ddl: &str) -> String {
    let mut out = ddl.to_owned();
    if let Some(start) = out.find("DEFINER=") {
        let rest = &out[start..];
        // `DEFINER=`user`@`host`` ends at the first space outside backquotes.
        let mut quoted = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '`' {
                    quoted = !quoted;
                }
                c == ' ' && !quoted
            })
            .map_or(rest.len(), |(i, _)| i + 1);
        out.replace_range(start..start + end, "");
    }
    out.replace("SQL SECURITY DEFINER ", "")
}

/// Reads what to dump inside one consistent snapshot.
pub(super) fn objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    let d = MysqlDialect;
    conn.batch_execute(
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET NAMES utf8mb4; SET time_zone = '+00:00'; START TRANSACTION WITH CONSISTENT SNAPSHOT",
    )
    .map_err(|e| query_error("snapshot", e))?;
    let mut o = Objects {
        settings: [
            "/*!40101 SET NAMES utf8mb4 */",
            "SET FOREIGN_KEY_CHECKS = 0",
            "SET UNIQUE_CHECKS = 0",
            "SET SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO'",
            "SET time_zone = '+00:00'",
        ]
        .map(String::from)
        .to_vec(),
        footer: ["SET FOREIGN_KEY_CHECKS = 1", "SET UNIQUE_CHECKS = 1"]
            .map(String::from)
            .to_vec(),
        ..Objects::default()
    };
    let relations = list(
        conn,
        "tables",
        "SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(TABLE_TYPE AS CHAR) AS kind FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )?;
    let mut views = Vec::new();
    for r in &relations {
        let q = d.quote_ident(&r.name);
        if r.kind == "VIEW" {
            if let Some(v) = show::<CreateView>(conn, &format!("SHOW CREATE VIEW {q}"))? {
                views.push((r.name.clone(), without_definer(&v.ddl)));
            }
        } else if selected(options, &r.name) {
            if let Some(t) = show::<CreateTable>(conn, &format!("SHOW CREATE TABLE {q}"))? {
                o.drops
                    .push(Ddl::plain(format!("DROP TABLE IF EXISTS {q}")));
                o.before.push(Ddl::plain(t.ddl));
            }
        }
    }
    let views = order_views(views);
    for (name, _) in views.iter().rev() {
        o.drops.insert(
            0,
            Ddl::plain(format!("DROP VIEW IF EXISTS {}", d.quote_ident(name))),
        );
    }
    o.after
        .extend(views.into_iter().map(|(_, ddl)| Ddl::plain(ddl)));
    if !options.no_routines {
        let routines = list(
            conn,
            "routines",
            "SELECT CAST(ROUTINE_NAME AS CHAR) AS name, CAST(ROUTINE_TYPE AS CHAR) AS kind FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
        )?;
        for r in routines {
            let q = d.quote_ident(&r.name);
            let ddl = if r.kind == "PROCEDURE" {
                show::<CreateProcedure>(conn, &format!("SHOW CREATE PROCEDURE {q}"))?.map(|c| c.ddl)
            } else {
                show::<CreateFunction>(conn, &format!("SHOW CREATE FUNCTION {q}"))?.map(|c| c.ddl)
            };
            if let Some(ddl) = ddl {
                o.drops
                    .push(Ddl::plain(format!("DROP {} IF EXISTS {q}", r.kind)));
                o.before.push(Ddl::routine(without_definer(&ddl)));
            }
        }
    }
    if !options.no_triggers {
        let triggers = list(
            conn,
            "triggers",
            "SELECT CAST(TRIGGER_NAME AS CHAR) AS name, CAST(EVENT_OBJECT_TABLE AS CHAR) AS kind FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
        )?;
        for t in triggers.into_iter().filter(|t| selected(options, &t.kind)) {
            let q = d.quote_ident(&t.name);
            if let Some(c) = show::<CreateTrigger>(conn, &format!("SHOW CREATE TRIGGER {q}"))? {
                o.drops
                    .push(Ddl::plain(format!("DROP TRIGGER IF EXISTS {q}")));
                o.after.push(Ddl::routine(without_definer(&c.ddl)));
            }
        }
    }
    if !options.no_events {
        let events = list(
            conn,
            "events",
            "SELECT CAST(EVENT_NAME AS CHAR) AS name, CAST(STATUS AS CHAR) AS kind FROM information_schema.EVENTS \
             WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME",
        )?;
        for e in events {
            let q = d.quote_ident(&e.name);
            if let Some(c) = show::<CreateEvent>(conn, &format!("SHOW CREATE EVENT {q}"))? {
                o.drops
                    .push(Ddl::plain(format!("DROP EVENT IF EXISTS {q}")));
                o.after.push(Ddl::routine(without_definer(&c.ddl)));
            }
        }
    }
    for t in columns_by_table(conn)? {
        if !selected(options, &t.name) {
            continue;
        }
        let copied: Vec<&crate::inspect::ColumnRow> = t
            .columns
            .iter()
            .filter(|c| {
                !c.extra
                    .as_deref()
                    .unwrap_or_default()
                    .to_ascii_uppercase()
                    .contains("GENERATED")
            })
            .collect();
        let quoted: Vec<String> = copied
            .iter()
            .map(|c| d.quote_ident(&c.column_name))
            .collect();
        let table = d.quote_ident(&t.name);
        o.tables.push(DataTable {
            name: t.name.clone(),
            insert: format!("INSERT INTO {table} ({}) VALUES", quoted.join(", ")),
            rows: RowSource::Text(format!("SELECT {} FROM {table}", quoted.join(", "))),
        });
    }
    Ok(o)
}

/// A second session that reads the rows in one consistent snapshot.
pub(super) fn row_session(url: &DatabaseUrl) -> Result<RawMysql> {
    let mut session = RawMysql::connect(url)?;
    session
        .batch_execute(
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET NAMES utf8mb4; SET time_zone = '+00:00'; START TRANSACTION WITH CONSISTENT SNAPSHOT",
        )
        .map_err(|e| query_error("snapshot", e))?;
    Ok(session)
}

/// Appends one value as a SQL literal: numbers as they come, binary and bits as `X'..'`,
/// text quoted with MySQL's escapes.
fn push_literal(out: &mut Vec<u8>, value: Option<&Value>, column: &mysql_async::Column) {
    let bytes = match value {
        None | Some(Value::NULL) => {
            out.extend_from_slice(b"NULL");
            return;
        }
        Some(Value::Bytes(bytes)) => bytes.as_slice(),
        Some(other) => {
            out.extend_from_slice(other.as_sql(false).as_bytes());
            return;
        }
    };
    use ColumnType::*;
    let binary_charset = column.character_set() == 63;
    match column.column_type() {
        MYSQL_TYPE_TINY
        | MYSQL_TYPE_SHORT
        | MYSQL_TYPE_LONG
        | MYSQL_TYPE_LONGLONG
        | MYSQL_TYPE_INT24
        | MYSQL_TYPE_FLOAT
        | MYSQL_TYPE_DOUBLE
        | MYSQL_TYPE_DECIMAL
        | MYSQL_TYPE_NEWDECIMAL
        | MYSQL_TYPE_YEAR => out.extend_from_slice(bytes),
        MYSQL_TYPE_BIT => push_hex(out, bytes),
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
            if binary_charset =>
        {
            push_hex(out, bytes)
        }
        _ => {
            out.push(b'\'');
            for &b in bytes {
                match b {
                    b'\'' => out.extend_from_slice(b"\\'"),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    0 => out.extend_from_slice(b"\\0"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    26 => out.extend_from_slice(b"\\Z"),
                    _ => out.push(b),
                }
            }
            out.push(b'\'');
        }
    }
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(b"X'");
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out.push(b'\'');
}

/// One table's rows as multi-row INSERTs, formatted here from the text protocol.
pub(super) fn insert_rows(
    session: &mut RawMysql,
    w: &mut CountingWriter<'_>,
    table: &DataTable,
    select: &str,
    max_bytes: usize,
    reporter: &crate::term::Reporter,
) -> Result<u64> {
    let bar = super::table_progress(reporter, &table.name);
    let mut rows = 0u64;
    let mut pending: Vec<u8> = Vec::with_capacity(max_bytes.min(1 << 22));
    let mut tuple: Vec<u8> = Vec::new();
    let insert = table.insert.as_bytes();
    let flush = |w: &mut CountingWriter<'_>, pending: &mut Vec<u8>| -> std::io::Result<()> {
        if !pending.is_empty() {
            w.write_all(insert)?;
            w.write_all(b"\n")?;
            w.write_all(pending)?;
            w.write_all(b";\n")?;
            pending.clear();
        }
        Ok(())
    };
    session
        .for_each_row(select, |row| {
            tuple.clear();
            tuple.push(b'(');
            for (i, column) in row.columns_ref().iter().enumerate() {
                if i > 0 {
                    tuple.push(b',');
                }
                push_literal(&mut tuple, row.as_ref(i), column);
            }
            tuple.push(b')');
            if !pending.is_empty() && pending.len() + tuple.len() + 2 > max_bytes {
                flush(w, &mut pending)?;
            }
            if !pending.is_empty() {
                pending.extend_from_slice(b",\n");
            }
            pending.extend_from_slice(&tuple);
            rows += 1;
            super::tick(&bar, rows, w.bytes);
            Ok(())
        })
        .map_err(|e| query_error(&format!("rows of {}", table.name), e))?;
    flush(w, &mut pending)
        .map_err(|e| crate::error::Error::Export(format!("writing the dump: {e}")))?;
    bar.finish_and_clear();
    Ok(rows)
}

/// Views ordered so each comes after the views its definition names.
fn order_views(mut pending: Vec<(String, String)>) -> Vec<(String, String)> {
    let names: Vec<String> = pending.iter().map(|(n, _)| n.clone()).collect();
    let mut out: Vec<(String, String)> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut i = 0;
        while i < pending.len() {
            let (name, ddl) = &pending[i];
            let ready = names.iter().all(|other| {
                other == name
                    || !ddl.contains(&format!("`{other}`"))
                    || out.iter().any(|(n, _)| n == other)
            });
            if ready {
                out.push(pending.remove(i));
            } else {
                i += 1;
            }
        }
        if pending.len() == before {
            out.append(&mut pending);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_are_left_out() {
        assert_eq!(
            without_definer(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1"
            ),
            "CREATE ALGORITHM=UNDEFINED VIEW `v` AS select 1"
        );
        assert_eq!(
            without_definer("CREATE DEFINER=`a b`@`localhost` PROCEDURE `p`() BEGIN END"),
            "CREATE PROCEDURE `p`() BEGIN END"
        );
    }
}
