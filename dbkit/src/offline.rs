//! Offline scripts (`upgrade --sql`, `downgrade --sql`): the SQL a run would execute, with
//! both bookkeeping tables and transaction control, for a DBA to run with `psql`,
//! `mariadb` or `sqlite3`. Never connects.

use crate::apply::{Direction, split_file};
use crate::error::{Error, Result};
use crate::graph::Applied;
use crate::journal::RecordState;
use crate::migrate::Environment;
use crate::script::{Revision, checksum};
use crate::target::Motion;

impl Environment {
    /// The offline script for `upgrade --sql FROM:TO` (FROM defaults to base): both tables,
    /// transaction control and every revision's SQL, without connecting.
    pub fn upgrade_sql(&self, backend: crate::Backend, range: &str) -> Result<String> {
        let (from, to) = split_range(range);
        let applied = self.offline_state(from)?;
        let d = self.graph.destination(to, &applied, Motion::Up)?;
        let plan = self.graph.upgrade_plan(&d.ids, &applied);
        self.offline_script(backend, &plan, Direction::Up)
    }

    /// The offline script for `downgrade --sql FROM:TO`.
    pub fn downgrade_sql(&self, backend: crate::Backend, range: &str) -> Result<String> {
        let (from, to) = split_range(range);
        let Some(from) = from else {
            return Err(Error::Usage(
                "downgrade --sql needs a range FROM:TO (the offline script cannot ask the database where it is)".into(),
            ));
        };
        let applied = self.offline_state(Some(from))?;
        let d = self.graph.destination(to, &applied, Motion::Down)?;
        let plan = self.graph.downgrade_plan(&d, &applied)?;
        for revision in &plan {
            self.check_revertible(revision)?;
        }
        self.offline_script(backend, &plan, Direction::Down)
    }

    fn offline_state(&self, from: Option<&str>) -> Result<Applied> {
        let Some(from) = from else {
            return Ok(Applied::new());
        };
        let none = Applied::new();
        let ids = self.graph.resolve(from, &none)?;
        Ok(self.graph.ancestors(ids.iter().map(String::as_str)))
    }

    fn offline_script(
        &self,
        backend: crate::Backend,
        plan: &[&Revision],
        direction: Direction,
    ) -> Result<String> {
        let dialect = crate::dialect::dialect_for(backend);
        let ledger = self.ledger(dialect);
        let mut out = format!(
            "-- dbrev offline script ({backend}): {} revision(s)\n\n{};\n{};\n",
            plan.len(),
            dialect.create_version_table(&self.config.version_table),
            dialect.create_revisions_table(&self.config.revisions_table)
        );
        for revision in plan {
            let path = direction.path_of(revision);
            let text = self.graph.texts().read(&path)?;
            let statements = split_file(&path, &text, backend)?;
            let transactional = dialect.transactional_ddl() && revision.run_in_transaction;
            let verb = match direction {
                Direction::Up => "upgrade",
                Direction::Down => "downgrade",
            };
            out.push_str(&format!(
                "\n-- Running {verb} {} {}\n",
                revision.id, revision.message
            ));
            if transactional {
                out.push_str("BEGIN;\n");
            }
            for statement in &statements {
                out.push_str(&dialect.script_statement(&statement.sql));
            }
            let bookkeeping = match direction {
                Direction::Up => [
                    ledger.insert_version(&revision.id),
                    ledger.insert_record(
                        &revision.id,
                        Some(&checksum(&text)),
                        RecordState::Applied,
                        None,
                        statements.len(),
                    ),
                ],
                Direction::Down => [
                    ledger.delete_version(&revision.id),
                    ledger.delete_record(&revision.id),
                ],
            };
            for sql in bookkeeping {
                out.push_str(&format!("{sql};\n"));
            }
            if transactional {
                out.push_str("COMMIT;\n");
            }
        }
        Ok(out)
    }
}

/// `FROM:TO` or `TO`.
fn split_range(range: &str) -> (Option<&str>, &str) {
    match range.split_once(':') {
        Some((from, to)) => (Some(from), to),
        None => (None, range),
    }
}
