//! Scratch databases: where `cargo dbrev test`, `rehearse` and `check --drift` replay
//! revisions, never the database they are about. Created by dbrev on the configured server
//! (`CREATE DATABASE` of a unique name; a temporary file on SQLite) and dropped at the end,
//! after a failure (the guard's `Drop`) and on Ctrl-C or `kill` (the signal handlers of
//! [`crate::export::exit_on_signal`] drop it before the process ends). Where the user
//! cannot create databases, `--scratch-url` names one to use instead: it must be empty,
//! and it is emptied again at the end.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::Backend;
use crate::db::Connection;
use crate::error::{Error, Result};
use crate::export::interrupt;
use crate::snapshot::{ObjectKind, Snapshot};
use crate::term::Reporter;
use crate::url::DatabaseUrl;

/// A database that exists for one command.
pub struct ScratchDatabase {
    url: DatabaseUrl,
    place: Place,
    keep: bool,
    /// The signal handlers' clean-up (drop or empty it), by id.
    cleanup: Option<u64>,
}

/// Where the scratch database lives and how it goes away.
enum Place {
    /// Created on the server; dropped through an administrative connection.
    Created,
    /// A file in a temporary directory (SQLite), removed with it.
    File(Option<tempfile::TempDir>),
    /// The user's (`--scratch-url`), emptied at the end of what it did not hold before.
    Given,
}

impl ScratchDatabase {
    /// A scratch database on the server of `beside` (a temporary file for SQLite), or the
    /// empty database `given` (`--scratch-url`). Says where, masked, before creating it.
    pub fn create(
        beside: &DatabaseUrl,
        given: Option<&DatabaseUrl>,
        reporter: &Reporter,
    ) -> Result<ScratchDatabase> {
        if let Some(url) = given {
            return Self::given(url, reporter);
        }
        let name = unique_name();
        match beside.backend() {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("dbrev-scratch-")
                    .tempdir()
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?;
                let path = dir.path().join(format!("{name}.db"));
                let url = DatabaseUrl::parse(&path.to_string_lossy(), dir.path())?;
                reporter.status("Scratch", format!("database {url}"));
                let removed = dir.path().to_owned();
                let cleanup = interrupt::register_cleanup(Box::new(move || {
                    std::fs::remove_dir_all(&removed).map_err(|e| e.to_string())
                }));
                Ok(ScratchDatabase {
                    url,
                    place: Place::File(Some(dir)),
                    keep: false,
                    cleanup: Some(cleanup),
                })
            }
            _ => Self::on_server(beside, &name, reporter),
        }
    }

    fn on_server(beside: &DatabaseUrl, name: &str, reporter: &Reporter) -> Result<ScratchDatabase> {
        let mut admin = admin_connection(beside)?;
        let create = crate::export::create_scratch_sql(&mut admin, name)
            .map_err(|e| creating(beside, name, &e))?;
        let url = admin.url().with_database(name);
        reporter.status("Scratch", format!("database {url}"));
        let admin_url = admin.url().clone();
        let dropped = name.to_owned();
        // Registered before it exists: a signal between CREATE and here still drops it.
        let cleanup = interrupt::register_cleanup(Box::new(move || {
            let mut conn = Connection::establish(&admin_url).map_err(|e| e.to_string())?;
            crate::export::drop_scratch(&mut conn, &dropped)
                .map_err(|e| format!("dropping the scratch database {dropped}: {e}"))
        }));
        if let Err(e) = admin.batch_execute(&create) {
            interrupt::forget_cleanup(cleanup);
            return Err(creating(beside, name, &e.to_string()));
        }
        Ok(ScratchDatabase {
            url,
            place: Place::Created,
            keep: false,
            cleanup: Some(cleanup),
        })
    }

    fn given(url: &DatabaseUrl, reporter: &Reporter) -> Result<ScratchDatabase> {
        reporter.status("Scratch", format!("database {url} (--scratch-url)"));
        let mut conn = Connection::establish(url)?;
        let held = Snapshot::read(&mut conn)?;
        let objects: Vec<String> = held
            .objects
            .keys()
            .filter(|id| !(id.kind == ObjectKind::Schema && id.name == "public"))
            .map(|id| format!("{} {}", id.kind.label(), id.name))
            .collect();
        if !objects.is_empty() {
            return Err(Error::Refused(format!(
                "the scratch database {url} is not empty ({} object(s): {}{}); dbrev fills a scratch database and empties it again, so it must start empty: empty it, or leave out --scratch-url to let dbrev create one",
                objects.len(),
                objects
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if objects.len() > 5 { ", …" } else { "" }
            )));
        }
        let emptied = url.clone();
        let cleanup = interrupt::register_cleanup(Box::new(move || {
            let mut conn = Connection::establish(&emptied).map_err(|e| e.to_string())?;
            empty(&mut conn).map_err(|e| e.to_string())
        }));
        Ok(ScratchDatabase {
            url: url.clone(),
            place: Place::Given,
            keep: false,
            cleanup: Some(cleanup),
        })
    }

    /// Its URL (print it masked: `Display` does).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Connects to it.
    pub fn connect(&self) -> Result<Connection> {
        Connection::establish(&self.url)
    }

    /// Keeps it after the command (`rehearse --keep`): nothing drops or empties it, not
    /// even a signal.
    pub fn keep(&mut self) {
        self.keep = true;
        if let Some(id) = self.cleanup.take() {
            interrupt::forget_cleanup(id);
        }
        if let Place::File(dir) = &mut self.place
            && let Some(dir) = dir.take()
        {
            // The file stays where its URL says.
            let _ = dir.keep();
        }
    }

    /// Drops it now (empties it, for `--scratch-url`), saying so if it fails.
    pub fn finish(mut self, reporter: &Reporter) -> Result<()> {
        let result = self.discard();
        if result.is_ok() && !self.keep {
            let verb = match self.place {
                Place::Given => "Emptied",
                _ => "Dropped",
            };
            reporter.note(verb, format!("the scratch database {}", self.url));
        }
        result
    }

    fn discard(&mut self) -> Result<()> {
        let Some(id) = self.cleanup.take() else {
            return Ok(());
        };
        let what = match self.place {
            Place::Given => "emptying",
            _ => "dropping",
        };
        let result = interrupt::run_cleanup(id);
        interrupt::yield_to_signal();
        match result {
            Some(Err(e)) => Err(Error::Query {
                context: format!("{what} the scratch database {}", self.url),
                message: e,
            }),
            _ => Ok(()),
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.discard() {
            crate::term::print_error(crate::url::mask(&e.to_string()));
        }
    }
}

/// `dbrev_scratch_<pid>_<time>`: unique on the server, and recognisable.
fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("dbrev_scratch_{}_{nanos}", std::process::id())
}

fn creating(beside: &DatabaseUrl, name: &str, reason: &str) -> Error {
    Error::Query {
        context: format!("creating the scratch database {name} beside {beside}"),
        message: format!(
            "{}; a user who may not create databases can name an empty one with --scratch-url",
            crate::error::one_line(reason)
        ),
    }
}

/// A connection to the server for creating and dropping: to the database itself, or —
/// when that does not exist yet — to the server's maintenance database.
fn admin_connection(beside: &DatabaseUrl) -> Result<Connection> {
    match Connection::establish(beside) {
        Ok(conn) => Ok(conn),
        Err(first) => {
            let fallback = crate::export::maintenance_database(beside.backend());
            Connection::establish(&beside.with_database(fallback)).map_err(|_| first)
        }
    }
}

/// Drops every object of the connected database that a dump would create, and the schemas
/// and extensions besides PostgreSQL's `public`.
pub(crate) fn empty(conn: &mut Connection) -> Result<()> {
    for sql in crate::export::drop_statements(conn)? {
        crate::apply::exec(conn, &sql, "emptying the scratch database")?;
    }
    let left = Snapshot::read(conn)?;
    for id in left.objects.keys() {
        let sql = match id.kind {
            ObjectKind::Schema if id.name != "public" => format!("DROP SCHEMA {} CASCADE", id.name),
            ObjectKind::Extension => format!("DROP EXTENSION IF EXISTS {} CASCADE", id.name),
            _ => continue,
        };
        crate::apply::exec(conn, &sql, "emptying the scratch database")?;
    }
    Ok(())
}
