//! `cache simulate` as results: a trace replayed against one SSD, or against
//! a range of sizes with the recommended one, each with the setup it ran on
//! (drive, quota, reserve, other files, lifetime, copy rate and its source).

use super::policy;
use super::simulate::{SimParams, simulate};
use super::sweep::{self, SweepParams, WAIT_TOLERANCE_S};
use super::trace::Trace;
use crate::results::cache::{CacheSetup, SimulationReport, SweepReport};

/// The cache every size shares: what else is on the drive and how it fills.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayParams {
    /// The trace as the results name it.
    pub trace: String,
    pub quota_bytes: Option<u64>,
    pub reserve_bytes: u64,
    pub foreign_bytes: u64,
    pub lifetime_days: f64,
    /// Bytes per second one job's cache fill copies at.
    pub copy_rate: f64,
    /// Where the copy rate came from.
    pub copy_rate_source: String,
}

impl ReplayParams {
    /// The setup of a drive of `ssd` bytes.
    pub fn setup(&self, ssd: u64) -> CacheSetup {
        CacheSetup {
            ssd_bytes: ssd,
            quota_bytes: self.quota_bytes,
            reserve_bytes: self.reserve_bytes,
            foreign_bytes: self.foreign_bytes,
            capacity_bytes: policy::capacity(
                ssd,
                self.quota_bytes,
                self.reserve_bytes,
                self.foreign_bytes,
            ),
            lifetime_days: self.lifetime_days,
            copy_rate: self.copy_rate,
            copy_rate_source: self.copy_rate_source.clone(),
        }
    }

    fn lifetime_s(&self) -> f64 {
        self.lifetime_days * 86_400.0
    }
}

/// The trace against one drive of `ssd` bytes.
pub fn one_size(trace: &Trace, ssd: u64, p: &ReplayParams) -> SimulationReport {
    let setup = p.setup(ssd);
    let stats = simulate(
        trace,
        &SimParams {
            capacity_bytes: setup.capacity_bytes,
            lifetime_s: p.lifetime_s(),
            copy_rate: p.copy_rate,
        },
    );
    SimulationReport {
        trace: p.trace.clone(),
        setup,
        stats,
    }
}

/// The trace against every size of `sizes` (from [`sweep::sizes`], smallest
/// first) on up to `threads` threads, and the smallest size within `margin`
/// of the best; `tick` is called once per size. The report names no chart.
pub fn sizes(
    trace: &Trace,
    sizes: &[u64],
    p: &ReplayParams,
    margin: f64,
    threads: usize,
    tick: &(dyn Fn() + Sync),
) -> SweepReport {
    let points = sweep::sweep(
        trace,
        sizes,
        &SweepParams {
            quota_bytes: p.quota_bytes,
            reserve_bytes: p.reserve_bytes,
            foreign_bytes: p.foreign_bytes,
            lifetime_s: p.lifetime_s(),
            copy_rate: p.copy_rate,
        },
        threads,
        tick,
    );
    SweepReport {
        trace: p.trace.clone(),
        setup: p.setup(sizes.first().copied().unwrap_or(0)),
        recommendation: sweep::recommend(&points, margin, WAIT_TOLERANCE_S),
        points,
        chart: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::trace::TraceBuilder;
    use crate::units::GB;

    fn trace() -> Trace {
        let mut b = TraceBuilder::default();
        for (job, start, stack, bytes) in [
            ("1", 0.0, "A", 60 * GB),
            ("2", 100.0, "B", 50 * GB),
            ("3", 200.0, "A", 60 * GB),
            ("4", 300.0, "C", 30 * GB),
        ] {
            b.add(job, start, 10.0, stack, bytes).unwrap();
        }
        b.finish()
    }

    fn params() -> ReplayParams {
        ReplayParams {
            trace: "jobs.csv".into(),
            quota_bytes: None,
            reserve_bytes: 10 * GB,
            foreign_bytes: 0,
            lifetime_days: 30.0,
            copy_rate: 1e12,
            copy_rate_source: "--copy-rate".into(),
        }
    }

    #[test]
    fn one_size_replays_on_what_the_reserve_leaves() {
        let r = one_size(&trace(), 130 * GB, &params());
        assert_eq!(r.trace, "jobs.csv");
        assert_eq!(r.setup.capacity_bytes, 120 * GB);
        assert_eq!(r.setup.copy_rate_source, "--copy-rate");
        // the simulator's own example at 120 GB: one hit, one eviction
        assert_eq!((r.stats.bytes_copied, r.stats.hits), (140 * GB, 1));
    }

    #[test]
    fn a_sweep_runs_every_size_and_recommends_one() {
        let s = sweep::sizes(100 * GB, 400 * GB, 4);
        let ticks = std::sync::atomic::AtomicUsize::new(0);
        let r = sizes(&trace(), &s, &params(), 0.05, 2, &|| {
            ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(r.points.len(), s.len());
        assert_eq!(ticks.into_inner(), s.len());
        assert_eq!(r.setup.ssd_bytes, 100 * GB);
        assert_eq!(r.chart, None);
        let pick = r.recommendation.unwrap();
        assert!(s.contains(&pick.ssd_bytes), "{pick:?}");
        for p in &r.points {
            assert_eq!(p.stats, one_size(&trace(), p.ssd_bytes, &params()).stats);
        }
    }
}
