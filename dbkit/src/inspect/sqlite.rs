//! SQLite's catalog through the `pragma_*` table-valued functions: two queries in all
//! (`sqlite/columns.sql`: columns of tables and views; `sqlite/keys.sql`: keys and
//! indexes), and what diesel's print-schema makes of them ([`as_diesel_reads_it`]). Row
//! counts for `lint` ([`row_estimates`]): `sqlite/existing_tables.sql`, then one query.

use diesel::QueryResult;

use super::{Catalog, RowEstimate, columns_and_keys};
use crate::db::Connection;
use crate::error::Result;
use crate::model::{Schema, TableName};
use crate::sqltype::TypeKind;

/// The names a table's implicit row key answers to, in the order print-schema picks the
/// first one no column has taken.
const ROWID_ALIASES: &[&str] = &["rowid", "oid", "_rowid_"];

/// Reads columns, keys and indexes of every table, and the columns of every view.
pub fn read(conn: &mut Connection) -> Result<Catalog> {
    columns_and_keys(
        conn,
        include_str!("sqlite/columns.sql"),
        include_str!("sqlite/keys.sql"),
    )
}

/// What diesel's print-schema makes of a SQLite catalog, recorded on the schema so the
/// comparison needs no backend knowledge:
/// - foreign keys have no name to drop by (SQLite numbers them), and one written without a
///   column list (`REFERENCES parent`) references the parent's primary key, as SQLite
///   resolves it;
/// - a table without a primary key is keyed by its implicit `rowid` (`oid`, `_rowid_`
///   when a column takes the name), which print-schema writes as an `Integer` column;
/// - a primary key column declared without NOT NULL (SQLite's legacy rule lets it hold
///   NULL) is written `Nullable<..>` by print-schema and without by most people: either is
///   the same column;
/// - an `INTEGER` column that is the rowid key, or a single-column foreign key to one, is
///   `BigInt` with diesel.toml's `sqlite_integer_primary_key_is_bigint`.
pub fn as_diesel_reads_it(schema: &mut Schema) {
    let primary_keys: Vec<(TableName, Vec<String>)> = schema
        .tables
        .values()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    let mut rowid_keys = Vec::new();
    for table in schema.tables.values_mut() {
        for fk in &mut table.foreign_keys {
            fk.name = None;
            if fk.ref_columns.is_empty() {
                if let Some((_, key)) = primary_keys.iter().find(|(t, _)| *t == fk.ref_table) {
                    fk.ref_columns = key.clone();
                }
            }
        }
        if table.primary_key.is_empty() {
            table.implicit_key = ROWID_ALIASES
                .iter()
                .find(|alias| table.column(alias).is_none())
                .map(|alias| (*alias).to_owned());
        }
        let key = table.primary_key.clone();
        for column in &mut table.columns {
            if key.contains(&column.name) && column.nullable {
                column.nullability_either = true;
            }
        }
        if let [pk] = key.as_slice()
            && let Some(column) = table.columns.iter_mut().find(|c| &c.name == pk)
            && column.ty.native.eq_ignore_ascii_case("integer")
        {
            column.ty.alias_kind = Some(TypeKind::BigInt);
            rowid_keys.push((table.name.clone(), pk.clone()));
        }
    }
    for table in schema.tables.values_mut() {
        for fk in &table.foreign_keys {
            let [column] = fk.columns.as_slice() else {
                continue;
            };
            let references_rowid = rowid_keys.iter().any(|(parent, pk)| {
                *parent == fk.ref_table
                    && (fk.ref_columns.is_empty() || fk.ref_columns == [pk.clone()])
            });
            if references_rowid
                && let Some(c) = table.columns.iter_mut().find(|c| &c.name == column)
                && c.ty.kind == TypeKind::Integer
            {
                c.ty.alias_kind = Some(TypeKind::BigInt);
            }
        }
    }
}

/// The labels of `column`'s `CHECK (column IN ('a', 'b'))` in a table's `CREATE TABLE`
/// text (how dbrev writes an enum on SQLite), when it has one of that exact shape.
pub fn check_labels(definition: &str, column: &str) -> Option<Vec<String>> {
    let upper = definition.to_ascii_uppercase();
    upper
        .match_indices("CHECK")
        .filter_map(|(at, _)| in_list(&definition[at + "CHECK".len()..]))
        .find(|(name, _)| name == column)
        .map(|(_, labels)| labels)
}

/// `(name IN ('a', 'b'))` at the start of `text` (after `CHECK`): the name and labels.
fn in_list(text: &str) -> Option<(String, Vec<String>)> {
    let rest = text.trim_start().strip_prefix('(')?.trim_start();
    let (name, rest) = identifier(rest)?;
    let rest = rest.trim_start();
    if !rest.get(..2)?.eq_ignore_ascii_case("IN") {
        return None;
    }
    let mut rest = rest[2..].trim_start().strip_prefix('(')?;
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start().strip_prefix('\'')?;
        let mut label = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '\'') if rest[i + 1..].starts_with('\'') => {
                    label.push('\'');
                    chars.next();
                }
                (i, '\'') => break i + 1,
                (_, c) => label.push(c),
            }
        };
        labels.push(label);
        rest = rest[end..].trim_start();
        match rest.chars().next()? {
            ',' => rest = &rest[1..],
            ')' => {
                return rest[1..]
                    .trim_start()
                    .starts_with(')')
                    .then_some((name, labels));
            }
            _ => return None,
        }
    }
}

/// An identifier at the start of `text` (bare, or quoted with `"`, `` ` `` or `[ ]`) and
/// the text after it.
fn identifier(text: &str) -> Option<(String, &str)> {
    let close = match text.chars().next()? {
        '"' => '"',
        '`' => '`',
        '[' => ']',
        _ => {
            let end = text
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(text.len());
            return (end > 0).then(|| (text[..end].to_owned(), &text[end..]));
        }
    };
    let mut name = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == close {
            if text[i + 1..].starts_with(close) && close != ']' {
                name.push(close);
                chars.next();
            } else {
                return Some((name, &text[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

/// The row counts of `tables` that exist (`sqlite/existing_tables.sql` finds them):
/// `sqlite_stat1`'s estimate after ANALYZE, else `count(*)`, in one `UNION ALL` query.
pub fn row_estimates(conn: &mut Connection, tables: &[TableName]) -> QueryResult<Vec<RowEstimate>> {
    let dialect = conn.dialect();
    let names: Vec<String> = tables
        .iter()
        .map(|t| dialect.quote_literal(&t.name.to_lowercase()))
        .collect();
    let existing: Vec<RowEstimate> = conn
        .load(&include_str!("sqlite/existing_tables.sql").replace("{names}", &names.join(", ")))?;
    let analyzed = existing.iter().any(|e| e.table_name == "sqlite_stat1");
    let counts: Vec<String> = existing
        .iter()
        .filter(|e| e.table_name != "sqlite_stat1")
        .map(|e| {
            let name = dialect.quote_literal(&e.table_name);
            let count = format!("(SELECT count(*) FROM {})", dialect.quote_ident(&e.table_name));
            let value = if analyzed {
                format!(
                    "COALESCE((SELECT MAX(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = {name}), {count})"
                )
            } else {
                count
            };
            format!("SELECT {name} AS table_name, {value} AS row_count")
        })
        .collect();
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    conn.load(&counts.join(" UNION ALL "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_checks_read_back() {
        let sql = "CREATE TABLE \"users\" (\n    \"id\" INTEGER NOT NULL,\n    \"mood\" TEXT CHECK (\"mood\" IN ('sad', 'it''s ok')),\n    other TEXT CHECK ((length(other) > 2)),\n    [kind] TEXT CHECK ([kind] IN ('a'))\n)";
        assert_eq!(
            check_labels(sql, "mood"),
            Some(vec!["sad".into(), "it's ok".into()])
        );
        assert_eq!(check_labels(sql, "kind"), Some(vec!["a".into()]));
        assert_eq!(check_labels(sql, "other"), None);
        assert_eq!(check_labels(sql, "id"), None);
    }
}
