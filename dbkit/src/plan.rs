//! The planner: changes → SQL for the configured dialect, each step with its reverse, so
//! down.sql is rendered from the same plan as up.sql. Runs without a connection. Where the
//! dialect alters tables in place, each change is one step; where it rebuilds them
//! (SQLite), the changes to a table beyond plain DDL (create, drop, rename, a column that
//! may be NULL) become one step, the dialect's rebuild recipe fed with the table before
//! and after and the values to copy. Each new foreign key gets its name once, chosen as
//! PostgreSQL chooses it (`<table>_<columns>_fkey`, cut to 63 bytes, numbered when
//! taken), so no plan adds the same constraint name twice.
//!
//! The plan writes the safe form where the dialect has one, for tables that exist and may
//! hold rows: a step's part that must run after the rest has committed (PostgreSQL's
//! `VALIDATE CONSTRAINT`, `SET NOT NULL` through a validated check, an index built
//! `CONCURRENTLY`) goes into a follow-up revision ([`Plan::revisions`]); a revision that
//! locks existing tables starts with the dialect's lock timeout; a revision that rebuilds
//! tables runs outside the runner's transaction in the dialect's rebuild session. A
//! statement with no safer form says so to `cargo dbrev lint` in a `-- dbrev:allow`
//! comment that gives the reason.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::backend::Backend;
use crate::changes::{Change, Diff, Rename};
use crate::dialect::{
    AlterTable, Dialect, Key, Later, RebuildTable, Staged, TableChanges, dialect_for,
};
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
    /// What the follow-up revision runs for this step, up.
    pub later_up: Later,
    /// What the follow-up revision runs for this step, down (before `down` runs).
    pub later_down: Later,
    /// Whether `up` locks a table that exists before it (the revision sets a lock timeout).
    pub locks_up: bool,
    /// Whether `down` locks a table that exists before it.
    pub locks_down: bool,
    /// Whether it rebuilds a table (the revision runs in the dialect's rebuild session).
    pub rebuilds: bool,
}

impl Step {
    /// A step that locks tables both ways and has no follow-up part.
    fn new(title: String, (up, down): UpDown) -> Step {
        Step {
            title,
            up,
            down,
            locks_up: true,
            locks_down: true,
            ..Step::default()
        }
    }

    /// The same step with a staged part: its `now` statements appended, its `later` ones
    /// for the follow-up revision.
    fn staged(mut self, staged: Staged) -> Step {
        self.up.extend(staged.now_up);
        let mut down = staged.now_down;
        down.append(&mut self.down);
        self.down = down;
        self.later_up = staged.later_up;
        self.later_down = staged.later_down;
        self
    }
}

/// The planned migration.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The steps, in up order.
    pub steps: Vec<Step>,
    /// Destructive changes (for the file header and the console).
    pub destructive: Vec<String>,
    /// Dropped/added pairs that may be renames (shown as `--rename` takes them).
    pub rename_hints: Vec<Rename>,
    /// The backend it is for.
    pub backend: Backend,
}

/// One revision of a plan: its files, and whether it runs in a transaction (diesel's
/// `metadata.toml` `run_in_transaction`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRevision {
    /// The body of up.sql.
    pub up: String,
    /// The body of down.sql.
    pub down: String,
    /// Whether the runner wraps it in a transaction.
    pub run_in_transaction: bool,
}

impl Plan {
    /// The revisions the plan needs: the revision itself, and a follow-up revision when a
    /// step has a part that must run once the first has committed.
    pub fn revisions(&self) -> Vec<PlannedRevision> {
        let main = self
            .steps
            .iter()
            .any(|s| !s.up.is_empty() || !s.down.is_empty());
        let later = self
            .steps
            .iter()
            .any(|s| !s.later_up.is_empty() || !s.later_down.is_empty());
        let mut out = Vec::new();
        if main || !later {
            out.push(self.main_revision());
        }
        if later {
            out.push(self.follow_up(main));
        }
        out
    }

    /// The body of the first revision's up.sql.
    pub fn up_sql(&self) -> String {
        self.revisions().swap_remove(0).up
    }

    /// The body of the first revision's down.sql: the reverses, last step first.
    pub fn down_sql(&self) -> String {
        self.revisions().swap_remove(0).down
    }

    fn main_revision(&self) -> PlannedRevision {
        let dialect = dialect_for(self.backend);
        let session = match dialect.table_changes() {
            TableChanges::Rebuild(rebuild) if self.steps.iter().any(|s| s.rebuilds) => {
                Some(rebuild.rebuild_session())
            }
            _ => None,
        };
        let transactional = session.is_none();
        let timeout = |locks: bool| locks.then(|| dialect.lock_timeout(transactional)).flatten();
        let mut up = self.header();
        let mut down = String::new();
        for (text, locks) in [
            (&mut up, self.steps.iter().any(|s| s.locks_up)),
            (&mut down, self.steps.iter().any(|s| s.locks_down)),
        ] {
            if let Some((first, _)) = &session {
                text.push_str(&render(
                    "outside the runner's transaction: foreign keys off, then one transaction",
                    first,
                ));
            }
            if let Some((set, _)) = timeout(locks) {
                text.push_str(&render("wait at most this long for a table lock", &[set]));
            }
        }
        for step in &self.steps {
            up.push_str(&render(&step.title, &step.up));
        }
        for step in self.steps.iter().rev() {
            down.push_str(&render(&format!("undo: {}", step.title), &step.down));
        }
        for (text, locks) in [
            (&mut up, self.steps.iter().any(|s| s.locks_up)),
            (&mut down, self.steps.iter().any(|s| s.locks_down)),
        ] {
            if let Some((_, Some(reset))) = timeout(locks) {
                text.push_str(&render("the lock timeout ends with the revision", &[reset]));
            }
            if let Some((_, last)) = &session {
                text.push_str(&render("the rebuilds commit; foreign keys on again", last));
            }
        }
        PlannedRevision {
            up: up.trim_end().to_owned(),
            down: down.trim_end().to_owned(),
            run_in_transaction: transactional,
        }
    }

    /// The follow-up revision (`after_main`: the revision before it holds the rest): each
    /// step's later part, index builds first (outside any transaction when there are any),
    /// then the lock timeout and the rest.
    fn follow_up(&self, after_main: bool) -> PlannedRevision {
        let dialect = dialect_for(self.backend);
        let builds = self
            .steps
            .iter()
            .any(|s| !s.later_up.builds.is_empty() || !s.later_down.builds.is_empty());
        let file = |steps: Vec<(String, &Later)>| {
            let mut text = String::new();
            for (title, later) in &steps {
                if !later.builds.is_empty() {
                    text.push_str(&render(&format!("{title}: build the index"), &later.builds));
                }
            }
            let timeout = dialect.lock_timeout(!builds);
            if let Some((set, _)) = &timeout {
                text.push_str(&render(
                    "wait at most this long for a table lock",
                    std::slice::from_ref(set),
                ));
            }
            for (title, later) in &steps {
                if !later.statements.is_empty() {
                    text.push_str(&render(title, &later.statements));
                }
            }
            if let Some((_, Some(reset))) = &timeout {
                text.push_str(&render(
                    "the lock timeout ends with the revision",
                    std::slice::from_ref(reset),
                ));
            }
            text.trim_end().to_owned()
        };
        let up = self
            .steps
            .iter()
            .filter(|s| !s.later_up.is_empty())
            .map(|s| (s.title.clone(), &s.later_up))
            .collect();
        let down = self
            .steps
            .iter()
            .rev()
            .filter(|s| !s.later_down.is_empty())
            .map(|s| (format!("undo: {}", s.title), &s.later_down))
            .collect();
        let mut up = file(up);
        if up.is_empty() {
            up = "-- Nothing to do on the way up.".into();
        }
        let mut down = file(down);
        if down.is_empty() {
            down = "-- Nothing to undo: the revision before undoes it.".into();
        }
        if after_main {
            up = format!("{FOLLOW_UP_NOTE}\n\n{up}");
        } else {
            up = format!("{}{up}", self.header());
        }
        PlannedRevision {
            up,
            down,
            run_in_transaction: !builds,
        }
    }

    /// The destructive changes and rename hints, atop the first up.sql.
    fn header(&self) -> String {
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
        out
    }
}

/// What the follow-up revision is, atop its up.sql.
const FOLLOW_UP_NOTE: &str = "-- The second part of the revision before it, run once that one has committed, so no\n-- step holds a lock on a table that has rows for longer than a moment.";

/// A step's statements under its title (nothing when it has none).
fn render(title: &str, statements: &[String]) -> String {
    if statements.is_empty() {
        return String::new();
    }
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
    let mut names = Names::of(db);
    let planner = Planner {
        dialect,
        db,
        model,
        changes: &diff.changes,
        options,
        foreign_key_names: foreign_key_names(&mut names, diff),
        names: RefCell::new(names),
        referenced: model
            .tables
            .values()
            .flat_map(|t| t.foreign_keys.iter().map(|fk| &fk.ref_table))
            .collect(),
    };
    let steps = match dialect.table_changes() {
        TableChanges::Alter(alter) => planner.altering(alter),
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
        backend,
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
    /// The names taken so far, for the other names the plan gives (keys, checks, indexes).
    names: RefCell<Names>,
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
            let mut step = self.altered_step(alter, change);
            step.locks_up &= !step.up.is_empty();
            step.locks_down &= !step.down.is_empty();
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
            .filter_map(Change::table)
            .collect();
        let mut groups: BTreeMap<&TableName, Vec<&Change>> = BTreeMap::new();
        for change in self.changes {
            if let Some(table) = change.table().filter(|t| rebuilt.contains(t)) {
                if !is_rename(change) {
                    groups.entry(table).or_default().push(change);
                }
            }
        }
        let mut steps = Vec::new();
        let mut done = BTreeSet::new();
        for change in self.changes {
            let group = change
                .table()
                .and_then(|t| groups.get(t).map(|g| (t, g)))
                .filter(|_| !is_rename(change));
            if let Some((table, group)) = group {
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
    /// columns renamed, a column added that may be NULL or has a default, enum types.
    /// `None` for a change that alters a table's columns or keys.
    fn plain_step(&self, change: &Change) -> Option<Step> {
        let d = self.dialect;
        let title = change.describe();
        Some(match change {
            Change::CreateTable(t) => self.create_table_step(title, t),
            Change::DropTable(t) => self.drop_table_step(title, t, Vec::new()),
            Change::RenameTable { from, to } => Step::new(title, self.rename_table(from, to)),
            Change::RenameColumn { table, from, to } => {
                Step::new(title, self.rename_column(table, from, to))
            }
            Change::AddColumn { table, column } if column.nullable || column.default.is_some() => {
                let column = self.with_labels(column);
                Step::new(
                    title,
                    (
                        vec![d.add_column(table, &column)],
                        vec![d.drop_column(table, &column.name)],
                    ),
                )
            }
            Change::CreateEnum { .. }
            | Change::DropEnum { .. }
            | Change::AddEnumLabels { .. }
            | Change::RebuildEnum { .. } => self.enum_step(title, change),
            _ => return None,
        })
    }

    /// One change, made with `ALTER TABLE` (in parts where the dialect has a safer form
    /// for a table that holds rows).
    fn altered_step(&self, alter: &dyn AlterTable, change: &Change) -> Step {
        let d = self.dialect;
        let title = change.describe();
        match change {
            Change::DropTable(t) => {
                let keys = t
                    .foreign_keys
                    .iter()
                    .map(|key| alter.add_foreign_key(&t.name, &self.complete(&t.name, key)))
                    .collect();
                self.drop_table_step(title, t, keys)
            }
            Change::AddColumn { table, column } => {
                self.add_column_step(alter, title, table, column)
            }
            Change::DropColumn { table, column } => Step::new(
                title,
                (
                    vec![self.acknowledge_drop(
                        &format!("{table}.{}", column.name),
                        d.drop_column(table, &column.name),
                    )],
                    add_column(alter, table, column),
                ),
            ),
            Change::AlterColumn { table, from, to } => {
                self.alter_column_step(alter, title, table, from, &self.with_labels(to))
            }
            Change::SetPrimaryKey {
                table,
                from,
                from_name,
                to,
            } => self.primary_key_step(alter, title, table, from, from_name.as_deref(), to),
            Change::AddForeignKey { table, key } => {
                let key = self.complete(table, key);
                match alter.staged_foreign_key(table, &key) {
                    Some(staged) => Step::new(title, (Vec::new(), Vec::new())).staged(staged),
                    None => Step::new(
                        title,
                        (
                            vec![alter.add_foreign_key(table, &key)],
                            vec![alter.drop_foreign_key(table, &key)],
                        ),
                    ),
                }
            }
            Change::DropForeignKey { table, key } => {
                let key = self.complete(table, key);
                Step::new(
                    title,
                    (
                        vec![alter.drop_foreign_key(table, &key)],
                        vec![alter.restore_foreign_key(table, &key)],
                    ),
                )
            }
            other => self
                .plain_step(other)
                .unwrap_or_else(|| Step::new(title, (Vec::new(), Vec::new()))),
        }
    }

    /// A new column; a NOT NULL one on a table that may hold rows is added nullable, filled
    /// (a FILL marker), then made NOT NULL (in parts where the dialect has them).
    fn add_column_step(
        &self,
        alter: &dyn AlterTable,
        title: String,
        table: &TableName,
        column: &Column,
    ) -> Step {
        let d = self.dialect;
        let column = self.with_labels(column);
        let drop = vec![d.drop_column(table, &column.name)];
        if column.nullable || column.default.is_some() {
            return Step::new(title, (vec![alter.add_column(table, &column)], drop));
        }
        let check = self.claim(table, &column.name, "not_null");
        match alter.staged_not_null(table, &column.name, &check) {
            Some(staged) => {
                let nullable = Column {
                    nullable: true,
                    ..column.clone()
                };
                let up = vec![
                    alter.add_column(table, &nullable),
                    alter.update_column(
                        table,
                        &column.name,
                        &fill_marker(&format!(
                            "a value for {table}.{} in existing rows",
                            column.name
                        )),
                    ),
                ];
                Step::new(title, (up, drop)).staged(staged)
            }
            None => Step::new(title, (add_column(alter, table, &column), drop)),
        }
    }

    /// A column's type and/or nullability; NOT NULL on a column that may hold NULLs fills
    /// them first (a FILL marker), in parts where the dialect has them.
    fn alter_column_step(
        &self,
        alter: &dyn AlterTable,
        title: String,
        table: &TableName,
        from: &Column,
        to: &Column,
    ) -> Step {
        let d = self.dialect;
        let tightens = from.nullable && !to.nullable;
        let fill = || d.update_column(table, &to.name, &self.coalesce(table, &to.name));
        if tightens {
            let check = self.claim(table, &to.name, "not_null");
            if let Some(staged) = alter.staged_not_null(table, &to.name, &check) {
                let typed = Column {
                    nullable: true,
                    ..to.clone()
                };
                let mut up = alter.alter_column(table, from, &typed);
                up.push(fill());
                let down = alter.alter_column(table, &typed, from);
                return Step::new(title, (up, down)).staged(staged);
            }
        }
        let mut up = Vec::new();
        if tightens {
            up.push(fill());
        }
        up.extend(alter.alter_column(table, from, to));
        Step::new(title, (up, alter.alter_column(table, to, from)))
    }

    /// A new primary key: built beside the old one and swapped in where the dialect can
    /// (not when the old key's columns go in this revision), else replaced in place. The
    /// new key keeps the old key's name, or gets the backend's (`<table>_pkey`).
    fn primary_key_step(
        &self,
        alter: &dyn AlterTable,
        title: String,
        table: &TableName,
        from: &[String],
        from_name: Option<&str>,
        to: &[String],
    ) -> Step {
        let old = Key {
            columns: from.to_vec(),
            name: from_name.map(str::to_owned),
        };
        let new = Key {
            columns: to.to_vec(),
            name: Some(
                from_name
                    .map(str::to_owned)
                    .unwrap_or_else(|| self.claim(table, "", "pkey")),
            ),
        };
        let old_columns_stay = !self.changes.iter().any(|c| {
            matches!(c, Change::DropColumn { table: t, column } if t == table && from.contains(&column.name))
        });
        let staged = old_columns_stay
            .then(|| {
                let index = self.claim(table, &to.join("_"), "pkey");
                let old_index = self.claim(table, &from.join("_"), "pkey");
                alter.staged_primary_key(table, &old, &new, &index, &old_index)
            })
            .flatten();
        match staged {
            Some(staged) => Step::new(title, (Vec::new(), Vec::new())).staged(staged),
            None => Step::new(
                title,
                (
                    alter.set_primary_key(table, &old, &new),
                    alter.set_primary_key(table, &new, &old),
                ),
            ),
        }
    }

    /// An enum type created, dropped, given labels or made again (where the dialect has
    /// enum types; nothing elsewhere).
    fn enum_step(&self, title: String, change: &Change) -> Step {
        let d = self.dialect;
        let list = |labels: &[String]| {
            labels
                .iter()
                .map(|l| d.quote_literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (up, down, locks) = match change {
            Change::CreateEnum { name, labels } => {
                let labels = match labels {
                    Some(labels) => list(labels),
                    None => fill_marker(&format!(
                        "the labels of enum type {name}, quoted and comma-separated (no Rust enum maps to it; if it is not an enum, create it here as it is)"
                    )),
                };
                let create = d.create_enum(name, &labels).into_iter().collect();
                (
                    create,
                    d.drop_enum(name).into_iter().collect(),
                    (false, false),
                )
            }
            Change::DropEnum { name, labels } => (
                d.drop_enum(name).into_iter().collect(),
                d.create_enum(name, &list(labels)).into_iter().collect(),
                (false, false),
            ),
            Change::AddEnumLabels {
                name,
                from,
                to,
                columns,
            } => {
                let mut up = Vec::new();
                for (i, label) in to.iter().enumerate().filter(|(_, l)| !from.contains(l)) {
                    let after = i.checked_sub(1).map(|p| to[p].as_str());
                    let first = from.first().map_or("", String::as_str);
                    up.extend(d.add_enum_label(name, label, after, first));
                }
                (
                    up,
                    d.rebuild_enum(name, &list(from), columns),
                    (false, true),
                )
            }
            Change::RebuildEnum {
                name,
                from,
                to,
                columns,
            } => (
                d.rebuild_enum(name, &list(to), columns),
                d.rebuild_enum(name, &list(from), columns),
                (true, true),
            ),
            _ => (Vec::new(), Vec::new(), (false, false)),
        };
        Step {
            locks_up: locks.0,
            locks_down: locks.1,
            ..Step::new(title, (up, down))
        }
    }

    /// `CREATE TABLE` (and a FILL marker for its first rows when `--fill` asks and the
    /// model references it), undone by `DROP TABLE`: no table existed before it.
    fn create_table_step(&self, title: String, table: &Table) -> Step {
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
        Step {
            locks_up: false,
            ..Step::new(title, (up, vec![d.drop_table(&t.name)]))
        }
    }

    /// `DROP TABLE`, undone by creating it as it was, indexes included, then `keys` (its
    /// foreign keys where they are added to tables; inside `CREATE TABLE` where tables are
    /// rebuilt).
    fn drop_table_step(&self, title: String, table: &Table, keys: Vec<String>) -> Step {
        let d = self.dialect;
        let mut down = vec![d.create_table(table, false)];
        down.extend(d.create_indexes(table));
        down.extend(keys);
        let up = vec![
            self.acknowledge_drop(&format!("table {}", table.name), d.drop_table(&table.name)),
        ];
        Step {
            locks_down: false,
            ..Step::new(title, (up, down))
        }
    }

    /// A drop the model asks for, which `cargo dbrev lint` would report as data loss: the
    /// destructive list atop up.sql names it too.
    fn acknowledge_drop(&self, what: &str, sql: String) -> String {
        self.dialect.acknowledged(
            "ALL001",
            &format!(
                "generated: schema.rs no longer declares {what} (see the destructive changes above)"
            ),
            sql,
        )
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
            .map(|key| {
                let title = format!(
                    "foreign key {}({}) -> {}",
                    table.name,
                    key.columns.join(", "),
                    key.ref_table
                );
                Step {
                    locks_up: false,
                    ..Step::new(
                        title,
                        (
                            vec![alter.add_foreign_key(&table.name, key)],
                            vec![alter.drop_foreign_key(&table.name, key)],
                        ),
                    )
                }
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
        let mut after = apply(&before, group, &|t, k| self.complete(t, k));
        for column in &mut after.columns {
            *column = self.with_labels(column);
        }
        let dropped: Vec<&str> = before
            .columns
            .iter()
            .filter(|c| after.column(&c.name).is_none())
            .map(|c| c.name.as_str())
            .collect();
        let left_out = (!dropped.is_empty()).then(|| {
            format!(
                "generated: schema.rs no longer declares {table}.{} (see the destructive changes above)",
                dropped.join(", ")
            )
        });
        let referencing = self.referencing(&original.name);
        let described: Vec<String> = group.iter().map(|c| c.describe()).collect();
        Some(Step {
            rebuilds: true,
            ..Step::new(
                format!("rebuild table {table}: {}", described.join("; ")),
                (
                    rebuild.rebuild_table(
                        &before,
                        &after,
                        &self.copied_values(&before, &after, Direction::Up),
                        left_out.as_deref(),
                        &referencing,
                    ),
                    rebuild.rebuild_table(
                        &after,
                        &before,
                        &self.copied_values(&after, &before, Direction::Down),
                        None,
                        &referencing,
                    ),
                ),
            )
        })
    }

    /// The database's tables with a foreign key to `table` (its database name), by the
    /// names they have once this plan's renames have run.
    fn referencing(&self, table: &TableName) -> Vec<TableName> {
        self.db
            .tables
            .values()
            .filter(|t| t.name != *table && t.foreign_keys.iter().any(|k| k.ref_table == *table))
            .map(|t| {
                self.changes
                    .iter()
                    .find_map(|c| match c {
                        Change::RenameTable { from, to } if *from == t.name => Some(to.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| t.name.clone())
            })
            .collect()
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

    /// A model column as created: an enum type whose labels nobody knows gets a FILL
    /// marker for them (MySQL's column-level `ENUM`).
    fn with_labels(&self, column: &Column) -> Column {
        let mut column = column.clone();
        if column.ty.is_unlabelled_enum() {
            column.ty.native = format!(
                "ENUM({})",
                fill_marker(&format!(
                    "the labels of {}, quoted and comma-separated (no Rust enum maps to its sql_types struct)",
                    column.name
                ))
            );
        }
        column
    }

    /// A new table as created: foreign keys completed, a single integer key numbered,
    /// enum labels to fill marked.
    fn new_table(&self, table: &Table) -> Table {
        let mut t = table.clone();
        t.foreign_keys = t
            .foreign_keys
            .iter()
            .map(|k| self.complete(&t.name, k))
            .collect();
        for column in &mut t.columns {
            *column = self.with_labels(column);
        }
        mark_auto_increment(&mut t);
        t
    }

    /// A new name `<table>_<name2>_<label>` in the table's schema (see [`Names::claim`]).
    fn claim(&self, table: &TableName, name2: &str, label: &str) -> String {
        self.names
            .borrow_mut()
            .claim(&table.schema, &table.name, name2, label)
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

/// The constraint and index names taken in each schema, so every name the plan gives is
/// new (MySQL wants foreign key names unique in the database).
struct Names {
    taken: BTreeMap<Option<String>, BTreeSet<String>>,
}

impl Names {
    fn of(db: &Schema) -> Names {
        let mut taken: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
        for table in db.tables.values() {
            let names = taken.entry(table.name.schema.clone()).or_default();
            names.extend(table.foreign_keys.iter().filter_map(|k| k.name.clone()));
            names.extend(table.primary_key_name.clone());
            names.extend(table.indexes.iter().map(|i| i.name.clone()));
        }
        Names { taken }
    }

    /// PostgreSQL's choice of a name: `<name1>_<name2>_<label>` (`<name1>_<label>` without
    /// `name2`), the longer part cut until it fits 63 bytes, `label1`, `label2`… while the
    /// name is taken; the name is taken from then on.
    fn claim(&mut self, schema: &Option<String>, name1: &str, name2: &str, label: &str) -> String {
        let used = self.taken.entry(schema.clone()).or_default();
        let name = (0..)
            .map(|pass| {
                let label = if pass == 0 {
                    label.to_owned()
                } else {
                    format!("{label}{pass}")
                };
                object_name(name1, name2, &label)
            })
            .find(|candidate| !used.contains(candidate))
            .unwrap_or_default();
        used.insert(name.clone());
        name
    }
}

/// A name for each foreign key the plan adds without one: PostgreSQL's own choice for
/// `REFERENCES` (`<table>_<columns>_fkey`, see [`Names::claim`]), chosen once per key in
/// the order the changes come.
fn foreign_key_names(
    names: &mut Names,
    diff: &Diff,
) -> BTreeMap<(TableName, Vec<String>, TableName), String> {
    let mut wanted: Vec<(&TableName, &ForeignKey)> = Vec::new();
    for change in &diff.changes {
        match change {
            Change::CreateTable(t) => wanted.extend(t.foreign_keys.iter().map(|k| (&t.name, k))),
            Change::AddForeignKey { table, key } => wanted.push((table, key)),
            _ => {}
        }
    }
    let mut chosen = BTreeMap::new();
    for (table, key) in wanted.into_iter().filter(|(_, k)| k.name.is_none()) {
        let id = (table.clone(), key.columns.clone(), key.ref_table.clone());
        chosen.entry(id).or_insert_with(|| {
            names.claim(&table.schema, &table.name, &key.columns.join("_"), "fkey")
        });
    }
    chosen
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label` (`name1_label` without `name2`), the
/// longer of the two names cut a character at a time until the whole fits
/// [`MAX_IDENTIFIER_BYTES`].
fn object_name(name1: &str, name2: &str, label: &str) -> String {
    let parts = if name2.is_empty() { 1 } else { 2 };
    let available = MAX_IDENTIFIER_BYTES.saturating_sub(label.len() + parts);
    let mut first = name1.to_owned();
    let mut second = name2.to_owned();
    while first.len() + second.len() > available {
        if first.len() > second.len() {
            first.pop();
        } else {
            second.pop();
        }
    }
    if second.is_empty() {
        format!("{first}_{label}")
    } else {
        format!("{first}_{second}_{label}")
    }
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
