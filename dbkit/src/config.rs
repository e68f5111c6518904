//! `dbrev.toml`: the one loader every tool uses. It finds the file, expands `${VAR}` from
//! the environment and `.env` files, applies defaults and `--database-url`, and reports
//! bad TOML, unknown keys and wrong types with file, line and key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, IoContext, Result};
use crate::project::{ConfigLocation, PackageSelector, find_config};
use crate::url::DatabaseUrl;

/// Diesel's version table, the default so that diesel_migrations sees the same state.
pub const DEFAULT_VERSION_TABLE: &str = "__diesel_schema_migrations";
/// The model file used when `schema` is not set.
pub const DEFAULT_SCHEMA: &str = "src/schema.rs";
/// dbrev's companion table next to diesel's (checksums, who/when/how long, the journal).
pub const DEFAULT_REVISIONS_TABLE: &str = "__dbrev_revisions";
/// How long a run waits for the migration lock when `lock_timeout` is not set, in seconds.
pub const DEFAULT_LOCK_TIMEOUT_SECS: u64 = 300;

/// How a tool asks for its configuration: the command-line options every tool shares.
#[derive(Debug, Clone, Default)]
pub struct ConfigRequest {
    /// `-c/--config FILE`: use this file instead of searching.
    pub config_file: Option<PathBuf>,
    /// `--manifest-path` / `-p`: the package whose `dbrev.toml` to use.
    pub package: PackageSelector,
    /// `--database-url`: overrides whatever the file and environment say.
    pub database_url: Option<String>,
}

/// The loaded configuration, with every path absolute and every variable expanded.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file is and which package owns it.
    pub location: ConfigLocation,
    /// The migration environment directory (holds the revision template).
    pub script_location: PathBuf,
    /// The directory holding one sub-directory per revision.
    pub versions_dir: PathBuf,
    /// The database to work on.
    pub database_url: DatabaseUrl,
    /// The model files (diesel `schema.rs`) for autogenerate and check.
    pub schema_files: Vec<PathBuf>,
    /// The table recording applied revisions.
    pub version_table: String,
    /// Tables that autogenerate, check and export leave out.
    pub exclude: Vec<String>,
    /// When not empty, the only tables autogenerate, check and export consider (diesel's
    /// `only_tables`).
    pub include: Vec<String>,
    /// dbrev's companion table (checksums, applied at/by/duration, the statement journal).
    pub revisions_table: String,
    /// How long to wait for the migration lock.
    pub lock_timeout: std::time::Duration,
    /// SQL run at the start of every session dbrev opens for migrations.
    pub session_sql: Vec<String>,
    /// `scratch_url`: where `test`, `rehearse` and `check --drift` make their scratch
    /// databases when the user cannot create databases on the configured server.
    pub scratch_url: Option<DatabaseUrl>,
    /// `[fleet]`: where the tenant databases of `--fleet` come from (read by
    /// [`crate::fleet`] only when a command runs on the fleet).
    pub fleet: Option<FleetSettings>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    script_location: Option<Spanned<String>>,
    version_locations: Option<Spanned<String>>,
    database_url: Option<Spanned<String>>,
    schema: Option<Spanned<OneOrMany>>,
    version_table: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    revisions_table: Option<Spanned<String>>,
    lock_timeout: Option<Spanned<u64>>,
    session_sql: Option<Spanned<OneOrMany>>,
    scratch_url: Option<Spanned<String>>,
    fleet: Option<Spanned<RawFleet>>,
    /// `[lint]`: read and checked (with its lines) by `lint::LintSettings`.
    #[serde(rename = "lint")]
    _lint: Option<toml::Table>,
}

/// `[fleet]` as written: exactly one source is allowed (checked in [`FleetSettings`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    urls: Option<Vec<Spanned<String>>>,
    urls_from: Option<Spanned<String>>,
    urls_query: Option<Spanned<String>>,
    schemas_query: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Config {
    /// Finds and loads the configuration as the request says.
    pub fn load(request: &ConfigRequest) -> Result<Config> {
        let location = find_config(request.config_file.as_deref(), &request.package)?;
        Self::load_from(location, request.database_url.as_deref())
    }

    /// Loads a known configuration file.
    pub fn load_from(location: ConfigLocation, database_url: Option<&str>) -> Result<Config> {
        let text = std::fs::read_to_string(&location.file).at(&location.file)?;
        let raw = parse(&location.file, &text)?;
        let values = Values {
            file: &location.file,
            text: &text,
            env: Environment::new(&location),
            root: &location.root,
        };
        let script_location = match &raw.script_location {
            Some(v) => values.path(v, "script_location")?,
            None => location.root.join("versioning"),
        };
        let versions_dir = match &raw.version_locations {
            Some(v) => values.path(v, "version_locations")?,
            None => script_location.join("versions"),
        };
        let schema_files = match &raw.schema {
            Some(setting) => values
                .list(setting, "schema")?
                .into_iter()
                .map(|f| location.root.join(f))
                .collect(),
            None => vec![location.root.join(DEFAULT_SCHEMA)],
        };
        let version_table = values.version_table(&raw)?;
        let exclude = values.each(&raw.exclude, "exclude")?;
        let include = values.each(&raw.include, "include")?;
        let revisions_table = values.revisions_table(&raw, &version_table)?;
        let lock_timeout = std::time::Duration::from_secs(
            raw.lock_timeout
                .as_ref()
                .map_or(DEFAULT_LOCK_TIMEOUT_SECS, |v| *v.get_ref()),
        );
        let session_sql = match &raw.session_sql {
            Some(setting) => values.list(setting, "session_sql")?,
            None => Vec::new(),
        };
        let scratch_url = match &raw.scratch_url {
            Some(v) => Some(DatabaseUrl::parse(
                &values.expand(v, "scratch_url")?,
                &location.root,
            )?),
            None => None,
        };
        let url = values.database_url(&raw, database_url, &location)?;
        let fleet = raw
            .fleet
            .as_ref()
            .map(|fleet| FleetSettings::new(fleet, &values))
            .transpose()?;
        Ok(Config {
            script_location,
            versions_dir,
            database_url: DatabaseUrl::parse(&url, &location.root)?,
            schema_files,
            version_table,
            exclude,
            include,
            revisions_table,
            lock_timeout,
            session_sql,
            scratch_url,
            fleet,
            location,
        })
    }

    /// The package directory (where `dbrev.toml` is).
    pub fn root(&self) -> &Path {
        &self.location.root
    }
}

/// Parses the file; bad TOML, unknown keys and wrong types name file, line, column and key.
fn parse(file: &Path, text: &str) -> Result<RawConfig> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        let message = e.message().trim();
        // Name the key when the message does not (wrong types, bad values).
        let key = text
            .lines()
            .nth(line - 1)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| !k.is_empty() && !message.contains(&format!("`{k}`")));
        let key = key.map(|k| format!(" (key `{k}`)")).unwrap_or_default();
        Error::ConfigSyntax {
            message: format!("{}:{line}:{col}: {message}{key}", file.display()),
            source: Box::new(e),
        }
    })
}

/// The values of one file, with `${VAR}` expanded (an unset variable names file, line,
/// column and key) and paths made absolute.
struct Values<'a> {
    file: &'a Path,
    text: &'a str,
    env: Environment,
    root: &'a Path,
}

impl Values<'_> {
    fn expand(&self, value: &Spanned<String>, key: &str) -> Result<String> {
        self.env
            .expand(value.get_ref())
            .map_err(|unset| unset_error(self.file, self.text, value, key, &unset))
    }

    fn path(&self, value: &Spanned<String>, key: &str) -> Result<PathBuf> {
        Ok(self.root.join(self.expand(value, key)?))
    }

    fn each(&self, values: &[Spanned<String>], key: &str) -> Result<Vec<String>> {
        values.iter().map(|v| self.expand(v, key)).collect()
    }

    /// A string or a list of strings (each expanded where the setting is).
    fn list(&self, setting: &Spanned<OneOrMany>, key: &str) -> Result<Vec<String>> {
        let items = match setting.get_ref() {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many.as_slice(),
        };
        items
            .iter()
            .map(|item| self.expand(&Spanned::new(setting.span(), item.clone()), key))
            .collect()
    }

    /// `version_table`: diesel's by default, never empty.
    fn version_table(&self, raw: &RawConfig) -> Result<String> {
        let table = match &raw.version_table {
            Some(v) => self.expand(v, "version_table")?,
            None => DEFAULT_VERSION_TABLE.to_owned(),
        };
        if table.is_empty() {
            return Err(Error::Config(format!(
                "{}: `version_table` must not be empty",
                self.file.display()
            )));
        }
        Ok(table)
    }

    /// `revisions_table`: dbrev's by default, a table other than `version_table`.
    fn revisions_table(&self, raw: &RawConfig, version_table: &str) -> Result<String> {
        let table = match &raw.revisions_table {
            Some(v) => self.expand(v, "revisions_table")?,
            None => DEFAULT_REVISIONS_TABLE.to_owned(),
        };
        if table.is_empty() || table == version_table {
            return Err(Error::Config(format!(
                "{}: `revisions_table` must be a table name other than `version_table`",
                self.file.display()
            )));
        }
        Ok(table)
    }

    /// The URL: `--database-url`, else `database_url`, else `DATABASE_URL`, else the
    /// package's SQLite file.
    fn database_url(
        &self,
        raw: &RawConfig,
        given: Option<&str>,
        location: &ConfigLocation,
    ) -> Result<String> {
        if let Some(url) = given {
            return Ok(url.to_owned());
        }
        // `database_url = "${DATABASE_URL}"` (what dbinit writes) only defers to
        // DATABASE_URL: it configures no URL of its own, like an absent key.
        let configured = raw
            .database_url
            .as_ref()
            .filter(|v| v.get_ref().trim() != "${DATABASE_URL}");
        if let Some(v) = configured {
            return self.expand(v, "database_url");
        }
        match self.env.get("DATABASE_URL") {
            Some(url) if url.trim().is_empty() => Err(Error::Config(
                "DATABASE_URL is set but empty; set it to the database to use, or unset it to use the default SQLite file".into(),
            )),
            Some(url) => Ok(url),
            // No URL configured anywhere: the loop works with no server.
            None => Ok(default_database_url(location)),
        }
    }
}

/// `[fleet]`: where the tenant databases of `--fleet` come from. Exactly one source; its
/// values keep their `${VAR}`s until the fleet is read ([`FleetSettings::expand`]), so a
/// variable only a fleet run needs does not stop the other commands.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// The source, as written.
    pub source: FleetSource,
    /// Where the table is: `dbrev.toml:LINE`.
    pub at: String,
    /// The directory of `dbrev.toml`: `urls_from` and SQLite paths are relative to it.
    pub base: PathBuf,
    vars: Environment,
}

/// The one source of a `[fleet]`.
#[derive(Debug, Clone)]
pub enum FleetSource {
    /// `urls = [...]`: the URLs themselves.
    Urls(Vec<FleetValue>),
    /// `urls_from = "FILE"`: a file of URLs, one a line (`#` comments, blank lines).
    UrlsFrom(FleetValue),
    /// `urls_query = "SELECT ..."`: one column of URLs, run on `database_url`.
    UrlsQuery(FleetValue),
    /// `schemas_query = "SELECT ..."`: one column of schema names, run on `database_url`;
    /// each tenant is that database with the schema as its search path (PostgreSQL).
    SchemasQuery(FleetValue),
}

/// One value of `[fleet]`, or one line of its `urls_from` file, as written.
#[derive(Debug, Clone)]
pub struct FleetValue {
    /// The text, `${VAR}`s not expanded yet.
    pub text: String,
    /// Where it is written: `dbrev.toml:LINE:COL`, `tenants.txt:LINE`.
    pub at: String,
    /// The key it belongs to (`urls`, `urls_from`…).
    pub key: &'static str,
}

impl FleetSource {
    /// The key that names the source (`urls`, `urls_from`, `urls_query`, `schemas_query`).
    pub fn key(&self) -> &'static str {
        match self {
            FleetSource::Urls(_) => "urls",
            FleetSource::UrlsFrom(_) => "urls_from",
            FleetSource::UrlsQuery(_) => "urls_query",
            FleetSource::SchemasQuery(_) => "schemas_query",
        }
    }
}

impl FleetSettings {
    /// Reads `[fleet]`; none or several sources is an error naming `dbrev.toml:LINE`.
    fn new(raw: &Spanned<RawFleet>, values: &Values<'_>) -> Result<FleetSettings> {
        let (line, _) = line_col(values.text, raw.span().start);
        let at = format!("{}:{line}", values.file.display());
        let value = |v: &Spanned<String>, key: &'static str| {
            let (line, col) = line_col(values.text, v.span().start);
            FleetValue {
                text: v.get_ref().clone(),
                at: format!("{}:{line}:{col}", values.file.display()),
                key,
            }
        };
        let fleet = raw.get_ref();
        let mut sources = Vec::new();
        if let Some(urls) = &fleet.urls {
            sources.push(FleetSource::Urls(
                urls.iter().map(|u| value(u, "urls")).collect(),
            ));
        }
        if let Some(v) = &fleet.urls_from {
            sources.push(FleetSource::UrlsFrom(value(v, "urls_from")));
        }
        if let Some(v) = &fleet.urls_query {
            sources.push(FleetSource::UrlsQuery(value(v, "urls_query")));
        }
        if let Some(v) = &fleet.schemas_query {
            sources.push(FleetSource::SchemasQuery(value(v, "schemas_query")));
        }
        if sources.len() != 1 {
            let found: Vec<&str> = sources.iter().map(FleetSource::key).collect();
            let found = if found.is_empty() {
                "it has none".to_owned()
            } else {
                format!("it has {}", found.join(" and "))
            };
            return Err(Error::Config(format!(
                "{at}: [fleet] needs exactly one of `urls`, `urls_from`, `urls_query` or `schemas_query`; {found}"
            )));
        }
        Ok(FleetSettings {
            source: sources.remove(0),
            at,
            base: values
                .file
                .parent()
                .map_or_else(|| values.root.to_owned(), Path::to_owned),
            vars: values.env.clone(),
        })
    }

    /// The value with its `${VAR}`s expanded; an unset variable names where it is written.
    pub fn expand(&self, value: &FleetValue) -> Result<String> {
        self.vars.expand(&value.text).map_err(|unset| {
            let state = if unset.empty {
                "set but empty"
            } else {
                "not set in the environment or .env"
            };
            Error::Config(format!(
                "{}: `{}` uses ${{{name}}}, which is {state}; set it, or write ${{{name}:-default}}",
                value.at,
                value.key,
                name = unset.name
            ))
        })
    }

    /// The lines of the `urls_from` file that hold a URL (blank lines and `#` comments
    /// skipped), each with its `file:line`; a file that cannot be read is an error naming
    /// the setting.
    pub fn read_url_file(&self, file: &FleetValue) -> Result<Vec<FleetValue>> {
        let path = self.base.join(self.expand(file)?);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Config(format!(
                "{}: `urls_from` file {}: {e}",
                file.at,
                path.display()
            ))
        })?;
        Ok(text
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                let line = line.trim();
                !line.is_empty() && !line.starts_with('#')
            })
            .map(|(n, line)| FleetValue {
                text: line.trim().to_owned(),
                at: format!("{}:{}", path.display(), n + 1),
                key: "urls_from",
            })
            .collect())
    }
}

/// The database used when no URL is set anywhere: a SQLite file named after the package,
/// in the package directory, so the loop works with no server.
pub fn default_database_url(location: &ConfigLocation) -> String {
    format!(
        "sqlite://{}",
        location
            .root
            .join(format!("{}.db", location.package_name))
            .display()
    )
}

/// Variables from the process environment, then the package's `.env`, then the workspace's.
#[derive(Clone)]
struct Environment {
    dotenv: HashMap<String, String>,
}

impl std::fmt::Debug for Environment {
    /// The values may hold passwords: only their number is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Environment({} variables from .env)", self.dotenv.len())
    }
}

impl Environment {
    fn new(location: &ConfigLocation) -> Self {
        let mut dotenv = HashMap::new();
        // The package's file wins over the workspace's: insert it last.
        let mut files = vec![location.workspace_root.join(".env")];
        if location.root != location.workspace_root {
            files.push(location.root.join(".env"));
        }
        for file in files {
            if let Ok(iter) = dotenvy::from_path_iter(&file) {
                dotenv.extend(iter.flatten());
            }
        }
        Environment { dotenv }
    }

    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.dotenv.get(name).cloned())
    }

    /// Expands `${VAR}`, `${VAR:-default}` and `$$`; an unset or empty variable without a
    /// default is an error naming it.
    fn expand(&self, value: &str) -> std::result::Result<String, UnsetVariable> {
        expand_vars(value, |name| self.get(name))
    }
}

/// A `${NAME}` without a default whose variable is unset or empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVariable {
    /// The variable's name.
    pub name: String,
    /// Set, but to the empty string.
    pub empty: bool,
}

/// The error for a `${VAR}` that has no value: `dbrev.toml:LINE:COL: `key` uses ${VAR}, ...`,
/// the position being the `${` itself.
fn unset_error(
    file: &Path,
    text: &str,
    value: &Spanned<String>,
    key: &str,
    unset: &UnsetVariable,
) -> Error {
    let span = value.span();
    let written = &text[span.start.min(text.len())..span.end.min(text.len())];
    let offset = written
        .find(&format!("${{{}", unset.name))
        .map_or(span.start, |i| span.start + i);
    let (line, col) = line_col(text, offset);
    let state = if unset.empty {
        "set but empty"
    } else {
        "not set in the environment or .env"
    };
    Error::Config(format!(
        "{}:{line}:{col}: `{key}` uses ${{{name}}}, which is {state}; set it, or write ${{{name}:-default}}",
        file.display(),
        name = unset.name
    ))
}

/// Expands `${NAME}`, `${NAME:-default}` and `$$` in `value`. A variable without a default
/// that is unset or empty is an error naming it (so `database_url = "${PROD_URL}"` never
/// silently becomes something else).
pub fn expand_vars(
    value: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> std::result::Result<String, UnsetVariable> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push('$');
                rest = after;
                continue;
            };
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match (lookup(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(UnsetVariable {
                        name: name.to_owned(),
                        empty: lookup(name).is_some(),
                    });
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables() {
        let lookup = |n: &str| (n == "HOST").then(|| "db.example".to_owned());
        assert_eq!(
            expand_vars("postgres://${HOST}/x", lookup).unwrap(),
            "postgres://db.example/x"
        );
        assert_eq!(expand_vars("${PORT:-5432}$$", lookup).unwrap(), "5432$");
        assert_eq!(expand_vars("${NOPE}", lookup).unwrap_err().name, "NOPE");
        let empty = |n: &str| (n == "E").then(String::new);
        assert!(expand_vars("${E}", empty).unwrap_err().empty);
        assert_eq!(expand_vars("${E:-x}", empty).unwrap(), "x");
    }

    #[test]
    fn positions() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 7), (2, 2));
    }
}
