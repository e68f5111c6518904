//! SQLite in lint: how its SQL reads where the shared readers need help (the parser's
//! grammar, `PRAGMA` statements, the foreign key check the rebuild recipe queries), and its
//! rules (SL001–SL002): the table-rebuild recipe run with foreign keys enforced, and
//! `ALTER TABLE` forms that the SQLite an app links may not have.

use sqlparser::dialect::{Dialect as ParserDialect, SQLiteDialect};

use super::{FileContext, Hit, rebuilds};
use crate::lint::facts::Fact;
use crate::lint::tokens::{Token, keyword_at};

/// The grammar `sqlparser` reads SQLite's SQL with.
pub fn grammar() -> Box<dyn ParserDialect> {
    Box::new(SQLiteDialect {})
}

/// The table-valued function whose rows, queried in the rebuild recipe's check, fail the
/// upgrade when a reference no longer holds (`PRAGMA foreign_key_check` only lists them).
const FAILING_FOREIGN_KEY_CHECK: &str = "pragma_foreign_key_check";

/// `PRAGMA [schema.]name [= value | (value)]`, which the parser cannot read with a keyword
/// value (`= OFF`); `None` for another statement.
pub fn pragma(tokens: &[Token]) -> Option<Fact> {
    if keyword_at(tokens, 0) != "PRAGMA" {
        return None;
    }
    let (name_at, mut i) = if keyword_at(tokens, 2) == "." {
        (3, 4)
    } else {
        (1, 2)
    };
    let name = tokens
        .get(name_at)
        .map(|t| t.text.to_ascii_lowercase())
        .unwrap_or_default();
    if matches!(keyword_at(tokens, i), "=" | "(") {
        i += 1;
    }
    let value = tokens.get(i).map(|t| t.text.to_ascii_lowercase());
    Some(Fact::Pragma { name, value })
}

/// A query (its text, lower case) that reads the failing foreign key check, as the fact the
/// rules look for; `None` for another query.
pub fn foreign_key_check_in(query: &str) -> Option<Fact> {
    query
        .contains(FAILING_FOREIGN_KEY_CHECK)
        .then(|| Fact::Pragma {
            name: FAILING_FOREIGN_KEY_CHECK.into(),
            value: None,
        })
}

/// The recipe SQLite's documentation gives, in dbrev's files.
const RECIPE: &str = "put `run_in_transaction = false` in metadata.toml and write: PRAGMA foreign_keys = OFF; BEGIN; CREATE TABLE new_t (...); INSERT INTO new_t SELECT ... FROM t; DROP TABLE t; ALTER TABLE new_t RENAME TO t; SELECT CASE WHEN EXISTS (SELECT 1 FROM pragma_foreign_key_check('t')) THEN json('foreign key violation') END; COMMIT; PRAGMA foreign_keys = ON;";

/// Runs SL001–SL002 on one file.
pub fn check(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    rebuilds_with_foreign_keys(ctx, hits);
    newer_alter_forms(ctx, hits);
}

/// SL001: rebuilds that run with foreign keys enforced, or with nothing to fail the
/// upgrade when a reference no longer holds.
fn rebuilds_with_foreign_keys(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    for rebuild in rebuilds(ctx) {
        let table = &rebuild.table;
        let mut enforced = true;
        for (i, fact) in ctx.facts() {
            if i >= rebuild.drop {
                break;
            }
            if let Fact::Pragma { name, value } = fact {
                if name == "foreign_keys" {
                    enforced = !matches!(value.as_deref(), Some("off" | "0" | "false" | "no"));
                }
            }
        }
        // `pragma_foreign_key_check` in a query can fail the upgrade; the PRAGMA only lists.
        let checks = |failing: bool| {
            let wanted = if failing {
                FAILING_FOREIGN_KEY_CHECK
            } else {
                "foreign_key_check"
            };
            ctx.facts().any(|(i, f)| {
                i > rebuild.rename && matches!(f, Fact::Pragma { name, .. } if name == wanted)
            })
        };
        let problem = if ctx.transactional() {
            Some(format!(
                "rebuilding {table} drops it inside a transaction, where PRAGMA foreign_keys cannot be turned off (diesel's runner turns foreign keys on): DROP TABLE {table} deletes every row first, which fires ON DELETE CASCADE / SET NULL in the tables that reference {table}"
            ))
        } else if enforced {
            Some(format!(
                "rebuilding {table} drops it with no PRAGMA foreign_keys = OFF before it: DROP TABLE {table} deletes every row first, which fires ON DELETE CASCADE / SET NULL in the tables that reference {table}"
            ))
        } else if !checks(true) {
            Some(format!(
                "rebuilding {table} with foreign keys off, and nothing fails the upgrade if a reference no longer holds afterwards{}",
                if checks(false) {
                    " (PRAGMA foreign_key_check lists violations but does not fail)"
                } else {
                    ""
                }
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            hits.push(
                Hit::new("SL001", rebuild.drop, message)
                    .table(table)
                    .effect("every row is copied")
                    .safe(RECIPE),
            );
        }
    }
}

/// SL002: `ALTER TABLE` forms that older SQLite versions lack.
fn newer_alter_forms(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    for (i, fact) in ctx.facts() {
        let (what, version) = match fact {
            Fact::DropColumn { .. } => ("ALTER TABLE ... DROP COLUMN", "3.35.0 (2021-03)"),
            Fact::RenameColumn {
                restates: false, ..
            } => ("ALTER TABLE ... RENAME COLUMN", "3.25.0 (2018-09)"),
            _ => continue,
        };
        let mut hit = Hit::new(
            "SL002",
            i,
            format!(
                "{what} needs SQLite {version}; an app that links an older SQLite (a system library on an older distribution) fails on it"
            ),
        )
        .safe(format!(
            "the table-rebuild recipe ({RECIPE}), or `-- dbrev:allow SL002 <reason>` when every SQLite that runs this revision is {version} or newer (the bundled libsqlite3-sys is)"
        ));
        if let Some(table) = fact.table() {
            hit = hit.table(table);
        }
        hits.push(hit);
    }
}
