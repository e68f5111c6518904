//! `cargo dbexport` carries every object the native dumpers carry: a PostgreSQL database
//! with an extension type, a partitioned table, a materialized view with a unique index,
//! comments on every kind, composite, domain, enum and range types, an aggregate used by a
//! view, `BEGIN ATOMIC` functions, extended statistics, an owned sequence, a second schema,
//! rules, policies; a MariaDB database with routines, a trigger, an event and a view created
//! under a strict `sql_mode` and other collations. Each is dumped, loaded with the native
//! client (`psql -v ON_ERROR_STOP=1`, `mariadb`) and with `cargo dbexport restore` into
//! fresh databases, and compared object by object (catalog definitions and rows) with the
//! source; the native dumpers' output of the same databases restores equally.

use std::path::Path;

use dbrev_tests::{Backend, Project, Skippable, TestDb};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/export")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Objects of the user's schemas that no extension owns: `{alias}` stands for the row,
/// `{catalog}` for its catalog.
const NOT_EXTENSION: &str = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {alias}.oid AND e.deptype = 'e')";

fn not_extension(catalog: &str, alias: &str) -> String {
    NOT_EXTENSION
        .replace("{catalog}", catalog)
        .replace("{alias}", alias)
}

const USER_SCHEMA: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

/// Every object of a PostgreSQL database, one line each, by kind: the server's own
/// rendering of its definition (`pg_get_*def`, `format_type`), never our dump's text.
fn pg_catalog(db: &TestDb) -> Vec<String> {
    let queries = [
        (
            "schema",
            format!("SELECT n.nspname::text AS value FROM pg_namespace n WHERE {USER_SCHEMA}"),
        ),
        (
            "extension",
            "SELECT extname || ' in ' || extnamespace::regnamespace::text || ' ' || extversion AS value FROM pg_extension"
                .to_owned(),
        ),
        (
            "relation",
            format!(
                "SELECT concat_ws(' | ', c.relkind, c.oid::regclass, c.relpersistence, c.reloptions::text, \
                    c.relispartition, pg_get_expr(c.relpartbound, c.oid), \
                    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
                    (SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid), \
                    c.relrowsecurity, c.relforcerowsecurity, \
                    CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, \
                    CASE WHEN c.relkind = 'm' THEN c.relispopulated END) AS value \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c', 'S', 'f') AND {USER_SCHEMA} AND {}",
                not_extension("pg_class", "c")
            ),
        ),
        (
            "columns",
            format!(
                "SELECT c.oid::regclass::text || ': ' || string_agg(concat_ws(' ', quote_ident(a.attname), \
                    format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated, \
                    pg_get_expr(d.adbin, d.adrelid), a.attcollation::regcollation), ', ' ORDER BY a.attnum) AS value \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                 LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
                 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c') AND {USER_SCHEMA} AND {} GROUP BY c.oid",
                not_extension("pg_class", "c")
            ),
        ),
        (
            "type",
            format!(
                "SELECT concat_ws(' | ', t.oid::regtype, t.typtype, \
                    (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), \
                    CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, \
                    t.typnotnull, t.typdefault, t.typcollation::regcollation, \
                    (SELECT concat_ws(',', r.rngsubtype::regtype, (SELECT o.opcname FROM pg_opclass o WHERE o.oid = r.rngsubopc), r.rngcollation, r.rngcanonical, r.rngsubdiff, \
                        r.rngmultitypid::regtype) FROM pg_range r WHERE r.rngtypid = t.oid)) AS value \
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE t.typtype IN ('e', 'd', 'r', 'm') AND {USER_SCHEMA} AND {}",
                not_extension("pg_type", "t")
            ),
        ),
        (
            "routine",
            format!(
                "SELECT concat_ws(' | ', p.oid::regprocedure, p.prokind, \
                    CASE WHEN p.prokind = 'a' THEN \
                        (SELECT concat_ws(',', a.aggkind, a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggtranstype::regtype, \
                            a.agginitval, a.aggsortop, a.aggmtransfn, a.aggfinalextra, a.aggfinalmodify, p.proparallel) \
                         FROM pg_aggregate a WHERE a.aggfnoid = p.oid) \
                    ELSE pg_get_functiondef(p.oid) END) AS value \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_SCHEMA} AND {}",
                not_extension("pg_proc", "p")
            ),
        ),
        (
            "constraint",
            format!(
                "SELECT concat_ws(' | ', coalesce(k.conrelid::regclass::text, k.contypid::regtype::text), k.conname, k.contype, \
                    pg_get_constraintdef(k.oid), k.convalidated, k.condeferrable, k.condeferred, k.coninhcount, \
                    k.conparentid <> 0) AS value \
                 FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE {USER_SCHEMA} AND {}",
                not_extension("pg_constraint", "k")
            ),
        ),
        (
            "index",
            format!(
                "SELECT concat_ws(' | ', pg_get_indexdef(i.indexrelid), i.indisclustered, i.indisvalid, \
                    (SELECT h.inhparent::regclass::text FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)) AS value \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {USER_SCHEMA} AND {}",
                not_extension("pg_class", "c")
            ),
        ),
        (
            "trigger",
            "SELECT pg_get_triggerdef(t.oid) || ' | ' || t.tgenabled::text AS value FROM pg_trigger t WHERE NOT t.tgisinternal"
                .to_owned(),
        ),
        (
            "rule",
            "SELECT pg_get_ruledef(r.oid) AS value FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                .to_owned(),
        ),
        (
            "statistics",
            "SELECT pg_get_statisticsobjdef(s.oid) AS value FROM pg_statistic_ext s".to_owned(),
        ),
        (
            "policy",
            "SELECT concat_ws(' | ', p.polname, p.polrelid::regclass, p.polcmd, p.polpermissive, p.polroles::text, \
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)) AS value FROM pg_policy p"
                .to_owned(),
        ),
        (
            "sequence",
            "SELECT concat_ws(' | ', s.schemaname || '.' || s.sequencename, s.data_type, s.start_value, s.min_value, s.max_value, \
                s.increment_by, s.cycle, s.cache_size, s.last_value, \
                (SELECT d.deptype::text || ' ' || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) FROM pg_depend d \
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass \
                   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))) AS value FROM pg_sequences s"
                .to_owned(),
        ),
        (
            "comment",
            "SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || d.description AS value FROM pg_description d \
             WHERE d.objoid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classoid AND e.objid = d.objoid AND e.deptype = 'e')"
                .to_owned(),
        ),
    ];
    let mut out = Vec::new();
    for (kind, sql) in queries {
        let mut lines: Vec<String> = db
            .values(&sql)
            .into_iter()
            .map(|v| format!("{kind}: {v}"))
            .collect();
        lines.sort();
        out.extend(lines);
    }
    // Rows: every table, partition and populated materialized view.
    let relations = db.values(&format!(
        "SELECT c.oid::regclass::text AS value FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE (c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated)) AND {USER_SCHEMA} AND {} ORDER BY 1",
        not_extension("pg_class", "c")
    ));
    for relation in relations {
        out.extend(db.values(&format!(
            "SELECT 'rows of {relation}: ' || count(*) || ' ' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '-') AS value \
             FROM {relation} r"
        )));
    }
    out
}

/// Every object of a MariaDB/MySQL database, one line each, by kind (information_schema,
/// with the session each routine, trigger, event and view was created under), and every
/// table's rows.
///
/// The database's own name (views qualify their tables with it) reads as `DB`. Definers
/// are compared only where the dump keeps them (`with_definers`); the database's default
/// collation and the one each program was created under, only where the loader sets them
/// (`with_database_collation`).
fn mysql_catalog(db: &TestDb, with_database_collation: bool, with_definers: bool) -> Vec<String> {
    let collation = if with_database_collation {
        "DATABASE_COLLATION"
    } else {
        "''"
    };
    let definer = if with_definers { "DEFINER" } else { "''" };
    let queries = [
        (
            "database",
            if with_database_collation {
                "SELECT CONCAT_WS(' | ', DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME) AS value FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"
            } else {
                "SELECT 'any' AS value"
            }
            .to_owned(),
        ),
        (
            "table",
            "SELECT CONCAT_WS(' | ', TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT) AS value \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            "column",
            "SELECT CONCAT_WS(' | ', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, 'none'), \
                IFNULL(COLLATION_NAME, ''), EXTRA, IFNULL(GENERATION_EXPRESSION, ''), COLUMN_COMMENT) AS value \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            "index",
            "SELECT CONCAT_WS(' | ', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE) AS value \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            "foreign key",
            "SELECT CONCAT_WS(' | ', TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE) AS value \
             FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            "view",
            format!(
                "SELECT CONCAT_WS(' | ', TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, {definer}, CHARACTER_SET_CLIENT, \
                    COLLATION_CONNECTION) AS value FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
            ),
        ),
        (
            "routine",
            format!(
                "SELECT CONCAT_WS(' | ', ROUTINE_NAME, ROUTINE_TYPE, IFNULL(DTD_IDENTIFIER, ''), ROUTINE_DEFINITION, IS_DETERMINISTIC, \
                    SQL_DATA_ACCESS, SECURITY_TYPE, SQL_MODE, ROUTINE_COMMENT, {definer}, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, \
                    {collation}) AS value FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
            ),
        ),
        (
            "parameter",
            "SELECT CONCAT_WS(' | ', SPECIFIC_NAME, ORDINAL_POSITION, IFNULL(PARAMETER_MODE, ''), IFNULL(PARAMETER_NAME, ''), DTD_IDENTIFIER) AS value \
             FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE()"
                .to_owned(),
        ),
        (
            "trigger",
            format!(
                "SELECT CONCAT_WS(' | ', TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_ORDER, ACTION_STATEMENT, \
                    ACTION_TIMING, SQL_MODE, {definer}, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, {collation}) AS value \
                 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
            ),
        ),
        (
            "event",
            format!(
                "SELECT CONCAT_WS(' | ', EVENT_NAME, {definer}, TIME_ZONE, EVENT_DEFINITION, EVENT_TYPE, IFNULL(EXECUTE_AT, ''), \
                    IFNULL(INTERVAL_VALUE, ''), IFNULL(INTERVAL_FIELD, ''), SQL_MODE, IFNULL(STARTS, ''), IFNULL(ENDS, ''), STATUS, \
                    ON_COMPLETION, EVENT_COMMENT, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, {collation}) AS value \
                 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
            ),
        ),
    ];
    let name = db.value("SELECT DATABASE() AS value").expect("a database");
    let mut out = Vec::new();
    for (kind, sql) in queries {
        let mut lines: Vec<String> = db
            .values(&sql)
            .into_iter()
            .map(|v| format!("{kind}: {}", v.replace(&format!("`{name}`"), "`DB`")))
            .collect();
        lines.sort();
        out.extend(lines);
    }
    let tables = db.values(
        "SELECT CAST(TABLE_NAME AS CHAR) AS value FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
    );
    for table in tables {
        let columns = db.values(&format!(
            "SELECT CONCAT('IFNULL(HEX(`', COLUMN_NAME, '`), ''NULL'')') AS value FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
        ));
        out.extend(
            db.values(&format!(
                "SELECT CONCAT_WS('|', {}) AS value FROM `{table}` ORDER BY 1",
                columns.join(", ")
            ))
            .into_iter()
            .map(|r| format!("row of {table}: {r}")),
        );
    }
    out
}

fn catalog(db: &TestDb) -> Vec<String> {
    match db.backend() {
        Backend::Postgres => pg_catalog(db),
        _ => mysql_catalog(db, true, false),
    }
}

/// Lines in one list and not the other, for a readable failure.
fn difference(left: &[String], right: &[String]) -> String {
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|l| !b.contains(l)).cloned().collect()
    };
    format!(
        "only in the source:\n  {}\nonly in the copy:\n  {}",
        only(left, right).join("\n  "),
        only(right, left).join("\n  ")
    )
}

fn assert_same(source: &[String], copy: &[String], what: &str) {
    assert!(
        source == copy,
        "{what} differs from the source\n{}",
        difference(source, copy)
    );
}

/// Loads a script with the native client: `psql -v ON_ERROR_STOP=1`, or `mariadb
/// --comments` (which otherwise strips the comments inside routine bodies before the
/// server sees them, as it does from mysqldump's files).
fn load_natively(db: &TestDb, script: &Path) -> std::process::Output {
    if db.backend() != Backend::Mysql {
        return db.load_with_native_client(script);
    }
    let rest = db.url.split_once("://").map_or(db.url.as_str(), |(_, r)| r);
    let (authority, name) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, hostport) = authority.rsplit_once('@').unwrap_or(("root", authority));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let mut command = std::process::Command::new("mariadb");
    command.args(["--comments", "-h", host, "-P", port]);
    match user.split_once(':') {
        Some((u, pw)) => command.args(["-u", u, &format!("-p{pw}")]),
        None => command.args(["-u", user]),
    };
    command
        .arg(name.split('?').next().unwrap_or_default())
        .stdin(std::fs::File::open(script).unwrap())
        .output()
        .unwrap()
}

/// Our dump of `db`, loaded with the native client and with `cargo dbexport restore` into
/// fresh databases, each compared with the source; returns the dump's text.
fn round_trip(p: &Project, db: &TestDb, expected: &[String]) -> String {
    p.cmd("dbexport")
        .args(["-q", "-o", "dump.sql", "--database-url", &db.url])
        .ok();
    let native = TestDb::new(db.backend()).unwrap();
    let out = load_natively(&native, &p.root().join("dump.sql"));
    assert!(
        out.status.success(),
        "the native client refused our dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same(expected, &catalog(&native), "loaded with the native client");
    let restored = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &restored.url])
        .ok();
    assert_same(expected, &catalog(&restored), "restored by dbexport");
    // Restoring again over the copy (every object dropped first) gives the same.
    p.cmd("dbexport")
        .args([
            "restore",
            "-q",
            "dump.sql",
            "--yes",
            "--database-url",
            &restored.url,
        ])
        .ok();
    assert_same(expected, &catalog(&restored), "restored twice by dbexport");
    p.read("dump.sql")
}

fn postgres_objects_round_trip_through_psql_and_restore() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(&fixture("postgres_objects.sql"));
    let source = pg_catalog(&db);
    // The fixture has what the acceptance asks for (so a broken fixture cannot pass).
    for wanted in [
        "extension: citext in public",
        "relation: p | orders",
        "relation: r | orders_2025 | p | t | FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') | orders",
        "index: CREATE UNIQUE INDEX monthly_month ON public.monthly",
        "comment: index orders_customer = who ordered",
        "relation: c | inventory.dimensions",
        "routine: total(numeric) | a",
        "BEGIN ATOMIC",
        "statistics: CREATE STATISTICS inventory.items_stats",
        "sequence: public.order_numbers | bigint | 1000 | 1 | 9223372036854775807 | 1 | f | 1 | 1003 | a column number of table orders",
        "schema: inventory",
        "comment: table audit = audit; log",
    ] {
        assert!(
            source.iter().any(|l| l.contains(wanted)),
            "{wanted}: {source:#?}"
        );
    }
    let p = Project::new();
    let text = round_trip(&p, &db, &source);
    // Dependency order, not kind order: a function after the table whose row type it
    // returns and whose rows its body reads; the view after the aggregate it uses and the
    // primary key it groups by (brought before the rows); partitions attached.
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    assert!(at("CREATE TABLE orders (") < at("FUNCTION public.big_orders"));
    assert!(at("AGGREGATE public.total") < at("CREATE VIEW customer_totals"));
    assert!(at("ADD CONSTRAINT customers_pkey") < at("CREATE VIEW customer_totals"));
    assert!(at("ADD CONSTRAINT customers_pkey") < at("COPY customers"));
    assert!(at("COPY orders_2025") < at("REFRESH MATERIALIZED VIEW monthly"));
    assert!(at("CREATE UNIQUE INDEX monthly_month") < at("REFRESH MATERIALIZED VIEW monthly"));
    assert!(!text.contains("REFRESH MATERIALIZED VIEW never_filled"));
    assert!(text.contains("ATTACH PARTITION orders_2026 FOR VALUES"));
    assert!(text.contains("CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA ext"));
    // Nothing an extension or a type owns is ours to create.
    assert!(!text.contains("citext_eq"), "{text}");
    assert!(!text.contains("FUNCTION public.floatrange("), "{text}");

    // pg_dump's output of the same database restores to the same objects.
    std::fs::write(p.root().join("native.sql"), db.native_dump()).unwrap();
    let copy = TestDb::new(Backend::Postgres).unwrap();
    p.cmd("dbexport")
        .args(["restore", "native.sql", "--database-url", &copy.url])
        .ok();
    assert_same(&source, &pg_catalog(&copy), "pg_dump's output restored");
    Ok(())
}

fn postgres_schema_only_and_data_only_keep_the_objects() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(&fixture("postgres_objects.sql"));
    let source = pg_catalog(&db);
    let p = Project::new();
    p.cmd("dbexport")
        .args([
            "-q",
            "-o",
            "schema.sql",
            "--schema-only",
            "--database-url",
            &db.url,
        ])
        .ok();
    p.cmd("dbexport")
        .args([
            "-q",
            "-o",
            "data.sql",
            "--data-only",
            "--database-url",
            &db.url,
        ])
        .ok();
    let copy = TestDb::new(Backend::Postgres).unwrap();
    for file in ["schema.sql", "data.sql"] {
        p.cmd("dbexport")
            .args(["restore", "-q", file, "--yes", "--database-url", &copy.url])
            .ok();
    }
    assert_same(&source, &pg_catalog(&copy), "schema-only then data-only");
    Ok(())
}

fn postgres_filtered_dumps_leave_out_what_needs_a_table_left_out() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(&fixture("postgres_objects.sql"));
    let p = Project::new();
    let out = p
        .cmd("dbexport")
        .args([
            "-o",
            "some.sql",
            "--exclude-table",
            "orders",
            "--database-url",
            &db.url,
        ])
        .ok();
    let stderr = out.stderr();
    for warning in [
        "view customer_totals reads orders",
        "view monthly reads orders",
        "function big_orders(numeric) needs table orders",
    ] {
        assert!(stderr.contains(warning), "{warning}: {stderr}");
    }
    let text = p.read("some.sql");
    assert!(!text.contains("orders_2025"), "{text}");
    assert!(!text.contains("order_numbers"), "{text}");
    let copy = TestDb::new(Backend::Postgres).unwrap();
    p.cmd("dbexport")
        .args(["restore", "-q", "some.sql", "--database-url", &copy.url])
        .ok();
    let kept: Vec<String> = pg_catalog(&db)
        .into_iter()
        .filter(|l| {
            ![
                "orders",
                "order_numbers",
                "customer_totals",
                "monthly",
                "big_orders",
            ]
            .iter()
            .any(|gone| l.contains(gone))
        })
        .collect();
    let restored: Vec<String> = pg_catalog(&copy)
        .into_iter()
        .filter(|l| !l.contains("orders"))
        .collect();
    assert_same(&kept, &restored, "a dump without orders");
    Ok(())
}

/// A MariaDB database whose routines, trigger and event were created under a strict
/// `sql_mode` with `PIPES_AS_CONCAT` (so `||` concatenates in them and nowhere else), one
/// procedure under another default collation of the database.
const MYSQL_OBJECTS: &str = "mysql_objects.sql";

/// What the strict-mode objects do: concatenate with `||` (where the loading session
/// would compute a logical OR).
fn mysql_behaviour(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect();
    conn.batch_execute("CALL credit(1, 2.5)").unwrap();
    conn.batch_execute("INSERT INTO ledger (account_id) VALUES (2)")
        .unwrap();
    [
        db.values("SELECT label('a', 'b') AS value"),
        db.values("SELECT CONCAT_WS(' | ', account_id, note) AS value FROM ledger ORDER BY id"),
        db.values("SELECT CAST(balance AS CHAR) AS value FROM accounts ORDER BY id"),
    ]
    .concat()
}

fn mysql_routines_keep_their_sql_mode_and_collations() -> Skippable {
    let db = TestDb::create(Backend::Mysql)?;
    db.run_script(&fixture(MYSQL_OBJECTS));
    let source = mysql_catalog(&db, true, false);
    for wanted in [
        "routine: label | FUNCTION",
        "PIPES_AS_CONCAT,ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,NO_ZERO_DATE",
        "latin1_swedish_ci",
        "trigger: ledger_note",
        "event: tidy",
    ] {
        assert!(
            source.iter().any(|l| l.contains(wanted)),
            "{wanted}: {source:#?}"
        );
    }
    let p = Project::new();
    let text = round_trip(&p, &db, &source);
    assert!(
        text.contains(
            "sql_mode = 'PIPES_AS_CONCAT,ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,NO_ZERO_DATE'"
        ),
        "{text}"
    );
    assert!(!text.contains("DEFINER"), "{text}");
    // Behaviour: the copies concatenate as the source does.
    let restored = TestDb::new(Backend::Mysql).unwrap();
    p.cmd("dbexport")
        .args(["restore", "-q", "dump.sql", "--database-url", &restored.url])
        .ok();
    let expected = mysql_behaviour(&db);
    assert!(expected.contains(&"a: b".to_owned()), "{expected:?}");
    assert!(
        expected.iter().any(|l| l == "1 | credit 2.50"),
        "{expected:?}"
    );
    assert_eq!(mysql_behaviour(&restored), expected);

    // mariadb-dump's output (routines in DELIMITER ;; blocks, /*!50003 … */ comments)
    // restores to the same objects; it names the database in the ALTER DATABASE it
    // wraps a routine of another collation in, which restore never runs.
    std::fs::write(p.root().join("native.sql"), db.native_dump()).unwrap();
    let copy = TestDb::new(Backend::Mysql).unwrap();
    let out = p
        .cmd("dbexport")
        .args(["restore", "native.sql", "--database-url", &copy.url])
        .ok();
    assert!(
        out.stderr().contains("ignored `ALTER DATABASE"),
        "{}",
        out.stderr()
    );
    assert_same(
        &mysql_catalog(&db, false, false),
        &mysql_catalog(&copy, false, false),
        "mariadb-dump's output restored",
    );
    Ok(())
}

fn mysql_definers_are_kept_only_when_asked() -> Skippable {
    let db = TestDb::create(Backend::Mysql)?;
    db.run_script(&fixture(MYSQL_OBJECTS));
    let p = Project::new();
    let plain = p
        .cmd("dbexport")
        .args(["--database-url", &db.url])
        .ok()
        .stdout();
    assert!(!plain.contains("DEFINER="), "{plain}");
    let kept = p
        .cmd("dbexport")
        .args([
            "--keep-definer",
            "-o",
            "kept.sql",
            "--database-url",
            &db.url,
        ])
        .ok();
    assert!(kept.stderr().contains("Dumped"), "{}", kept.stderr());
    let text = p.read("kept.sql");
    for object in ["balances", "credit", "ledger_note", "tidy"] {
        assert!(
            text.lines()
                .any(|l| l.contains("DEFINER=") && l.contains(object)),
            "{object}: {text}"
        );
    }
    let copy = TestDb::new(Backend::Mysql).unwrap();
    p.cmd("dbexport")
        .args(["restore", "-q", "kept.sql", "--database-url", &copy.url])
        .ok();
    assert_same(
        &mysql_catalog(&db, true, true),
        &mysql_catalog(&copy, true, true),
        "restored with definers",
    );
    Ok(())
}

fn postgres_objects_the_dump_does_not_carry_are_named() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(
        "CREATE TYPE level AS ENUM ('low', 'high');\n\
         CREATE CAST (text AS level) WITH INOUT;\n\
         CREATE COLLATION plain (locale = 'C');\n\
         CREATE TABLE t (id integer PRIMARY KEY);\n",
    );
    let p = Project::new();
    let out = p
        .cmd("dbexport")
        .args(["-o", "dump.sql", "--database-url", &db.url])
        .ok();
    for what in ["cast (text AS level)", "collation plain"] {
        assert!(
            out.stderr()
                .contains(&format!("warning: {what} is not carried by this dump")),
            "{what}: {}",
            out.stderr()
        );
    }
    Ok(())
}

dbrev_tests::main! {
    backend: [],
    plain: [
        postgres_objects_round_trip_through_psql_and_restore,
        postgres_schema_only_and_data_only_keep_the_objects,
        postgres_filtered_dumps_leave_out_what_needs_a_table_left_out,
        mysql_routines_keep_their_sql_mode_and_collations,
        mysql_definers_are_kept_only_when_asked,
        postgres_objects_the_dump_does_not_carry_are_named,
    ],
}
