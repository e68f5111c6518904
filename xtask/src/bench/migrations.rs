//! The migration workloads: 500 trivial revisions up, then down, beside diesel_cli's
//! `migration run` / `revert --all`; `current` with 10 revisions beside `migration list`;
//! `lint --all` on the 500 revisions.

use dbkit::Backend;

use super::measure::{Side, compare};
use super::{Bench, Project, Report, Row, Target};
use crate::DynResult;

/// How many revisions the up/down workload runs.
const REVISIONS: usize = 500;

/// How many revisions `current` reads.
const CURRENT_REVISIONS: usize = 10;

/// Runs of `current` per round (it takes milliseconds).
const CURRENT_RUNS: usize = 10;

fn chain(
    bench: &Bench,
    backend: Backend,
) -> Result<std::rc::Rc<Project>, Box<dyn std::error::Error>> {
    bench.shared("revisions", || {
        let project = Project::new(bench, backend, "revisions")?;
        project.add_revisions(REVISIONS)?;
        Ok(project)
    })
}

/// 500 revisions up, then down: `cargo dbrev upgrade head` / `downgrade base` beside
/// `diesel migration run` / `revert --all`, each pair from the same empty start.
pub fn revisions(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let Some(diesel) = &bench.diesel else {
        report.skip(
            &format!("{REVISIONS} revisions up, then down"),
            backend,
            "diesel_cli is not installed (cargo install diesel_cli --root /tmp/diesel-cli)",
        );
        return Ok(());
    };
    let project = chain(bench, backend)?;
    let up = project.tool("dbrev", &["upgrade", "head", "-q"]);
    let down = project.tool("dbrev", &["downgrade", "base", "-q"]);
    let diesel_up = project.diesel(diesel, &["run"]);
    let diesel_down = project.diesel(diesel, &["revert", "--all"]);
    // Each side times its upgrade and its downgrade; the two are split below.
    let downs = std::cell::RefCell::new((Vec::new(), Vec::new()));
    let ours: Side<'_> = Box::new(|| {
        let u = up.time()?;
        downs.borrow_mut().0.push(down.time()?);
        Ok(u)
    });
    let theirs: Side<'_> = Box::new(|| {
        let u = diesel_up.time()?;
        downs.borrow_mut().1.push(diesel_down.time()?);
        Ok(u)
    });
    let ups = compare(bench.rounds, ours, vec![theirs])?;
    let (ours_down, theirs_down) = downs.into_inner();
    let downs = super::measure::Comparison {
        ours: ours_down,
        theirs: vec![theirs_down],
    };
    report.add_comparison(
        &format!("{REVISIONS} revisions up"),
        backend,
        &ups,
        &[("diesel migration run", Target::Ratio(1.0))],
    );
    report.add_comparison(
        &format!("{REVISIONS} revisions down"),
        backend,
        &downs,
        &[("diesel migration revert --all", Target::Ratio(1.0))],
    );
    Ok(())
}

/// `cargo dbrev current` with 10 applied revisions beside `diesel migration list`.
pub fn current(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let Some(diesel) = &bench.diesel else {
        report.skip(
            "`current`, 10 revisions",
            backend,
            "diesel_cli is not installed",
        );
        return Ok(());
    };
    let project = Project::new(bench, backend, "current")?;
    project.add_revisions(CURRENT_REVISIONS)?;
    project.tool("dbrev", &["upgrade", "head", "-q"]).time()?;
    let ours = project.tool("dbrev", &["current"]);
    let theirs = project.diesel(diesel, &["list"]);
    ours.time()?;
    theirs.time()?;
    let comparison = compare(
        bench.rounds * CURRENT_RUNS,
        Box::new(|| ours.time()),
        vec![Box::new(|| theirs.time())],
    )?;
    report.add_comparison(
        &format!("`current`, {CURRENT_REVISIONS} revisions"),
        backend,
        &comparison,
        &[("diesel migration list", Target::Ratio(1.0))],
    );
    Ok(())
}

/// `cargo dbrev lint --all` on the 500 revisions (findings exit 1, which counts as a run).
pub fn lint(bench: &Bench, backend: Backend, report: &mut Report) -> DynResult {
    let project = chain(bench, backend)?;
    let mut run = project.tool("dbrev", &["lint", "--all", "-q"]);
    run.also_ok.push(1);
    let samples = (0..bench.rounds.max(3))
        .map(|_| run.time())
        .collect::<Result<Vec<_>, _>>()?;
    report.add(Row {
        workload: format!("`lint --all`, {REVISIONS} revisions"),
        backend: backend.to_string(),
        ours: Some(super::measure::summary(&samples)),
        reference: None,
        ratio: None,
        target: Target::None,
        note: String::new(),
    });
    Ok(())
}
