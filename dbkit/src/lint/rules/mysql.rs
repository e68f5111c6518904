//! MySQL/MariaDB in lint: how its SQL reads where the shared readers need help (the
//! parser's grammar, `AUTO_INCREMENT`, the `ALTER TABLE` clauses only MySQL writes, the
//! words a cluster cares about: `ENGINE=`, `LOCK TABLES`, `GET_LOCK`, `SET GLOBAL`…), and
//! its rules: MY001–MY004 (`ALTER TABLE` that copies the table with writes blocked,
//! revisions that cannot be rolled back half-way, `CHANGE` used to rename, `LOCK TABLES`
//! that leaves the journal unwritable) and, where the
//! revision runs on a Galera node, GAL001–GAL004 (what Galera does not replicate, locks that
//! hold on one node, tables without a primary key, statements that stay on their node).

use sqlparser::dialect::{Dialect as ParserDialect, MySqlDialect};
use sqlparser::tokenizer::Token as ParserToken;

use super::{ClusterTarget, FileContext, Hit, excerpt};
use crate::lint::Severity;
use crate::lint::facts::{ColumnType, Fact, Kind, OnlineClauses, Relation};
use crate::lint::tokens::{Token, keyword_at, relation_at, tokenize};

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

/// Runs MY001–MY004 on one file.
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
    hits.extend(ctx.facts().filter_map(|(i, fact)| confined(i, fact)));
    if let Some(cluster) = ctx.cluster {
        galera(ctx, cluster, hits);
    }
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

/// MY004: `LOCK TABLES` / `FLUSH TABLES ... WITH READ LOCK`, after which the session may
/// write only the locked tables, so the journal write before the next statement fails.
fn confined(i: usize, fact: &Fact) -> Option<Hit> {
    let Fact::ExplicitLock {
        how,
        confines_session: true,
    } = fact
    else {
        return None;
    };
    Some(
        Hit::new(
            "MY004",
            i,
            format!(
                "{how} leaves the session able to write only the tables it locks: dbrev journals each statement of a MySQL revision in its own table, so the next statement's journal write fails and the revision stops half applied"
            ),
        )
        .safe("leave it out: dbrev's migration lock already keeps other runs away; to keep the app's writes out, make the change in one statement (`ALTER TABLE ..., LOCK=EXCLUSIVE`) or one transaction"),
    )
}

// ---- Galera: the words a cluster cares about, and GAL001–GAL004.

/// The facts of a statement that matter where it runs on a cluster node, from its words:
/// the engine `CREATE TABLE` / `ALTER TABLE` gives a table, explicit locks (`LOCK TABLES`,
/// `FLUSH TABLES ... WITH READ LOCK`, `GET_LOCK()`), and statements whose effect stays on
/// the node (`SET GLOBAL`, `FLUSH`, `XA`, `wsrep_on` off, `wsrep_OSU_method = RSU`).
pub fn statement_facts(sql: &str) -> Vec<Fact> {
    let tokens = tokenize(sql);
    let mut facts = Vec::new();
    if let Some((table, engine)) = table_engine(&tokens) {
        facts.push(Fact::TableEngine { table, engine });
    }
    if tokens
        .windows(2)
        .any(|w| w[0].is("GET_LOCK") && w[1].is("("))
    {
        facts.push(Fact::ExplicitLock {
            how: "GET_LOCK()".into(),
            confines_session: false,
        });
    }
    let node_local = |what: &str| Fact::NodeLocal { what: what.into() };
    match keyword_at(&tokens, 0) {
        "LOCK" if matches!(keyword_at(&tokens, 1), "TABLE" | "TABLES") => {
            facts.push(Fact::ExplicitLock {
                how: "LOCK TABLES".into(),
                confines_session: true,
            });
        }
        "FLUSH" if tokens.iter().any(|t| t.is("LOCK") || t.is("EXPORT")) => {
            facts.push(Fact::ExplicitLock {
                how: "FLUSH TABLES ... WITH READ LOCK".into(),
                confines_session: true,
            });
        }
        "FLUSH" => facts.push(node_local("FLUSH")),
        "XA" => facts.push(node_local("an XA transaction")),
        "SET" => facts.extend(node_setting(&tokens).map(node_local)),
        _ => {}
    }
    facts
}

/// The table and engine of `CREATE TABLE t (...) ENGINE=x` or `ALTER TABLE t ENGINE=x`
/// (not of a temporary table, which stays in its session anyway).
fn table_engine(tokens: &[Token]) -> Option<(Relation, String)> {
    if !matches!(keyword_at(tokens, 0), "CREATE" | "ALTER") {
        return None;
    }
    let at = tokens.iter().position(|t| t.is("TABLE"))?;
    let plain = tokens[1..at]
        .iter()
        .all(|t| matches!(t.keyword.as_str(), "OR" | "REPLACE" | "ONLINE" | "IGNORE"));
    if !plain {
        return None;
    }
    let name_at = match (keyword_at(tokens, at + 1), keyword_at(tokens, at + 2)) {
        ("IF", "NOT") => at + 4,
        ("IF", _) => at + 3,
        _ => at + 1,
    };
    let (table, mut i) = relation_at(tokens, name_at)?;
    let mut depth = 0usize;
    while let Some(token) = tokens.get(i) {
        match token.keyword.as_str() {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "ENGINE" if depth == 0 => {
                let value = if keyword_at(tokens, i + 1) == "=" {
                    i + 2
                } else {
                    i + 1
                };
                return tokens.get(value).map(|t| (table, t.text.clone()));
            }
            // The table's options end where a `CREATE TABLE ... SELECT` query starts.
            "SELECT" if depth == 0 => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// What a `SET` changes that stays on the node: a global variable, or the session's
/// replication (`wsrep_on` off, DDL in rolling schema upgrade mode).
fn node_setting(tokens: &[Token]) -> Option<&'static str> {
    let value_of = |name: &str| {
        let at = tokens.iter().position(|t| t.is(name))?;
        let mut value = at + 1;
        while matches!(keyword_at(tokens, value), "=" | ":") {
            value += 1;
        }
        tokens.get(value).map(|t| t.text.to_ascii_uppercase())
    };
    if tokens
        .iter()
        .any(|t| matches!(t.keyword.as_str(), "GLOBAL" | "PERSIST" | "PERSIST_ONLY"))
    {
        Some("SET GLOBAL (it changes the node that runs it)")
    } else if value_of("WSREP_ON").is_some_and(|v| matches!(v.as_str(), "0" | "OFF" | "FALSE")) {
        Some("SET wsrep_on = OFF (the session's writes are not replicated)")
    } else if value_of("WSREP_OSU_METHOD").is_some_and(|v| v == "RSU") {
        Some("SET wsrep_OSU_method = RSU (DDL then runs on this node only)")
    } else {
        None
    }
}

/// GAL001–GAL004 on a revision that runs on a Galera node: at most one finding per rule
/// and statement.
fn galera(ctx: &FileContext<'_>, cluster: &ClusterTarget, hits: &mut Vec<Hit>) {
    for (i, statement) in ctx.statements.iter().enumerate() {
        let creates = statement
            .facts
            .iter()
            .any(|f| matches!(f, Fact::CreateTable { .. }));
        let mut found: Vec<Hit> = Vec::new();
        for fact in &statement.facts {
            for hit in galera_hits(ctx, cluster, i, fact, creates) {
                if !found.iter().any(|h| h.rule == hit.rule) {
                    found.push(hit);
                }
            }
        }
        hits.extend(found);
    }
}

const INNODB_SAFE: &str = "use ENGINE=InnoDB (the only engine whose rows Galera replicates), or leave ENGINE out where InnoDB is the default";

/// The Galera findings of one fact of statement `i` (`creates`: the statement creates a
/// table).
fn galera_hits(
    ctx: &FileContext<'_>,
    cluster: &ClusterTarget,
    i: usize,
    fact: &Fact,
    creates: bool,
) -> Vec<Hit> {
    let name = cluster.name;
    match fact {
        Fact::TableEngine { table, engine }
            if !engine.eq_ignore_ascii_case(cluster.replicated_engine) =>
        {
            let what = if creates { "is created" } else { "becomes" };
            vec![Hit::new("GAL001", i, format!(
                "{table} {what} ENGINE={engine}: {name} replicates only {}'s rows, so what is written to {table} stays on the node that wrote it (the table itself exists on every node)",
                cluster.replicated_engine
            )).table(table).safe(INNODB_SAFE)]
        }
        Fact::CreateTable { table, primary_key, from_query, .. } => {
            let mut out = Vec::new();
            if !primary_key {
                out.push(Hit::new("GAL003", i, format!(
                    "{table} has no primary key: {name} cannot apply deletes from it reliably on the other nodes, and its rows may come in another order on each node"
                )).table(table).safe("declare a PRIMARY KEY (an AUTO_INCREMENT id column when nothing else identifies a row)"));
            }
            if *from_query {
                out.push(Hit::new("GAL004", i, format!(
                    "CREATE TABLE ... SELECT sends every copied row to the other nodes in one write set (bounded by wsrep_max_ws_rows and wsrep_max_ws_size), and early {name} releases did not replicate it at all"
                )).table(table).safe("create the table (with a primary key) in one statement, then fill it with INSERT ... SELECT, in batches for a big copy"));
            }
            out
        }
        Fact::Insert { table, .. } | Fact::Update { table, .. } | Fact::Delete { table, .. }
            if !ctx.is_new(i, table) =>
        {
            written_rows(ctx, cluster, i, table)
        }
        Fact::ExplicitLock { how, .. } => vec![Hit::new("GAL002", i, format!(
            "{how} locks on the node that runs it only: the other nodes go on writing, and {name} may abort the session that holds it"
        )).safe("leave it out: dbrev's migration lock already keeps other runs away (a row the cluster certifies); to keep the app's writes out, make the change in one statement or one transaction")],
        Fact::NodeLocal { what } => vec![Hit::new("GAL004", i, format!(
            "{what}: {name} does not replicate it, so the other nodes do not get it"
        )).safe("make the change on every node outside the migration (server configuration), or leave it out")],
        _ => Vec::new(),
    }
}

/// GAL001 and GAL003 for rows written to an existing table: its engine and primary key as
/// the revision history leaves them, else as the live database has them.
fn written_rows(
    ctx: &FileContext<'_>,
    cluster: &ClusterTarget,
    i: usize,
    table: &Relation,
) -> Vec<Hit> {
    let name = cluster.name;
    let key = table.key();
    let catalog = ctx.catalog_at(i);
    let mut out = Vec::new();
    let engine = catalog
        .engine(&key)
        .map(|e| (e.to_owned(), "the revision history gives it"))
        .or_else(|| {
            cluster
                .hazards
                .engines
                .get(&key)
                .map(|e| (e.clone(), "in the database"))
        });
    if let Some((engine, source)) = engine
        && !engine.eq_ignore_ascii_case(cluster.replicated_engine)
    {
        out.push(Hit::new("GAL001", i, format!(
            "{table} is {engine} ({source}): {name} does not replicate these rows, so the other nodes will not have them"
        )).table(table).safe(format!(
            "convert the table first, in an earlier revision: ALTER TABLE {table} ENGINE={}",
            cluster.replicated_engine
        )));
    }
    let keyless = match catalog.has_primary_key(&key) {
        Some(has) => (!has).then_some("the revision history leaves it without one"),
        None => cluster
            .hazards
            .keyless
            .contains(&key)
            .then_some("in the database"),
    };
    if let Some(source) = keyless {
        out.push(Hit::new("GAL003", i, format!(
            "{table} has no primary key ({source}): {name} applies these row changes on the other nodes by scanning the table for each row, and cannot apply deletes from it reliably"
        )).table(table).effect("every node scans the table for each changed row").safe(format!(
            "give {table} a primary key in an earlier revision"
        )));
    }
    out
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

    #[test]
    fn the_words_a_cluster_cares_about() {
        let engine = |sql: &str| {
            statement_facts(sql).into_iter().find_map(|f| match f {
                Fact::TableEngine { table, engine } => Some(format!("{table}={engine}")),
                _ => None,
            })
        };
        assert_eq!(
            engine("CREATE TABLE IF NOT EXISTS `c` (k INT, KEY (k)) ENGINE = MyISAM").as_deref(),
            Some("c=MyISAM")
        );
        assert_eq!(
            engine("ALTER TABLE app.c ENGINE=Aria").as_deref(),
            Some("app.c=Aria")
        );
        assert_eq!(
            engine("CREATE TEMPORARY TABLE t (k INT) ENGINE=MEMORY"),
            None
        );
        assert_eq!(engine("CREATE TABLE t (engine INT)"), None);
        assert_eq!(engine("CREATE TABLE t SELECT engine FROM x"), None);
        let what = |sql: &str| -> Vec<String> {
            statement_facts(sql)
                .into_iter()
                .filter_map(|f| match f {
                    Fact::ExplicitLock { how, .. } => Some(how),
                    Fact::NodeLocal { what } => Some(what),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(what("LOCK TABLES t WRITE"), ["LOCK TABLES"]);
        assert_eq!(what("SELECT GET_LOCK('x', 10)"), ["GET_LOCK()"]);
        assert_eq!(what("SELECT 'GET_LOCK(' AS s"), Vec::<String>::new());
        assert_eq!(
            what("FLUSH TABLES t WITH READ LOCK"),
            ["FLUSH TABLES ... WITH READ LOCK"]
        );
        assert_eq!(what("FLUSH PRIVILEGES"), ["FLUSH"]);
        assert_eq!(what("XA START 'x'"), ["an XA transaction"]);
        assert!(what("SET GLOBAL max_connections = 10")[0].starts_with("SET GLOBAL"));
        assert!(what("SET @@global.x = 1")[0].starts_with("SET GLOBAL"));
        assert!(what("SET SESSION wsrep_on = OFF")[0].starts_with("SET wsrep_on = OFF"));
        assert!(what("SET wsrep_OSU_method = 'RSU'")[0].contains("RSU"));
        assert!(what("SET wsrep_on = ON").is_empty());
        assert!(what("SET NAMES utf8mb4").is_empty());
    }
}
