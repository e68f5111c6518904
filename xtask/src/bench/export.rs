//! The dump workloads: `cargo dbexport` beside the native dumper and a bare `SELECT *`
//! read; the SQLite dumps loaded by the `sqlite3` shell; `cargo dbexport restore` beside
//! the native client, into a fresh database each time.

use std::path::{Path, PathBuf};

use dbkit::Backend;

use super::measure::{Run, Side, compare, which};
use super::{Bench, Database, Project, Report, Target, dataset};
use crate::DynResult;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A project holding the data set, and the two dumps of it (made when first needed).
struct Data {
    project: Project,
    /// A database to restore into, emptied before each load.
    fresh: Database,
}

impl Data {
    fn get(bench: &Bench, backend: Backend) -> Result<std::rc::Rc<Data>> {
        bench.shared("export", || {
            let project = Project::new(bench, backend, "export")?;
            let mut conn = project.db.connect()?;
            for statement in dataset::statements(backend, bench.rows) {
                conn.batch_execute(&statement)
                    .map_err(|e| format!("building the data set: {e}: {statement}"))?;
            }
            let fresh = Database::create(bench, backend, project.path(), "fresh")?;
            Ok(Data { project, fresh })
        })
    }

    fn ours(&self) -> PathBuf {
        self.project.path().join("ours.sql")
    }

    fn native(&self) -> PathBuf {
        self.project.path().join("native.sql")
    }

    /// `cargo dbexport -o ours.sql`.
    fn dump_ours(&self) -> Run {
        let out = self.ours().display().to_string();
        self.project.tool("dbexport", &["-q", "-o", &out])
    }

    /// The native dumper, writing native.sql.
    fn dump_native(&self) -> Result<Run> {
        let db = &self.project.db;
        let run = match db.backend {
            Backend::Sqlite => Run::new(
                tool("sqlite3")?,
                &[&db.name(), ".dump"],
                self.project.path(),
            ),
            Backend::Postgres => Run::new(tool("pg_dump")?, &[&db.url], self.project.path()),
            Backend::Mysql => {
                let mut args = mysql_args(&db.url);
                args.extend(["--routines".to_owned(), db.name()]);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Run::new(tool("mariadb-dump")?, &args, self.project.path())
            }
        };
        Ok(run.stdout(&self.native()))
    }

    /// A bare `SELECT * FROM mixed` through the native client, rows to /dev/null.
    fn bare_read(&self) -> Result<Run> {
        let db = &self.project.db;
        let select = "SELECT * FROM mixed";
        Ok(match db.backend {
            Backend::Sqlite => {
                Run::new(tool("sqlite3")?, &[&db.name(), select], self.project.path())
            }
            Backend::Postgres => Run::new(
                tool("psql")?,
                &["-X", "-A", "-t", "-q", "-c", select, &db.url],
                self.project.path(),
            ),
            Backend::Mysql => {
                let mut args = mysql_args(&db.url);
                args.extend(["--quick".into(), "-e".into(), select.into(), db.name()]);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Run::new(tool("mariadb")?, &args, self.project.path())
            }
        })
    }

    /// The native client loading `file` into the fresh database.
    fn native_load(&self, file: &Path) -> Result<Run> {
        let db = &self.fresh;
        let run = match db.backend {
            Backend::Sqlite => Run::new(tool("sqlite3")?, &[&db.name()], self.project.path()),
            Backend::Postgres => Run::new(
                tool("psql")?,
                &["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url],
                self.project.path(),
            ),
            Backend::Mysql => {
                let mut args = mysql_args(&db.url);
                args.push(db.name());
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Run::new(tool("mariadb")?, &args, self.project.path())
            }
        };
        Ok(run.stdin(file))
    }

    /// Makes both dumps when they are not there yet.
    fn ensure_dumps(&self) -> DynResult {
        if !self.ours().is_file() {
            self.dump_ours().time()?;
        }
        if !self.native().is_file() {
            self.dump_native()?.time()?;
        }
        Ok(())
    }
}

/// A program on `PATH`, or an error naming it.
fn tool(name: &str) -> Result<PathBuf> {
    which(name).ok_or_else(|| format!("{name} is not installed").into())
}

/// `-h HOST -P PORT -u USER [-pPASSWORD]` of a `mysql://` URL for the mariadb tools.
fn mysql_args(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
    let (user_info, host_port) = authority.rsplit_once('@').unwrap_or(("root", authority));
    let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
    let mut args = vec![
        "-h".into(),
        host.into(),
        "-P".into(),
        port.into(),
        "-u".into(),
        user.into(),
    ];
    if !password.is_empty() {
        args.push(format!("-p{password}"));
    }
    args
}

fn native_dumper(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite3 .dump",
        Backend::Postgres => "pg_dump",
        Backend::Mysql => "mariadb-dump",
    }
}

fn native_client(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite3",
        Backend::Postgres => "psql",
        Backend::Mysql => "mariadb",
    }
}

/// Times `run` (set-up outside the timing is the caller's).
fn side(run: Run) -> Side<'static> {
    Box::new(move || run.time())
}

/// `cargo dbexport` beside the native dumper and a bare read of the table.
pub fn dump(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let data = Data::get(bench, backend)?;
    let comparison = compare(
        bench.rounds,
        side(data.dump_ours()),
        vec![side(data.dump_native()?), side(data.bare_read()?)],
    )?;
    let (dumper, read) = match backend {
        Backend::Sqlite => (Target::Ratio(1.0), Target::Ratio(1.5)),
        _ => (Target::Ratio(0.9), Target::None),
    };
    report.add_comparison(
        "dump",
        backend,
        &comparison,
        &[(native_dumper(backend), dumper), ("bare `SELECT *`", read)],
    );
    Ok(())
}

/// SQLite only: our dump and sqlite3's loaded by the `sqlite3` shell.
pub fn load(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    if backend != Backend::Sqlite {
        return Ok(());
    }
    let data = Data::get(bench, backend)?;
    data.ensure_dumps()?;
    let load = |file: PathBuf| -> Result<Side<'_>> {
        let run = data.native_load(&file)?;
        let data = &data;
        Ok(Box::new(move || {
            data.fresh.recreate()?;
            run.time()
        }))
    };
    let comparison = compare(bench.rounds, load(data.ours())?, vec![load(data.native())?])?;
    report.add_comparison(
        "our dump loaded by `sqlite3`",
        backend,
        &comparison,
        &[("sqlite3 loading its own `.dump`", Target::Ratio(1.0))],
    );
    Ok(())
}

/// `cargo dbexport restore ours.sql` beside the native client loading the native dump.
pub fn restore(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let data = Data::get(bench, backend)?;
    data.ensure_dumps()?;
    let ours_file = data.ours().display().to_string();
    let ours = data.project.tool(
        "dbexport",
        &[
            "-q",
            "restore",
            &ours_file,
            "--database-url",
            &data.fresh.url,
        ],
    );
    let native = data.native_load(&data.native())?;
    let data = &data;
    let comparison = compare(
        bench.rounds,
        Box::new(move || {
            data.fresh.recreate()?;
            ours.time()
        }),
        vec![Box::new(move || {
            data.fresh.recreate()?;
            native.time()
        })],
    )?;
    let client = format!(
        "{} loading {}",
        native_client(backend),
        native_dumper(backend)
    );
    report.add_comparison(
        "restore",
        backend,
        &comparison,
        &[(client.as_str(), Target::Ratio(1.0))],
    );
    Ok(())
}
