//! `cargo dbexport restore` on a terminal, run under a pseudo-terminal (util-linux
//! `script`): it names its target first, asks before restoring over a database that holds
//! tables (a "no" writes nothing, a "yes" restores), and draws a progress bar.

use std::io::Write;
use std::process::{Command, Stdio};

use dbrev_tests::{Project, TestDb, backend_test, binary};

/// Runs `cargo-dbexport ARGS` in `p` on a pseudo-terminal, typing `input`; its exit code
/// and everything it wrote to the terminal. The arguments are single-quoted for the shell
/// `script` starts.
fn on_a_terminal(p: &Project, args: &[&str], input: &str) -> (i32, String) {
    let quoted: Vec<String> = std::iter::once(binary("dbexport").display().to_string())
        .chain(std::iter::once("dbexport".to_owned()))
        .chain(args.iter().map(|a| (*a).to_owned()))
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut child = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .current_dir(p.root())
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("type the answer");
    let out = child.wait_with_output().expect("script");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn count(db: &TestDb, table: &str) -> String {
    db.value(&format!(
        "SELECT CAST(COUNT(*) AS CHAR(20)) AS value FROM {table}"
    ))
    .unwrap_or_default()
    .trim()
    .to_owned()
}

backend_test!(restore_asks_on_a_terminal_and_shows_progress, |db| {
    let p = Project::new();
    // Enough rows for the bar to be drawn while the restore runs.
    db.run_script(
        "CREATE TABLE item (id INTEGER PRIMARY KEY, label VARCHAR(60));\n\
         INSERT INTO item VALUES (1, 'one');\n",
    );
    for _ in 0..17 {
        db.run_script(
            "INSERT INTO item SELECT id + (SELECT MAX(id) FROM item), 'a label long enough to weigh something' FROM item;\n",
        );
    }
    let rows = count(&db, "item");
    p.cmd("dbexport")
        .args(["-o", "shop.sql", "--database-url", &db.url])
        .ok();
    let target = TestDb::new(db.backend()).unwrap();
    target.run_script("CREATE TABLE keep_me (id INTEGER PRIMARY KEY);\n");
    let masked = dbkit::url::mask(&target.url);
    let args = ["restore", "shop.sql", "--database-url", &target.url];

    let (code, screen) = on_a_terminal(&p, &args, "n\n");
    assert_eq!(code, 8, "{screen}");
    // The terminal echoes the typed answer first; then the target, then the question.
    let named = screen.find("Database ").filter(|&at| {
        let line = screen[at..].lines().next().unwrap_or_default();
        line.ends_with(&masked) || masked.ends_with(line.trim_start_matches("Database "))
    });
    assert!(
        named.is_some_and(|at| screen.find("holds").is_some_and(|q| at < q)),
        "the target first: {screen}"
    );
    assert!(
        screen.contains("holds 1 table(s); restore shop.sql into it") && screen.contains("[y/N]"),
        "{screen}"
    );
    assert!(screen.contains("the answer was no"), "{screen}");
    assert_eq!(target.tables(), ["keep_me"], "a no writes nothing");

    let (code, screen) = on_a_terminal(&p, &args, "y\n");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Restoring shop.sql"), "{screen}");
    assert!(
        screen.contains('\r') && screen.contains("restoring") && screen.contains("=>"),
        "a progress bar on a terminal: {screen:?}"
    );
    assert_eq!(target.tables(), ["item", "keep_me"]);
    assert_eq!(count(&target, "item"), rows);
});

dbrev_tests::main! {
    backend: [restore_asks_on_a_terminal_and_shows_progress],
    plain: [],
}
