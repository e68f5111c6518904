//! Database URLs: which backend a URL names, where a SQLite file lives, and the masked form
//! that is the only form ever shown to a person.
//!
//! Accepted: `postgres://` / `postgresql://`, libpq's keyword/value form
//! (`host=db user=app password=... dbname=app`, PostgreSQL), `mysql://` / `mariadb://`, and
//! for SQLite `sqlite://PATH`, `sqlite:PATH`, `file:PATH`, `:memory:` or a path ending in
//! `.db`, `.sqlite` or `.sqlite3`. Anything else is an error, never a guess.

use std::fmt;
use std::path::Path;

use crate::backend::Backend;
use crate::error::{Error, Result};

/// A database URL with its backend resolved. `Display` shows the masked form.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// What the drivers get: a URL (libpq keyword strings are rewritten as one) or a path.
    raw: String,
    /// What people see: the URL as written, password masked.
    shown: String,
    backend: Backend,
}

/// The file extensions that make a bare path a SQLite database.
const SQLITE_EXTENSIONS: [&str; 3] = [".db", ".sqlite", ".sqlite3"];

impl DatabaseUrl {
    /// Parses a URL (see the module documentation for the accepted forms). A relative SQLite
    /// path is resolved against `base` (the directory holding `dbrev.toml`).
    pub fn parse(url: &str, base: &Path) -> Result<Self> {
        let url = url.trim();
        let invalid = |reason: String| Error::Url {
            url: mask(url),
            reason,
        };
        if url.is_empty() {
            return Err(invalid("the URL is empty".into()));
        }
        if let Some((scheme, rest)) = url.split_once("://") {
            let backend = match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Backend::Postgres,
                "mysql" | "mariadb" => Backend::Mysql,
                "sqlite" | "file" => return Ok(Self::sqlite(rest, base)),
                other => {
                    return Err(invalid(format!(
                        "unknown scheme `{other}` (expected postgres://, postgresql://, mysql://, mariadb:// or sqlite://PATH)"
                    )));
                }
            };
            check_userinfo(rest).map_err(invalid)?;
            return Ok(DatabaseUrl {
                raw: url.to_owned(),
                shown: mask(url),
                backend,
            });
        }
        if let Some(path) = url
            .strip_prefix("sqlite:")
            .or_else(|| url.strip_prefix("file:"))
        {
            return Ok(Self::sqlite(path, base));
        }
        if url == ":memory:" {
            return Ok(Self::sqlite(url, base));
        }
        if is_keyword_form(url) {
            let pairs = parse_keywords(url).map_err(invalid)?;
            return Ok(DatabaseUrl {
                raw: keywords_to_url(&pairs),
                shown: mask(url),
                backend: Backend::Postgres,
            });
        }
        let path = url.split('?').next().unwrap_or(url);
        if SQLITE_EXTENSIONS.iter().any(|ext| path.ends_with(ext)) {
            return Ok(Self::sqlite(url, base));
        }
        Err(invalid(
            "not a database URL: expected postgres://..., mysql://..., mariadb://..., libpq's `host=... dbname=...`, or for SQLite sqlite://PATH, file:PATH or a file ending in .db, .sqlite or .sqlite3".into(),
        ))
    }

    fn sqlite(path: &str, base: &Path) -> Self {
        let path = path.split('?').next().unwrap_or(path);
        let raw = if path == ":memory:" || Path::new(path).is_absolute() {
            path.to_owned()
        } else {
            base.join(path).to_string_lossy().into_owned()
        };
        DatabaseUrl {
            shown: raw.clone(),
            raw,
            backend: Backend::Sqlite,
        }
    }

    /// The backend this URL connects to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the drivers get (with password). Never print this; use `Display` or
    /// [`Self::masked`].
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// Whether the URL names a database file that does not exist yet (SQLite's, which
    /// connecting would create); a server's database is never a missing file.
    pub fn is_missing_file(&self) -> bool {
        match self.backend {
            Backend::Sqlite => self.raw != ":memory:" && !Path::new(&self.raw).exists(),
            Backend::Postgres | Backend::Mysql => false,
        }
    }

    /// The URL as written, with any password replaced by `***`.
    pub fn masked(&self) -> String {
        self.shown.clone()
    }

    /// Replaces this URL's password, wherever it appears in `text` (a driver's message),
    /// with `***`, then masks any other URL in it.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets() {
            if secret.len() >= 2 {
                out = out.replace(&secret, "***");
            }
        }
        mask(&out)
    }

    /// The password as written and as decoded (empty when there is none).
    fn secrets(&self) -> Vec<String> {
        let Some((_, rest)) = self.raw.split_once("://") else {
            return Vec::new();
        };
        let mut found = Vec::new();
        if let Some(at) = rest.rfind('@')
            && let Some((_, password)) = rest[..at].split_once(':')
        {
            found.push(password.to_owned());
            found.push(percent_decode(password));
        }
        if let Some((_, query)) = rest.split_once('?') {
            for pair in query.split('&') {
                if let Some(value) = pair
                    .strip_prefix("password=")
                    .or_else(|| pair.strip_prefix("pass="))
                {
                    found.push(value.to_owned());
                    found.push(percent_decode(value));
                }
            }
        }
        found.sort_by_key(|s| std::cmp::Reverse(s.len()));
        found
    }

    /// The same server with another database name (used by tests and by restore into a
    /// scratch database). For SQLite, another file in the same directory. A libpq keyword
    /// string keeps its form: `dbname=` replaced, or added.
    pub fn with_database(&self, name: &str) -> DatabaseUrl {
        let raw = match self.backend {
            Backend::Sqlite => Path::new(&self.raw)
                .with_file_name(name)
                .to_string_lossy()
                .into_owned(),
            _ => replace_database(&self.raw, name),
        };
        let shown = match self.backend {
            Backend::Sqlite => raw.clone(),
            _ if is_keyword_form(&self.shown) => parse_keywords(&self.shown)
                .map(|pairs| keywords_with_database(pairs, name))
                .unwrap_or_else(|_| mask(&raw)),
            _ => mask(&raw),
        };
        DatabaseUrl {
            raw,
            shown,
            backend: self.backend,
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.shown)
    }
}

/// The server URL with its path (database name) replaced; a `dbname=` query parameter
/// is replaced instead when there is one, and added to a libpq keyword string rewritten as
/// a URL (`postgres://?host=..`, every keyword a parameter) that has none.
fn replace_database(raw: &str, name: &str) -> String {
    let (head, query) = match raw.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (raw, None),
    };
    let dbname = format!("dbname={}", percent_encode(name));
    if let Some(query) = query {
        let mut params: Vec<&str> = query.split('&').collect();
        match params.iter().position(|p| p.starts_with("dbname=")) {
            Some(i) => params[i] = &dbname,
            None if head.ends_with("://") => params.push(&dbname),
            None => params.clear(),
        }
        if !params.is_empty() {
            return format!("{head}?{}", params.join("&"));
        }
    }
    let after_scheme = head.find("://").map_or(0, |i| i + 3);
    let authority_start = head[after_scheme..]
        .rfind('@')
        .map_or(after_scheme, |at| after_scheme + at + 1);
    let base = match head[authority_start..].find('/') {
        Some(slash) => &head[..authority_start + slash],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Refuses user names and passwords with characters a URL cannot hold unencoded: drivers
/// would split the URL in the wrong place (and could show part of the password).
fn check_userinfo(rest: &str) -> std::result::Result<(), String> {
    let Some(at) = rest.rfind('@') else {
        return Ok(());
    };
    let userinfo = &rest[..at];
    if userinfo
        .chars()
        .any(|c| matches!(c, '@' | '/' | '?' | '#') || c.is_whitespace())
    {
        return Err(
            "the user name or password holds characters a URL must percent-encode: write a space as %20, `#` as %23, `/` as %2F, `?` as %3F, `@` as %40".into(),
        );
    }
    Ok(())
}

/// Whether `text` is libpq's keyword/value form: it starts with `keyword=`.
fn is_keyword_form(text: &str) -> bool {
    let Some(eq) = text.find('=') else {
        return false;
    };
    let key = text[..eq].trim_end();
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses libpq's `key=value key='quoted value'` form (`\'` and `\\` escape in values).
fn parse_keywords(text: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!(
                "libpq keyword `{key}` has no `=value` (write key=value pairs separated by spaces)"
            ));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("the value of `{key}` has no closing quote")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        if key.is_empty() {
            return Err("a libpq keyword is empty".into());
        }
        pairs.push((key, value));
    }
}

/// libpq keyword pairs as a keyword string, `dbname` set to `name` (replaced, or added at
/// the end); values with blanks, quotes or backslashes quoted as libpq reads them.
fn keywords_with_database(mut pairs: Vec<(String, String)>, name: &str) -> String {
    match pairs.iter_mut().find(|(k, _)| k == "dbname") {
        Some((_, value)) => *value = name.to_owned(),
        None => pairs.push(("dbname".into(), name.to_owned())),
    }
    let text: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
                format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    text.join(" ")
}

/// The URL tokio-postgres reads for libpq keyword pairs: every keyword as a query
/// parameter (`postgres://?host=..&dbname=..`), percent-encoded.
fn keywords_to_url(pairs: &[(String, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    format!("postgres://?{}", query.join("&"))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Hides passwords in any text: in `scheme://user:secret@host` everything between the
/// user name and the last `@` of the line becomes `***` (so a password holding `@`, `/`,
/// `#`, `?` or spaces is hidden whole), and so do the values of `password=` / `pass=`
/// (query parameters and libpq keywords, quoted or not). Text already masked is kept;
/// safe to call on text that is not a URL.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (before, after) = rest.split_at(pos + 3);
        out.push_str(before);
        let line_end = after.find('\n').unwrap_or(after.len());
        let line = &after[..line_end];
        let first_at = line.find('@');
        let user_end = line.find([':', '@']).unwrap_or(line.len());
        let has_password = first_at.is_some_and(|at| line[..at].contains(':'));
        let already_masked = line[user_end..].starts_with(":***@");
        match line.rfind('@') {
            Some(last_at) if has_password && !already_masked => {
                out.push_str(&line[..user_end]);
                out.push_str(":***");
                rest = &after[last_at..];
            }
            _ => {
                let skip = if already_masked {
                    user_end + ":***@".len()
                } else {
                    0
                };
                out.push_str(&after[..skip]);
                rest = &after[skip..];
            }
        }
    }
    out.push_str(rest);
    mask_password_params(&out)
}

fn mask_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let found = ["password", "pass"]
            .iter()
            .filter_map(|k| {
                let mut from = 0;
                while let Some(i) = rest[from..].find(k).map(|i| i + from) {
                    let boundary =
                        i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&' | b' ' | b'\t');
                    let tail = rest[i + k.len()..].trim_start_matches([' ', '\t']);
                    if boundary && tail.starts_with('=') {
                        let value_start = rest.len() - tail.len() + 1;
                        let value = &rest[value_start..];
                        let spaces = value.len() - value.trim_start_matches([' ', '\t']).len();
                        return Some((i, value_start + spaces));
                    }
                    from = i + k.len();
                }
                None
            })
            .min();
        let Some((_, value_start)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..value_start]);
        out.push_str("***");
        let value = &rest[value_start..];
        let end = if let Some(quoted) = value.strip_prefix('\'') {
            let mut escaped = false;
            quoted
                .char_indices()
                .find(|&(_, c)| {
                    let close = c == '\'' && !escaped;
                    escaped = c == '\\' && !escaped;
                    close
                })
                .map_or(value.len(), |(i, _)| i + 2)
        } else {
            value
                .find(|c: char| c == '&' || c.is_whitespace())
                .unwrap_or(value.len())
        };
        rest = &value[end..];
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
        assert_eq!(
            mask("host=h password = 'p w\\' x' dbname=d"),
            "host=h password = *** dbname=d"
        );
        // Unencoded characters in the password: everything up to the last `@` goes.
        for secret in ["pa ss", "pa#ss", "pa/ss", "pa?ss", "pa@ss", "p@s/s#w ?d"] {
            let url = format!("postgres://alice:{secret}@db.example:5432/app");
            assert_eq!(
                mask(&url),
                "postgres://alice:***@db.example:5432/app",
                "{url}"
            );
        }
        // Already masked text stays as it is, the message after it too.
        let shown = "cannot connect to mysql://u:***@h/d: Access denied for user 'u'@'h'";
        assert_eq!(mask(shown), shown);
        let no_password = "mysql://root@h/d: Access denied for user 'root'@'h'";
        assert_eq!(mask(no_password), no_password);
    }

    #[test]
    fn only_a_sqlite_file_can_be_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("here.db"), "").unwrap();
        let url = |text: &str| DatabaseUrl::parse(text, dir.path()).unwrap();
        assert!(url("gone.db").is_missing_file());
        assert!(!url("here.db").is_missing_file());
        assert!(!url(":memory:").is_missing_file());
        assert!(!url("postgres://h/db").is_missing_file());
        assert!(!url("mysql://h/db").is_missing_file());
    }

    #[test]
    fn resolves_backends_and_paths() {
        let base = Path::new("/proj");
        let u = DatabaseUrl::parse("app.db", base).unwrap();
        assert_eq!(u.backend(), Backend::Sqlite);
        assert_eq!(u.expose(), "/proj/app.db");
        for path in ["app.sqlite", "data/app.sqlite3"] {
            let u = DatabaseUrl::parse(path, base).unwrap();
            assert_eq!(u.backend(), Backend::Sqlite);
            assert_eq!(u.expose(), format!("/proj/{path}"));
        }
        let u = DatabaseUrl::parse("sqlite://data/app.db", base).unwrap();
        assert_eq!(u.expose(), "/proj/data/app.db");
        let u = DatabaseUrl::parse("sqlite:///abs/app.db", base).unwrap();
        assert_eq!(u.expose(), "/abs/app.db");
        let u = DatabaseUrl::parse("file:data/x", base).unwrap();
        assert_eq!(u.expose(), "/proj/data/x");
        let u = DatabaseUrl::parse(":memory:", base).unwrap();
        assert_eq!(u.expose(), ":memory:");
        let u = DatabaseUrl::parse("mariadb://root@h/db", base).unwrap();
        assert_eq!(u.backend(), Backend::Mysql);
        let u = DatabaseUrl::parse("postgresql://a:b@h:1/db?x=1", base).unwrap();
        assert_eq!(
            u.with_database("other").expose(),
            "postgresql://a:b@h:1/other?x=1"
        );
        let err = DatabaseUrl::parse("oracle://u:pw@h/db", base).unwrap_err();
        assert!(err.to_string().contains("oracle://u:***@h/db"), "{err}");
        for bad in ["app", "db.example.com:5432", "data/app.txt"] {
            let err = DatabaseUrl::parse(bad, base).unwrap_err().to_string();
            assert!(err.contains("not a database URL"), "{err}");
        }
    }

    #[test]
    fn libpq_keyword_strings_are_postgres() {
        let base = Path::new("/proj");
        let u = DatabaseUrl::parse(
            "host=db.example port=5433 user=app password='s3 cr\\'et' dbname=shop",
            base,
        )
        .unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
        assert_eq!(
            u.expose(),
            "postgres://?host=db.example&port=5433&user=app&password=s3%20cr%27et&dbname=shop"
        );
        assert_eq!(
            u.to_string(),
            "host=db.example port=5433 user=app password=*** dbname=shop"
        );
        let moved = u.with_database("scratch");
        assert!(moved.expose().ends_with("dbname=scratch"), "{moved:?}");
        assert!(!moved.to_string().contains("s3"), "{moved}");
        let config: tokio_postgres::Config = u.expose().parse().unwrap();
        assert_eq!(config.get_dbname(), Some("shop"));
        assert_eq!(config.get_password(), Some(&b"s3 cr'et"[..]));
        assert_eq!(config.get_ports(), [5433]);
        let err = DatabaseUrl::parse("host=h password='open", base).unwrap_err();
        assert!(!err.to_string().contains("open"), "{err}");
    }

    #[test]
    fn another_database_of_a_libpq_keyword_string_keeps_its_form() {
        let base = Path::new("/proj");
        let named = DatabaseUrl::parse("host=h user=app password=s3cret dbname=shop", base)
            .unwrap()
            .with_database("scratch");
        assert_eq!(
            named.to_string(),
            "host=h user=app password=*** dbname=scratch"
        );
        let config: tokio_postgres::Config = named.expose().parse().unwrap();
        assert_eq!(config.get_dbname(), Some("scratch"));
        assert_eq!(config.get_password(), Some(&b"s3cret"[..]));
        // No dbname yet: one is added, to the keywords and to the driver's URL.
        let unnamed = DatabaseUrl::parse("host=h port=5433 user=app", base)
            .unwrap()
            .with_database("my db");
        assert_eq!(
            unnamed.to_string(),
            "host=h port=5433 user=app dbname='my db'"
        );
        let config: tokio_postgres::Config = unnamed.expose().parse().unwrap();
        assert_eq!(config.get_dbname(), Some("my db"));
        assert_eq!(config.get_ports(), [5433]);
        // A URL's query parameters stay where they are.
        let url = DatabaseUrl::parse("postgres://h/shop?sslmode=require", base).unwrap();
        assert_eq!(
            url.with_database("scratch").expose(),
            "postgres://h/scratch?sslmode=require"
        );
    }

    #[test]
    fn unencoded_passwords_are_refused_without_showing_them() {
        let base = Path::new("/proj");
        for secret in ["pa ss", "pa#ss", "pa/ss", "pa?ss", "pa@ss"] {
            let url = format!("mysql://alice:{secret}@db.example/app");
            let err = DatabaseUrl::parse(&url, base).unwrap_err().to_string();
            assert!(err.contains("percent-encode"), "{err}");
            assert!(err.contains("mysql://alice:***@db.example/app"), "{err}");
            assert!(!err.contains(secret) && !err.contains("ss@"), "{err}");
        }
        let u = DatabaseUrl::parse("postgres://alice:pa%40ss@h/app", base).unwrap();
        assert_eq!(
            u.scrub("password authentication failed: pa@ss"),
            "password authentication failed: ***"
        );
    }
}
