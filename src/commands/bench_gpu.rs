//! `cryocap bench gpu`: kernels checked against the CPU reference, then
//! timed; without a CUDA driver it says so and exits 0.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::BenchGpuArgs;
use crate::gpu::bench::{self, BenchGpuParams};
use crate::results::Kind;
use crate::results::gpu::BenchStatus;

pub(super) fn run(a: &BenchGpuArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let mut boxes = Vec::new();
    for b in &a.boxes {
        if !bench::BOXES.contains(&b.0) || b.0 % 2 != 0 {
            return Err(CommandError::Usage(format!(
                "--box: '{}' is not an even box size from {} to {} (give e.g. 128,256,432)",
                b.0,
                bench::BOXES.start(),
                bench::BOXES.end()
            )));
        }
        if !boxes.contains(&b.0) {
            boxes.push(b.0);
        }
    }
    let mut pads: Vec<u32> = a.pad.iter().map(|p| p.factor()).collect();
    pads.dedup();
    check_outputs(&result_files(&a.output.files), &[])?;
    let r = bench::run(&BenchGpuParams {
        boxes,
        pads,
        particles: a.particles,
    })?;
    let failed = r.status == BenchStatus::CheckFailed;
    finish(Kind::BenchGpu(r), started, &a.output, out)?;
    Ok(Outcome::failed_if(failed))
}
