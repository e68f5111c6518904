//! The dump workloads' data: one table of mixed rows (bigint, int with NULLs, varchar with
//! unicode, quotes and backslashes, text with newlines and tabs, float, double, decimal,
//! date, timestamp, blob, bool), a view, an index, a trigger and (where the backend has
//! them) a function and a procedure.

use dbkit::Backend;

/// The statements that build the data set with `rows` rows, one by one.
pub fn statements(backend: Backend, rows: u64) -> Vec<String> {
    match backend {
        Backend::Sqlite => sqlite(rows),
        Backend::Postgres => postgres(rows),
        Backend::Mysql => mysql(rows),
    }
}

fn sqlite(rows: u64) -> Vec<String> {
    vec![
        "CREATE TABLE mixed (id INTEGER PRIMARY KEY, big BIGINT NOT NULL, n INT, v VARCHAR(80), t TEXT, f FLOAT, d DOUBLE PRECISION, amount DECIMAL(12,2), day DATE, at TIMESTAMP, b BLOB, flag BOOLEAN)".into(),
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) \
             INSERT INTO mixed SELECT i, i * 9007199254741 - 4503599627370496, \
             CASE WHEN i % 10 = 0 THEN NULL ELSE i % 65536 - 32768 END, \
             'naïve café ' || i || ' o''brien \\ \"q\" ✓', \
             CASE WHEN i % 7 = 0 THEN 'line one' || char(10) || 'line two' || char(9) || 'tab ' || i ELSE 'plain text value number ' || i END, \
             i / 3.0, i * 1.1 / 7.0 + 1e6, round(i * 0.37, 2), \
             date('2000-01-01', '+' || (i % 9000) || ' days'), \
             datetime('2000-01-01 00:00:00', '+' || (i * 37) || ' seconds'), \
             randomblob(16), i % 2 FROM s"
        ),
        "CREATE INDEX mixed_day ON mixed (day)".into(),
        "CREATE VIEW mixed_recent AS SELECT id, v FROM mixed WHERE day > '2020-01-01'".into(),
        "CREATE TRIGGER mixed_guard BEFORE DELETE ON mixed BEGIN SELECT RAISE(ABORT, 'rows of mixed stay'); END".into(),
    ]
}

fn postgres(rows: u64) -> Vec<String> {
    vec![
        "CREATE TABLE mixed (id bigint PRIMARY KEY, big bigint NOT NULL, n integer, v varchar(80), t text, f real, d double precision, amount numeric(12,2), day date, at timestamp, b bytea, flag boolean)".into(),
        format!(
            "INSERT INTO mixed SELECT i, i * 9007199254741 - 4503599627370496, \
             CASE WHEN i % 10 = 0 THEN NULL ELSE i % 65536 - 32768 END, \
             'naïve café ' || i || ' o''brien \\ \"q\" ✓', \
             CASE WHEN i % 7 = 0 THEN E'line one\\nline two\\ttab ' || i ELSE 'plain text value number ' || i END, \
             i / 3.0, i * 1.1 / 7.0 + 1e6, round(i * 0.37, 2), \
             date '2000-01-01' + (i % 9000)::int, \
             timestamp '2000-01-01' + i * interval '37 seconds', \
             decode(md5(i::text), 'hex'), i % 2 = 0 FROM generate_series(1, {rows}) i"
        ),
        "CREATE INDEX mixed_day ON mixed (day)".into(),
        "CREATE VIEW mixed_recent AS SELECT id, v FROM mixed WHERE day > '2020-01-01'".into(),
        "CREATE FUNCTION mixed_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'rows of mixed stay'; END $$".into(),
        "CREATE TRIGGER mixed_guard BEFORE DELETE ON mixed FOR EACH ROW EXECUTE FUNCTION mixed_guard()".into(),
        "CREATE FUNCTION mixed_total() RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT sum(amount) FROM mixed $$".into(),
        "CREATE PROCEDURE mixed_touch(day_from date) LANGUAGE sql AS $$ UPDATE mixed SET flag = NOT flag WHERE day >= day_from $$".into(),
    ]
}

fn mysql(rows: u64) -> Vec<String> {
    vec![
        "CREATE TABLE mixed (id BIGINT PRIMARY KEY, big BIGINT NOT NULL, n INT, v VARCHAR(80), t TEXT, f FLOAT, d DOUBLE, amount DECIMAL(12,2), day DATE, at DATETIME, b VARBINARY(16), flag BOOLEAN) DEFAULT CHARSET utf8mb4".into(),
        format!(
            "INSERT INTO mixed SELECT seq, CAST(seq AS SIGNED) * 9007199254741 - 4503599627370496, \
             CASE WHEN seq % 10 = 0 THEN NULL ELSE CAST(seq % 65536 AS SIGNED) - 32768 END, \
             CONCAT('naïve café ', seq, ' o''brien \\\\ \"q\" ✓'), \
             CASE WHEN seq % 7 = 0 THEN CONCAT('line one', CHAR(10), 'line two', CHAR(9), 'tab ', seq) ELSE CONCAT('plain text value number ', seq) END, \
             seq / 3.0, seq * 1.1 / 7.0 + 1e6, ROUND(seq * 0.37, 2), \
             DATE_ADD('2000-01-01', INTERVAL seq % 9000 DAY), \
             DATE_ADD('2000-01-01 00:00:00', INTERVAL seq * 37 SECOND), \
             UNHEX(MD5(seq)), seq % 2 FROM seq_1_to_{rows}"
        ),
        "CREATE INDEX mixed_day ON mixed (day)".into(),
        "CREATE VIEW mixed_recent AS SELECT id, v FROM mixed WHERE day > '2020-01-01'".into(),
        "CREATE TRIGGER mixed_guard BEFORE DELETE ON mixed FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'rows of mixed stay'".into(),
        "CREATE FUNCTION mixed_half(x INT) RETURNS INT DETERMINISTIC RETURN x DIV 2".into(),
        "CREATE PROCEDURE mixed_touch(day_from DATE) UPDATE mixed SET flag = NOT flag WHERE day >= day_from".into(),
    ]
}
