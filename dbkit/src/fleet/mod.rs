//! `--fleet`: one command over every tenant database of dbrev.toml's `[fleet]` — the URLs
//! themselves, a file of them, a query that lists them, or (PostgreSQL) a query that lists
//! the schemas of the configured database, each tenant working in its own schema.
//!
//! [`Fleet::read`] resolves the source into [`Tenant`]s (`source`); [`run`] works on them
//! with bounded parallelism, each tenant on its own connection and, for the commands that
//! write, under its own migration lock, stopping early on `--fail-fast` or a failed
//! `--canary`, with a progress bar of databases done; the commands (`commands`) report
//! per tenant what they found or did, silently, into a [`FleetReport`] (`report`): the
//! summary table, the JSON document, the exit code.

mod commands;
mod report;
mod run;
mod source;

pub use commands::{
    Dumped, FleetExport, Movement, Position, Proof, RevisionCount, Verdict, current_json,
    current_text, fleet_export, revision_counts,
};
pub use report::{Counts, Detail, FleetReport, Outcome, Status};
pub use run::{FleetOptions, Ran, default_jobs};
pub use source::{Fleet, Tenant};
