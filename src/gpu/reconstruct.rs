//! `cryocap reconstruct --gpu`: particles read and transformed on the CPU
//! (as in the reference), inserted on the GPU in batches with the kernel
//! `bench gpu` checks, the grid copied back and finished on the CPU.

use std::fs::File;

use cudarc::driver::CudaContext;

use super::bench::CHECK_LIMIT;
use super::insert::{GpuInsertion, check_against_cpu};
use super::probe::driver_present;
use super::{GpuError, driver};
use crate::recon::fourier::ImageFft;
use crate::recon::particles::Particle;
use crate::recon::stacks::{Stacks, StacksError};
use crate::recon::{Backprojector, Rotation};
use crate::storage::mrc::MrcError;

/// Images per upload and launch.
pub const BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum GpuReconError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    Stacks(#[from] StacksError),
    #[error(
        "the GPU insertion kernel disagrees with the CPU reference (relative error {0:.2e}, limit {limit:.0e})",
        limit = CHECK_LIMIT
    )]
    CheckFailed(f64),
}

/// Inserts every particle on GPU 0 and returns the accumulated grid.
pub fn insert_on_gpu(
    parts: &[Particle],
    stacks: &Stacks,
    pad: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Backprojector, GpuReconError> {
    if !driver_present() {
        return Err(GpuError::NoDriver.into());
    }
    let ctx = CudaContext::new(0).map_err(driver("creating a context"))?;
    let ins = GpuInsertion::new(&ctx)?;
    // the kernel must agree with the CPU reference before it touches real data
    let err = check_against_cpu(&ins, 64, pad, 64, 1)?;
    if err.is_nan() || err >= CHECK_LIMIT {
        return Err(GpuReconError::CheckFailed(err));
    }
    let n = stacks.box_size;
    let mut grid = ins.grid(n, pad)?;
    let mut fft = ImageFft::new(n);
    let mut files: Vec<Option<File>> = (0..stacks.files.len()).map(|_| None).collect();
    for (start, chunk) in parts.chunks(BATCH).enumerate() {
        let mut images = Vec::with_capacity(chunk.len());
        let mut rots: Vec<Rotation> = Vec::with_capacity(chunk.len());
        for (j, p) in chunk.iter().enumerate() {
            let i = start * BATCH + j;
            let fi = stacks.of_particle[i];
            let mrc = &stacks.files[fi];
            let file = match &mut files[fi] {
                Some(f) => f,
                slot => slot.insert(File::open(&mrc.path).map_err(|source| {
                    StacksError::Mrc(MrcError::Io {
                        path: mrc.path.clone(),
                        source,
                    })
                })?),
            };
            let img = mrc.read_image(file, p.index).map_err(StacksError::Mrc)?;
            images.push(fft.forward(&img, stacks.origins[i]));
            rots.push(p.angles.matrix());
        }
        let batch = ins.upload(&images, &rots)?;
        ins.insert(&batch, &mut grid, pad)?;
        ins.stream
            .synchronize()
            .map_err(driver("inserting particles"))?;
        progress(chunk.len() as u64);
    }
    Ok(ins.download(&grid, n, pad, parts.len() as u64)?)
}
