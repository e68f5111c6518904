//! MySQL/MariaDB in lint: how its SQL reads where the shared readers need help (the
//! parser's grammar, `AUTO_INCREMENT`, the `ALTER TABLE` clauses only MySQL writes), and its
//! rules (MY001–MY003): `ALTER TABLE` that copies the table with writes blocked, revisions
//! that cannot be rolled back half-way, and `CHANGE` used to rename.

use sqlparser::dialect::{Dialect as ParserDialect, MySqlDialect};
use sqlparser::tokenizer::Token as ParserToken;

use super::{FileContext, Hit, excerpt};
use crate::lint::Severity;
use crate::lint::facts::{ColumnType, Fact, Kind, OnlineClauses, Relation};
use crate::lint::tokens::{Token, keyword_at};

/// The grammar `sqlparser` reads MySQL's SQL with.
pub fn grammar() -> Box<dyn ParserDialect> {
    Box::new(MySqlDialect {})
}

/// The column option that numbers a column.
const AUTO_INCREMENT: &str = "AUTO_INCREMENT";

/// What numbers a column whose option the parser keeps as MySQL's own (`AUTO_INCREMENT`);
/// `None` for another option.
pub fn numbering(option: &[ParserToken]) -> Option<String> {
    option
        .iter()
        .any(|t| t.to_string().eq_ignore_ascii_case(AUTO_INCREMENT))
        .then(|| AUTO_INCREMENT.to_owned())
}

/// Table options that change nothing the rules look at.
const QUIET_TABLE_OPTIONS: &[&str] = &[
    "ENGINE",
    "FORCE",
    "ROW_FORMAT",
    "COMMENT",
    "DEFAULT",
    "CHARACTER",
    "CHARSET",
    "COLLATE",
    AUTO_INCREMENT,
    "KEY_BLOCK_SIZE",
];

/// Reads one `ALTER TABLE` clause the parser does not, if only MySQL writes it:
/// `ALGORITHM=` and `LOCK=` (into `online`), `CONVERT TO CHARACTER SET` (a fact), a table
/// option. Whether it was one.
pub fn table_clause(
    clause: &[Token],
    table: &Relation,
    online: &mut OnlineClauses,
    facts: &mut Vec<Fact>,
) -> bool {
    let value = || {
        let at = if keyword_at(clause, 1) == "=" { 2 } else { 1 };
        clause.get(at).map(|t| t.keyword.clone())
    };
    match keyword_at(clause, 0) {
        "ALGORITHM" => online.algorithm = value(),
        "LOCK" => online.lock = value(),
        "CONVERT" => facts.push(Fact::ConvertCharset {
            table: table.clone(),
        }),
        option if QUIET_TABLE_OPTIONS.contains(&option) => {}
        _ => return false,
    }
    true
}

const ONLINE_SAFE: &str = "add `, ALGORITHM=INPLACE, LOCK=NONE` so the server refuses instead of blocking writes; to change a column without blocking, expand and contract (add a new column, fill it in batches, switch the app, drop the old one later) or use gh-ost / pt-online-schema-change";

/// Runs MY001–MY003 on one file.
pub fn check(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    let mut online = OnlineClauses::default();
    let mut reported = None;
    let mut current = None;
    for (i, fact) in ctx.facts() {
        if current != Some(i) {
            current = Some(i);
            online = OnlineClauses::default();
        }
        if let Fact::AlterTable {
            online: clauses, ..
        } = fact
        {
            online = clauses.clone();
        }
        let Some(table) = fact.table() else {
            continue;
        };
        if ctx.is_new(i, table) {
            continue;
        }
        hits.extend(restated_rename(i, table, fact));
        // One MY001 a statement, unless its ALGORITHM/LOCK makes the server refuse to block.
        if online.refuses_to_block() || reported == Some(i) {
            continue;
        }
        if let Some((message, severity)) = copy(ctx, i, table, fact) {
            reported = Some(i);
            hits.push(
                Hit::new("MY001", i, message)
                    .table(table)
                    .effect("writes wait for the whole copy")
                    .safe(ONLINE_SAFE)
                    .severity(severity),
            );
        }
    }
    mixed(ctx, hits);
}

/// MY003: `CHANGE` renaming a column by restating it.
fn restated_rename(i: usize, table: &Relation, fact: &Fact) -> Option<Hit> {
    let Fact::RenameColumn {
        from,
        to,
        restates: true,
        ..
    } = fact
    else {
        return None;
    };
    Some(
        Hit::new(
            "MY003",
            i,
            format!(
                "CHANGE renames {table}.{from} to {to} by restating the whole column: what the new definition leaves out (NOT NULL, DEFAULT, AUTO_INCREMENT, COMMENT, character set) is dropped"
            ),
        )
        .table(table)
        .safe(format!(
            "ALTER TABLE {table} RENAME COLUMN {from} TO {to}; (MySQL 8.0+, MariaDB 10.5.2+), which changes nothing else"
        )),
    )
}

/// MY001: why the fact copies the table with writes blocked, and a severity other than
/// the rule's (a warning where the history does not say the column's type); `None` when
/// it does not.
fn copy(
    ctx: &FileContext<'_>,
    i: usize,
    table: &Relation,
    fact: &Fact,
) -> Option<(String, Option<Severity>)> {
    match fact {
        Fact::AlterTable { online, .. } if online.asks_to_block() => Some((
            format!(
                "`{}` asks for {}: writes to {table} are blocked until it finishes",
                excerpt(&ctx.statements[i].sql),
                if online.algorithm.as_deref() == Some("COPY") {
                    "ALGORITHM=COPY".to_owned()
                } else {
                    format!("LOCK={}", online.lock.as_deref().unwrap_or_default())
                }
            ),
            None,
        )),
        Fact::SetType { column, to, .. } => {
            match ctx.catalog_at(i).column_type(&table.key(), column) {
                None => Some((
                    format!(
                        "the current type of {table}.{column} is not in the revision history, so lint cannot tell whether {} changes the type (a type change copies {table} with writes blocked)",
                        to.ty
                    ),
                    Some(Severity::Warning),
                )),
                Some(old) if in_place(old, &to.ty) => None,
                Some(old) => Some((
                    format!(
                        "{table}.{column} changes from {old} to {}: MySQL and MariaDB copy the table (ALGORITHM=COPY) and block writes until the copy is done",
                        to.ty
                    ),
                    None,
                )),
            }
        }
        Fact::ChangePrimaryKey {
            drop_only: true, ..
        } => Some((
            format!("DROP PRIMARY KEY without a new one copies {table} with writes blocked"),
            None,
        )),
        Fact::ChangePrimaryKey { .. } => Some((
            format!(
                "changing the primary key of {table} rebuilds the whole table, and copies it with writes blocked when a key column must become NOT NULL"
            ),
            None,
        )),
        Fact::ConvertCharset { .. } => Some((
            format!("CONVERT TO CHARACTER SET copies {table} with writes blocked"),
            None,
        )),
        _ => None,
    }
}

/// Whether MySQL changes the type in place: the same type, or a `VARCHAR` that grows
/// within the same length-prefix size (up to 255 bytes, or from 256 bytes on; utf8mb4
/// takes 4 bytes a character).
fn in_place(old: &ColumnType, new: &ColumnType) -> bool {
    if old.name == new.name && old.args == new.args {
        return true;
    }
    match (
        old.name.as_str(),
        new.name.as_str(),
        old.args.first(),
        new.args.first(),
    ) {
        ("varchar", "varchar", Some(&a), Some(&b)) => b >= a && ((b * 4 < 256) == (a * 4 < 256)),
        _ => false,
    }
}

/// MY002: DDL and DML in one revision.
fn mixed(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    let first = |kind: Kind| ctx.statements.iter().position(|s| s.kind == kind);
    if let (Some(ddl), Some(dml)) = (first(Kind::Ddl), first(Kind::Dml)) {
        let table: Option<&Relation> = ctx.statements[dml].facts.iter().find_map(Fact::table);
        let mut hit = Hit::new(
            "MY002",
            dml,
            format!(
                "this revision changes rows here and the schema on line {}: MySQL and MariaDB commit every DDL statement on its own, so a failure leaves the revision half applied",
                ctx.line(ddl)
            ),
        )
        .safe("move the data changes into a revision of their own");
        if let Some(table) = table {
            hit = hit.table(table);
        }
        hits.push(hit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varchar_growth_in_place() {
        let t = ColumnType::parse;
        assert!(in_place(&t("VARCHAR(20)"), &t("varchar(60)")));
        assert!(!in_place(&t("VARCHAR(20)"), &t("varchar(100)")));
        assert!(in_place(&t("VARCHAR(100)"), &t("varchar(300)")));
        assert!(!in_place(&t("INT"), &t("BIGINT")));
        assert!(in_place(&t("INT"), &t("integer")));
    }
}
