//! `cargo dbrev upgrade --backup [PATH]`: a dump of the database (gzip, mode 0600, written
//! atomically as every dump is) before anything is applied; if the dump fails, nothing is.
//! The default path is `<script_location>/backups/<database>-<UTC time>.sql.gz`, which
//! `cargo dbinit` keeps out of git. The restore command is printed with the URL masked.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::Connection;
use crate::error::{IoContext, Result};
use crate::export::{DumpOptions, DumpStats, dump_to_file};
use crate::migrate::{Environment, MigrateOptions, Step};
use crate::target::Motion;
use crate::term::Reporter;

/// Where the backup goes.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// `--backup PATH` (`.gz` is added when missing); `None`: the default path.
    pub path: Option<PathBuf>,
}

/// A backup taken.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The file.
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// How to load it back (the URL masked).
    pub restore_command: String,
}

impl Environment {
    /// Dumps the connected database to `path` (the default path when `None`), gzipped,
    /// readable by its owner only.
    pub fn backup(
        &self,
        conn: &mut Connection,
        path: Option<&Path>,
        reporter: &Reporter,
    ) -> Result<BackupReport> {
        let path = match path {
            Some(p) if p.extension().is_some_and(|e| e == "gz") => p.to_owned(),
            Some(p) => PathBuf::from(format!("{}.gz", p.display())),
            None => self.default_backup_path(conn)?,
        };
        reporter.status(
            "Backing up",
            format!("{} to {}", conn.url(), path.display()),
        );
        let options = DumpOptions {
            config_filter: None,
            ..DumpOptions::default()
        };
        let stats: DumpStats = dump_to_file(conn, &path, &options, reporter)?;
        let restore_command = format!(
            "cargo dbexport restore {} --yes --database-url '{}'",
            path.display(),
            conn.url()
        );
        reporter.status(
            "Backed up",
            format!(
                "{} rows of {} tables to {}",
                stats.rows,
                stats.tables,
                path.display()
            ),
        );
        reporter.note("Restore", format!("with `{restore_command}`"));
        Ok(BackupReport {
            path,
            rows: stats.rows,
            restore_command,
        })
    }

    /// `versioning/backups/<database>-<YYYYMMDDTHHMMSSZ>.sql.gz`; the directory is created
    /// (private) if missing, with a `.gitignore` that keeps everything in it out of git.
    fn default_backup_path(&self, conn: &Connection) -> Result<PathBuf> {
        let dir = self.config.script_location.join("backups");
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).at(&dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).at(&dir)?;
            }
        }
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(
                &ignore,
                "# Backups of production data stay out of git.\n*\n",
            )
            .at(&ignore)?;
        }
        let now = time::OffsetDateTime::now_utc();
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        Ok(dir.join(format!("{}-{stamp}.sql.gz", database_name(conn))))
    }

    /// `upgrade --backup`: the backup, then the upgrade; a dump that fails applies nothing.
    /// When there is nothing to apply, no backup is taken.
    pub fn upgrade_with_backup(
        &self,
        conn: &mut Connection,
        target: &str,
        options: MigrateOptions,
        backup: &BackupOptions,
        reporter: &Reporter,
    ) -> Result<(Option<BackupReport>, Vec<Step>)> {
        let state = self.current(conn)?;
        let pending = options.resume
            || !state.partial.is_empty()
            || self
                .graph
                .destination(target, &state.applied, Motion::Up)
                .map(|d| !self.graph.upgrade_plan(&d.ids, &state.applied).is_empty())
                .unwrap_or(true);
        let report = if pending {
            Some(self.backup(conn, backup.path.as_deref(), reporter)?)
        } else {
            reporter.note("Backup", "not taken: there is nothing to apply");
            None
        };
        let steps = self.upgrade_with(conn, target, options, reporter)?;
        Ok((report, steps))
    }
}

/// The database's name for a file name: the URL's last path part (SQLite: the file's
/// stem), without what a file name cannot hold.
fn database_name(conn: &Connection) -> String {
    let url = conn.url().expose();
    let path = url.split('?').next().unwrap_or(url);
    let last = path.rsplit(['/', '\\']).next().unwrap_or("database");
    let stem = Path::new(last)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "database".into()
    } else {
        clean
    }
}
