//! CPU memory bandwidth, measured the way STREAM's triad does:
//! `a[i] = b[i] + s·c[i]` over arrays far larger than the caches, split over
//! threads that first-touch their own part, best and median of repeats after
//! a warm-up. Bytes counted: two arrays read + one written per element
//! (STREAM's convention; the write-allocate read is not counted).

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TriadConfig {
    /// Elements (f64) per array.
    pub elements: usize,
    pub threads: usize,
    pub warmup: usize,
    pub repeats: usize,
}

impl TriadConfig {
    /// 3 × 64 MiB arrays, 5 repeats: seconds on any machine.
    pub(crate) fn quick(threads: usize) -> Self {
        TriadConfig {
            elements: 1 << 23,
            threads,
            warmup: 2,
            repeats: 5,
        }
    }
    /// 3 × 512 MiB arrays, 10 repeats.
    pub(crate) fn full(threads: usize) -> Self {
        TriadConfig {
            elements: 1 << 26,
            threads,
            warmup: 2,
            repeats: 10,
        }
    }
    /// Bytes one triad pass moves by STREAM's count.
    pub(crate) fn bytes_per_pass(&self) -> u64 {
        3 * 8 * self.elements as u64
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TriadError {
    #[error("not enough memory for the bandwidth test's {0} bytes of arrays; use --quick")]
    NoMemory(u64),
}

/// What a triad run measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TriadRun {
    /// Bytes/s of each timed repeat.
    pub rates: Vec<f64>,
    /// The last element of `a` afterwards: 1 + 3·2 = 7 when the kernel ran.
    pub check: f64,
}

/// Runs the triad.
pub(crate) fn triad(cfg: TriadConfig) -> Result<TriadRun, TriadError> {
    let threads = cfg.threads.max(1);
    let n = cfg.elements.max(threads);
    let alloc = || -> Result<Vec<f64>, TriadError> {
        let mut v = Vec::new();
        v.try_reserve_exact(n)
            .map_err(|_| TriadError::NoMemory(3 * 8 * n as u64))?;
        // Only capacity here: the threads initialise (first touch).
        Ok(v)
    };
    let (mut a, mut b, mut c) = (alloc()?, alloc()?, alloc()?);
    let chunk = n.div_ceil(threads);
    // First touch from the thread that will use each part (NUMA placement).
    std::thread::scope(|s| {
        let parts_a = a.spare_capacity_mut()[..n].chunks_mut(chunk);
        let parts_b = b.spare_capacity_mut()[..n].chunks_mut(chunk);
        let parts_c = c.spare_capacity_mut()[..n].chunks_mut(chunk);
        for ((pa, pb), pc) in parts_a.zip(parts_b).zip(parts_c) {
            s.spawn(move || {
                for x in pa.iter_mut() {
                    x.write(0.0);
                }
                for x in pb.iter_mut() {
                    x.write(1.0);
                }
                for x in pc.iter_mut() {
                    x.write(2.0);
                }
            });
        }
    });
    // SAFETY: every element of the first n was written above.
    unsafe {
        a.set_len(n);
        b.set_len(n);
        c.set_len(n);
    }

    let rounds = cfg.warmup + cfg.repeats;
    let parts = n.div_ceil(chunk);
    let start = Barrier::new(parts + 1);
    let end = Barrier::new(parts + 1);
    let mut seconds = Vec::with_capacity(rounds);
    std::thread::scope(|s| {
        for ((pa, pb), pc) in a
            .chunks_mut(chunk)
            .zip(b.chunks(chunk))
            .zip(c.chunks(chunk))
        {
            let (start, end) = (&start, &end);
            s.spawn(move || {
                for _ in 0..rounds {
                    start.wait();
                    let scalar = black_box(3.0);
                    for ((x, y), z) in pa.iter_mut().zip(pb).zip(pc) {
                        *x = y + scalar * z;
                    }
                    end.wait();
                }
            });
        }
        for _ in 0..rounds {
            let t0 = Instant::now();
            start.wait();
            end.wait();
            seconds.push(t0.elapsed().as_secs_f64());
        }
    });
    let bytes = cfg.bytes_per_pass() as f64;
    Ok(TriadRun {
        rates: seconds[cfg.warmup..].iter().map(|s| bytes / s).collect(),
        check: black_box(a[n - 1]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triad_computes_and_reports_positive_rates() {
        let cfg = TriadConfig {
            elements: 1 << 16,
            threads: 2,
            warmup: 1,
            repeats: 3,
        };
        let run = triad(cfg).unwrap();
        assert_eq!(run.check, 7.0);
        assert_eq!(run.rates.len(), 3);
        assert!(run.rates.iter().all(|r| r.is_finite() && *r > 0.0));
    }
}
