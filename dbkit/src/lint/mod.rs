//! `cargo dbrev lint`: finds the statements of revisions that would lock a busy table for
//! the length of a scan or a copy, fail where the revision puts them, lose data, or break
//! the running app, and says what to write instead. Rules are per backend (`rules`), work
//! on facts read from the SQL (`parse`, `tokens`, `facts`) with the context a revision
//! gives (tables it creates, its transaction mode, the history before it: `catalog`), and
//! are sized with the live database's row estimates when one answers (`sizes`).
//! Suppression: `-- dbrev:allow RULE reason` comments (`suppress`) and `[lint]` in
//! dbrev.toml (`settings`), applied with the severities in `judge`. What lint knows of one
//! backend (the parser's grammar, the statements only it writes, its rules) lives in
//! `rules/<backend>.rs`. Every rule is documented in `docs/lint.md`.

mod catalog;
mod facts;
mod judge;
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
use std::sync::Arc;

use serde::Serialize;

use crate::backend::Backend;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::graph::RevisionGraph;
use crate::migrate::Environment;
use crate::script::{Revision, RevisionTexts};
use crate::statements::SplitError;
use crate::term::Reporter;
use catalog::Catalog;
use facts::Fact;
pub use facts::Relation;
use judge::{FileJudgement, Judged};
use parse::{Parsed, parse_file};
use rules::{ClusterTarget, FileContext, Reverted};
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
    /// The kind of cluster whose rules ran (`Galera`), when the revisions run on one.
    pub cluster: Option<&'static str>,
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
            "{} revision(s) for {}{}: {} error(s), {} warning(s), {} note(s), {} suppressed",
            self.revisions.len(),
            self.backend,
            self.cluster
                .map(|name| format!(" on a {name} node"))
                .unwrap_or_default(),
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
        let mut chosen = match selection {
            Selection::Pending => self.pending_revisions()?,
            Selection::All => self.chosen_revisions(None)?,
            Selection::Range(range) => self.chosen_revisions(Some(range))?,
        };
        let mut report = lint_revisions(self, &chosen.revisions, &settings, chosen.conn.as_mut())?;
        if let Some(why) = chosen.unsized_because {
            report.sizing = Sizing::Unavailable(why);
        }
        if let Sizing::Unavailable(why) = &report.sizing {
            reporter.warn(format!("findings are not sized with row estimates: {why}"));
        }
        reporter.status("Linted", report.summary());
        Ok(report)
    }

    /// The revisions the database has not applied, which takes a connection. A database
    /// file that does not exist yet has applied none (connecting would create it, and lint
    /// writes nothing).
    fn pending_revisions(&self) -> Result<Chosen<'_>> {
        let url = &self.config.database_url;
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
        let revisions = self
            .graph
            .revisions()
            .iter()
            .filter(|r| !applied.contains(&r.id))
            .collect();
        let unsized_because = conn
            .is_none()
            .then(|| format!("{} does not exist yet", url.masked()));
        Ok(Chosen {
            revisions,
            conn,
            unsized_because,
        })
    }

    /// Every revision, or those `range` names. A connection only sizes findings (lint goes
    /// on without one), unless the range names `current`.
    fn chosen_revisions(&self, range: Option<&String>) -> Result<Chosen<'_>> {
        let url = &self.config.database_url;
        let needs_db = range.is_some_and(|r| r.contains("current"));
        let (mut conn, unsized_because) = if url.is_missing_file() && !needs_db {
            (None, Some(format!("{} does not exist yet", url.masked())))
        } else if url.is_missing_file() {
            // Connecting would create the file; lint writes nothing.
            let reason = "the database file does not exist, so nothing is `current` in it: lint a range without `current`, or --all";
            return Err(crate::driver::connect_error(url, reason));
        } else {
            match self.connect() {
                Ok(conn) => (Some(conn), None),
                Err(e) if needs_db => return Err(e),
                Err(e) => (None, Some(e.to_string())),
            }
        };
        let revisions = match range {
            Some(range) => {
                let applied = match conn.as_mut() {
                    Some(c) if needs_db => self.current(c)?.applied,
                    _ => Default::default(),
                };
                select_range(&self.graph, range, &applied)?
            }
            None => self.graph.revisions().iter().collect(),
        };
        Ok(Chosen {
            revisions,
            conn,
            unsized_because,
        })
    }
}

/// The revisions a `lint` run reads, the connection that sizes their findings, and why
/// there is none.
struct Chosen<'g> {
    revisions: Vec<&'g Revision>,
    conn: Option<Connection>,
    unsized_because: Option<String>,
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
            self.graph
                .texts()
                .read(&revision.up_path())
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
    mut conn: Option<&mut Connection>,
) -> Result<LintReport> {
    let backend = env.config.database_url.backend();
    let cluster = cluster_target(conn.as_deref_mut(), backend, settings)?;
    let run = Run {
        history: History {
            graph: &env.graph,
            backend,
            parsed: RefCell::new(HashMap::new()),
        },
        settings,
        session_lock_timeout: sets_lock_timeout(&env.config.session_sql, backend),
        cluster: cluster.as_ref(),
    };
    let mut judged = Judged::default();
    for revision in revisions {
        run.lint(revision, &mut judged)?;
    }
    let sizing = match conn {
        Some(conn) => size(conn, &mut judged.findings),
        None => Sizing::Unavailable("no database connection".to_owned()),
    };
    Ok(LintReport {
        backend,
        revisions: revisions.iter().map(|r| r.id.clone()).collect(),
        findings: judged.findings,
        suppressed: judged.suppressed,
        sizing,
        cluster: cluster.map(|c| c.name),
        root: env.config.root().to_path_buf(),
    })
}

/// The cluster the revisions will run on: the database's, when it is a cluster node (with
/// what it says of its tables), or with `[lint] galera = true` the backend's kind of
/// cluster, knowing only what the revision history says.
fn cluster_target(
    conn: Option<&mut Connection>,
    backend: Backend,
    settings: &LintSettings,
) -> Result<Option<ClusterTarget>> {
    if let Some(conn) = conn
        && let Some(cluster) = crate::cluster::node(conn)?
    {
        return Ok(Some(ClusterTarget {
            name: cluster.name(),
            replicated_engine: cluster.replicated_engine(),
            hazards: crate::cluster::hazards(conn, cluster)?,
        }));
    }
    let configured = crate::dialect::dialect_for(backend)
        .cluster()
        .filter(|_| settings.galera);
    Ok(configured.map(|cluster| ClusterTarget {
        name: cluster.name(),
        replicated_engine: cluster.replicated_engine(),
        hazards: Default::default(),
    }))
}

/// Whether the statements run on every migration session (`session_sql`) set a
/// `lock_timeout`.
fn sets_lock_timeout(session_sql: &[String], backend: Backend) -> bool {
    session_sql
        .iter()
        .filter_map(|sql| parse_file(sql, backend).ok())
        .flatten()
        .flat_map(|s| s.facts)
        .any(|f| f == Fact::SetLockTimeout { enabled: true })
}

/// What every revision of one lint run is read and judged with.
struct Run<'a> {
    history: History<'a>,
    settings: &'a LintSettings,
    session_lock_timeout: bool,
    cluster: Option<&'a ClusterTarget>,
}

impl Run<'_> {
    /// Lints up.sql and down.sql of one revision (down.sql knowing what up.sql did), into
    /// `judged`.
    fn lint(&self, revision: &Revision, judged: &mut Judged) -> Result<()> {
        let backend = self.history.backend;
        let texts = self.history.graph.texts();
        let up = read_file(texts, &revision.up_path(), backend)?;
        let reverted = up
            .as_ref()
            .map(|(_, s)| Reverted::of(s))
            .unwrap_or_default();
        let down = read_file(texts, &revision.down_path(), backend)?;
        for (file, parsed, is_down) in [
            (revision.up_path(), up, false),
            (revision.down_path(), down, true),
        ] {
            let Some((text, statements)) = parsed else {
                continue;
            };
            let catalog = || self.history.catalog_before(revision, is_down);
            let ctx = FileContext::new(
                backend,
                revision,
                &statements,
                is_down.then_some(&reverted),
                self.session_lock_timeout,
                &catalog,
            )
            .on_cluster(self.cluster);
            let hits = rules::check(&ctx);
            let allows = suppress::allows(&text, backend, &statements);
            let file = FileJudgement {
                revision,
                file: &file,
                statements: &statements,
                settings: self.settings,
            };
            file.judge(hits, &allows, judged);
        }
        Ok(())
    }
}

/// Sizes the findings with the row estimates of their tables; how they were sized.
fn size(conn: &mut Connection, findings: &mut [Finding]) -> Sizing {
    let mut tables: Vec<Relation> = Vec::new();
    for table in findings.iter().filter_map(|f| f.table.as_ref()) {
        if !tables.iter().any(|t| t.key() == table.key()) {
            tables.push(table.clone());
        }
    }
    match sizes::estimate(conn, &tables) {
        Ok(rows) => {
            for finding in findings {
                finding.rows = finding
                    .table
                    .as_ref()
                    .and_then(|t| rows.get(&t.key()).copied());
            }
            Sizing::Estimated(conn.url().masked())
        }
        Err(e) => Sizing::Unavailable(format!("the row estimate query failed: {e}")),
    }
}

/// A revision file's text (as `texts` has it: read once per run) and statements; `None`
/// when the file does not exist (a revision without down.sql).
fn read_file(
    texts: &RevisionTexts,
    path: &Path,
    backend: Backend,
) -> Result<Option<(Arc<str>, Vec<Parsed>)>> {
    let Some(text) = texts.read_if_exists(path)? else {
        return Ok(None);
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
