//! The two forms of a lint report on stdout: text (`file:line: RULE severity: message`
//! and the safe form on the next line) and one JSON document whose shape is documented in
//! `docs/lint.md` and kept stable (fields are only ever added).

use serde::Serialize;

use super::{LintReport, Severity, Sizing};

/// `path/up.sql:LINE: RULE-ID severity: message`, then `    safe: ...`.
pub fn text(report: &LintReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!(
            "{}:{}: {} {}: {}\n",
            report.shown(&f.file),
            f.line,
            f.rule,
            f.severity.name(),
            f.sized_message()
        ));
        if let Some(safe) = &f.safe {
            out.push_str(&format!("    safe: {safe}\n"));
        }
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    /// The shape's version; bumped only if a field changes meaning.
    version: u32,
    backend: &'a str,
    revisions: &'a [String],
    /// The masked URL findings were sized from, or null.
    sized_from: Option<&'a str>,
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<JsonSuppressed<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: Severity,
    revision: &'a str,
    file: String,
    line: usize,
    table: Option<String>,
    rows: Option<u64>,
    message: String,
    safe: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    rule: &'a str,
    revision: &'a str,
    file: String,
    line: usize,
    reason: &'a str,
    by: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    infos: usize,
    suppressed: usize,
}

/// The report as one JSON document and a newline.
pub fn json(report: &LintReport) -> String {
    let document = JsonReport {
        version: 1,
        backend: report.backend.name(),
        revisions: &report.revisions,
        sized_from: match &report.sizing {
            Sizing::Estimated(url) => Some(url),
            Sizing::Unavailable(_) => None,
        },
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule,
                severity: f.severity,
                revision: &f.revision,
                file: report.shown(&f.file),
                line: f.line,
                table: f.table.as_ref().map(|t| t.to_string()),
                rows: f.rows,
                message: f.sized_message(),
                safe: f.safe.as_deref(),
            })
            .collect(),
        suppressed: report
            .suppressed
            .iter()
            .map(|s| JsonSuppressed {
                rule: s.rule,
                revision: &s.revision,
                file: report.shown(&s.file),
                line: s.line,
                reason: &s.reason,
                by: s.by,
            })
            .collect(),
        summary: JsonSummary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
            suppressed: report.suppressed.len(),
        },
    };
    crate::format::render_json(&document)
}
