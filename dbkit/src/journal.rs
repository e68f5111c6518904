//! The two tables a migration run keeps: diesel's version table (which revisions are
//! applied, shared with diesel_migrations and left in diesel's shape) and dbrev's companion
//! table (`__dbrev_revisions` by default): per applied revision the SHA-256 of its `up.sql`
//! (CRLF read as LF), when, by whom (database user and client host) and how long it ran,
//! and the statement journal of a run that cannot roll back (`applying`/`reverting`, how
//! many statements completed). Reading and the SQL to write; the runner batches the writes.
//! On a Galera node both are InnoDB (replicated) and reads wait for what other nodes
//! committed before them (`cluster`), so every node shows the same state.

use std::collections::BTreeMap;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::cluster;
use crate::db::{Connection, ValueRow};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::graph::Applied;

/// Where a revision stands in the companion table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// Applied by dbrev.
    Applied,
    /// Set by `stamp` without running SQL.
    Stamped,
    /// Applied before the companion table knew it (diesel, an older dbrev): its checksum
    /// was recorded when dbrev first saw it.
    Adopted,
    /// `up.sql` of a revision that cannot roll back started and did not finish.
    Applying,
    /// `down.sql` of a revision that cannot roll back started and did not finish.
    Reverting,
}

impl RecordState {
    /// The text stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Applied => "applied",
            RecordState::Stamped => "stamped",
            RecordState::Adopted => "adopted",
            RecordState::Applying => "applying",
            RecordState::Reverting => "reverting",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "applied" => RecordState::Applied,
            "stamped" => RecordState::Stamped,
            "adopted" => RecordState::Adopted,
            "applying" => RecordState::Applying,
            "reverting" => RecordState::Reverting,
            _ => return None,
        })
    }

    /// Whether a run stopped half-way through the revision.
    pub fn is_partial(self) -> bool {
        matches!(self, RecordState::Applying | RecordState::Reverting)
    }
}

/// One row of the companion table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    /// The revision id.
    pub version: String,
    /// SHA-256 of `up.sql` as applied (`None`: its file was missing when adopted).
    pub checksum: Option<String>,
    /// Applied, stamped, adopted, or partially applied/reverted.
    pub state: RecordState,
    /// When it was applied (or the partial run started), in seconds since the Unix epoch.
    pub applied_at: Option<i64>,
    /// `user@host` of the session that applied it.
    pub applied_by: Option<String>,
    /// How long applying it took.
    pub duration_ms: Option<i64>,
    /// For a partial run: how many statements of the file completed.
    pub statements_done: usize,
    /// For a partial run: how many statements the file had.
    pub statements_total: usize,
    /// For a partial run: why it stopped (the failing statement's error), when known.
    pub note: Option<String>,
}

impl RevisionRecord {
    /// `applied_at` as `YYYY-MM-DD HH:MM:SS UTC`.
    pub fn applied_at_text(&self) -> Option<String> {
        let at = time::OffsetDateTime::from_unix_timestamp(self.applied_at?).ok()?;
        Some(crate::script::create_date(at))
    }
}

/// The companion table's rows by revision id.
pub type Records = BTreeMap<String, RevisionRecord>;

#[derive(QueryableByName)]
struct RecordRow {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Nullable<Text>)]
    checksum: Option<String>,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    applied_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    applied_by: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    duration_ms: Option<i64>,
    #[diesel(sql_type = BigInt)]
    statements_done: i64,
    #[diesel(sql_type = BigInt)]
    statements_total: i64,
    #[diesel(sql_type = Nullable<Text>)]
    note: Option<String>,
}

/// Creates both tables when they are missing (one round trip). On a cluster node (Galera)
/// they must be in an engine the cluster replicates, or the other nodes would not see
/// them: another engine is refused.
pub fn ensure_tables(
    conn: &mut Connection,
    version_table: &str,
    revisions_table: &str,
) -> Result<()> {
    let dialect = conn.dialect();
    let sql = format!(
        "{};\n{}",
        dialect.create_version_table(version_table),
        dialect.create_revisions_table(revisions_table)
    );
    conn.batch_execute(&sql).map_err(|e| {
        Error::sql(
            format!("creating the tables {version_table} and {revisions_table}"),
            e,
        )
    })?;
    match cluster::node(conn)? {
        Some(cluster) => {
            cluster::check_own_tables(conn, cluster, &[version_table, revisions_table])
        }
        None => Ok(()),
    }
}

/// The applied revision ids in diesel's version table (an absent table: none). On a
/// cluster node the read waits for what other nodes committed before it.
pub fn read_applied(conn: &mut Connection, version_table: &str) -> Result<Applied> {
    let cluster = cluster::node(conn)?;
    let sql = format!(
        "SELECT version AS value FROM {}",
        conn.dialect().quote_ident(version_table)
    );
    let context = format!("reading the version table {version_table}");
    match conn.load::<ValueRow>(&sql) {
        Ok(rows) => Ok(rows.into_iter().filter_map(|r| r.value).collect()),
        Err(e) => match cluster::catch_up_failed(conn, cluster, &context, &e) {
            Some(late) => Err(late),
            None if table_exists(conn, version_table)? => Err(Error::sql(context, e)),
            None => Ok(Applied::new()),
        },
    }
}

/// Whether diesel's version table holds `id` (the table exists).
pub fn is_applied(conn: &mut Connection, version_table: &str, id: &str) -> Result<bool> {
    let dialect = conn.dialect();
    let sql = format!(
        "SELECT version AS value FROM {} WHERE version = {}",
        dialect.quote_ident(version_table),
        dialect.quote_literal(id)
    );
    let rows = conn
        .load::<ValueRow>(&sql)
        .map_err(|e| Error::sql(format!("reading the version table {version_table}"), e))?;
    Ok(!rows.is_empty())
}

/// The companion table's rows (an absent table: none). On a cluster node the read waits
/// for what other nodes committed before it, so every node shows the same journal.
pub fn read_records(conn: &mut Connection, revisions_table: &str) -> Result<Records> {
    let cluster = cluster::node(conn)?;
    let dialect = conn.dialect();
    let sql = format!(
        "SELECT version, checksum, state, {} AS applied_at, applied_by, duration_ms, statements_done, statements_total, note FROM {}",
        dialect.epoch_seconds("applied_at"),
        dialect.quote_ident(revisions_table)
    );
    let context = format!("reading dbrev's table {revisions_table}");
    let rows = match conn.load::<RecordRow>(&sql) {
        Ok(rows) => rows,
        Err(e) => match cluster::catch_up_failed(conn, cluster, &context, &e) {
            Some(late) => return Err(late),
            None if table_exists(conn, revisions_table)? => {
                return Err(Error::sql(context, e));
            }
            None => return Ok(Records::new()),
        },
    };
    rows.into_iter()
        .map(|row| {
            let state = RecordState::parse(&row.state).ok_or_else(|| {
                Error::Migration(format!(
                    "{revisions_table} holds an unknown state `{}` for revision {}; was it written by a newer dbrev?",
                    row.state, row.version
                ))
            })?;
            Ok((
                row.version.clone(),
                RevisionRecord {
                    version: row.version,
                    checksum: row.checksum,
                    state,
                    applied_at: row.applied_at,
                    applied_by: row.applied_by,
                    duration_ms: row.duration_ms,
                    statements_done: usize::try_from(row.statements_done).unwrap_or(0),
                    statements_total: usize::try_from(row.statements_total).unwrap_or(0),
                    note: row.note,
                },
            ))
        })
        .collect()
}

fn table_exists(conn: &mut Connection, table: &str) -> Result<bool> {
    let sql = conn.dialect().list_tables_query();
    let tables = conn
        .load::<ValueRow>(sql)
        .map_err(|e| Error::sql("listing tables", e))?;
    Ok(tables.iter().any(|t| t.value.as_deref() == Some(table)))
}

/// The SQL that writes both tables, for the runner to batch into its own round trips.
pub struct Ledger {
    dialect: &'static dyn Dialect,
    version_table: String,
    revisions_table: String,
    identity: String,
}

impl Ledger {
    /// The writer for these two tables on this connection's dialect.
    pub fn new(dialect: &'static dyn Dialect, version_table: &str, revisions_table: &str) -> Self {
        let identity = match dialect.session_identity() {
            Some(expr) => expr.to_owned(),
            None => dialect.quote_literal(&os_identity()),
        };
        Ledger {
            dialect,
            version_table: dialect.quote_ident(version_table),
            revisions_table: dialect.quote_ident(revisions_table),
            identity,
        }
    }

    fn lit(&self, text: &str) -> String {
        self.dialect.quote_literal(text)
    }

    fn opt(&self, text: Option<&str>) -> String {
        text.map_or_else(|| "NULL".to_owned(), |t| self.lit(t))
    }

    /// Marks `id` applied in diesel's table.
    pub fn insert_version(&self, id: &str) -> String {
        format!(
            "INSERT INTO {} (version) VALUES ({})",
            self.version_table,
            self.lit(id)
        )
    }

    /// Removes `id` from diesel's table.
    pub fn delete_version(&self, id: &str) -> String {
        format!(
            "DELETE FROM {} WHERE version = {}",
            self.version_table,
            self.lit(id)
        )
    }

    /// Records `id` as applied (or stamped), now, by this session.
    pub fn insert_record(
        &self,
        id: &str,
        checksum: Option<&str>,
        state: RecordState,
        duration_ms: Option<u128>,
        statements: usize,
    ) -> String {
        format!(
            "INSERT INTO {} (version, checksum, state, applied_at, applied_by, duration_ms, statements_done, statements_total) VALUES ({}, {}, {}, CURRENT_TIMESTAMP, {}, {}, {statements}, {statements})",
            self.revisions_table,
            self.lit(id),
            self.opt(checksum),
            self.lit(state.as_str()),
            self.identity,
            duration_ms.map_or_else(|| "NULL".to_owned(), |d| d.to_string()),
        )
    }

    /// Records revisions applied before the companion table knew them, with the checksum
    /// of their file now and diesel's `run_on` as when.
    pub fn adopt(&self, rows: &[(String, Option<String>)]) -> Vec<String> {
        rows.chunks(200)
            .map(|chunk| {
                let source: Vec<String> = chunk
                    .iter()
                    .map(|(id, sum)| {
                        format!("SELECT {} AS version, {} AS checksum", self.lit(id), self.opt(sum.as_deref()))
                    })
                    .collect();
                format!(
                    "INSERT INTO {r} (version, checksum, state, applied_at) SELECT s.version, s.checksum, {state}, v.run_on FROM ({source}) s JOIN {v} v ON v.version = s.version",
                    r = self.revisions_table,
                    v = self.version_table,
                    state = self.lit(RecordState::Adopted.as_str()),
                    source = source.join(" UNION ALL "),
                )
            })
            .collect()
    }

    /// Starts the journal of a run that cannot roll back: `done` statements of `total`
    /// completed so far (`exists`: the row is there already — a resumed run or a revert).
    pub fn start_journal(
        &self,
        id: &str,
        checksum: Option<&str>,
        state: RecordState,
        done: usize,
        total: usize,
        exists: bool,
    ) -> String {
        if exists {
            format!(
                "UPDATE {} SET state = {}, statements_done = {done}, statements_total = {total}, note = NULL WHERE version = {}",
                self.revisions_table,
                self.lit(state.as_str()),
                self.lit(id)
            )
        } else {
            format!(
                "INSERT INTO {} (version, checksum, state, applied_at, applied_by, statements_done, statements_total) VALUES ({}, {}, {}, CURRENT_TIMESTAMP, {}, {done}, {total})",
                self.revisions_table,
                self.lit(id),
                self.opt(checksum),
                self.lit(state.as_str()),
                self.identity,
            )
        }
    }

    /// The journal's progress: `done` statements completed, the next one starts now.
    pub fn progress(&self, id: &str, done: usize) -> String {
        format!(
            "UPDATE {} SET statements_done = {done} WHERE version = {}",
            self.revisions_table,
            self.lit(id)
        )
    }

    /// Why a journaled run stopped (the failing statement's error).
    pub fn note(&self, id: &str, note: &str) -> String {
        let note: String = note.chars().take(900).collect();
        format!(
            "UPDATE {} SET note = {} WHERE version = {}",
            self.revisions_table,
            self.lit(&note),
            self.lit(id)
        )
    }

    /// A journaled `up.sql` finished: the revision is applied.
    pub fn finish_journal(
        &self,
        id: &str,
        checksum: Option<&str>,
        duration_ms: u128,
        total: usize,
    ) -> String {
        format!(
            "UPDATE {} SET state = {}, checksum = {}, applied_at = CURRENT_TIMESTAMP, applied_by = {}, duration_ms = {duration_ms}, statements_done = {total}, statements_total = {total}, note = NULL WHERE version = {}",
            self.revisions_table,
            self.lit(RecordState::Applied.as_str()),
            self.opt(checksum),
            self.identity,
            self.lit(id)
        )
    }

    /// Sets a revision's recorded checksum (`stamp --accept-edits`) and state.
    pub fn set_checksum(&self, id: &str, checksum: Option<&str>, state: RecordState) -> String {
        format!(
            "UPDATE {} SET checksum = {}, state = {}, statements_done = statements_total, note = NULL WHERE version = {}",
            self.revisions_table,
            self.opt(checksum),
            self.lit(state.as_str()),
            self.lit(id)
        )
    }

    /// Forgets a revision in the companion table.
    pub fn delete_record(&self, id: &str) -> String {
        format!(
            "DELETE FROM {} WHERE version = {}",
            self.revisions_table,
            self.lit(id)
        )
    }

    /// Empties both tables (`stamp --purge`).
    pub fn purge(&self) -> Vec<String> {
        vec![
            format!("DELETE FROM {}", self.version_table),
            format!("DELETE FROM {}", self.revisions_table),
        ]
    }
}

/// `user@host` of the operating system (for SQLite, which has no database users, and for
/// naming the process that holds a cluster's lock row).
pub(crate) fn os_identity() -> String {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}
