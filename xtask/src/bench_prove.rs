//! `cargo xtask bench test`: `cargo dbrev test` on 500 trivial revisions (each creates a
//! table, its down.sql drops it) beside a plain `upgrade head` + `downgrade base` of the
//! same history, on one backend (the target: at most about 4x), with how the stairway
//! read the catalog. Also what one catalog read costs at the head (500 tables): the full
//! snapshot, the fingerprint of every object, and the fingerprint within one revision's
//! words that the stairway compares, each with its number of queries.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::DynResult;

const REVISIONS: usize = 500;

/// Measures `cargo dbrev test` against the plain run on `backend` (`server`: the server's
/// URL, none for SQLite), with the release binaries in `bin_dir`, and prints the figures.
pub fn run(bin_dir: &Path, backend: &str, server: Option<&str>) -> DynResult {
    let bench = History::new(bin_dir, backend, server)?;
    let plain = |bench: &History| -> Result<Duration, Box<dyn std::error::Error>> {
        Ok(bench.tool(&["upgrade", "head", "-q"])? + bench.tool(&["downgrade", "base", "-q"])?)
    };
    // The plain run twice, around the test run, so that a machine under load weighs on
    // both sides alike.
    let first = plain(&bench)?;
    let (test, reads) = bench.test()?;
    let second = plain(&bench)?;
    let plain = (first + second) / 2;
    println!(
        "{backend:<9} `test` on {REVISIONS} revisions: {:.2} s, {:.1}x a plain base -> head -> base ({:.2} s and {:.2} s); {reads}",
        test.as_secs_f64(),
        test.as_secs_f64() / plain.as_secs_f64(),
        first.as_secs_f64(),
        second.as_secs_f64(),
    );
    bench.tool(&["upgrade", "head", "-q"])?;
    bench.catalog_reads(backend)
}

/// A throw-away cargo project holding the bench history, and its database.
struct History {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    url: String,
    /// The server's URL and the database made on it, dropped at the end.
    created: Option<(String, String)>,
}

impl History {
    fn new(
        bin_dir: &Path,
        backend: &str,
        server: Option<&str>,
    ) -> Result<History, Box<dyn std::error::Error>> {
        let dir = tempfile::Builder::new()
            .prefix("dbrev-bench-prove-")
            .tempdir()?;
        let root = dir.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )?;
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n")?;
        let (url, created) = match server {
            None => (
                format!("sqlite://{}", root.join("bench.db").display()),
                None,
            ),
            Some(server) => {
                let name = format!("dbrev_bench_prove_{}", std::process::id());
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
        let history = History {
            dir,
            bin_dir: bin_dir.to_path_buf(),
            url,
            created,
        };
        history.write(backend)?;
        Ok(history)
    }

    /// `cargo dbinit`, the 500 revisions and the model at their head.
    fn write(&self, backend: &str) -> DynResult {
        let root = self.dir.path();
        let status = std::process::Command::new(self.bin_dir.join("cargo-dbinit"))
            .args(["dbinit", "-q"])
            .current_dir(root)
            .env_remove("DATABASE_URL")
            .status()?;
        if !status.success() {
            return Err(format!("cargo dbinit failed on {backend}").into());
        }
        std::fs::write(root.join(".env"), format!("DATABASE_URL={}\n", self.url))?;
        let versions = root.join("versioning/versions");
        let mut model = String::new();
        crate::bench::write_history(&versions, REVISIONS)?;
        for i in 0..REVISIONS {
            model.push_str(&format!(
                "diesel::table! {{\n    t{i} (id) {{\n        id -> Integer,\n    }}\n}}\n"
            ));
        }
        std::fs::write(root.join("src/schema.rs"), model)?;
        Ok(())
    }

    /// Runs `cargo dbrev ARGS` in the project; how long it took.
    fn tool(&self, args: &[&str]) -> Result<Duration, Box<dyn std::error::Error>> {
        let started = Instant::now();
        let status = std::process::Command::new(self.bin_dir.join("cargo-dbrev"))
            .arg("dbrev")
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .status()?;
        if !status.success() {
            return Err(format!("cargo dbrev {args:?} failed").into());
        }
        Ok(started.elapsed())
    }

    /// `cargo dbrev test -v`: how long it took, and its line on how it read the catalog.
    fn test(&self) -> Result<(Duration, String), Box<dyn std::error::Error>> {
        let started = Instant::now();
        let out = std::process::Command::new(self.bin_dir.join("cargo-dbrev"))
            .args(["dbrev", "test", "-v"])
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .output()?;
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("cargo dbrev test failed: {stderr}").into());
        }
        let reads = stderr
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("stairway: ")
                    .filter(|l| l.contains("fingerprint"))
            })
            .unwrap_or("no catalog reads reported")
            .to_owned();
        Ok((elapsed, reads))
    }

    /// One read of the catalog at the head (500 tables) each way, best of five, in-process
    /// through the library: the full snapshot on a new session (nothing prepared or
    /// cached, as the stairway's first), the fingerprint of every object and the one
    /// within the words of a revision on a session that read one before (as the stairway's
    /// thousand).
    fn catalog_reads(&self, backend: &str) -> DynResult {
        let url = dbkit::DatabaseUrl::parse(&self.url, Path::new("/"))?;
        let mut conn = dbkit::Connection::establish(&url)?;
        let scope = dbkit::snapshot::Scope::of([
            "CREATE TABLE t250 (id INTEGER PRIMARY KEY);",
            "DROP TABLE t250;",
        ]);
        let mut warm = dbkit::snapshot::SnapshotReader::new(&conn)?;
        warm.fingerprint(&mut conn)?;
        warm.fingerprint_within(&mut conn, &scope)?;
        let mut best = [(Duration::MAX, 0); 3];
        let mut objects = 0;
        for _ in 0..5 {
            let mut fresh = dbkit::snapshot::SnapshotReader::new(&conn)?;
            for (i, slot) in best.iter_mut().enumerate() {
                let started = Instant::now();
                let queries = match i {
                    0 => {
                        let snapshot = fresh.read(&mut conn)?;
                        objects = snapshot.objects.len();
                        snapshot.queries
                    }
                    1 => warm.fingerprint(&mut conn)?.queries,
                    _ => warm.fingerprint_within(&mut conn, &scope)?.queries,
                };
                *slot = (slot.0.min(started.elapsed()), queries);
            }
        }
        let [full, every, within] =
            best.map(|(t, q)| format!("{:.1} ms ({q} queries)", t.as_secs_f64() * 1000.0));
        println!(
            "{backend:<9} catalog at {REVISIONS} tables ({objects} objects): snapshot {full}, fingerprint {every}, within one revision's words {within}",
        );
        Ok(())
    }
}

impl Drop for History {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.created
            && let Ok(admin) = dbkit::DatabaseUrl::parse(server, Path::new("/"))
            && let Ok(mut conn) = dbkit::Connection::establish(&admin)
        {
            let quoted = conn.dialect().quote_ident(name);
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"));
        }
    }
}
