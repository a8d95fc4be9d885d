//! `cryocap reconstruct --backend gpu`: particles read from their stacks into
//! pinned host memory, in chunks, and sent through the GPU pipeline (copy,
//! float16 to float32 where every stack is mode 12, cuFFT, insertion with the
//! particles' shifts); the grid is copied back and finished on the CPU.
//! Reading the next chunk overlaps the GPU work on the ones before it.

use std::collections::VecDeque;
use std::fs::File;
use std::path::Path;

use super::bench::CHECK_LIMIT;
use super::insert::{Layout, kernel_for};
use super::pipeline::{self, HostChunk, Pipeline, Precision, STREAMS, chunk_images};
use super::{Gpu, GpuError};
use crate::recon::particles::Particle;
use crate::recon::stacks::{NonFinite, Stacks, StacksError, check_finite};
use crate::recon::{Backprojector, Rotation};
use crate::storage::mrc::{Mode, MrcError};

/// Most particles per chunk (chunks are about `pipeline::CHUNK_BYTES`).
pub const BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum GpuReconError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    Stacks(#[from] StacksError),
    #[error(
        "the GPU pipeline disagrees with the CPU reference (relative error {0:.2e}, limit {limit:.0e})",
        limit = CHECK_LIMIT
    )]
    CheckFailed(f64),
}

impl Gpu {
    /// Inserts every particle on this GPU and returns the accumulated grid
    /// and the images left out as non-finite (`policy`); the pipeline is
    /// first checked against the CPU reference.
    pub fn insert_particles(
        &self,
        star: &Path,
        parts: &[Particle],
        stacks: &Stacks,
        pad: usize,
        policy: NonFinite,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(Backprojector, u64), GpuReconError> {
        let ctx = self.context();
        let n = stacks.box_size;
        // float16 stacks travel as float16 (their values are exact in it)
        let precision = if stacks.files.iter().all(|f| f.header.mode == Mode::Float16) {
            Precision::F16
        } else {
            Precision::F32
        };
        let layout = Layout {
            n,
            pad,
            centre: true,
        };
        // the pipeline, with the kernel it will use, must agree with the CPU
        // reference before it touches real data
        let kernel = kernel_for(layout);
        let check = Layout { n: 64, ..layout };
        let err = pipeline::check_against_cpu(ctx, check, kernel, precision, 64, 1)?;
        if err.is_nan() || err >= CHECK_LIMIT {
            return Err(GpuReconError::CheckFailed(err));
        }
        let chunk = chunk_images(n).min(BATCH).min(parts.len().max(1));
        let mut pipe = Pipeline::new(ctx, layout, precision, chunk)?.with_kernel(kernel);
        let mut grid = pipe.grid()?;
        let mut files: Vec<Option<File>> = (0..stacks.files.len()).map(|_| None).collect();
        // chunks whose copies may still be queued: dropping one waits for its copy
        let mut in_flight: VecDeque<HostChunk> = VecDeque::with_capacity(STREAMS + 1);
        let mut skipped = 0u64;
        for (slot, group) in parts.chunks(chunk).enumerate() {
            let mut images = Vec::with_capacity(group.len() * n * n);
            let mut rots: Vec<Rotation> = Vec::with_capacity(group.len());
            let mut shifts = Vec::with_capacity(group.len());
            for (j, p) in group.iter().enumerate() {
                let i = slot * chunk + j;
                let fi = stacks.of_particle[i];
                let mrc = &stacks.files[fi];
                let file = match &mut files[fi] {
                    Some(f) => f,
                    place => place.insert(File::open(&mrc.path).map_err(|source| {
                        StacksError::Mrc(MrcError::Io {
                            path: mrc.path.clone(),
                            source,
                        })
                    })?),
                };
                let img = mrc.read_image(file, p.index).map_err(StacksError::Mrc)?;
                if !check_finite(&img, star, p, &mrc.path, policy)? {
                    skipped += 1;
                    continue;
                }
                images.extend(img);
                rots.push(p.angles.matrix());
                let [x, y] = stacks.origins[i];
                shifts.push([x as f32, y as f32]);
            }
            if rots.is_empty() {
                progress(group.len() as u64);
                continue;
            }
            let host = HostChunk::new(ctx, &images, &rots, &shifts, precision)?;
            pipe.enqueue(slot, &host, &mut grid)?;
            if in_flight.len() == STREAMS {
                in_flight.pop_front();
            }
            in_flight.push_back(host);
            progress(group.len() as u64);
        }
        let grid = pipe.download(&grid, parts.len() as u64 - skipped)?;
        Ok((grid, skipped))
    }
}
