//! Working on the tenants of a fleet: at most `--jobs` at once on scoped threads, each
//! tenant on connections of its own; `--canary K` runs the first K before the others and
//! stops there if one fails; `--fail-fast` starts no other tenant after a failure. A
//! progress bar of databases done on a terminal, one line per database otherwise.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::report::{Outcome, Status};
use super::source::{Fleet, Tenant};
use crate::error::{Error, one_line};
use crate::term::Reporter;

/// How a fleet command works through its tenants.
#[derive(Debug, Clone, Copy)]
pub struct FleetOptions {
    /// `--jobs N`: how many tenants are worked on at once (at least 1).
    pub jobs: usize,
    /// `--fail-fast`: once a tenant fails, start no other (those running finish).
    pub fail_fast: bool,
    /// `--canary K`: work on the first K tenants first; if one fails, no other is touched.
    pub canary: usize,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            jobs: default_jobs(),
            fail_fast: false,
            canary: 0,
        }
    }
}

/// The default `--jobs`: four per core, between 8 and 32. A tenant's run spends its time
/// waiting on its server (round trips, commits), not on this machine's cores, so more jobs
/// than cores keep the servers busy; the cap keeps a fleet on one server well under its
/// connection limit.
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    (cores * 4).clamp(8, 32)
}

/// What the work on one tenant produced: what it found or did (as far as it got), and the
/// error that stopped it.
#[derive(Debug, Default)]
pub struct Ran<T> {
    /// What it found or did.
    pub detail: T,
    /// Why it failed, if it did.
    pub error: Option<Error>,
}

impl<T: Default> Ran<T> {
    /// A finished piece of work.
    pub fn ok(detail: T) -> Ran<T> {
        Ran {
            detail,
            error: None,
        }
    }

    /// Work that stopped with `error`, having found `detail`.
    pub fn failed(detail: T, error: Error) -> Ran<T> {
        Ran {
            detail,
            error: Some(error),
        }
    }
}

/// Works on every tenant with `work`, as the options say, and returns the outcomes in the
/// fleet's order (tenants never started are [`Status::NotRun`], saying why).
pub(crate) fn run<T: Default + Send>(
    fleet: &Fleet,
    options: &FleetOptions,
    verb: &'static str,
    reporter: &Reporter,
    work: impl Fn(&Tenant) -> Ran<T> + Sync,
) -> Vec<Outcome<T>> {
    let tenants = &fleet.tenants;
    let slots: Vec<Mutex<Option<Outcome<T>>>> = tenants.iter().map(|_| Mutex::new(None)).collect();
    let progress = Progress::new(verb, tenants.len(), reporter);
    let stop = AtomicBool::new(false);
    let canaries = options.canary.min(tenants.len());
    let batch = Batch {
        tenants,
        jobs: options.jobs.max(1),
        slots: &slots,
        progress: &progress,
        stop: &stop,
        work: &work,
    };
    batch.run(0..canaries, true);
    let canary_failed = stop.load(Ordering::SeqCst);
    if !canary_failed {
        batch.run(canaries..tenants.len(), options.fail_fast);
    }
    progress.finish();
    let why_not = if canary_failed {
        "not run: a canary failed"
    } else {
        "not run: --fail-fast after a failure"
    };
    slots
        .into_iter()
        .zip(tenants)
        .map(|(slot, tenant)| {
            let outcome = slot.into_inner().unwrap_or_else(|e| e.into_inner());
            outcome.unwrap_or_else(|| Outcome {
                database: tenant.name.clone(),
                status: Status::NotRun,
                detail: T::default(),
                error: Some(why_not.to_owned()),
                exit_code: None,
                elapsed: Duration::ZERO,
            })
        })
        .collect()
}

/// The shared state of the threads working through a range of tenants.
struct Batch<'a, T, W> {
    tenants: &'a [Tenant],
    jobs: usize,
    slots: &'a [Mutex<Option<Outcome<T>>>],
    progress: &'a Progress,
    stop: &'a AtomicBool,
    work: &'a W,
}

impl<T: Send, W: Fn(&Tenant) -> Ran<T> + Sync> Batch<'_, T, W> {
    /// Works through `range` on up to `jobs` threads; a failure sets `stop` when
    /// `stop_on_failure`, and no thread takes another tenant once `stop` is set.
    fn run(&self, range: std::ops::Range<usize>, stop_on_failure: bool) {
        let next = AtomicUsize::new(range.start);
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.min(range.len()) {
                scope.spawn(|| {
                    while !self.stop.load(Ordering::SeqCst) {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= range.end {
                            break;
                        }
                        let outcome = self.one(&self.tenants[i]);
                        if outcome.status == Status::Failed && stop_on_failure {
                            self.stop.store(true, Ordering::SeqCst);
                        }
                        self.progress.done(&outcome);
                        *self.slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                    }
                });
            }
        });
    }

    /// Works on one tenant, timed; its error becomes one masked line.
    fn one(&self, tenant: &Tenant) -> Outcome<T> {
        let started = Instant::now();
        let ran = (self.work)(tenant);
        let elapsed = started.elapsed();
        Outcome {
            database: tenant.name.clone(),
            status: if ran.error.is_some() {
                Status::Failed
            } else {
                Status::Ok
            },
            detail: ran.detail,
            exit_code: ran.error.as_ref().map(Error::exit_code),
            error: ran
                .error
                .map(|e| one_line(tenant.url.scrub(&e.to_string()))),
            elapsed,
        }
    }
}

/// Databases done: a bar on a terminal, a line each otherwise, nothing with `-q`.
struct Progress {
    bar: Option<ProgressBar>,
    verb: &'static str,
    total: usize,
    done: AtomicUsize,
    reporter: Reporter,
}

impl Progress {
    fn new(verb: &'static str, total: usize, reporter: &Reporter) -> Progress {
        let bar = reporter.wants_progress().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template(
                "{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len} databases ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix("Fleet");
            bar
        });
        Progress {
            bar,
            verb,
            total,
            done: AtomicUsize::new(0),
            reporter: *reporter,
        }
    }

    fn done<T>(&self, outcome: &Outcome<T>) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        let line = format!("[{n}/{}] {}", self.total, outcome.database);
        match outcome.status {
            Status::Failed => self.reporter.failed("Failed", line),
            _ => self.reporter.status(self.verb, line),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
