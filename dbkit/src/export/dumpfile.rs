//! A dump file as restore reads it: which dumper wrote it (from its first lines) and
//! whether it is complete (from its last ones: ours and mysqldump/mariadb-dump, pg_dump
//! and sqlite3 `.dump` each end with a line only a finished dump writes), and the readers
//! that stream it — gzip recognised by its magic bytes, a progress bar over the file's
//! bytes, and the last few KiB kept for the completion check.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

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
    /// mysqldump or mariadb-dump.
    Mysqldump,
    /// pg_dump's plain format.
    PgDump,
    /// pg_dumpall.
    PgDumpAll,
    /// sqlite3's `.dump`.
    Sqlite3,
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
        if lines
            .iter()
            .any(|l| l.starts_with("-- MySQL dump ") || l.starts_with("-- MariaDB dump "))
        {
            return DumpFormat::Mysqldump;
        }
        if lines.contains(&"-- PostgreSQL database cluster dump") {
            return DumpFormat::PgDumpAll;
        }
        if lines.contains(&"-- PostgreSQL database dump") {
            return DumpFormat::PgDump;
        }
        if lines.first() == Some(&"PRAGMA foreign_keys=OFF;")
            && lines.get(1) == Some(&"BEGIN TRANSACTION;")
        {
            return DumpFormat::Sqlite3;
        }
        DumpFormat::Unknown
    }

    /// Who wrote it, for messages.
    pub(crate) fn writer(self) -> &'static str {
        match self {
            DumpFormat::Ours => "cargo dbexport",
            DumpFormat::Mysqldump => "mysqldump/mariadb-dump",
            DumpFormat::PgDump => "pg_dump",
            DumpFormat::PgDumpAll => "pg_dumpall",
            DumpFormat::Sqlite3 => "sqlite3 .dump",
            DumpFormat::Unknown => "an unknown program",
        }
    }

    /// The line a finished dump of this kind ends with (`None`: nothing to check).
    pub(crate) fn completion_line(self) -> Option<&'static str> {
        match self {
            DumpFormat::Ours => Some(TRAILER),
            DumpFormat::Mysqldump => Some("-- Dump completed"),
            DumpFormat::PgDump => Some("-- PostgreSQL database dump complete"),
            DumpFormat::PgDumpAll => Some("-- PostgreSQL database cluster dump complete"),
            DumpFormat::Sqlite3 => Some("COMMIT;"),
            DumpFormat::Unknown => None,
        }
    }

    /// Whether the end of the file (`tail`) has this dumper's completion line as its last
    /// line — for pg_dump, followed only by `--` lines and psql's `\unrestrict`.
    pub(crate) fn is_complete(self, tail: &[u8]) -> bool {
        let Some(marker) = self.completion_line() else {
            return true;
        };
        let text = String::from_utf8_lossy(tail);
        let last = text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && *l != "--" && !l.starts_with("\\unrestrict "));
        match self {
            DumpFormat::Sqlite3 => last == Some(marker),
            _ => last.is_some_and(|l| l.starts_with(marker)),
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
        let sniff = |text: &str| DumpFormat::sniff(text.as_bytes());
        assert_eq!(
            sniff("-- dbrev dump 0.1.0\n-- source: x\n"),
            DumpFormat::Ours
        );
        assert_eq!(
            sniff("/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib\n"),
            DumpFormat::Mysqldump
        );
        assert_eq!(sniff("-- MySQL dump 10.13\n"), DumpFormat::Mysqldump);
        assert_eq!(
            sniff("--\n-- PostgreSQL database dump\n--\n"),
            DumpFormat::PgDump
        );
        assert_eq!(
            sniff("--\n-- PostgreSQL database cluster dump\n--\n"),
            DumpFormat::PgDumpAll
        );
        assert_eq!(
            sniff("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(x);\n"),
            DumpFormat::Sqlite3
        );
        assert_eq!(sniff("CREATE TABLE t (x int);\n"), DumpFormat::Unknown);
    }

    #[test]
    fn completion_lines_are_found_at_the_end_only() {
        let ours = DumpFormat::Ours;
        assert!(ours.is_complete(b"SET x;\n\n-- dbrev dump completed 2026-01-01 00:00:00 UTC\n"));
        assert!(!ours.is_complete(b"-- dbrev dump completed x\nINSERT INTO t VALUES (1);\n"));
        assert!(!ours.is_complete(b"INSERT INTO t VALUES (1);\n"));
        assert!(DumpFormat::Mysqldump.is_complete(b"x;\n\n-- Dump completed on 2026-11-25\n"));
        assert!(DumpFormat::PgDump.is_complete(
            b"x;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n"
        ));
        assert!(!DumpFormat::PgDump.is_complete(b"--\n-- PostgreSQL database dump\n--\n"));
        assert!(DumpFormat::Sqlite3.is_complete(b"INSERT INTO t VALUES(1);\nCOMMIT;\n"));
        assert!(
            !DumpFormat::Sqlite3
                .is_complete(b"INSERT INTO t VALUES(1);\nROLLBACK; -- due to errors\n")
        );
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
