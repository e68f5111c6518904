//! The equivalence property: a schema.rs written by `diesel print-schema` from a database
//! compares equal to that database — zero differences — on every backend, for a schema
//! using every common type of the backend. The fixtures in `fixtures/print_schema` are the
//! DDL and the output of diesel_cli 2.3's `print-schema` for it.

use std::path::Path;

use dbrev_tests::{Backend, Project, backend_test};

fn fixture(backend: Backend, ext: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/print_schema")
        .join(format!("{}.{ext}", backend.name()))
}

backend_test!(print_schema_output_compares_equal, |db| {
    let out = db.load_with_native_client(&fixture(db.backend(), "sql"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    p.file(
        "dbrev.toml",
        &format!(
            "database_url = \"{}\"\nschema = \"{}\"\n",
            db.url,
            fixture(db.backend(), "rs").display()
        ),
    );
    let out = p.cmd("dbrev").args(["check", "-v"]).run();
    assert!(
        out.output.status.success(),
        "differences:\n{}\n{}",
        out.stdout(),
        out.stderr()
    );
    // And autogenerate agrees: nothing to write.
    p.cmd("dbrev")
        .args(["revision", "--autogenerate", "-m", "none"])
        .ok()
        .stderr_has("No changes detected");
});
