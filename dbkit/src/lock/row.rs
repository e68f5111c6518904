//! The migration lock on a cluster node (MariaDB Galera), where `GET_LOCK` holds on one
//! node only: a row of the lock table ([`LOCK_TABLE`], InnoDB) keyed by the lock's name.
//! Inserting the row takes the lock. When two nodes insert it at once, the cluster's
//! certification commits one insert and fails the other (a deadlock error); a node that
//! already has the row refuses the duplicate key. Either way another run holds the lock,
//! and its row names it: process, database user, node, connection, since when. Deleting
//! the row (by this run's token) releases it.
//!
//! A run killed before it deletes its row leaves the row behind. It is never taken over on
//! a guess: there is no lease, because a DDL statement stalls the cluster's commits (Galera
//! runs it in total order on every node) for longer than any lease, and a live run would
//! lose its lock half-way. A row is taken over only on proof that its holder is gone:
//! - it names another cluster or database (it came with a copy: a restored dump);
//! - it names this very node (its id among the members, new when the node restarts) and
//!   the holder's session no longer holds its liveness lock there, a `GET_LOCK` named after
//!   the holder's token, which the server releases when that session ends.
//!
//! Otherwise the waiting run names the holder, waits up to the lock timeout, and gives up
//! saying which node can see whether the holder is gone, and the statement that removes
//! exactly that row.

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::Connection;
use crate::dialect::ClusterDialect;
use crate::error::{Error, Result};
use crate::term::Reporter;

/// The table holding the migration lock's row on a cluster node (one row per version
/// table, keyed by [`super::lock_name`]).
pub const LOCK_TABLE: &str = "__dbrev_lock";

/// The migration lock held as a row of [`LOCK_TABLE`].
#[derive(Debug)]
pub struct RowLock {
    name: String,
    token: String,
    /// The statement turning causal reads off for the lock's own reads.
    local_reads: &'static str,
}

/// This session as the lock row records it.
#[derive(QueryableByName)]
struct Session {
    #[diesel(sql_type = Text)]
    node: String,
    #[diesel(sql_type = Text)]
    node_id: String,
    #[diesel(sql_type = Text)]
    scope: String,
    #[diesel(sql_type = Text)]
    connection_id: String,
    #[diesel(sql_type = Text)]
    db_user: String,
}

/// The row of the run holding the lock.
#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = Text)]
    token: String,
    #[diesel(sql_type = Text)]
    process: String,
    #[diesel(sql_type = Text)]
    db_user: String,
    #[diesel(sql_type = Text)]
    node: String,
    #[diesel(sql_type = Text)]
    node_id: String,
    #[diesel(sql_type = BigInt)]
    connection_id: i64,
    #[diesel(sql_type = Text)]
    scope: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    since: Option<i64>,
}

impl Holder {
    /// `pid 4242 of alice@build1 (database user root@10.0.0.5, connection 31 on node
    /// node1) since 2026-11-25 19:50:01 UTC`.
    fn describe(&self) -> String {
        let since = self
            .since
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .map(|at| format!(" since {}", crate::script::create_date(at)))
            .unwrap_or_default();
        format!(
            "{} (database user {}, connection {} on node {}){since}",
            self.process, self.db_user, self.connection_id, self.node
        )
    }
}

impl RowLock {
    /// Takes the lock row for `name`, waiting up to `timeout` for its holder to release
    /// it, taking over a row whose holder is proven gone.
    pub fn acquire(
        conn: &mut Connection,
        cluster: &dyn ClusterDialect,
        name: String,
        timeout: Duration,
        reporter: &Reporter,
    ) -> Result<RowLock> {
        let taking = |e: DieselError| Error::LockFailed {
            what: "taking",
            source: e.into(),
        };
        // The lock's reads need no causal wait (certification decides who holds it), and a
        // causal read would wait as long as a DDL statement being applied on this node.
        conn.batch_execute(cluster.local_reads()).map_err(taking)?;
        conn.batch_execute(&cluster.create_lock_table(LOCK_TABLE))
            .map_err(taking)?;
        let me = conn
            .load::<Session>(cluster.session_query())
            .map_err(taking)?
            .pop()
            .ok_or_else(|| Error::Lock("the cluster node did not describe the session".into()))?;
        let lock = RowLock {
            name,
            token: new_token(),
            local_reads: cluster.local_reads(),
        };
        lock.take_liveness(conn)?;
        let waited = lock.wait_for_row(conn, cluster, &me, timeout, reporter);
        if waited.is_err() {
            lock.release_liveness(conn);
        }
        waited.map(|()| lock)
    }

    /// Inserts the row until it is ours, or takes over a row whose holder is gone.
    fn wait_for_row(
        &self,
        conn: &mut Connection,
        cluster: &dyn ClusterDialect,
        me: &Session,
        timeout: Duration,
        reporter: &Reporter,
    ) -> Result<()> {
        let insert = self.insert(conn, me);
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        let mut announced = false;
        loop {
            match conn.batch_execute(&insert) {
                Ok(()) => return Ok(()),
                Err(e) if is_taken(&e, cluster) => {}
                Err(e) => {
                    return Err(Error::LockFailed {
                        what: "taking",
                        source: e.into(),
                    });
                }
            }
            let holder = self.holder(conn)?;
            if let Some(holder) = &holder {
                if let Some(why) = self.gone(conn, me, holder)?
                    && self.take_over(conn, cluster, me, holder)?
                {
                    reporter.warn(format!(
                        "took over the migration lock left by {}: {why}",
                        holder.describe()
                    ));
                    return Ok(());
                }
                if !announced {
                    announced = true;
                    reporter.note(
                        "Waiting",
                        format!(
                            "for the migration lock held by {} (up to {} s)",
                            holder.describe(),
                            timeout.as_secs()
                        ),
                    );
                }
            }
            if started.elapsed() >= timeout {
                return Err(match &holder {
                    Some(holder) => self.gave_up(conn, me, holder, timeout),
                    None => Error::Lock(format!(
                        "the migration lock's row in {LOCK_TABLE} could not be written for {} s (each try conflicted with another node's write); ran nothing",
                        timeout.as_secs()
                    )),
                });
            }
            std::thread::sleep(pause.min(timeout.saturating_sub(started.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// The error after waiting `timeout` for a holder: who, and how to clear a row whose
    /// run is gone.
    fn gave_up(
        &self,
        conn: &Connection,
        me: &Session,
        holder: &Holder,
        timeout: Duration,
    ) -> Error {
        let clear = if same_node(me, holder) {
            String::new()
        } else {
            format!(
                ". If that run is gone (killed, or its node restarted), its row stays: a run against node {} takes the lock over once it sees that run's session has ended, or remove the row yourself: {}",
                holder.node,
                self.delete(conn, &holder.token)
            )
        };
        Error::Lock(format!(
            "the migration lock is held by {}; gave up after {} s and ran nothing (wait longer with --lock-timeout SECS or `lock_timeout` in dbrev.toml){clear}",
            holder.describe(),
            timeout.as_secs()
        ))
    }

    /// Why the holder of `holder`'s row is proven gone, or `None` when it may be alive.
    fn gone(&self, conn: &mut Connection, me: &Session, holder: &Holder) -> Result<Option<String>> {
        if holder.scope != me.scope {
            return Ok(Some(
                "the row names another database or cluster (it came with a copy)".into(),
            ));
        }
        if !same_node(me, holder) {
            return Ok(None);
        }
        let dialect = conn.dialect();
        let Some(probe) = dialect.lock_holder(&liveness_name(&holder.token)) else {
            return Ok(None);
        };
        let alive = conn.query_value(&probe).map_err(|e| Error::LockFailed {
            what: "taking",
            source: e.into(),
        })?;
        Ok(alive.is_none().then(|| {
            format!(
                "its session (connection {}) on this node has ended",
                holder.connection_id
            )
        }))
    }

    /// Replaces `holder`'s row by ours when it still is theirs; whether we hold it now.
    fn take_over(
        &self,
        conn: &mut Connection,
        cluster: &dyn ClusterDialect,
        me: &Session,
        holder: &Holder,
    ) -> Result<bool> {
        let d = conn.dialect();
        let sql = format!(
            "UPDATE {} SET token = {}, process = {}, db_user = {}, node = {}, node_id = {}, connection_id = {}, scope = {}, since = CURRENT_TIMESTAMP WHERE name = {} AND token = {}",
            d.quote_ident(LOCK_TABLE),
            d.quote_literal(&self.token),
            d.quote_literal(&process()),
            d.quote_literal(&me.db_user),
            d.quote_literal(&me.node),
            d.quote_literal(&me.node_id),
            connection_id(me),
            d.quote_literal(&me.scope),
            d.quote_literal(&self.name),
            d.quote_literal(&holder.token),
        );
        match conn.batch_execute(&sql) {
            Ok(()) => {}
            Err(e) if is_taken(&e, cluster) => return Ok(false),
            Err(e) => {
                return Err(Error::LockFailed {
                    what: "taking",
                    source: e.into(),
                });
            }
        }
        Ok(self.holder(conn)?.is_some_and(|h| h.token == self.token))
    }

    /// Releases the lock: deletes our row. An error when the row was not ours any more.
    pub fn release(self, conn: &mut Connection) -> Result<()> {
        let held = conn
            .batch_execute(self.local_reads)
            .map_err(|e| Error::LockFailed {
                what: "releasing",
                source: e.into(),
            })
            .and_then(|()| self.holder(conn))
            .map(|h| h.is_some_and(|h| h.token == self.token));
        let deleted = match held {
            Ok(true) => conn
                .batch_execute(&self.delete(conn, &self.token))
                .map_err(|e| Error::LockFailed {
                    what: "releasing",
                    source: e.into(),
                })
                .map(|()| true),
            Ok(false) => Ok(false),
            Err(e) => Err(e),
        };
        self.release_liveness(conn);
        match deleted? {
            true => Ok(()),
            false => Err(Error::Lock(format!(
                "the migration lock's row in {LOCK_TABLE} was no longer this run's when the run ended (another run took it over); check `cargo dbrev current`"
            ))),
        }
    }

    /// The row for this lock's name, if any.
    fn holder(&self, conn: &mut Connection) -> Result<Option<Holder>> {
        let d = conn.dialect();
        let sql = format!(
            "SELECT token, process, db_user, node, node_id, connection_id, scope, {} AS since FROM {} WHERE name = {}",
            d.epoch_seconds("since"),
            d.quote_ident(LOCK_TABLE),
            d.quote_literal(&self.name)
        );
        conn.load::<Holder>(&sql)
            .map(|mut rows| rows.pop())
            .map_err(|e| Error::LockFailed {
                what: "taking",
                source: e.into(),
            })
    }

    fn insert(&self, conn: &Connection, me: &Session) -> String {
        let d = conn.dialect();
        format!(
            "INSERT INTO {} (name, token, process, db_user, node, node_id, connection_id, scope) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
            d.quote_ident(LOCK_TABLE),
            d.quote_literal(&self.name),
            d.quote_literal(&self.token),
            d.quote_literal(&process()),
            d.quote_literal(&me.db_user),
            d.quote_literal(&me.node),
            d.quote_literal(&me.node_id),
            connection_id(me),
            d.quote_literal(&me.scope),
        )
    }

    /// The statement removing the row of the run whose token is `token` (and no other).
    fn delete(&self, conn: &Connection, token: &str) -> String {
        let d = conn.dialect();
        format!(
            "DELETE FROM {} WHERE name = {} AND token = {}",
            d.quote_ident(LOCK_TABLE),
            d.quote_literal(&self.name),
            d.quote_literal(token)
        )
    }

    /// Takes this run's liveness lock on its node (held by the session until it ends).
    fn take_liveness(&self, conn: &mut Connection) -> Result<()> {
        let name = liveness_name(&self.token);
        let Some(sql) = conn.dialect().try_lock(&name) else {
            return Ok(());
        };
        match conn.query_value(&sql) {
            Ok(Some(one)) if one == "1" => Ok(()),
            Ok(other) => Err(Error::Lock(format!(
                "the server did not give this run's liveness lock (it answered {}); nothing was run",
                other.as_deref().unwrap_or("NULL")
            ))),
            Err(e) => Err(Error::LockFailed {
                what: "taking",
                source: e.into(),
            }),
        }
    }

    fn release_liveness(&self, conn: &mut Connection) {
        if let Some(sql) = conn.dialect().release_lock(&liveness_name(&self.token)) {
            let _ = conn.query_value(&sql);
        }
    }
}

/// Whether a write failed because another run's row is there (a duplicate key on this
/// node, or the cluster's certification failing ours against another node's).
fn is_taken(error: &DieselError, cluster: &dyn ClusterDialect) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    ) || cluster.is_conflict(&error.to_string())
}

/// Whether the holder's row names this very node (by its id among the cluster's members).
fn same_node(me: &Session, holder: &Holder) -> bool {
    !me.node_id.is_empty() && me.node_id == holder.node_id
}

/// The session lock a run holds on its node while it holds the row: free once its session
/// has ended.
fn liveness_name(token: &str) -> String {
    format!("dbrev:run:{token}")
}

fn connection_id(me: &Session) -> i64 {
    me.connection_id.parse().unwrap_or(0)
}

/// `pid 4242 of alice@build1`.
fn process() -> String {
    format!(
        "pid {} of {}",
        std::process::id(),
        crate::journal::os_identity()
    )
}

/// A token no other run has: the process's randomly keyed hasher, the clock, the pid.
fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let part = |salt: u8| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(salt);
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", part(1), part(2))
}
