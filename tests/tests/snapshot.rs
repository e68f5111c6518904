//! The full catalog snapshot (`dbkit::snapshot`): a rich database (every kind of object
//! the export fixtures hold) compared with itself and with a restore of its own dump shows
//! no difference; a snapshot takes the same number of catalog queries however many
//! objects there are; differences read as sentences naming the object.

use std::path::Path;

use dbkit::snapshot::{ObjectKind, Sides, Snapshot, compare};
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

backend_test!(a_snapshot_takes_a_fixed_number_of_queries, |db| {
    let empty = snapshot(&db).queries;
    let expected = match db.backend() {
        Backend::Sqlite => 3,
        Backend::Postgres => 16,
        Backend::Mysql => 12,
    };
    assert_eq!(empty, expected);
    db.run_script(&rich_schema(db.backend()));
    let tables: String = (0..40)
        .map(|i| format!("CREATE TABLE extra_{i} (id INTEGER PRIMARY KEY, note VARCHAR(20));\nCREATE INDEX extra_{i}_note ON extra_{i} (note);\n"))
        .collect();
    db.run_script(&tables);
    let full = snapshot(&db);
    assert!(full.objects.len() > 160, "{}", full.objects.len());
    assert_eq!(full.queries, empty);
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
