//! The end-to-end test harness: throw-away cargo projects ([`Project`]), the real binaries
//! ([`Project::cmd`]), and a uniquely named database per test on each backend ([`TestDb`]),
//! dropped even when the test panics.
//!
//! Backends get their server URLs from `DBREV_TEST_POSTGRES_URL` and
//! `DBREV_TEST_MYSQL_URL` (set by `.ci/run`). Without them a test skips with a message,
//! except under `CI=true`, where it fails.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use dbkit::Backend;
use dbkit::{Connection, DatabaseUrl};

/// A throw-away cargo package in a temporary directory.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A package named `app` with `src/main.rs`.
    pub fn new() -> Project {
        let dir = tempfile::Builder::new()
            .prefix("dbrev-test-")
            .tempdir()
            .expect("temp dir");
        let project = Project { dir };
        project.file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
        );
        project.file("src/main.rs", "fn main() {}\n");
        project
    }

    /// The package directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating directories), relative to the root.
    pub fn file(&self, path: impl AsRef<Path>, text: &str) -> &Self {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write file");
        self
    }

    /// Reads a file relative to the root.
    pub fn read(&self, path: impl AsRef<Path>) -> String {
        let path = self.root().join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// One of our binaries (`dbinit`, `dbrev`, `dbexport`) run in the project directory,
    /// invoked the way cargo does (`cargo-dbrev dbrev ARGS`).
    pub fn cmd(&self, tool: &str) -> TestCommand {
        let mut command = Command::new(binary(tool));
        command
            .arg(tool)
            .current_dir(self.root())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1");
        TestCommand { command }
    }

    /// The revision directories under `versioning/versions`, sorted.
    pub fn revisions(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.root().join("versioning/versions"))
            .expect("versions dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        dirs
    }
}

impl Default for Project {
    fn default() -> Self {
        Project::new()
    }
}

/// A diesel project as people really have them: three version formats, a directory name
/// with spaces, stray files.
pub fn diesel_project() -> Project {
    let p = Project::new();
    p.file(
        "diesel.toml",
        "[print_schema]\nfile = \"src/db/schema.rs\"\n\n[migrations_directory]\ndir = \"migrations\"\n",
    );
    p.file("migrations/.keep", "");
    p.file("migrations/README.md", "notes\n");
    p.file("migrations/loose.sql", "SELECT 1;\n");
    p.file(
        "migrations/00000000000000_diesel_initial_setup/up.sql",
        "-- This file was automatically created by Diesel to setup helper functions\nCREATE TABLE setup_marker (id INTEGER PRIMARY KEY);\n",
    );
    p.file(
        "migrations/00000000000000_diesel_initial_setup/down.sql",
        "DROP TABLE setup_marker;\n",
    );
    p.file(
        "migrations/2023-01-05-101500_create_users/up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n",
    );
    p.file(
        "migrations/2023-01-05-101500_create_users/down.sql",
        "DROP TABLE users;\n",
    );
    p.file(
        "migrations/20230210120000_create posts/up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);\n",
    );
    p.file(
        "migrations/20230210120000_create posts/down.sql",
        "DROP TABLE posts;\n",
    );
    p.file(
        "migrations/2023-03-01-000000-0000_add_tags/up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
    );
    p.file(
        "migrations/2023-03-01-000000-0000_add_tags/down.sql",
        "DROP TABLE tags;\n",
    );
    p
}

/// A command about to run.
pub struct TestCommand {
    command: Command,
}

impl TestCommand {
    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Unsets `VISUAL` (which `edit` prefers over `EDITOR`).
    pub fn env_remove_visual(mut self) -> Self {
        self.command.env_remove("VISUAL");
        self
    }

    /// Runs in another directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Runs and returns the outcome.
    pub fn run(mut self) -> Outcome {
        let output = self.command.output().expect("run binary");
        Outcome {
            output,
            shown: format!("{:?}", self.command),
        }
    }

    /// Runs and asserts exit code 0.
    pub fn ok(self) -> Outcome {
        self.run().success()
    }

    /// Runs and asserts a non-zero exit code.
    pub fn fails(self) -> Outcome {
        self.run().failure()
    }
}

/// What a command did.
pub struct Outcome {
    /// The raw output.
    pub output: Output,
    shown: String,
}

impl Outcome {
    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code.
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    fn describe(&self) -> String {
        format!(
            "{}\nexit: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.shown,
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts success.
    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "expected success:\n{}",
            self.describe()
        );
        self
    }

    /// Asserts failure with a one-line error and no panic.
    pub fn failure(self) -> Self {
        assert!(
            !self.output.status.success(),
            "expected failure:\n{}",
            self.describe()
        );
        let stderr = self.stderr();
        assert!(!stderr.contains("panicked"), "panic:\n{}", self.describe());
        assert!(
            !stderr.contains("RUST_BACKTRACE"),
            "backtrace:\n{}",
            self.describe()
        );
        self
    }

    /// Asserts stderr contains `text`.
    pub fn stderr_has(self, text: &str) -> Self {
        assert!(
            self.stderr().contains(text),
            "stderr lacks {text:?}:\n{}",
            self.describe()
        );
        self
    }

    /// Asserts stdout contains `text`.
    pub fn stdout_has(self, text: &str) -> Self {
        assert!(
            self.stdout().contains(text),
            "stdout lacks {text:?}:\n{}",
            self.describe()
        );
        self
    }
}

/// The path of one of our binaries, built once per test process so it is never stale.
pub fn binary(tool: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "cargo-dbinit",
                "-p",
                "cargo-dbrev",
            ])
            .args(["-p", "cargo-dbexport"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // The variables cargo sets for a test (CARGO_MANIFEST_DIR…) would make build
        // scripts that watch them re-run, rebuilding everything for each test binary.
        let per_test = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ];
        for (key, _) in std::env::vars() {
            if per_test.iter().any(|p| key.starts_with(p)) || key == "CARGO_PRIMARY_PACKAGE" {
                build.env_remove(&key);
            }
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the binaries failed");
        profile_dir
    });
    dir.join(format!("cargo-{tool}"))
}

/// Whether we run under CI, where an unreachable backend fails instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The admin URL of a server backend: `DBREV_TEST_POSTGRES_URL` / `DBREV_TEST_MYSQL_URL`,
/// else the local servers' usual address. `None` (skip) when it does not answer, off CI.
pub fn server_url(backend: Backend) -> Option<String> {
    let (var, default) = match backend {
        Backend::Sqlite => return Some(String::new()),
        Backend::Postgres => (
            "DBREV_TEST_POSTGRES_URL",
            "postgres://root@127.0.0.1:5432/test",
        ),
        Backend::Mysql => ("DBREV_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    };
    let url = std::env::var(var)
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| default.to_owned());
    static REACHABLE: OnceLock<std::sync::Mutex<Vec<(Backend, bool)>>> = OnceLock::new();
    let cache = REACHABLE.get_or_init(Default::default);
    let mut known = cache.lock().unwrap_or_else(|e| e.into_inner());
    let reachable = match known.iter().find(|(b, _)| *b == backend) {
        Some((_, r)) => *r,
        None => {
            let parsed = DatabaseUrl::parse(&url, Path::new("/")).expect("test server URL");
            let result = Connection::establish(&parsed);
            if let Err(e) = &result {
                if in_ci() {
                    panic!("{backend} test server unreachable under CI=true ({var}): {e}");
                }
                eprintln!(
                    "skipping {backend} tests: {e} (set {var}, or start the server: see DEVELOPERS.md)"
                );
            }
            known.push((backend, result.is_ok()));
            result.is_ok()
        }
    };
    reachable.then_some(url)
}

/// A database of its own for one test, dropped at the end (even on panic).
pub struct TestDb {
    /// The URL of the test database.
    pub url: String,
    backend: Backend,
    admin: Option<DatabaseUrl>,
    name: String,
    _sqlite_dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// Makes a fresh database, or `None` when the backend is not configured (off CI).
    pub fn new(backend: Backend) -> Option<TestDb> {
        let base = server_url(backend)?;
        let name = format!(
            "dbrev_t{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos() % 100_000)
                .unwrap_or(0)
        );
        if backend == Backend::Sqlite {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}",
                dir.path().join(format!("{name}.db")).display()
            );
            return Some(TestDb {
                url,
                backend,
                admin: None,
                name,
                _sqlite_dir: Some(dir),
            });
        }
        let admin = DatabaseUrl::parse(&base, Path::new("/")).expect("admin URL");
        let mut conn = Connection::establish(&admin)
            .unwrap_or_else(|e| panic!("cannot reach the {backend} test server: {e}"));
        let quoted = conn.dialect().quote_ident(&name);
        conn.batch_execute(&format!("CREATE DATABASE {quoted}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let url = admin.with_database(&name).expose().to_owned();
        Some(TestDb {
            url,
            backend,
            admin: Some(admin),
            name,
            _sqlite_dir: None,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection to the test database.
    pub fn connect(&self) -> Connection {
        let url = DatabaseUrl::parse(&self.url, Path::new("/")).expect("test URL");
        Connection::establish(&url).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Names of the user tables in the test database, sorted.
    pub fn tables(&self) -> Vec<String> {
        let mut conn = self.connect();
        let sql = conn.dialect().list_tables_query();
        conn.load::<dbkit::db::ValueRow>(sql)
            .expect("list tables")
            .into_iter()
            .filter_map(|r| r.value)
            .collect()
    }

    /// The applied revision ids in the version table, sorted.
    pub fn applied(&self) -> Vec<String> {
        let mut conn = self.connect();
        let table = conn.dialect().quote_ident("__diesel_schema_migrations");
        let mut ids: Vec<String> = conn
            .load::<dbkit::db::ValueRow>(&format!("SELECT version AS value FROM {table}"))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.value)
            .collect();
        ids.sort();
        ids
    }

    /// Loads a SQL script with the backend's native client (`sqlite3`, `psql`, `mariadb`).
    pub fn load_with_native_client(&self, script: &Path) -> Output {
        let input = std::fs::File::open(script).expect("open script");
        let mut command = match self.backend {
            Backend::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.args(["-bail", self.url.trim_start_matches("sqlite://")]);
                c
            }
            Backend::Postgres => {
                let mut c = Command::new("psql");
                c.args(["-q", "-v", "ON_ERROR_STOP=1", &self.url]);
                c
            }
            Backend::Mysql => {
                let parsed = ServerAddress::of(&self.url);
                let mut c = Command::new("mariadb");
                c.args(["-h", &parsed.host, "-P", &parsed.port, "-u", &parsed.user]);
                if let Some(pw) = &parsed.password {
                    c.arg(format!("-p{pw}"));
                }
                c.arg(&self.name);
                c
            }
        };
        command.stdin(input).output().expect("run native client")
    }

    /// The backend's own dumper's plain output of the test database (`sqlite3 .dump`,
    /// `pg_dump`, `mariadb-dump`).
    pub fn native_dump(&self) -> Vec<u8> {
        let mut command = match self.backend {
            Backend::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.args([self.url.trim_start_matches("sqlite://"), ".dump"]);
                c
            }
            Backend::Postgres => {
                let mut c = Command::new("pg_dump");
                c.args(["--no-owner", "--no-privileges", &self.url]);
                c
            }
            Backend::Mysql => {
                let parsed = ServerAddress::of(&self.url);
                let mut c = Command::new("mariadb-dump");
                c.args(["-h", &parsed.host, "-P", &parsed.port, "-u", &parsed.user]);
                c.args(["--routines", "--events", "--triggers", &self.name]);
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

    /// Runs a script split into statements by dbkit (DELIMITER and all).
    pub fn run_script(&self, sql: &str) {
        let mut conn = self.connect();
        for statement in dbkit::statements::split_str(sql, self.backend).expect("split") {
            conn.batch_execute(&statement.sql)
                .unwrap_or_else(|e| panic!("line {}: {e}\n{}", statement.line, statement.sql));
        }
    }

    /// Every row of a query's `value` column, in order.
    pub fn values(&self, sql: &str) -> Vec<String> {
        self.connect()
            .load::<dbkit::db::ValueRow>(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|r| r.value.unwrap_or_else(|| "NULL".into()))
            .collect()
    }

    /// One text value from a query (column `value`).
    pub fn value(&self, sql: &str) -> Option<String> {
        self.connect().query_value(sql).expect("query")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin
            && let Ok(mut conn) = Connection::establish(admin)
        {
            let quoted = conn.dialect().quote_ident(&self.name);
            let force = if self.backend == Backend::Postgres {
                " WITH (FORCE)"
            } else {
                ""
            };
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}{force}"));
        }
    }
}

/// Host, port and credentials of a server URL (for the native clients).
struct ServerAddress {
    host: String,
    port: String,
    user: String,
    password: Option<String>,
}

impl ServerAddress {
    fn of(url: &str) -> ServerAddress {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("root", authority));
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
            None => (userinfo.to_owned(), None),
        };
        let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
        ServerAddress {
            host: host.to_owned(),
            port: port.to_owned(),
            user,
            password,
        }
    }
}

/// Expands one test body into a test per backend: `name::sqlite`, `name::postgres`,
/// `name::mysql`. The body gets a fresh [`TestDb`].
#[macro_export]
macro_rules! backend_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($db: $crate::TestDb) $body

            #[test]
            fn sqlite() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Sqlite) {
                    body(db)
                }
            }

            #[test]
            fn postgres() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Postgres) {
                    body(db)
                }
            }

            #[test]
            fn mysql() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Mysql) {
                    body(db)
                }
            }
        }
    };
}

/// A project whose `.env` points at the test database (dbinit run, quiet).
pub fn migration_project(db: &TestDb) -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p
}

/// Adds a revision with `--rev-id ID` (and `extra` arguments) and appends `up` and `down`
/// to its files; returns its directory.
pub fn add_revision(
    p: &Project,
    id: &str,
    message: &str,
    up: &str,
    down: &str,
    extra: &[&str],
) -> PathBuf {
    p.cmd("dbrev")
        .args(["revision", "-q", "-m", message, "--rev-id", id])
        .args(extra)
        .ok();
    let dir = revision_dir(p, id);
    for (file, sql) in [("up.sql", up), ("down.sql", down)] {
        let path = dir.join(file);
        let mut text = std::fs::read_to_string(&path).expect("revision file");
        text.push_str(sql);
        text.push('\n');
        std::fs::write(path, text).expect("write revision file");
    }
    dir
}

/// The directory of revision `id` under `versioning/versions`.
pub fn revision_dir(p: &Project, id: &str) -> PathBuf {
    p.revisions()
        .into_iter()
        .find(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{id}_")))
        })
        .unwrap_or_else(|| panic!("no revision directory for {id}"))
}

/// `expr` cast to text the way the test database's backend spells it, for [`TestDb::value`].
pub fn as_text(db: &TestDb, expr: &str) -> String {
    match db.backend() {
        Backend::Mysql => format!("CAST({expr} AS CHAR)"),
        _ => format!("CAST({expr} AS TEXT)"),
    }
}

/// One column of dbrev's companion-table row for `id`, as text (`None`: NULL or no row).
pub fn revision_record(db: &TestDb, id: &str, column: &str) -> Option<String> {
    db.value(&format!(
        "SELECT {} AS value FROM __dbrev_revisions WHERE version = '{id}'",
        as_text(db, column)
    ))
}
