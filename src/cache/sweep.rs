//! The size sweep: the same trace against a range of SSD sizes, run in
//! parallel, and the recommended size: the smallest whose bytes copied and
//! waiting are within a stated margin of the best size's.

use super::policy;
use super::simulate::{SimParams, simulate};
use super::trace::Trace;
use crate::results::cache::{SweepPoint, SweepRecommendation};
use crate::units;

/// Waiting below this, in total over a trace, counts as no waiting when
/// comparing sizes.
pub const WAIT_TOLERANCE_S: f64 = 3600.0;

/// Sizes from `lo` to `hi` (both included), `steps` of them, evenly spaced
/// on a log scale and rounded to whole gigabytes (decimal).
pub fn sizes(lo: u64, hi: u64, steps: usize) -> Vec<u64> {
    if steps <= 1 || lo >= hi {
        return vec![lo];
    }
    let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
    let mut out: Vec<u64> = (0..steps)
        .map(|i| {
            let x = (a + (b - a) * i as f64 / (steps - 1) as f64).exp();
            let rounded = ((x / units::GB as f64).round() as u64) * units::GB;
            if rounded == 0 {
                x.round() as u64
            } else {
                rounded
            }
        })
        .collect();
    out[0] = lo;
    out[steps - 1] = hi;
    out.dedup();
    out
}

/// What stays fixed across a sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepParams {
    pub quota_bytes: Option<u64>,
    pub reserve_bytes: u64,
    pub foreign_bytes: u64,
    pub lifetime_s: f64,
    pub copy_rate: f64,
}

/// Simulates every size on up to `threads` threads; `tick` is called once
/// per finished size (for a progress bar).
pub fn sweep(
    trace: &Trace,
    sizes: &[u64],
    p: &SweepParams,
    threads: usize,
    tick: &(dyn Fn() + Sync),
) -> Vec<SweepPoint> {
    let run = |ssd: u64| {
        let capacity = policy::capacity(ssd, p.quota_bytes, p.reserve_bytes, p.foreign_bytes);
        let stats = simulate(
            trace,
            &SimParams {
                capacity_bytes: capacity,
                lifetime_s: p.lifetime_s,
                copy_rate: p.copy_rate,
            },
        );
        tick();
        SweepPoint {
            ssd_bytes: ssd,
            capacity_bytes: capacity,
            stats,
        }
    };
    let threads = threads.clamp(1, sizes.len().max(1));
    let mut slots: Vec<Option<SweepPoint>> = vec![None; sizes.len()];
    std::thread::scope(|s| {
        // Interleaved assignment: big and small sizes spread over threads.
        let chunks: Vec<Vec<usize>> = (0..threads)
            .map(|t| (t..sizes.len()).step_by(threads).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|idx| {
                let run = &run;
                s.spawn(move || {
                    idx.into_iter()
                        .map(|i| (i, run(sizes[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, point) in done {
                    slots[i] = Some(point);
                }
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// The smallest size within `margin` of the best: as few failed jobs as the
/// best size, bytes copied ≤ best·(1 + margin), and waiting ≤ best·(1 +
/// margin) + `wait_tolerance_s`.
pub fn recommend(
    points: &[SweepPoint],
    margin: f64,
    wait_tolerance_s: f64,
) -> Option<SweepRecommendation> {
    let min_failed = points.iter().map(|p| p.stats.failed_jobs.len()).min()?;
    let eligible: Vec<&SweepPoint> = points
        .iter()
        .filter(|p| p.stats.failed_jobs.len() == min_failed)
        .collect();
    let best_copied = eligible.iter().map(|p| p.stats.bytes_copied).min()?;
    let best_wait = eligible
        .iter()
        .map(|p| p.stats.wait_seconds)
        .fold(f64::INFINITY, f64::min);
    let copy_limit = best_copied as f64 * (1.0 + margin);
    let wait_limit = best_wait * (1.0 + margin) + wait_tolerance_s;
    let pick = eligible
        .iter()
        .filter(|p| p.stats.bytes_copied as f64 <= copy_limit && p.stats.wait_seconds <= wait_limit)
        .min_by_key(|p| p.ssd_bytes)?;
    let failed = if min_failed == 0 {
        "no job fails".to_string()
    } else {
        format!("{min_failed} job(s) fail at every size tried (their files exceed the cache)")
    };
    let reason = format!(
        "smallest size tried where {failed}, bytes copied ({}) are within {:.0}% of the least ({}) \
         and waiting ({}) is within {:.0}% plus {} of the least ({})",
        units::bytes_decimal(pick.stats.bytes_copied),
        margin * 100.0,
        units::bytes_decimal(best_copied),
        units::duration(pick.stats.wait_seconds),
        margin * 100.0,
        units::duration(wait_tolerance_s),
        units::duration(best_wait),
    );
    Some(SweepRecommendation {
        ssd_bytes: pick.ssd_bytes,
        margin,
        wait_tolerance_seconds: wait_tolerance_s,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::cache::{FailedJob, SimStats};
    use crate::units::GB;

    fn point(ssd: u64, copied: u64, wait: f64, failed: usize) -> SweepPoint {
        SweepPoint {
            ssd_bytes: ssd,
            capacity_bytes: ssd,
            stats: SimStats {
                bytes_copied: copied,
                wait_seconds: wait,
                failed_jobs: vec![
                    FailedJob {
                        job: "j".into(),
                        bytes: 1,
                        reason: "r".into()
                    };
                    failed
                ],
                ..SimStats::default()
            },
        }
    }

    #[test]
    fn sizes_are_log_spaced_and_keep_the_ends() {
        let s = sizes(250 * GB, 8000 * GB, 6);
        assert_eq!(s.first(), Some(&(250 * GB)));
        assert_eq!(s.last(), Some(&(8000 * GB)));
        assert_eq!(s.len(), 6);
        // ratio 32 over 5 steps: each about 2x
        assert_eq!(s[1], 500 * GB);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sizes(GB, GB, 5), vec![GB]);
    }

    #[test]
    fn recommends_smallest_within_margin_and_without_extra_failures() {
        let pts = vec![
            point(1, 500, 0.0, 1),  // fails a job
            point(2, 150, 10.0, 0), // copies 50% more than the best
            point(4, 104, 20.0, 0), // within 5%
            point(8, 100, 0.0, 0),  // best
        ];
        let r = recommend(&pts, 0.05, 3600.0).unwrap();
        assert_eq!(r.ssd_bytes, 4);
        assert!(r.reason.contains("within 5%"), "{}", r.reason);
        // waiting beyond the tolerance rules a size out
        let pts = vec![point(4, 100, 7200.0, 0), point(8, 100, 0.0, 0)];
        assert_eq!(recommend(&pts, 0.05, 3600.0).unwrap().ssd_bytes, 8);
        assert!(recommend(&[], 0.05, 0.0).is_none());
    }
}
