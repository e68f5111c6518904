//! The planner: changes → SQL for the configured dialect, each step with its reverse, so
//! down.sql is rendered from the same plan as up.sql. Runs without a connection. Where the
//! dialect alters tables in place, each change is one step; where it rebuilds them
//! (SQLite), the changes to a table beyond plain DDL (create, drop, rename, a column that
//! may be NULL) become one step, the dialect's rebuild recipe fed with the table before
//! and after and the values to copy. Each new foreign key gets its name once, chosen as
//! PostgreSQL chooses it (`<table>_<columns>_fkey`, cut to 63 bytes, numbered when
//! taken), so no plan adds the same constraint name twice.

use std::collections::{BTreeMap, BTreeSet};

use crate::backend::Backend;
use crate::changes::{Change, Diff, Rename};
use crate::dialect::{AlterTable, Dialect, RebuildTable, TableChanges, dialect_for};
use crate::migrate::FILL_MARKER;
use crate::model::{Column, ForeignKey, Schema, Table, TableName};

/// The longest identifier every backend takes: PostgreSQL's 63 bytes (MySQL's is 64).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// What the planner was asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// `--fill`: an `INSERT` of the first rows, as a FILL marker, for each new table the
    /// model's foreign keys reference.
    pub first_rows: bool,
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
    /// Dropped/added pairs that may be renames (shown as `--rename` takes them).
    pub rename_hints: Vec<Rename>,
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

/// A FILL marker: a place in up.sql or down.sql where the user writes a value (`what`)
/// before the revision can run.
fn fill_marker(what: &str) -> String {
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
    let mut planner = Planner {
        dialect,
        db,
        model,
        changes: &diff.changes,
        options,
        foreign_key_names: BTreeMap::new(),
        referenced: model
            .tables
            .values()
            .flat_map(|t| t.foreign_keys.iter().map(|fk| &fk.ref_table))
            .collect(),
    };
    let steps = match dialect.table_changes() {
        TableChanges::Alter(alter) => {
            planner.foreign_key_names = foreign_key_names(db, diff);
            planner.altering(alter)
        }
        TableChanges::Rebuild(rebuild) => planner.rebuilding(rebuild),
    };
    Plan {
        steps,
        destructive: diff
            .changes
            .iter()
            .filter_map(Change::destructive)
            .collect(),
        rename_hints: diff.rename_hints.clone(),
    }
}

/// Statements up, and the statements that undo them.
type UpDown = (Vec<String>, Vec<String>);

/// Which way a rebuild copies rows: forward (up.sql) or back (down.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// One diff being planned, and what its steps share.
struct Planner<'a> {
    dialect: &'a dyn Dialect,
    db: &'a Schema,
    model: &'a Schema,
    changes: &'a [Change],
    options: PlanOptions,
    /// The names chosen for new foreign keys that have none (see [`foreign_key_names`]).
    foreign_key_names: BTreeMap<(TableName, Vec<String>, TableName), String>,
    /// The tables the model's foreign keys reference.
    referenced: BTreeSet<&'a TableName>,
}

impl Planner<'_> {
    /// Where tables are altered in place: one step per change, and the foreign keys of new
    /// tables after every new table exists (cycles included).
    fn altering(&self, alter: &dyn AlterTable) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut deferred = Vec::new();
        for change in self.changes {
            let step = self.altered_step(alter, change);
            if let Change::CreateTable(table) = change {
                deferred.extend(self.foreign_key_steps(alter, &self.new_table(table)));
            } else {
                steps.append(&mut deferred);
            }
            steps.push(step);
        }
        steps.append(&mut deferred);
        steps
    }

    /// Where tables are rebuilt: renames and plain changes as they are, and every other
    /// change to a table grouped into one rebuild of it (where its first change stands).
    fn rebuilding(&self, rebuild: &dyn RebuildTable) -> Vec<Step> {
        let is_rename =
            |c: &Change| matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. });
        let rebuilt: BTreeSet<&TableName> = self
            .changes
            .iter()
            .filter(|c| self.plain_step(c).is_none())
            .map(Change::table)
            .collect();
        let mut groups: BTreeMap<&TableName, Vec<&Change>> = BTreeMap::new();
        for change in self.changes {
            if rebuilt.contains(change.table()) && !is_rename(change) {
                groups.entry(change.table()).or_default().push(change);
            }
        }
        let mut steps = Vec::new();
        let mut done = BTreeSet::new();
        for change in self.changes {
            let table = change.table();
            if let Some(group) = groups.get(table).filter(|_| !is_rename(change)) {
                if done.insert(table) {
                    steps.extend(self.rebuild_step(rebuild, table, group));
                }
            } else if let Some(step) = self.plain_step(change) {
                // (Every change that is not plain put its table in `groups`.)
                steps.push(step);
            }
        }
        steps
    }

    /// A change every backend makes with plain DDL: tables created, dropped or renamed,
    /// columns renamed, a column added that may be NULL or has a default. `None` for a
    /// change that alters a table's columns or keys.
    fn plain_step(&self, change: &Change) -> Option<Step> {
        let (up, down) = match change {
            Change::CreateTable(t) => self.create_table(t),
            Change::DropTable(t) => self.drop_table(t),
            Change::RenameTable { from, to } => self.rename_table(from, to),
            Change::RenameColumn { table, from, to } => self.rename_column(table, from, to),
            Change::AddColumn { table, column } if column.nullable || column.default.is_some() => (
                vec![self.dialect.add_column(table, column)],
                vec![self.dialect.drop_column(table, &column.name)],
            ),
            _ => return None,
        };
        Some(Step {
            title: change.describe(),
            up,
            down,
        })
    }

    /// One change, made with `ALTER TABLE`.
    fn altered_step(&self, alter: &dyn AlterTable, change: &Change) -> Step {
        let d = self.dialect;
        let (up, down) = match change {
            Change::CreateTable(t) => self.create_table(t),
            Change::DropTable(t) => {
                let (up, mut down) = self.drop_table(t);
                for key in &t.foreign_keys {
                    down.push(alter.add_foreign_key(&t.name, &self.complete(&t.name, key)));
                }
                (up, down)
            }
            Change::RenameTable { from, to } => self.rename_table(from, to),
            Change::RenameColumn { table, from, to } => self.rename_column(table, from, to),
            Change::AddColumn { table, column } => (
                add_column(alter, table, column),
                vec![d.drop_column(table, &column.name)],
            ),
            Change::DropColumn { table, column } => (
                vec![d.drop_column(table, &column.name)],
                add_column(alter, table, column),
            ),
            Change::AlterColumn { table, from, to } => {
                let mut up = Vec::new();
                if from.nullable && !to.nullable {
                    up.push(d.update_column(table, &to.name, &self.coalesce(table, &to.name)));
                }
                up.extend(alter.alter_column(table, from, to));
                (up, alter.alter_column(table, to, from))
            }
            Change::SetPrimaryKey {
                table,
                from,
                from_name,
                to,
            } => (
                alter.set_primary_key(table, from, from_name.as_deref(), to),
                alter.set_primary_key(table, to, None, from),
            ),
            Change::AddForeignKey { table, key } => {
                let key = self.complete(table, key);
                (
                    vec![alter.add_foreign_key(table, &key)],
                    vec![alter.drop_foreign_key(table, &key)],
                )
            }
            Change::DropForeignKey { table, key } => {
                let key = self.complete(table, key);
                (
                    vec![alter.drop_foreign_key(table, &key)],
                    vec![alter.add_foreign_key(table, &key)],
                )
            }
        };
        Step {
            title: change.describe(),
            up,
            down,
        }
    }

    /// `CREATE TABLE` (and a FILL marker for its first rows when `--fill` asks and the
    /// model references it), undone by `DROP TABLE`.
    fn create_table(&self, table: &Table) -> UpDown {
        let d = self.dialect;
        let t = self.new_table(table);
        let mut up = vec![d.create_table(&t, false)];
        if self.options.first_rows && self.referenced.contains(&t.name) {
            let columns: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            up.push(format!(
                "INSERT INTO {} ({}) VALUES ({})",
                d.quote_table(&t.name),
                d.quote_idents(&columns),
                fill_marker(&format!(
                    "the first rows of {}, which other tables reference",
                    t.name
                ))
            ));
        }
        (up, vec![d.drop_table(&t.name)])
    }

    /// `DROP TABLE`, undone by creating it as it was, indexes included (its foreign keys
    /// are the caller's: inside `CREATE TABLE` where tables are rebuilt).
    fn drop_table(&self, table: &Table) -> UpDown {
        let d = self.dialect;
        let mut down = vec![d.create_table(table, false)];
        down.extend(d.create_indexes(table));
        (vec![d.drop_table(&table.name)], down)
    }

    fn rename_table(&self, from: &TableName, to: &TableName) -> UpDown {
        let d = self.dialect;
        (
            vec![d.rename_table(from, to)],
            vec![d.rename_table(to, from)],
        )
    }

    fn rename_column(&self, table: &TableName, from: &str, to: &str) -> UpDown {
        let d = self.dialect;
        (
            vec![d.rename_column(table, from, to)],
            vec![d.rename_column(table, to, from)],
        )
    }

    /// A step per foreign key of a new table (where they are added after the tables).
    fn foreign_key_steps(&self, alter: &dyn AlterTable, table: &Table) -> Vec<Step> {
        table
            .foreign_keys
            .iter()
            .map(|key| Step {
                title: format!(
                    "foreign key {}({}) -> {}",
                    table.name,
                    key.columns.join(", "),
                    key.ref_table
                ),
                up: vec![alter.add_foreign_key(&table.name, key)],
                down: vec![alter.drop_foreign_key(&table.name, key)],
            })
            .collect()
    }

    /// One rebuild of `table` for `group`, its changes; `None` when the database has no
    /// such table to rebuild.
    fn rebuild_step(
        &self,
        rebuild: &dyn RebuildTable,
        table: &TableName,
        group: &[&Change],
    ) -> Option<Step> {
        let original = self.db.tables.get(table).or_else(|| {
            self.changes.iter().find_map(|c| match c {
                Change::RenameTable { from, to } if to == table => self.db.tables.get(from),
                _ => None,
            })
        })?;
        let mut before = Table {
            name: table.clone(),
            ..original.clone()
        };
        // Column and table renames have run by now (they come first): the table's own
        // columns and the tables its foreign keys reference go by their new names.
        for change in self.changes {
            match change {
                Change::RenameColumn { table: t, from, to } if t == table => {
                    rename_in(&mut before, from, to);
                }
                Change::RenameTable { from, to } => {
                    for key in before
                        .foreign_keys
                        .iter_mut()
                        .filter(|k| k.ref_table == *from)
                    {
                        key.ref_table = to.clone();
                    }
                }
                _ => {}
            }
        }
        let after = apply(&before, group, &|t, k| self.complete(t, k));
        let described: Vec<String> = group.iter().map(|c| c.describe()).collect();
        Some(Step {
            title: format!("rebuild table {table}: {}", described.join("; ")),
            up: rebuild.rebuild_table(
                &before,
                &after,
                &self.copied_values(&before, &after, Direction::Up),
            ),
            down: rebuild.rebuild_table(
                &after,
                &before,
                &self.copied_values(&after, &before, Direction::Down),
            ),
        })
    }

    /// What a rebuild copies into each column of `to` from the rows of `from`: the old
    /// column, a FILL marker where NULLs must become values or the column is new and NOT
    /// NULL, `NULL` for a new column that takes it.
    fn copied_values(&self, from: &Table, to: &Table, direction: Direction) -> Vec<String> {
        to.columns
            .iter()
            .map(|column| match from.column(&column.name) {
                Some(old) if old.nullable && !column.nullable && direction == Direction::Up => {
                    self.coalesce(&to.name, &column.name)
                }
                Some(_) => self.dialect.quote_ident(&column.name),
                None if column.nullable || column.default.is_some() => "NULL".into(),
                None => fill_marker(&format!(
                    "a value for {}.{}{}",
                    to.name,
                    column.name,
                    match direction {
                        Direction::Up => " in existing rows",
                        Direction::Down => " (its data was dropped)",
                    }
                )),
            })
            .collect()
    }

    /// `COALESCE(column, /* FILL .. */)`: the column's value, or one to fill in for NULL.
    fn coalesce(&self, table: &TableName, column: &str) -> String {
        format!(
            "COALESCE({}, {})",
            self.dialect.quote_ident(column),
            fill_marker(&format!("a value for {table}.{column} where it is NULL"))
        )
    }

    /// A new table as created: foreign keys completed, a single integer key numbered.
    fn new_table(&self, table: &Table) -> Table {
        let mut t = table.clone();
        t.foreign_keys = t
            .foreign_keys
            .iter()
            .map(|k| self.complete(&t.name, k))
            .collect();
        mark_auto_increment(&mut t);
        t
    }

    /// A foreign key with its referenced columns (the referenced table's primary key when
    /// the model does not say) and its name (the one chosen for it when it has none).
    fn complete(&self, table: &TableName, key: &ForeignKey) -> ForeignKey {
        let mut key = key.clone();
        if key.ref_columns.is_empty() {
            key.ref_columns = self
                .model
                .tables
                .get(&key.ref_table)
                .or_else(|| self.db.tables.get(&key.ref_table))
                .map(|t| t.primary_key.clone())
                .unwrap_or_default();
        }
        if key.name.is_none() {
            key.name = self
                .foreign_key_names
                .get(&(table.clone(), key.columns.clone(), key.ref_table.clone()))
                .cloned();
        }
        key
    }
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

/// A new NOT NULL column on a table that may hold rows: add it nullable, set it to a FILL
/// marker's value, then set NOT NULL. A nullable one is just added.
fn add_column(alter: &dyn AlterTable, table: &TableName, column: &Column) -> Vec<String> {
    if column.nullable || column.default.is_some() {
        return vec![alter.add_column(table, column)];
    }
    let nullable = Column {
        nullable: true,
        ..column.clone()
    };
    let mut out = vec![alter.add_column(table, &nullable)];
    out.push(alter.update_column(
        table,
        &column.name,
        &fill_marker(&format!(
            "a value for {table}.{} in existing rows",
            column.name
        )),
    ));
    out.extend(alter.alter_column(table, &nullable, column));
    out
}

/// A single integer primary key of a new table gets the backend's auto-increment.
fn mark_auto_increment(table: &mut Table) {
    if let [pk] = table.primary_key.as_slice() {
        if let Some(column) = table.columns.iter_mut().find(|c| &c.name == pk) {
            if column.ty.is_int_or_bigint() && column.extra.is_none() {
                column.extra = Some("auto_increment".into());
            }
        }
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
