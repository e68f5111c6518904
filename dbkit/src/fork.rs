//! `heads --check [--against REF]`: a forked history caught before it is merged. Alone, it
//! fails on more than one head. Against a git ref, it builds the graph as it will be once
//! this branch is merged into REF — the other side's versions directory read through git
//! ([`crate::vcs`]) and combined with the work tree's the way a merge combines them (a
//! revision deleted on one side since the two diverged stays deleted) — and fails on two
//! heads, two revisions with one id, and a revision of this branch whose id sorts before
//! one REF already has (diesel applies revisions in id order, so a database already past
//! it would run it out of order). Every problem names the revisions and the command that
//! fixes it (`cargo dbrev rebase REV --onto HEAD_OF_REF`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::graph::RevisionGraph;
use crate::migrate::Environment;
use crate::script::{Revision, in_version_order, is_timestamp_id, parse_revision, read_revisions};
use crate::vcs::Repository;

/// What kind of problem a merge would bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// More than one head.
    SeveralHeads,
    /// Two revision directories with one id.
    DuplicateId,
    /// A revision of this branch sorts before one the other side has.
    OutOfOrder,
    /// The combined revisions do not form a graph (a parent deleted on the other side…).
    BrokenGraph,
}

impl ProblemKind {
    /// The name in `--format json`.
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::SeveralHeads => "several_heads",
            ProblemKind::DuplicateId => "duplicate_id",
            ProblemKind::OutOfOrder => "out_of_order",
            ProblemKind::BrokenGraph => "broken_graph",
        }
    }
}

/// One problem, with the revisions it is about and the command that fixes it.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// One line naming the revisions.
    pub message: String,
    /// The revisions, by id.
    pub revisions: Vec<String>,
    /// The commands that fix it, in order (empty when there is none to suggest).
    pub fix: Vec<String>,
}

/// The answer of `heads --check`.
#[derive(Debug, Clone)]
pub struct HeadsCheck {
    /// The ref merged into, with `--against`.
    pub against: Option<String>,
    /// The graph checked (after the merge, with `--against`); `None` when the combined
    /// revisions do not form one.
    pub graph: Option<RevisionGraph>,
    /// What is wrong; empty when the history is one line of descent.
    pub problems: Vec<Problem>,
}

impl HeadsCheck {
    /// `Ok` when there is nothing wrong; else [`Error::Differences`] (exit 1) naming the
    /// problems and the fix.
    pub fn verdict(&self) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        let mut message: Vec<String> = self.problems.iter().map(|p| p.message.clone()).collect();
        let mut fixes: Vec<String> = Vec::new();
        for command in self.problems.iter().flat_map(|p| &p.fix) {
            let quoted = format!("`{command}`");
            if !fixes.contains(&quoted) {
                fixes.push(quoted);
            }
        }
        if !fixes.is_empty() {
            message.push(format!("fix: {}", fixes.join(", then ")));
        }
        Err(Error::Differences(message.join("; ")))
    }

    /// The status line of a check that passed.
    pub fn summary(&self) -> String {
        let heads = match self.graph.as_ref().and_then(|g| g.heads().first().copied()) {
            Some(head) => format!("one head ({})", head.id),
            None => "no revisions yet".to_owned(),
        };
        match &self.against {
            Some(reference) => format!("{heads} after merging into {reference}"),
            None => heads,
        }
    }
}

/// Where a revision of the merged graph comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Added on this branch since the two diverged.
    Ours,
    /// Added on the other side since the two diverged.
    Theirs,
    /// On both sides.
    Shared,
}

impl Environment {
    /// `heads --check`, against the git ref `against` when given.
    pub fn check_heads(&self, against: Option<&str>) -> Result<HeadsCheck> {
        let Some(reference) = against else {
            let problems = several_heads_alone(&self.graph).into_iter().collect();
            return Ok(HeadsCheck {
                against: None,
                graph: Some(self.graph.clone()),
                problems,
            });
        };
        let sides = Sides::read(&self.config.versions_dir, reference)?;
        Ok(sides.check())
    }
}

/// `heads --check` alone: more than one head.
fn several_heads_alone(graph: &RevisionGraph) -> Option<Problem> {
    let heads = graph.heads();
    if heads.len() < 2 {
        return None;
    }
    let ids: Vec<String> = heads.iter().map(|r| r.id.clone()).collect();
    // Move the newest head's branch after the oldest head, or join them.
    let newest = heads.iter().max_by(|a, b| a.id.cmp(&b.id))?;
    let oldest = heads.iter().min_by(|a, b| a.id.cmp(&b.id))?;
    let root = branch_root(graph, &newest.id);
    let fix = if heads.len() == 2 {
        vec![format!("cargo dbrev rebase {root} --onto {}", oldest.id)]
    } else {
        Vec::new()
    };
    Some(Problem {
        kind: ProblemKind::SeveralHeads,
        message: format!(
            "there are {} heads ({}); join them with `cargo dbrev merge -m MSG heads` once both are deployed, or re-parent the one not applied anywhere yet",
            heads.len(),
            ids.join(", ")
        ),
        revisions: ids,
        fix,
    })
}

/// The first revision of `head`'s own branch: walking down while each revision has one
/// parent, which has no other child.
fn branch_root(graph: &RevisionGraph, head: &str) -> String {
    let mut at = head.to_owned();
    while let Some(r) = graph.get(&at) {
        match r.parents.as_slice() {
            [parent] if graph.children(parent).len() == 1 => at = parent.clone(),
            _ => break,
        }
    }
    at
}

/// This work tree's revisions, the other side's, and the names they shared where the two
/// histories diverged.
struct Sides {
    reference: String,
    ours: Vec<Revision>,
    theirs: Vec<Revision>,
    base: BTreeSet<String>,
}

impl Sides {
    /// Reads both sides of merging this work tree into `reference`.
    fn read(versions_dir: &Path, reference: &str) -> Result<Sides> {
        let repo = Repository::containing(versions_dir)?;
        let dir = repo.relative(versions_dir)?;
        let commit = repo.commit(reference)?;
        let base = match repo.merge_base(&commit, reference)? {
            Some(base) => directory_names(&repo.files_under(&base, &dir)?),
            None => BTreeSet::new(),
        };
        let theirs = read_at(&repo, &commit, &dir, reference)?;
        Ok(Sides {
            reference: reference.to_owned(),
            ours: read_revisions(versions_dir)?,
            theirs,
            base,
        })
    }

    /// The combined revisions, each with where it comes from: one on both sides is
    /// taken from this work tree; one the other side deleted since the histories diverged
    /// stays deleted, and so does one this side deleted.
    fn merged(&self) -> Vec<(Revision, Origin)> {
        let theirs: BTreeMap<String, &Revision> =
            self.theirs.iter().map(|r| (dir_name(&r.dir), r)).collect();
        let ours: BTreeSet<String> = self.ours.iter().map(|r| dir_name(&r.dir)).collect();
        let mut merged = Vec::new();
        for r in &self.ours {
            let name = dir_name(&r.dir);
            match (theirs.contains_key(&name), self.base.contains(&name)) {
                (true, _) => merged.push((r.clone(), Origin::Shared)),
                (false, true) => {} // deleted on the other side
                (false, false) => merged.push((r.clone(), Origin::Ours)),
            }
        }
        for (name, r) in theirs {
            if !ours.contains(&name) && !self.base.contains(&name) {
                merged.push(((*r).clone(), Origin::Theirs));
            }
        }
        merged
    }

    fn check(&self) -> HeadsCheck {
        let merged = self.merged();
        let ours_added: BTreeSet<String> = merged
            .iter()
            .filter(|(_, o)| *o == Origin::Ours)
            .map(|(r, _)| r.id.clone())
            .collect();
        let their_head = self.their_head();
        let mut problems = self.duplicate_ids(&merged);
        let graph = if problems.is_empty() {
            match in_version_order(merged.iter().map(|(r, _)| r.clone()).collect())
                .and_then(RevisionGraph::new)
            {
                Ok(graph) => Some(graph),
                Err(e) => {
                    problems.push(Problem {
                        kind: ProblemKind::BrokenGraph,
                        message: format!("after merging into {}: {e}", self.reference),
                        revisions: Vec::new(),
                        fix: Vec::new(),
                    });
                    None
                }
            }
        } else {
            None
        };
        if let Some(graph) = &graph {
            let fix = self.rebase_fix(graph, &ours_added, their_head.as_deref());
            problems.extend(self.several_heads(graph, &merged, fix.clone()));
            problems.extend(self.out_of_order(&ours_added, fix));
        }
        HeadsCheck {
            against: Some(self.reference.clone()),
            graph,
            problems,
        }
    }

    /// `cargo dbrev rebase R --onto T`: R is the first revision this branch added (the one
    /// whose parents it did not add), T the other side's head — after `git merge REF` when
    /// this work tree does not have it yet — or R's own parent when the other side has no
    /// single head to go after.
    fn rebase_fix(
        &self,
        graph: &RevisionGraph,
        ours_added: &BTreeSet<String>,
        their_head: Option<&str>,
    ) -> Vec<String> {
        let Some(root) = graph.revisions().iter().find(|r| {
            ours_added.contains(&r.id) && !r.parents.iter().any(|p| ours_added.contains(p))
        }) else {
            return Vec::new();
        };
        let onto = match (their_head, root.parents.as_slice()) {
            (Some(head), _) => head.to_owned(),
            (None, [parent]) => parent.clone(),
            (None, []) => "base".to_owned(),
            (None, _) => return Vec::new(),
        };
        let mut commands = Vec::new();
        if !self.ours.iter().any(|r| r.id == onto) && onto != "base" {
            commands.push(format!("git merge {}", self.reference));
        }
        commands.push(format!("cargo dbrev rebase {} --onto {onto}", root.id));
        commands
    }

    /// The other side's single head, when it has one.
    fn their_head(&self) -> Option<String> {
        let graph = in_version_order(self.theirs.clone())
            .and_then(RevisionGraph::new)
            .ok()?;
        match graph.heads().as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        }
    }

    /// `this branch`, the ref, or `both sides`.
    fn side(&self, origin: Origin) -> String {
        match origin {
            Origin::Ours => "this branch".into(),
            Origin::Theirs => self.reference.clone(),
            Origin::Shared => "both sides".into(),
        }
    }

    /// Two directories with one id. The fix gives this branch's a new id where it stands
    /// (after its own parent), which needs nothing from the other side.
    fn duplicate_ids(&self, merged: &[(Revision, Origin)]) -> Vec<Problem> {
        let mut by_id: BTreeMap<&str, Vec<&(Revision, Origin)>> = BTreeMap::new();
        for entry in merged {
            by_id.entry(entry.0.id.as_str()).or_default().push(entry);
        }
        by_id
            .into_iter()
            .filter(|(_, same)| same.len() > 1)
            .map(|(id, same)| {
                let dirs: Vec<String> = same
                    .iter()
                    .map(|(r, o)| format!("{} ({})", r.dir.display(), self.side(*o)))
                    .collect();
                let ours = same.iter().find(|(_, o)| *o == Origin::Ours);
                let onto = ours.and_then(|(r, _)| match r.parents.as_slice() {
                    [parent] => Some(parent.as_str()),
                    [] => Some("base"),
                    _ => None,
                });
                Problem {
                    kind: ProblemKind::DuplicateId,
                    message: format!(
                        "after merging into {}, two revisions have the id {id}: {}",
                        self.reference,
                        dirs.join(" and ")
                    ),
                    revisions: vec![id.to_owned()],
                    fix: onto
                        .map(|onto| format!("cargo dbrev rebase {id} --onto {onto}"))
                        .into_iter()
                        .collect(),
                }
            })
            .collect()
    }

    fn several_heads(
        &self,
        graph: &RevisionGraph,
        merged: &[(Revision, Origin)],
        fix: Vec<String>,
    ) -> Option<Problem> {
        let heads = graph.heads();
        if heads.len() < 2 {
            return None;
        }
        let origin: BTreeMap<&str, Origin> =
            merged.iter().map(|(r, o)| (r.id.as_str(), *o)).collect();
        let named: Vec<String> = heads
            .iter()
            .map(|r| {
                let side = origin.get(r.id.as_str()).map_or(Origin::Shared, |o| *o);
                format!("{} ({}, {})", r.id, self.side(side), r.message)
            })
            .collect();
        Some(Problem {
            kind: ProblemKind::SeveralHeads,
            message: format!(
                "merging into {} leaves {} heads: {}",
                self.reference,
                heads.len(),
                named.join(", ")
            ),
            revisions: heads.iter().map(|r| r.id.clone()).collect(),
            fix: if fix.is_empty() {
                vec!["cargo dbrev merge -m MSG heads".into()]
            } else {
                fix
            },
        })
    }

    /// This branch's revisions whose ids sort before the newest the other side has.
    fn out_of_order(&self, ours_added: &BTreeSet<String>, fix: Vec<String>) -> Option<Problem> {
        let newest = self
            .theirs
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| is_timestamp_id(id))
            .max()?;
        let early: Vec<&String> = ours_added
            .iter()
            .filter(|id| is_timestamp_id(id) && id.as_str() < newest)
            .collect();
        if early.is_empty() {
            return None;
        }
        let listed: Vec<&str> = early.iter().map(|id| id.as_str()).collect();
        Some(Problem {
            kind: ProblemKind::OutOfOrder,
            message: format!(
                "{} (this branch) sort{} before {newest}, which {} already has: diesel applies revisions in id order, so a database already at {newest} would run {} out of order",
                listed.join(", "),
                if early.len() == 1 { "s" } else { "" },
                self.reference,
                if early.len() == 1 { "it" } else { "them" },
            ),
            revisions: early
                .into_iter()
                .cloned()
                .chain([newest.to_owned()])
                .collect(),
            fix,
        })
    }
}

/// The revision directories under `dir` at `commit`, read through git. A directory without
/// `up.sql` holding other files is refused as diesel refuses it; files at the top are
/// ignored as diesel ignores them.
fn read_at(repo: &Repository, commit: &str, dir: &str, reference: &str) -> Result<Vec<Revision>> {
    let files = repo.files_under(commit, dir)?;
    let names = directory_names(&files);
    let mut wanted: Vec<String> = Vec::new();
    let mut metadata: BTreeSet<String> = BTreeSet::new();
    for name in &names {
        if name.starts_with('.') {
            continue;
        }
        if !files.contains(&format!("{name}/up.sql")) {
            return Err(Error::Script(format!(
                "{reference}:{dir}/{name}: not a revision: the directory has no up.sql (diesel would refuse it too)"
            )));
        }
        wanted.push(format!("{dir}/{name}/up.sql"));
        if files.contains(&format!("{name}/metadata.toml")) {
            metadata.insert(name.clone());
            wanted.push(format!("{dir}/{name}/metadata.toml"));
        }
    }
    let contents = repo.read_files(commit, &wanted)?;
    let mut contents = wanted.iter().zip(contents);
    let mut revisions = Vec::new();
    for name in names.iter().filter(|n| !n.starts_with('.')) {
        let shown = PathBuf::from(format!("{reference}:{dir}/{name}"));
        let up = contents.next().map(|(_, bytes)| bytes).unwrap_or_default();
        let up = String::from_utf8(up).map_err(|_| {
            Error::Script(format!(
                "{}: not valid UTF-8",
                shown.join("up.sql").display()
            ))
        })?;
        let meta = if metadata.contains(name) {
            contents
                .next()
                .map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned())
        } else {
            None
        };
        revisions.push(parse_revision(&shown, name, &up, meta.as_deref())?);
    }
    Ok(revisions)
}

/// The directory names among paths relative to the versions directory (`NAME/up.sql`).
fn directory_names(files: &[String]) -> BTreeSet<String> {
    files
        .iter()
        .filter_map(|f| f.split_once('/').map(|(dir, _)| dir.to_owned()))
        .collect()
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(id: &str, parents: &[&str], dir: &str) -> Revision {
        Revision {
            id: id.into(),
            dir: PathBuf::from(dir).join(format!("{id}_x")),
            message: format!("m{id}"),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            branch_labels: vec![],
            depends_on: vec![],
            create_date: None,
            has_header: true,
            run_in_transaction: true,
        }
    }

    fn sides(ours: &[Revision], theirs: &[Revision], base: &[&str]) -> Sides {
        Sides {
            reference: "main".into(),
            ours: ours.to_vec(),
            theirs: theirs.to_vec(),
            base: base.iter().map(|id| format!("{id}_x")).collect(),
        }
    }

    const P: &str = "20260101000000aaaa";
    const A: &str = "20260102000000aaaa";
    const B: &str = "20260103000000bbbb";

    #[test]
    fn a_fork_names_both_heads_the_order_and_the_rebase() {
        let check = sides(
            &[revision(P, &[], "v"), revision(A, &[P], "v")],
            &[revision(P, &[], "main:v"), revision(B, &[P], "main:v")],
            &[P],
        )
        .check();
        let kinds: Vec<ProblemKind> = check.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::SeveralHeads, ProblemKind::OutOfOrder]);
        let error = check.verdict().unwrap_err().to_string();
        assert!(
            error.contains(&format!("{A} (this branch, m{A})")),
            "{error}"
        );
        assert!(error.contains(&format!("{B} (main, m{B})")), "{error}");
        assert!(
            error.ends_with(&format!(
                "fix: `git merge main`, then `cargo dbrev rebase {A} --onto {B}`"
            )),
            "{error}"
        );
    }

    #[test]
    fn after_the_rebase_the_merge_is_one_line() {
        // `git merge main` brought B in; `rebase A --onto B` made A into C, after B.
        const C: &str = "20260104000000cccc";
        let check = sides(
            &[
                revision(P, &[], "v"),
                revision(B, &[P], "v"),
                revision(C, &[B], "v"),
            ],
            &[revision(P, &[], "main:v"), revision(B, &[P], "main:v")],
            &[P, B],
        )
        .check();
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(
            check.summary(),
            format!("one head ({C}) after merging into main")
        );
    }

    #[test]
    fn one_head_with_an_early_id_is_out_of_order() {
        // A was re-parented onto B by hand, keeping its id: one head, but A sorts before B,
        // which main already has, so a database at B would run A out of order.
        let check = sides(
            &[
                revision(P, &[], "v"),
                revision(B, &[P], "v"),
                revision(A, &[B], "v"),
            ],
            &[revision(P, &[], "main:v"), revision(B, &[P], "main:v")],
            &[P],
        )
        .check();
        let kinds: Vec<ProblemKind> = check.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::OutOfOrder]);
        let error = check.verdict().unwrap_err().to_string();
        assert!(
            error.contains(&format!("sorts before {B}, which main already has")),
            "{error}"
        );
        assert!(!error.contains("heads"), "{error}");
    }

    #[test]
    fn same_id_on_both_sides_is_named_twice() {
        let mut theirs = revision(A, &[P], "main:v");
        theirs.dir = PathBuf::from(format!("main:v/{A}_other"));
        let check = sides(
            &[revision(P, &[], "v"), revision(A, &[P], "v")],
            &[revision(P, &[], "main:v"), theirs],
            &[P],
        )
        .check();
        assert_eq!(check.problems.len(), 1);
        let problem = &check.problems[0];
        assert_eq!(problem.kind, ProblemKind::DuplicateId);
        assert!(
            problem.message.contains(&format!("v/{A}_x (this branch)")),
            "{}",
            problem.message
        );
        assert!(
            problem
                .message
                .contains(&format!("main:v/{A}_other (main)")),
            "{}",
            problem.message
        );
        assert_eq!(problem.fix, [format!("cargo dbrev rebase {A} --onto {P}")]);
    }

    #[test]
    fn deletions_since_the_fork_stay_deleted() {
        // The other side deleted A (which both had), this side renamed P's child to C.
        const C: &str = "20260104000000cccc";
        let check = sides(
            &[revision(P, &[], "v"), revision(A, &[P], "v")],
            &[revision(P, &[], "main:v")],
            &[P, A],
        )
        .check();
        let graph = check.graph.expect("a graph");
        assert!(graph.get(A).is_none());
        let check = sides(
            &[revision(P, &[], "v"), revision(C, &[P], "v")],
            &[revision(P, &[], "main:v"), revision(A, &[P], "main:v")],
            &[P, A],
        )
        .check();
        assert!(check.problems.is_empty(), "{:?}", check.problems);
    }

    #[test]
    fn several_heads_alone_suggest_moving_the_newest_branch() {
        let graph = RevisionGraph::new(vec![
            revision(P, &[], "v"),
            revision(A, &[P], "v"),
            revision(B, &[P], "v"),
        ])
        .unwrap();
        let problem = several_heads_alone(&graph).expect("two heads");
        assert_eq!(problem.fix, [format!("cargo dbrev rebase {B} --onto {A}")]);
    }
}
