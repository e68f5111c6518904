//! The bench's report: one row per workload, backend and reference, printed as it is
//! measured and written as a Markdown table with the machine and the date.

use std::path::Path;

use super::Bench;
use super::measure::{Comparison, Sample};

/// What a row must show to meet its target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The median ratio at most this.
    Ratio(f64),
    /// dbrev's median time at most this many seconds.
    Seconds(f64),
    /// Reported only.
    None,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// The workload, as the issue names it (`dump`, `500 revisions up`…).
    pub workload: String,
    /// `sqlite`, `postgres`, `mysql`.
    pub backend: String,
    /// dbrev's median time and peak memory.
    pub ours: Option<Sample>,
    /// What it is compared with (`sqlite3 .dump`), and its median time and peak memory.
    pub reference: Option<(String, Sample)>,
    /// The median of the paired ratios.
    pub ratio: Option<f64>,
    /// The target.
    pub target: Target,
    /// Anything else worth a column (catalog queries, skipped because…).
    pub note: String,
}

impl Row {
    /// Whether the row meets its target (`None`: nothing to judge).
    pub fn met(&self) -> Option<bool> {
        match self.target {
            Target::Ratio(max) => self.ratio.map(|r| r <= max),
            Target::Seconds(max) => self.ours.map(|s| s.secs <= max),
            Target::None => None,
        }
    }
}

/// Every row so far, and where they were measured.
pub struct Report {
    rows: Vec<Row>,
    machine: String,
}

impl Report {
    /// An empty report for this run.
    pub fn new(bench: &Bench) -> Report {
        Report {
            rows: Vec::new(),
            machine: machine(bench),
        }
    }

    /// Adds a row and prints it.
    pub fn add(&mut self, row: Row) {
        println!("{}", markdown_row(&row));
        self.rows.push(row);
    }

    /// Adds one row per reference of a comparison.
    pub fn add_comparison(
        &mut self,
        workload: &str,
        backend: dbkit::Backend,
        comparison: &Comparison,
        references: &[(&str, Target)],
    ) {
        for (k, (name, target)) in references.iter().enumerate() {
            let ours = comparison.ours_summary();
            let theirs = comparison.theirs_summary(k);
            let (low, high) = comparison.ratio_range(k);
            let mut note = format!("pairs {low:.2}–{high:.2}×");
            // CPU ratios say something only where both sides do the work in their own process.
            if ours.cpu > 0.0 && theirs.cpu > 0.0 && backend == dbkit::Backend::Sqlite {
                note.push_str(&format!(", CPU {:.2}×", comparison.cpu_ratio(k)));
            }
            self.add(Row {
                workload: workload.to_owned(),
                backend: backend.to_string(),
                ours: Some(comparison.ours_summary()),
                reference: Some(((*name).to_owned(), comparison.theirs_summary(k))),
                ratio: Some(comparison.ratio(k)),
                target: *target,
                note,
            });
        }
    }

    /// A workload that did not run on a backend, and why.
    pub fn skip(&mut self, workload: &str, backend: dbkit::Backend, why: &str) {
        self.add(Row {
            workload: workload.to_owned(),
            backend: backend.to_string(),
            ours: None,
            reference: None,
            ratio: None,
            target: Target::None,
            note: format!("not measured: {}", why.replace('\n', " ")),
        });
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Measured {}.\n\n| workload | backend | dbrev | reference | ratio (median of pairs) | target | met | note |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
            self.machine
        );
        // Each workload's rows together (they are measured backend by backend).
        let mut workloads: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !workloads.contains(&row.workload.as_str()) {
                workloads.push(&row.workload);
            }
        }
        for workload in workloads {
            for row in self.rows.iter().filter(|r| r.workload == workload) {
                out.push_str(&markdown_row(row));
                out.push('\n');
            }
        }
        out
    }

    /// Replaces what stands between README.md's `<!-- bench:begin -->` and
    /// `<!-- bench:end -->` with the table.
    pub fn write_into_readme(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        const BEGIN: &str = "<!-- bench:begin -->";
        const END: &str = "<!-- bench:end -->";
        let text = std::fs::read_to_string(path)?;
        let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
            return Err(format!("{} has no {BEGIN} … {END} block", path.display()).into());
        };
        let updated = format!(
            "{}{BEGIN}\n{}{}",
            &text[..begin],
            self.markdown(),
            &text[end..]
        );
        std::fs::write(path, updated)?;
        Ok(())
    }

    /// Writes the Markdown table to `path`.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.markdown())
    }
}

fn sample(s: &Sample) -> String {
    if s.rss_mb > 0.0 {
        format!("{} ({:.0} MB)", seconds(s.secs), s.rss_mb)
    } else {
        seconds(s.secs)
    }
}

fn seconds(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else {
        format!("{secs:.2} s")
    }
}

/// A target ratio with the digits it has (`0.9`, `0.25`, `1`).
fn trimmed(ratio: f64) -> String {
    let text = format!("{ratio:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn markdown_row(row: &Row) -> String {
    let target = match row.target {
        Target::Ratio(r) => format!("≤ {}×", trimmed(r)),
        Target::Seconds(s) => format!("< {}", seconds(s)),
        Target::None => String::new(),
    };
    let met = match row.met() {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "",
    };
    format!(
        "| {} | {} | {} | {} | {} | {target} | {met} | {} |",
        row.workload,
        row.backend,
        row.ours.as_ref().map(sample).unwrap_or_default(),
        row.reference
            .as_ref()
            .map(|(name, s)| format!("{name} {}", sample(s)))
            .unwrap_or_default(),
        row.ratio.map(|r| format!("{r:.2}×")).unwrap_or_default(),
        row.note,
    )
}

/// `2 cores, Intel Xeon …, 2026-11-25, 1,000,000 rows, 3 rounds`.
fn machine(bench: &Bench) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = today();
    format!(
        "on {cores} cores ({cpu}), {date}, {} rows, {} rounds",
        bench.rows, bench.rounds
    )
}

/// Today's date (UTC) as `YYYY-MM-DD` (Howard Hinnant's days-to-civil).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
