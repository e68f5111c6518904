//! `cargo dbexport`: a plain-SQL dump that the native clients load too, with `DROP … IF
//! EXISTS` before every object, streamed from one consistent snapshot; and `restore`,
//! which streams our dumps and the native dumpers' plain output back in.
//!
//! Each backend module reads its catalog into [`Objects`] (DDL in a safe order and the
//! tables to copy, parents before children) and streams the rows, so values round-trip
//! exactly and memory stays flat: PostgreSQL's as `COPY` blocks (`COPY … TO STDOUT` on the
//! dump's snapshot), MySQL's as multi-row INSERTs formatted here from the text protocol,
//! SQLite's as multi-row INSERTs formatted from SQLite's own values (`sqlite/rows.rs`). A
//! filtered dump
//! (`--tables`, `--exclude-table`, the configuration's `include`/`exclude`) leaves out
//! everything that belongs to the tables it leaves out, and says which foreign keys and
//! views go with them. Every dump ends with a completion line that restore looks for.

mod dumpfile;
pub(crate) mod interrupt;
mod mysql;
mod order;
mod postgres;
mod restore;
mod scope;
mod session;
mod sqlite;
mod stream;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::backend::Backend;
use crate::db::Connection;
use crate::dialect::Dialect;
use crate::error::{Error, IoContext, Result};
use crate::filter::TableFilter;
use crate::inspect::{ColumnRow, read_catalog};
use crate::model::TableName;
use crate::term::Reporter;

use session::{RawMysql, RawPostgres};

pub use interrupt::exit_on_signal;
pub use restore::{
    RestoreOptions, RestoreStats, restore, restore_file, restore_stream, target_tables,
};
pub use stream::copy_database;

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
    /// Keep the `DEFINER` of views, routines, triggers and events (MySQL; left out by
    /// default, so the dump loads for any user).
    pub keep_definer: bool,
    /// The largest multi-row INSERT, in bytes.
    pub max_statement_bytes: usize,
    /// dbrev.toml's `include` / `exclude` (dbrev's own tables are dumped whatever it says).
    pub config_filter: Option<ConfigFilter>,
    /// Only the objects of the session's current schema, as `pg_dump --schema` (a
    /// PostgreSQL schema tenant's dump, restored into another schema or database without
    /// touching the other tenants'); a no-op where a database is one schema.
    pub current_schema_only: bool,
}

/// The tables dbrev.toml's `include` / `exclude` leave in a dump: those its filter keeps,
/// and always dbrev's own (the version table and the companion table travel with a dump).
#[derive(Debug, Clone)]
pub struct ConfigFilter {
    filter: TableFilter,
    own_tables: Vec<String>,
}

impl ConfigFilter {
    /// The filter of a loaded configuration (a regex that does not compile is an error
    /// naming the file and the entry).
    pub fn from_config(config: &crate::Config) -> Result<ConfigFilter> {
        Ok(ConfigFilter {
            filter: TableFilter::from_config(config)?,
            own_tables: vec![config.version_table.clone(), config.revisions_table.clone()],
        })
    }

    /// Whether the filter leaves the table (its filter name: bare, or `schema.name` outside
    /// the default schema) in the dump.
    fn keeps(&self, table: &str) -> bool {
        let name = match table.split_once('.') {
            Some((schema, name)) => TableName {
                schema: Some(schema.to_owned()),
                name: name.to_owned(),
            },
            None => TableName::new(table),
        };
        self.own_tables.contains(&name.name) || self.filter.keeps(&name)
    }
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
            keep_definer: false,
            max_statement_bytes: 1 << 20,
            config_filter: None,
            current_schema_only: false,
        }
    }
}

impl DumpOptions {
    /// Whether some tables may be left out (by `--tables`, `--exclude-table`, the
    /// configuration's `include` / `exclude`, or the current schema's bounds).
    pub(crate) fn filtered(&self) -> bool {
        !self.tables.is_empty()
            || !self.exclude_tables.is_empty()
            || self.config_filter.is_some()
            || self.current_schema_only
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
    /// A plain `SELECT` whose values are formatted as SQL literals here (SQLite).
    Literals(String),
    /// PostgreSQL: `COPY … TO STDOUT`, written as the `COPY … FROM stdin` block given.
    Copy {
        /// The statement that reads.
        out: String,
        /// The statement the dump writes before the rows.
        into: String,
        /// The same rows by ranges of pages, for a large table.
        ranges: postgres::PageRanges,
    },
    /// MySQL: a plain `SELECT` whose text-protocol rows are formatted here.
    Text(String),
}

/// The session the rows are read on: the one that holds the dump's snapshot.
#[derive(Default)]
pub(crate) enum RowReader {
    /// The connection the objects were read on (SQLite).
    #[default]
    Connection,
    /// The session that read the catalog, inside its snapshot, and the sessions that join
    /// that snapshot for a large table (PostgreSQL).
    Postgres(Box<postgres::PostgresRows>),
    /// The session that read the objects, inside its transaction (MySQL).
    Mysql(RawMysql),
}

/// Everything a backend dumps, in order.
#[derive(Default)]
pub(crate) struct Objects {
    /// Session settings at the top.
    pub settings: Vec<String>,
    /// `DROP … IF EXISTS`, dependants first.
    pub drops: Vec<Ddl>,
    /// Before the rows: schemas, types, sequences, routines, tables (PostgreSQL: views and
    /// whatever else the dependency order puts there).
    pub before: Vec<Ddl>,
    /// The rows, each table after those its foreign keys reference.
    pub tables: Vec<DataTable>,
    /// Written with the rows, after them: sequence values and counters (and, in a
    /// data-only dump, materialized views refreshed).
    pub data_after: Vec<Ddl>,
    /// After the rows: keys, indexes, views, triggers, events, refreshes.
    pub after: Vec<Ddl>,
    /// Settings restored at the end.
    pub footer: Vec<String>,
    /// What the user should know: foreign keys and views left out with their tables.
    pub warnings: Vec<String>,
    /// Where the rows are read.
    pub reader: RowReader,
}

/// Which tables (and views) pass `--tables` / `--exclude-table` and the configuration's
/// `include` / `exclude`. The migration lock's table (Galera) is never dumped: a held
/// lock is the state of a run, and restored it would stop the next one.
pub(crate) fn selected(options: &DumpOptions, table: &str) -> bool {
    table != crate::lock::LOCK_TABLE
        && (options.tables.is_empty() || options.tables.iter().any(|t| t == table))
        && !options.exclude_tables.iter().any(|t| t == table)
        && options
            .config_filter
            .as_ref()
            .is_none_or(|f| f.keeps(table))
}

/// The warning for a foreign key left out with the table it references.
pub(crate) fn dropped_foreign_key(name: &str, table: &str, referenced: &str) -> String {
    format!(
        "foreign key {name} of {table} references {referenced}, which is not in the dump: the key is left out"
    )
}

/// The warning for a view left out with a table it reads.
pub(crate) fn dropped_view(view: &str, table: &str) -> String {
    format!("view {view} reads {table}, which is not in the dump: the view is left out")
}

/// The warning for tables whose rows cannot be put in an order their keys accept.
pub(crate) fn key_cycle(tables: &[&str]) -> String {
    format!(
        "the foreign keys of {} form a cycle that cannot be deferred: a data-only dump of them loads only where those keys are not checked",
        tables.join(", ")
    )
}

/// A table of the dump: schema (`None`: the default one), name and columns in order, from
/// the shared catalog reader (the version table included).
pub(crate) struct TableColumns {
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<ColumnRow>,
}

/// The foreign keys between tables, as (table, referenced table) pairs.
pub(crate) type References = Vec<(String, String)>;

/// Every base table's columns, and the foreign keys between tables.
pub(crate) fn columns_by_table(conn: &mut Connection) -> Result<(Vec<TableColumns>, References)> {
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
    let references = catalog
        .keys
        .into_iter()
        .filter(|k| k.kind == "FOREIGN")
        .filter_map(|k| Some((k.table_name, k.ref_table?)))
        .collect();
    Ok((out, references))
}

/// The session a snapshot's catalog queries run on: SQLite's connection itself, a
/// PostgreSQL or MySQL session of its own (PostgreSQL's queries prepared once on it).
pub(crate) enum CatalogSession {
    /// SQLite's catalog is a function of `sqlite_master`: the last snapshot is kept with
    /// the rows it was read from, and given again while they are the same.
    Sqlite(sqlite::SnapshotCache),
    Postgres(Box<postgres::SnapshotSession>),
    Mysql(Box<mysql::SnapshotSession>),
}

impl CatalogSession {
    /// Opens the session for the connected database.
    pub(crate) fn open(conn: &Connection) -> Result<CatalogSession> {
        Ok(match conn.backend() {
            Backend::Sqlite => CatalogSession::Sqlite(sqlite::SnapshotCache::default()),
            Backend::Postgres => CatalogSession::Postgres(Box::new(
                postgres::SnapshotSession::new(RawPostgres::connect(conn.url())?)?,
            )),
            Backend::Mysql => CatalogSession::Mysql(Box::new(mysql::SnapshotSession::new(
                RawMysql::connect(conn.url())?,
            )?)),
        })
    }

    /// Reads every object of the database (see [`crate::snapshot`]).
    pub(crate) fn snapshot(&mut self, conn: &mut Connection) -> Result<crate::snapshot::Snapshot> {
        match self {
            CatalogSession::Sqlite(cache) => cache.snapshot(conn),
            CatalogSession::Postgres(session) => postgres::snapshot(session),
            CatalogSession::Mysql(session) => mysql::snapshot(session),
        }
    }

    /// Reads the catalog's fingerprint, of every object or within a scope (see
    /// [`crate::snapshot::Fingerprint`]).
    pub(crate) fn fingerprint(
        &mut self,
        conn: &mut Connection,
        scope: Option<&crate::snapshot::Scope>,
    ) -> Result<crate::snapshot::Fingerprint> {
        match self {
            CatalogSession::Sqlite(cache) => cache.fingerprint(conn),
            CatalogSession::Postgres(session) => postgres::fingerprint(session, scope),
            CatalogSession::Mysql(session) => mysql::fingerprint(session, scope),
        }
    }
}

/// `CREATE DATABASE` of a scratch database beside the connected one (same server; on
/// MySQL the same collation). SQLite's scratch databases are files.
pub(crate) fn create_scratch_sql(conn: &mut Connection, name: &str) -> Result<String, String> {
    match conn.backend() {
        Backend::Sqlite => Err("a SQLite scratch database is a file".into()),
        Backend::Postgres => Ok(postgres::scratch::create_sql(name)),
        Backend::Mysql => mysql::scratch::create_sql(conn, name),
    }
}

/// The database every user may connect to on a server (where scratch databases are
/// created from when the configured one does not exist yet).
pub(crate) fn maintenance_database(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => postgres::scratch::MAINTENANCE_DATABASE,
        Backend::Mysql => mysql::scratch::MAINTENANCE_DATABASE,
    }
}

/// Drops a scratch database of the connected server, ending the sessions still in it.
pub(crate) fn drop_scratch(conn: &mut Connection, name: &str) -> Result<(), String> {
    match conn.backend() {
        Backend::Sqlite => Err("a SQLite scratch database is a file".into()),
        Backend::Postgres => postgres::scratch::drop_database(conn, name),
        Backend::Mysql => mysql::scratch::drop_database(conn, name),
    }
}

/// What the backend's module reads for a dump with `options`.
fn read_objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    match conn.backend() {
        Backend::Sqlite => sqlite::objects(conn, options),
        Backend::Postgres => postgres::objects(conn, options),
        Backend::Mysql => mysql::objects(conn, options),
    }
}

/// The `DROP … IF EXISTS` statements, dependants first, of every object a dump of the
/// connected database would create (schemas and extensions are never among them).
pub(crate) fn drop_statements(conn: &mut Connection) -> Result<Vec<String>> {
    let options = DumpOptions {
        schema_only: true,
        ..DumpOptions::default()
    };
    let mut objects = read_objects(conn, &options)?;
    end_read(conn, &mut objects.reader)?;
    Ok(objects.drops.into_iter().map(|d| d.sql).collect())
}

/// A table's rows: how many, and a digest of their values that does not depend on their
/// order (the sum of each row's SHA-256, as the dump would write the row).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableRows {
    /// How many rows.
    pub rows: u64,
    /// The digest of their values.
    pub digest: String,
}

/// Every table's rows (see [`TableRows`]), read as a dump reads them, in one snapshot.
pub fn table_rows(conn: &mut Connection) -> Result<std::collections::BTreeMap<String, TableRows>> {
    use sha2::Digest;
    let options = DumpOptions {
        data_only: true,
        ..DumpOptions::default()
    };
    let mut objects = read_objects(conn, &options)?;
    let mut out = std::collections::BTreeMap::new();
    for table in &objects.tables {
        let mut rows = 0u64;
        let mut sum = 0u128;
        let mut add = |row: &[u8]| {
            let hash = sha2::Sha256::digest(row);
            let mut head = [0u8; 16];
            head.copy_from_slice(&hash[..16]);
            sum = sum.wrapping_add(u128::from_be_bytes(head));
            rows += 1;
        };
        let what = table.name.as_str();
        match (&table.rows, &mut objects.reader) {
            (RowSource::Copy { out, .. }, RowReader::Postgres(s)) => {
                postgres::each_row(&mut s.session, out, what, &mut add)?
            }
            (RowSource::Text(select), RowReader::Mysql(s)) => {
                mysql::each_row(s, select, what, &mut add)?
            }
            (RowSource::Literals(select), RowReader::Connection) => {
                sqlite::each_row(conn, select, what, &mut add)?
            }
            _ => return Err(Error::Export(format!("no reader for the rows of {what}"))),
        }
        out.insert(
            table.name.clone(),
            TableRows {
                rows,
                digest: format!("{sum:032x}"),
            },
        );
    }
    end_read(conn, &mut objects.reader)?;
    Ok(out)
}

/// Ends the read transaction a catalog or row read held, so what follows does not wait
/// for its locks.
fn end_read(conn: &mut Connection, reader: &mut RowReader) -> Result<()> {
    let ended = match reader {
        RowReader::Connection => conn.batch_execute("COMMIT").map_err(|e| e.to_string()),
        RowReader::Postgres(rows) => rows
            .session
            .batch_execute("COMMIT")
            .map_err(|e| e.to_string()),
        RowReader::Mysql(session) => session.batch_execute("COMMIT").map_err(|e| e.to_string()),
    };
    ended.map_err(|e| query_error("ending the read transaction", e))
}

pub(crate) fn query_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Query {
        context: format!("dumping ({what})"),
        message: e.to_string(),
    }
}

/// The line every complete dump ends with.
fn trailer() -> String {
    format!(
        "{} {}",
        dumpfile::TRAILER,
        crate::script::create_date(time::OffsetDateTime::now_utc())
    )
}

/// Dumps the connected database to `out`.
pub fn dump(
    conn: &mut Connection,
    out: &mut dyn Write,
    options: &DumpOptions,
    reporter: &Reporter,
) -> Result<DumpStats> {
    let version = conn.server_version().unwrap_or_default();
    let mut objects = read_objects(conn, options)?;
    for warning in &objects.warnings {
        reporter.warn(warning);
    }
    let header = format!(
        "{}{}\n-- source: {} ({} {version})\n-- date: {}\n",
        dumpfile::HEADER,
        env!("CARGO_PKG_VERSION"),
        conn.url().masked(),
        conn.backend(),
        crate::script::create_date(time::OffsetDateTime::now_utc())
    );
    let dialect = conn.dialect();
    let mut w = CountingWriter {
        inner: out,
        bytes: 0,
    };
    written(writeln!(w, "{header}"))?;
    written(write_lines(&mut w, &objects.settings))?;
    if !options.data_only {
        if !options.no_drop {
            written(write_ddl(&mut w, dialect, &objects.drops))?;
        }
        written(write_ddl(&mut w, dialect, &objects.before))?;
    }
    let mut stats = DumpStats::default();
    if !options.schema_only {
        stats = write_rows(conn, &mut w, &mut objects, options, reporter)?;
        written(write_statements(&mut w, dialect, &objects.data_after))?;
    }
    if !options.data_only {
        written(write_ddl(&mut w, dialect, &objects.after))?;
    }
    written(write_lines(&mut w, &objects.footer))?;
    written(writeln!(w, "\n{}", trailer()).and_then(|()| w.flush()))?;
    stats.bytes = w.bytes;
    if let RowReader::Connection = objects.reader {
        // SQLite's read transaction: the connection may go on to write (upgrade --backup).
        conn.batch_execute("COMMIT")
            .map_err(|e| query_error("ending the dump's transaction", e))?;
    }
    Ok(stats)
}

/// A write of the dump, its failure kept as the cause (a reader that went away, a full
/// disk).
fn written<T>(result: std::io::Result<T>) -> Result<T> {
    result.map_err(|e| Error::write("writing the dump", e))
}

/// Session settings (and the footer's), one statement a line.
fn write_lines(w: &mut CountingWriter<'_>, lines: &[String]) -> std::io::Result<()> {
    lines.iter().try_for_each(|s| writeln!(w, "{s};"))
}

/// A block of DDL after a blank line.
fn write_ddl(
    w: &mut CountingWriter<'_>,
    dialect: &dyn Dialect,
    ddl: &[Ddl],
) -> std::io::Result<()> {
    writeln!(w)?;
    write_statements(w, dialect, ddl)
}

/// Statements as the backend's client reads them: one a line, those with bodies between
/// the dialect's delimiter commands.
fn write_statements(
    w: &mut CountingWriter<'_>,
    dialect: &dyn Dialect,
    ddl: &[Ddl],
) -> std::io::Result<()> {
    for d in ddl {
        if d.routine {
            w.write_all(dialect.script_body(&d.sql).as_bytes())?;
        } else {
            writeln!(w, "{};", d.sql)?;
        }
    }
    Ok(())
}

/// Every table's rows, read on the session that holds the dump's snapshot.
fn write_rows(
    conn: &mut Connection,
    w: &mut CountingWriter<'_>,
    objects: &mut Objects,
    options: &DumpOptions,
    reporter: &Reporter,
) -> Result<DumpStats> {
    let max_bytes = options.max_statement_bytes;
    let mut stats = DumpStats::default();
    for table in &objects.tables {
        stats.rows += match (&table.rows, &mut objects.reader) {
            (RowSource::Copy { out, into, ranges }, RowReader::Postgres(rows)) => {
                postgres::copy_rows(rows, w, table, (out, into, ranges), reporter)?
            }
            (RowSource::Text(select), RowReader::Mysql(session)) => {
                mysql::insert_rows(session, w, table, select, max_bytes, reporter)?
            }
            (RowSource::Literals(select), RowReader::Connection) => {
                sqlite::insert_rows(conn, w, table, select, max_bytes, reporter)?
            }
            _ => {
                return Err(Error::Export(format!(
                    "no reader for the rows of {}",
                    table.name
                )));
            }
        };
        stats.tables += 1;
    }
    Ok(stats)
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

/// A dump file on its way: a private (0600) temporary file beside the target, renamed over
/// it only once the dump is complete, and removed if the dump fails or a signal ends the
/// process (see [`exit_on_signal`]). A `.gz` name is gzip-compressed.
pub struct DumpFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
    _watched: Watched,
}

/// A temporary file known to the signal handlers for as long as it lives.
struct Watched(PathBuf);

impl Drop for Watched {
    fn drop(&mut self) {
        interrupt::unregister(&self.0);
    }
}

fn unwritable(path: &Path, kind: std::io::ErrorKind, why: impl std::fmt::Display) -> Error {
    Error::io(
        path,
        std::io::Error::new(kind, format!("cannot write the dump here: {why}")),
    )
}

impl DumpFile {
    /// Checks that `path` can take a dump and creates its temporary file, before anything
    /// is read from the database: a directory, a device or pipe, a missing, read-only or
    /// pseudo-filesystem directory, a read-only file are errors here.
    pub fn create(path: &Path) -> Result<DumpFile> {
        use std::io::ErrorKind;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.is_dir() {
                return Err(unwritable(
                    path,
                    ErrorKind::IsADirectory,
                    "it is a directory; name a file",
                ));
            }
            if !meta.is_file() {
                return Err(unwritable(
                    path,
                    ErrorKind::InvalidInput,
                    "it is not a regular file; use `-o -` to write to standard output",
                ));
            }
            if meta.permissions().readonly() {
                return Err(unwritable(
                    path,
                    ErrorKind::PermissionDenied,
                    "the file is read-only",
                ));
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            let why = if dir.exists() {
                "it is not a directory"
            } else {
                "no such directory"
            };
            return Err(unwritable(dir, ErrorKind::NotFound, why));
        }
        let temp = tempfile::Builder::new()
            .prefix(".dbexport-")
            .tempfile_in(dir)
            .map_err(|e| {
                let reason = e.raw_os_error().map_or_else(
                    || e.to_string(),
                    |n| std::io::Error::from_raw_os_error(n).to_string(),
                );
                unwritable(
                    dir,
                    e.kind(),
                    format!("cannot create a file in it ({reason})"),
                )
            })?;
        interrupt::register(temp.path());
        let watched = Watched(temp.path().to_owned());
        set_private(temp.path())?;
        Ok(DumpFile {
            path: path.to_owned(),
            temp,
            _watched: watched,
        })
    }

    /// Dumps the connected database into the file and renames it into place.
    pub fn write(
        self,
        conn: &mut Connection,
        options: &DumpOptions,
        reporter: &Reporter,
    ) -> Result<DumpStats> {
        let temp_path = self.temp.path().to_owned();
        let file = std::io::BufWriter::with_capacity(
            1 << 20,
            self.temp.as_file().try_clone().at(&temp_path)?,
        );
        let gz = self.path.extension().is_some_and(|e| e == "gz");
        let stats = if gz {
            let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            let stats = dump(conn, &mut encoder, options, reporter)?;
            encoder
                .finish()
                .and_then(|mut f| f.flush())
                .at(&temp_path)?;
            stats
        } else {
            let mut file = file;
            let stats = dump(conn, &mut file, options, reporter)?;
            file.flush().at(&temp_path)?;
            stats
        };
        self.temp.as_file().sync_all().at(&temp_path)?;
        let DumpFile {
            path,
            temp,
            _watched: watched,
        } = self;
        temp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        drop(watched);
        Ok(stats)
    }
}

/// Dumps to `path` atomically (see [`DumpFile`]).
pub fn dump_to_file(
    conn: &mut Connection,
    path: &Path,
    options: &DumpOptions,
    reporter: &Reporter,
) -> Result<DumpStats> {
    DumpFile::create(path)?.write(conn, options, reporter)
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
