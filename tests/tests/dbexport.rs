//! `cargo dbexport` on every backend: a torture table round-trips exactly (dump → restore
//! into a fresh database → row-by-row equality, equal objects), the native client loads our
//! dump, our restore loads the native dumper's output, views-on-views and foreign key cycles
//! reload, a failing restore names its line, the file is private and never half-written.

use std::path::Path;

use dbrev_tests::{Backend, Project, Skippable, TestDb, backend_test};

fn fixture(backend: Backend) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/export")
        .join(format!("{}.sql", backend.name()));
    std::fs::read_to_string(path).unwrap()
}

/// Rows and objects, read back independently of the dump's own formatting.
fn fingerprint(db: &TestDb) -> (Vec<String>, Vec<String>) {
    match db.backend() {
        Backend::Sqlite => (
            [
                db.values(
                    "SELECT id || '|' || typeof(t) || ':' || hex(t) || '|' || quote(b) || '|' || typeof(r) || ':' || \
                     CASE typeof(r) WHEN 'real' THEN printf('%!.20g', r) ELSE quote(r) END || '|' || \
                     quote(i) || '|' || typeof(n) || ':' || CASE typeof(n) WHEN 'real' THEN printf('%!.20g', n) ELSE quote(n) END AS value \
                     FROM torture ORDER BY id",
                ),
                db.values("SELECT id || ',' || b_id AS value FROM a"),
                db.values("SELECT id || ',' || a_id AS value FROM b"),
                db.values("SELECT name || '=' || seq AS value FROM sqlite_sequence"),
            ]
            .concat(),
            db.values("SELECT type || ':' || name AS value FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1"),
        ),
        Backend::Postgres => (
            [
                db.values("SELECT torture::text AS value FROM torture ORDER BY id"),
                db.values("SELECT a::text AS value FROM a"),
                db.values("SELECT b::text AS value FROM b"),
                db.values("SELECT things::text AS value FROM extra.things ORDER BY id"),
                db.values("SELECT mv::text AS value FROM mv"),
                db.values("SELECT last_value::text || ':' || is_called::text AS value FROM extra.counter"),
            ]
            .concat(),
            db.values(
                "SELECT c.relkind::text || ':' || n.nspname || '.' || c.relname AS value FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname IN ('public', 'extra') UNION ALL \
                 SELECT 'f:' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' UNION ALL \
                 SELECT 't:' || tgname FROM pg_trigger WHERE NOT tgisinternal UNION ALL \
                 SELECT 'y:' || typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') \
                 ORDER BY 1",
            ),
        ),
        Backend::Mysql => (
            [
                db.values(
                    "SELECT CONCAT_WS('|', id, IFNULL(HEX(t), 'N'), IFNULL(HEX(vc), 'N'), IFNULL(HEX(b), 'N'), IFNULL(HEX(bin), 'N'), \
                     IFNULL(CAST(f AS CHAR), 'N'), IFNULL(CAST(d AS CHAR), 'N'), IFNULL(CAST(n AS CHAR), 'N'), IFNULL(CAST(dt AS CHAR), 'N'), \
                     IFNULL(CAST(ts AS CHAR), 'N'), IFNULL(CAST(da AS CHAR), 'N'), IFNULL(CAST(tm AS CHAR), 'N'), IFNULL(j, 'N'), \
                     IFNULL(e, 'N'), IFNULL(s, 'N'), IFNULL(bo, 'N'), IFNULL(BIN(bits), 'N'), IFNULL(ui, 'N'), IFNULL(doubled, 'N')) AS value \
                     FROM torture ORDER BY id",
                ),
                db.values("SELECT CONCAT(id, ',', b_id) AS value FROM a"),
                db.values("SELECT CONCAT(id, ',', a_id) AS value FROM b"),
                db.values("SELECT CAST(AUTO_INCREMENT AS CHAR) AS value FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'torture'"),
            ]
            .concat(),
            db.values(
                "SELECT CONCAT(TABLE_TYPE, ':', TABLE_NAME) AS value FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() UNION ALL \
                 SELECT CONCAT(ROUTINE_TYPE, ':', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() UNION ALL \
                 SELECT CONCAT('TRIGGER:', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() UNION ALL \
                 SELECT CONCAT('EVENT:', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() UNION ALL \
                 SELECT CONCAT('INDEX:', TABLE_NAME, '.', INDEX_NAME, '.', COLUMN_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY 1",
            ),
        ),
    }
}

fn source(db: &TestDb) -> Project {
    db.run_script(&fixture(db.backend()));
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    // The version table travels with the dump.
    p.cmd("dbrev")
        .args(["revision", "-q", "-m", "x", "--rev-id", "a1"])
        .ok();
    p.cmd("dbrev").args(["upgrade", "-q"]).ok();
    p
}

backend_test!(a_torture_table_round_trips, |db| {
    let p = source(&db);
    if db.backend() == Backend::Sqlite {
        // Text holding a NUL, and text that is not UTF-8 (which sqlite3's `.dump` cannot
        // carry, so not in the fixture the native dump is tested on).
        db.run_script(
            "INSERT INTO torture (t) VALUES (CAST(X'61006200' AS TEXT)), (CAST(X'FF27FE' AS TEXT));",
        );
    }
    let out = p.cmd("dbexport").args(["-o", "dump.sql"]).ok();
    assert!(out.stderr().contains("Dumped"), "{}", out.stderr());
    let dump = p.root().join("dump.sql");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&dump).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let text = p.read("dump.sql");
    assert!(text.contains("DROP TABLE IF EXISTS"), "{text}");
    assert!(text.contains("__diesel_schema_migrations"));
    // Our restore into a fresh database.
    let copy = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.url])
        .ok();
    assert_eq!(fingerprint(&copy), fingerprint(&db));
    assert_eq!(copy.applied(), ["a1"]);
    // Loading again over the same database works with --yes: every object is dropped
    // first. Without it (and no terminal) the restore is refused before writing.
    let refused = p
        .cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.url])
        .fails();
    assert_eq!(refused.code(), 8, "{}", refused.stderr());
    assert!(refused.stderr().contains("--yes"), "{}", refused.stderr());
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--yes", "--database-url", &copy.url])
        .ok();
    assert_eq!(fingerprint(&copy), fingerprint(&db));
    // gzip both ways.
    p.cmd("dbexport").args(["-o", "dump.sql.gz", "-q"]).ok();
    let zipped = std::fs::read(p.root().join("dump.sql.gz")).unwrap();
    assert_eq!(&zipped[..2], &[0x1f, 0x8b]);
    let again = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "dump.sql.gz", "--database-url", &again.url])
        .ok();
    assert_eq!(fingerprint(&again), fingerprint(&db));
    // The native client loads our dump unchanged.
    let native = TestDb::new(db.backend()).unwrap();
    let out = native.load_with_native_client(&dump);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fingerprint(&native).0, fingerprint(&db).0);
});

backend_test!(restore_loads_the_native_dumpers_output, |db| {
    let p = source(&db);
    std::fs::write(p.root().join("native.sql"), db.native_dump()).unwrap();
    let copy = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "native.sql", "--database-url", &copy.url])
        .ok();
    assert_eq!(fingerprint(&copy), fingerprint(&db));
});

backend_test!(a_failing_restore_names_its_line, |db| {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(
        "bad.sql",
        "-- a dump\nCREATE TABLE ok_table (id INTEGER PRIMARY KEY);\nINSERT INTO ok_table VALUES (1);\n\nINSERT INTO\n  missing_table VALUES (1);\n",
    );
    let out = p
        .cmd("dbexport")
        .args(["restore", "bad.sql", "--database-url", &db.url])
        .fails();
    assert!(out.stderr().contains("bad.sql:5:"), "{}", out.stderr());
    assert!(out.stderr().contains("missing_table"), "{}", out.stderr());
    if db.backend() == Backend::Mysql {
        assert!(
            out.stderr()
                .contains("2 statement(s) before it were applied"),
            "{}",
            out.stderr()
        );
    } else {
        assert!(
            out.stderr().contains("nothing was restored"),
            "{}",
            out.stderr()
        );
        assert!(db.tables().is_empty(), "{:?}", db.tables());
    }
});

backend_test!(an_interrupted_dump_leaves_no_file, |db| {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE big (id INTEGER PRIMARY KEY, t TEXT)")
        .unwrap();
    let rows: Vec<String> = (0..2000)
        .map(|i| format!("({i}, '{}')", "x".repeat(200)))
        .collect();
    for chunk in rows.chunks(500) {
        conn.batch_execute(&format!("INSERT INTO big VALUES {}", chunk.join(",")))
            .unwrap();
    }
    for _ in 0..6 {
        conn.batch_execute("INSERT INTO big SELECT id + (SELECT MAX(id) FROM big) + 1, t FROM big")
            .unwrap();
    }
    let mut child = std::process::Command::new(dbrev_tests::binary("dbexport"))
        .args(["dbexport", "-q", "-o", "final.sql"])
        .current_dir(p.root())
        .spawn()
        .unwrap();
    // Wait until the temporary file exists, then kill the dump mid-way.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let temp = std::fs::read_dir(p.root())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".dbexport-"));
        if temp || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    if status.success() {
        eprintln!("the dump finished before it could be interrupted");
        return;
    }
    assert!(!p.root().join("final.sql").exists());
    // A failing dump (no such directory) leaves nothing either.
    p.cmd("dbexport").args(["-o", "nope/out.sql"]).fails();
    assert!(!p.root().join("nope").exists());
});

backend_test!(dump_options_select_what_is_written, |db| {
    let p = source(&db);
    let dump = |args: &[&str]| p.cmd("dbexport").args(args).ok().stdout();
    // PostgreSQL rows travel as COPY blocks (as pg_dump writes them), the others as INSERTs.
    let rows = if db.backend() == Backend::Postgres {
        "FROM stdin"
    } else {
        "INSERT INTO"
    };
    let schema = dump(&["--schema-only"]);
    assert!(
        schema.contains("CREATE TABLE") && !schema.contains(rows),
        "{schema}"
    );
    let data = dump(&["--data-only"]);
    assert!(
        data.contains(rows) && !data.contains("CREATE TABLE") && !data.contains("DROP"),
        "{data}"
    );
    let no_drop = dump(&["--no-drop"]);
    assert!(!no_drop.contains("DROP TABLE IF EXISTS"));
    let only = dump(&["--tables", "a"]);
    assert!(only.contains(rows) && !only.contains("all bytes"), "{only}");
    let quote = if db.backend() == Backend::Mysql {
        '`'
    } else {
        '"'
    };
    let excluded = dump(&["--exclude-table", "torture"]);
    assert!(
        !excluded.contains(&format!("INTO {quote}torture{quote}"))
            && !excluded.contains(&format!("COPY {quote}torture{quote}")),
        "{excluded}"
    );
    let no_triggers = dump(&["--no-triggers"]);
    assert!(!no_triggers.contains("torture_touch"));
    if db.backend() != Backend::Sqlite {
        assert!(!dump(&["--no-routines"]).contains("add_one"));
    }
    if db.backend() == Backend::Mysql {
        assert!(dump(&[]).contains("nightly"));
        assert!(!dump(&["--no-events"]).contains("nightly"));
    }
    if db.backend() == Backend::Postgres {
        return;
    }
    // Multi-row INSERTs stay under the bound (one row may exceed it alone).
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE bulk (id INTEGER PRIMARY KEY, t VARCHAR(200))")
        .unwrap();
    let rows: Vec<String> = (0..200)
        .map(|i| format!("({i}, '{}')", "y".repeat(100)))
        .collect();
    conn.batch_execute(&format!("INSERT INTO bulk VALUES {}", rows.join(",")))
        .unwrap();
    let marker = format!("INSERT INTO {quote}bulk{quote}");
    let small = dump(&[
        "--data-only",
        "--tables",
        "bulk",
        "--max-statement-bytes",
        "2000",
    ]);
    let statements: Vec<&str> = small.split(&marker).skip(1).collect();
    assert!(statements.len() >= 10, "{} INSERTs", statements.len());
    for statement in &statements {
        let body = statement.split(";\n").next().unwrap_or_default();
        assert!(body.len() <= 2000 + 200, "{} bytes", body.len());
    }
    let whole = dump(&["--data-only", "--tables", "bulk"]);
    assert_eq!(whole.matches(&marker).count(), 1);
});

/// Holds a lock that stops a dump of `db` part-way (the dump waits on it) until dropped.
fn hold_lock(db: &TestDb) -> dbkit::Connection {
    let mut conn = db.connect();
    let lock = match db.backend() {
        Backend::Sqlite => "BEGIN EXCLUSIVE",
        Backend::Postgres => "BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE",
        Backend::Mysql => "LOCK TABLES held WRITE",
    };
    conn.batch_execute(lock).unwrap();
    conn
}

fn temp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dbexport-"))
        .collect()
}

backend_test!(a_held_migration_lock_is_not_dumped, |db| {
    // Galera's lock table holds the state of a run: restored, it would stop the next one.
    let p = source(&db);
    db.run_script(
        "CREATE TABLE __dbrev_lock (name VARCHAR(100) PRIMARY KEY, token VARCHAR(64));\n\
         INSERT INTO __dbrev_lock VALUES ('held', 'tok3n');\n",
    );
    let dump = p.cmd("dbexport").ok().stdout();
    assert!(
        !dump.contains("__dbrev_lock") && !dump.contains("tok3n"),
        "{dump}"
    );
    assert!(dump.contains("CREATE TABLE"), "{dump}");
});

backend_test!(signals_during_a_dump_leave_nothing_behind, |db| {
    let p = Project::new();
    db.run_script(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, t VARCHAR(50));\n\
         INSERT INTO big VALUES (1, 'production row');\n\
         CREATE TABLE held (id INTEGER PRIMARY KEY);\n",
    );
    p.file("final.sql", "-- the previous dump\n");
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let lock = hold_lock(&db);
        let mut child = std::process::Command::new(dbrev_tests::binary("dbexport"))
            .args([
                "dbexport",
                "-q",
                "-o",
                "final.sql",
                "--database-url",
                &db.url,
            ])
            .current_dir(p.root())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The dump has started (its temporary file exists) and waits on the lock.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while temp_files(p.root()).is_empty() {
            assert!(std::time::Instant::now() < deadline, "no temporary file");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(child.try_wait().unwrap().is_none(), "the dump did not wait");
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        drop(lock);
        assert_eq!(out.status.code(), Some(code), "SIG{signal}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal}")),
            "{stderr}"
        );
        assert!(
            temp_files(p.root()).is_empty(),
            "SIG{signal}: {:?}",
            temp_files(p.root())
        );
        assert_eq!(p.read("final.sql"), "-- the previous dump\n");
    }
});

backend_test!(a_reader_that_goes_away_ends_the_dump_quietly, |db| {
    // More rows than the dump's buffer and the pipe hold, so writes fail once the reader
    // has gone (`cargo dbexport | head`): the dump stops, exits 0 and says nothing.
    let rows: Vec<String> = (0..3000)
        .map(|i| format!("({i}, '{}')", "x".repeat(900)))
        .collect();
    db.run_script(&format!(
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, t VARCHAR(1000));\n\
         INSERT INTO wide VALUES {};\n",
        rows.join(", ")
    ));
    let mut child = std::process::Command::new(dbrev_tests::binary("dbexport"))
        .args(["dbexport", "-q", "--database-url", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("-- dbrev dump "), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
});

backend_test!(impossible_targets_fail_before_the_dump, |db| {
    let p = Project::new();
    db.run_script("CREATE TABLE t (id INTEGER PRIMARY KEY);\nINSERT INTO t VALUES (1);\n");
    p.file("a_file", "x");
    std::fs::create_dir_all(p.root().join("a_dir")).unwrap();
    // An unreachable database: the path is checked first, so the error is about the path.
    let unreachable = match db.backend() {
        Backend::Sqlite => format!("sqlite://{}/no/such/dir/x.db", p.root().display()),
        Backend::Postgres => "postgres://nobody@127.0.0.1:1/x".to_owned(),
        Backend::Mysql => "mysql://nobody@127.0.0.1:1/x".to_owned(),
    };
    for (target, reason) in [
        ("a_dir", "it is a directory"),
        ("missing/out.sql", "no such directory"),
        ("a_file/out.sql", "it is not a directory"),
        ("/dev/null", "not a regular file"),
        ("/proc/dbexport.sql", "cannot create a file in it"),
    ] {
        let out = p
            .cmd("dbexport")
            .args(["-o", target, "--database-url", &unreachable])
            .fails();
        assert_eq!(out.code(), 7, "{target}: {}", out.stderr());
        assert!(out.stderr().contains(reason), "{target}: {}", out.stderr());
    }
    assert!(p.root().join("a_dir").is_dir());
    assert!(temp_files(p.root()).is_empty());
    // `-o -` is standard output.
    let out = p
        .cmd("dbexport")
        .args(["-o", "-", "--database-url", &db.url])
        .ok();
    assert!(
        out.stdout().starts_with("-- dbrev dump "),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout()
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("-- dbrev dump completed")
    );
    assert!(!p.root().join("-").exists());
});

/// A dump reads definitions and rows from one snapshot: an `ALTER TABLE` that arrives
/// while it runs waits for it, so the file's DDL and rows agree.
fn mysql_definitions_and_rows_come_from_one_snapshot() -> Skippable {
    let db = TestDb::create(Backend::Mysql)?;
    let p = Project::new();
    db.run_script(
        "CREATE TABLE first (id INT PRIMARY KEY);\n\
         INSERT INTO first VALUES (1);\n\
         CREATE TABLE late (id INT PRIMARY KEY, v VARCHAR(20));\n\
         INSERT INTO late VALUES (1, 'one'), (2, 'two');\n\
         CREATE TABLE zheld (id INT PRIMARY KEY);\n",
    );
    // The dump stops at `zheld` (locked), after it has locked the other tables.
    let mut lock = db.connect();
    lock.batch_execute("LOCK TABLES zheld WRITE").unwrap();
    let mut child = std::process::Command::new(dbrev_tests::binary("dbexport"))
        .args([
            "dbexport",
            "-q",
            "-o",
            "dump.sql",
            "--database-url",
            &db.url,
        ])
        .current_dir(p.root())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let waiting = "SELECT CAST(COUNT(*) AS CHAR) AS value FROM information_schema.PROCESSLIST \
                   WHERE INFO LIKE 'SELECT 1 FROM `zheld`%' AND STATE LIKE 'Waiting for table metadata lock'";
    while db.values(waiting) != ["1"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the dump never reached zheld"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Meanwhile a column is renamed: it waits for the dump, and rows written after it
    // are not in the dump.
    let url = db.url.clone();
    let writer = std::thread::spawn(move || {
        let db_url = dbkit::DatabaseUrl::parse(&url, std::path::Path::new("/")).unwrap();
        let mut conn = dbkit::Connection::establish(&db_url).unwrap();
        conn.batch_execute("ALTER TABLE late CHANGE v renamed VARCHAR(20)")
            .unwrap();
        conn.batch_execute("INSERT INTO late VALUES (3, 'three')")
            .unwrap();
        conn.batch_execute("INSERT INTO first VALUES (2)").unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    lock.batch_execute("UNLOCK TABLES").unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    writer.join().unwrap();
    let copy = TestDb::new(Backend::Mysql).unwrap();
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.url])
        .ok();
    let columns = copy.values(
        "SELECT CAST(COLUMN_NAME AS CHAR) AS value FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'late' ORDER BY ORDINAL_POSITION",
    );
    assert_eq!(columns, ["id", "v"]);
    assert_eq!(
        copy.values("SELECT CAST(COUNT(*) AS CHAR) AS value FROM late"),
        ["2"]
    );
    assert_eq!(
        copy.values("SELECT CAST(COUNT(*) AS CHAR) AS value FROM first"),
        ["1"]
    );
    // The source did change, once the dump was done.
    assert_eq!(
        db.values("SELECT CAST(COUNT(*) AS CHAR) AS value FROM late WHERE renamed = 'three'"),
        ["1"]
    );
    Ok(())
}

/// A PostgreSQL table of more than 512 pages is read in page ranges on two more sessions
/// that join the dump's snapshot: every row once (deleted and updated rows included as
/// the snapshot saw them), not the rows of a table inheriting from it, and not what other
/// sessions wrote after the dump began (the dump waits on a lock after its snapshot).
/// Where those sessions cannot connect (a role limited to the two a dump opens), the rows are
/// read on the dump's own session, with a warning.
fn postgres_large_tables_are_read_in_ranges_from_one_snapshot() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(
        "CREATE TABLE big (id bigint PRIMARY KEY, pad text NOT NULL);\n\
         INSERT INTO big SELECT i, repeat(md5(i::text), 6) FROM generate_series(1, 40000) i;\n\
         DELETE FROM big WHERE id % 97 = 0;\n\
         UPDATE big SET pad = 'moved ' || id WHERE id % 89 = 0;\n\
         CREATE TABLE big_child (extra int) INHERITS (big);\n\
         INSERT INTO big_child VALUES (-1, 'child row', 1);\n\
         CREATE TABLE zheld (id int);\n\
         ANALYZE big;\n",
    );
    let pages = db.value("SELECT relpages::text AS value FROM pg_class WHERE relname = 'big'");
    assert!(pages.unwrap().parse::<u64>().unwrap() > 1000);
    let digest = "SELECT md5(string_agg(id || ':' || pad, ',' ORDER BY id)) || ' ' || count(*) AS value FROM ONLY big";
    let before = db.value(digest);
    let p = Project::new();
    let mut lock = db.connect();
    lock.batch_execute("BEGIN; LOCK TABLE zheld IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let child = std::process::Command::new(dbrev_tests::binary("dbexport"))
        .args(["dbexport", "-o", "dump.sql", "--database-url", &db.url])
        .current_dir(p.root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = "SELECT count(*)::text AS value FROM pg_stat_activity \
                   WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db.values(waiting) != ["1"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the dump never waited on zheld"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Written after the dump's snapshot: none of it is in the dump.
    db.run_script(
        "INSERT INTO big VALUES (50001, 'late');\n\
         DELETE FROM big WHERE id = 1;\n\
         UPDATE big SET pad = 'changed late' WHERE id = 2;\n",
    );
    lock.batch_execute("COMMIT").unwrap();
    let dumped = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&dumped.stderr);
    assert!(dumped.status.success(), "{stderr}");
    assert!(!stderr.contains("one session"), "{stderr}");
    let copy = TestDb::create(Backend::Postgres)?;
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.url])
        .ok();
    assert_eq!(copy.value(digest), before);
    assert_eq!(
        copy.values("SELECT id::text AS value FROM big_child"),
        ["-1"]
    );
    assert_ne!(db.value(digest), before, "the late writes happened");

    // No connection beyond the two a dump opens: the rows come from the dump's own session.
    let role = format!("{}_one", db.url.rsplit('/').next().unwrap());
    let mut admin = db.connect();
    admin
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN CONNECTION LIMIT 2; GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{role}\""
        ))
        .unwrap();
    let limited = db.url.replacen("://root@", &format!("://{role}@"), 1);
    let outcome = p
        .cmd("dbexport")
        .args(["-o", "one.sql", "--database-url", &limited])
        .run();
    let second = TestDb::create(Backend::Postgres)?;
    let restored = outcome.code() == 0
        && p.cmd("dbexport")
            .args(["restore", "one.sql", "--database-url", &second.url])
            .run()
            .code()
            == 0;
    admin
        .batch_execute(&format!(
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \"{role}\"; DROP ROLE \"{role}\""
        ))
        .unwrap();
    let outcome = outcome.success();
    outcome.stderr_has("large tables' rows are read on one session");
    assert!(restored);
    assert_eq!(second.value(digest), db.value(digest));
    Ok(())
}

/// MySQL/MariaDB `FLOAT`s come back bit for bit (the server writes them with six digits,
/// which read back as another float: mariadb-dump's dumps lose them), `DOUBLE`s too.
fn mysql_floats_come_back_bit_for_bit() -> Skippable {
    let db = TestDb::create(Backend::Mysql)?;
    db.run_script(
        "CREATE TABLE r (id INT PRIMARY KEY, f FLOAT, f2 FLOAT(7,3), fu FLOAT UNSIGNED, d DOUBLE);\n\
         INSERT INTO r SELECT seq, RAND(seq) * POW(10, CAST(seq % 60 AS SIGNED) - 30), \
         RAND(seq + 1) * 9999, RAND(seq + 2), RAND(seq + 3) * POW(10, CAST(seq % 600 AS SIGNED) - 300) \
         FROM seq_1_to_3000;\n\
         INSERT INTO r VALUES (-1, 1/3, 1/3, 1/3, 1/3), (-2, -0.0, 0, 0, -0.0), \
         (-3, 3.40282e38, -9999.999, 1.17549e-38, 1.7976931348623157e308), (-4, NULL, NULL, NULL, NULL);\n",
    );
    let p = Project::new();
    p.cmd("dbexport")
        .args(["-q", "-o", "dump.sql", "--database-url", &db.url])
        .ok();
    let copy = TestDb::create(Backend::Mysql)?;
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.url])
        .ok();
    let name = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    let same = format!(
        "SELECT CAST(COUNT(*) AS CHAR) AS value FROM `{}`.r a JOIN `{}`.r b ON a.id = b.id \
         AND a.f <=> b.f AND a.f2 <=> b.f2 AND a.fu <=> b.fu AND a.d <=> b.d",
        name(&db.url),
        name(&copy.url)
    );
    assert_eq!(copy.values(&same), ["3004"]);
    Ok(())
}

/// A session reading a range of a large PostgreSQL table dies mid-dump (its server process
/// terminated): the dump fails naming the table and never writes its completion line, so
/// the cut output cannot pass for a whole dump.
fn postgres_a_range_reader_that_dies_fails_the_dump() -> Skippable {
    use std::io::Read;
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(
        "CREATE TABLE big (id bigint PRIMARY KEY, pad text NOT NULL);\n\
         INSERT INTO big SELECT i, repeat(md5(i::text), 20) FROM generate_series(1, 60000) i;\n\
         ANALYZE big;\n",
    );
    let p = Project::new();
    // The dump goes to a pipe nobody reads yet: the writer waits, the readers fill their
    // read-ahead and wait in the middle of their COPY.
    let mut child = std::process::Command::new(dbrev_tests::binary("dbexport"))
        .args(["dbexport", "-o", "-", "--database-url", &db.url])
        .current_dir(p.root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let readers = "SELECT pid::text AS value FROM pg_stat_activity \
                   WHERE datname = current_database() AND query LIKE 'COPY (SELECT%ctid%'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db.values(readers).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no range reader showed up"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    db.run_script(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'COPY (SELECT%ctid%';\n",
    );
    let mut dumped = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut dumped)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("rows of big"), "{stderr}");
    let dumped = String::from_utf8_lossy(&dumped);
    assert!(
        !dumped.contains("dump completed"),
        "a cut dump marked whole"
    );
    Ok(())
}

dbrev_tests::main! {
    backend: [
        a_torture_table_round_trips,
        restore_loads_the_native_dumpers_output,
        a_failing_restore_names_its_line,
        an_interrupted_dump_leaves_no_file,
        dump_options_select_what_is_written,
        a_held_migration_lock_is_not_dumped,
        signals_during_a_dump_leave_nothing_behind,
        a_reader_that_goes_away_ends_the_dump_quietly,
        impossible_targets_fail_before_the_dump,
    ],
    plain: [
        mysql_definitions_and_rows_come_from_one_snapshot,
        mysql_floats_come_back_bit_for_bit,
        postgres_large_tables_are_read_in_ranges_from_one_snapshot,
        postgres_a_range_reader_that_dies_fails_the_dump,
        sqlite_reals_come_back_bit_for_bit,
    ],
}

/// Every double comes back bit for bit from a SQLite dump, through our restore and through
/// the `sqlite3` shell: extreme exponents, subnormals and ordinary values, each stored from
/// an exact expression (`m * 2^k`), compared with `IS` on one connection.
fn sqlite_reals_come_back_bit_for_bit() -> Skippable {
    let db = TestDb::create(Backend::Sqlite)?;
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rows = Vec::new();
    for i in 0..4000 {
        let m = (next() >> 11) as i64 * if next() % 2 == 0 { 1 } else { -1 };
        // Exponents over the whole range, and half of them where decimal text is used.
        let e = if i % 2 == 0 {
            (next() % 2100) as i64 - 1126
        } else {
            (next() % 200) as i64 - 150
        };
        let (op, mut left) = if e < 0 { ('/', -e) } else { ('*', e) };
        let mut expr = format!("CAST({m} AS REAL)");
        while left > 0 {
            let step = left.min(62);
            expr.push_str(&format!("{op}{}", 1u64 << step));
            left -= step;
        }
        rows.push(format!("({i}, {expr})"));
    }
    db.run_script(&format!(
        "CREATE TABLE fl (id INTEGER PRIMARY KEY, x);\nINSERT INTO fl (id, x) VALUES {};",
        rows.join(",\n")
    ));
    let p = source_project(&db);
    p.cmd("dbexport").args(["-q", "-o", "dump.sql"]).ok();
    let copy = TestDb::new(Backend::Sqlite).unwrap();
    p.cmd("dbexport")
        .args(["-q", "restore", "dump.sql", "--database-url", &copy.url])
        .ok();
    let native = TestDb::new(Backend::Sqlite).unwrap();
    let out = native.load_with_native_client(&p.root().join("dump.sql"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for loaded in [&copy, &native] {
        let url = dbkit::DatabaseUrl::parse(&loaded.url, Path::new("/")).unwrap();
        let mut conn = dbkit::Connection::establish(&url).unwrap();
        let source = db.url.trim_start_matches("sqlite://").replace('\'', "''");
        conn.batch_execute(&format!("ATTACH '{source}' AS src"))
            .unwrap();
        let differ = conn
            .query_value(
                "SELECT CAST(count(*) AS TEXT) AS value FROM src.fl s LEFT JOIN fl c USING (id) \
                 WHERE c.x IS NOT s.x OR typeof(c.x) IS NOT typeof(s.x)",
            )
            .unwrap();
        assert_eq!(differ.as_deref(), Some("0"), "{}", loaded.url);
    }
    Ok(())
}

/// A project whose `.env` points at `db`.
fn source_project(db: &TestDb) -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p
}
