//! The differ: two schemas (database, model) → a list of typed changes. Plain values in,
//! plain values out; no SQL. Only what both sides can know is compared, the way diesel's
//! print-schema sees the database: schema.rs carries no defaults, no indexes or unique
//! constraints, no foreign key names or actions, and writes a `joinable!` only for a
//! foreign key diesel can express ([`print_schema_writes_joinable`]), so the model's
//! silence about any other foreign key is not a drop. A `table!` that is a view in the
//! database (or a partition) is neither created nor compared; SQLite's implicit `rowid` key and the
//! nullability of its primary key columns compare as print-schema writes them.

use std::collections::{BTreeMap, BTreeSet};

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
        /// The key now (and its constraint name).
        from: (Vec<String>, Option<String>),
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
}

impl Change {
    /// The change that undoes this one.
    pub fn reverse(&self) -> Change {
        match self.clone() {
            Change::CreateTable(t) => Change::DropTable(t),
            Change::DropTable(t) => Change::CreateTable(t),
            Change::RenameTable { from, to } => Change::RenameTable { from: to, to: from },
            Change::AddColumn { table, column } => Change::DropColumn { table, column },
            Change::DropColumn { table, column } => Change::AddColumn { table, column },
            Change::RenameColumn { table, from, to } => Change::RenameColumn {
                table,
                from: to,
                to: from,
            },
            Change::AlterColumn { table, from, to } => Change::AlterColumn {
                table,
                from: to,
                to: from,
            },
            Change::SetPrimaryKey { table, from, to } => Change::SetPrimaryKey {
                table,
                from: (to, None),
                to: from.0,
            },
            Change::AddForeignKey { table, key } => Change::DropForeignKey { table, key },
            Change::DropForeignKey { table, key } => Change::AddForeignKey { table, key },
        }
    }

    /// The table the change is about.
    pub fn table(&self) -> &TableName {
        match self {
            Change::CreateTable(t) | Change::DropTable(t) => &t.name,
            Change::RenameTable { to, .. } => to,
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::SetPrimaryKey { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. } => table,
        }
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
                if from.ty.native != to.ty.native && from.ty.narrows_to(&to.ty) {
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
            Change::SetPrimaryKey { table, from, to } => format!(
                "primary key of {table}: ({}) -> ({})",
                from.0.join(", "),
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
        }
    }
}

/// Options of a comparison.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// `--rename` pairs: `old=new` (tables) or `table.old=new` (columns).
    pub renames: Vec<(String, String)>,
}

/// The differences and the rename hints.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// The changes, in the order they must run.
    pub changes: Vec<Change>,
    /// Dropped/added pairs of the same type that may be renames (`--rename` spelled out).
    pub rename_hints: Vec<String>,
}

/// Compares the database (`db`) with the model.
pub fn diff(db: &Schema, model: &Schema, options: &DiffOptions) -> Diff {
    let mut out = Diff::default();
    let table_renames: BTreeMap<&str, &str> = options
        .renames
        .iter()
        .filter(|(old, _)| !old.contains('.'))
        .map(|(o, n)| (o.as_str(), n.as_str()))
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
    for gone in &dropped {
        for new in &created {
            // Every column of the dropped table lives on, same name and type, in the new
            // one, and they make up at least half of it (a lone `id` proves nothing).
            let same_shape = gone.columns.len() >= 2
                && gone.columns.len() * 2 >= new.columns.len()
                && gone.columns.iter().all(|a| {
                    new.column(&a.name)
                        .is_some_and(|b| a.ty.satisfies(&b.ty) || b.ty.satisfies(&a.ty))
                });
            if same_shape {
                out.rename_hints.push(format!("{}={}", gone.name, new.name));
            }
        }
    }
    for table in order_for_create(&created) {
        out.changes.push(Change::CreateTable(table.clone()));
    }
    for (source, target) in &pairs {
        diff_table(source, target, db, options, &mut out);
    }
    let mut drops: Vec<Table> = dropped.into_iter().cloned().collect();
    drops = order_for_create(&drops).into_iter().cloned().collect();
    drops.reverse();
    out.changes.extend(drops.into_iter().map(Change::DropTable));
    out
}

fn diff_table(source: &Table, target: &Table, db: &Schema, options: &DiffOptions, out: &mut Diff) {
    let target = &without_implicit_key(source, target);
    let table = &target.name;
    let column_renames: BTreeMap<&str, &str> = options
        .renames
        .iter()
        .filter_map(|(old, new)| {
            let (t, column) = old.rsplit_once('.')?;
            (t == table.to_string() || t == source.name.to_string())
                .then_some((column, new.as_str()))
        })
        .collect();
    // The database's column names as the model calls them (after `--rename`).
    let renamed = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .map(|c| {
                column_renames
                    .get(c.as_str())
                    .map_or(c.clone(), |n| (*n).to_owned())
            })
            .collect()
    };
    let mut adds = Vec::new();
    let mut alters = Vec::new();
    let mut seen = BTreeSet::new();
    for want in &target.columns {
        let have = source.column(&want.name).or_else(|| {
            column_renames
                .iter()
                .find(|(_, new)| **new == want.name)
                .and_then(|(old, _)| source.column(old))
        });
        match have {
            None => adds.push(want.clone()),
            Some(have) => {
                seen.insert(have.name.clone());
                if have.name != want.name {
                    out.changes.push(Change::RenameColumn {
                        table: table.clone(),
                        from: have.name.clone(),
                        to: want.name.clone(),
                    });
                }
                let type_differs = !have.ty.satisfies(&want.ty);
                let null_differs = have.nullable != want.nullable && !have.nullability_either;
                if type_differs || null_differs {
                    let mut to = have.clone();
                    to.name = want.name.clone();
                    if null_differs {
                        to.nullable = want.nullable;
                    }
                    if type_differs {
                        to.ty = want.ty.clone();
                    }
                    alters.push(Change::AlterColumn {
                        table: table.clone(),
                        from: Column {
                            name: want.name.clone(),
                            ..have.clone()
                        },
                        to,
                    });
                }
            }
        }
    }
    let drops: Vec<Column> = source
        .columns
        .iter()
        .filter(|c| !seen.contains(&c.name))
        .cloned()
        .collect();
    for gone in &drops {
        for new in &adds {
            if gone.ty.satisfies(&new.ty) || new.ty.satisfies(&gone.ty) {
                out.rename_hints
                    .push(format!("{table}.{}={}", gone.name, new.name));
            }
        }
    }
    for column in adds {
        out.changes.push(Change::AddColumn {
            table: table.clone(),
            column,
        });
    }
    out.changes.extend(alters);
    // Foreign keys: a database key print-schema would not write as `joinable!` is not
    // compared; the model's `joinable!` must exist as some foreign key.
    let same_fk =
        |a: &ForeignKey, b: &ForeignKey| a.columns == b.columns && a.ref_table == b.ref_table;
    for key in &source.foreign_keys {
        let renamed_columns: Vec<String> = renamed(&key.columns);
        let as_model = ForeignKey {
            columns: renamed_columns,
            ..key.clone()
        };
        let dropped_column = key
            .columns
            .iter()
            .any(|c| drops.iter().any(|d| &d.name == c));
        if print_schema_writes_joinable(db, &source.name, key)
            && !dropped_column
            && !target.foreign_keys.iter().any(|m| same_fk(m, &as_model))
        {
            out.changes.push(Change::DropForeignKey {
                table: table.clone(),
                key: key.clone(),
            });
        }
    }
    if !target.primary_key.is_empty() && renamed(&source.primary_key) != target.primary_key {
        out.changes.push(Change::SetPrimaryKey {
            table: table.clone(),
            from: (source.primary_key.clone(), source.primary_key_name.clone()),
            to: target.primary_key.clone(),
        });
    }
    for key in &target.foreign_keys {
        let exists = source.foreign_keys.iter().any(|s| {
            let columns: Vec<String> = renamed(&s.columns);
            columns == key.columns && s.ref_table == key.ref_table
        });
        // A `joinable!` to a view's `table!` is for queries only: no key can reference it.
        let to_view =
            db.relations.contains_key(&key.ref_table) && !db.tables.contains_key(&key.ref_table);
        if !exists && !to_view {
            out.changes.push(Change::AddForeignKey {
                table: table.clone(),
                key: key.clone(),
            });
        }
    }
    for column in drops {
        out.changes.push(Change::DropColumn {
            table: table.clone(),
            column,
        });
    }
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
        && target.column(key).is_some_and(|c| {
            matches!(c.ty.kind.as_str(), "Integer" | "BigInt" | "Int4" | "Int8") && !c.ty.array
        })
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
            relations: Default::default(),
        }
    }

    #[test]
    fn each_kind_of_change_and_its_reverse() {
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
        posts.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["user_id".into()],
            ref_table: TableName::new("users"),
            ref_columns: vec![],
            on_delete: None,
            on_update: None,
        });
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
        assert_eq!(d.changes[1].reverse().reverse(), d.changes[1]);
        // `old` (text) and `age` (integer) differ in type: no rename hint.
        assert!(d.rename_hints.is_empty(), "{:?}", d.rename_hints);
        let renamed = diff(
            &db,
            &model,
            &DiffOptions {
                renames: vec![("users.old".into(), "age".into())],
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
        assert_eq!(
            diff(&db, &model, &DiffOptions::default()).rename_hints,
            ["users.nick=handle"]
        );
    }

    fn fk(columns: &[&str], parent: &str) -> ForeignKey {
        ForeignKey {
            name: Some(format!("fk_{}", columns.join("_"))),
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
            for k in &mut t.foreign_keys {
                k.name = None;
            }
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
        let mut to_view = fk(&["active_id"], "active");
        to_view.name = None;
        model_posts.foreign_keys.push(to_view);
        let model = schema(vec![model_log, model_codes, active, model_posts]);
        assert!(
            diff(&db, &model, &DiffOptions::default())
                .changes
                .is_empty()
        );
    }

    #[test]
    fn equal_schemas_have_no_changes() {
        let s = schema(vec![table("users", vec![col("id", "integer", false)])]);
        assert!(diff(&s, &s, &DiffOptions::default()).changes.is_empty());
    }
}
