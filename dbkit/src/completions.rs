//! Shell completions for the three binaries (`completions bash|zsh|fish`), on clap_complete's
//! dynamic engine: the script the user sources registers `cargo-TOOL` and `cargo TOOL`, and
//! on each Tab calls the binary back (`DBREV_COMPLETE=SHELL cargo-TOOL -- WORDS`), which
//! completes subcommands and flags from its own clap definition, and revision ids, branch
//! labels and the target keywords from the versions directory of the project it runs in
//! ([`revisions`]). The script calls the binary, so it never goes stale when the binary
//! changes; errors while completing (no project here) offer nothing rather than print.

use std::ffi::OsStr;

use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};

use crate::config::{Config, ConfigRequest};
use crate::script::Revision;

/// The environment variable through which the sourced script asks a binary to complete.
pub const COMPLETE_VAR: &str = "DBREV_COMPLETE";

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash 4.4 or later
    Bash,
    /// zsh, after compinit
    Zsh,
    /// fish 3 or later
    Fish,
}

/// `completions SHELL`, the same subcommand on every binary.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

impl CompletionsArgs {
    /// The script for `cargo-TOOL` / `cargo TOOL` (`tool` is `dbrev`, `dbinit`, `dbexport`).
    pub fn script(&self, tool: &str) -> String {
        script(self.shell, tool)
    }
}

/// Completes the command line the sourced script passed, and exits, when this process was
/// started for that (`DBREV_COMPLETE` set); returns otherwise. Call it first in `main`.
pub fn complete_if_asked(tool: &str, command: impl Fn() -> clap::Command) {
    clap_complete::CompleteEnv::with_factory(command)
        .var(COMPLETE_VAR)
        .bin(format!("cargo-{tool}"))
        .complete();
}

/// The script registering completions for `cargo-TOOL` and for `cargo TOOL`.
pub fn script(shell: Shell, tool: &str) -> String {
    let bin = format!("cargo-{tool}");
    let (registration, cargo): (&dyn EnvCompleter, &str) = match shell {
        Shell::Bash => (&Bash, include_str!("../templates/completions/cargo.bash")),
        Shell::Zsh => (&Zsh, include_str!("../templates/completions/cargo.zsh")),
        Shell::Fish => (&Fish, include_str!("../templates/completions/cargo.fish")),
    };
    let mut script = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = registration.write_registration(COMPLETE_VAR, &bin, &bin, &bin, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    script.push_str(&cargo.replace("VAR", COMPLETE_VAR).replace("TOOL", tool));
    script
}

/// The completer of an argument naming revisions: ids (with their messages), branch
/// labels, `head`, `heads`, `base`, `current`; after a `:` (a range `A:B`), the same for B.
pub fn revisions() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let current = current.to_string_lossy();
        let (before, word) = match current.rsplit_once(':') {
            Some((before, word)) => (format!("{before}:"), word),
            None => (String::new(), current.as_ref()),
        };
        revision_candidates(&project_revisions())
            .into_iter()
            .filter(|c| c.get_value().to_string_lossy().starts_with(word))
            .map(|c| c.add_prefix(before.clone()))
            .collect()
    })
}

/// The completer of `dbinit --template`: the scaffolding templates, described.
pub fn templates() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        crate::init::TEMPLATES
            .iter()
            .map(|t| CompletionCandidate::new(t.name).help(Some(t.description.into())))
            .collect::<Vec<_>>()
    })
}

/// The revisions of the project the shell is in (found as every command finds it); none
/// when there is no project or its files do not read.
fn project_revisions() -> Vec<Revision> {
    let request = ConfigRequest {
        // The URL is not needed, and `${VAR}` in it may be unset in the shell.
        database_url: Some("sqlite://completions.db".into()),
        ..ConfigRequest::default()
    };
    Config::load(&request)
        .and_then(|config| crate::script::read_revisions(&config.versions_dir))
        .unwrap_or_default()
}

/// Ids newest first, then labels, then the keywords.
fn revision_candidates(revisions: &[Revision]) -> Vec<CompletionCandidate> {
    let mut candidates: Vec<CompletionCandidate> = revisions
        .iter()
        .rev()
        .map(|r| CompletionCandidate::new(&r.id).help(Some(r.message.clone().into())))
        .collect();
    for r in revisions {
        for label in &r.branch_labels {
            candidates.push(
                CompletionCandidate::new(label)
                    .help(Some(format!("branch label of {}", r.id).into())),
            );
        }
    }
    for (keyword, help) in [
        ("head", "the head"),
        ("heads", "every head"),
        ("base", "before the first revision"),
        ("current", "where the database is"),
    ] {
        candidates.push(CompletionCandidate::new(keyword).help(Some(help.into())));
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_register_both_spellings() {
        let bash = script(Shell::Bash, "dbrev");
        assert!(
            bash.contains("-F _clap_complete_cargo_dbrev cargo-dbrev"),
            "{bash}"
        );
        assert!(bash.contains("DBREV_COMPLETE=\"bash\""), "{bash}");
        assert!(bash.contains("_dbrev_cargo_dbrev()"), "{bash}");
        let zsh = script(Shell::Zsh, "dbexport");
        assert!(zsh.contains("compdef _clap_dynamic_completer_cargo_dbexport cargo-dbexport"));
        assert!(zsh.contains("_cargo-dbexport()"), "{zsh}");
        let fish = script(Shell::Fish, "dbinit");
        assert!(fish.contains("--command cargo-dbinit"), "{fish}");
        assert!(fish.contains("DBREV_COMPLETE=fish cargo-$tool"), "{fish}");
        assert!(fish.contains("'__dbrev_cargo_runs dbinit'"), "{fish}");
    }
}
