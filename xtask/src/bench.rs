//! `cargo xtask bench`: the speed targets, measured on release binaries and reported
//! (never asserted): `cargo dbrev current` start-up, 500 trivial revisions up and down,
//! `cargo dbrev test` on the same 500 revisions beside that plain run (the stairway's
//! target: at most about 4x), `cargo dbrev check` on a 300-table schema, `cargo dbrev lint
//! --all` on the 500 revisions, and dump/restore of 1,000,000 mixed rows beside the native
//! tools, on each backend.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use xshell::cmd;

use crate::DynResult;

const REVISIONS: usize = 500;

pub fn run(args: &[String]) -> DynResult {
    let what = args.first().map(String::as_str).unwrap_or("all");
    let sh = crate::workspace_shell()?;
    cmd!(
        sh,
        "cargo build --release --quiet -p cargo-dbinit -p cargo-dbrev -p cargo-dbexport"
    )
    .run()?;
    let bin_dir = sh.current_dir().join("target/release");
    let backends = [
        ("sqlite", None),
        (
            "postgres",
            Some(env_or(
                "DBREV_TEST_POSTGRES_URL",
                "postgres://root@127.0.0.1:5432/test",
            )),
        ),
        (
            "mysql",
            Some(env_or(
                "DBREV_TEST_MYSQL_URL",
                "mysql://root@127.0.0.1:3306/test",
            )),
        ),
    ];
    if matches!(what, "all" | "fleet") {
        crate::bench_fleet::run(&bin_dir)?;
    }
    for (name, server) in &backends {
        let project = Project::new(&bin_dir, name, server.as_deref())?;
        if matches!(what, "all" | "revisions") {
            project.revisions()?;
        }
        if matches!(what, "all" | "test") {
            crate::bench_prove::run(&bin_dir, name, server.as_deref())?;
        }
        if matches!(what, "all" | "current") {
            project.current()?;
        }
        if matches!(what, "all" | "check") {
            project.check()?;
        }
        if matches!(what, "all" | "lint") {
            project.lint()?;
        }
        if matches!(what, "all" | "export") {
            project.export()?;
        }
    }
    Ok(())
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

struct Project {
    backend: String,
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    url: String,
    admin: Option<(String, String)>,
}

impl Project {
    fn new(
        bin_dir: &Path,
        backend: &str,
        server: Option<&str>,
    ) -> Result<Project, Box<dyn std::error::Error>> {
        let dir = tempfile::Builder::new().prefix("dbrev-bench-").tempdir()?;
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )?;
        std::fs::create_dir_all(dir.path().join("src"))?;
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n")?;
        let name = format!("dbrev_bench_{}", std::process::id());
        let (url, admin) = match server {
            None => (
                format!("sqlite://{}", dir.path().join("bench.db").display()),
                None,
            ),
            Some(server) => {
                let admin = dbkit::DatabaseUrl::parse(server, Path::new("/"))?;
                let mut conn = dbkit::Connection::establish(&admin)?;
                let quoted = conn.dialect().quote_ident(&name);
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))?;
                conn.batch_execute(&format!("CREATE DATABASE {quoted}"))?;
                (
                    admin.with_database(&name).expose().to_owned(),
                    Some((server.to_owned(), name)),
                )
            }
        };
        let project = Project {
            backend: backend.to_owned(),
            dir,
            bin_dir: bin_dir.to_path_buf(),
            url,
            admin,
        };
        project.tool("dbinit", &["-q"])?;
        std::fs::write(
            project.dir.path().join(".env"),
            format!("DATABASE_URL={}\n", project.url),
        )?;
        let versions = project.dir.path().join("versioning/versions");
        for i in 0..REVISIONS {
            let id = format!("{:014}", i + 1);
            let parent = if i == 0 {
                String::new()
            } else {
                format!("{i:014}")
            };
            let rev = versions.join(format!("{id}_step"));
            std::fs::create_dir_all(&rev)?;
            std::fs::write(
                rev.join("up.sql"),
                format!(
                    "-- step\n-- Revision ID: {id}\n-- Revises: {parent}\n\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY);\n"
                ),
            )?;
            std::fs::write(rev.join("down.sql"), format!("DROP TABLE t{i};\n"))?;
        }
        Ok(project)
    }

    fn tool(&self, tool: &str, args: &[&str]) -> Result<Duration, Box<dyn std::error::Error>> {
        let started = Instant::now();
        let status = std::process::Command::new(self.bin_dir.join(format!("cargo-{tool}")))
            .arg(tool)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .status()?;
        if !status.success() {
            return Err(format!("cargo {tool} {args:?} failed on {}", self.backend).into());
        }
        Ok(started.elapsed())
    }

    fn revisions(&self) -> DynResult {
        let up = self.tool("dbrev", &["upgrade", "head", "-q"])?;
        let down = self.tool("dbrev", &["downgrade", "base", "-q"])?;
        println!(
            "{:<9} {REVISIONS} revisions: upgrade {:.2} s ({:.2} ms/rev), downgrade {:.2} s ({:.2} ms/rev)",
            self.backend,
            up.as_secs_f64(),
            up.as_secs_f64() * 1000.0 / REVISIONS as f64,
            down.as_secs_f64(),
            down.as_secs_f64() * 1000.0 / REVISIONS as f64,
        );
        Ok(())
    }

    /// `lint --all` on the 500 revisions: the whole command (best of five, findings to
    /// /dev/null), and what it found (in-process through the library).
    fn lint(&self) -> DynResult {
        let env = dbkit::Environment::load(&dbkit::ConfigRequest {
            config_file: Some(self.dir.path().join("dbrev.toml")),
            ..Default::default()
        })?;
        let revisions: Vec<&dbkit::script::Revision> = env.graph.revisions().iter().collect();
        let settings = dbkit::lint::LintSettings::load(&env.config)?;
        let report = dbkit::lint::lint_revisions(&env, &revisions, &settings, None)?;
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let status = std::process::Command::new(self.bin_dir.join("cargo-dbrev"))
                .args(["dbrev", "lint", "--all", "-q"])
                .current_dir(self.dir.path())
                .env_remove("DATABASE_URL")
                .stdout(std::process::Stdio::null())
                .status()?;
            best = best.min(started.elapsed());
            if status.code() != Some(0) && status.code() != Some(1) {
                return Err(format!("cargo dbrev lint failed on {}", self.backend).into());
            }
        }
        println!(
            "{:<9} `lint --all` on {REVISIONS} revisions: {:.0} ms for the whole command ({} findings)",
            self.backend,
            best.as_secs_f64() * 1000.0,
            report.findings.len(),
        );
        Ok(())
    }

    /// 300 tables of 12 columns, each with a foreign key to the one before.
    fn check(&self) -> DynResult {
        const TABLES: usize = 300;
        let url = dbkit::DatabaseUrl::parse(&self.url, Path::new("/"))?;
        let mut conn = dbkit::Connection::establish(&url)?;
        let backend = url.backend();
        let q = |n: &str| conn.dialect().quote_ident(n);
        let mut ddl = Vec::new();
        let mut model = String::new();
        for i in 0..TABLES {
            let name = format!("bench_{i:03}");
            let mut columns = vec![format!("{} INTEGER NOT NULL PRIMARY KEY", q("id"))];
            let mut rust = vec!["        id -> Integer,".to_owned()];
            for c in 0..10 {
                let (sql, diesel) = match c % 5 {
                    0 => ("INTEGER", "Integer"),
                    1 => ("VARCHAR(40)", "Varchar"),
                    2 => ("BIGINT", "BigInt"),
                    3 => ("TEXT", "Text"),
                    _ => ("DATE", "Date"),
                };
                let nullable = c % 2 == 0;
                columns.push(format!(
                    "{} {sql}{}",
                    q(&format!("c{c}")),
                    if nullable { "" } else { " NOT NULL" }
                ));
                let length = if sql.starts_with("VARCHAR") && backend != dbkit::Backend::Sqlite {
                    "        #[max_length = 40]\n"
                } else {
                    ""
                };
                let ty = if backend == dbkit::Backend::Sqlite && diesel == "Varchar" {
                    "Text"
                } else {
                    diesel
                };
                rust.push(format!(
                    "{length}        c{c} -> {},",
                    if nullable {
                        format!("Nullable<{ty}>")
                    } else {
                        ty.to_owned()
                    }
                ));
            }
            columns.push(format!("{} INTEGER", q("parent_id")));
            rust.push("        parent_id -> Nullable<Integer>,".to_owned());
            if i > 0 {
                columns.push(format!(
                    "FOREIGN KEY ({}) REFERENCES {} ({})",
                    q("parent_id"),
                    q(&format!("bench_{:03}", i - 1)),
                    q("id")
                ));
                model.push_str(&format!(
                    "diesel::joinable!({name} -> bench_{:03} (parent_id));\n",
                    i - 1
                ));
            }
            ddl.push(format!(
                "CREATE TABLE {} ({})",
                q(&name),
                columns.join(", ")
            ));
            model.push_str(&format!(
                "diesel::table! {{\n    {name} (id) {{\n{}\n    }}\n}}\n",
                rust.join("\n")
            ));
        }
        for statement in &ddl {
            conn.batch_execute(statement)?;
        }
        std::fs::write(self.dir.path().join("src/schema.rs"), model)?;
        // In-process through the library: time and catalog queries.
        let env = dbkit::Environment::load(&dbkit::ConfigRequest {
            config_file: Some(self.dir.path().join("dbrev.toml")),
            ..Default::default()
        })?;
        let started = Instant::now();
        let comparison = env.compare(&mut conn, &Default::default())?;
        let in_process = started.elapsed();
        if !comparison.is_clean() {
            return Err(format!(
                "{}: the bench model differs: {:?}",
                self.backend,
                comparison.changes.first()
            )
            .into());
        }
        let cli = (0..5)
            .map(|_| self.tool("dbrev", &["check", "-q"]))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min()
            .unwrap_or_default();
        println!(
            "{:<9} `check` on {TABLES} tables x 12 columns: {:.0} ms in-process ({} catalog queries), {:.0} ms for the whole command",
            self.backend,
            in_process.as_secs_f64() * 1000.0,
            comparison.catalog_queries,
            cli.as_secs_f64() * 1000.0
        );
        Ok(())
    }

    /// 1,000,000 mixed rows dumped and restored by dbexport and by the native tools.
    fn export(&self) -> DynResult {
        const ROWS: u32 = 1_000_000;
        let url = dbkit::DatabaseUrl::parse(&self.url, Path::new("/"))?;
        let mut conn = dbkit::Connection::establish(&url)?;
        let fill = match url.backend() {
            dbkit::Backend::Sqlite => format!(
                "CREATE TABLE mixed (id INTEGER PRIMARY KEY, n INTEGER, f REAL, t TEXT, b BLOB, d TEXT); \
                 WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS}) \
                 INSERT INTO mixed SELECT i, i * 7, i / 3.0, 'name ' || i || ' o''brien', randomblob(8), date('2000-01-01', '+' || (i % 9000) || ' days') FROM s"
            ),
            dbkit::Backend::Postgres => format!(
                "CREATE TABLE mixed (id integer PRIMARY KEY, n bigint, f double precision, t text, b bytea, d date); \
                 INSERT INTO mixed SELECT i, i * 7, i / 3.0, 'name ' || i || ' o''brien', decode(md5(i::text), 'hex'), date '2000-01-01' + (i % 9000) FROM generate_series(1, {ROWS}) i"
            ),
            dbkit::Backend::Mysql => format!(
                "CREATE TABLE mixed (id INT PRIMARY KEY, n BIGINT, f DOUBLE, t TEXT, b VARBINARY(16), d DATE); \
                 INSERT INTO mixed SELECT seq, seq * 7, seq / 3.0, CONCAT('name ', seq, ' o''brien'), UNHEX(MD5(seq)), DATE_ADD('2000-01-01', INTERVAL seq % 9000 DAY) FROM seq_1_to_{ROWS}"
            ),
        };
        conn.batch_execute(&fill)?;
        drop(conn);
        let dir = self.dir.path();
        let ours = dir.join("ours.sql");
        let native = dir.join("native.sql");
        let exporter = self.bin_dir.join("cargo-dbexport");
        let dump_ours = measure(Run {
            program: &exporter,
            args: vec![
                "dbexport".into(),
                "-q".into(),
                "-o".into(),
                ours.display().to_string(),
            ],
            stdin: None,
            stdout: None,
            dir,
        })?;
        let ((dumper, dump_args), _) = self.native_commands("");
        let dumper = which(dumper);
        let dump_native = measure(Run {
            program: &dumper,
            args: dump_args,
            stdin: None,
            stdout: Some(&native),
            dir,
        })?;
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        println!(
            "{:<9} dump 1M rows: dbexport {:.2} s, {:.0} MB, peak {} MB RSS | native {:.2} s, {:.0} MB, peak {} MB RSS",
            self.backend,
            dump_ours.0,
            size(&ours) as f64 / 1e6,
            dump_ours.1 / 1024,
            dump_native.0,
            size(&native) as f64 / 1e6,
            dump_native.1 / 1024
        );
        // Restore both into fresh databases.
        let restore_ours = self.with_fresh_database(|url| {
            measure(Run {
                program: &exporter,
                args: [
                    "dbexport",
                    "-q",
                    "restore",
                    &ours.display().to_string(),
                    "--database-url",
                    url,
                ]
                .map(String::from)
                .to_vec(),
                stdin: None,
                stdout: None,
                dir,
            })
        })?;
        let restore_native = self.with_fresh_database(|url| {
            let (_, (client, args)) = self.native_commands(url);
            measure(Run {
                program: &which(client),
                args,
                stdin: Some(&native),
                stdout: None,
                dir,
            })
        })?;
        println!(
            "{:<9} restore 1M rows: dbexport {:.2} s, peak {} MB RSS | native client {:.2} s, peak {} MB RSS",
            self.backend,
            restore_ours.0,
            restore_ours.1 / 1024,
            restore_native.0,
            restore_native.1 / 1024
        );
        Ok(())
    }

    /// The native dumper and client of the backend: (program, args) to dump, and the
    /// (program, args) that load a script from stdin into `url`.
    fn native_commands(&self, url: &str) -> (NativeCommand, NativeCommand) {
        let db = |u: &str| u.rsplit('/').next().unwrap_or_default().to_owned();
        match self.backend.as_str() {
            "sqlite" => (
                (
                    "sqlite3",
                    vec![
                        self.url.trim_start_matches("sqlite://").to_owned(),
                        ".dump".into(),
                    ],
                ),
                (
                    "sqlite3",
                    vec![url.trim_start_matches("sqlite://").to_owned()],
                ),
            ),
            "postgres" => (
                ("pg_dump", vec![self.url.clone()]),
                (
                    "psql",
                    vec![
                        "-q".into(),
                        "-v".into(),
                        "ON_ERROR_STOP=1".into(),
                        url.to_owned(),
                    ],
                ),
            ),
            _ => (
                (
                    "mariadb-dump",
                    ["-h", "127.0.0.1", "-u", "root", &db(&self.url)]
                        .map(String::from)
                        .to_vec(),
                ),
                (
                    "mariadb",
                    ["-h", "127.0.0.1", "-u", "root", &db(url)]
                        .map(String::from)
                        .to_vec(),
                ),
            ),
        }
    }

    /// Runs `f` with the URL of a new empty database of the same backend, then drops it.
    fn with_fresh_database<T>(
        &self,
        f: impl FnOnce(&str) -> Result<T, Box<dyn std::error::Error>>,
    ) -> Result<T, Box<dyn std::error::Error>> {
        match &self.admin {
            None => {
                let path = self
                    .dir
                    .path()
                    .join(format!("fresh-{}.db", std::process::id()));
                let _ = std::fs::remove_file(&path);
                let result = f(&format!("sqlite://{}", path.display()));
                let _ = std::fs::remove_file(&path);
                result
            }
            Some((server, name)) => {
                let admin = dbkit::DatabaseUrl::parse(server, Path::new("/"))?;
                let mut conn = dbkit::Connection::establish(&admin)?;
                let fresh = format!("{name}_fresh");
                let quoted = conn.dialect().quote_ident(&fresh);
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))?;
                conn.batch_execute(&format!("CREATE DATABASE {quoted}"))?;
                let result = f(admin.with_database(&fresh).expose());
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))?;
                result
            }
        }
    }

    fn current(&self) -> DynResult {
        let runs = 20;
        self.tool("dbrev", &["current", "-q"])?;
        let mut best = Duration::MAX;
        let mut total = Duration::ZERO;
        for _ in 0..runs {
            let t = self.tool("dbrev", &["current", "-q"])?;
            best = best.min(t);
            total += t;
        }
        println!(
            "{:<9} `cargo dbrev current` ({REVISIONS} revisions): best {:.1} ms, mean {:.1} ms",
            self.backend,
            best.as_secs_f64() * 1000.0,
            total.as_secs_f64() * 1000.0 / runs as f64
        );
        Ok(())
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.admin
            && let Ok(admin) = dbkit::DatabaseUrl::parse(server, Path::new("/"))
            && let Ok(mut conn) = dbkit::Connection::establish(&admin)
        {
            let quoted = conn.dialect().quote_ident(name);
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"));
        }
    }
}

/// A native tool and its arguments.
type NativeCommand = (&'static str, Vec<String>);

/// A command to measure: program, arguments, optional stdin/stdout files, directory.
struct Run<'a> {
    program: &'a Path,
    args: Vec<String>,
    stdin: Option<&'a Path>,
    stdout: Option<&'a Path>,
    dir: &'a Path,
}

/// Runs a command under `/usr/bin/time`; returns (seconds, peak RSS in KB).
fn measure(run: Run<'_>) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    let report = tempfile::NamedTempFile::new()?;
    let mut command = std::process::Command::new("/usr/bin/time");
    command
        .args(["-f", "%e %M", "-o"])
        .arg(report.path())
        .arg(run.program)
        .args(&run.args)
        .current_dir(run.dir);
    if let Some(input) = run.stdin {
        command.stdin(std::fs::File::open(input)?);
    }
    match run.stdout {
        Some(output) => command.stdout(std::fs::File::create(output)?),
        None => command.stdout(std::process::Stdio::null()),
    };
    let status = command.status()?;
    if !status.success() {
        return Err(format!("{} {:?} failed", run.program.display(), run.args).into());
    }
    let text = std::fs::read_to_string(report.path())?;
    let mut fields = text.split_whitespace();
    let seconds = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0.0);
    let rss = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
    Ok((seconds, rss))
}

/// The full path of a program on PATH (for `/usr/bin/time`, which does not search it).
fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from(program))
}
