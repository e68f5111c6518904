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
        assert!(err.contains("alice:***@127.0.0.1:1/app"), "{err}");
        assert!(err.starts_with("error: cannot connect to"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert_eq!(out.code(), 1);
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
fn mysql_tls_required_is_honoured() {
    let Some(db) = TestDb::new(Backend::Mysql) else {
        return;
    };
    let p = project();
    let url = format!("{}?ssl-mode=REQUIRED", db.url);
    let have_ssl = db.value("SELECT CAST(@@have_ssl AS CHAR) AS value");
    let out = p
        .cmd("dbrev")
        .args(["current", "--database-url", &url])
        .run();
    if have_ssl.as_deref() == Some("YES") {
        out.success();
    } else {
        // Without TLS on the server, REQUIRED must refuse rather than fall back to plain.
        let out = out.failure();
        assert!(out.stderr().contains("cannot connect"), "{}", out.stderr());
        assert!(
            !in_ci()
                || out.stderr().to_lowercase().contains("tls")
                || out.stderr().to_lowercase().contains("ssl"),
            "{}",
            out.stderr()
        );
    }
}
