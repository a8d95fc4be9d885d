//! The event-driven simulator: replays a [`Trace`] against a
//! [`CachePolicy`]. Events are job arrivals (in start order) and job ends (a
//! heap); ends at the same instant come first, so their space is free for
//! the arrival. Jobs waiting for space retry, in arrival order, whenever a
//! job ends.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::policy::{Admit, CachePolicy};
use super::trace::Trace;
use crate::results::cache::{FailedJob, SimStats};
use crate::units;

/// The cache a simulation runs against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimParams {
    pub capacity_bytes: u64,
    pub lifetime_s: f64,
    /// Bytes per second.
    pub copy_rate: f64,
}

/// Seconds as an ordered heap key (non-negative floats order like their bits).
fn key(t: f64) -> u64 {
    t.max(0.0).to_bits()
}

/// Replays `trace`; pure and deterministic.
/// Cache fill rate per job assumed when none is given or measured, bytes/s.
pub const ASSUMED_COPY_RATE: f64 = 500e6;

pub fn simulate(trace: &Trace, p: &SimParams) -> SimStats {
    let sizes: Vec<u64> = trace.files.iter().map(|f| f.bytes).collect();
    let mut cache = CachePolicy::new(p.capacity_bytes, p.lifetime_s, p.copy_rate, &sizes);
    let mut stats = SimStats {
        jobs: trace.jobs.len() as u64,
        events: trace.events as u64,
        ..SimStats::default()
    };
    let mut ends: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut waiting: VecDeque<usize> = VecDeque::new();
    let mut next = 0usize;

    let start = |j: usize,
                 now: f64,
                 cache: &mut CachePolicy,
                 stats: &mut SimStats,
                 ends: &mut BinaryHeap<Reverse<(u64, usize)>>|
     -> bool {
        let job = &trace.jobs[j];
        match cache.admit(&job.files, now) {
            Admit::Wait => false,
            Admit::Ready { ready_at, .. } => {
                let space_wait = now - job.start_s;
                let copy_wait = ready_at - now;
                if space_wait > 0.0 {
                    stats.jobs_waited_space += 1;
                    stats.space_wait_seconds += space_wait;
                }
                if copy_wait > 0.0 {
                    stats.jobs_waited_copy += 1;
                    stats.copy_wait_seconds += copy_wait;
                }
                stats.max_job_wait_seconds = stats.max_job_wait_seconds.max(space_wait + copy_wait);
                let end = ready_at + job.duration_s;
                stats.makespan_seconds = stats.makespan_seconds.max(end);
                ends.push(Reverse((key(end), j)));
                true
            }
        }
    };

    loop {
        let next_end = ends.peek().map(|Reverse((t, _))| f64::from_bits(*t));
        let next_arrival = trace.jobs.get(next).map(|j| j.start_s);
        match (next_end, next_arrival) {
            (None, None) => break,
            (Some(te), ta) if ta.is_none_or(|ta| te <= ta) => {
                let Some(Reverse((_, j))) = ends.pop() else {
                    break;
                };
                cache.expire(te);
                cache.release(&trace.jobs[j].files, te);
                let mut still = VecDeque::with_capacity(waiting.len());
                while let Some(w) = waiting.pop_front() {
                    if !start(w, te, &mut cache, &mut stats, &mut ends) {
                        still.push_back(w);
                    }
                }
                waiting = still;
            }
            (_, Some(ta)) => {
                let j = next;
                next += 1;
                cache.expire(ta);
                let job = &trace.jobs[j];
                if job.bytes > p.capacity_bytes {
                    stats.failed_jobs.push(FailedJob {
                        job: job.name.clone(),
                        bytes: job.bytes,
                        reason: format!(
                            "its files ({}) can never fit the cache ({})",
                            units::bytes_decimal(job.bytes),
                            units::bytes_decimal(p.capacity_bytes)
                        ),
                    });
                } else if !start(j, ta, &mut cache, &mut stats, &mut ends) {
                    waiting.push_back(j);
                }
            }
            (Some(_), None) => unreachable!("handled by the arm above"),
        }
    }
    // With nothing running every cached file is unlocked, so a job that fits
    // the capacity always starts; anything left here is a policy bug, but is
    // reported rather than lost.
    for j in waiting {
        let job = &trace.jobs[j];
        stats.failed_jobs.push(FailedJob {
            job: job.name.clone(),
            bytes: job.bytes,
            reason: "it never got space in the cache".into(),
        });
    }
    stats.wait_seconds = stats.copy_wait_seconds + stats.space_wait_seconds;
    let c = cache.counters();
    stats.bytes_copied = c.bytes_copied;
    stats.hits = c.hits;
    stats.shared_copies = c.shared_copies;
    stats.misses = c.misses;
    stats.evictions = c.evictions;
    stats.bytes_evicted = c.bytes_evicted;
    stats.expirations = c.expirations;
    stats.peak_bytes = c.peak_bytes;
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::trace::TraceBuilder;
    use crate::units::GB;

    fn trace(rows: &[(&str, f64, f64, &str, u64)]) -> Trace {
        let mut b = TraceBuilder::default();
        for r in rows {
            b.add(r.0, r.1, r.2, r.3, r.4).unwrap();
        }
        b.finish()
    }

    fn params(capacity: u64) -> SimParams {
        SimParams {
            capacity_bytes: capacity,
            lifetime_s: 30.0 * 86_400.0,
            copy_rate: 1e12,
        }
    }

    #[test]
    fn issue_example_through_the_simulator() {
        let t = trace(&[
            ("1", 0.0, 10.0, "A", 60 * GB),
            ("2", 100.0, 10.0, "B", 50 * GB),
            ("3", 200.0, 10.0, "A", 60 * GB),
            ("4", 300.0, 10.0, "C", 30 * GB),
        ]);
        let s = simulate(&t, &params(100 * GB));
        assert_eq!((s.bytes_copied, s.hits, s.evictions), (200 * GB, 0, 2));
        let s = simulate(&t, &params(120 * GB));
        assert_eq!((s.bytes_copied, s.hits, s.evictions), (140 * GB, 1, 1));
        assert_eq!(s.peak_bytes, 110 * GB);
    }

    #[test]
    fn job_waits_for_space_until_a_running_job_ends() {
        // Job 1 holds A (60) from 0 to 1000; job 2 needs B (50) at 10 in 100.
        let t = trace(&[("1", 0.0, 1000.0, "A", 60), ("2", 10.0, 5.0, "B", 50)]);
        let s = simulate(&t, &params(100));
        assert_eq!(s.jobs_waited_space, 1);
        assert!((s.space_wait_seconds - 990.0).abs() < 1e-9, "{s:?}");
        assert_eq!(s.evictions, 1);
        assert!((s.makespan_seconds - 1005.0).abs() < 1e-9);
        assert!(s.failed_jobs.is_empty());
    }

    #[test]
    fn job_larger_than_the_cache_fails_and_says_why() {
        let t = trace(&[("big", 0.0, 1.0, "A", 60), ("big", 0.0, 1.0, "B", 50)]);
        let s = simulate(&t, &params(100));
        assert_eq!(s.failed_jobs.len(), 1);
        assert_eq!(s.failed_jobs[0].bytes, 110);
        assert!(s.failed_jobs[0].reason.contains("never fit"));
        assert_eq!(s.bytes_copied, 0);
    }

    #[test]
    fn concurrent_jobs_share_one_copy() {
        let t = trace(&[("1", 0.0, 100.0, "A", 100), ("2", 5.0, 100.0, "A", 100)]);
        let s = simulate(
            &t,
            &SimParams {
                copy_rate: 10.0,
                ..params(1000)
            },
        );
        assert_eq!(
            (s.bytes_copied, s.misses, s.hits, s.shared_copies),
            (100, 1, 1, 1)
        );
        // job 1 copies for 10 s; job 2 waits the 5 s left
        assert!((s.copy_wait_seconds - 15.0).abs() < 1e-9, "{s:?}");
        assert_eq!(s.jobs_waited_copy, 2);
    }

    #[test]
    fn lifetime_expires_idle_files_between_jobs() {
        let day = 86_400.0;
        let t = trace(&[("1", 0.0, 1.0, "A", 10), ("2", 31.0 * day, 1.0, "A", 10)]);
        let s = simulate(&t, &params(100));
        assert_eq!((s.expirations, s.misses, s.hits), (1, 2, 0));
        let t = trace(&[("1", 0.0, 1.0, "A", 10), ("2", 29.0 * day, 1.0, "A", 10)]);
        let s = simulate(&t, &params(100));
        assert_eq!((s.expirations, s.misses, s.hits), (0, 1, 1));
    }
}
