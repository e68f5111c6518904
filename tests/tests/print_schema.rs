//! The equivalence property: a schema.rs written by `diesel print-schema` from a database
//! compares equal to that database — zero differences — on every backend, for a schema
//! using every common type of the backend (`fixtures/print_schema`), and for the shapes
//! real diesel projects have (`fixtures/diesel_shapes`, see its README): foreign keys
//! diesel writes no `joinable!` for, other PostgreSQL schemas, diesel.toml filters,
//! extension and qualified types, views, SQLite's implicit keys, hand-written `Text`.
//! The fixtures are the DDL and diesel_cli 2.3's output for it (`generate.sh` there).

use std::path::{Path, PathBuf};

use dbrev_tests::{Backend, Project, Skippable, TestDb, backend_test};

fn fixture(backend: Backend, ext: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/print_schema")
        .join(format!("{}.{ext}", backend.name()))
}

/// A file of `fixtures/diesel_shapes/<shape>`.
fn shape(shape: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/diesel_shapes")
        .join(shape)
        .join(file)
}

/// Loads `<shape>/<backend>.sql` into the test database.
fn load(db: &TestDb, sql: &Path) {
    let out = db.load_with_native_client(sql);
    assert!(
        out.status.success(),
        "{}: {}",
        sql.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A project whose model is `model` (files) and whose database is `db`, with more
/// dbrev.toml lines.
fn project(db: &TestDb, model: &[PathBuf], more_config: &str) -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    configure(&p, db, model, more_config);
    p
}

/// Points the project's dbrev.toml at `db` and the `model` files.
fn configure(p: &Project, db: &TestDb, model: &[PathBuf], more_config: &str) {
    let files: Vec<String> = model
        .iter()
        .map(|f| format!("{:?}", f.display().to_string()))
        .collect();
    p.file(
        "dbrev.toml",
        &format!(
            "database_url = \"{}\"\nschema = [{}]\n{more_config}",
            db.url,
            files.join(", ")
        ),
    );
}

/// `check` finds nothing and autogenerate has nothing to write.
fn assert_agree(p: &Project) {
    let out = p.cmd("dbrev").args(["check", "-v"]).run();
    assert!(
        out.output.status.success(),
        "differences:\n{}\n{}",
        out.stdout(),
        out.stderr()
    );
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "none"])
        .ok()
        .stderr_has("No changes detected");
}

/// Loads the shape's `<backend>.sql`, then checks each of its `models`, alone, agrees.
fn assert_shape_agrees(db: &TestDb, name: &str, models: &[&str]) {
    load(db, &shape(name, &format!("{}.sql", db.backend().name())));
    for model in models {
        assert_agree(&project(db, &[shape(name, model)], ""));
    }
}

backend_test!(print_schema_output_compares_equal, |db| {
    load(&db, &fixture(db.backend(), "sql"));
    assert_agree(&project(&db, &[fixture(db.backend(), "rs")], ""));
});

backend_test!(foreign_keys_without_joinable_are_not_drops, |db| {
    let model = format!("{}.rs", db.backend().name());
    assert_shape_agrees(&db, "foreign_keys", &[&model]);
});

backend_test!(
    views_and_partitions_described_by_table_blocks_are_not_created,
    |db| {
        let b = db.backend().name();
        load(&db, &shape("views", &format!("{b}.sql")));
        let p = project(
            &db,
            &[
                shape("views", &format!("{b}.rs")),
                shape("views", &format!("{b}.handwritten.rs")),
            ],
            "",
        );
        assert_agree(&p);
        // Without the view's table!, the view is not a table to drop either; the `__` table
        // print-schema skips is compared only when the model declares it.
        let p = project(&db, &[shape("views", &format!("{b}.rs"))], "");
        assert_agree(&p);
        p.file(
        "extra.rs",
        "diesel::table! {\n    __scratch (id) {\n        id -> Integer,\n        more -> Integer,\n    }\n}\n",
    );
        let extra = p.root().join("extra.rs");
        configure(&p, &db, &[shape("views", &format!("{b}.rs")), extra], "");
        let out = p.cmd("dbrev").args(["check"]).fails();
        assert_eq!(out.code(), 1, "{}", out.stderr());
        let integer = native_integer(db.backend());
        assert_eq!(
            out.stdout().trim(),
            format!("add column __scratch.more {integer} NOT NULL")
        );
    }
);

fn native_integer(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "integer",
        Backend::Mysql => "INT",
    }
}

backend_test!(text_matches_varchar_and_char_columns, |db| {
    let model = format!("{}.handwritten.rs", db.backend().name());
    assert_shape_agrees(&db, "handwritten_text", &[&model]);
});

backend_test!(diesel_filter_is_adopted_and_honoured, |db| {
    let b = db.backend().name();
    load(&db, &shape("filter", &format!("{b}.sql")));
    for (variant, expected) in [
        ("only", "include = [\"/^app_/\", \"/users/\"]"),
        (
            "except",
            "exclude = [\"/^tmp_/\", \"/_log$/\", \"/archive/\"]",
        ),
    ] {
        let p = Project::new();
        let diesel_toml =
            std::fs::read_to_string(shape("filter", &format!("{variant}.diesel.toml"))).unwrap();
        p.file("diesel.toml", &diesel_toml);
        p.file(
            "src/schema.rs",
            &std::fs::read_to_string(shape("filter", &format!("{b}.{variant}.rs"))).unwrap(),
        );
        p.file(".env", &format!("DATABASE_URL={}\n", db.url));
        p.cmd("dbinit").args(["-q"]).ok();
        let config = p.read("dbrev.toml");
        assert!(config.contains(expected), "{config}");
        assert_agree(&p);
    }
    // Exact names keep working; a regex that does not compile is bad input.
    let model = [shape("filter", &format!("{b}.except.rs"))];
    let p = project(
        &db,
        &model,
        "exclude = [\"tmp_import\", \"audit_log\", \"users_archive\"]\n",
    );
    assert_agree(&p);
    configure(&p, &db, &model, "exclude = [\"/tmp_(/\"]\n");
    let out = p.cmd("dbrev").args(["check"]).fails();
    assert_eq!(out.code(), 3, "{}", out.stderr());
    assert!(
        out.stderr()
            .contains("`exclude` entry `/tmp_(/` is not a valid regex"),
        "{}",
        out.stderr()
    );
});

fn other_postgres_schemas_are_not_compared() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    load(&db, &shape("pg_schemas", "postgres.sql"));
    let public = shape("pg_schemas", "postgres.rs");
    let audit = shape("pg_schemas", "postgres.audit.rs");
    // diesel's default: `public` only; `[print_schema] schema = "audit"`: `audit` only;
    // both configurations: both files, the same table names in each module.
    assert_agree(&project(&db, std::slice::from_ref(&public), ""));
    assert_agree(&project(&db, std::slice::from_ref(&audit), ""));
    assert_agree(&project(&db, &[public, audit], ""));
    Ok(())
}

fn extension_and_qualified_types_compare_by_name() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    assert_shape_agrees(
        &db,
        "pg_types",
        &["postgres.rs", "postgres.import_types.rs"],
    );
    Ok(())
}

fn sqlite_rowid_keys_and_nullable_primary_keys() -> Skippable {
    let db = TestDb::create(Backend::Sqlite)?;
    assert_shape_agrees(
        &db,
        "sqlite_keys",
        &["sqlite.rs", "sqlite.bigint.rs", "sqlite.handwritten.rs"],
    );
    Ok(())
}

dbrev_tests::main! {
    backend: [
        print_schema_output_compares_equal,
        foreign_keys_without_joinable_are_not_drops,
        views_and_partitions_described_by_table_blocks_are_not_created,
        text_matches_varchar_and_char_columns,
        diesel_filter_is_adopted_and_honoured,
    ],
    plain: [
        other_postgres_schemas_are_not_compared,
        extension_and_qualified_types_compare_by_name,
        sqlite_rowid_keys_and_nullable_primary_keys,
    ],
}
