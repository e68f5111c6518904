//! Clusters whose every node takes writes and replicates them synchronously (MariaDB
//! Galera), behind [`ClusterDialect`], which a backend's dialect returns from
//! [`Dialect::cluster`](super::Dialect::cluster). There a session lock (`GET_LOCK`) holds
//! on one node only, so the migration lock is a row of a lock table, whose conflicting
//! writes the cluster's certification lets only one node commit (`lock/row.rs`); reads
//! wait for the writes other nodes committed before them; and the tables whose rows the
//! cluster does not replicate (or replicates badly) are what lint warns about.

/// What dbrev asks a node of such a cluster, and how it writes its lock there.
pub trait ClusterDialect: Send + Sync {
    /// The kind of cluster, for messages (`Galera`).
    fn name(&self) -> &'static str;

    /// The query whose `value` is `1` on a node of such a cluster and `0` elsewhere.
    fn probe(&self) -> &'static str;

    /// Whether the probe's error means the server has no such cluster at all (a server
    /// built without it does not know the variable), rather than a failure.
    fn probe_unsupported(&self, message: &str) -> bool;

    /// The statement making the session's reads wait until the node has applied every
    /// write the cluster committed before them (Galera's `wsrep_sync_wait`).
    fn causal_reads(&self) -> &'static str;

    /// The statement making the session's reads read what the node has applied, without
    /// waiting: while a long DDL statement is being applied, a causal read waits for it.
    fn local_reads(&self) -> &'static str;

    /// Whether a read's error means the node did not catch up with the cluster in time
    /// for a causal read (it is applying a long DDL statement, most likely).
    fn is_catch_up_timeout(&self, message: &str) -> bool;

    /// One row describing this session as the lock row records it, in columns `node` (the
    /// node's name), `node_id` (its id among the cluster's members, new when it restarts
    /// or rejoins), `scope` (the cluster's id and the database: a row with another scope
    /// was copied from elsewhere), `connection_id` and `db_user` (`user@host`).
    fn session_query(&self) -> &'static str;

    /// `CREATE TABLE IF NOT EXISTS` for the lock table, in an engine the cluster
    /// replicates: the lock name as primary key, the holder's token, process, user, node,
    /// node id, connection id and scope, and when it took the lock (`since`).
    fn create_lock_table(&self, table: &str) -> String;

    /// Whether a write's error means another node's conflicting write was committed first
    /// (Galera's certification failure, reported as a deadlock).
    fn is_conflict(&self, message: &str) -> bool;

    /// The query listing the current database's tables whose writes the cluster does not
    /// replicate or replicates badly: `table_name`, `engine` (NULL when the cluster
    /// replicates it) and `primary_key` (`1` or `0`).
    fn hazards_query(&self) -> &'static str;

    /// The engine name of the only engine the cluster replicates (`InnoDB`).
    fn replicated_engine(&self) -> &'static str;
}
