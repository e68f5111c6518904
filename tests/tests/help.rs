//! `--help` of every command and subcommand of the three binaries, pinned as snapshots
//! (`tests/tests/snapshots/help__*.snap`), so a change to what users read is a reviewed
//! diff: `INSTA_UPDATE=always cargo test -p dbrev-tests --test help` rewrites them.

use dbrev_tests::Project;

/// The three tools; every subcommand their `--help` lists is pinned too.
const TOOLS: &[&str] = &["dbinit", "dbrev", "dbexport"];

/// The subcommands a tool's `--help` lists under `Commands:` (clap's own `help` left out).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command's line starts two spaces in; a wrapped description further in.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_of_every_command_is_pinned() {
    let p = Project::new();
    for tool in TOOLS {
        let top = p.cmd(tool).args(["--help"]).ok().stdout();
        let mut commands = vec![String::new()];
        commands.extend(subcommands(&top));
        for subcommand in &commands {
            let args: Vec<&str> = [subcommand.as_str(), "--help"]
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
