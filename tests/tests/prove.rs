//! Proving a migration before production sees it, on every backend: `cargo dbrev test`
//! passes a clean history and names the revision and the difference for a `down.sql` that
//! forgets an index, a column, a default, a trigger or a view, and a fork with two heads;
//! it compares fingerprints within each revision's scope and replays the history for full
//! snapshots only where one changed (a down.sql that puts an object back spelled another
//! way still passes); `check --drift` finds an
//! index, a default and a trigger added by hand and nothing on a database built by its
//! revisions; `upgrade --backup` writes a private gzip dump that restores the state
//! before the upgrade, and applies nothing when the dump fails. Scratch databases are gone
//! afterwards.

use std::path::Path;

use dbkit::snapshot::{Snapshot, compare};
use dbrev_tests::{Backend, Project, TestDb, add_revision, backend_test, migration_project};

const R1: &str = "20260101000001";
const R2: &str = "20260101000002";
const R3: &str = "20260101000003";

/// The model at the head of [`clean_history`].
const MODEL: &str = "diesel::table! {
    posts (id) {
        id -> Integer,
        author -> Nullable<Integer>,
        title -> Nullable<Varchar>,
        summary -> Nullable<Text>,
    }
}
";

/// Three revisions with their down.sql right: a table, an index, a column with a default.
fn clean_history(db: &TestDb) -> Project {
    let p = migration_project(db);
    p.file("src/schema.rs", MODEL);
    add_revision(
        &p,
        R1,
        "create posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER, title VARCHAR(40));",
        "DROP TABLE posts;",
        &[],
    );
    add_revision(
        &p,
        R2,
        "index authors",
        "CREATE INDEX posts_author_idx ON posts (author);",
        &drop_index(db.backend()),
        &[],
    );
    add_revision(
        &p,
        R3,
        "add summary",
        "ALTER TABLE posts ADD COLUMN summary TEXT DEFAULT 'none';",
        "ALTER TABLE posts DROP COLUMN summary;",
        &[],
    );
    p
}

fn drop_index(backend: Backend) -> String {
    match backend {
        Backend::Mysql => "DROP INDEX posts_author_idx ON posts;".into(),
        _ => "DROP INDEX posts_author_idx;".into(),
    }
}

/// How the snapshot names the index (MySQL's index names belong to their table).
fn index_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "index posts.posts_author_idx",
        _ => "index posts_author_idx",
    }
}

/// Replaces one revision file's SQL (after its header) with `sql`.
fn rewrite(p: &Project, id: &str, file: &str, sql: &str) {
    let dir = dbrev_tests::revision_dir(p, id);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with("--") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(path, format!("{header}{sql}\n")).unwrap();
}

/// The databases on the test database's server whose names start with `prefix`
/// (scratch databases left behind), or the files in the temporary directory (SQLite).
fn scratch_databases(db: &TestDb) -> Vec<String> {
    match db.backend() {
        Backend::Sqlite => Vec::new(),
        Backend::Postgres => db.values(
            "SELECT datname::text AS value FROM pg_database WHERE datname LIKE 'dbrev\\_scratch\\_%'",
        ),
        Backend::Mysql => db.values(
            "SELECT CAST(SCHEMA_NAME AS CHAR) AS value FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'dbrev\\_scratch\\_%'",
        ),
    }
}

/// The scratch database the report names (masked URL, or SQLite's file).
fn scratch_named(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Scratch database "))
        .unwrap_or_else(|| panic!("no scratch database named: {stderr}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The scratch database of a finished run is gone.
fn assert_scratch_gone(db: &TestDb, stderr: &str) {
    let named = scratch_named(stderr);
    match db.backend() {
        Backend::Sqlite => assert!(!Path::new(&named).exists(), "{named} is still there"),
        _ => {
            let name = named.rsplit('/').next().unwrap().split('?').next().unwrap();
            assert!(
                !scratch_databases(db).iter().any(|d| d == name),
                "{name} is still there"
            );
        }
    }
}

backend_test!(test_passes_a_clean_history, |db| {
    let p = clean_history(&db);
    let out = p.cmd("dbrev").args(["test", "--format", "json"]).ok();
    let stderr = out.stderr();
    for line in [
        &format!("Passed one head: {R3}"),
        "Passed base → head: 3 revision(s) apply",
        "Passed the model (src/schema.rs) matches the database at head",
        "Passed stairway: up, down, up for each of 3 revision(s)",
        "Passed head → base: only dbrev's version tables are left",
    ] {
        assert!(stderr.contains(line), "{line}: {stderr}");
    }
    let json = out.stdout();
    assert!(json.contains("\"ok\": true"), "{json}");
    assert!(json.contains("\"check\": \"stairway\""), "{json}");
    assert_scratch_gone(&db, &stderr);
    // The configured database was not touched.
    assert!(db.tables().is_empty(), "{:?}", db.tables());

    // --from/--to limit the range.
    let out = p.cmd("dbrev").args(["test", "--from", R2, "--to", R2]).ok();
    let stderr = out.stderr();
    assert!(
        stderr.contains("up, down, up for each of 1 revision(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "Skipped the model: not compared, {R2} is not the head"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Passed the downgrade: the schema is as before"),
        "{stderr}"
    );
});

backend_test!(test_names_a_down_that_forgets_an_index, |db| {
    let p = clean_history(&db);
    rewrite(&p, R2, "down.sql", "-- forgot the index");
    let out = p.cmd("dbrev").args(["test", "--format", "json"]).fails();
    assert_eq!(out.code(), 1);
    let stderr = out.stderr();
    assert!(
        stderr.contains(&format!(
            "Failed revision {R2} (index authors): its down.sql does not restore the schema before its up.sql (1 difference(s))"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}: only after down.sql",
            index_name(db.backend())
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("error: cargo dbrev test failed: revision {R2}")),
        "{stderr}"
    );
    let json = out.stdout();
    assert!(
        json.contains("\"ok\": false") && json.contains(&format!("\"revision\": \"{R2}\"")),
        "{json}"
    );
    assert!(json.contains("\"change\": \"only_left\""), "{json}");
    assert_scratch_gone(&db, &stderr);
});

backend_test!(test_names_a_down_that_forgets_a_column, |db| {
    let p = clean_history(&db);
    rewrite(&p, R3, "down.sql", "-- the column stays");
    let out = p.cmd("dbrev").args(["test"]).fails();
    assert_eq!(out.code(), 1);
    let stderr = out.stderr();
    assert!(
        stderr.contains(&format!("Failed revision {R3} (add summary)")),
        "{stderr}"
    );
    assert!(
        stderr.contains("column posts.summary: only after down.sql"),
        "{stderr}"
    );
    assert_scratch_gone(&db, &stderr);
});

/// Adds R4 with `up` and a down.sql that forgets to undo it.
fn forgetful_revision(p: &Project, up: &str) {
    add_revision(p, R4, "forgetful", up, "-- forgot", &[]);
}

backend_test!(
    test_names_a_down_that_forgets_a_default_a_trigger_or_a_view,
    |db| {
        let index = index_name(db.backend()).replace("author", "title");
        for (up, line) in [
            (
                default_by_hand(db.backend()).to_owned(),
                "column posts.title: default 'hand' after down.sql, none before up.sql".to_owned(),
            ),
            (
                trigger(db.backend()).to_owned(),
                "trigger posts.posts_touch: only after down.sql".to_owned(),
            ),
            (
                "CREATE VIEW titles AS SELECT title FROM posts;".to_owned(),
                "view titles: only after down.sql".to_owned(),
            ),
            (
                "CREATE INDEX posts_title_idx ON posts (title);".to_owned(),
                format!("{index}: only after down.sql"),
            ),
        ] {
            let p = clean_history(&db);
            forgetful_revision(&p, &up);
            let out = p.cmd("dbrev").args(["test"]).fails();
            assert_eq!(out.code(), 1, "{up}: {}", out.stderr());
            let stderr = out.stderr();
            assert!(
                stderr.contains(&format!(
                    "Failed revision {R4} (forgetful): its down.sql does not restore the schema"
                )),
                "{up}: {stderr}"
            );
            assert!(stderr.contains(&line), "{line}: {stderr}");
            assert_scratch_gone(&db, &stderr);
        }
    }
);

/// `cargo dbrev test` in process, for what its report says of how it read the catalog.
fn test_in_process(db: &TestDb, p: &Project) -> dbkit::proving::TestReport {
    let env = dbkit::Environment::load(&dbkit::ConfigRequest {
        config_file: Some(p.root().join("dbrev.toml")),
        database_url: Some(db.url.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    env.test(&Default::default(), &dbkit::Reporter::quiet())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// R4 makes an object; R5 changes it, and its down.sql puts it back spelled another way
/// (what a fingerprint sees, and a snapshot does not).
fn respelled_history(db: &TestDb) -> Project {
    let p = clean_history(db);
    let (make, change, respelled) = match db.backend() {
        Backend::Sqlite => (
            "CREATE VIEW titles AS SELECT title FROM posts;",
            "DROP VIEW titles;\nCREATE VIEW titles AS SELECT title, author FROM posts;",
            "DROP VIEW titles;\nCREATE VIEW titles AS SELECT   title\n  FROM posts;",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$ SELECT 42 $$;",
            "CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$ SELECT 43 $$;",
            "CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$   SELECT\n  42 $$;",
        ),
        Backend::Mysql => (
            "CREATE FUNCTION answer() RETURNS INTEGER DETERMINISTIC RETURN 42;",
            "DROP FUNCTION answer;\nCREATE FUNCTION answer() RETURNS INTEGER DETERMINISTIC RETURN 43;",
            "DROP FUNCTION answer;\nCREATE FUNCTION answer() RETURNS INTEGER DETERMINISTIC RETURN   42;",
        ),
    };
    let drop = match db.backend() {
        Backend::Sqlite => "DROP VIEW titles;",
        Backend::Postgres => "DROP FUNCTION answer();",
        Backend::Mysql => "DROP FUNCTION answer;",
    };
    add_revision(&p, R4, "make", make, drop, &[]);
    add_revision(&p, "20260101000005", "respell", change, respelled, &[]);
    p
}

backend_test!(
    test_compares_fingerprints_and_replays_only_where_one_changes,
    |db| {
        let p = clean_history(&db);
        let report = test_in_process(&db, &p);
        assert!(report.ok, "{:#?}", report.checks);
        let reads = report.reads;
        // Two fingerprints a revision (within what its files name, on the servers); full
        // snapshots only where the stairway starts and ends.
        assert_eq!(reads.fingerprints, 6, "{reads}");
        let scoped = if db.backend() == Backend::Sqlite {
            0
        } else {
            6
        };
        assert_eq!(reads.scoped, scoped, "{reads}");
        assert_eq!((reads.snapshots, reads.replays), (2, 0), "{reads}");

        let p = respelled_history(&db);
        let report = test_in_process(&db, &p);
        assert!(report.ok, "{:#?}", report.checks);
        assert_eq!(report.reads.replays, 1, "{}", report.reads);
        assert_eq!(report.reads.snapshots, 4, "{}", report.reads);
    }
);

backend_test!(test_names_two_heads_to_merge, |db| {
    let p = clean_history(&db);
    add_revision(
        &p,
        "20260101000004",
        "a fork",
        "CREATE TABLE forked (id INTEGER PRIMARY KEY);",
        "DROP TABLE forked;",
        &["--head", R2, "--splice"],
    );
    let out = p.cmd("dbrev").args(["test"]).fails();
    assert_eq!(out.code(), 1);
    let stderr = out.stderr();
    assert!(
        stderr.contains(&format!(
            "Failed 2 heads: {R3}, 20260101000004; join them with `cargo dbrev merge -m MSG heads`"
        )),
        "{stderr}"
    );
    // Nothing else ran, no scratch database was made.
    assert!(!stderr.contains("Scratch database"), "{stderr}");
});

backend_test!(test_names_a_model_that_differs_at_head, |db| {
    let p = clean_history(&db);
    p.file(
        "src/schema.rs",
        &MODEL.replace("        summary -> Nullable<Text>,\n", ""),
    );
    let out = p.cmd("dbrev").args(["test"]).fails();
    assert_eq!(out.code(), 1);
    let stderr = out.stderr();
    assert!(
        stderr.contains(
            "Failed the model (src/schema.rs) differs from the database at head in 1 place(s)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("summary"), "{stderr}");
});

/// A trigger that fills the title, as each backend writes one.
fn trigger(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN UPDATE posts SET title = 'x' WHERE id = NEW.id AND title IS NULL; END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.title := coalesce(NEW.title, 'x'); RETURN NEW; END $$;\n\
             CREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION touch();"
        }
        Backend::Mysql => {
            "CREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = coalesce(NEW.title, 'x');"
        }
    }
}

/// A default on posts.title set by hand (SQLite rebuilds the table for it).
fn default_by_hand(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, author INTEGER, title VARCHAR(40) DEFAULT 'hand', summary TEXT DEFAULT 'none');\n\
             INSERT INTO posts_new SELECT * FROM posts;\nDROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;\n\
             CREATE INDEX posts_author_idx ON posts (author);"
        }
        _ => "ALTER TABLE posts ALTER COLUMN title SET DEFAULT 'hand';",
    }
}

backend_test!(drift_finds_what_was_added_by_hand, |db| {
    let p = clean_history(&db);
    p.cmd("dbrev").args(["upgrade", "head", "-q"]).ok();
    db.run_script("INSERT INTO posts (id, author, title) VALUES (1, 7, 'first');");
    let out = p.cmd("dbrev").args(["check", "--drift"]).ok();
    let stderr = out.stderr();
    assert!(
        stderr.contains("Checked the database is what its 3 revision(s) make: no drift"),
        "{stderr}"
    );
    assert_scratch_gone(&db, &stderr);

    db.run_script(&format!(
        "{}\nCREATE INDEX posts_title_idx ON posts (title);\n{}",
        default_by_hand(db.backend()),
        trigger(db.backend())
    ));
    let out = p
        .cmd("dbrev")
        .args(["check", "--drift", "--format", "json"])
        .fails();
    assert_eq!(out.code(), 1);
    let stderr = out.stderr();
    let index = index_name(db.backend()).replace("author", "title");
    for line in [
        format!("{index}: only in the database"),
        "column posts.title: default 'hand' in the database, none in its revisions".to_owned(),
        "trigger posts.posts_touch: only in the database".to_owned(),
    ] {
        assert!(stderr.contains(&line), "{line}: {stderr}");
    }
    assert!(stderr.contains("error: "), "{stderr}");
    assert!(out.stdout().contains("\"ok\": false"), "{}", out.stdout());
    assert_scratch_gone(&db, &stderr);
});

backend_test!(upgrade_backup_restores_the_state_before_the_upgrade, |db| {
    let p = clean_history(&db);
    p.cmd("dbrev").args(["upgrade", R2, "-q"]).ok();
    db.run_script(
        "INSERT INTO posts (id, author, title) VALUES (1, 7, 'first'), (2, NULL, 'it''s'), (3, 9, NULL);",
    );
    let before = snapshot(&db);
    p.cmd("dbexport")
        .args([
            "-q",
            "--data-only",
            "-o",
            "before.sql",
            "--database-url",
            &db.url,
        ])
        .ok();

    let out = p.cmd("dbrev").args(["upgrade", "head", "--backup"]).ok();
    let stderr = out.stderr();
    assert!(stderr.contains("Backing up"), "{stderr}");
    assert!(stderr.contains("cargo dbexport restore "), "{stderr}");
    assert!(stderr.contains(&format!("Applied {R3}")), "{stderr}");
    let backups: Vec<_> = std::fs::read_dir(p.root().join("versioning/backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|e| e == "gz"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let backup = &backups[0];
    assert!(stderr.contains(&backup.display().to_string()), "{stderr}");
    assert!(std::fs::read(backup).unwrap().starts_with(&[0x1f, 0x8b]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    assert!(p.read("versioning/backups/.gitignore").contains('*'));

    let restored = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "-q"])
        .args([backup.as_os_str()])
        .args(["--database-url", &restored.url])
        .ok();
    let found: Vec<String> = compare(&before, &snapshot(&restored))
        .iter()
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
    p.cmd("dbexport")
        .args([
            "-q",
            "--data-only",
            "-o",
            "after.sql",
            "--database-url",
            &restored.url,
        ])
        .ok();
    assert_eq!(rows_of(&p, "after.sql"), rows_of(&p, "before.sql"));
    assert_eq!(restored.applied(), [R1, R2]);
});

backend_test!(upgrade_backup_that_fails_applies_nothing, |db| {
    let p = clean_history(&db);
    p.cmd("dbrev").args(["upgrade", R1, "-q"]).ok();
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "head", "--backup", "no/such/dir/backup.sql.gz"])
        .fails();
    assert_eq!(out.code(), 7, "{}", out.stderr());
    assert_eq!(db.applied(), [R1]);
});

fn snapshot(db: &TestDb) -> Snapshot {
    let mut conn = db.connect();
    Snapshot::read(&mut conn)
        .unwrap()
        .without_tables(&["__diesel_schema_migrations", "__dbrev_revisions"])
}

/// A data dump's rows, without the lines that name its source and date.
fn rows_of(p: &Project, file: &str) -> Vec<String> {
    p.read(file)
        .lines()
        .filter(|l| !l.starts_with("--"))
        .map(str::to_owned)
        .collect()
}

const R4: &str = "20260101000004";

/// A "production" database at R2 with rows, and a project whose R3 (a column) and R4 (a
/// column dropped, put back empty by its down.sql) are pending.
fn production(db: &TestDb) -> Project {
    let p = clean_history(db);
    p.cmd("dbrev").args(["upgrade", R2, "-q"]).ok();
    db.run_script(
        "INSERT INTO posts (id, author, title) VALUES (1, 7, 'first'), (2, NULL, 'it''s'), (3, 9, NULL);",
    );
    p
}

/// Adds R4, whose down.sql puts the dropped column back without its values.
fn add_lossy_revision(p: &Project) {
    add_revision(
        p,
        R4,
        "drop title",
        "ALTER TABLE posts DROP COLUMN title;",
        "ALTER TABLE posts ADD COLUMN title VARCHAR(40);",
        &[],
    );
    p.file(
        "src/schema.rs",
        &MODEL.replace("        title -> Nullable<Varchar>,\n", ""),
    );
}

/// The source's catalog and every table's rows, to show it untouched.
fn fingerprint(db: &TestDb) -> (Snapshot, String) {
    let mut conn = db.connect();
    let snapshot = Snapshot::read(&mut conn).unwrap();
    let rows = dbkit::export::table_rows(&mut conn).unwrap();
    (snapshot, format!("{rows:?}"))
}

fn assert_untouched(db: &TestDb, before: &(Snapshot, String)) {
    let after = fingerprint(db);
    assert!(
        compare(&before.0, &after.0).is_empty(),
        "the source's schema changed"
    );
    assert_eq!(before.1, after.1, "the source's rows changed");
}

backend_test!(
    rehearse_from_url_reports_every_revision_and_leaves_the_source,
    |db| {
        let p = production(&db);
        let before = fingerprint(&db);
        let out = p
            .cmd("dbrev")
            .args(["rehearse", "--from-url", &db.url, "--format", "json"])
            .ok();
        let stderr = out.stderr();
        assert!(
            stderr.contains(&format!("Upgraded {R3} add summary in ")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("Downgraded {R3} add summary in ")),
            "{stderr}"
        );
        assert!(stderr.contains("line "), "{stderr}");
        for line in [
            "Passed upgrade head: 1 revision(s) applied to the copy",
            "Passed the model matches the upgraded copy",
            "Passed the schema after the downgrade is the copy's as restored",
            "Passed every table holds the rows it held",
        ] {
            assert!(stderr.contains(line), "{line}: {stderr}");
        }
        let json = out.stdout();
        assert!(
            json.contains("\"ok\": true") && json.contains(&format!("\"revision\": \"{R3}\"")),
            "{json}"
        );
        assert!(
            json.contains(&format!("\"started_at\": [\n    \"{R2}\"")),
            "{json}"
        );
        assert_untouched(&db, &before);
        assert_scratch_gone(&db, &stderr);
        assert_eq!(db.applied(), [R1, R2]);
    }
);

backend_test!(rehearse_names_a_down_that_loses_data, |db| {
    let p = production(&db);
    add_lossy_revision(&p);
    p.cmd("dbexport")
        .args(["-q", "-o", "prod.sql.gz", "--database-url", &db.url])
        .ok();
    let before = fingerprint(&db);
    for source in [
        vec!["--from-dump", "prod.sql.gz"],
        vec!["--from-url", db.url.as_str()],
    ] {
        let out = p.cmd("dbrev").args(["rehearse"]).args(&source).fails();
        assert_eq!(out.code(), 1, "{}", out.stderr());
        let stderr = out.stderr();
        assert!(
            stderr.contains(&format!("Upgraded {R4} drop title")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("Downgraded {R4} drop title")),
            "{stderr}"
        );
        assert!(
            stderr.contains("Failed 1 table(s) do not hold the rows they held before the upgrade"),
            "{stderr}"
        );
        assert!(
            stderr.contains("table posts: 3 row(s) before the upgrade and after the downgrade, but their values differ"),
            "{stderr}"
        );
        assert!(stderr.contains(R4), "{stderr}");
        assert_scratch_gone(&db, &stderr);
    }
    assert_untouched(&db, &before);
});

backend_test!(rehearse_keeps_the_copy_when_asked, |db| {
    let p = production(&db);
    let out = p
        .cmd("dbrev")
        .args(["rehearse", "--from-url", &db.url, "--keep"])
        .ok();
    let stderr = out.stderr();
    let kept = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Kept the scratch database "))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned();
    let url = match db.backend() {
        Backend::Sqlite => kept.clone(),
        _ => {
            let name = kept.rsplit('/').next().unwrap();
            db.url
                .rsplit_once('/')
                .map(|(head, _)| format!("{head}/{name}"))
                .unwrap()
        }
    };
    // The copy is at where the rehearsal left it: back where production is.
    p.cmd("dbrev")
        .args(["current", "--database-url", &url])
        .ok()
        .stdout_has(R2);
    match db.backend() {
        Backend::Sqlite => std::fs::remove_dir_all(Path::new(&url).parent().unwrap()).unwrap(),
        _ => {
            let name = url.rsplit('/').next().unwrap();
            let mut conn = db.connect();
            let q = conn.dialect().quote_ident(name);
            conn.batch_execute(&format!("DROP DATABASE {q}")).unwrap();
        }
    }
});

/// A statement that takes a while, as each backend spells one.
fn slow_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) SELECT count(*) FROM c;"
        }
        Backend::Postgres => "SELECT pg_sleep(60);",
        Backend::Mysql => "SELECT SLEEP(60);",
    }
}

backend_test!(
    rehearse_drops_the_copy_after_a_failure_and_on_ctrl_c,
    |db| {
        let p = production(&db);
        add_revision(
            &p,
            R4,
            "broken",
            "ALTER TABLE no_such_table ADD COLUMN x INTEGER;",
            "SELECT 1;",
            &[],
        );
        let out = p
            .cmd("dbrev")
            .args(["rehearse", "--from-url", &db.url])
            .fails();
        assert_eq!(out.code(), 1, "{}", out.stderr());
        let stderr = out.stderr();
        assert!(
            stderr.contains("Failed upgrade head fails on the copy"),
            "{stderr}"
        );
        assert!(stderr.contains("no_such_table"), "{stderr}");
        assert_scratch_gone(&db, &stderr);

        rewrite(&p, R4, "up.sql", slow_statement(db.backend()));
        let temp = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(dbrev_tests::binary("dbrev"))
            .args(["dbrev", "rehearse", "--from-url", &db.url])
            .current_dir(p.root())
            .env_remove("DATABASE_URL")
            .env("TMPDIR", temp.path())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let scratch_exists = || match db.backend() {
            Backend::Sqlite => std::fs::read_dir(temp.path()).unwrap().next().is_some(),
            _ => scratch_databases(&db)
                .iter()
                .any(|d| d.starts_with(&format!("dbrev_scratch_{pid}_"))),
        };
        let started = std::time::Instant::now();
        while !scratch_exists() {
            assert!(
                started.elapsed().as_secs() < 60,
                "no scratch database appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // Into the slow revision, then Ctrl-C.
        std::thread::sleep(std::time::Duration::from_secs(2));
        std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!scratch_exists(), "the scratch database outlived Ctrl-C");
    }
);

backend_test!(
    a_given_scratch_database_must_be_empty_and_is_emptied,
    |db| {
        let p = clean_history(&db);
        let scratch = TestDb::new(db.backend()).unwrap();
        scratch.run_script("CREATE TABLE precious (id INTEGER PRIMARY KEY);");
        let out = p
            .cmd("dbrev")
            .args(["test", "--scratch-url", &scratch.url])
            .fails();
        assert_eq!(out.code(), 8, "{}", out.stderr());
        assert!(out.stderr().contains("is not empty"), "{}", out.stderr());
        assert!(out.stderr().contains("precious"), "{}", out.stderr());
        assert_eq!(scratch.tables(), ["precious"]);

        let empty = TestDb::new(db.backend()).unwrap();
        let out = p
            .cmd("dbrev")
            .args([
                "rehearse",
                "--from-url",
                &db.url,
                "--scratch-url",
                &empty.url,
            ])
            .ok();
        assert!(out.stderr().contains("(--scratch-url)"), "{}", out.stderr());
        p.cmd("dbrev")
            .args(["test", "--scratch-url", &empty.url])
            .ok();
        let left = Snapshot::read(&mut empty.connect()).unwrap();
        let objects: Vec<String> = left
            .objects
            .keys()
            .filter(|id| id.name != "public")
            .map(|id| format!("{id:?}"))
            .collect();
        assert!(objects.is_empty(), "{objects:#?}");
        assert!(empty.tables().is_empty(), "{:?}", empty.tables());
    }
);

dbrev_tests::main! {
    backend: [
        test_passes_a_clean_history,
        test_names_a_down_that_forgets_an_index,
        test_names_a_down_that_forgets_a_column,
        test_names_a_down_that_forgets_a_default_a_trigger_or_a_view,
        test_compares_fingerprints_and_replays_only_where_one_changes,
        test_names_two_heads_to_merge,
        test_names_a_model_that_differs_at_head,
        drift_finds_what_was_added_by_hand,
        upgrade_backup_restores_the_state_before_the_upgrade,
        upgrade_backup_that_fails_applies_nothing,
        rehearse_from_url_reports_every_revision_and_leaves_the_source,
        rehearse_names_a_down_that_loses_data,
        rehearse_keeps_the_copy_when_asked,
        rehearse_drops_the_copy_after_a_failure_and_on_ctrl_c,
        a_given_scratch_database_must_be_empty_and_is_emptied,
    ],
    plain: [],
}
