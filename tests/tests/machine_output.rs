//! `--format json` of `current`, `history`, `heads`, `branches`, `show` and `check`: one
//! document on stdout that parses, status lines on stderr, and each shape pinned by a
//! snapshot (`tests/tests/snapshots/machine_output__*.snap`; dates, durations, users and
//! the database's path redacted).

use dbrev_tests::{Backend, Project, TestDb, add_revision, backend_test, migration_project};

/// Parses a command's stdout as JSON and renders it with the values that change from run
/// to run replaced by `[redacted]`.
fn redacted(stdout: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    redact(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

fn redact(value: &mut serde_json::Value) {
    const CHANGING: [&str; 5] = [
        "applied_at",
        "applied_by",
        "create_date",
        "database",
        "duration_ms",
    ];
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if CHANGING.contains(&key.as_str()) && !v.is_null() {
                    *v = serde_json::Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// a1 → b2 (head), and c3 (label `feat`) branching from a1; b2 applied.
fn forked_project(db: &TestDb) -> Project {
    let p = migration_project(db);
    for (id, extra) in [
        ("a1", &[][..]),
        ("b2", &[][..]),
        (
            "c3",
            &["--head", "a1", "--splice", "--branch-label", "feat"][..],
        ),
    ] {
        let up = format!("CREATE TABLE t_{id} (id INTEGER PRIMARY KEY);");
        let down = format!("DROP TABLE t_{id};");
        add_revision(&p, id, &format!("create t_{id}"), &up, &down, extra);
    }
    p.cmd("dbrev").args(["upgrade", "-q", "b2"]).ok();
    p
}

/// Runs `dbrev ARGS --format json`, checks that stdout is JSON and nothing but, and
/// returns it redacted.
fn json_of(p: &Project, args: &[&str]) -> String {
    let out = p.cmd("dbrev").args(args).args(["--format", "json"]).ok();
    redacted(&out.stdout())
}

fn inspection_documents_are_pinned() {
    let db = TestDb::new(Backend::Sqlite).expect("SQLite");
    let p = forked_project(&db);
    insta::assert_snapshot!("current", json_of(&p, &["current"]));
    insta::assert_snapshot!("history", json_of(&p, &["history", "-i"]));
    insta::assert_snapshot!("heads", json_of(&p, &["heads"]));
    insta::assert_snapshot!("branches", json_of(&p, &["branches"]));
    insta::assert_snapshot!("show", json_of(&p, &["show", "feat@head"]));
    // Without a database the state is unknown (null), not "not applied".
    let history = json_of(&p, &["history", "-r", "a1:c3"]);
    assert!(history.contains("\"applied\": null"), "{history}");
    // Status lines stay on stderr.
    let out = p.cmd("dbrev").args(["current", "--format", "json"]).ok();
    assert!(out.stderr().contains("Database"), "{}", out.stderr());
    // A target naming no revision is the same error as in text.
    p.cmd("dbrev")
        .args(["show", "base", "--format", "json"])
        .fails()
        .stderr_has("names no revision");
}

fn check_document_is_pinned() {
    let db = TestDb::new(Backend::Sqlite).expect("SQLite");
    let p = forked_project(&db);
    p.file(
        "src/schema.rs",
        "diesel::table! {\n    t_a1 (id) {\n        id -> Integer,\n    }\n}\n\ndiesel::table! {\n    t_b2 (id) {\n        id -> Integer,\n        name -> Text,\n    }\n}\n\ndiesel::table! {\n    widgets (id) {\n        id -> Integer,\n    }\n}\n",
    );
    let out = p.cmd("dbrev").args(["check", "--format", "json"]).fails();
    assert_eq!(out.code(), 1);
    assert!(
        out.stderr().contains("the model differs from the database"),
        "{}",
        out.stderr()
    );
    insta::assert_snapshot!("check", redacted(&out.stdout()));
}

backend_test!(check_json_on_every_backend, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "create widgets",
        "CREATE TABLE widgets (id INTEGER PRIMARY KEY);",
        "DROP TABLE widgets;",
        &[],
    );
    p.cmd("dbrev").args(["upgrade", "-q"]).ok();
    let model = "diesel::table! {\n    widgets (id) {\n        id -> Integer,\n    }\n}\n";
    p.file("src/schema.rs", model);
    let clean = p
        .cmd("dbrev")
        .args(["check", "--format", "json"])
        .ok()
        .stdout();
    let clean: serde_json::Value = serde_json::from_str(&clean).unwrap();
    assert_eq!(clean["clean"], true, "{clean}");
    assert_eq!(clean["upgrade_sql"], serde_json::Value::Null);
    p.file(
        "src/schema.rs",
        &format!(
            "{model}\ndiesel::table! {{\n    gadgets (id) {{\n        id -> Integer,\n    }}\n}}\n"
        ),
    );
    let out = p.cmd("dbrev").args(["check", "--format", "json"]).fails();
    assert_eq!(out.code(), 1);
    let found: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(found["clean"], false);
    assert_eq!(found["changes"][0]["kind"], "create_table", "{found}");
    assert_eq!(found["changes"][0]["table"], "gadgets", "{found}");
    assert!(
        found["upgrade_sql"]
            .as_str()
            .is_some_and(|sql| sql.contains("gadgets")),
        "{found}"
    );
    let current = p
        .cmd("dbrev")
        .args(["current", "--format", "json"])
        .ok()
        .stdout();
    let current: serde_json::Value = serde_json::from_str(&current).unwrap();
    assert_eq!(current["applied"], serde_json::json!(["a1"]));
    assert_eq!(current["heads"][0]["record"]["state"], "applied");
    assert!(current["database"].is_string(), "{current}");
});

dbrev_tests::main! {
    backend: [check_json_on_every_backend],
    plain: [inspection_documents_are_pinned, check_document_is_pinned],
}
