//! The tenants of a fleet, read from `[fleet]`: `urls`, the lines of `urls_from`, the rows
//! of `urls_query`, or the schemas `schemas_query` lists (the configured database with each
//! schema as its search path). A URL that does not parse, a query that fails, a tenant
//! listed twice or an empty fleet is an error naming where it is written.

use std::collections::HashMap;
use std::path::Path;

use crate::config::{Config, FleetSettings, FleetSource, FleetValue};
use crate::db::{Connection, ValueRow};
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::migrate::Environment;
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// The tenants a fleet command works on, in the order their source lists them.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Where they were read from, for people (`tenants.txt (urls_from, dbrev.toml:7)`).
    pub source: String,
    /// The tenants.
    pub tenants: Vec<Tenant>,
}

/// One tenant database (or schema) of a fleet.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// How it is shown: the masked URL, and `schema NAME` for a schema tenant.
    pub name: String,
    /// Where it is listed (`tenants.txt:3`, `dbrev.toml:8:5`, `urls_query row 4`).
    pub origin: String,
    /// The URL every session of the tenant connects with (a schema tenant's sets its
    /// search path).
    pub url: DatabaseUrl,
    /// The database that holds it: [`Self::url`], or for a schema tenant the configured
    /// database without the schema (scratch databases for `test` go beside it).
    pub database: DatabaseUrl,
    /// The schema, for a schema tenant.
    pub schema: Option<String>,
    /// A file name for it, unique in the fleet, from its database (and schema) name.
    pub file_stem: String,
}

impl Tenant {
    /// The environment whose database is this tenant.
    pub fn environment(&self, env: &Environment) -> Environment {
        let mut env = env.clone();
        env.config.database_url = self.url.clone();
        env
    }
}

impl Fleet {
    /// Reads the tenants of `[fleet]`; a query source runs on the configured database,
    /// which is named first. Nothing is written.
    pub fn read(config: &Config, reporter: &Reporter) -> Result<Fleet> {
        let settings = config.fleet.as_ref().ok_or_else(|| {
            Error::Config(format!(
                "{}: --fleet needs a [fleet] table with `urls = [...]`, `urls_from = \"FILE\"`, `urls_query = \"SELECT ...\"` or `schemas_query = \"SELECT ...\"`",
                config.location.file.display()
            ))
        })?;
        let key = settings.source.key();
        let (source, tenants) = match &settings.source {
            FleetSource::Urls(values) => (
                format!("`urls` ({})", settings.at),
                url_tenants(settings, expanded(settings, values)?)?,
            ),
            FleetSource::UrlsFrom(file) => {
                let lines = settings.read_url_file(file)?;
                let shown = settings.expand(file)?;
                (
                    format!("{shown} (`urls_from`, {})", settings.at),
                    url_tenants(settings, expanded(settings, &lines)?)?,
                )
            }
            FleetSource::UrlsQuery(query) | FleetSource::SchemasQuery(query) => {
                let url = &config.database_url;
                let rows = listed_by_query(settings, query, url, reporter)?;
                let tenants = match &settings.source {
                    FleetSource::SchemasQuery(_) => schema_tenants(query, url, rows)?,
                    _ => url_tenants(settings, rows)?,
                };
                (format!("`{key}` ({}) on {url}", settings.at), tenants)
            }
        };
        if tenants.is_empty() {
            return Err(Error::Config(format!(
                "{}: the fleet is empty: `{key}` lists no database",
                settings.at
            )));
        }
        let mut fleet = Fleet { source, tenants };
        fleet.check_unique()?;
        fleet.name_files();
        Ok(fleet)
    }

    /// Names the fleet before anything is written: how many databases, from where, and
    /// with `-v` each of them.
    pub fn announce(&self, reporter: &Reporter) {
        reporter.note(
            "Fleet",
            format!("{} databases from {}", self.tenants.len(), self.source),
        );
        for tenant in &self.tenants {
            reporter.detail(format!("{} ({})", tenant.name, tenant.origin));
        }
    }

    /// A database listed twice would be worked on twice at once: an error naming both.
    fn check_unique(&self) -> Result<()> {
        let mut seen: HashMap<&str, &Tenant> = HashMap::new();
        for tenant in &self.tenants {
            if let Some(first) = seen.insert(tenant.url.expose(), tenant) {
                return Err(Error::Config(format!(
                    "{}: {} is listed twice in the fleet (also at {})",
                    tenant.origin, tenant.name, first.origin
                )));
            }
        }
        Ok(())
    }

    /// Gives every tenant a file name of its own (`-2`, `-3` after a name taken).
    fn name_files(&mut self) {
        let mut taken = std::collections::HashSet::new();
        for tenant in &mut self.tenants {
            let base = file_name_of(tenant);
            let mut name = base.clone();
            let mut n = 1;
            while !taken.insert(name.to_ascii_lowercase()) {
                n += 1;
                name = format!("{base}-{n}");
            }
            tenant.file_stem = name;
        }
    }
}

/// One entry of a fleet's list, variables expanded, and where it is listed.
struct Listed {
    text: String,
    at: String,
}

/// The values with their `${VAR}`s expanded.
fn expanded(settings: &FleetSettings, values: &[FleetValue]) -> Result<Vec<Listed>> {
    values
        .iter()
        .map(|value| {
            Ok(Listed {
                text: settings.expand(value)?,
                at: value.at.clone(),
            })
        })
        .collect()
}

/// Tenants from URLs (SQLite paths relative to dbrev.toml's directory); a URL that does
/// not parse names where it is listed.
fn url_tenants(settings: &FleetSettings, listed: Vec<Listed>) -> Result<Vec<Tenant>> {
    listed
        .into_iter()
        .map(|value| {
            let url = DatabaseUrl::parse(&value.text, &settings.base)
                .map_err(|e| Error::Config(format!("{}: {e}", value.at)))?;
            Ok(Tenant {
                name: url.masked(),
                origin: value.at,
                database: url.clone(),
                url,
                schema: None,
                file_stem: String::new(),
            })
        })
        .collect()
}

/// The first column of every row a `[fleet]` query returns, run on the configured
/// database (named first); a failing query or a NULL names the setting.
fn listed_by_query(
    settings: &FleetSettings,
    query: &FleetValue,
    url: &DatabaseUrl,
    reporter: &Reporter,
) -> Result<Vec<Listed>> {
    let sql = settings.expand(query)?;
    reporter.target(url);
    let mut conn = Connection::establish(url)?;
    let rows = conn
        .load::<ValueRow>(&sql)
        .map_err(|e| Error::sql(format!("{}: `{}`", query.at, query.key), e))?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let at = format!("`{}` row {}", query.key, i + 1);
            match row.value {
                Some(text) => Ok(Listed { text, at }),
                None => Err(Error::Config(format!(
                    "{}: `{}` returned NULL in row {} (its one column, `value`, must name a database)",
                    query.at,
                    query.key,
                    i + 1
                ))),
            }
        })
        .collect()
}

/// Tenants that are schemas of the configured database: its URL with the dialect's
/// search-path parameter. A backend without such schemas is an error naming the setting.
fn schema_tenants(
    query: &FleetValue,
    database: &DatabaseUrl,
    rows: Vec<Listed>,
) -> Result<Vec<Tenant>> {
    let dialect = dialect_for(database.backend());
    rows.into_iter()
        .map(|row| {
            let schema = row.text;
            let Some((key, value)) = dialect.schema_url_parameter(&schema) else {
                return Err(Error::Config(format!(
                    "{}: `schemas_query` needs a database whose tenants can be schemas (PostgreSQL); {database} is {}: list its databases with `urls_query`",
                    query.at,
                    database.backend()
                )));
            };
            let raw = database.expose();
            let separator = if raw.contains('?') { '&' } else { '?' };
            let url = DatabaseUrl::parse(
                &format!("{raw}{separator}{key}={}", percent_encode(&value)),
                Path::new("/"),
            )?;
            Ok(Tenant {
                name: format!("{database} schema {schema}"),
                origin: row.at,
                url,
                database: database.clone(),
                schema: Some(schema),
                file_stem: String::new(),
            })
        })
        .collect()
}

/// Every byte but the unreserved ones as `%XX`.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A file name from the tenant's database name (a SQLite file's stem, a server URL's
/// path) and schema, from its masked form; characters other than letters, digits, `_`,
/// `-` and `.` become `_`.
fn file_name_of(tenant: &Tenant) -> String {
    let shown = tenant.database.masked();
    let database = match shown.split_once("://") {
        Some((_, rest)) => rest
            .split('?')
            .next()
            .and_then(|r| r.split_once('/'))
            .map(|(_, path)| path.to_owned())
            .unwrap_or_default(),
        None => Path::new(&shown)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let name = match &tenant.schema {
        Some(schema) => format!("{database}.{schema}"),
        None => database,
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "database".to_owned()
    } else {
        safe.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(url: &str, schema: Option<&str>) -> Tenant {
        let url = DatabaseUrl::parse(url, Path::new("/base")).unwrap();
        Tenant {
            name: url.masked(),
            origin: String::new(),
            database: url.clone(),
            url,
            schema: schema.map(str::to_owned),
            file_stem: String::new(),
        }
    }

    #[test]
    fn file_names_come_from_the_database_and_schema() {
        let name = |url, schema| file_name_of(&tenant(url, schema));
        assert_eq!(name("sqlite://data/acme.db", None), "acme");
        assert_eq!(name("postgres://u:secret@h:5432/shop?x=1", None), "shop");
        assert_eq!(
            name("postgres://u@h/shop", Some("Tenant A/..")),
            "shop.Tenant_A_.."
        );
        assert_eq!(name("mysql://u@h", None), "database");
    }

    #[test]
    fn taken_names_get_a_number() {
        let mut fleet = Fleet {
            source: String::new(),
            tenants: vec![
                tenant("postgres://a/shop", None),
                tenant("postgres://b/shop", None),
                tenant("postgres://c/Shop", None),
            ],
        };
        fleet.name_files();
        let stems: Vec<&str> = fleet.tenants.iter().map(|t| t.file_stem.as_str()).collect();
        assert_eq!(stems, ["shop", "shop-2", "Shop-3"]);
    }

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(
            percent_encode("-c search_path=\"a\\ b\""),
            "-c%20search_path%3D%22a%5C%20b%22"
        );
    }
}
