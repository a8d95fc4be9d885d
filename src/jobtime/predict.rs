//! A whole answer for one job: the calibrated compute time, reading the
//! stack from a storage tier as the program does (overlapped or not), the
//! copy before it, and what limits it.

use super::copy::{cache_fill_seconds, client_read_bytes_per_s, scratch_copy_seconds};
use super::model::{Model, PredictError};
use super::query::{Device, JobQuery};
use crate::datasets::StorageTier;
use crate::results::jobtime::{JobPredictReport, Prediction};
use crate::results::plan::PlanJobTime;

/// The copy made before the job starts.
#[derive(Debug, Clone, Copy)]
pub enum Copy<'a> {
    /// CryoSPARC's SSD cache fill of `files` stack files with `threads` threads.
    CryosparcCache {
        source: &'a StorageTier,
        files: u64,
        threads: u32,
    },
    /// RELION's `--scratch_dir` copy, particle by particle.
    RelionScratch { source: &'a StorageTier },
}

pub fn device_label(d: &Device) -> String {
    match d {
        Device::Gpu { model, count, .. } => format!("{count}× {model}"),
        Device::Cpu { cores, accelerated } => format!(
            "{cores} CPU cores ({})",
            if *accelerated {
                "RELION --cpu"
            } else {
                "plain CPU code"
            }
        ),
    }
}

fn copy_part(q: &JobQuery, copy: Copy, particle_bytes: u64, stack: u64) -> (f64, String) {
    match copy {
        Copy::CryosparcCache {
            source,
            files,
            threads,
        } => (
            cache_fill_seconds(source, files, stack, threads, None),
            format!(
                "CryoSPARC cache fill of {files} file(s) from {} with {threads} thread(s)",
                source.id
            ),
        ),
        Copy::RelionScratch { source } => (
            scratch_copy_seconds(source, q.particles, particle_bytes),
            format!(
                "RELION --scratch_dir copy from {}, particle by particle",
                source.id
            ),
        ),
    }
}

/// The stack a job reads: all its bytes, and one particle's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stack {
    pub bytes: u64,
    pub particle_bytes: u64,
}

/// The prediction for `q` over `stack`, reading from `io` and copying
/// first where asked.
pub fn predict(
    model: &Model,
    q: &JobQuery,
    stack: Stack,
    io: Option<&StorageTier>,
    copy: Option<Copy>,
) -> Result<JobPredictReport, PredictError> {
    let compute = model.predict(q)?;
    let io_seconds = io.map(|t| stack.bytes as f64 / client_read_bytes_per_s(t) * q.iterations());
    let overlapped = q.job.overlaps_io;
    let (copy_seconds, copy_label) = match copy {
        Some(c) => {
            let (s, l) = copy_part(q, c, stack.particle_bytes, stack.bytes);
            (Some(s), Some(l))
        }
        None => (None, None),
    };
    let io_s = io_seconds.unwrap_or(0.0);
    let copy_s = copy_seconds.unwrap_or(0.0);
    let total = |c: f64| copy_s + if overlapped { c.max(io_s) } else { c + io_s };
    let compute_name = match q.device {
        Device::Gpu { .. } => "gpu",
        Device::Cpu { .. } => "cpu",
    };
    let bottleneck = [
        (compute_name, compute.seconds),
        ("storage", io_s),
        ("copy", copy_s),
    ]
    .into_iter()
    .fold(("", -1.0), |b, x| if x.1 > b.1 { x } else { b })
    .0;
    let mut notes = Vec::new();
    if io.is_some() && !overlapped {
        notes.push("reading is added to compute (the program waits for it); the calibration runs read from their own storage, so this errs long".into());
    }
    Ok(JobPredictReport {
        job: q.job.id.to_string(),
        job_label: q.job.label.to_string(),
        software: q.job.software.to_string(),
        unit: q.job.unit.to_string(),
        particles: q.particles,
        box_size: q.box_size,
        image_size: q.working_size(),
        image_size_given: q.image_size.is_some(),
        classes: q.classes(),
        iterations: q.iterations(),
        symmetry_order: q.symmetry_order,
        device: device_label(&q.device),
        dataset: q.dataset.clone(),
        compute_seconds: compute.seconds,
        io_seconds,
        io_tier: io.map(|t| t.id.clone()),
        io_overlapped: overlapped,
        copy_seconds,
        copy: copy_label,
        prediction: Prediction {
            seconds: total(compute.seconds),
            low: total(compute.low),
            high: total(compute.high),
            calibrated_by: compute.calibrated_by,
            extrapolation: compute.extrapolation,
            proxy: compute.proxy,
        },
        bottleneck: bottleneck.to_string(),
        basis: model.basis.clone(),
        notes,
    })
}

/// How an estimate was reached, in one word: `proxy` (its job type timed
/// as another's), `extrapolated` (no calibration row ran on its device),
/// `calibrated`.
pub fn basis(e: &super::model::Estimate) -> &'static str {
    if e.proxy {
        "proxy"
    } else if !e.gpu_calibrated {
        "extrapolated"
    } else {
        "calibrated"
    }
}

/// `q` read from each of `tiers` (`plan --job`): one row a tier.
pub fn on_tiers(
    model: &Model,
    q: &JobQuery,
    stack: Stack,
    tiers: &[StorageTier],
) -> Result<Vec<PlanJobTime>, PredictError> {
    // How the compute was reached does not depend on the tier.
    let basis = basis(&model.estimate(q)?);
    tiers
        .iter()
        .map(|t| {
            let r = predict(model, q, stack, Some(t), None)?;
            let p = &r.prediction;
            Ok(PlanJobTime {
                job: r.job,
                tier: t.id.clone(),
                device: r.device,
                iterations: r.iterations,
                seconds: p.seconds,
                low: p.low,
                high: p.high,
                bottleneck: r.bottleneck,
                basis: basis.to_string(),
            })
        })
        .collect()
}
