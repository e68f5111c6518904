//! Restore: streams a dump (ours, or the plain output of mysqldump/mariadb-dump, pg_dump or
//! sqlite3 `.dump`, gzip-compressed or not) into the connected database, statement by
//! statement, in one transaction where the backend can roll DDL back.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::backend::Backend;
use crate::db::Connection;
use crate::db::RawPostgres;
use crate::error::{Error, IoContext, Result};
use crate::statements::{SplitError, Statement, StatementKind, StatementReader};
use crate::term::Reporter;

/// How to restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// The name shown in messages (the file's path).
    pub source: String,
}

/// What a restore did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreStats {
    /// Statements run.
    pub statements: u64,
}

/// Restores the dump in `path` (gzip recognised by its magic bytes).
pub fn restore_file(
    conn: &mut Connection,
    path: &Path,
    reporter: &Reporter,
) -> Result<RestoreStats> {
    let file = std::fs::File::open(path).at(path)?;
    restore(
        conn,
        file,
        &RestoreOptions {
            source: path.display().to_string(),
        },
        reporter,
    )
}

/// Restores a dump read from `input`.
pub fn restore(
    conn: &mut Connection,
    input: impl Read,
    options: &RestoreOptions,
    reporter: &Reporter,
) -> Result<RestoreStats> {
    let mut buffered = BufReader::with_capacity(1 << 20, input);
    let gz = buffered
        .fill_buf()
        .at(&options.source)?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    let backend = conn.backend();
    let transactional = conn.dialect().transactional_ddl();
    // PostgreSQL goes through a plain session, which speaks COPY.
    let mut raw = match backend {
        Backend::Postgres => Some(RawPostgres::connect(conn.url())?),
        _ => None,
    };
    fn exec(
        raw: &mut Option<RawPostgres>,
        conn: &mut Connection,
        sql: &str,
    ) -> std::result::Result<(), String> {
        match raw {
            Some(session) => session.batch_execute(sql),
            None => conn.batch_execute(sql).map_err(|e| {
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        }
    }
    let begin = conn.dialect().begin_transaction();
    if transactional {
        exec(&mut raw, conn, begin)
            .map_err(|e| Error::Export(format!("starting the restore: {e}")))?;
    }
    let bar = if reporter.wants_progress() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut stats = RestoreStats::default();
    let mut failure = None;
    for statement in StatementReader::new(reader, backend) {
        let statement = match statement {
            Ok(s) => s,
            Err(e) => {
                let line = match &e {
                    SplitError::Unterminated { line, .. } | SplitError::Encoding { line } => *line,
                    SplitError::Io(_) => 0,
                };
                failure = Some((line, e.to_string()));
                break;
            }
        };
        let Statement { sql, line, kind } = statement;
        let result = match kind {
            StatementKind::PsqlMeta => continue,
            StatementKind::Sql if transactional && is_transaction_control(&sql) => continue,
            StatementKind::Sql => exec(&mut raw, conn, &sql),
            StatementKind::CopyFromStdin => match &mut raw {
                Some(session) => session.copy_begin(&sql),
                None => Err("COPY FROM stdin is PostgreSQL's; this database is not".to_owned()),
            },
            StatementKind::CopyData(data) => match &mut raw {
                Some(session) => session.copy_send(data),
                None => continue,
            },
            StatementKind::CopyEnd => match &mut raw {
                Some(session) => session.copy_finish().map(|_| ()),
                None => continue,
            },
        };
        if let Err(message) = result {
            failure = Some((line, message));
            break;
        }
        stats.statements += 1;
        if stats.statements % 256 == 0 {
            bar.set_message(format!("{} statements", stats.statements));
            bar.tick();
        }
    }
    bar.finish_and_clear();
    if let Some((line, message)) = failure {
        let state = if transactional {
            let _ = exec(&mut raw, conn, "ROLLBACK");
            "nothing was restored (rolled back)".to_owned()
        } else {
            format!(
                "the {} statement(s) before it were applied",
                stats.statements
            )
        };
        return Err(Error::Export(format!(
            "{}:{line}: {message}; {state}",
            options.source
        )));
    }
    if transactional {
        exec(&mut raw, conn, "COMMIT").map_err(|e| {
            Error::Export(format!("{}: committing the restore: {e}", options.source))
        })?;
    }
    Ok(stats)
}

/// `BEGIN`, `COMMIT` and friends: the restore is one transaction already.
fn is_transaction_control(sql: &str) -> bool {
    let upper = sql.trim().to_ascii_uppercase();
    let first = upper.split_whitespace().next().unwrap_or_default();
    matches!(first, "BEGIN" | "COMMIT" | "END" | "ROLLBACK")
        || upper.starts_with("START TRANSACTION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_recognised() {
        assert!(is_transaction_control("BEGIN TRANSACTION"));
        assert!(is_transaction_control("commit"));
        assert!(!is_transaction_control("BEGINNING"));
    }
}
