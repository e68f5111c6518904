//! What a fleet command did, per tenant: the summary table (database, state, time, result)
//! on stderr, the `--format json` document, and the exit code — the highest of the failed
//! tenants' codes, so a connection or SQL failure outranks a difference `check` found.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::term::{Reporter, Verbosity};

/// How the work on one tenant ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Done.
    Ok,
    /// It failed: the error says why.
    Failed,
    /// Never started (`--fail-fast` after a failure, or a failed canary).
    NotRun,
}

/// What one tenant's work found or did, as the command reports it.
pub trait Detail: Default + Send + Serialize {
    /// The state column of the summary (`base → 20260101`, `at 20260101`…).
    fn state(&self) -> String;
}

/// One tenant's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome<T> {
    /// The tenant, masked (and its schema).
    pub database: String,
    /// How it ended.
    pub status: Status,
    /// What the command found or did there.
    #[serde(flatten)]
    pub detail: T,
    /// Why it failed (or was not run), one line, masked.
    pub error: Option<String>,
    /// The exit code its error alone would have given.
    pub exit_code: Option<i32>,
    /// How long it took.
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A fleet command's outcome on every tenant, in the fleet's order.
#[derive(Debug, Clone)]
pub struct FleetReport<T> {
    /// The command (`upgrade`, `current`…).
    pub command: &'static str,
    /// Where the tenants came from.
    pub source: String,
    /// One per tenant.
    pub outcomes: Vec<Outcome<T>>,
    /// How long the whole run took.
    pub elapsed: Duration,
}

#[derive(Serialize)]
struct Document<'a, T, E> {
    version: u32,
    command: &'static str,
    source: &'a str,
    summary: Counts,
    #[serde(flatten)]
    extra: E,
    databases: &'a [Outcome<T>],
}

/// How many tenants ended each way.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    /// Every tenant.
    pub databases: usize,
    /// Done.
    pub ok: usize,
    /// Failed.
    pub failed: usize,
    /// Never started.
    pub not_run: usize,
    /// The whole run, in milliseconds.
    pub elapsed_ms: u64,
}

impl<T: Detail> FleetReport<T> {
    /// How many tenants ended each way.
    pub fn counts(&self) -> Counts {
        let count = |status| self.outcomes.iter().filter(|o| o.status == status).count();
        Counts {
            databases: self.outcomes.len(),
            ok: count(Status::Ok),
            failed: count(Status::Failed),
            not_run: count(Status::NotRun),
            elapsed_ms: u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The summary table: one row per tenant (database, state, time, result); only the
    /// tenants that failed when `failed_only`.
    pub fn table(&self, failed_only: bool) -> String {
        let rows: Vec<[String; 4]> = self
            .outcomes
            .iter()
            .filter(|o| !failed_only || o.status == Status::Failed)
            .map(|o| {
                let result = match (o.status, &o.error) {
                    (Status::Ok, _) => "ok".to_owned(),
                    (Status::Failed, Some(e)) => format!("error: {e}"),
                    (Status::NotRun, Some(why)) => why.clone(),
                    (_, None) => "failed".to_owned(),
                };
                let time = match o.status {
                    Status::NotRun => "-".to_owned(),
                    _ => format!("{} ms", o.elapsed.as_millis()),
                };
                [o.database.clone(), o.detail.state(), time, result]
            })
            .collect();
        let header = ["DATABASE", "STATE", "TIME", "RESULT"].map(str::to_owned);
        let width = |i: usize| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths = [width(0), width(1), width(2)];
        std::iter::once(&header)
            .chain(&rows)
            .map(|[database, state, time, result]| {
                format!(
                    "{database:<w0$}  {state:<w1$}  {time:>w2$}  {result}\n",
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2]
                )
            })
            .collect()
    }

    /// The summary on stderr: the table, then one line of totals (with `-q`, only the
    /// rows of the tenants that failed).
    pub fn print(&self, reporter: &Reporter) {
        if reporter.verbosity == Verbosity::Quiet {
            if self.outcomes.iter().any(|o| o.status == Status::Failed) {
                eprint!("{}", self.table(true));
            }
            return;
        }
        eprint!("{}", self.table(false));
        let c = self.counts();
        let mut line = format!(
            "{} of {} databases in {:.1} s",
            c.ok,
            c.databases,
            self.elapsed.as_secs_f64()
        );
        if c.failed > 0 {
            line.push_str(&format!(", {} failed", c.failed));
        }
        if c.not_run > 0 {
            line.push_str(&format!(", {} not run", c.not_run));
        }
        if c.failed + c.not_run == 0 {
            reporter.status("Finished", line);
        } else {
            reporter.failed("Finished", line);
        }
    }

    /// The `--format json` document: `version`, `command`, `source`, `summary` (counts)
    /// and `databases` (one object per tenant).
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Nothing {}
        self.json(Nothing {})
    }

    /// [`Self::to_json`] with the command's own fields (`extra`, an object) added.
    pub fn json(&self, extra: impl Serialize) -> String {
        crate::format::render_json(&Document {
            version: 1,
            command: self.command,
            source: &self.source,
            summary: self.counts(),
            extra,
            databases: &self.outcomes,
        })
    }

    /// `Ok` when every tenant is done; else an error saying how many failed, whose exit
    /// code is the highest of the failed tenants' codes.
    pub fn verdict(&self) -> Result<()> {
        let c = self.counts();
        if c.failed + c.not_run == 0 {
            return Ok(());
        }
        let code = self
            .outcomes
            .iter()
            .filter_map(|o| o.exit_code)
            .max()
            .unwrap_or(crate::error::exit::REFUSED);
        let not_run = if c.not_run > 0 {
            format!(" ({} not run)", c.not_run)
        } else {
            String::new()
        };
        Err(Error::Fleet {
            message: format!(
                "{} failed on {} of {} databases{not_run}; each is named above with its error",
                self.command, c.failed, c.databases
            ),
            code,
        })
    }
}
