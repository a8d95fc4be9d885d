//! `cryocap jobs predict`: one job's time from the job-time model.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::{CopyArg, JobsPredictArgs};
use crate::datasets::{Catalog, StorageTier};
use crate::jobtime::predict::{Copy, Stack, predict};
use crate::jobtime::query::{dataset_key, symmetry_order};
use crate::jobtime::{Device, JobQuery, calibration, jobs};
use crate::results::Kind;

fn tier<'a>(c: &'a Catalog, id: &str, flag: &str) -> Result<&'a StorageTier, CommandError> {
    c.storage_tier(id).ok_or_else(|| {
        CommandError::Usage(format!(
            "{flag} {id}: no such storage tier; see `cryocap catalog storage`"
        ))
    })
}

fn device(a: &JobsPredictArgs, c: &Catalog) -> Result<Device, CommandError> {
    if a.gpus > 0 && (a.cores.is_some() || a.plain_cpu) {
        return Err(CommandError::Usage(
            "--cores and --plain-cpu describe a CPU run: give them with --gpus 0".into(),
        ));
    }
    if a.gpus == 0 {
        let cores = a.cores.ok_or_else(|| {
            CommandError::Usage("--gpus 0 is a CPU run: give its cores with --cores N".into())
        })?;
        return Ok(Device::Cpu {
            cores,
            accelerated: !a.plain_cpu,
        });
    }
    let name = a.gpu.as_deref().ok_or_else(|| {
        CommandError::Usage(
            "give the GPU model with --gpu NAME (or --gpus 0 --cores N for a CPU run)".into(),
        )
    })?;
    let g = c.gpu(name).ok_or_else(|| {
        CommandError::Usage(format!(
            "--gpu {name}: not in the catalog; see `cryocap catalog gpus`"
        ))
    })?;
    Ok(Device::gpus(g, a.gpus))
}

fn query(a: &JobsPredictArgs, c: &Catalog) -> Result<JobQuery, CommandError> {
    let job = jobs::named(&a.job).map_err(CommandError::Usage)?;
    if let Some(s) = &a.software
        && !s.eq_ignore_ascii_case(job.software)
    {
        return Err(CommandError::Usage(format!(
            "--software {s} does not run {} (a {} job)",
            job.id, job.software
        )));
    }
    let symmetry_order = symmetry_order(&a.symmetry).ok_or_else(|| {
        CommandError::Usage(format!(
            "--symmetry {}: not a point group; give C1, C4, D2, T, O or I",
            a.symmetry
        ))
    })?;
    Ok(JobQuery {
        job,
        particles: a.particles,
        box_size: a.box_size.0,
        image_size: a.image_size,
        classes: a.classes,
        iterations: a.iterations.map(f64::from),
        healpix_order: a.healpix_order,
        symmetry_order,
        followers_per_gpu: (job.software == "relion" && a.gpus > 0)
            .then(|| f64::from(a.ranks_per_gpu.unwrap_or(2))),
        device: device(a, c)?,
        dataset: a
            .dataset
            .as_deref()
            .map(|d| format!("{}@{}", dataset_key(d), a.box_size.0)),
    })
}

pub(super) fn run(a: &JobsPredictArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let inputs: Vec<_> = a.calibration.calibration.iter().cloned().collect();
    check_outputs(&result_files(&a.output.files), &inputs)?;
    let c = Catalog::get()?;
    let q = query(a, c)?;
    let io = a
        .tier
        .as_deref()
        .map(|t| tier(c, t, "--tier"))
        .transpose()?;
    let copy = match (a.copy, a.copy_from.as_deref()) {
        (Some(kind), Some(from)) => {
            let source = tier(c, from, "--copy-from")?;
            Some(match kind {
                CopyArg::Cache => Copy::CryosparcCache {
                    source,
                    files: a.files,
                    threads: a.cache_threads,
                },
                CopyArg::Scratch => Copy::RelionScratch { source },
            })
        }
        _ => None,
    };
    let model = calibration::load(a.calibration.calibration.as_deref())?;
    let size = crate::sizing::stack::stack_size(
        q.particles,
        q.box_size,
        crate::results::plan::Dtype::F32,
        crate::sizing::stack::SizeModel::Guide,
    );
    let stack = Stack {
        bytes: size.bytes,
        particle_bytes: size.pixel_bytes_per_particle,
    };
    let mut r = predict(&model, &q, stack, io, copy)?;
    if let Some(rk) = a.ranks_per_gpu {
        r.notes.push(format!(
            "--ranks-per-gpu {rk} is recorded but not modelled: the calibration rows ran 1 to 2.5 followers per GPU"
        ));
    }
    finish(Kind::JobPredict(Box::new(r)), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
