//! `cargo xtask bench`: the speed targets, measured on release binaries and reported
//! (never asserted): `cargo dbrev current` start-up, and 500 trivial revisions up and down
//! on each backend.

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
        "cargo build --release --quiet -p cargo-dbinit -p cargo-dbrev"
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
    for (name, server) in &backends {
        let project = Project::new(&bin_dir, name, server.as_deref())?;
        if matches!(what, "all" | "revisions") {
            project.revisions()?;
        }
        if matches!(what, "all" | "current") {
            project.current()?;
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
