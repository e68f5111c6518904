//! The differ: two schemas (database, model) → a list of typed changes. Plain values in,
//! plain values out; no SQL. Only what both sides can know is compared, the way diesel's
//! print-schema sees the database: schema.rs carries no defaults, no indexes or unique
//! constraints, no foreign key names or actions, and writes a `joinable!` only for a
//! foreign key diesel can express ([`print_schema_writes_joinable`]), so the model's
//! silence about any other foreign key is not a drop. A `table!` that is a view in the
//! database (or a partition) is neither created nor compared; SQLite's implicit `rowid` key and the
//! nullability of its primary key columns compare as print-schema writes them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::{Column, ForeignKey, Schema, Table, TableName};

/// One difference, with everything needed to apply it and to reverse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A table only the model has.
    CreateTable(Table),
    /// A table only the database has (carried whole, to re-create it on the way down).
    DropTable(Table),
    /// `--rename old=new` for a table.
    RenameTable {
        /// The database's name.
        from: TableName,
        /// The model's name.
        to: TableName,
    },
    /// A column only the model has.
    AddColumn {
        /// The table.
        table: TableName,
        /// The new column.
        column: Column,
    },
    /// A column only the database has.
    DropColumn {
        /// The table.
        table: TableName,
        /// The column as it is now.
        column: Column,
    },
    /// `--rename table.old=new` for a column.
    RenameColumn {
        /// The table.
        table: TableName,
        /// The database's name.
        from: String,
        /// The model's name.
        to: String,
    },
    /// Type and/or nullability differ.
    AlterColumn {
        /// The table.
        table: TableName,
        /// The column as it is.
        from: Column,
        /// The column as the model wants it (database default and extras kept).
        to: Column,
    },
    /// The primary key differs.
    SetPrimaryKey {
        /// The table.
        table: TableName,
        /// The key now.
        from: Vec<String>,
        /// Its constraint's name, when the database has one.
        from_name: Option<String>,
        /// The key the model wants.
        to: Vec<String>,
    },
    /// A foreign key only the model has.
    AddForeignKey {
        /// The table.
        table: TableName,
        /// The key.
        key: ForeignKey,
    },
    /// A foreign key only the database has.
    DropForeignKey {
        /// The table.
        table: TableName,
        /// The key.
        key: ForeignKey,
    },
    /// An enum type the model's columns use and the database lacks (PostgreSQL).
    CreateEnum {
        /// The type.
        name: TableName,
        /// Its labels: the Rust enum's, `None` when no Rust enum maps to it.
        labels: Option<Vec<String>>,
    },
    /// An enum type whose last column goes (carried whole, to create it on the way down).
    DropEnum {
        /// The type.
        name: TableName,
        /// Its labels.
        labels: Vec<String>,
    },
    /// Labels the model has and the database's enum type lacks, none removed or moved:
    /// each is added in its place.
    AddEnumLabels {
        /// The type.
        name: TableName,
        /// The labels now.
        from: Vec<String>,
        /// The labels the model wants.
        to: Vec<String>,
        /// The database's columns of the type (table, column), which undoing it converts.
        columns: Vec<(TableName, Column)>,
    },
    /// Labels removed or moved: the type is made again with the model's labels and every
    /// column using it converted (a row holding a removed label fails the upgrade).
    RebuildEnum {
        /// The type.
        name: TableName,
        /// The labels now.
        from: Vec<String>,
        /// The labels the model wants.
        to: Vec<String>,
        /// The database's columns of the type (table, column), as they are.
        columns: Vec<(TableName, Column)>,
    },
}

impl Change {
    /// The table the change is about (`None` for a change to a type).
    pub fn table(&self) -> Option<&TableName> {
        Some(match self {
            Change::CreateTable(t) | Change::DropTable(t) => &t.name,
            Change::RenameTable { to, .. } => to,
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::SetPrimaryKey { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. } => table,
            Change::CreateEnum { .. }
            | Change::DropEnum { .. }
            | Change::AddEnumLabels { .. }
            | Change::RebuildEnum { .. } => return None,
        })
    }

    /// Why this change can lose data, if it can (dropped table or column, narrower type,
    /// NOT NULL on a nullable column).
    pub fn destructive(&self) -> Option<String> {
        match self {
            Change::DropTable(t) => Some(format!("drops table {} and its rows", t.name)),
            Change::DropColumn { table, column } => Some(format!(
                "drops column {table}.{} and its values",
                column.name
            )),
            Change::AlterColumn { table, from, to } => {
                let mut why = Vec::new();
                if (from.ty.native != to.ty.native || from.ty.labels != to.ty.labels)
                    && from.ty.narrows_to(&to.ty)
                {
                    why.push(format!(
                        "narrows {table}.{} from {} to {}",
                        from.name, from.ty.native, to.ty.native
                    ));
                }
                if from.nullable && !to.nullable {
                    why.push(format!(
                        "makes {table}.{} NOT NULL (fails on NULL rows)",
                        from.name
                    ));
                }
                (!why.is_empty()).then(|| why.join("; "))
            }
            Change::RebuildEnum { name, from, to, .. } => {
                let removed: Vec<&str> = from
                    .iter()
                    .filter(|l| !to.contains(l))
                    .map(String::as_str)
                    .collect();
                (!removed.is_empty()).then(|| {
                    format!(
                        "removes label(s) {} from enum type {name} (the upgrade fails on rows holding them)",
                        removed.join(", ")
                    )
                })
            }
            _ => None,
        }
    }

    /// A one-line description for `check` and the console.
    pub fn describe(&self) -> String {
        match self {
            Change::CreateTable(t) => format!("add table {}", t.name),
            Change::DropTable(t) => format!("drop table {}", t.name),
            Change::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Change::AddColumn { table, column } => format!(
                "add column {table}.{} {}{}",
                column.name,
                column.ty.native,
                if column.nullable { "" } else { " NOT NULL" }
            ),
            Change::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Change::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Change::AlterColumn { table, from, to } => {
                let mut parts = Vec::new();
                if from.ty.native != to.ty.native {
                    parts.push(format!("type {} -> {}", from.ty.native, to.ty.native));
                } else if let (Some(have), Some(want)) = (&from.ty.labels, &to.ty.labels) {
                    parts.push(format!(
                        "labels ({}) -> ({})",
                        have.join(", "),
                        want.join(", ")
                    ));
                }
                if from.nullable != to.nullable {
                    parts.push(if to.nullable {
                        "NULL allowed".to_owned()
                    } else {
                        "NOT NULL".to_owned()
                    });
                }
                format!("alter column {table}.{}: {}", from.name, parts.join(", "))
            }
            Change::SetPrimaryKey {
                table, from, to, ..
            } => format!(
                "primary key of {table}: ({}) -> ({})",
                from.join(", "),
                to.join(", ")
            ),
            Change::AddForeignKey { table, key } => format!(
                "add foreign key {table}({}) -> {}",
                key.columns.join(", "),
                key.ref_table
            ),
            Change::DropForeignKey { table, key } => format!(
                "drop foreign key {table}({}) -> {}",
                key.columns.join(", "),
                key.ref_table
            ),
            Change::CreateEnum { name, labels } => match labels {
                Some(labels) => format!("add enum type {name} ({})", labels.join(", ")),
                None => format!("add enum type {name} (labels unknown)"),
            },
            Change::DropEnum { name, .. } => format!("drop enum type {name}"),
            Change::AddEnumLabels { name, from, to, .. }
            | Change::RebuildEnum { name, from, to, .. } => {
                format!(
                    "labels of enum type {name}: ({}) -> ({})",
                    from.join(", "),
                    to.join(", ")
                )
            }
        }
    }
}

/// A rename: what the database calls a table or a column, and what the model calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    /// A table (`old=new`); names as [`TableName`] displays them (`schema.name` outside
    /// the default schema).
    Table {
        /// The database's name.
        from: String,
        /// The model's name.
        to: String,
    },
    /// A column (`table.old=new`).
    Column {
        /// The table, as either side names it.
        table: String,
        /// The database's name.
        from: String,
        /// The model's name.
        to: String,
    },
}

impl Rename {
    /// Reads `--rename`'s argument: `old=new` for a table, `table.old=new` for a column.
    pub fn parse(text: &str) -> Option<Rename> {
        let (old, new) = text.split_once('=')?;
        let (old, new) = (old.trim(), new.trim());
        if old.is_empty() || new.is_empty() {
            return None;
        }
        Some(match old.rsplit_once('.') {
            Some((table, from)) => Rename::Column {
                table: table.to_owned(),
                from: from.to_owned(),
                to: new.to_owned(),
            },
            None => Rename::Table {
                from: old.to_owned(),
                to: new.to_owned(),
            },
        })
    }
}

impl fmt::Display for Rename {
    /// As `--rename` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rename::Table { from, to } => write!(f, "{from}={to}"),
            Rename::Column { table, from, to } => write!(f, "{table}.{from}={to}"),
        }
    }
}

/// Options of a comparison.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// `--rename`: tables and columns the model renames.
    pub renames: Vec<Rename>,
}

/// The differences and the rename hints.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// The changes, in the order they must run.
    pub changes: Vec<Change>,
    /// Dropped/added pairs of the same type that may be renames.
    pub rename_hints: Vec<Rename>,
}

/// Compares the database (`db`) with the model.
pub fn diff(db: &Schema, model: &Schema, options: &DiffOptions) -> Diff {
    let mut out = Diff::default();
    let table_renames: BTreeMap<&str, &str> = options
        .renames
        .iter()
        .filter_map(|r| match r {
            Rename::Table { from, to } => Some((from.as_str(), to.as_str())),
            Rename::Column { .. } => None,
        })
        .collect();
    // Pair each model table with a database table: same name first, then `--rename`.
    let mut pairs: Vec<(&Table, &Table)> = Vec::new();
    let mut matched_db: BTreeSet<TableName> = model
        .tables
        .keys()
        .filter(|name| db.tables.contains_key(*name))
        .cloned()
        .collect();
    let mut created = Vec::new();
    for (name, target) in &model.tables {
        let source = db.tables.get(name).or_else(|| {
            table_renames
                .iter()
                .find(|(_, new)| **new == name.to_string())
                .and_then(|(old, _)| db.tables.iter().find(|(n, _)| n.to_string() == *old))
                .map(|(_, t)| t)
                .filter(|t| matched_db.insert(t.name.clone()))
        });
        match source {
            Some(source) => {
                if source.name != *name {
                    out.changes.push(Change::RenameTable {
                        from: source.name.clone(),
                        to: name.clone(),
                    });
                }
                pairs.push((source, target));
            }
            // A `table!` for a view or a partition describes it; there is nothing to create.
            None if db.relations.contains_key(name) => {}
            None => created.push(target.clone()),
        }
    }
    let dropped: Vec<&Table> = db
        .tables
        .values()
        .filter(|t| !matched_db.contains(&t.name))
        .collect();
    out.rename_hints
        .extend(table_rename_hints(&dropped, &created));
    let enums = diff_enums(db, model);
    out.changes.extend(enums.before);
    for table in order_for_create(&created) {
        out.changes.push(Change::CreateTable(table.clone()));
    }
    let renamed_tables: BTreeMap<TableName, TableName> = pairs
        .iter()
        .filter(|(source, target)| source.name != target.name)
        .map(|(source, target)| (source.name.clone(), target.name.clone()))
        .collect();
    for (source, target) in &pairs {
        diff_table(source, target, db, options, &renamed_tables, &mut out);
    }
    let mut drops: Vec<Table> = dropped.into_iter().cloned().collect();
    drops = order_for_create(&drops).into_iter().cloned().collect();
    drops.reverse();
    out.changes.extend(drops.into_iter().map(Change::DropTable));
    out.changes.extend(enums.after);
    out
}

/// Dropped and created tables that may be one table renamed: every column of the dropped
/// table lives on, same name and type, in the new one, and they make up at least half of
/// it (a lone `id` proves nothing).
fn table_rename_hints(dropped: &[&Table], created: &[Table]) -> Vec<Rename> {
    let mut hints = Vec::new();
    for gone in dropped {
        for new in created {
            let same_shape = gone.columns.len() >= 2
                && gone.columns.len() * 2 >= new.columns.len()
                && gone.columns.iter().all(|a| {
                    new.column(&a.name)
                        .is_some_and(|b| a.ty.satisfies(&b.ty) || b.ty.satisfies(&a.ty))
                });
            if same_shape {
                hints.push(Rename::Table {
                    from: gone.name.to_string(),
                    to: new.name.to_string(),
                });
            }
        }
    }
    hints
}

/// The enum type changes: those that must run before the tables change (types created,
/// labels added or the type rebuilt), and those after (types no column uses any more).
struct EnumChanges {
    before: Vec<Change>,
    after: Vec<Change>,
}

/// The columns of `schema` whose type is the enum type `name` (or an array of it).
fn columns_of_type<'s>(
    schema: &'s Schema,
    name: &'s TableName,
) -> impl Iterator<Item = (&'s Table, &'s Column)> + 's {
    schema.tables.values().flat_map(move |t| {
        t.columns
            .iter()
            .filter(move |c| {
                let native = c.ty.native.trim_end_matches("[]");
                TableName::parse_qualified(native, None) == *name
                    || (name.schema.is_none() && native == name.name)
            })
            .map(move |c| (t, c))
    })
}

/// Whether the database has the type `name` as another kind of type, or a column of it (an
/// unqualified name is looked for in every schema: the search path finds `pg_catalog`'s).
fn has_type(db: &Schema, name: &TableName) -> bool {
    db.types.contains(name)
        || (name.schema.is_none() && db.types.iter().any(|t| t.name == name.name))
        || columns_of_type(db, name).next().is_some()
}

/// Compares the enum types (PostgreSQL's; the other backends keep labels in the column
/// type). A model type with unknown labels is compared by name only; one the database has
/// as another kind of type (a domain, an extension's) is left alone.
fn diff_enums(db: &Schema, model: &Schema) -> EnumChanges {
    let mut out = EnumChanges {
        before: Vec::new(),
        after: Vec::new(),
    };
    for (name, labels) in &model.enums {
        let used = columns_of_type(model, name).next().is_some();
        match db.enums.get(name) {
            Some(Some(have)) => {
                let Some(want) = labels else { continue };
                if have == want {
                    continue;
                }
                // Kept labels in the same order: each new one can be added in its place.
                let kept: Vec<&String> = want.iter().filter(|l| have.contains(l)).collect();
                let only_added = kept.len() == have.len() && kept.iter().copied().eq(have.iter());
                let (name, from, to) = (name.clone(), have.clone(), want.clone());
                let columns = columns_of_type(db, &name)
                    .map(|(t, c)| (t.name.clone(), c.clone()))
                    .collect();
                out.before.push(if only_added {
                    Change::AddEnumLabels {
                        name,
                        from,
                        to,
                        columns,
                    }
                } else {
                    Change::RebuildEnum {
                        name,
                        from,
                        to,
                        columns,
                    }
                });
            }
            Some(None) => {}
            None if used && !has_type(db, name) => out.before.push(Change::CreateEnum {
                name: name.clone(),
                labels: labels.clone(),
            }),
            None => {}
        }
    }
    for (name, labels) in &db.enums {
        let used_by_db = columns_of_type(db, name).next().is_some();
        let used_by_model = columns_of_type(model, name).next().is_some();
        if used_by_db && !used_by_model {
            out.after.push(Change::DropEnum {
                name: name.clone(),
                labels: labels.clone().unwrap_or_default(),
            });
        }
    }
    out
}

/// One table both sides have: its columns, then its keys, in the order they must run
/// (renames, new columns, altered columns, foreign keys dropped, the primary key, foreign
/// keys added, dropped columns last).
fn diff_table(
    source: &Table,
    target: &Table,
    db: &Schema,
    options: &DiffOptions,
    renamed_tables: &BTreeMap<TableName, TableName>,
    out: &mut Diff,
) {
    let target = &without_implicit_key(source, target);
    let table = &target.name;
    let names = ColumnNames::new(options, renamed_tables, source, target);
    let columns = diff_columns(source, target, &names);
    for gone in &columns.drops {
        for new in &columns.adds {
            if gone.ty.satisfies(&new.ty) || new.ty.satisfies(&gone.ty) {
                out.rename_hints.push(Rename::Column {
                    table: table.to_string(),
                    from: gone.name.clone(),
                    to: new.name.clone(),
                });
            }
        }
    }
    out.changes.extend(columns.renames);
    out.changes
        .extend(columns.adds.into_iter().map(|column| Change::AddColumn {
            table: table.clone(),
            column,
        }));
    out.changes.extend(columns.alters);
    out.changes.extend(
        dropped_foreign_keys(source, target, db, &names, &columns.drops).map(|key| {
            Change::DropForeignKey {
                table: table.clone(),
                key,
            }
        }),
    );
    if !target.primary_key.is_empty() && names.renamed(&source.primary_key) != target.primary_key {
        out.changes.push(Change::SetPrimaryKey {
            table: table.clone(),
            from: source.primary_key.clone(),
            from_name: source.primary_key_name.clone(),
            to: target.primary_key.clone(),
        });
    }
    out.changes
        .extend(
            added_foreign_keys(source, target, db, &names).map(|key| Change::AddForeignKey {
                table: table.clone(),
                key,
            }),
        );
    out.changes
        .extend(columns.drops.into_iter().map(|column| Change::DropColumn {
            table: table.clone(),
            column,
        }));
}

/// The database's column names of one table as the model calls them (`--rename`), and
/// the tables the model renames (which the table's foreign keys may reference).
struct ColumnNames<'a> {
    /// Database name → model name, for the renamed columns.
    renames: BTreeMap<&'a str, &'a str>,
    /// Database name → model name, for the renamed tables.
    tables: &'a BTreeMap<TableName, TableName>,
}

impl<'a> ColumnNames<'a> {
    fn new(
        options: &'a DiffOptions,
        tables: &'a BTreeMap<TableName, TableName>,
        source: &Table,
        target: &Table,
    ) -> Self {
        let renames = options
            .renames
            .iter()
            .filter_map(|r| match r {
                Rename::Column { table, from, to }
                    if *table == target.name.to_string() || *table == source.name.to_string() =>
                {
                    Some((from.as_str(), to.as_str()))
                }
                _ => None,
            })
            .collect();
        ColumnNames { renames, tables }
    }

    /// A database foreign key as it reads once the renames have run: its columns and the
    /// table it references by the model's names.
    fn key_as_model(&self, key: &ForeignKey) -> ForeignKey {
        ForeignKey {
            columns: self.renamed(&key.columns),
            ref_table: self
                .tables
                .get(&key.ref_table)
                .cloned()
                .unwrap_or_else(|| key.ref_table.clone()),
            ..key.clone()
        }
    }

    /// The model's names for database columns.
    fn renamed(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .map(|c| {
                self.renames
                    .get(c.as_str())
                    .map_or(c.clone(), |n| (*n).to_owned())
            })
            .collect()
    }

    /// The database's name of a column the model renames to `model_name`.
    fn renamed_from(&self, model_name: &str) -> Option<&'a str> {
        self.renames
            .iter()
            .find(|(_, new)| **new == model_name)
            .map(|(old, _)| *old)
    }
}

/// The columns of one table compared.
#[derive(Default)]
struct ColumnChanges {
    /// `RenameColumn`s, in the model's column order.
    renames: Vec<Change>,
    /// Columns only the model has.
    adds: Vec<Column>,
    /// `AlterColumn`s: type or nullability differ.
    alters: Vec<Change>,
    /// Columns only the database has.
    drops: Vec<Column>,
}

fn diff_columns(source: &Table, target: &Table, names: &ColumnNames) -> ColumnChanges {
    let table = &target.name;
    let mut out = ColumnChanges::default();
    let mut seen = BTreeSet::new();
    for want in &target.columns {
        let have = source.column(&want.name).or_else(|| {
            names
                .renamed_from(&want.name)
                .and_then(|old| source.column(old))
        });
        let Some(have) = have else {
            out.adds.push(want.clone());
            continue;
        };
        seen.insert(have.name.clone());
        if have.name != want.name {
            out.renames.push(Change::RenameColumn {
                table: table.clone(),
                from: have.name.clone(),
                to: want.name.clone(),
            });
        }
        out.alters.extend(altered_column(table, have, want));
    }
    out.drops = source
        .columns
        .iter()
        .filter(|c| !seen.contains(&c.name))
        .cloned()
        .collect();
    out
}

/// The `AlterColumn` from the database's column `have` to the model's `want`, if their
/// type or nullability differ (the database's default and extras kept).
fn altered_column(table: &TableName, have: &Column, want: &Column) -> Option<Change> {
    let type_differs = !have.ty.satisfies(&want.ty);
    let null_differs = have.nullable != want.nullable && !have.nullability_either;
    if !type_differs && !null_differs {
        return None;
    }
    let mut to = have.clone();
    to.name = want.name.clone();
    if null_differs {
        to.nullable = want.nullable;
    }
    if type_differs {
        to.ty = want.ty.clone();
    }
    Some(Change::AlterColumn {
        table: table.clone(),
        from: Column {
            name: want.name.clone(),
            ..have.clone()
        },
        to,
    })
}

/// Whether two foreign keys are the same key: same columns, same referenced table.
fn same_foreign_key(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns && a.ref_table == b.ref_table
}

/// The database's foreign keys the model has no `joinable!` for, as they read once the
/// renames have run (the drop comes after them). A key print-schema would not write as
/// `joinable!` is not compared; one on a dropped column goes with it.
fn dropped_foreign_keys<'s>(
    source: &'s Table,
    target: &'s Table,
    db: &'s Schema,
    names: &'s ColumnNames,
    drops: &'s [Column],
) -> impl Iterator<Item = ForeignKey> + 's {
    source
        .foreign_keys
        .iter()
        .filter(move |key| {
            let as_model = names.key_as_model(key);
            let on_dropped_column = key
                .columns
                .iter()
                .any(|c| drops.iter().any(|d| &d.name == c));
            print_schema_writes_joinable(db, &source.name, key)
                && !on_dropped_column
                && !target
                    .foreign_keys
                    .iter()
                    .any(|m| same_foreign_key(m, &as_model))
        })
        .map(|key| names.key_as_model(key))
}

/// The model's `joinable!`s no database foreign key stands for. A `joinable!` to a view's
/// `table!` is for queries only: no key can reference a view.
fn added_foreign_keys<'s>(
    source: &'s Table,
    target: &'s Table,
    db: &'s Schema,
    names: &'s ColumnNames,
) -> impl Iterator<Item = ForeignKey> + 's {
    target
        .foreign_keys
        .iter()
        .filter(move |key| {
            let exists = source
                .foreign_keys
                .iter()
                .any(|s| same_foreign_key(&names.key_as_model(s), key));
            let to_view = db.relations.contains_key(&key.ref_table)
                && !db.tables.contains_key(&key.ref_table);
            !exists && !to_view
        })
        .cloned()
}

/// Whether diesel's print-schema writes a `joinable!` for this foreign key of `child`
/// (diesel_cli's `remove_unsafe_foreign_keys_for_codegen`): not self-referencing, one
/// column, referencing the single-column primary key of a table of the same schema that
/// is compared, and the only foreign key between the two tables in either direction.
pub fn print_schema_writes_joinable(db: &Schema, child: &TableName, key: &ForeignKey) -> bool {
    if key.ref_table == *child || key.ref_table.schema != child.schema || key.columns.len() != 1 {
        return false;
    }
    let Some(parent) = db.tables.get(&key.ref_table) else {
        return false;
    };
    let [parent_key] = parent.primary_key.as_slice() else {
        return false;
    };
    if !(key.ref_columns.is_empty() || key.ref_columns == [parent_key.clone()]) {
        return false;
    }
    let between = |from: &TableName, to: &TableName| {
        db.tables.get(from).map_or(0, |t| {
            t.foreign_keys.iter().filter(|k| k.ref_table == *to).count()
        })
    };
    between(child, &parent.name) + between(&parent.name, child) == 1
}

/// The model's table as it would compare with `source`: print-schema keys a table without
/// a primary key by its implicit row key (SQLite's `rowid`), an `Integer` or `BigInt`
/// column the database does not list.
fn without_implicit_key(source: &Table, target: &Table) -> Table {
    let mut target = target.clone();
    if let (Some(key), [model_key]) = (&source.implicit_key, target.primary_key.as_slice())
        && key == model_key
        && source.column(key).is_none()
        && target.column(key).is_some_and(|c| c.ty.is_int_or_bigint())
    {
        let key = key.clone();
        target.columns.retain(|c| c.name != key);
        target.primary_key.clear();
    }
    target
}

/// Tables ordered so that referenced tables come first (cycles keep name order).
fn order_for_create(tables: &[Table]) -> Vec<&Table> {
    let mut done: BTreeSet<&TableName> = BTreeSet::new();
    let mut order = Vec::new();
    let mut pending: Vec<&Table> = tables.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let names: BTreeSet<&TableName> = pending.iter().map(|t| &t.name).collect();
        pending.retain(|t| {
            let ready = t.foreign_keys.iter().all(|fk| {
                fk.ref_table == t.name
                    || !names.contains(&fk.ref_table)
                    || done.contains(&fk.ref_table)
            });
            if ready {
                order.push(*t);
            }
            !ready
        });
        for t in &order {
            done.insert(&t.name);
        }
        if pending.len() == before {
            // A cycle: take the rest in name order; foreign keys are added afterwards.
            order.append(&mut pending);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::sqltype::SqlType;

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty: SqlType::from_catalog(ty, Backend::Postgres),
            nullable,
            default: None,
            extra: None,
            nullability_either: false,
        }
    }

    fn table(name: &str, columns: Vec<Column>) -> Table {
        Table {
            name: TableName::new(name),
            columns,
            primary_key: vec!["id".into()],
            primary_key_name: None,
            foreign_keys: vec![],
            indexes: vec![],
            implicit_key: None,
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
            enums: Default::default(),
            types: Default::default(),
            relations: Default::default(),
        }
    }

    #[test]
    fn each_kind_of_change() {
        let db = schema(vec![
            table(
                "users",
                vec![
                    col("id", "integer", false),
                    col("name", "character varying(40)", true),
                    col("old", "text", true),
                ],
            ),
            table("gone", vec![col("id", "integer", false)]),
        ]);
        let mut posts = table(
            "posts",
            vec![
                col("id", "integer", false),
                col("user_id", "integer", false),
            ],
        );
        posts.foreign_keys.push(fk(&["user_id"], "users"));
        let model = schema(vec![
            table(
                "users",
                vec![
                    col("id", "integer", false),
                    col("name", "character varying(100)", false),
                    col("age", "integer", true),
                ],
            ),
            posts,
        ]);
        let d = diff(&db, &model, &DiffOptions::default());
        let described: Vec<String> = d.changes.iter().map(Change::describe).collect();
        assert_eq!(
            described,
            [
                "add table posts",
                "add column users.age integer",
                "alter column users.name: type character varying(40) -> character varying(100), NOT NULL",
                "drop column users.old",
                "drop table gone",
            ]
        );
        assert!(d.changes[2].destructive().unwrap().contains("NOT NULL"));
        assert!(d.changes[3].destructive().is_some());
        // `old` (text) and `age` (integer) differ in type: no rename hint.
        assert!(d.rename_hints.is_empty(), "{:?}", d.rename_hints);
        let renamed = diff(
            &db,
            &model,
            &DiffOptions {
                renames: vec![Rename::parse("users.old=age").unwrap()],
            },
        );
        assert!(
            renamed
                .changes
                .iter()
                .any(|c| c.describe() == "rename column users.old to age")
        );
        assert!(
            !renamed
                .changes
                .iter()
                .any(|c| matches!(c, Change::DropColumn { .. }))
        );
    }

    #[test]
    fn rename_hints_for_same_typed_pairs() {
        let db = schema(vec![table(
            "users",
            vec![col("id", "integer", false), col("nick", "text", true)],
        )]);
        let model = schema(vec![table(
            "users",
            vec![col("id", "integer", false), col("handle", "text", true)],
        )]);
        let hints = diff(&db, &model, &DiffOptions::default()).rename_hints;
        assert_eq!(
            hints.iter().map(Rename::to_string).collect::<Vec<_>>(),
            ["users.nick=handle"]
        );
        assert_eq!(
            Rename::parse(&hints[0].to_string()).as_ref(),
            Some(&hints[0])
        );
    }

    /// An unnamed foreign key, as a `joinable!` gives it.
    fn fk(columns: &[&str], parent: &str) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            ref_table: TableName::new(parent),
            ref_columns: vec![],
            on_delete: None,
            on_update: None,
        }
    }

    #[test]
    fn foreign_keys_print_schema_writes_no_joinable_for_are_not_compared() {
        let mut users = table(
            "users",
            vec![col("id", "integer", false), col("post_id", "integer", true)],
        );
        let mut posts = table(
            "posts",
            vec![
                col("id", "integer", false),
                col("user_id", "integer", false),
            ],
        );
        // Both directions between users and posts.
        users.foreign_keys.push(fk(&["post_id"], "posts"));
        posts.foreign_keys.push(fk(&["user_id"], "users"));
        let mut comments = table(
            "comments",
            vec![
                col("id", "integer", false),
                col("parent_id", "integer", true),
                col("post_id", "integer", false),
                col("a", "integer", false),
                col("b", "integer", false),
            ],
        );
        comments.foreign_keys.push(fk(&["parent_id"], "comments"));
        comments.foreign_keys.push(fk(&["post_id"], "posts"));
        let mut pair = table(
            "pair",
            vec![col("a", "integer", false), col("b", "integer", false)],
        );
        pair.primary_key = vec!["a".into(), "b".into()];
        comments.foreign_keys.push(fk(&["a", "b"], "pair"));
        let db = schema(vec![
            users.clone(),
            posts.clone(),
            comments.clone(),
            pair.clone(),
        ]);
        let writes =
            |t: &Table, i: usize| print_schema_writes_joinable(&db, &t.name, &t.foreign_keys[i]);
        assert!(!writes(&users, 0) && !writes(&posts, 0));
        assert!(!writes(&comments, 0), "self-referencing");
        assert!(writes(&comments, 1));
        assert!(!writes(&comments, 2), "composite");
        // The model print-schema writes: no keys but comments -> posts.
        let mut model = db.clone();
        for t in model.tables.values_mut() {
            t.foreign_keys
                .retain(|k| k.columns == ["post_id"] && t.name.name == "comments");
        }
        assert!(
            diff(&db, &model, &DiffOptions::default())
                .changes
                .is_empty()
        );
        // Without comments -> posts in the model, that one key is a drop.
        let mut without = model.clone();
        without
            .tables
            .get_mut(&TableName::new("comments"))
            .unwrap()
            .foreign_keys
            .clear();
        let changes = diff(&db, &without, &DiffOptions::default()).changes;
        assert_eq!(
            changes.iter().map(Change::describe).collect::<Vec<_>>(),
            ["drop foreign key comments(post_id) -> posts"]
        );
    }

    #[test]
    fn views_implicit_keys_and_either_nullability() {
        let mut log = table("log", vec![col("note", "text", true)]);
        log.primary_key.clear();
        log.implicit_key = Some("rowid".into());
        let mut codes = table("codes", vec![col("code", "text", true)]);
        codes.primary_key = vec!["code".into()];
        codes.columns[0].nullability_either = true;
        let mut db = schema(vec![log.clone(), codes.clone()]);
        db.relations
            .insert(TableName::new("active"), crate::model::RelationKind::View);
        let mut model_log = table(
            "log",
            vec![col("rowid", "integer", false), col("note", "text", true)],
        );
        model_log.primary_key = vec!["rowid".into()];
        let mut model_codes = table("codes", vec![col("code", "text", false)]);
        model_codes.primary_key = vec!["code".into()];
        let active = table("active", vec![col("id", "integer", false)]);
        // A joinable! to the view's table! is for queries: no foreign key to add.
        let posts = table(
            "posts",
            vec![
                col("id", "integer", false),
                col("active_id", "integer", false),
            ],
        );
        db.tables.insert(posts.name.clone(), posts.clone());
        let mut model_posts = posts.clone();
        model_posts.foreign_keys.push(fk(&["active_id"], "active"));
        let model = schema(vec![model_log, model_codes, active, model_posts]);
        assert!(
            diff(&db, &model, &DiffOptions::default())
                .changes
                .is_empty()
        );
    }

    #[test]
    fn enum_types_are_created_only_where_the_database_has_no_such_type() {
        let mut db = schema(vec![]);
        db.types
            .insert(TableName::parse_qualified("pg_catalog.tsvector", None));
        let mut model = schema(vec![table(
            "docs",
            vec![
                col("id", "integer", false),
                col("tsv", "tsvector", true),
                col("mood", "mood", true),
                col("level", "level", true),
            ],
        )]);
        model.enums.insert(TableName::new("tsvector"), None);
        model.enums.insert(TableName::new("mood"), None);
        model.enums.insert(
            TableName::new("level"),
            Some(vec!["low".into(), "high".into()]),
        );
        model.enums.insert(TableName::new("unused"), None);
        let described: Vec<String> = diff(&db, &model, &DiffOptions::default())
            .changes
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            [
                "add enum type level (low, high)",
                "add enum type mood (labels unknown)",
                "add table docs"
            ]
        );
        // Labels added in place; one removed rebuilds the type; no model column: dropped.
        let mut db = model.clone();
        db.enums = [
            (TableName::new("level"), Some(vec!["high".into()])),
            (TableName::new("mood"), Some(vec!["a".into(), "b".into()])),
        ]
        .into();
        db.types = model.enums.keys().cloned().collect();
        let mut model = db.clone();
        model.enums = [
            (
                TableName::new("level"),
                Some(vec!["low".into(), "high".into()]),
            ),
            (TableName::new("mood"), Some(vec!["b".into()])),
        ]
        .into();
        let d = diff(&db, &model, &DiffOptions::default());
        assert!(matches!(&d.changes[0], Change::AddEnumLabels { to, .. } if to.len() == 2));
        assert!(
            d.changes[1]
                .destructive()
                .unwrap()
                .contains("removes label(s) a")
        );
        model.tables.clear();
        let d = diff(&db, &model, &DiffOptions::default());
        assert_eq!(d.changes.last().unwrap().describe(), "drop enum type mood");
    }

    #[test]
    fn equal_schemas_have_no_changes() {
        let s = schema(vec![table("users", vec![col("id", "integer", false)])]);
        assert!(diff(&s, &s, &DiffOptions::default()).changes.is_empty());
    }
}
