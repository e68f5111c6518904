//! `cargo xtask demo`: the user's loop on SQLite, no server needed, in a throw-away cargo
//! project, driven through dbkit's public API exactly as a project's own xtask would.

use std::path::{Path, PathBuf};

use dbkit::authoring::{RevisionBody, RevisionOptions};
use dbkit::{ConfigRequest, Connection, Environment, InitOptions, PackageSelector, Reporter};
use xshell::{Shell, cmd};

use crate::DynResult;

/// The model after the user's edit: an `orders` table joins `products`.
const MODEL_WITH_ORDERS: &str = "diesel::table! {\n    products (id) {\n        id -> Integer,\n        name -> Text,\n        price_cents -> Integer,\n    }\n}\n\n\
     diesel::table! {\n    orders (id) {\n        id -> Integer,\n        product_id -> Integer,\n        quantity -> Integer,\n    }\n}\n\n\
     diesel::joinable!(orders -> products (product_id));\n\
     diesel::allow_tables_to_appear_in_same_query!(orders, products);\n";

pub fn run() -> DynResult {
    let dir = tempfile::Builder::new().prefix("dbrev-demo-").tempdir()?;
    let demo = Demo::scaffold(dir.path())?;
    demo.add_revision(
        "create products",
        "CREATE TABLE products (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n);\nINSERT INTO products (id, name) VALUES (1, 'tea'), (2, 'coffee');",
        "DROP TABLE products;",
    )?;
    demo.add_revision(
        "add prices",
        "ALTER TABLE products ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0;\nUPDATE products SET price_cents = 350 WHERE name = 'tea';",
        "ALTER TABLE products DROP COLUMN price_cents;",
    )?;
    let env = Environment::load(&demo.request)?;
    demo.reporter.note("Database", &env.config.database_url);
    let mut conn = env.connect()?;
    demo.up_down_up(&env, &mut conn)?;
    let env = demo.autogenerate(&env, &mut conn)?;
    demo.export_and_restore(&mut conn)?;
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
        demo.root.display()
    );
    Ok(())
}

/// The throw-away project the demo works in.
struct Demo {
    root: PathBuf,
    request: ConfigRequest,
    reporter: Reporter,
}

impl Demo {
    /// `cargo new shop` and `cargo dbinit`.
    fn scaffold(dir: &Path) -> Result<Demo, Box<dyn std::error::Error>> {
        let reporter = Reporter::default();
        let sh = Shell::new()?;
        sh.change_dir(dir);
        step("cargo new shop");
        cmd!(sh, "cargo new --quiet --vcs none shop").run()?;
        let root = dir.join("shop");
        let package = PackageSelector {
            manifest_path: Some(root.join("Cargo.toml")),
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
        Ok(Demo {
            root,
            request,
            reporter,
        })
    }

    /// `cargo dbrev revision -m MESSAGE`, with its SQL written in.
    fn add_revision(&self, message: &str, upgrades: &str, downgrades: &str) -> DynResult {
        step(&format!("cargo dbrev revision -m \"{message}\""));
        let env = Environment::load(&self.request)?;
        let dir = env.revision_with(
            &RevisionOptions {
                message: message.into(),
                ..Default::default()
            },
            &RevisionBody {
                upgrades: upgrades.into(),
                downgrades: downgrades.into(),
            },
        )?;
        self.reporter
            .status("Created", dir.strip_prefix(&self.root)?.display());
        Ok(())
    }

    /// `upgrade head`, `downgrade -1`, `upgrade head`.
    fn up_down_up(&self, env: &Environment, conn: &mut Connection) -> DynResult {
        step("cargo dbrev upgrade head");
        env.upgrade(conn, "head", &self.reporter)?;
        step("cargo dbrev downgrade -1");
        env.downgrade(conn, "-1", &self.reporter)?;
        step("cargo dbrev upgrade head");
        env.upgrade(conn, "head", &self.reporter)?;
        Ok(())
    }

    /// The model gains a table: `check` lists it, autogenerate writes the revision,
    /// `upgrade` applies it, and `check` agrees. Returns the environment with it.
    fn autogenerate(
        &self,
        env: &Environment,
        conn: &mut Connection,
    ) -> Result<Environment, Box<dyn std::error::Error>> {
        step("$EDITOR src/schema.rs   # the model gains an `orders` table");
        std::fs::write(self.root.join("src/schema.rs"), MODEL_WITH_ORDERS)?;
        step("cargo dbrev check");
        let comparison = env.compare(conn, &Default::default())?;
        for change in &comparison.changes {
            println!("{}", change.describe());
        }
        step("cargo dbrev revision --autogenerate -m \"add orders\"");
        let options = RevisionOptions {
            message: "add orders".into(),
            ..Default::default()
        };
        let auto = env
            .autogenerate(conn, &options, &Default::default(), &self.reporter)?
            .ok_or("the model should differ from the database")?;
        print!("{}", std::fs::read_to_string(auto.join("up.sql"))?);
        let env = Environment::load(&self.request)?;
        step("cargo dbrev upgrade head");
        env.upgrade(conn, "head", &self.reporter)?;
        step("cargo dbrev check");
        if !env.compare(conn, &Default::default())?.is_clean() {
            return Err("the model and the database still differ".into());
        }
        self.reporter
            .status("Checked", "the model and the database agree");
        Ok(env)
    }

    /// `cargo dbexport -o shop.sql`, then a restore into `copy.db`, which is at head.
    fn export_and_restore(&self, conn: &mut Connection) -> DynResult {
        let reporter = &self.reporter;
        step("cargo dbexport -o shop.sql");
        let dump = self.root.join("shop.sql");
        let stats = dbkit::export::dump_to_file(conn, &dump, &Default::default(), reporter)?;
        reporter.status(
            "Dumped",
            format!(
                "{} tables, {} rows, {} bytes to shop.sql",
                stats.tables, stats.rows, stats.bytes
            ),
        );
        step("cargo dbexport restore shop.sql --database-url sqlite://copy.db");
        let copy_url = dbkit::DatabaseUrl::parse("copy.db", &self.root)?;
        let mut copy = Connection::establish(&copy_url)?;
        let restored = dbkit::export::restore_file(&mut copy, &dump, reporter)?;
        reporter.status(
            "Restored",
            format!("{} statements into copy.db", restored.statements),
        );
        let copied = Environment::load(&ConfigRequest {
            database_url: Some(copy_url.expose().to_owned()),
            ..self.request.clone()
        })?;
        let state = copied.current(&mut copy)?;
        reporter.status(
            "Checked",
            format!("copy.db is at {}", state.heads.join(", ")),
        );
        Ok(())
    }
}

fn step(command: &str) {
    println!("\n$ {command}");
}
