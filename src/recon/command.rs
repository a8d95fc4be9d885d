//! `cryocap reconstruct`: STAR file and stacks in, MRC volume out, with a
//! progress bar on stderr while particles are inserted.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::particles::{self, ParticlesError};
use super::stacks::{Stacks, StacksError, insert_stacks};
use crate::config::ReconstructConfig;
use crate::results::{ReconstructReport, SCHEMA_VERSION};
use crate::storage::mrc::write_volume;

#[derive(Debug, thiserror::Error)]
pub enum ReconstructError {
    #[error(transparent)]
    Particles(#[from] ParticlesError),
    #[error(transparent)]
    Stacks(#[from] StacksError),
    #[error("--gpu: insertion on the GPU could not run: {0} (run with --cpu instead)")]
    Gpu(#[from] crate::gpu::reconstruct::GpuReconError),
    #[error("-o {path}: could not write the volume: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} particles ({per_sec}, {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix("inserting");
    bar
}

pub fn run(cfg: &ReconstructConfig) -> Result<ReconstructReport, ReconstructError> {
    let start = Instant::now();
    if cfg.gpu && !crate::gpu::probe::driver_present() {
        return Err(
            crate::gpu::reconstruct::GpuReconError::Gpu(crate::gpu::GpuError::NoDriver).into(),
        );
    }
    let parts = particles::read(&cfg.star)?;
    let stacks = Stacks::open(&cfg.star, &parts)?;
    let bar = progress_bar(parts.len() as u64, cfg.quiet);
    let t0 = Instant::now();
    let grid = if cfg.gpu {
        crate::gpu::reconstruct::insert_on_gpu(&parts, &stacks, cfg.pad, &|k| bar.inc(k))?
    } else {
        insert_stacks(&parts, &stacks, cfg.pad, cfg.threads, &|k| bar.inc(k))?
    };
    let seconds_insert = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let t1 = Instant::now();
    let volume = super::reconstruct(grid);
    let seconds_finish = t1.elapsed().as_secs_f64();
    let n = stacks.box_size as u32;
    let pixel = stacks.pixel_size_a.unwrap_or(1.0) as f32;
    write_volume(&cfg.output, &volume.data, n, pixel).map_err(|source| {
        ReconstructError::Write {
            path: cfg.output.clone(),
            source,
        }
    })?;
    let output_bytes = std::fs::metadata(&cfg.output).map_or(0, |m| m.len());
    Ok(ReconstructReport {
        schema_version: SCHEMA_VERSION,
        star: cfg.star.display().to_string(),
        output: cfg.output.display().to_string(),
        backend: if cfg.gpu { "gpu" } else { "cpu" }.into(),
        particles: parts.len() as u64,
        stacks: stacks.files.len() as u64,
        box_size: n,
        pad: cfg.pad as u32,
        pixel_size_a: stacks.pixel_size_a,
        threads: if cfg.gpu {
            1
        } else {
            cfg.threads.min(parts.len()) as u32
        },
        seconds_insert,
        seconds_finish,
        seconds_total: start.elapsed().as_secs_f64(),
        particles_per_second: parts.len() as f64 / seconds_insert.max(1e-9),
        output_bytes,
    })
}
