//! `bench gpu --from-files`: the stacks of a directory through each GPU
//! end to end (parallel readers, pinned ring, copy, FFT, insertion), next
//! to the two bounds it cannot beat: what the readers alone reach and what
//! the measured host link carries.

use std::convert::Infallible;

use super::bench::{pinned_bandwidth, spread};
use super::pipeline::{STREAMS, chunk_images};
use super::probe::driver_present;
use super::reconstruct::{BATCH, GpuReconError, GpuRunSplit};
use super::{Gpu, GpuError};
use crate::particles::feed::FeedError;
use crate::particles::stacks::NonFinite;
use crate::recon::from_dir::DirStacks;
use crate::results::GpuTimeSplit;
use crate::results::gpu::{BenchStatus, FromFiles, FromFilesRun, GpuBenchInput, GpuBenchReport};

/// What `bench gpu --from-files` is asked to do.
pub struct BenchParams {
    pub pads: Vec<u32>,
    pub readers: usize,
    /// O_DIRECT where the file system allows it.
    pub direct: bool,
    /// Timed passes after one warm-up.
    pub repeats: u32,
}

/// Why `bench gpu --from-files` stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The readers alone could not read the stacks.
    #[error(transparent)]
    Read(#[from] FeedError<Infallible>),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// The readers alone, with the chunk and ring the GPU path uses, then every
/// GPU end to end ([`run`]); without a GPU the report holds the readers'
/// figures and says why the rest was skipped.
pub fn bench(d: &DirStacks, p: &BenchParams) -> Result<GpuBenchReport, BenchError> {
    let n = d.stacks.box_size;
    let chunk = chunk_images(n).min(BATCH).min(d.particles.len().max(1));
    let ring = p.readers + STREAMS;
    let mut passes = Vec::with_capacity(p.repeats as usize);
    for _ in 0..=p.repeats {
        passes.push(d.read_pass(p.readers, chunk, ring, p.direct)?);
    }
    let warm = passes.remove(0);
    let seconds: Vec<f64> = passes.iter().map(|s| s.wall_seconds).collect();
    let (median, min, max) = spread(&seconds, d.particles.len() as f64);
    let gpu = run(
        d,
        &FromFilesParams {
            pads: p.pads.clone(),
            readers: p.readers,
            direct: p.direct,
            repeats: p.repeats,
            read_rate: median,
        },
    )?;
    let (status, reason, runs) = match gpu {
        Ok(runs) => (BenchStatus::Measured, None, runs),
        Err(why) => (
            BenchStatus::Skipped,
            Some(format!("{why}; only the readers were timed")),
            Vec::new(),
        ),
    };
    Ok(GpuBenchReport {
        status,
        reason,
        input: GpuBenchInput {
            boxes: vec![n as u32],
            pads: p.pads.clone(),
            particles: d.particles.len() as u64,
        },
        devices: Vec::new(),
        not_measured: Vec::new(),
        job_memory: None,
        from_files: Some(FromFiles {
            dir: d.dir.display().to_string(),
            stacks: d.stacks.files.len() as u64,
            particles: d.particles.len() as u64,
            box_size: n as u32,
            input: if d.all_float16() {
                "float16"
            } else {
                "float32"
            }
            .into(),
            readers: warm.readers as u32,
            reading: if warm.direct {
                "O_DIRECT"
            } else {
                "page cache"
            }
            .into(),
            direct_fallback: warm.fallback.clone(),
            image_bytes: d.image_bytes(),
            repeats: p.repeats,
            read_median_particles_per_second: median,
            read_min_particles_per_second: min,
            read_max_particles_per_second: max,
            runs,
        }),
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::mrc::{Mode, MrcHeader, encode_pixels};

    #[test]
    fn the_readers_are_timed_with_or_without_a_gpu() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (name, count) in [("a.mrcs", 30), ("b.mrcs", 12)] {
            let h = MrcHeader::image_stack(32, 32, count, Mode::Float16, 1.0);
            let mut bytes = h.to_bytes().to_vec();
            encode_pixels(
                &vec![0.5; 32 * 32 * count as usize],
                Mode::Float16,
                &mut bytes,
            );
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            files.push(p);
        }
        let d = DirStacks::open(dir.path(), &files, 7).unwrap();
        let p = BenchParams {
            pads: vec![2],
            readers: 2,
            direct: false,
            repeats: 2,
        };
        let r = bench(&d, &p).unwrap();
        let f = r.from_files.as_ref().unwrap();
        assert_eq!((f.particles, f.stacks, f.box_size), (42, 2, 32));
        assert_eq!((f.input.as_str(), f.repeats), ("float16", 2));
        // one chunk of 42 images: the feed needs one reader of the two
        assert!((1..=2).contains(&f.readers), "{f:?}");
        assert_eq!(f.image_bytes, 32 * 32 * 2);
        assert!(f.read_min_particles_per_second <= f.read_median_particles_per_second);
        assert!(f.read_median_particles_per_second <= f.read_max_particles_per_second);
        assert!(f.read_min_particles_per_second > 0.0, "{f:?}");
        assert_eq!(r.input.boxes, vec![32]);
        match r.status {
            BenchStatus::Skipped => {
                assert!(f.runs.is_empty());
                let why = r.reason.as_deref().unwrap();
                assert!(why.ends_with("; only the readers were timed"), "{why}");
            }
            _ => assert_eq!(f.runs.len(), 1, "{r:?}"),
        }
    }
}
