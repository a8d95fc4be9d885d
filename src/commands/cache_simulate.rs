//! `cryocap cache simulate`: replay a job trace against one SSD, or sweep a
//! range of SSD sizes and recommend one (with an SVG chart).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::{Out, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cache::policy;
use crate::cache::replay::{self, ReplayParams};
use crate::cache::simulate::ASSUMED_COPY_RATE;
use crate::cache::sweep;
use crate::cache::trace::{self, Trace};
use crate::cli::CacheSimulateArgs;
use crate::cli::values::SizeRange;
use crate::progress::{Progress, Unit};
use crate::report::writer::{self, Destination};
use crate::results::Kind;
use crate::results::cache::{CopyBenchReport, SweepReport};

pub(super) fn run(a: &CacheSimulateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let trace_path = a.trace.as_ref().ok_or_else(|| {
        usage("--trace: give the job trace CSV to replay (`cryocap cache workload -o jobs.csv` makes one)")
    })?;
    if a.ssd.is_some() && a.sweep.is_some() {
        return Err(usage(
            "--ssd and --sweep: give one SSD size or a range to sweep, not both",
        ));
    }
    let mut outs = result_files(&a.output.files);
    if a.sweep.is_some() {
        outs.push(Out::file("--chart", &a.chart));
    }
    let inputs: Vec<PathBuf> = [Some(trace_path), a.copy_rate_from.as_ref()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    check_outputs(&outs, &inputs)?;
    let (copy_rate, copy_rate_source) = copy_rate(a)?;
    check_smallest_size(a)?;
    let trace = trace::read(trace_path).map_err(crate::cache::CacheError::from)?;
    let p = ReplayParams {
        trace: trace_path.display().to_string(),
        quota_bytes: a.limits.ssd_quota.map(|q| q.0),
        reserve_bytes: a.limits.ssd_reserve.0,
        foreign_bytes: a.foreign,
        lifetime_days: a.lifetime_days,
        copy_rate,
        copy_rate_source,
    };
    let kind = match (a.ssd, a.sweep) {
        (Some(ssd), _) => Kind::CacheSimulate(replay::one_size(&trace, ssd, &p)),
        (None, Some(range)) => Kind::CacheSweep(sweep_sizes(a, &trace, range, &p, out)?),
        (None, None) => {
            return Err(usage(
                "--ssd: give the SSD size (e.g. --ssd 2TB) or a range (--sweep 250GB..8TB)",
            ));
        }
    };
    finish(kind, started, &a.output, out)?;
    Ok(Outcome::Ok)
}

fn usage(m: &str) -> CommandError {
    CommandError::Usage(m.to_string())
}

/// `--copy-rate`, the rate of a `--copy-rate-from` file, or the assumed one,
/// with where it came from.
fn copy_rate(a: &CacheSimulateArgs) -> Result<(f64, String), CommandError> {
    Ok(match (&a.copy_rate, &a.copy_rate_from) {
        (Some(r), _) => (r.0, "--copy-rate".to_string()),
        (None, Some(p)) => copy_rate_from(p)?,
        (None, None) => (
            ASSUMED_COPY_RATE,
            "assumed (default); measure with `cryocap cache copy-bench`".to_string(),
        ),
    })
}

/// The SSD (or the smallest size of the sweep) must leave the cache some
/// space once its quota, reserve and other files are counted.
fn check_smallest_size(a: &CacheSimulateArgs) -> Result<(), CommandError> {
    let smallest = a.ssd.or(a.sweep.map(|r| r.lo)).unwrap_or(0);
    if smallest > 0 {
        policy::usable_capacity(
            smallest,
            a.limits.ssd_quota.map(|q| q.0),
            a.limits.ssd_reserve.0,
            a.foreign,
        )
        .map_err(|e| {
            let flag = if a.ssd.is_some() {
                "--ssd"
            } else {
                "the smallest --sweep size"
            };
            CommandError::Usage(format!("{e} ({flag})"))
        })?;
    }
    Ok(())
}

/// `--sweep`: every size with a progress bar, and the chart written.
fn sweep_sizes(
    a: &CacheSimulateArgs,
    trace: &Trace,
    range: SizeRange,
    p: &ReplayParams,
    out: &mut dyn Write,
) -> Result<SweepReport, CommandError> {
    let sizes = sweep::sizes(range.lo, range.hi, a.steps);
    let progress = Progress::new(a.output.quiet);
    let bar = progress.bar(sizes.len() as u64, Unit::Steps, "simulating SSD sizes");
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut r = replay::sizes(trace, &sizes, p, a.margin.fraction(), threads, &|| {
        bar.inc(1)
    });
    bar.finish_and_clear();
    r.chart = Some(a.chart.display().to_string());
    let svg = crate::report::sweep_svg(&r).map_err(CommandError::Usage)?;
    writer::write(&Destination::from_path(&a.chart), svg.as_bytes(), out)?;
    Ok(r)
}

/// The recommended copy rate of a `cache copy-bench` result file.
fn copy_rate_from(path: &Path) -> Result<(f64, String), CommandError> {
    let bad =
        |why: String| CommandError::Usage(format!("--copy-rate-from {}: {why}", path.display()));
    let report: CopyBenchReport = match crate::files::read_result(path) {
        Ok(r) => match r.kind {
            Kind::CacheCopyBench(c) => c,
            other => {
                return Err(bad(format!(
                    "a {} result, not the JSON of `cryocap cache copy-bench`",
                    other.name()
                )));
            }
        },
        Err(e) => {
            return Err(bad(format!(
                "not the JSON of `cryocap cache copy-bench` ({e})"
            )));
        }
    };
    let rate = report
        .recommended_rate()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| bad("it has no rate for its recommended thread count".into()))?;
    Ok((
        rate,
        format!(
            "measured: {} threads in {}",
            report.recommended_threads,
            path.display()
        ),
    ))
}
