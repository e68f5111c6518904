//! Throw-away cargo projects set up with `cargo dbinit`, each with a database of its own
//! (a SQLite file in the project, or `dbrev_bench_<pid>_<tag>` on the server) that goes
//! when the project does.

use std::path::{Path, PathBuf};

use super::Bench;
use super::measure::Run;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Whether a server answers.
pub fn reachable(server: &str) -> std::result::Result<(), String> {
    let url = dbkit::DatabaseUrl::parse(server, Path::new("/")).map_err(|e| e.to_string())?;
    dbkit::Connection::establish(&url)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A database of its own, dropped (or its file removed) on drop.
pub struct Database {
    /// Its backend.
    pub backend: dbkit::Backend,
    /// Its URL (no password in the bench's defaults).
    pub url: String,
    /// The server's URL and the database's name; `None` for SQLite.
    server: Option<(String, String)>,
    /// SQLite's file.
    file: Option<PathBuf>,
}

impl Database {
    /// Creates an empty database named after `tag` (SQLite: a file in `dir`).
    pub fn create(
        bench: &Bench,
        backend: dbkit::Backend,
        dir: &Path,
        tag: &str,
    ) -> Result<Database> {
        let db = match bench.server(backend) {
            None => {
                let file = dir.join(format!("{tag}.db"));
                Database {
                    backend,
                    url: format!("sqlite://{}", file.display()),
                    server: None,
                    file: Some(file),
                }
            }
            Some(server) => {
                let name = format!("dbrev_bench_{}_{tag}", std::process::id());
                let admin = dbkit::DatabaseUrl::parse(&server, Path::new("/"))?;
                Database {
                    backend,
                    url: admin.with_database(&name).expose().to_owned(),
                    server: Some((server, name)),
                    file: None,
                }
            }
        };
        db.recreate()?;
        Ok(db)
    }

    /// Drops and creates the database again, empty.
    pub fn recreate(&self) -> Result<()> {
        match (&self.server, &self.file) {
            (Some((server, name)), _) => {
                let admin = dbkit::DatabaseUrl::parse(server, Path::new("/"))?;
                let mut conn = dbkit::Connection::establish(&admin)?;
                let quoted = conn.dialect().quote_ident(name);
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))?;
                conn.batch_execute(&format!("CREATE DATABASE {quoted}"))?;
            }
            (None, Some(file)) => {
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// A connection through dbkit.
    pub fn connect(&self) -> Result<dbkit::Connection> {
        let url = dbkit::DatabaseUrl::parse(&self.url, Path::new("/"))?;
        Ok(dbkit::Connection::establish(&url)?)
    }

    /// The database's name on the server (SQLite: its file).
    pub fn name(&self) -> String {
        match (&self.server, &self.file) {
            (Some((_, name)), _) => name.clone(),
            (None, Some(file)) => file.display().to_string(),
            (None, None) => String::new(),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.server
            && let Ok(admin) = dbkit::DatabaseUrl::parse(server, Path::new("/"))
            && let Ok(mut conn) = dbkit::Connection::establish(&admin)
        {
            let quoted = conn.dialect().quote_ident(name);
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"));
        }
    }
}

/// A cargo package with `dbrev.toml` (from `cargo dbinit`) and a database of its own.
pub struct Project {
    /// The package's directory (removed on drop).
    pub dir: tempfile::TempDir,
    /// Its database (`DATABASE_URL` in `.env`).
    pub db: Database,
    bin_dir: PathBuf,
}

impl Project {
    /// A new package whose `.env` points at a new database named after `tag`.
    pub fn new(bench: &Bench, backend: dbkit::Backend, tag: &str) -> Result<Project> {
        let dir = tempfile::Builder::new().prefix("dbrev-bench-").tempdir()?;
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )?;
        std::fs::create_dir_all(dir.path().join("src"))?;
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n")?;
        let db = Database::create(bench, backend, dir.path(), tag)?;
        let project = Project {
            dir,
            db,
            bin_dir: bench.bin_dir.clone(),
        };
        project.tool("dbinit", &["-q"]).time()?;
        std::fs::write(
            project.path().join(".env"),
            format!("DATABASE_URL={}\n", project.db.url),
        )?;
        Ok(project)
    }

    /// The package's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `cargo TOOL args…` (the release binary) in the package.
    pub fn tool(&self, tool: &str, args: &[&str]) -> Run {
        let mut all = vec![tool];
        all.extend_from_slice(args);
        Run::new(
            self.bin_dir.join(format!("cargo-{tool}")),
            &all,
            self.path(),
        )
    }

    /// The versions directory.
    pub fn versions(&self) -> PathBuf {
        self.path().join("versioning/versions")
    }

    /// Writes `count` trivial revisions (a table each, dropped by down.sql), in a chain.
    pub fn add_revisions(&self, count: usize) -> Result<()> {
        write_history(&self.versions(), count)
    }

    /// diesel_cli's `migration SUBCOMMAND` on this package's revisions and database.
    pub fn diesel(&self, diesel: &Path, args: &[&str]) -> Run {
        let versions = self.versions().display().to_string();
        // diesel_cli takes SQLite's database as a path.
        let url = match self.db.backend {
            dbkit::Backend::Sqlite => self.db.name(),
            _ => self.db.url.clone(),
        };
        let mut all = vec!["migration"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--migration-dir", &versions, "--database-url", &url]);
        Run::new(diesel, &all, self.path())
    }
}

/// Writes `count` trivial revisions into `versions` (revision `i` creates table `t{i}`,
/// its down.sql drops it), each revising the one before: the bench's histories.
pub fn write_history(versions: &Path, count: usize) -> Result<()> {
    for i in 0..count {
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
                "-- step\n--\n-- Revision ID: {id}\n-- Revises: {parent}\n\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY);\n"
            ),
        )?;
        std::fs::write(rev.join("down.sql"), format!("DROP TABLE t{i};\n"))?;
    }
    Ok(())
}
