//! `cryocap reconstruct`: a STAR file and its stacks in, an MRC volume out,
//! with the Fourier insertion on the CPU reference or a GPU.

use std::io::Write;
use std::time::Instant;

use super::output::{Out, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::NonFiniteArg;
use crate::cli::{BackendArg, ReconstructArgs};
use crate::gpu::Gpu;
use crate::gpu::reconstruct::GpuReconError;
use crate::progress::{Progress, Unit};
use crate::recon::particles;
use crate::recon::stacks::{
    NonFinite, StackOptions, Stacks, insert_stacks, insertion_threads, memory_needed,
};
use crate::results::{Kind, ReconstructReport};
use crate::storage::mrc::write_volume;

/// Most insertion threads used by default (each holds a padded grid).
const DEFAULT_MAX_THREADS: usize = 8;

pub(super) fn run(a: &ReconstructArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let start = Instant::now();
    let gpu = a.gpu || (a.backend == BackendArg::Gpu && !a.cpu);
    let pad = a.pad.factor() as usize;
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(DEFAULT_MAX_THREADS)
    });
    let readers = threads;
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
    // The GPU is opened before any work, so that a node without one says so at once.
    let device = match gpu {
        true => Some(Gpu::open(0).map_err(GpuReconError::Gpu)?),
        false => None,
    };
    let progress = Progress::new(a.output_args.quiet);
    let parts = particles::read(&a.star)?;
    let opts = StackOptions {
        data_dir: a.data_dir.clone(),
        angpix: a.angpix,
    };
    let stacks = Stacks::open(&a.star, &parts, &opts)?;
    // Nothing is written over the STAR file or a stack it names.
    let mut inputs = vec![a.star.clone()];
    inputs.extend(stacks.files.iter().map(|f| f.path.clone()));
    let mut outs = vec![Out::file("-o", &a.output)];
    outs.extend(result_files(&a.output_args.files));
    check_outputs(&outs, &inputs)?;
    // The memory is counted before any is taken: a box too large for the
    // node is a message, not an aborted allocation.
    let threads = insertion_threads(threads, parts.len(), stacks.box_size, pad);
    let needed = memory_needed(stacks.box_size, pad, if gpu { 0 } else { threads });
    let available = crate::host::available_memory();
    if available > 0 && needed > available {
        let cpu_threads = if gpu { 0 } else { threads };
        let mut help = Vec::new();
        if pad > 1 {
            help.push("--pad 1");
        }
        if cpu_threads > 1 {
            help.push("fewer --threads");
        }
        help.push("a smaller box");
        return Err(CommandError::Usage(format!(
            "reconstruct at box {} with padding {pad} needs about {} of memory ({cpu_threads} insertion thread{}), but this process has {} available; use {}",
            stacks.box_size,
            crate::units::bytes_binary(needed),
            if cpu_threads == 1 { "" } else { "s" },
            crate::units::bytes_binary(available),
            help.join(", or ")
        )));
    }
    let policy = match a.non_finite {
        NonFiniteArg::Refuse => NonFinite::Refuse,
        NonFiniteArg::Skip => NonFinite::Skip,
    };
    let bar = progress.bar(parts.len() as u64, Unit::Particles, "inserting");
    let t0 = Instant::now();
    let (grid, skipped, split) = match &device {
        Some(g) => {
            let (grid, skipped, split) = g.insert_particles(
                &a.star,
                &parts,
                &stacks,
                pad,
                policy,
                readers,
                !a.buffered,
                &|k| bar.inc(k),
            )?;
            (grid, skipped, Some(split))
        }
        None => {
            let (grid, skipped) =
                insert_stacks(&a.star, &parts, &stacks, pad, threads, policy, &|k| {
                    bar.inc(k)
                })?;
            (grid, skipped, None)
        }
    };
    if skipped == parts.len() as u64 {
        return Err(CommandError::Usage(format!(
            "every image holds non-finite pixels; nothing was reconstructed from {}",
            a.star.display()
        )));
    }
    let seconds_insert = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let t1 = Instant::now();
    let volume = crate::recon::reconstruct(grid);
    let seconds_finish = t1.elapsed().as_secs_f64();
    let n = stacks.box_size as u32;
    let mut notes = stacks.notes.clone();
    let pixel = match stacks.pixel_size_a {
        Some(p) => p as f32,
        None => {
            notes.push("no pixel size in the STAR file or the stack headers: the volume's header says 1 Å per voxel; give the real one with --angpix".into());
            1.0
        }
    };
    write_volume(&a.output, &volume.data, n, pixel).map_err(|source| CommandError::Volume {
        path: a.output.clone(),
        source,
    })?;
    let output_bytes = std::fs::metadata(&a.output).map_or(0, |m| m.len());
    let report = ReconstructReport {
        star: a.star.display().to_string(),
        output: a.output.display().to_string(),
        backend: if gpu { "gpu" } else { "cpu" }.into(),
        particles: parts.len() as u64,
        stacks: stacks.files.len() as u64,
        box_size: n,
        pad: pad as u32,
        pixel_size_a: stacks.pixel_size_a,
        threads: match &split {
            Some(s) => s.feed.readers as u32,
            None => threads.min(parts.len()) as u32,
        },
        seconds_insert,
        seconds_finish,
        seconds_total: start.elapsed().as_secs_f64(),
        particles_per_second: parts.len() as f64 / seconds_insert.max(1e-9),
        output_bytes,
        skipped_non_finite: skipped,
        notes,
        gpu_split: split.as_ref().map(crate::gpu::from_files::time_split),
    };
    finish(Kind::Reconstruct(report), started, &a.output_args, out)?;
    Ok(Outcome::Ok)
}
