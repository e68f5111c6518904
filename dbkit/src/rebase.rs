//! `rebase REV --onto TARGET`: re-parent a revision no database has applied, instead of
//! writing an empty merge revision. REV's `Revises:` becomes TARGET, and REV — with every
//! revision that descends from or depends on it — gets a new id that sorts after TARGET and
//! after every existing id, so diesel's order (the ids as text) agrees with the graph: the
//! directory is renamed (its slug kept), `Revision ID:` rewritten, and every `Revises:` or
//! `Depends On:` naming an old id follows. The configured database is asked first: a
//! revision it has applied is refused (its version row would be orphaned; `merge` is for
//! histories that are both deployed), and one it cannot be asked about is refused unless
//! `--offline` says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::graph::Applied;
use crate::migrate::Environment;
use crate::script::{
    Revision, fresh_nonce, next_revision_id, read_sql_file, rewrite_header, version_of,
};
use crate::term::Reporter;

/// What `cargo dbrev rebase` was asked for.
#[derive(Debug, Clone, Default)]
pub struct RebaseOptions {
    /// The revision to move (an id, prefix, label…).
    pub revision: String,
    /// Its new parent (`base` for none).
    pub onto: String,
    /// `--offline`: do not ask the database whether the revisions are applied.
    pub offline: bool,
}

/// One revision the rebase moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Its id before.
    pub old_id: String,
    /// Its new id.
    pub new_id: String,
    /// Its new directory.
    pub dir: PathBuf,
    /// Its parents now.
    pub parents: Vec<String>,
}

/// The files of one moved revision, rewritten but not written yet.
struct Rewrite {
    moved: Moved,
    from: PathBuf,
    up: String,
    down: Option<String>,
}

impl Environment {
    /// Re-parents `options.revision` onto `options.onto` (see the module doc); returns what
    /// moved, REV first.
    pub fn rebase(&self, options: &RebaseOptions, reporter: &Reporter) -> Result<Vec<Moved>> {
        let rewrites = self.plan_rebase(&options.revision, &options.onto)?;
        let ids: Vec<&str> = rewrites.iter().map(|r| r.moved.old_id.as_str()).collect();
        if options.offline {
            reporter.warn(format!(
                "--offline: not checking whether {} is applied to {}",
                ids.join(", "),
                self.config.database_url
            ));
        } else {
            self.refuse_if_applied(&ids, reporter)?;
        }
        for rewrite in &rewrites {
            write(rewrite)?;
        }
        crate::graph::RevisionGraph::load(&self.config.versions_dir)?;
        let moved: Vec<Moved> = rewrites.into_iter().map(|r| r.moved).collect();
        for (i, m) in moved.iter().enumerate() {
            let parents = if m.parents.is_empty() {
                "base".to_owned()
            } else {
                m.parents.join(", ")
            };
            let verb = if i == 0 { "Rebased" } else { "Renamed" };
            reporter.status(
                verb,
                format!(
                    "{} as {} (revises {parents}): {}",
                    m.old_id,
                    m.new_id,
                    self.shown(&m.dir)
                ),
            );
        }
        Ok(moved)
    }

    /// What moves and how its files read afterwards; touches nothing.
    fn plan_rebase(&self, revision: &str, onto: &str) -> Result<Vec<Rewrite>> {
        let none = Applied::new();
        let graph = &self.graph;
        let rev = graph.resolve_one(revision, &none)?;
        let target = match onto.trim() {
            "base" => None,
            other => Some(graph.resolve_one(other, &none)?),
        };
        let moving = graph.dependants([rev.id.as_str()]);
        if let Some(t) = target.filter(|t| moving.contains(&t.id)) {
            let why = if t.id == rev.id {
                "a revision cannot revise itself".to_owned()
            } else {
                format!("{} descends from (or depends on) {}", t.id, rev.id)
            };
            return Err(Error::Usage(format!(
                "cannot rebase {} onto {}: {why}",
                rev.id, t.id
            )));
        }
        let ordered: Vec<&Revision> = graph
            .revisions()
            .iter()
            .filter(|r| moving.contains(&r.id))
            .collect();
        self.refuse_headerless(&ordered)?;
        let now = time::OffsetDateTime::now_utc();
        let mut taken: Vec<String> = graph.revisions().iter().map(|r| r.id.clone()).collect();
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        for r in &ordered {
            let id = next_revision_id(taken.iter().map(String::as_str), now, fresh_nonce());
            taken.push(id.clone());
            renamed.insert(r.id.clone(), id);
        }
        let new_parent: Vec<String> = target.map(|t| t.id.clone()).into_iter().collect();
        ordered
            .iter()
            .map(|r| {
                let parents = if r.id == rev.id {
                    new_parent.clone()
                } else {
                    r.parents.iter().map(|p| follow(&renamed, p)).collect()
                };
                self.rewrite(r, &renamed, parents)
            })
            .collect()
    }

    /// One revision's files with its new id and parents, and every reference to a renamed
    /// revision following it.
    fn rewrite(
        &self,
        r: &Revision,
        renamed: &BTreeMap<String, String>,
        parents: Vec<String>,
    ) -> Result<Rewrite> {
        let new_id = renamed[&r.id].clone();
        let name = r
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir_name = match name.split_once('_') {
            Some((_, slug)) => format!("{new_id}_{slug}"),
            None => new_id.clone(),
        };
        let dir = self.config.versions_dir.join(dir_name);
        if dir.exists() {
            return Err(Error::Exists {
                path: dir,
                hint: format!(
                    "; rebasing {} would rename {} to it",
                    r.id,
                    self.shown(&r.dir)
                ),
            });
        }
        let up = read_sql_file(&r.up_path())?;
        let revises = parents.join(", ");
        let up = rewrite_header(&up, |key, value| match key {
            "Revision ID" => Some(new_id.clone()),
            "Revises" => Some(revises.clone()),
            "Depends On" => Some(follow_list(renamed, value)),
            _ => None,
        });
        let down = match std::fs::read_to_string(r.down_path()) {
            Ok(text) => Some(rename_in_comments(&text, &r.id, &new_id)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(r.down_path(), e)),
        };
        Ok(Rewrite {
            moved: Moved {
                old_id: r.id.clone(),
                new_id,
                dir,
                parents,
            },
            from: r.dir.clone(),
            up,
            down,
        })
    }

    /// A revision without a header revises the one before it in id order: moving it, or
    /// moving a revision from before one, would silently change its parent.
    fn refuse_headerless(&self, moving: &[&Revision]) -> Result<()> {
        if let Some(r) = moving.iter().find(|r| !r.has_header) {
            return Err(Error::Usage(format!(
                "{} has no header (an adopted diesel migration revises the revision before it in id order); rebase moves revisions whose up.sql says `Revises:`",
                r.id
            )));
        }
        let lowest = moving
            .iter()
            .map(|r| r.id.as_str())
            .min()
            .unwrap_or_default();
        if let Some(r) = self
            .graph
            .revisions()
            .iter()
            .find(|r| !r.has_header && r.id.as_str() > lowest)
        {
            return Err(Error::Usage(format!(
                "{} has no header, so it revises the revision before it in id order; moving {lowest} would change its parent — give it a header first",
                r.id
            )));
        }
        Ok(())
    }

    /// Names the database, then refuses when it has applied (or partly applied) any of
    /// `ids`, or cannot say.
    fn refuse_if_applied(&self, ids: &[&str], reporter: &Reporter) -> Result<()> {
        let url = &self.config.database_url;
        reporter.target(url);
        let state = self
            .connect()
            .and_then(|mut conn| self.current(&mut conn))
            .map_err(|e| match e {
                Error::Connect { .. } => Error::Refused(format!(
                    "cannot tell whether {} is applied: {e}; a rebase changes revision ids, which would orphan an applied one's version row — pass --offline if no database has applied it",
                    ids.join(", ")
                )),
                other => other,
            })?;
        let applied: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| state.applied.contains(*id) || state.partial.iter().any(|p| p.id == *id))
            .collect();
        if applied.is_empty() {
            return Ok(());
        }
        Err(Error::Refused(format!(
            "{} {} applied to {url}: a rebase would change the id its version row records; join the heads with `cargo dbrev merge -m MSG heads` instead (or downgrade it first)",
            applied.join(", "),
            if applied.len() == 1 { "is" } else { "are" }
        )))
    }

    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(self.config.root())
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// A reference to a revision (an id, diesel's dashed form, a label) after the renames.
fn follow(renamed: &BTreeMap<String, String>, reference: &str) -> String {
    renamed
        .get(reference)
        .or_else(|| renamed.get(&version_of(reference)))
        .cloned()
        .unwrap_or_else(|| reference.to_owned())
}

/// A `Depends On:` list after the renames.
fn follow_list(renamed: &BTreeMap<String, String>, list: &str) -> String {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| follow(renamed, s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `down.sql` with the old id replaced by the new one in its leading comment lines (the
/// template's `-- Revert ID: message`).
fn rename_in_comments(text: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut leading = true;
    for line in text.split_inclusive('\n') {
        leading = leading && (line.trim().is_empty() || line.trim_start().starts_with("--"));
        if leading && line.trim_start().starts_with("--") {
            out.push_str(&replace_word(line, old, new));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `text` with `word` replaced where it is not part of a longer id.
fn replace_word(text: &str, word: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let alone = !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        out.push_str(if alone { new } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Writes one rewrite: each file through a temporary file renamed over it, then the
/// directory renamed.
fn write(rewrite: &Rewrite) -> Result<()> {
    replace_file(&rewrite.from.join("up.sql"), &rewrite.up)?;
    if let Some(down) = &rewrite.down {
        replace_file(&rewrite.from.join("down.sql"), down)?;
    }
    std::fs::rename(&rewrite.from, &rewrite.moved.dir).at(&rewrite.from)
}

fn replace_file(path: &Path, text: &str) -> Result<()> {
    let temporary = path.with_extension("sql.dbrev-rebase");
    std::fs::write(&temporary, text).at(&temporary)?;
    std::fs::rename(&temporary, path).at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_the_renames() {
        let renamed: BTreeMap<String, String> = [("20260101000000".to_owned(), "x9".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(follow(&renamed, "2026-01-01-000000"), "x9");
        assert_eq!(follow(&renamed, "feat"), "feat");
        assert_eq!(follow_list(&renamed, "20260101000000, feat"), "x9, feat");
        assert_eq!(
            rename_in_comments(
                "-- Revert a1: x\n-- a10 stays\n\nDROP TABLE a1;\n",
                "a1",
                "b2"
            ),
            "-- Revert b2: x\n-- a10 stays\n\nDROP TABLE a1;\n"
        );
    }
}
