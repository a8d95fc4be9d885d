//! The SSD cache policy as a pure state machine (docs/sources.md §3):
//!
//! - capacity = min(quota, drive − reserve − bytes of files the cache does not
//!   own); the caller computes it with [`capacity`];
//! - a job locks every file it reads while it runs; locked files are never
//!   evicted;
//! - files a job needs that are not cached are copied; to make room, unlocked
//!   files are evicted least recently used first;
//! - if evicting every unlocked file (other than the job's own) cannot make
//!   room, the job must wait for a running job to end ([`Admit::Wait`]);
//! - a file another job is still copying is reused once its copy ends (the
//!   second job waits for it);
//! - a file not used for `lifetime_s` expires.
//!
//! Time only moves forward: callers pass non-decreasing `now`.

use std::collections::BTreeMap;

/// The space the cache may fill: min(quota, drive − reserve − foreign).
pub(crate) fn capacity(drive: u64, quota: Option<u64>, reserve: u64, foreign: u64) -> u64 {
    let free = drive.saturating_sub(reserve).saturating_sub(foreign);
    match quota {
        Some(q) => free.min(q),
        None => free,
    }
}

/// The capacity of a cache that can hold something, or why it cannot: the
/// one rule `plan`, `cache simulate` and `cache subset` apply to an SSD
/// with its quota, reserve and other files.
pub(crate) fn usable_capacity(
    drive: u64,
    quota: Option<u64>,
    reserve: u64,
    foreign: u64,
) -> Result<u64, String> {
    use crate::units::bytes_decimal as b;
    if quota == Some(0) {
        return Err("--ssd-quota 0 leaves the cache no space".into());
    }
    if reserve >= drive {
        return Err(format!(
            "--ssd-reserve {} leaves nothing of the {} SSD",
            b(reserve),
            b(drive)
        ));
    }
    if reserve.saturating_add(foreign) >= drive {
        return Err(format!(
            "--foreign {} with --ssd-reserve {} leaves nothing of the {} SSD",
            b(foreign),
            b(reserve),
            b(drive)
        ));
    }
    Ok(capacity(drive, quota, reserve, foreign))
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    bytes: u64,
    cached: bool,
    /// Running jobs that read this file.
    locks: u32,
    /// When the copy that brought the file in ends.
    ready_at: f64,
    /// When the last job that read it ended.
    last_used: f64,
    /// Key in the LRU map while cached and unlocked.
    lru_key: u64,
    /// Marks the job being admitted, so its own files are not evicted for it.
    stamp: u32,
}

/// Running totals of what the policy did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Counters {
    pub bytes_copied: u64,
    /// Job-file reads served from the cache (including files another job was
    /// still copying).
    pub hits: u64,
    /// Of the hits, those that waited for another job's copy to end.
    pub shared_copies: u64,
    pub misses: u64,
    pub evictions: u64,
    pub bytes_evicted: u64,
    pub expirations: u64,
    pub peak_bytes: u64,
}

/// What [`CachePolicy::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Admit {
    /// Files locked; the job can start computing at `ready_at` (after its own
    /// copies and any copy by another job it waits for).
    Ready { ready_at: f64, copied: u64 },
    /// Not enough space even after evicting every unlocked file: retry when a
    /// running job ends.
    Wait,
}

/// The cache of one worker SSD.
#[derive(Debug, Clone)]
pub(crate) struct CachePolicy {
    capacity: u64,
    lifetime_s: f64,
    copy_rate: f64,
    files: Vec<Entry>,
    /// Unlocked cached files, least recently used first.
    lru: BTreeMap<u64, u32>,
    next_key: u64,
    used: u64,
    unlocked_bytes: u64,
    stamp: u32,
    counters: Counters,
}

impl CachePolicy {
    /// A cache of `capacity` bytes for files `0..file_bytes.len()`, copying at
    /// `copy_rate` bytes per second.
    pub(crate) fn new(capacity: u64, lifetime_s: f64, copy_rate: f64, file_bytes: &[u64]) -> Self {
        CachePolicy {
            capacity,
            lifetime_s,
            copy_rate: copy_rate.max(1.0),
            files: file_bytes
                .iter()
                .map(|&bytes| Entry {
                    bytes,
                    ..Entry::default()
                })
                .collect(),
            lru: BTreeMap::new(),
            next_key: 0,
            used: 0,
            unlocked_bytes: 0,
            stamp: 0,
            counters: Counters::default(),
        }
    }

    pub(crate) fn counters(&self) -> Counters {
        self.counters
    }
    #[cfg(test)]
    fn used(&self) -> u64 {
        self.used
    }
    #[cfg(test)]
    fn is_cached(&self, file: u32) -> bool {
        self.files[file as usize].cached
    }

    fn drop_file(&mut self, key: u64, file: u32) {
        self.lru.remove(&key);
        let e = &mut self.files[file as usize];
        e.cached = false;
        self.used -= e.bytes;
        self.unlocked_bytes -= e.bytes;
    }

    /// Removes unlocked files not used for the lifetime, as of `now`.
    pub(crate) fn expire(&mut self, now: f64) {
        while let Some((&key, &file)) = self.lru.first_key_value() {
            if self.files[file as usize].last_used + self.lifetime_s > now {
                break;
            }
            self.drop_file(key, file);
            self.counters.expirations += 1;
        }
    }

    /// Tries to start a job reading `files` at `now`: evicts what it must,
    /// locks the files and starts the copies; or says to wait.
    pub(crate) fn admit(&mut self, files: &[u32], now: f64) -> Admit {
        self.stamp = self.stamp.wrapping_add(1).max(1);
        let stamp = self.stamp;
        let mut missing = 0u64;
        let mut own_unlocked = 0u64;
        for &f in files {
            let e = &mut self.files[f as usize];
            e.stamp = stamp;
            if !e.cached {
                missing += e.bytes;
            } else if e.locks == 0 {
                own_unlocked += e.bytes;
            }
        }
        let free = self.capacity.saturating_sub(self.used);
        if missing > free {
            let evictable = self.unlocked_bytes - own_unlocked;
            if free + evictable < missing {
                return Admit::Wait;
            }
            let mut freed = free;
            let mut victims = Vec::new();
            for (&key, &file) in &self.lru {
                if freed >= missing {
                    break;
                }
                let e = &self.files[file as usize];
                if e.stamp == stamp {
                    continue;
                }
                freed += e.bytes;
                victims.push((key, file));
            }
            for (key, file) in victims {
                self.counters.evictions += 1;
                self.counters.bytes_evicted += self.files[file as usize].bytes;
                self.drop_file(key, file);
            }
        }
        let mut ready_at = now;
        let mut copied = 0u64;
        for &f in files {
            let e = &mut self.files[f as usize];
            if e.cached {
                self.counters.hits += 1;
                if e.locks == 0 {
                    self.lru.remove(&e.lru_key);
                    self.unlocked_bytes -= e.bytes;
                }
                if e.ready_at > now {
                    self.counters.shared_copies += 1;
                }
                ready_at = ready_at.max(e.ready_at);
            } else {
                self.counters.misses += 1;
                copied += e.bytes;
                e.cached = true;
                e.ready_at = now + copied as f64 / self.copy_rate;
                ready_at = ready_at.max(e.ready_at);
                self.used += e.bytes;
            }
            e.locks += 1;
        }
        self.counters.bytes_copied += copied;
        self.counters.peak_bytes = self.counters.peak_bytes.max(self.used);
        Admit::Ready { ready_at, copied }
    }

    /// A job that read `files` ended at `now`: unlock them.
    pub(crate) fn release(&mut self, files: &[u32], now: f64) {
        for &f in files {
            let e = &mut self.files[f as usize];
            e.locks -= 1;
            e.last_used = now;
            if e.locks == 0 {
                e.lru_key = self.next_key;
                self.lru.insert(self.next_key, f);
                self.next_key += 1;
                self.unlocked_bytes += e.bytes;
            }
        }
    }
}

#[cfg(test)]
mod capacity_tests {
    use super::*;

    #[test]
    fn a_cache_of_nothing_is_refused() {
        assert!(usable_capacity(100, Some(0), 10, 0).is_err());
        assert!(usable_capacity(100, None, 100, 0).is_err());
        assert!(usable_capacity(100, None, 10, 90).is_err());
        assert_eq!(usable_capacity(100, Some(50), 10, 0), Ok(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::GB;

    const DAY: f64 = 86_400.0;

    fn ready(a: Admit) -> f64 {
        match a {
            Admit::Ready { ready_at, .. } => ready_at,
            Admit::Wait => panic!("expected the job to start"),
        }
    }

    /// Runs jobs one after another (each ends before the next starts).
    fn sequential(capacity: u64, files: &[u64], jobs: &[&[u32]]) -> Counters {
        let mut c = CachePolicy::new(capacity, 30.0 * DAY, 1e12, files);
        for (i, j) in jobs.iter().enumerate() {
            let t = i as f64 * 100.0;
            ready(c.admit(j, t));
            c.release(j, t + 50.0);
        }
        c.counters()
    }

    #[test]
    fn issue_example_quota_100_and_120() {
        let sizes = [60 * GB, 50 * GB, 30 * GB];
        let jobs: [&[u32]; 4] = [&[0], &[1], &[0], &[2]];
        let c = sequential(100 * GB, &sizes, &jobs);
        assert_eq!((c.bytes_copied, c.hits, c.evictions), (200 * GB, 0, 2));
        let c = sequential(120 * GB, &sizes, &jobs);
        assert_eq!((c.bytes_copied, c.hits, c.evictions), (140 * GB, 1, 1));
    }

    #[test]
    fn evicts_least_recently_used_first() {
        // A, B, C fill the cache; A is used again, so D evicts B (then C).
        let sizes = [10, 10, 10, 10];
        let mut c = CachePolicy::new(30, 1e9, 1e9, &sizes);
        for (t, f) in [(0.0, 0), (1.0, 1), (2.0, 2), (3.0, 0)] {
            ready(c.admit(&[f], t));
            c.release(&[f], t + 0.5);
        }
        ready(c.admit(&[3], 4.0));
        assert!(c.is_cached(0) && !c.is_cached(1) && c.is_cached(2));
        assert_eq!(c.counters().evictions, 1);
    }

    #[test]
    fn locked_files_are_never_evicted_and_the_job_waits() {
        let sizes = [60, 50];
        let mut c = CachePolicy::new(100, 1e9, 1e9, &sizes);
        ready(c.admit(&[0], 0.0)); // running, holds A
        assert_eq!(c.admit(&[1], 1.0), Admit::Wait);
        assert!(c.is_cached(0));
        c.release(&[0], 2.0);
        ready(c.admit(&[1], 2.0));
        assert!(!c.is_cached(0));
        assert_eq!(c.counters().evictions, 1);
    }

    #[test]
    fn a_job_does_not_evict_its_own_files() {
        // A (60) cached and unlocked; a job reading A and B (50) in 100 bytes
        // cannot make room by evicting A, so it waits.
        let sizes = [60, 50];
        let mut c = CachePolicy::new(100, 1e9, 1e9, &sizes);
        ready(c.admit(&[0], 0.0));
        c.release(&[0], 1.0);
        assert_eq!(c.admit(&[0, 1], 2.0), Admit::Wait);
        assert!(c.is_cached(0));
    }

    #[test]
    fn second_job_waits_for_the_first_copy_and_reuses_it() {
        let sizes = [100];
        let mut c = CachePolicy::new(1000, 1e9, 10.0, &sizes);
        assert_eq!(ready(c.admit(&[0], 0.0)), 10.0);
        assert_eq!(ready(c.admit(&[0], 4.0)), 10.0);
        let k = c.counters();
        assert_eq!(
            (k.bytes_copied, k.misses, k.hits, k.shared_copies),
            (100, 1, 1, 1)
        );
    }

    #[test]
    fn copies_take_bytes_over_rate_one_after_another() {
        let mut c = CachePolicy::new(1000, 1e9, 10.0, &[100, 50]);
        assert_eq!(
            c.admit(&[0, 1], 5.0),
            Admit::Ready {
                ready_at: 20.0,
                copied: 150
            }
        );
    }

    #[test]
    fn files_expire_after_the_lifetime_unless_locked() {
        let mut c = CachePolicy::new(1000, 30.0 * DAY, 1e9, &[10, 10]);
        ready(c.admit(&[0], 0.0));
        c.release(&[0], 1.0);
        ready(c.admit(&[1], 0.0)); // still running at day 40
        c.expire(31.0 * DAY);
        assert!(!c.is_cached(0));
        assert!(c.is_cached(1));
        assert_eq!(c.counters().expirations, 1);
        c.expire(29.0 * DAY + 1.0); // time does not go back; nothing more
        assert_eq!(c.used(), 10);
    }

    #[test]
    fn file_used_within_lifetime_stays() {
        let mut c = CachePolicy::new(1000, 30.0 * DAY, 1e9, &[10]);
        ready(c.admit(&[0], 0.0));
        c.release(&[0], 0.0);
        ready(c.admit(&[0], 20.0 * DAY));
        c.release(&[0], 20.0 * DAY);
        c.expire(45.0 * DAY);
        assert!(c.is_cached(0));
        assert_eq!(c.counters().hits, 1);
    }

    #[test]
    fn capacity_takes_quota_reserve_and_foreign_files() {
        assert_eq!(capacity(1000, None, 100, 0), 900);
        assert_eq!(capacity(1000, Some(500), 100, 0), 500);
        assert_eq!(capacity(1000, Some(900), 100, 300), 600);
        assert_eq!(capacity(100, None, 200, 0), 0);
    }
}
