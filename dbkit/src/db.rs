//! One connection type over diesel's SQLite, PostgreSQL and MySQL backends, chosen by the
//! URL scheme. PostgreSQL and MySQL use diesel-async's pure-Rust drivers driven by a
//! private single-threaded tokio runtime, so no C client library is linked; the URL's
//! parameters, TLS (rustls) and the connect sequence live in [`crate::driver`].

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
use crate::driver::{connect_error, connect_failed, connect_mysql, connect_postgres, runtime};
use crate::error::Result;
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
    /// Connects to the database named by `url`, then runs the dialect's connection set-up
    /// (SQLite: busy timeout, foreign keys off).
    ///
    /// An unreachable server, wrong credentials or a bad URL give [`crate::Error::Connect`]
    /// with the masked URL and the backend's reason.
    pub fn establish(url: &DatabaseUrl) -> Result<Connection> {
        let inner = match url.backend() {
            Backend::Sqlite => Inner::Sqlite(connect_sqlite(url)?),
            Backend::Postgres => {
                let runtime = runtime().map_err(|e| connect_failed(url, e))?;
                let conn = runtime.block_on(connect_postgres(url))?;
                Inner::Postgres(runtime, Box::new(conn))
            }
            Backend::Mysql => {
                let runtime = runtime().map_err(|e| connect_failed(url, e))?;
                let conn = runtime.block_on(async {
                    let session = connect_mysql(url).await?;
                    AsyncMysqlConnection::try_from(session)
                        .await
                        .map_err(|e| connect_failed(url, e))
                })?;
                Inner::Mysql(runtime, conn)
            }
        };
        let mut conn = Connection {
            url: url.clone(),
            inner,
        };
        if let Some(setup) = conn.dialect().connection_setup() {
            conn.batch_execute(setup)
                .map_err(|e| connect_failed(url, e))?;
        }
        Ok(conn)
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

/// Opens a SQLite file; a missing directory is an error rather than a new file elsewhere.
fn connect_sqlite(url: &DatabaseUrl) -> Result<SqliteConnection> {
    let path = url.expose();
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        let reason = format!("directory {} does not exist", dir.display());
        return Err(connect_error(url, &reason));
    }
    SqliteConnection::establish(path).map_err(|e| connect_failed(url, e))
}
