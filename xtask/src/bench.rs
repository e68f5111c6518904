//! `cargo xtask bench [--rows N] [--rounds N] [--backends sqlite,postgres,mysql]
//! [--bin-dir DIR] [--readme] [WORKLOAD…]`:
//! the speed targets of issue 16, measured on release binaries beside the tools a user
//! would otherwise pick, and reported (never asserted in tests).
//!
//! Each workload runs dbrev and the native tool in alternating rounds; a row of the report
//! is the median of the per-round ratios (dbrev's time / the tool's), so a machine that is
//! busy for a moment slows both sides of a pair alike. The rows are printed and written as
//! a Markdown table to `target/bench/latest.md` (and, with `--readme`, into README.md's
//! performance section), with the machine and the date.
//!
//! Workloads (the [`WORKLOADS`] list; a new one is one line there):
//! - `dump`: 1,000,000 mixed rows (`--rows`) with a view, an index, a trigger and routines,
//!   dumped by `cargo dbexport` beside the native dumper and beside a bare `SELECT *` read;
//! - `load`: the SQLite dump of each loaded by the `sqlite3` shell;
//! - `restore`: `cargo dbexport restore` of our dump beside the native client loading the
//!   native dump, into a fresh database;
//! - `revisions`: 500 trivial revisions up, then down, beside `diesel migration run` /
//!   `revert --all` (diesel_cli from `/tmp/diesel-cli/bin` or `PATH`, when installed);
//! - `current`: `cargo dbrev current` with 10 revisions beside `diesel migration list`;
//! - `autogenerate`, `check`: `revision --autogenerate` and `check` on 300 tables (targets in
//!   seconds; `check` also counts its catalog queries at 30 and at 300 tables);
//! - `lint`: `lint --all` on the 500 revisions;
//! - `test` (`bench_prove`, printed as it runs): `cargo dbrev test` on the 500 revisions
//!   beside a plain base -> head -> base run, and the catalog reads it is made of;
//! - `fleet` (`bench_fleet`): `upgrade --fleet` of 100 SQLite and 100 PostgreSQL tenants
//!   × 50 revisions, `--jobs 8` against `--jobs 1`, beside the same SQL through `sqlite3`
//!   and `psql`, eight tenants at once against one after the other (the machine's ceiling).

mod dataset;
mod export;
pub mod measure;
mod migrations;
pub mod project;
pub mod report;
mod schema;

use std::any::Any;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use xshell::cmd;

use crate::DynResult;
pub use project::{Database, Project, write_history};
pub use report::{Report, Row, Target};

/// One workload: its name on the command line and the function that measures it on one
/// backend, adding rows to the report.
pub struct Workload {
    /// The name `cargo xtask bench NAME` selects it by.
    pub name: &'static str,
    /// Measures it on `backend`.
    pub run: fn(&Bench, dbkit::Backend, &mut Report) -> DynResult,
}

/// Every workload, in the order they run.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "dump",
        run: export::dump,
    },
    Workload {
        name: "load",
        run: export::load,
    },
    Workload {
        name: "restore",
        run: export::restore,
    },
    Workload {
        name: "revisions",
        run: migrations::revisions,
    },
    Workload {
        name: "current",
        run: migrations::current,
    },
    Workload {
        name: "autogenerate",
        run: schema::autogenerate,
    },
    Workload {
        name: "check",
        run: schema::check,
    },
    Workload {
        name: "lint",
        run: migrations::lint,
    },
    Workload {
        name: "test",
        run: prove,
    },
];

/// `cargo dbrev test` on the 500-revision history against a plain base -> head -> base run
/// (`bench_prove`, printed as it runs).
fn prove(bench: &Bench, backend: dbkit::Backend, _: &mut Report) -> DynResult {
    crate::bench_prove::run(
        &bench.bin_dir,
        backend.name(),
        bench.server(backend).as_deref(),
    )
}

/// What every workload needs: the release binaries, the servers, the sizes.
pub struct Bench {
    /// `target/release`, holding cargo-dbinit, cargo-dbrev and cargo-dbexport.
    pub bin_dir: PathBuf,
    /// Rows of the dump workloads' table.
    pub rows: u64,
    /// Rounds of each comparison.
    pub rounds: usize,
    /// diesel_cli, when installed.
    pub diesel: Option<PathBuf>,
    /// Values the workloads of one backend share (see [`Bench::shared`]).
    shared: RefCell<Vec<(String, Rc<dyn Any>)>>,
}

impl Bench {
    /// A value the workloads of the current backend share (a project with its data set),
    /// made by `make` the first time `key` is asked for; dropped before the next backend.
    pub fn shared<T: 'static>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<T, Box<dyn std::error::Error>>,
    ) -> Result<Rc<T>, Box<dyn std::error::Error>> {
        let found = self
            .shared
            .borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| Rc::clone(v));
        if let Some(value) = found {
            return value
                .downcast::<T>()
                .map_err(|_| format!("bench value `{key}` asked for as two types").into());
        }
        let value = Rc::new(make()?);
        self.shared
            .borrow_mut()
            .push((key.to_owned(), Rc::clone(&value) as Rc<dyn Any>));
        Ok(value)
    }

    /// The server URL of `backend` (the tests' defaults, or their variables); `None` for
    /// SQLite.
    pub fn server(&self, backend: dbkit::Backend) -> Option<String> {
        let (var, default) = match backend {
            dbkit::Backend::Sqlite => return None,
            dbkit::Backend::Postgres => (
                "DBREV_TEST_POSTGRES_URL",
                "postgres://root@127.0.0.1:5432/test",
            ),
            dbkit::Backend::Mysql => ("DBREV_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        };
        Some(std::env::var(var).unwrap_or_else(|_| default.to_owned()))
    }
}

/// Options of `cargo xtask bench`.
struct Options {
    /// Binaries to measure instead of building `target/release`.
    bin_dir: Option<PathBuf>,
    /// Also put the table into README.md's performance section.
    readme: bool,
    rows: u64,
    rounds: usize,
    backends: Vec<dbkit::Backend>,
    workloads: Vec<String>,
    /// `upgrade --fleet` of 100 SQLite and 100 PostgreSQL tenants (`bench_fleet`): named,
    /// or with no workload named.
    fleet: bool,
}

fn parse(args: &[String]) -> Result<Options, Box<dyn std::error::Error>> {
    let mut options = Options {
        bin_dir: None,
        readme: false,
        rows: 1_000_000,
        rounds: 3,
        backends: vec![
            dbkit::Backend::Sqlite,
            dbkit::Backend::Postgres,
            dbkit::Backend::Mysql,
        ],
        workloads: Vec::new(),
        fleet: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--rows" => options.rows = value()?.replace('_', "").parse()?,
            "--rounds" => options.rounds = value()?.parse::<usize>()?.max(1),
            "--bin-dir" => options.bin_dir = Some(PathBuf::from(value()?)),
            "--readme" => options.readme = true,
            "--backends" => {
                options.backends = value()?
                    .split(',')
                    .map(backend_named)
                    .collect::<Result<_, _>>()?
            }
            "all" => {}
            "fleet" => options.fleet = true,
            name if WORKLOADS.iter().any(|w| w.name == name) => {
                options.workloads.push(name.to_owned())
            }
            other => {
                let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
                return Err(format!(
                    "unknown bench argument `{other}`: use --rows N, --rounds N, --backends LIST, --bin-dir DIR, --readme or workloads {}, fleet",
                    names.join(", ")
                )
                .into());
            }
        }
    }
    Ok(options)
}

fn backend_named(name: &str) -> Result<dbkit::Backend, String> {
    match name {
        "sqlite" => Ok(dbkit::Backend::Sqlite),
        "postgres" | "postgresql" => Ok(dbkit::Backend::Postgres),
        "mysql" | "mariadb" => Ok(dbkit::Backend::Mysql),
        other => Err(format!("unknown backend `{other}`")),
    }
}

pub fn run(args: &[String]) -> DynResult {
    let options = parse(args)?;
    let sh = crate::workspace_shell()?;
    let bin_dir = match options.bin_dir {
        Some(dir) => std::path::absolute(dir)?,
        None => {
            cmd!(
                sh,
                "cargo build --release --quiet -p cargo-dbinit -p cargo-dbrev -p cargo-dbexport"
            )
            .run()?;
            sh.current_dir().join("target/release")
        }
    };
    let bench = Bench {
        bin_dir,
        rows: options.rows,
        rounds: options.rounds,
        diesel: measure::diesel_cli(),
        shared: RefCell::new(Vec::new()),
    };
    let mut report = Report::new(&bench);
    // Nothing named: every workload and the fleet.
    let everything = options.workloads.is_empty() && !options.fleet;
    let chosen: Vec<&Workload> = WORKLOADS
        .iter()
        .filter(|w| everything || options.workloads.iter().any(|n| n == w.name))
        .collect();
    for &backend in &options.backends {
        let unreachable = bench
            .server(backend)
            .and_then(|server| project::reachable(&server).err());
        for workload in &chosen {
            let outcome = match &unreachable {
                Some(e) => Err(format!("server not reachable: {e}").into()),
                None => (workload.run)(&bench, backend, &mut report),
            };
            if let Err(e) = outcome {
                report.skip(workload.name, backend, &e.to_string());
            }
        }
        bench.shared.borrow_mut().clear();
    }
    if options.fleet || everything {
        crate::bench_fleet::run(&bench, &mut report)?;
    }
    let path = sh.current_dir().join("target/bench/latest.md");
    report.write(&path)?;
    println!("\n{}\nwritten to {}", report.markdown(), path.display());
    if options.readme {
        let readme = sh.current_dir().join("README.md");
        report.write_into_readme(&readme)?;
        println!("and into {}", readme.display());
    }
    Ok(())
}
