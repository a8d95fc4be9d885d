//! Reconstruction from particles on disk on the CPU: the images of a
//! particle list, read from their stacks, inserted on all cores (one
//! backprojector per thread, summed at the end), and the memory that takes.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use crate::particles::list::Particle;
use crate::particles::stacks::{NonFinite, Stacks, StacksError, check_finite};
use crate::storage::mrc::MrcError;

use super::Backprojector;
use super::fourier::ImageFft;

/// Memory all per-thread grids together may take; beyond it fewer threads
/// are used (at box 432 with padding 2 one grid is 3.9 GB).
pub const GRID_MEMORY_BUDGET: u64 = 8 << 30;

/// Bytes of one padded grid (complex data and weight, f32) for box `n`.
pub fn grid_bytes(n: usize, pad: usize) -> u64 {
    let p = (n * pad) as u64;
    p * p * (p / 2 + 1) * 12
}

/// Threads to insert with: as asked, but no more than particles, and no more
/// than [`GRID_MEMORY_BUDGET`] allows (at least one).
pub fn insertion_threads(asked: usize, particles: usize, n: usize, pad: usize) -> usize {
    let by_memory = (GRID_MEMORY_BUDGET / grid_bytes(n, pad).max(1)) as usize;
    asked.min(particles).min(by_memory).max(1)
}

/// Bytes the CPU reconstruction of box `n` at `pad` holds at its peak with
/// `threads` insertion threads: a grid per thread and the sum while
/// inserting; the grid, its inverse-transform copy, the padded real volume
/// and the output while finishing.
pub fn memory_needed(n: usize, pad: usize, threads: usize) -> u64 {
    let (p, n) = ((n * pad) as u64, n as u64);
    let grid = grid_bytes(n as usize, pad);
    let insertion = grid * (threads as u64 + 1);
    let finish = grid + p * p * (p / 2 + 1) * 8 + p * p * p * 4 + n * n * n * 4;
    insertion.max(finish)
}

fn grid(n: usize, pad: usize) -> Result<Backprojector, StacksError> {
    Backprojector::try_new(n, pad).ok_or(StacksError::Memory {
        n,
        pad,
        bytes: grid_bytes(n, pad),
    })
}

/// Inserts every particle on `threads` threads (one grid each, summed);
/// returns the grid and how many images were left out as non-finite.
/// `progress` is called with the number of particles just inserted.
pub fn insert_stacks(
    star: &Path,
    parts: &[Particle],
    stacks: &Stacks,
    pad: usize,
    threads: usize,
    policy: NonFinite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Backprojector, u64), StacksError> {
    let n = stacks.box_size;
    let threads = insertion_threads(threads, parts.len(), n, pad);
    let chunk = parts.len().div_ceil(threads);
    let partial: Vec<Result<(Backprojector, u64), StacksError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * chunk).min(parts.len())..((t + 1) * chunk).min(parts.len());
                s.spawn(move || insert_range(star, parts, stacks, range, pad, policy, progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an insertion thread panicked"))
            .collect()
    });
    let mut total = grid(n, pad)?;
    let mut skipped = 0;
    for r in partial {
        let (bp, s) = r?;
        total.merge(&bp);
        skipped += s;
    }
    Ok((total, skipped))
}

fn insert_range(
    star: &Path,
    parts: &[Particle],
    stacks: &Stacks,
    range: std::ops::Range<usize>,
    pad: usize,
    policy: NonFinite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Backprojector, u64), StacksError> {
    let n = stacks.box_size;
    let mut bp = grid(n, pad)?;
    let mut skipped = 0;
    let mut fft = ImageFft::new(n);
    let mut open: HashMap<usize, File> = HashMap::new();
    let mut done = 0u64;
    for i in range {
        let fi = stacks.of_particle[i];
        let mrc = &stacks.files[fi];
        let file = match open.entry(fi) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(File::open(&mrc.path).map_err(|source| MrcError::Io {
                    path: mrc.path.clone(),
                    source,
                })?)
            }
        };
        let img = mrc.read_image(file, parts[i].index)?;
        if check_finite(&img, star, &parts[i], &mrc.path, policy)? {
            let f = fft.forward(&img, stacks.origins[i]);
            bp.insert(&f, &parts[i].angles.matrix());
        } else {
            skipped += 1;
        }
        done += 1;
        if done.is_multiple_of(64) {
            progress(64);
        }
    }
    progress(done % 64);
    Ok((bp, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_capped_by_particles_and_grid_memory() {
        assert_eq!(grid_bytes(64, 2), 128 * 128 * 65 * 12);
        assert_eq!(insertion_threads(8, 1000, 64, 2), 8);
        assert_eq!(insertion_threads(8, 3, 64, 2), 3);
        assert_eq!(insertion_threads(8, 0, 64, 2), 1);
        // box 432, pad 2: 3.9 GB per grid, two fit in 8 GiB
        assert_eq!(insertion_threads(8, 1000, 432, 2), 2);
        assert_eq!(insertion_threads(8, 1000, 1024, 2), 1);
    }
}
