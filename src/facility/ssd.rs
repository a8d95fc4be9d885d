//! A worker node's SSD cache of particle stacks, as `cache simulate` keeps
//! one: least recently used out first, a stack in use by a job is locked
//! and never evicted, and a share of the disk is kept free (the reserve).

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    dataset: usize,
    bytes: f64,
    last_use: f64,
    locks: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SsdCache {
    capacity: f64,
    entries: Vec<Entry>,
}

/// What a job finds when it asks for its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookup {
    /// Cached: read from the SSD.
    Hit,
    /// Room was made: copy it in first, then read from the SSD.
    Fill,
    /// No room (too big, or the rest locked): read from storage.
    Bypass,
}

impl SsdCache {
    /// A cache of `bytes` with `reserve` (0..1) kept free.
    pub(super) fn new(bytes: u64, reserve: f64) -> SsdCache {
        SsdCache {
            capacity: bytes as f64 * (1.0 - reserve),
            entries: Vec::new(),
        }
    }

    pub(super) fn used(&self) -> f64 {
        self.entries.iter().map(|e| e.bytes).sum()
    }

    pub(super) fn capacity(&self) -> f64 {
        self.capacity
    }

    pub(super) fn holds(&self, dataset: usize) -> bool {
        self.entries.iter().any(|e| e.dataset == dataset)
    }

    /// Looks `dataset` up at time `t` and locks it when it is (or will be)
    /// cached.
    pub(super) fn acquire(&mut self, dataset: usize, bytes: f64, t: f64) -> Lookup {
        if let Some(e) = self.entries.iter_mut().find(|e| e.dataset == dataset) {
            e.locks += 1;
            e.last_use = t;
            return Lookup::Hit;
        }
        if self.capacity <= 0.0 || bytes > self.capacity {
            return Lookup::Bypass;
        }
        let locked: f64 = self
            .entries
            .iter()
            .filter(|e| e.locks > 0)
            .map(|e| e.bytes)
            .sum();
        if locked + bytes > self.capacity {
            return Lookup::Bypass;
        }
        while self.used() + bytes > self.capacity {
            let lru = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.locks == 0)
                .min_by(|a, b| a.1.last_use.total_cmp(&b.1.last_use))
                .map(|(i, _)| i);
            match lru {
                Some(i) => {
                    self.entries.swap_remove(i);
                }
                None => return Lookup::Bypass,
            }
        }
        self.entries.push(Entry {
            dataset,
            bytes,
            last_use: t,
            locks: 1,
        });
        Lookup::Fill
    }

    /// A job on `dataset` ended at `t`.
    pub(super) fn release(&mut self, dataset: usize, t: f64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.dataset == dataset) {
            e.locks = e.locks.saturating_sub(1);
            e.last_use = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_unlocked_goes_first_and_locked_stacks_stay() {
        let mut c = SsdCache::new(100, 0.1); // 90 usable
        assert_eq!(c.acquire(1, 40.0, 0.0), Lookup::Fill);
        assert_eq!(c.acquire(2, 40.0, 1.0), Lookup::Fill);
        c.release(1, 2.0);
        // 1 is unlocked and older than 2's lock: it goes.
        assert_eq!(c.acquire(3, 40.0, 3.0), Lookup::Fill);
        assert!(!c.holds(1) && c.holds(2) && c.holds(3));
        // 2 and 3 locked: no room for a fourth.
        assert_eq!(c.acquire(4, 20.0, 4.0), Lookup::Bypass);
        assert_eq!(c.acquire(3, 40.0, 5.0), Lookup::Hit);
        assert_eq!(c.acquire(5, 95.0, 6.0), Lookup::Bypass);
        assert!(c.used() <= c.capacity());
        assert_eq!(SsdCache::new(0, 0.0).acquire(1, 1.0, 0.0), Lookup::Bypass);
    }
}
