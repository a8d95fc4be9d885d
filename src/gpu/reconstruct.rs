//! `cryocap reconstruct --backend gpu`: particles read from their stacks by
//! parallel readers (`particles::feed`) straight into a reused ring of pinned
//! host buffers, float16 stacks kept as raw bits all the way to the GPU,
//! and sent through the GPU pipeline (copy, float16 to float32 on the GPU,
//! cuFFT, insertion with the particles' shifts); reading, copying and
//! insertion overlap. The grid is copied back and finished on the CPU.

use std::path::Path;

use super::bench::CHECK_LIMIT;
use super::insert::{Layout, kernel_for};
use super::pipeline::{self, HostChunk, Pipeline, Precision, STREAMS, StageSeconds, chunk_images};
use super::{Gpu, GpuError};
use crate::particles::feed::{self, FeedError, FeedOptions, FeedStats, Filled};
use crate::particles::list::Particle;
use crate::particles::stacks::{NonFinite, Stacks, StacksError};
use crate::recon::{Backprojector, Rotation};
use crate::storage::mrc::Mode;

/// Most particles per chunk (chunks are about `pipeline::CHUNK_BYTES`).
pub const BATCH: usize = 1024;

/// Pinned host memory the ring of buffers takes at most.
const RING_BYTES: usize = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum GpuReconError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    Stacks(#[from] StacksError),
    #[error("{0}")]
    Ring(String),
    #[error(
        "the GPU pipeline disagrees with the CPU reference (relative error {0:.2e}, limit {limit:.0e})",
        limit = CHECK_LIMIT
    )]
    CheckFailed(f64),
}

impl From<FeedError<GpuError>> for GpuReconError {
    fn from(e: FeedError<GpuError>) -> GpuReconError {
        match e {
            FeedError::Stacks(e) => GpuReconError::Stacks(e),
            FeedError::Consumer(e) => GpuReconError::Gpu(e),
            e @ (FeedError::Slot(_) | FeedError::Ring) => GpuReconError::Ring(e.to_string()),
        }
    }
}

/// Where the time of a GPU insertion went.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuRunSplit {
    pub feed: FeedStats,
    /// GPU seconds per stage, summed over chunks.
    pub stages: StageSeconds,
    pub precision: &'static str,
    /// Buffers in the pinned ring and particles per buffer.
    pub ring: usize,
    pub chunk: usize,
    /// Wall seconds from the first read to the grid copied back (the
    /// pipeline's setup and its check against the CPU left out).
    pub seconds: f64,
}

/// Ring buffers for chunks of `chunk` images of box `n`: one per reader and
/// stream, within [`RING_BYTES`] (at least one more than the streams).
fn ring_len(readers: usize, chunk: usize, n: usize, precision: Precision) -> usize {
    let per = (chunk * n * n * precision.bytes()).max(1);
    (readers + STREAMS).min(RING_BYTES / per).max(STREAMS + 1)
}

impl Gpu {
    /// Inserts every particle on this GPU, read by `readers` threads, and
    /// returns the accumulated grid, the images left out as non-finite
    /// (`policy`) and where the time went; the pipeline is first checked
    /// against the CPU reference.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_particles(
        &self,
        star: &Path,
        parts: &[Particle],
        stacks: &Stacks,
        pad: usize,
        policy: NonFinite,
        readers: usize,
        direct: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(Backprojector, u64, GpuRunSplit), GpuReconError> {
        let ctx = self.context();
        let n = stacks.box_size;
        // float16 stacks travel as float16 bits (their values are exact in it)
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
        let mut pipe = Pipeline::new(ctx, layout, precision, chunk)?
            .with_kernel(kernel)
            .timed();
        let mut grid = pipe.grid()?;
        let readers = readers.max(1);
        let ring = (0..ring_len(readers, chunk, n, precision))
            .map(|_| HostChunk::with_capacity(ctx, n, chunk, precision))
            .collect::<Result<Vec<_>, _>>()?;
        let ring_size = ring.len();
        let order: Vec<usize> = (0..parts.len()).collect();
        let opts = FeedOptions {
            readers,
            chunk,
            direct,
            policy,
        };
        let mut skipped = 0u64;
        let mut slot = 0usize;
        let start = std::time::Instant::now();
        let mut rots: Vec<Rotation> = Vec::with_capacity(chunk);
        let mut shifts: Vec<[f32; 2]> = Vec::with_capacity(chunk);
        let stats = feed::run(
            star,
            parts,
            stacks,
            &order,
            ring,
            &opts,
            |f: Filled<HostChunk>| {
                let Filled {
                    slot: mut host,
                    particles,
                    skipped: left_out,
                } = f;
                skipped += left_out;
                progress((particles.len() as u64) + left_out);
                if particles.is_empty() {
                    return Ok(host);
                }
                rots.clear();
                shifts.clear();
                for &p in &particles {
                    rots.push(parts[p].angles.matrix());
                    let [x, y] = stacks.origins[p];
                    shifts.push([x as f32, y as f32]);
                }
                host.set_particles(&rots, &shifts)?;
                pipe.enqueue(slot, &host, &mut grid)?;
                slot += 1;
                Ok(host)
            },
        )?;
        let grid = pipe.download(&grid, parts.len() as u64 - skipped)?;
        let seconds = start.elapsed().as_secs_f64();
        let stages = pipe.stage_seconds()?.unwrap_or_default();
        Ok((
            grid,
            skipped,
            GpuRunSplit {
                feed: stats,
                stages,
                precision: precision.name(),
                ring: ring_size,
                chunk,
                seconds,
            },
        ))
    }
}
