//! Forked histories caught before they are merged, and fixed by re-parenting: `heads
//! --check [--against GIT-REF]` in real git repositories (two branches that each add a
//! revision, duplicate ids, a missing ref, a shallow clone), `rebase REV --onto TARGET`
//! (new ids in diesel's order, refused for an applied revision or an unreachable
//! database), and the rebased revision applied after the other on every backend.

use std::path::Path;
use std::process::Command;

use dbrev_tests::{Backend, Project, TestDb, add_revision, backend_test, migration_project};

/// The shared root, this branch's revision and the one `main` got meanwhile: timestamp
/// ids, so diesel's order is meant to be creation order.
const P: &str = "20200101000000";
const A: &str = "20200102000000";
const B: &str = "20200103000000";

/// Runs git in `dir` (no user or system configuration), asserting success; its stdout.
fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=dbrev",
            "-c",
            "user.email=dbrev@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(p: &Project, args: &[&str]) -> String {
    git_in(p.root(), args)
}

fn table_revision(p: &Project, id: &str, table: &str, extra: &[&str]) {
    add_revision(
        p,
        id,
        &format!("create {table}"),
        &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);"),
        &format!("DROP TABLE {table};"),
        extra,
    );
}

/// A git repository on `feature`: P on `main`, then A on `feature` and B on `main`, both
/// revising P.
fn forked_repository(db: &TestDb) -> Project {
    let p = migration_project(db);
    p.file(".gitignore", ".env\n*.db\n*.db-*\n/target\n");
    git(&p, &["init", "-q"]);
    table_revision(&p, P, "t_p", &[]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "P"]);
    git(&p, &["checkout", "-q", "-b", "feature"]);
    table_revision(&p, A, "t_a", &[]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "A"]);
    git(&p, &["checkout", "-q", "main"]);
    table_revision(&p, B, "t_b", &[]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "B"]);
    git(&p, &["checkout", "-q", "feature"]);
    p
}

fn check_against(p: &Project, reference: &str) -> dbrev_tests::Outcome {
    p.cmd("dbrev")
        .args(["heads", "--check", "--against", reference])
        .run()
}

/// The id of the one revision directory whose name ends with `_slug`.
fn id_of(p: &Project, slug: &str) -> String {
    let dir = p
        .revisions()
        .into_iter()
        .find(|d| d.to_string_lossy().ends_with(&format!("_{slug}")))
        .unwrap_or_else(|| panic!("no revision directory ending with _{slug}"));
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    name.split('_').next().unwrap().to_owned()
}

backend_test!(a_fork_is_caught_rebased_and_applied_in_order, |db| {
    let p = forked_repository(&db);
    let out = check_against(&p, "main").failure();
    assert_eq!(out.code(), 1);
    let error = out.stderr();
    for expected in [
        format!(
            "merging into main leaves 2 heads: {A} (this branch, create t_a), {B} (main, create t_b)"
        ),
        format!("{A} (this branch) sorts before {B}, which main already has"),
        format!("fix: `git merge main`, then `cargo dbrev rebase {A} --onto {B}`"),
    ] {
        assert!(error.contains(&expected), "lacks {expected:?}:\n{error}");
    }
    // The heads after the merge are listed on stdout, main's read through git.
    assert_eq!(out.stdout().lines().count(), 2, "{}", out.stdout());
    git(&p, &["merge", "-q", "--no-edit", "main"]);
    check_against(&p, "main")
        .failure()
        .stderr_has(&format!("fix: `cargo dbrev rebase {A} --onto {B}`"));
    p.cmd("dbrev")
        .args(["rebase", A, "--onto", B])
        .ok()
        .stderr_has(&format!("Rebased {A} as "));
    let rebased = id_of(&p, "create_t_a");
    assert!(rebased.as_str() > B, "{rebased} sorts after {B}");
    let up = p.read(format!("versioning/versions/{rebased}_create_t_a/up.sql"));
    assert!(
        up.contains(&format!("-- Revision ID: {rebased}\n-- Revises: {B}\n")),
        "{up}"
    );
    check_against(&p, "main").success().stderr_has(&format!(
        "Checked one head ({rebased}) after merging into main"
    ));
    let applied = p.cmd("dbrev").args(["upgrade"]).ok().stderr();
    let at = |id: &str| {
        applied
            .find(&format!("Applied {id}"))
            .unwrap_or_else(|| panic!("{id} not applied:\n{applied}"))
    };
    assert!(at(P) < at(B) && at(B) < at(&rebased), "{applied}");
    assert_eq!(db.applied(), [P, B, rebased.as_str()]);
    // Applied now: moving it would orphan its version row.
    let refused = p
        .cmd("dbrev")
        .args(["rebase", &rebased, "--onto", P])
        .fails();
    assert_eq!(refused.code(), 8);
    assert!(
        refused
            .stderr()
            .contains(&format!("{rebased} is applied to")),
        "{}",
        refused.stderr()
    );
    assert_eq!(id_of(&p, "create_t_a"), rebased);
});

fn heads_check_alone_fails_on_two_heads() {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    table_revision(&p, P, "t_p", &[]);
    p.cmd("dbrev")
        .args(["heads", "--check"])
        .ok()
        .stderr_has(&format!("Checked one head ({P})"));
    table_revision(&p, A, "t_a", &[]);
    table_revision(&p, B, "t_b", &["--head", P, "--splice"]);
    let out = p.cmd("dbrev").args(["heads", "--check"]).fails();
    assert_eq!(out.code(), 1);
    assert!(
        out.stderr().contains(&format!(
            "there are 2 heads ({A}, {B}); join them with `cargo dbrev merge -m MSG heads` once both are deployed"
        )) && out
            .stderr()
            .contains(&format!("fix: `cargo dbrev rebase {B} --onto {A}`")),
        "{}",
        out.stderr()
    );
    p.cmd("dbrev")
        .args(["heads", "--against", "main"])
        .fails()
        .stderr_has("--check");
}

fn the_check_as_json_is_pinned() {
    let db = TestDb::new(Backend::Sqlite).expect("SQLite");
    let p = forked_repository(&db);
    let out = p
        .cmd("dbrev")
        .args(["heads", "--check", "--against", "main", "--format", "json"])
        .fails();
    assert_eq!(out.code(), 1);
    let mut document: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    for head in document["heads"].as_array_mut().unwrap() {
        head["create_date"] = "[redacted]".into();
    }
    insta::assert_snapshot!(
        "heads_check",
        serde_json::to_string_pretty(&document).unwrap()
    );
}

fn one_id_on_two_branches_names_both_directories() {
    let db = TestDb::new(Backend::Sqlite).expect("SQLite");
    let p = forked_repository(&db);
    // main got a revision with this branch's id (two people, one second).
    git(&p, &["checkout", "-q", "main"]);
    table_revision(&p, A, "t_other", &[]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "A again"]);
    git(&p, &["checkout", "-q", "feature"]);
    let out = check_against(&p, "main").failure();
    assert_eq!(out.code(), 1);
    let error = out.stderr();
    for expected in [
        format!("two revisions have the id {A}: "),
        format!("versioning/versions/{A}_create_t_a (this branch)"),
        format!("main:versioning/versions/{A}_create_t_other (main)"),
        format!("fix: `cargo dbrev rebase {A} --onto {P}`"),
    ] {
        assert!(error.contains(&expected), "lacks {expected:?}:\n{error}");
    }
    // In one work tree, the same is an error naming both directories, never a skip.
    git(&p, &["merge", "-q", "--no-edit", "main"]);
    p.cmd("dbrev")
        .args(["history"])
        .fails()
        .stderr_has(&format!("two revisions have the id {A}: "))
        .stderr_has("_create_t_a and ")
        .stderr_has("_create_t_other");
    git(&p, &["reset", "-q", "--hard", "ORIG_HEAD"]);
    // The suggested fix gives this branch's a new id; what is left is the fork.
    p.cmd("dbrev").args(["rebase", A, "--onto", P]).ok();
    check_against(&p, "main")
        .failure()
        .stderr_has("leaves 2 heads");
}

fn missing_refs_and_shallow_clones_say_what_to_fetch() {
    let db = TestDb::new(Backend::Sqlite).expect("SQLite");
    let p = forked_repository(&db);
    let out = check_against(&p, "origin/main").failure();
    assert_eq!(out.code(), 2);
    assert!(
        out.stderr().contains(
            "`origin/main` names no commit in this clone; fetch it first: `git fetch origin main`"
        ),
        "{}",
        out.stderr()
    );
    // A CI checkout: one commit of the branch under test.
    let ci = tempfile::tempdir().unwrap();
    let url = format!("file://{}", p.root().display());
    git_in(
        ci.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "app",
        ],
    );
    let clone = ci.path().join("app");
    let in_clone = |reference: &str| {
        p.cmd("dbrev")
            .args(["heads", "--check", "--against", reference])
            .current_dir(&clone)
            .run()
    };
    let out = in_clone("origin/main").failure();
    assert_eq!(out.code(), 2);
    assert!(
        out.stderr().contains("this clone is shallow")
            && out.stderr().contains("`git fetch origin main`"),
        "{}",
        out.stderr()
    );
    git_in(
        &clone,
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "origin",
            "main:refs/remotes/origin/main",
        ],
    );
    let out = in_clone("origin/main").failure();
    assert_eq!(out.code(), 3);
    assert!(
        out.stderr().contains("`git fetch --deepen=100 origin`"),
        "{}",
        out.stderr()
    );
    git_in(&clone, &["fetch", "-q", "--unshallow", "origin"]);
    let out = in_clone("origin/main").failure();
    assert_eq!(out.code(), 1, "{}", out.stderr());
    // Not in a repository at all.
    let loose = Project::new();
    loose.cmd("dbinit").args(["-q"]).ok();
    let out = loose
        .cmd("dbrev")
        .args(["heads", "--check", "--against", "main"])
        .fails();
    assert_eq!(out.code(), 2);
    assert!(
        out.stderr().contains("is not in a git repository"),
        "{}",
        out.stderr()
    );
}

fn rebase_moves_descendants_and_refuses_what_it_cannot_do() {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    table_revision(&p, P, "t_p", &[]);
    table_revision(&p, A, "t_a", &[]);
    table_revision(&p, B, "t_b", &["--depends-on", A]);
    let c = "20200104000000";
    table_revision(&p, c, "t_c", &["--head", P, "--splice"]);
    p.cmd("dbrev")
        .args(["rebase", A, "--onto", B])
        .fails()
        .stderr_has(&format!(
            "cannot rebase {A} onto {B}: {B} descends from (or depends on) {A}"
        ));
    p.cmd("dbrev")
        .args(["rebase", A, "--onto", A])
        .fails()
        .stderr_has("a revision cannot revise itself");
    // The database cannot be asked: refused, unless --offline.
    let unreachable = ["--database-url", "postgres://root@127.0.0.1:1/nowhere"];
    let out = p
        .cmd("dbrev")
        .args(["rebase", A, "--onto", c])
        .args(unreachable)
        .fails();
    assert_eq!(out.code(), 8);
    assert!(
        out.stderr().contains("cannot tell whether") && out.stderr().contains("pass --offline"),
        "{}",
        out.stderr()
    );
    assert_eq!(id_of(&p, "create_t_a"), A);
    p.cmd("dbrev")
        .args(["rebase", A, "--onto", c, "--offline"])
        .args(unreachable)
        .ok()
        .stderr_has("--offline: not checking");
    let a = id_of(&p, "create_t_a");
    let b = id_of(&p, "create_t_b");
    assert!(a.as_str() > c && b > a, "{c} < {a} < {b}");
    let up = p.read(format!("versioning/versions/{b}_create_t_b/up.sql"));
    assert!(
        up.contains(&format!("-- Revises: {a}\n")) && up.contains(&format!("-- Depends On: {a}\n")),
        "{up}"
    );
    let down = p.read(format!("versioning/versions/{a}_create_t_a/down.sql"));
    assert!(
        down.starts_with(&format!("-- Revert {a}: create t_a")),
        "{down}"
    );
    assert_eq!(
        p.cmd("dbrev").args(["heads"]).ok().stdout(),
        format!("{a} -> {b} (head), create t_b\n")
    );
    // An adopted diesel migration (no header) revises the one before it: not moved.
    p.file(
        "versioning/versions/20990101000000_adopted/up.sql",
        "CREATE TABLE adopted (id INTEGER);\n",
    );
    p.cmd("dbrev")
        .args(["rebase", "20990101000000", "--onto", P, "--offline"])
        .fails()
        .stderr_has("20990101000000 has no header");
}

dbrev_tests::main! {
    backend: [a_fork_is_caught_rebased_and_applied_in_order],
    plain: [
        heads_check_alone_fails_on_two_heads,
        the_check_as_json_is_pinned,
        one_id_on_two_branches_names_both_directories,
        missing_refs_and_shallow_clones_say_what_to_fetch,
        rebase_moves_descendants_and_refuses_what_it_cannot_do,
    ],
}
