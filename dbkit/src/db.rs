//! One connection type over diesel's SQLite, PostgreSQL and MySQL backends, chosen by the
//! URL scheme. PostgreSQL and MySQL use diesel-async's pure-Rust drivers driven by a
//! private single-threaded tokio runtime, so no C client library is linked; TLS goes
//! through rustls (`sslmode=require` / `ssl-mode=REQUIRED`).

use diesel::connection::SimpleConnection;
use diesel::mysql::Mysql;
use diesel::pg::Pg;
use diesel::query_builder::SqlQuery;
use diesel::query_dsl::RunQueryDsl as _;
use diesel::sqlite::Sqlite;
use diesel::{Connection as _, QueryResult, QueryableByName, SqliteConnection};
use diesel_async::{AsyncMysqlConnection, AsyncPgConnection, SimpleAsyncConnection};
use tokio::runtime::Runtime;

use crate::backend::Backend;
use crate::dialect::{Dialect, dialect_for};
use crate::error::{Error, Result};
use crate::url::DatabaseUrl;

/// A live connection to one database, whatever the backend.
pub struct Connection {
    url: DatabaseUrl,
    inner: Inner,
}

enum Inner {
    Sqlite(SqliteConnection),
    Postgres(Runtime, Box<AsyncPgConnection>),
    Mysql(Runtime, AsyncMysqlConnection),
}

/// A row type that can be loaded from `sql_query` on every backend.
pub trait AnyRow:
    QueryableByName<Sqlite> + QueryableByName<Pg> + QueryableByName<Mysql> + Send + 'static
{
}

impl<T> AnyRow for T where
    T: QueryableByName<Sqlite> + QueryableByName<Pg> + QueryableByName<Mysql> + Send + 'static
{
}

impl Connection {
    /// Connects to the database named by `url`.
    ///
    /// An unreachable server, wrong credentials or a bad URL give [`Error::Connect`]
    /// with the masked URL and the backend's reason.
    pub fn establish(url: &DatabaseUrl) -> Result<Connection> {
        let fail = |reason: String| connect_error(url, &reason);
        let inner = match url.backend() {
            Backend::Sqlite => {
                let path = url.expose();
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() && !dir.exists() {
                        return Err(fail(format!("directory {} does not exist", dir.display())));
                    }
                }
                let mut conn =
                    SqliteConnection::establish(path).map_err(|e| fail(e.to_string()))?;
                // Wait for other writers; leave foreign keys off as sqlite3 and alembic do
                // (diesel turns them on): the table-rebuild recipe needs them off and
                // checks them itself with `pragma_foreign_key_check`.
                conn.batch_execute("PRAGMA busy_timeout = 60000; PRAGMA foreign_keys = OFF;")
                    .map_err(|e| fail(e.to_string()))?;
                Inner::Sqlite(conn)
            }
            Backend::Postgres => {
                let runtime = runtime().map_err(|e| fail(e.to_string()))?;
                let conn = runtime
                    .block_on(connect_postgres(url.expose()))
                    .map_err(fail)?;
                Inner::Postgres(runtime, Box::new(conn))
            }
            Backend::Mysql => {
                let runtime = runtime().map_err(|e| fail(e.to_string()))?;
                let conn = runtime
                    .block_on(connect_mysql(url.expose()))
                    .map_err(fail)?;
                Inner::Mysql(runtime, conn)
            }
        };
        Ok(Connection {
            url: url.clone(),
            inner,
        })
    }

    /// The URL this connection was made from.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The SQL dialect of this connection.
    pub fn dialect(&self) -> &'static dyn Dialect {
        dialect_for(self.backend())
    }

    /// Runs one or more statements that return no rows.
    pub fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        match &mut self.inner {
            Inner::Sqlite(c) => c.batch_execute(sql),
            Inner::Postgres(rt, c) => rt.block_on(c.batch_execute(sql)),
            Inner::Mysql(rt, c) => rt.block_on(c.batch_execute(sql)),
        }
    }

    /// Runs a query and loads every row into `T` (columns matched by name).
    pub fn load<T: AnyRow>(&mut self, sql: &str) -> QueryResult<Vec<T>> {
        let query: SqlQuery = diesel::sql_query(sql);
        match &mut self.inner {
            Inner::Sqlite(c) => query.load(c),
            Inner::Postgres(rt, c) => rt.block_on(diesel_async::RunQueryDsl::load(query, c)),
            Inner::Mysql(rt, c) => rt.block_on(diesel_async::RunQueryDsl::load(query, c)),
        }
    }

    /// Streams a query's rows (one text column named `value`) through `each`, without
    /// holding the result in memory. `each` may stop the stream with an error.
    pub fn for_each_value<E>(
        &mut self,
        sql: &str,
        mut each: impl FnMut(Option<String>) -> Result<(), E>,
    ) -> Result<(), StreamError<E>> {
        use futures_util::StreamExt;
        let query = diesel::sql_query(sql);
        match &mut self.inner {
            Inner::Sqlite(c) => {
                let rows = diesel::RunQueryDsl::load_iter::<
                    ValueRow,
                    diesel::connection::DefaultLoadingMode,
                >(query, c)
                .map_err(StreamError::Query)?;
                for row in rows {
                    each(row.map_err(StreamError::Query)?.value).map_err(StreamError::Stopped)?;
                }
                Ok(())
            }
            Inner::Postgres(rt, c) => rt.block_on(async {
                let mut rows = diesel_async::RunQueryDsl::load_stream::<ValueRow>(query, &mut **c)
                    .await
                    .map_err(StreamError::Query)?;
                while let Some(row) = rows.next().await {
                    each(row.map_err(StreamError::Query)?.value).map_err(StreamError::Stopped)?;
                }
                Ok(())
            }),
            Inner::Mysql(rt, c) => rt.block_on(async {
                let mut rows = diesel_async::RunQueryDsl::load_stream::<ValueRow>(query, c)
                    .await
                    .map_err(StreamError::Query)?;
                while let Some(row) = rows.next().await {
                    each(row.map_err(StreamError::Query)?.value).map_err(StreamError::Stopped)?;
                }
                Ok(())
            }),
        }
    }

    /// Runs a query expected to return one text value in a column named `value`.
    pub fn query_value(&mut self, sql: &str) -> QueryResult<Option<String>> {
        Ok(self
            .load::<ValueRow>(sql)?
            .into_iter()
            .next()
            .and_then(|r| r.value))
    }

    /// The server's version string (for SQLite, the library's).
    pub fn server_version(&mut self) -> QueryResult<String> {
        let sql = self.dialect().server_version_query();
        Ok(self.query_value(sql)?.unwrap_or_default())
    }
}

/// Why [`Connection::for_each_value`] stopped.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The database failed.
    Query(diesel::result::Error),
    /// The callback stopped it.
    Stopped(E),
}

/// One nullable text column named `value`.
#[derive(QueryableByName, Debug)]
pub struct ValueRow {
    /// The value, as text.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub value: Option<String>,
}

/// The one-line error for a failed connection: masked URL and the backend's reason.
pub(crate) fn connect_error(url: &DatabaseUrl, reason: &str) -> Error {
    Error::Connect {
        url: url.masked(),
        reason: one_line(&url.scrub(reason)),
    }
}

pub(crate) fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Collapses a multi-line driver message into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits `key=value` query parameters out of a URL, removing those in `ours`.
fn take_params(url: &str, ours: &[&str]) -> (String, Vec<(String, String)>) {
    let Some((head, query)) = url.split_once('?') else {
        return (url.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if ours.contains(&k) {
            taken.push((k.to_owned(), v.to_owned()));
        } else {
            kept.push(pair);
        }
    }
    let url = if kept.is_empty() {
        head.to_owned()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    (url, taken)
}

/// The tokio-postgres configuration of a URL, and whether TLS verifies the server
/// (`None`: no TLS).
pub(crate) fn postgres_config(
    url: &str,
) -> std::result::Result<(tokio_postgres::Config, Option<bool>), String> {
    let (url, params) = take_params(url, &["sslmode"]);
    let sslmode = params.last().map(|(_, v)| v.to_ascii_lowercase());
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    let verify = match sslmode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            None
        }
        Some("require") => Some(false),
        Some("verify-ca" | "verify-full") => Some(true),
        Some(other) => {
            return Err(format!(
                "unknown sslmode `{other}` (expected disable, prefer, require, verify-ca or verify-full)"
            ));
        }
    };
    if verify.is_some() {
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
    }
    Ok((config, verify))
}

async fn connect_postgres(url: &str) -> std::result::Result<AsyncPgConnection, String> {
    let (config, verify) = postgres_config(url)?;
    match verify {
        None => {
            let (client, conn) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| postgres_reason(&e))?;
            AsyncPgConnection::try_from_client_and_connection(client, conn)
                .await
                .map_err(|e| e.to_string())
        }
        Some(verify) => {
            let tls =
                tokio_postgres_rustls::MakeRustlsConnect::new(crate::tls::client_config(verify)?);
            let (client, conn) = config.connect(tls).await.map_err(|e| postgres_reason(&e))?;
            AsyncPgConnection::try_from_client_and_connection(client, conn)
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// tokio-postgres hides the server's message in the error source; show both.
pub(crate) fn postgres_reason(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_owned();
    }
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

async fn connect_mysql(url: &str) -> std::result::Result<AsyncMysqlConnection, String> {
    let conn = mysql_conn(url).await?;
    AsyncMysqlConnection::try_from(conn)
        .await
        .map_err(|e| e.to_string())
}

/// A mysql_async session from a URL (`mariadb://` and `ssl-mode` understood).
pub(crate) async fn mysql_conn(url: &str) -> std::result::Result<mysql_async::Conn, String> {
    let url = match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    };
    let (url, params) = take_params(&url, &["ssl-mode", "ssl_mode", "sslmode"]);
    let opts = mysql_async::Opts::from_url(&url).map_err(|e| e.to_string())?;
    let mut builder = mysql_async::OptsBuilder::from_opts(opts)
        .stmt_cache_size(0)
        .client_found_rows(true);
    match params
        .last()
        .map(|(_, v)| v.to_ascii_uppercase())
        .as_deref()
    {
        None | Some("DISABLED" | "PREFERRED") => {}
        Some(mode @ ("REQUIRED" | "VERIFY_CA" | "VERIFY_IDENTITY")) => {
            let ssl = mysql_async::SslOpts::default()
                .with_danger_accept_invalid_certs(mode == "REQUIRED")
                .with_danger_skip_domain_validation(mode != "VERIFY_IDENTITY");
            builder = builder.ssl_opts(ssl);
        }
        Some(other) => {
            return Err(format!(
                "unknown ssl-mode `{other}` (expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)"
            ));
        }
    }
    mysql_async::Conn::new(builder)
        .await
        .map_err(|e| e.to_string())
}
