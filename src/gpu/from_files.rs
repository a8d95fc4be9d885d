//! `bench gpu --from-files`: the stacks of a directory through each GPU
//! end to end (parallel readers, pinned ring, copy, FFT, insertion), next
//! to the two bounds it cannot beat: what the readers alone reach and what
//! the measured host link carries.

use super::bench::{pinned_bandwidth, spread};
use super::probe::driver_present;
use super::reconstruct::{GpuReconError, GpuRunSplit};
use super::{Gpu, GpuError};
use crate::recon::from_dir::DirStacks;
use crate::recon::stacks::NonFinite;
use crate::results::GpuTimeSplit;
use crate::results::gpu::FromFilesRun;

/// What the GPU runs are asked to do.
pub struct FromFilesParams {
    pub pads: Vec<u32>,
    pub readers: usize,
    pub direct: bool,
    pub repeats: u32,
    /// The readers' median rate alone, particles/s (the other bound).
    pub read_rate: f64,
}

/// The time split of one run, as results store it.
pub fn time_split(s: &GpuRunSplit) -> GpuTimeSplit {
    GpuTimeSplit {
        precision: s.precision.to_string(),
        readers: s.feed.readers as u32,
        ring_buffers: s.ring as u32,
        chunk_particles: s.chunk as u32,
        reading: if s.feed.direct {
            "O_DIRECT"
        } else {
            "page cache"
        }
        .to_string(),
        direct_fallback: s.feed.fallback.clone(),
        bytes_read: s.feed.bytes,
        read_seconds: s.feed.read_seconds,
        place_seconds: s.feed.decode_seconds,
        wait_seconds: s.feed.wait_seconds,
        queue_seconds: s.feed.consume_seconds,
        gpu_copy_seconds: s.stages.copy,
        gpu_fft_seconds: s.stages.fft,
        gpu_insert_seconds: s.stages.insert,
    }
}

/// Runs the stacks through every GPU at each padding, `repeats` times
/// after one warm-up; `Err(reason)` when there is no GPU to run on.
pub fn run(
    d: &DirStacks,
    p: &FromFilesParams,
) -> Result<Result<Vec<FromFilesRun>, String>, GpuError> {
    if !driver_present() {
        return Ok(Err(GpuError::NoDriver.to_string()));
    }
    let gpus = match Gpu::all() {
        Err(GpuError::NoDevice) => return Ok(Err(GpuError::NoDevice.to_string())),
        other => other?,
    };
    let n = d.stacks.box_size;
    let count = d.particles.len() as f64;
    let mut runs = Vec::new();
    for (ordinal, gpu) in gpus.iter().enumerate() {
        let (h2d, _) = pinned_bandwidth(gpu.context(), gpu.info())?;
        let bytes = (n * n * if d.all_float16() { 2 } else { 4 }) as f64;
        let link = (h2d.median_bytes_per_second > 0.0).then(|| h2d.median_bytes_per_second / bytes);
        for &pad in &p.pads {
            let mut row = FromFilesRun {
                device: ordinal,
                pad,
                median_particles_per_second: 0.0,
                min_particles_per_second: 0.0,
                max_particles_per_second: 0.0,
                host_link_bound: link,
                of_bound: None,
                split: None,
                error: None,
            };
            let once = || {
                gpu.insert_particles(
                    &d.dir,
                    &d.particles,
                    &d.stacks,
                    pad as usize,
                    NonFinite::Skip,
                    p.readers,
                    p.direct,
                    &|_| {},
                )
                .map(|(_, _, split)| split)
            };
            let runs_of: Result<Vec<GpuRunSplit>, GpuReconError> = std::iter::once(())
                .chain((0..p.repeats).map(|_| ()))
                .map(|_| once())
                .collect();
            match runs_of {
                Ok(mut splits) => {
                    splits.remove(0); // the warm-up
                    let seconds: Vec<f64> = splits.iter().map(|s| s.seconds).collect();
                    let (median, min, max) = spread(&seconds, count);
                    row.median_particles_per_second = median;
                    row.min_particles_per_second = min;
                    row.max_particles_per_second = max;
                    let bound = link.map_or(p.read_rate, |l| l.min(p.read_rate));
                    row.of_bound = (bound > 0.0).then(|| median / bound);
                    splits.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
                    row.split = splits.get(splits.len() / 2).map(time_split);
                }
                Err(e) => row.error = Some(e.to_string()),
            }
            runs.push(row);
        }
    }
    Ok(Ok(runs))
}
