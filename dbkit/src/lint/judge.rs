//! From the rules' hits to findings: a hit a `-- dbrev:allow` comment or `[lint] allow`
//! suppresses (with its reason) is recorded as suppressed, the others become findings at
//! the severity `[lint]` gives them; then the suppression comments themselves are judged
//! (LINT001 without a reason, LINT002 naming no rule, LINT003 suppressing nothing).

use std::path::Path;

use super::parse::Parsed;
use super::rules::{self, Hit};
use super::settings::LintSettings;
use super::suppress::Allow;
use super::{Finding, Severity, Suppressed};
use crate::script::Revision;

/// What one file's hits came to, across the files of a run.
#[derive(Debug, Default)]
pub struct Judged {
    /// Findings, each file's in line order.
    pub findings: Vec<Finding>,
    /// Suppressed hits.
    pub suppressed: Vec<Suppressed>,
}

/// The file whose hits are judged, and the settings that judge them.
pub struct FileJudgement<'a> {
    /// The revision.
    pub revision: &'a Revision,
    /// up.sql or down.sql.
    pub file: &'a Path,
    /// Its statements.
    pub statements: &'a [Parsed],
    /// `[lint]`.
    pub settings: &'a LintSettings,
}

impl FileJudgement<'_> {
    /// Applies suppression and `[lint]` severities to the file's hits, and reports the
    /// suppression comments that are wrong or unused.
    pub fn judge(&self, hits: Vec<Hit>, allows: &[Allow], out: &mut Judged) {
        let mut used = vec![false; allows.len()];
        let mut findings: Vec<Finding> = hits
            .into_iter()
            .filter_map(|hit| self.unless_suppressed(hit, allows, &mut used, out))
            .collect();
        findings.extend(self.misused_allows(allows, &used));
        findings.sort_by_key(|f| f.line);
        out.findings.extend(findings);
    }

    /// A finding of `rule` on `line`, at the severity `[lint]` gives the rule.
    fn finding(
        &self,
        rule: &'static str,
        line: usize,
        message: String,
        safe: Option<String>,
    ) -> Finding {
        let default = rules::find(rule).map_or(Severity::Warning, |r| r.severity);
        Finding {
            rule,
            severity: self.settings.severity(rule, default),
            revision: self.revision.id.clone(),
            file: self.file.to_path_buf(),
            line,
            table: None,
            rows: None,
            message,
            safe,
            effect: None,
        }
    }

    /// The hit as a finding, or `None` when a comment on its statement (marked `used`) or
    /// `[lint] allow` suppresses it, recorded in `out`.
    fn unless_suppressed(
        &self,
        hit: Hit,
        allows: &[Allow],
        used: &mut [bool],
        out: &mut Judged,
    ) -> Option<Finding> {
        let line = self.statements[hit.statement].line;
        let allowed = allows.iter().position(|a| {
            a.statement == Some(hit.statement)
                && !a.reason.is_empty()
                && a.rules.iter().any(|id| id == hit.rule)
        });
        let by_comment = allowed.map(|i| {
            used[i] = true;
            (allows[i].reason.clone(), "comment")
        });
        let by_config = || {
            self.settings
                .allow
                .get(hit.rule)
                .map(|reason| (reason.clone(), "dbrev.toml"))
        };
        if let Some((reason, by)) = by_comment.or_else(by_config) {
            out.suppressed.push(Suppressed {
                rule: hit.rule,
                revision: self.revision.id.clone(),
                file: self.file.to_path_buf(),
                line,
                reason,
                by,
            });
            return None;
        }
        let mut finding = self.finding(hit.rule, line, hit.message, hit.safe);
        if let Some(severity) = hit.severity {
            finding.severity = self.settings.severity(hit.rule, severity);
        }
        finding.table = hit.table;
        finding.effect = hit.effect;
        Some(finding)
    }

    /// LINT001–LINT003 for the comments without a reason, naming no rule, or (not `used`)
    /// suppressing nothing.
    fn misused_allows(&self, allows: &[Allow], used: &[bool]) -> Vec<Finding> {
        let mut out = Vec::new();
        for (allow, used) in allows.iter().zip(used) {
            let named = allow.rules.join(",");
            if allow.rules.is_empty() || allow.reason.is_empty() {
                out.push(self.finding(
                    "LINT001",
                    allow.line,
                    format!("`dbrev:allow {named}` has no reason, so it suppresses nothing"),
                    Some(format!(
                        "-- dbrev:allow {} <why this is safe here>",
                        if named.is_empty() { "RULE-ID" } else { &named }
                    )),
                ));
            } else if let Some(unknown) = allow.rules.iter().find(|id| rules::find(id).is_none()) {
                out.push(self.finding(
                    "LINT002",
                    allow.line,
                    format!("`dbrev:allow` names `{unknown}`, which is not a rule"),
                    Some("see docs/lint.md for the rule ids".to_owned()),
                ));
            } else if !used {
                out.push(self.finding(
                    "LINT003",
                    allow.line,
                    match allow.statement {
                        Some(_) => {
                            format!("`dbrev:allow {named}` suppresses nothing on this statement")
                        }
                        None => format!(
                            "`dbrev:allow {named}` is on no statement (put it on the line above the statement, with no blank line between)"
                        ),
                    },
                    None,
                ));
            }
        }
        out
    }
}
