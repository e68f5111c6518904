//! `cargo dbexport`: dump a database to re-loadable SQL, and restore such a dump.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand};
use dbkit::cli::{ConfigArgs, FleetArgs, OutputArgs, exit_with, print_out, subcommand_args};
use dbkit::completions::{CompletionsArgs, complete_if_asked};
use dbkit::export::{
    ConfigFilter, DumpFile, DumpOptions, RestoreOptions, dump, restore, target_tables,
};
use dbkit::{Config, Connection, DatabaseUrl, Error};

/// Dump the configured database to plain SQL (DROP ... IF EXISTS + CREATE for every
/// object, then the rows, the version table included), or restore a dump.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-dbexport",
    bin_name = "cargo dbexport",
    version,
    about,
    styles = dbkit::cli::STYLES,
    after_help = dbkit::cli::EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    dump: DumpArgs,
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a dump (ours, mysqldump/mariadb-dump, pg_dump plain or sqlite3 .dump; .gz too)
    ///
    /// Writes only into the database given (statements that switch or create databases
    /// are skipped, a file naming several databases is refused), asks before restoring
    /// into a database that holds tables, and refuses a dump that is not complete.
    Restore {
        /// The dump file
        file: PathBuf,
        /// Restore into a database that already holds tables without asking
        #[arg(short, long)]
        yes: bool,
        /// Load a dump that lacks its completion line or is cut short (every whole statement)
        #[arg(long)]
        allow_incomplete: bool,
    },
    /// Print the shell completion script (bash, zsh, fish) for `cargo dbexport` and
    /// `cargo-dbexport`: `source <(cargo dbexport completions bash)`
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// Write to FILE (mode 0600, written atomically; `.gz` compresses); `-` or none: stdout.
    /// With --fleet: a directory, one NAME.sql per database (NAME from its database and
    /// schema name)
    #[arg(short, long, value_name = "FILE", required_if_eq("fleet", "true"))]
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
    /// Keep the DEFINER of views, routines, triggers and events (MySQL; left out by default
    /// so the dump loads for any user)
    #[arg(long)]
    keep_definer: bool,
    /// The largest multi-row INSERT, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_statement_bytes: usize,
}

fn main() {
    complete_if_asked("dbexport", Cli::command);
    let cli = Cli::parse_from(subcommand_args("dbexport"));
    exit_with(dbkit::export::exit_on_signal().and_then(|()| run(cli)))
}

/// The database URL and the tables the configuration's `include` / `exclude` leave in.
/// With `--database-url` and no `dbrev.toml` to be found (none given with `-c`, `-p` or
/// `--manifest-path`), the URL alone is enough: a dump or restore needs no project.
fn target(cli: &Cli) -> dbkit::Result<(DatabaseUrl, Option<ConfigFilter>)> {
    let request = cli.config.request();
    match Config::load(&request) {
        Ok(config) => {
            let filter = (!config.include.is_empty() || !config.exclude.is_empty())
                .then(|| ConfigFilter::from_config(&config))
                .transpose()?;
            Ok((config.database_url, filter))
        }
        Err(Error::Project(_)) if request.config_file.is_none() && request.package.is_empty() => {
            let Some(url) = &request.database_url else {
                return Err(Error::Project(
                    "no dbrev.toml found here or above; pass --database-url URL (or run `cargo dbinit`)".into(),
                ));
            };
            let here = std::env::current_dir().map_err(|e| Error::io(".", e))?;
            Ok((DatabaseUrl::parse(url, &here)?, None))
        }
        Err(e) => Err(e),
    }
}

/// What every dump holds, from the flags and the configuration's `include` / `exclude`.
fn dump_options(args: &DumpArgs, config_filter: Option<ConfigFilter>) -> DumpOptions {
    DumpOptions {
        tables: args.tables.clone(),
        exclude_tables: args.exclude_tables.clone(),
        schema_only: args.schema_only,
        data_only: args.data_only,
        no_drop: args.no_drop,
        no_routines: args.no_routines,
        no_triggers: args.no_triggers,
        no_events: args.no_events,
        keep_definer: args.keep_definer,
        max_statement_bytes: args.max_statement_bytes.max(1024),
        config_filter,
        current_schema_only: false,
    }
}

/// `--fleet -o DIR`: one dump per database of dbrev.toml's `[fleet]`, then the summary.
fn fleet(cli: &Cli, reporter: &dbkit::Reporter) -> dbkit::Result<()> {
    let dir = match cli.dump.output.as_deref() {
        Some(dir) if dir.as_os_str() != "-" => dir,
        _ => {
            return Err(Error::Usage(
                "--fleet writes one file per database: name a directory with -o DIR".into(),
            ));
        }
    };
    let config = Config::load(&cli.config.request())?;
    let filter = (!config.include.is_empty() || !config.exclude.is_empty())
        .then(|| ConfigFilter::from_config(&config))
        .transpose()?;
    let options = dump_options(&cli.dump, filter);
    let fleet = dbkit::fleet::Fleet::read(&config, reporter)?;
    let export = dbkit::fleet::FleetExport {
        dir,
        options: &options,
    };
    let report = dbkit::fleet::fleet_export(&fleet, &export, &cli.fleet.options(None), reporter)?;
    report.print(reporter);
    report.verdict()
}

/// Whether the user agrees to restore into a database that holds tables: `--yes`, or a
/// "yes" typed on a terminal. Without a terminal the library refuses.
fn confirmed(conn: &mut Connection, file: &Path, yes: bool) -> dbkit::Result<bool> {
    if yes {
        return Ok(true);
    }
    let tables = target_tables(conn)?;
    if tables == 0 || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    eprint!(
        "{} holds {tables} table(s); restore {} into it, replacing the objects the dump holds? [y/N] ",
        conn.url(),
        file.display()
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("stdin", e))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(true)
    } else {
        Err(Error::Refused(format!(
            "not restored: {} holds {tables} table(s) and the answer was no",
            conn.url()
        )))
    }
}

fn run(cli: Cli) -> dbkit::Result<()> {
    if let Some(Command::Completions(args)) = &cli.command {
        return print_out(&args.script("dbexport")).map_err(|e| Error::io("<stdout>", e));
    }
    let reporter = cli.output.reporter();
    if cli.fleet.fleet {
        return fleet(&cli, &reporter);
    }
    let (url, config_filter) = target(&cli)?;
    reporter.target(&url);
    match cli.command {
        Some(Command::Restore {
            file,
            yes,
            allow_incomplete,
        }) => {
            let mut conn = Connection::establish(&url)?;
            let options = RestoreOptions {
                assume_yes: confirmed(&mut conn, &file, yes)?,
                allow_incomplete,
            };
            let started = std::time::Instant::now();
            let stats = restore(&mut conn, &file, &options, &reporter)?;
            reporter.status(
                "Restored",
                format!(
                    "{} into {url} ({} statements, {} ms)",
                    file.display(),
                    stats.statements,
                    started.elapsed().as_millis()
                ),
            );
        }
        // Printed above, before any project or database is looked for.
        Some(Command::Completions(_)) => {}
        None => {
            let options = dump_options(&cli.dump, config_filter);
            let output = cli.dump.output.filter(|p| p.as_os_str() != "-");
            // The file is checked and created before the database is touched.
            let file = output.as_deref().map(DumpFile::create).transpose()?;
            let mut conn = Connection::establish(&url)?;
            let started = std::time::Instant::now();
            let stats = match file {
                Some(file) => file.write(&mut conn, &options, &reporter)?,
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
                    match dump(&mut conn, &mut out, &options, &reporter) {
                        Err(e) if e.is_broken_pipe() => return Ok(()),
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
                    url,
                    started.elapsed().as_millis(),
                    output
                        .map(|p| format!(" to {}", p.display()))
                        .unwrap_or_default()
                ),
            );
        }
    }
    Ok(())
}
