//! `cargo dbrev lint` end to end: every rule on the backend(s) it concerns, with the unsafe
//! form found on its line and the safe form clean; suppression comments; row estimates
//! from the live database; the JSON shape; exit codes.

use dbrev_tests::{Backend, Project, Skippable, TestDb, backend_test};
use serde_json::Value;

/// Lines of the header `revision` writes above the SQL (message, id, parent, blank).
const HEADER: usize = 4;

/// A project whose `.env` points at the test database.
fn project(db: &TestDb) -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p
}

/// Writes revision `id` (revising `parent`) with `up` and `down`; `transactional: false`
/// adds diesel's `metadata.toml` with `run_in_transaction = false`.
fn revision(p: &Project, id: &str, parent: &str, up: &str, down: &str, transactional: bool) {
    let dir = format!("versioning/versions/{id}_r");
    p.file(
        format!("{dir}/up.sql"),
        &format!("-- r\n-- Revision ID: {id}\n-- Revises: {parent}\n\n{up}\n"),
    );
    p.file(format!("{dir}/down.sql"), &format!("{down}\n"));
    if !transactional {
        p.file(
            format!("{dir}/metadata.toml"),
            "run_in_transaction = false\n",
        );
    }
}

/// Runs `lint ARGS --format json`; the parsed document and the exit code.
fn lint_json(p: &Project, args: &[&str]) -> (Value, i32) {
    let out = p
        .cmd("dbrev")
        .args(["lint", "--format", "json"])
        .args(args)
        .run();
    let code = out.code();
    assert!(
        code == 0 || code == 1,
        "lint failed ({code}):\n{}\n{}",
        out.stdout(),
        out.stderr()
    );
    let value: Value = serde_json::from_str(&out.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout()));
    (value, code)
}

/// The (file name, line) of each finding of `rule`.
fn hits(report: &Value, rule: &str) -> Vec<(String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            let file = f["file"].as_str().expect("file");
            (
                file.rsplit('/').next().unwrap_or(file).to_owned(),
                f["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

/// Writes revision `id` (revising `parent`, in a transaction) with `up` and `down`, lints
/// it, and gives the (file name, line) of each finding of `rule`, with the report.
fn lint_new_revision(
    p: &Project,
    id: &str,
    parent: &str,
    up: &str,
    down: &str,
    rule: &str,
) -> (Vec<(String, u64)>, Value) {
    revision(p, id, parent, up, down, true);
    let (report, _) = lint_json(p, &[id]);
    (hits(&report, rule), report)
}

/// up.sql's line `line`, counted from the first line after the header, as [`hits`] gives it.
fn up_line(line: usize) -> (String, u64) {
    ("up.sql".to_owned(), (HEADER + line) as u64)
}

/// One rule, side by side: revision 002 holds the unsafe form and must give exactly one
/// finding of `rule` on `line` (counted from the first line after the header); revision
/// 003 holds the safe form and must give none. Both revise 001, which holds `setup`.
struct Case<'a> {
    rule: &'a str,
    setup: &'a str,
    unsafe_sql: &'a str,
    line: usize,
    safe_sql: &'a str,
    safe_transactional: bool,
}

impl Case<'_> {
    fn check(&self, db: &TestDb) -> Project {
        let p = project(db);
        revision(&p, "001", "", self.setup, "", true);
        revision(&p, "002", "001", self.unsafe_sql, "", true);
        revision(&p, "003", "001", self.safe_sql, "", self.safe_transactional);
        let (report, _) = lint_json(&p, &["002"]);
        assert_eq!(
            hits(&report, self.rule),
            [up_line(self.line)],
            "unsafe form of {}: {report:#}",
            self.rule
        );
        let (report, _) = lint_json(&p, &["003"]);
        assert_eq!(
            hits(&report, self.rule),
            [],
            "safe form of {}: {report:#}",
            self.rule
        );
        p
    }
}

const POSTS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(40));\nCREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(20), user_id INTEGER);";

/// Runs `test` on a database of its own on `backend`; skipped (shown as ignored, with the
/// reason) when the backend's server does not answer, off CI.
fn on(backend: Backend, test: impl FnOnce(TestDb)) -> Skippable {
    test(TestDb::create(backend)?);
    Ok(())
}

fn postgres(test: impl FnOnce(TestDb)) -> Skippable {
    on(Backend::Postgres, test)
}

fn mysql(test: impl FnOnce(TestDb)) -> Skippable {
    on(Backend::Mysql, test)
}

fn sqlite(test: impl FnOnce(TestDb)) -> Skippable {
    on(Backend::Sqlite, test)
}

fn pg001_create_index_without_concurrently() -> Skippable {
    postgres(|db| {
        let p = Case {
            rule: "PG001",
            setup: POSTS,
            unsafe_sql: "SELECT 1;\nCREATE INDEX posts_title ON posts (title);",
            line: 2,
            safe_sql: "CREATE INDEX CONCURRENTLY posts_title ON posts (title);",
            safe_transactional: false,
        }
        .check(&db);
        // A table created in the same revision needs no CONCURRENTLY.
        let (found, report) = lint_new_revision(
            &p,
            "004",
            "001",
            "CREATE TABLE tags (id int, name text);\nCREATE INDEX tags_name ON tags (name);",
            "",
            "PG001",
        );
        assert_eq!(found, [], "{report:#}");
        // ADD UNIQUE builds an index too; UNIQUE USING INDEX (built concurrently) does not.
        let (found, report) = lint_new_revision(
            &p,
            "005",
            "001",
            "ALTER TABLE posts ADD CONSTRAINT posts_title_key UNIQUE (title);",
            "",
            "PG001",
        );
        assert_eq!(found, [up_line(1)], "{report:#}");
        let (found, report) = lint_new_revision(
            &p,
            "006",
            "003",
            "ALTER TABLE posts ADD CONSTRAINT posts_title_key UNIQUE USING INDEX posts_title;",
            "",
            "PG001",
        );
        assert_eq!(found, [], "{report:#}");
    })
}

fn pg002_concurrently_in_a_transaction() -> Skippable {
    postgres(|db| {
        Case {
            rule: "PG002",
            setup: POSTS,
            unsafe_sql: "CREATE INDEX CONCURRENTLY posts_title ON posts (title);",
            line: 1,
            safe_sql: "CREATE INDEX CONCURRENTLY posts_title ON posts (title);",
            safe_transactional: false,
        }
        .check(&db);
    })
}

fn pg003_constraints_without_not_valid() -> Skippable {
    postgres(|db| {
        let p = Case {
            rule: "PG003",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
            line: 1,
            safe_sql: "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE posts ADD CONSTRAINT posts_title_len CHECK (length(title) > 0) NOT VALID;",
            safe_transactional: true,
        }
        .check(&db);
        // Validating in the same transaction keeps the lock: found on the VALIDATE line.
        let (found, report) = lint_new_revision(
            &p,
            "004",
            "001",
            "ALTER TABLE posts ADD CONSTRAINT c CHECK (user_id > 0) NOT VALID;\nALTER TABLE posts VALIDATE CONSTRAINT c;",
            "",
            "PG003",
        );
        assert_eq!(found, [up_line(2)], "{report:#}");
        // A CHECK constraint without NOT VALID scans the table under its lock too.
        let (found, report) = lint_new_revision(
            &p,
            "006",
            "001",
            "ALTER TABLE posts ADD CONSTRAINT posts_id_positive CHECK (id > 0);",
            "",
            "PG003",
        );
        assert_eq!(found, [up_line(1)], "{report:#}");
        // A later revision validating it is the safe form's second step.
        let (found, report) = lint_new_revision(
            &p,
            "005",
            "003",
            "ALTER TABLE posts VALIDATE CONSTRAINT posts_user_fk;",
            "",
            "PG003",
        );
        assert_eq!(found, [], "{report:#}");
    })
}

fn pg004_set_not_null_without_a_validated_check() -> Skippable {
    postgres(|db| {
        let p = project(&db);
        revision(&p, "001", "", POSTS, "", true);
        let (found, report) = lint_new_revision(
            &p,
            "002",
            "001",
            "ALTER TABLE posts ALTER COLUMN title SET NOT NULL;",
            "",
            "PG004",
        );
        assert_eq!(found, [up_line(1)], "{report:#}");
        // The safe form: a NOT VALID check, validated in a later revision, then SET NOT NULL.
        revision(
            &p,
            "003",
            "001",
            "ALTER TABLE posts ADD CONSTRAINT posts_title_nn CHECK (title IS NOT NULL) NOT VALID;",
            "",
            true,
        );
        revision(
            &p,
            "004",
            "003",
            "ALTER TABLE posts VALIDATE CONSTRAINT posts_title_nn;",
            "",
            true,
        );
        revision(
            &p,
            "005",
            "004",
            "ALTER TABLE posts ALTER COLUMN title SET NOT NULL;\nALTER TABLE posts DROP CONSTRAINT posts_title_nn;",
            "",
            true,
        );
        let (report, _) = lint_json(&p, &["003:005"]);
        assert_eq!(hits(&report, "PG004"), [], "{report:#}");
    })
}

fn pg005_type_change_that_rewrites() -> Skippable {
    postgres(|db| {
        Case {
            rule: "PG005",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts ALTER COLUMN id TYPE bigint;",
            line: 1,
            safe_sql: "ALTER TABLE posts ALTER COLUMN title TYPE varchar(200);\nALTER TABLE posts ALTER COLUMN title TYPE varchar(300) USING title::varchar(300);\nALTER TABLE posts ALTER COLUMN title TYPE text;",
            safe_transactional: true,
        }
        .check(&db);
    })
}

fn pg006_add_column_with_a_volatile_default() -> Skippable {
    postgres(|db| {
        Case {
            rule: "PG006",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts ADD COLUMN token uuid DEFAULT gen_random_uuid();",
            line: 1,
            safe_sql: "ALTER TABLE posts ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\nALTER TABLE posts ADD COLUMN score integer NOT NULL DEFAULT 0;",
            safe_transactional: true,
        }
        .check(&db);
    })
}

fn pg007_access_exclusive_without_lock_timeout() -> Skippable {
    postgres(|db| {
        let p = Case {
            rule: "PG007",
            setup: POSTS,
            unsafe_sql: "-- a note\nALTER TABLE posts ADD COLUMN note text;",
            line: 2,
            safe_sql: "SET lock_timeout = '5s';\nALTER TABLE posts ADD COLUMN note text;",
            safe_transactional: true,
        }
        .check(&db);
        // down.sql dropping the table its up.sql created: only the reverted version uses it.
        let (found, report) = lint_new_revision(
            &p,
            "004",
            "001",
            "CREATE TABLE tags (id int);",
            "DROP TABLE tags;",
            "PG007",
        );
        assert_eq!(found, [], "{report:#}");
    })
}

fn my001_alter_that_copies_the_table() -> Skippable {
    mysql(|db| {
        Case {
            rule: "MY001",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts MODIFY COLUMN id BIGINT NOT NULL;",
            line: 1,
            safe_sql: "ALTER TABLE posts MODIFY COLUMN title VARCHAR(60);\nALTER TABLE posts MODIFY COLUMN id BIGINT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;",
            safe_transactional: true,
        }
        .check(&db);
        // Changing the primary key copies the table as well.
        let p = project(&db);
        revision(&p, "001", "", POSTS, "", true);
        let (found, report) = lint_new_revision(
            &p,
            "002",
            "001",
            "ALTER TABLE posts DROP PRIMARY KEY, ADD PRIMARY KEY (id, user_id);",
            "",
            "MY001",
        );
        assert_eq!(found, [up_line(1)], "{report:#}");
    })
}

fn my002_ddl_and_dml_in_one_revision() -> Skippable {
    mysql(|db| {
        Case {
            rule: "MY002",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts ADD COLUMN note TEXT;\nINSERT INTO users (id, name) VALUES (1, 'a');",
            line: 2,
            safe_sql: "INSERT INTO users (id, name) VALUES (1, 'a');",
            safe_transactional: true,
        }
        .check(&db);
    })
}

fn my003_change_column_to_rename() -> Skippable {
    mysql(|db| {
        Case {
            rule: "MY003",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts CHANGE COLUMN title headline VARCHAR(20);",
            line: 1,
            safe_sql: "ALTER TABLE posts RENAME COLUMN title TO headline;",
            safe_transactional: true,
        }
        .check(&db);
    })
}

fn my004_lock_tables_in_a_revision() -> Skippable {
    mysql(|db| {
        Case {
            rule: "MY004",
            setup: POSTS,
            unsafe_sql: "UPDATE posts SET title = 'x' WHERE id = 1;\nLOCK TABLES posts WRITE;\nUPDATE posts SET title = 'y' WHERE id = 1;\nUNLOCK TABLES;",
            line: 2,
            safe_sql: "UPDATE posts SET title = 'x' WHERE id = 1;\nSELECT GET_LOCK('mine', 1);",
            safe_transactional: true,
        }
        .check(&db);
    })
}

const REBUILD: &str = "CREATE TABLE new_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\nINSERT INTO new_users (id, name) SELECT id, COALESCE(name, '') FROM users;\nDROP TABLE users;\nALTER TABLE new_users RENAME TO users;";

fn sl001_rebuild_with_foreign_keys_enforced() -> Skippable {
    sqlite(|db| {
        let safe = format!(
            "PRAGMA foreign_keys = OFF;\nBEGIN;\n{REBUILD}\nSELECT CASE WHEN EXISTS (SELECT 1 FROM pragma_foreign_key_check('users')) THEN json('foreign key violation') END;\nCOMMIT;\nPRAGMA foreign_keys = ON;"
        );
        Case {
            rule: "SL001",
            setup: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);",
            unsafe_sql: REBUILD,
            line: 3,
            safe_sql: &safe,
            safe_transactional: false,
        }
        .check(&db);
    })
}

fn sl002_alter_forms_older_sqlite_lacks() -> Skippable {
    sqlite(|db| {
        let p = Case {
            rule: "SL002",
            setup: POSTS,
            unsafe_sql: "ALTER TABLE posts DROP COLUMN title;",
            line: 1,
            safe_sql: "ALTER TABLE posts ADD COLUMN note TEXT;",
            safe_transactional: true,
        }
        .check(&db);
        revision(
            &p,
            "004",
            "001",
            "ALTER TABLE posts RENAME COLUMN title TO headline;",
            "",
            true,
        );
        let out = p.cmd("dbrev").args(["lint", "004"]).run();
        assert!(
            out.stdout().contains("RENAME COLUMN needs SQLite 3.25.0"),
            "{}",
            out.stdout()
        );
    })
}

backend_test!(all001_drops_lose_data, |db| {
    let project = Case {
        rule: "ALL001",
        setup: POSTS,
        unsafe_sql: "ALTER TABLE posts DROP COLUMN user_id;",
        line: 1,
        safe_sql: "CREATE TABLE scratch (id INTEGER);",
        safe_transactional: true,
    }
    .check(&db);
    let (found, report) = lint_new_revision(
        &project,
        "005",
        "001",
        "SELECT 1;\nDROP TABLE users;",
        "",
        "ALL001",
    );
    assert_eq!(found, [up_line(2)], "{report:#}");
    // down.sql dropping what up.sql created is the revert, not data loss.
    let (found, report) = lint_new_revision(
        &project,
        "004",
        "001",
        "CREATE TABLE scratch (id INTEGER);\nALTER TABLE posts ADD COLUMN note TEXT;",
        "ALTER TABLE posts DROP COLUMN note;\nDROP TABLE scratch;",
        "ALL001",
    );
    assert_eq!(found, [], "{report:#}");
});

backend_test!(all002_renames_the_running_app_reads, |db| {
    let p = Case {
        rule: "ALL002",
        setup: POSTS,
        unsafe_sql: "ALTER TABLE posts RENAME TO articles;",
        line: 1,
        safe_sql: "CREATE TABLE articles (id INTEGER PRIMARY KEY);",
        safe_transactional: true,
    }
    .check(&db);
    // A renamed column breaks the running app's queries the same way.
    let (found, report) = lint_new_revision(
        &p,
        "004",
        "001",
        "ALTER TABLE posts RENAME COLUMN title TO headline;",
        "",
        "ALL002",
    );
    assert_eq!(found, [up_line(1)], "{report:#}");
});

backend_test!(all003_delete_without_where, |db| {
    Case {
        rule: "ALL003",
        setup: POSTS,
        unsafe_sql: "DELETE FROM posts;",
        line: 1,
        safe_sql: "DELETE FROM posts WHERE id < 100;",
        safe_transactional: true,
    }
    .check(&db);
});

backend_test!(all004_not_null_column_without_default, |db| {
    Case {
        rule: "ALL004",
        setup: POSTS,
        unsafe_sql: "ALTER TABLE posts ADD COLUMN score INTEGER NOT NULL;",
        line: 1,
        safe_sql: "ALTER TABLE posts ADD COLUMN score INTEGER NOT NULL DEFAULT 0;",
        safe_transactional: true,
    }
    .check(&db);
});

backend_test!(all005_update_without_where, |db| {
    Case {
        rule: "ALL005",
        setup: POSTS,
        unsafe_sql: "UPDATE posts SET title = 'x';",
        line: 1,
        safe_sql: "UPDATE posts SET title = 'x' WHERE id < 100;",
        safe_transactional: true,
    }
    .check(&db);
});

fn lint000_statements_nothing_reads_are_reported() -> Skippable {
    postgres(|db| {
        let p = project(&db);
        revision(&p, "001", "", POSTS, "", true);
        revision(&p, "002", "001", "DO $$ BEGIN PERFORM 1; END $$;", "", true);
        let (report, code) = lint_json(&p, &["002"]);
        assert_eq!(hits(&report, "LINT000"), [("up.sql".into(), 5)]);
        assert_eq!(report["findings"][0]["severity"], "info");
        assert_eq!(code, 0, "an info finding does not fail lint");
    })
}

backend_test!(suppression_comments, |db| {
    let p = project(&db);
    revision(&p, "001", "", POSTS, "", true);
    revision(
        &p,
        "002",
        "001",
        "-- dbrev:allow ALL003 the table is a cache, refilled on start\nDELETE FROM posts;\nDELETE FROM users; -- dbrev:allow ALL003 fixtures only",
        "",
        true,
    );
    let (report, code) = lint_json(&p, &["002"]);
    assert_eq!(hits(&report, "ALL003"), [], "{report:#}");
    assert_eq!(code, 0, "{report:#}");
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 2, "{report:#}");
    assert_eq!(
        suppressed[0]["reason"],
        "the table is a cache, refilled on start"
    );
    assert_eq!(suppressed[0]["line"], HEADER + 2);
    assert_eq!(suppressed[0]["by"], "comment");

    // Without a reason nothing is suppressed, and the comment itself is reported.
    revision(
        &p,
        "003",
        "001",
        "-- dbrev:allow ALL003\nDELETE FROM posts;\n-- dbrev:allow NOPE123 why not\nDELETE FROM users;",
        "",
        true,
    );
    let (report, code) = lint_json(&p, &["003"]);
    assert_eq!(code, 1);
    assert_eq!(hits(&report, "ALL003"), [up_line(2), up_line(4)]);
    assert_eq!(hits(&report, "LINT001"), [up_line(1)]);
    assert_eq!(hits(&report, "LINT002"), [up_line(3)]);

    // A comment that suppresses nothing is itself reported, as information.
    revision(
        &p,
        "004",
        "001",
        "-- dbrev:allow ALL005 nothing to suppress here\nDELETE FROM posts WHERE id < 10;",
        "",
        true,
    );
    let (report, code) = lint_json(&p, &["004"]);
    assert_eq!(hits(&report, "LINT003"), [up_line(1)], "{report:#}");
    let lint003 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "LINT003")
        .unwrap();
    assert_eq!(lint003["severity"], "info", "{report:#}");
    assert_eq!(code, 0, "an info finding does not fail lint: {report:#}");
});

backend_test!(sizing_uses_the_live_row_estimate, |db| {
    let p = project(&db);
    revision(
        &p,
        "001",
        "",
        "CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(20));",
        "DROP TABLE posts;",
        true,
    );
    revision(
        &p,
        "002",
        "001",
        "ALTER TABLE posts ADD COLUMN score INTEGER NOT NULL;",
        "",
        true,
    );
    p.cmd("dbrev").args(["upgrade", "001", "-q"]).ok();
    let fill = match db.backend() {
        Backend::Postgres => {
            "INSERT INTO posts SELECT g, 't' FROM generate_series(1, 1500) g;\nANALYZE posts;"
        }
        Backend::Mysql => {
            "INSERT INTO posts SELECT seq, 't' FROM seq_1_to_1500;\nANALYZE TABLE posts;"
        }
        Backend::Sqlite => {
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1500) INSERT INTO posts SELECT i, 't' FROM s;\nANALYZE;"
        }
    };
    db.run_script(fill);
    // The default: only what the database has not applied, sized from it.
    let (report, code) = lint_json(&p, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["revisions"], serde_json::json!(["002"]));
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "ALL004")
        .expect("ALL004");
    let rows = finding["rows"].as_u64().expect("rows");
    assert!((1200..=1800).contains(&rows), "{report:#}");
    let text = p.cmd("dbrev").args(["lint"]).run();
    assert_eq!(text.code(), 1);
    let sized = format!("posts ~{} rows", dbkit::lint::sizes::approx(rows));
    assert!(text.stdout().contains(&sized), "{sized}: {}", text.stdout());
});

fn text_format_and_exit_codes() -> Skippable {
    sqlite(|db| {
        let p = project(&db);
        revision(&p, "001", "", POSTS, "", true);
        revision(&p, "002", "001", "DELETE FROM posts;", "", true);
        revision(&p, "003", "001", "UPDATE posts SET title = 'x';", "", true);
        // An error: exit 1, `file:line: RULE severity: message` and the safe form.
        let out = p.cmd("dbrev").args(["lint", "002"]).run();
        assert_eq!(out.code(), 1, "{}", out.stderr());
        let first = out.stdout().lines().next().unwrap_or_default().to_owned();
        assert!(
            first.starts_with(
                "versioning/versions/002_r/up.sql:5: ALL003 error: DELETE without WHERE"
            ),
            "{first}"
        );
        assert!(
            out.stdout()
                .lines()
                .nth(1)
                .unwrap_or_default()
                .starts_with("    safe: ")
        );
        assert!(
            out.stderr().contains("lint found 1 error(s)"),
            "{}",
            out.stderr()
        );
        // Only a warning: exit 0.
        p.cmd("dbrev")
            .args(["lint", "003"])
            .ok()
            .stdout_has("ALL005 warning");
        // Usage errors: exit 2.
        let out = p.cmd("dbrev").args(["lint", "002", "--all"]).run();
        assert_eq!(out.code(), 2, "{}", out.stderr());
        let out = p.cmd("dbrev").args(["lint", "999"]).fails();
        assert_eq!(out.code(), 2, "{}", out.stderr());
        // The default needs the database; with none reachable it says so (exit 4) ...
        let nowhere = ["--database-url", "postgres://nobody@127.0.0.1:1/nothing"];
        let out = p.cmd("dbrev").args(["lint"]).args(nowhere).fails();
        assert_eq!(out.code(), 4, "{}", out.stderr());
        assert!(out.stderr().contains("--all"), "{}", out.stderr());
        // ... and --all lints without it (PostgreSQL's rules: the URL picks the backend).
        let out = p.cmd("dbrev").args(["lint", "--all"]).args(nowhere).run();
        assert_eq!(out.code(), 1, "{}", out.stderr());
        assert!(out.stderr().contains("not sized"), "{}", out.stderr());
        assert!(out.stderr().contains("for postgres"), "{}", out.stderr());
        // Lint writes nothing: the SQLite database it was pointed at is still not there,
        // and the default selection took every revision as pending.
        let file = db.url.trim_start_matches("sqlite://");
        let (report, _) = lint_json(&p, &[]);
        assert_eq!(
            report["revisions"],
            serde_json::json!(["001", "002", "003"])
        );
        assert!(!std::path::Path::new(file).exists(), "lint created {file}");
        // A file that cannot be split is bad input (exit 3) named by file and line.
        revision(
            &p,
            "004",
            "003",
            "SELECT 1;\nSELECT 'unterminated;",
            "",
            true,
        );
        let out = p.cmd("dbrev").args(["lint", "004"]).fails();
        assert_eq!(out.code(), 3, "{}", out.stderr());
        assert!(
            out.stderr().contains("004_r/up.sql:6: unterminated string"),
            "{}",
            out.stderr()
        );
    })
}

/// `current` in a range needs the database: a SQLite file that does not exist is an error
/// naming it (exit 4), and lint does not create it.
fn a_range_from_current_needs_an_existing_database_file() -> Skippable {
    sqlite(|db| {
        let p = project(&db);
        revision(&p, "001", "", POSTS, "", true);
        let file = db.url.trim_start_matches("sqlite://");
        let out = p.cmd("dbrev").args(["lint", "current:"]).fails();
        assert_eq!(out.code(), 4, "{}", out.stderr());
        assert!(
            out.stderr().contains(file) && out.stderr().contains("does not exist"),
            "{}",
            out.stderr()
        );
        assert!(!std::path::Path::new(file).exists(), "lint created {file}");
    })
}

fn lint_table_in_dbrev_toml() -> Skippable {
    sqlite(|db| {
        let p = project(&db);
        let config = p.read("dbrev.toml");
        p.file(
            "dbrev.toml",
            &format!(
                "{config}\n[lint]\ndeny = [\"ALL005\"]\n\n[lint.allow]\nALL003 = \"the tables are caches\"\n"
            ),
        );
        revision(&p, "001", "", POSTS, "", true);
        revision(
            &p,
            "002",
            "001",
            "DELETE FROM posts;\nUPDATE users SET name = 'x';",
            "",
            true,
        );
        let (report, code) = lint_json(&p, &["002"]);
        assert_eq!(code, 1);
        assert_eq!(hits(&report, "ALL003"), []);
        assert_eq!(report["suppressed"][0]["by"], "dbrev.toml");
        assert_eq!(report["findings"][0]["rule"], "ALL005");
        assert_eq!(report["findings"][0]["severity"], "error");
    })
}

backend_test!(
    upgrade_prints_the_findings_and_blocks_only_when_asked,
    |db| {
        let p = project(&db);
        revision(
            &p,
            "001",
            "",
            POSTS,
            "DROP TABLE posts;\nDROP TABLE users;",
            true,
        );
        revision(&p, "002", "001", "DELETE FROM posts;", "", true);
        p.cmd("dbrev").args(["upgrade", "001"]).ok();
        // With `block_upgrade`, an error-level finding refuses the run before anything applies.
        let config = p.read("dbrev.toml");
        p.file(
            "dbrev.toml",
            &format!("{config}\n[lint]\nblock_upgrade = true\n"),
        );
        let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
        assert_eq!(out.code(), 8, "{}", out.stderr());
        assert!(
            out.stderr().contains("002_r/up.sql:5: ALL003 error"),
            "{}",
            out.stderr()
        );
        assert_eq!(db.applied(), ["001"]);
        // By default the findings are printed and the revision applies.
        p.file("dbrev.toml", &config);
        let out = p.cmd("dbrev").args(["upgrade", "head"]).ok();
        let err = out.stderr();
        let lint = err.find("Lint ").expect("a lint line");
        let applied = err.find("Applied 002").expect("002 applied");
        assert!(lint < applied, "findings come before anything runs:\n{err}");
        assert!(err.contains("002_r/up.sql:5: ALL003 error"), "{err}");
        assert_eq!(db.applied(), ["001", "002"]);
    }
);

dbrev_tests::main! {
    backend: [
        all001_drops_lose_data,
        all002_renames_the_running_app_reads,
        all003_delete_without_where,
        all004_not_null_column_without_default,
        all005_update_without_where,
        suppression_comments,
        sizing_uses_the_live_row_estimate,
        upgrade_prints_the_findings_and_blocks_only_when_asked,
    ],
    plain: [
        pg001_create_index_without_concurrently,
        pg002_concurrently_in_a_transaction,
        pg003_constraints_without_not_valid,
        pg004_set_not_null_without_a_validated_check,
        pg005_type_change_that_rewrites,
        pg006_add_column_with_a_volatile_default,
        pg007_access_exclusive_without_lock_timeout,
        my001_alter_that_copies_the_table,
        my002_ddl_and_dml_in_one_revision,
        my003_change_column_to_rename,
        my004_lock_tables_in_a_revision,
        sl001_rebuild_with_foreign_keys_enforced,
        sl002_alter_forms_older_sqlite_lacks,
        lint000_statements_nothing_reads_are_reported,
        text_format_and_exit_codes,
        lint_table_in_dbrev_toml,
        a_range_from_current_needs_an_existing_database_file,
    ],
}
