//! `cargo xtask demo`: the user's loop on SQLite, no server needed, in a throw-away cargo
//! project, driven through dbkit's public API exactly as a project's own xtask would.

use dbkit::authoring::{RevisionBody, RevisionOptions};
use dbkit::{ConfigRequest, Environment, InitOptions, PackageSelector, Reporter};
use xshell::{Shell, cmd};

use crate::DynResult;

pub fn run() -> DynResult {
    let reporter = Reporter::default();
    let dir = tempfile::Builder::new().prefix("dbrev-demo-").tempdir()?;
    let sh = Shell::new()?;
    sh.change_dir(dir.path());
    step("cargo new shop");
    cmd!(sh, "cargo new --quiet --vcs none shop").run()?;
    let root = dir.path().join("shop");
    let manifest = root.join("Cargo.toml");
    let package = PackageSelector {
        manifest_path: Some(manifest.clone()),
        package: None,
    };

    step("cargo dbinit versioning");
    let report = dbkit::init(&InitOptions {
        package: package.clone(),
        ..InitOptions::default()
    })?;
    for path in &report.created {
        reporter.status("Created", path.strip_prefix(&root)?.display());
    }

    let request = ConfigRequest {
        package,
        ..ConfigRequest::default()
    };
    step("cargo dbrev revision -m \"create products\"");
    let env = Environment::load(&request)?;
    let first = env.revision_with(
        &RevisionOptions {
            message: "create products".into(),
            ..Default::default()
        },
        &RevisionBody {
            upgrades: "CREATE TABLE products (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n);\nINSERT INTO products (id, name) VALUES (1, 'tea'), (2, 'coffee');".into(),
            downgrades: "DROP TABLE products;".into(),
        },
    )?;
    reporter.status("Created", first.strip_prefix(&root)?.display());

    step("cargo dbrev revision -m \"add prices\"");
    let env = Environment::load(&request)?;
    let second = env.revision_with(
        &RevisionOptions {
            message: "add prices".into(),
            ..Default::default()
        },
        &RevisionBody {
            upgrades: "ALTER TABLE products ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0;\nUPDATE products SET price_cents = 350 WHERE name = 'tea';".into(),
            downgrades: "ALTER TABLE products DROP COLUMN price_cents;".into(),
        },
    )?;
    reporter.status("Created", second.strip_prefix(&root)?.display());

    let env = Environment::load(&request)?;
    reporter.note("Database", &env.config.database_url);
    let mut conn = env.connect()?;
    step("cargo dbrev upgrade head");
    env.upgrade(&mut conn, "head", &reporter)?;
    step("cargo dbrev downgrade -1");
    env.downgrade(&mut conn, "-1", &reporter)?;
    step("cargo dbrev upgrade head");
    env.upgrade(&mut conn, "head", &reporter)?;
    step("$EDITOR src/schema.rs   # the model gains an `orders` table");
    std::fs::write(
        root.join("src/schema.rs"),
        "diesel::table! {\n    products (id) {\n        id -> Integer,\n        name -> Text,\n        price_cents -> Integer,\n    }\n}\n\n\
         diesel::table! {\n    orders (id) {\n        id -> Integer,\n        product_id -> Integer,\n        quantity -> Integer,\n    }\n}\n\n\
         diesel::joinable!(orders -> products (product_id));\n\
         diesel::allow_tables_to_appear_in_same_query!(orders, products);\n",
    )?;
    step("cargo dbrev check");
    let comparison = env.compare(&mut conn, &Default::default())?;
    for change in &comparison.changes {
        println!("{}", change.describe());
    }
    step("cargo dbrev revision --autogenerate -m \"add orders\"");
    let auto = env
        .autogenerate(
            &mut conn,
            &RevisionOptions {
                message: "add orders".into(),
                ..Default::default()
            },
            &Default::default(),
            &reporter,
        )?
        .ok_or("the model should differ from the database")?;
    print!("{}", std::fs::read_to_string(auto.join("up.sql"))?);
    let env = Environment::load(&request)?;
    step("cargo dbrev upgrade head");
    env.upgrade(&mut conn, "head", &reporter)?;
    step("cargo dbrev check");
    let comparison = env.compare(&mut conn, &Default::default())?;
    if !comparison.is_clean() {
        return Err("the model and the database still differ".into());
    }
    reporter.status("Checked", "the model and the database agree");

    step("cargo dbexport -o shop.sql");
    let dump = root.join("shop.sql");
    let stats = dbkit::export::dump_to_file(&mut conn, &dump, &Default::default(), &reporter)?;
    reporter.status(
        "Dumped",
        format!(
            "{} tables, {} rows, {} bytes to shop.sql",
            stats.tables, stats.rows, stats.bytes
        ),
    );
    step("cargo dbexport restore shop.sql --database-url sqlite://copy.db");
    let copy_url = dbkit::DatabaseUrl::parse("copy.db", &root)?;
    let mut copy = dbkit::Connection::establish(&copy_url)?;
    let restored = dbkit::export::restore_file(&mut copy, &dump, &reporter)?;
    reporter.status(
        "Restored",
        format!("{} statements into copy.db", restored.statements),
    );
    let copied = Environment::load(&ConfigRequest {
        database_url: Some(copy_url.expose().to_owned()),
        ..request.clone()
    })?;
    let state = copied.current(&mut copy)?;
    reporter.status(
        "Checked",
        format!("copy.db is at {}", state.heads.join(", ")),
    );

    step("cargo dbrev history");
    print!(
        "{}",
        dbkit::listing::history(&env.graph, None, false, None)?
    );
    step("cargo dbrev current");
    let state = env.current(&mut conn)?;
    print!("{}", dbkit::listing::current(&env.graph, &state, false));
    println!(
        "\nThe demo project was in {} (removed now).",
        root.display()
    );
    Ok(())
}

fn step(command: &str) {
    println!("\n$ {command}");
}
