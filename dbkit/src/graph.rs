//! The revision graph: parents from `Revises:`, heads, branch points, ancestors, and the
//! target grammar (`head`, `heads`, `base`, ids and prefixes, `+N`, `-N`, `REV+N`,
//! `REV-N`, `LABEL@head`). Pure data: never touches a database.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::error::Result;
use crate::graph_error::{GraphError, TargetError};
use crate::script::{Revision, RevisionTexts, load_revisions};
use crate::target::{Destination, list_ids};

/// All revisions of an environment, validated: every parent exists, no cycles, ids unique.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    /// In topological order (parents and dependencies first, ties by id).
    revisions: Vec<Revision>,
    index: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    /// The revisions naming each one in `Depends On:`.
    dependants: Vec<Vec<usize>>,
    /// Their files' text as read (every `up.sql` when loaded from a directory).
    texts: RevisionTexts,
}

/// The set of applied revision ids (from the version table).
pub type Applied = BTreeSet<String>;

/// Each revision's position by id; two revisions with one id are an error.
fn unique_ids(revisions: &[Revision]) -> Result<HashMap<String, usize>> {
    let mut index = HashMap::new();
    for (i, r) in revisions.iter().enumerate() {
        if let Some(&other) = index.get(&r.id) {
            let other: &Revision = &revisions[other];
            return Err(GraphError::DuplicateId {
                id: r.id.clone(),
                first: other.dir.clone(),
                second: r.dir.clone(),
            }
            .into());
        }
        index.insert(r.id.clone(), i);
    }
    Ok(index)
}

/// Rewrites every `Revises:` and `Depends On:` reference to a revision id: references may
/// use diesel's dashed form of an id, and `Depends On:` a branch label. One that names no
/// revision is an error.
fn resolve_references(revisions: &mut [Revision], index: &HashMap<String, usize>) -> Result<()> {
    let labels: HashMap<String, String> = revisions
        .iter()
        .flat_map(|r| r.branch_labels.iter().map(|l| (l.clone(), r.id.clone())))
        .collect();
    for r in revisions.iter_mut() {
        let up = r.up_path();
        for (field, list) in [
            ("Revises", &mut r.parents),
            ("Depends On", &mut r.depends_on),
        ] {
            for reference in list.iter_mut() {
                if index.contains_key(reference.as_str()) {
                    continue;
                }
                let version = crate::script::version_of(reference);
                let resolved = if index.contains_key(&version) {
                    Some(version)
                } else if field == "Depends On" {
                    labels.get(reference.as_str()).cloned()
                } else {
                    None
                };
                *reference = resolved.ok_or_else(|| GraphError::MissingParent {
                    file: up.clone(),
                    field,
                    reference: reference.clone(),
                })?;
            }
        }
    }
    Ok(())
}

/// The positions of the revisions in topological order (Kahn), ties broken by version
/// order; revisions left over form a cycle, which is an error.
fn topological_order(revisions: &[Revision], index: &HashMap<String, usize>) -> Result<Vec<usize>> {
    let n = revisions.len();
    let mut pending: Vec<usize> = revisions
        .iter()
        .map(|r| r.parents.len() + r.depends_on.len())
        .collect();
    let mut unlocks: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in revisions.iter().enumerate() {
        for p in r.parents.iter().chain(&r.depends_on) {
            unlocks[index[p]].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &d in &unlocks[i] {
            pending[d] -= 1;
            if pending[d] == 0 {
                ready.insert(d);
            }
        }
    }
    if order.len() < n {
        let files = (0..n)
            .filter(|i| pending[*i] > 0)
            .map(|i| revisions[i].up_path())
            .collect();
        return Err(GraphError::Cycle { files }.into());
    }
    Ok(order)
}

impl RevisionGraph {
    /// Reads and validates the revisions in `versions_dir`, keeping the text of each
    /// `up.sql` ([`Self::texts`]).
    pub fn load(versions_dir: &Path) -> Result<Self> {
        let (revisions, texts) = load_revisions(versions_dir)?;
        Ok(RevisionGraph {
            texts,
            ..Self::new(revisions)?
        })
    }

    /// Validates revisions (already in version order) and builds the graph.
    pub fn new(mut revisions: Vec<Revision>) -> Result<Self> {
        let index = unique_ids(&revisions)?;
        resolve_references(&mut revisions, &index)?;
        let order = topological_order(&revisions, &index)?;
        let n = revisions.len();
        let mut slots: Vec<Option<Revision>> = revisions.into_iter().map(Some).collect();
        let revisions: Vec<Revision> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let index: HashMap<String, usize> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut children = vec![Vec::new(); n];
        let mut dependants = vec![Vec::new(); n];
        for (i, r) in revisions.iter().enumerate() {
            for p in &r.parents {
                children[index[p]].push(i);
            }
            for d in &r.depends_on {
                dependants[index[d]].push(i);
            }
        }
        Ok(RevisionGraph {
            revisions,
            index,
            children,
            dependants,
            texts: RevisionTexts::default(),
        })
    }

    /// The text of the revisions' files, each read once (what a run checksums, lints and
    /// runs).
    pub fn texts(&self) -> &RevisionTexts {
        &self.texts
    }

    /// Every revision, parents before children.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Whether there are no revisions at all.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.index.get(id).map(|&i| &self.revisions[i])
    }

    /// The revisions that revise `id`.
    pub fn children(&self, id: &str) -> Vec<&Revision> {
        self.index
            .get(id)
            .map(|&i| {
                self.children[i]
                    .iter()
                    .map(|&c| &self.revisions[c])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Revisions nothing revises, by id.
    pub fn heads(&self) -> Vec<&Revision> {
        let mut heads: Vec<&Revision> = (0..self.revisions.len())
            .filter(|&i| self.children[i].is_empty())
            .map(|i| &self.revisions[i])
            .collect();
        heads.sort_by(|a, b| a.id.cmp(&b.id));
        heads
    }

    /// Revisions with more than one child.
    pub fn branch_points(&self) -> Vec<&Revision> {
        (0..self.revisions.len())
            .filter(|&i| self.children[i].len() > 1)
            .map(|i| &self.revisions[i])
            .collect()
    }

    /// Whether `id` is a head.
    pub fn is_head(&self, id: &str) -> bool {
        self.index
            .get(id)
            .is_some_and(|&i| self.children[i].is_empty())
    }

    /// The targets and everything they need (parents and dependencies), inclusive.
    pub fn ancestors<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = ids.into_iter().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.to_owned()) {
                continue;
            }
            if let Some(r) = self.get(id) {
                stack.extend(r.parents.iter().chain(&r.depends_on).map(String::as_str));
            }
        }
        seen
    }

    /// `id` and everything that revises it, directly or not, inclusive.
    pub fn descendants(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if seen.insert(id.to_owned()) {
                stack.extend(self.children(id).into_iter().map(|r| r.id.as_str()));
            }
        }
        seen
    }

    /// The applied revisions that no other applied revision revises.
    pub fn current_heads(&self, applied: &Applied) -> Vec<&Revision> {
        let known: Vec<&Revision> = self
            .revisions
            .iter()
            .filter(|r| applied.contains(&r.id))
            .collect();
        let mut heads: Vec<&Revision> = known
            .iter()
            .copied()
            .filter(|r| !self.children(&r.id).iter().any(|c| applied.contains(&c.id)))
            .collect();
        heads.sort_by(|a, b| a.id.cmp(&b.id));
        heads
    }

    /// `id`'s line of descent: its ancestors and descendants along `Revises:` (not
    /// `Depends On:`), inclusive. Alembic's "shares lineage".
    pub fn lineage(&self, id: &str) -> BTreeSet<String> {
        let mut line = self.descendants(id);
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if let Some(r) = self.get(id) {
                for p in &r.parents {
                    if line.insert(p.clone()) {
                        stack.push(p);
                    }
                }
            }
        }
        line
    }

    /// `ids` and everything that revises or depends on them, directly or not, inclusive.
    pub fn dependants<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = ids.into_iter().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.to_owned()) {
                continue;
            }
            if let Some(&i) = self.index.get(id) {
                stack.extend(
                    self.children[i]
                        .iter()
                        .map(|&c| self.revisions[c].id.as_str()),
                );
                stack.extend(
                    self.dependants[i]
                        .iter()
                        .map(|&c| self.revisions[c].id.as_str()),
                );
            }
        }
        seen
    }

    /// What `upgrade` applies to reach `targets`: their missing ancestors and dependencies,
    /// parents first.
    pub fn upgrade_plan(&self, targets: &[String], applied: &Applied) -> Vec<&Revision> {
        let wanted = self.ancestors(targets.iter().map(String::as_str));
        self.revisions
            .iter()
            .filter(|r| wanted.contains(&r.id) && !applied.contains(&r.id))
            .collect()
    }

    /// What `downgrade` reverts to reach `destination`, newest first — alembic's rule: the
    /// applied revisions that descend from (or depend on) the destination's children, the
    /// children limited to the destination's branch when it has one. Other branches stay.
    pub fn downgrade_plan(
        &self,
        destination: &Destination,
        applied: &Applied,
    ) -> Result<Vec<&Revision>> {
        let targets = &destination.ids;
        let mut roots: Vec<&Revision> = if targets.is_empty() {
            self.revisions
                .iter()
                .filter(|r| r.parents.is_empty())
                .collect()
        } else {
            let mut roots: Vec<&Revision> = Vec::new();
            for id in targets {
                for child in self.children(id) {
                    if !roots.iter().any(|r| r.id == child.id) {
                        roots.push(child);
                    }
                }
            }
            roots
        };
        if let Some(branch) = &destination.branch
            && roots.len() > 1
        {
            let line = self.ancestors_on_line(branch);
            roots.retain(|r| line.contains(&r.id));
            if roots.is_empty() {
                return Err(TargetError::NotOnDowngradeBranch {
                    targets: targets.to_vec(),
                    branch: branch.clone(),
                }
                .into());
            }
        }
        let keep = self.ancestors(targets.iter().map(String::as_str));
        let drop = self.dependants(roots.iter().map(|r| r.id.as_str()));
        let plan: Vec<&Revision> = self
            .revisions
            .iter()
            .rev()
            .filter(|r| applied.contains(&r.id) && drop.contains(&r.id) && !keep.contains(&r.id))
            .collect();
        if plan.is_empty()
            && let Some(missing) = targets.iter().find(|id| !applied.contains(*id))
        {
            return Err(TargetError::NotApplied {
                revision: missing.clone(),
                at: self.describe_heads(applied),
            }
            .into());
        }
        Ok(plan)
    }

    /// What `stamp` changes to reach `destination` without running SQL: the rows to remove
    /// (as `downgrade` would revert them) and the rows to add (as `upgrade` would apply).
    pub fn stamp_plan(
        &self,
        destination: &Destination,
        applied: &Applied,
    ) -> Result<(Vec<&Revision>, Vec<&Revision>)> {
        let remove = self.downgrade_plan(destination, applied).or_else(|e| {
            // Stamping forward: nothing to remove when the target is not applied yet.
            if destination.ids.iter().any(|id| !applied.contains(id)) {
                Ok(Vec::new())
            } else {
                Err(e)
            }
        })?;
        let add = self.upgrade_plan(&destination.ids, applied);
        Ok((remove, add))
    }

    /// The ancestors of `id` along `Revises:` only, inclusive.
    fn ancestors_on_line(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if seen.insert(id.to_owned())
                && let Some(r) = self.get(id)
            {
                stack.extend(r.parents.iter().map(String::as_str));
            }
        }
        seen
    }

    /// `a1, b2` or `base`: the database's current heads, for messages.
    pub fn describe_heads(&self, applied: &Applied) -> String {
        let heads = self.current_heads(applied);
        if heads.is_empty() {
            "base".into()
        } else {
            list_ids(&heads)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Motion;
    use std::path::PathBuf;

    fn rev(id: &str, parents: &[&str]) -> Revision {
        Revision {
            id: id.into(),
            dir: PathBuf::from(format!("v/{id}_x")),
            message: format!("rev {id}"),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            branch_labels: vec![],
            depends_on: vec![],
            create_date: None,
            has_header: true,
            run_in_transaction: true,
        }
    }

    fn labelled(id: &str, parents: &[&str], label: &str) -> Revision {
        let mut r = rev(id, parents);
        r.branch_labels = vec![label.into()];
        r
    }

    fn applied(ids: &[&str]) -> Applied {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn ids(revs: Vec<&Revision>) -> Vec<&str> {
        revs.into_iter().map(|r| r.id.as_str()).collect()
    }

    /// What `downgrade target` reverts from the state `from` (every ancestor applied).
    fn down(g: &RevisionGraph, target: &str, heads: &[&str]) -> Result<Vec<String>> {
        let state = g.ancestors(heads.iter().copied());
        let destination = g.destination(target, &state, Motion::Down)?;
        Ok(g.downgrade_plan(&destination, &state)?
            .into_iter()
            .map(|r| r.id.clone())
            .collect())
    }

    /// What `upgrade target` applies from the state `from`.
    fn up(g: &RevisionGraph, target: &str, heads: &[&str]) -> Result<Vec<String>> {
        let state = g.ancestors(heads.iter().copied());
        let destination = g.destination(target, &state, Motion::Up)?;
        Ok(g.upgrade_plan(&destination.ids, &state)
            .into_iter()
            .map(|r| r.id.clone())
            .collect())
    }

    /// a1 <- b2 <- c3, and a branch b2 <- d4 (labelled feat).
    fn branched() -> RevisionGraph {
        RevisionGraph::new(vec![
            rev("a1", &[]),
            rev("b2", &["a1"]),
            rev("c3", &["b2"]),
            labelled("d4", &["b2"], "feat"),
        ])
        .unwrap()
    }

    /// alembic's BranchedPathTest: a <- b <- c1 (c1branch) <- d1, b <- c2 (c2branch) <- d2.
    fn alembic_branches() -> RevisionGraph {
        RevisionGraph::new(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            labelled("c1", &["b"], "c1branch"),
            rev("d1", &["c1"]),
            labelled("c2", &["b"], "c2branch"),
            rev("d2", &["c2"]),
        ])
        .unwrap()
    }

    #[test]
    fn linear_targets() {
        let g = RevisionGraph::new(vec![rev("a1", &[]), rev("b2", &["a1"]), rev("c3", &["b2"])])
            .unwrap();
        let none = applied(&[]);
        assert_eq!(g.resolve("head", &none).unwrap(), vec!["c3"]);
        assert_eq!(g.resolve("base", &none).unwrap(), Vec::<String>::new());
        assert_eq!(g.resolve("b", &none).unwrap(), vec!["b2"]);
        assert_eq!(g.resolve("+1", &none).unwrap(), vec!["a1"]);
        assert_eq!(g.resolve("+2", &applied(&["a1"])).unwrap(), vec!["c3"]);
        assert_eq!(
            g.resolve("-1", &applied(&["a1", "b2"])).unwrap(),
            vec!["a1"]
        );
        assert_eq!(
            g.resolve("-2", &applied(&["a1", "b2"])).unwrap(),
            Vec::<String>::new()
        );
        assert!(g.resolve("-3", &applied(&["a1", "b2"])).is_err());
        assert_eq!(g.resolve("a1+2", &none).unwrap(), vec!["c3"]);
        assert_eq!(g.resolve("c3-1", &none).unwrap(), vec!["b2"]);
        assert_eq!(
            g.resolve("current", &applied(&["a1", "b2"])).unwrap(),
            vec!["b2"]
        );
        assert!(g.resolve("c3+1", &none).is_err());
        let err = g.resolve("zz", &none).unwrap_err().to_string();
        assert!(
            err.contains("no revision `zz`; closest: a1, b2, c3"),
            "{err}"
        );
        assert_eq!(up(&g, "c3", &["a1"]).unwrap(), ["b2", "c3"]);
        assert_eq!(down(&g, "a1", &["c3"]).unwrap(), ["c3", "b2"]);
        assert_eq!(down(&g, "-1", &["c3"]).unwrap(), ["c3"]);
        assert_eq!(down(&g, "b2+1", &["c3"]).unwrap(), Vec::<String>::new());
        assert_eq!(down(&g, "base", &["c3"]).unwrap(), ["c3", "b2", "a1"]);
        // Upgrading to the past does nothing; downgrading to the future is an error.
        assert_eq!(up(&g, "a1", &["c3"]).unwrap(), Vec::<String>::new());
        let err = down(&g, "c3", &["a1"]).unwrap_err().to_string();
        assert!(
            err.contains("c3 is not applied") && err.contains("upgrade c3"),
            "{err}"
        );
    }

    #[test]
    fn relative_steps_say_which_command_goes_which_way() {
        let g = alembic_branches();
        let err = g
            .destination("-1", &applied(&["a"]), Motion::Up)
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(
            err.to_string().contains("cargo dbrev downgrade -1"),
            "{err}"
        );
        let err = g
            .destination("+1", &applied(&["a"]), Motion::Down)
            .unwrap_err();
        assert!(err.to_string().contains("cargo dbrev upgrade +1"), "{err}");
        let err = g
            .destination("c1branch@-1", &applied(&["a"]), Motion::Up)
            .unwrap_err();
        assert!(err.to_string().contains("downgrade"), "{err}");
        // With a revision to count from, both ways are fine: `a+1` down, `d1-1` up.
        assert_eq!(down(&g, "a+1", &["d1"]).unwrap(), ["d1", "c1"]);
        assert_eq!(up(&g, "d1-1", &["a"]).unwrap(), ["b", "c1"]);
    }

    #[test]
    fn downgrades_revert_only_the_named_branch() {
        let g = alembic_branches();
        let both = ["d1", "d2"];
        // alembic: test_relative_downgrade_baseplus2 / branchplus2 / branchplus3
        assert_eq!(down(&g, "base+2", &both).unwrap(), ["d2", "c2", "d1", "c1"]);
        assert_eq!(down(&g, "c2branch@base+2", &both).unwrap(), ["d2", "c2"]);
        assert_eq!(down(&g, "c2branch@base+3", &both).unwrap(), ["d2"]);
        assert_eq!(down(&g, "c2", &both).unwrap(), ["d2"]);
        // test_downgrade_once_order_left_unbalanced_labelled, test_downgrade_relative_*
        assert_eq!(down(&g, "c1branch@-1", &both).unwrap(), ["d1"]);
        assert_eq!(down(&g, "d2-1", &["d2", "c1"]).unwrap(), ["d2"]);
        // test_downgrade_single_branch_*
        assert_eq!(down(&g, "c1branch@b", &["c1", "d2"]).unwrap(), ["c1"]);
        assert_eq!(down(&g, "c2branch@b", &["c1", "d2"]).unwrap(), ["d2", "c2"]);
        assert_eq!(down(&g, "c2@b", &both).unwrap(), ["d2", "c2"]);
        assert_eq!(down(&g, "d1@b", &both).unwrap(), ["d1", "c1"]);
        assert_eq!(down(&g, "c1branch@head-1", &both).unwrap(), ["d1"]);
        // test_downgrade_no_effect_branched
        assert!(down(&g, "c2", &["d1", "c2"]).unwrap().is_empty());
        assert!(down(&g, "d1", &["d1", "c2"]).unwrap().is_empty());
        // The cases: `REV-1` and `LABEL@base` below a branch point stay on that
        // branch; the other branch's revisions are not reverted.
        assert_eq!(down(&g, "c1-1", &both).unwrap(), ["d1", "c1"]);
        assert_eq!(down(&g, "d1-2", &both).unwrap(), ["d1", "c1"]);
        assert_eq!(down(&g, "c1branch@base", &both).unwrap(), ["d1", "c1"]);
        assert_eq!(down(&g, "c2branch@base", &both).unwrap(), ["d2", "c2"]);
        assert_eq!(down(&g, "c2branch@-2", &both).unwrap(), ["d2", "c2"]);
        // `-1` with two current heads is ambiguous: it says how to choose.
        let err = down(&g, "-1", &both).unwrap_err().to_string();
        assert!(
            err.contains("`d1-1`, `d2-1`") && err.contains("LABEL@"),
            "{err}"
        );
        assert_eq!(down(&g, "-1", &["d1"]).unwrap(), ["d1"]);
        assert_eq!(down(&g, "-1", &["a"]).unwrap(), ["a"]);
        assert!(down(&g, "-1", &[]).is_err());
        assert_eq!(
            down(&g, "base", &both).unwrap(),
            ["d2", "c2", "d1", "c1", "b", "a"]
        );
        let err = down(&g, "c1branch@d2", &both).unwrap_err().to_string();
        assert!(err.contains("not on the branch of c1"), "{err}");
    }

    #[test]
    fn upgrades_along_a_branch() {
        let g = alembic_branches();
        // test_upgrade_other_branch_from_mergepoint / test_upgrade_one_branch_of_heads
        assert_eq!(up(&g, "c2branch@+1", &["c1"]).unwrap(), ["c2"]);
        assert_eq!(up(&g, "c2branch@+1", &["c1", "c2"]).unwrap(), ["d2"]);
        assert_eq!(up(&g, "c2branch@head-1", &["b"]).unwrap(), ["c2"]);
        let err = up(&g, "+1", &["c1", "c2"]).unwrap_err().to_string();
        assert!(err.contains("several current heads"), "{err}");
        assert_eq!(up(&g, "+1", &[]).unwrap(), ["a"]);
        let err = up(&g, "b+1", &[]).unwrap_err().to_string();
        assert!(err.contains("ambiguous at a branch point"), "{err}");
        assert_eq!(up(&g, "d1", &["a"]).unwrap(), ["b", "c1", "d1"]);
        assert_eq!(up(&g, "heads", &["d1"]).unwrap(), ["c2", "d2"]);
        assert_eq!(up(&g, "c2branch@head", &["d1"]).unwrap(), ["c2", "d2"]);
    }

    #[test]
    fn stamping_moves_only_the_named_branch() {
        let g = alembic_branches();
        let state = applied(&["a", "b", "c1", "d1", "c2"]);
        let plan = |target: &str| {
            let d = g.destination(target, &state, Motion::Any).unwrap();
            let (remove, add) = g.stamp_plan(&d, &state).unwrap();
            (ids(remove), ids(add))
        };
        assert_eq!(plan("c2branch@head"), (vec![], vec!["d2"]));
        assert_eq!(plan("b"), (vec!["c2", "d1", "c1"], vec![]));
        assert_eq!(plan("c1branch@base"), (vec!["d1", "c1"], vec![]));
        assert_eq!(plan("current"), (vec![], vec![]));
    }

    #[test]
    fn dependencies_go_down_with_what_they_depend_on() {
        // alembic's DependsOnBranchTestThree: a1 <- a2 <- a3 (depends on b1);
        // b1 <- b2 (depends on a2) <- b3.
        let mut a3 = rev("a3", &["a2"]);
        a3.depends_on = vec!["b1".into()];
        let mut b2 = rev("b2", &["b1"]);
        b2.depends_on = vec!["a2".into()];
        let g = RevisionGraph::new(vec![
            rev("a1", &[]),
            rev("a2", &["a1"]),
            a3,
            rev("b1", &[]),
            b2,
            rev("b3", &["b2"]),
        ])
        .unwrap();
        assert_eq!(down(&g, "b1", &["a3", "b2"]).unwrap(), ["b2"]);
        assert_eq!(
            down(&g, "a1", &["a3", "b3"]).unwrap(),
            ["b3", "b2", "a3", "a2"]
        );
        assert_eq!(up(&g, "b2", &[]).unwrap(), ["a1", "a2", "b1", "b2"]);
    }

    #[test]
    fn branches_and_labels() {
        let g = branched();
        let none = applied(&[]);
        assert_eq!(ids(g.heads()), vec!["c3", "d4"]);
        assert_eq!(ids(g.branch_points()), vec!["b2"]);
        let err = g.resolve("head", &none).unwrap_err().to_string();
        assert!(err.contains("c3, d4"), "{err}");
        assert_eq!(g.resolve("heads", &none).unwrap(), vec!["c3", "d4"]);
        assert_eq!(g.resolve("feat@head", &none).unwrap(), vec!["d4"]);
        assert_eq!(g.resolve("feat", &none).unwrap(), vec!["d4"]);
        assert_eq!(g.resolve("feat@base", &none).unwrap(), vec!["b2"]);
        assert!(g.resolve("b2+1", &none).is_err());
        let all = applied(&["a1", "b2", "c3", "d4"]);
        assert_eq!(ids(g.current_heads(&all)), vec!["c3", "d4"]);
        assert!(g.resolve("-1", &all).is_err());
        let plan = g.upgrade_plan(&g.resolve("heads", &none).unwrap(), &none);
        assert_eq!(ids(plan), vec!["a1", "b2", "c3", "d4"]);
    }

    #[test]
    fn merges() {
        let mut revs = vec![rev("a1", &[]), rev("b2", &["a1"]), rev("c3", &["a1"])];
        revs.push(rev("m4", &["b2", "c3"]));
        let g = RevisionGraph::new(revs).unwrap();
        assert_eq!(ids(g.heads()), vec!["m4"]);
        let all = applied(&["a1", "b2", "c3", "m4"]);
        assert_eq!(g.resolve("-1", &all).unwrap(), vec!["b2", "c3"]);
        assert_eq!(down(&g, "-1", &["m4"]).unwrap(), ["m4"]);
        assert_eq!(down(&g, "a1", &["m4"]).unwrap(), ["m4", "c3", "b2"]);
    }

    #[test]
    fn diesel_dashed_versions_name_revisions() {
        let g = RevisionGraph::new(vec![
            rev("20191115182353", &[]),
            rev("20191116090000", &["2019-11-15-182353"]),
            rev("202303010000000000", &["20191116090000"]),
        ])
        .unwrap();
        let none = applied(&[]);
        assert_eq!(g.get("20191116090000").unwrap().parents, ["20191115182353"]);
        for text in [
            "2019-11-15-182353",
            "2019-11-15-182353_create_users",
            "20191115182353",
        ] {
            assert_eq!(
                g.resolve(text, &none).unwrap(),
                ["20191115182353"],
                "{text}"
            );
        }
        assert_eq!(
            g.resolve("2023-03-01-000000-0000", &none).unwrap(),
            ["202303010000000000"]
        );
        assert_eq!(
            g.resolve("2019-11-16-090000-1", &none).unwrap(),
            ["20191115182353"]
        );
        assert_eq!(
            g.resolve("2019-11-16-090000+1", &none).unwrap(),
            ["202303010000000000"]
        );
        // A date prefix is a prefix, never `REV-15`.
        let err = g
            .resolve("2019-11-15-999999", &none)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no revision `2019-11-15-999999`"), "{err}");
    }

    #[test]
    fn unknown_ids_list_a_handful_of_close_ones() {
        let mut revs = Vec::new();
        for i in 0..40 {
            let id = format!("2026010100{i:04}");
            let parent = (i > 0).then(|| format!("2026010100{:04}", i - 1));
            revs.push(rev(
                &id,
                &parent.iter().map(String::as_str).collect::<Vec<_>>(),
            ));
        }
        let g = RevisionGraph::new(revs).unwrap();
        let err = g
            .resolve("202601010000399", &applied(&[]))
            .unwrap_err()
            .to_string();
        let listed = err.split("closest: ").nth(1).unwrap_or_default();
        assert_eq!(listed.matches("20260101").count(), 5, "{err}");
        assert!(err.contains("history` lists all"), "{err}");
        let err = g
            .resolve("2026010100", &applied(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ambiguous") && err.ends_with(", ..."), "{err}");
    }

    #[test]
    fn invalid_graphs() {
        let err = RevisionGraph::new(vec![rev("a1", &["zz"])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("v/a1_x/up.sql") && err.contains("zz"), "{err}");
        let err = RevisionGraph::new(vec![rev("a1", &["b2"]), rev("b2", &["a1"])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cycle") && err.contains("v/a1_x"), "{err}");
        let err = RevisionGraph::new(vec![rev("a1", &[]), rev("a1", &[])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("two revisions"), "{err}");
    }

    #[test]
    fn ambiguous_prefix() {
        let g = RevisionGraph::new(vec![rev("a10", &[]), rev("a11", &["a10"])]).unwrap();
        let err = g.resolve("a1", &applied(&[])).unwrap_err().to_string();
        assert!(err.contains("a10, a11"), "{err}");
    }
}
