//! `cargo dbinit`: scaffolding, workspaces, refusal without --force, adopting diesel.

use dbrev_tests::{Project, diesel_project};

fn scaffolds_a_single_package() {
    let p = Project::new();
    let out = p.cmd("dbinit").ok();
    let err = out.stderr();
    for created in [
        "Created versioning/versions/",
        "Created versioning/README.md",
        "Created versioning/revision.sql.tmpl",
        "Created dbrev.toml",
    ] {
        assert!(err.contains(created), "{created} missing in:\n{err}");
    }
    let config = p.read("dbrev.toml");
    assert!(
        config.contains("script_location = \"versioning\""),
        "{config}"
    );
    assert!(
        config.contains("version_locations = \"versioning/versions\""),
        "{config}"
    );
    assert!(config.contains("schema = \"src/schema.rs\""), "{config}");
    assert!(p.root().join("versioning/versions").is_dir());
    assert!(
        p.read("versioning/README.md")
            .contains("cargo dbrev upgrade head")
    );
    assert!(
        p.read("versioning/revision.sql.tmpl")
            .contains("-- file: up.sql")
    );
}

fn runs_directly_and_through_cargo_with_help_and_version() {
    let p = Project::new();
    for tool in ["dbinit", "dbrev", "dbexport"] {
        let help = p.cmd(tool).args(["--help"]).ok().stdout();
        assert!(help.contains(&format!("Usage: cargo {tool}")), "{help}");
        let version = p.cmd(tool).args(["--version"]).ok().stdout();
        assert!(version.starts_with(&format!("cargo-{tool} ")), "{version}");
    }
    // Run directly, without the subcommand name cargo inserts.
    let direct = std::process::Command::new(dbrev_tests::binary("dbinit"))
        .arg("custom")
        .current_dir(p.root())
        .output()
        .unwrap();
    assert!(
        direct.status.success(),
        "{}",
        String::from_utf8_lossy(&direct.stderr)
    );
    assert!(p.root().join("custom/versions").is_dir());
}

fn lists_templates_and_writes_the_embedded_one() {
    let p = Project::new();
    let list = p.cmd("dbinit").args(["--list-templates"]).ok().stdout();
    assert!(
        list.contains("generic") && list.contains("embedded"),
        "{list}"
    );
    p.cmd("dbinit").args(["db", "--template", "embedded"]).ok();
    let module = p.read("db/embedded_migrations.rs");
    assert!(
        module.contains("embed_migrations!(\"db/versions\")"),
        "{module}"
    );
    p.cmd("dbinit")
        .args(["other", "--template", "nope", "--force"])
        .fails()
        .stderr_has("unknown template `nope`");
}

fn refuses_to_overwrite_without_force() {
    let p = Project::new();
    p.cmd("dbinit").ok();
    p.file("dbrev.toml", "# mine\n");
    p.cmd("dbinit")
        .fails()
        .stderr_has("dbrev.toml already exists; pass --force");
    assert_eq!(p.read("dbrev.toml"), "# mine\n");
    std::fs::remove_file(p.root().join("dbrev.toml")).unwrap();
    p.file("stuff/notes.txt", "keep me");
    p.cmd("dbinit")
        .args(["stuff"])
        .fails()
        .stderr_has("is not empty; pass --force");
    p.cmd("dbinit").args(["stuff", "--force"]).ok();
    assert_eq!(p.read("stuff/notes.txt"), "keep me");
    assert!(p.root().join("stuff/versions").is_dir());
}

fn workspace() -> Project {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[workspace]\nmembers = [\"api\", \"worker\"]\nresolver = \"2\"\n",
    );
    for member in ["api", "worker"] {
        p.file(
            format!("{member}/Cargo.toml"),
            &format!("[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        p.file(format!("{member}/src/main.rs"), "fn main() {}\n");
    }
    std::fs::remove_file(p.root().join("src/main.rs")).unwrap();
    p
}

fn workspace_members_need_a_package() {
    let p = workspace();
    p.cmd("dbinit")
        .fails()
        .stderr_has("virtual workspace with several packages")
        .stderr_has("api, worker");
    p.cmd("dbinit").args(["-p", "worker"]).ok();
    assert!(p.root().join("worker/dbrev.toml").is_file());
    assert!(p.root().join("worker/versioning/versions").is_dir());
    p.cmd("dbinit")
        .args(["-p", "nope"])
        .fails()
        .stderr_has("package `nope` is not a member");
    // From inside a member, no -p is needed.
    p.cmd("dbinit").current_dir(p.root().join("api")).ok();
    assert!(p.root().join("api/dbrev.toml").is_file());
    // --manifest-path works from anywhere.
    let other = Project::new();
    other
        .cmd("dbinit")
        .args(["--manifest-path"])
        .args([p.root().join("api/Cargo.toml")])
        .args(["--force", "db"])
        .ok();
    assert!(p.root().join("api/db/versions").is_dir());
    // dbrev finds the member's configuration with -p from the workspace root.
    p.cmd("dbrev").args(["-p", "worker", "heads"]).ok();
    p.cmd("dbrev")
        .args(["heads"])
        .fails()
        .stderr_has("several packages have a dbrev.toml");
}

fn adopts_an_existing_diesel_setup() {
    let p = diesel_project();
    let before = p.read("migrations/2023-01-05-101500_create_users/up.sql");
    let out = p.cmd("dbinit").args(["migrations"]).ok();
    assert!(out.stderr().contains("Adopting"), "{}", out.stderr());
    let config = p.read("dbrev.toml");
    assert!(
        config.contains("script_location = \"migrations\""),
        "{config}"
    );
    assert!(
        config.contains("version_locations = \"migrations\""),
        "{config}"
    );
    assert!(config.contains("schema = \"src/db/schema.rs\""), "{config}");
    assert_eq!(
        p.read("migrations/2023-01-05-101500_create_users/up.sql"),
        before
    );
    assert_eq!(p.read("migrations/README.md"), "notes\n");
    assert!(!p.root().join("migrations/versions").exists());
    // Diesel's order: by version as text, stray files ignored.
    let history = p.cmd("dbrev").args(["history"]).ok().stdout();
    let order: Vec<&str> = history
        .lines()
        .map(|l| {
            l.split(" -> ")
                .nth(1)
                .unwrap_or("")
                .split([',', ' '])
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(
        order,
        vec![
            "202303010000000000",
            "20230210120000",
            "20230105101500",
            "00000000000000"
        ],
        "{history}"
    );
}

fn bad_configuration_names_file_line_and_key() {
    let p = Project::new();
    p.cmd("dbinit").ok();
    p.file(
        "dbrev.toml",
        "script_location = \"versioning\"\ncolour = \"blue\"\n",
    );
    p.cmd("dbrev")
        .args(["heads"])
        .fails()
        .stderr_has("dbrev.toml:2:1: unknown field `colour`");
    p.file(
        "dbrev.toml",
        "script_location = \"versioning\"\nversion_table = 5\n",
    );
    p.cmd("dbrev").args(["heads"]).fails().stderr_has(
        "dbrev.toml:2:17: invalid type: integer `5`, expected a string (key `version_table`)",
    );
    p.file("dbrev.toml", "script_location = \"versioning\nschema = 1\n");
    p.cmd("dbrev")
        .args(["heads"])
        .fails()
        .stderr_has("dbrev.toml:1:");
    p.file(
        "dbrev.toml",
        "database_url = \"postgres://${DB_HOST_X}/app\"\n",
    );
    p.cmd("dbrev")
        .args(["current"])
        .fails()
        .stderr_has("dbrev.toml:1:28: `database_url` uses ${DB_HOST_X}, which is not set");
}

fn environment_and_dotenv_fill_the_url() {
    let p = Project::new();
    p.cmd("dbinit").ok();
    // No DATABASE_URL anywhere: a SQLite file named after the package.
    p.cmd("dbrev").args(["current"]).ok().stderr_has("app.db");
    assert!(p.root().join("app.db").is_file());
    // A workspace-level .env counts, and the package's wins over it.
    let ws = Project::new();
    ws.file(
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
    );
    ws.file(
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    ws.file("app/src/main.rs", "fn main() {}\n");
    ws.file(".env", "DATABASE_URL=sqlite://workspace_level.db\n");
    ws.cmd("dbinit").args(["-p", "app", "-q"]).ok();
    let member = ws.root().join("app");
    ws.cmd("dbrev")
        .args(["current"])
        .current_dir(&member)
        .ok()
        .stderr_has("workspace_level.db");
    ws.file("app/.env", "DATABASE_URL=sqlite://package_level.db\n");
    ws.cmd("dbrev")
        .args(["current"])
        .current_dir(&member)
        .ok()
        .stderr_has("package_level.db");
    p.file(".env", "DATABASE_URL=sqlite://from_dotenv.db\n");
    p.cmd("dbrev")
        .args(["current"])
        .ok()
        .stderr_has("from_dotenv.db");
    p.cmd("dbrev")
        .args(["current"])
        .env("DATABASE_URL", "env.db")
        .ok()
        .stderr_has("env.db");
    p.cmd("dbrev")
        .args(["current", "--database-url", "flag.db"])
        .env("DATABASE_URL", "env.db")
        .ok()
        .stderr_has("flag.db");
}

fn adoption_carries_print_schema_files_and_filter() {
    let p = Project::new();
    p.file(
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\nfilter = { except_tables = [\"^tmp_\", \"_log$\"] }\n\n\
         [print_schema.audit]\nfile = \"src/audit.rs\"\nschema = \"audit\"\nfilter = { except_tables = [\"^tmp_\", \"_log$\"] }\n",
    );
    p.cmd("dbinit").args(["-q"]).ok();
    let config = p.read("dbrev.toml");
    assert!(
        config.contains("schema = [\"src/schema.rs\", \"src/audit.rs\"]"),
        "{config}"
    );
    assert!(
        config.contains("exclude = [\"/^tmp_/\", \"/_log$/\"]"),
        "{config}"
    );
    // Configurations filtering differently are not merged into one list.
    p.file(
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\nfilter = { only_tables = [\"users\"] }\n\n\
         [print_schema.audit]\nfile = \"src/audit.rs\"\nschema = \"audit\"\n",
    );
    p.cmd("dbinit").args(["-q", "--force"]).ok();
    let config = p.read("dbrev.toml");
    assert!(config.contains("set these by hand"), "{config}");
    assert!(!config.contains("include = [\""), "{config}");
    p.cmd("dbrev").args(["history"]).ok();
    // A filter diesel would refuse is refused here too, naming diesel.toml.
    p.file(
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\nfilter = { only_tables = [\"users(\"] }\n",
    );
    let out = p.cmd("dbinit").args(["-q", "--force"]).fails();
    assert_eq!(out.code(), 3, "{}", out.stderr());
    assert!(
        out.stderr()
            .contains("diesel.toml: [print_schema] `filter.only_tables` entry `users(`"),
        "{}",
        out.stderr()
    );
}

dbrev_tests::main! {
    backend: [
    ],
    plain: [
        scaffolds_a_single_package,
        runs_directly_and_through_cargo_with_help_and_version,
        lists_templates_and_writes_the_embedded_one,
        refuses_to_overwrite_without_force,
        workspace_members_need_a_package,
        adopts_an_existing_diesel_setup,
        bad_configuration_names_file_line_and_key,
        environment_and_dotenv_fill_the_url,
        adoption_carries_print_schema_files_and_filter,
    ],
}
