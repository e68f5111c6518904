//! SQLite's catalog as a [`Snapshot`], from what the dump reads: `sqlite_master` and the
//! `pragma_*` rows of the shared catalog reader (columns, keys and indexes). Columns, keys
//! and foreign keys come from the pragmas, so a table rebuilt by a revision (new
//! `CREATE TABLE` text, `ALTER TABLE … RENAME`'s quoting) compares by what it is; what
//! only the statement says (checks, collations, generated expressions, `WITHOUT ROWID`,
//! `STRICT`, `AUTOINCREMENT`) is read from it; indexes, views and triggers compare by
//! their statements, case and layout aside (SQLite ignores both).

use std::collections::BTreeMap;

use super::{Kind, MasterRow, Token, is_word, master, name, tokens};
use crate::db::Connection;
use crate::error::Result;
use crate::inspect::{KeyRow, read_catalog};
use crate::snapshot::{Fingerprint, ObjectKind, Snapshot, SqlText, normalise_sql};

/// SQLite's text: case does not matter.
const TEXT: SqlText = SqlText {
    fold_case: true,
    hash_comments: false,
    backslash_escapes: false,
};

/// The last snapshot read and the `sqlite_master` rows it was read from: every object of
/// a SQLite database follows from its statements there, so the same rows give the same
/// snapshot (the stairway of `cargo dbrev test` reads each state twice).
#[derive(Default)]
pub(crate) struct SnapshotCache {
    last: Option<(Vec<MasterRow>, Snapshot)>,
}

impl SnapshotCache {
    /// Reads a snapshot on the connection: one query when `sqlite_master` is as it was
    /// last time, else three.
    pub(crate) fn snapshot(&mut self, conn: &mut Connection) -> Result<Snapshot> {
        let master = master(conn)?;
        if let Some((rows, snapshot)) = &self.last
            && *rows == master
        {
            return Ok(Snapshot {
                queries: 1,
                ..snapshot.clone()
            });
        }
        let snapshot = snapshot(conn, &master)?;
        self.last = Some((master, snapshot.clone()));
        Ok(snapshot)
    }

    /// The catalog's fingerprint: the `sqlite_master` rows every object follows from, in
    /// name order (one query, in process: never scoped), hashed.
    pub(crate) fn fingerprint(&mut self, conn: &mut Connection) -> Result<Fingerprint> {
        use sha2::Digest;
        let mut rows = master(conn)?;
        rows.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
        let mut hash = sha2::Sha256::new();
        for row in &rows {
            for field in [&row.kind, &row.name, &row.tbl_name, &row.sql] {
                hash.update(field.len().to_le_bytes());
                hash.update(field.as_bytes());
            }
        }
        Ok(Fingerprint {
            hash: format!("{:x}", hash.finalize()),
            queries: 1,
            scoped: false,
            reaches_further: false,
        })
    }
}

/// The snapshot of the objects in `master`.
fn snapshot(conn: &mut Connection, master: &[MasterRow]) -> Result<Snapshot> {
    let catalog = read_catalog(conn, "", &[])?;
    let mut s = Snapshot {
        queries: 1 + catalog.queries,
        ..Snapshot::default()
    };
    let mut statements: BTreeMap<&str, TableStatement> = BTreeMap::new();
    for row in master {
        match row.kind.as_str() {
            "table" => {
                let parsed = TableStatement::parse(&row.sql);
                table(&mut s, row, &parsed);
                statements.insert(&row.name, parsed);
            }
            "index" => index_like(&mut s, ObjectKind::Index, row, Some(&row.tbl_name)),
            "view" => index_like(&mut s, ObjectKind::View, row, None),
            "trigger" => {
                let name = format!("{}.{}", row.tbl_name, row.name);
                s.add_on(ObjectKind::Trigger, name, &row.tbl_name)
                    .set("definition", normalise_sql(&row.sql, TEXT));
            }
            _ => {}
        }
    }
    for c in catalog.columns.iter().filter(|c| c.relation.is_none()) {
        let parsed = statements
            .get(c.table_name.as_str())
            .and_then(|t| t.columns.get(&c.column_name.to_ascii_lowercase()));
        let o = s.add_on(
            ObjectKind::Column,
            format!("{}.{}", c.table_name, c.column_name),
            &c.table_name,
        );
        o.set("type", normalise_sql(&c.data_type, TEXT))
            .flag("not null", c.is_nullable == "NO")
            .set_some(
                "default",
                c.column_default.as_deref().map(|d| normalise_sql(d, TEXT)),
            );
        if let Some(parsed) = parsed {
            o.set_some("collation", parsed.collation.as_deref())
                .set_some("generated", parsed.generated.as_deref());
        }
    }
    keys(&mut s, &catalog.keys);
    Ok(s)
}

fn table(s: &mut Snapshot, row: &MasterRow, parsed: &TableStatement) {
    s.add(ObjectKind::Table, &row.name)
        .flag("without rowid", parsed.without_rowid)
        .flag("strict", parsed.strict)
        .flag("autoincrement", parsed.autoincrement);
    for (constraint, expression) in &parsed.checks {
        let name = match constraint {
            Some(n) => format!("{}.{n}", row.name),
            None => format!("{}: CHECK ({expression})", row.name),
        };
        s.add_on(ObjectKind::Check, name, &row.name)
            .set("definition", expression.clone());
    }
}

fn index_like(s: &mut Snapshot, kind: ObjectKind, row: &MasterRow, table: Option<&str>) {
    let object = s.add(kind, &row.name);
    object.table = table.map(str::to_owned);
    object.set("definition", normalise_sql(&row.sql, TEXT));
}

/// Primary keys, unique constraints and foreign keys from their members (SQLite numbers
/// foreign keys and names unique constraints by position, so they go by their columns).
fn keys(s: &mut Snapshot, rows: &[KeyRow]) {
    let mut groups: BTreeMap<(&str, &str, String), Vec<&KeyRow>> = BTreeMap::new();
    for k in rows
        .iter()
        .filter(|k| matches!(k.kind.as_str(), "PRIMARY" | "FOREIGN" | "UNIQUE"))
    {
        let id = k.key_name.clone().unwrap_or_default();
        groups
            .entry((&k.table_name, &k.kind, id))
            .or_default()
            .push(k);
    }
    for ((table, kind, _), mut members) in groups {
        members.sort_by_key(|m| m.position.parse::<u32>().unwrap_or(0));
        let columns: Vec<&str> = members.iter().map(|m| m.column_name.as_str()).collect();
        let columns = columns.join(", ");
        match kind {
            "PRIMARY" => {
                s.add_on(ObjectKind::PrimaryKey, table, table)
                    .set("columns", columns);
            }
            "UNIQUE" => {
                s.add_on(ObjectKind::UniqueKey, format!("{table}({columns})"), table);
            }
            _ => {
                let first = members[0];
                let target = first.ref_table.clone().unwrap_or_default();
                let refs: Vec<&str> = members
                    .iter()
                    .filter_map(|m| m.ref_column.as_deref())
                    .collect();
                s.add_on(
                    ObjectKind::ForeignKey,
                    format!("{table}({columns}) -> {target}({})", refs.join(", ")),
                    table,
                )
                .set_some("on delete", first.on_delete.as_deref())
                .set_some("on update", first.on_update.as_deref());
            }
        }
    }
}

/// What only a table's `CREATE TABLE` statement says.
#[derive(Debug, Default, PartialEq, Eq)]
struct TableStatement {
    /// Per column (lower-case name): its collation and generated expression.
    columns: BTreeMap<String, ColumnStatement>,
    /// Checks, of the table and of its columns: (constraint name, expression).
    checks: Vec<(Option<String>, String)>,
    without_rowid: bool,
    strict: bool,
    autoincrement: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct ColumnStatement {
    collation: Option<String>,
    generated: Option<String>,
}

impl TableStatement {
    fn parse(sql: &str) -> TableStatement {
        let toks = tokens(sql);
        let mut out = TableStatement {
            autoincrement: toks.iter().any(|t| is_word(sql, Some(t), "AUTOINCREMENT")),
            ..TableStatement::default()
        };
        let Some(open) = toks.iter().position(|t| t.kind == Kind::Open) else {
            return out;
        };
        let (items, close) = items(&toks, open);
        for words in toks[close + 1..].split(|t| t.kind == Kind::Comma) {
            out.without_rowid |= is_word(sql, words.first(), "WITHOUT");
            out.strict |= is_word(sql, words.first(), "STRICT");
        }
        for item in items {
            out.read_item(sql, item);
        }
        out
    }

    fn read_item(&mut self, sql: &str, item: &[Token]) {
        let lead = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];
        let is_column = !lead.iter().any(|w| is_word(sql, item.first(), w));
        let mut column = ColumnStatement::default();
        let mut depth = 0usize;
        for (i, t) in item.iter().enumerate() {
            match t.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth != 0 || t.kind != Kind::Word {
                continue;
            }
            let after = item.get(i + 1);
            if is_word(sql, Some(t), "COLLATE") && is_column {
                column.collation = after.map(|n| name(sql, n));
            } else if is_word(sql, Some(t), "CHECK") {
                let constraint = (i >= 2 && is_word(sql, item.get(i - 2), "CONSTRAINT"))
                    .then(|| name(sql, &item[i - 1]));
                if let Some(expression) = parenthesised(sql, &item[i + 1..]) {
                    self.checks.push((constraint, expression));
                }
            } else if is_word(sql, Some(t), "AS") && is_column {
                column.generated = parenthesised(sql, &item[i + 1..]);
            }
        }
        if is_column && let Some(first) = item.first() {
            self.columns.insert(name(sql, first), column);
        }
    }
}

/// The items of a `CREATE TABLE`'s list (split at its top-level commas) and the position
/// of the list's closing parenthesis.
fn items(toks: &[Token], open: usize) -> (Vec<&[Token]>, usize) {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    out.push(&toks[start..i]);
                    return (out, i);
                }
            }
            Kind::Comma if depth == 1 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    (out, toks.len().saturating_sub(1))
}

/// The normalised text inside the parentheses that `toks` starts with.
fn parenthesised(sql: &str, toks: &[Token]) -> Option<String> {
    let first = toks.first().filter(|t| t.kind == Kind::Open)?;
    let mut depth = 0usize;
    for t in toks {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(normalise_sql(&sql[first.end..t.start], TEXT));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_only_the_statement_says() {
        let parsed = TableStatement::parse(
            "CREATE TABLE \"T\" (id INTEGER PRIMARY KEY AUTOINCREMENT, e VARCHAR(40) COLLATE NOCASE CHECK (e <> ''), \
             f INT GENERATED ALWAYS AS (id + 1) STORED, g AS (e || 'x'), CONSTRAINT positive CHECK (id > 0), \
             UNIQUE (e)) WITHOUT ROWID, STRICT",
        );
        assert!(parsed.autoincrement && parsed.without_rowid && parsed.strict);
        assert_eq!(parsed.columns["e"].collation.as_deref(), Some("nocase"));
        assert_eq!(parsed.columns["f"].generated.as_deref(), Some("id + 1"));
        assert_eq!(parsed.columns["g"].generated.as_deref(), Some("e || 'x'"));
        assert_eq!(
            parsed.checks,
            [
                (None, "e <> ''".to_owned()),
                (Some("positive".to_owned()), "id > 0".to_owned())
            ]
        );
        assert!(!parsed.columns.contains_key("constraint"));
    }

    #[test]
    fn layout_of_a_rebuilt_table_does_not_matter() {
        let a = TableStatement::parse("CREATE TABLE t(a int check(a>0), b text)");
        let b =
            TableStatement::parse("CREATE TABLE \"t\" (\n  \"A\" INT CHECK (a > 0),\n  b TEXT\n)");
        assert_eq!(a, b);
    }
}
