//! The `[lint]` table of `dbrev.toml`:
//!
//! ```toml
//! [lint]
//! deny = ["PG007"]            # report these as errors
//! warn = ["ALL001"]           # report these as warnings
//! block_upgrade = false       # upgrade refuses to run while an error remains
//! galera = false              # apply the Galera rules even where no Galera node answers
//!
//! [lint.allow]                # rule = reason: suppressed in every revision
//! SL002 = "we ship the bundled SQLite, which is newer than 3.35"
//! ```
//!
//! Read here from the configuration file until `config` carries it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Severity;
use super::rules;
use crate::config::Config;
use crate::error::{Error, IoContext, Result};

/// What `[lint]` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintSettings {
    /// Rules suppressed everywhere, each with its reason.
    pub allow: BTreeMap<String, String>,
    /// Rules whose findings are errors.
    pub deny: Vec<String>,
    /// Rules whose findings are warnings.
    pub warn: Vec<String>,
    /// Whether `upgrade` refuses to run while an error-level finding remains.
    pub block_upgrade: bool,
    /// Whether the rules for a Galera node apply even when the database lint reads is not
    /// one (or none answers): production is a cluster, the development database is not.
    pub galera: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    allow: BTreeMap<String, String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    warn: Vec<String>,
    #[serde(default)]
    block_upgrade: bool,
    #[serde(default)]
    galera: bool,
}

impl LintSettings {
    /// Reads `[lint]` from the configuration's file (no table: the defaults).
    pub fn load(config: &Config) -> Result<LintSettings> {
        let file = &config.location.file;
        let text = std::fs::read_to_string(file).at(file)?;
        Self::parse(&text, file)
    }

    /// Reads `[lint]` from a configuration file's text.
    pub fn parse(text: &str, file: &Path) -> Result<LintSettings> {
        let fail = |line: usize, message: String| {
            Error::Config(format!("{}:{line}: [lint]: {message}", file.display()))
        };
        let table_line = text
            .lines()
            .position(|l| l.trim_start().starts_with("[lint"))
            .map_or(1, |i| i + 1);
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(table_line, |i| i + 1)
        };
        let document: toml::Table =
            toml::from_str(text).map_err(|e| fail(1, e.message().trim().to_owned()))?;
        let Some(value) = document.get("lint") else {
            return Ok(LintSettings::default());
        };
        let raw = RawSettings::deserialize(value.clone())
            .map_err(|e| fail(table_line, e.message().trim().to_owned()))?;
        let known = |id: &String| -> Result<()> {
            if rules::find(id).is_some() {
                Ok(())
            } else {
                Err(fail(
                    line_of(id),
                    format!(
                        "unknown rule `{id}`; the rules are {}",
                        rules::RULES
                            .iter()
                            .map(|r| r.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        };
        for (id, reason) in &raw.allow {
            known(id)?;
            if reason.trim().is_empty() {
                return Err(fail(
                    line_of(id),
                    format!("`allow.{id}` needs a reason (`{id} = \"why it is safe here\"`)"),
                ));
            }
        }
        for id in raw.deny.iter().chain(&raw.warn) {
            known(id)?;
        }
        if let Some(both) = raw.deny.iter().find(|id| raw.warn.contains(id)) {
            return Err(fail(
                line_of(both),
                format!("`{both}` is in both `deny` and `warn`"),
            ));
        }
        Ok(LintSettings {
            allow: raw.allow,
            deny: raw.deny,
            warn: raw.warn,
            block_upgrade: raw.block_upgrade,
            galera: raw.galera,
        })
    }

    /// The severity of a rule's finding after `deny` and `warn`.
    pub fn severity(&self, rule: &str, found: Severity) -> Severity {
        if self.deny.iter().any(|id| id == rule) {
            Severity::Error
        } else if self.warn.iter().any(|id| id == rule) {
            Severity::Warning
        } else {
            found
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LintSettings> {
        LintSettings::parse(text, Path::new("dbrev.toml"))
    }

    #[test]
    fn reads_the_table() {
        let s = parse(
            "script_location = \"v\"\n\n[lint]\ndeny = [\"PG007\"]\nblock_upgrade = true\n\n[lint.allow]\nSL002 = \"bundled SQLite\"\n",
        )
        .unwrap();
        assert_eq!(s.deny, ["PG007"]);
        assert!(s.block_upgrade);
        assert_eq!(s.allow["SL002"], "bundled SQLite");
        assert_eq!(s.severity("PG007", Severity::Warning), Severity::Error);
        assert_eq!(parse("x = 1\n").unwrap(), LintSettings::default());
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("[lint]\nwarn = [\"PG999\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("dbrev.toml:2: [lint]: unknown rule `PG999`"),
            "{e}"
        );
        let e = parse("[lint]\n\n[lint.allow]\nALL001 = \"\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dbrev.toml:4:") && e.contains("needs a reason"),
            "{e}"
        );
        let e = parse("[lint]\nblock = true\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `block`"), "{e}");
    }
}
