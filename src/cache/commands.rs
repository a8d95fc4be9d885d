//! Runs the `cryocap cache` subcommands: config in, results out in the
//! asked format. The work itself lives in the sibling modules.

use std::io::Write;

use super::CacheError;
use super::output::{progress, write_atomic};
use super::simulate::{SimParams, simulate};
use super::sweep::{self, SweepParams};
use super::{policy, trace};
use crate::cli::CacheCommand;
use crate::config::cache::{SimulateConfig, SimulateMode};
use crate::report::{Format, cache_doc};
use crate::results::SCHEMA_VERSION;
use crate::results::cache::{CacheSetup, SimulationReport, SweepReport};

/// Waiting below this, in total over a trace, counts as no waiting when
/// comparing sizes.
pub const WAIT_TOLERANCE_S: f64 = 3600.0;

pub fn run(cmd: &CacheCommand, out: &mut dyn Write) -> Result<(), CacheError> {
    match cmd {
        CacheCommand::Simulate(a) => simulate_cmd(&SimulateConfig::from_args(a)?, out),
        CacheCommand::Workload(a) => {
            super::workload::run(&crate::config::cache::WorkloadConfig::from_args(a)?, out)
        }
        CacheCommand::Subset(a) => {
            super::subset::run(&crate::config::cache::SubsetConfig::from_args(a)?, out)
        }
        CacheCommand::CopyBench(a) => {
            super::copy_bench::run(&crate::config::cache::CopyBenchConfig::from_args(a)?, out)
        }
    }
}

/// Renders any of the cache results in `format`.
pub fn render<T: serde::Serialize>(
    r: &T,
    format: Format,
    doc: impl Fn(&T) -> crate::report::Document,
    csv: impl Fn(&T) -> String,
) -> Result<String, CacheError> {
    Ok(match format {
        Format::Table => doc(r).to_text(),
        Format::Markdown => doc(r).to_markdown(),
        Format::Json => serde_json::to_string_pretty(r)? + "\n",
        Format::Csv => csv(r),
    })
}

fn simulate_cmd(c: &SimulateConfig, out: &mut dyn Write) -> Result<(), CacheError> {
    let trace = trace::read(&c.trace)?;
    let name = c.trace.display().to_string();
    let setup = |ssd: u64| CacheSetup {
        ssd_bytes: ssd,
        quota_bytes: c.quota,
        reserve_bytes: c.reserve,
        foreign_bytes: c.foreign,
        capacity_bytes: policy::capacity(ssd, c.quota, c.reserve, c.foreign),
        lifetime_days: c.lifetime_days,
        copy_rate: c.copy_rate,
        copy_rate_source: c.copy_rate_source.clone(),
    };
    let lifetime_s = c.lifetime_days * 86_400.0;
    let text = match c.mode {
        SimulateMode::One { ssd } => {
            let s = setup(ssd);
            let stats = simulate(
                &trace,
                &SimParams {
                    capacity_bytes: s.capacity_bytes,
                    lifetime_s,
                    copy_rate: c.copy_rate,
                },
            );
            let r = SimulationReport {
                schema_version: SCHEMA_VERSION,
                trace: name,
                setup: s,
                stats,
            };
            render(
                &r,
                c.format,
                cache_doc::simulation,
                cache_doc::simulation_csv,
            )?
        }
        SimulateMode::Sweep { lo, hi, steps } => {
            let sizes = sweep::sizes(lo, hi, steps);
            let bar = progress(sizes.len() as u64, "simulating SSD sizes", c.quiet);
            let tick = || bar.inc(1);
            let points = sweep::sweep(
                &trace,
                &sizes,
                &SweepParams {
                    quota_bytes: c.quota,
                    reserve_bytes: c.reserve,
                    foreign_bytes: c.foreign,
                    lifetime_s,
                    copy_rate: c.copy_rate,
                },
                c.threads,
                &tick,
            );
            bar.finish_and_clear();
            let mut r = SweepReport {
                schema_version: SCHEMA_VERSION,
                trace: name,
                setup: setup(lo),
                recommendation: sweep::recommend(&points, c.margin, WAIT_TOLERANCE_S),
                points,
                chart: Some(c.chart.display().to_string()),
            };
            let svg = super::chart::sweep_svg(&r).map_err(CacheError::Chart)?;
            write_atomic(&c.chart, svg.as_bytes()).map_err(|e| CacheError::Write {
                path: c.chart.clone(),
                source: e,
            })?;
            r.chart = Some(c.chart.display().to_string());
            render(&r, c.format, cache_doc::sweep, cache_doc::sweep_csv)?
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
