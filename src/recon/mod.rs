//! CPU reference reconstruction: the mathematics the GPU kernels are checked
//! against, and what `cryocap reconstruct` runs where no GPU is.
//!
//! Conventions used throughout:
//! - Images are `n`×`n`, volumes `n`³, row-major with x fastest
//!   (`volume[(z·n + y)·n + x]`); the origin of both is at pixel `n/2`.
//! - A particle's orientation is RELION's ZYZ Euler matrix `A` ([`euler`]):
//!   image coordinates are `A·r` for a volume coordinate `r`, the projection is
//!   the line integral along the rotated z, and a Fourier pixel `k` of the
//!   image samples the volume's transform at `Aᵀ·k` (central-slice theorem).
//! - Only even box sizes are handled, as in RELION.

pub(crate) mod backproject;
pub mod euler;
pub mod fourier;
pub mod from_dir;
pub mod fsc;
pub mod insert;
pub(crate) mod phantom;
#[cfg(test)]
mod project;
pub(crate) mod reconstruct;

pub use backproject::Backprojector;
pub use euler::Rotation;
pub use fourier::FourierImage;
pub use phantom::Phantom;
pub use reconstruct::{reconstruct, reconstruct_to_file};

/// A cubic real volume of `n`³ voxels (x fastest), origin at voxel `n/2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub n: usize,
    pub data: Vec<f32>,
}

impl Volume {
    pub fn zeros(n: usize) -> Volume {
        Volume {
            n,
            data: vec![0.0; n * n * n],
        }
    }

    pub fn at(&self, x: usize, y: usize, z: usize) -> f32 {
        self.data[(z * self.n + y) * self.n + x]
    }
}
