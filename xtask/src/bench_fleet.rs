//! `cargo xtask bench fleet`: `upgrade --fleet` of 100 SQLite and 100 PostgreSQL tenant
//! databases × 50 trivial revisions, one after the other (`--jobs 1`) against `--jobs 8`
//! (target: at least 4x faster on a 2-core machine, since the work waits on the server),
//! each on fresh databases, and the two fleets together. Reported, never asserted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::DynResult;

const TENANTS: usize = 100;
const REVISIONS: usize = 50;
const JOBS: usize = 8;

/// Runs the fleet benchmark with the release binaries in `bin_dir`, the PostgreSQL
/// tenants on the server of `DBREV_TEST_POSTGRES_URL` (default: the local one).
pub fn run(bin_dir: &Path) -> DynResult {
    let server = std::env::var("DBREV_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned());
    let bench = Bench::new(bin_dir)?;
    let sqlite = SqliteFleet::new(bench.dir.path());
    let postgres = PostgresFleet::new(&server)?;
    let result = (|| {
        let alone = [
            bench.compare("sqlite", &[&sqlite])?,
            bench.compare("postgres", &[&postgres])?,
        ];
        let both = bench.compare("both", &[&sqlite, &postgres])?;
        println!(
            "fleet     target: --jobs {JOBS} at least 4x faster than --jobs 1 (sqlite {:.1}x, postgres {:.1}x, both {:.1}x)",
            alone[0], alone[1], both
        );
        Ok(())
    })();
    postgres.drop_all()?;
    result
}

/// A set of tenant databases that can be made fresh again.
trait Fleet {
    /// The tenants' URLs.
    fn urls(&self) -> Vec<String>;
    /// Makes every tenant empty (no tables, no version table).
    fn reset(&self) -> DynResult;
}

struct Bench {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
}

impl Bench {
    /// A project with [`REVISIONS`] trivial revisions whose `[fleet]` reads `tenants.txt`.
    fn new(bin_dir: &Path) -> Result<Bench, Box<dyn std::error::Error>> {
        let dir = tempfile::Builder::new()
            .prefix("dbrev-bench-fleet-")
            .tempdir()?;
        let root = dir.path().to_path_buf();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"fleet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )?;
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n")?;
        let bench = Bench {
            dir,
            bin_dir: bin_dir.to_path_buf(),
        };
        bench.dbrev("cargo-dbinit", &["dbinit", "-q"])?;
        let config = std::fs::read_to_string(root.join("dbrev.toml"))?;
        std::fs::write(
            root.join("dbrev.toml"),
            format!("{config}\n[fleet]\nurls_from = \"tenants.txt\"\n"),
        )?;
        crate::bench::write_history(&root.join("versioning/versions"), REVISIONS)?;
        Ok(bench)
    }

    fn dbrev(&self, binary: &str, args: &[&str]) -> Result<Duration, Box<dyn std::error::Error>> {
        let started = Instant::now();
        let status = std::process::Command::new(self.bin_dir.join(binary))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .status()?;
        if !status.success() {
            return Err(format!("{binary} {args:?} failed").into());
        }
        Ok(started.elapsed())
    }

    /// `upgrade --fleet` on fresh tenants with `--jobs 1`, then again with `--jobs 8`;
    /// prints both and returns the speed-up.
    fn compare(
        &self,
        name: &str,
        fleets: &[&dyn Fleet],
    ) -> Result<f64, Box<dyn std::error::Error>> {
        let urls: Vec<String> = fleets.iter().flat_map(|f| f.urls()).collect();
        std::fs::write(self.dir.path().join("tenants.txt"), urls.join("\n"))?;
        let mut times = Vec::new();
        for jobs in [1, JOBS] {
            for fleet in fleets {
                fleet.reset()?;
            }
            let jobs = jobs.to_string();
            let args = ["dbrev", "upgrade", "--fleet", "--jobs", &jobs, "-q"];
            times.push(self.dbrev("cargo-dbrev", &args)?);
        }
        let speedup = times[0].as_secs_f64() / times[1].as_secs_f64();
        println!(
            "{name:<9} fleet of {} × {REVISIONS} revisions: --jobs 1 {:.2} s, --jobs {JOBS} {:.2} s ({:.1} ms per database): {speedup:.1}x",
            urls.len(),
            times[0].as_secs_f64(),
            times[1].as_secs_f64(),
            times[1].as_secs_f64() * 1000.0 / urls.len() as f64,
        );
        Ok(speedup)
    }
}

/// SQLite files in the bench directory (created by the upgrade).
struct SqliteFleet {
    files: Vec<PathBuf>,
}

impl SqliteFleet {
    fn new(dir: &Path) -> SqliteFleet {
        SqliteFleet {
            files: (0..TENANTS)
                .map(|i| dir.join(format!("tenant_{i:03}.db")))
                .collect(),
        }
    }
}

impl Fleet for SqliteFleet {
    fn urls(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| format!("sqlite://{}", f.display()))
            .collect()
    }

    fn reset(&self) -> DynResult {
        for file in &self.files {
            match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }
}

/// PostgreSQL databases `dbrev_fleet_PID_N` on the server, dropped at the end.
struct PostgresFleet {
    admin: dbkit::DatabaseUrl,
    names: Vec<String>,
    created: std::cell::Cell<bool>,
}

impl PostgresFleet {
    fn new(server: &str) -> Result<PostgresFleet, Box<dyn std::error::Error>> {
        let admin = dbkit::DatabaseUrl::parse(server, Path::new("/"))?;
        let names = (0..TENANTS)
            .map(|i| format!("dbrev_fleet_{}_{i:03}", std::process::id()))
            .collect();
        Ok(PostgresFleet {
            admin,
            names,
            created: std::cell::Cell::new(false),
        })
    }

    fn each(&self, sql: impl Fn(&str) -> String) -> DynResult {
        let mut conn = dbkit::Connection::establish(&self.admin)?;
        for name in &self.names {
            let quoted = conn.dialect().quote_ident(name);
            conn.batch_execute(&sql(&quoted))?;
        }
        Ok(())
    }

    fn drop_all(&self) -> DynResult {
        self.each(|db| format!("DROP DATABASE IF EXISTS {db}"))
    }
}

impl Fleet for PostgresFleet {
    fn urls(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|n| self.admin.with_database(n).expose().to_owned())
            .collect()
    }

    /// Creates the databases the first time; afterwards empties each (a new `public`
    /// schema is much quicker than a new database).
    fn reset(&self) -> DynResult {
        if !self.created.replace(true) {
            self.drop_all()?;
            return self.each(|db| format!("CREATE DATABASE {db}"));
        }
        for name in &self.names {
            let mut conn = dbkit::Connection::establish(&self.admin.with_database(name))?;
            conn.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")?;
        }
        Ok(())
    }
}
