//! Reconstruction from particles on disk: a STAR file's particles, their
//! images read from the MRC stacks it names, inserted on all cores (one
//! backprojector per thread, summed at the end).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::storage::mrc::{MrcError, MrcFile};

use super::Backprojector;
use super::fourier::ImageFft;
use super::particles::{self, Particle, ParticlesError};

#[derive(Debug, thiserror::Error)]
pub enum StacksError {
    #[error(transparent)]
    Particles(#[from] ParticlesError),
    #[error(transparent)]
    Mrc(#[from] MrcError),
    #[error("{path}: images are {nx} x {ny} pixels; reconstruct needs square images")]
    NotSquare { path: PathBuf, nx: u32, ny: u32 },
    #[error("{path}: box {n} is odd; reconstruct needs an even box (as RELION does)")]
    OddBox { path: PathBuf, n: u32 },
    #[error(
        "{path}: box {got} differs from box {want} of {first}; all particles must share one box"
    )]
    BoxMismatch {
        path: PathBuf,
        got: u32,
        want: u32,
        first: PathBuf,
    },
    #[error("{star}:{line}: image {index} of {stack} does not exist (the stack holds {count})")]
    NoSuchImage {
        star: PathBuf,
        line: usize,
        index: u64,
        stack: PathBuf,
        count: u64,
    },
    #[error(
        "{star}:{line}: the origin is in Å but neither the STAR file (rlnImagePixelSize) nor the stack header gives a pixel size"
    )]
    NoPixelSize { star: PathBuf, line: usize },
}

/// The stacks a particle list names, opened and checked once.
#[derive(Debug)]
pub struct Stacks {
    pub files: Vec<MrcFile>,
    /// Index into `files` per particle.
    pub of_particle: Vec<usize>,
    pub box_size: usize,
    /// Pixel size in Å: from the STAR file where it gives one, else the
    /// first stack's header.
    pub pixel_size_a: Option<f64>,
    /// Per particle, the origin in pixels.
    pub origins: Vec<[f64; 2]>,
}

impl Stacks {
    /// Opens every stack named in `parts` and checks that every image exists
    /// and that all share one even, square box.
    pub fn open(star: &Path, parts: &[Particle]) -> Result<Stacks, StacksError> {
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        let mut files: Vec<MrcFile> = Vec::new();
        let mut of_particle = Vec::with_capacity(parts.len());
        let mut origins = Vec::with_capacity(parts.len());
        let mut star_pixel = None;
        for p in parts {
            let i = match by_name.get(p.stack.as_str()) {
                Some(i) => *i,
                None => {
                    let f = MrcFile::open(&particles::resolve_stack(star, &p.stack))?;
                    let h = &f.header;
                    if h.nx != h.ny {
                        return Err(StacksError::NotSquare {
                            path: f.path,
                            nx: h.nx,
                            ny: h.ny,
                        });
                    }
                    if h.nx % 2 == 1 {
                        return Err(StacksError::OddBox {
                            path: f.path,
                            n: h.nx,
                        });
                    }
                    if let Some(first) = files.first()
                        && first.header.nx != h.nx
                    {
                        return Err(StacksError::BoxMismatch {
                            path: f.path.clone(),
                            got: h.nx,
                            want: first.header.nx,
                            first: first.path.clone(),
                        });
                    }
                    files.push(f);
                    by_name.insert(&p.stack, files.len() - 1);
                    files.len() - 1
                }
            };
            let f = &files[i];
            if p.index >= u64::from(f.header.nz) {
                return Err(StacksError::NoSuchImage {
                    star: star.to_path_buf(),
                    line: p.line,
                    index: p.index + 1,
                    stack: f.path.clone(),
                    count: u64::from(f.header.nz),
                });
            }
            if let particles::Origin::Angstrom(_, Some(ps)) = p.origin {
                star_pixel.get_or_insert(ps);
            }
            let header_pixel = f.header.pixel_size_a().map(f64::from);
            origins.push(p.origin_pixels(header_pixel).ok_or_else(|| {
                StacksError::NoPixelSize {
                    star: star.to_path_buf(),
                    line: p.line,
                }
            })?);
            of_particle.push(i);
        }
        let box_size = files.first().map_or(0, |f| f.header.nx as usize);
        let pixel_size_a =
            star_pixel.or_else(|| files.first()?.header.pixel_size_a().map(f64::from));
        Ok(Stacks {
            files,
            of_particle,
            box_size,
            pixel_size_a,
            origins,
        })
    }
}

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

/// Inserts every particle on `threads` threads (one grid each, summed).
/// `progress` is called with the number of particles just inserted.
pub fn insert_stacks(
    parts: &[Particle],
    stacks: &Stacks,
    pad: usize,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Backprojector, StacksError> {
    let n = stacks.box_size;
    let threads = insertion_threads(threads, parts.len(), n, pad);
    let chunk = parts.len().div_ceil(threads);
    let partial: Vec<Result<Backprojector, StacksError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * chunk).min(parts.len())..((t + 1) * chunk).min(parts.len());
                s.spawn(move || insert_range(parts, stacks, range, pad, progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an insertion thread panicked"))
            .collect()
    });
    let mut total = Backprojector::new(n, pad);
    for bp in partial {
        total.merge(&bp?);
    }
    Ok(total)
}

fn insert_range(
    parts: &[Particle],
    stacks: &Stacks,
    range: std::ops::Range<usize>,
    pad: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Backprojector, StacksError> {
    let n = stacks.box_size;
    let mut bp = Backprojector::new(n, pad);
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
        let f = fft.forward(&img, stacks.origins[i]);
        bp.insert(&f, &parts[i].angles.matrix());
        done += 1;
        if done.is_multiple_of(64) {
            progress(64);
        }
    }
    progress(done % 64);
    Ok(bp)
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
