//! The rule catalog (stable ids, default severities, one-line titles; `docs/lint.md` has a
//! page per rule) and what every rule sees of a revision file: its statements and facts,
//! which tables the same file created, the revision's transaction mode, and the history's
//! catalog before each statement. Each backend's module (`postgres`, `mysql`, `sqlite`)
//! holds its rules and how its SQL reads where the shared readers need help; this module
//! dispatches to the revision's backend ([`check`], [`grammar`]).

mod all;
pub(super) mod mysql;
pub(super) mod postgres;
pub(super) mod sqlite;

use std::cell::OnceCell;
use std::collections::HashSet;

use super::Severity;
use super::catalog::Catalog;
use super::facts::{Fact, Relation};
use super::parse::Parsed;
use crate::backend::Backend;
use crate::cluster::Hazards;
use crate::script::Revision;
use sqlparser::dialect::Dialect as ParserDialect;

/// A lint rule: a stable id, the backend it concerns (`None`: all), its default severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id (`PG001`).
    pub id: &'static str,
    /// The backend whose revisions it checks; `None` for every backend.
    pub backend: Option<Backend>,
    /// Its severity unless `[lint]` says otherwise.
    pub severity: Severity,
    /// What it finds, in a few words.
    pub title: &'static str,
}

const fn rule(
    id: &'static str,
    backend: Option<Backend>,
    severity: Severity,
    title: &'static str,
) -> Rule {
    Rule {
        id,
        backend,
        severity,
        title,
    }
}

const PG: Option<Backend> = Some(Backend::Postgres);
const MY: Option<Backend> = Some(Backend::Mysql);
const SL: Option<Backend> = Some(Backend::Sqlite);

/// Every rule, in the order `docs/lint.md` documents them.
pub const RULES: &[Rule] = &[
    rule(
        "PG001",
        PG,
        Severity::Error,
        "CREATE INDEX without CONCURRENTLY on an existing table",
    ),
    rule(
        "PG002",
        PG,
        Severity::Error,
        "CONCURRENTLY inside a transactional revision",
    ),
    rule(
        "PG003",
        PG,
        Severity::Error,
        "foreign key or check added without NOT VALID and a later VALIDATE",
    ),
    rule(
        "PG004",
        PG,
        Severity::Error,
        "SET NOT NULL without a validated CHECK (column IS NOT NULL)",
    ),
    rule(
        "PG005",
        PG,
        Severity::Error,
        "ALTER COLUMN TYPE that rewrites the table",
    ),
    rule(
        "PG006",
        PG,
        Severity::Error,
        "ADD COLUMN whose default rewrites the table",
    ),
    rule(
        "PG007",
        PG,
        Severity::Warning,
        "ACCESS EXCLUSIVE lock without lock_timeout",
    ),
    rule(
        "MY001",
        MY,
        Severity::Error,
        "ALTER TABLE that cannot run in place without blocking writes",
    ),
    rule("MY002", MY, Severity::Warning, "revision mixes DDL and DML"),
    rule(
        "MY003",
        MY,
        Severity::Warning,
        "CHANGE COLUMN used to rename a column",
    ),
    rule(
        "MY004",
        MY,
        Severity::Error,
        "LOCK TABLES or FLUSH ... WITH READ LOCK in a revision",
    ),
    rule(
        "GAL001",
        MY,
        Severity::Error,
        "table in an engine Galera does not replicate",
    ),
    rule(
        "GAL002",
        MY,
        Severity::Error,
        "LOCK TABLES, a lock function or FLUSH ... WITH READ LOCK on a Galera node",
    ),
    rule(
        "GAL003",
        MY,
        Severity::Warning,
        "table without a primary key on a Galera node",
    ),
    rule(
        "GAL004",
        MY,
        Severity::Warning,
        "statement Galera does not replicate, or replicates as one huge write set",
    ),
    rule(
        "SL001",
        SL,
        Severity::Error,
        "table rebuild with foreign keys enforced",
    ),
    rule(
        "SL002",
        SL,
        Severity::Warning,
        "ALTER TABLE form that older SQLite versions lack",
    ),
    rule(
        "ALL001",
        None,
        Severity::Error,
        "DROP TABLE or DROP COLUMN loses data",
    ),
    rule(
        "ALL002",
        None,
        Severity::Warning,
        "rename of a table or column the running app reads",
    ),
    rule(
        "ALL003",
        None,
        Severity::Error,
        "DELETE without WHERE, or TRUNCATE",
    ),
    rule(
        "ALL004",
        None,
        Severity::Error,
        "NOT NULL column added without a default",
    ),
    rule("ALL005", None, Severity::Warning, "UPDATE without WHERE"),
    rule(
        "LINT000",
        None,
        Severity::Info,
        "statement lint could not fully read",
    ),
    rule(
        "LINT001",
        None,
        Severity::Warning,
        "dbrev:allow without a reason",
    ),
    rule(
        "LINT002",
        None,
        Severity::Warning,
        "dbrev:allow naming an unknown rule",
    ),
    rule(
        "LINT003",
        None,
        Severity::Info,
        "dbrev:allow that suppresses nothing",
    ),
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// One finding as a rule reports it, before suppression and sizing.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The rule id.
    pub rule: &'static str,
    /// The statement's index in the file.
    pub statement: usize,
    /// The table concerned (sized when a connection is there).
    pub table: Option<Relation>,
    /// What is wrong.
    pub message: String,
    /// The safe form.
    pub safe: Option<String>,
    /// What the table's size means for this finding ("writes wait for the whole build").
    pub effect: Option<&'static str>,
    /// A severity other than the rule's (a finding lint cannot be sure of is a warning).
    pub severity: Option<Severity>,
}

impl Hit {
    fn new(rule: &'static str, statement: usize, message: impl Into<String>) -> Hit {
        Hit {
            rule,
            statement,
            table: None,
            message: message.into(),
            safe: None,
            effect: None,
            severity: None,
        }
    }

    fn table(mut self, table: &Relation) -> Hit {
        self.table = Some(table.clone());
        self
    }

    fn safe(mut self, safe: impl Into<String>) -> Hit {
        self.safe = Some(safe.into());
        self
    }

    fn effect(mut self, effect: &'static str) -> Hit {
        self.effect = Some(effect);
        self
    }

    /// A severity other than the rule's, when there is one.
    fn severity(mut self, severity: Option<Severity>) -> Hit {
        self.severity = severity;
        self
    }
}

/// What up.sql did, for linting the matching down.sql (which reverts it).
#[derive(Debug, Clone, Default)]
pub struct Reverted {
    /// Tables up.sql creates.
    pub tables: HashSet<String>,
    /// (table, column) pairs up.sql adds.
    pub columns: HashSet<(String, String)>,
    /// Renames up.sql makes, as (table, old, new) with an empty table for table renames.
    pub renames: HashSet<(String, String, String)>,
}

impl Reverted {
    /// What a parsed up.sql creates, adds and renames.
    pub fn of(statements: &[Parsed]) -> Reverted {
        let mut reverted = Reverted::default();
        let mut created: Vec<(String, Vec<String>)> = Vec::new();
        for fact in statements.iter().flat_map(|s| &s.facts) {
            match fact {
                Fact::CreateTable { table, columns, .. } => {
                    reverted.tables.insert(table.key());
                    created.push((
                        table.key(),
                        columns.iter().map(|c| c.name.to_lowercase()).collect(),
                    ));
                }
                Fact::AddColumn { table, column } => {
                    reverted
                        .columns
                        .insert((table.key(), column.name.to_lowercase()));
                }
                Fact::RenameTable { from, to } => {
                    reverted
                        .renames
                        .insert((String::new(), from.key(), to.to_lowercase()));
                    // A rebuild: the staged table's columns are what up.sql leaves on
                    // `to` (the ones it added among them).
                    if let Some((_, columns)) = created.iter().find(|(t, _)| *t == from.key()) {
                        for column in columns {
                            reverted.columns.insert((to.to_lowercase(), column.clone()));
                        }
                    }
                }
                Fact::RenameColumn {
                    table, from, to, ..
                } => {
                    reverted
                        .renames
                        .insert((table.key(), from.to_lowercase(), to.to_lowercase()));
                }
                _ => {}
            }
        }
        reverted
    }
}

/// The cluster a revision will run on, when lint knows it does (a Galera node): the
/// rules for such clusters run, with what the live database says of its tables.
#[derive(Debug, Clone)]
pub struct ClusterTarget {
    /// The kind of cluster, for messages (`Galera`).
    pub name: &'static str,
    /// The engine whose rows it replicates (`InnoDB`).
    pub replicated_engine: &'static str,
    /// The live database's tables it does not replicate or replicates badly (empty
    /// without a connection).
    pub hazards: Hazards,
}

/// What the rules see of one revision file.
pub struct FileContext<'a> {
    /// The backend whose rules run.
    pub backend: Backend,
    /// The revision.
    pub revision: &'a Revision,
    /// The file's statements.
    pub statements: &'a [Parsed],
    /// For down.sql: what up.sql did (down.sql dropping it is the revert, not data loss).
    pub reverted: Option<&'a Reverted>,
    /// Whether `session_sql` in dbrev.toml sets `lock_timeout`.
    pub session_lock_timeout: bool,
    /// The history's catalog before this file, computed when a rule first asks.
    pub history: &'a dyn Fn() -> Catalog,
    /// The cluster the revision runs on, when it runs on one.
    pub cluster: Option<&'a ClusterTarget>,
    base: OnceCell<Catalog>,
}

impl<'a> FileContext<'a> {
    /// A context for one file.
    pub fn new(
        backend: Backend,
        revision: &'a Revision,
        statements: &'a [Parsed],
        reverted: Option<&'a Reverted>,
        session_lock_timeout: bool,
        history: &'a dyn Fn() -> Catalog,
    ) -> Self {
        FileContext {
            backend,
            revision,
            statements,
            reverted,
            session_lock_timeout,
            history,
            cluster: None,
            base: OnceCell::new(),
        }
    }

    /// The same context for a revision that runs on a cluster node.
    pub fn on_cluster(mut self, cluster: Option<&'a ClusterTarget>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Whether the revision runs in a transaction (diesel's `metadata.toml`).
    fn transactional(&self) -> bool {
        self.revision.run_in_transaction
    }

    /// Every fact with the index of its statement.
    fn facts(&self) -> impl Iterator<Item = (usize, &'a Fact)> + 'a {
        self.statements
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.facts.iter().map(move |f| (i, f)))
    }

    /// Whether an earlier statement of this file created the table (it holds only what
    /// this revision put there, and nobody else can be using it).
    fn is_new(&self, before: usize, table: &Relation) -> bool {
        let key = table.key();
        self.statements[..before]
            .iter()
            .flat_map(|s| &s.facts)
            .any(|f| matches!(f, Fact::CreateTable { table, .. } if table.key() == key))
    }

    /// In down.sql: whether up.sql created the table (only the version being reverted
    /// uses it).
    fn reverts_table(&self, table: &Relation) -> bool {
        self.reverted
            .is_some_and(|r| r.tables.contains(&table.key()))
    }

    /// In down.sql: whether up.sql created the table or added the column (table key,
    /// column as written), so dropping it reverts up.sql.
    fn reverts_column(&self, table: &str, column: &str) -> bool {
        self.reverted.is_some_and(|r| {
            r.tables.contains(table)
                || r.columns
                    .contains(&(table.to_owned(), column.to_lowercase()))
        })
    }

    /// In down.sql: whether up.sql renamed `to` to `from` in `table` (a table key, empty for
    /// a table rename), so renaming it back reverts up.sql.
    fn reverts_rename(&self, table: &str, from: &str, to: &str) -> bool {
        self.reverted.is_some_and(|r| {
            r.renames
                .contains(&(table.to_owned(), to.to_lowercase(), from.to_lowercase()))
        })
    }

    /// The catalog just before statement `at` runs.
    fn catalog_at(&self, at: usize) -> Catalog {
        let mut catalog = self.base.get_or_init(|| (self.history)()).clone();
        for fact in self.statements[..at].iter().flat_map(|s| &s.facts) {
            catalog.apply(fact);
        }
        catalog
    }

    /// The line of a statement.
    fn line(&self, statement: usize) -> usize {
        self.statements[statement].line
    }
}

/// One table rebuilt by the recipe SQLite needs (and people use elsewhere too): a staged
/// table created, the rows copied into it, the old table dropped, the staged one renamed.
pub struct Rebuild {
    /// The rebuilt table (as `DROP TABLE` names it).
    pub table: Relation,
    /// The statement creating the staged table.
    pub create: usize,
    /// The `DROP TABLE` of the old table.
    pub drop: usize,
    /// The `ALTER TABLE ... RENAME` of the staged table.
    pub rename: usize,
    /// The copy's select list, as written.
    pub selected: String,
}

impl Rebuild {
    /// Whether the copy reads the old column (`*`, or the name as a word in the select list).
    pub fn copies(&self, column: &str) -> bool {
        let selected = self.selected.to_lowercase();
        let column = column.to_lowercase();
        selected.trim() == "*"
            || selected
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .any(|word| word == column)
    }
}

/// The rebuilds in a file.
fn rebuilds(ctx: &FileContext<'_>) -> Vec<Rebuild> {
    let statement_has =
        |i: usize, test: &dyn Fn(&Fact) -> bool| ctx.statements[i].facts.iter().any(test);
    let mut out = Vec::new();
    for (rename, fact) in ctx.facts() {
        let Fact::RenameTable { from: staged, to } = fact else {
            continue;
        };
        let old = to.to_lowercase();
        let created =
            |f: &Fact| matches!(f, Fact::CreateTable { table, .. } if table.key() == staged.key());
        let Some(create) = (0..rename).rev().find(|&i| statement_has(i, &created)) else {
            continue;
        };
        let Some((drop, table)) = (create..rename).find_map(|i| {
            ctx.statements[i].facts.iter().find_map(|f| match f {
                Fact::DropTable { table } if table.key() == old => Some((i, table.clone())),
                _ => None,
            })
        }) else {
            continue;
        };
        let copy = (create..drop).find_map(|i| {
            ctx.statements[i].facts.iter().find_map(|f| match f {
                Fact::Insert {
                    table,
                    source: Some(source),
                    selected,
                    ..
                } if table.key() == staged.key() && source.key() == old => {
                    Some(selected.clone().unwrap_or_default())
                }
                _ => None,
            })
        });
        let Some(selected) = copy else {
            continue;
        };
        out.push(Rebuild {
            table,
            create,
            drop,
            rename,
            selected,
        });
    }
    out
}

/// The grammar `sqlparser` reads a backend's SQL with.
pub fn grammar(backend: Backend) -> Box<dyn ParserDialect> {
    match backend {
        Backend::Postgres => postgres::grammar(),
        Backend::Mysql => mysql::grammar(),
        Backend::Sqlite => sqlite::grammar(),
    }
}

/// The facts a backend's own words add to a statement, whichever reader read the rest
/// (MySQL: the `ENGINE=` of a table, explicit locks, statements that stay on their node).
pub fn statement_facts(backend: Backend, sql: &str) -> Vec<Fact> {
    match backend {
        Backend::Mysql => mysql::statement_facts(sql),
        Backend::Postgres | Backend::Sqlite => Vec::new(),
    }
}

/// Runs the rules of the context's backend and the rules for all backends.
pub fn check(ctx: &FileContext<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    match ctx.backend {
        Backend::Postgres => postgres::check(ctx, &mut hits),
        Backend::Mysql => mysql::check(ctx, &mut hits),
        Backend::Sqlite => sqlite::check(ctx, &mut hits),
    }
    all::check(ctx, &mut hits);
    for (i, statement) in ctx.statements.iter().enumerate() {
        if let Some(reason) = &statement.unparsed {
            hits.push(Hit::new(
                "LINT000",
                i,
                format!("lint could not fully read this statement ({reason}); no rule checked what it missed"),
            ).safe("read it yourself, or write it in a form the parser knows; `-- dbrev:allow LINT000 <reason>` silences this"));
        }
    }
    hits.sort_by_key(|h| h.statement);
    hits
}

/// The statement's text on one line, shortened, for messages.
fn excerpt(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(117).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let docs = include_str!("../../../../docs/lint.md");
        for (i, rule) in RULES.iter().enumerate() {
            assert!(
                RULES[..i].iter().all(|r| r.id != rule.id),
                "{} twice",
                rule.id
            );
            assert!(
                docs.contains(&format!("### {}", rule.id)),
                "docs/lint.md lacks a section for {}",
                rule.id
            );
        }
    }
}
