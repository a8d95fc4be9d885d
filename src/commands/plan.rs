//! `cryocap plan`: the flags (or a catalog dataset) into one dataset's plan.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::{DtypeArg, PlanArgs, SizeModelArg};
use crate::datasets::{Catalog, EmpiarDataset};
use crate::results::Kind;
use crate::results::plan::Dtype;
use crate::sizing::lookup;
use crate::sizing::plan::{PlanParams, VramSource, plan};
use crate::sizing::ssd::{bytes_to_mb_floor, mb_to_bytes};
use crate::sizing::stack::{DEFAULT_PARTICLES_PER_FILE, SizeModel};
use crate::units::{self, MIB};

pub(super) fn run(a: &PlanArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(&result_files(&a.output.files), &[])?;
    let catalog = Catalog::get()?;
    let params = params(a, catalog)?;
    let mut report = plan(&params, catalog);
    report.job_times = job_times(a, catalog, &report)?;
    finish(Kind::Plan(report), started, &a.output, out)?;
    Ok(Outcome::Ok)
}

/// Each `--job` on every storage tier, from the job-time model.
fn job_times(
    a: &PlanArgs,
    catalog: &Catalog,
    r: &crate::results::PlanReport,
) -> Result<Vec<crate::results::plan::PlanJobTime>, CommandError> {
    use crate::jobtime::{Device, JobQuery, calibration, jobs, predict};
    if a.job.is_empty() {
        return Ok(Vec::new());
    }
    let name = a.gpu.as_deref().ok_or_else(|| {
        CommandError::Usage("--job: give the GPU model the jobs run on with --gpu".into())
    })?;
    let g = lookup::gpu(catalog, "--gpu", name).map_err(CommandError::Usage)?;
    let model = calibration::load(None)?;
    let mut rows = Vec::new();
    for name in &a.job {
        let job = jobs::named(name).map_err(CommandError::Usage)?;
        let mut q = JobQuery::new(
            job,
            r.input.particles,
            r.input.box_size,
            Device::gpus(g, a.gpus),
        );
        q.classes = a.classes;
        q.iterations = Some(f64::from(a.passes));
        q.dataset = a.dataset.as_deref().map(|d| {
            format!(
                "{}@{}",
                crate::jobtime::query::dataset_key(d),
                r.input.box_size
            )
        });
        let stack = predict::Stack {
            bytes: r.stack.bytes,
            particle_bytes: r.stack.pixel_bytes_per_particle,
        };
        rows.extend(predict::on_tiers(
            &model,
            &q,
            stack,
            &catalog.storage_tiers,
        )?);
    }
    Ok(rows)
}

impl From<DtypeArg> for Dtype {
    fn from(d: DtypeArg) -> Dtype {
        match d {
            DtypeArg::F32 => Dtype::F32,
            DtypeArg::F16 => Dtype::F16,
        }
    }
}

fn params(a: &PlanArgs, catalog: &Catalog) -> Result<PlanParams, CommandError> {
    let dataset = dataset(a, catalog)?;
    let particles = a
        .particles
        .or(dataset.map(|d| d.particles))
        .ok_or_else(|| usage("--particles: is required (or name a --dataset)"))?;
    let box_size = a
        .box_size
        .map(|b| b.0)
        .or(dataset.map(|d| d.box_size))
        .ok_or_else(|| usage("--box: is required (or name a --dataset)"))?;
    let dtype = match (a.dtype, dataset) {
        (Some(d), _) => d.into(),
        (None, Some(d)) if d.dtype == "f16" => Dtype::F16,
        (None, _) => Dtype::F32,
    };
    let size_model = size_model(a)?;
    let vram = vram(a, catalog)?;
    let (ssd_quota_mb, ssd_reserve_mb) = ssd_limits(a)?;
    cache_tier(a, catalog)?;
    Ok(PlanParams {
        particles,
        box_size,
        pixel_size_a: a.pixel_size.or(dataset.map(|d| d.pixel_size_a)),
        dtype,
        size_model,
        gpus: a.gpus,
        vram,
        classes: a.classes,
        passes: a.passes,
        dataset: dataset.map(|d| d.id.clone()),
        ssd_bytes: a.ssd,
        ssd_quota_mb,
        ssd_reserve_mb,
        cache_tier: a.cache_tier.clone(),
    })
}

fn usage(m: &str) -> CommandError {
    CommandError::Usage(m.to_string())
}

/// `--dataset`, looked up in the catalog.
fn dataset<'c>(
    a: &PlanArgs,
    catalog: &'c Catalog,
) -> Result<Option<&'c EmpiarDataset>, CommandError> {
    match &a.dataset {
        Some(id) => Ok(Some(
            lookup::dataset(catalog, "--dataset", id).map_err(CommandError::Usage)?,
        )),
        None => Ok(None),
    }
}

/// `--size-model`, with the flags that only describe real files.
fn size_model(a: &PlanArgs) -> Result<SizeModel, CommandError> {
    match a.size_model {
        SizeModelArg::Guide => {
            if a.particles_per_file.is_some() || a.nsymbt.is_some() {
                return Err(usage(
                    "--particles-per-file and --nsymbt describe real files: use them with --size-model exact",
                ));
            }
            Ok(SizeModel::Guide)
        }
        SizeModelArg::Exact => Ok(SizeModel::Exact {
            particles_per_file: a.particles_per_file.unwrap_or(DEFAULT_PARTICLES_PER_FILE),
            nsymbt: a.nsymbt.unwrap_or(0),
        }),
    }
}

/// The VRAM of `--vram` or of the `--gpu` model; one of them at most.
fn vram(a: &PlanArgs, catalog: &Catalog) -> Result<Option<VramSource>, CommandError> {
    match (&a.vram, &a.gpu) {
        (Some(_), Some(_)) => Err(usage("--vram and --gpu both set the VRAM: give one")),
        (Some(v), None) => Ok(Some(VramSource {
            label: format!("--vram {}", v.text),
            bytes: v.bytes,
        })),
        (None, Some(name)) => {
            let g = lookup::gpu(catalog, "--gpu", name).map_err(CommandError::Usage)?;
            Ok(Some(VramSource {
                label: g.name.clone(),
                bytes: g.vram_bytes(),
            }))
        }
        (None, None) => Ok(None),
    }
}

/// `--ssd-quota` and `--ssd-reserve` in CryoSPARC's MB: a quota rounds down
/// and a reserve up, to err on the safe side.
fn ssd_limits(a: &PlanArgs) -> Result<(Option<u64>, u64), CommandError> {
    let ssd_quota_mb = a.ssd_quota.map(|q| bytes_to_mb_floor(q.0));
    let ssd_reserve_mb = a.ssd_reserve.0.div_ceil(MIB);
    if ssd_quota_mb == Some(0) {
        return Err(usage("--ssd-quota: must be at least 1 MB"));
    }
    if ssd_quota_mb.is_some() && a.ssd.is_none() {
        return Err(usage(
            "--ssd-quota limits a drive: give its size with --ssd too",
        ));
    }
    if let Some(drive) = a.ssd
        && mb_to_bytes(ssd_reserve_mb) >= drive
    {
        return Err(CommandError::Usage(format!(
            "--ssd-reserve {ssd_reserve_mb} MB leaves nothing of the {} drive given with --ssd",
            units::bytes_decimal(drive)
        )));
    }
    Ok((ssd_quota_mb, ssd_reserve_mb))
}

/// `--cache-tier` names a storage tier of the catalog.
fn cache_tier(a: &PlanArgs, catalog: &Catalog) -> Result<(), CommandError> {
    lookup::storage_tier(catalog, "--cache-tier", &a.cache_tier).map_err(CommandError::Usage)?;
    Ok(())
}
