//! SQLite's dump: the `CREATE` statements stored in `sqlite_master`, rows formatted by
//! `quote()` (reals with 17 significant digits, so they round-trip), and the
//! `sqlite_sequence` counters of AUTOINCREMENT tables. A filtered dump rewrites a table's
//! stored `CREATE TABLE` without the foreign keys that reference a table left out, and
//! leaves out the views that read one. Restore runs in one transaction and reports rows
//! that break a foreign key at the end.

use diesel::QueryableByName;
use diesel::sql_types::Text;

use super::order::dependency_order;
use super::restore::Target;
use super::session::Failure;
use super::{
    DataTable, Ddl, DumpOptions, Objects, RowSource, columns_by_table, dropped_foreign_key,
    dropped_view, query_error, selected,
};
use crate::db::{Connection, ValueRow};
use crate::dialect::{Dialect, SqliteDialect};
use crate::error::Result;
use crate::term::Reporter;

/// How many tables the database holds.
pub(super) const TABLE_COUNT: &str = "SELECT CAST(count(*) AS TEXT) AS value FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

mod snapshot;

pub(super) use snapshot::SnapshotCache;

/// One object of `sqlite_master` (SQLite's own left out): what it is, its name, its table
/// and the statement that created it, as stored.
#[derive(QueryableByName, Clone, PartialEq, Eq)]
struct MasterRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl_name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// One value as an SQL literal that reads back identically.
fn literal(column: &str) -> String {
    format!(
        "CASE typeof({c}) WHEN 'real' THEN CASE WHEN {c} = 9e999 THEN '9e999' WHEN {c} = -9e999 THEN '-9e999' ELSE printf('%!.17g', {c}) END ELSE quote({c}) END",
        c = column
    )
}

/// The objects of `sqlite_master` that have a statement, in creation order.
fn master(conn: &mut Connection) -> Result<Vec<MasterRow>> {
    conn.load(
        "SELECT type AS kind, name, tbl_name, sql FROM sqlite_master \
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
    )
    .map_err(|e| query_error("sqlite_master", e))
}

/// Reads what to dump, inside a read transaction (one snapshot for the whole dump).
pub(super) fn objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    let d = SqliteDialect;
    conn.batch_execute("BEGIN")
        .map_err(|e| query_error("snapshot", e))?;
    let master = master(conn)?;
    let mut objects = Objects {
        settings: vec!["PRAGMA foreign_keys=OFF".into(), "BEGIN TRANSACTION".into()],
        footer: vec!["COMMIT".into()],
        ..Objects::default()
    };
    let tables: Vec<&str> = master
        .iter()
        .filter(|r| r.kind == "table")
        .map(|r| r.name.as_str())
        .collect();
    let left_out: Vec<String> = tables
        .iter()
        .filter(|t| !selected(options, t))
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let is_left_out = |name: &str| left_out.contains(&name.to_ascii_lowercase());
    // Views that read a table (or view) left out go with it.
    let mut dropped_views: Vec<String> = Vec::new();
    for row in master.iter().filter(|r| r.kind == "view") {
        if !selected(options, &row.name) {
            dropped_views.push(row.name.to_ascii_lowercase());
            continue;
        }
        let read = identifiers(&row.sql)
            .into_iter()
            .skip(1)
            .find(|n| left_out.contains(n) || dropped_views.contains(n));
        if let Some(table) = read {
            objects.warnings.push(dropped_view(&row.name, &table));
            dropped_views.push(row.name.to_ascii_lowercase());
        }
    }
    let keep = |row: &MasterRow| match row.kind.as_str() {
        "view" => !dropped_views.contains(&row.name.to_ascii_lowercase()),
        _ => !is_left_out(&row.tbl_name),
    };
    for row in master.iter().rev().filter(|r| keep(r)) {
        let what = match row.kind.as_str() {
            "trigger" if !options.no_triggers => "TRIGGER",
            "view" => "VIEW",
            "table" => "TABLE",
            _ => continue,
        };
        objects.drops.push(Ddl::plain(format!(
            "DROP {what} IF EXISTS {}",
            d.quote_ident(&row.name)
        )));
    }
    for row in master.iter().filter(|r| keep(r)) {
        match row.kind.as_str() {
            "table" => {
                let (sql, removed) = without_foreign_keys(&row.sql, &is_left_out);
                for (name, referenced) in removed {
                    objects
                        .warnings
                        .push(dropped_foreign_key(&name, &row.name, &referenced));
                }
                objects.before.push(Ddl::plain(sql))
            }
            "index" | "view" => objects.after.push(Ddl::plain(row.sql.clone())),
            "trigger" if !options.no_triggers => objects.after.push(Ddl::plain(row.sql.clone())),
            _ => {}
        }
    }
    let (columns, references) = columns_by_table(conn)?;
    let columns: Vec<_> = columns
        .into_iter()
        .filter(|t| selected(options, &t.name))
        .collect();
    let index_of = |name: &str| columns.iter().position(|t| t.name == name);
    let edges: Vec<(usize, usize)> = references
        .iter()
        .filter_map(|(child, parent)| Some((index_of(child)?, index_of(parent)?)))
        .collect();
    let (order, _) = dependency_order(columns.len(), &edges);
    for i in order {
        let t = &columns[i];
        let copied: Vec<&str> = t
            .columns
            .iter()
            .filter(|c| c.extra.as_deref() != Some("generated"))
            .map(|c| c.column_name.as_str())
            .collect();
        let quoted: Vec<String> = copied.iter().map(|c| d.quote_ident(c)).collect();
        let values: Vec<String> = quoted.iter().map(|c| literal(c)).collect();
        objects.tables.push(DataTable {
            name: t.name.clone(),
            insert: format!(
                "INSERT INTO {} ({}) VALUES",
                d.quote_ident(&t.name),
                quoted.join(", ")
            ),
            rows: RowSource::Literals(format!(
                "SELECT '(' || {} || ')' AS value FROM {}",
                values.join(" || ',' || "),
                d.quote_ident(&t.name)
            )),
        });
    }
    let has_sequence = conn
        .query_value("SELECT name AS value FROM sqlite_master WHERE name = 'sqlite_sequence'")
        .map_err(|e| query_error("sqlite_sequence", e))?
        .is_some();
    if has_sequence && !columns.is_empty() {
        // Only the counters of the dumped tables: a filtered dump leaves the others alone.
        let names: Vec<String> = columns.iter().map(|t| d.quote_literal(&t.name)).collect();
        let names = names.join(", ");
        let counters = conn
            .load::<ValueRow>(&format!(
                "SELECT 'INSERT INTO sqlite_sequence (name, seq) VALUES (' || quote(name) || ', ' || seq || ')' AS value \
                 FROM sqlite_sequence WHERE name IN ({names}) ORDER BY name"
            ))
            .map_err(|e| query_error("sqlite_sequence", e))?;
        let counters: Vec<String> = counters.into_iter().filter_map(|c| c.value).collect();
        // sqlite_sequence exists in the target only if a dumped table uses AUTOINCREMENT.
        if !counters.is_empty() {
            objects.data_after.push(Ddl::plain(format!(
                "DELETE FROM sqlite_sequence WHERE name IN ({names})"
            )));
            objects
                .data_after
                .extend(counters.into_iter().map(Ddl::plain));
        }
    }
    Ok(objects)
}

/// Restore's side on SQLite: the connection itself, in one exclusive transaction.
pub(super) struct RestoreTarget<'c> {
    conn: &'c mut Connection,
}

impl<'c> RestoreTarget<'c> {
    pub(super) fn new(conn: &'c mut Connection) -> Self {
        RestoreTarget { conn }
    }
}

fn failure(e: diesel::result::Error) -> Failure {
    Failure {
        message: e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        mysql_code: None,
        copy_line: None,
    }
}

impl Target for RestoreTarget<'_> {
    fn transactional(&self) -> bool {
        true
    }

    fn begin(&mut self) -> std::result::Result<(), Failure> {
        let begin = self.conn.dialect().begin_transaction();
        self.conn.batch_execute(begin).map_err(failure)
    }

    fn execute(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        self.conn.batch_execute(sql).map_err(failure)
    }

    /// Foreign keys are not enforced while loading (as sqlite3 does); rows that break one
    /// are reported, as a copy of a database that already held them is still a copy.
    fn final_checks(&mut self, reporter: &Reporter) -> std::result::Result<(), Failure> {
        let broken = self
            .conn
            .load::<ValueRow>(
                "SELECT \"table\" || ' row ' || coalesce(rowid, '?') || ' references ' || parent || ', which has no such row' AS value \
                 FROM pragma_foreign_key_check LIMIT 6",
            )
            .map_err(failure)?;
        let broken: Vec<String> = broken.into_iter().filter_map(|r| r.value).collect();
        if !broken.is_empty() {
            reporter.warn(format!(
                "rows that break a foreign key after the restore: {}{}",
                broken
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; "),
                if broken.len() > 5 { "; …" } else { "" }
            ));
        }
        Ok(())
    }
}

/// A token of SQLite's SQL: its kind and byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Quoted,
    Text,
    Open,
    Close,
    Comma,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits SQL into tokens, skipping blanks and comments.
fn tokens(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let until = |from: usize, end: u8, doubled: bool| {
            let mut j = from;
            while j < bytes.len() {
                if bytes[j] == end {
                    if doubled && bytes.get(j + 1) == Some(&end) {
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                j += 1;
            }
            bytes.len()
        };
        let (kind, end) = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = until(i, b'\n', false);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                continue;
            }
            b'\'' => (Kind::Text, until(i + 1, b'\'', true)),
            b'"' => (Kind::Quoted, until(i + 1, b'"', true)),
            b'`' => (Kind::Quoted, until(i + 1, b'`', true)),
            b'[' => (Kind::Quoted, until(i + 1, b']', false)),
            b'(' => (Kind::Open, i + 1),
            b')' => (Kind::Close, i + 1),
            b',' => (Kind::Comma, i + 1),
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'_'
                        || bytes[j] == b'$'
                        || bytes[j] >= 0x80)
                {
                    j += 1;
                }
                (Kind::Word, j)
            }
            _ => (Kind::Other, i + 1),
        };
        out.push(Token { kind, start, end });
        i = end;
    }
    out
}

/// A word or quoted identifier as a lower-case name.
fn name(sql: &str, token: &Token) -> String {
    let text = &sql[token.start..token.end];
    let inner = match token.kind {
        Kind::Quoted if text.len() >= 2 => {
            let quote = &text[..1];
            let close = if quote == "[" { "]" } else { quote };
            text[1..text.len() - 1].replace(&format!("{close}{close}"), close)
        }
        _ => text.to_owned(),
    };
    inner.to_ascii_lowercase()
}

fn is_word(sql: &str, token: Option<&Token>, word: &str) -> bool {
    token.is_some_and(|t| t.kind == Kind::Word && sql[t.start..t.end].eq_ignore_ascii_case(word))
}

/// Every name (word or quoted identifier) in a statement, lower-cased, in order.
fn identifiers(sql: &str) -> Vec<String> {
    tokens(sql)
        .iter()
        .filter(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
        .map(|t| name(sql, t))
        .collect()
}

/// A `CREATE TABLE` statement without the foreign keys that reference tables `gone`
/// says are left out; also returns each removed key's (name, referenced table).
fn without_foreign_keys(sql: &str, gone: &dyn Fn(&str) -> bool) -> (String, Vec<(String, String)>) {
    let toks = tokens(sql);
    let Some(open) = toks.iter().position(|t| t.kind == Kind::Open) else {
        return (sql.to_owned(), Vec::new());
    };
    // The items of the column list: (first token, end token, comma before it).
    let mut items: Vec<(usize, usize, Option<usize>)> = Vec::new();
    let mut depth = 0usize;
    let mut item_start = open + 1;
    let mut comma: Option<usize> = None;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    items.push((item_start, i, comma));
                    break;
                }
            }
            Kind::Comma if depth == 1 => {
                items.push((item_start, i, comma));
                comma = Some(i);
                item_start = i + 1;
            }
            _ => {}
        }
    }
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut removed = Vec::new();
    for &(first, end, comma) in &items {
        let mut i = first;
        let mut level = 0usize;
        let constraint_name = |at: usize| {
            (at >= first + 2 && is_word(sql, toks.get(at - 2), "CONSTRAINT"))
                .then(|| name(sql, &toks[at - 1]))
        };
        let table_key = {
            let lead = if is_word(sql, toks.get(first), "CONSTRAINT") {
                first + 2
            } else {
                first
            };
            is_word(sql, toks.get(lead), "FOREIGN")
        };
        while i < end {
            match toks[i].kind {
                Kind::Open => level += 1,
                Kind::Close => level = level.saturating_sub(1),
                _ => {}
            }
            if level == 0 && is_word(sql, toks.get(i), "REFERENCES") && i + 1 < end {
                let referenced = name(sql, &toks[i + 1]);
                if gone(&referenced) {
                    let key = if table_key {
                        let lead_name = is_word(sql, toks.get(first), "CONSTRAINT")
                            .then(|| name(sql, &toks[first + 1]));
                        lead_name.unwrap_or_else(|| "(unnamed)".into())
                    } else {
                        constraint_name(i)
                            .unwrap_or_else(|| format!("on column {}", name(sql, &toks[first])))
                    };
                    removed.push((key, referenced));
                    if table_key {
                        let from = comma.map_or(toks[first].start, |c| toks[c].start);
                        cuts.push((from, toks[end - 1].end));
                        break;
                    }
                    let from = if constraint_name(i).is_some() {
                        i - 2
                    } else {
                        i
                    };
                    let to = clause_end(sql, &toks, i + 2, end);
                    cuts.push((toks[from].start, toks[to - 1].end));
                    i = to;
                    continue;
                }
            }
            i += 1;
        }
    }
    if cuts.is_empty() {
        return (sql.to_owned(), removed);
    }
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (from, to) in cuts {
        out.push_str(sql[at..from].trim_end());
        at = to;
    }
    out.push_str(&sql[at..]);
    (out, removed)
}

/// The token after a column's `REFERENCES t` clause (its column list, actions, `MATCH`
/// and deferrability), starting at `i` (just after the table name).
fn clause_end(sql: &str, toks: &[Token], mut i: usize, end: usize) -> usize {
    if i < end && toks[i].kind == Kind::Open {
        while i < end && toks[i].kind != Kind::Close {
            i += 1;
        }
        i += 1;
    }
    while i < end {
        let word = |k: usize, w: &str| is_word(sql, toks.get(k), w);
        if word(i, "ON") {
            i += 2;
            if word(i, "SET") || word(i, "NO") {
                i += 2;
            } else {
                i += 1;
            }
        } else if word(i, "MATCH")
            || word(i, "INITIALLY")
            || (word(i, "NOT") && word(i + 1, "DEFERRABLE"))
        {
            i += 2;
        } else if word(i, "DEFERRABLE") {
            i += 1;
        } else {
            break;
        }
    }
    i.min(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(sql: &str) -> (String, Vec<(String, String)>) {
        without_foreign_keys(sql, &|t: &str| t == "gone")
    }

    #[test]
    fn foreign_keys_to_left_out_tables_are_removed() {
        let (sql, removed) = strip(
            "CREATE TABLE c (id INTEGER PRIMARY KEY, g INTEGER NOT NULL REFERENCES gone (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, k INTEGER REFERENCES kept)",
        );
        assert_eq!(
            sql,
            "CREATE TABLE c (id INTEGER PRIMARY KEY, g INTEGER NOT NULL, k INTEGER REFERENCES kept)"
        );
        assert_eq!(removed, vec![("on column g".into(), "gone".into())]);
        let (sql, removed) = strip(
            "CREATE TABLE \"c\" (id INTEGER, g INTEGER CONSTRAINT fk_g REFERENCES \"Gone\", CONSTRAINT two FOREIGN KEY (g, id) REFERENCES [gone](a, b) ON UPDATE CASCADE, FOREIGN KEY (id) REFERENCES kept(id))",
        );
        assert_eq!(
            sql,
            "CREATE TABLE \"c\" (id INTEGER, g INTEGER, FOREIGN KEY (id) REFERENCES kept(id))"
        );
        assert_eq!(removed.len(), 2, "{removed:?}");
        let untouched = "CREATE TABLE t (a TEXT DEFAULT 'references gone', b INT)";
        assert_eq!(strip(untouched).0, untouched);
    }

    #[test]
    fn view_identifiers_are_read_as_names() {
        assert_eq!(
            identifiers("CREATE VIEW v AS SELECT \"x\" FROM [Gone] -- t\n WHERE y = 'gone'"),
            vec![
                "create", "view", "v", "as", "select", "x", "from", "gone", "where", "y"
            ]
        );
    }
}
