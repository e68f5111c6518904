//! Catalog inspection on real databases: a fixed number of queries, every kind of row.

use dbkit::inspect::{SchemaScope, read_catalog, read_catalog_in};
use dbrev_tests::{Backend, backend_test};

backend_test!(reads_columns_keys_and_indexes, |db| {
    let mut conn = db.connect();
    let int_pk = "INTEGER PRIMARY KEY";
    conn.batch_execute(&format!(
        "CREATE TABLE users (id {int_pk}, email VARCHAR(120) NOT NULL, nick VARCHAR(20), UNIQUE (email));"
    ))
    .unwrap();
    conn.batch_execute(&format!(
        "CREATE TABLE posts (id {int_pk}, user_id INTEGER NOT NULL, title TEXT, \
         FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);"
    ))
    .unwrap();
    conn.batch_execute("CREATE INDEX posts_title ON posts (user_id, id);")
        .unwrap();
    conn.batch_execute(
        "CREATE TABLE pairs (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));",
    )
    .unwrap();
    conn.batch_execute("CREATE TABLE skipped (id INTEGER PRIMARY KEY);")
        .unwrap();
    conn.batch_execute("CREATE VIEW named_users AS SELECT id, email FROM users;")
        .unwrap();
    let catalog =
        read_catalog(&mut conn, "__diesel_schema_migrations", &["skipped".into()]).unwrap();
    assert!(catalog.queries <= 3, "{} queries", catalog.queries);
    let tables: std::collections::BTreeSet<&str> = catalog
        .columns
        .iter()
        .map(|c| c.table_name.as_str())
        .collect();
    assert_eq!(
        tables.into_iter().collect::<Vec<_>>(),
        ["pairs", "posts", "users"]
    );
    let column = |table: &str, name: &str| {
        catalog
            .columns
            .iter()
            .find(|c| c.table_name == table && c.column_name == name)
            .unwrap_or_else(|| panic!("{table}.{name}: {:?}", catalog.columns))
    };
    let email = column("users", "email");
    assert_eq!(email.is_nullable, "NO");
    assert!(email.data_type.to_lowercase().contains("120"), "{email:?}");
    assert_eq!(column("users", "nick").is_nullable, "YES");
    let pk: Vec<&str> = catalog
        .keys
        .iter()
        .filter(|k| k.table_name == "pairs" && k.kind == "PRIMARY")
        .map(|k| k.column_name.as_str())
        .collect();
    assert_eq!(pk, ["a", "b"]);
    let fk = catalog
        .keys
        .iter()
        .find(|k| k.table_name == "posts" && k.kind == "FOREIGN")
        .unwrap();
    assert_eq!(fk.column_name, "user_id");
    assert_eq!(fk.ref_table.as_deref(), Some("users"));
    assert_eq!(fk.ref_column.as_deref(), Some("id"));
    assert_eq!(fk.on_delete.as_deref(), Some("CASCADE"));
    assert!(
        catalog.keys.iter().any(|k| k.table_name == "users"
            && k.kind.starts_with("UNIQUE")
            && k.column_name == "email"),
        "{:?}",
        catalog.keys
    );
    assert!(
        catalog
            .keys
            .iter()
            .any(|k| k.key_name.as_deref() == Some("posts_title") && k.kind == "INDEX"),
        "{:?}",
        catalog.keys
    );
    // Views: their columns are read (so a table! for one is known), apart from tables'.
    let views: Vec<(&str, &str)> = catalog
        .relations
        .iter()
        .map(|c| (c.table_name.as_str(), c.column_name.as_str()))
        .collect();
    assert_eq!(views, [("named_users", "id"), ("named_users", "email")]);
    if db.backend() == Backend::Postgres {
        conn.batch_execute(
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TYPE span AS RANGE (subtype = int4);",
        )
        .unwrap();
        let catalog = read_catalog(&mut conn, "__diesel_schema_migrations", &[]).unwrap();
        let labels: Vec<&str> = catalog
            .types
            .iter()
            .filter_map(|e| e.label.as_deref())
            .collect();
        assert_eq!(labels, ["sad", "ok", "happy"]);
        // The other user types are known by name (a model type the database has is never
        // created), table row types and array types are not.
        let schema = catalog.clone().into_schema(Backend::Postgres);
        let names: Vec<String> = schema.types.iter().map(|t| t.to_string()).collect();
        assert!(names.contains(&"span".to_owned()), "{names:?}");
        assert!(
            !names.iter().any(|n| n == "users" || n.starts_with('_')),
            "{names:?}"
        );
        assert_eq!(
            schema.enums[&dbkit::model::TableName::new("mood")],
            Some(vec!["sad".into(), "ok".into(), "happy".into()])
        );
        // Domains carry their base type; a scope reads only its schemas, views and
        // materialized views included, in the same three queries.
        conn.batch_execute(
            "CREATE DOMAIN email AS VARCHAR(200); CREATE SCHEMA other; \
             CREATE TABLE other.contacts (id INTEGER PRIMARY KEY, address email); \
             CREATE MATERIALIZED VIEW other.counts AS SELECT count(*) AS n FROM other.contacts;",
        )
        .unwrap();
        let only_other = SchemaScope::Only(vec![Some("other".into())]);
        let catalog = read_catalog_in(&mut conn, &only_other).unwrap();
        assert_eq!(catalog.queries, 3);
        let address = catalog
            .columns
            .iter()
            .find(|c| c.column_name == "address")
            .unwrap();
        assert_eq!(address.table_schema.as_deref(), Some("other"));
        assert_eq!(address.data_type, "email");
        assert_eq!(address.base_type.as_deref(), Some("character varying(200)"));
        assert!(catalog.columns.iter().all(|c| c.table_name == "contacts"));
        assert_eq!(
            catalog.relations[0].relation.as_deref(),
            Some("materialized view")
        );
        let current = read_catalog_in(&mut conn, &SchemaScope::Only(vec![None])).unwrap();
        assert!(current.columns.iter().all(|c| c.table_schema.is_none()));
        assert!(current.columns.iter().any(|c| c.table_name == "users"));
    }
});

backend_test!(enum_labels_come_with_the_catalog_queries, |db| {
    let mut conn = db.connect();
    let sql = match db.backend() {
        Backend::Postgres => {
            "CREATE TYPE mood AS ENUM ('sad', 'it''s ok'); CREATE TABLE t (id INTEGER PRIMARY KEY, m mood);"
        }
        Backend::Mysql => "CREATE TABLE t (id INTEGER PRIMARY KEY, m ENUM('sad', 'it''s ok'));",
        Backend::Sqlite => {
            "CREATE TABLE p (id INTEGER PRIMARY KEY NOT NULL); \
             CREATE TABLE t (id INTEGER PRIMARY KEY, m TEXT, p_id INTEGER REFERENCES p);"
        }
    };
    conn.batch_execute(sql).unwrap();
    let catalog = read_catalog(&mut conn, "__diesel_schema_migrations", &[]).unwrap();
    let queries = catalog.queries;
    let schema = catalog.into_schema(db.backend());
    let t = &schema.tables[&dbkit::model::TableName::new("t")];
    let labels = vec!["sad".to_owned(), "it's ok".to_owned()];
    match db.backend() {
        Backend::Postgres => {
            assert_eq!(queries, 3);
            assert_eq!(
                schema.enums[&dbkit::model::TableName::new("mood")],
                Some(labels)
            );
        }
        Backend::Mysql => {
            assert_eq!(queries, 3);
            assert_eq!(t.column("m").unwrap().ty.labels, Some(labels));
        }
        Backend::Sqlite => {
            // A key written without a column list references the parent's primary key.
            assert_eq!(t.foreign_keys[0].ref_columns, ["id"]);
        }
    }
});

dbrev_tests::main! {
    backend: [
        reads_columns_keys_and_indexes,
        enum_labels_come_with_the_catalog_queries,
    ],
    plain: [
    ],
}
