//! `cryocap bench gpu`: kernels checked against the CPU reference, then
//! timed; without a CUDA driver it says so and exits 0.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files, with_machine_files};
use super::{CommandError, Outcome};
use crate::cli::BenchGpuArgs;
use crate::cli::values::distinct;
use crate::gpu::bench::{self, BenchGpuParams};
use crate::results::Kind;
use crate::results::gpu::BenchStatus;

/// Boxes timed when --box is not given.
const DEFAULT_BOXES: [u32; 3] = [128, 256, 432];
/// Images per insertion launch when --particles is not given.
const DEFAULT_PARTICLES: u64 = 10_000;
/// Most reader threads by default with --from-files.
const DEFAULT_MAX_READERS: usize = 16;

pub(super) fn run(a: &BenchGpuArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    if let Some(b) = a.boxes.iter().find(|b| !bench::times_box(b.0)) {
        return Err(CommandError::Usage(format!(
            "--box: '{}' is not an even box size from {} to {} (give e.g. 128,256,432)",
            b.0,
            bench::BOXES.start(),
            bench::BOXES.end()
        )));
    }
    let boxes = match a.boxes.is_empty() {
        true => DEFAULT_BOXES.to_vec(),
        false => distinct(a.boxes.iter().map(|b| b.0)),
    };
    let pads = distinct(a.pad.iter().map(|p| p.factor()));
    let output = with_machine_files(&a.output, a.openmetrics.openmetrics.as_deref(), None);
    check_outputs(&result_files(&output.files), &[])?;
    if let Some(dir) = &a.from_files {
        for (given, flag, why) in [
            (!a.boxes.is_empty(), "--box", "the box is the stacks'"),
            (
                a.particles.is_some(),
                "--particles",
                "every image of the stacks is read",
            ),
            (
                a.job.is_some(),
                "--job",
                "it only applies with --job-memory",
            ),
            (
                a.ranks_per_gpu.is_some(),
                "--ranks-per-gpu",
                "it only applies with --job-memory",
            ),
            (
                a.classes.is_some(),
                "--classes",
                "it only applies with --job-memory",
            ),
        ] {
            if given {
                return Err(CommandError::Usage(format!(
                    "{flag} does nothing with --from-files ({why}): drop it"
                )));
            }
        }
        return from_files(a, dir, pads, &output, started, out);
    }
    if a.job_memory {
        return job_memory(a, &output, boxes, pads, started, out);
    }
    for (given, flag) in [
        (a.job.is_some(), "--job"),
        (a.ranks_per_gpu.is_some(), "--ranks-per-gpu"),
        (a.classes.is_some(), "--classes"),
    ] {
        if given {
            return Err(CommandError::Usage(format!(
                "{flag}: only applies with --job-memory"
            )));
        }
    }
    let r = bench::run(&BenchGpuParams {
        boxes,
        pads,
        particles: a.particles.unwrap_or(DEFAULT_PARTICLES),
    })?;
    let failed = r.status == BenchStatus::CheckFailed;
    finish(Kind::BenchGpu(r), started, &output, out)?;
    Ok(Outcome::failed_if(failed))
}

/// `--job-memory`: `fit`'s working set, allocated rank by rank.
fn job_memory(
    a: &BenchGpuArgs,
    output: &crate::cli::OutputArgs,
    boxes: Vec<u32>,
    pads: Vec<u32>,
    started: u64,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let catalog = crate::datasets::Catalog::get()?;
    let wanted = a.job.as_deref().unwrap_or("relion-refine").trim();
    let job = crate::sizing::fit::job(catalog, wanted).map_err(CommandError::Usage)?;
    if a.classes.is_some() && !job.takes_classes {
        return Err(CommandError::Usage(format!(
            "--classes: {} runs without classes",
            job.id
        )));
    }
    let relion = job.software == crate::sizing::fit::Software::Relion;
    if a.ranks_per_gpu.is_some_and(|r| r > 1) && !relion {
        return Err(CommandError::Usage(format!(
            "--ranks-per-gpu: {} is a CryoSPARC job (one per GPU)",
            job.id
        )));
    }
    let params = crate::gpu::job_memory::JobMemoryParams {
        classes: crate::sizing::fit::classes_for(&job, a.classes),
        job,
        ranks_per_gpu: a.ranks_per_gpu.unwrap_or(1),
        boxes,
        pads: if relion { pads } else { vec![2] },
    };
    let r = crate::gpu::job_memory::run(&params)?;
    finish(Kind::BenchGpu(r), started, output, out)?;
    Ok(Outcome::Ok)
}

/// `--from-files DIR`: the readers alone, then end to end on each GPU.
fn from_files(
    a: &BenchGpuArgs,
    dir: &std::path::Path,
    pads: Vec<u32>,
    output: &crate::cli::OutputArgs,
    started: u64,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    use crate::gpu::from_files::{self, BenchError, BenchParams};
    use crate::recon::from_dir::DirStacks;

    if !dir.is_dir() {
        return Err(CommandError::Usage(format!(
            "--from-files {}: not a directory of MRC stacks",
            dir.display()
        )));
    }
    let files = crate::storage::bench_io::stack_files(dir)?;
    let d = DirStacks::open(dir, &files, 7)?;
    let readers = a.readers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(DEFAULT_MAX_READERS)
    });
    let params = BenchParams {
        pads,
        readers,
        direct: !a.buffered,
        repeats: a.repeats.unwrap_or(3),
    };
    let report = from_files::bench(&d, &params).map_err(|e| match e {
        BenchError::Read(e) => CommandError::Usage(e.to_string()),
        BenchError::Gpu(e) => CommandError::Gpu(e),
    })?;
    finish(Kind::BenchGpu(report), started, output, out)?;
    Ok(Outcome::Ok)
}
