//! `cargo dbexport`: dump a database to re-loadable SQL, and restore such a dump.

use clap::Parser;
use dbkit::cli::{ConfigArgs, OutputArgs, exit_with, subcommand_args};

/// Dump the configured database to plain SQL (DROP ... IF EXISTS + CREATE for every
/// object, data, the version table included) and restore dumps.
#[derive(Debug, Parser)]
#[command(name = "cargo-dbexport", bin_name = "cargo dbexport", version, about, styles = dbkit::cli::STYLES)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

fn main() {
    let cli = Cli::parse_from(subcommand_args("dbexport"));
    exit_with(run(&cli))
}

fn run(cli: &Cli) -> dbkit::Result<()> {
    let config = dbkit::Config::load(&cli.config.request())?;
    Err(dbkit::Error::Export(format!(
        "dumping {} is not available in this version of dbrev yet; use the native dumper meanwhile",
        config.database_url
    )))
}
