//! `stamp`: setting diesel's version table (and the companion table) to a target without
//! running SQL, alembic's way (other branches stay), settling partially applied revisions;
//! and `stamp --accept-edits`, accepting an edited applied `up.sql` as what ran.

use crate::apply::exec;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::graph_error::TargetError;
use crate::journal::RecordState;
use crate::migrate::Environment;
use crate::script::{checksum, read_sql_file};
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
                let unknown: Vec<&String> = run
                    .applied
                    .iter()
                    .filter(|id| env.graph.get(id).is_none())
                    .collect();
                if !unknown.is_empty() {
                    return Err(TargetError::AppliedWithoutDirectory {
                        ids: unknown.into_iter().cloned().collect(),
                    }
                    .into());
                }
            }
            let ledger = env.ledger(conn.dialect());
            let mut sql = Vec::new();
            if purge {
                sql.extend(ledger.purge());
                run.applied.clear();
                run.records.clear();
            }
            let destination = env.graph.destination(target, &run.applied, Motion::Any)?;
            let wanted = env
                .graph
                .ancestors(destination.ids.iter().map(String::as_str));
            let (remove, add) = env.graph.stamp_plan(&destination, &run.applied)?;
            let mut lines = Vec::new();
            for revision in &remove {
                sql.push(ledger.delete_version(&revision.id));
                sql.push(ledger.delete_record(&revision.id));
                lines.push(("Unstamped", revision.id.clone()));
            }
            for revision in &add {
                let sum = checksum(&read_sql_file(&revision.up_path())?);
                sql.push(ledger.insert_version(&revision.id));
                match run.records.get(&revision.id) {
                    Some(_) => sql.push(ledger.set_checksum(
                        &revision.id,
                        Some(&sum),
                        RecordState::Stamped,
                    )),
                    None => sql.push(ledger.insert_record(
                        &revision.id,
                        Some(&sum),
                        RecordState::Stamped,
                        None,
                        0,
                    )),
                }
                lines.push(("Stamped", format!("{} {}", revision.id, revision.message)));
            }
            for record in run.records.values().filter(|r| r.state.is_partial()) {
                let id = &record.version;
                let settled = remove.iter().chain(&add).any(|r| &r.id == id);
                if settled {
                    continue;
                }
                if wanted.contains(id) {
                    // Reverting half-way, and the user says it is applied: it is.
                    sql.push(ledger.set_checksum(
                        id,
                        record.checksum.as_deref(),
                        RecordState::Stamped,
                    ));
                    lines.push((
                        "Stamped",
                        format!("{id} (its partial run settled as applied)"),
                    ));
                } else {
                    sql.push(ledger.delete_record(id));
                    lines.push((
                        "Forgot",
                        format!("the partial run of {id} (settled as not applied)"),
                    ));
                }
            }
            if !sql.is_empty() {
                let dialect = conn.dialect();
                let batch = format!(
                    "{};\n{};\nCOMMIT",
                    dialect.begin_transaction(),
                    sql.join(";\n")
                );
                if let Err(e) = conn.batch_execute(&batch) {
                    let _ = conn.batch_execute("ROLLBACK");
                    return Err(Error::sql(
                        format!("stamping {target} (nothing was changed)"),
                        e,
                    ));
                }
            }
            for (verb, line) in lines {
                reporter.status(verb, line);
            }
            if remove.is_empty() && add.is_empty() && !purge {
                reporter.note(
                    "Nothing",
                    format!("to stamp: the version table is already at `{target}`"),
                );
            }
            Ok(())
        })
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
            let mut sql = Vec::new();
            let mut lines = Vec::new();
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
                        let sum = checksum(&read_sql_file(&revision.up_path())?);
                        sql.push(ledger.set_checksum(&revision.id, Some(&sum), record.state));
                        lines.push(format!("the edited {} as applied", e.path.display()));
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
            if !sql.is_empty() {
                exec(conn, &sql.join(";\n"), "recording the accepted edits")?;
            }
            for line in lines {
                reporter.status("Accepted", line);
            }
            Ok(())
        })
    }
}
