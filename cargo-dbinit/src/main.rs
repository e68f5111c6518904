//! `cargo dbinit`: scaffold a dbrev migration environment in a cargo package.

use std::path::PathBuf;

use clap::Parser;
use dbkit::cli::{EXIT_CODES, OutputArgs, PackageArgs, exit_with, print_out, subcommand_args};
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
    /// The environment directory, relative to the package root
    #[arg(default_value = "versioning")]
    directory: PathBuf,
    /// Scaffolding template (see --list-templates)
    #[arg(short, long, default_value = "generic", value_name = "NAME")]
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

fn main() {
    let cli = Cli::parse_from(subcommand_args("dbinit"));
    exit_with(run(cli))
}

fn run(cli: Cli) -> dbkit::Result<()> {
    if cli.list_templates {
        let list: String = TEMPLATES
            .iter()
            .map(|t| format!("{:<10} {}\n", t.name, t.description))
            .collect();
        return print_out(&list).map_err(|e| dbkit::Error::io("<stdout>", e));
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
