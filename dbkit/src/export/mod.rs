//! `cargo dbexport`: a plain-SQL dump that the native clients load too, with `DROP … IF
//! EXISTS` before every object, streamed from one consistent snapshot; and `restore`,
//! which streams our dumps and the native dumpers' plain output back in.
//!
//! Each backend module reads its catalog into [`Objects`] (DDL in a safe order and the
//! tables to copy); the server formats each row as SQL literals, so values round-trip
//! exactly and memory stays flat.

mod mysql;
mod postgres;
mod restore;
mod sqlite;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::backend::Backend;
use crate::db::{Connection, StreamError};
use crate::error::{Error, IoContext, Result};
use crate::inspect::{ColumnRow, read_catalog};
use crate::term::Reporter;

pub use restore::{RestoreOptions, RestoreStats, restore, restore_file};

/// What to dump.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// Only these tables (empty: all).
    pub tables: Vec<String>,
    /// Leave these tables out.
    pub exclude_tables: Vec<String>,
    /// Objects only, no rows.
    pub schema_only: bool,
    /// Rows only, no objects.
    pub data_only: bool,
    /// No `DROP … IF EXISTS` before each object.
    pub no_drop: bool,
    /// No procedures and functions.
    pub no_routines: bool,
    /// No triggers.
    pub no_triggers: bool,
    /// No events (MySQL).
    pub no_events: bool,
    /// The largest multi-row INSERT, in bytes.
    pub max_statement_bytes: usize,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            tables: Vec::new(),
            exclude_tables: Vec::new(),
            schema_only: false,
            data_only: false,
            no_drop: false,
            no_routines: false,
            no_triggers: false,
            no_events: false,
            max_statement_bytes: 1 << 20,
        }
    }
}

/// What a dump wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct DumpStats {
    /// Tables whose rows were written.
    pub tables: usize,
    /// Rows written.
    pub rows: u64,
    /// Bytes written (before compression).
    pub bytes: u64,
}

/// One DDL statement; `routine` bodies need another delimiter in MySQL scripts.
#[derive(Debug, Clone)]
pub(crate) struct Ddl {
    pub sql: String,
    pub routine: bool,
}

impl Ddl {
    pub(crate) fn plain(sql: impl Into<String>) -> Ddl {
        Ddl {
            sql: sql.into(),
            routine: false,
        }
    }

    pub(crate) fn routine(sql: impl Into<String>) -> Ddl {
        Ddl {
            sql: sql.into(),
            routine: true,
        }
    }
}

/// A table whose rows are copied.
#[derive(Debug, Clone)]
pub(crate) struct DataTable {
    /// Its name, for messages.
    pub name: String,
    /// `INSERT INTO t (a, b) VALUES` (or with `OVERRIDING SYSTEM VALUE`).
    pub insert: String,
    /// How the rows are read.
    pub rows: RowSource,
}

/// How a table's rows are read, per backend.
#[derive(Debug, Clone)]
pub(crate) enum RowSource {
    /// A query whose `value` column is one row as a SQL tuple `(…)`, formatted by the
    /// server (SQLite).
    Literals(String),
    /// PostgreSQL: `COPY … TO STDOUT`, written as the `COPY … FROM stdin` block given.
    Copy {
        /// The statement that reads.
        out: String,
        /// The statement the dump writes before the rows.
        into: String,
    },
    /// MySQL: a plain `SELECT` whose text-protocol rows are formatted here.
    Text(String),
}

/// Everything a backend dumps, in order.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    /// Session settings at the top.
    pub settings: Vec<String>,
    /// `DROP … IF EXISTS`, dependants first.
    pub drops: Vec<Ddl>,
    /// Before the rows: schemas, types, sequences, routines, tables.
    pub before: Vec<Ddl>,
    /// The rows.
    pub tables: Vec<DataTable>,
    /// After the rows: keys, indexes, views, triggers, counters, events.
    pub after: Vec<Ddl>,
    /// Settings restored at the end.
    pub footer: Vec<String>,
    /// PostgreSQL: the exported snapshot a `COPY` session joins, so it reads what the
    /// catalog queries saw.
    pub snapshot: Option<String>,
}

/// Which tables pass `--tables` / `--exclude-table`.
pub(crate) fn selected(options: &DumpOptions, table: &str) -> bool {
    (options.tables.is_empty() || options.tables.iter().any(|t| t == table))
        && !options.exclude_tables.iter().any(|t| t == table)
}

/// A table of the dump: schema (`None`: the default one), name and columns in order, from
/// the shared catalog reader (the version table included).
pub(crate) struct TableColumns {
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<ColumnRow>,
}

/// Every base table's columns.
pub(crate) fn columns_by_table(conn: &mut Connection) -> Result<Vec<TableColumns>> {
    let catalog = read_catalog(conn, "", &[])?;
    let mut out: Vec<TableColumns> = Vec::new();
    for column in catalog.columns {
        match out.last_mut() {
            Some(t) if t.name == column.table_name && t.schema == column.table_schema => {
                t.columns.push(column)
            }
            _ => out.push(TableColumns {
                schema: column.table_schema.clone(),
                name: column.table_name.clone(),
                columns: vec![column],
            }),
        }
    }
    Ok(out)
}

pub(crate) fn query_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Query {
        context: format!("dumping ({what})"),
        message: e.to_string(),
    }
}

/// Dumps the connected database to `out`.
pub fn dump(
    conn: &mut Connection,
    out: &mut dyn Write,
    options: &DumpOptions,
    reporter: &Reporter,
) -> Result<DumpStats> {
    let backend = conn.backend();
    let version = conn.server_version().unwrap_or_default();
    let objects = match backend {
        Backend::Sqlite => sqlite::objects(conn, options)?,
        Backend::Postgres => postgres::objects(conn, options)?,
        Backend::Mysql => mysql::objects(conn, options)?,
    };
    let mut writer = CountingWriter {
        inner: out,
        bytes: 0,
    };
    let w = &mut writer;
    let io = |e: std::io::Error| Error::Export(format!("writing the dump: {e}"));
    writeln!(
        w,
        "-- dbrev dump {}\n-- source: {} ({backend} {version})\n-- date: {}\n",
        env!("CARGO_PKG_VERSION"),
        conn.url().masked(),
        crate::script::create_date(time::OffsetDateTime::now_utc())
    )
    .map_err(io)?;
    for s in &objects.settings {
        writeln!(w, "{s};").map_err(io)?;
    }
    let ddl = |w: &mut CountingWriter<'_>, d: &Ddl| -> std::io::Result<()> {
        if d.routine && backend == Backend::Mysql {
            writeln!(w, "DELIMITER ;;\n{} ;;\nDELIMITER ;", d.sql)
        } else {
            writeln!(w, "{};", d.sql)
        }
    };
    if !options.data_only {
        if !options.no_drop {
            writeln!(w).map_err(io)?;
            for d in &objects.drops {
                ddl(w, d).map_err(io)?;
            }
        }
        writeln!(w).map_err(io)?;
        for d in &objects.before {
            ddl(w, d).map_err(io)?;
        }
    }
    let mut stats = DumpStats::default();
    if !options.schema_only {
        let mut copier = match &objects.snapshot {
            Some(snapshot) => Some(postgres::copy_session(conn.url(), snapshot)?),
            None => None,
        };
        let mut reader = match backend {
            Backend::Mysql => Some(mysql::row_session(conn.url())?),
            _ => None,
        };
        for table in &objects.tables {
            stats.rows += match (&table.rows, &mut copier, &mut reader) {
                (RowSource::Copy { out, into }, Some(session), _) => {
                    postgres::copy_rows(session, w, table, out, into, reporter)?
                }
                (RowSource::Text(select), _, Some(session)) => mysql::insert_rows(
                    session,
                    w,
                    table,
                    select,
                    options.max_statement_bytes,
                    reporter,
                )?,
                (RowSource::Literals(select), _, _) => dump_rows(
                    conn,
                    w,
                    select,
                    table,
                    options.max_statement_bytes,
                    reporter,
                )?,
                _ => {
                    return Err(Error::Export(format!(
                        "no reader for the rows of {}",
                        table.name
                    )));
                }
            };
            stats.tables += 1;
        }
    }
    if !options.data_only {
        writeln!(w).map_err(io)?;
        for d in &objects.after {
            ddl(w, d).map_err(io)?;
        }
    }
    for s in &objects.footer {
        writeln!(w, "{s};").map_err(io)?;
    }
    writeln!(w, "\n-- dump complete").map_err(io)?;
    w.flush().map_err(io)?;
    stats.bytes = writer.bytes;
    Ok(stats)
}

fn dump_rows(
    conn: &mut Connection,
    w: &mut CountingWriter<'_>,
    select: &str,
    table: &DataTable,
    max_bytes: usize,
    reporter: &Reporter,
) -> Result<u64> {
    let bar = table_progress(reporter, &table.name);
    let started = Instant::now();
    let mut rows = 0u64;
    let mut pending = String::new();
    let flush = |w: &mut CountingWriter<'_>, pending: &mut String| -> std::io::Result<()> {
        if !pending.is_empty() {
            w.write_all(table.insert.as_bytes())?;
            w.write_all(b"\n")?;
            w.write_all(pending.as_bytes())?;
            w.write_all(b";\n")?;
            pending.clear();
        }
        Ok(())
    };
    let result = conn.for_each_value(select, |value| {
        let tuple = value.unwrap_or_default();
        if !pending.is_empty() && pending.len() + tuple.len() + 2 > max_bytes {
            flush(w, &mut pending)?;
        }
        if !pending.is_empty() {
            pending.push_str(",\n");
        }
        pending.push_str(&tuple);
        rows += 1;
        tick(&bar, rows, w.bytes);
        Ok::<(), std::io::Error>(())
    });
    match result {
        Ok(()) => {}
        Err(StreamError::Query(e)) => {
            return Err(query_error(&format!("rows of {}", table.name), e));
        }
        Err(StreamError::Stopped(e)) => {
            return Err(Error::Export(format!("writing the dump: {e}")));
        }
    }
    flush(w, &mut pending).map_err(|e| Error::Export(format!("writing the dump: {e}")))?;
    bar.finish_and_clear();
    reporter.detail(format!(
        "{}: {rows} rows in {} ms",
        table.name,
        started.elapsed().as_millis()
    ));
    Ok(rows)
}

/// A per-table spinner with rows and bytes, on a terminal only.
pub(crate) fn table_progress(reporter: &Reporter, table: &str) -> indicatif::ProgressBar {
    if !reporter.wants_progress() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {prefix:>20} {human_pos} rows, {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_prefix(table.to_owned());
    bar
}

/// Moves a table's spinner on (every few thousand rows: drawing is not free).
pub(crate) fn tick(bar: &indicatif::ProgressBar, rows: u64, bytes: u64) {
    if rows % 4096 == 0 {
        bar.set_position(rows);
        bar.set_message(format!("{} written", indicatif::HumanBytes(bytes)));
    }
}

pub(crate) struct CountingWriter<'w> {
    inner: &'w mut dyn Write,
    bytes: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Dumps to `path` atomically (a temporary file in the same directory, renamed when
/// complete), with mode 0600; a `.gz` name is gzip-compressed.
pub fn dump_to_file(
    conn: &mut Connection,
    path: &Path,
    options: &DumpOptions,
    reporter: &Reporter,
) -> Result<DumpStats> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".dbexport-")
        .tempfile_in(dir)
        .at(dir)?;
    set_private(temp.path())?;
    let file =
        std::io::BufWriter::with_capacity(1 << 20, temp.as_file().try_clone().at(temp.path())?);
    let gz = path.extension().is_some_and(|e| e == "gz");
    let stats = if gz {
        let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let stats = dump(conn, &mut encoder, options, reporter)?;
        encoder
            .finish()
            .and_then(|mut f| f.flush())
            .at(temp.path())?;
        stats
    } else {
        let mut file = file;
        let stats = dump(conn, &mut file, options, reporter)?;
        file.flush().at(temp.path())?;
        stats
    };
    temp.as_file().sync_all().at(temp.path())?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(stats)
}

#[cfg(unix)]
fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).at(path)
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> Result<()> {
    Ok(())
}
