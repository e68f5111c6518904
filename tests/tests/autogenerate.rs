//! `revision --autogenerate` and `check` on every backend: a scripted series of model edits,
//! each generated, upgraded, checked, reverted, checked against the old model, re-applied;
//! rows survive widening, rebuilds and renames.

use dbrev_tests::{Backend, Project, TestDb, backend_test};

const V1: &str = r#"
diesel::table! {
    users (id) {
        id -> Integer,
        #[max_length = 40]
        name -> Varchar,
        email -> Nullable<Text>,
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
diesel::allow_tables_to_appear_in_same_query!(pairs, posts, users);
"#;

const V2: &str = r#"
diesel::table! {
    users (id) {
        id -> Integer,
        #[max_length = 100]
        name -> Varchar,
        email -> Text,
        age -> Integer,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        headline -> Text,
    }
}

diesel::table! {
    pairs (left_id, right_id) {
        left_id -> Integer,
        right_id -> Integer,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
        label -> Text,
    }
}

diesel::joinable!(posts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(pairs, posts, tags, users);
"#;

const V3: &str = r#"
diesel::table! {
    users (id) {
        id -> Integer,
        #[max_length = 30]
        name -> Varchar,
        email -> Text,
        age -> Nullable<Integer>,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        headline -> Text,
    }
}

diesel::table! {
    pairs (left_id) {
        left_id -> Integer,
        right_id -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(pairs, posts, users);
"#;

fn project(db: &TestDb) -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p
}

fn model(p: &Project, text: &str) {
    p.file("src/schema.rs", text);
}

fn latest(p: &Project) -> std::path::PathBuf {
    p.revisions().into_iter().last().expect("a revision")
}

/// Replaces each `/* FILL: ... */` marker that mentions `what` with `value`.
fn fill(p: &Project, what: &str, value: &str) {
    let up = latest(p).join("up.sql");
    let text = std::fs::read_to_string(&up).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("/* FILL:") {
        let end = start + rest[start..].find("*/").unwrap() + 2;
        out.push_str(&rest[..start]);
        let marker = &rest[start..end];
        out.push_str(if marker.contains(what) { value } else { marker });
        rest = &rest[end..];
    }
    out.push_str(rest);
    std::fs::write(up, out).unwrap();
}

/// Autogenerates a revision, which hints `--rename rename`; then generates it again with
/// that rename (and `more` arguments) in its place.
fn autogenerate_with_hinted_rename(p: &Project, message: &str, rename: &str, more: &[&str]) {
    let out = p
        .cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", message])
        .ok();
    assert!(
        out.stderr().contains(&format!("--rename {rename}")),
        "{}",
        out.stderr()
    );
    std::fs::remove_dir_all(latest(p)).unwrap();
    p.cmd("dbrev")
        .args([
            "revision",
            "--autogenerate",
            "-m",
            message,
            "--rename",
            rename,
        ])
        .args(more)
        .ok();
}

/// The table's (one row's) column holds `value`.
fn assert_holds(db: &TestDb, table: &str, column: &str, value: &str) {
    let sql = format!("SELECT {column} AS value FROM {table}");
    assert_eq!(db.value(&sql).as_deref(), Some(value), "{table}.{column}");
}

fn check_clean(p: &Project) {
    p.cmd("dbrev").args(["check"]).ok().stderr_has("agree");
}

backend_test!(a_series_of_model_edits, |db| {
    let p = project(&db);
    // v1: tables from nothing.
    model(&p, V1);
    let out = p.cmd("dbrev").args(["check"]).fails();
    assert_eq!(out.code(), 1);
    assert!(out.stdout().contains("add table users"), "{}", out.stdout());
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "v1"])
        .ok();
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    let mut conn = db.connect();
    conn.batch_execute("INSERT INTO users (id, name, email) VALUES (1, 'bob', NULL)")
        .unwrap();
    conn.batch_execute("INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'hello')")
        .unwrap();
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "nothing"])
        .ok()
        .stderr_has("No changes");
    assert_eq!(p.revisions().len(), 1);

    // v2: widen, add NOT NULL columns (filled), rename, new table.
    model(&p, V2);
    autogenerate_with_hinted_rename(&p, "v2", "posts.title=headline", &[]);
    let up = std::fs::read_to_string(latest(&p).join("up.sql")).unwrap();
    assert!(up.contains("makes users.email NOT NULL"), "{up}");
    p.cmd("dbrev")
        .args(["upgrade"])
        .fails()
        .stderr_has("still has an unfilled FILL marker");
    fill(&p, "users.age", "30");
    fill(&p, "users.email", "'none@example.com'");
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    assert_holds(&db, "users", "name", "bob");
    assert_holds(&db, "posts", "headline", "hello");
    assert_holds(&db, "users", "email", "none@example.com");
    // Back to v1: the old model matches again and the data is where it was.
    p.cmd("dbrev").args(["downgrade", "-1"]).ok();
    model(&p, V1);
    check_clean(&p);
    assert_holds(&db, "posts", "title", "hello");
    assert_holds(&db, "users", "name", "bob");
    model(&p, V2);
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);

    // v3: narrowing, NULL allowed again, a dropped table, a dropped foreign key, a new
    // primary key.
    model(&p, V3);
    let out = p
        .cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "v3"])
        .ok();
    assert!(
        out.stderr().contains("destructive: drops table tags"),
        "{}",
        out.stderr()
    );
    assert!(
        out.stderr().contains("narrows users.name"),
        "{}",
        out.stderr()
    );
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    assert_holds(&db, "users", "name", "bob");
    p.cmd("dbrev").args(["downgrade", "-1"]).ok();
    model(&p, V2);
    check_clean(&p);
    model(&p, V3);
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    let verbose = p.cmd("dbrev").args(["check", "-v"]).ok();
    assert!(verbose.stdout().is_empty());
    model(&p, V2);
    let out = p.cmd("dbrev").args(["check", "-v"]).fails();
    assert!(out.stdout().contains("CREATE TABLE"), "{}", out.stdout());
    if db.backend() == Backend::Sqlite {
        assert!(out.stdout().contains("_dbrev_new_"), "{}", out.stdout());
    }
});

backend_test!(check_exits_1_only_for_differences, |db| {
    let p = project(&db);
    model(&p, "");
    p.cmd("dbrev").args(["check"]).ok();
    model(
        &p,
        "diesel::table! {\n    users (id) {\n        id -> Integer,\n    }\n}\n",
    );
    let out = p.cmd("dbrev").args(["check"]).fails();
    assert_eq!(out.code(), 1, "{}", out.stderr());
    assert_eq!(out.stdout().trim(), "add table users");
    // A model that cannot be read is bad input (3), naming file, line and column.
    model(
        &p,
        "diesel::table! {\n    users (id) {\n        id -> Integer,\n        x -> ,\n    }\n}\n",
    );
    let out = p.cmd("dbrev").args(["check"]).fails();
    assert_eq!(out.code(), 3, "{}", out.stderr());
    assert!(
        out.stderr().contains("src/schema.rs:4:"),
        "{}",
        out.stderr()
    );
    assert!(out.stdout().is_empty(), "{}", out.stdout());
    // A database that cannot be reached (4) or read (5) is not a difference either.
    model(&p, "");
    let unreachable = match db.backend() {
        Backend::Sqlite => format!("sqlite://{}/missing/dir/app.db", p.root().display()),
        Backend::Postgres => "postgres://root@127.0.0.1:1/none".to_owned(),
        Backend::Mysql => "mysql://root@127.0.0.1:1/none".to_owned(),
    };
    let out = p
        .cmd("dbrev")
        .args(["check", "--database-url", &unreachable])
        .fails();
    assert_eq!(out.code(), 4, "{}", out.stderr());
    if db.backend() == Backend::Sqlite {
        p.file("garbage.db", &"this is not a database\n".repeat(100));
        let garbage = format!("sqlite://{}", p.root().join("garbage.db").display());
        let out = p
            .cmd("dbrev")
            .args(["check", "--database-url", &garbage])
            .fails();
        assert_eq!(out.code(), 5, "{}", out.stderr());
    }
});

/// Tables and columns whose foreign key names PostgreSQL would cut to fit 63 bytes.
const LONG_NAMES: &str = include_str!("../fixtures/models/long_names.rs");

/// Each `ADD CONSTRAINT name` of the file, in order.
fn added_constraints(sql: &str) -> Vec<String> {
    sql.lines()
        .filter_map(|l| l.split_once(" ADD CONSTRAINT "))
        .map(|(table, rest)| format!("{table} {}", rest.split_whitespace().next().unwrap_or("")))
        .collect()
}

backend_test!(each_new_foreign_key_gets_one_name_that_fits, |db| {
    let p = project(&db);
    model(&p, LONG_NAMES);
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "long"])
        .ok();
    let up = std::fs::read_to_string(latest(&p).join("up.sql")).unwrap();
    let added = added_constraints(&up);
    let unique: std::collections::BTreeSet<&String> = added.iter().collect();
    assert_eq!(unique.len(), added.len(), "{up}");
    if db.backend() != Backend::Sqlite {
        assert_eq!(added.len(), 3, "{up}");
        for name in up
            .lines()
            .filter_map(|l| l.split(" ADD CONSTRAINT ").nth(1))
        {
            let name = name
                .split_whitespace()
                .next()
                .unwrap()
                .trim_matches(['"', '`']);
            assert!(name.len() <= 63, "{name}");
        }
    }
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    p.cmd("dbrev").args(["downgrade", "base"]).ok();
});

/// A file of `fixtures/diesel_shapes/<shape>`.
fn shape(shape: &str, file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/diesel_shapes")
        .join(shape)
        .join(file)
}

#[test]
fn models_of_two_schemas_with_the_same_table_names_add_each_key_once() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    db.run_script("CREATE SCHEMA audit;\nCREATE TYPE audit.level AS ENUM ('info', 'warn');\n");
    let p = project(&db);
    let files = [
        shape("pg_schemas", "postgres.rs"),
        shape("pg_schemas", "postgres.audit.rs"),
    ];
    let config = p.read("dbrev.toml").replace(
        "schema = \"src/schema.rs\"",
        &format!(
            "schema = [{:?}, {:?}]",
            files[0].display().to_string(),
            files[1].display().to_string()
        ),
    );
    p.file("dbrev.toml", &config);
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "both"])
        .ok();
    let up = std::fs::read_to_string(latest(&p).join("up.sql")).unwrap();
    let added = added_constraints(&up);
    assert_eq!(
        added,
        [
            "ALTER TABLE \"posts\" \"posts_user_id_fkey\"",
            "ALTER TABLE \"audit\".\"posts\" \"posts_user_id_fkey\""
        ],
        "{up}"
    );
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
}

backend_test!(printed_foreign_key_shapes_created_from_nothing, |db| {
    let p = project(&db);
    let b = db.backend().name();
    p.file(
        "src/schema.rs",
        &std::fs::read_to_string(shape("foreign_keys", &format!("{b}.rs"))).unwrap(),
    );
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "all"])
        .ok();
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    p.cmd("dbrev").args(["downgrade", "base"]).ok();
    assert!(
        db.tables().iter().all(|t| t.starts_with("__")),
        "{:?}",
        db.tables()
    );
});

backend_test!(table_renames_and_fill_placeholders, |db| {
    let p = project(&db);
    model(
        &p,
        "diesel::table! {\n    users (id) {\n        id -> Integer,\n        name -> Text,\n    }\n}\n",
    );
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "users"])
        .ok();
    p.cmd("dbrev").args(["upgrade"]).ok();
    db.connect()
        .batch_execute("INSERT INTO users (id, name) VALUES (7, 'ann')")
        .unwrap();
    model(
        &p,
        "diesel::table! {\n    kinds (id) {\n        id -> Integer,\n        label -> Text,\n    }\n}\n\n\
         diesel::table! {\n    members (id) {\n        id -> Integer,\n        name -> Text,\n        kind_id -> Nullable<Integer>,\n    }\n}\n\n\
         diesel::joinable!(members -> kinds (kind_id));\n\
         diesel::allow_tables_to_appear_in_same_query!(kinds, members);\n",
    );
    autogenerate_with_hinted_rename(&p, "members", "users=members", &["--fill"]);
    let up = std::fs::read_to_string(latest(&p).join("up.sql")).unwrap();
    assert!(
        up.contains("INSERT INTO") && up.contains("FILL: the first rows of kinds"),
        "{up}"
    );
    p.cmd("dbrev")
        .args(["upgrade"])
        .fails()
        .stderr_has("unfilled FILL marker");
    fill(&p, "kinds", "1, 'regular'");
    p.cmd("dbrev").args(["upgrade"]).ok();
    check_clean(&p);
    assert_holds(&db, "members", "name", "ann");
    assert_holds(&db, "kinds", "label", "regular");
    p.cmd("dbrev").args(["downgrade", "-1"]).ok();
    assert_holds(&db, "users", "name", "ann");
});
