//! Writing revisions: `revision` (with `--head`, `--branch-label`, `--depends-on`,
//! `--rev-id`, `--splice`), `merge`, and `edit`. Touches no database.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::graph::Applied;
use crate::graph_error::TargetError;
use crate::migrate::Environment;
use crate::script::{
    EMPTY_DOWN, EMPTY_UP, NewRevision, create_date, fresh_nonce, load_template, next_revision_id,
    normalise_rev_id, write_revision,
};

/// What `cargo dbrev revision` was asked for.
#[derive(Debug, Clone, Default)]
pub struct RevisionOptions {
    /// `-m`: the message.
    pub message: String,
    /// `--head`: the head (or, with `splice`, any revision, or `base`) to extend.
    pub head: Option<String>,
    /// `--splice`: allow `head` to be a revision that is not a head.
    pub splice: bool,
    /// `--branch-label`.
    pub branch_labels: Vec<String>,
    /// `--depends-on`.
    pub depends_on: Vec<String>,
    /// `--rev-id`: instead of a timestamp.
    pub rev_id: Option<String>,
}

/// The SQL bodies of a new revision.
#[derive(Debug, Clone, Default)]
pub struct RevisionBody {
    /// What goes into up.sql after the header.
    pub upgrades: String,
    /// What goes into down.sql.
    pub downgrades: String,
}

impl Environment {
    /// Writes a new revision with placeholder SQL; returns its directory.
    pub fn revision(&self, options: &RevisionOptions) -> Result<PathBuf> {
        self.revision_with(
            options,
            &RevisionBody {
                upgrades: EMPTY_UP.into(),
                downgrades: EMPTY_DOWN.into(),
            },
        )
    }

    /// Writes a new revision with the given SQL bodies; returns its directory.
    pub fn revision_with(&self, options: &RevisionOptions, body: &RevisionBody) -> Result<PathBuf> {
        let none = Applied::new();
        let parents = match &options.head {
            Some(head) => {
                let ids = self.graph.resolve(head, &none)?;
                if let [one] = ids.as_slice() {
                    if !options.splice && !self.graph.is_head(one) {
                        return Err(TargetError::NotAHead {
                            revision: one.clone(),
                        }
                        .into());
                    }
                } else if ids.len() > 1 {
                    return Err(TargetError::HeadNamesSeveral {
                        head: head.clone(),
                        ids,
                    }
                    .into());
                }
                ids
            }
            None => match self.graph.heads().as_slice() {
                [] => Vec::new(),
                [one] => vec![one.id.clone()],
                several => {
                    return Err(TargetError::NewRevisionNeedsHead {
                        heads: crate::target::ids(several),
                    }
                    .into());
                }
            },
        };
        for label in &options.branch_labels {
            if let Some(r) = self
                .graph
                .revisions()
                .iter()
                .find(|r| r.branch_labels.contains(label))
            {
                return Err(Error::Usage(format!(
                    "the branch label `{label}` is already used by revision {}",
                    r.id
                )));
            }
            if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::Usage(format!(
                    "invalid branch label `{label}`: use ASCII letters, digits and `_`"
                )));
            }
        }
        let depends_on = options
            .depends_on
            .iter()
            .map(|d| self.graph.lookup(d).map(|r| r.id.clone()))
            .collect::<Result<Vec<_>>>()?;
        self.write(options, parents, depends_on, body)
    }

    /// Writes a merge revision joining `revisions` (or every head, for `heads`).
    pub fn merge(
        &self,
        message: &str,
        revisions: &[String],
        rev_id: Option<&str>,
    ) -> Result<PathBuf> {
        let none = Applied::new();
        let mut parents = Vec::new();
        for r in revisions {
            for id in self.graph.resolve(r, &none)? {
                if !parents.contains(&id) {
                    parents.push(id);
                }
            }
        }
        if parents.len() < 2 {
            return Err(TargetError::MergeNeedsTwo {
                targets: revisions.join(" "),
                count: parents.len(),
            }
            .into());
        }
        let options = RevisionOptions {
            message: message.to_owned(),
            rev_id: rev_id.map(str::to_owned),
            ..Default::default()
        };
        let body = RevisionBody {
            upgrades: "-- A merge revision: usually nothing to do.".into(),
            downgrades: "-- A merge revision: usually nothing to undo.".into(),
        };
        self.write(&options, parents, Vec::new(), &body)
    }

    fn write(
        &self,
        options: &RevisionOptions,
        parents: Vec<String>,
        depends_on: Vec<String>,
        body: &RevisionBody,
    ) -> Result<PathBuf> {
        let now = time::OffsetDateTime::now_utc();
        let id = match &options.rev_id {
            Some(id) => {
                let id = normalise_rev_id(id)?;
                if self.graph.get(&id).is_some() {
                    return Err(Error::Usage(format!("revision {id} already exists")));
                }
                id
            }
            None => next_revision_id(
                self.graph.revisions().iter().map(|r| r.id.as_str()),
                now,
                fresh_nonce(),
            ),
        };
        let template = load_template(&self.config.script_location)?;
        let revision = NewRevision {
            id,
            message: options.message.clone(),
            parents,
            branch_labels: options.branch_labels.clone(),
            depends_on,
            create_date: create_date(now),
            upgrades: body.upgrades.clone(),
            downgrades: body.downgrades.clone(),
        };
        write_revision(&self.config.versions_dir, &template, &revision)
    }

    /// Opens the `up.sql` and `down.sql` of the revisions `target` names (`head` by
    /// default; `heads`, `current`, ids, labels, relative forms) in `$VISUAL`/`$EDITOR`,
    /// without a shell. `applied` is the database's state for targets that count from it.
    pub fn edit(&self, target: &str, applied: &Applied) -> Result<()> {
        let ids = self.graph.resolve(target, applied)?;
        if ids.is_empty() {
            return Err(TargetError::IsBase {
                target: target.to_owned(),
            }
            .into());
        }
        let files: Vec<PathBuf> = ids
            .iter()
            .filter_map(|id| self.graph.get(id))
            .flat_map(|r| [r.up_path(), r.down_path()])
            .collect();
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .map_err(|_| Error::Usage("set $EDITOR (or $VISUAL) to the editor to use".into()))?;
        let mut words = editor.split_whitespace();
        let program = words
            .next()
            .ok_or_else(|| Error::Usage("$EDITOR is empty".into()))?;
        let status = std::process::Command::new(program)
            .args(words)
            .args(&files)
            .status()
            .map_err(|e| Error::Usage(format!("cannot start the editor `{program}`: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Usage(format!(
                "the editor `{program}` exited with {status}"
            )))
        }
    }
}
