//! A large table's rows read on two more sessions at once, in the dump's snapshot: the
//! table cut into ranges of pages (`ctid` ranges, which PostgreSQL 14 and later scan
//! directly), each session reading every other range, and the ranges written in order.
//! The server formats the rows of a `COPY`, so a dump of a large table is bound by one
//! server process; two share that work. Memory stays bounded: a session reads at most
//! [`BUFFERS_AHEAD`] buffers ahead of the writer, then waits (and so does its server).
//!
//! The sessions join the dump's snapshot (`pg_export_snapshot`, `SET TRANSACTION
//! SNAPSHOT`), so they see exactly the rows the dump's own session would; the ranges
//! cover every page (the last one is open-ended), so every row is read once. Where the
//! server cannot share a snapshot (before 14, a standby) or a session cannot connect, the
//! rows are read on the dump's own session as before.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::SESSION;
use crate::error::{DriverError, Error, Result};
use crate::export::query_error;
use crate::export::session::{RawPostgres, StreamStop};
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// Pages per range (2 MB of table).
const RANGE_PAGES: u64 = 256;
/// Sessions that read ranges besides the dump's own.
const READERS: usize = 2;
/// Bytes of rows a reader hands over at once.
const BUFFER_BYTES: usize = 256 * 1024;
/// Buffers a reader may hold before the writer has taken them.
const BUFFERS_AHEAD: usize = 16;

/// What a large table's rows are read as, range by range.
#[derive(Debug, Clone)]
pub(crate) struct PageRanges {
    /// `SELECT columns FROM ONLY table`, the rows `COPY table (columns)` reads.
    pub select: String,
    /// The table's size in pages as VACUUM, ANALYZE or CREATE INDEX last counted it
    /// (`relpages`): ranges past it are read as one.
    pub pages: u64,
}

impl PageRanges {
    /// Whether the table is large enough to be read in ranges.
    pub(super) fn worth_it(&self) -> bool {
        self.pages >= 2 * RANGE_PAGES
    }

    /// One `COPY` per range of [`RANGE_PAGES`] pages; the last takes every page after.
    fn statements(&self) -> Vec<String> {
        let count = self.pages.div_ceil(RANGE_PAGES).max(1);
        (0..count)
            .map(|k| {
                let from = k * RANGE_PAGES;
                let to = if k + 1 == count {
                    String::new()
                } else {
                    format!(" AND ctid < '({},0)'::tid", from + RANGE_PAGES)
                };
                format!(
                    "COPY ({} WHERE ctid >= '({from},0)'::tid{to}) TO STDOUT",
                    self.select
                )
            })
            .collect()
    }
}

/// The dump's session that reads the rows, and the sessions that share its snapshot once a
/// table is large enough to need them.
pub(crate) struct PostgresRows {
    /// The session that read the catalog and holds the snapshot.
    pub session: RawPostgres,
    url: DatabaseUrl,
    readers: Readers,
}

enum Readers {
    /// No table needed them yet.
    NotOpened,
    Open(Vec<RawPostgres>),
    /// The server cannot share the snapshot, or a session could not join it.
    Unavailable,
}

/// One piece of a range's rows, from a reader to the writer.
enum Piece {
    Rows(Vec<u8>),
    /// The range is complete.
    End,
    Failed(DriverError),
}

/// Whether the server can share a snapshot with sessions that join it.
const CAN_SHARE: &str = "SELECT (current_setting('server_version_num')::int >= 140000 AND NOT pg_is_in_recovery())::text AS value";
const EXPORT: &str = "SELECT pg_export_snapshot() AS value";

impl PostgresRows {
    /// Rows read on `session`, whose URL is `url`.
    pub(super) fn new(session: RawPostgres, url: DatabaseUrl) -> PostgresRows {
        PostgresRows {
            session,
            url,
            readers: Readers::NotOpened,
        }
    }

    /// Reads `ranges` (the rows of `what`) on the readers, handing the rows to `write` in
    /// the table's order; `Ok(false)` when there are no readers (the caller reads on its
    /// own session).
    pub(super) fn copy_ranges(
        &mut self,
        ranges: &PageRanges,
        what: &str,
        reporter: &Reporter,
        write: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<bool> {
        if let Readers::NotOpened = self.readers {
            self.readers = self.open_readers(reporter)?;
        }
        let Readers::Open(readers) = &mut self.readers else {
            return Ok(false);
        };
        read_in_order(readers, &ranges.statements(), write).map_err(|stop| match stop {
            Some(stop) => stop.dumping(&format!("rows of {what}")),
            None => Error::Export(format!(
                "dumping (rows of {what}): a session reading a range of its rows stopped"
            )),
        })?;
        Ok(true)
    }

    /// Exports the snapshot and opens the readers in it; a reader that cannot connect or
    /// join is a warning, and the rows are read on the dump's own session.
    fn open_readers(&mut self, reporter: &Reporter) -> Result<Readers> {
        let stop = |e: super::Failure| query_error("sharing the dump's snapshot", e);
        if self.value(CAN_SHARE).map_err(stop)? != "true" {
            return Ok(Readers::Unavailable);
        }
        // The dump's session waits in its transaction while the readers work.
        self.session
            .batch_execute("SET idle_in_transaction_session_timeout = 0")
            .map_err(stop)?;
        let snapshot = self.value(EXPORT).map_err(stop)?;
        let join = format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'; {SESSION}",
            snapshot.replace('\'', "''")
        );
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let joined = RawPostgres::connect(&self.url).and_then(|mut reader| {
                reader
                    .batch_execute(&join)
                    .map_err(|e| Error::Export(e.message))?;
                Ok(reader)
            });
            match joined {
                Ok(reader) => readers.push(reader),
                Err(e) => {
                    reporter.warn(format!(
                        "large tables' rows are read on one session: another could not join the dump's snapshot ({e})"
                    ));
                    return Ok(Readers::Unavailable);
                }
            }
        }
        Ok(Readers::Open(readers))
    }

    /// The one text value a query on the dump's session returns.
    fn value(&mut self, sql: &'static str) -> std::result::Result<String, super::Failure> {
        let rows = self.session.prepared_rows(sql)?;
        Ok(rows
            .first()
            .and_then(|r| r.try_get::<_, Option<String>>(0).ok().flatten())
            .unwrap_or_default())
    }
}

/// Range `k` is read by reader `k % readers.len()`, each reader running ahead of the
/// writer by at most [`BUFFERS_AHEAD`] buffers; the writer takes the ranges in order.
/// `Err(None)`: a reader stopped without saying why.
fn read_in_order(
    readers: &mut [RawPostgres],
    statements: &[String],
    mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::result::Result<(), Option<StreamStop>> {
    let count = readers.len();
    std::thread::scope(|scope| {
        let pieces: Vec<Receiver<Piece>> = readers
            .iter_mut()
            .enumerate()
            .map(|(i, reader)| {
                let (send, receive) = sync_channel(BUFFERS_AHEAD);
                let own: Vec<&String> = statements.iter().skip(i).step_by(count).collect();
                scope.spawn(move || read_ranges(reader, &own, &send));
                receive
            })
            .collect();
        for k in 0..statements.len() {
            loop {
                match pieces[k % count].recv() {
                    Ok(Piece::Rows(rows)) => {
                        write(&rows).map_err(|e| Some(StreamStop::Write(e)))?
                    }
                    Ok(Piece::End) => break,
                    Ok(Piece::Failed(e)) => return Err(Some(StreamStop::Driver(e))),
                    Err(_) => return Err(None),
                }
            }
        }
        Ok(())
    })
}

/// One reader: its ranges in order, each as buffers then [`Piece::End`]; it stops when
/// the writer has gone (an error, or the dump stopped).
fn read_ranges(reader: &mut RawPostgres, statements: &[&String], send: &SyncSender<Piece>) {
    let gone = || std::io::Error::other("the dump's writer stopped");
    for sql in statements {
        let mut buffer = Vec::with_capacity(BUFFER_BYTES);
        let read = reader.copy_out(sql, |row| {
            buffer.extend_from_slice(row);
            if buffer.len() >= BUFFER_BYTES {
                let full = std::mem::replace(&mut buffer, Vec::with_capacity(BUFFER_BYTES));
                send.send(Piece::Rows(full)).map_err(|_| gone())?;
            }
            Ok(())
        });
        let last = match read {
            Ok(()) => send
                .send(Piece::Rows(buffer))
                .and_then(|()| send.send(Piece::End)),
            Err(StreamStop::Driver(e)) => send.send(Piece::Failed(e)),
            Err(StreamStop::Write(_)) => return,
        };
        if last.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_page_and_the_last_is_open_ended() {
        let ranges = PageRanges {
            select: "SELECT a FROM ONLY t".into(),
            pages: 600,
        };
        assert!(ranges.worth_it());
        let statements = ranges.statements();
        assert_eq!(
            statements,
            [
                "COPY (SELECT a FROM ONLY t WHERE ctid >= '(0,0)'::tid AND ctid < '(256,0)'::tid) TO STDOUT",
                "COPY (SELECT a FROM ONLY t WHERE ctid >= '(256,0)'::tid AND ctid < '(512,0)'::tid) TO STDOUT",
                "COPY (SELECT a FROM ONLY t WHERE ctid >= '(512,0)'::tid) TO STDOUT",
            ]
        );
        let small = PageRanges {
            select: String::new(),
            pages: 511,
        };
        assert!(!small.worth_it());
    }
}
