//! PostgreSQL in lint: how its SQL reads where the shared readers need help (the parser's
//! grammar, the `ALTER TABLE` clauses the parser does not read yet, which functions are
//! volatile), and its rules (PG001–PG007): locks that block reads or writes for the length
//! of a scan or a rewrite, and statements that cannot run where the revision puts them.

use std::collections::HashMap;

use sqlparser::dialect::{Dialect as ParserDialect, PostgreSqlDialect};

use super::{FileContext, Hit, excerpt};
use crate::lint::Severity;
use crate::lint::facts::{ColumnType, Fact, Relation};
use crate::lint::tokens::{Token, keyword_at};

/// The grammar `sqlparser` reads PostgreSQL's SQL with.
pub fn grammar() -> Box<dyn ParserDialect> {
    Box::new(PostgreSqlDialect {})
}

/// Reads one `ALTER TABLE` clause the parser does not, if only PostgreSQL writes it:
/// `ALTER CONSTRAINT name [NOT] DEFERRABLE ...`, and PostgreSQL 18's `ADD CONSTRAINT name
/// NOT NULL column [NOT VALID]`, which scans the table like `SET NOT NULL` unless NOT
/// VALID. Whether it was one.
pub fn table_clause(clause: &[Token], table: &Relation, facts: &mut Vec<Fact>) -> bool {
    let word = |n: usize| keyword_at(clause, n);
    match word(0) {
        "ALTER" if word(1) == "CONSTRAINT" => true,
        "ADD" if word(1) == "CONSTRAINT" && word(3) == "NOT" && word(4) == "NULL" => {
            let not_valid = clause
                .windows(2)
                .any(|w| w[0].is("NOT") && w[1].is("VALID"));
            if let (Some(column), false) = (clause.get(5), not_valid) {
                facts.push(Fact::SetNotNull {
                    table: table.clone(),
                    column: column.text.clone(),
                });
            }
            true
        }
        _ => false,
    }
}

/// Runs PG001–PG007 on one file.
pub fn check(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    // Constraints added NOT VALID in this file: name → statement.
    let mut not_valid_added: HashMap<String, usize> = HashMap::new();
    for (i, fact) in ctx.facts() {
        let hit = index_build(ctx, i, fact)
            .or_else(|| concurrently_in_transaction(ctx, i, fact))
            .or_else(|| constraint_scan(ctx, i, fact, &mut not_valid_added))
            .or_else(|| not_null_scan(ctx, i, fact))
            .or_else(|| type_rewrite(ctx, i, fact))
            .or_else(|| add_column_rewrite(ctx, i, fact));
        hits.extend(hit);
    }
    lock_timeout(ctx, hits);
}

/// PG001: an index built on an existing table while writes (or reads too) wait.
fn index_build(ctx: &FileContext<'_>, i: usize, fact: &Fact) -> Option<Hit> {
    match fact {
        Fact::CreateIndex {
            table,
            concurrently: false,
        } if !ctx.is_new(i, table) => Some(
            Hit::new(
                "PG001",
                i,
                format!(
                    "CREATE INDEX on {table} without CONCURRENTLY blocks every write to {table} until the index is built"
                ),
            )
            .table(table)
            .effect("writes wait for the whole build")
            .safe(format!(
                "{}; -- in a revision of its own whose metadata.toml says run_in_transaction = false",
                concurrently(&ctx.statements[i].sql)
            )),
        ),
        Fact::AddUnique { table }
        | Fact::ChangePrimaryKey {
            table,
            drop_only: false,
        } if !ctx.is_new(i, table) => Some(
            Hit::new(
                "PG001",
                i,
                format!(
                    "`{}` builds its index on {table} under an ACCESS EXCLUSIVE lock: reads and writes wait until it is built",
                    excerpt(&ctx.statements[i].sql)
                ),
            )
            .table(table)
            .effect("reads and writes wait for the whole build")
            .safe(format!(
                "CREATE UNIQUE INDEX CONCURRENTLY name ON {table} (...); in a revision of its own whose metadata.toml says run_in_transaction = false, then ALTER TABLE {table} ADD CONSTRAINT name {} USING INDEX name;",
                if matches!(fact, Fact::AddUnique { .. }) { "UNIQUE" } else { "PRIMARY KEY" }
            )),
        ),
        _ => None,
    }
}

/// PG002: `CONCURRENTLY` in a revision that runs in a transaction.
fn concurrently_in_transaction(ctx: &FileContext<'_>, i: usize, fact: &Fact) -> Option<Hit> {
    match fact {
        Fact::CreateIndex {
            concurrently: true, ..
        }
        | Fact::DropIndex { concurrently: true }
        | Fact::Reindex { concurrently: true }
            if ctx.transactional() =>
        {
            Some(
                Hit::new(
                    "PG002",
                    i,
                    "CONCURRENTLY cannot run inside a transaction block, and this revision runs in one: the upgrade fails here",
                )
                .safe(format!(
                    "put `run_in_transaction = false` in {}/metadata.toml and keep this statement in a revision of its own",
                    ctx.revision.dir.display()
                )),
            )
        }
        _ => None,
    }
}

/// PG003: a foreign key or check added to an existing table without NOT VALID (one added
/// NOT VALID is recorded in `not_valid_added`), or validated in the transaction that added
/// it.
fn constraint_scan(
    ctx: &FileContext<'_>,
    i: usize,
    fact: &Fact,
    not_valid_added: &mut HashMap<String, usize>,
) -> Option<Hit> {
    let (table, name, what, effect) = match fact {
        Fact::AddForeignKey {
            table,
            name,
            not_valid,
        } if !ctx.is_new(i, table) && *not_valid => {
            not_valid_added.extend(name.as_ref().map(|name| (name.to_lowercase(), i)));
            return None;
        }
        Fact::AddCheck {
            table,
            name,
            not_valid: true,
            ..
        } if !ctx.is_new(i, table) => {
            not_valid_added.extend(name.as_ref().map(|name| (name.to_lowercase(), i)));
            return None;
        }
        Fact::AddForeignKey { table, name, .. } if !ctx.is_new(i, table) => (
            table,
            name,
            format!(
                "adding a foreign key to {table} checks every existing row while it holds a SHARE ROW EXCLUSIVE lock on {table} and the referenced table"
            ),
            "writes to both tables wait for the whole scan",
        ),
        Fact::AddCheck { table, name, .. } if !ctx.is_new(i, table) => (
            table,
            name,
            format!(
                "adding a CHECK to {table} checks every existing row under an ACCESS EXCLUSIVE lock"
            ),
            "reads and writes wait for the whole scan",
        ),
        Fact::ValidateConstraint { table, name } if ctx.transactional() => {
            return validated_in_its_transaction(ctx, i, table, name, not_valid_added);
        }
        _ => return None,
    };
    Some(
        Hit::new("PG003", i, what)
            .table(table)
            .effect(effect)
            .safe(not_valid_then_validate(
                &ctx.statements[i].sql,
                table,
                name.as_deref(),
            )),
    )
}

/// PG003: `VALIDATE CONSTRAINT` in the transaction of its `ADD .. NOT VALID`.
fn validated_in_its_transaction(
    ctx: &FileContext<'_>,
    i: usize,
    table: &Relation,
    name: &str,
    not_valid_added: &HashMap<String, usize>,
) -> Option<Hit> {
    let &added = not_valid_added.get(&name.to_lowercase())?;
    Some(
        Hit::new(
            "PG003",
            i,
            format!(
                "VALIDATE CONSTRAINT {name} runs in the same transaction as its ADD ... NOT VALID (line {}), which still holds its lock: the scan blocks {table} as if NOT VALID were not there",
                ctx.line(added)
            ),
        )
        .table(table)
        .effect("the lock is held for the whole scan")
        .safe(format!(
            "move `ALTER TABLE {table} VALIDATE CONSTRAINT {name};` into a later revision"
        )),
    )
}

/// PG004: `SET NOT NULL` on an existing table that no validated check proves.
fn not_null_scan(ctx: &FileContext<'_>, i: usize, fact: &Fact) -> Option<Hit> {
    let Fact::SetNotNull { table, column } = fact else {
        return None;
    };
    if ctx.is_new(i, table) || ctx.catalog_at(i).proves_not_null(&table.key(), column) {
        return None;
    }
    let check = format!("{}_{column}_not_null", table.name);
    Some(
        Hit::new(
            "PG004",
            i,
            format!(
                "SET NOT NULL on {table}.{column} scans every row under an ACCESS EXCLUSIVE lock: no validated CHECK ({column} IS NOT NULL) proves it first"
            ),
        )
        .table(table)
        .effect("reads and writes wait for the whole scan")
        .safe(format!(
            "ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID; then in a later revision ALTER TABLE {table} VALIDATE CONSTRAINT {check}; then ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL; ALTER TABLE {table} DROP CONSTRAINT {check};"
        )),
    )
}

/// PG005: a column type change that rewrites an existing table (or may: the history does
/// not say the old type).
fn type_rewrite(ctx: &FileContext<'_>, i: usize, fact: &Fact) -> Option<Hit> {
    let Fact::SetType {
        table,
        column,
        to,
        using,
    } = fact
    else {
        return None;
    };
    if ctx.is_new(i, table) {
        return None;
    }
    let catalog = ctx.catalog_at(i);
    let (why, effect, severity) = if *using {
        (
            "USING converts every value: the table is rewritten".to_owned(),
            "reads and writes wait for the whole rewrite",
            None,
        )
    } else {
        match catalog.column_type(&table.key(), column) {
            None => (
                format!(
                    "the current type of {table}.{column} is not in the revision history, so lint cannot tell whether {} is a widening that skips the rewrite",
                    to.ty
                ),
                "a rewrite would block reads and writes for the whole copy",
                Some(Severity::Warning),
            ),
            Some(old) => match type_change(old, &to.ty) {
                TypeChange::Free => return None,
                TypeChange::Rewrite => (
                    format!(
                        "{old} to {} rewrites {table} and its indexes under an ACCESS EXCLUSIVE lock",
                        to.ty
                    ),
                    "this rewrite holds a lock for the whole copy",
                    None,
                ),
            },
        }
    };
    Some(
        Hit::new(
            "PG005",
            i,
            format!("ALTER COLUMN {column} TYPE {}: {why}", to.ty),
        )
        .table(table)
        .effect(effect)
        .safe(format!(
            "expand and contract: add a new column of type {}, fill it in batches (and keep it in step with a trigger), switch the app to it, then drop {column} in a later revision; widening varchar(n) to varchar(m > n) or text needs no rewrite",
            to.ty
        ))
        .severity(severity),
    )
}

/// PG006: a column added to an existing table with a value computed for every row.
fn add_column_rewrite(ctx: &FileContext<'_>, i: usize, fact: &Fact) -> Option<Hit> {
    let Fact::AddColumn { table, column } = fact else {
        return None;
    };
    if ctx.is_new(i, table) {
        return None;
    }
    let name = &column.name;
    let (why, severity) = match (
        &column.generated,
        column.default.as_deref().map(default_kind),
    ) {
        (Some(generated), _) => (format!("{generated} fills every existing row"), None),
        (None, Some(DefaultKind::Volatile(function))) => (
            format!(
                "DEFAULT {}: {function}() is volatile, so every existing row gets its own value",
                column.default.as_deref().unwrap_or_default()
            ),
            None,
        ),
        (None, Some(DefaultKind::Unknown(function))) => (
            format!(
                "DEFAULT {}: lint does not know whether {function}() is volatile (check pg_proc.provolatile); if it is, every existing row gets its own value",
                column.default.as_deref().unwrap_or_default()
            ),
            Some(Severity::Warning),
        ),
        _ => return None,
    };
    Some(
        Hit::new(
            "PG006",
            i,
            format!(
                "ADD COLUMN {name} {} {table} under an ACCESS EXCLUSIVE lock: {why}",
                if severity.is_some() { "may rewrite" } else { "rewrites" }
            ),
        )
        .table(table)
        .effect("this rewrite holds a lock for the whole copy")
        .safe(format!(
            "ALTER TABLE {table} ADD COLUMN {name} {}; ALTER TABLE {table} ALTER COLUMN {name} SET DEFAULT {}; then fill existing rows in batches",
            column.ty,
            column.default.as_deref().unwrap_or("...")
        ))
        .severity(severity),
    )
}

/// PG007: the first ACCESS EXCLUSIVE lock on an existing table with no `lock_timeout` set
/// before it (in the file or in `session_sql`).
fn lock_timeout(ctx: &FileContext<'_>, hits: &mut Vec<Hit>) {
    if ctx.session_lock_timeout {
        return;
    }
    let mut timeout = false;
    for (i, fact) in ctx.facts() {
        let locked = match fact {
            Fact::SetLockTimeout { enabled } => {
                timeout = *enabled;
                continue;
            }
            Fact::AlterTable {
                table,
                access_exclusive: true,
                ..
            }
            | Fact::DropTable { table }
            | Fact::Truncate { table }
            | Fact::LockTable {
                table,
                access_exclusive: true,
            } if !ctx.is_new(i, table) && !ctx.reverts_table(table) => Some(table.to_string()),
            Fact::DropIndex {
                concurrently: false,
            } => None,
            _ => continue,
        };
        if timeout {
            continue;
        }
        let what = locked.as_deref().unwrap_or("the index's table");
        let mut hit = Hit::new(
            "PG007",
            i,
            format!(
                "`{}` takes an ACCESS EXCLUSIVE lock on {what} with no lock_timeout set: while it waits behind a long query, every other query on {what} queues behind it",
                excerpt(&ctx.statements[i].sql)
            ),
        )
        .safe("SET lock_timeout = '5s'; at the top of the file (and retry the upgrade if it times out), or `session_sql = \"SET lock_timeout = '5s'\"` in dbrev.toml");
        if let Some(table) = fact.table() {
            hit = hit.table(table);
        }
        hits.push(hit);
        return;
    }
}

/// The functions that return a new value for every row (PostgreSQL `provolatile = 'v'`).
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "gen_random_bytes",
    "random_normal",
];

/// Functions and type names that are not volatile (PostgreSQL evaluates them once when a
/// column is added), and the words a default expression's text can hold around them.
const STABLE_FUNCTIONS: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "current_user",
    "session_user",
    "current_schema",
    "current_database",
    "lower",
    "upper",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "concat",
    "to_char",
    "to_timestamp",
    "to_date",
    "make_date",
    "make_timestamp",
    "make_interval",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "array",
    "row",
    "cast",
    "varchar",
    "character",
    "char",
    "numeric",
    "decimal",
    "timestamp",
    "timestamptz",
    "time",
    "interval",
    "bit",
    "varbit",
    "float",
];

/// How a default expression fills existing rows.
enum DefaultKind {
    /// Once for all rows: no rewrite.
    Constant,
    /// Per row: the table is rewritten (the function named).
    Volatile(String),
    /// A function lint does not know (named).
    Unknown(String),
}

/// Classifies a default expression by the functions it calls.
fn default_kind(expr: &str) -> DefaultKind {
    let lower = expr.to_ascii_lowercase();
    let mut unknown = None;
    let bytes = lower.as_bytes();
    for (open, _) in lower.match_indices('(') {
        let mut start = open;
        while start > 0 && {
            let b = bytes[start - 1];
            b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
        } {
            start -= 1;
        }
        let name = lower[start..open].rsplit('.').next().unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        if VOLATILE_FUNCTIONS.contains(&name) {
            return DefaultKind::Volatile(name.to_owned());
        }
        if !STABLE_FUNCTIONS.contains(&name) && unknown.is_none() {
            unknown = Some(name.to_owned());
        }
    }
    match unknown {
        Some(name) => DefaultKind::Unknown(name),
        None => DefaultKind::Constant,
    }
}

/// What changing a column from one type to another costs on PostgreSQL.
#[derive(Debug, PartialEq, Eq)]
enum TypeChange {
    /// Catalog only (binary-coercible widening).
    Free,
    /// The table and its indexes are rewritten.
    Rewrite,
}

fn type_change(old: &ColumnType, new: &ColumnType) -> TypeChange {
    let (o, n) = (old.name.as_str(), new.name.as_str());
    if o == n && old.args == new.args {
        return TypeChange::Free;
    }
    let widens = |old: &[u64], new: &[u64]| match (old.first(), new.first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => b >= a,
    };
    match (o, n) {
        // A shorter limit runs the length coercion on every value: a rewrite.
        ("varchar", "varchar") | ("varbit", "varbit") if widens(&old.args, &new.args) => {
            TypeChange::Free
        }
        ("varchar", "text") | ("cidr", "inet") => TypeChange::Free,
        ("text", "varchar") if new.args.is_empty() => TypeChange::Free,
        ("numeric", "numeric") => {
            // Same scale and no less precision (or no limit at all) is free.
            let same_scale =
                old.args.get(1).copied().unwrap_or(0) == new.args.get(1).copied().unwrap_or(0);
            if new.args.is_empty() || (same_scale && widens(&old.args, &new.args)) {
                TypeChange::Free
            } else {
                TypeChange::Rewrite
            }
        }
        _ => TypeChange::Rewrite,
    }
}

/// `CREATE [UNIQUE] INDEX` with `CONCURRENTLY` after `INDEX`.
fn concurrently(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    match upper.find("INDEX") {
        Some(at) => format!("{} CONCURRENTLY{}", &sql[..at + 5], &sql[at + 5..]),
        None => sql.to_owned(),
    }
}

/// The two-step form of a constraint added to an existing table.
fn not_valid_then_validate(sql: &str, table: &Relation, name: Option<&str>) -> String {
    let statement = excerpt(sql);
    match name {
        Some(name) => format!(
            "{statement} NOT VALID; then in a later revision ALTER TABLE {table} VALIDATE CONSTRAINT {name};"
        ),
        None => format!(
            "name the constraint (ADD CONSTRAINT name ...), add it with NOT VALID, and VALIDATE CONSTRAINT name in a later revision: {statement} NOT VALID;"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> ColumnType {
        ColumnType::parse(text)
    }

    #[test]
    fn type_changes() {
        assert_eq!(
            type_change(&t("varchar(20)"), &t("varchar(40)")),
            TypeChange::Free
        );
        assert_eq!(type_change(&t("varchar(20)"), &t("text")), TypeChange::Free);
        assert_eq!(
            type_change(&t("varchar(40)"), &t("varchar(20)")),
            TypeChange::Rewrite
        );
        assert_eq!(
            type_change(&t("text"), &t("varchar(20)")),
            TypeChange::Rewrite
        );
        assert_eq!(
            type_change(&t("integer"), &t("bigint")),
            TypeChange::Rewrite
        );
        assert_eq!(
            type_change(&t("numeric(10,2)"), &t("numeric(12,2)")),
            TypeChange::Free
        );
        assert_eq!(
            type_change(&t("numeric(10,2)"), &t("numeric(12,3)")),
            TypeChange::Rewrite
        );
        assert_eq!(type_change(&t("int4"), &t("integer")), TypeChange::Free);
    }

    #[test]
    fn defaults_by_volatility() {
        assert!(
            matches!(default_kind("gen_random_uuid()"), DefaultKind::Volatile(f) if f == "gen_random_uuid")
        );
        assert!(matches!(
            default_kind("nextval('s'::regclass)"),
            DefaultKind::Volatile(_)
        ));
        assert!(matches!(default_kind("now()"), DefaultKind::Constant));
        assert!(matches!(
            default_kind("'x'::varchar(10)"),
            DefaultKind::Constant
        ));
        assert!(matches!(default_kind("0"), DefaultKind::Constant));
        assert!(matches!(default_kind("my_func(1)"), DefaultKind::Unknown(f) if f == "my_func"));
    }

    #[test]
    fn concurrently_goes_after_index() {
        assert_eq!(
            concurrently("CREATE UNIQUE INDEX i ON t (x)"),
            "CREATE UNIQUE INDEX CONCURRENTLY i ON t (x)"
        );
    }
}
