//! What makes `cargo dbrev` safe to point at production, end to end on every backend: the
//! migration lock (a held lock times out naming its holder; eight concurrent runs apply each
//! revision once), the companion table (checksums, applied at/by/duration; edited history
//! refused until accepted), and the journal of runs that cannot roll back (a failing
//! statement, a killed process, Ctrl-C, `--resume` in both directions).

use std::time::{Duration, Instant};

use dbrev_tests::{
    Backend, Project, Skippable, TestDb, add_revision, as_text, backend_test, migration_project,
    revision_dir, revision_record,
};

fn applied_count(db: &TestDb) -> usize {
    db.applied().len()
}

/// Marks a revision `run_in_transaction = false` (diesel's metadata.toml).
fn without_transaction(p: &Project, id: &str) {
    std::fs::write(
        revision_dir(p, id).join("metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
}

/// Replaces `from` by `to` in a revision's file.
fn edit(p: &Project, id: &str, file: &str, from: &str, to: &str) {
    let path = revision_dir(p, id).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn count(db: &TestDb, table: &str) -> String {
    db.value(&format!(
        "SELECT {} AS value FROM {table}",
        as_text(db, "COUNT(*)")
    ))
    .unwrap_or_default()
}

backend_test!(a_held_lock_times_out_naming_its_holder, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "first",
        "CREATE TABLE t_a1 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t_a1;",
        &[],
    );
    let mut holder = db.connect();
    match db.backend() {
        Backend::Sqlite => holder.batch_execute("BEGIN EXCLUSIVE").unwrap(),
        _ => {
            let name = dbkit::lock::lock_name("__diesel_schema_migrations");
            let sql = holder.dialect().try_lock(&name).unwrap();
            assert_eq!(holder.query_value(&sql).unwrap().as_deref(), Some("1"));
        }
    }
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "head", "--lock-timeout", "2"])
        .fails();
    assert_eq!(out.code(), dbkit::error::exit::LOCK);
    let err = out.stderr();
    assert!(err.trim_start().starts_with("Database"), "{err}");
    assert_eq!(err.matches("Waiting").count(), 1, "{err}");
    match db.backend() {
        Backend::Sqlite => {
            assert!(err.contains("Waiting for the write lock on"), "{err}");
            assert!(
                err.contains("stayed locked by another connection for 2 s"),
                "{err}"
            );
        }
        Backend::Postgres => {
            assert!(
                err.contains("Waiting for the migration lock held by pid "),
                "{err}"
            );
            assert!(
                err.contains("error: the migration lock is held by pid "),
                "{err}"
            );
            assert!(err.contains("connected since "), "{err}");
        }
        Backend::Mysql => {
            assert!(
                err.contains("Waiting for the migration lock held by connection "),
                "{err}"
            );
            assert!(
                err.contains("error: the migration lock is held by connection "),
                "{err}"
            );
            assert!(err.contains("root@"), "{err}");
        }
    }
    assert!(
        err.contains("gave up after 2 s") || err.contains("for 2 s"),
        "{err}"
    );
    // The same time-out from dbrev.toml, without the flag.
    let config = p.read("dbrev.toml");
    p.file("dbrev.toml", &format!("lock_timeout = 1\n{config}"));
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::LOCK);
    let err = out.stderr();
    assert!(
        err.contains("gave up after 1 s") || err.contains("for 1 s"),
        "{err}"
    );
    p.file("dbrev.toml", &config);
    drop(holder);
    assert!(db.applied().is_empty());
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    assert_eq!(db.applied(), ["a1"]);
});

backend_test!(eight_concurrent_upgrades_apply_each_revision_once, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "r00",
        "log",
        "CREATE TABLE applied_log (rev VARCHAR(10) NOT NULL);",
        "DROP TABLE applied_log;",
        &[],
    );
    for i in 1..15 {
        let id = format!("r{i:02}");
        add_revision(
            &p,
            &id,
            &format!("step {i}"),
            &format!("INSERT INTO applied_log (rev) VALUES ('{id}');"),
            &format!("DELETE FROM applied_log WHERE rev = '{id}';"),
            &[],
        );
    }
    let children: Vec<std::process::Child> = (0..8)
        .map(|_| {
            std::process::Command::new(dbrev_tests::binary("dbrev"))
                .args(["dbrev", "upgrade", "head", "-q"])
                .current_dir(p.root())
                .env_remove("DATABASE_URL")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(applied_count(&db), 15);
    assert_eq!(count(&db, "applied_log"), "14");
    assert_eq!(
        db.value(&format!(
            "SELECT {} AS value FROM applied_log",
            as_text(&db, "COUNT(DISTINCT rev)")
        ))
        .as_deref(),
        Some("14")
    );
    assert_eq!(count(&db, "__dbrev_revisions"), "15");
});

backend_test!(applied_history_cannot_change_unnoticed, |db| {
    let p = migration_project(&db);
    p.file(
        "src/schema.rs",
        "diesel::table! {\n    t_a1 (id) {\n        id -> Integer,\n    }\n}\n\ndiesel::table! {\n    t_b2 (id) {\n        id -> Integer,\n    }\n}\n\ndiesel::allow_tables_to_appear_in_same_query!(t_a1, t_b2);\n",
    );
    let a1 = add_revision(
        &p,
        "a1",
        "create t_a1",
        "CREATE TABLE t_a1 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t_a1;",
        &[],
    );
    add_revision(
        &p,
        "b2",
        "create t_b2",
        "CREATE TABLE t_b2 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t_b2;",
        &[],
    );
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    // The companion table: checksum of up.sql, who, how long; diesel's table as it was.
    let up = std::fs::read_to_string(a1.join("up.sql")).unwrap();
    assert_eq!(
        revision_record(&db, "a1", "checksum"),
        Some(dbkit::script::checksum(&up))
    );
    assert_eq!(
        revision_record(&db, "a1", "state").as_deref(),
        Some("applied")
    );
    let by = revision_record(&db, "a1", "applied_by").unwrap_or_default();
    assert!(by.contains('@'), "{by}");
    assert!(revision_record(&db, "a1", "duration_ms").is_some());
    assert!(revision_record(&db, "a1", "applied_at").is_some());
    let columns = match db.backend() {
        Backend::Sqlite => "SELECT group_concat(name, ',') AS value FROM pragma_table_info('__diesel_schema_migrations')".to_owned(),
        Backend::Postgres => "SELECT string_agg(column_name::text, ',' ORDER BY ordinal_position) AS value FROM information_schema.columns WHERE table_name = '__diesel_schema_migrations' AND table_schema = current_schema()".to_owned(),
        Backend::Mysql => "SELECT CAST(GROUP_CONCAT(column_name ORDER BY ordinal_position) AS CHAR) AS value FROM information_schema.columns WHERE table_name = '__diesel_schema_migrations' AND table_schema = DATABASE()".to_owned(),
    };
    assert_eq!(db.value(&columns).as_deref(), Some("version,run_on"));
    let history = p.cmd("dbrev").args(["history", "-v"]).ok();
    history
        .stderr_has("Database")
        .stdout_has("Applied: ")
        .stdout_has(" UTC by ")
        .stdout_has(" ms\n");
    p.cmd("dbrev").args(["check"]).ok().stderr_has("agree");
    // A checkout with CRLF line endings is not an edit.
    std::fs::write(a1.join("up.sql"), up.replace('\n', "\r\n")).unwrap();
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .ok()
        .stderr_has("Nothing");
    // A real edit: upgrade refuses, check says no, downgrade warns.
    std::fs::write(
        a1.join("up.sql"),
        format!("{up}CREATE INDEX t_a1_id ON t_a1 (id);\n"),
    )
    .unwrap();
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::REFUSED);
    out.stderr_has("a1_create_t_a1/up.sql: revision a1 changed since it was applied on ")
        .stderr_has("`cargo dbrev stamp --accept-edits a1`");
    let out = p.cmd("dbrev").args(["check"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::NO);
    out.stdout_has("revision a1 changed since it was applied")
        .stderr_has("1 applied revision(s) changed since they ran");
    p.cmd("dbrev")
        .args(["downgrade", "a1"])
        .ok()
        .stderr_has("warning: ")
        .stderr_has("revision a1 changed since it was applied")
        .stderr_has("Reverted b2");
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .fails()
        .stderr_has("revision a1 changed");
    p.cmd("dbrev")
        .args(["stamp", "--accept-edits", "a1"])
        .ok()
        .stderr_has("Accepted");
    p.cmd("dbrev")
        .args(["stamp", "--accept-edits", "a1"])
        .ok()
        .stderr_has("Unchanged");
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .ok()
        .stderr_has("Applied b2");
    p.cmd("dbrev").args(["check"]).ok().stderr_has("agree");
    p.cmd("dbrev")
        .args(["stamp", "--accept-edits", "zz"])
        .fails()
        .stderr_has("no revision `zz`");
});

backend_test!(a_failing_statement_is_journaled_and_resumed, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "first",
        "CREATE TABLE t_a1 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t_a1;",
        &[],
    );
    // Statements on lines 8 to 12; the third fails. MySQL never rolls DDL back; on
    // PostgreSQL and SQLite this revision opts out of the transaction, as diesel allows.
    add_revision(
        &p,
        "c3",
        "journaled",
        "CREATE TABLE j1 (id INTEGER PRIMARY KEY);\nINSERT INTO j1 (id) VALUES (1);\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE j2 (id INTEGER PRIMARY KEY);\nINSERT INTO j2 (id) VALUES (2);",
        "DROP TABLE j2;\nDROP TABLE no_such_table;\nDROP TABLE j1;",
        &[],
    );
    without_transaction(&p, "c3");
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::SQL);
    out.stderr_has("revision c3 failed at ")
        .stderr_has("c3_journaled/up.sql:10:")
        .stderr_has("statements 1–2 of 5 already ran")
        .stderr_has("`cargo dbrev upgrade --resume` continues at statement 3");
    assert_eq!(db.applied(), ["a1"]);
    assert_eq!(
        revision_record(&db, "c3", "state").as_deref(),
        Some("applying")
    );
    let current = p.cmd("dbrev").args(["current"]).ok().stdout();
    assert!(
        current.contains("c3 partially applied: statements 1–2 of 5 completed ("),
        "{current}"
    );
    assert!(
        current.contains("c3_journaled/up.sql lines 8–9); statement 3 (line 10) failed: "),
        "{current}"
    );
    assert!(
        current.to_lowercase().contains("no_such_table"),
        "{current}"
    );
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::REFUSED);
    out.stderr_has("c3 partially applied: statements 1–2 of 5")
        .stderr_has("`cargo dbrev upgrade --resume` (it continues at statement 3)");
    let out = p.cmd("dbrev").args(["downgrade", "base"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::REFUSED);
    out.stderr_has("downgrade will not revert a revision that is only partly applied");
    p.file(
        "src/schema.rs",
        "diesel::table! {\n    t_a1 (id) {\n        id -> Integer,\n    }\n}\n",
    );
    let out = p.cmd("dbrev").args(["check"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::NO);
    out.stdout_has("c3 partially applied");
    // The user fixes statement 3; --resume runs 3, 4 and 5 only.
    edit(
        &p,
        "c3",
        "up.sql",
        "INSERT INTO no_such_table VALUES (1);",
        "INSERT INTO j1 (id) VALUES (3);",
    );
    p.cmd("dbrev")
        .args(["upgrade", "--resume"])
        .ok()
        .stderr_has("Resuming c3 (2 statement(s) completed before) at statement 3 of 5 (")
        .stderr_has("up.sql:10: INSERT INTO j1 (id) VALUES (3))")
        .stderr_has("Applied c3");
    assert_eq!(db.applied(), ["a1", "c3"]);
    assert_eq!(count(&db, "j1"), "2");
    assert_eq!(count(&db, "j2"), "1");
    assert_eq!(
        revision_record(&db, "c3", "state").as_deref(),
        Some("applied")
    );
    assert_eq!(
        revision_record(&db, "c3", "checksum"),
        Some(dbkit::script::checksum(
            &p.read(revision_dir(&p, "c3").join("up.sql"))
        ))
    );
    p.cmd("dbrev")
        .args(["upgrade", "--resume"])
        .fails()
        .stderr_has("nothing to resume");
    // Down: statement 2 of down.sql fails; the revert is journaled the same way.
    let out = p.cmd("dbrev").args(["downgrade", "a1"]).fails();
    out.stderr_has("c3_journaled/down.sql:5:")
        .stderr_has("statements 1–1 of 3 already ran")
        .stderr_has("`cargo dbrev downgrade --resume TARGET` continues at statement 2");
    let current = p.cmd("dbrev").args(["current"]).ok().stdout();
    assert!(
        current.contains("c3 partially reverted: statements 1–1 of 3 completed ("),
        "{current}"
    );
    assert!(
        current.contains("down.sql line 4); statement 2 (line 5) failed: "),
        "{current}"
    );
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .fails()
        .stderr_has("`cargo dbrev downgrade --resume`");
    edit(
        &p,
        "c3",
        "down.sql",
        "DROP TABLE no_such_table;",
        "DELETE FROM j1;",
    );
    p.cmd("dbrev")
        .args(["downgrade", "--resume", "a1"])
        .ok()
        .stderr_has("Resuming c3")
        .stderr_has("Reverted c3");
    assert_eq!(db.applied(), ["a1"]);
    assert_eq!(revision_record(&db, "c3", "state"), None);
    assert!(!db.tables().contains(&"j1".to_owned()));
});

/// A statement that runs for a few seconds.
fn slow_statement(db: &TestDb) -> &'static str {
    match db.backend() {
        Backend::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) SELECT count(*) FROM c"
        }
        Backend::Postgres => "SELECT pg_sleep(4)",
        Backend::Mysql => "SELECT SLEEP(4)",
    }
}

/// A column of a revision's companion row, read while a run may hold the database (an
/// error reads as no row).
fn journal(db: &TestDb, id: &str, column: &str) -> Option<String> {
    db.connect()
        .query_value(&format!(
            "SELECT {} AS value FROM __dbrev_revisions WHERE version = '{id}'",
            as_text(db, column)
        ))
        .ok()
        .flatten()
        .map(|v| v.trim().to_owned())
}

/// Runs `cargo dbrev ARGS` and kills it (SIGKILL) as soon as `ready` holds.
fn kill_when(p: &Project, db: &TestDb, args: &[&str], ready: impl Fn(&TestDb) -> bool) {
    let mut child = std::process::Command::new(dbrev_tests::binary("dbrev"))
        .arg("dbrev")
        .args(args)
        .current_dir(p.root())
        .env_remove("DATABASE_URL")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready(db) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "`dbrev {}` never got there",
            args.join(" ")
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "`dbrev {}` ended before it got there",
            args.join(" ")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

backend_test!(a_killed_run_is_journaled_and_resumed, |db| {
    let p = migration_project(&db);
    let slow = slow_statement(&db);
    add_revision(
        &p,
        "k1",
        "slow",
        &format!(
            "CREATE TABLE k1 (id INTEGER PRIMARY KEY);\n{slow};\nCREATE TABLE k2 (id INTEGER PRIMARY KEY);"
        ),
        "DROP TABLE k2;\nDROP TABLE k1;",
        &[],
    );
    without_transaction(&p, "k1");
    // The table appears when the run starts: until then the query fails.
    kill_when(&p, &db, &["upgrade", "head"], |db| {
        journal(db, "k1", "statements_done").as_deref() == Some("1")
    });
    let current = p.cmd("dbrev").args(["current"]).ok().stdout();
    assert!(
        current.contains("k1 partially applied: statements 1–1 of 3 completed ("),
        "{current}"
    );
    assert!(
        current.contains(
            "statement 2 (line 9) was running when the run stopped and may or may not have taken effect"
        ),
        "{current}"
    );
    let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
    assert_eq!(out.code(), dbkit::error::exit::REFUSED);
    // The server may still hold the killed session's lock for a moment: resume waits.
    p.cmd("dbrev")
        .args(["upgrade", "--resume"])
        .ok()
        .stderr_has("Resuming k1 (1 statement(s) completed before) at statement 2 of 3")
        .stderr_has("Applied k1");
    assert_eq!(db.applied(), ["k1"]);
    assert!(db.tables().contains(&"k2".to_owned()));
});

// Where the migration lock is the session's (MySQL, PostgreSQL), the journal's first row of
// a revision goes in the commit recording the revision before it. A run killed at that
// point must say what a kill at the journal's own first commit says: the revision started,
// no statement completed, the first one perhaps running; never more, never less.
backend_test!(
    a_run_killed_between_journaled_revisions_says_what_ran,
    |db| {
        let p = migration_project(&db);
        let slow = slow_statement(&db);
        add_revision(
            &p,
            "j1",
            "fast up slow down",
            "CREATE TABLE j1 (id INTEGER PRIMARY KEY);",
            &format!("{slow};\nDROP TABLE j1;"),
            &[],
        );
        add_revision(
            &p,
            "j2",
            "slow up fast down",
            &format!("{slow};\nCREATE TABLE j2 (id INTEGER PRIMARY KEY);"),
            "DROP TABLE j2;",
            &[],
        );
        without_transaction(&p, "j1");
        without_transaction(&p, "j2");
        kill_when(&p, &db, &["upgrade", "head"], |db| {
            journal(db, "j2", "statements_done").as_deref() == Some("0")
        });
        let current = p.cmd("dbrev").args(["current"]).ok().stdout();
        assert!(
            current.contains("j2 partially applied: no statement of 2 completed ("),
            "{current}"
        );
        assert!(
            current.contains(
                "statement 1 (line 8) was running when the run stopped and may or may not have taken effect"
            ),
            "{current}"
        );
        assert_eq!(db.applied(), ["j1"]);
        assert_eq!(
            revision_record(&db, "j1", "state").as_deref(),
            Some("applied")
        );
        assert!(!db.tables().contains(&"j2".to_owned()));
        p.cmd("dbrev")
            .args(["upgrade", "--resume"])
            .ok()
            .stderr_has("Resuming j2 (0 statement(s) completed before) at statement 1 of 2")
            .stderr_has("Applied j2");
        assert_eq!(db.applied(), ["j1", "j2"]);
        assert_eq!(
            revision_record(&db, "j2", "state").as_deref(),
            Some("applied")
        );
        // Down: j2 reverts, then j1's slow first statement runs when the run is killed.
        kill_when(&p, &db, &["downgrade", "base"], |db| {
            journal(db, "j1", "state").as_deref() == Some("reverting")
        });
        let current = p.cmd("dbrev").args(["current"]).ok().stdout();
        assert!(
            current.contains("j1 partially reverted: no statement of 2 completed ("),
            "{current}"
        );
        assert_eq!(db.applied(), ["j1"]);
        assert_eq!(revision_record(&db, "j2", "state"), None);
        assert!(db.tables().contains(&"j1".to_owned()));
        assert!(!db.tables().contains(&"j2".to_owned()));
        p.cmd("dbrev")
            .args(["downgrade", "--resume", "base"])
            .ok()
            .stderr_has("Resuming j1 (0 statement(s) completed before) at statement 1 of 2")
            .stderr_has("Reverted j1");
        assert!(db.applied().is_empty());
        assert_eq!(count(&db, "__dbrev_revisions"), "0");
        assert!(!db.tables().contains(&"j1".to_owned()));
    }
);

// Ctrl-C while a revision's slow first statement runs: the run stops, earlier revisions
// stay applied, and the interrupted one is rolled back where the backend can (SQLite,
// PostgreSQL) or journaled where it cannot (MySQL: shown by `current`, refused by a plain
// run, finished by `--resume`); a new run then completes the history.
backend_test!(ctrl_c_mid_revision_leaves_the_state_recorded, |db| {
    let p = migration_project(&db);
    add_revision(
        &p,
        "c1",
        "fast",
        "CREATE TABLE c1 (id INTEGER PRIMARY KEY);",
        "DROP TABLE c1;",
        &[],
    );
    let slow = slow_statement(&db);
    add_revision(
        &p,
        "c2",
        "slow",
        &format!("{slow};\nCREATE TABLE c2 (id INTEGER PRIMARY KEY);"),
        "DROP TABLE c2;",
        &[],
    );
    let mut child = std::process::Command::new(dbrev_tests::binary("dbrev"))
        .args(["dbrev", "upgrade", "head"])
        .current_dir(p.root())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once c1 is reported applied, c2's slow statement is what runs.
    let stderr = child.stderr.take().unwrap();
    let (applied, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("Applied") && line.contains("c1") {
                let _ = applied.send(());
            }
        }
    });
    seen.recv_timeout(Duration::from_secs(60))
        .expect("c1 was never reported applied");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before Ctrl-C"
    );
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert!(!status.success(), "Ctrl-C is not a success: {status:?}");

    assert_eq!(db.applied(), ["c1"]);
    assert!(!db.tables().contains(&"c2".to_owned()));
    let current = p.cmd("dbrev").args(["current"]).ok().stdout();
    if db.backend() == Backend::Mysql {
        assert!(
            current.contains("c2 partially applied: no statement of 2 completed ("),
            "{current}"
        );
        let out = p.cmd("dbrev").args(["upgrade", "head"]).fails();
        assert_eq!(out.code(), dbkit::error::exit::REFUSED);
        // The server may still hold the interrupted session's lock for a moment: it waits.
        p.cmd("dbrev")
            .args(["upgrade", "--resume"])
            .ok()
            .stderr_has("Applied c2");
    } else {
        assert!(!current.contains("partially"), "{current}");
        p.cmd("dbrev").args(["upgrade", "head"]).ok();
    }
    assert_eq!(db.applied(), ["c1", "c2"]);
    assert!(db.tables().contains(&"c2".to_owned()));
});

/// What dbrev made its SQLite companion table with before it was `WITHOUT ROWID`.
const ROWID_COMPANION_TABLE: &str = "CREATE TABLE \"__dbrev_revisions\" (\n       version VARCHAR(50) PRIMARY KEY NOT NULL,\n       checksum VARCHAR(64),\n       state VARCHAR(16) NOT NULL,\n       applied_at TIMESTAMP,\n       applied_by VARCHAR(255),\n       duration_ms BIGINT,\n       statements_done BIGINT NOT NULL DEFAULT 0,\n       statements_total BIGINT NOT NULL DEFAULT 0,\n       note VARCHAR(1000)\n)";

fn companion_ddl(db: &TestDb) -> String {
    db.value("SELECT sql AS value FROM sqlite_master WHERE name = '__dbrev_revisions'")
        .unwrap_or_default()
}

/// SQLite's companion table is made `WITHOUT ROWID` (one b-tree, so one page less written
/// per revision); one made by an earlier dbrev keeps its shape and works for every command.
fn sqlite_companion_table_without_rowid_and_the_older_shape() -> Skippable {
    let db = TestDb::create(Backend::Sqlite)?;
    let older = TestDb::create(Backend::Sqlite)?;
    older
        .connect()
        .batch_execute(ROWID_COMPANION_TABLE)
        .unwrap();
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "first",
        "CREATE TABLE t_a1 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t_a1;",
        &[],
    );
    add_revision(
        &p,
        "b2",
        "journaled",
        "CREATE TABLE t_b2 (id INTEGER PRIMARY KEY);\nINSERT INTO t_b2 (id) VALUES (1);",
        "DROP TABLE t_b2;",
        &[],
    );
    without_transaction(&p, "b2");
    for (db, new) in [(&db, true), (&older, false)] {
        let url = ["--database-url", db.url.as_str()];
        p.cmd("dbrev").args(["upgrade", "head"]).args(url).ok();
        assert_eq!(db.applied(), ["a1", "b2"]);
        assert_eq!(
            revision_record(db, "b2", "state").as_deref(),
            Some("applied")
        );
        assert_eq!(
            revision_record(db, "a1", "checksum"),
            Some(dbkit::script::checksum(
                &p.read(revision_dir(&p, "a1").join("up.sql"))
            ))
        );
        let ddl = companion_ddl(db);
        assert_eq!(ddl.ends_with(") WITHOUT ROWID"), new, "{ddl}");
        p.cmd("dbrev")
            .args(["current", "-v"])
            .args(url)
            .ok()
            .stdout_has("b2");
        edit(&p, "a1", "up.sql", "PRIMARY KEY);", "PRIMARY KEY );");
        p.cmd("dbrev").args(["upgrade", "head"]).args(url).fails();
        p.cmd("dbrev")
            .args(["stamp", "--accept-edits", "a1"])
            .args(url)
            .ok();
        edit(&p, "a1", "up.sql", "PRIMARY KEY );", "PRIMARY KEY);");
        p.cmd("dbrev").args(["downgrade", "base"]).args(url).ok();
        assert!(db.applied().is_empty());
        assert_eq!(count(db, "__dbrev_revisions"), "0");
        p.cmd("dbrev").args(["stamp", "head"]).args(url).ok();
        assert_eq!(
            revision_record(db, "b2", "state").as_deref(),
            Some("stamped")
        );
        assert_eq!(companion_ddl(db), ddl);
    }
    assert_eq!(companion_ddl(&older), ROWID_COMPANION_TABLE);
    Ok(())
}

fn postgres_runs_create_index_concurrently_outside_a_transaction_both_ways() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    let p = migration_project(&db);
    add_revision(
        &p,
        "a1",
        "table",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT);",
        "DROP TABLE t;",
        &[],
    );
    add_revision(
        &p,
        "b2",
        "index",
        "CREATE INDEX CONCURRENTLY t_email ON t (email);\nCREATE INDEX CONCURRENTLY t_email_id ON t (email, id);",
        "DROP INDEX CONCURRENTLY t_email_id;\nDROP INDEX CONCURRENTLY t_email;",
        &[],
    );
    without_transaction(&p, "b2");
    p.cmd("dbrev").args(["upgrade", "head"]).ok();
    let indexes = || {
        db.values(
            "SELECT indexname::text AS value FROM pg_indexes WHERE tablename = 't' ORDER BY 1",
        )
    };
    assert_eq!(indexes(), ["t_email", "t_email_id", "t_pkey"]);
    assert_eq!(
        revision_record(&db, "b2", "state").as_deref(),
        Some("applied")
    );
    p.cmd("dbrev").args(["downgrade", "-1"]).ok();
    assert_eq!(indexes(), ["t_pkey"]);
    assert_eq!(db.applied(), ["a1"]);
    Ok(())
}

dbrev_tests::main! {
    backend: [
        a_held_lock_times_out_naming_its_holder,
        eight_concurrent_upgrades_apply_each_revision_once,
        applied_history_cannot_change_unnoticed,
        a_failing_statement_is_journaled_and_resumed,
        a_killed_run_is_journaled_and_resumed,
        a_run_killed_between_journaled_revisions_says_what_ran,
        ctrl_c_mid_revision_leaves_the_state_recorded,
    ],
    plain: [
        sqlite_companion_table_without_rowid_and_the_older_shape,
        postgres_runs_create_index_concurrently_outside_a_transaction_both_ways,
    ],
}
