//! `cargo dbrev` end to end on every backend: targets, branches and merges, stamp,
//! offline scripts through the native clients, concurrency, failures, diesel interplay.

use dbrev_tests::{Backend, Project, TestDb, add_revision, backend_test, migration_project};

fn table(n: &str) -> (String, String) {
    (
        format!("CREATE TABLE t_{n} (id INTEGER PRIMARY KEY);"),
        format!("DROP TABLE t_{n};"),
    )
}

fn add_table(p: &Project, id: &str, extra: &[&str]) {
    let (up, down) = table(id);
    add_revision(p, id, &format!("create t_{id}"), &up, &down, extra);
}

fn user_tables(db: &TestDb) -> Vec<String> {
    let mut t: Vec<String> = db
        .tables()
        .into_iter()
        .filter(|t| t != "__diesel_schema_migrations" && t != "__dbrev_revisions")
        .collect();
    t.sort();
    t
}

fn current(p: &Project) -> String {
    p.cmd("dbrev").args(["current"]).ok().stdout()
}

backend_test!(linear_targets, |db| {
    let p = migration_project(&db);
    for id in ["a1", "b2", "c3", "d4", "e5"] {
        add_table(&p, id, &[]);
    }
    p.cmd("dbrev")
        .args(["upgrade", "+2"])
        .ok()
        .stderr_has("Applied a1 create t_a1");
    assert_eq!(db.applied(), ["a1", "b2"]);
    assert_eq!(user_tables(&db), ["t_a1", "t_b2"]);
    p.cmd("dbrev").args(["upgrade", "b2+2"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3", "d4"]);
    p.cmd("dbrev")
        .args(["downgrade", "-1"])
        .ok()
        .stderr_has("Reverted d4");
    assert_eq!(current(&p), "c3\n");
    p.cmd("dbrev").args(["downgrade", "c3-2"]).ok();
    assert_eq!(db.applied(), ["a1"]);
    p.cmd("dbrev").args(["upgrade", "d"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3", "d4"]);
    p.cmd("dbrev").args(["upgrade"]).ok();
    assert_eq!(current(&p), "e5 (head)\n");
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .ok()
        .stderr_has("Nothing");
    p.cmd("dbrev")
        .args(["upgrade", "zz"])
        .fails()
        .stderr_has("no revision `zz`; closest: a1, b2, c3, d4, e5");
    p.cmd("dbrev")
        .args(["downgrade", "-9"])
        .fails()
        .stderr_has("goes below base");
    p.cmd("dbrev").args(["downgrade", "base"]).ok();
    assert!(db.applied().is_empty());
    assert!(user_tables(&db).is_empty());
    let history = p.cmd("dbrev").args(["history"]).ok().stdout();
    assert!(
        history.starts_with("d4 -> e5 (head), create t_e5\n"),
        "{history}"
    );
    assert!(
        history.ends_with("<base> -> a1, create t_a1\n"),
        "{history}"
    );
    let ranged = p
        .cmd("dbrev")
        .args(["history", "-r", "b2:d4"])
        .ok()
        .stdout();
    assert_eq!(ranged.lines().count(), 3, "{ranged}");
    let show = p.cmd("dbrev").args(["show", "c3"]).ok().stdout();
    assert!(
        show.contains("Rev: c3") && show.contains("Parent: b2"),
        "{show}"
    );
    assert_eq!(
        p.cmd("dbrev").args(["heads"]).ok().stdout(),
        "d4 -> e5 (head), create t_e5\n"
    );
});

backend_test!(branches_and_merges, |db| {
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    add_table(&p, "b2", &[]);
    add_table(
        &p,
        "c3",
        &["--head", "a1", "--splice", "--branch-label", "feat"],
    );
    p.cmd("dbrev")
        .args(["revision", "-m", "x"])
        .fails()
        .stderr_has("several heads (b2, c3)");
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), 2);
    assert!(
        out.stderr().contains("several heads (b2, c3)"),
        "{}",
        out.stderr()
    );
    p.cmd("dbrev").args(["upgrade", "feat@head"]).ok();
    assert_eq!(db.applied(), ["a1", "c3"]);
    p.cmd("dbrev").args(["upgrade", "heads"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    assert_eq!(current(&p), "b2 (head)\nc3 (head)\n");
    let branches = p.cmd("dbrev").args(["branches"]).ok().stdout();
    assert!(branches.contains("a1 (branchpoint)"), "{branches}");
    p.cmd("dbrev")
        .args(["merge", "-m", "join", "--rev-id", "m4", "heads"])
        .ok();
    let merge = p.read(
        p.revisions()
            .into_iter()
            .find(|d| d.ends_with("m4_join"))
            .unwrap()
            .join("up.sql"),
    );
    assert!(merge.contains("-- Revises: b2, c3"), "{merge}");
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    assert_eq!(current(&p), "m4 (head)\n");
    p.cmd("dbrev").args(["downgrade", "-1"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    p.cmd("dbrev").args(["downgrade", "a1"]).ok();
    assert_eq!(db.applied(), ["a1"]);
    assert_eq!(user_tables(&db), ["t_a1"]);
});

backend_test!(stamp_sets_the_version_table_only, |db| {
    let p = migration_project(&db);
    for id in ["a1", "b2", "c3"] {
        add_table(&p, id, &[]);
    }
    p.cmd("dbrev").args(["stamp", "head"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    assert!(user_tables(&db).is_empty());
    p.cmd("dbrev").args(["stamp", "a1"]).ok();
    assert_eq!(db.applied(), ["a1"]);
    let mut conn = db.connect();
    let table = conn.dialect().quote_ident("__diesel_schema_migrations");
    conn.batch_execute(&format!("INSERT INTO {table} (version) VALUES ('zz9')"))
        .unwrap();
    p.cmd("dbrev")
        .args(["stamp", "b2"])
        .fails()
        .stderr_has("zz9");
    p.cmd("dbrev").args(["stamp", "b2", "--purge"]).ok();
    assert_eq!(db.applied(), ["a1", "b2"]);
    p.cmd("dbrev").args(["stamp", "base"]).ok();
    assert!(db.applied().is_empty());
});

backend_test!(offline_scripts_match_the_online_run, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "accounts",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL);\nINSERT INTO accounts (id, name) VALUES (1, 'semi;colon');",
        "DROP TABLE accounts;",
        &[],
    );
    add_table(&p, "b2", &[]);
    add_table(&p, "c3", &[]);
    let script = p
        .cmd("dbrev")
        .args(["upgrade", "--sql", "base:head"])
        .ok()
        .stdout();
    assert!(script.contains("INSERT INTO"), "{script}");
    // Online on the test database, offline through the native client on a second one.
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    let offline = TestDb::new(db.backend()).unwrap();
    let path = p.root().join("upgrade.sql");
    std::fs::write(&path, &script).unwrap();
    let out = offline.load_with_native_client(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(user_tables(&offline), user_tables(&db));
    assert_eq!(offline.applied(), db.applied());
    assert_eq!(
        offline
            .value("SELECT name AS value FROM accounts")
            .as_deref(),
        Some("semi;colon")
    );
    // And back down, offline.
    let down = p
        .cmd("dbrev")
        .args(["downgrade", "--sql", "head:a1"])
        .ok()
        .stdout();
    std::fs::write(&path, &down).unwrap();
    let out = offline.load_with_native_client(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(offline.applied(), ["a1"]);
    assert_eq!(user_tables(&offline), ["accounts"]);
    p.cmd("dbrev")
        .args(["downgrade", "--sql", "a1"])
        .fails()
        .stderr_has("needs a range FROM:TO");
});

backend_test!(a_failing_revision_leaves_earlier_ones_applied, |db| {
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    add_table(&p, "b2", &[]);
    add_revision(
        &p,
        "c3",
        "broken",
        "CREATE TABLE t_c3 (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);",
        "DROP TABLE t_c3;",
        &[],
    );
    add_table(&p, "d4", &[]);
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), 5);
    let err = out.stderr();
    // The header takes 6 lines, the placeholder comment one: the INSERT is on line 9.
    assert!(err.contains("revision c3 failed at"), "{err}");
    assert!(err.contains("c3_broken/up.sql:9:"), "{err}");
    assert!(err.to_lowercase().contains("no_such_table"), "{err}");
    assert_eq!(db.applied(), ["a1", "b2"]);
    if db.backend() == Backend::Mysql {
        assert!(err.contains("statements 1–1 of 2 already ran"), "{err}");
        assert!(err.contains("c3_broken/up.sql line 8"), "{err}");
        assert!(
            err.contains("upgrade --resume` continues at statement 2"),
            "{err}"
        );
        assert_eq!(user_tables(&db), ["t_a1", "t_b2", "t_c3"]);
    } else {
        assert!(err.contains("was rolled back"), "{err}");
        assert_eq!(user_tables(&db), ["t_a1", "t_b2"]);
    }
});

backend_test!(down_files_as_diesel_reads_them, |db| {
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    add_table(&p, "b2", &[]);
    add_table(&p, "c3", &[]);
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    let b2 = p
        .revisions()
        .into_iter()
        .find(|d| d.ends_with("b2_create_t_b2"))
        .unwrap();
    // A 0-byte down.sql is refused (diesel refuses it too) before anything runs.
    std::fs::write(b2.join("down.sql"), "").unwrap();
    let out = p.cmd("dbrev").args(["downgrade", "base"]).fails();
    assert_eq!(out.code(), 5);
    out.stderr_has("revision b2 cannot be reverted")
        .stderr_has("is empty (0 bytes");
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    std::fs::remove_file(b2.join("down.sql")).unwrap();
    p.cmd("dbrev")
        .args(["downgrade", "base"])
        .fails()
        .stderr_has("does not exist");
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    // A comment-only one ("irreversible") reverts as a no-op, with a warning.
    std::fs::write(b2.join("down.sql"), "-- irreversible: t_b2 stays\n").unwrap();
    let out = p.cmd("dbrev").args(["downgrade", "a1"]).ok();
    out.stderr_has("b2_create_t_b2/down.sql holds no SQL statement; reverted as a no-op")
        .stderr_has("Reverted b2");
    assert_eq!(db.applied(), ["a1"]);
    assert_eq!(user_tables(&db), ["t_a1", "t_b2"]);
    // An up.sql with nothing to run applies as a no-op, with a warning.
    add_revision(&p, "d4", "nothing", "", "", &["--head", "a1", "--splice"]);
    p.cmd("dbrev")
        .args(["upgrade", "d4"])
        .ok()
        .stderr_has("d4_nothing/up.sql holds no SQL statement; applied as a no-op");
    assert_eq!(db.applied(), ["a1", "d4"]);
});

fn graph_errors_name_the_files() {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(
        "versioning/versions/a1_x/up.sql",
        "-- x\n-- Revision ID: a1\n-- Revises: zz\n",
    );
    p.cmd("dbrev")
        .args(["heads"])
        .fails()
        .stderr_has("a1_x/up.sql: `Revises: zz` names a revision that does not exist");
    p.file(
        "versioning/versions/a1_x/up.sql",
        "-- x\n-- Revision ID: a1\n-- Revises: b2\n",
    );
    p.file(
        "versioning/versions/b2_y/up.sql",
        "-- y\n-- Revision ID: b2\n-- Revises: a1\n",
    );
    p.cmd("dbrev").args(["heads"]).fails().stderr_has("cycle");
    p.file(
        "versioning/versions/b2_y/up.sql",
        "-- y\n-- Revision ID: b3\n-- Revises: a1\n",
    );
    p.cmd("dbrev")
        .args(["heads"])
        .fails()
        .stderr_has("b2_y/up.sql:2: malformed header");
    p.file(
        "versioning/versions/b2_y/up.sql",
        "-- y\n-- Revision ID: b2\n-- Revises:\n",
    );
    p.file("versioning/versions/b2-/up.sql", "-- y\n");
    p.cmd("dbrev")
        .args(["heads"])
        .fails()
        .stderr_has("two revisions have the id b2");
}

fn revision_ids_within_one_second_are_distinct_and_ordered() {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    for i in 0..3 {
        p.cmd("dbrev")
            .args(["revision", "-q", "-m", &format!("quick {i}")])
            .ok();
    }
    let names: Vec<String> = p
        .revisions()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(
        names[0].ends_with("_quick_0") && names[2].ends_with("_quick_2"),
        "{names:?}"
    );
    let history = p.cmd("dbrev").args(["history"]).ok().stdout();
    assert_eq!(history.lines().count(), 3);
}

fn unfilled_markers_block_upgrade() {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "fill",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\nUPDATE t SET n = /* FILL: a value for t.n */;",
        "DROP TABLE t;",
        &[],
    );
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .fails()
        .stderr_has("a1_fill/up.sql:9: revision a1 still has an unfilled FILL marker");
    assert!(db.applied().is_empty());
}

backend_test!(output_flags_exit_codes_and_inspection, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "first",
        "CREATE TABLE t_a1 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t_a1;",
        &[],
    );
    add_table(&p, "b2", &[]);
    let quiet = p.cmd("dbrev").args(["upgrade", "a1", "-q"]).ok();
    assert_eq!(quiet.stderr(), "");
    let verbose = p.cmd("dbrev").args(["upgrade", "-v"]).ok();
    assert!(
        verbose.stderr().contains("CREATE TABLE t_b2"),
        "{}",
        verbose.stderr()
    );
    let line = verbose
        .stderr()
        .lines()
        .find(|l| l.contains("Applied"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("b2 create t_b2 (") && line.ends_with(" ms)"),
        "{line}"
    );
    assert_eq!(p.cmd("dbrev").args(["nonsense"]).run().code(), 2);
    assert_eq!(
        p.cmd("dbrev")
            .args(["downgrade", "--sql", "a1"])
            .run()
            .code(),
        2
    );
    assert_eq!(p.cmd("dbrev").args(["upgrade", "nope"]).run().code(), 2);
    let history = p.cmd("dbrev").args(["history", "-i"]).ok().stdout();
    assert!(
        history.contains("b2 (head) (current), create t_b2"),
        "{history}"
    );
    let current = p.cmd("dbrev").args(["current", "-v"]).ok().stdout();
    assert!(
        current.contains("Rev: b2 (head)") && current.contains("Path: "),
        "{current}"
    );
    // `edit` runs $EDITOR on both files, without a shell.
    p.cmd("dbrev")
        .args(["edit", "a1"])
        .env("EDITOR", "touch")
        .env_remove_visual()
        .ok();
    p.cmd("dbrev")
        .args(["edit", "a1"])
        .env("EDITOR", "false")
        .env_remove_visual()
        .fails()
        .stderr_has("exited with");
});

backend_test!(dependencies_and_non_transactional_revisions, |db| {
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    add_table(&p, "b2", &[]);
    add_table(&p, "c3", &["--head", "base", "--branch-label", "other"]);
    add_table(&p, "d4", &["--head", "c3", "--depends-on", "b2"]);
    let d4 = p
        .revisions()
        .into_iter()
        .find(|d| d.ends_with("d4_create_t_d4"))
        .unwrap();
    assert!(p.read(d4.join("up.sql")).contains("-- Depends On: b2"));
    // metadata.toml is honoured (and diesel reads it too).
    std::fs::write(d4.join("metadata.toml"), "run_in_transaction = false\n").unwrap();
    p.cmd("dbrev").args(["upgrade", "other@head"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3", "d4"]);
    let show = p.cmd("dbrev").args(["show", "d4"]).ok().stdout();
    assert!(show.contains("Also depends on: b2"), "{show}");
});

fn offline_scripts_need_no_connection() {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.cmd("dbrev")
        .args(["revision", "-q", "-m", "x", "--rev-id", "a1"])
        .ok();
    let script = p
        .cmd("dbrev")
        .args([
            "upgrade",
            "--sql",
            "--database-url",
            "postgres://u:pw@127.0.0.1:1/none",
        ])
        .ok()
        .stdout();
    assert!(
        script.contains("INSERT INTO \"__diesel_schema_migrations\" (version) VALUES ('a1');"),
        "{script}"
    );
    assert!(
        script.contains("BEGIN;") && script.contains("COMMIT;"),
        "{script}"
    );
    let mysql = p
        .cmd("dbrev")
        .args([
            "upgrade",
            "--sql",
            "base:a1",
            "--database-url",
            "mysql://u:pw@127.0.0.1:1/none",
        ])
        .ok()
        .stdout();
    assert!(
        mysql.contains("INSERT INTO `__diesel_schema_migrations`"),
        "{mysql}"
    );
    assert!(!mysql.contains("BEGIN;"), "{mysql}");
}

backend_test!(downgrading_one_branch_keeps_the_other, |db| {
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    add_table(&p, "b2", &[]);
    let with_row = |id: &str| {
        (
            format!(
                "CREATE TABLE t_{id} (id INTEGER PRIMARY KEY);\nINSERT INTO t_{id} (id) VALUES (1);"
            ),
            format!("DROP TABLE t_{id};"),
        )
    };
    let (up, down) = with_row("c3");
    add_revision(
        &p,
        "c3",
        "left",
        &up,
        &down,
        &["--head", "b2", "--branch-label", "left"],
    );
    let (up, down) = with_row("d4");
    add_revision(
        &p,
        "d4",
        "right",
        &up,
        &down,
        &["--head", "b2", "--splice", "--branch-label", "right"],
    );
    let (up, down) = with_row("e5");
    add_revision(&p, "e5", "right more", &up, &down, &["--head", "d4"]);
    p.cmd("dbrev").args(["upgrade", "heads"]).ok();
    let rows = |t: &str| {
        db.value(&format!(
            "SELECT {} AS value FROM {t}",
            dbrev_tests::as_text(&db, "COUNT(*)")
        ))
        .unwrap_or_default()
    };
    // REV-1 steps down REV's own branch.
    p.cmd("dbrev").args(["downgrade", "e5-1"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3", "d4"]);
    // LABEL@base reverts that branch down to where it grew from; the other one stays,
    // rows and all.
    p.cmd("dbrev")
        .args(["downgrade", "right@base"])
        .ok()
        .stderr_has("Reverted d4");
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    assert_eq!(user_tables(&db), ["t_a1", "t_b2", "t_c3"]);
    assert_eq!(rows("t_c3"), "1");
    p.cmd("dbrev").args(["upgrade", "heads"]).ok();
    // LABEL@-1 from a database with two heads.
    p.cmd("dbrev").args(["downgrade", "left@-1"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "d4", "e5"]);
    assert_eq!(rows("t_d4"), "1");
    assert_eq!(rows("t_e5"), "1");
    p.cmd("dbrev").args(["upgrade", "left@head"]).ok();
    // d4-1 is b2, a branch point: only d4's line goes.
    p.cmd("dbrev").args(["downgrade", "d4-1"]).ok();
    assert_eq!(db.applied(), ["a1", "b2", "c3"]);
    assert_eq!(rows("t_c3"), "1");
    p.cmd("dbrev").args(["upgrade", "heads"]).ok();
    // `-1` with two current heads is ambiguous, and says how to choose.
    let out = p.cmd("dbrev").args(["downgrade", "-1"]).fails();
    assert_eq!(out.code(), 2);
    out.stderr_has("several current heads (c3, e5)")
        .stderr_has("`c3-1`, `e5-1`");
    // Each command goes one way.
    let out = p.cmd("dbrev").args(["upgrade", "-1"]).fails();
    assert_eq!(out.code(), 2);
    out.stderr_has("use `cargo dbrev downgrade -1`");
    let out = p.cmd("dbrev").args(["downgrade", "+1"]).fails();
    assert_eq!(out.code(), 2);
    out.stderr_has("use `cargo dbrev upgrade +1`");
    p.cmd("dbrev")
        .args(["downgrade", "c3"])
        .ok()
        .stderr_has("Nothing");
    assert_eq!(db.applied(), ["a1", "b2", "c3", "d4", "e5"]);
});

backend_test!(
    an_applied_revision_without_its_directory_stops_the_run,
    |db| {
        let p = migration_project(&db);
        add_table(&p, "a1", &[]);
        add_table(&p, "b2", &[]);
        p.cmd("dbrev").args(["upgrade", "head"]).ok();
        std::fs::remove_dir_all(dbrev_tests::revision_dir(&p, "b2")).unwrap();
        for args in [["upgrade", "head"], ["downgrade", "base"]] {
            let out = p.cmd("dbrev").args(args).fails();
            assert_eq!(out.code(), 3);
            out.stderr_has("Can't locate revision b2")
                .stderr_has("restore its directory")
                .stderr_has("`cargo dbrev stamp --purge TARGET`");
        }
        assert_eq!(db.applied(), ["a1", "b2"]);
        assert_eq!(
            current(&p),
            "a1 (head)\nb2 (unknown: no revision directory)\n"
        );
        p.cmd("dbrev").args(["stamp", "--purge", "a1"]).ok();
        p.cmd("dbrev").args(["downgrade", "base"]).ok();
        assert!(db.applied().is_empty());
    }
);

backend_test!(session_sql_runs_on_every_migration_session, |db| {
    let p = migration_project(&db);
    let toml = p.read("dbrev.toml");
    p.file(
        "dbrev.toml",
        &format!(
            "{toml}\nsession_sql = [\"CREATE TEMPORARY TABLE session_marker (n INTEGER)\", \"INSERT INTO session_marker (n) VALUES (7)\"]\n"
        ),
    );
    add_revision(
        &p,
        "a1",
        "uses the session",
        "CREATE TABLE t (n INTEGER);\nINSERT INTO t (n) SELECT n FROM session_marker;",
        "DROP TABLE t;",
        &[],
    );
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    assert_eq!(
        db.value(&format!(
            "SELECT {} AS value FROM t",
            dbrev_tests::as_text(&db, "MIN(n)")
        ))
        .as_deref(),
        Some("7")
    );
    p.file(
        "dbrev.toml",
        &format!("{toml}\nsession_sql = \"SELECT * FROM no_such_table\"\n"),
    );
    let out = p.cmd("dbrev").args(["current"]).fails();
    assert_eq!(out.code(), 5);
    out.stderr_has("dbrev.toml: session_sql `SELECT * FROM no_such_table`: ");
});

fn show_and_edit_resolve_like_every_command() {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    add_table(&p, "b2", &[]);
    add_table(&p, "c3", &["--head", "a1", "--splice"]);
    p.cmd("dbrev").args(["upgrade", "b2"]).ok();
    let out = p.cmd("dbrev").args(["show"]).fails();
    out.stderr_has("`head` is ambiguous");
    let heads = p.cmd("dbrev").args(["show", "heads"]).ok().stdout();
    assert!(
        heads.contains("Rev: b2") && heads.contains("Rev: c3"),
        "{heads}"
    );
    let shown = p
        .cmd("dbrev")
        .args(["show", "current"])
        .ok()
        .stderr_has("Database")
        .stdout();
    assert!(
        shown.contains("Rev: b2") && !shown.contains("Rev: c3"),
        "{shown}"
    );
    assert!(shown.contains("Applied: "), "{shown}");
    let minus = p.cmd("dbrev").args(["show", "b2-1"]).ok().stdout();
    assert!(minus.starts_with("Rev: a1"), "{minus}");
    p.cmd("dbrev")
        .args(["show", "a1-1"])
        .fails()
        .stderr_has("names no revision (it is base)");
    // `edit` with no argument is `head`; `current` and `heads` open every file.
    let log = p.root().join("edited.txt");
    p.file(
        "editor.sh",
        &format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display()),
    );
    let editor = p.root().join("editor.sh");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p.cmd("dbrev")
        .args(["edit", "heads"])
        .env("EDITOR", &editor)
        .env_remove_visual()
        .ok();
    p.cmd("dbrev")
        .args(["edit", "current"])
        .env("EDITOR", &editor)
        .env_remove_visual()
        .ok();
    let edited = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = edited.lines().collect();
    assert_eq!(lines.len(), 2, "{edited}");
    assert_eq!(lines[0].matches(".sql").count(), 4, "{edited}");
    assert!(lines[1].contains("b2_create_t_b2/up.sql"), "{edited}");
    p.cmd("dbrev")
        .args(["edit"])
        .env("EDITOR", &editor)
        .env_remove_visual()
        .fails()
        .stderr_has("`head` is ambiguous");
    // With one head again, `show` and `edit` without an argument take it.
    p.cmd("dbrev")
        .args(["merge", "-m", "join", "--rev-id", "m4", "heads"])
        .ok();
    let shown = p.cmd("dbrev").args(["show"]).ok().stdout();
    assert!(shown.starts_with("Rev: m4"), "{shown}");
    p.cmd("dbrev")
        .args(["edit"])
        .env("EDITOR", &editor)
        .env_remove_visual()
        .ok();
    let edited = std::fs::read_to_string(&log).unwrap();
    let last = edited.lines().last().unwrap_or_default();
    assert!(last.contains("m4_join/up.sql"), "{edited}");
}

fn sql_that_is_not_utf8_names_the_file_and_line() {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let p = migration_project(&db);
    add_table(&p, "a1", &[]);
    let up = dbrev_tests::revision_dir(&p, "a1").join("up.sql");
    let mut bytes = std::fs::read(&up).unwrap();
    bytes.extend_from_slice(b"INSERT INTO t_a1 VALUES ('caf\xe9');\n");
    std::fs::write(&up, bytes).unwrap();
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), 3);
    out.stderr_has("a1_create_t_a1/up.sql:9:30: not valid UTF-8");
}

dbrev_tests::main! {
    backend: [
        linear_targets,
        branches_and_merges,
        stamp_sets_the_version_table_only,
        offline_scripts_match_the_online_run,
        a_failing_revision_leaves_earlier_ones_applied,
        down_files_as_diesel_reads_them,
        output_flags_exit_codes_and_inspection,
        dependencies_and_non_transactional_revisions,
        downgrading_one_branch_keeps_the_other,
        an_applied_revision_without_its_directory_stops_the_run,
        session_sql_runs_on_every_migration_session,
    ],
    plain: [
        graph_errors_name_the_files,
        revision_ids_within_one_second_are_distinct_and_ordered,
        unfilled_markers_block_upgrade,
        offline_scripts_need_no_connection,
        show_and_edit_resolve_like_every_command,
        sql_that_is_not_utf8_names_the_file_and_line,
    ],
}
