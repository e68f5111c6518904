//! `--fleet`: one command over the tenant databases dbrev.toml's `[fleet]` lists — a mix
//! of SQLite files, PostgreSQL databases, PostgreSQL schemas and MariaDB databases. A
//! broken tenant fails alone and a re-run finishes the job; `--fail-fast` and `--canary`
//! leave the others untouched; `current`, `downgrade`, `check`, `test` and `dbexport`
//! work per tenant with a summary; the sources (`urls`, `urls_from`, `urls_query`,
//! `schemas_query`) and their errors name dbrev.toml or the file and line.

use std::path::Path;

use dbkit::DatabaseUrl;
use dbrev_tests::{Backend, Outcome, Project, Skippable, TestDb, add_revision};

const R1: &str = "20260101000001";
const R2: &str = "20260101000002";
const R3: &str = "20260101000003";

/// The model at the head of [`fleet_project`]'s history.
const MODEL: &str = "diesel::table! {
    items (id) {
        id -> Integer,
        name -> Nullable<Varchar>,
        note -> Nullable<Varchar>,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
    }
}
";

/// What breaks a tenant: revision R2 creates `tags`, which it already has.
const BREAK: &str = "CREATE TABLE tags (id INTEGER PRIMARY KEY);";

/// A project with three revisions and the model at their head; its own database is the
/// default SQLite file.
fn fleet_project() -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file("src/schema.rs", MODEL);
    add_revision(
        &p,
        R1,
        "create items",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40));",
        "DROP TABLE items;",
        &[],
    );
    add_revision(
        &p,
        R2,
        "create tags",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
        "DROP TABLE tags;",
        &[],
    );
    add_revision(
        &p,
        R3,
        "add note",
        "ALTER TABLE items ADD COLUMN note VARCHAR(100);",
        "ALTER TABLE items DROP COLUMN note;",
        &[],
    );
    p
}

/// Appends a `[fleet]` table to dbrev.toml.
fn set_fleet(p: &Project, body: &str) {
    let text = p.read("dbrev.toml");
    p.file("dbrev.toml", &format!("{text}\n[fleet]\n{body}\n"));
}

/// One tenant: a database, or a schema of one (PostgreSQL).
struct Tenant<'a> {
    db: &'a TestDb,
    schema: Option<&'static str>,
}

impl Tenant<'_> {
    fn whole(db: &TestDb) -> Tenant<'_> {
        Tenant { db, schema: None }
    }

    /// The URL a fleet lists: a schema tenant's sets the search path (libpq's `options`).
    fn url(&self) -> String {
        match self.schema {
            Some(schema) => format!("{}?options=-csearch_path%3D{schema}", self.db.url),
            None => self.db.url.clone(),
        }
    }

    /// How the summary shows it.
    fn shown(&self) -> String {
        DatabaseUrl::parse(&self.url(), Path::new("/"))
            .expect("tenant URL")
            .masked()
    }

    fn table(&self, name: &str) -> String {
        match self.schema {
            Some(schema) => format!("{schema}.{name}"),
            None => name.to_owned(),
        }
    }

    /// The applied revisions, sorted (none when the version table or the file is missing).
    fn applied(&self) -> Vec<String> {
        if self.db.backend() == Backend::Sqlite && !Path::new(&sqlite_path(self.db)).exists() {
            return Vec::new();
        }
        let sql = format!(
            "SELECT version AS value FROM {} ORDER BY 1",
            self.table("__diesel_schema_migrations")
        );
        self.db
            .connect()
            .load::<dbkit::db::ValueRow>(&sql)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.value)
            .collect()
    }

    fn run(&self, sql: &str) {
        match self.schema {
            Some(schema) => self
                .db
                .run_script(&format!("SET search_path TO {schema};\n{sql}")),
            None => self.db.run_script(sql),
        }
    }
}

fn sqlite_path(db: &TestDb) -> String {
    db.url.trim_start_matches("sqlite://").to_owned()
}

fn databases(backend: Backend, n: usize) -> Result<Vec<TestDb>, dbrev_tests::Skipped> {
    (0..n).map(|_| TestDb::create(backend)).collect()
}

/// The summary row of a tenant (the line starting with its name).
fn row(out: &Outcome, tenant: &Tenant<'_>) -> String {
    row_of(out, &tenant.shown())
}

/// The summary row of the tenant shown as `shown`.
fn row_of(out: &Outcome, shown: &str) -> String {
    out.stderr()
        .lines()
        .find(|l| l.starts_with(&format!("{shown} ")))
        .unwrap_or_else(|| panic!("no summary row for {shown}:\n{}", out.stderr()))
        .to_owned()
}

fn tenants_file(tenants: &[Tenant<'_>]) -> String {
    let mut text = String::from("# one tenant a line\n\n");
    for t in tenants {
        text.push_str(&t.url());
        text.push('\n');
    }
    text
}

/// Twenty tenants — SQLite files, PostgreSQL databases, PostgreSQL schemas, MariaDB
/// databases — with one broken: the others reach the head, the broken one is reported
/// with its error, and after the fix a re-run finishes it (the others: nothing to do).
fn twenty_mixed_tenants_one_broken_then_fixed() -> Skippable {
    let sqlite = databases(Backend::Sqlite, 7)?;
    let postgres = databases(Backend::Postgres, 6)?;
    let holder = TestDb::create(Backend::Postgres)?;
    let mariadb = databases(Backend::Mysql, 2)?;
    let schemas = ["s1", "s2", "s3", "s4", "s5"];
    holder.run_script(&schemas.map(|s| format!("CREATE SCHEMA {s};")).join("\n"));
    let mut tenants: Vec<Tenant<'_>> = sqlite.iter().map(Tenant::whole).collect();
    tenants.extend(postgres.iter().map(Tenant::whole));
    tenants.extend(schemas.map(|s| Tenant {
        db: &holder,
        schema: Some(s),
    }));
    tenants.extend(mariadb.iter().map(Tenant::whole));
    assert_eq!(tenants.len(), 20);
    let broken = &tenants[9];
    broken.run(BREAK);
    let p = fleet_project();
    p.file("tenants.txt", &tenants_file(&tenants));
    set_fleet(&p, "urls_from = \"tenants.txt\"");

    let before = p.cmd("dbrev").args(["current", "--fleet"]).ok();
    assert!(
        before.stdout().contains("    20  base\n"),
        "{}",
        before.stdout()
    );

    let out = p
        .cmd("dbrev")
        .args(["upgrade", "--fleet", "--jobs", "6"])
        .fails();
    assert_eq!(out.code(), 5, "{}", out.stderr());
    let err = out.stderr();
    assert!(err.contains("Fleet 20 databases from tenants.txt"), "{err}");
    assert!(
        !err.contains("Applied"),
        "tenants' own lines stay out: {err}"
    );
    let failed = row(&out, broken);
    assert!(failed.contains(&format!("base → {R1}")), "{failed}");
    assert!(
        failed.contains(&format!("error: revision {R2} failed")) && failed.contains("exists"),
        "{failed}"
    );
    for (i, t) in tenants.iter().enumerate() {
        let want: &[&str] = if i == 9 { &[R1] } else { &[R1, R2, R3] };
        assert_eq!(t.applied(), want, "{}", t.shown());
    }
    assert!(err.contains("upgrade failed on 1 of 20 databases"), "{err}");

    let current = p.cmd("dbrev").args(["current", "--fleet"]).ok().stdout();
    assert!(
        current.contains(&format!("    19  {R3} (head)\n")),
        "{current}"
    );
    assert!(current.contains(&format!("     1  {R1}\n")), "{current}");
    assert!(
        current.contains(&format!(
            "not at head (1):\n  {}  {R1} (2 pending)",
            broken.shown()
        )),
        "{current}"
    );

    broken.run("DROP TABLE tags;");
    let out = p.cmd("dbrev").args(["upgrade", "--fleet"]).ok();
    let err = out.stderr();
    assert_eq!(err.matches("(nothing to do)").count(), 19, "{err}");
    assert!(row(&out, broken).contains(&format!("{R1} → {R3}")), "{err}");
    assert!(tenants.iter().all(|t| t.applied() == [R1, R2, R3]));
    let current = p.cmd("dbrev").args(["current", "--fleet"]).ok().stdout();
    assert_eq!(current, format!("    20  {R3} (head)\n"));
    Ok(())
}

/// `schemas_query`: the tenants are schemas of the configured database, each with its own
/// version table; a broken one fails alone; `downgrade --fleet` and `dbexport --fleet`
/// work per schema (each dump holds its schema and restores on its own).
fn schema_tenants_from_a_query() -> Skippable {
    let db = TestDb::create(Backend::Postgres)?;
    db.run_script(
        "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA tenant_c; CREATE SCHEMA other;",
    );
    let tenants = ["tenant_a", "tenant_b", "tenant_c"].map(|s| Tenant {
        db: &db,
        schema: Some(s),
    });
    tenants[1].run(BREAK);
    let p = fleet_project();
    p.file(".env", &format!("DATABASE_URL={}\n", db.url));
    set_fleet(
        &p,
        "schemas_query = \"SELECT nspname AS value FROM pg_namespace WHERE nspname LIKE 'tenant%' ORDER BY 1\"",
    );
    let out = p.cmd("dbrev").args(["upgrade", "--fleet"]).fails();
    assert_eq!(out.code(), 5);
    assert!(
        out.stderr()
            .contains("Fleet 3 databases from `schemas_query`"),
        "{}",
        out.stderr()
    );
    assert!(out.stderr().contains("schema tenant_b"), "{}", out.stderr());
    assert_eq!(tenants[0].applied(), [R1, R2, R3]);
    assert_eq!(tenants[1].applied(), [R1]);
    assert_eq!(tenants[2].applied(), [R1, R2, R3]);
    let public = Tenant::whole(&db);
    assert!(public.applied().is_empty(), "nothing in the default schema");

    tenants[1].run("DROP TABLE tags;");
    p.cmd("dbrev").args(["upgrade", "--fleet"]).ok();
    assert!(tenants.iter().all(|t| t.applied() == [R1, R2, R3]));
    tenants[0].run("INSERT INTO items (id, name) VALUES (1, 'only in a');");

    // Another tenant's function and sequence stay out of tenant_a's dump: restored, it
    // must not write into the other tenants' schemas.
    db.run_script(
        "CREATE FUNCTION tenant_b.answer() RETURNS int LANGUAGE sql AS 'SELECT 42';\n\
         CREATE SEQUENCE tenant_c.counter;\n",
    );
    let out = p.cmd("dbexport").args(["--fleet", "-o", "dumps"]).ok();
    assert!(
        out.stderr().contains("Finished 3 of 3 databases"),
        "{}",
        out.stderr()
    );
    let dump = p.root().join(format!(
        "dumps/{}.tenant_a.sql",
        db.url.rsplit('/').next().unwrap()
    ));
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(
        !text.contains("tenant_b") && !text.contains("tenant_c"),
        "{text}"
    );
    let copy = TestDb::create(Backend::Postgres)?;
    p.cmd("dbexport")
        .args(["restore", "--database-url", &copy.url])
        .args([dump.to_str().expect("UTF-8 path")])
        .ok();
    assert_eq!(Tenant::whole(&copy).applied(), [R1, R2, R3]);
    assert_eq!(
        copy.values("SELECT name AS value FROM items"),
        ["only in a"]
    );

    let out = p.cmd("dbrev").args(["downgrade", "--fleet", R1]).ok();
    let shown = format!("{} schema tenant_c", db.url);
    assert!(row_of(&out, &shown).contains(&format!("{R3} → {R1}")));
    assert!(tenants.iter().all(|t| t.applied() == [R1]));
    Ok(())
}

/// `urls_query` lists the tenants from the configured database; `urls` lists them in
/// dbrev.toml itself.
fn tenants_from_a_query_and_from_dbrev_toml() -> Skippable {
    let catalog = TestDb::create(Backend::Sqlite)?;
    let sqlite = databases(Backend::Sqlite, 2)?;
    let postgres = TestDb::create(Backend::Postgres)?;
    let mut tenants: Vec<Tenant<'_>> = sqlite.iter().map(Tenant::whole).collect();
    tenants.push(Tenant::whole(&postgres));
    let rows: Vec<String> = tenants.iter().map(|t| format!("('{}')", t.url())).collect();
    catalog.run_script(&format!(
        "CREATE TABLE tenants (url TEXT NOT NULL);\nINSERT INTO tenants VALUES {};",
        rows.join(", ")
    ));
    let p = fleet_project();
    p.file(".env", &format!("DATABASE_URL={}\n", catalog.url));
    set_fleet(&p, "urls_query = \"SELECT url AS value FROM tenants\"");
    let out = p.cmd("dbrev").args(["upgrade", "--fleet", R2]).ok();
    assert!(
        out.stderr().contains("Fleet 3 databases from `urls_query`"),
        "{}",
        out.stderr()
    );
    assert!(tenants.iter().all(|t| t.applied() == [R1, R2]));

    let config = p.read("dbrev.toml");
    let without = config.split("\n[fleet]").next().expect("dbrev.toml");
    p.file("dbrev.toml", without);
    let urls: Vec<String> = tenants.iter().map(|t| format!("\"{}\"", t.url())).collect();
    set_fleet(&p, &format!("urls = [\n  {},\n]", urls.join(",\n  ")));
    let out = p.cmd("dbrev").args(["upgrade", "--fleet"]).ok();
    assert!(out.stderr().contains("Fleet 3 databases from `urls`"));
    assert!(tenants.iter().all(|t| t.applied() == [R1, R2, R3]));
    Ok(())
}

/// Five SQLite tenants, the second broken.
fn sqlite_tenants(p: &Project, n: usize, broken: usize) -> Vec<TestDb> {
    let dbs = databases(Backend::Sqlite, n).expect("SQLite needs no server");
    Tenant::whole(&dbs[broken]).run(BREAK);
    let tenants: Vec<Tenant<'_>> = dbs.iter().map(Tenant::whole).collect();
    p.file("tenants.txt", &tenants_file(&tenants));
    set_fleet(p, "urls_from = \"tenants.txt\"");
    dbs
}

/// `--fail-fast` starts no other tenant after a failure; without it the others go on.
fn fail_fast_starts_no_other_tenant() {
    let p = fleet_project();
    let dbs = sqlite_tenants(&p, 5, 1);
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "--fleet", "--jobs", "1", "--fail-fast"])
        .fails();
    assert_eq!(out.code(), 5);
    let err = out.stderr();
    assert_eq!(
        err.matches("not run: --fail-fast after a failure").count(),
        3,
        "{err}"
    );
    assert!(
        err.contains("upgrade failed on 1 of 5 databases (3 not run)"),
        "{err}"
    );
    assert_eq!(Tenant::whole(&dbs[0]).applied(), [R1, R2, R3]);
    assert_eq!(Tenant::whole(&dbs[1]).applied(), [R1]);
    for db in &dbs[2..] {
        assert!(!Path::new(&sqlite_path(db)).exists(), "untouched");
    }
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "--fleet", "--jobs", "1", "-q"])
        .fails();
    let err = out.stderr();
    assert!(err.contains("upgrade failed on 1 of 5 databases;"), "{err}");
    assert!(
        row(&out, &Tenant::whole(&dbs[1])).contains("error: revision"),
        "-q keeps the failed rows: {err}"
    );
    assert!(!err.contains("Upgraded") && !err.contains(" ok\n"), "{err}");
    for (i, db) in dbs.iter().enumerate() {
        let want: &[&str] = if i == 1 { &[R1] } else { &[R1, R2, R3] };
        assert_eq!(Tenant::whole(db).applied(), want);
    }
}

/// A failing canary stops everything: no other tenant is touched. Canaries that pass let
/// the rest go; `downgrade --fleet` takes a canary too.
fn a_failing_canary_stops_the_fleet() {
    let p = fleet_project();
    let dbs = sqlite_tenants(&p, 6, 0);
    let out = p
        .cmd("dbrev")
        .args(["upgrade", "--fleet", "--canary", "2", "--jobs", "1"])
        .fails();
    assert_eq!(out.code(), 5);
    let err = out.stderr();
    assert_eq!(err.matches("not run: a canary failed").count(), 5, "{err}");
    assert_eq!(Tenant::whole(&dbs[0]).applied(), [R1]);
    for db in &dbs[1..] {
        assert!(!Path::new(&sqlite_path(db)).exists(), "untouched");
    }
    Tenant::whole(&dbs[0]).run("DROP TABLE tags;");
    p.cmd("dbrev")
        .args(["upgrade", "--fleet", "--canary", "2"])
        .ok();
    assert!(
        dbs.iter()
            .all(|db| Tenant::whole(db).applied() == [R1, R2, R3])
    );
    let out = p
        .cmd("dbrev")
        .args(["downgrade", "--fleet", "base", "--canary", "1"])
        .ok();
    assert!(
        out.stderr().contains(&format!("{R3} → base")),
        "{}",
        out.stderr()
    );
    assert!(dbs.iter().all(|db| Tenant::whole(db).applied().is_empty()));
}

/// `check --fleet`: clean tenants pass; one that drifted fails with exit code 1, one that
/// is not there with 4 — the exit code is the highest of the failures'.
fn check_each_tenant_against_the_model() -> Skippable {
    let sqlite = databases(Backend::Sqlite, 2)?;
    let postgres = TestDb::create(Backend::Postgres)?;
    let mariadb = TestDb::create(Backend::Mysql)?;
    let mut tenants: Vec<Tenant<'_>> = sqlite.iter().map(Tenant::whole).collect();
    tenants.push(Tenant::whole(&postgres));
    tenants.push(Tenant::whole(&mariadb));
    let p = fleet_project();
    p.file("tenants.txt", &tenants_file(&tenants));
    set_fleet(&p, "urls_from = \"tenants.txt\"");
    p.cmd("dbrev").args(["upgrade", "--fleet"]).ok();
    let out = p
        .cmd("dbrev")
        .args(["check", "--fleet", "--format", "json"])
        .ok();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).expect("JSON");
    assert_eq!(doc["command"], "check");
    assert_eq!(doc["summary"]["ok"], 4, "{doc}");
    assert_eq!(doc["databases"][2]["clean"], true, "{doc}");

    tenants[0].run("ALTER TABLE items ADD COLUMN extra INTEGER;");
    let out = p.cmd("dbrev").args(["check", "--fleet"]).fails();
    assert_eq!(out.code(), 1, "{}", out.stderr());
    assert!(
        row(&out, &tenants[0]).contains("error: 1 difference(s) with the model"),
        "{}",
        out.stderr()
    );
    let gone = TestDb::create(Backend::Sqlite)?;
    let mut listed = tenants_file(&tenants);
    listed.push_str(&gone.url);
    p.file("tenants.txt", &listed);
    let out = p
        .cmd("dbrev")
        .args(["check", "--fleet", "--format", "json"])
        .fails();
    assert_eq!(out.code(), 4, "{}", out.stderr());
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).expect("JSON");
    assert_eq!(doc["summary"]["failed"], 2, "{doc}");
    assert_eq!(doc["databases"][0]["exit_code"], 1, "{doc}");
    assert_eq!(doc["databases"][4]["exit_code"], 4, "{doc}");
    assert!(
        !Path::new(&sqlite_path(&gone)).exists(),
        "check creates no file"
    );
    Ok(())
}

/// `test --fleet`: the history proven beside each tenant's database, on its server.
fn test_beside_each_tenant() -> Skippable {
    let sqlite = TestDb::create(Backend::Sqlite)?;
    let postgres = TestDb::create(Backend::Postgres)?;
    let tenants = [Tenant::whole(&sqlite), Tenant::whole(&postgres)];
    let p = fleet_project();
    p.file("tenants.txt", &tenants_file(&tenants));
    set_fleet(&p, "urls_from = \"tenants.txt\"");
    let out = p
        .cmd("dbrev")
        .args(["test", "--fleet", "--format", "json"])
        .ok();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout()).expect("JSON");
    assert_eq!(doc["command"], "test");
    assert_eq!(doc["summary"]["ok"], 2, "{doc}");
    assert_eq!(doc["databases"][1]["revisions"], 3, "{doc}");
    assert!(
        tenants.iter().all(|t| t.applied().is_empty()),
        "tenants untouched"
    );
    Ok(())
}

/// `dbexport --fleet -o DIR`: one file per tenant, named after its database, each of which
/// restores the tenant on its own.
fn dbexport_one_file_per_tenant_that_restores() -> Skippable {
    let sqlite = TestDb::create(Backend::Sqlite)?;
    let postgres = TestDb::create(Backend::Postgres)?;
    let mariadb = TestDb::create(Backend::Mysql)?;
    let tenants = [&sqlite, &postgres, &mariadb].map(Tenant::whole);
    let p = fleet_project();
    p.file("tenants.txt", &tenants_file(&tenants));
    set_fleet(&p, "urls_from = \"tenants.txt\"");
    p.cmd("dbrev").args(["upgrade", "--fleet"]).ok();
    for (i, t) in tenants.iter().enumerate() {
        t.run(&format!(
            "INSERT INTO items (id, name) VALUES ({i}, 'tenant {i}');"
        ));
    }
    let out = p
        .cmd("dbexport")
        .args(["--fleet", "-o", "dumps", "--jobs", "2"])
        .ok();
    assert!(
        out.stderr().contains("Fleet 3 databases"),
        "{}",
        out.stderr()
    );
    for (i, t) in tenants.iter().enumerate() {
        let name = t.db.url.rsplit('/').next().unwrap().trim_end_matches(".db");
        let dump = p.root().join(format!("dumps/{name}.sql"));
        assert!(dump.exists(), "{}: {}", dump.display(), out.stderr());
        let copy = TestDb::create(t.db.backend())?;
        p.cmd("dbexport")
            .args(["restore", "--yes", "--database-url", &copy.url])
            .args([dump.to_str().expect("UTF-8 path")])
            .ok();
        assert_eq!(Tenant::whole(&copy).applied(), [R1, R2, R3]);
        assert_eq!(
            copy.values("SELECT name AS value FROM items"),
            [format!("tenant {i}")]
        );
    }
    let out = p.cmd("dbexport").args(["--fleet"]).fails();
    assert_eq!(out.code(), 2, "a directory is needed: {}", out.stderr());
    Ok(())
}

/// `[fleet]` mistakes name dbrev.toml or the URL file with the line; a password in a
/// tenant's URL is never printed.
fn fleet_settings_errors_name_file_and_line() {
    let p = fleet_project();
    let out = p.cmd("dbrev").args(["current", "--fleet"]).fails();
    assert_eq!(out.code(), 3);
    assert!(
        out.stderr()
            .contains("dbrev.toml: --fleet needs a [fleet] table")
    );
    let out = p.cmd("dbrev").args(["current", "--jobs", "2"]).fails();
    assert_eq!(out.code(), 2, "--jobs needs --fleet");

    let config = p.read("dbrev.toml");
    let line = config.lines().count() + 2;
    let fails = |body: &str, files: &[(&str, &str)], expected: &str| {
        p.file("dbrev.toml", &config);
        set_fleet(&p, body);
        for (name, text) in files {
            p.file(name, text);
        }
        let out = p.cmd("dbrev").args(["upgrade", "--fleet"]).fails();
        assert_eq!(out.code(), 3, "{body}: {}", out.stderr());
        assert!(out.stderr().contains(expected), "{body}: {}", out.stderr());
    };
    fails(
        "urls = [\"a.db\"]\nurls_from = \"t.txt\"",
        &[],
        &format!("dbrev.toml:{line}: [fleet] needs exactly one of"),
    );
    fails("", &[], "it has none");
    fails("url = \"a.db\"", &[], "unknown field `url`");
    fails(
        "urls_from = \"missing.txt\"",
        &[],
        &format!("dbrev.toml:{}:13: `urls_from` file", line + 1),
    );
    fails(
        "urls_from = \"t.txt\"",
        &[("t.txt", "a.db\n# comment\nnot a url\n")],
        "t.txt:3: invalid database URL `not a url`",
    );
    fails(
        "urls_from = \"t.txt\"",
        &[("t.txt", "\n${NO_SUCH_FLEET_VAR}/a.db\n")],
        "t.txt:2: `urls_from` uses ${NO_SUCH_FLEET_VAR}",
    );
    fails(
        "urls_from = \"t.txt\"",
        &[("t.txt", "a.db\nsqlite://a.db\n")],
        "t.txt:2: ",
    );
    fails(
        "urls_from = \"t.txt\"",
        &[("t.txt", "# nobody yet\n")],
        "the fleet is empty",
    );

    p.file("dbrev.toml", &config);
    set_fleet(&p, "urls_from = \"t.txt\"");
    p.file(
        "t.txt",
        "postgres://fleet:s3cr3t-pw@127.0.0.1:1/tenant\nmysql://fleet:s3cr3t-pw@127.0.0.1:1/tenant\n",
    );
    let out = p.cmd("dbrev").args(["upgrade", "--fleet"]).fails();
    assert_eq!(out.code(), 4, "{}", out.stderr());
    let all = format!("{}{}", out.stdout(), out.stderr());
    assert!(!all.contains("s3cr3t"), "{all}");
    assert!(
        all.contains("postgres://fleet:***@127.0.0.1:1/tenant"),
        "{all}"
    );
}

/// A tenant whose migration lock another session holds fails alone with the lock's error
/// (exit 6, the holder or the wait named) while the others reach the head; Ctrl-C while
/// such tenants wait leaves them untouched; once the locks are free a re-run finishes the
/// job. SQLite and PostgreSQL tenants.
fn a_held_lock_or_ctrl_c_stops_one_tenant_alone() -> Skippable {
    let pg = databases(Backend::Postgres, 2)?;
    let sqlite = databases(Backend::Sqlite, 2)?;
    let p = fleet_project();
    let tenants: Vec<Tenant<'_>> = sqlite.iter().chain(&pg).map(Tenant::whole).collect();
    p.file("tenants.txt", &tenants_file(&tenants));
    set_fleet(&p, "urls_from = \"tenants.txt\"");
    let mut sqlite_holder = sqlite[0].connect();
    sqlite_holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let mut pg_holder = pg[0].connect();
    let lock = pg_holder
        .dialect()
        .try_lock(&dbkit::lock::lock_name("__diesel_schema_migrations"))
        .unwrap();
    assert_eq!(pg_holder.query_value(&lock).unwrap().as_deref(), Some("1"));

    let out = p
        .cmd("dbrev")
        .args(["upgrade", "--fleet", "--lock-timeout", "1"])
        .fails();
    assert_eq!(out.code(), dbkit::error::exit::LOCK, "{}", out.stderr());
    assert!(
        row(&out, &tenants[0]).contains("stayed locked by another connection for 1 s"),
        "{}",
        out.stderr()
    );
    assert!(
        row(&out, &tenants[2]).contains("the migration lock is held by pid "),
        "{}",
        out.stderr()
    );
    assert_eq!(tenants[1].applied(), [R1, R2, R3]);
    assert_eq!(tenants[3].applied(), [R1, R2, R3]);

    // Ctrl-C while the held tenants wait for their locks.
    let mut child = std::process::Command::new(dbrev_tests::binary("dbrev"))
        .args(["dbrev", "upgrade", "--fleet", "--lock-timeout", "60"])
        .current_dir(p.root())
        .env_remove("DATABASE_URL")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the run did not wait");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait_with_output().unwrap().status;
    assert!(!status.success(), "Ctrl-C is not a success: {status:?}");

    // (Read once the holders are gone: SQLite's reader would wait for the holder.)
    drop(sqlite_holder);
    drop(pg_holder);
    assert!(tenants[0].applied().is_empty(), "nothing half applied");
    assert!(tenants[2].applied().is_empty(), "nothing half applied");
    p.cmd("dbrev").args(["upgrade", "--fleet"]).ok();
    for t in &tenants {
        assert_eq!(t.applied(), [R1, R2, R3]);
    }
    Ok(())
}

dbrev_tests::main! {
    backend: [],
    plain: [
        twenty_mixed_tenants_one_broken_then_fixed,
        schema_tenants_from_a_query,
        tenants_from_a_query_and_from_dbrev_toml,
        fail_fast_starts_no_other_tenant,
        a_held_lock_or_ctrl_c_stops_one_tenant_alone,
        a_failing_canary_stops_the_fleet,
        check_each_tenant_against_the_model,
        test_beside_each_tenant,
        dbexport_one_file_per_tenant_that_restores,
        fleet_settings_errors_name_file_and_line,
    ],
}
