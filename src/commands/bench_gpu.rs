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
    let r = bench::run(&BenchGpuParams {
        boxes,
        pads,
        particles: a.particles,
    })?;
    let failed = r.status == BenchStatus::CheckFailed;
    finish(Kind::BenchGpu(r), started, &output, out)?;
    Ok(Outcome::failed_if(failed))
}
