//! SQLite's dump: the `CREATE` statements stored in `sqlite_master`, rows formatted as
//! exact literals (`rows`), and the
//! `sqlite_sequence` counters of AUTOINCREMENT tables. A filtered dump rewrites a table's
//! stored `CREATE TABLE` without the foreign keys that reference a table left out, and
//! leaves out the views that read one. Restore runs in one transaction and reports rows
//! that break a foreign key at the end.

use crate::statements::quoted_end;
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

mod rows;
mod snapshot;

pub(super) use rows::{each_row, insert_rows};
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
    conn.batch_execute("BEGIN")
        .map_err(|e| query_error("snapshot", e))?;
    let master = master(conn)?;
    let mut objects = Objects {
        settings: vec!["PRAGMA foreign_keys=OFF".into(), "BEGIN TRANSACTION".into()],
        footer: vec!["COMMIT".into()],
        ..Objects::default()
    };
    let selection = Selection::new(&master, options, &mut objects.warnings);
    add_definitions(&mut objects, &master, &selection, options);
    let dumped = add_tables(conn, options, &mut objects)?;
    add_counters(conn, &dumped, &mut objects)?;
    Ok(objects)
}

/// What a filtered dump leaves out: the tables (lower-cased) and the views that read one.
struct Selection {
    left_out: Vec<String>,
    dropped_views: Vec<String>,
}

impl Selection {
    /// The tables `options` leave out, and the views that go with them (each said in
    /// `warnings` when it goes only because of what it reads).
    fn new(master: &[MasterRow], options: &DumpOptions, warnings: &mut Vec<String>) -> Self {
        let left_out: Vec<String> = master
            .iter()
            .filter(|r| r.kind == "table" && !selected(options, &r.name))
            .map(|r| r.name.to_ascii_lowercase())
            .collect();
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
                warnings.push(dropped_view(&row.name, &table));
                dropped_views.push(row.name.to_ascii_lowercase());
            }
        }
        Selection {
            left_out,
            dropped_views,
        }
    }

    fn is_left_out(&self, name: &str) -> bool {
        self.left_out.contains(&name.to_ascii_lowercase())
    }

    /// Whether the object goes into the dump.
    fn keeps(&self, row: &MasterRow) -> bool {
        match row.kind.as_str() {
            "view" => !self.dropped_views.contains(&row.name.to_ascii_lowercase()),
            _ => !self.is_left_out(&row.tbl_name),
        }
    }
}

/// The `DROP … IF EXISTS` (dependants first) and `CREATE` statements of the kept objects:
/// tables before the rows, indexes, views and triggers after them.
fn add_definitions(
    objects: &mut Objects,
    master: &[MasterRow],
    selection: &Selection,
    options: &DumpOptions,
) {
    let d = SqliteDialect;
    for row in master.iter().rev().filter(|r| selection.keeps(r)) {
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
    let gone = |name: &str| selection.is_left_out(name);
    for row in master.iter().filter(|r| selection.keeps(r)) {
        match row.kind.as_str() {
            "table" => {
                let (sql, removed) = without_foreign_keys(&row.sql, &gone);
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
}

/// The tables whose rows are copied, parents before children; returns their names.
fn add_tables(
    conn: &mut Connection,
    options: &DumpOptions,
    objects: &mut Objects,
) -> Result<Vec<String>> {
    let d = SqliteDialect;
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
        let quoted: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.extra.as_deref() != Some("generated"))
            .map(|c| d.quote_ident(&c.column_name))
            .collect();
        objects.tables.push(DataTable {
            name: t.name.clone(),
            insert: format!(
                "INSERT INTO {} ({}) VALUES",
                d.quote_ident(&t.name),
                quoted.join(", ")
            ),
            rows: RowSource::Literals(format!(
                "SELECT {} FROM {}",
                quoted.join(", "),
                d.quote_ident(&t.name)
            )),
        });
    }
    Ok(columns.into_iter().map(|t| t.name).collect())
}

/// The `sqlite_sequence` counters of the dumped tables (a filtered dump leaves the others
/// alone), written after the rows.
fn add_counters(conn: &mut Connection, tables: &[String], objects: &mut Objects) -> Result<()> {
    let d = SqliteDialect;
    let has_sequence = conn
        .query_value("SELECT name AS value FROM sqlite_master WHERE name = 'sqlite_sequence'")
        .map_err(|e| query_error("sqlite_sequence", e))?
        .is_some();
    if !has_sequence || tables.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = tables.iter().map(|t| d.quote_literal(t)).collect();
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
    Ok(())
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
        message: crate::error::one_line(e),
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
        let (kind, end) = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = quoted_end(bytes, i, b'\n', false, false);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                continue;
            }
            b'\'' => (Kind::Text, quoted_end(bytes, i, b'\'', true, false)),
            b'"' => (Kind::Quoted, quoted_end(bytes, i, b'"', true, false)),
            b'`' => (Kind::Quoted, quoted_end(bytes, i, b'`', true, false)),
            b'[' => (Kind::Quoted, quoted_end(bytes, i, b']', false, false)),
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
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut removed = Vec::new();
    for item in column_list(&toks, open) {
        let found = ItemSql {
            sql,
            toks: &toks,
            item,
        }
        .foreign_keys_to(gone);
        for (cut, key) in found {
            cuts.push(cut);
            removed.push(key);
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

/// One item of a `CREATE TABLE` column list (a column or a table constraint): its first
/// token, the token that ends it, and the comma before it.
#[derive(Clone, Copy)]
struct Item {
    first: usize,
    end: usize,
    comma: Option<usize>,
}

/// The items of the column list that opens at token `open`.
fn column_list(toks: &[Token], open: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut first = open + 1;
    let mut comma: Option<usize> = None;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    items.push(Item {
                        first,
                        end: i,
                        comma,
                    });
                    break;
                }
            }
            Kind::Comma if depth == 1 => {
                items.push(Item {
                    first,
                    end: i,
                    comma,
                });
                comma = Some(i);
                first = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// An item with the statement it is read from.
struct ItemSql<'s> {
    sql: &'s str,
    toks: &'s [Token],
    item: Item,
}

impl ItemSql<'_> {
    fn word(&self, at: usize, word: &str) -> bool {
        is_word(self.sql, self.toks.get(at), word)
    }

    /// The name after `CONSTRAINT` two tokens before `at`, if any.
    fn constraint_name(&self, at: usize) -> Option<String> {
        (at >= self.item.first + 2 && self.word(at - 2, "CONSTRAINT"))
            .then(|| name(self.sql, &self.toks[at - 1]))
    }

    /// The byte spans to cut and the (key name, referenced table) of each foreign key of
    /// the item that references a table `gone` says is left out.
    fn foreign_keys_to(
        &self,
        gone: &dyn Fn(&str) -> bool,
    ) -> Vec<((usize, usize), (String, String))> {
        let Item { first, end, comma } = self.item;
        let toks = self.toks;
        let named = self.word(first, "CONSTRAINT");
        let table_key = self.word(if named { first + 2 } else { first }, "FOREIGN");
        let mut found = Vec::new();
        let mut level = 0usize;
        let mut i = first;
        while i < end {
            match toks[i].kind {
                Kind::Open => level += 1,
                Kind::Close => level = level.saturating_sub(1),
                _ => {}
            }
            if level == 0 && self.word(i, "REFERENCES") && i + 1 < end {
                let referenced = name(self.sql, &toks[i + 1]);
                if gone(&referenced) {
                    if table_key {
                        let key = if named {
                            name(self.sql, &toks[first + 1])
                        } else {
                            "(unnamed)".into()
                        };
                        let from = comma.map_or(toks[first].start, |c| toks[c].start);
                        found.push(((from, toks[end - 1].end), (key, referenced)));
                        break;
                    }
                    let constraint = self.constraint_name(i);
                    let from = if constraint.is_some() { i - 2 } else { i };
                    let key = constraint
                        .unwrap_or_else(|| format!("on column {}", name(self.sql, &toks[first])));
                    let to = clause_end(self.sql, toks, i + 2, end);
                    found.push(((toks[from].start, toks[to - 1].end), (key, referenced)));
                    i = to;
                    continue;
                }
            }
            i += 1;
        }
        found
    }
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
