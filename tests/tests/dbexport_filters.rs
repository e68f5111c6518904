//! Filtered dumps load: `--tables`, `--exclude-table` and the configuration's `exclude`
//! leave out everything that belongs to the tables they leave out (sequences and their
//! values, indexes, triggers, foreign keys and views that reach them, with a warning);
//! `--schema-only` then `--data-only` rebuild the database with keys between tables in
//! place. Each dump is restored into a fresh database and compared with the source:
//! tables, columns, keys, indexes, views, triggers and rows.

use std::path::Path;

use dbkit::inspect::inspect;
use dbkit::model::Schema;
use dbrev_tests::{Backend, Project, TestDb, backend_test};

/// parent ← child → lonely; child ↔ pal (a cycle, deferrable on PostgreSQL); child →
/// child; views over child and over lonely; a trigger on child; lonely has its own
/// sequence (serial / AUTOINCREMENT).
fn fixture(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
             CREATE TABLE lonely (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);\n\
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id), \
                 lonely_id INTEGER CONSTRAINT child_lonely REFERENCES lonely (id) ON DELETE SET NULL, \
                 up_id INTEGER REFERENCES child (id), pal_id INTEGER REFERENCES pal (id), label TEXT);\n\
             CREATE TABLE pal (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id));\n\
             CREATE INDEX child_parent ON child (parent_id);\n\
             CREATE VIEW child_names AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;\n\
             CREATE VIEW lonely_notes AS SELECT note FROM lonely;\n\
             CREATE TRIGGER child_touch AFTER UPDATE ON child BEGIN SELECT 1; END;\n"
        }
        Backend::Postgres => {
            "CREATE TABLE parent (id integer PRIMARY KEY, name text NOT NULL);\n\
             CREATE TABLE lonely (id serial PRIMARY KEY, note text);\n\
             CREATE TABLE child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES parent (id), \
                 lonely_id integer CONSTRAINT child_lonely REFERENCES lonely (id) ON DELETE SET NULL, \
                 up_id integer REFERENCES child (id), pal_id integer, label text);\n\
             CREATE TABLE pal (id integer PRIMARY KEY, child_id integer REFERENCES child (id));\n\
             ALTER TABLE child ADD FOREIGN KEY (pal_id) REFERENCES pal (id) DEFERRABLE INITIALLY DEFERRED;\n\
             CREATE INDEX child_parent ON child (parent_id);\n\
             CREATE VIEW child_names AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;\n\
             CREATE VIEW lonely_notes AS SELECT note FROM lonely;\n\
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();\n"
        }
        Backend::Mysql => {
            "CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL);\n\
             CREATE TABLE lonely (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40));\n\
             CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, lonely_id INT, up_id INT, pal_id INT, label VARCHAR(40), \
                 FOREIGN KEY (parent_id) REFERENCES parent (id), \
                 CONSTRAINT child_lonely FOREIGN KEY (lonely_id) REFERENCES lonely (id) ON DELETE SET NULL, \
                 FOREIGN KEY (up_id) REFERENCES child (id));\n\
             CREATE TABLE pal (id INT PRIMARY KEY, child_id INT, FOREIGN KEY (child_id) REFERENCES child (id));\n\
             ALTER TABLE child ADD FOREIGN KEY (pal_id) REFERENCES pal (id);\n\
             CREATE INDEX child_parent ON child (parent_id);\n\
             CREATE VIEW child_names AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;\n\
             CREATE VIEW lonely_notes AS SELECT note FROM lonely;\n\
             CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW SET NEW.label = NEW.label;\n"
        }
    }
}

/// Rows in which every key points somewhere: the child rows come before their parents in
/// the physical order (so a naive load would break the keys).
const ROWS: &str = "INSERT INTO parent VALUES (2, 'two'), (1, 'one');\n\
    INSERT INTO lonely (note) VALUES ('alone'), ('again');\n\
    INSERT INTO child (id, parent_id, lonely_id, up_id, pal_id, label) VALUES (1, 1, 1, NULL, NULL, 'root'), (2, 2, 2, 1, NULL, 'leaf');\n\
    INSERT INTO pal VALUES (1, 2);\n\
    UPDATE child SET pal_id = 1 WHERE id = 1;\n";

fn seeded(db: &TestDb) {
    db.run_script(fixture(db.backend()));
    if db.backend() == Backend::Postgres {
        db.run_script(&format!("BEGIN;\n{ROWS}COMMIT;\n"));
    } else {
        db.run_script(ROWS);
    }
}

/// Tables, columns, keys and indexes (views are compared by [`objects`]; how diesel would
/// alias a column's type depends on keys a filtered dump leaves out, so it is not compared).
fn schema(db: &TestDb) -> Schema {
    let mut schema =
        inspect(&mut db.connect(), "__diesel_schema_migrations", &[]).expect("inspect");
    schema.relations.clear();
    for table in schema.tables.values_mut() {
        for column in &mut table.columns {
            column.ty.alias_kind = None;
        }
    }
    schema
}

/// The source's schema as a dump that leaves out `gone` (tables and views) must recreate
/// it.
fn without(mut schema: Schema, gone: &[&str]) -> Schema {
    schema
        .tables
        .retain(|name, _| !gone.contains(&name.name.as_str()));
    schema
        .relations
        .retain(|name, _| !gone.contains(&name.name.as_str()));
    for table in schema.tables.values_mut() {
        let (kept, removed): (Vec<_>, Vec<_>) = std::mem::take(&mut table.foreign_keys)
            .into_iter()
            .partition(|k| !gone.contains(&k.ref_table.name.as_str()));
        table.foreign_keys = kept;
        // SQLite: a column that references a rowid key reads as the key's type only
        // while the key is there (as diesel's print-schema sees it).
        for key in removed {
            if let [column] = key.columns.as_slice()
                && table.primary_key != [column.clone()]
                && let Some(c) = table.columns.iter_mut().find(|c| &c.name == column)
            {
                c.ty.alias_kind = None;
            }
        }
    }
    schema
}

/// Views, triggers and sequences by name.
fn objects(db: &TestDb) -> Vec<String> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT type || ':' || name AS value FROM sqlite_master WHERE type IN ('view', 'trigger') \
             UNION ALL SELECT 'seq:' || name || '=' || seq FROM sqlite_sequence ORDER BY 1"
        }
        Backend::Postgres => {
            "SELECT 'view:' || table_name::text AS value FROM information_schema.views WHERE table_schema = 'public' \
             UNION ALL SELECT 'trigger:' || tgname::text FROM pg_trigger WHERE NOT tgisinternal \
             UNION ALL SELECT 'seq:' || sequencename::text || '=' || coalesce(last_value, 0)::text FROM pg_sequences \
             ORDER BY 1"
        }
        Backend::Mysql => {
            "SELECT CONCAT('view:', TABLE_NAME) AS value FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() \
             UNION ALL SELECT CONCAT('trigger:', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
             UNION ALL SELECT CONCAT('seq:', TABLE_NAME, '=', AUTO_INCREMENT) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT IS NOT NULL AND TABLE_TYPE = 'BASE TABLE' \
             ORDER BY 1"
        }
    };
    if db.backend() == Backend::Sqlite
        && db
            .value("SELECT name AS value FROM sqlite_master WHERE name = 'sqlite_sequence'")
            .is_none()
    {
        return db.values(
            "SELECT type || ':' || name AS value FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY 1",
        );
    }
    db.values(sql)
}

/// Every row of every table in `schema`, as text.
fn rows(db: &TestDb, schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (name, table) in &schema.tables {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let sql = match db.backend() {
            Backend::Postgres => format!("SELECT t::text AS value FROM {} t ORDER BY 1", name.name),
            Backend::Sqlite => format!(
                "SELECT {} AS value FROM {} ORDER BY 1",
                columns
                    .iter()
                    .map(|c| format!("quote({c})"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || "),
                name.name
            ),
            Backend::Mysql => format!(
                "SELECT CONCAT_WS('|', {}) AS value FROM {} ORDER BY 1",
                columns
                    .iter()
                    .map(|c| format!("IFNULL(CAST({c} AS CHAR), 'NULL')"))
                    .collect::<Vec<_>>()
                    .join(", "),
                name.name
            ),
        };
        out.extend(
            db.values(&sql)
                .into_iter()
                .map(|r| format!("{}: {r}", name.name)),
        );
    }
    out
}

fn dump_and_restore(p: &Project, db: &TestDb, args: &[&str]) -> (TestDb, String) {
    let mut dump = vec!["-o", "filtered.sql", "--database-url", &db.url];
    dump.extend_from_slice(args);
    let out = p.cmd("dbexport").args(&dump).ok();
    let copy = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "filtered.sql", "--database-url", &copy.url])
        .ok();
    (copy, out.stderr())
}

fn check_left_out_lonely(db: &TestDb, copy: &TestDb, stderr: &str) {
    let expected = without(schema(db), &["lonely", "lonely_notes"]);
    assert_eq!(schema(copy), expected);
    assert_eq!(rows(copy, &expected), rows(db, &expected));
    assert!(
        stderr.contains("foreign key child_lonely of child references lonely"),
        "{stderr}"
    );
    assert!(
        stderr.contains("view lonely_notes reads lonely"),
        "{stderr}"
    );
    let kept: Vec<String> = objects(db)
        .into_iter()
        .filter(|o| !o.contains("lonely"))
        .collect();
    assert_eq!(objects(copy), kept);
}

backend_test!(excluded_tables_take_what_belongs_to_them, |db| {
    seeded(&db);
    let p = Project::new();
    let (copy, stderr) = dump_and_restore(&p, &db, &["--exclude-table", "lonely"]);
    check_left_out_lonely(&db, &copy, &stderr);
    // The configuration's `exclude` does the same.
    p.cmd("dbinit").args(["-q"]).ok();
    let config: Vec<String> = p
        .read("dbrev.toml")
        .lines()
        .filter(|l| !l.starts_with("exclude"))
        .map(str::to_owned)
        .collect();
    p.file(
        "dbrev.toml",
        &format!("{}\nexclude = [\"lonely\"]\n", config.join("\n")),
    );
    let (copy, stderr) = dump_and_restore(&p, &db, &[]);
    check_left_out_lonely(&db, &copy, &stderr);
});

backend_test!(listed_tables_load_alone, |db| {
    seeded(&db);
    let p = Project::new();
    let (copy, stderr) = dump_and_restore(&p, &db, &["--tables", "parent,child,pal"]);
    // Views come only when listed.
    let expected = without(schema(&db), &["lonely", "child_names", "lonely_notes"]);
    assert_eq!(schema(&copy), expected);
    assert_eq!(rows(&copy, &expected), rows(&db, &expected));
    assert!(stderr.contains("child_lonely"), "{stderr}");
    // Views are dumped with --tables only when listed; the trigger of child comes along.
    let listed: Vec<String> = objects(&copy);
    assert!(
        listed.iter().any(|o| o == "trigger:child_touch"),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|o| o.starts_with("view:")), "{listed:?}");
    let (copy, _) = dump_and_restore(&p, &db, &["--tables", "parent"]);
    assert_eq!(
        schema(&copy),
        without(
            schema(&db),
            &["lonely", "child", "pal", "child_names", "lonely_notes"]
        )
    );
});

backend_test!(schema_only_then_data_only_rebuild_the_database, |db| {
    seeded(&db);
    let p = Project::new();
    let (copy, _) = dump_and_restore(&p, &db, &["--schema-only"]);
    let whole = schema(&db);
    assert_eq!(schema(&copy), whole);
    assert!(rows(&copy, &whole).is_empty());
    // Rows only, into the schema in place: parents first, keys checked.
    p.cmd("dbexport")
        .args(["-o", "data.sql", "--data-only", "--database-url", &db.url])
        .ok();
    let text = p.read("data.sql");
    let at = |table: &str| {
        let quoted = match db.backend() {
            Backend::Mysql => format!("`{table}`"),
            _ => format!("\"{table}\""),
        };
        text.find(&format!("INTO {quoted} "))
            .or_else(|| text.find(&format!("COPY {quoted} ")))
            .or_else(|| text.find(&format!("COPY {table} ")))
            .unwrap_or_else(|| panic!("{table} rows: {text}"))
    };
    assert!(
        at("parent") < at("child") && at("lonely") < at("child"),
        "{text}"
    );
    assert!(!text.contains("CREATE TABLE"), "{text}");
    p.cmd("dbexport")
        .args(["restore", "data.sql", "--yes", "--database-url", &copy.url])
        .ok();
    assert_eq!(schema(&copy), whole);
    assert_eq!(rows(&copy, &whole), rows(&db, &whole));
    assert_eq!(objects(&copy), objects(&db));
    // The native client loads the data-only dump too.
    let (native, _) = dump_and_restore(&p, &db, &["--schema-only"]);
    let out = native.load_with_native_client(Path::new(&p.root().join("data.sql")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&native, &whole), rows(&db, &whole));
});

backend_test!(the_configurations_include_keeps_dbrevs_own_tables, |db| {
    seeded(&db);
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    p.cmd("dbrev")
        .args(["revision", "-q", "-m", "x", "--rev-id", "a1"])
        .ok();
    p.cmd("dbrev").args(["upgrade", "-q"]).ok();
    // `include` as check reads it: names, or diesel-style regexes searched in the name.
    let config: Vec<String> = p
        .read("dbrev.toml")
        .lines()
        .filter(|l| !l.starts_with("include") && !l.starts_with("exclude"))
        .map(str::to_owned)
        .collect();
    p.file(
        "dbrev.toml",
        &format!("{}\ninclude = [\"/^pa/\", \"child\"]\n", config.join("\n")),
    );
    p.cmd("dbexport").args(["-q", "-o", "some.sql"]).ok();
    let copy = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "-q", "some.sql", "--database-url", &copy.url])
        .ok();
    let mut tables = copy.tables();
    tables.retain(|t| !t.starts_with("sqlite_"));
    tables.sort();
    let mut expected: Vec<String> = ["child", "pal", "parent"].map(String::from).to_vec();
    expected.extend(db.tables().into_iter().filter(|t| t.starts_with("__")));
    expected.sort();
    assert_eq!(tables, expected);
    assert_eq!(copy.applied(), ["a1"]);
    // A regex that does not compile names the file and the entry.
    p.file(
        "dbrev.toml",
        &format!("{}\ninclude = [\"/(/\"]\n", config.join("\n")),
    );
    let out = p.cmd("dbexport").args(["-q", "-o", "bad.sql"]).fails();
    assert_eq!(out.code(), 3, "{}", out.stderr());
    assert!(out.stderr().contains("dbrev.toml"), "{}", out.stderr());
});

dbrev_tests::main! {
    backend: [
        excluded_tables_take_what_belongs_to_them,
        listed_tables_load_alone,
        schema_only_then_data_only_rebuild_the_database,
        the_configurations_include_keeps_dbrevs_own_tables,
    ],
    plain: [],
}
