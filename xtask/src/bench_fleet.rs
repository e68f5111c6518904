//! `cargo xtask bench fleet`: `upgrade --fleet` of 100 SQLite and 100 PostgreSQL tenant
//! databases × 50 trivial revisions, `--jobs 8` against one after the other (`--jobs 1`),
//! for each fleet alone and for the two together (target: at least 4x faster on a 2-core
//! machine). Both sides start from the same empty tenants, in alternating rounds.
//!
//! Beside it, what the machine itself allows: the same SQL (each revision in a transaction
//! with its version row) through the native client — `sqlite3` or `psql`, one process per
//! tenant — one after the other and eight at once. Where the client and the server share
//! the machine's cores, that ratio is the ceiling no migration tool can pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use crate::DynResult;
use crate::bench::measure::{self, Run, Sample, Side};
use crate::bench::{Bench, Report, Row, Target};

const TENANTS: usize = 100;
const REVISIONS: usize = 50;
const JOBS: usize = 8;

/// Measures the fleets and adds their rows to `report`.
pub fn run(bench: &Bench, report: &mut Report) -> DynResult {
    let server = bench
        .server(dbkit::Backend::Postgres)
        .ok_or("no PostgreSQL server configured")?;
    let project = FleetProject::new(&bench.bin_dir)?;
    let sqlite = SqliteFleet::new(project.dir.path());
    let postgres = PostgresFleet::new(&server)?;
    let result = (|| {
        let alone: [&dyn Fleet; 2] = [&sqlite, &postgres];
        for fleet in alone {
            project.compare(bench, report, fleet.name(), &[fleet])?;
        }
        project.compare(bench, report, "sqlite + postgres", &alone)?;
        for fleet in alone {
            project.ceiling(bench, report, fleet)?;
        }
        Ok(())
    })();
    postgres.drop_all()?;
    result
}

/// A set of tenant databases that can be made empty again.
trait Fleet {
    /// `sqlite`, `postgres`.
    fn name(&self) -> &'static str;
    /// The tenants' URLs.
    fn urls(&self) -> Vec<String>;
    /// Makes every tenant empty (no tables, no version table).
    fn reset(&self) -> DynResult;
    /// The native client applying `script` to tenant `index`.
    fn native(&self, index: usize, script: &Path) -> Command;
}

/// A project with [`REVISIONS`] trivial revisions whose `[fleet]` reads `tenants.txt`.
struct FleetProject {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
}

impl FleetProject {
    fn new(bin_dir: &Path) -> Result<FleetProject, Box<dyn std::error::Error>> {
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
        let project = FleetProject {
            dir,
            bin_dir: bin_dir.to_path_buf(),
        };
        Run::new(bin_dir.join("cargo-dbinit"), &["dbinit", "-q"], &root).time()?;
        let config = std::fs::read_to_string(root.join("dbrev.toml"))?;
        std::fs::write(
            root.join("dbrev.toml"),
            format!("{config}\n[fleet]\nurls_from = \"tenants.txt\"\n"),
        )?;
        crate::bench::write_history(&root.join("versioning/versions"), REVISIONS)?;
        Ok(project)
    }

    /// `upgrade --fleet` with `--jobs 8` against `--jobs 1`, each on emptied tenants.
    fn compare(
        &self,
        bench: &Bench,
        report: &mut Report,
        name: &str,
        fleets: &[&dyn Fleet],
    ) -> DynResult {
        let urls: Vec<String> = fleets.iter().flat_map(|f| f.urls()).collect();
        std::fs::write(self.dir.path().join("tenants.txt"), urls.join("\n"))?;
        let comparison = measure::compare(
            bench.rounds,
            self.upgrade(fleets, JOBS),
            vec![self.upgrade(fleets, 1)],
        )?;
        let (low, high) = comparison.ratio_range(0);
        let ratio = comparison.ratio(0);
        report.add(Row {
            workload: format!(
                "fleet: {} tenants × {REVISIONS} revisions, `--jobs {JOBS}`",
                urls.len()
            ),
            backend: name.to_owned(),
            ours: Some(comparison.ours_summary()),
            reference: Some(("`--jobs 1`".to_owned(), comparison.theirs_summary(0))),
            ratio: Some(ratio),
            target: Target::Ratio(0.25),
            note: format!(
                "{:.1}× faster (pairs {:.1}–{:.1}×)",
                1.0 / ratio,
                1.0 / high,
                1.0 / low
            ),
        });
        Ok(())
    }

    /// One side of [`FleetProject::compare`]: the fleets emptied (untimed), then
    /// `upgrade --fleet --jobs JOBS` timed.
    fn upgrade<'a>(&'a self, fleets: &'a [&'a dyn Fleet], jobs: usize) -> Side<'a> {
        Box::new(move || {
            for fleet in fleets {
                fleet.reset()?;
            }
            let jobs = jobs.to_string();
            let args = ["dbrev", "upgrade", "--fleet", "--jobs", &jobs, "-q"];
            Run::new(self.bin_dir.join("cargo-dbrev"), &args, self.dir.path()).time()
        })
    }

    /// The same SQL through the native client, eight tenants at once against one after
    /// the other: what the machine allows.
    fn ceiling(&self, bench: &Bench, report: &mut Report, fleet: &dyn Fleet) -> DynResult {
        let script = self.dir.path().join(format!("native-{}.sql", fleet.name()));
        std::fs::write(&script, native_script()?)?;
        let apply = |jobs: usize| -> Side<'_> {
            let script = script.clone();
            Box::new(move || {
                fleet.reset()?;
                run_native(fleet, &script, jobs)
            })
        };
        let comparison = measure::compare(bench.rounds, apply(JOBS), vec![apply(1)])?;
        let ratio = comparison.ratio(0);
        let client = match fleet.name() {
            "sqlite" => "sqlite3",
            _ => "psql",
        };
        report.add(Row {
            workload: format!(
                "fleet ceiling: the same SQL through `{client}`, {JOBS} tenants at once"
            ),
            backend: fleet.name().to_owned(),
            ours: Some(comparison.ours_summary()),
            reference: Some((
                "one after the other".to_owned(),
                comparison.theirs_summary(0),
            )),
            ratio: Some(ratio),
            target: Target::None,
            note: format!("{:.1}× faster: what this machine allows", 1.0 / ratio),
        });
        Ok(())
    }
}

/// Each revision's `up.sql` in a transaction with its version row, as diesel_cli runs it.
fn native_script() -> Result<String, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    crate::bench::write_history(dir.path(), REVISIONS)?;
    let mut revisions: Vec<PathBuf> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    revisions.sort();
    let mut script = String::from(
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\n",
    );
    for revision in revisions {
        let up = std::fs::read_to_string(revision.join("up.sql"))?;
        let name = revision.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let version = name.split('_').next().unwrap_or(name);
        script.push_str(&format!(
            "BEGIN;\n{up}INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}');\nCOMMIT;\n"
        ));
    }
    Ok(script)
}

/// Every tenant of `fleet` through its native client, `jobs` processes at a time.
fn run_native(
    fleet: &dyn Fleet,
    script: &Path,
    jobs: usize,
) -> Result<Sample, Box<dyn std::error::Error>> {
    let queue: Vec<Command> = (0..TENANTS).map(|i| fleet.native(i, script)).collect();
    let queue = Mutex::new(queue.into_iter().enumerate());
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut failures = Vec::new();
                    loop {
                        let next = queue.lock().map(|mut q| q.next());
                        let Ok(Some((index, mut command))) = next else {
                            return failures;
                        };
                        let status = command.stdout(Stdio::null()).status();
                        match status {
                            Ok(s) if s.success() => {}
                            other => failures.push(format!("tenant {index}: {other:?}")),
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec!["a worker panicked".into()])
            })
            .collect()
    });
    if let Some(failure) = failures.first() {
        return Err(format!("the native client failed on {failure}").into());
    }
    Ok(Sample {
        secs: started.elapsed().as_secs_f64(),
        ..Sample::default()
    })
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
    fn name(&self) -> &'static str {
        "sqlite"
    }

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

    fn native(&self, index: usize, script: &Path) -> Command {
        let mut command = Command::new("sqlite3");
        command
            .arg("-bail")
            .arg(&self.files[index])
            .arg(format!(".read {}", script.display()));
        command
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
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn urls(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|n| self.admin.with_database(n).expose().to_owned())
            .collect()
    }

    /// Creates the databases the first time, then empties each (a new `public` schema),
    /// and checkpoints, so that every run starts from the same state: connections to
    /// databases used before, no dropped files waiting for the next checkpoint.
    fn reset(&self) -> DynResult {
        if !self.created.replace(true) {
            self.drop_all()?;
            self.each(|db| format!("CREATE DATABASE {db}"))?;
        }
        for name in &self.names {
            let mut conn = dbkit::Connection::establish(&self.admin.with_database(name))?;
            conn.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")?;
        }
        let mut conn = dbkit::Connection::establish(&self.admin)?;
        conn.batch_execute("CHECKPOINT")?;
        Ok(())
    }

    fn native(&self, index: usize, script: &Path) -> Command {
        let mut command = Command::new("psql");
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(script)
            .arg(self.admin.with_database(&self.names[index]).expose());
        command
    }
}
