//! Pinned output: the changes, up.sql and down.sql that autogenerate writes for each kind
//! of change on each backend, as insta snapshots (`snapshots/plan_sql__*.snap`), so a change
//! in the generated SQL is a reviewed diff. No database: the differ and the planner run on
//! plain schema values; the database side is a model shaped the way `inspect` reads each
//! backend (constraint names, identity and auto-increment columns, MySQL's foreign key
//! indexes, SQLite's unnamed keys).

use std::path::Path;

use dbkit::Backend;
use dbkit::autogen::parse_rename;
use dbkit::changes::{Change, DiffOptions, diff};
use dbkit::model::{Column, Index, Schema, Table, TableName};
use dbkit::plan::{PlanOptions, plan};
use dbkit::rust_model::read_model_str;

const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::Mysql];

/// The model most cases start from (and change a little).
const BASE: &str = r#"
diesel::table! {
    users (id) {
        id -> Integer,
        #[max_length = 40]
        name -> Varchar,
        email -> Nullable<Text>,
        age -> Integer,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        title -> Text,
    }
}

diesel::table! {
    pairs (left_id, right_id) {
        left_id -> Integer,
        right_id -> Integer,
    }
}

diesel::joinable!(posts -> users (user_id));
"#;

/// A schema.rs text read for `backend`.
fn model(text: &str, backend: Backend) -> Schema {
    read_model_str(Path::new("src/schema.rs"), text, backend).expect("model")
}

/// The model as the database holds it after creating it: constraint names where the
/// backend has them, numbering on single integer keys, the referenced columns of foreign
/// keys, MySQL's index per foreign key.
fn database(text: &str, backend: Backend) -> Schema {
    let mut schema = model(text, backend);
    let primary_keys: Vec<(TableName, Vec<String>)> = schema
        .tables
        .values()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for table in schema.tables.values_mut() {
        for key in &mut table.foreign_keys {
            if let Some((_, columns)) = primary_keys.iter().find(|(t, _)| *t == key.ref_table) {
                key.ref_columns = columns.clone();
            }
        }
        table.primary_key_name = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(format!("{}_pkey", table.name.name)),
            Backend::Mysql => Some("PRIMARY".into()),
        };
        if let [key] = table.primary_key.as_slice()
            && let Some(column) = table.columns.iter_mut().find(|c| &c.name == key)
        {
            column.extra = match backend {
                Backend::Sqlite => None,
                Backend::Postgres => Some("identity".into()),
                Backend::Mysql => Some("auto_increment".into()),
            };
        }
        let table_name = table.name.name.clone();
        for key in &mut table.foreign_keys {
            if backend == Backend::Sqlite {
                continue;
            }
            let name = format!("{table_name}_{}_fkey", key.columns.join("_"));
            key.name = Some(name.clone());
            if backend == Backend::Mysql {
                table.indexes.push(index(&name, &key.columns, false, false));
            }
        }
    }
    schema
}

fn index(name: &str, columns: &[String], unique: bool, constraint: bool) -> Index {
    Index {
        name: name.into(),
        columns: columns.to_vec(),
        unique,
        constraint,
    }
}

fn table<'a>(schema: &'a mut Schema, name: &str) -> &'a mut Table {
    schema.tables.get_mut(&TableName::new(name)).expect("table")
}

fn column<'a>(table: &'a mut Table, name: &str) -> &'a mut Column {
    table
        .columns
        .iter_mut()
        .find(|c| c.name == name)
        .expect("column")
}

/// What autogenerate writes for `db` → `model`: the changes `check` lists, up.sql, down.sql.
fn generated(
    db: &Schema,
    model: &Schema,
    backend: Backend,
    renames: &[&str],
    first_rows: bool,
) -> String {
    let options = DiffOptions {
        renames: renames
            .iter()
            .map(|r| parse_rename(r).expect("rename"))
            .collect(),
    };
    let found = diff(db, model, &options);
    let planned = plan(db, model, &found, backend, PlanOptions { first_rows });
    let changes: Vec<String> = found.changes.iter().map(Change::describe).collect();
    let mut text = format!("-- changes\n{}\n", changes.join("\n"));
    let revisions = planned.revisions();
    for (i, revision) in revisions.iter().enumerate() {
        // The first revision's files keep their old headings; a follow-up is numbered.
        let (up, down) = if i == 0 {
            ("up.sql".to_owned(), "down.sql".to_owned())
        } else {
            (
                format!("revision {} up.sql", i + 1),
                format!("revision {} down.sql", i + 1),
            )
        };
        if !revision.run_in_transaction {
            text.push_str(&format!(
                "\n-- revision {} metadata.toml: run_in_transaction = false\n",
                i + 1
            ));
        }
        text.push_str(&format!(
            "\n-- {up}\n{}\n\n-- {down}\n{}\n",
            revision.up, revision.down
        ));
    }
    text
}

/// Snapshots `case` on every backend: `db` and `model` build both sides for a backend.
fn pin(
    case: &str,
    renames: &[&str],
    first_rows: bool,
    db: impl Fn(Backend) -> Schema,
    model: impl Fn(Backend) -> Schema,
) {
    for backend in BACKENDS {
        let text = generated(&db(backend), &model(backend), backend, renames, first_rows);
        insta::assert_snapshot!(format!("{case}-{}", backend.name()), text);
    }
}

/// Snapshots `case` from the database `BASE` makes to the model `text`.
fn pin_from_base(case: &str, renames: &[&str], text: &str) {
    pin(
        case,
        renames,
        false,
        |b| database(BASE, b),
        |b| model(text, b),
    );
}

/// `BASE` with `from` replaced by `to` (the edit must apply).
fn edited(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

#[test]
fn create_tables_from_nothing() {
    pin(
        "create_tables",
        &[],
        false,
        |_| Schema::default(),
        |b| model(BASE, b),
    );
}

#[test]
fn create_tables_with_first_rows_to_fill() {
    let text = "diesel::table! {\n    kinds (id) {\n        id -> Integer,\n        label -> Text,\n    }\n}\n\n\
         diesel::table! {\n    members (id) {\n        id -> Integer,\n        name -> Text,\n        kind_id -> Nullable<Integer>,\n    }\n}\n\n\
         diesel::joinable!(members -> kinds (kind_id));\n";
    pin(
        "create_tables_first_rows",
        &[],
        true,
        |_| Schema::default(),
        |b| model(text, b),
    );
}

#[test]
fn create_tables_that_reference_each_other() {
    let text = "diesel::table! {\n    a (id) {\n        id -> Integer,\n        b_id -> Nullable<Integer>,\n    }\n}\n\n\
         diesel::table! {\n    b (id) {\n        id -> Integer,\n        a_id -> Nullable<Integer>,\n    }\n}\n\n\
         diesel::joinable!(a -> b (b_id));\ndiesel::joinable!(b -> a (a_id));\n";
    pin(
        "create_tables_cycle",
        &[],
        false,
        |_| Schema::default(),
        |b| model(text, b),
    );
}

#[test]
fn drop_table_restores_it_whole_on_the_way_down() {
    let with_tags = format!(
        "{BASE}\ndiesel::table! {{\n    tags (id) {{\n        id -> Integer,\n        label -> Text,\n        slug -> Nullable<Text>,\n        user_id -> Integer,\n        shout -> Nullable<Text>,\n    }}\n}}\n\ndiesel::joinable!(tags -> users (user_id));\n"
    );
    pin(
        "drop_table",
        &[],
        false,
        |b| {
            let mut db = database(&with_tags, b);
            let tags = table(&mut db, "tags");
            column(tags, "label").default = Some("'new'".into());
            column(tags, "shout").extra = Some("generated".into());
            column(tags, "shout").default = Some("upper(label)".into());
            if b == Backend::Postgres {
                let id = column(tags, "id");
                id.extra = None;
                id.default = Some("nextval('tags_id_seq'::regclass)".into());
            }
            let slug = vec!["slug".to_owned()];
            tags.indexes.push(index("tags_slug_key", &slug, true, true));
            tags.indexes
                .push(index("tags_label", &["label".to_owned()], false, false));
            if b == Backend::Sqlite {
                tags.indexes
                    .push(index("sqlite_autoindex_tags_1", &slug, true, false));
            }
            db
        },
        |b| model(BASE, b),
    );
}

#[test]
fn add_columns_nullable_and_not_null() {
    let text = edited(
        "        age -> Integer,\n",
        "        age -> Integer,\n        nickname -> Nullable<Text>,\n        score -> Integer,\n",
    );
    pin_from_base("add_columns", &[], &text);
}

#[test]
fn drop_columns_nullable_and_not_null() {
    let text = edited(
        "        email -> Nullable<Text>,\n        age -> Integer,\n",
        "",
    );
    pin_from_base("drop_columns", &[], &text);
}

#[test]
fn change_types_wider_and_narrower() {
    let text = edited("#[max_length = 40]", "#[max_length = 100]")
        .replace(
            "        title -> Text,",
            "        #[max_length = 20]\n        title -> Varchar,",
        )
        .replace(
            "        right_id -> Integer,",
            "        right_id -> BigInt,",
        );
    pin_from_base("change_types", &[], &text);
}

#[test]
fn set_not_null_fills_nulls_first() {
    let text = edited("email -> Nullable<Text>", "email -> Text");
    pin_from_base("set_not_null", &[], &text);
}

#[test]
fn drop_not_null() {
    let text = edited("age -> Integer", "age -> Nullable<Integer>");
    pin_from_base("drop_not_null", &[], &text);
}

#[test]
fn change_primary_keys() {
    let text = edited("pairs (left_id, right_id)", "pairs (left_id)");
    pin(
        "primary_key",
        &[],
        false,
        |b| {
            let mut db = database(BASE, b);
            let posts = table(&mut db, "posts");
            posts.primary_key.clear();
            posts.primary_key_name = None;
            db
        },
        |b| model(&text, b),
    );
}

#[test]
fn add_foreign_key() {
    let text = BASE.replace("diesel::joinable!(posts -> users (user_id));\n", "");
    pin(
        "add_foreign_key",
        &[],
        false,
        |b| database(&text, b),
        |b| model(BASE, b),
    );
}

#[test]
fn drop_foreign_key() {
    let text = BASE.replace("diesel::joinable!(posts -> users (user_id));\n", "");
    pin_from_base("drop_foreign_key", &[], &text);
}

#[test]
fn rename_table() {
    let text = edited("    users (id) {", "    members (id) {")
        .replace("(posts -> users (user_id))", "(posts -> members (user_id))");
    pin_from_base("rename_table", &["users=members"], &text);
}

#[test]
fn rename_column() {
    let text = edited("title -> Text", "headline -> Text");
    pin_from_base("rename_column", &["posts.title=headline"], &text);
}

#[test]
fn rename_hints_without_rename() {
    let text = edited("title -> Text", "headline -> Text").replace(
        "    pairs (left_id, right_id) {",
        "    couples (left_id, right_id) {",
    );
    pin_from_base("rename_hints", &[], &text);
}

/// Many changes to one table (a rebuild on SQLite): renamed table and column, a wider type,
/// NOT NULL, a dropped column with its index, a new NOT NULL column, a foreign key swapped.
#[test]
fn many_changes_to_one_table() {
    let items = "\ndiesel::table! {\n    items (id) {\n        id -> Integer,\n        #[max_length = 10]\n        code -> Varchar,\n        label -> Nullable<Text>,\n        old -> Text,\n        owner_id -> Integer,\n        post_id -> Nullable<Integer>,\n    }\n}\n\ndiesel::joinable!(items -> users (owner_id));\n";
    let products = "\ndiesel::table! {\n    products (id) {\n        id -> Integer,\n        #[max_length = 20]\n        code -> Varchar,\n        label -> Text,\n        user_id -> Integer,\n        post_id -> Nullable<Integer>,\n        qty -> Integer,\n    }\n}\n\ndiesel::joinable!(products -> posts (post_id));\n";
    let before = format!("{BASE}{items}");
    let after = format!("{BASE}{products}");
    pin(
        "rebuild",
        &["items=products", "items.owner_id=user_id"],
        false,
        |b| {
            let mut db = database(&before, b);
            let items = table(&mut db, "items");
            items
                .indexes
                .push(index("items_code_key", &["code".to_owned()], true, true));
            items
                .indexes
                .push(index("items_label", &["label".to_owned()], false, false));
            items.indexes.push(index(
                "items_old_owner",
                &["old".to_owned(), "owner_id".to_owned()],
                false,
                false,
            ));
            db
        },
        |b| model(&after, b),
    );
}

/// `autogenerate`'s long names, and a table whose foreign key name is taken by an index.
fn long_names() -> String {
    format!(
        "{}{}",
        include_str!("../fixtures/models/long_names.rs"),
        "\ndiesel::table! {\n    children (id) {\n        id -> Integer,\n        parent_id -> Integer,\n    }\n}\n\n\
         diesel::joinable!(children -> parents_with_quite_a_long_name_indeed (parent_id));\n"
    )
}

/// New foreign keys get PostgreSQL's names, cut to 63 bytes, numbered past taken names.
#[test]
fn foreign_key_names_fit_and_stay_unique() {
    let existing = "diesel::table! {\n    parents_with_quite_a_long_name_indeed (id) {\n        id -> Integer,\n    }\n}\n\n\
         diesel::table! {\n    children (id) {\n        id -> Integer,\n        parent_id -> Integer,\n    }\n}\n";
    pin(
        "foreign_key_names",
        &[],
        false,
        |b| {
            let mut db = database(existing, b);
            table(&mut db, "children").indexes.push(index(
                "children_parent_id_fkey",
                &["parent_id".to_owned()],
                false,
                false,
            ));
            db
        },
        |b| model(&long_names(), b),
    );
}

/// Tables of another PostgreSQL schema are qualified everywhere.
#[test]
fn postgres_schemas_are_qualified() {
    let before = "pub mod audit {\n    diesel::table! {\n        audit.users (id) {\n            id -> Integer,\n        }\n    }\n}\n";
    let after = "pub mod audit {\n    diesel::table! {\n        audit.users (id) {\n            id -> BigInt,\n        }\n    }\n\n    \
         diesel::table! {\n        audit.posts (id) {\n            id -> Integer,\n            user_id -> BigInt,\n        }\n    }\n\n    \
         diesel::joinable!(posts -> users (user_id));\n}\n";
    let backend = Backend::Postgres;
    let text = generated(
        &database(before, backend),
        &model(after, backend),
        backend,
        &[],
        false,
    );
    insta::assert_snapshot!("postgres_schemas-postgres", text);
}
