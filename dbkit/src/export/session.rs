//! The plain driver sessions export and restore use beside diesel's connection: a
//! tokio-postgres session that speaks `COPY` in and out and reads rows as text, and a
//! mysql_async session that reads rows in the text protocol and keeps the server's error
//! codes. Both connect through [`crate::driver`] (the URL's TLS rules, the masked
//! connection error).

use std::fmt;

use tokio::runtime::Runtime;

use crate::driver::{connect_failed, connect_mysql, connect_postgres, postgres_reason, runtime};
use crate::error::{DriverError, Error, Result, one_line};
use crate::url::DatabaseUrl;

/// Why a streamed read ([`RawPostgres::copy_out`], [`RawMysql::for_each_row`]) stopped:
/// the driver failed, or the writer the rows went to did.
#[derive(Debug)]
pub(crate) enum StreamStop {
    /// The driver's error.
    Driver(DriverError),
    /// The writer's error (a full disk, a reader that went away).
    Write(std::io::Error),
}

impl StreamStop {
    /// The dump's error for reading `what` (`rows of t`), keeping the cause.
    pub(crate) fn dumping(self, what: &str) -> Error {
        match self {
            StreamStop::Driver(e) => Error::sql(format!("dumping ({what})"), e),
            StreamStop::Write(e) => Error::write("writing the dump", e),
        }
    }
}

/// A statement the server refused, as one line, with what a restore needs to name the
/// failing line and to react to particular errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The server's message (and PostgreSQL's detail), on one line.
    pub message: String,
    /// MySQL's error number.
    pub mysql_code: Option<u16>,
    /// PostgreSQL: the line of `COPY` data the error is about (1-based, within the block).
    pub copy_line: Option<u64>,
}

impl Failure {
    fn plain(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            mysql_code: None,
            copy_line: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// tokio-postgres' error as a [`Failure`]: message, detail and hint, and the COPY line from the
/// server's context (`COPY t, line 3`).
fn postgres_failure(e: &tokio_postgres::Error) -> Failure {
    let Some(db) = e.as_db_error() else {
        return Failure::plain(postgres_reason(e));
    };
    let mut message = db.message().to_owned();
    if let Some(detail) = db.detail() {
        message.push_str(" (");
        message.push_str(detail.trim_end_matches('.'));
        message.push(')');
    }
    if let Some(hint) = db.hint() {
        message.push_str(" (hint: ");
        message.push_str(hint.trim_end_matches('.'));
        message.push(')');
    }
    let copy_line = db
        .where_()
        .filter(|w| w.starts_with("COPY "))
        .and_then(|w| w.rsplit_once(", line "))
        .and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        });
    Failure {
        message: one_line(message),
        mysql_code: None,
        copy_line,
    }
}

/// A plain tokio-postgres session, for what diesel does not speak: `COPY` in and out
/// (dumps and restores at the speed of pg_dump and psql), and a dump's catalog reads in the
/// same snapshot as its rows.
pub(crate) struct RawPostgres {
    runtime: Runtime,
    client: tokio_postgres::Client,
    copy: Option<std::pin::Pin<Box<tokio_postgres::CopyInSink<bytes::Bytes>>>>,
    /// Catalog queries prepared on this session, planned once however often they run.
    prepared: std::collections::HashMap<&'static str, tokio_postgres::Statement>,
}

impl RawPostgres {
    /// Opens a session to a PostgreSQL URL (same TLS rules as [`crate::Connection`]).
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<RawPostgres> {
        let runtime = runtime().map_err(|e| connect_failed(url, e))?;
        let client = runtime.block_on(connect_postgres::<tokio_postgres::Client>(url))?;
        Ok(RawPostgres {
            runtime,
            client,
            copy: None,
            prepared: std::collections::HashMap::new(),
        })
    }

    /// Runs statements that return no rows.
    pub(crate) fn batch_execute(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        self.runtime
            .block_on(self.client.batch_execute(sql))
            .map_err(|e| postgres_failure(&e))
    }

    /// Runs a catalog query prepared once per session (the server plans it once, however
    /// often a snapshot reads it again) and returns its rows.
    pub(crate) fn prepared_rows(
        &mut self,
        sql: &'static str,
    ) -> std::result::Result<Vec<tokio_postgres::Row>, Failure> {
        self.prepared_rows_with(sql, &[])
    }

    /// [`RawPostgres::prepared_rows`] with parameters (`$1`…).
    pub(crate) fn prepared_rows_with(
        &mut self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Vec<tokio_postgres::Row>, Failure> {
        let statement = match self.prepared.get(sql) {
            Some(statement) => statement.clone(),
            None => {
                let statement = self
                    .runtime
                    .block_on(self.client.prepare(sql))
                    .map_err(|e| postgres_failure(&e))?;
                self.prepared.insert(sql, statement.clone());
                statement
            }
        };
        self.runtime
            .block_on(self.client.query(&statement, params))
            .map_err(|e| postgres_failure(&e))
    }

    /// Runs `COPY ... TO STDOUT` and hands each chunk of its output to `each`.
    pub(crate) fn copy_out(
        &mut self,
        sql: &str,
        mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::result::Result<(), StreamStop> {
        use futures_util::StreamExt;
        let driver = |e: tokio_postgres::Error| StreamStop::Driver(e.into());
        self.runtime.block_on(async {
            let stream = self.client.copy_out(sql).await.map_err(driver)?;
            let mut stream = std::pin::pin!(stream);
            while let Some(chunk) = stream.next().await {
                each(&chunk.map_err(driver)?).map_err(StreamStop::Write)?;
            }
            Ok(())
        })
    }

    /// Starts `COPY ... FROM STDIN`; rows follow with [`Self::copy_send`].
    pub(crate) fn copy_begin(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        let sink = self
            .runtime
            .block_on(self.client.copy_in(sql))
            .map_err(|e| postgres_failure(&e))?;
        self.copy = Some(Box::pin(sink));
        Ok(())
    }

    /// Sends rows (COPY's text format) to the COPY started by [`Self::copy_begin`].
    pub(crate) fn copy_send(&mut self, data: Vec<u8>) -> std::result::Result<(), Failure> {
        use futures_util::SinkExt;
        let sink = self
            .copy
            .as_mut()
            .ok_or_else(|| Failure::plain("COPY data without a COPY statement"))?;
        self.runtime
            .block_on(sink.send(bytes::Bytes::from(data)))
            .map_err(|e| postgres_failure(&e))
    }

    /// Ends the current COPY; returns the number of rows loaded.
    pub(crate) fn copy_finish(&mut self) -> std::result::Result<u64, Failure> {
        let mut sink = self
            .copy
            .take()
            .ok_or_else(|| Failure::plain("the end of a COPY without a COPY statement"))?;
        self.runtime
            .block_on(sink.as_mut().finish())
            .map_err(|e| postgres_failure(&e))
    }

    /// Whether a COPY is open (the session takes nothing else until it ends).
    pub(crate) fn copying(&self) -> bool {
        self.copy.is_some()
    }

    /// Abandons the current COPY: dropping the sink sends the server `CopyFail`, so the
    /// session can take statements (a `ROLLBACK`) again instead of waiting for more rows.
    pub(crate) fn copy_abort(&mut self) {
        if let Some(sink) = self.copy.take() {
            drop(sink);
            // Let the connection task deliver the CopyFail and read the server's answer.
            let _ = self.runtime.block_on(self.client.simple_query(""));
        }
    }
}

/// A plain mysql_async session: rows in the text protocol, formatted here rather than on
/// the server (what mysqldump does, and as fast), and errors with their numbers.
pub(crate) struct RawMysql {
    runtime: Runtime,
    conn: mysql_async::Conn,
}

fn mysql_failure(e: &mysql_async::Error) -> Failure {
    match e {
        mysql_async::Error::Server(server) => Failure {
            message: one_line(&server.message),
            mysql_code: Some(server.code),
            copy_line: None,
        },
        other => Failure::plain(other.to_string()),
    }
}

impl RawMysql {
    /// Opens a session to a MySQL/MariaDB URL (same TLS rules as [`crate::Connection`]).
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<RawMysql> {
        let runtime = runtime().map_err(|e| connect_failed(url, e))?;
        let conn = runtime.block_on(connect_mysql(url))?;
        Ok(RawMysql { runtime, conn })
    }

    /// Runs statements, dropping any rows they return.
    pub(crate) fn batch_execute(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        use mysql_async::prelude::Queryable;
        self.runtime
            .block_on(self.conn.query_drop(sql))
            .map_err(|e| mysql_failure(&e))
    }

    /// Runs a query and returns its (few) rows.
    pub(crate) fn rows(
        &mut self,
        sql: &str,
    ) -> std::result::Result<Vec<mysql_async::Row>, Failure> {
        use mysql_async::prelude::Queryable;
        self.runtime
            .block_on(self.conn.query::<mysql_async::Row, _>(sql))
            .map_err(|e| mysql_failure(&e))
    }

    /// Streams a query's rows (text protocol) through `each`.
    pub(crate) fn for_each_row(
        &mut self,
        sql: &str,
        mut each: impl FnMut(&mysql_async::Row) -> std::io::Result<()>,
    ) -> std::result::Result<(), StreamStop> {
        use futures_util::StreamExt;
        use mysql_async::prelude::Queryable;
        let driver = |e: mysql_async::Error| StreamStop::Driver(e.into());
        self.runtime.block_on(async {
            let mut result = self.conn.query_iter(sql).await.map_err(driver)?;
            let stream = result.stream::<mysql_async::Row>().await.map_err(driver)?;
            if let Some(mut rows) = stream {
                while let Some(row) = rows.next().await {
                    each(&row.map_err(driver)?).map_err(StreamStop::Write)?;
                }
            }
            Ok(())
        })
    }
}

/// A text column of a MySQL row by name (`SHOW CREATE …` output, catalog rows); binary
/// bytes are read as UTF-8 with replacement.
pub(crate) fn mysql_text(row: &mysql_async::Row, column: &str) -> Option<String> {
    let index = row
        .columns_ref()
        .iter()
        .position(|c| c.name_str() == column)?;
    match row.as_ref(index)? {
        mysql_async::Value::NULL => None,
        mysql_async::Value::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_owned()),
    }
}
