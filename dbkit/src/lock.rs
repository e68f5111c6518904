//! The migration lock that makes concurrent runs apply each revision once: a session lock
//! (PostgreSQL advisory lock, MySQL `GET_LOCK`) taken for the whole run, on a cluster node
//! (MariaDB Galera, where a session lock holds on one node only) a row of a lock table
//! (`row`), or on SQLite the exclusive transaction each revision runs in. It is tried
//! once; when another session holds it, dbrev says who (once) and waits up to the lock
//! timeout, then gives up with [`Error::Lock`] naming the holder. A lock the server would
//! not give is never ignored.

mod row;

use std::time::{Duration, Instant};

pub use row::{LOCK_TABLE, RowLock};

use crate::db::{Connection, ValueRow};
use crate::error::{Error, Result};
use crate::term::Reporter;

/// A migration lock held by this session.
#[derive(Debug)]
pub enum MigrationLock {
    /// A session lock (advisory lock, `GET_LOCK`) held until [`MigrationLock::release`].
    Session {
        /// The lock's name.
        name: String,
    },
    /// An exclusive transaction is open (SQLite): the set-up runs inside it, then
    /// [`MigrationLock::end_setup`] commits it and each revision takes its own.
    Transaction,
    /// A row of [`LOCK_TABLE`], on a node of a cluster whose session locks hold on one
    /// node only (Galera).
    Row(RowLock),
}

/// The name of the migration lock of a version table (the lock is per database).
pub fn lock_name(version_table: &str) -> String {
    format!("dbrev:{version_table}")
}

/// What a try-lock answered: `1` taken, `0` held by another session; anything else (NULL
/// on an error inside `GET_LOCK`, say) is an error, never a run without the lock.
fn taken(answer: Option<&str>) -> Result<bool> {
    match answer {
        Some("1") => Ok(true),
        Some("0") => Ok(false),
        other => Err(Error::Lock(format!(
            "the server did not give the migration lock (it answered {}); nothing was run",
            other.unwrap_or("NULL")
        ))),
    }
}

impl MigrationLock {
    /// Takes the migration lock for `version_table`, waiting up to `timeout` for another
    /// session to release it.
    pub fn acquire(
        conn: &mut Connection,
        version_table: &str,
        timeout: Duration,
        reporter: &Reporter,
    ) -> Result<MigrationLock> {
        let name = lock_name(version_table);
        if let Some(cluster) = crate::cluster::node(conn)? {
            return RowLock::acquire(conn, cluster, name, timeout, reporter).map(Self::Row);
        }
        let dialect = conn.dialect();
        let Some(try_lock) = dialect.try_lock(&name) else {
            return Self::exclusive_transaction(conn, timeout, reporter);
        };
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        let mut announced = false;
        loop {
            let got = conn
                .load::<ValueRow>(&try_lock)
                .map_err(|e| Error::LockFailed {
                    what: "taking",
                    source: e.into(),
                })?;
            if taken(got.first().and_then(|r| r.value.as_deref()))? {
                return Ok(MigrationLock::Session { name });
            }
            if !announced {
                announced = true;
                reporter.note(
                    "Waiting",
                    format!(
                        "for the migration lock held by {} (up to {} s)",
                        holder(conn, &name),
                        timeout.as_secs()
                    ),
                );
            }
            if started.elapsed() >= timeout {
                return Err(Error::Lock(format!(
                    "the migration lock is held by {}; gave up after {} s and ran nothing (wait longer with --lock-timeout SECS or `lock_timeout` in dbrev.toml)",
                    holder(conn, &name),
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(pause.min(timeout.saturating_sub(started.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// SQLite: `BEGIN EXCLUSIVE`, tried once without waiting, then with the busy timeout.
    fn exclusive_transaction(
        conn: &mut Connection,
        timeout: Duration,
        reporter: &Reporter,
    ) -> Result<MigrationLock> {
        let dialect = conn.dialect();
        let set_wait = |conn: &mut Connection, wait: Duration| -> Result<()> {
            match dialect.wait_for_locks(wait) {
                Some(sql) => conn
                    .batch_execute(&sql)
                    .map_err(|e| Error::sql("setting the lock timeout", e)),
                None => Ok(()),
            }
        };
        set_wait(conn, Duration::ZERO)?;
        let first = conn.batch_execute(dialect.begin_transaction());
        set_wait(conn, timeout)?;
        match first {
            Ok(()) => return Ok(MigrationLock::Transaction),
            Err(e) if dialect.is_lock_timeout(&e.to_string()) => {}
            Err(e) => {
                return Err(Error::sql("starting a transaction", e));
            }
        }
        reporter.note(
            "Waiting",
            format!(
                "for the write lock on {}, held by another connection (SQLite does not say which; up to {} s)",
                conn.url(),
                timeout.as_secs()
            ),
        );
        begin_exclusive(conn, timeout)?;
        Ok(MigrationLock::Transaction)
    }

    /// Ends the set-up part of the run: commits the exclusive transaction it ran in (SQLite).
    pub fn end_setup(&self, conn: &mut Connection) -> Result<()> {
        match self {
            MigrationLock::Session { .. } | MigrationLock::Row(_) => Ok(()),
            MigrationLock::Transaction => conn
                .batch_execute("COMMIT")
                .map_err(|e| Error::sql("committing", e)),
        }
    }

    /// Undoes a set-up that failed (rolls the exclusive transaction back, on SQLite).
    pub fn abandon_setup(&self, conn: &mut Connection) {
        if let MigrationLock::Transaction = self {
            let _ = conn.batch_execute("ROLLBACK");
        }
    }

    /// Releases a session lock. An error is reported only when the server says the lock
    /// was not held any more (the session was cut and the run went on unprotected).
    pub fn release(self, conn: &mut Connection) -> Result<()> {
        let name = match self {
            MigrationLock::Session { name } => name,
            MigrationLock::Row(row) => return row.release(conn),
            MigrationLock::Transaction => return Ok(()),
        };
        let Some(sql) = conn.dialect().release_lock(&name) else {
            return Ok(());
        };
        let released = conn.load::<ValueRow>(&sql).map_err(|e| Error::LockFailed {
            what: "releasing",
            source: e.into(),
        })?;
        match released.first().and_then(|r| r.value.as_deref()) {
            Some("1") => Ok(()),
            _ => Err(Error::Lock(
                "the migration lock was no longer held when the run ended (was the session cut?); check `cargo dbrev current`".into(),
            )),
        }
    }
}

/// Starts a revision's exclusive transaction (SQLite), waiting up to the busy timeout; a
/// timeout is [`Error::Lock`].
pub fn begin_exclusive(conn: &mut Connection, timeout: Duration) -> Result<()> {
    let dialect = conn.dialect();
    conn.batch_execute(dialect.begin_transaction())
        .map_err(|e| {
            if dialect.is_lock_timeout(&e.to_string()) {
                Error::Lock(format!(
                    "{} stayed locked by another connection for {} s; ran nothing more (wait longer with --lock-timeout SECS or `lock_timeout` in dbrev.toml)",
                    conn.url(),
                    timeout.as_secs()
                ))
            } else {
                Error::sql("starting a transaction", e)
            }
        })
}

/// Who holds the lock, as the server tells it; "another session" when it cannot.
fn holder(conn: &mut Connection, name: &str) -> String {
    conn.dialect()
        .lock_holder(name)
        .and_then(|sql| conn.query_value(&sql).ok().flatten())
        .unwrap_or_else(|| "another session".into())
}

#[cfg(test)]
mod tests {
    use super::taken;

    #[test]
    fn only_a_one_takes_the_lock_and_null_is_an_error() {
        assert!(taken(Some("1")).unwrap());
        assert!(!taken(Some("0")).unwrap());
        for answer in [None, Some(""), Some("2")] {
            let error = taken(answer).unwrap_err().to_string();
            assert!(error.contains("nothing was run"), "{error}");
        }
        assert!(
            taken(None)
                .unwrap_err()
                .to_string()
                .contains("answered NULL")
        );
    }
}
