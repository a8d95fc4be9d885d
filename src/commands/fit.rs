//! `cryocap fit`: the flags (a particle list, a qualify file) into one
//! job's fit, and the Slurm script when asked.

use std::io::Write;
use std::path::Path;

use super::output::{Out, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cache::subset;
use crate::cli::FitArgs;
use crate::datasets::{Catalog, MigProfile};
use crate::report::writer::{self, Destination};
use crate::results::Kind;
use crate::results::plan::Dtype;
use crate::sizing::fit::{self, FitParams, Paths, Scratch, Software, Target};
use crate::sizing::lookup;
use crate::sizing::stack::DEFAULT_PARTICLES_PER_FILE;
use crate::storage::mrc::{Mode, MrcFile};
use crate::units;

pub(super) fn run(a: &FitArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let mut outs = result_files(&a.output.files);
    if let Some(p) = &a.emit_sbatch {
        outs.push(Out::file("--emit-sbatch", p));
    }
    let mut inputs = Vec::new();
    inputs.extend(a.particles_file.clone());
    inputs.extend(a.node.clone());
    inputs.extend(a.calibration.calibration.clone());
    check_outputs(&outs, &inputs)?;
    let catalog = Catalog::get()?;
    let params = params(a, catalog)?;
    if a.emit_sbatch.is_some() && params.job.software != Software::Relion {
        return Err(usage(
            "--emit-sbatch writes RELION jobs; CryoSPARC submits through its cluster lane: use the lane variables printed",
        ));
    }
    let report = fit::fit(&params, catalog);
    let mut lost = Vec::new();
    if let Some(p) = &a.emit_sbatch {
        let script = fit::sbatch_script(&report, &params);
        if let Err(e) = writer::write(&Destination::from_path(p), script.as_bytes(), out) {
            lost.push(format!("--emit-sbatch: {e}"));
        }
    }
    let fits = report.fits;
    finish(Kind::Fit(Box::new(report)), started, &a.output, out)?;
    if !lost.is_empty() {
        return Err(CommandError::Lost(lost.join("; ")));
    }
    Ok(Outcome::failed_if(!fits))
}

fn usage(m: &str) -> CommandError {
    CommandError::Usage(m.to_string())
}

/// A path written into a script: refused when it holds what no quoting
/// makes safe to pass on (control characters such as newlines, or bytes
/// that are not UTF-8).
fn script_path(flag: &str, p: &Path) -> Result<String, CommandError> {
    let text = p.to_str().ok_or_else(|| {
        CommandError::Usage(format!(
            "{flag} {}: not UTF-8; a script cannot name it faithfully",
            p.display()
        ))
    })?;
    if text.is_empty() || text.chars().any(char::is_control) {
        return Err(CommandError::Usage(format!(
            "{flag} {}: holds a control character (a newline?) or is empty; rename it, a script cannot pass it on safely",
            crate::text::printable(text)
        )));
    }
    Ok(text.to_string())
}

/// Particles, box, dtype, whole stack files and a label, from a list.
struct FromList {
    particles: u64,
    box_size: Option<u32>,
    dtype: Option<Dtype>,
    stack_bytes: u64,
    repeated_rows: u64,
}

fn read_list(path: &Path) -> Result<FromList, CommandError> {
    let list = subset::read_list(path)?;
    let data_dir = subset::data_dir(path, &list, None)?;
    let r = subset::analyse(
        &path.display().to_string(),
        &list,
        &data_dir,
        DEFAULT_PARTICLES_PER_FILE,
    );
    let mut box_size = list
        .stacks
        .values()
        .find_map(|u| u.shape)
        .map(|[ny, _]| ny as u32);
    let mut dtype = None;
    if let Some(name) = list.stacks.keys().next()
        && let Ok(m) = MrcFile::open(&data_dir.join(name))
    {
        box_size = box_size.or(Some(m.header.nx));
        dtype = Some(match m.header.mode {
            Mode::Float16 => Dtype::F16,
            _ => Dtype::F32,
        });
    }
    Ok(FromList {
        particles: list.particles,
        box_size,
        dtype,
        stack_bytes: r.stack_bytes,
        repeated_rows: r.repeated_rows,
    })
}

/// Cores, RAM, GPUs and VRAM of a qualify result.
struct Node {
    label: String,
    cores: u32,
    ram: u64,
    gpus: u32,
    vram: Option<u64>,
}

fn read_node(path: &Path) -> Result<Node, CommandError> {
    let r = crate::files::read_result(path)?;
    let Kind::Qualify(q) = &r.kind else {
        return Err(CommandError::Usage(format!(
            "--node {}: a {} result; give the JSON of `cryocap qualify` on the node",
            path.display(),
            r.kind.name()
        )));
    };
    let vram = q
        .checks
        .iter()
        .find(|c| c.id == "gpu_vram")
        .and_then(|c| c.value)
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v as u64);
    Ok(Node {
        label: format!("node {} (qualify {})", r.node, path.display()),
        cores: q.host.physical_cores.unwrap_or(q.host.logical_cpus),
        ram: q.host.ram_bytes,
        gpus: q.gpus,
        vram,
    })
}

fn target(a: &FitArgs, catalog: &Catalog, node: Option<&Node>) -> Result<Target, CommandError> {
    let gpu = match &a.gpu {
        Some(name) => Some(lookup::gpu(catalog, "--gpu", name).map_err(CommandError::Usage)?),
        None => None,
    };
    let (label, vram) = match (&a.vram, gpu, node.and_then(|n| n.vram.map(|v| (n, v)))) {
        (Some(_), Some(_), _) => return Err(usage("--vram and --gpu both set the VRAM: give one")),
        (Some(v), None, _) => (format!("--vram {}", v.text), v.bytes),
        (None, Some(g), _) => (g.name.clone(), g.vram_bytes()),
        (None, None, Some((n, v))) => (n.label.clone(), v),
        (None, None, None) => {
            return Err(usage(
                "fit needs a target: give --gpu NAME, --vram GB, or a --node qualify file that measured a GPU",
            ));
        }
    };
    let mig_profiles: Vec<MigProfile> = gpu
        .map(|g| {
            catalog
                .mig_profiles_of(&g.id)
                .into_iter()
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mig = match (&a.mig, gpu) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(usage(
                "--mig: name the GPU it splits with --gpu (e.g. --gpu a100-80gb --mig 3g.40gb)",
            ));
        }
        (Some(m), Some(g)) => {
            let wanted = m.trim().to_ascii_lowercase();
            let wanted = wanted.strip_prefix("mig-").unwrap_or(&wanted);
            let found = mig_profiles.iter().find(|p| p.profile == wanted).cloned();
            match found {
                Some(p) => Some(p),
                None if mig_profiles.is_empty() => {
                    return Err(CommandError::Usage(format!(
                        "--mig {}: the {} has no MIG profiles (MIG GPUs: A100, H100, H200)",
                        crate::text::printable(m),
                        g.name
                    )));
                }
                None => {
                    return Err(CommandError::Usage(format!(
                        "--mig {}: the {} has no such profile; it has {}",
                        crate::text::printable(m),
                        g.name,
                        mig_profiles
                            .iter()
                            .map(|p| p.profile.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
    };
    Ok(Target {
        label,
        gpu: gpu.map(|g| g.id.clone()),
        gpu_vram_bytes: vram,
        mig,
        mig_profiles,
        ram_bytes: a.ram.or(node.map(|n| n.ram)),
        cores: a.cores.or(node.map(|n| n.cores)),
    })
}

fn tier(
    catalog: &Catalog,
    flag: &str,
    id: &str,
) -> Result<crate::datasets::StorageTier, CommandError> {
    lookup::storage_tier(catalog, flag, id)
        .cloned()
        .map_err(CommandError::Usage)
}

/// The job type, and the flags that only some jobs take.
fn job_of(a: &FitArgs, catalog: &Catalog) -> Result<fit::FitJob, CommandError> {
    let job = fit::job(catalog, &a.job).map_err(CommandError::Usage)?;
    if job.software != Software::Relion {
        for (given, flag) in [
            (a.pad.is_some(), "--pad"),
            (a.ranks_per_gpu.is_some(), "--ranks-per-gpu"),
            (a.preread, "--preread"),
            (a.scratch_dir.is_some(), "--scratch-dir"),
        ] {
            if given {
                return Err(CommandError::Usage(format!(
                    "{flag}: is a RELION setting; {} is a CryoSPARC job",
                    job.id
                )));
            }
        }
    }
    if a.classes.is_some() && !job.takes_classes {
        return Err(CommandError::Usage(format!(
            "--classes: {} runs without classes; relion-class3d and hetero-refine take them",
            job.id
        )));
    }
    Ok(job)
}

/// Particles, box and pixel type: from the flags, else from the particle list.
fn shape(a: &FitArgs, list: Option<&FromList>) -> Result<(u64, u32, Dtype), CommandError> {
    let particles = a
        .particles
        .or(list.map(|l| l.particles))
        .ok_or_else(|| usage("--particles: is required (or give --particles-file)"))?;
    let box_size = a
        .box_size
        .map(|b| b.0)
        .or(list.and_then(|l| l.box_size))
        .ok_or_else(|| {
            usage("--box: is required (the particle file names no image size and its stacks were not found)")
        })?;
    if particles.saturating_mul(u64::from(a.sym_expand)) > crate::sizing::MAX_PARTICLES {
        return Err(CommandError::Usage(format!(
            "--sym-expand {}: {} particles × {} rows is more than {} rows; give fewer",
            a.sym_expand,
            units::group_digits(particles),
            a.sym_expand,
            units::group_digits(crate::sizing::MAX_PARTICLES)
        )));
    }
    if !(crate::sizing::MIN_BOX..=crate::sizing::MAX_BOX).contains(&box_size) {
        return Err(CommandError::Usage(format!(
            "--particles-file: image size {box_size} is out of range; give --box"
        )));
    }
    let dtype = match a.dtype {
        Some(d) => Dtype::from(d),
        None => list.and_then(|l| l.dtype).unwrap_or(Dtype::F32),
    };
    Ok((particles, box_size, dtype))
}

/// GPUs, RELION ranks per GPU and threads per rank, checked against the cores.
fn layout(
    a: &FitArgs,
    relion: bool,
    target: &Target,
    node: Option<&Node>,
) -> Result<(u32, u32, u32), CommandError> {
    let gpus = a.gpus.or(node.map(|n| n.gpus.max(1))).unwrap_or(1);
    let ranks_per_gpu = a.ranks_per_gpu.unwrap_or(1);
    let ranks = if relion { gpus * ranks_per_gpu } else { 1 };
    let threads = match (a.threads, target.cores) {
        (Some(t), _) => t,
        (None, Some(c)) => (c / ranks.max(1)).clamp(1, 8),
        (None, None) => 4,
    };
    if let (Some(cores), true) = (target.cores, a.threads.is_some()) {
        let total = u64::from(ranks) * u64::from(threads);
        if total > u64::from(cores) {
            return Err(CommandError::Usage(format!(
                "--threads {threads}: {ranks} rank(s) × {threads} threads = {total} is more than the node's {cores} cores; give fewer threads or ranks"
            )));
        }
    }
    Ok((gpus, ranks_per_gpu, threads))
}

/// The local scratch drive RELION copies to, if one is given.
fn scratch(a: &FitArgs, catalog: &Catalog) -> Result<Option<Scratch>, CommandError> {
    let Some(free) = a.scratch else {
        if a.scratch_dir.is_some() {
            return Err(usage(
                "--scratch-dir: give the drive's free space with --scratch too",
            ));
        }
        return Ok(None);
    };
    if free <= a.keep_free {
        return Err(CommandError::Usage(format!(
            "--scratch {}: no larger than the {} --keep-free reserve; nothing would be copied",
            units::bytes_decimal(free),
            units::bytes_decimal(a.keep_free)
        )));
    }
    Ok(Some(Scratch {
        free_bytes: free,
        keep_free_bytes: a.keep_free,
        tier: tier(catalog, "--scratch-tier", &a.scratch_tier)?,
    }))
}

/// The paths the lines and the script name: checked whatever is written.
fn paths(a: &FitArgs) -> Result<Paths, CommandError> {
    Ok(Paths {
        particles: match &a.particles_file {
            Some(p) if a.emit_sbatch.is_some() => Some(script_path("--particles-file", p)?),
            Some(p) => Some(p.to_string_lossy().into_owned()),
            None => None,
        },
        scratch_dir: match &a.scratch_dir {
            Some(p) => Some(script_path("--scratch-dir", p)?),
            None => None,
        },
        job_dir: match a.emit_sbatch {
            Some(_) => script_path("--job-dir", &a.job_dir)?,
            None => a.job_dir.to_string_lossy().into_owned(),
        },
    })
}

/// Where the dataset's figures came from, in words.
fn from_label(a: &FitArgs, list: Option<&FromList>) -> String {
    let mut from = match &a.particles_file {
        Some(p) => format!("{}", p.display()),
        None => "flags".to_string(),
    };
    if let Some(l) = list
        && l.repeated_rows > 0
    {
        from.push_str(&format!(
            " ({} rows name an image another row names: symmetry expansion counted per row)",
            l.repeated_rows
        ));
    }
    from
}

fn params(a: &FitArgs, catalog: &Catalog) -> Result<FitParams, CommandError> {
    let job = job_of(a, catalog)?;
    let relion = job.software == Software::Relion;
    let list = match &a.particles_file {
        Some(p) => Some(read_list(p)?),
        None => None,
    };
    let (particles, box_size, dtype) = shape(a, list.as_ref())?;
    let node = match &a.node {
        Some(p) => Some(read_node(p)?),
        None => None,
    };
    let target = target(a, catalog, node.as_ref())?;
    let (gpus, ranks_per_gpu, threads) = layout(a, relion, &target, node.as_ref())?;
    let scratch = scratch(a, catalog)?;
    let project_tier = tier(catalog, "--project-tier", &a.project_tier)?;
    let paths = paths(a)?;
    let compute = compute(
        a,
        catalog,
        &job.id,
        particles,
        box_size,
        gpus,
        ranks_per_gpu,
    )?;
    Ok(FitParams {
        classes: fit::classes_for(&job, a.classes),
        from: from_label(a, list.as_ref()),
        job,
        particles,
        box_size,
        dtype,
        sym_expand: a.sym_expand,
        stack_file_bytes: list.as_ref().map(|l| l.stack_bytes).filter(|&b| b > 0),
        pad: a.pad.unwrap_or(2),
        ranks_per_gpu,
        threads,
        preread: a.preread,
        gpus,
        passes: a.passes,
        target,
        scratch,
        project_tier,
        margin: a.time_margin,
        paths,
        compute,
        time_given: a.time.clone(),
    })
}

/// The job's compute from the job-time model, or why it cannot be timed.
fn compute(
    a: &FitArgs,
    catalog: &Catalog,
    job: &str,
    particles: u64,
    box_size: u32,
    gpus: u32,
    ranks_per_gpu: u32,
) -> Result<Result<crate::jobtime::Prediction, String>, CommandError> {
    use crate::jobtime::{Device, JobQuery, calibration, jobs};
    let Some(job) = jobs::find(job) else {
        return Ok(Err(format!("the job-time model has no job type {job}")));
    };
    let Some(g) = a.gpu.as_deref().and_then(|g| catalog.gpu(g)) else {
        return Ok(Err(
            "no GPU model named (--gpu): the job-time model needs one".into(),
        ));
    };
    let model = calibration::load(a.calibration.calibration.as_deref())?;
    let rows = particles.saturating_mul(u64::from(a.sym_expand));
    let mut q = JobQuery::new(job, rows, box_size, Device::gpus(g, gpus));
    q.classes = a.classes;
    q.iterations = Some(f64::from(a.passes));
    q.followers_per_gpu = q.followers_per_gpu.map(|_| f64::from(ranks_per_gpu));
    Ok(match model.predict(&q) {
        Ok(p) if p.proxy.is_none() => Ok(p),
        Ok(p) => Err(format!(
            "{} has no calibration of its own (only timed as {} by the model)",
            job.id,
            p.proxy.unwrap_or_default()
        )),
        Err(e) => Err(e.to_string()),
    })
}
