//! The model workloads on 300 tables of 12 columns (each with a foreign key to the one
//! before): `cargo dbrev check` (and, in-process, how many catalog queries it makes at 30
//! and at 300 tables: a fixed number), and `revision --autogenerate` of one new column.

use std::path::Path;

use dbkit::Backend;

use super::{Bench, Project, Report, Row, Target};
use crate::DynResult;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const TABLES: usize = 300;

/// The target for both workloads, in seconds, for the whole command.
const SECONDS: f64 = 0.2;

/// The project with the 300 tables, and the catalog queries `check` made at 30 and 300.
struct Tables {
    project: Project,
    queries: (usize, usize),
}

fn tables(bench: &Bench, backend: Backend) -> Result<std::rc::Rc<Tables>> {
    bench.shared("tables", || {
        let project = Project::new(bench, backend, "tables")?;
        let mut conn = project.db.connect()?;
        let few = build(&mut conn, &project, 0..30)?;
        let all = build(&mut conn, &project, 30..TABLES)?;
        Ok(Tables {
            project,
            queries: (few, all),
        })
    })
}

/// Creates tables `range` (beside those before them) and writes the model of all of them;
/// returns the catalog queries an in-process `check` made, which must find no change.
fn build(
    conn: &mut dbkit::Connection,
    project: &Project,
    range: std::ops::Range<usize>,
) -> Result<usize> {
    let backend = conn.backend();
    for i in range.clone() {
        let q = |n: &str| conn.dialect().quote_ident(n);
        let mut columns = vec![format!("{} INTEGER NOT NULL PRIMARY KEY", q("id"))];
        for (c, (sql, _)) in column_types().iter().enumerate() {
            let null = if c % 2 == 0 { "" } else { " NOT NULL" };
            columns.push(format!("{} {sql}{null}", q(&format!("c{c}"))));
        }
        columns.push(format!("{} INTEGER", q("parent_id")));
        if i > 0 {
            columns.push(format!(
                "FOREIGN KEY ({}) REFERENCES {} ({})",
                q("parent_id"),
                q(&format!("bench_{:03}", i - 1)),
                q("id")
            ));
        }
        let ddl = format!(
            "CREATE TABLE {} ({})",
            q(&format!("bench_{i:03}")),
            columns.join(", ")
        );
        conn.batch_execute(&ddl)?;
    }
    write_model(project.path(), backend, range.end, false)?;
    let env = dbkit::Environment::load(&dbkit::ConfigRequest {
        config_file: Some(project.path().join("dbrev.toml")),
        ..Default::default()
    })?;
    let comparison = env.compare(conn, &Default::default())?;
    if !comparison.is_clean() {
        return Err(format!("the bench model differs: {:?}", comparison.changes.first()).into());
    }
    Ok(comparison.catalog_queries)
}

/// (SQL type, diesel type) of the ten columns after `id`.
fn column_types() -> [(&'static str, &'static str); 10] {
    let five = [
        ("INTEGER", "Integer"),
        ("VARCHAR(40)", "Varchar"),
        ("BIGINT", "BigInt"),
        ("TEXT", "Text"),
        ("DATE", "Date"),
    ];
    std::array::from_fn(|c| five[c % 5])
}

/// schema.rs for tables 0..count; `extra` adds a column to the first one.
fn write_model(dir: &Path, backend: Backend, count: usize, extra: bool) -> DynResult {
    let mut model = String::new();
    for i in 0..count {
        let name = format!("bench_{i:03}");
        let mut rust = vec!["        id -> Integer,".to_owned()];
        for (c, (sql, diesel)) in column_types().iter().enumerate() {
            let length = if sql.starts_with("VARCHAR") && backend != Backend::Sqlite {
                "        #[max_length = 40]\n"
            } else {
                ""
            };
            let ty = if backend == Backend::Sqlite && *diesel == "Varchar" {
                "Text"
            } else {
                diesel
            };
            let ty = if c % 2 == 0 {
                format!("Nullable<{ty}>")
            } else {
                ty.to_owned()
            };
            rust.push(format!("{length}        c{c} -> {ty},"));
        }
        rust.push("        parent_id -> Nullable<Integer>,".to_owned());
        if extra && i == 0 {
            rust.push("        added -> Nullable<Integer>,".to_owned());
        }
        if i > 0 {
            model.push_str(&format!(
                "diesel::joinable!({name} -> bench_{:03} (parent_id));\n",
                i - 1
            ));
        }
        model.push_str(&format!(
            "diesel::table! {{\n    {name} (id) {{\n{}\n    }}\n}}\n",
            rust.join("\n")
        ));
    }
    std::fs::write(dir.join("src/schema.rs"), model)?;
    Ok(())
}

fn runs(bench: &Bench) -> usize {
    (bench.rounds * 3).max(5)
}

/// `cargo dbrev check` on 300 tables that match the model.
pub fn check(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let tables = tables(bench, backend)?;
    let project = &tables.project;
    write_model(project.path(), backend, TABLES, false)?;
    let run = project.tool("dbrev", &["check", "-q"]);
    let samples = (0..runs(bench))
        .map(|_| run.time())
        .collect::<Result<Vec<_>>>()?;
    let (few, all) = tables.queries;
    report.add(Row {
        workload: format!("`check`, {TABLES} tables"),
        backend: backend.to_string(),
        ours: Some(super::measure::summary(&samples)),
        reference: None,
        ratio: None,
        target: Target::Seconds(SECONDS),
        note: format!("{all} catalog queries at {TABLES} tables, {few} at 30"),
    });
    Ok(())
}

/// `cargo dbrev revision --autogenerate` of one new column among 300 tables.
pub fn autogenerate(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let tables = tables(bench, backend)?;
    let project = &tables.project;
    write_model(project.path(), backend, TABLES, true)?;
    let run = project.tool(
        "dbrev",
        &["revision", "--autogenerate", "-m", "bench", "-q"],
    );
    let mut samples = Vec::new();
    for _ in 0..runs(bench) {
        samples.push(run.time()?);
        let versions = project.versions();
        for entry in std::fs::read_dir(&versions)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path)?;
            }
        }
    }
    write_model(project.path(), backend, TABLES, false)?;
    report.add(Row {
        workload: format!("autogenerate, {TABLES} tables"),
        backend: backend.to_string(),
        ours: Some(super::measure::summary(&samples)),
        reference: None,
        ratio: None,
        target: Target::Seconds(SECONDS),
        note: String::new(),
    });
    Ok(())
}
