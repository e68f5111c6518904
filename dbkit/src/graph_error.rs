//! The revision graph's errors as types, as alembic has them: a graph the revision files
//! cannot form ([`GraphError`]: duplicate ids, a missing parent, a cycle, an applied
//! revision without its directory) and a target that names no single place in it
//! ([`TargetError`]: unknown revision with the closest ids, ambiguous prefix, several
//! heads…). Each prints as the one line the user sees.

use std::fmt;
use std::path::PathBuf;

/// The revision files do not form a valid graph (exit code 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Two revision directories have the same id.
    #[error("two revisions have the id {id}: {} and {}", first.display(), second.display())]
    DuplicateId {
        /// The id.
        id: String,
        /// The first directory.
        first: PathBuf,
        /// The second directory.
        second: PathBuf,
    },
    /// A `Revises:` or `Depends On:` line names a revision that does not exist.
    #[error("{}: `{field}: {reference}` names a revision that does not exist", file.display())]
    MissingParent {
        /// The `up.sql` holding the line.
        file: PathBuf,
        /// `Revises` or `Depends On`.
        field: &'static str,
        /// What it names.
        reference: String,
    },
    /// The revisions revise each other in a circle.
    #[error("the revisions form a cycle: {}", paths(files))]
    Cycle {
        /// The `up.sql` files of the revisions in (or above) the cycle.
        files: Vec<PathBuf>,
    },
    /// The version table records a revision that has no directory.
    #[error(
        "Can't locate revision {id}: the version table {version_table} records it as applied, but {} has no directory for it; restore its directory (check out the revision files that were deployed), or remove its row with `cargo dbrev stamp --purge TARGET`",
        versions_dir.display()
    )]
    CannotLocate {
        /// The applied id.
        id: String,
        /// diesel's version table.
        version_table: String,
        /// Where the revision directories are.
        versions_dir: PathBuf,
    },
}

/// What else an unknown revision might have meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates {
    /// Nothing to suggest.
    None,
    /// There are no revisions at all.
    NoRevisions,
    /// The closest ids (at most five), and whether there are more revisions.
    Closest {
        /// The ids, closest first.
        ids: Vec<String>,
        /// Whether other revisions exist beyond these.
        more: bool,
    },
}

impl fmt::Display for Candidates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Candidates::None => Ok(()),
            Candidates::NoRevisions => f.write_str("; there are no revisions"),
            Candidates::Closest { ids, more } => write!(
                f,
                "; closest: {}{}",
                ids.join(", "),
                if *more {
                    " (`cargo dbrev history` lists all)"
                } else {
                    ""
                }
            ),
        }
    }
}

/// A target (`head`, `-1`, an id prefix, `LABEL@+2`…) that names no single place in the
/// graph, or points the wrong way (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// An empty target.
    #[error("the target is empty")]
    Empty,
    /// No revision has this id, prefix or label.
    #[error("no revision `{text}`{candidates}")]
    Unknown {
        /// What was asked for.
        text: String,
        /// The closest ids.
        candidates: Candidates,
    },
    /// A prefix that matches several revisions.
    #[error("`{text}` is ambiguous; it matches {}{}", matches.join(", "), if *more { ", ..." } else { "" })]
    AmbiguousPrefix {
        /// The prefix.
        text: String,
        /// The first five matching ids.
        matches: Vec<String>,
        /// Whether more than those match.
        more: bool,
    },
    /// `head` where the graph (or branch) has several heads.
    #[error("`{target}` is ambiguous: there are several heads ({}); use `heads`, one of them, or `LABEL@head`", heads.join(", "))]
    MultipleHeads {
        /// The target.
        target: String,
        /// The heads.
        heads: Vec<String>,
    },
    /// `head` where there are no revisions.
    #[error(
        "`{target}`: there are no revisions yet; create one with `cargo dbrev revision -m MSG`"
    )]
    NoRevisions {
        /// The target.
        target: String,
    },
    /// A command that needs a revision was given base.
    #[error("`{target}` names no revision (it is base)")]
    IsBase {
        /// The target.
        target: String,
    },
    /// A command that needs one revision was given a target naming several.
    #[error("`{target}` names several revisions ({}); name one", ids.join(", "))]
    NamesSeveral {
        /// The target.
        target: String,
        /// What it names.
        ids: Vec<String>,
    },
    /// `X@…` where X is neither a branch label nor a revision.
    #[error("no branch label or revision `{branch}`{}", known_labels(labels))]
    UnknownBranch {
        /// The name before `@`.
        branch: String,
        /// The branch labels that exist.
        labels: Vec<String>,
    },
    /// A branch label declared by several revisions.
    #[error("the branch label `{label}` is on several revisions ({})", ids.join(", "))]
    LabelOnSeveral {
        /// The label.
        label: String,
        /// The revisions declaring it.
        ids: Vec<String>,
    },
    /// `LABEL@REV` where REV is not on the label's branch.
    #[error("revision {revision} is not on the branch of {branch}")]
    NotOnBranch {
        /// The revision.
        revision: String,
        /// The branch's revision.
        branch: String,
    },
    /// `-N` with nothing applied (on the branch).
    #[error("`{target}`: no revision{} is applied, so there is nothing to step down from", branch.as_ref().map(|b| format!(" on the branch of {b}")).unwrap_or_default())]
    NothingApplied {
        /// The target.
        target: String,
        /// The branch it was limited to.
        branch: Option<String>,
    },
    /// `+N`/`-N` when the database has several current heads.
    #[error(
        "`{target}` is ambiguous: the database has several current heads ({}); say which: {}{}",
        heads.join(", "),
        heads.iter().map(|h| format!("`{h}{step}`")).collect::<Vec<_>>().join(", "),
        if *labels { " or `LABEL@...`" } else { "" }
    )]
    SeveralCurrentHeads {
        /// The target.
        target: String,
        /// The current heads.
        heads: Vec<String>,
        /// The relative step as written (`-1`).
        step: String,
        /// Whether branch labels exist (to suggest `LABEL@...`).
        labels: bool,
    },
    /// `-N` past the first revision.
    #[error("`{target}` goes below base: there are not that many revisions")]
    BelowBase {
        /// The target.
        target: String,
    },
    /// `+N` from several revisions at once.
    #[error("`{target}` starts from several revisions ({}); name one", ids.join(", "))]
    SeveralStarts {
        /// The target.
        target: String,
        /// Where it would start.
        ids: Vec<String>,
    },
    /// `+N` past the head.
    #[error("`{target}` goes past the head{}", at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default())]
    PastHead {
        /// The target.
        target: String,
        /// The head it reached.
        at: Option<String>,
    },
    /// `+N` through a branch point.
    #[error("`{target}` is ambiguous at a branch point: it could go to {}; name the revision or use `LABEL@+N`", ids.join(", "))]
    BranchPoint {
        /// The target.
        target: String,
        /// The children it could go to.
        ids: Vec<String>,
    },
    /// `upgrade -1` or `downgrade +1`.
    #[error("`{command} {target}` would go {}: {command} moves towards {}; use `cargo dbrev {} {target}`",
        if *command == "upgrade" { "down" } else { "up" },
        if *command == "upgrade" { "head" } else { "base" },
        if *command == "upgrade" { "downgrade" } else { "upgrade" })]
    WrongDirection {
        /// `upgrade` or `downgrade`.
        command: &'static str,
        /// The target.
        target: String,
    },
    /// `revision --head REV` where REV is not a head (and no `--splice`).
    #[error("revision {revision} is not a head; pass --splice to start a branch from it")]
    NotAHead {
        /// The revision.
        revision: String,
    },
    /// `revision --head X` where X names several revisions.
    #[error("--head {head} names several revisions ({}); name one", ids.join(", "))]
    HeadNamesSeveral {
        /// What `--head` said.
        head: String,
        /// What it names.
        ids: Vec<String>,
    },
    /// A new revision without `--head` while the graph has several heads.
    #[error("there are several heads ({}); choose one with --head, or join them with `cargo dbrev merge heads`", heads.join(", "))]
    NewRevisionNeedsHead {
        /// The heads.
        heads: Vec<String>,
    },
    /// `merge` given fewer than two revisions.
    #[error("a merge needs at least two revisions; `{targets}` names {count}")]
    MergeNeedsTwo {
        /// The targets as given.
        targets: String,
        /// How many revisions they name.
        count: usize,
    },
    /// `stamp` (without `--purge`) while the version table holds unknown revisions.
    #[error("the version table holds revisions with no directory ({}); use `stamp --purge`", ids.join(", "))]
    AppliedWithoutDirectory {
        /// The applied ids without a directory.
        ids: Vec<String>,
    },
    /// `stamp --accept-edits REV` for a revision that is not applied.
    #[error("revision {revision} is not applied: there is no edit to accept")]
    NothingToAccept {
        /// The revision.
        revision: String,
    },
    /// A downgrade target outside the named branch.
    #[error("{} is not a valid downgrade target for the branch of {branch}", if targets.is_empty() { "base".to_owned() } else { targets.join(", ") })]
    NotOnDowngradeBranch {
        /// The target's revisions (empty: base).
        targets: Vec<String>,
        /// The branch.
        branch: String,
    },
    /// A downgrade to a revision that is not applied.
    #[error(
        "revision {revision} is not applied, so it is not a downgrade target (the database is at {at}); did you mean `cargo dbrev upgrade {revision}`?"
    )]
    NotApplied {
        /// The revision.
        revision: String,
        /// Where the database is (its heads, or `base`).
        at: String,
    },
}

fn paths(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn known_labels(labels: &[String]) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!(" (labels: {})", labels.join(", "))
    }
}
