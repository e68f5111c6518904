//! The end-to-end test harness: throw-away cargo projects ([`Project`]), the real binaries
//! ([`Project::cmd`]), and a uniquely named database per test on each backend ([`TestDb`]),
//! dropped even when the test panics.
//!
//! Backends get their server URLs from `DBREV_TEST_POSTGRES_URL` and
//! `DBREV_TEST_MYSQL_URL` (set by `.ci/run`), else the local servers' usual addresses. A
//! test whose server does not answer is skipped — shown as `ignored` with the reason in
//! the files run by [`main!`] — except under `CI=true`, where it fails. The binaries are
//! built once per `cargo test` run ([`binary`]).

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

/// The path of one of our binaries (`dbinit`, `dbrev`, `dbexport`), never stale: built
/// once per `cargo test` run (see [`build_binaries`]).
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
        build_binaries(&profile_dir);
        profile_dir
    });
    dir.join(format!("cargo-{tool}"))
}

/// Builds the three binaries into `profile_dir` unless another test process of the same
/// `cargo test` (or nextest) run already did. A test package cannot see the binaries of
/// other packages (`CARGO_BIN_EXE_*` is only set for a package's own), so the first test
/// process of a run builds them under a file lock in `target/` and records the run (the
/// parent cargo's pid and start time); the others wait for the lock and reuse the build.
/// Run by hand (not under cargo), every process builds, as a stale binary would be worse.
pub fn build_binaries(profile_dir: &Path) {
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(profile_dir.join(".dbrev-tests-build.lock"))
        .expect("open the build lock");
    lock.lock().expect("take the build lock");
    let stamp = profile_dir.join(".dbrev-tests-built-for");
    let run = cargo_run();
    if run.is_some() && std::fs::read_to_string(&stamp).ok() == run {
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet"])
        .args([
            "-p",
            "cargo-dbinit",
            "-p",
            "cargo-dbrev",
            "-p",
            "cargo-dbexport",
        ])
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
    if let Some(run) = run {
        std::fs::write(&stamp, run).expect("record the build");
    }
}

/// The cargo (or cargo-nextest) process running this test process, as `pid start-time`
/// (Linux `/proc`); `None` when the parent is something else or cannot be read.
fn cargo_run() -> Option<String> {
    let parent = std::os::unix::process::parent_id();
    let comm = std::fs::read_to_string(format!("/proc/{parent}/comm")).ok()?;
    if !comm.trim().starts_with("cargo") {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{parent}/stat")).ok()?;
    // Field 22 (start time); fields after the `(comm)` one start at field 3.
    let started = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{parent} {started}"))
}

/// Whether we run under CI, where an unreachable backend fails instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Why a test did not run: its backend's server does not answer (off CI). Tests run by
/// [`main!`] show it as `ignored, <reason>`.
#[derive(Debug, Clone)]
pub struct Skipped(pub String);

/// What a test that may be skipped returns (`?` on [`TestDb::create`]).
pub type Skippable = Result<(), Skipped>;

/// The admin URL of a server backend: `DBREV_TEST_POSTGRES_URL` / `DBREV_TEST_MYSQL_URL`,
/// else the local servers' usual address. `None` (skip) when it does not answer, off CI.
pub fn server_url(backend: Backend) -> Option<String> {
    match reachable_server(backend) {
        Ok(url) => Some(url),
        Err(Skipped(reason)) => {
            eprintln!("skipping {backend} tests: {reason}");
            None
        }
    }
}

/// [`server_url`], with the reason when the server does not answer (off CI; under
/// `CI=true` an unreachable server panics, failing the test).
pub fn reachable_server(backend: Backend) -> Result<String, Skipped> {
    let (var, default) = match backend {
        Backend::Sqlite => return Ok(String::new()),
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
    type Known = Vec<(Backend, Result<(), String>)>;
    static REACHABLE: OnceLock<std::sync::Mutex<Known>> = OnceLock::new();
    let cache = REACHABLE.get_or_init(Default::default);
    let mut known = cache.lock().unwrap_or_else(|e| e.into_inner());
    let reachable = match known.iter().find(|(b, _)| *b == backend) {
        Some((_, r)) => r.clone(),
        None => {
            let parsed = DatabaseUrl::parse(&url, Path::new("/")).expect("test server URL");
            let result = Connection::establish(&parsed).map(drop).map_err(|e| {
                if in_ci() {
                    panic!("{backend} test server unreachable under CI=true ({var}): {e}");
                }
                format!(
                    "the {backend} server does not answer: {e} (set {var}, or start the server: see DEVELOPERS.md)"
                )
            });
            known.push((backend, result.clone()));
            result
        }
    };
    reachable.map(|()| url).map_err(Skipped)
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
    /// Makes a fresh database, or `None` (with a message) when the backend's server does
    /// not answer (off CI).
    pub fn new(backend: Backend) -> Option<TestDb> {
        server_url(backend)?;
        TestDb::create(backend).ok()
    }

    /// Makes a fresh database, or says why the test cannot run (the backend's server does
    /// not answer, off CI).
    pub fn create(backend: Backend) -> Result<TestDb, Skipped> {
        let base = reachable_server(backend)?;
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
            return Ok(TestDb {
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
        Ok(TestDb {
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
///
/// In a test file run by [`main!`] (`harness = false` in `tests/Cargo.toml`), the three
/// are listed by `main!` and a backend whose server does not answer shows as
/// `ignored, <reason>`; in a file on libtest's own harness they are `#[test]`s that pass
/// without running when the server does not answer. Under `CI=true` an unreachable
/// server fails the test either way.
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

            /// The three tests, for [`main!`](dbrev_tests::main) (unused in a file on
            /// libtest's harness, where the `#[test]`s above run).
            #[allow(dead_code)]
            pub(super) fn trials() -> Vec<$crate::Trial> {
                $crate::backend_trials(stringify!($name), body)
            }
        }
    };
}

pub use libtest_mimic::Trial;

/// The `main` of a test file with `harness = false`: runs the listed [`backend_test!`]s
/// (each on every backend) and plain test functions (returning `()`, or [`Skippable`] to
/// be shown as ignored with a reason), with libtest's command line and output.
///
/// ```text
/// dbrev_tests::main! {
///     backend: [upgrade_and_downgrade, autogenerate_round_trip],
///     plain: [help_lists_commands, postgres_tls_require],
/// }
/// ```
///
/// A plain test that is written but not listed is dead code, which clippy (`-D warnings`)
/// refuses; `tests/tests/harness.rs` refuses a `backend_test!` left out of the list and a
/// `#[test]` attribute in such a file (it would be silently compiled out).
#[macro_export]
macro_rules! main {
    (backend: [$($backend:ident),* $(,)?], plain: [$($plain:ident),* $(,)?] $(,)?) => {
        fn main() {
            let mut trials: Vec<$crate::Trial> = Vec::new();
            $(trials.extend($backend::trials());)*
            $(trials.push($crate::plain_trial(stringify!($plain), $plain));)*
            $crate::run_trials(trials)
        }
    };
}

/// The three trials of a [`backend_test!`]: `name::sqlite`, `name::postgres`, `name::mysql`.
pub fn backend_trials(name: &str, body: fn(TestDb)) -> Vec<Trial> {
    [
        (Backend::Sqlite, "sqlite"),
        (Backend::Postgres, "postgres"),
        (Backend::Mysql, "mysql"),
    ]
    .into_iter()
    .map(|(backend, suffix)| {
        Trial::ignorable_test(format!("{name}::{suffix}"), move || {
            match TestDb::create(backend) {
                Ok(db) => {
                    body(db);
                    Ok(libtest_mimic::Completion::Completed)
                }
                Err(Skipped(reason)) => Ok(libtest_mimic::Completion::ignored_with(reason)),
            }
        })
    })
    .collect()
}

/// What a plain test function returns: nothing, or whether it was skipped.
pub trait TestResult {
    /// Ran, or was skipped with a reason.
    fn completion(self) -> libtest_mimic::Completion;
}

impl TestResult for () {
    fn completion(self) -> libtest_mimic::Completion {
        libtest_mimic::Completion::Completed
    }
}

impl TestResult for Skippable {
    fn completion(self) -> libtest_mimic::Completion {
        match self {
            Ok(()) => libtest_mimic::Completion::Completed,
            Err(Skipped(reason)) => libtest_mimic::Completion::ignored_with(reason),
        }
    }
}

/// One plain test function as a trial.
pub fn plain_trial<R: TestResult + 'static>(name: &str, test: fn() -> R) -> Trial {
    Trial::ignorable_test(name, move || Ok(test().completion()))
}

/// Runs the trials with libtest's arguments and exits with its code.
pub fn run_trials(trials: Vec<Trial>) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    libtest_mimic::run(&args, trials).exit()
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
