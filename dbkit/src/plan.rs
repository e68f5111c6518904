//! The planner: changes → SQL for the configured dialect, each step with its reverse, so
//! down.sql is rendered from the same plan as up.sql. Runs without a connection. SQLite
//! changes that `ALTER TABLE` cannot make go through the table-rebuild recipe (new table,
//! copy rows, drop, rename, re-create indexes, foreign keys checked). Each new foreign
//! key gets its name once, chosen as PostgreSQL chooses it (`<table>_<columns>_fkey`,
//! cut to 63 bytes, numbered when taken), so no plan adds the same constraint name twice.

use std::collections::{BTreeMap, BTreeSet};

use crate::backend::Backend;
use crate::changes::{Change, Diff};
use crate::dialect::{Dialect, dialect_for};
use crate::migrate::FILL_MARKER;
use crate::model::{Column, ForeignKey, Schema, Table, TableName};

/// The longest identifier every backend takes: PostgreSQL's 63 bytes (MySQL's is 64).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// What the planner was asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// `--fill`: an `INSERT` placeholder for new tables the model links to.
    pub fill: bool,
}

/// One step: statements up, and the statements that undo them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// What the step is (a comment line in the files).
    pub title: String,
    /// Forward statements.
    pub up: Vec<String>,
    /// Reverse statements.
    pub down: Vec<String>,
}

/// The planned migration.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The steps, in up order.
    pub steps: Vec<Step>,
    /// Destructive changes (for the file header and the console).
    pub destructive: Vec<String>,
    /// Rename hints (`--rename` spelled out).
    pub rename_hints: Vec<String>,
}

impl Plan {
    /// The body of up.sql.
    pub fn up_sql(&self) -> String {
        let mut out = String::new();
        if !self.destructive.is_empty() {
            out.push_str("-- Destructive changes, review before upgrading:\n");
            for d in &self.destructive {
                out.push_str(&format!("--   {d}\n"));
            }
            out.push('\n');
        }
        for hint in &self.rename_hints {
            out.push_str(&format!(
                "-- WARNING: maybe a rename, which drop + add would lose the data of: regenerate with --rename {hint}\n"
            ));
        }
        if !self.rename_hints.is_empty() {
            out.push('\n');
        }
        for step in &self.steps {
            out.push_str(&render(&step.title, &step.up));
        }
        out.trim_end().to_owned()
    }

    /// The body of down.sql: the reverses, last step first.
    pub fn down_sql(&self) -> String {
        let mut out = String::new();
        for step in self.steps.iter().rev() {
            out.push_str(&render(&format!("undo: {}", step.title), &step.down));
        }
        out.trim_end().to_owned()
    }
}

fn render(title: &str, statements: &[String]) -> String {
    let mut out = format!("-- {title}\n");
    for s in statements {
        out.push_str(s);
        out.push_str(";\n");
    }
    out.push('\n');
    out
}

fn fill(what: &str) -> String {
    format!("{FILL_MARKER}: {what} */")
}

/// Plans `diff` (from `db` to `model`) for `backend`.
pub fn plan(
    db: &Schema,
    model: &Schema,
    diff: &Diff,
    backend: Backend,
    options: PlanOptions,
) -> Plan {
    let dialect = dialect_for(backend);
    let mut plan = Plan {
        rename_hints: diff.rename_hints.clone(),
        destructive: diff
            .changes
            .iter()
            .filter_map(Change::destructive)
            .collect(),
        ..Plan::default()
    };
    let primary_key_of = |name: &TableName| -> Vec<String> {
        model
            .tables
            .get(name)
            .or_else(|| db.tables.get(name))
            .map(|t| t.primary_key.clone())
            .unwrap_or_default()
    };
    let names = if dialect.rebuilds_tables() {
        BTreeMap::new()
    } else {
        foreign_key_names(db, diff)
    };
    let complete = |table: &TableName, key: &ForeignKey| {
        let mut key = key.clone();
        if key.ref_columns.is_empty() {
            key.ref_columns = primary_key_of(&key.ref_table);
        }
        if key.name.is_none() {
            key.name = names
                .get(&(table.clone(), key.columns.clone(), key.ref_table.clone()))
                .cloned();
        }
        key
    };
    // SQLite: the changes ALTER TABLE cannot make are grouped per table into one rebuild.
    let is_rename =
        |c: &Change| matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. });
    let mut rebuilds: BTreeMap<TableName, Vec<&Change>> = BTreeMap::new();
    if dialect.rebuilds_tables() {
        let tables: BTreeSet<&TableName> = diff
            .changes
            .iter()
            .filter(|c| needs_rebuild(c))
            .map(Change::table)
            .collect();
        for change in &diff.changes {
            if tables.contains(change.table()) && !is_rename(change) {
                rebuilds
                    .entry(change.table().clone())
                    .or_default()
                    .push(change);
            }
        }
    }
    let mut rebuilt = BTreeSet::new();
    let linked: BTreeSet<&TableName> = model
        .tables
        .values()
        .flat_map(|t| t.foreign_keys.iter().map(|fk| &fk.ref_table))
        .collect();
    let mut deferred_fks = Vec::new();
    for change in &diff.changes {
        let table = change.table().clone();
        if let Some(changes) = rebuilds.get(&table).filter(|_| !is_rename(change)) {
            if rebuilt.insert(table.clone()) {
                if let Some(original) = db.tables.get(&table).or_else(|| {
                    diff.changes.iter().find_map(|c| match c {
                        Change::RenameTable { from, to } if *to == table => db.tables.get(from),
                        _ => None,
                    })
                }) {
                    let mut original = Table {
                        name: table.clone(),
                        ..original.clone()
                    };
                    // Column renames have run by now (they come first).
                    for change in &diff.changes {
                        if let Change::RenameColumn { table: t, from, to } = change {
                            if *t == table {
                                rename_in(&mut original, from, to);
                            }
                        }
                    }
                    let target = apply(&original, changes, &complete);
                    plan.steps.push(Step {
                        title: format!(
                            "rebuild table {table}: {}",
                            changes
                                .iter()
                                .map(|c| c.describe())
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                        up: rebuild(dialect, &original, &target, false),
                        down: rebuild(dialect, &target, &original, true),
                    });
                }
            }
            continue;
        }
        let step = match change {
            Change::CreateTable(t) => {
                let mut t = t.clone();
                t.foreign_keys = t
                    .foreign_keys
                    .iter()
                    .map(|k| complete(&t.name, k))
                    .collect();
                mark_auto_increment(&mut t);
                let mut up = vec![dialect.create_table(&t, false)];
                if !dialect.rebuilds_tables() {
                    for key in &t.foreign_keys {
                        deferred_fks.push(Step {
                            title: format!(
                                "foreign key {}({}) -> {}",
                                t.name,
                                key.columns.join(", "),
                                key.ref_table
                            ),
                            up: vec![dialect.add_foreign_key(&t.name, key)],
                            down: vec![dialect.drop_foreign_key(&t.name, key)],
                        });
                    }
                }
                if options.fill && linked.contains(&t.name) {
                    let columns: Vec<String> = t
                        .columns
                        .iter()
                        .map(|c| dialect.quote_ident(&c.name))
                        .collect();
                    up.push(format!(
                        "INSERT INTO {} ({}) VALUES ({})",
                        dialect.quote_table(&t.name),
                        columns.join(", "),
                        fill(&format!(
                            "the first rows of {}, which other tables reference",
                            t.name
                        ))
                    ));
                }
                Step {
                    title: change.describe(),
                    up,
                    down: vec![dialect.drop_table(&t.name)],
                }
            }
            Change::DropTable(t) => {
                let mut up = Vec::new();
                let mut down = vec![dialect.create_table(t, false)];
                for index in t
                    .indexes
                    .iter()
                    .filter(|i| !i.constraint && !i.name.starts_with("sqlite_autoindex"))
                {
                    down.push(dialect.create_index(&t.name, index));
                }
                up.push(dialect.drop_table(&t.name));
                if !dialect.rebuilds_tables() {
                    for key in &t.foreign_keys {
                        down.push(dialect.add_foreign_key(&t.name, &complete(&t.name, key)));
                    }
                }
                Step {
                    title: change.describe(),
                    up,
                    down,
                }
            }
            Change::RenameTable { from, to } => Step {
                title: change.describe(),
                up: vec![dialect.rename_table(from, to)],
                down: vec![dialect.rename_table(to, from)],
            },
            Change::RenameColumn { table, from, to } => Step {
                title: change.describe(),
                up: vec![dialect.rename_column(table, from, to)],
                down: vec![dialect.rename_column(table, to, from)],
            },
            Change::AddColumn { table, column } => Step {
                title: change.describe(),
                up: add_column(dialect, table, column),
                down: vec![dialect.drop_column(table, &column.name)],
            },
            Change::DropColumn { table, column } => Step {
                title: change.describe(),
                up: vec![dialect.drop_column(table, &column.name)],
                down: add_column(dialect, table, column),
            },
            Change::AlterColumn { table, from, to } => {
                let mut up = Vec::new();
                if from.nullable && !to.nullable {
                    up.push(dialect.fill_column(
                        table,
                        &to.name,
                        &format!(
                            "COALESCE({}, {})",
                            dialect.quote_ident(&to.name),
                            fill(&format!("a value for {table}.{} where it is NULL", to.name))
                        ),
                    ));
                }
                up.extend(dialect.alter_column(table, from, to));
                Step {
                    title: change.describe(),
                    up,
                    down: dialect.alter_column(table, to, from),
                }
            }
            Change::SetPrimaryKey { table, from, to } => Step {
                title: change.describe(),
                up: dialect.set_primary_key(table, &from.0, from.1.as_deref(), to),
                down: dialect.set_primary_key(table, to, None, &from.0),
            },
            Change::AddForeignKey { table, key } => {
                let key = complete(table, key);
                Step {
                    title: change.describe(),
                    up: vec![dialect.add_foreign_key(table, &key)],
                    down: vec![dialect.drop_foreign_key(table, &key)],
                }
            }
            Change::DropForeignKey { table, key } => {
                let key = complete(table, key);
                Step {
                    title: change.describe(),
                    up: vec![dialect.drop_foreign_key(table, &key)],
                    down: vec![dialect.add_foreign_key(table, &key)],
                }
            }
        };
        // Foreign keys of new tables go after every new table exists (cycles included).
        if !matches!(change, Change::CreateTable(_)) && !deferred_fks.is_empty() {
            plan.steps.append(&mut deferred_fks);
        }
        plan.steps.push(step);
    }
    plan.steps.append(&mut deferred_fks);
    plan
}

/// A name for each foreign key the plan adds without one: PostgreSQL's own choice for
/// `REFERENCES` (`<table>_<columns>_fkey`, the longer part cut until it fits 63 bytes,
/// `fkey1`, `fkey2`… while the name is taken), unique among the constraint and index names
/// of its schema (MySQL wants foreign key names unique in the database).
fn foreign_key_names(
    db: &Schema,
    diff: &Diff,
) -> BTreeMap<(TableName, Vec<String>, TableName), String> {
    let mut taken: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
    for table in db.tables.values() {
        let names = taken.entry(table.name.schema.clone()).or_default();
        names.extend(table.foreign_keys.iter().filter_map(|k| k.name.clone()));
        names.extend(table.primary_key_name.clone());
        names.extend(table.indexes.iter().map(|i| i.name.clone()));
    }
    let mut wanted: Vec<(&TableName, &ForeignKey)> = Vec::new();
    for change in &diff.changes {
        match change {
            Change::CreateTable(t) => wanted.extend(t.foreign_keys.iter().map(|k| (&t.name, k))),
            Change::AddForeignKey { table, key } => wanted.push((table, key)),
            _ => {}
        }
    }
    let mut names = BTreeMap::new();
    for (table, key) in wanted.into_iter().filter(|(_, k)| k.name.is_none()) {
        let id = (table.clone(), key.columns.clone(), key.ref_table.clone());
        if names.contains_key(&id) {
            continue;
        }
        let used = taken.entry(table.schema.clone()).or_default();
        let columns = key.columns.join("_");
        let name = (0..)
            .map(|pass| {
                let label = if pass == 0 {
                    "fkey".to_owned()
                } else {
                    format!("fkey{pass}")
                };
                object_name(&table.name, &columns, &label)
            })
            .find(|candidate| !used.contains(candidate))
            .unwrap_or_default();
        used.insert(name.clone());
        names.insert(id, name);
    }
    names
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, the longer of the two names cut a
/// character at a time until the whole fits [`MAX_IDENTIFIER_BYTES`].
fn object_name(name1: &str, name2: &str, label: &str) -> String {
    let available = MAX_IDENTIFIER_BYTES.saturating_sub(label.len() + 2);
    let mut first = name1.to_owned();
    let mut second = name2.to_owned();
    while first.len() + second.len() > available {
        if first.len() > second.len() {
            first.pop();
        } else {
            second.pop();
        }
    }
    format!("{first}_{second}_{label}")
}

/// A new NOT NULL column on a table that may hold rows: add it nullable, fill, then
/// set NOT NULL. A nullable one is just added.
fn add_column(dialect: &dyn Dialect, table: &TableName, column: &Column) -> Vec<String> {
    if column.nullable || column.default.is_some() {
        return vec![dialect.add_column(table, column)];
    }
    let nullable = Column {
        nullable: true,
        ..column.clone()
    };
    let mut out = vec![dialect.add_column(table, &nullable)];
    out.push(dialect.fill_column(
        table,
        &column.name,
        &fill(&format!(
            "a value for {table}.{} in existing rows",
            column.name
        )),
    ));
    out.extend(dialect.alter_column(table, &nullable, column));
    out
}

/// A single integer primary key of a new table gets the backend's auto-increment.
fn mark_auto_increment(table: &mut Table) {
    if let [pk] = table.primary_key.as_slice() {
        if let Some(column) = table.columns.iter_mut().find(|c| &c.name == pk) {
            let integer = matches!(
                column.ty.kind.as_str(),
                "Integer" | "Int4" | "BigInt" | "Int8"
            );
            if integer && column.extra.is_none() && !column.ty.array {
                column.extra = Some("auto_increment".into());
            }
        }
    }
}

fn needs_rebuild(change: &Change) -> bool {
    match change {
        Change::AlterColumn { .. }
        | Change::SetPrimaryKey { .. }
        | Change::AddForeignKey { .. }
        | Change::DropForeignKey { .. }
        | Change::DropColumn { .. } => true,
        Change::AddColumn { column, .. } => !column.nullable && column.default.is_none(),
        _ => false,
    }
}

/// Renames a column everywhere a table mentions it.
fn rename_in(table: &mut Table, from: &str, to: &str) {
    let rename = |names: &mut Vec<String>| {
        for n in names.iter_mut().filter(|n| *n == from) {
            *n = to.to_owned();
        }
    };
    for c in table.columns.iter_mut().filter(|c| c.name == from) {
        c.name = to.to_owned();
    }
    rename(&mut table.primary_key);
    for fk in &mut table.foreign_keys {
        rename(&mut fk.columns);
    }
    for index in &mut table.indexes {
        rename(&mut index.columns);
    }
}

/// The table as it is after `changes`.
fn apply(
    original: &Table,
    changes: &[&Change],
    complete: &dyn Fn(&TableName, &ForeignKey) -> ForeignKey,
) -> Table {
    let mut t = original.clone();
    for change in changes {
        match change {
            Change::AddColumn { column, .. } => t.columns.push(column.clone()),
            Change::DropColumn { column, .. } => {
                t.columns.retain(|c| c.name != column.name);
                t.indexes.retain(|i| !i.columns.contains(&column.name));
                t.foreign_keys.retain(|k| !k.columns.contains(&column.name));
            }
            Change::AlterColumn { to, .. } => {
                if let Some(c) = t.columns.iter_mut().find(|c| c.name == to.name) {
                    *c = to.clone();
                }
            }
            Change::SetPrimaryKey { to, .. } => t.primary_key = to.clone(),
            Change::AddForeignKey { table, key } => t.foreign_keys.push(complete(table, key)),
            Change::DropForeignKey { key, .. } => {
                t.foreign_keys
                    .retain(|k| !(k.columns == key.columns && k.ref_table == key.ref_table));
            }
            _ => {}
        }
    }
    t
}

/// SQLite's recipe: create the new shape under a temporary name, copy the rows, swap,
/// re-create the indexes, and fail if a foreign key no longer holds.
fn rebuild(dialect: &dyn Dialect, from: &Table, to: &Table, reverse: bool) -> Vec<String> {
    let temp = TableName {
        schema: to.name.schema.clone(),
        name: format!("_dbrev_new_{}", to.name.name),
    };
    let staged = Table {
        name: temp.clone(),
        ..to.clone()
    };
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in &to.columns {
        columns.push(dialect.quote_ident(&column.name));
        let old = from.column(&column.name);
        values.push(match old {
            Some(old) if old.nullable && !column.nullable && !reverse => format!(
                "COALESCE({}, {})",
                dialect.quote_ident(&column.name),
                fill(&format!(
                    "a value for {}.{} where it is NULL",
                    to.name, column.name
                ))
            ),
            Some(_) => dialect.quote_ident(&column.name),
            None if column.nullable || column.default.is_some() => "NULL".into(),
            None => fill(&format!(
                "a value for {}.{}{}",
                to.name,
                column.name,
                if reverse {
                    " (its data was dropped)"
                } else {
                    " in existing rows"
                }
            )),
        });
    }
    let mut out = vec![
        dialect.create_table(&staged, true),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            dialect.quote_table(&temp),
            columns.join(", "),
            values.join(", "),
            dialect.quote_table(&from.name)
        ),
        dialect.drop_table(&from.name),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            dialect.quote_table(&temp),
            dialect.quote_ident(&to.name.name)
        ),
    ];
    for index in to
        .indexes
        .iter()
        .filter(|i| !i.constraint && !i.name.starts_with("sqlite_autoindex"))
    {
        out.push(dialect.create_index(&to.name, index));
    }
    if !to.foreign_keys.is_empty() {
        // pragma_foreign_key_check lists violations; json('') turns any into an error.
        out.push(format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pragma_foreign_key_check({})) THEN json('foreign key violation after rebuilding {}') END",
            dialect.quote_literal(&to.name.name),
            to.name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_key_names_are_postgres_names_that_fit() {
        assert_eq!(
            object_name("posts", "user_id", "fkey"),
            "posts_user_id_fkey"
        );
        let long = object_name(&"t".repeat(50), &"c".repeat(40), "fkey1");
        assert_eq!(long.len(), MAX_IDENTIFIER_BYTES);
        assert!(
            long.starts_with(&"t".repeat(28)) && long.ends_with("_fkey1"),
            "{long}"
        );
    }
}
