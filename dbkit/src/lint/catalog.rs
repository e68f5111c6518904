//! What the revision history says about tables before a statement runs: their columns and
//! types, which `CHECK (column IS NOT NULL)` constraints are validated, whether they have
//! a primary key, and the engine a MySQL table was given. Built by
//! replaying the facts of a revision's ancestors, so rules can tell a widening from a
//! rewrite without a database.

use std::collections::HashMap;

use super::facts::{ColumnType, Fact};

/// One table as the history leaves it.
#[derive(Debug, Clone, Default)]
struct TableState {
    /// Columns in order: name and type.
    columns: Vec<(String, ColumnType)>,
    /// Check constraints by lower-case name: the column a `col IS NOT NULL` check proves,
    /// and whether it is validated.
    checks: HashMap<String, (Option<String>, bool)>,
    /// Whether it has a primary key.
    primary_key: bool,
    /// MySQL's engine, when a statement named one.
    engine: Option<String>,
}

impl TableState {
    fn column_mut(&mut self, name: &str) -> Option<&mut (String, ColumnType)> {
        self.columns
            .iter_mut()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))
    }

    /// Applies what one statement did to this table's columns and checks.
    fn apply(&mut self, fact: &Fact) {
        match fact {
            Fact::AddColumn { column, .. } => {
                self.columns.push((column.name.clone(), column.ty.clone()));
            }
            Fact::DropColumn { column, .. } => {
                self.columns
                    .retain(|(c, _)| !c.eq_ignore_ascii_case(column));
            }
            Fact::RenameColumn { from, to, .. } => {
                if let Some(entry) = self.column_mut(from) {
                    entry.0 = to.clone();
                }
            }
            Fact::SetType { column, to, .. } => {
                if let Some(entry) = self.column_mut(column) {
                    entry.1 = to.ty.clone();
                }
            }
            Fact::ValidateConstraint { name, .. } => {
                if let Some(check) = self.checks.get_mut(&name.to_lowercase()) {
                    check.1 = true;
                }
            }
            Fact::DropConstraint { name, .. } => {
                self.checks.remove(&name.to_lowercase());
            }
            Fact::ChangePrimaryKey { drop_only, .. } => self.primary_key = !drop_only,
            Fact::TableEngine { engine, .. } => self.engine = Some(engine.clone()),
            _ => {}
        }
    }
}

/// Tables by key (see [`super::facts::Relation::key`]).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: HashMap<String, TableState>,
    unnamed_checks: usize,
}

impl Catalog {
    /// Applies what one statement did: tables created, dropped and renamed here, checks
    /// added here (unnamed ones numbered), the rest by the table it changes.
    pub fn apply(&mut self, fact: &Fact) {
        match fact {
            Fact::CreateTable {
                table,
                columns,
                primary_key,
                ..
            } => {
                let columns = columns
                    .iter()
                    .map(|c| (c.name.clone(), c.ty.clone()))
                    .collect();
                let state = TableState {
                    columns,
                    primary_key: *primary_key,
                    ..TableState::default()
                };
                self.tables.insert(table.key(), state);
            }
            Fact::DropTable { table } => {
                self.tables.remove(&table.key());
            }
            Fact::RenameTable { from, to } => {
                if let Some(state) = self.tables.remove(&from.key()) {
                    self.tables.insert(to.to_lowercase(), state);
                }
            }
            Fact::AddCheck {
                table,
                name,
                not_valid,
                not_null_of,
            } => {
                let key = match name {
                    Some(name) => name.to_lowercase(),
                    None => {
                        self.unnamed_checks += 1;
                        format!(" unnamed {}", self.unnamed_checks)
                    }
                };
                if let Some(state) = self.tables.get_mut(&table.key()) {
                    state.checks.insert(key, (not_null_of.clone(), !not_valid));
                }
            }
            _ => {
                if let Some(state) = fact.table().and_then(|t| self.tables.get_mut(&t.key())) {
                    state.apply(fact);
                }
            }
        }
    }

    /// The type of a column, when the history declares it.
    pub fn column_type(&self, table: &str, column: &str) -> Option<&ColumnType> {
        self.tables
            .get(table)?
            .columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(column))
            .map(|(_, ty)| ty)
    }

    /// The columns of a table, when the history creates it.
    pub fn columns(&self, table: &str) -> Option<Vec<String>> {
        Some(
            self.tables
                .get(table)?
                .columns
                .iter()
                .map(|(c, _)| c.clone())
                .collect(),
        )
    }

    /// Whether the table has a primary key, when the history creates it.
    pub fn has_primary_key(&self, table: &str) -> Option<bool> {
        self.tables.get(table).map(|s| s.primary_key)
    }

    /// The engine a statement of the history gave the table (MySQL's `ENGINE=`).
    pub fn engine(&self, table: &str) -> Option<&str> {
        self.tables.get(table)?.engine.as_deref()
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` holds on the column.
    pub fn proves_not_null(&self, table: &str, column: &str) -> bool {
        self.tables.get(table).is_some_and(|s| {
            s.checks.values().any(|(of, validated)| {
                *validated
                    && of
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(column))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::lint::parse::parse_file;

    fn replay(sql: &str) -> Catalog {
        let mut catalog = Catalog::default();
        for statement in parse_file(sql, Backend::Postgres).unwrap() {
            for fact in &statement.facts {
                catalog.apply(fact);
            }
        }
        catalog
    }

    #[test]
    fn types_follow_renames_and_changes() {
        let c = replay(
            "CREATE TABLE Posts (id int, title varchar(20));\n\
             ALTER TABLE posts RENAME COLUMN title TO headline;\n\
             ALTER TABLE posts ALTER COLUMN headline TYPE varchar(40);\n\
             ALTER TABLE posts RENAME TO articles;",
        );
        assert_eq!(c.column_type("articles", "headline").unwrap().args, [40]);
        assert!(c.column_type("posts", "headline").is_none());
    }

    #[test]
    fn not_null_checks_count_once_validated() {
        let mut c = replay(
            "CREATE TABLE posts (id int, title text);\n\
             ALTER TABLE posts ADD CONSTRAINT title_nn CHECK (title IS NOT NULL) NOT VALID;",
        );
        assert!(!c.proves_not_null("posts", "title"));
        for statement in parse_file(
            "ALTER TABLE posts VALIDATE CONSTRAINT title_nn;",
            Backend::Postgres,
        )
        .unwrap()
        {
            for fact in &statement.facts {
                c.apply(fact);
            }
        }
        assert!(c.proves_not_null("posts", "title"));
    }
}
