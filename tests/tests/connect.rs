//! Connections: every backend answers, TLS, and failures are one masked line.

use dbkit::DatabaseUrl;
use dbrev_tests::{
    Backend, Project, Skippable, Skipped, TestDb, backend_test, in_ci, reachable_server,
};

fn project() -> Project {
    let p = Project::new();
    p.cmd("dbinit").ok();
    p
}

backend_test!(connects_to_each_backend, |db| {
    let p = project();
    let out = p
        .cmd("dbrev")
        .args(["current", "--database-url", &db.url])
        .ok();
    assert!(out.stderr().contains("Database"), "{}", out.stderr());
    // The version table is not created by a read-only command.
    assert!(db.tables().is_empty(), "{:?}", db.tables());
});

fn unreachable_servers_and_bad_credentials_are_one_masked_line() {
    let p = project();
    for url in [
        "postgres://alice:s3cret-pw@127.0.0.1:1/app",
        "mysql://alice:s3cret-pw@127.0.0.1:1/app",
        "mariadb://alice:s3cret-pw@127.0.0.1:1/app",
    ] {
        let out = p
            .cmd("dbrev")
            .args(["current", "--database-url", url])
            .fails();
        let err = out.stderr();
        assert!(!err.contains("s3cret"), "password shown: {err}");
        // The target first, then one error line.
        let lines: Vec<&str> = err.trim_end().lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(lines[0].trim_start().starts_with("Database"), "{err}");
        assert!(lines[0].ends_with("alice:***@127.0.0.1:1/app"), "{err}");
        assert!(lines[1].starts_with("error: cannot connect to"), "{err}");
        assert!(lines[1].contains("alice:***@127.0.0.1:1/app"), "{err}");
        assert_eq!(out.code(), dbkit::error::exit::CONNECT);
    }
    let out = p
        .cmd("dbrev")
        .args(["current", "--database-url", "oracle://bob:hunter2@h/db"])
        .fails();
    assert!(
        out.stderr().contains("unknown scheme `oracle`"),
        "{}",
        out.stderr()
    );
    assert!(!out.stderr().contains("hunter2"));
}

fn bad_postgres_credentials_are_masked() -> Skippable {
    let admin = reachable_server(Backend::Postgres)?;
    let wrong = admin
        .replacen("://", "://nosuchuser:pw123@", 1)
        .replace("root@", "");
    let out = project()
        .cmd("dbrev")
        .args(["current", "--database-url", &wrong])
        .fails();
    assert!(!out.stderr().contains("pw123"), "{}", out.stderr());
    assert!(out.stderr().contains("nosuchuser"), "{}", out.stderr());
    Ok(())
}

fn bad_mysql_credentials_are_masked() -> Skippable {
    let admin = reachable_server(Backend::Mysql)?;
    let wrong = admin.replacen("root@", "nosuchuser:pw123@", 1);
    let out = project()
        .cmd("dbrev")
        .args(["current", "--database-url", &wrong])
        .fails();
    assert!(!out.stderr().contains("pw123"), "{}", out.stderr());
    assert!(out.stderr().contains("Access denied"), "{}", out.stderr());
    Ok(())
}

/// Upgrades over TLS without checking the certificate (`encrypt`), then shows that the
/// handshake really happens: full verification (`verify`) of the server's self-signed
/// certificate fails.
fn tls_handshake(db: &TestDb, encrypt: &str, verify: &str) {
    let p = project();
    let url = format!("{}?{encrypt}", db.url);
    p.cmd("dbrev")
        .args(["upgrade", "--database-url", &url])
        .ok();
    assert!(
        db.tables()
            .contains(&"__diesel_schema_migrations".to_owned())
    );
    let strict = format!("{}?{verify}", db.url);
    let out = p
        .cmd("dbrev")
        .args(["current", "--database-url", &strict])
        .fails();
    assert!(
        out.stderr().to_lowercase().contains("certificate"),
        "{}",
        out.stderr()
    );
}

fn postgres_tls_require() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    tls_handshake(&db, "sslmode=require", "sslmode=verify-full");
    Ok(())
}

fn mysql_tls_required() -> Skippable {
    let db = TestDb::create(Backend::Mysql)?;
    let have_ssl = db.value("SELECT CAST(@@have_ssl AS CHAR) AS value");
    if have_ssl.as_deref() != Some("YES") {
        // .ci/run turns TLS on; a laptop's server may not have it.
        assert!(
            !in_ci(),
            "MariaDB has no TLS under CI=true; .ci/run should enable it"
        );
        project()
            .cmd("dbrev")
            .args([
                "current",
                "--database-url",
                &format!("{}?ssl-mode=REQUIRED", db.url),
            ])
            .fails()
            .stderr_has("cannot connect");
        return Err(Skipped(
            "the MariaDB server has TLS disabled: the handshake was not checked".into(),
        ));
    }
    tls_handshake(&db, "ssl-mode=REQUIRED", "ssl-mode=VERIFY_IDENTITY");
    Ok(())
}

fn an_unset_variable_in_database_url_is_an_error_not_a_sqlite_file() {
    let p = project();
    p.file(
        "dbrev.toml",
        "script_location = \"versioning\"\n# production\ndatabase_url = \"${PROD_DATABASE_URL}\"\n",
    );
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "head"])
        .env("PROD_DATABASE_URL_UNRELATED", "x")
        .fails();
    assert_eq!(out.code(), dbkit::error::exit::INPUT);
    out.stderr_has("dbrev.toml:3:17: `database_url` uses ${PROD_DATABASE_URL}, which is not set");
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "head"])
        .env("PROD_DATABASE_URL", "")
        .fails();
    out.stderr_has(
        "dbrev.toml:3:17: `database_url` uses ${PROD_DATABASE_URL}, which is set but empty",
    );
    // An empty DATABASE_URL is no more a fallback than an unset variable.
    p.file("dbrev.toml", "script_location = \"versioning\"\n");
    p.cmd("dbrev")
        .args(["current"])
        .env("DATABASE_URL", "")
        .fails()
        .stderr_has("DATABASE_URL is set but empty");
    let files: Vec<String> = std::fs::read_dir(p.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert!(files.is_empty(), "{files:?}");
    // A default is a choice the user wrote down.
    p.file(
        "dbrev.toml",
        "script_location = \"versioning\"\ndatabase_url = \"${PROD_DATABASE_URL:-sqlite://fallback.db}\"\n",
    );
    p.cmd("dbrev")
        .args(["current"])
        .ok()
        .stderr_has("fallback.db");
}

fn only_sqlite_urls_are_sqlite_and_libpq_strings_are_postgres() {
    let p = project();
    for url in ["app", "db.example.com:5432/app", "notes.txt"] {
        let out = p
            .cmd("dbrev")
            .args(["upgrade", "head", "--database-url", url])
            .fails();
        assert_eq!(out.code(), dbkit::error::exit::CONNECT);
        out.stderr_has("not a database URL");
    }
    let names: Vec<String> = std::fs::read_dir(p.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("app") || n.contains("notes")),
        "{names:?}"
    );
    // A keyword string is PostgreSQL (the password shown as ***, never a file name).
    let out = p
        .cmd("dbrev")
        .args([
            "current",
            "--database-url",
            "host=127.0.0.1 port=1 user=alice password='s3 cr#t' dbname=app",
        ])
        .fails();
    assert_eq!(out.code(), dbkit::error::exit::CONNECT);
    let err = out.stderr();
    assert!(!err.contains("s3 cr#t") && !err.contains("cr#t"), "{err}");
    assert!(err.contains("password=***"), "{err}");
    let names_after: Vec<String> = std::fs::read_dir(p.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, names_after);
}

fn a_libpq_keyword_string_connects_to_postgres() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    let p = project();
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let keywords = format!("host=127.0.0.1 port=5432 user=root password=unused dbname={name}");
    p.cmd("dbrev")
        .args(["revision", "-q", "-m", "x", "--rev-id", "a1"])
        .ok();
    p.cmd("dbrev")
        .args(["upgrade", "head", "--database-url", &keywords])
        .ok()
        .stderr_has(&format!(
            "Database host=127.0.0.1 port=5432 user=root password=*** dbname={name}"
        ));
    assert!(
        db.tables()
            .contains(&"__diesel_schema_migrations".to_owned())
    );
    Ok(())
}

fn passwords_are_never_printed_even_in_urls_that_do_not_parse() {
    let p = project();
    for secret in [
        "pa ss9",
        "pa#ss9",
        "pa/ss9",
        "pa?ss9",
        "pa@ss9",
        "x@y/z#w ?v9",
    ] {
        for scheme in ["postgres", "mysql"] {
            let url = format!("{scheme}://alice:{secret}@127.0.0.1:1/app");
            for command in ["current", "upgrade", "check"] {
                let out = p
                    .cmd("dbrev")
                    .args([command, "--database-url", &url])
                    .fails();
                let err = out.stderr();
                assert_eq!(out.code(), dbkit::error::exit::CONNECT, "{err}");
                assert!(!err.contains("ss9") && !err.contains("v9"), "{url}: {err}");
                assert!(
                    err.contains(&format!("{scheme}://alice:***@127.0.0.1:1/app")),
                    "{err}"
                );
            }
            // dbexport, dumping and restoring, the same.
            p.file("in.sql", "SELECT 1;\n");
            for args in [&["-o", "out.sql"][..], &["restore", "in.sql", "--yes"]] {
                let out = p
                    .cmd("dbexport")
                    .args(args)
                    .args(["--database-url", &url])
                    .fails();
                let err = out.stderr();
                assert_eq!(out.code(), dbkit::error::exit::CONNECT, "{args:?}: {err}");
                assert!(!err.contains("ss9") && !err.contains("v9"), "{url}: {err}");
                assert!(
                    err.contains(&format!("{scheme}://alice:***@127.0.0.1:1/app")),
                    "{err}"
                );
            }
        }
    }
    // Percent-encoded, the URL is valid; the driver's complaint is masked too.
    let out = p
        .cmd("dbrev")
        .args([
            "current",
            "--database-url",
            "postgres://alice:pa%40ss9@127.0.0.1:1/app",
        ])
        .fails();
    assert!(!out.stderr().contains("ss9"), "{}", out.stderr());
}

backend_test!(every_command_names_its_database_first, |db| {
    let p = project();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p.file(
        "src/schema.rs",
        "diesel::table! {\n    t_a1 (id) {\n        id -> Integer,\n    }\n}\n",
    );
    p.cmd("dbrev")
        .args(["revision", "-q", "-m", "x", "--rev-id", "a1"])
        .ok();
    let up = p.revisions()[0].join("up.sql");
    let text = std::fs::read_to_string(&up).unwrap();
    std::fs::write(
        &up,
        format!("{text}CREATE TABLE t_a1 (id INTEGER PRIMARY KEY);\n"),
    )
    .unwrap();
    let shown = DatabaseUrl::parse(&db.url, std::path::Path::new("/"))
        .unwrap()
        .masked();
    let first = format!("Database {shown}");
    for args in [
        vec!["upgrade", "head"],
        vec!["current"],
        vec!["check"],
        vec!["history", "-i"],
        vec!["history", "-v"],
        vec!["show", "current"],
        vec!["stamp", "a1"],
        vec!["downgrade", "base"],
        vec!["stamp", "base"],
        vec!["revision", "--autogenerate", "-m", "auto"],
    ] {
        let out = p.cmd("dbrev").args(&args).run();
        let err = out.stderr();
        assert_eq!(
            err.lines().next().map(str::trim),
            Some(first.as_str()),
            "{args:?}: {err}"
        );
    }
});

fn check_without_a_database_is_not_a_no() {
    let p = project();
    p.file(
        "src/schema.rs",
        "diesel::table! {\n    t (id) {\n        id -> Integer,\n    }\n}\n",
    );
    for url in [
        "postgres://u:pw@127.0.0.1:1/app",
        "mysql://u:pw@127.0.0.1:1/app",
    ] {
        let out = p
            .cmd("dbrev")
            .args(["check", "--database-url", url])
            .fails();
        assert_eq!(out.code(), dbkit::error::exit::CONNECT, "{}", out.stderr());
    }
}

fn help_documents_the_exit_codes() {
    let p = project();
    for tool in ["dbrev", "dbinit"] {
        let help = p.cmd(tool).args(["--help"]).ok().stdout();
        assert!(help.contains("Exit codes:"), "{help}");
        for code in [
            "  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "  6 ", "  7 ", "  8 ", "128+N",
        ] {
            assert!(help.contains(code), "{tool} --help lacks {code:?}:\n{help}");
        }
    }
}

dbrev_tests::main! {
    backend: [
        connects_to_each_backend,
        every_command_names_its_database_first,
    ],
    plain: [
        unreachable_servers_and_bad_credentials_are_one_masked_line,
        bad_postgres_credentials_are_masked,
        bad_mysql_credentials_are_masked,
        a_libpq_keyword_string_connects_to_postgres,
        postgres_tls_require,
        mysql_tls_required,
        an_unset_variable_in_database_url_is_an_error_not_a_sqlite_file,
        only_sqlite_urls_are_sqlite_and_libpq_strings_are_postgres,
        passwords_are_never_printed_even_in_urls_that_do_not_parse,
        check_without_a_database_is_not_a_no,
        help_documents_the_exit_codes,
    ],
}
