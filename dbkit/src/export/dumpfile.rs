//! A dump file as restore reads it: which dumper wrote it (from its first lines) and
//! whether it is complete (from its last ones: ours and mysqldump/mariadb-dump, pg_dump
//! and sqlite3 `.dump` each end with a line only a finished dump writes), and the readers
//! that stream it — gzip recognised by its magic bytes, a progress bar over the file's
//! bytes, and the last few KiB kept for the completion check.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::backend::Backend;
use crate::dialect::{NativeDump, dialect_for};
use crate::error::{IoContext, Result};

/// The first line of every dump we write.
pub(crate) const HEADER: &str = "-- dbrev dump ";
/// The last line of every dump we write, written only once everything else is.
pub(crate) const TRAILER: &str = "-- dbrev dump completed";

/// How much of the end of the file is kept to find the completion line.
const TAIL: usize = 8 * 1024;
/// How much of the start is read to recognise the dumper.
const HEAD: usize = 8 * 1024;

/// Who wrote a dump, as its first lines say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DumpFormat {
    /// `cargo dbexport`.
    Ours,
    /// One of a backend's own dumpers (see [`Dialect::native_dumps`]).
    Native(&'static NativeDump),
    /// Anything else: plain SQL with no completion line to check.
    Unknown,
}

impl DumpFormat {
    /// Recognises the dumper from the start of the (decompressed) file.
    pub(crate) fn sniff(head: &[u8]) -> DumpFormat {
        let text = String::from_utf8_lossy(&head[..head.len().min(HEAD)]);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(8)
            .collect();
        if lines.first().is_some_and(|l| l.starts_with(HEADER)) {
            return DumpFormat::Ours;
        }
        Backend::ALL
            .iter()
            .flat_map(|&b| dialect_for(b).native_dumps())
            .find(|dump| dump.opens(&lines))
            .map_or(DumpFormat::Unknown, DumpFormat::Native)
    }

    /// Who wrote it, for messages.
    pub(crate) fn writer(self) -> &'static str {
        match self {
            DumpFormat::Ours => "cargo dbexport",
            DumpFormat::Native(dump) => dump.writer,
            DumpFormat::Unknown => "an unknown program",
        }
    }

    /// The line a finished dump of this kind ends with (`None`: nothing to check).
    pub(crate) fn completion_line(self) -> Option<&'static str> {
        match self {
            DumpFormat::Ours => Some(TRAILER),
            DumpFormat::Native(dump) => Some(dump.completion),
            DumpFormat::Unknown => None,
        }
    }

    /// Whether the end of the file (`tail`) has this dumper's completion line as its last
    /// line — for pg_dump, followed only by `--` lines and psql's `\unrestrict`.
    pub(crate) fn is_complete(self, tail: &[u8]) -> bool {
        if self == DumpFormat::Unknown {
            return true;
        }
        let text = String::from_utf8_lossy(tail);
        let last = text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && *l != "--" && !l.starts_with("\\unrestrict "));
        match (self, last) {
            (DumpFormat::Native(dump), Some(last)) => dump.ends(last),
            (_, last) => last.is_some_and(|l| l.starts_with(TRAILER)),
        }
    }
}

/// A reader that moves a progress bar by the bytes read from the file.
struct Progress<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// A reader that keeps the last [`TAIL`] bytes it has passed on.
pub(crate) struct Tail<R> {
    inner: R,
    kept: Vec<u8>,
}

impl<R> Tail<R> {
    /// The last bytes read so far.
    pub(crate) fn tail(&self) -> &[u8] {
        &self.kept
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let fresh = &buf[n.saturating_sub(TAIL)..n];
        let overflow = (self.kept.len() + fresh.len()).saturating_sub(TAIL);
        self.kept.drain(..overflow.min(self.kept.len()));
        self.kept.extend_from_slice(fresh);
        Ok(n)
    }
}

/// The decompressed text of a dump file, streamed.
pub(crate) type DumpReader = BufReader<Tail<Box<dyn Read>>>;

/// Opens a dump for reading: its format (from the first KiB) and a buffered reader over
/// its (decompressed) text that moves `bar` by the file's bytes and keeps its tail.
pub(crate) fn open(path: &Path, bar: &indicatif::ProgressBar) -> Result<(DumpFormat, DumpReader)> {
    let file = std::fs::File::open(path).at(path)?;
    open_reader(Box::new(file), bar).at(path)
}

/// [`open`] over any reader (a dump streamed from another database).
pub(crate) fn open_reader(
    source: Box<dyn Read + Send>,
    bar: &indicatif::ProgressBar,
) -> std::io::Result<(DumpFormat, DumpReader)> {
    let mut raw = BufReader::with_capacity(
        1 << 20,
        Progress {
            inner: source,
            bar: bar.clone(),
        },
    );
    let gz = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut text: Box<dyn Read> = if gz {
        Box::new(flate2::bufread::MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut head = Vec::with_capacity(HEAD);
    (&mut text).take(HEAD as u64).read_to_end(&mut head)?;
    let format = DumpFormat::sniff(&head);
    let stream: Box<dyn Read> = Box::new(std::io::Cursor::new(head).chain(text));
    Ok((
        format,
        BufReader::with_capacity(
            1 << 20,
            Tail {
                inner: stream,
                kept: Vec::new(),
            },
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumpers_are_recognised_by_their_first_lines() {
        let sniff = |text: &str| DumpFormat::sniff(text.as_bytes()).writer();
        assert_eq!(
            sniff("-- dbrev dump 0.1.0\n-- source: x\n"),
            "cargo dbexport"
        );
        assert_eq!(
            sniff("/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib\n"),
            "mysqldump/mariadb-dump"
        );
        assert_eq!(sniff("-- MySQL dump 10.13\n"), "mysqldump/mariadb-dump");
        assert_eq!(sniff("--\n-- PostgreSQL database dump\n--\n"), "pg_dump");
        assert_eq!(
            sniff("--\n-- PostgreSQL database cluster dump\n--\n"),
            "pg_dumpall"
        );
        assert_eq!(
            sniff("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(x);\n"),
            "sqlite3 .dump"
        );
        assert_eq!(
            sniff("BEGIN TRANSACTION;\nPRAGMA foreign_keys=OFF;\n"),
            "an unknown program"
        );
        assert_eq!(sniff("CREATE TABLE t (x int);\n"), "an unknown program");
    }

    #[test]
    fn completion_lines_are_found_at_the_end_only() {
        let format = |first_lines: &str| DumpFormat::sniff(first_lines.as_bytes());
        let ours = DumpFormat::Ours;
        assert!(ours.is_complete(b"SET x;\n\n-- dbrev dump completed 2026-01-01 00:00:00 UTC\n"));
        assert!(!ours.is_complete(b"-- dbrev dump completed x\nINSERT INTO t VALUES (1);\n"));
        assert!(!ours.is_complete(b"INSERT INTO t VALUES (1);\n"));
        let mysqldump = format("-- MySQL dump 10.13\n");
        assert!(mysqldump.is_complete(b"x;\n\n-- Dump completed on 2026-11-25\n"));
        assert!(!mysqldump.is_complete(b"x;\n"));
        let pg_dump = format("-- PostgreSQL database dump\n");
        assert!(pg_dump.is_complete(
            b"x;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n"
        ));
        assert!(!pg_dump.is_complete(b"--\n-- PostgreSQL database dump\n--\n"));
        let sqlite3 = format("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n");
        assert!(sqlite3.is_complete(b"INSERT INTO t VALUES(1);\nCOMMIT;\n"));
        assert!(!sqlite3.is_complete(b"INSERT INTO t VALUES(1);\nROLLBACK; -- due to errors\n"));
        assert!(!sqlite3.is_complete(b"INSERT INTO t VALUES(1);\nCOMMIT; -- more\n"));
        assert!(DumpFormat::Unknown.is_complete(b""));
    }

    #[test]
    fn the_tail_keeps_the_last_bytes() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let mut tail = Tail {
            inner: &data[..],
            kept: Vec::new(),
        };
        let mut sink = Vec::new();
        let mut buf = [0u8; 3000];
        loop {
            let n = tail.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&buf[..n]);
        }
        assert_eq!(tail.tail(), &data[data.len() - TAIL..]);
    }
}
