//! `cargo dbexport`: dump a database to re-loadable SQL, and restore such a dump.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use dbkit::cli::{ConfigArgs, OutputArgs, exit_with, subcommand_args};
use dbkit::export::{DumpOptions, dump, dump_to_file, restore_file};
use dbkit::{Config, Connection, Error};

/// Dump the configured database to plain SQL (DROP ... IF EXISTS + CREATE for every
/// object, then the rows, the version table included), or restore a dump.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-dbexport",
    bin_name = "cargo dbexport",
    version,
    about,
    styles = dbkit::cli::STYLES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    dump: DumpArgs,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a dump (ours, mysqldump/mariadb-dump, pg_dump plain or sqlite3 .dump; .gz too)
    Restore {
        /// The dump file
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// Write to FILE (mode 0600, written atomically; `.gz` compresses) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only these tables
    #[arg(long, value_name = "TABLE", num_args = 1.., value_delimiter = ',')]
    tables: Vec<String>,
    /// Leave this table out (repeatable)
    #[arg(long = "exclude-table", value_name = "TABLE")]
    exclude_tables: Vec<String>,
    /// Objects only, no rows
    #[arg(long, conflicts_with = "data_only")]
    schema_only: bool,
    /// Rows only, no objects
    #[arg(long)]
    data_only: bool,
    /// No DROP ... IF EXISTS before each object
    #[arg(long)]
    no_drop: bool,
    /// No procedures and functions
    #[arg(long)]
    no_routines: bool,
    /// No triggers
    #[arg(long)]
    no_triggers: bool,
    /// No events (MySQL)
    #[arg(long)]
    no_events: bool,
    /// The largest multi-row INSERT, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_statement_bytes: usize,
}

fn main() {
    let cli = Cli::parse_from(subcommand_args("dbexport"));
    exit_with(run(cli))
}

fn run(cli: Cli) -> dbkit::Result<()> {
    let reporter = cli.output.reporter();
    let config = Config::load(&cli.config.request())?;
    let mut conn = Connection::establish(&config.database_url)?;
    match cli.command {
        Some(Command::Restore { file }) => {
            let started = std::time::Instant::now();
            let stats = restore_file(&mut conn, &file, &reporter)?;
            reporter.status(
                "Restored",
                format!(
                    "{} into {} ({} statements, {} ms)",
                    file.display(),
                    config.database_url,
                    stats.statements,
                    started.elapsed().as_millis()
                ),
            );
        }
        None => {
            let args = cli.dump;
            let mut exclude_tables = args.exclude_tables;
            exclude_tables.extend(config.exclude.iter().cloned());
            let options = DumpOptions {
                tables: args.tables,
                exclude_tables,
                schema_only: args.schema_only,
                data_only: args.data_only,
                no_drop: args.no_drop,
                no_routines: args.no_routines,
                no_triggers: args.no_triggers,
                no_events: args.no_events,
                max_statement_bytes: args.max_statement_bytes.max(1024),
            };
            let started = std::time::Instant::now();
            let stats = match &args.output {
                Some(path) => dump_to_file(&mut conn, path, &options, &reporter)?,
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
                    match dump(&mut conn, &mut out, &options, &reporter) {
                        Err(Error::Export(m)) if m.contains("Broken pipe") => return Ok(()),
                        other => other?,
                    }
                }
            };
            reporter.status(
                "Dumped",
                format!(
                    "{} tables, {} rows, {} bytes from {} in {} ms{}",
                    stats.tables,
                    stats.rows,
                    stats.bytes,
                    config.database_url,
                    started.elapsed().as_millis(),
                    args.output
                        .map(|p| format!(" to {}", p.display()))
                        .unwrap_or_default()
                ),
            );
        }
    }
    Ok(())
}
