//! The revision graph: parents from `Revises:`, heads, branch points, ancestors, and the
//! target grammar (`head`, `heads`, `base`, ids and prefixes, `+N`, `-N`, `REV+N`,
//! `REV-N`, `LABEL@head`). Pure data: never touches a database.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::error::{Error, Result};
use crate::script::{Revision, read_revisions};

/// All revisions of an environment, validated: every parent exists, no cycles, ids unique.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    /// In topological order (parents and dependencies first, ties by id).
    revisions: Vec<Revision>,
    index: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
}

/// The set of applied revision ids (from the version table).
pub type Applied = BTreeSet<String>;

impl RevisionGraph {
    /// Reads and validates the revisions in `versions_dir`.
    pub fn load(versions_dir: &Path) -> Result<Self> {
        Self::new(read_revisions(versions_dir)?)
    }

    /// Validates revisions (already in version order) and builds the graph.
    pub fn new(revisions: Vec<Revision>) -> Result<Self> {
        let mut index = HashMap::new();
        for (i, r) in revisions.iter().enumerate() {
            if let Some(&other) = index.get(&r.id) {
                let other: &Revision = &revisions[other];
                return Err(Error::Script(format!(
                    "two revisions have the id {}: {} and {}",
                    r.id,
                    other.dir.display(),
                    r.dir.display()
                )));
            }
            index.insert(r.id.clone(), i);
        }
        for r in &revisions {
            for (kind, list) in [("Revises", &r.parents), ("Depends On", &r.depends_on)] {
                if let Some(missing) = list.iter().find(|p| !index.contains_key(p.as_str())) {
                    return Err(Error::Script(format!(
                        "{}: `{kind}: {missing}` names a revision that does not exist",
                        r.up_path().display()
                    )));
                }
            }
        }
        // Topological order (Kahn), ties broken by version order; leftovers form a cycle.
        let n = revisions.len();
        let mut pending: Vec<usize> = revisions
            .iter()
            .map(|r| r.parents.len() + r.depends_on.len())
            .collect();
        let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, r) in revisions.iter().enumerate() {
            for p in r.parents.iter().chain(&r.depends_on) {
                dependants[index[p]].push(i);
            }
        }
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &d in &dependants[i] {
                pending[d] -= 1;
                if pending[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        if order.len() < n {
            let in_cycle: Vec<String> = (0..n)
                .filter(|i| pending[*i] > 0)
                .map(|i| revisions[i].up_path().display().to_string())
                .collect();
            return Err(Error::Script(format!(
                "the revisions form a cycle: {}",
                in_cycle.join(", ")
            )));
        }
        let mut slots: Vec<Option<Revision>> = revisions.into_iter().map(Some).collect();
        let revisions: Vec<Revision> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let index: HashMap<String, usize> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut children = vec![Vec::new(); n];
        for (i, r) in revisions.iter().enumerate() {
            for p in &r.parents {
                children[index[p]].push(i);
            }
        }
        Ok(RevisionGraph {
            revisions,
            index,
            children,
        })
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

    /// What `upgrade` applies to reach `targets`: their missing ancestors, parents first.
    pub fn upgrade_plan(&self, targets: &[String], applied: &Applied) -> Vec<&Revision> {
        let wanted = self.ancestors(targets.iter().map(String::as_str));
        self.revisions
            .iter()
            .filter(|r| wanted.contains(&r.id) && !applied.contains(&r.id))
            .collect()
    }

    /// What `downgrade` reverts to reach `targets`: every applied revision that is not an
    /// ancestor of a target, newest first.
    pub fn downgrade_plan(&self, targets: &[String], applied: &Applied) -> Vec<&Revision> {
        let keep = self.ancestors(targets.iter().map(String::as_str));
        self.revisions
            .iter()
            .rev()
            .filter(|r| applied.contains(&r.id) && !keep.contains(&r.id))
            .collect()
    }

    /// Resolves a target to the revision ids it names (empty for `base`).
    ///
    /// `applied` is the database's state, used by the relative forms `+N` and `-N`.
    pub fn resolve(&self, target: &str, applied: &Applied) -> Result<Vec<String>> {
        let target = target.trim();
        if target.is_empty() {
            return Err(Error::Target("the target is empty".into()));
        }
        if let Some((from, step)) = split_relative(target) {
            let start: Option<String> = if from.is_empty() {
                let heads = self.current_heads(applied);
                match heads.as_slice() {
                    [] => None,
                    [one] => Some(one.id.clone()),
                    several => {
                        return Err(Error::Target(format!(
                            "`{target}` is ambiguous: the database has several current heads ({}); name one, like `{}{}`",
                            list_ids(several),
                            several[0].id,
                            &target
                        )));
                    }
                }
            } else {
                match self.resolve(from, applied)?.as_slice() {
                    [] => None,
                    [one] => Some(one.clone()),
                    several => {
                        return Err(Error::Target(format!(
                            "`{from}` names several revisions ({}); relative steps need one",
                            several.join(", ")
                        )));
                    }
                }
            };
            return self.step(start, step, target);
        }
        match target {
            "base" => return Ok(Vec::new()),
            "heads" => return Ok(self.heads().iter().map(|r| r.id.clone()).collect()),
            // With no revisions at all, `head` is base: there is nothing to apply.
            "head" if self.is_empty() => return Ok(Vec::new()),
            "head" => return self.single_head(&self.heads(), "head").map(|id| vec![id]),
            _ => {}
        }
        if let Some(label) = target.strip_suffix("@head") {
            let labelled: Vec<&Revision> = self
                .revisions
                .iter()
                .filter(|r| r.branch_labels.iter().any(|l| l == label))
                .collect();
            if labelled.is_empty() {
                return Err(Error::Target(format!(
                    "no revision has the branch label `{label}`{}",
                    self.known_labels()
                )));
            }
            let reach: BTreeSet<String> = labelled
                .iter()
                .flat_map(|r| self.descendants(&r.id))
                .collect();
            let heads: Vec<&Revision> = self
                .heads()
                .into_iter()
                .filter(|h| reach.contains(&h.id))
                .collect();
            return self.single_head(&heads, target).map(|id| vec![id]);
        }
        self.lookup(target).map(|r| vec![r.id.clone()])
    }

    /// Finds one revision by full id, branch label, or unique id prefix.
    pub fn lookup(&self, text: &str) -> Result<&Revision> {
        if let Some(r) = self.get(text) {
            return Ok(r);
        }
        let labelled: Vec<&Revision> = self
            .revisions
            .iter()
            .filter(|r| r.branch_labels.iter().any(|l| l == text))
            .collect();
        if let [one] = labelled.as_slice() {
            return Ok(one);
        }
        let matches: Vec<&Revision> = self
            .revisions
            .iter()
            .filter(|r| r.id.starts_with(text))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::Target(format!(
                "no revision `{text}`; {}",
                self.candidates_hint()
            ))),
            several => Err(Error::Target(format!(
                "`{text}` is ambiguous; it matches {}",
                list_ids(several)
            ))),
        }
    }

    fn single_head(&self, heads: &[&Revision], what: &str) -> Result<String> {
        match heads {
            [one] => Ok(one.id.clone()),
            [] => Err(Error::Target(format!(
                "`{what}`: there are no revisions yet; create one with `cargo dbrev revision -m MSG`"
            ))),
            several => Err(Error::Target(format!(
                "`{what}` is ambiguous: there are several heads ({}); use `heads`, one of them, or `LABEL@head`",
                list_ids(several)
            ))),
        }
    }

    /// Moves `step` revisions from `start` (None = base): down the single child for a
    /// positive step; up to the parents for a negative one (all of them at a merge, so
    /// `-1` from a merge revision reverts just the merge).
    fn step(&self, start: Option<String>, step: i64, target: &str) -> Result<Vec<String>> {
        if step < 0 {
            let mut at: Vec<String> = start.into_iter().collect();
            for _ in 0..step.unsigned_abs() {
                if at.is_empty() {
                    return Err(Error::Target(format!(
                        "`{target}` goes below base: there are not that many revisions"
                    )));
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
        let mut at = start;
        for _ in 0..step {
            let next: Vec<&Revision> = match &at {
                None => self
                    .revisions
                    .iter()
                    .filter(|r| r.parents.is_empty())
                    .collect(),
                Some(id) => self.children(id),
            };
            at = match next.as_slice() {
                [one] => Some(one.id.clone()),
                [] => {
                    return Err(Error::Target(format!(
                        "`{target}` goes past the head{}",
                        at.map(|a| format!(" ({a})")).unwrap_or_default()
                    )));
                }
                several => {
                    return Err(Error::Target(format!(
                        "`{target}` is ambiguous at a branch point: it could go to {}; name the revision",
                        list_ids(several)
                    )));
                }
            };
        }
        Ok(at.into_iter().collect())
    }

    fn candidates_hint(&self) -> String {
        if self.revisions.is_empty() {
            return "there are no revisions".into();
        }
        let ids: Vec<&Revision> = if self.revisions.len() <= 12 {
            self.revisions.iter().collect()
        } else {
            self.heads()
        };
        let what = if self.revisions.len() <= 12 {
            "revisions"
        } else {
            "heads"
        };
        format!("{what}: {}", list_ids(&ids))
    }

    fn known_labels(&self) -> String {
        let labels: BTreeSet<&str> = self
            .revisions
            .iter()
            .flat_map(|r| r.branch_labels.iter().map(String::as_str))
            .collect();
        if labels.is_empty() {
            String::new()
        } else {
            format!(
                " (labels: {})",
                labels.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Splits `REV+N`, `REV-N`, `+N`, `-N` into the base and the signed step.
fn split_relative(target: &str) -> Option<(&str, i64)> {
    let pos = target.rfind(['+', '-'])?;
    let (from, step) = target.split_at(pos);
    let n: i64 = step[1..].parse().ok()?;
    Some((from, if step.starts_with('-') { -n } else { n }))
}

fn list_ids(revisions: &[&Revision]) -> String {
    revisions
        .iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn applied(ids: &[&str]) -> Applied {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn ids(revs: Vec<&Revision>) -> Vec<&str> {
        revs.into_iter().map(|r| r.id.as_str()).collect()
    }

    /// a1 <- b2 <- c3, and a branch b2 <- d4 (labelled feat), merged by e5.
    fn branched() -> RevisionGraph {
        let mut d = rev("d4", &["b2"]);
        d.branch_labels = vec!["feat".into()];
        RevisionGraph::new(vec![
            rev("a1", &[]),
            rev("b2", &["a1"]),
            rev("c3", &["b2"]),
            d,
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
        assert!(g.resolve("c3+1", &none).is_err());
        let err = g.resolve("zz", &none).unwrap_err().to_string();
        assert!(err.contains("a1, b2, c3"), "{err}");
        let plan = g.upgrade_plan(&["c3".into()], &applied(&["a1"]));
        assert_eq!(ids(plan), vec!["b2", "c3"]);
        let plan = g.downgrade_plan(&["a1".into()], &applied(&["a1", "b2", "c3"]));
        assert_eq!(ids(plan), vec!["c3", "b2"]);
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
        let plan = g.downgrade_plan(&["a1".into()], &all);
        assert_eq!(ids(plan), vec!["m4", "c3", "b2"]);
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
