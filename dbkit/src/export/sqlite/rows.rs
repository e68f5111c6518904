//! SQLite's rows as SQL literals, formatted here from the values SQLite hands over (no SQL
//! `quote()` and string concatenation per row): integers with `itoa`, reals as 17
//! significant digits where SQLite reads those back exactly and as a significand scaled by
//! powers of two elsewhere, infinities as `9e999`, text
//! quoted with its quotes doubled, blobs as `X'…'` through a table of hex pairs. Text that
//! holds a NUL or is not UTF-8 is written as `CAST(X'…' AS TEXT)`, so every byte comes
//! back. Each row is one buffer; the rows of a table go out as multi-row `INSERT`s of at
//! most `max_bytes` and [`MAX_ROWS`] rows, straight into the dump's (buffered) writer.

use diesel::QueryableByName;
use diesel::connection::DefaultLoadingMode;
use diesel::row::{Field, NamedRow, Row};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

use std::io::Write;
use std::time::Instant;

use super::super::{CountingWriter, DataTable, query_error, table_progress, tick};
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::term::Reporter;

/// The most rows one `INSERT` carries: past a few hundred rows a bigger statement buys
/// the `sqlite3` shell nothing (it parses and plans each one whole).
const MAX_ROWS: usize = 1000;

/// One row as the SQL tuple a dump writes: `(1,'a',NULL)`.
struct Tuple(Vec<u8>);

impl QueryableByName<Sqlite> for Tuple {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> diesel::deserialize::Result<Self> {
        let mut out = Vec::with_capacity(32 * row.field_count());
        out.push(b'(');
        for i in 0..row.field_count() {
            if i > 0 {
                out.push(b',');
            }
            let field = Row::get(row, i).ok_or("a row ended before its last column")?;
            match field.value() {
                None => out.extend_from_slice(b"NULL"),
                Some(value) => push_value(&mut out, value),
            }
        }
        out.push(b')');
        Ok(Tuple(out))
    }
}

/// Appends one non-NULL value as a literal that reads back identically.
fn push_value(out: &mut Vec<u8>, mut value: SqliteValue<'_, '_, '_>) {
    match value.value_type() {
        Some(SqliteType::Double) => push_real(out, value.read_double()),
        Some(SqliteType::Binary) => push_blob(out, value.read_blob()),
        Some(SqliteType::Text) => {
            // `read_text` has checked the UTF-8 and replaced what is not (with U+FFFD, whose
            // first byte is 0xEF): where it may have, the bytes are read as they are.
            let text = value.read_text().as_bytes();
            if memchr::memchr(0xEF, text).is_some() {
                let bytes = value.read_blob().to_vec();
                push_text(out, &bytes, std::str::from_utf8(&bytes).is_ok());
            } else {
                push_text(out, text, true);
            }
        }
        // Integers (and anything SQLite adds later) as the integer they read as.
        _ => out.extend_from_slice(itoa::Buffer::new().format(value.read_long()).as_bytes()),
    }
}

/// Where SQLite's parsers (the `sqlite3` shell's long double one, and the double-double one
/// of SQLite 3.47 on) read 17 significant digits back as the same double. Outside it a
/// decimal text comes back one unit in the last place off for about one value in six
/// (SQLite 3.50), and the shortest text that would round-trip in a correct parser is not
/// safe even inside it (the 3.40 shell misreads about one in ten thousand).
const EXACT_TEXT: std::ops::Range<f64> = 1e-30..1e30;

/// A real that reads back as the same double: an integer below 2^53 as `n.0`; within
/// [`EXACT_TEXT`] 17 significant digits; else its binary significand scaled by powers of
/// two (each step exact); infinities as the overflowing literals SQLite reads as them
/// (`NaN` is stored as NULL, never seen here).
fn push_real(out: &mut Vec<u8>, real: f64) {
    const INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53
    if !real.is_finite() {
        out.extend_from_slice(if real > 0.0 { b"9e999" } else { b"-9e999" });
    } else if real == 0.0 {
        out.extend_from_slice(if real.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
    } else if real.fract() == 0.0 && real.abs() < INTEGERS {
        out.extend_from_slice(itoa::Buffer::new().format(real as i64).as_bytes());
        out.extend_from_slice(b".0");
    } else if EXACT_TEXT.contains(&real.abs()) {
        // `write!` into a Vec cannot fail.
        let _ = write!(out, "{real:.16e}");
    } else {
        push_scaled_real(out, real);
    }
}

/// `CAST(m AS REAL)*2^k…` or `/2^k…`: `real` as `m × 2^e` with `m` odd, the powers of two
/// as integer literals (at most 2^62 each); every product or quotient is exact.
fn push_scaled_real(out: &mut Vec<u8>, real: f64) {
    let bits = real.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += zeros as i32;
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"CAST(");
    if real < 0.0 {
        out.push(b'-');
    }
    out.extend_from_slice(digits.format(m).as_bytes());
    out.extend_from_slice(b" AS REAL)");
    let op = if e > 0 { b'*' } else { b'/' };
    let mut left = e.unsigned_abs();
    while left > 0 {
        let step = left.min(62);
        out.push(op);
        out.extend_from_slice(digits.format(1u64 << step).as_bytes());
        left -= step;
    }
}

/// Text between single quotes, quotes doubled; with a NUL (which would end the statement
/// for SQLite's tokenizer) or bytes that are not UTF-8, as `CAST(X'…' AS TEXT)`.
fn push_text(out: &mut Vec<u8>, text: &[u8], utf8: bool) {
    if !utf8 || memchr::memchr(0, text).is_some() {
        out.extend_from_slice(b"CAST(");
        push_blob(out, text);
        out.extend_from_slice(b" AS TEXT)");
        return;
    }
    out.push(b'\'');
    let mut rest = text;
    while let Some(quote) = memchr::memchr(b'\'', rest) {
        out.extend_from_slice(&rest[..=quote]);
        out.push(b'\'');
        rest = &rest[quote + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'\'');
}

/// Two hex digits per byte, by table.
const HEX: &[u8; 512] = &{
    let digits = b"0123456789ABCDEF";
    let mut table = [0u8; 512];
    let mut i = 0;
    while i < 256 {
        table[2 * i] = digits[i >> 4];
        table[2 * i + 1] = digits[i & 15];
        i += 1;
    }
    table
};

/// A blob as `X'…'`.
fn push_blob(out: &mut Vec<u8>, blob: &[u8]) {
    out.reserve(blob.len() * 2 + 3);
    out.extend_from_slice(b"X'");
    for &b in blob {
        let at = 2 * usize::from(b);
        out.extend_from_slice(&HEX[at..at + 2]);
    }
    out.push(b'\'');
}

/// Runs `select` and hands each row, as its tuple, to `each` (which may stop with an
/// I/O error, reported as a failed write).
fn for_each_tuple(
    conn: &mut Connection,
    select: &str,
    what: &str,
    mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let query_failed = |e| query_error(&format!("rows of {what}"), e);
    let Some(sqlite) = conn.sqlite() else {
        return Err(Error::Export(format!("no reader for the rows of {what}")));
    };
    let rows = diesel::RunQueryDsl::load_iter::<Tuple, DefaultLoadingMode>(
        diesel::sql_query(select),
        sqlite,
    )
    .map_err(query_failed)?;
    for row in rows {
        let Tuple(tuple) = row.map_err(query_failed)?;
        each(&tuple).map_err(|e| Error::write("writing the dump", e))?;
    }
    Ok(())
}

/// Writes the rows of `select` as multi-row `INSERT`s of at most `max_bytes` (and
/// [`MAX_ROWS`] rows); returns how many rows.
pub(in crate::export) fn insert_rows(
    conn: &mut Connection,
    w: &mut CountingWriter<'_>,
    table: &DataTable,
    select: &str,
    max_bytes: usize,
    reporter: &Reporter,
) -> Result<u64> {
    let bar = table_progress(reporter, &table.name);
    let started = Instant::now();
    let mut rows = 0u64;
    // Rows and bytes of the statement being written (straight into the dump's buffer).
    let (mut in_statement, mut bytes) = (0usize, 0usize);
    let insert = table.insert.as_bytes();
    for_each_tuple(conn, select, &table.name, |tuple| {
        if in_statement > 0 && (in_statement == MAX_ROWS || bytes + tuple.len() + 2 > max_bytes) {
            w.write_all(b";\n")?;
            in_statement = 0;
        }
        if in_statement == 0 {
            w.write_all(insert)?;
            w.write_all(b"\n")?;
            bytes = insert.len() + 1;
        } else {
            w.write_all(b",\n")?;
            bytes += 2;
        }
        w.write_all(tuple)?;
        bytes += tuple.len();
        in_statement += 1;
        rows += 1;
        tick(&bar, rows, w.bytes);
        Ok(())
    })?;
    if in_statement > 0 {
        w.write_all(b";\n")
            .map_err(|e| Error::write("writing the dump", e))?;
    }
    bar.finish_and_clear();
    reporter.detail(format!(
        "{}: {rows} rows in {} ms",
        table.name,
        started.elapsed().as_millis()
    ));
    Ok(rows)
}

/// Hands each row of `select`, as the tuple a dump writes, to `each`.
pub(in crate::export) fn each_row(
    conn: &mut Connection,
    select: &str,
    what: &str,
    mut each: impl FnMut(&[u8]),
) -> Result<()> {
    for_each_tuple(conn, select, what, |tuple| {
        each(tuple);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        push_text(&mut out, bytes, std::str::from_utf8(bytes).is_ok());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_quoted_and_odd_bytes_go_as_hex() {
        assert_eq!(text(b"it's"), "'it''s'");
        assert_eq!(text(b"''"), "''''''");
        assert_eq!(text("ü \\ \"q\"\n".as_bytes()), "'ü \\ \"q\"\n'");
        assert_eq!(text(b"a\0b"), "CAST(X'610062' AS TEXT)");
        assert_eq!(text(b"\xff"), "CAST(X'FF' AS TEXT)");
    }

    #[test]
    fn reals_read_back_as_the_same_double() {
        let tiny = format!(
            "CAST(1 AS REAL){}/1048576",
            "/4611686018427387904".repeat(17)
        );
        for (real, written) in [
            (0.1 + 0.2, "3.0000000000000004e-1"),
            (1.0 / 3.0, "3.3333333333333331e-1"),
            (-42.0, "-42.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (-1.5e-30, "-1.4999999999999999e-30"),
            (-1e30, "CAST(-3552713678800501 AS REAL)*281474976710656"),
            (f64::INFINITY, "9e999"),
            (5e-324, tiny.as_str()),
            (f64::NEG_INFINITY, "-9e999"),
        ] {
            let mut out = Vec::new();
            push_real(&mut out, real);
            assert_eq!(String::from_utf8(out).unwrap(), written);
        }
        let mut out = Vec::new();
        push_blob(&mut out, &[0, 0xab, 0xff]);
        assert_eq!(out, b"X'00ABFF'");
    }
}
