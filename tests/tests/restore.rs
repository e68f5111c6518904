//! `cargo dbexport restore` writes only where it is told: it never follows `USE`,
//! `CREATE DATABASE` or `\connect` into another database (real mariadb-dump `--databases`
//! and pg_dump `--create` output), asks before restoring over tables, refuses a dump cut
//! short at any point (ours and the native dumpers', never a hang), and names the table,
//! line and server message of a failing statement.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbrev_tests::{Backend, Project, Skippable, TestDb, backend_test, binary};

/// The database name of a server URL.
fn db_name(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `-h HOST -P PORT -u USER` for the mariadb tools.
fn mariadb_args(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let (user, hostport) = authority.rsplit_once('@').unwrap_or(("root", authority));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let mut args = vec!["-h".into(), host.into(), "-P".into(), port.into()];
    match user.split_once(':') {
        Some((u, pw)) => args.extend(["-u".into(), u.into(), format!("-p{pw}")]),
        None => args.extend(["-u".into(), user.into()]),
    }
    args
}

/// A native dumper's output with extra arguments.
fn native_dump(db: &TestDb, extra: &[&str], databases: &[&str]) -> Vec<u8> {
    let mut command = match db.backend() {
        Backend::Postgres => {
            let mut c = Command::new("pg_dump");
            c.args(["--no-owner", "--no-privileges"])
                .args(extra)
                .arg(&db.url);
            c
        }
        Backend::Mysql => {
            let mut c = Command::new("mariadb-dump");
            c.args(mariadb_args(&db.url)).args(extra).args(databases);
            c
        }
        Backend::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.args([db.url.trim_start_matches("sqlite://"), ".dump"]);
            c
        }
    };
    let out = command.output().expect("run the native dumper");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a restore with a deadline: a hang is a failure, not a stuck test run.
fn restore_within(p: &Project, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(binary("dbexport"))
        .arg("dbexport")
        .arg("restore")
        .args(args)
        .current_dir(p.root())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn restore");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .ok();
            assert!(!stderr.contains("panicked"), "{stderr}");
            return (status.code().unwrap_or(-1), stderr);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("restore {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(db: &TestDb, table: &str) -> String {
    db.value(&format!(
        "SELECT CAST(COUNT(*) AS CHAR(20)) AS value FROM {table}"
    ))
    .unwrap_or_default()
    .trim()
    .to_owned()
}

fn shop(db: &TestDb) {
    db.run_script(
        "CREATE TABLE item (id INTEGER PRIMARY KEY, label VARCHAR(40));\n\
         INSERT INTO item VALUES (1, 'one'), (2, 'two; and ''three''');\n",
    );
}

backend_test!(restore_never_follows_the_file_into_another_database, |db| {
    let p = Project::new();
    shop(&db);
    let scratch = TestDb::new(db.backend()).unwrap();
    match db.backend() {
        Backend::Sqlite => {
            // ATTACH would write into another file: refused, nothing written.
            let other = p.root().join("other.db");
            p.file(
                "attach.sql",
                &format!(
                    "CREATE TABLE first (id INTEGER);\nATTACH DATABASE '{}' AS other;\nCREATE TABLE other.t (id INTEGER);\n",
                    other.display()
                ),
            );
            let (code, stderr) =
                restore_within(&p, &["attach.sql", "--database-url", &scratch.url]);
            assert_eq!(code, 8, "{stderr}");
            assert!(
                stderr.contains("attach.sql") && stderr.contains("line 2"),
                "{stderr}"
            );
            assert!(scratch.tables().is_empty());
            assert!(!other.exists());
            return;
        }
        Backend::Mysql => {
            let source = db_name(&db.url);
            std::fs::write(
                p.root().join("one.sql"),
                native_dump(&db, &["--databases", "--add-drop-database"], &[&source]),
            )
            .unwrap();
            let other = TestDb::new(Backend::Mysql).unwrap();
            other.run_script("CREATE TABLE o (id INT PRIMARY KEY);\n");
            std::fs::write(
                p.root().join("two.sql"),
                native_dump(&db, &["--databases"], &[&source, &db_name(&other.url)]),
            )
            .unwrap();
        }
        Backend::Postgres => {
            std::fs::write(
                p.root().join("one.sql"),
                native_dump(&db, &["--create", "--clean", "--if-exists"], &[]),
            )
            .unwrap();
            // Two databases in one file, as pg_dumpall writes them.
            let other = TestDb::new(Backend::Postgres).unwrap();
            other.run_script("CREATE TABLE o (id integer PRIMARY KEY);\n");
            let mut two = native_dump(&db, &["--create"], &[]);
            two.extend(native_dump(&other, &["--create"], &[]));
            std::fs::write(p.root().join("two.sql"), two).unwrap();
        }
    }
    // A row added to the source after the dump must survive the restore.
    db.run_script("INSERT INTO item VALUES (3, 'after the dump');\n");
    let (code, stderr) = restore_within(&p, &["one.sql", "--database-url", &scratch.url]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("ignored `")
            && stderr.contains(&format!("restoring into {}", db_name(&scratch.url))),
        "{stderr}"
    );
    assert_eq!(stderr.matches("ignored `").count(), 1, "{stderr}");
    assert_eq!(
        count(&db, "item"),
        "3",
        "the source database was written to"
    );
    assert_eq!(count(&scratch, "item"), "2");
    // Several databases: refused before anything is written, naming the lines.
    let empty = TestDb::new(db.backend()).unwrap();
    let (code, stderr) = restore_within(&p, &["two.sql", "--database-url", &empty.url]);
    assert_eq!(code, 8, "{stderr}");
    assert!(
        stderr.contains("2 databases") && stderr.matches(" at line ").count() >= 2,
        "{stderr}"
    );
    assert!(empty.tables().is_empty(), "{:?}", empty.tables());
    assert_eq!(count(&db, "item"), "3");
});

backend_test!(restore_over_tables_needs_yes, |db| {
    let p = Project::new();
    shop(&db);
    let out = p
        .cmd("dbexport")
        .args(["-o", "shop.sql", "--database-url", &db.url])
        .ok();
    assert!(
        !out.stderr().contains('\r'),
        "a progress bar on a pipe: {:?}",
        out.stderr()
    );
    let target = TestDb::new(db.backend()).unwrap();
    target.run_script(
        "CREATE TABLE keep_me (id INTEGER PRIMARY KEY);\nINSERT INTO keep_me VALUES (7);\n",
    );
    let out = p
        .cmd("dbexport")
        .args(["restore", "shop.sql", "--database-url", &target.url])
        .fails();
    assert_eq!(out.code(), 8);
    assert!(
        out.stderr().contains("holds 1 table(s)") && out.stderr().contains("--yes"),
        "{}",
        out.stderr()
    );
    assert_eq!(target.tables(), ["keep_me"]);
    let out = p
        .cmd("dbexport")
        .args([
            "restore",
            "shop.sql",
            "--yes",
            "--database-url",
            &target.url,
        ])
        .ok();
    assert!(
        out.stderr().contains("Restoring shop.sql"),
        "{}",
        out.stderr()
    );
    assert!(!out.stderr().contains('\r'), "{:?}", out.stderr());
    assert_eq!(target.tables(), ["item", "keep_me"]);
    assert_eq!(count(&target, "item"), "2");
});

/// Cut points in a dump: the byte offsets just before the completion line, inside the
/// first row statement (or COPY block), inside a string literal, inside a `DELIMITER`
/// block (MySQL) — each found in the text.
fn cut_points(text: &[u8], rows: &str) -> Vec<(&'static str, usize)> {
    let s = String::from_utf8_lossy(text);
    let mut cuts = Vec::new();
    let trailer = [
        "-- dbrev dump completed",
        "-- Dump completed",
        "-- PostgreSQL database dump complete",
        "COMMIT;",
    ]
    .iter()
    .filter_map(|t| s.rfind(t))
    .max()
    .expect("a completion line");
    cuts.push(("before the completion line", trailer));
    let start = s.find(rows).expect("rows");
    let end = s[start..].find('\n').map_or(s.len(), |e| start + e);
    cuts.push(("inside the rows", end + 1 + (s.len() - end - 1).min(20)));
    if let Some(quote) = s[start..].find("two; and").map(|q| start + q + 4) {
        cuts.push(("inside a string", quote));
    }
    if let Some(block) = s.find("DELIMITER ;;") {
        cuts.push(("inside a DELIMITER block", block + 20));
    }
    cuts.push((
        "at a statement boundary",
        s[..trailer].rfind(";\n").map_or(trailer, |i| i + 2),
    ));
    cuts
}

backend_test!(an_incomplete_dump_is_refused_whatever_the_cut, |db| {
    let p = Project::new();
    shop(&db);
    // Enough rows for a COPY block / several INSERTs, and a routine for DELIMITER blocks.
    let filler: Vec<String> = (10..400).map(|i| format!("({i}, 'row {i}')")).collect();
    db.run_script(&format!("INSERT INTO item VALUES {};\n", filler.join(", ")));
    if db.backend() == Backend::Mysql {
        db.run_script(
            "DELIMITER ;;\nCREATE PROCEDURE noop() BEGIN SELECT 1; END ;;\nDELIMITER ;\n",
        );
    }
    p.cmd("dbexport")
        .args(["-q", "-o", "ours.sql", "--database-url", &db.url])
        .ok();
    let ours = std::fs::read(p.root().join("ours.sql")).unwrap();
    let native = native_dump(
        &db,
        if db.backend() == Backend::Mysql {
            &["--routines"]
        } else {
            &[]
        },
        &[&db_name(&db.url)],
    );
    let rows = match db.backend() {
        Backend::Postgres => "COPY ",
        Backend::Mysql => "INSERT INTO `item`",
        Backend::Sqlite => "INSERT INTO",
    };
    for (label, text) in [("ours", &ours), ("native", &native)] {
        // The whole file loads.
        let whole = TestDb::new(db.backend()).unwrap();
        std::fs::write(p.root().join("whole.sql"), text).unwrap();
        let (code, stderr) = restore_within(&p, &["whole.sql", "--database-url", &whole.url]);
        assert_eq!(code, 0, "{label}: {stderr}");
        for (place, at) in cut_points(text, rows) {
            let target = TestDb::new(db.backend()).unwrap();
            std::fs::write(p.root().join("cut.sql"), &text[..at]).unwrap();
            let (code, stderr) = restore_within(&p, &["cut.sql", "--database-url", &target.url]);
            assert_eq!(code, 8, "{label} cut {place}: {stderr}");
            assert!(
                stderr.contains("cut.sql") && stderr.contains("--allow-incomplete"),
                "{label} cut {place}: {stderr}"
            );
            assert!(
                stderr.contains("nothing was restored"),
                "{label} cut {place}: {stderr}"
            );
            assert!(
                target.tables().is_empty(),
                "{label} cut {place}: {:?}",
                target.tables()
            );
        }
    }
    // --allow-incomplete loads what a dump cut at a statement boundary holds.
    let (_, boundary) = cut_points(&ours, rows)
        .into_iter()
        .find(|(place, _)| *place == "at a statement boundary")
        .unwrap();
    std::fs::write(p.root().join("cut.sql"), &ours[..boundary]).unwrap();
    let target = TestDb::new(db.backend()).unwrap();
    let (code, stderr) = restore_within(
        &p,
        &[
            "cut.sql",
            "--allow-incomplete",
            "--database-url",
            &target.url,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count(&target, "item"), "392");
});

backend_test!(a_failing_statement_names_table_line_and_message, |db| {
    let p = Project::new();
    shop(&db);
    p.cmd("dbexport")
        .args(["-q", "-o", "dump.sql", "--database-url", &db.url])
        .ok();
    // Make the second row a duplicate of the first.
    let text = p.read("dump.sql");
    let (from, to) = match db.backend() {
        Backend::Postgres => ("\n2\t", "\n1\t"),
        _ => ("(2,", "(1,"),
    };
    assert!(text.contains(from), "{text}");
    let broken = text.replacen(from, to, 1);
    p.file("dup.sql", &broken);
    let target = TestDb::new(db.backend()).unwrap();
    let (code, stderr) = restore_within(&p, &["dup.sql", "--database-url", &target.url]);
    assert_eq!(code, 5, "{stderr}");
    let (statement, message) = match db.backend() {
        // PostgreSQL adds the primary key after the rows.
        Backend::Postgres => (
            "ALTER TABLE ONLY",
            "ALTER TABLE item: could not create unique index",
        ),
        Backend::Mysql => (
            "INSERT INTO `item`",
            "INSERT INTO `item`: Duplicate entry '1' for key 'PRIMARY'",
        ),
        Backend::Sqlite => (
            "INSERT INTO \"item\"",
            "INSERT INTO \"item\": UNIQUE constraint failed: item.id",
        ),
    };
    let line = broken
        .lines()
        .position(|l| {
            l.starts_with(statement)
                && (db.backend() != Backend::Postgres || l.contains("PRIMARY KEY"))
        })
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("dup.sql:{line}: {message}")),
        "line {line}: {stderr}"
    );
    assert!(!stderr.contains("Operation not permitted"), "{stderr}");
    if db.backend() == Backend::Postgres {
        // A duplicate inside COPY rows names the row's own line.
        let target = TestDb::new(db.backend()).unwrap();
        target.run_script("CREATE TABLE item (id integer PRIMARY KEY, label varchar(40));\n");
        p.cmd("dbexport")
            .args([
                "-q",
                "--data-only",
                "-o",
                "data.sql",
                "--database-url",
                &db.url,
            ])
            .ok();
        let data = p.read("data.sql").replacen("\n2\t", "\n1\t", 1);
        p.file("data.sql", &data);
        let (code, stderr) =
            restore_within(&p, &["data.sql", "--yes", "--database-url", &target.url]);
        assert_eq!(code, 5, "{stderr}");
        let row = data.lines().position(|l| l.starts_with("1\ttwo")).unwrap() + 1;
        assert!(
            stderr.contains(&format!(
                "data.sql:{row}: COPY item: duplicate key value violates unique constraint"
            )),
            "row {row}: {stderr}"
        );
    }
});

fn restore_needs_no_project_with_a_database_url() -> Skippable {
    let db = TestDb::create(Backend::Sqlite)?;
    shop(&db);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(binary("dbexport"))
            .arg("dbexport")
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&["-o", "shop.sql", "--database-url", &db.url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = TestDb::new(Backend::Sqlite).unwrap();
    let out = run(&["restore", "shop.sql", "--database-url", &copy.url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&copy, "item"), "2");
    let out = run(&["-o", "x.sql"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!Path::new(&dir.path().join("x.sql")).exists());
    Ok(())
}

dbrev_tests::main! {
    backend: [
        restore_never_follows_the_file_into_another_database,
        restore_over_tables_needs_yes,
        an_incomplete_dump_is_refused_whatever_the_cut,
        a_failing_statement_names_table_line_and_message,
    ],
    plain: [
        restore_needs_no_project_with_a_database_url,
    ],
}
