//! dbrev on a three-node MariaDB Galera cluster (`.ci/galera start`; URLs from
//! `DBREV_TEST_GALERA_URLS`, else the script's 127.0.0.1:3311-3313): the migration lock
//! holds across nodes (eight runs spread over the nodes apply each revision once; a row
//! left by a killed run is taken over only where its end is proven, and otherwise named
//! with the statement that clears it), the journal of a failed revision reads the same on
//! every node, lint warns about what Galera does not replicate, and `dbexport` on a node
//! reads one snapshot while another node writes. Off CI a cluster that does not answer
//! makes these tests ignored; under `CI=true` they fail.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use dbkit::dialect::ClusterDialect as _;
use dbkit::{Connection, DatabaseUrl};
use dbrev_tests::{Project, Skippable, Skipped, add_revision, binary, in_ci, revision_dir};

/// The nodes' URLs as `.ci/galera start` prints them.
const DEFAULT_URLS: &str = "mysql://root@127.0.0.1:3311/test mysql://root@127.0.0.1:3312/test mysql://root@127.0.0.1:3313/test";

/// The cluster's node URLs (`DBREV_TEST_GALERA_URLS`, separated by spaces or commas), once
/// every node answers as a synced member of one cluster of them all.
fn cluster_urls() -> Result<Vec<String>, Skipped> {
    static URLS: OnceLock<Result<Vec<String>, String>> = OnceLock::new();
    URLS.get_or_init(|| {
        let listed = std::env::var("DBREV_TEST_GALERA_URLS")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_URLS.to_owned());
        let urls: Vec<String> = listed
            .split([' ', ',', '\n'])
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        let checked = urls.iter().try_for_each(|url| check_node(url, urls.len()));
        match checked {
            Ok(()) => Ok(urls),
            Err(e) if in_ci() => {
                panic!("the Galera cluster does not answer under CI=true (DBREV_TEST_GALERA_URLS): {e}")
            }
            Err(e) => Err(format!(
                "the Galera cluster does not answer: {e} (start it with `.ci/galera start`, or set DBREV_TEST_GALERA_URLS)"
            )),
        }
    })
    .clone()
    .map_err(Skipped)
}

/// Whether `url` is a synced node of a cluster of `size` nodes.
fn check_node(url: &str, size: usize) -> Result<(), String> {
    let parsed = DatabaseUrl::parse(url, Path::new("/")).map_err(|e| e.to_string())?;
    let mut conn = Connection::establish(&parsed).map_err(|e| e.to_string())?;
    let status = |conn: &mut Connection, name: &str| {
        conn.query_value(&format!(
            "SELECT CAST(VARIABLE_VALUE AS CHAR) AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '{name}'"
        ))
        .map_err(|e| e.to_string())
        .map(Option::unwrap_or_default)
    };
    let state = status(&mut conn, "WSREP_LOCAL_STATE_COMMENT")?;
    let members = status(&mut conn, "WSREP_CLUSTER_SIZE")?;
    if state != "Synced" || members != size.to_string() {
        return Err(format!(
            "{} is {state:?} in a cluster of {members:?}, not a synced node of {size}",
            parsed.masked()
        ));
    }
    Ok(())
}

/// A database of its own on the cluster (created through node 1, seen by every node),
/// dropped at the end.
struct GaleraDb {
    /// Its URL on each node.
    urls: Vec<String>,
    name: String,
    admin: DatabaseUrl,
}

impl GaleraDb {
    fn create() -> Result<GaleraDb, Skipped> {
        let nodes = cluster_urls()?;
        let name = format!(
            "dbrev_g{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let admin = DatabaseUrl::parse(&nodes[0], Path::new("/")).unwrap();
        let mut conn = Connection::establish(&admin).unwrap();
        conn.batch_execute(&format!("CREATE DATABASE `{name}`"))
            .unwrap();
        let urls: Vec<String> = nodes
            .iter()
            .map(|n| {
                let url = DatabaseUrl::parse(n, Path::new("/")).unwrap();
                url.with_database(&name).expose().to_owned()
            })
            .collect();
        let db = GaleraDb { urls, name, admin };
        for node in 0..db.urls.len() {
            // The other nodes apply the CREATE DATABASE in their own time.
            let mut tries = 0;
            while db.try_connect(node).is_none() {
                tries += 1;
                assert!(tries < 100, "node {node} never saw the database");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        Ok(db)
    }

    fn try_connect(&self, node: usize) -> Option<Connection> {
        let url = DatabaseUrl::parse(&self.urls[node], Path::new("/")).unwrap();
        Connection::establish(&url).ok()
    }

    /// A connection to the database on `node`, whose reads wait for the cluster's earlier
    /// commits.
    fn connect(&self, node: usize) -> Connection {
        let mut conn = self.try_connect(node).expect("connect to a node");
        conn.batch_execute("SET SESSION wsrep_sync_wait = 1")
            .unwrap();
        conn
    }

    /// One text value (column `value`) read on `node`.
    fn value(&self, node: usize, sql: &str) -> Option<String> {
        self.connect(node)
            .query_value(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// `SELECT COUNT(*)` of a table, on `node`.
    fn count(&self, node: usize, table: &str) -> String {
        self.value(
            node,
            &format!("SELECT CAST(COUNT(*) AS CHAR) AS value FROM {table}"),
        )
        .unwrap_or_default()
    }

    /// A project whose `.env` points at node 1.
    fn project(&self) -> Project {
        let p = Project::new();
        p.cmd("dbinit").args(["-q"]).ok();
        p.file(".env", &format!("DATABASE_URL={}\n", self.urls[0]));
        p
    }
}

impl Drop for GaleraDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = Connection::establish(&self.admin) {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

/// `cargo dbrev ARGS --database-url <node's URL>` in the project, started, not waited for.
fn spawn_dbrev(p: &Project, db: &GaleraDb, node: usize, args: &[&str]) -> Child {
    Command::new(binary("dbrev"))
        .arg("dbrev")
        .args(args)
        .args(["--database-url", &db.urls[node]])
        .current_dir(p.root())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cargo-dbrev")
}

/// `cargo dbrev ARGS` against `node`, run to the end: exit code and stderr.
fn dbrev_on(p: &Project, db: &GaleraDb, node: usize, args: &[&str]) -> (i32, String, String) {
    let out = spawn_dbrev(p, db, node, args).wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Eight `upgrade head` runs spread over the three nodes at once: every revision runs
/// exactly once (the version table and the rows a data revision inserts say so on every
/// node), and each run either applies what is left or waits naming the holder.
fn eight_concurrent_upgrades_across_nodes_apply_each_revision_once() -> Skippable {
    let db = GaleraDb::create()?;
    let p = db.project();
    add_revision(
        &p,
        "r00",
        "log",
        "CREATE TABLE applied_log (id INT AUTO_INCREMENT PRIMARY KEY, rev VARCHAR(10) NOT NULL);",
        "DROP TABLE applied_log;",
        &[],
    );
    for i in 1..15 {
        let id = format!("r{i:02}");
        add_revision(
            &p,
            &id,
            &format!("step {i}"),
            &format!("INSERT INTO applied_log (rev) VALUES ('{id}');"),
            &format!("DELETE FROM applied_log WHERE rev = '{id}';"),
            &[],
        );
    }
    let runs: Vec<Child> = (0..8)
        .map(|i| spawn_dbrev(&p, &db, i % db.urls.len(), &["upgrade", "head"]))
        .collect();
    let outs: Vec<_> = runs
        .into_iter()
        .map(|r| r.wait_with_output().unwrap())
        .collect();
    let all: Vec<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    for out in outs {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{err}\n=== all:\n{}",
            all.join("\n---\n")
        );
        for line in err.lines().filter(|l| l.contains("Waiting")) {
            assert!(
                line.contains("for the migration lock held by pid ") && line.contains(" on node "),
                "{err}"
            );
        }
        assert!(!err.contains("took over"), "{err}");
    }
    for node in 0..db.urls.len() {
        assert_eq!(db.count(node, "__diesel_schema_migrations"), "15");
        assert_eq!(db.count(node, "applied_log"), "14");
        assert_eq!(
            db.value(
                node,
                "SELECT CAST(COUNT(DISTINCT rev) AS CHAR) AS value FROM applied_log"
            )
            .as_deref(),
            Some("14")
        );
        assert_eq!(db.count(node, "__dbrev_revisions"), "15");
        assert_eq!(db.count(node, "__dbrev_lock"), "0");
    }
    Ok(())
}

/// A revision that fails half-way on node 1 leaves its journal (state, statements done,
/// the error) the same on every node: `current` prints it alike and `upgrade` refuses
/// alike from node 2 and node 3; `--resume` from node 3 finishes it.
fn a_failed_revision_leaves_the_same_journal_on_every_node() -> Skippable {
    let db = GaleraDb::create()?;
    let p = db.project();
    add_revision(
        &p,
        "f1",
        "table",
        "CREATE TABLE items (id INT PRIMARY KEY);",
        "DROP TABLE items;",
        &[],
    );
    add_revision(
        &p,
        "f2",
        "rows",
        "INSERT INTO items (id) VALUES (1);\nINSERT INTO items (id) VALUES (1);\nINSERT INTO items (id) VALUES (3);",
        "DELETE FROM items;",
        &[],
    );
    let (code, _, err) = dbrev_on(&p, &db, 0, &["upgrade", "head"]);
    assert_eq!(code, dbkit::error::exit::SQL, "{err}");
    assert!(err.contains("statements 1–1 of 3 already ran"), "{err}");
    let journal = |node: usize| {
        db.value(
            node,
            "SELECT CAST(CONCAT_WS('|', state, statements_done, statements_total, note) AS CHAR) AS value FROM __dbrev_revisions WHERE version = 'f2'",
        )
    };
    let on_first = journal(0).expect("a journal row");
    assert!(on_first.starts_with("applying|1|3|"), "{on_first}");
    let (_, current_first, _) = dbrev_on(&p, &db, 0, &["current"]);
    let (code, _, refused_first) = dbrev_on(&p, &db, 0, &["upgrade", "head"]);
    assert_eq!(code, dbkit::error::exit::REFUSED, "{refused_first}");
    for node in 1..db.urls.len() {
        assert_eq!(journal(node).as_deref(), Some(on_first.as_str()));
        let (code, current, _) = dbrev_on(&p, &db, node, &["current"]);
        assert_eq!(code, 0);
        assert_eq!(current, current_first);
        assert!(current.contains("f2 partially applied"), "{current}");
        let (code, _, refused) = dbrev_on(&p, &db, node, &["upgrade", "head"]);
        assert_eq!(code, dbkit::error::exit::REFUSED, "{refused}");
        assert_eq!(last_line(&refused), last_line(&refused_first));
    }
    let up = revision_dir(&p, "f2").join("up.sql");
    let text = std::fs::read_to_string(&up).unwrap();
    std::fs::write(
        &up,
        text.replace(
            "VALUES (1);\nINSERT INTO items (id) VALUES (1)",
            "VALUES (1);\nINSERT INTO items (id) VALUES (2)",
        ),
    )
    .unwrap();
    let (code, _, err) = dbrev_on(&p, &db, 2, &["upgrade", "--resume"]);
    assert_eq!(code, 0, "{err}");
    for node in 0..db.urls.len() {
        assert_eq!(db.count(node, "items"), "3");
        assert_eq!(db.count(node, "__diesel_schema_migrations"), "2");
    }
    Ok(())
}

/// The scope (cluster and database) and node id a run on `node` records in its lock row.
fn session_of(db: &GaleraDb, node: usize) -> (String, String) {
    let status = |name: &str| {
        db.value(
            node,
            &format!("SELECT CAST(VARIABLE_VALUE AS CHAR) AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '{name}'"),
        )
        .unwrap_or_default()
    };
    (
        format!("{}/{}", status("WSREP_CLUSTER_STATE_UUID"), db.name),
        status("WSREP_GCOMM_UUID"),
    )
}

/// Writes a lock row by hand, as a run elsewhere would have.
fn plant_lock_row(db: &GaleraDb, scope: &str, node_id: &str, node_name: &str) {
    let mut conn = db.connect(0);
    conn.batch_execute(
        dbkit::dialect::GaleraDialect
            .create_lock_table("__dbrev_lock")
            .as_str(),
    )
    .unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO __dbrev_lock (name, token, process, db_user, node, node_id, connection_id, scope) \
         VALUES ('dbrev:__diesel_schema_migrations', 'feedface', 'pid 4242 of alice@build7', 'deploy@10.0.0.7', '{node_name}', '{node_id}', 77, '{scope}')"
    ))
    .unwrap();
}

/// A lock row copied from elsewhere (another database or cluster) is taken over with a
/// warning; a row left by a run on another node is never taken: the waiting run names its
/// holder, gives up after the lock timeout (exit 6) and prints the statement that removes
/// exactly that row, which clears it.
fn a_lock_row_is_taken_over_only_when_its_holder_is_proven_gone() -> Skippable {
    let db = GaleraDb::create()?;
    let p = db.project();
    add_revision(
        &p,
        "h1",
        "table",
        "CREATE TABLE h (id INT PRIMARY KEY);",
        "DROP TABLE h;",
        &[],
    );
    plant_lock_row(&db, "some-other-cluster/prod", "x", "node9");
    let (code, _, err) = dbrev_on(&p, &db, 0, &["upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: took over the migration lock left by pid 4242 of alice@build7 (database user deploy@10.0.0.7, connection 77 on node node9)")
            && err.contains("the row names another database or cluster (it came with a copy)"),
        "{err}"
    );
    let _ = dbrev_on(&p, &db, 0, &["downgrade", "base"]);
    let (scope, node2_id) = session_of(&db, 1);
    plant_lock_row(&db, &scope, &node2_id, "node2");
    let (code, _, err) = dbrev_on(&p, &db, 0, &["upgrade", "head", "--lock-timeout", "2"]);
    assert_eq!(code, dbkit::error::exit::LOCK, "{err}");
    assert_eq!(
        err.matches("Waiting for the migration lock held by pid 4242 of alice@build7")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("error: the migration lock is held by pid 4242 of alice@build7 (database user deploy@10.0.0.7, connection 77 on node node2) since "), "{err}");
    assert!(err.contains("gave up after 2 s and ran nothing"), "{err}");
    assert!(
        err.contains(
            "a run against node node2 takes the lock over once it sees that run's session has ended"
        ),
        "{err}"
    );
    assert_eq!(db.count(0, "__diesel_schema_migrations"), "0");
    let clear = err
        .split("remove the row yourself: ")
        .nth(1)
        .expect("the statement that clears the row")
        .trim();
    assert_eq!(
        clear,
        "DELETE FROM `__dbrev_lock` WHERE name = 'dbrev:__diesel_schema_migrations' AND token = 'feedface'"
    );
    db.connect(2).batch_execute(clear).unwrap();
    let (code, _, err) = dbrev_on(&p, &db, 0, &["upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("Waiting"), "{err}");
    Ok(())
}

/// A run killed half-way leaves its lock row: a run on another node cannot tell whether it
/// is gone and gives up naming it; a run on the killed run's node takes the lock over once
/// the server has ended the killed run's session, and then finds the partial revision in
/// the journal and refuses to go on.
fn a_killed_run_leaves_its_lock_to_a_run_on_its_node() -> Skippable {
    let db = GaleraDb::create()?;
    let p = db.project();
    add_revision(
        &p,
        "k1",
        "table",
        "CREATE TABLE k (id INT PRIMARY KEY);",
        "DROP TABLE k;",
        &[],
    );
    add_revision(
        &p,
        "k2",
        "slow",
        "INSERT INTO k (id) VALUES (1);\nDO SLEEP(3);\nINSERT INTO k (id) VALUES (2);",
        "DELETE FROM k;",
        &[],
    );
    let mut run = spawn_dbrev(&p, &db, 0, &["upgrade", "head"]);
    let started = std::time::Instant::now();
    let done = "SELECT CAST(statements_done AS CHAR) AS value FROM __dbrev_revisions WHERE version = 'k2' AND state = 'applying'";
    while db
        .try_connect(0)
        .and_then(|mut c| c.query_value(done).ok().flatten())
        .as_deref()
        != Some("1")
    {
        assert!(
            started.elapsed().as_secs() < 60,
            "the run never reached k2's sleep"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = run.id();
    run.kill().unwrap();
    run.wait().unwrap();
    let (code, _, err) = dbrev_on(&p, &db, 1, &["upgrade", "head", "--lock-timeout", "1"]);
    assert_eq!(code, dbkit::error::exit::LOCK, "{err}");
    assert!(
        err.contains(&format!("the migration lock is held by pid {pid} of ")),
        "{err}"
    );
    assert!(err.contains("on node node1) since "), "{err}");
    assert!(
        err.contains("a run against node node1 takes the lock over"),
        "{err}"
    );
    let (code, _, err) = dbrev_on(&p, &db, 0, &["upgrade", "head", "--lock-timeout", "60"]);
    assert_eq!(code, dbkit::error::exit::REFUSED, "{err}");
    assert!(
        err.contains(&format!(
            "warning: took over the migration lock left by pid {pid} of "
        )),
        "{err}"
    );
    assert!(err.contains("on this node has ended"), "{err}");
    assert!(
        err.contains("k2 partially applied: statements 1–1 of 3 completed"),
        "{err}"
    );
    assert_eq!(db.count(1, "__dbrev_lock"), "0");
    Ok(())
}

/// Statements Galera does not replicate, or locks that hold on one node, are lint findings
/// when the database is a Galera node: `lint` against a node lists them (exit 1) and
/// `upgrade` prints them before applying; against a server that is not a node they appear
/// only with `[lint] galera = true`.
fn unsafe_statements_are_warned_on_a_galera_node() -> Skippable {
    let db = GaleraDb::create()?;
    db.connect(0)
        .batch_execute("CREATE TABLE legacy (a INT) ENGINE=Aria")
        .unwrap();
    let p = db.project();
    add_revision(
        &p,
        "u1",
        "tables",
        "CREATE TABLE cache (k VARCHAR(10) PRIMARY KEY, v INT) ENGINE=MyISAM;\nCREATE TABLE notes (msg VARCHAR(100));",
        "DROP TABLE notes;\nDROP TABLE cache;",
        &[],
    );
    add_revision(
        &p,
        "u2",
        "rows",
        "LOCK TABLES cache WRITE;\nINSERT INTO cache (k, v) VALUES ('a', 1);\nUNLOCK TABLES;\nUPDATE legacy SET a = 1 WHERE a = 0;",
        "DELETE FROM cache;",
        &[],
    );
    let (code, out, err) = dbrev_on(&p, &db, 1, &["lint"]);
    assert_eq!(code, dbkit::error::exit::NO, "{out}{err}");
    assert!(err.contains("for mysql on a Galera node"), "{err}");
    for expected in [
        "u1_tables/up.sql:8: GAL001 error: cache is created ENGINE=MyISAM: Galera replicates only InnoDB's rows",
        "u1_tables/up.sql:9: GAL003 warning: notes has no primary key",
        "u2_rows/up.sql:8: GAL002 error: LOCK TABLES locks on the node that runs it only",
        "u2_rows/up.sql:9: GAL001 error: cache is MyISAM (the revision history gives it)",
        "u2_rows/up.sql:11: GAL001 error: legacy is Aria (in the database)",
        "u2_rows/up.sql:11: GAL003 warning: legacy has no primary key (in the database)",
    ] {
        assert!(out.contains(expected), "lacks {expected:?}:\n{out}");
    }
    // (LOCK TABLES then also stops dbrev's own journal write: the run fails at u2.)
    let (_, _, err) = dbrev_on(&p, &db, 0, &["upgrade", "head"]);
    let lint_at = err
        .find("GAL001 error: cache is created ENGINE=MyISAM")
        .expect(&err);
    assert!(err.contains("GAL002 error: LOCK TABLES"), "{err}");
    assert!(lint_at < err.find("Applied u1").expect(&err), "{err}");
    // Not a cluster node (no server answers here): no Galera rule, unless configured.
    let elsewhere = [
        "lint",
        "--all",
        "--database-url",
        "mysql://root@127.0.0.1:1/none",
    ];
    let (_, out, err) = dbrev_on_url(&p, &elsewhere);
    assert!(!out.contains("GAL00"), "{out}{err}");
    let config = p.read("dbrev.toml");
    p.file("dbrev.toml", &format!("{config}\n[lint]\ngalera = true\n"));
    let (code, out, err) = dbrev_on_url(&p, &elsewhere);
    assert_eq!(code, dbkit::error::exit::NO, "{out}{err}");
    assert!(
        out.contains("GAL001 error: cache is created ENGINE=MyISAM"),
        "{out}"
    );
    assert!(out.contains("GAL002 error: LOCK TABLES"), "{out}");
    assert!(!out.contains("legacy is Aria"), "{out}");
    Ok(())
}

/// `cargo dbrev ARGS` with the URL the arguments give.
fn dbrev_on_url(p: &Project, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary("dbrev"))
        .arg("dbrev")
        .args(args)
        .current_dir(p.root())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cargo dbexport` on node 1 while node 2 moves money between accounts (each transfer one
/// transaction that also logs it and counts it): the dump holds one snapshot (the total is
/// unchanged, the log and the counter agree, everything committed before the dump started
/// is in), and it restores on node 3.
fn dbexport_on_a_node_reads_one_snapshot_while_another_writes() -> Skippable {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let db = GaleraDb::create()?;
    let copy = GaleraDb::create()?;
    db.connect(0)
        .batch_execute(
            "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL, pad VARCHAR(200) NOT NULL);
             INSERT INTO accounts SELECT seq, 100, REPEAT('x', 200) FROM seq_1_to_30000;
             CREATE TABLE moves (id INT AUTO_INCREMENT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL);
             CREATE TABLE totals (id INT PRIMARY KEY, moves INT NOT NULL);
             INSERT INTO totals VALUES (1, 0);",
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, committed) = (stop.clone(), committed.clone());
        let mut conn = db.connect(1);
        std::thread::spawn(move || {
            let mut seed: u64 = 7;
            while !stop.load(Ordering::SeqCst) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (src, dst) = (seed % 30000 + 1, (seed >> 20) % 30000 + 1);
                conn.batch_execute(&format!(
                    "BEGIN; UPDATE accounts SET balance = balance - 1 WHERE id = {src};
                     UPDATE accounts SET balance = balance + 1 WHERE id = {dst};
                     INSERT INTO moves (src, dst) VALUES ({src}, {dst});
                     UPDATE totals SET moves = moves + 1 WHERE id = 1; COMMIT"
                ))
                .unwrap();
                committed.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let wait_for = |n: u64| {
        while committed.load(Ordering::SeqCst) < n {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    wait_for(5);
    let before = committed.load(Ordering::SeqCst);
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.cmd("dbexport")
        .args(["-o", "dump.sql", "--database-url", &db.urls[0]])
        .ok();
    let after = committed.load(Ordering::SeqCst);
    wait_for(after + 3);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.urls[2]])
        .ok();
    let value = |sql: &str| copy.value(2, sql).unwrap_or_default();
    assert_eq!(
        value("SELECT CAST(SUM(balance) AS CHAR) AS value FROM accounts"),
        "3000000"
    );
    let logged: u64 = copy.count(2, "moves").parse().unwrap();
    let counted: u64 = value("SELECT CAST(moves AS CHAR) AS value FROM totals")
        .parse()
        .unwrap();
    assert_eq!(logged, counted);
    assert!(
        (before..=after).contains(&logged),
        "the dump holds {logged} transfers; {before} were committed before it started, {after} when it ended"
    );
    let total: u64 = db.count(0, "moves").parse().unwrap();
    assert!(total > logged, "writes went on during and after the dump");
    Ok(())
}

fn last_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap_or_default()
}

dbrev_tests::main! {
    backend: [],
    plain: [
        eight_concurrent_upgrades_across_nodes_apply_each_revision_once,
        a_failed_revision_leaves_the_same_journal_on_every_node,
        a_lock_row_is_taken_over_only_when_its_holder_is_proven_gone,
        a_killed_run_leaves_its_lock_to_a_run_on_its_node,
        unsafe_statements_are_warned_on_a_galera_node,
        dbexport_on_a_node_reads_one_snapshot_while_another_writes,
    ],
}
