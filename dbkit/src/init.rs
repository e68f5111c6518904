//! `cargo dbinit`: scaffolds a migration environment in a cargo package (like
//! `alembic init`), or adopts an existing diesel setup (`diesel.toml`, `migrations/`)
//! without moving or rewriting anything. From diesel.toml's `[print_schema]` (one
//! configuration, or several as `[print_schema.NAME]`) it carries over the schema files
//! and the table `filter`, so `check` compares what print-schema prints.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, IoContext, Result};
use crate::filter::TablePattern;
use crate::project::{Package, PackageSelector, locate_package};
use crate::script::{REVISION_TEMPLATE, REVISION_TEMPLATE_FILE};

/// A scaffolding template: what `cargo dbinit --template NAME` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// The name given to `--template`.
    pub name: &'static str,
    /// One line for `--list-templates`.
    pub description: &'static str,
}

/// Every template `cargo dbinit` knows.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "generic",
        description: "dbrev.toml, the revision template, versions/ and a README",
    },
    Template {
        name: "embedded",
        description: "generic, plus embedded_migrations.rs so the app runs its revisions at start-up with diesel_migrations",
    },
];

const CONFIG_TEMPLATE: &str = include_str!("../templates/dbrev.toml.tmpl");
const README_TEMPLATE: &str = include_str!("../templates/README.md.tmpl");
const EMBEDDED_TEMPLATE: &str = include_str!("../templates/embedded_migrations.rs.tmpl");

/// What `cargo dbinit` was asked to do.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Which package (cargo's `--manifest-path` and `-p`).
    pub package: PackageSelector,
    /// The environment directory, relative to the package root (`versioning`).
    pub directory: PathBuf,
    /// The template name (see [`TEMPLATES`]).
    pub template: String,
    /// Overwrite an existing `dbrev.toml` and write into a non-empty directory.
    pub force: bool,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            package: PackageSelector::default(),
            directory: PathBuf::from("versioning"),
            template: "generic".into(),
            force: false,
        }
    }
}

/// What `cargo dbinit` did.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// The package that now has a migration environment.
    pub package: Package,
    /// Files and directories written, in order.
    pub created: Vec<PathBuf>,
    /// The existing diesel migrations directory that was adopted, if any.
    pub adopted: Option<PathBuf>,
    /// The configuration file written.
    pub config_file: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
struct DieselToml {
    print_schema: Option<toml::Table>,
    migrations_directory: Option<MigrationsDirectory>,
}

/// The keys of one diesel print-schema configuration (diesel_cli's `PrintSchema`); any
/// other key of `[print_schema]` holding a table is a named configuration.
const PRINT_SCHEMA_KEYS: &[&str] = &[
    "file",
    "with_docs",
    "allow_tables_to_appear_in_same_query_config",
    "filter",
    "column_sorting",
    "schema",
    "patch_file",
    "import_types",
    "generate_missing_sql_type_definitions",
    "except_custom_type_definitions",
    "custom_type_derives",
    "sqlite_integer_primary_key_is_bigint",
    "pg_domains_as_custom_types",
];

/// diesel's table filter of one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DieselFilter {
    None,
    Only(Vec<String>),
    Except(Vec<String>),
}

/// What adoption takes from one print-schema configuration.
#[derive(Debug)]
struct PrintSchemaConfig {
    file: Option<String>,
    filter: DieselFilter,
}

#[derive(Debug, Default, Deserialize)]
struct MigrationsDirectory {
    dir: Option<String>,
}

/// Scaffolds (or adopts) a migration environment as `options` says.
pub fn init(options: &InitOptions) -> Result<InitReport> {
    let template = find_template(&options.template)?;
    let package = locate_package(&options.package)?;
    let root = &package.root;
    let config_file = package.config_path();
    if config_file.exists() && !options.force {
        return Err(Error::Exists {
            path: config_file,
            hint: "; pass --force to overwrite it".into(),
        });
    }
    if options.directory.is_absolute() || options.directory.as_os_str().is_empty() {
        return Err(Error::Usage(format!(
            "the directory must be a relative path inside the package, not `{}`",
            options.directory.display()
        )));
    }
    let diesel = read_diesel_toml(root)?;
    let env_dir = root.join(&options.directory);
    let adopted = is_diesel_migrations(&env_dir, root, &diesel).then(|| env_dir.clone());
    if adopted.is_none() && is_non_empty_dir(&env_dir)? && !options.force {
        return Err(Error::Exists {
            path: env_dir,
            hint: " and is not empty; pass --force to write into it, or choose another directory"
                .into(),
        });
    }
    let rel = slash_path(&options.directory);
    let versions_rel = if adopted.is_some() {
        rel.clone()
    } else {
        format!("{rel}/versions")
    };
    let printed = print_schema_configs(&root.join("diesel.toml"), diesel.print_schema.as_ref())?;
    let printed: Vec<&PrintSchemaConfig> = printed.iter().filter(|c| c.file.is_some()).collect();
    let mut files = Scaffold {
        dir: env_dir,
        force: options.force,
        adopting: adopted.is_some(),
        created: Vec::new(),
    };
    files.write_environment(template, &rel, &versions_rel)?;
    let config = fill(
        CONFIG_TEMPLATE,
        &[
            ("script_location", &rel),
            ("version_locations", &versions_rel),
            ("schema", &schema_setting(&printed)),
            ("filter", &carried_filter(&printed)),
            ("package", &package.name),
        ],
    );
    files.write(config_file.clone(), &config, true)?;
    Ok(InitReport {
        package,
        created: files.created,
        adopted,
        config_file,
    })
}

/// The template called `name`; an unknown one is a usage error listing them.
fn find_template(name: &str) -> Result<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        Error::Usage(format!(
            "unknown template `{name}`; available: {}",
            names.join(", ")
        ))
    })
}

/// `schema = …` in dbrev.toml: the files diesel's print-schema writes, else the default.
fn schema_setting(printed: &[&PrintSchemaConfig]) -> String {
    match printed {
        [] => toml_string(crate::config::DEFAULT_SCHEMA),
        [one] => toml_string(one.file.as_deref().unwrap_or_default()),
        many => format!(
            "[{}]",
            many.iter()
                .map(|c| toml_string(c.file.as_deref().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The files `init` writes into the environment directory, and what it created.
struct Scaffold {
    dir: PathBuf,
    force: bool,
    /// The directory is diesel's migrations directory, adopted as it is.
    adopting: bool,
    created: Vec<PathBuf>,
}

impl Scaffold {
    /// `versions/`, the README, the revision template and the template's own files (an
    /// adopted diesel directory gets only the revision template, never overwritten).
    fn write_environment(
        &mut self,
        template: &Template,
        rel: &str,
        versions_rel: &str,
    ) -> Result<()> {
        if !self.adopting {
            let versions = self.dir.join("versions");
            if !versions.is_dir() {
                std::fs::create_dir_all(&versions).at(&versions)?;
                self.created.push(versions);
            }
            self.write(self.dir.join("README.md"), README_TEMPLATE, self.force)?;
        }
        // Diesel ignores plain files in its migrations directory, so the template can live there.
        let overwrite = self.force && !self.adopting;
        self.write(
            self.dir.join(REVISION_TEMPLATE_FILE),
            REVISION_TEMPLATE,
            overwrite,
        )?;
        if template.name == "embedded" {
            let text = fill(
                EMBEDDED_TEMPLATE,
                &[("versions", versions_rel), ("script_location", rel)],
            );
            self.write(self.dir.join("embedded_migrations.rs"), &text, self.force)?;
        }
        Ok(())
    }

    /// Writes a file (creating its directory) unless it exists and `overwrite` is false.
    fn write(&mut self, path: PathBuf, text: &str, overwrite: bool) -> Result<()> {
        if path.exists() && !overwrite {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        std::fs::write(&path, text).at(&path)?;
        self.created.push(path);
        Ok(())
    }
}

/// The print-schema configurations of diesel.toml's `[print_schema]`, the unnamed one first.
fn print_schema_configs(
    diesel_toml: &Path,
    print_schema: Option<&toml::Table>,
) -> Result<Vec<PrintSchemaConfig>> {
    let Some(table) = print_schema else {
        return Ok(Vec::new());
    };
    let mut configs = vec![read_print_schema(diesel_toml, "print_schema", table)?];
    for (key, value) in table {
        if let (false, toml::Value::Table(named)) =
            (PRINT_SCHEMA_KEYS.contains(&key.as_str()), value)
        {
            configs.push(read_print_schema(
                diesel_toml,
                &format!("print_schema.{key}"),
                named,
            )?);
        }
    }
    Ok(configs)
}

fn read_print_schema(
    diesel_toml: &Path,
    at: &str,
    table: &toml::Table,
) -> Result<PrintSchemaConfig> {
    let bad = |what: &str| Error::Config(format!("{}: [{at}] {what}", diesel_toml.display()));
    let file = match table.get("file") {
        None => None,
        Some(toml::Value::String(file)) => Some(file.clone()),
        Some(_) => return Err(bad("`file` must be a string")),
    };
    let regexes = |key: &str, value: &toml::Value| -> Result<Vec<String>> {
        let list = value
            .as_array()
            .ok_or_else(|| bad(&format!("`filter.{key}` must be a list of regexes")))?;
        list.iter()
            .map(|item| {
                let regex = item
                    .as_str()
                    .ok_or_else(|| bad(&format!("`filter.{key}` must be a list of regexes")))?;
                // diesel itself refuses a regex that does not compile.
                TablePattern::parse(&TablePattern::from_diesel_regex(regex)).map_err(|e| {
                    bad(&format!(
                        "`filter.{key}` entry `{regex}` is not a valid regex: {}",
                        e.to_string().lines().last().unwrap_or_default().trim()
                    ))
                })?;
                Ok(regex.to_owned())
            })
            .collect()
    };
    let filter = match table.get("filter") {
        None => DieselFilter::None,
        Some(toml::Value::Table(filter)) => {
            match (filter.get("only_tables"), filter.get("except_tables")) {
                (Some(only), None) => DieselFilter::Only(regexes("only_tables", only)?),
                (None, Some(except)) => DieselFilter::Except(regexes("except_tables", except)?),
                (None, None) => DieselFilter::None,
                (Some(_), Some(_)) => {
                    return Err(bad("`filter` takes only_tables or except_tables, not both"));
                }
            }
        }
        Some(_) => return Err(bad("`filter` must be a table")),
    };
    Ok(PrintSchemaConfig { file, filter })
}

/// The dbrev.toml lines for diesel's filter: the same tables, as `include` / `exclude`
/// entries (`/regex/`, searched in the name as diesel does). Several configurations with
/// different filters (each for its own schema) cannot be one list: none is carried, and
/// the file says so.
fn carried_filter(printed: &[&PrintSchemaConfig]) -> String {
    const DOC: &str = "# Tables that autogenerate and check leave out (`exclude`), or the only ones they look at\n\
# (`include`). An entry is a table name, or a regex between slashes searched anywhere in\n\
# the name, as diesel's [print_schema] filter does: \"/^tmp_/\".\n";
    let entries = |regexes: &[String]| {
        regexes
            .iter()
            .map(|r| toml_string(&TablePattern::from_diesel_regex(r)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let filters: Vec<&DieselFilter> = printed.iter().map(|c| &c.filter).collect();
    let same = filters.windows(2).all(|pair| pair[0] == pair[1]);
    match filters.first() {
        Some(DieselFilter::Only(regexes)) if same => format!(
            "{DOC}# Carried over from diesel.toml's [print_schema] filter (only_tables).\ninclude = [{}]\nexclude = []",
            entries(regexes)
        ),
        Some(DieselFilter::Except(regexes)) if same => format!(
            "{DOC}# Carried over from diesel.toml's [print_schema] filter (except_tables).\nexclude = [{}]",
            entries(regexes)
        ),
        Some(_) if !same => format!(
            "{DOC}# diesel.toml's print-schema configurations filter tables differently; set these by hand.\nexclude = []"
        ),
        _ => format!("{DOC}exclude = []"),
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Replaces `{{name}}` placeholders.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (k, v)| {
        text.replace(&format!("{{{{{k}}}}}"), v)
    })
}

fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read_diesel_toml(root: &Path) -> Result<DieselToml> {
    let path = root.join("diesel.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str::<toml::Table>(&text)
            .and_then(|t| t.try_into())
            .map_err(|e| Error::ConfigSyntax {
                message: format!("{}: {}", path.display(), e.message().trim()),
                source: Box::new(e),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DieselToml::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Whether `dir` is the package's existing diesel migrations directory.
fn is_diesel_migrations(dir: &Path, root: &Path, diesel: &DieselToml) -> bool {
    if !dir.is_dir() {
        return false;
    }
    let configured = diesel
        .migrations_directory
        .as_ref()
        .and_then(|m| m.dir.as_deref())
        .map(|d| root.join(d));
    if configured.is_some_and(|c| same_path(&c, dir)) {
        return true;
    }
    std::fs::read_dir(dir)
        .is_ok_and(|entries| entries.flatten().any(|e| e.path().join("up.sql").is_file()))
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn is_non_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(Error::Exists {
            path: dir.to_path_buf(),
            hint: " and is a file; choose another directory".into(),
        }),
        Err(e) => Err(Error::io(dir, e)),
    }
}
