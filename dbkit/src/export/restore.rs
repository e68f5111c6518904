//! Restore: streams a dump (ours, or the plain output of mysqldump/mariadb-dump, pg_dump or
//! sqlite3 `.dump`, gzip-compressed or not) into the connected database, statement by
//! statement, in one transaction where the backend can roll DDL back.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::backend::Backend;
use crate::db::Connection;
use crate::error::{Error, IoContext, Result};
use crate::statements::{StatementKind, StatementReader};
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
    let fail = |line: usize, message: String, conn: &mut Connection, done: u64| {
        let state = if transactional {
            let _ = conn.batch_execute("ROLLBACK");
            "nothing was restored (rolled back)".to_owned()
        } else {
            format!("the {done} statement(s) before it were applied")
        };
        Error::Export(format!("{}:{line}: {message}; {state}", options.source))
    };
    if transactional {
        conn.batch_execute(conn.dialect().begin_transaction())
            .map_err(|e| Error::Export(format!("starting the restore: {e}")))?;
    }
    let bar = if reporter.wants_progress() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut stats = RestoreStats::default();
    for statement in StatementReader::new(reader, backend) {
        let statement = match statement {
            Ok(s) => s,
            Err(e) => {
                let line = match &e {
                    crate::statements::SplitError::Unterminated { line, .. }
                    | crate::statements::SplitError::Encoding { line } => *line,
                    crate::statements::SplitError::Io(_) => 0,
                };
                return Err(fail(line, e.to_string(), conn, stats.statements));
            }
        };
        let sqls: Vec<String> = match &statement.kind {
            StatementKind::PsqlMeta => continue,
            StatementKind::Sql if transactional && is_transaction_control(&statement.sql) => {
                continue;
            }
            StatementKind::Sql => vec![statement.sql.clone()],
            StatementKind::CopyFromStdin { data } => copy_to_inserts(&statement.sql, data)
                .map_err(|m| fail(statement.line, m, conn, stats.statements))?,
        };
        for sql in sqls {
            if let Err(e) = conn.batch_execute(&sql) {
                let message = e
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                return Err(fail(statement.line, message, conn, stats.statements));
            }
        }
        stats.statements += 1;
        if stats.statements % 256 == 0 {
            bar.set_message(format!("{} statements", stats.statements));
            bar.tick();
        }
    }
    if transactional {
        conn.batch_execute("COMMIT").map_err(|e| {
            Error::Export(format!("{}: committing the restore: {e}", options.source))
        })?;
    }
    bar.finish_and_clear();
    if backend == Backend::Sqlite {
        // A dump may have turned foreign keys off for loading; keep the connection as it was.
        let _ = conn.batch_execute("PRAGMA foreign_keys = OFF");
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

/// pg_dump's `COPY t (a, b) FROM stdin` rows → multi-row INSERTs of string literals
/// (PostgreSQL casts each to its column's type, as COPY would).
fn copy_to_inserts(copy: &str, data: &[u8]) -> std::result::Result<Vec<String>, String> {
    let head = copy.trim();
    let lower = head.to_ascii_lowercase();
    let from = lower
        .rfind(" from stdin")
        .ok_or("COPY without FROM stdin")?;
    let target = head[4..from].trim();
    let mut out = Vec::new();
    let mut values = String::new();
    for row in data.split(|&b| b == b'\n').filter(|r| !r.is_empty()) {
        let fields: Vec<String> = row
            .split(|&b| b == b'\t')
            .map(|f| {
                if f == b"\\N" {
                    Ok("NULL".to_owned())
                } else {
                    let text = unescape_copy(f);
                    String::from_utf8(text)
                        .map(|t| format!("'{}'", t.replace('\'', "''")))
                        .map_err(|_| "COPY data is not UTF-8".to_owned())
                }
            })
            .collect::<std::result::Result<_, _>>()?;
        if !values.is_empty() {
            values.push_str(",\n");
        }
        values.push('(');
        values.push_str(&fields.join(", "));
        values.push(')');
        if values.len() > 1 << 20 {
            out.push(format!(
                "INSERT INTO {target} OVERRIDING SYSTEM VALUE VALUES\n{values}"
            ));
            values.clear();
        }
    }
    if !values.is_empty() {
        out.push(format!(
            "INSERT INTO {target} OVERRIDING SYSTEM VALUE VALUES\n{values}"
        ));
    }
    Ok(out)
}

/// COPY text format escapes: `\t \n \r \b \f \v \\`, octal `\123`, hex `\x7F`.
fn unescape_copy(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] != b'\\' || i + 1 >= field.len() {
            out.push(field[i]);
            i += 1;
            continue;
        }
        let c = field[i + 1];
        i += 2;
        match c {
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    value = value * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((value & 0xff) as u8);
            }
            b'x' if i < field.len() && field[i].is_ascii_hexdigit() => {
                let mut value = 0u32;
                let mut n = 0;
                while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    value = value * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_become_inserts() {
        let sql = copy_to_inserts(
            "COPY public.t (a, b) FROM stdin",
            b"1\tit's\n2\t\\N\n3\ta\\tb\\\\x\n",
        )
        .unwrap();
        assert_eq!(
            sql,
            [
                "INSERT INTO public.t (a, b) OVERRIDING SYSTEM VALUE VALUES\n('1', 'it''s'),\n('2', NULL),\n('3', 'a\tb\\x')"
            ]
        );
    }

    #[test]
    fn transaction_control_is_recognised() {
        assert!(is_transaction_control("BEGIN TRANSACTION"));
        assert!(is_transaction_control("commit"));
        assert!(!is_transaction_control("BEGINNING"));
    }
}
