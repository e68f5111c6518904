//! The one rule that keeps a restore inside the database it was told about: statements
//! that switch, create, drop or alter whole databases (`USE`, `CREATE DATABASE`,
//! `DROP DATABASE`, `ALTER DATABASE`, psql's `\connect`/`\c`, SQLite's `ATTACH`) are never
//! run. A file that names one database has them skipped (said once); a file that names
//! several (`--all-databases`, pg_dumpall) is refused. MySQL's nameless `ALTER DATABASE
//! COLLATE …` changes only the database restored into, and runs.

use crate::backend::Backend;
use crate::statements::{Statement, StatementKind};

/// A statement about a whole database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Switch {
    /// The database it names (`None`: the current one, as `\c` alone).
    pub database: Option<String>,
    /// The statement, shortened for messages.
    pub text: String,
    /// Its line in the file.
    pub line: usize,
    /// Whether it can reach another database file whatever name it gives (SQLite's
    /// `ATTACH`): never skipped, always refused.
    pub attach: bool,
}

/// Whether `statement` is about a whole database rather than objects inside the current one.
pub(crate) fn switch(backend: Backend, statement: &Statement) -> Option<Switch> {
    let text = statement.sql.as_str();
    let database = match (&statement.kind, backend) {
        (StatementKind::PsqlMeta, _) => psql_connect(text)?,
        (StatementKind::Sql, Backend::Mysql) => mysql_statement(text)?,
        (StatementKind::Sql, Backend::Postgres) => postgres_statement(text)?,
        (StatementKind::Sql, Backend::Sqlite) => {
            let words = words(text, 2);
            return match words.first().map(String::as_str) {
                Some("ATTACH") | Some("DETACH") => Some(Switch {
                    database: None,
                    text: shorten(text),
                    line: statement.line,
                    attach: true,
                }),
                _ => None,
            };
        }
        _ => return None,
    };
    Some(Switch {
        database,
        text: shorten(text),
        line: statement.line,
        attach: false,
    })
}

/// The first `n` words, upper-cased (cheap: most statements are told apart by their first
/// letter).
fn words(text: &str, n: usize) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_ascii_uppercase)
        .collect()
}

fn shorten(text: &str) -> String {
    let one_line = crate::error::one_line(text);
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// A name as written: backquoted, double-quoted or bare.
fn unquote(word: &str) -> String {
    let word = word.trim_end_matches(';');
    for quote in ['`', '"', '\''] {
        if let Some(inner) = word.strip_prefix(quote).and_then(|w| w.strip_suffix(quote)) {
            let doubled = format!("{quote}{quote}");
            return inner.replace(&doubled, &quote.to_string());
        }
    }
    word.to_owned()
}

/// The name after the leading keywords (`IF [NOT] EXISTS` and versioned comments skipped).
fn name_after(text: &str, keywords: usize) -> Option<String> {
    let cleaned = strip_versioned_comments(text);
    cleaned
        .split_whitespace()
        .skip(keywords)
        .find(|w| !matches!(w.to_ascii_uppercase().as_str(), "IF" | "NOT" | "EXISTS"))
        .map(unquote)
}

/// `/*!40000 DROP DATABASE x*/` → `DROP DATABASE x`; `/*!32312 IF NOT EXISTS*/` → the
/// words inside. MySQL runs what such comments hold.
fn strip_versioned_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("*/") else {
            rest = "";
            break;
        };
        let inner = &after[..end];
        let inner = inner
            .strip_prefix("M!")
            .or_else(|| inner.strip_prefix('!'))
            .map(|v| v.trim_start_matches(|c: char| c.is_ascii_digit()));
        if let Some(inner) = inner {
            out.push(' ');
            out.push_str(inner);
            out.push(' ');
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn mysql_statement(text: &str) -> Option<Option<String>> {
    let first = text.as_bytes().first()?.to_ascii_uppercase();
    if !matches!(first, b'U' | b'C' | b'D' | b'A' | b'/') {
        return None;
    }
    let cleaned = strip_versioned_comments(text);
    let w = words(&cleaned, 2);
    match (w.first()?.as_str(), w.get(1).map(String::as_str)) {
        ("USE", _) => Some(name_after(text, 1)),
        // `ALTER DATABASE COLLATE …` without a name is about the current database (the
        // one restored into): a dump sets the default collation a routine was created
        // under that way, and it runs.
        ("ALTER", Some("DATABASE" | "SCHEMA"))
            if words(&cleaned, 3).get(2).is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "CHARACTER" | "CHARSET" | "COLLATE" | "DEFAULT" | "COMMENT"
                ) || w.starts_with("CHARSET=")
                    || w.starts_with("COLLATE=")
            }) =>
        {
            None
        }
        ("CREATE" | "DROP" | "ALTER", Some("DATABASE" | "SCHEMA")) => Some(name_after(text, 2)),
        _ => None,
    }
}

fn postgres_statement(text: &str) -> Option<Option<String>> {
    let first = text.as_bytes().first()?.to_ascii_uppercase();
    if !matches!(first, b'C' | b'D' | b'A') {
        return None;
    }
    let w = words(text, 3);
    match (
        w.first()?.as_str(),
        w.get(1).map(String::as_str),
        w.get(2).map(String::as_str),
    ) {
        ("CREATE" | "DROP" | "ALTER", Some("DATABASE"), _) => Some(name_after(text, 2)),
        ("COMMENT", Some("ON"), Some("DATABASE")) => Some(name_after(text, 3)),
        _ => None,
    }
}

/// psql's `\connect DB` / `\c DB` (also `\connect -reuse-previous=on "dbname='DB'"`).
fn psql_connect(text: &str) -> Option<Option<String>> {
    let mut parts = text.split_whitespace();
    let command = parts.next()?;
    if command != "\\connect" && command != "\\c" {
        return None;
    }
    let argument = parts.find(|p| !p.starts_with('-'));
    Some(argument.and_then(|a| {
        let a = unquote(a);
        match a.split_once("dbname=") {
            Some((_, rest)) => Some(unquote(rest.split_whitespace().next().unwrap_or(rest))),
            None if a.contains('=') => None,
            None => Some(a),
        }
    }))
}

/// The database-level statements of one file, and the decision they lead to.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    /// Every such statement, in file order.
    pub switches: Vec<Switch>,
}

impl Scope {
    /// Records one; returns an error message when the file turns out to name a second
    /// database (or attaches one).
    pub(crate) fn record(&mut self, switch: Switch) -> Result<(), String> {
        self.switches.push(switch);
        self.check()
    }

    /// `Err` with every database-level line when the file names more than one database.
    pub(crate) fn check(&self) -> Result<(), String> {
        if let Some(attach) = self.switches.iter().find(|s| s.attach) {
            return Err(format!(
                "line {}: `{}` would write into another database file",
                attach.line, attach.text
            ));
        }
        let mut names: Vec<&str> = self
            .switches
            .iter()
            .filter_map(|s| s.database.as_deref())
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.len() <= 1 {
            return Ok(());
        }
        let lines: Vec<String> = self
            .switches
            .iter()
            .filter(|s| s.database.is_some())
            .take(8)
            .map(|s| format!("`{}` at line {}", s.text, s.line))
            .collect();
        Err(format!(
            "it holds {} databases ({}{}); restore loads one database into the one it is given — dump that database alone",
            names.len(),
            lines.join(", "),
            if self.switches.len() > 8 { ", …" } else { "" }
        ))
    }

    /// The first statement naming a database (the one said once when skipping).
    pub(crate) fn first(&self) -> Option<&Switch> {
        self.switches.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(text: &str, line: usize) -> Statement {
        Statement {
            sql: text.into(),
            line,
            kind: StatementKind::Sql,
        }
    }

    fn meta(text: &str) -> Statement {
        Statement {
            sql: text.into(),
            line: 1,
            kind: StatementKind::PsqlMeta,
        }
    }

    fn name(backend: Backend, statement: Statement) -> Option<Option<String>> {
        switch(backend, &statement).map(|s| s.database)
    }

    #[test]
    fn mysqldump_database_statements_are_recognised() {
        let my = |t: &str| name(Backend::Mysql, sql(t, 1));
        assert_eq!(my("USE `shop`"), Some(Some("shop".into())));
        assert_eq!(my("use shop"), Some(Some("shop".into())));
        assert_eq!(
            my(
                "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `sh``op` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"
            ),
            Some(Some("sh`op".into()))
        );
        assert_eq!(
            my("/*!40000 DROP DATABASE IF EXISTS `shop`*/"),
            Some(Some("shop".into()))
        );
        assert_eq!(my("DROP SCHEMA shop"), Some(Some("shop".into())));
        // The current database's default collation, as a dump sets it around a routine.
        assert_eq!(my("ALTER DATABASE COLLATE latin1_swedish_ci"), None);
        assert_eq!(my("alter schema default character set utf8mb4"), None);
        assert_eq!(
            my("ALTER DATABASE `shop` CHARACTER SET latin1"),
            Some(Some("shop".into()))
        );
        assert_eq!(my("DROP TABLE IF EXISTS `t`"), None);
        assert_eq!(my("/*!40101 SET NAMES utf8mb4 */"), None);
        assert_eq!(my("INSERT INTO `use` VALUES (1)"), None);
        assert_eq!(my("UPDATE t SET x = 1"), None);
    }

    #[test]
    fn pg_dump_database_statements_are_recognised() {
        let pg = |t: &str| name(Backend::Postgres, sql(t, 1));
        assert_eq!(
            pg("CREATE DATABASE zz_shop WITH TEMPLATE = template0 ENCODING = 'UTF8'"),
            Some(Some("zz_shop".into()))
        );
        assert_eq!(
            pg("DROP DATABASE IF EXISTS zz_shop"),
            Some(Some("zz_shop".into()))
        );
        assert_eq!(
            pg("ALTER DATABASE \"Shop\" SET x = 1"),
            Some(Some("Shop".into()))
        );
        assert_eq!(
            pg("COMMENT ON DATABASE shop IS 'x'"),
            Some(Some("shop".into()))
        );
        assert_eq!(pg("CREATE TABLE database (x int)"), None);
        assert_eq!(
            name(Backend::Postgres, meta("\\connect zz_shop")),
            Some(Some("zz_shop".into()))
        );
        assert_eq!(
            name(
                Backend::Postgres,
                meta("\\connect -reuse-previous=on \"dbname='shop'\"")
            ),
            Some(Some("shop".into()))
        );
        assert_eq!(name(Backend::Postgres, meta("\\c")), Some(None));
        assert_eq!(name(Backend::Postgres, meta("\\restrict abc")), None);
    }

    #[test]
    fn one_database_is_skipped_several_are_refused() {
        let mut scope = Scope::default();
        let use_ =
            |db: &str, line| switch(Backend::Mysql, &sql(&format!("USE `{db}`"), line)).unwrap();
        assert!(scope.record(use_("shop", 20)).is_ok());
        assert!(scope.record(use_("shop", 30)).is_ok());
        let err = scope.record(use_("mysql", 900)).unwrap_err();
        assert!(err.contains("line 20") && err.contains("line 900"), "{err}");
        let attach = switch(Backend::Sqlite, &sql("ATTACH DATABASE 'x.db' AS x", 3)).unwrap();
        assert!(Scope::default().record(attach).is_err());
    }
}
