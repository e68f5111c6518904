//! `completions bash|zsh|fish` on the three binaries: the scripts are generated, load in
//! their shell, and complete subcommands, flags and — from the versions directory of the
//! project the shell is in — revision ids and labels, for `cargo-dbrev …` and for
//! `cargo dbrev …` (cargo's own completion still answering for cargo's commands). Bash is
//! always tested; zsh and fish when they are installed.

use std::path::Path;
use std::process::Command;

use dbrev_tests::{Project, Skippable, Skipped, add_revision, binary};

const TOOLS: [&str; 3] = ["dbrev", "dbinit", "dbexport"];

/// A project with revisions a1 and b2 (label `feat`).
fn project() -> Project {
    let p = Project::new();
    p.cmd("dbinit").args(["-q"]).ok();
    add_revision(&p, "a1", "create things", "", "", &[]);
    add_revision(&p, "b2", "add more", "", "", &["--branch-label", "feat"]);
    p
}

/// `PATH` with the binaries first, as after `cargo install`.
fn path_with_binaries() -> String {
    let dir = binary("dbrev").parent().expect("bin dir").to_path_buf();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `script` in `shell` (`bash -c`, `zsh -c`, `fish -c`) in `dir`; its stdout.
fn run_shell(shell: &str, dir: &Path, script: &str) -> String {
    let out = Command::new(shell)
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path_with_binaries())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("{shell}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "{shell} failed ({}):\n{stderr}\n--- script\n{script}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The candidates printed after each `== NAME` line.
fn sections(output: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            sections.push((name.to_owned(), Vec::new()));
        } else if let Some((_, candidates)) = sections.last_mut() {
            // zsh and fish add a description after `:` or a tab.
            let value = line.split(['\t', ':']).next().unwrap_or_default();
            candidates.push(value.to_owned());
        }
    }
    sections
}

/// Asserts each named section holds the `expected` candidates (and maybe others).
fn assert_completes(output: &str, expected: &[(&str, &[&str])]) {
    let found = sections(output);
    for (name, wanted) in expected {
        let (_, candidates) = found
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no section {name}:\n{output}"));
        for want in *wanted {
            assert!(
                candidates.iter().any(|c| c == want),
                "{name}: {want} not offered, got {candidates:?}"
            );
        }
    }
}

/// What every shell must complete, by section: the line typed and what it offers.
const EXPECTED: &[(&str, &[&str])] = &[
    ("show", &["b2", "a1", "feat", "head", "current"]),
    ("upgrade prefix", &["a1"]),
    ("cargo upgrade", &["a1", "b2", "heads"]),
    ("cargo rebase onto", &["a1", "b2"]),
    ("cargo subcommand", &["rebase", "revision"]),
    ("cargo flag", &["--format"]),
    ("dbinit template", &["generic", "embedded"]),
    ("dbexport subcommand", &["restore"]),
];

fn scripts_are_generated_for_every_tool_and_shell() {
    let p = Project::new();
    for tool in TOOLS {
        for shell in ["bash", "zsh", "fish"] {
            // Outside any project: completions need none.
            let script = p.cmd(tool).args(["completions", shell]).ok().stdout();
            assert!(
                script.contains(&format!("cargo-{tool}")) && script.contains("DBREV_COMPLETE"),
                "{tool} {shell}:\n{script}"
            );
        }
        p.cmd(tool)
            .args(["completions", "tcsh"])
            .fails()
            .stderr_has("possible values: bash, zsh, fish");
    }
}

fn bash_completes_revisions_subcommands_and_flags() {
    let p = project();
    let output = run_shell(
        "bash",
        p.root(),
        r#"
# cargo's own completion, as bash-completion would have loaded it.
_cargo() { COMPREPLY=(build bench); }
complete -o bashdefault -o default -F _cargo cargo
for tool in dbrev dbinit dbexport; do
    source <(cargo-$tool completions bash)
    complete -p cargo-$tool >/dev/null || echo "FAILED: cargo-$tool not registered"
done
# Sourcing again leaves the chain of cargo's completion functions without a loop.
source <(cargo-dbrev completions bash)
[[ $(complete -p cargo) == *"-F _dbrev_cargo_dbexport cargo" ]] || echo "FAILED: $(complete -p cargo)"
# Completes the last word of a line, the way bash calls the registered function.
complete_line() {
    local name=$1; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_TYPE=9; COMPREPLY=()
    local spec; spec=$(complete -p "$1")
    local function=${spec##*-F }; function=${function%% *}
    "$function" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    echo "== $name"
    printf '%s\n' "${COMPREPLY[@]}"
}
complete_line show cargo-dbrev show ""
complete_line "upgrade prefix" cargo-dbrev upgrade a
complete_line "cargo upgrade" cargo dbrev upgrade ""
complete_line "cargo rebase onto" cargo dbrev rebase a1 --onto ""
complete_line "cargo subcommand" cargo dbrev re
complete_line "cargo flag" cargo dbrev history --form
complete_line "dbinit template" cargo dbinit --template ""
complete_line "dbexport subcommand" cargo dbexport re
complete_line "cargo's own" cargo b
"#,
    );
    assert!(!output.contains("FAILED"), "{output}");
    assert_completes(&output, EXPECTED);
    assert_completes(&output, &[("cargo's own", &["build", "bench"])]);
    let prefix = sections(&output)
        .into_iter()
        .find(|(n, _)| n == "upgrade prefix")
        .map(|(_, c)| c)
        .unwrap_or_default();
    assert!(!prefix.iter().any(|c| c == "b2"), "{prefix:?}");
}

/// Whether `shell` is installed.
fn installed(shell: &str) -> Skippable {
    match Command::new(shell).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(Skipped(format!("{shell} is not installed"))),
    }
}

fn zsh_completes_revisions_subcommands_and_flags() -> Skippable {
    installed("zsh")?;
    let p = project();
    let output = run_shell(
        "zsh",
        p.root(),
        r#"
# What compinit provides, reduced to printing the candidates.
compdef() { : }
_describe() { print -l -- ${(P)3} }
for tool in dbrev dbinit dbexport; do
    source <(cargo-$tool completions zsh)
done
# cargo's zsh completion calls _cargo-TOOL with the words after `cargo`.
complete_line() {
    local name=$1 function=$2; shift 2
    words=("$@"); CURRENT=$#
    print -- "== $name"
    $function
}
complete_line show _clap_dynamic_completer_cargo_dbrev cargo-dbrev show ""
complete_line "upgrade prefix" _clap_dynamic_completer_cargo_dbrev cargo-dbrev upgrade a
complete_line "cargo upgrade" _cargo-dbrev dbrev upgrade ""
complete_line "cargo rebase onto" _cargo-dbrev dbrev rebase a1 --onto ""
complete_line "cargo subcommand" _cargo-dbrev dbrev re
complete_line "cargo flag" _cargo-dbrev dbrev history --form
complete_line "dbinit template" _cargo-dbinit dbinit --template ""
complete_line "dbexport subcommand" _cargo-dbexport dbexport re
"#,
    );
    assert_completes(&output, EXPECTED);
    Ok(())
}

fn fish_completes_revisions_subcommands_and_flags() -> Skippable {
    installed("fish")?;
    let p = project();
    let output = run_shell(
        "fish",
        p.root(),
        r#"
for tool in dbrev dbinit dbexport
    cargo-$tool completions fish | source
end
function complete_line --argument-names name line
    echo "== $name"
    complete --do-complete "$line"
end
complete_line show "cargo-dbrev show "
complete_line "upgrade prefix" "cargo-dbrev upgrade a"
complete_line "cargo upgrade" "cargo dbrev upgrade "
complete_line "cargo rebase onto" "cargo dbrev rebase a1 --onto "
complete_line "cargo subcommand" "cargo dbrev re"
complete_line "cargo flag" "cargo dbrev history --form"
complete_line "dbinit template" "cargo dbinit --template "
complete_line "dbexport subcommand" "cargo dbexport re"
"#,
    );
    assert_completes(&output, EXPECTED);
    Ok(())
}

dbrev_tests::main! {
    backend: [],
    plain: [
        scripts_are_generated_for_every_tool_and_shell,
        bash_completes_revisions_subcommands_and_flags,
        zsh_completes_revisions_subcommands_and_flags,
        fish_completes_revisions_subcommands_and_flags,
    ],
}
