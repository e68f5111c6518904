//! From a database URL to a driver session: the URL's TLS parameters (libpq's `sslmode`,
//! MySQL's `ssl-mode`), `mariadb://`, the one PostgreSQL connect sequence (plain or
//! rustls) that diesel's connection ([`crate::db`]) and the raw export sessions
//! ([`crate::export`]) share, the private tokio runtime each session runs on, and the
//! connection error (masked URL, one line, the driver's error kept as its source).

use tokio::runtime::Runtime;

use crate::error::{DriverError, Error, Result, one_line};
use crate::url::DatabaseUrl;

/// A single-threaded tokio runtime for one session.
pub(crate) fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The one-line error for a failed connection with no driver error behind it (a bad
/// parameter, a missing directory): masked URL and the reason.
pub(crate) fn connect_error(url: &DatabaseUrl, reason: &str) -> Error {
    Error::Connect {
        url: url.masked(),
        reason: one_line(url.scrub(reason)),
        source: None,
    }
}

/// The one-line error for a connection the driver could not make, keeping its error.
pub(crate) fn connect_failed(url: &DatabaseUrl, source: impl Into<DriverError>) -> Error {
    let source: DriverError = source.into();
    Error::Connect {
        url: url.masked(),
        reason: one_line(url.scrub(&source.to_string())),
        source: Some(source),
    }
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
/// (`None`: no TLS). `sslmode` as libpq reads it: `disable`/`allow`/`prefer` connect
/// without TLS, `require` encrypts without checking the certificate, `verify-ca` and
/// `verify-full` check it.
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

/// What a new tokio-postgres connection becomes: diesel-async's connection (which drives
/// it), or a plain client whose connection task runs on the session's runtime.
pub(crate) trait PostgresSession: Sized {
    /// Takes over a client and the connection that serves it.
    async fn start<S>(
        client: tokio_postgres::Client,
        connection: tokio_postgres::Connection<tokio_postgres::Socket, S>,
    ) -> std::result::Result<Self, DriverError>
    where
        S: tokio_postgres::tls::TlsStream + Unpin + Send + 'static;
}

impl PostgresSession for diesel_async::AsyncPgConnection {
    async fn start<S>(
        client: tokio_postgres::Client,
        connection: tokio_postgres::Connection<tokio_postgres::Socket, S>,
    ) -> std::result::Result<Self, DriverError>
    where
        S: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
    {
        Ok(Self::try_from_client_and_connection(client, connection).await?)
    }
}

impl PostgresSession for tokio_postgres::Client {
    async fn start<S>(
        client: tokio_postgres::Client,
        connection: tokio_postgres::Connection<tokio_postgres::Socket, S>,
    ) -> std::result::Result<Self, DriverError>
    where
        S: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
    {
        tokio::spawn(connection);
        Ok(client)
    }
}

/// Connects to the PostgreSQL database of `url`, with or without TLS as its `sslmode`
/// says, and starts a session of type `T` on it (run it inside the session's runtime).
pub(crate) async fn connect_postgres<T: PostgresSession>(url: &DatabaseUrl) -> Result<T> {
    let fail = |reason: String| connect_error(url, &reason);
    let (config, verify) = postgres_config(url.expose()).map_err(fail)?;
    let started = match verify {
        None => {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| connect_failed(url, e))?;
            T::start(client, connection).await
        }
        Some(verify) => {
            let tls = crate::tls::client_config(verify).map_err(fail)?;
            let (client, connection) = config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
                .await
                .map_err(|e| connect_failed(url, e))?;
            T::start(client, connection).await
        }
    };
    started.map_err(|e| connect_failed(url, e))
}

/// The mysql_async options of a URL: `mariadb://` read as `mysql://`, `ssl-mode` (also
/// `ssl_mode`, `sslmode`) as MySQL's client reads it, no statement cache, and found rows
/// counted as affected (what diesel expects).
fn mysql_options(url: &str) -> std::result::Result<mysql_async::OptsBuilder, String> {
    let url = match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    };
    let (url, params) = take_params(&url, &["ssl-mode", "ssl_mode", "sslmode"]);
    let opts = mysql_async::Opts::from_url(&url).map_err(|e| e.to_string())?;
    let builder = mysql_async::OptsBuilder::from_opts(opts)
        .stmt_cache_size(0)
        .client_found_rows(true);
    let mode = params.last().map(|(_, v)| v.to_ascii_uppercase());
    match mode.as_deref() {
        None | Some("DISABLED" | "PREFERRED") => Ok(builder),
        Some(mode @ ("REQUIRED" | "VERIFY_CA" | "VERIFY_IDENTITY")) => {
            let ssl = mysql_async::SslOpts::default()
                .with_danger_accept_invalid_certs(mode == "REQUIRED")
                .with_danger_skip_domain_validation(mode != "VERIFY_IDENTITY");
            Ok(builder.ssl_opts(ssl))
        }
        Some(other) => Err(format!(
            "unknown ssl-mode `{other}` (expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)"
        )),
    }
}

/// A mysql_async session to the database of `url` (run it inside the session's runtime).
pub(crate) async fn connect_mysql(url: &DatabaseUrl) -> Result<mysql_async::Conn> {
    let options = mysql_options(url.expose()).map_err(|reason| connect_error(url, &reason))?;
    mysql_async::Conn::new(options)
        .await
        .map_err(|e| connect_failed(url, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_parameters_are_taken_and_the_others_kept() {
        let (url, taken) = take_params(
            "postgres://h/db?sslmode=require&connect_timeout=3",
            &["sslmode"],
        );
        assert_eq!(url, "postgres://h/db?connect_timeout=3");
        assert_eq!(taken, [("sslmode".to_owned(), "require".to_owned())]);
        let (url, taken) = take_params("postgres://h/db?sslmode=disable", &["sslmode"]);
        assert_eq!(url, "postgres://h/db");
        assert_eq!(taken.len(), 1);
    }

    #[test]
    fn sslmode_is_read_as_libpq_reads_it() {
        let verify = |mode: &str| {
            postgres_config(&format!("postgres://h/db?sslmode={mode}")).map(|(_, v)| v)
        };
        assert_eq!(verify("prefer"), Ok(None));
        assert_eq!(verify("require"), Ok(Some(false)));
        assert_eq!(verify("verify-full"), Ok(Some(true)));
        assert!(
            verify("sometimes")
                .unwrap_err()
                .contains("unknown sslmode `sometimes`")
        );
        let mysql = mysql_options("mariadb://root@h/db?ssl-mode=sometimes").map(drop);
        assert!(mysql.unwrap_err().contains("unknown ssl-mode `SOMETIMES`"));
        assert!(mysql_options("mariadb://root@h/db?ssl-mode=REQUIRED").is_ok());
    }
}
