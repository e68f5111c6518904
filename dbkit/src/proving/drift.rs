//! `cargo dbrev check --drift`: the live database against a replay of its own history.
//! The revisions the database has applied are applied, in order, to a scratch database,
//! and the two full snapshots compared: an index, a constraint, a default, a trigger, a
//! view or a routine added or changed by hand (or one a revision forgot) is listed.
//! `check` without `--drift` compares only what `schema.rs` can say.

use serde::Serialize;

use super::{Replay, on_database, own_tables};
use crate::apply::Direction;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::migrate::Environment;
use crate::scratch::ScratchDatabase;
use crate::snapshot::{Difference, Sides, SnapshotReader, compare};
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// How drift reads: the live database on the left, the replay on the right.
pub const DRIFT_SIDES: Sides = Sides {
    left: "in the database",
    right: "in its revisions",
};

/// Where the replay goes.
#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    /// `--scratch-url`: an empty database to replay into instead of creating one.
    pub scratch_url: Option<DatabaseUrl>,
}

/// What `check --drift` found (the JSON of `--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// Whether the database is exactly what its revisions make.
    pub ok: bool,
    /// The database compared (masked).
    pub database: String,
    /// How many revisions were replayed (those the database has applied).
    pub revisions: usize,
    /// What differs: `left` is the database, `right` the replay of its revisions.
    pub differences: Vec<Difference>,
}

impl DriftReport {
    /// Prints the differences (stderr), or that there are none.
    pub fn print(&self, reporter: &Reporter) {
        if self.ok {
            reporter.status(
                "Checked",
                format!(
                    "the database is what its {} revision(s) make: no drift",
                    self.revisions
                ),
            );
            return;
        }
        for d in &self.differences {
            reporter.note("Drift", d.describe(&DRIFT_SIDES));
        }
    }
}

impl Environment {
    /// `check --drift`: replays the revisions the connected database has applied into a
    /// scratch database and compares the two catalogs.
    pub fn drift(
        &self,
        conn: &mut Connection,
        options: &DriftOptions,
        reporter: &Reporter,
    ) -> Result<DriftReport> {
        let state = self.current(conn)?;
        if let Some(id) = state.unknown.first() {
            return Err(Error::Script(format!(
                "cannot replay the history of {}: revision {id} is applied but {} has no directory for it",
                conn.url(),
                self.config.versions_dir.display()
            )));
        }
        if let Some(partial) = state.partial.first() {
            return Err(Error::Refused(format!(
                "{}; settle it before comparing with the history",
                partial.describe()
            )));
        }
        let live = SnapshotReader::new(conn)?
            .read(conn)?
            .without_tables(&own_tables(self));
        let applied: Vec<_> = self
            .graph
            .revisions()
            .iter()
            .filter(|r| state.applied.contains(&r.id))
            .collect();
        let scratch = ScratchDatabase::create(
            &self.config.database_url,
            options.scratch_url.as_ref(),
            reporter,
        )?;
        let env = on_database(self, scratch.url());
        let mut replay_conn = env.connect()?;
        let quiet = Reporter::quiet();
        let replayed = env.locked(&mut replay_conn, &quiet, |env, c, _| {
            let replay = Replay::new(env, c);
            for revision in &applied {
                replay.run(c, revision, Direction::Up).map_err(|e| {
                    Error::Migration(format!(
                        "replaying revision {} into the scratch database failed, so the database cannot be compared with its history: {e}",
                        revision.id
                    ))
                })?;
            }
            Ok(SnapshotReader::new(c)?.read(c)?.without_tables(&own_tables(env)))
        })?;
        drop(replay_conn);
        scratch.finish(reporter)?;
        let differences = compare(&live, &replayed);
        Ok(DriftReport {
            ok: differences.is_empty(),
            database: conn.url().masked(),
            revisions: applied.len(),
            differences,
        })
    }
}
