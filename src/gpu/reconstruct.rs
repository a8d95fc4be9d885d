//! `cryocap reconstruct --backend gpu`: particles read from their stacks by
//! parallel readers (`particles::feed`) straight into a reused ring of pinned
//! host buffers, float16 stacks kept as raw bits all the way to the GPU,
//! and sent through the GPU pipeline (copy, float16 to float32 on the GPU,
//! cuFFT, insertion with the particles' shifts); reading, copying and
//! insertion overlap. The grid is copied back and finished on the CPU.

use std::path::Path;
use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaSlice};

use super::bench::CHECK_LIMIT;
use super::insert::{Kernel, Layout, kernel_for};
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
        let precision = stack_precision(stacks);
        let layout = Layout {
            n,
            pad,
            centre: true,
        };
        let kernel = checked_kernel(ctx, layout, precision)?;
        let chunk = chunk_images(n).min(BATCH).min(parts.len().max(1));
        let mut pipe = Pipeline::new(ctx, layout, precision, chunk)?
            .with_kernel(kernel)
            .timed();
        let mut grid = pipe.grid()?;
        let readers = readers.max(1);
        let ring = pinned_ring(ctx, readers, n, chunk, precision)?;
        let ring_size = ring.len();
        let order: Vec<usize> = (0..parts.len()).collect();
        let opts = FeedOptions {
            readers,
            chunk,
            direct,
            policy,
        };
        let start = std::time::Instant::now();
        let mut inserter = Inserter::new(parts, stacks, (&mut pipe, &mut grid), chunk, progress);
        let stats = feed::run(star, parts, stacks, &order, ring, &opts, |f| {
            inserter.insert(f)
        })?;
        let skipped = inserter.skipped;
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

/// The feed's ring for `readers` readers: [`ring_len`] empty pinned
/// buffers of `chunk` images of box `n`.
fn pinned_ring(
    ctx: &Arc<CudaContext>,
    readers: usize,
    n: usize,
    chunk: usize,
    precision: Precision,
) -> Result<Vec<HostChunk>, GpuError> {
    (0..ring_len(readers, chunk, n, precision))
        .map(|_| HostChunk::with_capacity(ctx, n, chunk, precision))
        .collect::<Result<Vec<_>, _>>()
}

/// The precision particles travel in: float16 stacks as float16 bits
/// (their values are exact in it), any other as float32.
fn stack_precision(stacks: &Stacks) -> Precision {
    if stacks.files.iter().all(|f| f.header.mode == Mode::Float16) {
        Precision::F16
    } else {
        Precision::F32
    }
}

/// The insertion kernel for `layout`, once the pipeline with it agrees
/// with the CPU reference (before it touches real data).
fn checked_kernel(
    ctx: &Arc<CudaContext>,
    layout: Layout,
    precision: Precision,
) -> Result<Kernel, GpuReconError> {
    let kernel = kernel_for(layout);
    let check = Layout { n: 64, ..layout };
    let err = pipeline::check_against_cpu(ctx, check, kernel, precision, 64, 1)?;
    if err.is_nan() || err >= CHECK_LIMIT {
        return Err(GpuReconError::CheckFailed(err));
    }
    Ok(kernel)
}

/// The feed's consumer: queues each filled buffer on the pipeline with its
/// particles' orientations and shifts (vectors reused from chunk to chunk)
/// and counts what was inserted and left out.
struct Inserter<'a> {
    parts: &'a [Particle],
    stacks: &'a Stacks,
    pipe: &'a mut Pipeline,
    grid: &'a mut CudaSlice<f32>,
    rots: Vec<Rotation>,
    shifts: Vec<[f32; 2]>,
    /// Chunks queued so far (which stream the next goes on).
    slot: usize,
    skipped: u64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl<'a> Inserter<'a> {
    /// An inserter queueing on `pipe` into `grid`, chunks of `chunk` at most.
    fn new(
        parts: &'a [Particle],
        stacks: &'a Stacks,
        (pipe, grid): (&'a mut Pipeline, &'a mut CudaSlice<f32>),
        chunk: usize,
        progress: &'a (dyn Fn(u64) + Sync),
    ) -> Self {
        Inserter {
            parts,
            stacks,
            pipe,
            grid,
            rots: Vec::with_capacity(chunk),
            shifts: Vec::with_capacity(chunk),
            slot: 0,
            skipped: 0,
            progress,
        }
    }

    /// Queues the images of `f` and gives its buffer back for reuse.
    fn insert(&mut self, f: Filled<HostChunk>) -> Result<HostChunk, GpuError> {
        let Filled {
            slot: mut host,
            particles,
            skipped: left_out,
        } = f;
        self.skipped += left_out;
        (self.progress)((particles.len() as u64) + left_out);
        if particles.is_empty() {
            return Ok(host);
        }
        self.rots.clear();
        self.shifts.clear();
        for &p in &particles {
            self.rots.push(self.parts[p].angles.matrix());
            let [x, y] = self.stacks.origins[p];
            self.shifts.push([x as f32, y as f32]);
        }
        host.set_particles(&self.rots, &self.shifts)?;
        self.pipe.enqueue(self.slot, &host, self.grid)?;
        self.slot += 1;
        Ok(host)
    }
}
