//! Database URLs: which backend a URL names, where a SQLite file lives, and the masked form
//! that is the only form ever shown to a person.

use std::fmt;
use std::path::Path;

use crate::backend::Backend;
use crate::error::{Error, Result};

/// A database URL with its backend resolved. `Display` shows the masked form.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Parses a URL: `sqlite://path`, `sqlite:path`, a bare path (SQLite), `postgres://`,
    /// `postgresql://`, `mysql://` or `mariadb://`. A relative SQLite path is resolved
    /// against `base` (the directory holding `dbrev.toml`).
    pub fn parse(url: &str, base: &Path) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::Url {
                url: String::new(),
                reason: "the URL is empty".into(),
            });
        }
        let backend = match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("postgres" | "postgresql") => Backend::Postgres,
            Some("mysql" | "mariadb") => Backend::Mysql,
            Some("sqlite" | "file") => Backend::Sqlite,
            Some(other) => {
                return Err(Error::Url {
                    url: mask(url),
                    reason: format!(
                        "unknown scheme `{other}` (expected sqlite://, postgres://, postgresql://, mysql:// or mariadb://, or a file path for SQLite)"
                    ),
                });
            }
            None => Backend::Sqlite,
        };
        let raw = if backend == Backend::Sqlite {
            let path = sqlite_path_of(url);
            if path == ":memory:" || Path::new(path).is_absolute() {
                path.to_owned()
            } else {
                base.join(path).to_string_lossy().into_owned()
            }
        } else {
            url.to_owned()
        };
        Ok(DatabaseUrl { raw, backend })
    }

    /// The backend this URL connects to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as given (with password). Never print this; use `Display` or [`Self::masked`].
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with any password replaced by `***`.
    pub fn masked(&self) -> String {
        mask(&self.raw)
    }

    /// The same server with another database name (used by tests and by restore into a
    /// scratch database). For SQLite, another file in the same directory.
    pub fn with_database(&self, name: &str) -> DatabaseUrl {
        let raw = match self.backend {
            Backend::Sqlite => Path::new(&self.raw)
                .with_file_name(name)
                .to_string_lossy()
                .into_owned(),
            _ => {
                let (head, query) = match self.raw.split_once('?') {
                    Some((h, q)) => (h, Some(q)),
                    None => (self.raw.as_str(), None),
                };
                let after_scheme = head.find("://").map_or(0, |i| i + 3);
                let base = match head[after_scheme..].find('/') {
                    Some(slash) => &head[..after_scheme + slash],
                    None => head,
                };
                match query {
                    Some(q) => format!("{base}/{name}?{q}"),
                    None => format!("{base}/{name}"),
                }
            }
        };
        DatabaseUrl {
            raw,
            backend: self.backend,
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked())
    }
}

fn sqlite_path_of(url: &str) -> &str {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("file://"))
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    path.split('?').next().unwrap_or(path)
}

/// Replaces the password in any URL-like text (`user:secret@host`, `password=secret`)
/// with `***`. Safe to call on text that is not a URL.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (before, after) = rest.split_at(pos + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    mask_password_params(&out)
}

fn mask_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let found = ["password=", "pass="].iter().filter_map(|k| {
            rest.find(k)
                .filter(|&i| i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&' | b' '))
                .map(|i| (i, k.len()))
        });
        match found.min() {
            Some((i, len)) => {
                out.push_str(&rest[..i + len]);
                out.push_str("***");
                let tail = &rest[i + len..];
                let end = tail
                    .find(|c: char| c == '&' || c.is_whitespace())
                    .unwrap_or(tail.len());
                rest = &tail[end..];
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask("postgres://bob:s3cr%40t@db:5432/app?sslmode=require"),
            "postgres://bob:***@db:5432/app?sslmode=require"
        );
        assert_eq!(
            mask("mysql://root@localhost/test"),
            "mysql://root@localhost/test"
        );
        assert_eq!(
            mask("error connecting to mysql://u:p@h/d: refused"),
            "error connecting to mysql://u:***@h/d: refused"
        );
        assert_eq!(
            mask("postgres://h/d?user=x&password=hunter2&a=b"),
            "postgres://h/d?user=x&password=***&a=b"
        );
        assert_eq!(
            mask("host=h password=pw dbname=d"),
            "host=h password=*** dbname=d"
        );
    }

    #[test]
    fn resolves_backends_and_paths() {
        let base = Path::new("/proj");
        let u = DatabaseUrl::parse("app.db", base).unwrap();
        assert_eq!(u.backend(), Backend::Sqlite);
        assert_eq!(u.expose(), "/proj/app.db");
        let u = DatabaseUrl::parse("sqlite://data/app.db", base).unwrap();
        assert_eq!(u.expose(), "/proj/data/app.db");
        let u = DatabaseUrl::parse("sqlite:///abs/app.db", base).unwrap();
        assert_eq!(u.expose(), "/abs/app.db");
        let u = DatabaseUrl::parse("mariadb://root@h/db", base).unwrap();
        assert_eq!(u.backend(), Backend::Mysql);
        let u = DatabaseUrl::parse("postgresql://a:b@h:1/db?x=1", base).unwrap();
        assert_eq!(
            u.with_database("other").expose(),
            "postgresql://a:b@h:1/other?x=1"
        );
        let err = DatabaseUrl::parse("oracle://u:pw@h/db", base).unwrap_err();
        assert!(err.to_string().contains("oracle://u:***@h/db"), "{err}");
    }
}
