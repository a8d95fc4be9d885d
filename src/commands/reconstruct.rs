//! `cryocap reconstruct`: a STAR file and its stacks in, an MRC volume out,
//! with the Fourier insertion on the CPU reference or a GPU.

use std::io::Write;
use std::time::Instant;

use super::output::{Out, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::NonFiniteArg;
use crate::cli::{BackendArg, ReconstructArgs};
use crate::gpu::Gpu;
use crate::gpu::reconstruct::{GpuReconError, GpuRunSplit};
use crate::particles::list::{self, Particle};
use crate::particles::stacks::{NonFinite, StackOptions, Stacks};
use crate::progress::{Progress, Unit};
use crate::recon::insert::{insert_stacks, insertion_threads, memory_needed};
use crate::recon::{Backprojector, reconstruct_to_file};
use crate::results::{Kind, ReconstructReport};

/// Most insertion threads used by default (each holds a padded grid).
const DEFAULT_MAX_THREADS: usize = 8;

pub(super) fn run(a: &ReconstructArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let start = Instant::now();
    let gpu = a.gpu || (a.backend == BackendArg::Gpu && !a.cpu);
    let pad = a.pad.factor() as usize;
    let threads = a.threads.unwrap_or_else(default_threads);
    check_inputs(a, gpu)?;
    // The GPU is opened before any work, so that a node without one says so at once.
    let device = match gpu {
        true => Some(Gpu::open(0).map_err(GpuReconError::Gpu)?),
        false => None,
    };
    let progress = Progress::new(a.output_args.quiet);
    let parts = list::read(&a.star)?;
    let opts = StackOptions {
        data_dir: a.data_dir.clone(),
        angpix: a.angpix,
    };
    let stacks = Stacks::open(&a.star, &parts, &opts)?;
    check_files(a, &stacks)?;
    let readers = threads;
    let threads = insertion_threads(threads, parts.len(), stacks.box_size, pad);
    check_memory(stacks.box_size, pad, if gpu { 0 } else { threads })?;
    let bar = progress.bar(parts.len() as u64, Unit::Particles, "inserting");
    let t0 = Instant::now();
    let backend = Backend {
        device: device.as_ref(),
        threads,
        readers,
    };
    let (grid, skipped, split) = insert(a, &backend, &parts, &stacks, pad, &|k| bar.inc(k))?;
    if skipped == parts.len() as u64 {
        return Err(CommandError::Usage(format!(
            "every image holds non-finite pixels; nothing was reconstructed from {}",
            a.star.display()
        )));
    }
    let seconds_insert = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let written = reconstruct_to_file(grid, stacks.pixel_size_a, &a.output).map_err(|source| {
        CommandError::Volume {
            path: a.output.clone(),
            source,
        }
    })?;
    let mut notes = stacks.notes.clone();
    notes.extend(written.note);
    let report = ReconstructReport {
        star: a.star.display().to_string(),
        output: a.output.display().to_string(),
        backend: if gpu { "gpu" } else { "cpu" }.into(),
        particles: parts.len() as u64,
        stacks: stacks.files.len() as u64,
        box_size: stacks.box_size as u32,
        pad: pad as u32,
        pixel_size_a: stacks.pixel_size_a,
        threads: match &split {
            Some(s) => s.feed.readers as u32,
            None => threads.min(parts.len()) as u32,
        },
        seconds_insert,
        seconds_finish: written.seconds_finish,
        seconds_total: start.elapsed().as_secs_f64(),
        particles_per_second: parts.len() as f64 / seconds_insert.max(1e-9),
        output_bytes: written.output_bytes,
        skipped_non_finite: skipped,
        notes,
        gpu_split: split.as_ref().map(crate::gpu::from_files::time_split),
    };
    finish(Kind::Reconstruct(report), started, &a.output_args, out)?;
    Ok(Outcome::Ok)
}

/// Insertion threads without --threads: the cores, at most
/// [`DEFAULT_MAX_THREADS`].
fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(DEFAULT_MAX_THREADS)
}

/// Nothing is written over the STAR file or a stack it names.
fn check_files(a: &ReconstructArgs, stacks: &Stacks) -> Result<(), CommandError> {
    let mut inputs = vec![a.star.clone()];
    inputs.extend(stacks.files.iter().map(|f| f.path.clone()));
    let mut outs = vec![Out::file("-o", &a.output)];
    outs.extend(result_files(&a.output_args.files));
    check_outputs(&outs, &inputs)?;
    Ok(())
}

/// What the flags name exists and goes together, before any work.
fn check_inputs(a: &ReconstructArgs, gpu: bool) -> Result<(), CommandError> {
    if a.buffered && !gpu {
        return Err(CommandError::Usage(
            "--buffered chooses how the GPU backend reads the stacks; the CPU backend reads them through the page cache already: drop it, or add --backend gpu".into(),
        ));
    }
    crate::files::check_input(&a.star)
        .map_err(|e| CommandError::Usage(format!("--star {}: {}", a.star.display(), e.reason())))?;
    if let Some(d) = &a.data_dir
        && !d.is_dir()
    {
        return Err(CommandError::Usage(format!(
            "--data-dir {}: not a directory",
            d.display()
        )));
    }
    Ok(())
}

/// The memory is counted before any is taken: a box too large for the
/// node is a message, not an aborted allocation. `cpu_threads` is 0 on
/// the GPU backend.
fn check_memory(box_size: usize, pad: usize, cpu_threads: usize) -> Result<(), CommandError> {
    let needed = memory_needed(box_size, pad, cpu_threads);
    let available = crate::host::available_memory();
    if available > 0 && needed > available {
        let mut help = Vec::new();
        if pad > 1 {
            help.push("--pad 1");
        }
        if cpu_threads > 1 {
            help.push("fewer --threads");
        }
        help.push("a smaller box");
        return Err(CommandError::Usage(format!(
            "reconstruct at box {box_size} with padding {pad} needs about {} of memory ({cpu_threads} insertion thread{}), but this process has {} available; use {}",
            crate::units::bytes_binary(needed),
            if cpu_threads == 1 { "" } else { "s" },
            crate::units::bytes_binary(available),
            help.join(", or ")
        )));
    }
    Ok(())
}

/// Where the insertion runs: on the GPU opened (fed by `readers` reader
/// threads), else on `threads` CPU threads.
struct Backend<'a> {
    device: Option<&'a Gpu>,
    threads: usize,
    readers: usize,
}

/// Every particle inserted on the backend: the grid, the images left out
/// as non-finite, and on the GPU where the time went.
fn insert(
    a: &ReconstructArgs,
    backend: &Backend,
    parts: &[Particle],
    stacks: &Stacks,
    pad: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Backprojector, u64, Option<GpuRunSplit>), CommandError> {
    let policy = match a.non_finite {
        NonFiniteArg::Refuse => NonFinite::Refuse,
        NonFiniteArg::Skip => NonFinite::Skip,
    };
    Ok(match backend.device {
        Some(g) => {
            let (grid, skipped, split) = g.insert_particles(
                &a.star,
                parts,
                stacks,
                pad,
                policy,
                backend.readers,
                !a.buffered,
                progress,
            )?;
            (grid, skipped, Some(split))
        }
        None => {
            let (grid, skipped) = insert_stacks(
                &a.star,
                parts,
                stacks,
                pad,
                backend.threads,
                policy,
                progress,
            )?;
            (grid, skipped, None)
        }
    })
}
