//! `cargo dbinit`: scaffold a dbrev migration environment in a cargo package.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use dbkit::cli::{EXIT_CODES, OutputArgs, PackageArgs, exit_with, print_out, subcommand_args};
use dbkit::completions::{CompletionsArgs, complete_if_asked, templates};
use dbkit::init::{InitOptions, TEMPLATES, init};

/// Create a migration environment (dbrev.toml + DIR/) in a cargo package, like
/// `alembic init`. An existing diesel migrations directory is adopted as it is.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-dbinit",
    bin_name = "cargo dbinit",
    version,
    about,
    styles = dbkit::cli::STYLES,
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The environment directory, relative to the package root
    #[arg(default_value = "versioning")]
    directory: PathBuf,
    /// Scaffolding template (see --list-templates)
    #[arg(short, long, default_value = "generic", value_name = "NAME", add = templates())]
    template: String,
    /// List the available templates and exit
    #[arg(long)]
    list_templates: bool,
    /// Overwrite an existing dbrev.toml and write into a non-empty directory
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    package: PackageArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the shell completion script (bash, zsh, fish) for `cargo dbinit` and
    /// `cargo-dbinit`: `source <(cargo dbinit completions bash)`
    Completions(CompletionsArgs),
}

fn main() {
    complete_if_asked("dbinit", Cli::command);
    let cli = Cli::parse_from(subcommand_args("dbinit"));
    exit_with(run(cli))
}

fn out(text: &str) -> dbkit::Result<()> {
    print_out(text).map_err(|e| dbkit::Error::io("<stdout>", e))
}

fn run(cli: Cli) -> dbkit::Result<()> {
    if let Some(Command::Completions(args)) = &cli.command {
        return out(&args.script("dbinit"));
    }
    if cli.list_templates {
        let list: String = TEMPLATES
            .iter()
            .map(|t| format!("{:<10} {}\n", t.name, t.description))
            .collect();
        return out(&list);
    }
    let reporter = cli.output.reporter();
    let report = init(&InitOptions {
        package: cli.package.selector(),
        directory: cli.directory,
        template: cli.template,
        force: cli.force,
    })?;
    let root = &report.package.root;
    let shown = |p: &std::path::Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if let Some(dir) = &report.adopted {
        reporter.note("Adopting", format!("diesel migrations in {}", shown(dir)));
    }
    for path in &report.created {
        let suffix = if path.is_dir() { "/" } else { "" };
        reporter.status("Created", format!("{}{suffix}", shown(path)));
    }
    reporter.status(
        "Finished",
        format!(
            "migration environment for package `{}`; next: edit {}, then `cargo dbrev revision -m \"...\"`",
            report.package.name,
            shown(&report.config_file)
        ),
    );
    Ok(())
}
