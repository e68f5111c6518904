//! Whether a connection reaches a node of a cluster whose every node takes writes (MariaDB
//! Galera), and what that changes: the session's reads are made causal (they wait until
//! the node has applied what other nodes committed before them, so `current` on one node
//! shows the journal a run on another node wrote), the migration lock becomes a row of a
//! lock table (`lock/row.rs`), and the tables whose rows the cluster does not replicate
//! (another engine than InnoDB) or replicates badly (no primary key) are listed for the
//! companion tables' check and for lint.

use std::collections::{BTreeMap, BTreeSet};

use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text};

use crate::db::Connection;
use crate::dialect::ClusterDialect;
use crate::error::{Error, Result};

/// The cluster `conn` is a node of, with the session's reads made causal; `None` when it
/// is not one (or its backend has no such clusters). A probe that fails for another reason
/// than the server not knowing such clusters is an error: dbrev never guesses.
pub fn node(conn: &mut Connection) -> Result<Option<&'static dyn ClusterDialect>> {
    let Some(cluster) = conn.dialect().cluster() else {
        return Ok(None);
    };
    let answer = match conn.query_value(cluster.probe()) {
        Ok(answer) => answer,
        Err(e) if cluster.probe_unsupported(&e.to_string()) => return Ok(None),
        Err(e) => {
            return Err(Error::sql(
                format!(
                    "asking {} whether it is a {} cluster node",
                    conn.url(),
                    cluster.name()
                ),
                e,
            ));
        }
    };
    match answer.as_deref() {
        Some("1") => {
            conn.batch_execute(cluster.causal_reads()).map_err(|e| {
                Error::sql(
                    format!("making reads wait for the {} cluster", cluster.name()),
                    e,
                )
            })?;
            Ok(Some(cluster))
        }
        Some("0") | None => Ok(None),
        Some(other) => Err(Error::Lock(format!(
            "asked whether {} is a {} cluster node, the server answered `{other}`; nothing was run",
            conn.url(),
            cluster.name()
        ))),
    }
}

/// Whether a read on a cluster node failed because the node did not catch up with the
/// cluster in time; then the error says so and what to do.
pub fn catch_up_failed(
    conn: &Connection,
    cluster: Option<&dyn ClusterDialect>,
    context: &str,
    error: &diesel::result::Error,
) -> Option<Error> {
    let cluster = cluster.filter(|c| c.is_catch_up_timeout(&error.to_string()))?;
    Some(Error::Query {
        context: context.to_owned(),
        message: format!(
            "{} did not catch up with the {} cluster in time (it is applying a long statement another node ran, most likely a migration's ALTER TABLE); try again once that is done",
            conn.url(),
            cluster.name()
        ),
    })
}

/// The tables of the current database whose writes a cluster does not replicate, or
/// replicates badly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hazards {
    /// Tables in an engine the cluster does not replicate, by lower-case name: the engine.
    pub engines: BTreeMap<String, String>,
    /// Tables without a primary key, by lower-case name.
    pub keyless: BTreeSet<String>,
}

#[derive(QueryableByName)]
struct HazardRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    engine: Option<String>,
    #[diesel(sql_type = Text)]
    primary_key: String,
}

/// Reads the [`Hazards`] of the current database (one query).
pub fn hazards(conn: &mut Connection, cluster: &dyn ClusterDialect) -> Result<Hazards> {
    let rows = conn
        .load::<HazardRow>(cluster.hazards_query())
        .map_err(|e| {
            Error::sql(
                format!(
                    "listing the tables a {} cluster does not replicate",
                    cluster.name()
                ),
                e,
            )
        })?;
    let mut hazards = Hazards::default();
    for row in rows {
        let key = row.table_name.to_lowercase();
        if let Some(engine) = row.engine {
            hazards.engines.insert(key.clone(), engine);
        }
        if row.primary_key == "0" {
            hazards.keyless.insert(key);
        }
    }
    Ok(hazards)
}

/// Refuses to keep dbrev's own tables in an engine the cluster does not replicate: other
/// nodes would not see the applied revisions or the journal of a partial run.
pub fn check_own_tables(
    conn: &mut Connection,
    cluster: &dyn ClusterDialect,
    tables: &[&str],
) -> Result<()> {
    let hazards = hazards(conn, cluster)?;
    for table in tables {
        if let Some(engine) = hazards.engines.get(&table.to_lowercase()) {
            return Err(Error::Refused(format!(
                "{} is a {} cluster node and dbrev's table {table} is {engine}, whose rows {} does not replicate: the other nodes would not see which revisions ran. Convert it first: ALTER TABLE {} ENGINE={}",
                conn.url(),
                cluster.name(),
                cluster.name(),
                conn.dialect().quote_ident(table),
                cluster.replicated_engine()
            )));
        }
    }
    Ok(())
}
