//! `stamp`: setting diesel's version table (and the companion table) to a target without
//! running SQL, alembic's way (other branches stay), settling partially applied revisions;
//! and `stamp --accept-edits`, accepting an edited applied `up.sql` as what ran.

use crate::apply::exec;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::graph_error::TargetError;
use crate::journal::{Ledger, RecordState, RevisionRecord};
use crate::migrate::{Environment, RunState};
use crate::script::checksum;
use crate::target::Motion;
use crate::term::Reporter;

impl Environment {
    /// Sets the version table to `target` without running any SQL (alembic's `stamp`: other
    /// branches stay as they are). With `purge`, every row is deleted first (also rows of
    /// unknown revisions). A partially applied revision is settled by what the user says:
    /// stamped when `target` includes it, forgotten when not.
    pub fn stamp(
        &self,
        conn: &mut Connection,
        target: &str,
        purge: bool,
        reporter: &Reporter,
    ) -> Result<()> {
        self.locked(conn, reporter, |env, conn, run| {
            if !purge {
                env.refuse_stamping_unknown(run)?;
            }
            let ledger = env.ledger(conn.dialect());
            let mut changes = Changes::default();
            if purge {
                changes.sql.extend(ledger.purge());
                run.applied.clear();
                run.records.clear();
            }
            let destination = env.graph.destination(target, &run.applied, Motion::Any)?;
            let (remove, add) = env.graph.stamp_plan(&destination, &run.applied)?;
            for revision in &remove {
                changes.sql.push(ledger.delete_version(&revision.id));
                changes.sql.push(ledger.delete_record(&revision.id));
                changes.say("Unstamped", revision.id.clone());
            }
            for revision in &add {
                let sum = checksum(&env.graph.texts().read(&revision.up_path())?);
                changes.sql.push(ledger.insert_version(&revision.id));
                changes.sql.push(match run.records.get(&revision.id) {
                    Some(_) => ledger.set_checksum(&revision.id, Some(&sum), RecordState::Stamped),
                    None => ledger.insert_record(
                        &revision.id,
                        Some(&sum),
                        RecordState::Stamped,
                        None,
                        0,
                    ),
                });
                changes.say("Stamped", format!("{} {}", revision.id, revision.message));
            }
            let settled: Vec<&str> = remove.iter().chain(&add).map(|r| r.id.as_str()).collect();
            let wanted = env
                .graph
                .ancestors(destination.ids.iter().map(String::as_str));
            for record in run.records.values().filter(|r| r.state.is_partial()) {
                if !settled.contains(&record.version.as_str()) {
                    changes.settle(&ledger, record, wanted.contains(&record.version));
                }
            }
            changes.commit(conn, &format!("stamping {target} (nothing was changed)"))?;
            changes.report(reporter);
            if remove.is_empty() && add.is_empty() && !purge {
                reporter.note(
                    "Nothing",
                    format!("to stamp: the version table is already at `{target}`"),
                );
            }
            Ok(())
        })
    }

    /// `stamp` without `--purge` refuses while the version table holds revisions that have
    /// no directory.
    fn refuse_stamping_unknown(&self, run: &RunState) -> Result<()> {
        let unknown: Vec<String> = run
            .applied
            .iter()
            .filter(|id| self.graph.get(id).is_none())
            .cloned()
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(TargetError::AppliedWithoutDirectory { ids: unknown }.into())
        }
    }

    /// Accepts the current `up.sql` of applied revisions whose file changed since they ran
    /// (`stamp --accept-edits REV`): their recorded checksum becomes the file's.
    pub fn accept_edits(
        &self,
        conn: &mut Connection,
        revisions: &[String],
        reporter: &Reporter,
    ) -> Result<()> {
        self.locked(conn, reporter, |env, conn, run| {
            let state = env.state_of(run.applied.clone(), run.records.clone(), conn.backend());
            let edited = env.edited_revisions(&state)?;
            let ledger = env.ledger(conn.dialect());
            let mut changes = Changes::default();
            for text in revisions {
                let revision = env.graph.resolve_one(text, &run.applied)?;
                let Some(record) = run
                    .records
                    .get(&revision.id)
                    .filter(|_| run.applied.contains(&revision.id))
                else {
                    return Err(TargetError::NothingToAccept {
                        revision: revision.id.clone(),
                    }
                    .into());
                };
                match edited.iter().find(|e| e.id == revision.id) {
                    Some(e) => {
                        let sum = checksum(&env.graph.texts().read(&revision.up_path())?);
                        changes.sql.push(ledger.set_checksum(
                            &revision.id,
                            Some(&sum),
                            record.state,
                        ));
                        changes.say(
                            "Accepted",
                            format!("the edited {} as applied", e.path.display()),
                        );
                    }
                    None => reporter.note(
                        "Unchanged",
                        format!(
                            "{}: revision {} is as it was applied",
                            revision.up_path().display(),
                            revision.id
                        ),
                    ),
                }
            }
            if !changes.sql.is_empty() {
                exec(
                    conn,
                    &changes.sql.join(";\n"),
                    "recording the accepted edits",
                )?;
            }
            changes.report(reporter);
            Ok(())
        })
    }
}

/// The bookkeeping SQL of a stamp and the status lines that say what it did.
#[derive(Default)]
struct Changes {
    sql: Vec<String>,
    lines: Vec<(&'static str, String)>,
}

impl Changes {
    fn say(&mut self, verb: &'static str, line: String) {
        self.lines.push((verb, line));
    }

    /// A partially applied or reverted revision the stamp did not touch: applied when the
    /// target includes it (the user says it is), forgotten when not.
    fn settle(&mut self, ledger: &Ledger, record: &RevisionRecord, applied: bool) {
        let id = &record.version;
        if applied {
            // Reverting half-way, and the user says it is applied: it is.
            self.sql.push(ledger.set_checksum(
                id,
                record.checksum.as_deref(),
                RecordState::Stamped,
            ));
            self.say(
                "Stamped",
                format!("{id} (its partial run settled as applied)"),
            );
        } else {
            self.sql.push(ledger.delete_record(id));
            self.say(
                "Forgot",
                format!("the partial run of {id} (settled as not applied)"),
            );
        }
    }

    /// Runs the SQL in one transaction; a failure rolls back and says `context`.
    fn commit(&self, conn: &mut Connection, context: &str) -> Result<()> {
        if self.sql.is_empty() {
            return Ok(());
        }
        let batch = format!(
            "{};\n{};\nCOMMIT",
            conn.dialect().begin_transaction(),
            self.sql.join(";\n")
        );
        conn.batch_execute(&batch).map_err(|e| {
            let _ = conn.batch_execute("ROLLBACK");
            Error::sql(context, e)
        })
    }

    fn report(&self, reporter: &Reporter) {
        for (verb, line) in &self.lines {
            reporter.status(verb, line);
        }
    }
}
