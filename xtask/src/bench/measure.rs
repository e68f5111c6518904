//! Timing commands: one run (wall time and peak memory, through `/usr/bin/time` when it is
//! there), and paired comparisons in alternating order with the median of the ratios.

use std::path::{Path, PathBuf};
use std::time::Instant;

/// A command to time.
#[derive(Clone)]
pub struct Run {
    /// The program (a path: `/usr/bin/time` does not search `PATH`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its working directory.
    pub dir: PathBuf,
    /// A file for standard input.
    pub stdin: Option<PathBuf>,
    /// A file for standard output (else `/dev/null`).
    pub stdout: Option<PathBuf>,
    /// Exit codes that count as success besides 0.
    pub also_ok: Vec<i32>,
}

impl Run {
    /// `program args…` in `dir`, output discarded.
    pub fn new(program: impl Into<PathBuf>, args: &[&str], dir: &Path) -> Run {
        Run {
            program: program.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            dir: dir.to_owned(),
            stdin: None,
            stdout: None,
            also_ok: Vec::new(),
        }
    }

    /// Reads standard input from `path`.
    pub fn stdin(mut self, path: &Path) -> Run {
        self.stdin = Some(path.to_owned());
        self
    }

    /// Writes standard output to `path`.
    pub fn stdout(mut self, path: &Path) -> Run {
        self.stdout = Some(path.to_owned());
        self
    }

    /// Runs it once and times it.
    pub fn time(&self) -> Result<Sample, Box<dyn std::error::Error>> {
        let report = tempfile::NamedTempFile::new()?;
        let with_time = Path::new("/usr/bin/time").is_file();
        let mut command = if with_time {
            let mut c = std::process::Command::new("/usr/bin/time");
            c.args(["-f", "%M %U %S", "-o"])
                .arg(report.path())
                .arg(&self.program);
            c
        } else {
            std::process::Command::new(&self.program)
        };
        command
            .args(&self.args)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL");
        if let Some(input) = &self.stdin {
            command.stdin(std::fs::File::open(input)?);
        }
        match &self.stdout {
            Some(output) => command.stdout(std::fs::File::create(output)?),
            None => command.stdout(std::process::Stdio::null()),
        };
        let started = Instant::now();
        let output = command.stderr(std::process::Stdio::piped()).output()?;
        let secs = started.elapsed().as_secs_f64();
        let code = output.status.code().unwrap_or(-1);
        if code != 0 && !self.also_ok.contains(&code) {
            return Err(format!(
                "{} {} failed ({code}): {}",
                self.program.display(),
                self.args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        // `/usr/bin/time`'s last line: peak RSS in KB, user and system CPU seconds.
        let text = std::fs::read_to_string(report.path()).unwrap_or_default();
        let fields: Vec<f64> = text
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        Ok(Sample {
            secs,
            rss_mb: fields.first().copied().unwrap_or(0.0) / 1024.0,
            cpu: fields.get(1..3).map_or(0.0, |f| f[0] + f[1]),
        })
    }
}

/// One timed run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Wall-clock seconds.
    pub secs: f64,
    /// Peak resident memory in MB (0 when unknown).
    pub rss_mb: f64,
    /// CPU seconds (user and system) of the process itself (0 when unknown): steadier than
    /// wall time on a busy machine, and all the work where the database is in-process.
    pub cpu: f64,
}

/// The samples of a paired comparison: ours, and each reference's, one per round.
pub struct Comparison {
    /// dbrev's samples.
    pub ours: Vec<Sample>,
    /// Each reference's samples, in the order given.
    pub theirs: Vec<Vec<Sample>>,
}

impl Comparison {
    /// The median of the per-round ratios ours / reference `k`.
    pub fn ratio(&self, k: usize) -> f64 {
        median(
            self.ours
                .iter()
                .zip(&self.theirs[k])
                .map(|(o, t)| o.secs / t.secs.max(1e-9))
                .collect(),
        )
    }

    /// The smallest and largest per-round ratio ours / reference `k` (how noisy it was).
    pub fn ratio_range(&self, k: usize) -> (f64, f64) {
        self.ours
            .iter()
            .zip(&self.theirs[k])
            .map(|(o, t)| o.secs / t.secs.max(1e-9))
            .fold((f64::INFINITY, 0.0), |(lo, hi), r| (lo.min(r), hi.max(r)))
    }

    /// The median of the per-round CPU ratios ours / reference `k`.
    pub fn cpu_ratio(&self, k: usize) -> f64 {
        median(
            self.ours
                .iter()
                .zip(&self.theirs[k])
                .map(|(o, t)| o.cpu / t.cpu.max(1e-9))
                .collect(),
        )
    }

    /// The median of dbrev's times and its largest peak memory.
    pub fn ours_summary(&self) -> Sample {
        summary(&self.ours)
    }

    /// The median of reference `k`'s times and its largest peak memory.
    pub fn theirs_summary(&self, k: usize) -> Sample {
        summary(&self.theirs[k])
    }
}

/// The median time and CPU, and the largest peak memory, of some runs.
pub fn summary(samples: &[Sample]) -> Sample {
    Sample {
        secs: median(samples.iter().map(|s| s.secs).collect()),
        rss_mb: samples.iter().map(|s| s.rss_mb).fold(0.0, f64::max),
        cpu: median(samples.iter().map(|s| s.cpu).collect()),
    }
}

/// A step of a comparison: runs one side once (with its untimed set-up) and times it.
pub type Side<'a> = Box<dyn FnMut() -> Result<Sample, Box<dyn std::error::Error>> + 'a>;

/// Runs `ours` and every reference once per round, the order rotating from round to round
/// (ours first, then last, …), so neither side always runs on a warm or a cold machine.
pub fn compare(
    rounds: usize,
    mut ours: Side<'_>,
    mut theirs: Vec<Side<'_>>,
) -> Result<Comparison, Box<dyn std::error::Error>> {
    let mut result = Comparison {
        ours: Vec::new(),
        theirs: vec![Vec::new(); theirs.len()],
    };
    let sides = theirs.len() + 1;
    for round in 0..rounds {
        for slot in 0..sides {
            let index = (slot + round) % sides;
            if index == 0 {
                result.ours.push(ours()?);
            } else {
                let sample = theirs[index - 1]()?;
                result.theirs[index - 1].push(sample);
            }
        }
    }
    Ok(result)
}

/// The median (the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// The full path of a program on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|p| p.join(program))
        .find(|p| p.is_file())
}

/// diesel_cli: `/tmp/diesel-cli/bin/diesel` (where the bench notes install it), else `PATH`.
pub fn diesel_cli() -> Option<PathBuf> {
    let local = PathBuf::from("/tmp/diesel-cli/bin/diesel");
    if local.is_file() {
        return Some(local);
    }
    which("diesel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn rounds_alternate_the_order() {
        let order = std::cell::RefCell::new(Vec::new());
        let side = |name: &'static str| -> Side<'_> {
            let order = &order;
            Box::new(move || {
                order.borrow_mut().push(name);
                Ok(Sample {
                    secs: 1.0,
                    ..Sample::default()
                })
            })
        };
        let c = compare(2, side("ours"), vec![side("theirs")]).unwrap();
        assert_eq!(*order.borrow(), ["ours", "theirs", "theirs", "ours"]);
        assert_eq!(c.ratio(0), 1.0);
    }
}
