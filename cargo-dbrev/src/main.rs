//! `cargo dbrev`: alembic-style revisions for diesel projects.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dbkit::authoring::RevisionOptions;
use dbkit::autogen::{AutogenerateOptions, parse_rename};
use dbkit::cli::{ConfigArgs, EXIT_CODES, OutputArgs, exit_with, print_out, subcommand_args};
use dbkit::format::FormatArgs;
use dbkit::migrate::{CurrentState, MigrateOptions};
use dbkit::proving::{
    self, BackupOptions, DriftOptions, RehearseOptions, RehearseSource, TestOptions,
};
use dbkit::target::needs_database;
use dbkit::{Connection, DatabaseUrl, Environment, Error, Reporter, listing};

/// Create, apply, revert and inspect database revisions (alembic's commands and targets).
#[derive(Debug, Parser)]
#[command(
    name = "cargo-dbrev",
    bin_name = "cargo dbrev",
    version,
    about,
    styles = dbkit::cli::STYLES,
    after_help = EXIT_CODES
)]
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
    /// Compare the model (schema.rs) with the database, and applied files with what ran:
    /// exit 1 and list the differences
    Check {
        /// Instead of the model: replay the database's revisions into a scratch database and
        /// compare every object (indexes, constraints, defaults, triggers, views, routines)
        #[arg(long)]
        drift: bool,
        #[command(flatten)]
        scratch: ScratchArgs,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Prove the history on a scratch database: one head, base → head, the model at head,
    /// up/down/up for every revision with the schema compared after each down, head → base
    Test {
        /// Start the stairway at this revision (what comes before it is applied unchecked)
        #[arg(long, value_name = "REV")]
        from: Option<String>,
        /// End it at this revision (default: the head)
        #[arg(long, value_name = "REV")]
        to: Option<String>,
        #[command(flatten)]
        scratch: ScratchArgs,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Rehearse the upgrade on a copy of production in a scratch database: restore it, upgrade
    /// (each revision and its slowest statements timed), check the model, downgrade back,
    /// and compare the schema and every table's rows with the copy's
    #[command(group(clap::ArgGroup::new("copy").required(true).args(["from_dump", "from_url"])))]
    Rehearse {
        /// The copy: a dump file (ours, mysqldump's, pg_dump's, sqlite3's; gzip too)
        #[arg(long, value_name = "FILE")]
        from_dump: Option<PathBuf>,
        /// The copy: a database, read in one snapshot and streamed in (never written)
        #[arg(long, value_name = "URL")]
        from_url: Option<String>,
        /// What to upgrade to
        #[arg(
            long,
            value_name = "TARGET",
            default_value = "head",
            allow_hyphen_values = true
        )]
        to: String,
        /// Keep the scratch database afterwards and print its URL
        #[arg(long)]
        keep: bool,
        #[command(flatten)]
        scratch: ScratchArgs,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Apply revisions up to TARGET (head, heads, REV, +N, REV+N, LABEL@head, LABEL@+N)
    Upgrade {
        /// Where to go
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
        /// Print the SQL script instead of running it; TARGET may be FROM:TO
        #[arg(long)]
        sql: bool,
        /// First finish the partially applied revision, from the first statement that did
        /// not complete (after fixing its file)
        #[arg(long, conflicts_with = "sql")]
        resume: bool,
        /// Dump the database first (gzip, mode 0600; default versioning/backups/); if the
        /// dump fails nothing is applied
        #[arg(long, value_name = "PATH", num_args = 0..=1, conflicts_with = "sql")]
        backup: Option<Option<PathBuf>>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Revert revisions down to TARGET (base, REV, -N, REV-N, LABEL@-N, LABEL@base)
    Downgrade {
        /// Where to go
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL script instead of running it; TARGET must be FROM:TO
        #[arg(long)]
        sql: bool,
        /// First finish the partially reverted revision, from the first statement that did
        /// not complete (after fixing its file)
        #[arg(long, conflicts_with = "sql")]
        resume: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Show the revisions applied to the database (and any partially applied one)
    Current,
    /// List revisions, newest first
    History {
        /// Range A:B (ends may be empty, `base`, `current`, `head`, REV, LABEL@base)
        #[arg(short, long, value_name = "RANGE", allow_hyphen_values = true)]
        rev_range: Option<String>,
        /// Mark the revisions the database is at (connects; so does -v, to show when each
        /// revision was applied, by whom and how long it took)
        #[arg(short = 'i', long)]
        indicate_current: bool,
    },
    /// Show the heads
    Heads,
    /// Show the branch points
    Branches,
    /// Show revisions
    Show {
        /// Revision id, prefix, label, `head`, `heads`, `current`, REV-N...
        #[arg(default_value = "head", allow_hyphen_values = true)]
        rev: String,
    },
    /// Set the version table to TARGET without running SQL; settle a partial revision
    Stamp {
        /// Where the database is (`current` keeps it, forgetting a partial run)
        #[arg(
            allow_hyphen_values = true,
            required_unless_present = "accept_edits",
            conflicts_with = "accept_edits"
        )]
        target: Option<String>,
        /// Delete every version row first (also unknown revisions)
        #[arg(long)]
        purge: bool,
        /// Accept the edited up.sql of this applied revision as what ran (repeatable)
        #[arg(long = "accept-edits", value_name = "REV")]
        accept_edits: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
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
    /// Open a revision in $EDITOR
    Edit {
        /// Revision id, prefix, label, `head`, `heads`, `current`, REV-N...
        #[arg(default_value = "head", allow_hyphen_values = true)]
        rev: String,
    },
}

/// Where scratch databases go.
#[derive(Debug, Clone, clap::Args)]
struct ScratchArgs {
    /// Use this empty database for scratch work instead of creating one (for a user who
    /// may not create databases); it is emptied again at the end
    #[arg(long, value_name = "URL")]
    scratch_url: Option<String>,
}

impl ScratchArgs {
    fn url(&self, env: &Environment) -> dbkit::Result<Option<DatabaseUrl>> {
        self.scratch_url
            .as_deref()
            .map(|u| DatabaseUrl::parse(u, env.config.root()))
            .transpose()
    }
}

/// How long to wait for the migration lock.
#[derive(Debug, Clone, Copy, clap::Args)]
struct LockArgs {
    /// Wait at most SECS for the migration lock held by another run (default: `lock_timeout`
    /// in dbrev.toml, else 300)
    #[arg(long, value_name = "SECS")]
    lock_timeout: Option<u64>,
}

impl LockArgs {
    fn apply(self, env: &mut Environment) {
        if let Some(secs) = self.lock_timeout {
            env.config.lock_timeout = std::time::Duration::from_secs(secs);
        }
    }
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
    let mut env = Environment::load(&cli.config.request())?;
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
                let mut conn = open(&env, &reporter)?;
                if let Some(dir) = env.autogenerate(&mut conn, &options, &auto, &reporter)? {
                    created(&reporter, &env, dir);
                }
            } else {
                created(&reporter, &env, env.revision(&options)?);
            }
        }
        Command::Check {
            drift: true,
            scratch,
            format,
        } => {
            dbkit::export::exit_on_signal()?;
            let options = DriftOptions {
                scratch_url: scratch.url(&env)?,
            };
            let mut conn = open(&env, &reporter)?;
            proving::drift_command(&env, &mut conn, &options, format.format, &reporter)?;
        }
        Command::Check { format, .. } if format.is_json() => {
            return Err(Error::Usage(
                "`check --format json` needs --drift (the model comparison prints text)".into(),
            ));
        }
        Command::Check { .. } => check(&env, &reporter, verbose)?,
        Command::Test {
            from,
            to,
            scratch,
            format,
        } => {
            dbkit::export::exit_on_signal()?;
            let options = TestOptions {
                from,
                to,
                scratch_url: scratch.url(&env)?,
            };
            proving::test_command(&env, &options, format.format, &reporter)?;
        }
        Command::Rehearse {
            from_dump,
            from_url,
            to,
            keep,
            scratch,
            format,
        } => {
            dbkit::export::exit_on_signal()?;
            let source = match (from_dump, from_url) {
                (Some(file), _) => RehearseSource::Dump(file),
                (None, url) => RehearseSource::Url(DatabaseUrl::parse(
                    url.as_deref().unwrap_or_default(),
                    env.config.root(),
                )?),
            };
            let options = RehearseOptions {
                source,
                to,
                keep,
                scratch_url: scratch.url(&env)?,
            };
            proving::rehearse_command(&env, &options, format.format, &reporter)?;
        }
        Command::Upgrade {
            target, sql: true, ..
        } => {
            out(&env.upgrade_sql(env.config.database_url.backend(), &target)?)?;
        }
        Command::Downgrade {
            target, sql: true, ..
        } => {
            out(&env.downgrade_sql(env.config.database_url.backend(), &target)?)?;
        }
        Command::Upgrade {
            target,
            resume,
            backup: Some(path),
            lock,
            ..
        } => {
            dbkit::export::exit_on_signal()?;
            lock.apply(&mut env);
            let mut conn = open(&env, &reporter)?;
            let backup = BackupOptions { path };
            env.upgrade_with_backup(
                &mut conn,
                &target,
                MigrateOptions { resume },
                &backup,
                &reporter,
            )?;
        }
        Command::Upgrade {
            target,
            resume,
            lock,
            ..
        } => {
            lock.apply(&mut env);
            let mut conn = open(&env, &reporter)?;
            env.upgrade_with(&mut conn, &target, MigrateOptions { resume }, &reporter)?;
        }
        Command::Downgrade {
            target,
            resume,
            lock,
            ..
        } => {
            lock.apply(&mut env);
            let mut conn = open(&env, &reporter)?;
            env.downgrade_with(&mut conn, &target, MigrateOptions { resume }, &reporter)?;
        }
        Command::Current => {
            let mut conn = open(&env, &reporter)?;
            let state = env.current(&mut conn)?;
            out(&listing::current(&env.graph, &state, verbose))?;
        }
        Command::History {
            rev_range,
            indicate_current,
        } => {
            let needs_db =
                indicate_current || verbose || rev_range.as_deref().is_some_and(needs_database);
            let state = if needs_db {
                Some(state(&env, &reporter)?)
            } else {
                None
            };
            out(&listing::history(
                &env.graph,
                rev_range.as_deref(),
                verbose,
                state.as_ref(),
            )?)?;
        }
        Command::Heads => out(&listing::heads(&env.graph, verbose))?,
        Command::Branches => out(&listing::branches(&env.graph, verbose))?,
        Command::Show { rev } => {
            let state = if needs_database(&rev) {
                Some(state(&env, &reporter)?)
            } else {
                None
            };
            let applied = state
                .as_ref()
                .map(|s| s.applied.clone())
                .unwrap_or_default();
            let text: String = env
                .graph
                .resolve(&rev, &applied)?
                .iter()
                .filter_map(|id| env.graph.get(id))
                .map(|r| listing::long_entry(&env.graph, r, state.as_ref()))
                .collect();
            if text.is_empty() {
                return Err(Error::Target(format!(
                    "`{rev}` names no revision (it is base)"
                )));
            }
            out(&text)?;
        }
        Command::Stamp {
            target,
            purge,
            accept_edits,
            lock,
        } => {
            lock.apply(&mut env);
            let mut conn = open(&env, &reporter)?;
            match target {
                Some(target) => env.stamp(&mut conn, &target, purge, &reporter)?,
                None => env.accept_edits(&mut conn, &accept_edits, &reporter)?,
            }
        }
        Command::Merge {
            message,
            rev_id,
            revisions,
        } => {
            let dir = env.merge(&message, &revisions, rev_id.as_deref())?;
            created(&reporter, &env, dir);
        }
        Command::Edit { rev } => {
            let applied = if needs_database(&rev) {
                state(&env, &reporter)?.applied
            } else {
                Default::default()
            };
            env.edit(&rev, &applied)?
        }
    }
    Ok(())
}

/// Names the database (first status line), then connects.
fn open(env: &Environment, reporter: &Reporter) -> dbkit::Result<Connection> {
    reporter.target(&env.config.database_url);
    env.connect()
}

/// The database's state, for targets that count from it.
fn state(env: &Environment, reporter: &Reporter) -> dbkit::Result<CurrentState> {
    let mut conn = open(env, reporter)?;
    env.current(&mut conn)
}

/// `check`: model against database, and applied files against what ran.
fn check(env: &Environment, reporter: &Reporter, verbose: bool) -> dbkit::Result<()> {
    let mut conn = open(env, reporter)?;
    let comparison = env.compare(&mut conn, &AutogenerateOptions::default())?;
    reporter.detail(format!(
        "inspected {} tables with {} catalog queries",
        comparison.tables, comparison.catalog_queries
    ));
    let state = env.current(&mut conn)?;
    let edited = env.edited_revisions(&state)?;
    let mut text: String = comparison
        .changes
        .iter()
        .map(|c| format!("{}\n", c.describe()))
        .collect();
    for e in &edited {
        text.push_str(&format!("{}\n", e.describe()));
    }
    for partial in &state.partial {
        text.push_str(&format!("{}\n", partial.describe()));
    }
    if text.is_empty() {
        reporter.status("Checked", "the model and the database agree");
        return Ok(());
    }
    if verbose && !comparison.is_clean() {
        text.push_str(&format!("\n{}\n", comparison.plan.up_sql()));
    }
    out(&text)?;
    let mut found = Vec::new();
    if !comparison.is_clean() {
        found.push(format!(
            "the model differs from the database in {} place(s); `cargo dbrev revision --autogenerate -m MSG` writes the revision",
            comparison.changes.len()
        ));
    }
    if !edited.is_empty() {
        found.push(format!(
            "{} applied revision(s) changed since they ran; restore them, or `cargo dbrev stamp --accept-edits REV`",
            edited.len()
        ));
    }
    if !state.partial.is_empty() {
        found.push(format!(
            "{} revision(s) partially applied; see `cargo dbrev current`",
            state.partial.len()
        ));
    }
    Err(Error::Differences(found.join("; ")))
}

fn created(reporter: &Reporter, env: &Environment, dir: PathBuf) {
    let shown = dir
        .strip_prefix(env.config.root())
        .unwrap_or(&dir)
        .display()
        .to_string();
    reporter.status("Created", format!("{shown}/up.sql and down.sql"));
}
