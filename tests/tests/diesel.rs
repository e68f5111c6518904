//! Interplay with diesel: our revision directories run under diesel_migrations (embedded
//! and from files), and a project migrated by diesel is continued by `cargo dbrev`.

use std::path::Path;

use dbrev_tests::{Backend, Project, TestDb, backend_test, diesel_project, revision_record};
use diesel::Connection as _;
use diesel::migration::MigrationSource;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncMysqlConnection, AsyncPgConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

/// The module `cargo dbinit --template embedded` writes, for revisions in `fixtures/versions`
/// (two revisions written by `cargo dbrev revision`, header comments included).
#[path = "../fixtures/embedded_migrations.rs"]
mod embedded_migrations;

/// The operations the tests need from diesel_migrations, on any backend.
trait Harness {
    fn run_embedded(&mut self);
    fn run_dir(&mut self, dir: &Path) -> Vec<String>;
    fn applied(&mut self) -> Vec<String>;
}

macro_rules! impl_harness {
    ($conn:ty, $backend:ty) => {
        impl Harness for $conn {
            fn run_embedded(&mut self) {
                embedded_migrations::run_pending(self).expect("diesel runs the embedded revisions");
            }

            fn run_dir(&mut self, dir: &Path) -> Vec<String> {
                let source = FileBasedMigrations::from_path(dir).expect("migrations dir");
                let _: Vec<_> = MigrationSource::<$backend>::migrations(&source)
                    .expect("diesel reads the directory");
                self.run_pending_migrations(source)
                    .expect("diesel runs the directory")
                    .iter()
                    .map(|v| v.to_string())
                    .collect()
            }

            fn applied(&mut self) -> Vec<String> {
                let mut v: Vec<String> = self
                    .applied_migrations()
                    .expect("applied")
                    .iter()
                    .map(|v| v.to_string())
                    .collect();
                v.sort();
                v
            }
        }
    };
}

impl_harness!(diesel::SqliteConnection, diesel::sqlite::Sqlite);
impl_harness!(AsyncConnectionWrapper<AsyncPgConnection>, diesel::pg::Pg);
impl_harness!(
    AsyncConnectionWrapper<AsyncMysqlConnection>,
    diesel::mysql::Mysql
);

fn diesel_conn(db: &TestDb) -> Box<dyn Harness> {
    match db.backend() {
        Backend::Sqlite => Box::new(
            diesel::SqliteConnection::establish(db.url.trim_start_matches("sqlite://")).unwrap(),
        ),
        Backend::Postgres => {
            Box::new(AsyncConnectionWrapper::<AsyncPgConnection>::establish(&db.url).unwrap())
        }
        Backend::Mysql => {
            Box::new(AsyncConnectionWrapper::<AsyncMysqlConnection>::establish(&db.url).unwrap())
        }
    }
}

backend_test!(embedded_revisions_run_under_diesel, |db| {
    let mut conn = diesel_conn(&db);
    conn.run_embedded();
    assert_eq!(conn.applied(), ["20260101000000", "20260102000000"]);
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/versions");
    p.file(
        "dbrev.toml",
        &format!(
            "version_locations = \"{}\"\ndatabase_url = \"{}\"\n",
            fixtures.display(),
            db.url
        ),
    );
    assert_eq!(
        p.cmd("dbrev").args(["current"]).ok().stdout(),
        "20260102000000 (head)\n"
    );
    let mut tables = db.tables();
    tables.sort();
    assert_eq!(tables, ["__diesel_schema_migrations", "gadgets", "widgets"]);
});

backend_test!(fresh_revisions_are_valid_diesel_migrations, |db| {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p.cmd("dbrev").args(["revision", "-q", "-m", "first"]).ok();
    p.cmd("dbrev").args(["revision", "-q", "-m", "second"]).ok();
    let dirs = p.revisions();
    for (dir, table) in dirs.iter().zip(["one", "two"]) {
        let up = dir.join("up.sql");
        let text = std::fs::read_to_string(&up).unwrap();
        std::fs::write(
            &up,
            format!("{text}CREATE TABLE {table} (id INTEGER PRIMARY KEY);\n"),
        )
        .unwrap();
        std::fs::write(dir.join("down.sql"), format!("DROP TABLE {table};\n")).unwrap();
    }
    let ran = diesel_conn(&db).run_dir(&p.root().join("versioning/versions"));
    assert_eq!(ran.len(), 2);
    let head = p.cmd("dbrev").args(["heads"]).ok().stdout();
    let current = p.cmd("dbrev").args(["current"]).ok().stdout();
    assert!(
        head.contains(current.split(' ').next().unwrap().trim()),
        "{head} / {current}"
    );
    // And the other way round: dbrev downgrades what diesel applied, diesel sees it.
    p.cmd("dbrev").args(["downgrade", "-1"]).ok();
    assert_eq!(diesel_conn(&db).applied().len(), 1);
});

backend_test!(adopted_diesel_project_continues_with_dbrev, |db| {
    let p = diesel_project();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    let ran = diesel_conn(&db).run_dir(&p.root().join("migrations"));
    assert_eq!(ran.len(), 4);
    p.cmd("dbinit").args(["migrations", "-q"]).ok();
    assert_eq!(
        p.cmd("dbrev").args(["current"]).ok().stdout(),
        "202303010000000000 (head)\n"
    );
    // Revisions diesel applied get their checksum recorded the first time dbrev runs.
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .ok()
        .stderr_has("Recorded the checksums of 4 revision(s) applied before dbrev's table __dbrev_revisions knew them")
        .stderr_has("Nothing");
    assert_eq!(
        revision_record(&db, "20230105101500", "state").as_deref(),
        Some("adopted")
    );
    let users_up = p
        .root()
        .join("migrations/2023-01-05-101500_create_users/up.sql");
    assert_eq!(
        revision_record(&db, "20230105101500", "checksum"),
        Some(dbkit::script::checksum(&p.read(&users_up)))
    );
    assert!(revision_record(&db, "20230105101500", "applied_at").is_some());
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .ok()
        .stderr_has("Nothing");
    // Diesel's dashed versions name revisions everywhere.
    let shown = p
        .cmd("dbrev")
        .args(["show", "2023-01-05-101500"])
        .ok()
        .stdout();
    assert!(shown.starts_with("Rev: 20230105101500"), "{shown}");
    let shown = p
        .cmd("dbrev")
        .args(["show", "2023-01-05-101500_create_users"])
        .ok()
        .stdout();
    assert!(shown.starts_with("Rev: 20230105101500"), "{shown}");
    p.cmd("dbrev")
        .args(["edit", "2023-03-01-000000-0000"])
        .env("EDITOR", "true")
        .env_remove_visual()
        .ok();
    // An edit to a migration diesel applied is caught too.
    let users = p.read(&users_up);
    std::fs::write(&users_up, format!("{users}-- edited\n")).unwrap();
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .fails()
        .stderr_has("revision 20230105101500 changed since it was applied");
    std::fs::write(&users_up, users).unwrap();
    p.cmd("dbrev")
        .args([
            "revision",
            "-q",
            "-m",
            "add comments",
            "--depends-on",
            "2023-01-05-101500",
        ])
        .ok();
    let new_dir = std::fs::read_dir(p.root().join("migrations"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|d| d.to_string_lossy().ends_with("_add_comments"))
        .unwrap();
    let up = std::fs::read_to_string(new_dir.join("up.sql")).unwrap();
    assert!(up.contains("-- Revises: 202303010000000000"), "{up}");
    assert!(up.contains("-- Depends On: 20230105101500"), "{up}");
    std::fs::write(
        new_dir.join("up.sql"),
        format!("{up}CREATE TABLE comments (id INTEGER PRIMARY KEY);\n"),
    )
    .unwrap();
    std::fs::write(new_dir.join("down.sql"), "DROP TABLE comments;\n").unwrap();
    p.cmd("dbrev")
        .args(["upgrade", "head"])
        .ok()
        .stderr_has("Applied");
    assert_eq!(diesel_conn(&db).applied().len(), 5);
    assert!(db.tables().contains(&"comments".to_owned()));
    p.cmd("dbrev").args(["downgrade", "-2"]).ok();
    assert_eq!(diesel_conn(&db).applied().len(), 3);
    assert!(!db.tables().contains(&"tags".to_owned()));
    p.cmd("dbrev")
        .args(["downgrade", "2023-01-05-101500"])
        .ok()
        .stderr_has("Reverted 20230210120000");
    assert_eq!(diesel_conn(&db).applied().len(), 2);
    p.cmd("dbrev")
        .args(["stamp", "2023-03-01-000000-0000"])
        .ok()
        .stderr_has("Stamped 202303010000000000");
    assert_eq!(diesel_conn(&db).applied().len(), 4);
});

fn the_embedded_module_is_what_dbinit_writes() {
    let p = Project::new();
    p.cmd("dbinit")
        .args(["fixtures", "--template", "embedded", "-q"])
        .ok();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/embedded_migrations.rs");
    assert_eq!(
        p.read("fixtures/embedded_migrations.rs"),
        std::fs::read_to_string(fixture).unwrap(),
        "regenerate tests/fixtures/embedded_migrations.rs with `cargo dbinit fixtures --template embedded`"
    );
}

dbrev_tests::main! {
    backend: [
        embedded_revisions_run_under_diesel,
        fresh_revisions_are_valid_diesel_migrations,
        adopted_diesel_project_continues_with_dbrev,
    ],
    plain: [
        the_embedded_module_is_what_dbinit_writes,
    ],
}
