//! The full catalog snapshot (`dbkit::snapshot`): a rich database (every kind of object
//! the export fixtures hold) compared with itself and with a restore of its own dump shows
//! no difference; a snapshot and a fingerprint take the same number of catalog queries
//! however many objects there are; differences read as sentences naming the object. The
//! fingerprint (of every object, and within the scope of some SQL's words) changes with
//! an index, a column's type, a default, a constraint, a trigger, a view and a routine,
//! and comes back when the change is undone; within a scope it leaves out the tables the
//! words do not name.

use std::path::Path;

use dbkit::snapshot::{ObjectKind, Scope, Sides, Snapshot, SnapshotReader, compare};
use dbrev_tests::{Backend, Project, TestDb, backend_test};

const SIDES: Sides = Sides {
    left: "in the source",
    right: "in the copy",
};

/// The richest export fixture of the backend.
fn rich_schema(backend: Backend) -> String {
    let name = match backend {
        Backend::Sqlite => "sqlite.sql",
        Backend::Postgres => "postgres_objects.sql",
        Backend::Mysql => "mysql_objects.sql",
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/export")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn snapshot(db: &TestDb) -> Snapshot {
    let mut conn = db.connect();
    Snapshot::read(&mut conn).unwrap_or_else(|e| panic!("{e}"))
}

fn described(left: &Snapshot, right: &Snapshot) -> Vec<String> {
    compare(left, right)
        .iter()
        .map(|d| d.describe(&SIDES))
        .collect()
}

backend_test!(a_restore_of_its_own_dump_shows_no_difference, |db| {
    db.run_script(&rich_schema(db.backend()));
    let source = snapshot(&db);
    let kinds: Vec<ObjectKind> = source.objects.keys().map(|id| id.kind).collect();
    let wanted: &[ObjectKind] = match db.backend() {
        Backend::Sqlite => &[
            ObjectKind::Table,
            ObjectKind::Column,
            ObjectKind::PrimaryKey,
            ObjectKind::ForeignKey,
            ObjectKind::Index,
            ObjectKind::View,
            ObjectKind::Trigger,
        ],
        Backend::Postgres => &[
            ObjectKind::Schema,
            ObjectKind::Extension,
            ObjectKind::Type,
            ObjectKind::Domain,
            ObjectKind::Sequence,
            ObjectKind::UniqueKey,
            ObjectKind::Check,
            ObjectKind::ForeignKey,
            ObjectKind::Index,
            ObjectKind::View,
            ObjectKind::MaterializedView,
            ObjectKind::Function,
            ObjectKind::Procedure,
            ObjectKind::Aggregate,
            ObjectKind::Trigger,
            ObjectKind::Rule,
            ObjectKind::Policy,
            ObjectKind::Statistics,
            ObjectKind::Comment,
        ],
        Backend::Mysql => &[
            ObjectKind::Table,
            ObjectKind::Column,
            ObjectKind::PrimaryKey,
            ObjectKind::ForeignKey,
            ObjectKind::View,
            ObjectKind::Function,
            ObjectKind::Procedure,
            ObjectKind::Trigger,
            ObjectKind::Event,
        ],
    };
    for kind in wanted {
        assert!(kinds.contains(kind), "no {kind:?} in {:#?}", source.objects);
    }
    assert_eq!(described(&source, &snapshot(&db)), Vec::<String>::new());

    let p = Project::new();
    p.cmd("dbexport")
        .args(["-q", "-o", "dump.sql", "--database-url", &db.url])
        .ok();
    let copy = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "-q", "dump.sql", "--database-url", &copy.url])
        .ok();
    assert_eq!(described(&source, &snapshot(&copy)), Vec::<String>::new());
});

/// How many queries each read takes: a snapshot, a fingerprint of every object, and one
/// within a scope that names tables (MySQL finds them first).
fn queries_of(db: &TestDb, scope: &Scope) -> (usize, usize, usize) {
    let mut conn = db.connect();
    let mut reader = SnapshotReader::new(&conn).unwrap_or_else(|e| panic!("{e}"));
    let snapshot = reader.read(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let every = reader.fingerprint(&mut conn).unwrap();
    let within = reader.fingerprint_within(&mut conn, scope).unwrap();
    (snapshot.queries, every.queries, within.queries)
}

backend_test!(a_snapshot_takes_a_fixed_number_of_queries, |db| {
    let scope = Scope::of(["ALTER TABLE extra_1 ADD COLUMN n INTEGER; DROP TABLE extra_2;"]);
    let empty = queries_of(&db, &scope);
    let expected = match db.backend() {
        Backend::Sqlite => (3, 1, 1),
        Backend::Postgres => (16, 1, 1),
        Backend::Mysql => (12, 1, 1),
    };
    assert_eq!(empty, expected);
    db.run_script(&rich_schema(db.backend()));
    let tables: String = (0..40)
        .map(|i| format!("CREATE TABLE extra_{i} (id INTEGER PRIMARY KEY, note VARCHAR(20));\nCREATE INDEX extra_{i}_note ON extra_{i} (note);\n"))
        .collect();
    db.run_script(&tables);
    let full = snapshot(&db);
    assert!(full.objects.len() > 160, "{}", full.objects.len());
    let scoped = match db.backend() {
        Backend::Mysql => 2,
        _ => 1,
    };
    assert_eq!(queries_of(&db, &scope), (expected.0, 1, scoped));
});

backend_test!(differences_name_the_object_and_what_differs, |db| {
    db.run_script(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER, title VARCHAR(40) DEFAULT 'x');",
    );
    let before = snapshot(&db);
    let change_default = match db.backend() {
        Backend::Sqlite => {
            "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, author INTEGER, title VARCHAR(40) DEFAULT 'y');\n\
             INSERT INTO posts_new SELECT * FROM posts;\nDROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;"
        }
        _ => "ALTER TABLE posts ALTER COLUMN title SET DEFAULT 'y';",
    };
    db.run_script(&format!(
        "{change_default}\nCREATE INDEX posts_author_idx ON posts (author);"
    ));
    let after = snapshot(&db);
    let found = described(&after, &before);
    let index = match db.backend() {
        Backend::Mysql => "index posts.posts_author_idx: only in the source",
        _ => "index posts_author_idx: only in the source",
    };
    assert!(found.iter().any(|l| l == index), "{found:#?}");
    assert!(
        found
            .iter()
            .any(|l| l == "column posts.title: default 'y' in the source, 'x' in the copy"),
        "{found:#?}"
    );
    assert_eq!(found.len(), 2, "{found:#?}");
});

/// A table with an index, a default, a check and a trigger, a view on it, a routine, and a
/// table no change below names.
fn fingerprinted(backend: Backend) -> String {
    let posts = "CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER, title VARCHAR(40) DEFAULT 'x', score INTEGER, CONSTRAINT posts_score_check CHECK (score >= 0));\n\
                 CREATE INDEX posts_author_idx ON posts (author);\n\
                 CREATE VIEW titles AS SELECT title FROM posts;\n\
                 CREATE TABLE other (id INTEGER PRIMARY KEY, note TEXT);\n";
    let rest = match backend {
        Backend::Sqlite => sqlite_trigger('x'),
        Backend::Postgres => {
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.title := coalesce(NEW.title, 'x'); RETURN NEW; END $$;\n\
             CREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION touch();\n\
             CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$ SELECT 42 $$;"
                .into()
        }
        Backend::Mysql => {
            "CREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = coalesce(NEW.title, 'x');\n\
             CREATE FUNCTION answer() RETURNS INTEGER DETERMINISTIC RETURN 42;"
                .into()
        }
    };
    format!("{posts}{rest}")
}

fn sqlite_trigger(title: char) -> String {
    format!(
        "CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN UPDATE posts SET title = '{title}' WHERE id = NEW.id AND title IS NULL; END;"
    )
}

/// SQLite changes a column by rebuilding its table (the trigger goes with it).
fn sqlite_posts(score: &str, default: &str, check: &str) -> String {
    format!(
        "DROP TABLE posts;\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER, title VARCHAR(40) DEFAULT {default}, score {score}, CONSTRAINT posts_score_check CHECK ({check}));\n\
         CREATE INDEX posts_author_idx ON posts (author);\n{}",
        sqlite_trigger('x')
    )
}

/// Each kind of change the fingerprint must catch: (what, the change, its undoing).
fn changes(backend: Backend) -> Vec<(&'static str, (String, String))> {
    let both = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let mut out = vec![(
        "view",
        both(
            "DROP VIEW titles;\nCREATE VIEW titles AS SELECT title, author FROM posts;",
            "DROP VIEW titles;\nCREATE VIEW titles AS SELECT title FROM posts;",
        ),
    )];
    let index = |drop: &str| {
        both(
            &format!("{drop};\nCREATE INDEX posts_author_idx ON posts (author, title);"),
            &format!("{drop};\nCREATE INDEX posts_author_idx ON posts (author);"),
        )
    };
    match backend {
        Backend::Sqlite => {
            out.push(("index", index("DROP INDEX posts_author_idx")));
            for (what, changed) in [
                ("column type", sqlite_posts("BIGINT", "'x'", "score >= 0")),
                ("default", sqlite_posts("INTEGER", "'y'", "score >= 0")),
                ("constraint", sqlite_posts("INTEGER", "'x'", "score > 0")),
            ] {
                out.push((
                    what,
                    (changed, sqlite_posts("INTEGER", "'x'", "score >= 0")),
                ));
            }
            out.push((
                "trigger",
                (
                    format!("DROP TRIGGER posts_touch;\n{}", sqlite_trigger('y')),
                    format!("DROP TRIGGER posts_touch;\n{}", sqlite_trigger('x')),
                ),
            ));
        }
        Backend::Postgres => {
            out.push(("index", index("DROP INDEX posts_author_idx")));
            out.push((
                "column type",
                both(
                    "ALTER TABLE posts ALTER COLUMN score TYPE BIGINT;",
                    "ALTER TABLE posts ALTER COLUMN score TYPE INTEGER;",
                ),
            ));
            out.push(("trigger", both(
                "DROP TRIGGER posts_touch ON posts;\nCREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch();",
                "DROP TRIGGER posts_touch ON posts;\nCREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION touch();",
            )));
            out.push(("routine", both(
                "CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$ SELECT 43 $$;",
                "CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$ SELECT 42 $$;",
            )));
        }
        Backend::Mysql => {
            out.push(("index", index("DROP INDEX posts_author_idx ON posts")));
            out.push((
                "column type",
                both(
                    "ALTER TABLE posts MODIFY score BIGINT;",
                    "ALTER TABLE posts MODIFY score INTEGER;",
                ),
            ));
            out.push(("trigger", both(
                "DROP TRIGGER posts_touch;\nCREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = coalesce(NEW.title, 'y');",
                "DROP TRIGGER posts_touch;\nCREATE TRIGGER posts_touch BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = coalesce(NEW.title, 'x');",
            )));
            out.push(("routine", both(
                "DROP FUNCTION answer;\nCREATE FUNCTION answer() RETURNS INTEGER DETERMINISTIC RETURN 43;",
                "DROP FUNCTION answer;\nCREATE FUNCTION answer() RETURNS INTEGER DETERMINISTIC RETURN 42;",
            )));
        }
    }
    if db_alters_in_place(backend) {
        out.push((
            "default",
            both(
                "ALTER TABLE posts ALTER COLUMN title SET DEFAULT 'y';",
                "ALTER TABLE posts ALTER COLUMN title SET DEFAULT 'x';",
            ),
        ));
        out.push(("constraint", both(
            "ALTER TABLE posts DROP CONSTRAINT posts_score_check;\nALTER TABLE posts ADD CONSTRAINT posts_score_check CHECK (score > 0);",
            "ALTER TABLE posts DROP CONSTRAINT posts_score_check;\nALTER TABLE posts ADD CONSTRAINT posts_score_check CHECK (score >= 0);",
        )));
    }
    out
}

/// Whether the backend alters a column's default and a table's checks in place.
fn db_alters_in_place(backend: Backend) -> bool {
    backend != Backend::Sqlite
}

backend_test!(the_fingerprint_catches_each_kind_of_change, |db| {
    db.run_script(&fingerprinted(db.backend()));
    let mut conn = db.connect();
    let mut reader = SnapshotReader::new(&conn).unwrap();
    let every = reader.fingerprint(&mut conn).unwrap();
    let before = reader.read(&mut conn).unwrap();
    for (what, (change, undo)) in changes(db.backend()) {
        let scope = Scope::of([change.as_str(), undo.as_str()]);
        let within = reader.fingerprint_within(&mut conn, &scope).unwrap();
        db.run_script(&change);
        assert_ne!(reader.fingerprint(&mut conn).unwrap(), every, "{what}");
        assert_ne!(
            reader.fingerprint_within(&mut conn, &scope).unwrap(),
            within,
            "{what}, within its scope"
        );
        let changed = reader.read(&mut conn).unwrap();
        assert!(
            !compare(&changed, &before).is_empty(),
            "{what}: the snapshot"
        );
        db.run_script(&undo);
        assert_eq!(
            reader.fingerprint(&mut conn).unwrap(),
            every,
            "{what} undone"
        );
        assert_eq!(
            reader.fingerprint_within(&mut conn, &scope).unwrap(),
            within,
            "{what} undone, within its scope"
        );
        let undone = reader.read(&mut conn).unwrap();
        assert_eq!(described(&undone, &before), Vec::<String>::new(), "{what}");
    }
});

backend_test!(a_scoped_fingerprint_reads_the_tables_its_words_name, |db| {
    db.run_script(&fingerprinted(db.backend()));
    let mut conn = db.connect();
    let mut reader = SnapshotReader::new(&conn).unwrap();
    let scope = Scope::of(["-- titles\nCREATE INDEX posts_title_idx ON posts (title);"]);
    let every = reader.fingerprint(&mut conn).unwrap();
    let within = reader.fingerprint_within(&mut conn, &scope).unwrap();
    // SQLite reads every object (one query in process); the servers only what is named.
    assert_eq!(within.scoped, db.backend() != Backend::Sqlite);
    assert!(!within.reaches_further);
    db.run_script("CREATE INDEX other_note_idx ON other (note);");
    assert_ne!(reader.fingerprint(&mut conn).unwrap(), every);
    let after = reader.fingerprint_within(&mut conn, &scope).unwrap();
    assert_eq!(
        after == within,
        within.scoped,
        "a table the words do not name"
    );
    // Words that say the SQL reaches further read every object.
    let renames = Scope::of(["ALTER TABLE posts RENAME TO articles;"]);
    assert!(
        !reader
            .fingerprint_within(&mut conn, &renames)
            .unwrap()
            .scoped
    );
    if db.backend() == Backend::Postgres {
        // A routine the words name runs code, which could change anything.
        let calls = Scope::of(["UPDATE posts SET score = answer();"]);
        assert!(
            reader
                .fingerprint_within(&mut conn, &calls)
                .unwrap()
                .reaches_further
        );
    }
});

dbrev_tests::main! {
    backend: [
        a_restore_of_its_own_dump_shows_no_difference,
        a_snapshot_takes_a_fixed_number_of_queries,
        differences_name_the_object_and_what_differs,
        the_fingerprint_catches_each_kind_of_change,
        a_scoped_fingerprint_reads_the_tables_its_words_name,
    ],
    plain: [],
}
