//! Which tables `check` and autogenerate compare: dbrev.toml's `include` / `exclude`, the
//! tables dbrev itself keeps, and the tables `diesel print-schema` never writes.
//!
//! An entry of `include` or `exclude` is either
//! - a table name, matched exactly (the bare name, or `schema.name` on PostgreSQL), or
//! - a regex between slashes, `/^audit_/`, matched the way diesel's `[print_schema] filter`
//!   matches its `only_tables` / `except_tables` entries: Rust `regex` syntax, searched
//!   anywhere in the table's bare SQL name (`/users/` matches `users_archive` too; anchor
//!   with `^…$` for a whole name).
//!
//! With `include` set, only tables matching one of its entries are compared; `exclude`
//! then leaves out those matching one of its entries. `cargo dbinit` writes diesel's
//! filter as these entries when it adopts a diesel project.

use regex::Regex;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::TableName;

/// One `include` / `exclude` entry.
#[derive(Debug, Clone)]
pub enum TablePattern {
    /// A table name, compared exactly.
    Name(String),
    /// `/regex/`: searched in the bare table name, as diesel does.
    Regex(Regex),
}

impl TablePattern {
    /// Reads one entry: `/…/` is a regex, anything else a table name.
    pub fn parse(entry: &str) -> std::result::Result<TablePattern, regex::Error> {
        match entry
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
        {
            Some(pattern) => Regex::new(pattern).map(TablePattern::Regex),
            None => Ok(TablePattern::Name(entry.to_owned())),
        }
    }

    /// The entry that matches exactly the tables diesel's filter regex `regex` matches.
    pub fn from_diesel_regex(regex: &str) -> String {
        format!("/{regex}/")
    }

    /// Whether the pattern matches the table.
    pub fn matches(&self, table: &TableName) -> bool {
        match self {
            TablePattern::Name(name) => *name == table.name || *name == table.to_string(),
            TablePattern::Regex(regex) => regex.is_match(&table.name),
        }
    }
}

/// The tables a comparison looks at.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    include: Vec<TablePattern>,
    exclude: Vec<TablePattern>,
    /// dbrev's own tables (the version table, the companion table): never compared.
    own_tables: Vec<String>,
}

impl TableFilter {
    /// The filter dbrev.toml describes; a regex that does not compile is an error naming
    /// the file and the entry.
    pub fn from_config(config: &Config) -> Result<TableFilter> {
        let parse = |key: &str, entries: &[String]| -> Result<Vec<TablePattern>> {
            entries
                .iter()
                .map(|entry| {
                    TablePattern::parse(entry).map_err(|e| {
                        let reason = e.to_string();
                        let reason = reason.lines().last().unwrap_or_default().trim();
                        Error::Config(format!(
                            "{}: `{key}` entry `{entry}` is not a valid regex: {reason}",
                            config.location.file.display()
                        ))
                    })
                })
                .collect()
        };
        Ok(TableFilter {
            include: parse("include", &config.include)?,
            exclude: parse("exclude", &config.exclude)?,
            own_tables: vec![config.version_table.clone(), config.revisions_table.clone()],
        })
    }

    /// A filter from plain lists (library callers and tests).
    pub fn new(include: Vec<TablePattern>, exclude: Vec<TablePattern>) -> TableFilter {
        TableFilter {
            include,
            exclude,
            own_tables: Vec::new(),
        }
    }

    /// Whether the table takes part in the comparison.
    pub fn keeps(&self, table: &TableName) -> bool {
        !self.own_tables.contains(&table.name)
            && (self.include.is_empty() || self.include.iter().any(|p| p.matches(table)))
            && !self.exclude.iter().any(|p| p.matches(table))
    }
}

/// Whether `diesel print-schema` leaves the table out whatever its configuration: names
/// starting with `__` (diesel's own `__diesel_schema_migrations` and the like). Such a
/// table in the database is compared only when the model declares it.
pub fn print_schema_skips(table: &TableName) -> bool {
    table.name.starts_with("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(filter: &TableFilter, name: &str) -> bool {
        filter.keeps(&TableName::new(name))
    }

    #[test]
    fn names_are_exact_and_regexes_search_like_diesel() {
        let parse = |e: &str| TablePattern::parse(e).unwrap();
        let filter = TableFilter::new(vec![], vec![parse("users"), parse("/^tmp_/")]);
        assert!(!keeps(&filter, "users"));
        assert!(keeps(&filter, "users_archive"));
        assert!(!keeps(&filter, "tmp_x"));
        assert!(keeps(&filter, "x_tmp_"));
        // diesel's `only_tables = ["users"]` matches anywhere in the name.
        let filter = TableFilter::new(
            vec![parse(&TablePattern::from_diesel_regex("users"))],
            vec![],
        );
        assert!(keeps(&filter, "users") && keeps(&filter, "users_archive"));
        assert!(!keeps(&filter, "posts"));
        // An exact name may carry regex characters; a qualified name matches too.
        let filter = TableFilter::new(vec![parse("a.b"), parse("audit.log")], vec![]);
        assert!(keeps(&filter, "a.b") && !keeps(&filter, "axb"));
        assert!(filter.keeps(&TableName {
            schema: Some("audit".into()),
            name: "log".into()
        }));
        assert!(TablePattern::parse("/(/").is_err());
    }
}
