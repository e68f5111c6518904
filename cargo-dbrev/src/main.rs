//! `cargo dbrev`: alembic-style revisions for diesel projects.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dbkit::authoring::RevisionOptions;
use dbkit::autogen::{AutogenerateOptions, parse_rename};
use dbkit::cli::{ConfigArgs, OutputArgs, exit_with, print_out, subcommand_args};
use dbkit::{Environment, Error, Reporter, listing};

/// Create, apply, revert and inspect database revisions (alembic's commands and targets).
#[derive(Debug, Parser)]
#[command(name = "cargo-dbrev", bin_name = "cargo dbrev", version, about, styles = dbkit::cli::STYLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new revision
    Revision {
        /// Message (also the directory slug)
        #[arg(short, long, default_value = "")]
        message: String,
        /// The head to extend (required when there are several); `base` starts a new root
        #[arg(long, value_name = "REV")]
        head: Option<String>,
        /// Allow --head to be a revision that is not a head (start a branch)
        #[arg(long)]
        splice: bool,
        /// A branch label for the new revision
        #[arg(long = "branch-label", value_name = "LABEL")]
        branch_labels: Vec<String>,
        /// A revision the new one depends on (besides its parent)
        #[arg(long = "depends-on", value_name = "REV")]
        depends_on: Vec<String>,
        /// Use this id instead of a timestamp
        #[arg(long, value_name = "ID")]
        rev_id: Option<String>,
        /// Write the SQL that brings the database to the model (schema.rs)
        #[arg(long)]
        autogenerate: bool,
        /// With --autogenerate: a rename instead of drop + add (old=new or table.old=new)
        #[arg(long = "rename", value_name = "OLD=NEW", requires = "autogenerate")]
        renames: Vec<String>,
        /// With --autogenerate: INSERT placeholders for new tables other tables reference
        #[arg(long, requires = "autogenerate")]
        fill: bool,
    },
    /// Compare the model (schema.rs) with the database: exit 1 and list the differences
    Check,
    /// Apply revisions up to TARGET (head, heads, REV, +N, LABEL@head)
    Upgrade {
        /// Where to go
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
        /// Print the SQL script instead of running it; TARGET may be FROM:TO
        #[arg(long)]
        sql: bool,
    },
    /// Revert revisions down to TARGET (base, REV, -N)
    Downgrade {
        /// Where to go
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL script instead of running it; TARGET must be FROM:TO
        #[arg(long)]
        sql: bool,
    },
    /// Show the revisions applied to the database
    Current,
    /// List revisions, newest first
    History {
        /// Range A:B (ends may be empty, `base`, `current`, `head`)
        #[arg(short, long, value_name = "RANGE", allow_hyphen_values = true)]
        rev_range: Option<String>,
        /// Mark the revisions the database is at (connects)
        #[arg(short = 'i', long)]
        indicate_current: bool,
    },
    /// Show the heads
    Heads,
    /// Show the branch points
    Branches,
    /// Show one revision
    Show {
        /// Revision id, prefix, label or `head`
        rev: String,
    },
    /// Set the version table to TARGET without running SQL
    Stamp {
        /// Where the database is
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Delete every version row first (also unknown revisions)
        #[arg(long)]
        purge: bool,
    },
    /// Create a revision joining several heads
    Merge {
        /// Message
        #[arg(short, long, default_value = "merge")]
        message: String,
        /// Use this id instead of a timestamp
        #[arg(long, value_name = "ID")]
        rev_id: Option<String>,
        /// The revisions to join, or `heads`
        #[arg(required = true)]
        revisions: Vec<String>,
    },
    /// Find statements that lock, rewrite, fail or lose data in production (exit 1 on an error)
    Lint {
        /// A revision or a range A:B (default: the revisions not applied yet)
        #[arg(conflicts_with = "all", allow_hyphen_values = true)]
        range: Option<String>,
        /// Lint every revision
        #[arg(long)]
        all: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: dbkit::lint::Format,
    },
    /// Open a revision in $EDITOR
    Edit {
        /// Revision id, prefix, label or `head`
        #[arg(default_value = "head")]
        rev: String,
    },
}

fn main() {
    let cli = Cli::parse_from(subcommand_args("dbrev"));
    exit_with(run(cli))
}

fn out(text: &str) -> dbkit::Result<()> {
    print_out(text).map_err(|e| Error::io("<stdout>", e))
}

fn run(cli: Cli) -> dbkit::Result<()> {
    let reporter = cli.output.reporter();
    let verbose = reporter.is_verbose();
    let env = Environment::load(&cli.config.request())?;
    match cli.command {
        Command::Revision {
            message,
            head,
            splice,
            branch_labels,
            depends_on,
            rev_id,
            autogenerate,
            renames,
            fill,
        } => {
            let options = RevisionOptions {
                message,
                head,
                splice,
                branch_labels,
                depends_on,
                rev_id,
            };
            if autogenerate {
                let auto = AutogenerateOptions {
                    renames: renames
                        .iter()
                        .map(|r| parse_rename(r))
                        .collect::<dbkit::Result<_>>()?,
                    fill,
                };
                let mut conn = env.connect()?;
                if let Some(dir) = env.autogenerate(&mut conn, &options, &auto, &reporter)? {
                    created(&reporter, &env, dir);
                }
            } else {
                created(&reporter, &env, env.revision(&options)?);
            }
        }
        Command::Check => {
            let mut conn = env.connect()?;
            let comparison = env.compare(&mut conn, &AutogenerateOptions::default())?;
            reporter.detail(format!(
                "inspected {} tables with {} catalog queries",
                comparison.tables, comparison.catalog_queries
            ));
            if comparison.is_clean() {
                reporter.status("Checked", "the model and the database agree");
            } else {
                let mut text: String = comparison
                    .changes
                    .iter()
                    .map(|c| format!("{}\n", c.describe()))
                    .collect();
                if verbose {
                    text.push_str(&format!("\n{}\n", comparison.plan.up_sql()));
                }
                out(&text)?;
                return Err(Error::Differences(format!(
                    "the model differs from the database in {} place(s); `cargo dbrev revision --autogenerate -m MSG` writes the revision",
                    comparison.changes.len()
                )));
            }
        }
        Command::Upgrade { target, sql: true } => {
            out(&env.upgrade_sql(env.config.database_url.backend(), &target)?)?;
        }
        Command::Downgrade { target, sql: true } => {
            out(&env.downgrade_sql(env.config.database_url.backend(), &target)?)?;
        }
        Command::Upgrade { target, sql: false } => {
            let mut conn = env.connect()?;
            env.upgrade(&mut conn, &target, &reporter)?;
        }
        Command::Downgrade { target, sql: false } => {
            let mut conn = env.connect()?;
            env.downgrade(&mut conn, &target, &reporter)?;
        }
        Command::Current => {
            let mut conn = env.connect()?;
            let state = env.current(&mut conn)?;
            reporter.note("Database", env.config.database_url.masked());
            out(&listing::current(&env.graph, &state, verbose))?;
        }
        Command::History {
            rev_range,
            indicate_current,
        } => {
            let needs_db =
                indicate_current || rev_range.as_deref().is_some_and(|r| r.contains("current"));
            let applied = if needs_db {
                let mut conn = env.connect()?;
                Some(env.current(&mut conn)?.applied)
            } else {
                None
            };
            out(&listing::history(
                &env.graph,
                rev_range.as_deref(),
                verbose,
                applied.as_ref(),
            )?)?;
        }
        Command::Heads => out(&listing::heads(&env.graph, verbose))?,
        Command::Branches => out(&listing::branches(&env.graph, verbose))?,
        Command::Show { rev } => {
            let revision = env.graph.lookup(&rev).or_else(|e| {
                let ids = env
                    .graph
                    .resolve(&rev, &Default::default())
                    .map_err(|_| e)?;
                match ids.as_slice() {
                    [one] => env.graph.lookup(one),
                    _ => Err(Error::Target(format!(
                        "`{rev}` names {} revisions",
                        ids.len()
                    ))),
                }
            })?;
            out(&listing::long_entry(&env.graph, revision, None))?;
        }
        Command::Stamp { target, purge } => {
            let mut conn = env.connect()?;
            env.stamp(&mut conn, &target, purge, &reporter)?;
        }
        Command::Merge {
            message,
            rev_id,
            revisions,
        } => {
            let dir = env.merge(&message, &revisions, rev_id.as_deref())?;
            created(&reporter, &env, dir);
        }
        Command::Lint { range, all, format } => {
            let selection = match (range, all) {
                (Some(range), _) => dbkit::lint::Selection::Range(range),
                (None, true) => dbkit::lint::Selection::All,
                (None, false) => dbkit::lint::Selection::Pending,
            };
            let report = env.lint(&selection, &reporter)?;
            out(&report.render(format))?;
            report.verdict()?;
        }
        Command::Edit { rev } => env.edit(&rev)?,
    }
    Ok(())
}

fn created(reporter: &Reporter, env: &Environment, dir: PathBuf) {
    let shown = dir
        .strip_prefix(env.config.root())
        .unwrap_or(&dir)
        .display()
        .to_string();
    reporter.status("Created", format!("{shown}/up.sql and down.sql"));
}
