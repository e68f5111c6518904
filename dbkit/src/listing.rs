//! Text for the inspection commands (`current`, `history`, `heads`, `branches`, `show`),
//! in alembic's format. Colour only when stdout is a terminal.

use std::collections::BTreeSet;

use console::style;

use crate::error::Result;
use crate::graph::{Applied, RevisionGraph};
use crate::graph_error::TargetError;
use crate::journal::RevisionRecord;
use crate::migrate::CurrentState;
use crate::script::Revision;

/// The `(head)`, `(branchpoint)`, `(mergepoint)` and `(current)` tags of a revision.
fn tags(graph: &RevisionGraph, r: &Revision, current: Option<&Applied>) -> String {
    let mut tags = Vec::new();
    if graph.is_head(&r.id) {
        tags.push("head");
    }
    if graph.children(&r.id).len() > 1 {
        tags.push("branchpoint");
    }
    if r.parents.len() > 1 {
        tags.push("mergepoint");
    }
    if let Some(applied) = current {
        if graph.current_heads(applied).iter().any(|h| h.id == r.id) {
            tags.push("current");
        }
    }
    let labels = if r.branch_labels.is_empty() {
        String::new()
    } else {
        format!(" ({})", r.branch_labels.join(", "))
    };
    let tags: String = tags.iter().map(|t| format!(" ({t})")).collect();
    format!("{labels}{tags}")
}

fn id(text: &str) -> String {
    style(text).yellow().to_string()
}

fn parents(r: &Revision) -> String {
    if r.parents.is_empty() {
        "<base>".into()
    } else {
        r.parents.join(", ")
    }
}

/// One line: `<parent> -> <id> (head), message`.
pub fn short_line(graph: &RevisionGraph, r: &Revision, current: Option<&Applied>) -> String {
    format!(
        "{} -> {}{}, {}\n",
        parents(r),
        id(&r.id),
        tags(graph, r, current),
        r.message
    )
}

/// The full description (`-v`, `show`); with the database's state, also when, by whom
/// and how long it was applied.
pub fn long_entry(graph: &RevisionGraph, r: &Revision, state: Option<&CurrentState>) -> String {
    let current = state.map(|s| &s.applied);
    let mut out = format!("Rev: {}{}\n", id(&r.id), tags(graph, r, current));
    if r.parents.len() > 1 {
        out.push_str(&format!("Merges: {}\n", r.parents.join(", ")));
    } else {
        out.push_str(&format!("Parent: {}\n", parents(r)));
    }
    let children: Vec<&str> = graph
        .children(&r.id)
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    if children.len() > 1 {
        out.push_str(&format!("Branches into: {}\n", children.join(", ")));
    }
    if !r.branch_labels.is_empty() {
        out.push_str(&format!("Branch names: {}\n", r.branch_labels.join(", ")));
    }
    if !r.depends_on.is_empty() {
        out.push_str(&format!("Also depends on: {}\n", r.depends_on.join(", ")));
    }
    out.push_str(&format!("Path: {}\n", r.dir.display()));
    if let Some(state) = state {
        match (state.applied.contains(&r.id), state.records.get(&r.id)) {
            (true, Some(record)) => out.push_str(&applied_line(record)),
            (true, None) => out.push_str("Applied: yes (not yet recorded by dbrev)\n"),
            (false, _) => out.push_str("Applied: no\n"),
        }
    }
    out.push('\n');
    out.push_str(&format!("    {}\n\n", r.message));
    out.push_str(&format!("    Revision ID: {}\n", r.id));
    out.push_str(&format!("    Revises: {}\n", r.parents.join(", ")));
    if let Some(date) = &r.create_date {
        out.push_str(&format!("    Create Date: {date}\n"));
    }
    if !r.has_header {
        out.push_str("    (adopted diesel migration: no header)\n");
    }
    out.push('\n');
    out
}

/// `Applied: 2026-11-24 14:30:00 UTC by app@10.0.0.5 in 12 ms`.
fn applied_line(record: &RevisionRecord) -> String {
    let how = match record.state {
        crate::journal::RecordState::Stamped => " (stamped, no SQL ran)",
        crate::journal::RecordState::Adopted => " (applied before dbrev recorded it)",
        _ => "",
    };
    let mut line = format!(
        "Applied: {}",
        record
            .applied_at_text()
            .unwrap_or_else(|| "at an unknown time".into())
    );
    if let Some(by) = &record.applied_by {
        line.push_str(&format!(" by {by}"));
    }
    if let Some(ms) = record.duration_ms {
        line.push_str(&format!(" in {ms} ms"));
    }
    format!("{line}{how}\n")
}

fn entry(
    graph: &RevisionGraph,
    r: &Revision,
    verbose: bool,
    state: Option<&CurrentState>,
) -> String {
    if verbose {
        long_entry(graph, r, state)
    } else {
        short_line(graph, r, state.map(|s| &s.applied))
    }
}

/// `history [-r A:B]`: newest first. `range` ends may be empty (base / heads); with the
/// database's state, `current` is known and `-v` shows when each revision was applied.
pub fn history(
    graph: &RevisionGraph,
    range: Option<&str>,
    verbose: bool,
    current: Option<&CurrentState>,
) -> Result<String> {
    Ok(history_revisions(graph, range, current)?
        .into_iter()
        .map(|r| entry(graph, r, verbose, current))
        .collect())
}

/// The revisions `history -r A:B` lists, newest first: descendants of A (inclusive) that
/// are ancestors of B (inclusive); an empty end is open.
pub fn history_revisions<'g>(
    graph: &'g RevisionGraph,
    range: Option<&str>,
    current: Option<&CurrentState>,
) -> Result<Vec<&'g Revision>> {
    let none = Applied::new();
    let state = current.map_or(&none, |s| &s.applied);
    let (lower, upper) = match range {
        Some(r) => r.split_once(':').unwrap_or((r, "")),
        None => ("", ""),
    };
    let resolve = |end: &str| -> Result<Option<Vec<String>>> {
        match end {
            "" => Ok(None),
            other => graph.resolve(other, state).map(Some),
        }
    };
    let upper_set: Option<BTreeSet<String>> =
        resolve(upper)?.map(|ids| graph.ancestors(ids.iter().map(String::as_str)));
    let lower_set: Option<BTreeSet<String>> =
        resolve(lower)?.map(|ids| ids.iter().flat_map(|id| graph.descendants(id)).collect());
    Ok(graph
        .revisions()
        .iter()
        .rev()
        .filter(|r| upper_set.as_ref().is_none_or(|s| s.contains(&r.id)))
        .filter(|r| lower_set.as_ref().is_none_or(|s| s.contains(&r.id)))
        .collect())
}

/// The revisions `show TARGET` describes; a target naming no revision (`base`) is an error.
pub fn show_revisions<'g>(
    graph: &'g RevisionGraph,
    target: &str,
    current: Option<&CurrentState>,
) -> Result<Vec<&'g Revision>> {
    let none = Applied::new();
    let applied = current.map_or(&none, |s| &s.applied);
    let revisions: Vec<&Revision> = graph
        .resolve(target, applied)?
        .iter()
        .filter_map(|id| graph.get(id))
        .collect();
    if revisions.is_empty() {
        return Err(TargetError::IsBase {
            target: target.to_owned(),
        }
        .into());
    }
    Ok(revisions)
}

/// `show TARGET`: each revision in full.
pub fn show(graph: &RevisionGraph, target: &str, current: Option<&CurrentState>) -> Result<String> {
    Ok(show_revisions(graph, target, current)?
        .into_iter()
        .map(|r| long_entry(graph, r, current))
        .collect())
}

/// `heads`.
pub fn heads(graph: &RevisionGraph, verbose: bool) -> String {
    graph
        .heads()
        .iter()
        .map(|r| entry(graph, r, verbose, None))
        .collect()
}

/// `branches`: each branch point and where it leads.
pub fn branches(graph: &RevisionGraph, verbose: bool) -> String {
    let mut out = String::new();
    for r in graph.branch_points() {
        out.push_str(&entry(graph, r, verbose, None));
        for child in graph.children(&r.id) {
            out.push_str(&format!(
                "                 -> {}{}, {}\n",
                id(&child.id),
                tags(graph, child, None),
                child.message
            ));
        }
    }
    out
}

/// `current`: the applied heads, unknown applied ids and partially applied revisions.
pub fn current(graph: &RevisionGraph, state: &CurrentState, verbose: bool) -> String {
    let mut out = String::new();
    for head in &state.heads {
        if let Some(r) = graph.get(head) {
            if verbose {
                out.push_str(&long_entry(graph, r, Some(state)));
            } else {
                let head_tag = if graph.is_head(&r.id) { " (head)" } else { "" };
                out.push_str(&format!("{}{head_tag}\n", id(&r.id)));
            }
        }
    }
    for unknown in &state.unknown {
        out.push_str(&format!(
            "{} (unknown: no revision directory)\n",
            id(unknown)
        ));
    }
    for partial in &state.partial {
        out.push_str(&format!(
            "{}{}\n",
            partial.describe(),
            partial.advice(partial.direction)
        ));
    }
    out
}
