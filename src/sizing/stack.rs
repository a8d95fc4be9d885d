//! Particle stack size: the guide formula and the exact size of MRC files.

use serde::{Deserialize, Serialize};

use crate::results::plan::Dtype;

/// MRC2014 main header length in bytes.
pub const MRC_HEADER_BYTES: u64 = 1024;
/// Particles per stack file where none is given: what extraction writes.
pub const DEFAULT_PARTICLES_PER_FILE: u64 = 1000;
/// The extended header length the guide formula assumes for every particle.
pub const GUIDE_NSYMBT: u64 = 128;

/// How the stack size is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum SizeModel {
    /// The guide's `(4·box² + nsymbt + header)·N`: a header per particle.
    Guide,
    /// Real files: one header (1024 + NSYMBT bytes) per file of up to
    /// `particles_per_file` particles.
    Exact {
        particles_per_file: u64,
        nsymbt: u64,
    },
}

/// The size of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackSize {
    pub bytes: u64,
    /// Bytes of one particle's pixels (what a read of one particle moves).
    pub pixel_bytes_per_particle: u64,
    /// Number of files, in the exact model.
    pub files: Option<u64>,
}

/// Bytes of one particle image: box² pixels.
pub fn pixel_bytes(box_size: u32, dtype: Dtype) -> u64 {
    let b = u64::from(box_size);
    b * b * dtype.bytes_per_pixel()
}

/// The size of `particles` particles at `box_size`, counted by `model`.
pub fn stack_size(particles: u64, box_size: u32, dtype: Dtype, model: SizeModel) -> StackSize {
    let pixels = pixel_bytes(box_size, dtype);
    match model {
        SizeModel::Guide => StackSize {
            bytes: (pixels + GUIDE_NSYMBT + MRC_HEADER_BYTES) * particles,
            pixel_bytes_per_particle: pixels,
            files: None,
        },
        SizeModel::Exact {
            particles_per_file,
            nsymbt,
        } => {
            let per_file = particles_per_file.max(1);
            let files = particles.div_ceil(per_file);
            StackSize {
                bytes: files * (MRC_HEADER_BYTES + nsymbt) + particles * pixels,
                pixel_bytes_per_particle: pixels,
                files: Some(files),
            }
        }
    }
}

impl StackSize {
    /// Bytes per particle with headers shared out.
    pub fn bytes_per_particle(&self, particles: u64) -> f64 {
        if particles == 0 {
            0.0
        } else {
            self.bytes as f64 / particles as f64
        }
    }
}

/// The largest even box whose stack of `particles` fits in `capacity` bytes
/// (what Fourier cropping would need), or None when not even box 2 fits.
pub fn max_box_for_capacity(
    particles: u64,
    dtype: Dtype,
    model: SizeModel,
    capacity: u64,
    limit: u32,
) -> Option<u32> {
    let fits = |b: u32| stack_size(particles, b, dtype, model).bytes <= capacity;
    largest_even(limit, fits)
}

/// The most particles at `box_size` whose stack fits in `capacity` bytes.
pub fn max_particles_for_capacity(
    box_size: u32,
    dtype: Dtype,
    model: SizeModel,
    capacity: u64,
    limit: u64,
) -> u64 {
    // stack_size is monotone in particles: binary search on [0, limit].
    let (mut lo, mut hi) = (0u64, limit);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if stack_size(mid, box_size, dtype, model).bytes <= capacity {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The largest even value in `[2, limit]` for which the monotone predicate
/// `fits` holds (fits(b) implies fits(b') for b' < b).
pub fn largest_even(limit: u32, fits: impl Fn(u32) -> bool) -> Option<u32> {
    let (mut lo, mut hi) = (0u32, limit / 2); // in units of 2; 0 means "none"
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid * 2) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (lo > 0).then_some(lo * 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_examples() {
        let s = stack_size(1_000_000, 256, Dtype::F32, SizeModel::Guide);
        assert_eq!(s.bytes, 263_296_000_000);
        let s = stack_size(2_000_000, 432, Dtype::F32, SizeModel::Guide);
        assert_eq!(s.bytes, 1_495_296_000_000);
        assert_eq!(s.pixel_bytes_per_particle, 746_496);
    }

    #[test]
    fn exact_counts_one_header_per_file() {
        let model = SizeModel::Exact {
            particles_per_file: 1000,
            nsymbt: 0,
        };
        let s = stack_size(2500, 64, Dtype::F32, model);
        assert_eq!(s.files, Some(3));
        assert_eq!(s.bytes, 3 * 1024 + 2500 * 64 * 64 * 4);
    }

    #[test]
    fn f16_halves_pixels() {
        assert_eq!(
            pixel_bytes(432, Dtype::F16) * 2,
            pixel_bytes(432, Dtype::F32)
        );
    }

    #[test]
    fn inverse_searches() {
        let cap = 1_900_000_000_000;
        let b = max_box_for_capacity(2_000_000, Dtype::F32, SizeModel::Guide, cap, 8192).unwrap();
        assert!(stack_size(2_000_000, b, Dtype::F32, SizeModel::Guide).bytes <= cap);
        assert!(stack_size(2_000_000, b + 2, Dtype::F32, SizeModel::Guide).bytes > cap);
        let n = max_particles_for_capacity(432, Dtype::F32, SizeModel::Guide, cap, 1 << 40);
        assert!(stack_size(n, 432, Dtype::F32, SizeModel::Guide).bytes <= cap);
        assert!(stack_size(n + 1, 432, Dtype::F32, SizeModel::Guide).bytes > cap);
        assert_eq!(largest_even(8192, |_| false), None);
        assert_eq!(largest_even(8192, |_| true), Some(8192));
    }
}
