//! dbkit: the library behind `cargo dbinit`, `cargo dbrev` and `cargo dbexport`.
//!
//! Alembic-style migrations for diesel projects on SQLite, PostgreSQL and MySQL/MariaDB.
//! Everything the binaries do is a public function here, so a project's own `cargo xtask`
//! can discover the project, load the configuration, connect, upgrade and export
//! in-process. See `ARCHITECTURE.md` for the map.

pub mod apply;
pub mod authoring;
pub mod autogen;
pub mod backend;
pub mod changes;
pub mod cli;
pub mod cluster;
pub mod completions;
pub mod config;
pub mod db;
pub mod dialect;
mod driver;
pub mod error;
pub mod export;
pub mod filter;
pub mod fleet;
pub mod fork;
pub mod format;
pub mod graph;
pub mod graph_error;
pub mod init;
pub mod inspect;
pub mod journal;
pub mod lint;
pub mod listing;
pub mod lock;
pub mod machine;
pub mod migrate;
pub mod model;
pub mod offline;
pub mod plan;
pub mod project;
pub mod proving;
pub mod rebase;
pub mod rust_enums;
pub mod rust_model;
pub mod scratch;
pub mod script;
pub mod snapshot;
pub mod sqltype;
pub mod stamp;
pub mod statements;
pub mod target;
pub mod term;
mod tls;
pub mod url;
pub mod vcs;

pub use backend::Backend;
pub use config::{Config, ConfigRequest};
pub use db::Connection;
pub use error::{Error, Result};
pub use init::{InitOptions, InitReport, init};
pub use migrate::Environment;
pub use project::{Package, PackageSelector, locate_package};
pub use term::Reporter;
pub use url::DatabaseUrl;
