//! Connections: every backend answers, TLS, and failures are one masked line.

use dbrev_tests::{Backend, Project, TestDb, backend_test, in_ci, server_url};

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

#[test]
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
    if let Some(admin) = server_url(Backend::Postgres) {
        let wrong = admin
            .replacen("://", "://nosuchuser:pw123@", 1)
            .replace("root@", "");
        let out = p
            .cmd("dbrev")
            .args(["current", "--database-url", &wrong])
            .fails();
        assert!(!out.stderr().contains("pw123"), "{}", out.stderr());
        assert!(out.stderr().contains("nosuchuser"), "{}", out.stderr());
    }
    if let Some(admin) = server_url(Backend::Mysql) {
        let wrong = admin.replacen("root@", "nosuchuser:pw123@", 1);
        let out = p
            .cmd("dbrev")
            .args(["current", "--database-url", &wrong])
            .fails();
        assert!(!out.stderr().contains("pw123"), "{}", out.stderr());
        assert!(out.stderr().contains("Access denied"), "{}", out.stderr());
    }
}

#[test]
fn postgres_tls_require() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    let p = project();
    let url = format!("{}?sslmode=require", db.url);
    p.cmd("dbrev")
        .args(["upgrade", "--database-url", &url])
        .ok();
    assert!(
        db.tables()
            .contains(&"__diesel_schema_migrations".to_owned())
    );
    // The handshake really happens: the server's self-signed certificate fails verification.
    let strict = format!("{}?sslmode=verify-full", db.url);
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

#[test]
fn mysql_tls_required() {
    let Some(db) = TestDb::new(Backend::Mysql) else {
        return;
    };
    let p = project();
    let url = format!("{}?ssl-mode=REQUIRED", db.url);
    let have_ssl = db.value("SELECT CAST(@@have_ssl AS CHAR) AS value");
    if have_ssl.as_deref() != Some("YES") {
        // .ci/run turns TLS on; a laptop's server may not have it.
        assert!(
            !in_ci(),
            "MariaDB has no TLS under CI=true; .ci/run should enable it"
        );
        eprintln!("skipping the TLS handshake check: the MariaDB server has TLS disabled");
        p.cmd("dbrev")
            .args(["current", "--database-url", &url])
            .fails()
            .stderr_has("cannot connect");
        return;
    }
    p.cmd("dbrev")
        .args(["upgrade", "--database-url", &url])
        .ok();
    assert!(
        db.tables()
            .contains(&"__diesel_schema_migrations".to_owned())
    );
    // The handshake really happens: the self-signed certificate fails full verification.
    let strict = format!("{}?ssl-mode=VERIFY_IDENTITY", db.url);
    let out = p
        .cmd("dbrev")
        .args(["current", "--database-url", &strict])
        .fails();
    assert!(out.stderr().contains("certificate"), "{}", out.stderr());
}
