//! `cargo dbrev lint`: finds the statements of revisions that would lock a busy table for
//! the length of a scan or a copy, fail where the revision puts them, lose data, or break
//! the running app, and says what to write instead. Rules are per backend (`rules`), work
//! on facts read from the SQL (`parse`, `tokens`, `facts`) with the context a revision
//! gives (tables it creates, its transaction mode, the history before it: `catalog`), and
//! are sized with the live database's row estimates when one answers (`sizes`).
//! Suppression: `-- dbrev:allow RULE reason` comments (`suppress`) and `[lint]` in
//! dbrev.toml (`settings`). Every rule is documented in `docs/lint.md`.

mod catalog;
mod facts;
mod parse;
mod report;
mod rules;
mod settings;
pub mod sizes;
mod suppress;
mod tokens;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use crate::backend::Backend;
use crate::db::Connection;
use crate::error::{Error, IoContext, Result};
use crate::graph::RevisionGraph;
use crate::migrate::Environment;
use crate::script::Revision;
use crate::statements::SplitError;
use crate::term::Reporter;
use catalog::Catalog;
use facts::Fact;
pub use facts::Relation;
use parse::{Parsed, parse_file};
use rules::{FileContext, Reverted};
pub use rules::{RULES, Rule};
pub use settings::LintSettings;

/// How bad a finding is. Only errors make `lint` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Risky depending on things lint cannot see.
    Warning,
    /// Locks, fails or loses data: fix it, or suppress it with a reason.
    Error,
}

impl Severity {
    /// The lower-case name printed in findings.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule id.
    pub rule: &'static str,
    /// Its severity after `[lint]`.
    pub severity: Severity,
    /// The revision id.
    pub revision: String,
    /// The file (`up.sql` or `down.sql`).
    pub file: PathBuf,
    /// The statement's first line.
    pub line: usize,
    /// The table it concerns.
    pub table: Option<Relation>,
    /// The table's estimated rows, when a database answered.
    pub rows: Option<u64>,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub safe: Option<String>,
    /// What the size means for this finding.
    effect: Option<&'static str>,
}

impl Finding {
    /// The message with the table's size and what it means, when known
    /// ("...; posts ~2.1M rows: this rewrite holds a lock for the whole copy").
    pub fn sized_message(&self) -> String {
        match (&self.table, self.rows) {
            (Some(table), Some(rows)) => format!(
                "{}; {table} ~{} rows{}",
                self.message,
                sizes::approx(rows),
                self.effect.map(|e| format!(": {e}")).unwrap_or_default()
            ),
            _ => self.message.clone(),
        }
    }
}

/// A finding that a comment or `[lint] allow` suppressed.
#[derive(Debug, Clone)]
pub struct Suppressed {
    /// The rule id.
    pub rule: &'static str,
    /// The revision id.
    pub revision: String,
    /// The file.
    pub file: PathBuf,
    /// The statement's first line.
    pub line: usize,
    /// The reason given.
    pub reason: String,
    /// `comment` or `dbrev.toml`.
    pub by: &'static str,
}

/// Whether findings were sized with row estimates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sizing {
    /// Sized from the database (masked URL).
    Estimated(String),
    /// Not sized, and why.
    Unavailable(String),
}

/// What `lint` found in a set of revisions.
#[derive(Debug, Clone)]
pub struct LintReport {
    /// The backend whose rules ran.
    pub backend: Backend,
    /// The revisions linted, in graph order.
    pub revisions: Vec<String>,
    /// Findings in graph order, then file, then line.
    pub findings: Vec<Finding>,
    /// Suppressed findings.
    pub suppressed: Vec<Suppressed>,
    /// Whether row estimates were used.
    pub sizing: Sizing,
    /// The package root, which file paths are shown relative to.
    pub root: PathBuf,
}

impl LintReport {
    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// `Err(Error::Differences)` (exit 1) when an error-level finding remains.
    pub fn verdict(&self) -> Result<()> {
        let errors = self.count(Severity::Error);
        if errors == 0 {
            return Ok(());
        }
        Err(Error::Differences(format!(
            "lint found {errors} error(s) in {} revision(s); write the safe form, or suppress a finding with `-- dbrev:allow RULE-ID reason` above its statement",
            self.findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.revision.as_str())
                .collect::<BTreeSet<_>>()
                .len()
        )))
    }

    /// One line for stderr: what was linted and what was found.
    pub fn summary(&self) -> String {
        format!(
            "{} revision(s) for {}: {} error(s), {} warning(s), {} note(s), {} suppressed",
            self.revisions.len(),
            self.backend,
            self.count(Severity::Error),
            self.count(Severity::Warning),
            self.count(Severity::Info),
            self.suppressed.len()
        )
    }

    fn shown(&self, file: &Path) -> String {
        file.strip_prefix(&self.root)
            .unwrap_or(file)
            .display()
            .to_string()
    }
}

/// Which revisions to lint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// The revisions the database has not applied (needs a connection).
    #[default]
    Pending,
    /// Every revision.
    All,
    /// One revision (id, prefix, label, `head`) or a range `A:B` as `history -r` takes it.
    Range(String),
}

/// The output formats of `lint`: text is `file:line: RULE severity: message` and the safe
/// form; JSON is one document whose shape docs/lint.md documents.
pub use crate::format::Format;

impl LintReport {
    /// The report in a format, for stdout.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => report::text(self),
            Format::Json => report::json(self),
        }
    }
}

impl Environment {
    /// What `upgrade` does before applying `plan`: prints the lint findings of those
    /// revisions on stderr (sized on `conn`), and with `[lint] block_upgrade = true` refuses
    /// while an error-level finding remains.
    pub(crate) fn lint_before_upgrade(
        &self,
        conn: &mut Connection,
        plan: &[&Revision],
        reporter: &Reporter,
    ) -> Result<()> {
        if plan.is_empty() {
            return Ok(());
        }
        let settings = LintSettings::load(&self.config)?;
        let report = lint_revisions(self, plan, &settings, Some(conn))?;
        for line in report.render(Format::Text).lines() {
            match line.trim_start().strip_prefix("safe: ") {
                Some(safe) => reporter.note("safe", safe),
                None => reporter.note("Lint", line),
            }
        }
        match report.verdict() {
            Err(Error::Differences(message)) if settings.block_upgrade => Err(Error::Refused(
                format!("{message}; nothing was applied ([lint] block_upgrade = true)"),
            )),
            _ => Ok(()),
        }
    }

    /// `lint`: selects the revisions, reads `[lint]`, connects when it can (the default
    /// selection needs it; otherwise it only sizes findings), lints, and reports the
    /// summary on stderr. The caller prints [`LintReport::render`] and exits with
    /// [`LintReport::verdict`].
    pub fn lint(&self, selection: &Selection, reporter: &Reporter) -> Result<LintReport> {
        let settings = LintSettings::load(&self.config)?;
        let url = &self.config.database_url;
        let (revisions, mut conn, no_sizes) = match selection {
            Selection::Pending => {
                let mut conn = if url.is_missing_file() {
                    None
                } else {
                    Some(self.connect().map_err(|e| match e {
                        Error::Connect {
                            url,
                            reason,
                            source,
                        } => Error::Connect {
                            url,
                            source,
                            reason: format!(
                                "{reason}; lint needs the database to know which revisions are not applied yet: pass --all or a revision range to lint without it"
                            ),
                        },
                        other => other,
                    })?)
                };
                let applied = match conn.as_mut() {
                    Some(conn) => self.current(conn)?.applied,
                    None => Default::default(),
                };
                let pending: Vec<&Revision> = self
                    .graph
                    .revisions()
                    .iter()
                    .filter(|r| !applied.contains(&r.id))
                    .collect();
                let no_sizes = conn
                    .is_none()
                    .then(|| format!("{} does not exist yet", url.masked()));
                (pending, conn, no_sizes)
            }
            Selection::All | Selection::Range(_) => {
                let needs_db = matches!(selection, Selection::Range(r) if r.contains("current"));
                let (conn, no_sizes) = if url.is_missing_file() && !needs_db {
                    (None, Some(format!("{} does not exist yet", url.masked())))
                } else {
                    match self.connect() {
                        Ok(conn) => (Some(conn), None),
                        Err(e) if needs_db => return Err(e),
                        Err(e) => (None, Some(e.to_string())),
                    }
                };
                let mut conn = conn;
                let revisions = match selection {
                    Selection::Range(range) => {
                        let applied = match conn.as_mut() {
                            Some(c) if needs_db => self.current(c)?.applied,
                            _ => Default::default(),
                        };
                        select_range(&self.graph, range, &applied)?
                    }
                    _ => self.graph.revisions().iter().collect(),
                };
                (revisions, conn, no_sizes)
            }
        };
        let mut report = lint_revisions(self, &revisions, &settings, conn.as_mut())?;
        if let Some(why) = no_sizes {
            report.sizing = Sizing::Unavailable(why);
        }
        if let Sizing::Unavailable(why) = &report.sizing {
            reporter.warn(format!("findings are not sized with row estimates: {why}"));
        }
        reporter.status("Linted", report.summary());
        Ok(report)
    }
}

/// The revisions a range names: `REV` alone, or `A:B` (ends may be empty, `base`, `head`,
/// `heads`, `current`), in graph order.
fn select_range<'g>(
    graph: &'g RevisionGraph,
    range: &str,
    applied: &crate::graph::Applied,
) -> Result<Vec<&'g Revision>> {
    let resolve = |end: &str| -> Result<Option<Vec<String>>> {
        match end.trim() {
            "" => Ok(None),
            "current" => Ok(Some(
                graph
                    .current_heads(applied)
                    .iter()
                    .map(|r| r.id.clone())
                    .collect(),
            )),
            other => graph.resolve(other, applied).map(Some),
        }
    };
    let Some((lower, upper)) = range.split_once(':') else {
        let ids = resolve(range)?.unwrap_or_default();
        if ids.is_empty() {
            return Err(Error::Target(format!(
                "`{range}` names no revision; give a revision id or a range A:B"
            )));
        }
        return Ok(graph
            .revisions()
            .iter()
            .filter(|r| ids.contains(&r.id))
            .collect());
    };
    let upper = resolve(upper)?.map(|ids| graph.ancestors(ids.iter().map(String::as_str)));
    let lower: Option<BTreeSet<String>> =
        resolve(lower)?.map(|ids| ids.iter().flat_map(|id| graph.descendants(id)).collect());
    Ok(graph
        .revisions()
        .iter()
        .filter(|r| upper.as_ref().is_none_or(|s| s.contains(&r.id)))
        .filter(|r| lower.as_ref().is_none_or(|s| s.contains(&r.id)))
        .collect())
}

/// The revision history, read lazily: what the up.sql of every ancestor of a revision
/// leaves behind, for rules that need a column's type or a validated check.
struct History<'g> {
    graph: &'g RevisionGraph,
    backend: Backend,
    parsed: RefCell<HashMap<String, Rc<Vec<Parsed>>>>,
}

impl History<'_> {
    fn up_of(&self, revision: &Revision) -> Rc<Vec<Parsed>> {
        if let Some(parsed) = self.parsed.borrow().get(&revision.id) {
            return parsed.clone();
        }
        // A file that cannot be read or split tells the catalog nothing; linting it
        // reports why.
        let parsed = Rc::new(
            std::fs::read_to_string(revision.up_path())
                .ok()
                .and_then(|text| parse_file(&text, self.backend).ok())
                .unwrap_or_default(),
        );
        self.parsed
            .borrow_mut()
            .insert(revision.id.clone(), parsed.clone());
        parsed
    }

    /// The catalog before `revision` runs (with `after_up`: after its up.sql, which is
    /// what its down.sql starts from).
    fn catalog_before(&self, revision: &Revision, after_up: bool) -> Catalog {
        let ancestors = self.graph.ancestors([revision.id.as_str()]);
        let mut catalog = Catalog::default();
        for r in self.graph.revisions() {
            if ancestors.contains(&r.id) && (r.id != revision.id || after_up) {
                for fact in self.up_of(r).iter().flat_map(|s| &s.facts) {
                    catalog.apply(fact);
                }
            }
        }
        catalog
    }
}

/// Lints `revisions` (up.sql and down.sql of each) for the configured backend, with
/// `[lint]` settings ([`LintSettings::load`]), sizing findings through `conn` when given.
/// This is what `upgrade` calls on the revisions it is about to apply (its plan), before
/// printing [`LintReport::render`] and, with `block_upgrade`, refusing on
/// [`LintReport::verdict`].
pub fn lint_revisions(
    env: &Environment,
    revisions: &[&Revision],
    settings: &LintSettings,
    conn: Option<&mut Connection>,
) -> Result<LintReport> {
    let backend = env.config.database_url.backend();
    let session_lock_timeout = env
        .config
        .session_sql
        .iter()
        .filter_map(|sql| parse_file(sql, backend).ok())
        .flatten()
        .flat_map(|s| s.facts)
        .any(|f| f == Fact::SetLockTimeout { enabled: true });
    let history = History {
        graph: &env.graph,
        backend,
        parsed: RefCell::new(HashMap::new()),
    };
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for revision in revisions {
        let up = read_file(&revision.up_path(), backend)?;
        let reverted = up
            .as_ref()
            .map(|(_, s)| Reverted::of(s))
            .unwrap_or_default();
        let down = read_file(&revision.down_path(), backend)?;
        for (file, parsed, is_down) in [
            (revision.up_path(), up, false),
            (revision.down_path(), down, true),
        ] {
            let Some((text, statements)) = parsed else {
                continue;
            };
            let catalog = || history.catalog_before(revision, is_down);
            let ctx = FileContext::new(
                backend,
                revision,
                &statements,
                is_down.then_some(&reverted),
                session_lock_timeout,
                &catalog,
            );
            let hits = rules::check(&ctx);
            let allows = suppress::allows(&text, backend, &statements);
            judge(
                FileJudgement {
                    revision,
                    file: &file,
                    statements: &statements,
                    settings,
                },
                hits,
                &allows,
                &mut findings,
                &mut suppressed,
            );
        }
    }
    let mut sizing = Sizing::Unavailable("no database connection".to_owned());
    if let Some(conn) = conn {
        sizing = Sizing::Estimated(conn.url().masked());
        let mut tables: Vec<Relation> = Vec::new();
        for table in findings.iter().filter_map(|f: &Finding| f.table.as_ref()) {
            if !tables.iter().any(|t| t.key() == table.key()) {
                tables.push(table.clone());
            }
        }
        match sizes::estimate(conn, &tables) {
            Ok(rows) => {
                for finding in &mut findings {
                    finding.rows = finding
                        .table
                        .as_ref()
                        .and_then(|t| rows.get(&t.key()).copied());
                }
            }
            Err(e) => {
                sizing = Sizing::Unavailable(format!("the row estimate query failed: {e}"));
            }
        }
    }
    Ok(LintReport {
        backend,
        revisions: revisions.iter().map(|r| r.id.clone()).collect(),
        findings,
        suppressed,
        sizing,
        root: env.config.root().to_path_buf(),
    })
}

/// A revision file's text and statements; `None` when the file does not exist (a
/// revision without down.sql).
fn read_file(path: &Path, backend: Backend) -> Result<Option<(String, Vec<Parsed>)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).at(path),
    };
    let statements = parse_file(&text, backend).map_err(|e| match e {
        SplitError::Unterminated { line, what } => Error::Script(format!(
            "{}:{line}: unterminated {what} starting here",
            path.display()
        )),
        SplitError::Encoding { line } => Error::Script(format!(
            "{}:{line}: the statement is not valid UTF-8",
            path.display()
        )),
        SplitError::Io(source) => Error::io(path, source),
    })?;
    Ok(Some((text, statements)))
}

/// What [`judge`] needs to know about the file.
struct FileJudgement<'a> {
    revision: &'a Revision,
    file: &'a Path,
    statements: &'a [Parsed],
    settings: &'a LintSettings,
}

/// Applies suppression and `[lint]` severities to one file's hits, and reports the
/// suppression comments that are wrong or unused.
fn judge(
    at: FileJudgement<'_>,
    hits: Vec<rules::Hit>,
    allows: &[suppress::Allow],
    findings: &mut Vec<Finding>,
    suppressed: &mut Vec<Suppressed>,
) {
    let mut used = vec![false; allows.len()];
    let mut out = Vec::new();
    let finding = |rule: &'static str, line: usize, message: String, safe: Option<String>| {
        let default = rules::find(rule).map_or(Severity::Warning, |r| r.severity);
        Finding {
            rule,
            severity: at.settings.severity(rule, default),
            revision: at.revision.id.clone(),
            file: at.file.to_path_buf(),
            line,
            table: None,
            rows: None,
            message,
            safe,
            effect: None,
        }
    };
    for hit in hits {
        let line = at.statements[hit.statement].line;
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
            at.settings
                .allow
                .get(hit.rule)
                .map(|reason| (reason.clone(), "dbrev.toml"))
        };
        if let Some((reason, by)) = by_comment.or_else(by_config) {
            suppressed.push(Suppressed {
                rule: hit.rule,
                revision: at.revision.id.clone(),
                file: at.file.to_path_buf(),
                line,
                reason,
                by,
            });
            continue;
        }
        let mut f = finding(hit.rule, line, hit.message, hit.safe);
        if let Some(severity) = hit.severity {
            f.severity = at.settings.severity(hit.rule, severity);
        }
        f.table = hit.table;
        f.effect = hit.effect;
        out.push(f);
    }
    for (i, allow) in allows.iter().enumerate() {
        let named = allow.rules.join(",");
        if allow.rules.is_empty() || allow.reason.is_empty() {
            out.push(finding(
                "LINT001",
                allow.line,
                format!("`dbrev:allow {named}` has no reason, so it suppresses nothing"),
                Some(format!(
                    "-- dbrev:allow {} <why this is safe here>",
                    if named.is_empty() { "RULE-ID" } else { &named }
                )),
            ));
        } else if let Some(unknown) = allow.rules.iter().find(|id| rules::find(id).is_none()) {
            out.push(finding(
                "LINT002",
                allow.line,
                format!("`dbrev:allow` names `{unknown}`, which is not a rule"),
                Some("see docs/lint.md for the rule ids".to_owned()),
            ));
        } else if !used[i] {
            out.push(finding(
                "LINT003",
                allow.line,
                match allow.statement {
                    Some(_) => format!("`dbrev:allow {named}` suppresses nothing on this statement"),
                    None => format!(
                        "`dbrev:allow {named}` is on no statement (put it on the line above the statement, with no blank line between)"
                    ),
                },
                None,
            ));
        }
    }
    out.sort_by_key(|f| f.line);
    findings.extend(out);
}
