//! MySQL/MariaDB's dump, as mysqldump lays it out: `SHOW CREATE` for tables (foreign key
//! checks off while loading), views in dependency order, procedures, functions, triggers
//! and events in `DELIMITER ;;` blocks, each created under the `sql_mode`, client
//! character set, connection collation (an event: time zone; a program: the database's
//! default collation) it was created under, as the server keeps them with it. `DEFINER`
//! clauses are left out so the dump loads for any user, unless asked to keep them. Rows
//! are read in the text protocol and formatted here, binary values as `X'..'`, bits as
//! `b'..'`.
//!
//! Everything is read on one session, in one transaction: first a metadata lock on every
//! table (a read of zero rows, held until the transaction ends, so no `ALTER TABLE` or
//! `DROP TABLE` can run until the dump is done), then the definitions, then the rows,
//! whose consistent snapshot InnoDB takes at the first row read — after the locks, so
//! definitions and rows always agree. A concurrent `ALTER TABLE` waits for the dump (and,
//! as with mysqldump, statements queued behind it wait too). On a Galera node the
//! session's reads are causal: the snapshot holds everything the cluster committed before
//! the dump started, on whichever node.

use std::io::Write;

mod catalog;
pub(super) mod scratch;
mod snapshot;

use mysql_async::Value;
use mysql_async::consts::ColumnType;

use catalog::{ColumnRow, Definitions, Reader, RelationRow};
pub(super) use snapshot::{SnapshotSession, fingerprint, snapshot};

use super::order::dependency_order;
use super::restore::Target;
use super::session::{Failure, RawMysql, mysql_text};
use super::{
    CountingWriter, DataTable, Ddl, DumpOptions, Objects, RowReader, RowSource,
    dropped_foreign_key, dropped_view, query_error, selected,
};
use crate::db::Connection;
use crate::dialect::{Dialect, MysqlDialect};
use crate::error::Result;
use crate::url::DatabaseUrl;

/// How many tables the database holds.
pub(super) const TABLE_COUNT: &str = "SELECT CAST(COUNT(*) AS CHAR) AS value FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";

/// The name of the connected database, in a column named `value`.
pub(super) const DATABASE_NAME: &str = "SELECT DATABASE() AS value";

/// MySQL's "no such table".
const NO_SUCH_TABLE: u16 = 1146;
/// MariaDB's "Got error 1 during COMMIT": a bulk load into an empty table with
/// `UNIQUE_CHECKS=0` and `FOREIGN_KEY_CHECKS=0` found a duplicate it does not name.
const ERROR_DURING_COMMIT: u16 = 1180;

/// The rows of a query as text columns, by name.
fn rows(
    session: &mut RawMysql,
    what: &str,
    sql: &str,
    columns: &[&str],
) -> Result<Vec<Vec<String>>> {
    Ok(session
        .rows(sql)
        .map_err(|e| query_error(what, e))?
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| mysql_text(row, c).unwrap_or_default())
                .collect()
        })
        .collect())
}

/// One `SHOW CREATE …` answer's DDL column.
fn show(session: &mut RawMysql, sql: &str, column: &str) -> Result<Option<String>> {
    Ok(show_row(session, sql)?.and_then(|row| mysql_text(&row, column)))
}

/// One `SHOW CREATE …` answer.
fn show_row(session: &mut RawMysql, sql: &str) -> Result<Option<mysql_async::Row>> {
    Ok(session
        .rows(sql)
        .map_err(|e| query_error(sql, e))?
        .into_iter()
        .next())
}

/// The session a stored program (routine, trigger, event) or view was created in, as
/// `SHOW CREATE` reports it: the server keeps it with the object and runs the object
/// under it, so the dump recreates the object under the same settings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct CreatedUnder {
    sql_mode: Option<String>,
    character_set_client: Option<String>,
    collation_connection: Option<String>,
    database_collation: Option<String>,
    time_zone: Option<String>,
}

impl CreatedUnder {
    fn of(row: &mysql_async::Row) -> CreatedUnder {
        CreatedUnder {
            sql_mode: mysql_text(row, "sql_mode"),
            character_set_client: mysql_text(row, "character_set_client"),
            collation_connection: mysql_text(row, "collation_connection"),
            database_collation: mysql_text(row, "Database Collation"),
            time_zone: mysql_text(row, "time_zone"),
        }
    }

    /// `create` between the statements that set this session and put the loading one
    /// back, as mysqldump writes them: `sql_mode`, the client character set and
    /// connection collation (results too), an event's `time_zone`, and — where the
    /// program was created under another default collation than the database has now
    /// (`database_collation`, which the dump gives the copy first) — the database's default
    /// collation, by `ALTER DATABASE` of the current database.
    fn wrap(&self, create: Ddl, database_collation: &str) -> Vec<Ddl> {
        let d = MysqlDialect;
        let mut save = Vec::new();
        let mut set = Vec::new();
        let mut restore = Vec::new();
        let mut variable = |name: &str, saved: &str, value: &Option<String>| {
            if let Some(value) = value {
                save.push(format!("@{saved} = @@{name}"));
                set.push(format!("{name} = {}", d.quote_literal(value)));
                restore.push(format!("{name} = @{saved}"));
            }
        };
        variable("sql_mode", "saved_sql_mode", &self.sql_mode);
        variable(
            "character_set_client",
            "saved_cs_client",
            &self.character_set_client,
        );
        variable(
            "character_set_results",
            "saved_cs_results",
            &self.character_set_client,
        );
        variable(
            "collation_connection",
            "saved_col_connection",
            &self.collation_connection,
        );
        variable("time_zone", "saved_time_zone", &self.time_zone);
        let mut out = Vec::new();
        if !save.is_empty() {
            out.push(Ddl::plain(format!("SET {}", save.join(", "))));
            out.push(Ddl::plain(format!("SET {}", set.join(", "))));
        }
        let switch = self.database_collation.as_deref().filter(|c| {
            !c.is_empty() && !database_collation.is_empty() && *c != database_collation
        });
        if let Some(collation) = switch {
            out.push(Ddl::plain(format!("ALTER DATABASE COLLATE {collation}")));
        }
        out.push(create);
        if switch.is_some() {
            out.push(Ddl::plain(format!(
                "ALTER DATABASE COLLATE {database_collation}"
            )));
        }
        if !restore.is_empty() {
            // sql_mode last: the others are set back under the loading session's mode.
            restore.rotate_left(1);
            out.push(Ddl::plain(format!("SET {}", restore.join(", "))));
        }
        out
    }
}

/// The `DEFINER` clause left out (the default: the dump then loads for any user, and the
/// objects belong to whoever loads it), or kept (`--keep-definer`, as mysqldump does by
/// default; loading then needs the privilege to name another definer).
fn definer(ddl: &str, options: &DumpOptions) -> String {
    if options.keep_definer {
        ddl.to_owned()
    } else {
        without_definer(ddl)
    }
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

/// A backquoted name at the start of `text` (`` `a``b` `` → ``a`b``), and the rest.
fn backquoted(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix('`')?;
    let mut name = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if rest[i + 1..].starts_with('`') {
                name.push('`');
                chars.next();
            } else {
                return Some((name, &rest[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

/// `SHOW CREATE TABLE` output without the foreign keys whose referenced table `gone` says
/// is left out (one per line, as the server writes them); also returns each removed
/// key's (name, referenced table).
fn without_foreign_keys(ddl: &str, gone: &dyn Fn(&str) -> bool) -> (String, Vec<(String, String)>) {
    let lines: Vec<&str> = ddl.lines().collect();
    let Some(close) = lines.iter().rposition(|l| l.starts_with(')')) else {
        return (ddl.to_owned(), Vec::new());
    };
    let mut removed = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate().take(close).skip(1) {
        let item = if i + 1 < close {
            line.strip_suffix(',').unwrap_or(line)
        } else {
            line
        };
        let key = item
            .trim_start()
            .strip_prefix("CONSTRAINT ")
            .and_then(backquoted)
            .filter(|(_, rest)| rest.trim_start().starts_with("FOREIGN KEY"))
            .and_then(|(name, rest)| {
                let after = &rest[rest.find(" REFERENCES ")? + " REFERENCES ".len()..];
                let (table, rest) = backquoted(after)?;
                // `db`.`table`: another database's table, not ours to leave out.
                (!rest.starts_with('.')).then_some((name, table))
            });
        match key {
            Some((name, table)) if gone(&table) => removed.push((name, table)),
            _ => body.push(item),
        }
    }
    if removed.is_empty() {
        return (ddl.to_owned(), removed);
    }
    let mut out = vec![lines[0].to_owned(), body.join(",\n")];
    out.extend(lines[close..].iter().map(|l| (*l).to_owned()));
    (out.join("\n"), removed)
}

/// Reads what to dump on one session, definitions and rows from one snapshot.
pub(super) fn objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    let causal = crate::cluster::node(conn)?.map(|cluster| cluster.causal_reads());
    let mut session = RawMysql::connect(conn.url())?;
    // A plain START TRANSACTION: InnoDB takes the snapshot at the first row read, which
    // comes after every table's metadata lock below.
    for statement in causal.into_iter().chain([
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SET NAMES utf8mb4",
        "SET time_zone = '+00:00'",
        "START TRANSACTION",
    ]) {
        session
            .batch_execute(statement)
            .map_err(|e| query_error("snapshot", e))?;
    }
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
    let mut reader = Reader {
        session: &mut session,
        queries: 0,
    };
    let relations = catalog::relations(&mut reader)?;
    // Lock every base table first; a table dropped since the listing is simply gone.
    let tables = lock_tables(reader.session, &relations)?;
    let database_collation = database_collation(reader.session)?;
    let definitions = catalog::for_dump(&mut reader)?;
    let plan = Plan {
        options,
        dumped: tables
            .iter()
            .filter(|t| selected(options, t))
            .cloned()
            .collect(),
        left_out: tables
            .iter()
            .filter(|t| !selected(options, t))
            .cloned()
            .collect(),
        database_collation,
    };
    if !plan.database_collation.is_empty() {
        // The copy gets the source's default collation (what CREATE DATABASE in a
        // mysqldump --databases file sets), so the routines below, created under it, keep
        // theirs.
        o.before.push(Ddl::plain(format!(
            "ALTER DATABASE COLLATE {}",
            plan.database_collation
        )));
    }
    plan.tables(&mut session, &mut o)?;
    plan.views(&mut session, &relations, &mut o)?;
    plan.programs(&mut session, &definitions, &mut o)?;
    o.tables = plan.data_tables(&definitions);
    o.reader = RowReader::Mysql(session);
    Ok(o)
}

/// Takes every base table's metadata lock (a read of zero rows, held until the dump's
/// transaction ends); returns the tables that still exist.
fn lock_tables(session: &mut RawMysql, relations: &[RelationRow]) -> Result<Vec<String>> {
    let d = MysqlDialect;
    let mut tables = Vec::new();
    for r in relations.iter().filter(|r| !r.is_view()) {
        match session.batch_execute(&format!("SELECT 1 FROM {} LIMIT 0", d.quote_ident(&r.name))) {
            Ok(()) => tables.push(r.name.clone()),
            Err(Failure {
                mysql_code: Some(NO_SUCH_TABLE),
                ..
            }) => {}
            Err(e) => return Err(query_error(&format!("locking {}", r.name), e)),
        }
    }
    Ok(tables)
}

/// The database's default collation.
fn database_collation(session: &mut RawMysql) -> Result<String> {
    Ok(rows(
        session,
        "the database's collation",
        "SELECT CAST(@@collation_database AS CHAR) AS name",
        &["name"],
    )?
    .into_iter()
    .next()
    .and_then(|r| r.into_iter().next())
    .unwrap_or_default())
}

/// One dump's choices: which tables are in it and which are left out.
struct Plan<'a> {
    options: &'a DumpOptions,
    dumped: Vec<String>,
    left_out: Vec<String>,
    database_collation: String,
}

impl Plan<'_> {
    fn is_left_out(&self, table: &str) -> bool {
        self.left_out.iter().any(|t| t == table)
    }

    /// `SHOW CREATE TABLE` of each dumped table, without the foreign keys to tables left
    /// out.
    fn tables(&self, session: &mut RawMysql, o: &mut Objects) -> Result<()> {
        let d = MysqlDialect;
        for t in &self.dumped {
            let q = d.quote_ident(t);
            let Some(ddl) = show(session, &format!("SHOW CREATE TABLE {q}"), "Create Table")?
            else {
                continue;
            };
            let (ddl, removed) = without_foreign_keys(&ddl, &|r: &str| self.is_left_out(r));
            for (name, referenced) in removed {
                o.warnings.push(dropped_foreign_key(&name, t, &referenced));
            }
            o.drops
                .push(Ddl::plain(format!("DROP TABLE IF EXISTS {q}")));
            o.before.push(Ddl::plain(ddl));
        }
        Ok(())
    }

    /// Views in dependency order, each under the session it was created in; those that
    /// read a table or view left out go with it.
    fn views(
        &self,
        session: &mut RawMysql,
        relations: &[RelationRow],
        o: &mut Objects,
    ) -> Result<()> {
        let d = MysqlDialect;
        let mut views = Vec::new();
        let mut view_sessions = Vec::new();
        for r in relations
            .iter()
            .filter(|r| r.is_view() && selected(self.options, &r.name))
        {
            let q = d.quote_ident(&r.name);
            if let Some(row) = show_row(session, &format!("SHOW CREATE VIEW {q}"))?
                && let Some(ddl) = mysql_text(&row, "Create View")
            {
                views.push((r.name.clone(), definer(&ddl, self.options)));
                view_sessions.push((r.name.clone(), CreatedUnder::of(&row)));
            }
        }
        let mut views = order_views(views);
        let mut gone = self.left_out.clone();
        views.retain(
            |(name, ddl)| match gone.iter().find(|t| ddl.contains(&d.quote_ident(t))) {
                Some(table) => {
                    o.warnings.push(dropped_view(name, table));
                    gone.push(name.clone());
                    false
                }
                None => true,
            },
        );
        for (name, _) in views.iter().rev() {
            o.drops.insert(
                0,
                Ddl::plain(format!("DROP VIEW IF EXISTS {}", d.quote_ident(name))),
            );
        }
        for (name, ddl) in views {
            let under = view_sessions
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, u)| u.clone())
                .unwrap_or_default();
            o.after
                .extend(under.wrap(Ddl::plain(ddl), &self.database_collation));
        }
        Ok(())
    }

    /// Routines (before the rows), triggers of the dumped tables and events (after them),
    /// each from `SHOW CREATE`, under the session it was created in.
    fn programs(&self, session: &mut RawMysql, defs: &Definitions, o: &mut Objects) -> Result<()> {
        if !self.options.no_routines {
            for r in &defs.routines {
                let (show, column) = if r.kind == "PROCEDURE" {
                    ("SHOW CREATE PROCEDURE", "Create Procedure")
                } else {
                    ("SHOW CREATE FUNCTION", "Create Function")
                };
                let drop = format!("DROP {} IF EXISTS", r.kind);
                let created = self.program(session, show, column, &drop, &r.name, o)?;
                o.before.extend(created);
            }
        }
        if !self.options.no_triggers {
            for t in defs
                .triggers
                .iter()
                .filter(|t| self.dumped.contains(&t.table))
            {
                let created = self.program(
                    session,
                    "SHOW CREATE TRIGGER",
                    "SQL Original Statement",
                    "DROP TRIGGER IF EXISTS",
                    &t.name,
                    o,
                )?;
                o.after.extend(created);
            }
        }
        if !self.options.no_events {
            for e in &defs.events {
                let created = self.program(
                    session,
                    "SHOW CREATE EVENT",
                    "Create Event",
                    "DROP EVENT IF EXISTS",
                    &e.name,
                    o,
                )?;
                o.after.extend(created);
            }
        }
        Ok(())
    }

    /// One stored program's `DROP` (into the dump's drops) and its `CREATE` wrapped in the
    /// session it was created under.
    fn program(
        &self,
        session: &mut RawMysql,
        show: &str,
        column: &str,
        drop: &str,
        name: &str,
        o: &mut Objects,
    ) -> Result<Vec<Ddl>> {
        let q = MysqlDialect.quote_ident(name);
        let Some(row) = show_row(session, &format!("{show} {q}"))? else {
            return Ok(Vec::new());
        };
        let Some(ddl) = mysql_text(&row, column) else {
            return Ok(Vec::new());
        };
        o.drops.push(Ddl::plain(format!("{drop} {q}")));
        Ok(CreatedUnder::of(&row).wrap(
            Ddl::routine(definer(&ddl, self.options)),
            &self.database_collation,
        ))
    }

    /// The dumped tables' rows: parents before children (foreign key checks are off while
    /// loading anyway), generated columns left out.
    fn data_tables(&self, defs: &Definitions) -> Vec<DataTable> {
        let d = MysqlDialect;
        let index_of = |name: &str| self.dumped.iter().position(|t| t == name);
        let edges: Vec<(usize, usize)> = defs
            .references
            .iter()
            .filter(|r| r.ref_schema.is_none())
            .filter_map(|r| Some((index_of(&r.table)?, index_of(&r.ref_table)?)))
            .collect();
        let (order, _) = dependency_order(self.dumped.len(), &edges);
        order
            .into_iter()
            .map(|i| {
                let name = &self.dumped[i];
                let columns: Vec<&ColumnRow> = defs
                    .columns
                    .iter()
                    .filter(|c| c.table == *name && !c.is_generated())
                    .collect();
                let quoted: Vec<String> = columns.iter().map(|c| d.quote_ident(&c.name)).collect();
                let read: Vec<String> = columns
                    .iter()
                    .zip(&quoted)
                    .map(|(c, q)| read_exactly(c, q))
                    .collect();
                let table = d.quote_ident(name);
                DataTable {
                    name: name.clone(),
                    insert: format!("INSERT INTO {table} ({}) VALUES", quoted.join(", ")),
                    rows: RowSource::Text(format!("SELECT {} FROM {table}", read.join(", "))),
                }
            })
            .collect()
    }
}

/// Appends one value as a SQL literal: numbers as they come, binary and bits as `X'..'`,
/// text quoted with MySQL's escapes.
/// How a column is read for a dump: as it is, except `FLOAT`, which the server writes
/// with six digits (`0.333333` for the float nearest 1/3, which reads back as another
/// float, as in mariadb-dump's and mysqldump's dumps): read as the `DOUBLE` it converts
/// to exactly, whose text reads back as the same float.
fn read_exactly(column: &ColumnRow, quoted: &str) -> String {
    if column.type_name.to_ascii_lowercase().starts_with("float") {
        format!("CAST({quoted} AS DOUBLE) AS {quoted}")
    } else {
        quoted.to_owned()
    }
}

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
        .map_err(|e| e.dumping(&format!("rows of {}", table.name)))?;
    flush(w, &mut pending).map_err(|e| crate::error::Error::write("writing the dump", e))?;
    bar.finish_and_clear();
    Ok(rows)
}

/// Hands each row of `select` (text protocol), as the SQL tuple a dump writes, to `each`.
pub(super) fn each_row(
    session: &mut RawMysql,
    select: &str,
    what: &str,
    mut each: impl FnMut(&[u8]),
) -> Result<()> {
    let mut tuple: Vec<u8> = Vec::new();
    session
        .for_each_row(select, |row| {
            tuple.clear();
            for (i, column) in row.columns_ref().iter().enumerate() {
                if i > 0 {
                    tuple.push(b',');
                }
                push_literal(&mut tuple, row.as_ref(i), column);
            }
            each(&tuple);
            Ok(())
        })
        .map_err(|e| e.dumping(&format!("rows of {what}")))
}

/// Restore's side on MySQL/MariaDB: a plain session (DDL commits by itself, so there is
/// no transaction to roll back).
pub(super) struct RestoreTarget {
    session: RawMysql,
}

impl RestoreTarget {
    pub(super) fn connect(url: &DatabaseUrl) -> Result<RestoreTarget> {
        Ok(RestoreTarget {
            session: RawMysql::connect(url)?,
        })
    }
}

impl Target for RestoreTarget {
    fn transactional(&self) -> bool {
        false
    }

    /// MariaDB reports a duplicate in a bulk load into an empty table (unique and foreign
    /// key checks off, as every dump sets them) only as "Got error 1 during COMMIT", with
    /// the statement rolled back: it runs again with unique checks on, which names the
    /// duplicate (or loads the rows, if the bulk path failed for another reason).
    fn execute(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        match self.session.batch_execute(sql) {
            Err(Failure {
                mysql_code: Some(ERROR_DURING_COMMIT),
                ..
            }) if sql.get(..7).is_some_and(|w| {
                w.eq_ignore_ascii_case("INSERT ") || w.eq_ignore_ascii_case("REPLACE")
            }) =>
            {
                self.session.batch_execute(
                    "SET @dbrev_unique_checks = @@UNIQUE_CHECKS, UNIQUE_CHECKS = 1",
                )?;
                let again = self.session.batch_execute(sql);
                self.session
                    .batch_execute("SET UNIQUE_CHECKS = @dbrev_unique_checks")?;
                again
            }
            other => other,
        }
    }
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
    fn programs_are_created_under_their_own_session() {
        let under = CreatedUnder {
            sql_mode: Some("PIPES_AS_CONCAT,ANSI_QUOTES".into()),
            character_set_client: Some("latin1".into()),
            collation_connection: Some("latin1_swedish_ci".into()),
            database_collation: Some("latin1_german1_ci".into()),
            time_zone: Some("+02:00".into()),
        };
        let statements: Vec<String> = under
            .wrap(Ddl::routine("CREATE EVENT e ..."), "utf8mb4_general_ci")
            .into_iter()
            .map(|d| d.sql)
            .collect();
        assert_eq!(
            statements,
            [
                "SET @saved_sql_mode = @@sql_mode, @saved_cs_client = @@character_set_client, @saved_cs_results = @@character_set_results, @saved_col_connection = @@collation_connection, @saved_time_zone = @@time_zone",
                "SET sql_mode = 'PIPES_AS_CONCAT,ANSI_QUOTES', character_set_client = 'latin1', character_set_results = 'latin1', collation_connection = 'latin1_swedish_ci', time_zone = '+02:00'",
                "ALTER DATABASE COLLATE latin1_german1_ci",
                "CREATE EVENT e ...",
                "ALTER DATABASE COLLATE utf8mb4_general_ci",
                "SET character_set_client = @saved_cs_client, character_set_results = @saved_cs_results, collation_connection = @saved_col_connection, time_zone = @saved_time_zone, sql_mode = @saved_sql_mode",
            ]
        );
        // Created under the database's collation: no ALTER DATABASE; a view has no mode.
        let view = CreatedUnder {
            character_set_client: Some("utf8mb4".into()),
            collation_connection: Some("utf8mb4_general_ci".into()),
            ..CreatedUnder::default()
        };
        let statements = view.wrap(
            Ddl::plain("CREATE VIEW v AS SELECT 1"),
            "utf8mb4_general_ci",
        );
        assert_eq!(statements.len(), 4);
        assert!(!statements.iter().any(|d| d.sql.contains("DATABASE")));
        assert!(!statements[1].sql.contains("sql_mode"));
    }

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
