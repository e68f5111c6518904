//! `cargo dbinit`: scaffolds a migration environment in a cargo package (like
//! `alembic init`), or adopts an existing diesel setup (`diesel.toml`, `migrations/`)
//! without moving or rewriting anything.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, IoContext, Result};
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
    print_schema: Option<PrintSchema>,
    migrations_directory: Option<MigrationsDirectory>,
}

#[derive(Debug, Default, Deserialize)]
struct PrintSchema {
    file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct MigrationsDirectory {
    dir: Option<String>,
}

/// Scaffolds (or adopts) a migration environment as `options` says.
pub fn init(options: &InitOptions) -> Result<InitReport> {
    let template = TEMPLATES
        .iter()
        .find(|t| t.name == options.template)
        .ok_or_else(|| {
            let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
            Error::Usage(format!(
                "unknown template `{}`; available: {}",
                options.template,
                names.join(", ")
            ))
        })?;
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
    let schema = diesel
        .print_schema
        .and_then(|p| p.file)
        .unwrap_or_else(|| crate::config::DEFAULT_SCHEMA.to_owned());
    let mut created = Vec::new();
    if adopted.is_none() {
        let versions = env_dir.join("versions");
        if !versions.is_dir() {
            std::fs::create_dir_all(&versions).at(&versions)?;
            created.push(versions.clone());
        }
    }
    let mut write = |path: PathBuf, text: &str, overwrite: bool| -> Result<()> {
        if path.exists() && !overwrite {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        std::fs::write(&path, text).at(&path)?;
        created.push(path);
        Ok(())
    };
    if adopted.is_none() {
        write(env_dir.join("README.md"), README_TEMPLATE, options.force)?;
    }
    // Diesel ignores plain files in its migrations directory, so the template can live there.
    write(
        env_dir.join(REVISION_TEMPLATE_FILE),
        REVISION_TEMPLATE,
        options.force && adopted.is_none(),
    )?;
    if template.name == "embedded" {
        let text = fill(
            EMBEDDED_TEMPLATE,
            &[("versions", &versions_rel), ("script_location", &rel)],
        );
        write(env_dir.join("embedded_migrations.rs"), &text, options.force)?;
    }
    let config = fill(
        CONFIG_TEMPLATE,
        &[
            ("script_location", &rel),
            ("version_locations", &versions_rel),
            ("schema", &schema),
            ("package", &package.name),
        ],
    );
    write(config_file.clone(), &config, true)?;
    Ok(InitReport {
        package,
        created,
        adopted,
        config_file,
    })
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
            .map_err(|e| Error::Config(format!("{}: {}", path.display(), e.message().trim()))),
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
