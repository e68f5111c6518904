//! Finding the user's cargo package: through `cargo metadata` for `cargo dbinit` and
//! whenever `--manifest-path`/`-p` is given, and by walking up from the current directory to
//! the nearest `dbrev.toml` otherwise (no subprocess, so `cargo dbrev current` starts fast).

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// The name of the configuration file at the package root.
pub const CONFIG_FILE: &str = "dbrev.toml";

/// How the user selected the package: cargo's own `--manifest-path` and `-p/--package`.
#[derive(Debug, Clone, Default)]
pub struct PackageSelector {
    /// Path to a `Cargo.toml` (package or workspace).
    pub manifest_path: Option<PathBuf>,
    /// A workspace member's name.
    pub package: Option<String>,
}

impl PackageSelector {
    /// True when neither `--manifest-path` nor `-p` was given.
    pub fn is_empty(&self) -> bool {
        self.manifest_path.is_none() && self.package.is_none()
    }
}

/// A cargo package: the unit that owns one `dbrev.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package name from `Cargo.toml`.
    pub name: String,
    /// The directory holding the package's `Cargo.toml` (and `dbrev.toml`).
    pub root: PathBuf,
    /// The workspace root (equal to `root` for a single-package project).
    pub workspace_root: PathBuf,
}

impl Package {
    /// The package's `dbrev.toml` path (whether or not it exists).
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
}

/// Finds the package with `cargo metadata`, honouring `--manifest-path` and `-p`.
///
/// At a virtual workspace root with several members and no `-p`, the error lists them.
pub fn locate_package(selector: &PackageSelector) -> Result<Package> {
    let mut command = cargo_metadata::MetadataCommand::new();
    command.no_deps();
    if let Some(manifest) = &selector.manifest_path {
        command.manifest_path(manifest);
    }
    let metadata = command.exec().map_err(|e| {
        let reason = match e {
            cargo_metadata::Error::CargoMetadata { stderr } => stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or(stderr.trim())
                .trim_start_matches("error: ")
                .to_owned(),
            other => other.to_string(),
        };
        Error::Project(format!("cannot read the cargo project: {reason}"))
    })?;
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let members: Vec<&cargo_metadata::Package> = metadata.workspace_packages();
    let to_package = |p: &cargo_metadata::Package| Package {
        name: p.name.to_string(),
        root: p
            .manifest_path
            .parent()
            .map(|d| d.to_path_buf().into_std_path_buf())
            .unwrap_or_else(|| workspace_root.clone()),
        workspace_root: workspace_root.clone(),
    };
    let names = || {
        members
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(wanted) = &selector.package {
        return members
            .iter()
            .find(|p| p.name.as_str() == wanted)
            .map(|p| to_package(p))
            .ok_or_else(|| {
                Error::Project(format!(
                    "package `{wanted}` is not a member of the workspace at {} (members: {})",
                    workspace_root.display(),
                    names()
                ))
            });
    }
    let manifest = match &selector.manifest_path {
        Some(m) => std::path::absolute(m).at(m)?,
        None => {
            let cwd = std::env::current_dir().at(".")?;
            nearest_manifest(&cwd).unwrap_or_else(|| workspace_root.join("Cargo.toml"))
        }
    };
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    if let Some(p) = members.iter().find(|p| {
        let m = p.manifest_path.as_std_path();
        m.canonicalize().ok().as_deref() == Some(manifest.as_path()) || m == manifest
    }) {
        return Ok(to_package(p));
    }
    match members.as_slice() {
        [only] => Ok(to_package(only)),
        [] => Err(Error::Project(format!(
            "the workspace at {} has no packages",
            workspace_root.display()
        ))),
        _ => Err(Error::Project(format!(
            "{} is a virtual workspace with several packages; choose one with -p/--package: {}",
            manifest.display(),
            names()
        ))),
    }
}

/// The nearest `Cargo.toml` at or above `dir`.
fn nearest_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
}

/// Where the configuration lives and which package owns it.
#[derive(Debug, Clone)]
pub struct ConfigLocation {
    /// The `dbrev.toml` file.
    pub file: PathBuf,
    /// The package directory (the file's directory); relative paths in the file resolve here.
    pub root: PathBuf,
    /// The package name (from the `Cargo.toml` beside the file, else the directory name).
    pub package_name: String,
    /// The workspace root, where a workspace-level `.env` may live.
    pub workspace_root: PathBuf,
}

/// Finds `dbrev.toml`: the explicit `-c` file, else the selected package's (through
/// `cargo metadata` when `--manifest-path`/`-p` is given), else the nearest one at or above
/// the current directory, else the single workspace member that has one.
pub fn find_config(explicit: Option<&Path>, selector: &PackageSelector) -> Result<ConfigLocation> {
    if let Some(file) = explicit {
        if !file.is_file() {
            return Err(Error::Project(format!(
                "configuration file {} does not exist",
                file.display()
            )));
        }
        let file = std::path::absolute(file).at(file)?;
        return Ok(location_of(file));
    }
    if !selector.is_empty() {
        let package = locate_package(selector)?;
        return existing(package.config_path(), &package.root).map(|file| ConfigLocation {
            workspace_root: package.workspace_root.clone(),
            ..location_of(file)
        });
    }
    let cwd = std::env::current_dir().at(".")?;
    if let Some(file) = cwd
        .ancestors()
        .map(|d| d.join(CONFIG_FILE))
        .find(|f| f.is_file())
    {
        return Ok(location_of(file));
    }
    // At a workspace root: one member may own the configuration.
    if let Ok(metadata) = cargo_metadata::MetadataCommand::new().no_deps().exec() {
        let owners: Vec<PathBuf> = metadata
            .workspace_packages()
            .iter()
            .filter_map(|p| p.manifest_path.parent())
            .map(|d| d.as_std_path().join(CONFIG_FILE))
            .filter(|f| f.is_file())
            .collect();
        match owners.as_slice() {
            [one] => return Ok(location_of(one.clone())),
            [] => {}
            several => {
                let list: Vec<String> = several.iter().map(|p| p.display().to_string()).collect();
                return Err(Error::Project(format!(
                    "several packages have a {CONFIG_FILE}; choose one with -p/--package or -c: {}",
                    list.join(", ")
                )));
            }
        }
    }
    Err(Error::Project(format!(
        "no {CONFIG_FILE} found in {} or its parents; run `cargo dbinit` first, or pass -c FILE",
        cwd.display()
    )))
}

fn existing(file: PathBuf, root: &Path) -> Result<PathBuf> {
    if file.is_file() {
        Ok(file)
    } else {
        Err(Error::Project(format!(
            "no {CONFIG_FILE} in {}; run `cargo dbinit` there first",
            root.display()
        )))
    }
}

fn location_of(file: PathBuf) -> ConfigLocation {
    let root = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let package_name = package_name_at(&root).unwrap_or_else(|| {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "app".into())
    });
    let workspace_root = root
        .ancestors()
        .skip(1)
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .map(|t| t.contains("[workspace]"))
                .unwrap_or(false)
        })
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.clone());
    ConfigLocation {
        file,
        root,
        package_name,
        workspace_root,
    }
}

/// Reads `package.name` from the `Cargo.toml` in `dir`.
fn package_name_at(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    manifest
        .get("package")?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}
