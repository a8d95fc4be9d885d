//! `cryocap bench io`: read particles from stacks (or a raw device) in
//! refinement's patterns, and optionally write the equivalent fio job.

use std::io::Write;

use super::convert::mode;
use super::output::{
    Out, check_outputs, finish_measured, measured_outputs, now, with_machine_files,
};
use super::{CommandError, Outcome};
use crate::cli::{BenchIoArgs, DtypeArg};
use crate::progress::Progress;
use crate::report::writer::{self, Destination};
use crate::results::Kind;
use crate::sizing::stack::DEFAULT_PARTICLES_PER_FILE;
use crate::storage::bench_io::{self, BenchIoParams, Source};
use crate::storage::space::Reserve;
use crate::storage::stack_writer::StackSpec;

pub(super) fn run(a: &BenchIoArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let params = params(a)?;
    let output = with_machine_files(&a.output, a.openmetrics.openmetrics.as_deref(), None);
    let mut outs = measured_outputs(&output.files, &a.history);
    if let Some(p) = &a.emit_fio {
        outs.push(Out::file("--emit-fio", p));
    }
    check_outputs(&outs, &inputs(&params.source))?;
    if a.emit_fio.is_some() {
        // Refused before anything is written or read: a name fio would
        // misread never reaches a job file.
        for f in fio_names(&params.source) {
            crate::storage::fio::escape(&f)
                .map_err(|e| CommandError::Usage(format!("--emit-fio: {e}")))?;
        }
    }
    crate::interrupt::cooperate();
    let measured = bench_io::run(&params, &Progress::new(a.output.quiet))?;
    let mut lost = Vec::new();
    if let (Some(p), Some(job)) = (&a.emit_fio, &measured.fio_job)
        && let Err(e) = writer::write(&Destination::from_path(p), job.as_bytes(), out)
    {
        lost.push(format!("--emit-fio: {e}"));
    }
    let short = measured
        .report
        .feed
        .as_ref()
        .is_some_and(|f| f.per_run.iter().any(|x| x.enough == Some(false)));
    let report = Kind::BenchIo(measured.report);
    finish_measured(report, started, &output, &a.history, lost, out)?;
    Ok(Outcome::failed_if(short))
}

/// The files a run reads (those it will write with --create do not exist yet).
fn inputs(source: &Source) -> Vec<std::path::PathBuf> {
    match source {
        Source::Dir(d) => bench_io::stack_files(d).unwrap_or_default(),
        Source::Files(f) => f.clone(),
        Source::RawDevice { device, .. } => vec![device.clone()],
        Source::Create { .. } => Vec::new(),
    }
}

/// The files a job file would name: those read, or those --create writes.
fn fio_names(source: &Source) -> Vec<std::path::PathBuf> {
    match source {
        Source::Create { dir, spec, .. } => crate::storage::stack_writer::plan_files(spec)
            .into_iter()
            .map(|f| dir.join(f.name))
            .collect(),
        other => inputs(other),
    }
}

fn params(a: &BenchIoArgs) -> Result<BenchIoParams, CommandError> {
    if a.gpus.is_some() && a.gpu_rate.is_none() {
        return Err(CommandError::Usage(
            "--gpus: needs --gpu-rate (particles per second one GPU consumes) to say whether the storage keeps them fed".into(),
        ));
    }
    if a.size.is_some() && a.raw_device.is_none() {
        return Err(CommandError::Usage(
            "--size: only applies with --raw-device (the bytes of the device to read)".into(),
        ));
    }
    let source = match &a.raw_device {
        Some(dev) => raw_device_source(a, dev)?,
        None => file_source(a)?,
    };
    if a.create.is_none()
        && (a.dtype.is_some() || a.particles_per_file.is_some() || a.reserve.is_some())
    {
        return Err(CommandError::Usage(
            "--dtype, --particles-per-file and --reserve only apply with --create".into(),
        ));
    }
    Ok(BenchIoParams {
        source,
        patterns: a.pattern.clone(),
        threads: a.threads,
        iodepth: a.iodepth,
        direct: !a.buffered,
        align: a.align,
        warmup: a.ramp_time,
        passes: a.passes,
        duration: a.runtime,
        seed: a.seed,
        gpu_rate: a.gpu_rate,
        gpus: a.gpus,
        fio_job: a.emit_fio.is_some(),
    })
}

/// `--raw-device DEV [--box B] [--size SIZE]`, alone.
fn raw_device_source(a: &BenchIoArgs, dev: &std::path::Path) -> Result<Source, CommandError> {
    if a.dir.is_some() || !a.files.is_empty() || a.create.is_some() {
        return Err(CommandError::Usage(
            "--raw-device reads a block device; it cannot be used with --dir, --files or --create"
                .into(),
        ));
    }
    let b = u64::from(a.box_size.map_or(256, |b| b.0));
    Ok(Source::RawDevice {
        device: dev.to_path_buf(),
        particle_bytes: b * b * 4,
        size: a.size,
    })
}

/// `--dir`, `--files` or `--dir --create`.
fn file_source(a: &BenchIoArgs) -> Result<Source, CommandError> {
    let usage = |m: &str| CommandError::Usage(m.to_string());
    Ok(match (&a.dir, a.files.is_empty(), a.create) {
        (None, true, _) => {
            return Err(usage(
                "say what to read: --dir DIR (with --create N --box B to write a stack first) or --files FILE...",
            ));
        }
        (Some(_), false, _) => return Err(usage("--dir and --files cannot be used together")),
        (None, false, Some(_)) => {
            return Err(usage(
                "--create writes into --dir; give --dir instead of --files",
            ));
        }
        (None, false, None) => {
            if a.box_size.is_some() {
                return Err(usage("--box only applies with --create or --raw-device"));
            }
            Source::Files(a.files.clone())
        }
        (Some(d), true, None) => {
            if a.box_size.is_some() {
                return Err(usage("--box only applies with --create or --raw-device"));
            }
            Source::Dir(d.clone())
        }
        (Some(d), true, Some(n)) => {
            let b = a
                .box_size
                .ok_or_else(|| usage("--create: needs --box PIXELS for the particles to write"))?;
            Source::Create {
                dir: d.clone(),
                spec: StackSpec {
                    particles: n,
                    box_size: b.0,
                    mode: mode(a.dtype.unwrap_or(DtypeArg::F32)),
                    per_file: a.particles_per_file.unwrap_or(DEFAULT_PARTICLES_PER_FILE),
                    pixel_size_a: 1.0,
                    nsymbt: 0,
                    seed: a.seed,
                },
                reserve: a.reserve.unwrap_or(Reserve::Default),
            }
        }
    })
}
