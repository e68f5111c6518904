//! What `cargo dbexport` writes, pinned: the header, the DDL of a fixed schema (tables with
//! keys, defaults and a foreign key, an index, a view, a trigger, and the backend's own
//! objects: PostgreSQL's enum type, sequence and function, MySQL's procedure) and its rows,
//! on every backend. A change in the dump's text is a reviewed snapshot diff
//! (`INSTA_UPDATE=always cargo test -p dbrev-tests --test dump_sql`, then read the diff).

use dbrev_tests::{Backend, Project, TestDb, backend_test};

/// The schema every backend shares, then what only one backend has.
fn schema(backend: Backend) -> String {
    let shared = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL DEFAULT '', email VARCHAR(80));\n\
         CREATE UNIQUE INDEX users_email ON users (email);\n\
         CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), body TEXT, score DECIMAL(6,2) DEFAULT 0);\n\
         CREATE INDEX posts_user ON posts (user_id);\n\
         CREATE VIEW post_authors AS SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.user_id;\n\
         INSERT INTO users VALUES (1, 'Zoë', 'zoe@example.com'), (2, 'it''s \"quoted\"', NULL);\n\
         INSERT INTO posts VALUES (1, 1, 'line one\nline two; and a tab\there', 1.50), (2, 2, NULL, -3.25);\n";
    let own = match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER posts_score AFTER INSERT ON posts BEGIN UPDATE posts SET score = 0 WHERE id = NEW.id AND score IS NULL; END;\n"
        }
        Backend::Postgres => {
            "CREATE TYPE mood AS ENUM ('ok', 'meh');\n\
             CREATE TABLE moods (id SERIAL PRIMARY KEY, mood mood NOT NULL DEFAULT 'ok');\n\
             INSERT INTO moods (mood) VALUES ('meh');\n\
             CREATE FUNCTION zero_score() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.score := coalesce(NEW.score, 0); RETURN NEW; END $$;\n\
             CREATE TRIGGER posts_score BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION zero_score();\n\
             COMMENT ON TABLE users IS 'who writes';\n"
        }
        Backend::Mysql => {
            "CREATE TRIGGER posts_score BEFORE INSERT ON posts FOR EACH ROW SET NEW.score = COALESCE(NEW.score, 0);\n\
             DELIMITER ;;\n\
             CREATE PROCEDURE count_posts(OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM posts; END;;\n\
             DELIMITER ;\n"
        }
    };
    format!("{shared}{own}")
}

/// The dump with what changes from run to run (date, server version, the test database's
/// name or file) replaced by placeholders.
fn normalised(dump: &str, db: &TestDb) -> String {
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    dump.lines()
        .map(|line| {
            if line.starts_with("-- source: ") {
                "-- source: <database> (<server version>)".to_owned()
            } else if line.starts_with("-- date: ") {
                "-- date: <date>".to_owned()
            } else if line.starts_with("-- dbrev dump completed ") {
                "-- dbrev dump completed <date>".to_owned()
            } else {
                line.replace(&name, "<database>")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

backend_test!(a_fixed_schema_dumps_as_pinned, |db| {
    let p = Project::new();
    db.run_script(&schema(db.backend()));
    let dump = p
        .cmd("dbexport")
        .args(["--database-url", &db.url])
        .ok()
        .stdout();
    let name = match db.backend() {
        Backend::Sqlite => "dump-sqlite",
        Backend::Postgres => "dump-postgres",
        Backend::Mysql => "dump-mysql",
    };
    insta::assert_snapshot!(name, normalised(&dump, &db));
    // The pinned text is also a dump that loads: restored, it dumps the same again.
    std::fs::write(p.root().join("dump.sql"), &dump).unwrap();
    let copy = TestDb::new(db.backend()).unwrap();
    p.cmd("dbexport")
        .args(["restore", "dump.sql", "--database-url", &copy.url])
        .ok();
    let again = p
        .cmd("dbexport")
        .args(["--database-url", &copy.url])
        .ok()
        .stdout();
    assert_eq!(normalised(&again, &copy), normalised(&dump, &db));
});

dbrev_tests::main! {
    backend: [a_fixed_schema_dumps_as_pinned],
    plain: [],
}
