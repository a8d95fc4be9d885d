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
    let boxes = distinct(a.boxes.iter().map(|b| b.0));
    let pads = distinct(a.pad.iter().map(|p| p.factor()));
    let output = with_machine_files(&a.output, a.openmetrics.openmetrics.as_deref(), None);
    check_outputs(&result_files(&output.files), &[])?;
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
        particles: a.particles,
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
    let jobs = crate::sizing::fit::jobs(catalog);
    let wanted = a.job.as_deref().unwrap_or("relion-refine").trim();
    let job = jobs
        .iter()
        .find(|j| j.id == wanted)
        .cloned()
        .ok_or_else(|| {
            CommandError::Usage(format!(
                "--job: unknown job type '{}'; nearest: {} (see `cryocap catalog jobs`)",
                crate::text::printable(wanted),
                crate::datasets::nearest(wanted, jobs.iter().map(|j| j.id.as_str()), 3).join(", ")
            ))
        })?;
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
