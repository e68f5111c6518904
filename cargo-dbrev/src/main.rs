//! `cargo dbrev`: alembic-style revisions for diesel projects.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use dbkit::authoring::RevisionOptions;
use dbkit::autogen::{AutogenerateOptions, parse_rename};
use dbkit::cli::{
    ConfigArgs, EXIT_CODES, FleetArgs, FormatArgs, OutputArgs, exit_with, print_out,
    subcommand_args,
};
use dbkit::completions::{CompletionsArgs, complete_if_asked, revisions};
use dbkit::fleet::{self, Fleet};
use dbkit::machine::{self, CheckFindings, Listing};
use dbkit::migrate::{CurrentState, Direction, MigrateOptions};
use dbkit::proving::{
    self, BackupOptions, DriftOptions, RehearseOptions, RehearseSource, TestOptions,
};
use dbkit::rebase::RebaseOptions;
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
    Revision(RevisionArgs),
    /// Compare the model (schema.rs) with the database, and applied files with what ran:
    /// exit 1 and list the differences
    Check {
        /// Instead of the model: replay the database's revisions into a scratch database and
        /// compare every object (indexes, constraints, defaults, triggers, views, routines)
        #[arg(long, conflicts_with = "fleet")]
        drift: bool,
        #[command(flatten)]
        scratch: ScratchArgs,
        #[command(flatten)]
        format: FormatArgs,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Prove the history on a scratch database: one head, base → head, the model at head,
    /// up/down/up for every revision with the schema compared after each down, head → base
    Test {
        /// Start the stairway at this revision (what comes before it is applied unchecked)
        #[arg(long, value_name = "REV", add = revisions())]
        from: Option<String>,
        /// End it at this revision (default: the head)
        #[arg(long, value_name = "REV", add = revisions())]
        to: Option<String>,
        #[command(flatten)]
        scratch: ScratchArgs,
        #[command(flatten)]
        format: FormatArgs,
        #[command(flatten)]
        fleet: FleetArgs,
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
            allow_hyphen_values = true,
            add = revisions()
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
    Upgrade(UpgradeArgs),
    /// Revert revisions down to TARGET (base, REV, -N, REV-N, LABEL@-N, LABEL@base)
    Downgrade(DowngradeArgs),
    /// Show the revisions applied to the database (and any partially applied one); with
    /// --fleet, how many databases sit at each revision
    Current {
        #[command(flatten)]
        format: FormatArgs,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// List revisions, newest first
    History {
        /// Range A:B (ends may be empty, `base`, `current`, `head`, REV, LABEL@base)
        #[arg(short, long, value_name = "RANGE", allow_hyphen_values = true, add = revisions())]
        rev_range: Option<String>,
        /// Mark the revisions the database is at (connects; so does -v, to show when each
        /// revision was applied, by whom and how long it took)
        #[arg(short = 'i', long)]
        indicate_current: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Show the heads; with --check, exit 1 unless there is one (after merging into
    /// GIT-REF, with --against)
    Heads {
        /// Exit 1 when there is more than one head
        #[arg(long)]
        check: bool,
        /// With --check: the graph as it will be after merging this branch into GIT-REF
        /// (read through git): two heads, one id twice, or a revision of this branch
        /// sorting before one GIT-REF has (diesel's order) fail
        #[arg(long, value_name = "GIT-REF", requires = "check")]
        against: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Show the branch points
    Branches {
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Show revisions
    Show {
        /// Revision id, prefix, label, `head`, `heads`, `current`, REV-N...
        #[arg(default_value = "head", allow_hyphen_values = true, add = revisions())]
        rev: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Set the version table to TARGET without running SQL; settle a partial revision
    Stamp {
        /// Where the database is (`current` keeps it, forgetting a partial run)
        #[arg(
            allow_hyphen_values = true,
            required_unless_present = "accept_edits",
            conflicts_with = "accept_edits",
            add = revisions()
        )]
        target: Option<String>,
        /// Delete every version row first (also unknown revisions)
        #[arg(long)]
        purge: bool,
        /// Accept the edited up.sql of this applied revision as what ran (repeatable)
        #[arg(long = "accept-edits", value_name = "REV", add = revisions())]
        accept_edits: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Re-parent a revision no database has applied onto TARGET, instead of a merge
    /// revision: it and what descends from it get new ids that sort after every other
    Rebase {
        /// The revision to move (id, prefix, label)
        #[arg(allow_hyphen_values = true, add = revisions())]
        rev: String,
        /// Its new parent (`base` for none)
        #[arg(long, value_name = "TARGET", allow_hyphen_values = true, add = revisions())]
        onto: String,
        /// Do not ask the database whether the revision is applied (when no database has
        /// it and the configured one cannot be reached)
        #[arg(long)]
        offline: bool,
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
        #[arg(required = true, add = revisions())]
        revisions: Vec<String>,
    },
    /// Find statements that lock, rewrite, fail or lose data in production (exit 1 on an error)
    Lint {
        /// A revision or a range A:B (default: the revisions not applied yet)
        #[arg(conflicts_with = "all", allow_hyphen_values = true, add = revisions())]
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
        /// Revision id, prefix, label, `head`, `heads`, `current`, REV-N...
        #[arg(default_value = "head", allow_hyphen_values = true, add = revisions())]
        rev: String,
    },
    /// Print the shell completion script (bash, zsh, fish) for `cargo dbrev` and
    /// `cargo-dbrev`: `source <(cargo dbrev completions bash)`
    Completions(CompletionsArgs),
}

/// `revision`'s options.
#[derive(Debug, clap::Args)]
struct RevisionArgs {
    /// Message (also the directory slug)
    #[arg(short, long, default_value = "")]
    message: String,
    /// The head to extend (required when there are several); `base` starts a new root
    #[arg(long, value_name = "REV", add = revisions())]
    head: Option<String>,
    /// Allow --head to be a revision that is not a head (start a branch)
    #[arg(long)]
    splice: bool,
    /// A branch label for the new revision
    #[arg(long = "branch-label", value_name = "LABEL")]
    branch_labels: Vec<String>,
    /// A revision the new one depends on (besides its parent)
    #[arg(long = "depends-on", value_name = "REV", add = revisions())]
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
}

/// `upgrade`'s options.
#[derive(Debug, clap::Args)]
struct UpgradeArgs {
    /// Where to go
    #[arg(default_value = "head", allow_hyphen_values = true, add = revisions())]
    target: String,
    /// Print the SQL script instead of running it; TARGET may be FROM:TO
    #[arg(long, conflicts_with = "fleet")]
    sql: bool,
    /// First finish the partially applied revision, from the first statement that did
    /// not complete (after fixing its file)
    #[arg(long, conflicts_with_all = ["sql", "fleet"])]
    resume: bool,
    /// Dump the database first (gzip, mode 0600; default versioning/backups/); if the
    /// dump fails nothing is applied
    #[arg(long, value_name = "PATH", num_args = 0..=1, conflicts_with_all = ["sql", "fleet"])]
    backup: Option<Option<PathBuf>>,
    #[command(flatten)]
    lock: LockArgs,
    #[command(flatten)]
    fleet: FleetArgs,
    /// With --fleet: upgrade the first K databases first; if one of them fails, stop
    /// before any other is touched
    #[arg(long, value_name = "K", requires = "fleet")]
    canary: Option<usize>,
}

/// `downgrade`'s options.
#[derive(Debug, clap::Args)]
struct DowngradeArgs {
    /// Where to go
    #[arg(allow_hyphen_values = true, add = revisions())]
    target: String,
    /// Print the SQL script instead of running it; TARGET must be FROM:TO
    #[arg(long, conflicts_with = "fleet")]
    sql: bool,
    /// First finish the partially reverted revision, from the first statement that did
    /// not complete (after fixing its file)
    #[arg(long, conflicts_with_all = ["sql", "fleet"])]
    resume: bool,
    #[command(flatten)]
    lock: LockArgs,
    #[command(flatten)]
    fleet: FleetArgs,
    /// With --fleet: downgrade the first K databases first; if one of them fails, stop
    /// before any other is touched
    #[arg(long, value_name = "K", requires = "fleet")]
    canary: Option<usize>,
}

/// What `upgrade` and `downgrade` were asked for.
struct Migration {
    direction: Direction,
    target: String,
    sql: bool,
    resume: bool,
    /// `upgrade --backup [PATH]`.
    backup: Option<Option<PathBuf>>,
    lock: LockArgs,
    fleet: FleetArgs,
    canary: Option<usize>,
}

impl From<UpgradeArgs> for Migration {
    fn from(a: UpgradeArgs) -> Self {
        Migration {
            direction: Direction::Up,
            target: a.target,
            sql: a.sql,
            resume: a.resume,
            backup: a.backup,
            lock: a.lock,
            fleet: a.fleet,
            canary: a.canary,
        }
    }
}

impl From<DowngradeArgs> for Migration {
    fn from(a: DowngradeArgs) -> Self {
        Migration {
            direction: Direction::Down,
            target: a.target,
            sql: a.sql,
            resume: a.resume,
            backup: None,
            lock: a.lock,
            fleet: a.fleet,
            canary: a.canary,
        }
    }
}

/// Where scratch databases go.
#[derive(Debug, Clone, clap::Args)]
struct ScratchArgs {
    /// Use this empty database for scratch work instead of creating one (for a user who
    /// may not create databases; default: `scratch_url` in dbrev.toml); it is emptied again
    /// at the end
    #[arg(long, value_name = "URL")]
    scratch_url: Option<String>,
}

impl ScratchArgs {
    fn url(&self, env: &Environment) -> dbkit::Result<Option<DatabaseUrl>> {
        match &self.scratch_url {
            Some(url) => DatabaseUrl::parse(url, env.config.root()).map(Some),
            None => Ok(env.config.scratch_url.clone()),
        }
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
    complete_if_asked("dbrev", Cli::command);
    let cli = Cli::parse_from(subcommand_args("dbrev"));
    exit_with(run(cli))
}

fn out(text: &str) -> dbkit::Result<()> {
    print_out(text).map_err(|e| Error::io("<stdout>", e))
}

fn run(cli: Cli) -> dbkit::Result<()> {
    if let Command::Completions(args) = &cli.command {
        return out(&args.script("dbrev"));
    }
    let reporter = cli.output.reporter();
    let verbose = reporter.is_verbose();
    let mut env = Environment::load(&cli.config.request())?;
    match cli.command {
        Command::Revision(args) => revision(&env, args, &reporter),
        Command::Check {
            drift: true,
            scratch,
            format,
            ..
        } => drift(&env, &scratch, format, &reporter),
        Command::Check { format, fleet, .. } if fleet.fleet => {
            let fleet_of = Fleet::read(&env.config, &reporter)?;
            let report = env.fleet_check(&fleet_of, &fleet.options(None), &reporter);
            fleet_done(&report, format, &reporter)
        }
        Command::Check { format, .. } => check(&env, &reporter, verbose, format),
        Command::Test {
            from,
            to,
            scratch,
            format,
            fleet,
        } => {
            dbkit::export::exit_on_signal()?;
            let options = TestOptions {
                from,
                to,
                scratch_url: scratch.url(&env)?,
            };
            if fleet.fleet {
                if options.scratch_url.is_some() {
                    return Err(Error::Usage(
                        "--fleet makes a scratch database beside each database; a scratch URL (--scratch-url, scratch_url) serves one run at a time: leave it out".into(),
                    ));
                }
                let fleet_of = Fleet::read(&env.config, &reporter)?;
                let report = env.fleet_test(&fleet_of, &options, &fleet.options(None), &reporter);
                return fleet_done(&report, format, &reporter);
            }
            proving::test_command(&env, &options, format.format, &reporter)
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
            proving::rehearse_command(&env, &options, format.format, &reporter)
        }
        Command::Upgrade(args) => migrate(&mut env, args.into(), &reporter),
        Command::Downgrade(args) => migrate(&mut env, args.into(), &reporter),
        Command::Current { format, fleet } if fleet.fleet => {
            let fleet_of = Fleet::read(&env.config, &reporter)?;
            let report = env.fleet_current(&fleet_of, &fleet.options(None), &reporter);
            out(&if format.is_json() {
                fleet::current_json(&report, &env.graph)
            } else {
                fleet::current_text(&report, &env.graph)
            })?;
            report.verdict()
        }
        Command::Current { format, .. } => {
            let mut conn = open(&env, &reporter)?;
            let state = env.current(&mut conn)?;
            out(&if format.is_json() {
                let url = &env.config.database_url;
                machine::current(Listing::new(&env, None), &state, url)
            } else {
                listing::current(&env.graph, &state, verbose)
            })
        }
        Command::History {
            rev_range,
            indicate_current,
            format,
        } => {
            let range = rev_range.as_deref();
            let needs_db = indicate_current || verbose || range.is_some_and(needs_database);
            let state = state_if(needs_db, &env, &reporter)?;
            out(&if format.is_json() {
                machine::history(Listing::new(&env, state.as_ref()), range)?
            } else {
                listing::history(&env.graph, range, verbose, state.as_ref())?
            })
        }
        Command::Heads {
            check: false,
            format,
            ..
        } => out(&if format.is_json() {
            machine::heads(Listing::new(&env, None))
        } else {
            listing::heads(&env.graph, verbose)
        }),
        Command::Heads {
            check: true,
            against,
            format,
        } => check_heads(&env, against.as_deref(), format, &reporter),
        Command::Branches { format } => out(&if format.is_json() {
            machine::branches(Listing::new(&env, None))
        } else {
            listing::branches(&env.graph, verbose)
        }),
        Command::Show { rev, format } => {
            let state = state_if(needs_database(&rev), &env, &reporter)?;
            out(&if format.is_json() {
                machine::show(Listing::new(&env, state.as_ref()), &rev)?
            } else {
                listing::show(&env.graph, &rev, state.as_ref())?
            })
        }
        Command::Stamp {
            target,
            purge,
            accept_edits,
            lock,
        } => {
            lock.apply(&mut env);
            stamp(&env, target, purge, &accept_edits, &reporter)
        }
        Command::Merge {
            message,
            rev_id,
            revisions,
        } => {
            let dir = env.merge(&message, &revisions, rev_id.as_deref())?;
            created(&reporter, &env, dir);
            Ok(())
        }
        Command::Rebase { rev, onto, offline } => {
            let options = RebaseOptions {
                revision: rev,
                onto,
                offline,
            };
            env.rebase(&options, &reporter).map(drop)
        }
        Command::Lint { range, all, format } => lint(&env, range, all, format, &reporter),
        // Printed above, before the project is loaded.
        Command::Completions(_) => Ok(()),
        Command::Edit { rev } => {
            let state = state_if(needs_database(&rev), &env, &reporter)?;
            env.edit(&rev, &state.map(|s| s.applied).unwrap_or_default())
        }
    }
}

/// `lint`: the findings on stdout, exit 1 when an error-level one remains.
fn lint(
    env: &Environment,
    range: Option<String>,
    all: bool,
    format: dbkit::lint::Format,
    reporter: &Reporter,
) -> dbkit::Result<()> {
    let selection = match (range, all) {
        (Some(range), _) => dbkit::lint::Selection::Range(range),
        (None, true) => dbkit::lint::Selection::All,
        (None, false) => dbkit::lint::Selection::Pending,
    };
    let report = env.lint(&selection, reporter)?;
    out(&report.render(format))?;
    report.verdict()
}

/// `revision`, autogenerated from the model with `--autogenerate`.
fn revision(env: &Environment, args: RevisionArgs, reporter: &Reporter) -> dbkit::Result<()> {
    let options = RevisionOptions {
        message: args.message,
        head: args.head,
        splice: args.splice,
        branch_labels: args.branch_labels,
        depends_on: args.depends_on,
        rev_id: args.rev_id,
    };
    if !args.autogenerate {
        created(reporter, env, env.revision(&options)?);
        return Ok(());
    }
    let auto = AutogenerateOptions {
        renames: args
            .renames
            .iter()
            .map(|r| parse_rename(r))
            .collect::<dbkit::Result<_>>()?,
        fill: args.fill,
    };
    let mut conn = open(env, reporter)?;
    if let Some(dir) = env.autogenerate(&mut conn, &options, &auto, reporter)? {
        created(reporter, env, dir);
    }
    Ok(())
}

/// `upgrade` / `downgrade`: the offline script with `--sql`, else a run.
fn migrate(env: &mut Environment, m: Migration, reporter: &Reporter) -> dbkit::Result<()> {
    let backend = env.config.database_url.backend();
    match (m.direction, m.sql) {
        (Direction::Up, true) => return out(&env.upgrade_sql(backend, &m.target)?),
        (Direction::Down, true) => return out(&env.downgrade_sql(backend, &m.target)?),
        _ => {}
    }
    m.lock.apply(env);
    if m.fleet.fleet {
        let fleet_of = Fleet::read(&env.config, reporter)?;
        let options = m.fleet.options(m.canary);
        let report = env.fleet_migrate(&fleet_of, &m.target, m.direction, &options, reporter);
        report.print(reporter);
        return report.verdict();
    }
    if m.backup.is_some() {
        dbkit::export::exit_on_signal()?;
    }
    let mut conn = open(env, reporter)?;
    let options = MigrateOptions { resume: m.resume };
    match (m.direction, m.backup) {
        (Direction::Up, Some(path)) => {
            let backup = BackupOptions { path };
            env.upgrade_with_backup(&mut conn, &m.target, options, &backup, reporter)?;
        }
        (Direction::Up, None) => {
            env.upgrade_with(&mut conn, &m.target, options, reporter)?;
        }
        (Direction::Down, _) => {
            env.downgrade_with(&mut conn, &m.target, options, reporter)?;
        }
    };
    Ok(())
}

/// The end of a fleet command: the summary (stderr), the JSON document with
/// `--format json` (stdout), and the exit code of the worst failure.
fn fleet_done<T: fleet::Detail>(
    report: &fleet::FleetReport<T>,
    format: FormatArgs,
    reporter: &Reporter,
) -> dbkit::Result<()> {
    report.print(reporter);
    if format.is_json() {
        out(&report.to_json())?;
    }
    report.verdict()
}

/// `check --drift`: the history replayed into a scratch database, compared with the live one.
fn drift(
    env: &Environment,
    scratch: &ScratchArgs,
    format: FormatArgs,
    reporter: &Reporter,
) -> dbkit::Result<()> {
    dbkit::export::exit_on_signal()?;
    let options = DriftOptions {
        scratch_url: scratch.url(env)?,
    };
    let mut conn = open(env, reporter)?;
    proving::drift_command(env, &mut conn, &options, format.format, reporter)
}

/// `stamp TARGET`, or `stamp --accept-edits REV...`.
fn stamp(
    env: &Environment,
    target: Option<String>,
    purge: bool,
    accept_edits: &[String],
    reporter: &Reporter,
) -> dbkit::Result<()> {
    let mut conn = open(env, reporter)?;
    match target {
        Some(target) => env.stamp(&mut conn, &target, purge, reporter),
        None => env.accept_edits(&mut conn, accept_edits, reporter),
    }
}

/// `heads --check [--against REF]`: the heads checked on stdout, exit 1 on a problem.
fn check_heads(
    env: &Environment,
    against: Option<&str>,
    format: FormatArgs,
    reporter: &Reporter,
) -> dbkit::Result<()> {
    let checked = env.check_heads(against)?;
    let checked_graph = Listing {
        graph: checked.graph.as_ref().unwrap_or(&env.graph),
        ..Listing::new(env, None)
    };
    out(&if format.is_json() {
        machine::heads_checked(checked_graph, &checked)
    } else {
        listing::heads(checked_graph.graph, reporter.is_verbose())
    })?;
    checked.verdict()?;
    reporter.status("Checked", checked.summary());
    Ok(())
}

/// Names the database (first status line), then connects.
fn open(env: &Environment, reporter: &Reporter) -> dbkit::Result<Connection> {
    reporter.target(&env.config.database_url);
    env.connect()
}

/// The database's state when `needed` (for targets that count from it), connecting.
fn state_if(
    needed: bool,
    env: &Environment,
    reporter: &Reporter,
) -> dbkit::Result<Option<CurrentState>> {
    if !needed {
        return Ok(None);
    }
    let mut conn = open(env, reporter)?;
    env.current(&mut conn).map(Some)
}

/// `check`: model against database, and applied files against what ran.
fn check(
    env: &Environment,
    reporter: &Reporter,
    verbose: bool,
    format: FormatArgs,
) -> dbkit::Result<()> {
    let mut conn = open(env, reporter)?;
    let comparison = env.compare(&mut conn, &AutogenerateOptions::default())?;
    reporter.detail(format!(
        "inspected {} tables with {} catalog queries",
        comparison.tables, comparison.catalog_queries
    ));
    let state = env.current(&mut conn)?;
    let edited = env.edited_revisions(&state)?;
    if format.is_json() {
        let found = CheckFindings {
            comparison: &comparison,
            state: &state,
            edited: &edited,
            database: &env.config.database_url,
        };
        out(&machine::check(Listing::new(env, None), &found))?;
    }
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
    if !format.is_json() {
        out(&text)?;
    }
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
