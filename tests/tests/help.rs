//! `--help` of every command and subcommand of the three binaries, pinned as snapshots
//! (`tests/tests/snapshots/help__*.snap`), so a change to what users read is a reviewed
//! diff: `INSTA_UPDATE=always cargo test -p dbrev-tests --test help` rewrites them.

use dbrev_tests::Project;

/// Each tool with the subcommands whose help is pinned (`""`: the tool's own).
const COMMANDS: &[(&str, &[&str])] = &[
    ("dbinit", &[""]),
    (
        "dbrev",
        &[
            "",
            "revision",
            "check",
            "upgrade",
            "downgrade",
            "current",
            "history",
            "heads",
            "branches",
            "show",
            "stamp",
            "merge",
            "edit",
        ],
    ),
    ("dbexport", &["", "restore"]),
];

#[test]
fn help_of_every_command_is_pinned() {
    let p = Project::new();
    for (tool, subcommands) in COMMANDS {
        for subcommand in *subcommands {
            let args: Vec<&str> = [*subcommand, "--help"]
                .into_iter()
                .filter(|a| !a.is_empty())
                .collect();
            let out = p.cmd(tool).args(&args).env("COLUMNS", "100").ok();
            assert!(out.stderr().is_empty(), "{}", out.stderr());
            let name = if subcommand.is_empty() {
                (*tool).to_owned()
            } else {
                format!("{tool}_{subcommand}")
            };
            insta::assert_snapshot!(name, out.stdout());
        }
    }
}
