//! The target grammar, as alembic reads it, over a [`RevisionGraph`]: `base`, `head`,
//! `heads`, `current`, ids (diesel's dashed versions too), unique prefixes and branch labels,
//! `LABEL@head`, `LABEL@heads`, `LABEL@base`, `LABEL@REV`, and the relative forms `+N`,
//! `-N`, `REV+N`, `REV-N`, `LABEL@+N`, `LABEL@-N`, `LABEL@head-N`. Every command that names
//! a revision goes through [`RevisionGraph::destination`]. Pure: never touches a database.

use std::collections::BTreeSet;

use crate::error::Result;
use crate::graph::{Applied, RevisionGraph};
use crate::graph_error::{Candidates, TargetError};
use crate::script::Revision;

/// Which way the command moves, for the relative forms that count from the database's
/// current heads (`+N`, `-N`, `LABEL@+N`, `LABEL@-N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// `upgrade`: `-N` without a revision is a usage error.
    Up,
    /// `downgrade`: `+N` without a revision is a usage error.
    Down,
    /// Inspection and authoring (`show`, `edit`, `history`, `stamp`, `--head`): both ways.
    Any,
}

/// What a target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The revisions (empty for `base`).
    pub ids: Vec<String>,
    /// The revision whose line of descent limits a downgrade to one branch: the revision or
    /// label before `@`, the revision of `REV-N`, or the current head `-N` starts from.
    pub branch: Option<String>,
}

impl Destination {
    fn of(ids: Vec<String>) -> Self {
        Destination { ids, branch: None }
    }
}

/// Whether resolving `target` needs the database's state: it names `current`, or counts
/// from the current heads (`+N`, `-N`, `LABEL@+N`, `LABEL@-N`).
pub fn needs_database(target: &str) -> bool {
    let rest = target.split_once('@').map_or(target, |(_, r)| r);
    target.contains("current") || rest.starts_with(['+', '-'])
}

/// A target split into `[BRANCH@]SYMBOL[+-N]`.
struct Parts<'a> {
    branch: Option<&'a str>,
    symbol: &'a str,
    step: Option<i64>,
}

impl RevisionGraph {
    /// Resolves a target for a command moving the way `motion` says; `applied` is the
    /// database's state (empty when the command does not connect).
    pub fn destination(
        &self,
        target: &str,
        applied: &Applied,
        motion: Motion,
    ) -> Result<Destination> {
        let target = target.trim();
        if target.is_empty() {
            return Err(TargetError::Empty.into());
        }
        if let Some(r) = self.get_normalised(target) {
            return Ok(Destination::of(vec![r.id.clone()]));
        }
        let parts = self.split(target);
        let anchor = match parts.branch {
            Some(branch) => Some(self.branch_anchor(branch)?),
            None => None,
        };
        let Some(step) = parts.step else {
            let ids = self.symbol(parts.symbol, anchor, applied, target)?;
            let ids = match (parts.symbol, anchor) {
                // `LABEL@base`: where the branch starts (its branch point, or base).
                ("base", Some(anchor)) => self.branch_base(anchor),
                _ => ids,
            };
            return Ok(Destination {
                ids,
                branch: anchor.map(|a| a.id.clone()),
            });
        };
        if parts.symbol.is_empty() {
            return self.relative_to_current(target, anchor, step, applied, motion);
        }
        let start = self.symbol(parts.symbol, anchor, applied, target)?;
        let ids = self.walk(start, step, anchor, target)?;
        let branch = match (anchor, step < 0, parts.symbol) {
            (Some(a), _, _) => Some(a.id.clone()),
            // `REV-N` steps down REV's own line: other branches stay.
            (None, true, symbol) => match self.symbol(symbol, None, applied, target)?.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            },
            (None, false, _) => None,
        };
        Ok(Destination { ids, branch })
    }

    /// Resolves a target to the revision ids it names (empty for `base`), both ways.
    pub fn resolve(&self, target: &str, applied: &Applied) -> Result<Vec<String>> {
        Ok(self.destination(target, applied, Motion::Any)?.ids)
    }

    /// Resolves a target that must name exactly one revision (`show`, `edit`, `--head`).
    pub fn resolve_one(&self, target: &str, applied: &Applied) -> Result<&Revision> {
        let ids = self.resolve(target, applied)?;
        match ids.as_slice() {
            [one] => self.get(one).ok_or_else(|| {
                TargetError::Unknown {
                    text: one.clone(),
                    candidates: Candidates::None,
                }
                .into()
            }),
            [] => Err(TargetError::IsBase {
                target: target.to_owned(),
            }
            .into()),
            several => Err(TargetError::NamesSeveral {
                target: target.to_owned(),
                ids: several.to_vec(),
            }
            .into()),
        }
    }

    /// Finds one revision by full id (diesel's dashed form too), branch label, or unique
    /// id prefix. An unknown one is an error listing at most five close ids.
    pub fn lookup(&self, text: &str) -> Result<&Revision> {
        if let Some(r) = self.get_normalised(text) {
            return Ok(r);
        }
        let labelled = self.labelled(text);
        if let [one] = labelled.as_slice() {
            return Ok(one);
        }
        let wanted = normalise(text);
        let matches: Vec<&Revision> = self
            .revisions()
            .iter()
            .filter(|r| r.id.starts_with(text) || r.id.starts_with(&wanted))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(TargetError::Unknown {
                text: text.to_owned(),
                candidates: self.close_ids(text),
            }
            .into()),
            several => Err(TargetError::AmbiguousPrefix {
                text: text.to_owned(),
                matches: ids(&several[..several.len().min(5)]),
                more: several.len() > 5,
            }
            .into()),
        }
    }

    /// The revision with this exact id, or with the id diesel derives from this text
    /// (`2019-11-15-182353_name` → `20191115182353`).
    /// A branch label wins over the normalised form (labels may hold `_`).
    pub fn get_normalised(&self, text: &str) -> Option<&Revision> {
        self.get(text).or_else(|| {
            self.labelled(text)
                .is_empty()
                .then(|| self.get(&normalise(text)))
                .flatten()
        })
    }

    /// Splits `[BRANCH@]SYMBOL[+-N]`. A trailing `-N` counts as a step only when what comes
    /// before it is a known revision (so a dashed diesel version is never read as `REV-N`).
    fn split<'a>(&self, target: &'a str) -> Parts<'a> {
        let (branch, rest) = match target.split_once('@') {
            Some((b, r)) => (Some(b), r),
            None => (None, target),
        };
        if let Some(pos) = rest.rfind(['+', '-'])
            && let Ok(n) = rest[pos + 1..].parse::<i64>()
        {
            let symbol = &rest[..pos];
            let step = if rest[pos..].starts_with('-') { -n } else { n };
            let known = symbol.is_empty()
                || matches!(symbol, "base" | "head" | "heads" | "current")
                || self.get_normalised(symbol).is_some()
                || !self.labelled(symbol).is_empty()
                || (!symbol.contains('-') && self.lookup(symbol).is_ok());
            if known {
                return Parts {
                    branch,
                    symbol,
                    step: Some(step),
                };
            }
        }
        Parts {
            branch,
            symbol: rest,
            step: None,
        }
    }

    /// The revision a branch name stands for: the revision declaring the label, or the
    /// revision itself (`REV@...`).
    fn branch_anchor(&self, branch: &str) -> Result<&Revision> {
        match self.labelled(branch).as_slice() {
            [one] => Ok(one),
            [] => self.lookup(branch).map_err(|_| {
                TargetError::UnknownBranch {
                    branch: branch.to_owned(),
                    labels: self.known_labels(),
                }
                .into()
            }),
            several => Err(TargetError::LabelOnSeveral {
                label: branch.to_owned(),
                ids: ids(several),
            }
            .into()),
        }
    }

    /// The revisions a symbol names, within `anchor`'s line of descent when given.
    fn symbol(
        &self,
        symbol: &str,
        anchor: Option<&Revision>,
        applied: &Applied,
        target: &str,
    ) -> Result<Vec<String>> {
        let lineage = anchor.map(|a| self.lineage(&a.id));
        let on_branch = |r: &&Revision| lineage.as_ref().is_none_or(|l| l.contains(&r.id));
        match symbol {
            "base" | "" => Ok(Vec::new()),
            "heads" => Ok(self
                .heads()
                .into_iter()
                .filter(on_branch)
                .map(|r| r.id.clone())
                .collect()),
            // With no revisions at all, `head` is base: there is nothing to apply.
            "head" if self.is_empty() => Ok(Vec::new()),
            "head" => {
                let heads: Vec<&Revision> = self.heads().into_iter().filter(on_branch).collect();
                self.single_head(&heads, target).map(|id| vec![id])
            }
            "current" => Ok(self
                .current_heads(applied)
                .into_iter()
                .filter(on_branch)
                .map(|r| r.id.clone())
                .collect()),
            _ => {
                let revision = self.lookup(symbol)?;
                if let Some(anchor) = anchor
                    && !self.lineage(&anchor.id).contains(&revision.id)
                {
                    return Err(TargetError::NotOnBranch {
                        revision: revision.id.clone(),
                        branch: anchor.id.clone(),
                    }
                    .into());
                }
                Ok(vec![revision.id.clone()])
            }
        }
    }

    /// `+N` / `-N` / `LABEL@+N` / `LABEL@-N`: counted from the database's current heads.
    fn relative_to_current(
        &self,
        target: &str,
        anchor: Option<&Revision>,
        step: i64,
        applied: &Applied,
        motion: Motion,
    ) -> Result<Destination> {
        match (motion, step < 0) {
            (Motion::Up, true) => {
                return Err(TargetError::WrongDirection {
                    command: "upgrade",
                    target: target.to_owned(),
                }
                .into());
            }
            (Motion::Down, false) => {
                return Err(TargetError::WrongDirection {
                    command: "downgrade",
                    target: target.to_owned(),
                }
                .into());
            }
            _ => {}
        }
        let lineage = anchor.map(|a| self.lineage(&a.id));
        let in_line = |id: &String| lineage.as_ref().is_none_or(|l| l.contains(id));
        let mut starts: Vec<String> = self
            .current_heads(applied)
            .into_iter()
            .map(|r| r.id.clone())
            .filter(in_line)
            .collect();
        if starts.is_empty()
            && let Some(lineage) = &lineage
        {
            // The branch is not at a head of the database: start from its newest applied
            // revisions (those no applied revision of the branch revises).
            let on_branch: BTreeSet<&String> =
                applied.iter().filter(|id| lineage.contains(*id)).collect();
            starts = on_branch
                .iter()
                .filter(|id| !self.children(id).iter().any(|c| on_branch.contains(&c.id)))
                .map(|id| (*id).clone())
                .collect();
        }
        let start = match starts.as_slice() {
            [] if step < 0 => {
                return Err(TargetError::NothingApplied {
                    target: target.to_owned(),
                    branch: anchor.map(|a| a.id.clone()),
                }
                .into());
            }
            [] => Vec::new(),
            [one] => vec![one.clone()],
            several => {
                return Err(TargetError::SeveralCurrentHeads {
                    target: target.to_owned(),
                    heads: several.to_vec(),
                    step: target[target.rfind(['+', '-']).unwrap_or(0)..].to_owned(),
                    labels: !self.known_labels().is_empty(),
                }
                .into());
            }
        };
        let branch = anchor
            .map(|a| a.id.clone())
            .or_else(|| start.first().filter(|_| step < 0).cloned());
        let ids = self.walk(start, step, anchor, target)?;
        Ok(Destination { ids, branch })
    }

    /// Moves `step` revisions from `start` (empty = base): up along children (only those on
    /// `anchor`'s line when given), down along parents (all of them at a merge, so `-1`
    /// from a merge revision steps back over just the merge).
    fn walk(
        &self,
        start: Vec<String>,
        step: i64,
        anchor: Option<&Revision>,
        target: &str,
    ) -> Result<Vec<String>> {
        if step < 0 {
            let mut at = start;
            for _ in 0..step.unsigned_abs() {
                if at.is_empty() {
                    return Err(TargetError::BelowBase {
                        target: target.to_owned(),
                    }
                    .into());
                }
                let mut parents: Vec<String> = Vec::new();
                for id in &at {
                    for p in self
                        .get(id)
                        .map(|r| r.parents.as_slice())
                        .unwrap_or_default()
                    {
                        if !parents.contains(p) {
                            parents.push(p.clone());
                        }
                    }
                }
                at = parents;
            }
            return Ok(at);
        }
        let lineage = anchor.map(|a| self.lineage(&a.id));
        let mut at: Option<String> = match start.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            several => {
                return Err(TargetError::SeveralStarts {
                    target: target.to_owned(),
                    ids: several.to_vec(),
                }
                .into());
            }
        };
        for _ in 0..step {
            let next: Vec<&Revision> = match &at {
                None => self
                    .revisions()
                    .iter()
                    .filter(|r| r.parents.is_empty())
                    .collect(),
                Some(id) => self.children(id),
            };
            let next: Vec<&Revision> = next
                .into_iter()
                .filter(|r| lineage.as_ref().is_none_or(|l| l.contains(&r.id)))
                .collect();
            at = match next.as_slice() {
                [one] => Some(one.id.clone()),
                [] => {
                    return Err(TargetError::PastHead {
                        target: target.to_owned(),
                        at,
                    }
                    .into());
                }
                several => {
                    return Err(TargetError::BranchPoint {
                        target: target.to_owned(),
                        ids: ids(several),
                    }
                    .into());
                }
            };
        }
        Ok(at.into_iter().collect())
    }

    /// Where the branch of `anchor` starts, as alembic's `LABEL@base` means it: below the
    /// lowest revision of its line that is neither past a branch point nor a merge — the
    /// branch point (or a merge revision) it grew from, or base.
    fn branch_base(&self, anchor: &Revision) -> Vec<String> {
        let mut node = anchor;
        loop {
            match node.parents.as_slice() {
                [] => return Vec::new(),
                [parent] => {
                    let Some(p) = self.get(parent) else {
                        return vec![parent.clone()];
                    };
                    if self.children(parent).len() > 1 || p.parents.len() > 1 {
                        return vec![parent.clone()];
                    }
                    node = p;
                }
                several => return several.to_vec(),
            }
        }
    }

    /// Revisions carrying a branch label.
    fn labelled(&self, label: &str) -> Vec<&Revision> {
        self.revisions()
            .iter()
            .filter(|r| r.branch_labels.iter().any(|l| l == label))
            .collect()
    }

    fn single_head(&self, heads: &[&Revision], what: &str) -> Result<String> {
        match heads {
            [one] => Ok(one.id.clone()),
            [] => Err(TargetError::NoRevisions {
                target: what.to_owned(),
            }
            .into()),
            several => Err(TargetError::MultipleHeads {
                target: what.to_owned(),
                heads: ids(several),
            }
            .into()),
        }
    }

    /// At most five ids close to `text`, by shared prefix then edit distance.
    fn close_ids(&self, text: &str) -> Candidates {
        if self.is_empty() {
            return Candidates::NoRevisions;
        }
        let wanted = normalise(text);
        let mut scored: Vec<(usize, usize, &str)> = self
            .revisions()
            .iter()
            .map(|r| {
                let prefix =
                    r.id.chars()
                        .zip(wanted.chars())
                        .take_while(|(a, b)| a == b)
                        .count();
                (
                    usize::MAX - prefix,
                    edit_distance(&r.id, &wanted),
                    r.id.as_str(),
                )
            })
            .collect();
        scored.sort();
        Candidates::Closest {
            ids: scored
                .iter()
                .take(5)
                .map(|(_, _, id)| (*id).to_owned())
                .collect(),
            more: self.revisions().len() > 5,
        }
    }

    /// The branch labels of the graph, sorted.
    fn known_labels(&self) -> Vec<String> {
        let labels: BTreeSet<&str> = self
            .revisions()
            .iter()
            .flat_map(|r| r.branch_labels.iter().map(String::as_str))
            .collect();
        labels.into_iter().map(str::to_owned).collect()
    }
}

/// diesel's version of a name: the part before the first `_`, without dashes.
fn normalise(text: &str) -> String {
    crate::script::version_of(text)
}

/// Levenshtein distance (ids are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The ids of revisions.
pub(crate) fn ids(revisions: &[&Revision]) -> Vec<String> {
    revisions.iter().map(|r| r.id.clone()).collect()
}

/// `a, b, c`: the ids of revisions, for a message.
pub(crate) fn list_ids(revisions: &[&Revision]) -> String {
    ids(revisions).join(", ")
}
