//! Option groups shared by the three binaries (flattened into their clap parsers), and the
//! small pieces of their `main` that would otherwise be written three times.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use crate::config::ConfigRequest;
use crate::error::Error;
use crate::project::PackageSelector;
use crate::term::{Reporter, Verbosity, print_error};

/// The exit codes every binary documents at the end of its `--help` (see [`crate::error::exit`]).
pub const EXIT_CODES: &str = "Exit codes:
  0    success
  1    the answer is no: `check` found differences (or edited history), `lint` an error,
       `heads --check` a fork, `test` a failing step
  2    usage: bad arguments, an unknown or ambiguous target, a command going the wrong way
  3    bad input: dbrev.toml, the cargo project, revision files, the model (schema.rs)
  4    the database could not be reached (connection, credentials, TLS, URL)
  5    a statement failed on the database (a revision, a restore, a catalog query)
  6    the migration lock was not taken (held by another run past the lock timeout)
  7    reading or writing a file failed
  8    refused until you act: edited applied history, a partially applied revision,
       an incomplete dump, a restore into a database that holds tables
  128+N  interrupted by signal N (130: Ctrl-C)
  --fleet: the highest code among the databases that failed (0 when none did)";

/// cargo's own help colours, so `--help` reads like a cargo subcommand's.
pub const STYLES: clap::builder::Styles = clap_cargo::style::CLAP_STYLING;

/// Selecting the package, the way cargo does.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PackageArgs {
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH", global = true)]
    pub manifest_path: Option<PathBuf>,
    /// Package to work on (in a workspace)
    #[arg(short = 'p', long, value_name = "SPEC", global = true)]
    pub package: Option<String>,
}

impl PackageArgs {
    /// The selector the library takes.
    pub fn selector(&self) -> PackageSelector {
        PackageSelector {
            manifest_path: self.manifest_path.clone(),
            package: self.package.clone(),
        }
    }
}

/// Finding the configuration and the database.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Use this dbrev.toml instead of searching for one
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Database URL, overriding dbrev.toml and DATABASE_URL
    #[arg(long, value_name = "URL", global = true)]
    pub database_url: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageArgs,
}

impl ConfigArgs {
    /// The request the configuration loader takes.
    pub fn request(&self) -> ConfigRequest {
        ConfigRequest {
            config_file: self.config.clone(),
            package: self.package.selector(),
            database_url: self.database_url.clone(),
        }
    }
}

/// `-q` and `-v`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputArgs {
    /// Print nothing but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: the SQL being run, details
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl OutputArgs {
    /// The reporter for these flags.
    pub fn reporter(&self) -> Reporter {
        Reporter::new(if self.quiet {
            Verbosity::Quiet
        } else if self.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        })
    }
}

pub use crate::format::FormatArgs;

/// `--fleet` and how a fleet run goes (see [`crate::fleet`]).
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct FleetArgs {
    /// Run on every database of dbrev.toml's [fleet] (urls, urls_from, urls_query or
    /// schemas_query) instead of the configured one; a summary table at the end
    #[arg(long)]
    pub fleet: bool,
    /// With --fleet: how many databases at once (default: 4 per CPU core, 8 to 32; the
    /// work waits on the servers)
    #[arg(long, value_name = "N", requires = "fleet", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// With --fleet: once a database fails, start no other (those running finish)
    #[arg(long, requires = "fleet")]
    pub fail_fast: bool,
}

impl FleetArgs {
    /// The run options, with `canary` databases first (`--canary K`, where offered).
    pub fn options(&self, canary: Option<usize>) -> crate::fleet::FleetOptions {
        crate::fleet::FleetOptions {
            jobs: self
                .jobs
                .map_or_else(crate::fleet::default_jobs, usize::from),
            fail_fast: self.fail_fast,
            canary: canary.unwrap_or(0),
        }
    }
}

/// The process arguments with cargo's subcommand name removed: `cargo dbrev x` runs
/// `cargo-dbrev dbrev x`, while running the binary directly gives `cargo-dbrev x`.
pub fn subcommand_args(name: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == name) {
        args.remove(1);
    }
    args
}

/// Writes machine output to stdout; a closed pipe (`| head`) is not an error.
pub fn print_out(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Ends the process the way every binary does: 0 on success, else one `error:` line and
/// the error's exit code.
pub fn exit_with(result: Result<(), Error>) -> ! {
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            print_error(crate::url::mask(&e.to_string()));
            std::process::exit(e.exit_code())
        }
    }
}
