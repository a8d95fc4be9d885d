//! `cryocap fit`: one job against one node and its scheduler. VRAM per rank
//! and per GPU (padding, classes, ranks per GPU), the largest box and the
//! smallest MIG slice that hold it, host RAM and threads, what lands on
//! scratch or in the cache and what each pass reads from the slower tier,
//! and the scheduler lines to ask for it (docs/sources.md §4, §5, §12).
//!
//! RELION's per-rank VRAM is its published `1.1e-8·(2N)³` GB at padding 2
//! (src/error.h; `datasets/vram.csv` row `relion-refine`), that is 11 bytes
//! per voxel of the padded box: at padding p, `11·(p·N)³` bytes. Classes
//! each hold their own backprojector; ranks on one GPU each hold their own.
//! CryoSPARC jobs use their `datasets/vram.csv` rows as `plan` does.

use super::MAX_BOX;
use super::stack::largest_even;
use super::storage_time;
use super::vram;
use crate::datasets::{Catalog, MigProfile, StorageTier, VramJob};
use crate::results::fit::*;
use crate::results::plan::{BoxLimit, Dtype};
use crate::units::{self, GIB};

/// The job `fit` adds to `plan`'s eight: RELION 3D classification,
/// modelled from relion-refine's coefficients, one backprojector per class.
pub(crate) const RELION_CLASS3D: &str = "relion-class3d";
/// Classes RELION 3D classification runs with unless told.
pub(crate) const RELION_CLASS3D_DEFAULT_K: u32 = 4;
/// docs/sources.md §4: a worker needs at least 2 cores per GPU.
pub(crate) const CORES_PER_GPU_MIN: u32 = 2;
/// docs/sources.md §4: a worker needs at least 32 GB of RAM per GPU.
pub(crate) const RAM_PER_GPU_MIN: u64 = 32 * GIB;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Software {
    Relion,
    Cryosparc,
}

/// A job type `fit` knows: a `datasets/vram.csv` row, or RELION 3D
/// classification made from the relion-refine row.
#[derive(Debug, Clone)]
pub(crate) struct FitJob {
    pub id: String,
    pub label: String,
    pub software: Software,
    pub vram: VramJob,
    pub takes_classes: bool,
    pub default_classes: u32,
}

/// The job types, in catalog order, then relion-class3d.
pub(crate) fn jobs(catalog: &Catalog) -> Vec<FitJob> {
    let mut out: Vec<FitJob> = catalog
        .vram_jobs
        .iter()
        .map(|j| FitJob {
            id: j.job.clone(),
            label: j.label.clone(),
            software: if j.job.starts_with("relion") {
                Software::Relion
            } else {
                Software::Cryosparc
            },
            vram: j.clone(),
            takes_classes: j.takes_classes,
            default_classes: j.default_classes,
        })
        .collect();
    if let Some(r) = catalog.vram_jobs.iter().find(|j| j.job == "relion-refine") {
        out.push(FitJob {
            id: RELION_CLASS3D.into(),
            label: "RELION 3D classification (one rank)".into(),
            software: Software::Relion,
            vram: VramJob {
                basis: "modelled".into(),
                source: format!(
                    "modelled: relion-refine's per-rank figure for each class (one backprojector per class); {}",
                    r.source
                ),
                ..r.clone()
            },
            takes_classes: true,
            default_classes: RELION_CLASS3D_DEFAULT_K,
        });
    }
    out
}

/// The job type `--job` names (its id, around spaces), or the line that
/// says it is unknown and which ids are nearest.
pub(crate) fn job(catalog: &Catalog, name: &str) -> Result<FitJob, String> {
    let jobs = jobs(catalog);
    let found = jobs.iter().find(|j| j.id == name.trim()).cloned();
    found.ok_or_else(|| {
        let names = jobs.iter().map(|j| j.id.as_str());
        crate::datasets::unknown_name("--job", "job type", name, names, "jobs")
    })
}

/// What the job is sent to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub label: String,
    pub gpu: Option<String>,
    pub gpu_vram_bytes: u64,
    /// The MIG profile the job runs in, if any.
    pub mig: Option<MigProfile>,
    /// Every MIG profile the GPU offers (smallest first).
    pub mig_profiles: Vec<MigProfile>,
    pub ram_bytes: Option<u64>,
    pub cores: Option<u32>,
}

impl Target {
    /// Memory the ranks on one GPU share: the slice, or the whole GPU.
    pub(crate) fn budget(&self) -> u64 {
        match &self.mig {
            Some(m) => m.memory_bytes(self.gpu_vram_bytes),
            None => self.gpu_vram_bytes,
        }
    }
}

/// Scratch (RELION `--scratch_dir`) or cache (CryoSPARC `--ssdpath`).
#[derive(Debug, Clone)]
pub(crate) struct Scratch {
    pub free_bytes: u64,
    pub keep_free_bytes: u64,
    pub tier: StorageTier,
}

/// Paths written into the scheduler lines and the script.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Paths {
    pub particles: Option<String>,
    pub scratch_dir: Option<String>,
    pub job_dir: String,
}

#[derive(Debug, Clone)]
pub(crate) struct FitParams {
    pub job: FitJob,
    pub particles: u64,
    pub box_size: u32,
    pub dtype: Dtype,
    pub sym_expand: u32,
    /// Whole stack files the list names, when a list was read (the cache
    /// copies these, not the subset).
    pub stack_file_bytes: Option<u64>,
    pub from: String,
    pub pad: u32,
    pub classes: u32,
    pub ranks_per_gpu: u32,
    pub threads: u32,
    pub preread: bool,
    pub gpus: u32,
    pub passes: u32,
    pub target: Target,
    pub scratch: Option<Scratch>,
    pub project_tier: StorageTier,
    pub margin: f64,
    pub paths: Paths,
    /// The job's compute from the job-time model, or why there is none.
    pub compute: Result<crate::jobtime::Prediction, String>,
    /// `--time` as the user gave it, in Slurm's form.
    pub time_given: Option<String>,
}

/// The classes `job` runs with for a request of `requested`.
pub(crate) fn classes_for(job: &FitJob, requested: Option<u32>) -> u32 {
    match job.takes_classes {
        true => requested.unwrap_or(job.default_classes),
        false => job.default_classes,
    }
}

/// VRAM one rank (one CryoSPARC job) needs.
pub(crate) fn vram_per_rank(job: &FitJob, box_size: u32, pad: u32, classes: u32) -> u64 {
    match job.software {
        Software::Relion => {
            // bytes_needed is the published figure at padding 2; padding
            // scales the padded box, so the volume by (pad/2)³.
            let at_pad2 = vram::bytes_needed(&job.vram, box_size, 1) as f64;
            let scale = (f64::from(pad) / 2.0).powi(3);
            (at_pad2 * scale * f64::from(classes.max(1))).ceil() as u64
        }
        Software::Cryosparc => vram::bytes_needed(&job.vram, box_size, classes),
    }
}

/// VRAM `ranks` ranks need on one GPU.
pub(crate) fn vram_per_gpu(job: &FitJob, box_size: u32, pad: u32, classes: u32, ranks: u32) -> u64 {
    vram_per_rank(job, box_size, pad, classes).saturating_mul(u64::from(ranks.max(1)))
}

/// The largest even box whose ranks fit `budget`, and what stops it.
pub(crate) fn max_box(
    job: &FitJob,
    budget: u64,
    pad: u32,
    classes: u32,
    ranks: u32,
) -> Option<(u32, BoxLimit)> {
    let ceiling = job.vram.box_cap.unwrap_or(MAX_BOX).min(MAX_BOX);
    let best = largest_even(ceiling, |b| {
        vram_per_gpu(job, b, pad, classes, ranks) <= budget
    })?;
    let limit = match (best + 2 > ceiling, job.vram.box_cap.is_some()) {
        (true, true) => BoxLimit::SoftwareCap,
        (true, false) => BoxLimit::Ceiling,
        (false, _) => BoxLimit::Memory,
    };
    Some((best, limit))
}

fn limit_name(l: BoxLimit) -> &'static str {
    match l {
        BoxLimit::Memory => "memory",
        BoxLimit::SoftwareCap => "software-cap",
        BoxLimit::Ceiling => "ceiling",
    }
}

/// Processes that hold a rank's memory and threads: RELION's followers
/// (ranks per GPU × GPUs; the leader holds no particles), or one CryoSPARC
/// job.
pub(crate) fn ranks(p: &FitParams) -> u32 {
    match p.job.software {
        Software::Relion => p.gpus.saturating_mul(p.ranks_per_gpu),
        Software::Cryosparc => 1,
    }
}

/// Bytes of one particle image in memory or on RELION's scratch: float32
/// whatever the stack's type (RELION converts float16 on copy, #959).
pub(crate) fn float32_image_bytes(box_size: u32) -> u64 {
    u64::from(box_size) * u64::from(box_size) * 4
}

/// Images RELION reads: one per row, so symmetry expansion multiplies them.
pub(crate) fn rows(p: &FitParams) -> u64 {
    p.particles.saturating_mul(u64::from(p.sym_expand.max(1)))
}

/// Host RAM one rank's `--preread_images` holds (#993: N·box²·4 per rank).
pub(crate) fn preread_bytes(particles_rows: u64, box_size: u32) -> u64 {
    particles_rows.saturating_mul(float32_image_bytes(box_size))
}

/// Host memory of one rank besides pre-read images. RELION keeps its
/// Fourier volumes in host memory too: the GPU figure, labelled modelled.
/// CryoSPARC: a host copy of the GPU working set plus staging, at least
/// docs/sources.md §4's 32 GB per GPU.
pub(crate) fn working_ram_per_rank(p: &FitParams, per_rank_vram: u64) -> u64 {
    match p.job.software {
        Software::Relion => per_rank_vram,
        Software::Cryosparc => per_rank_vram
            .saturating_mul(2)
            .max(RAM_PER_GPU_MIN.saturating_mul(u64::from(p.gpus))),
    }
}

fn ram(p: &FitParams, per_rank_vram: u64) -> RamFit {
    let n = ranks(p);
    let working = working_ram_per_rank(p, per_rank_vram);
    let preread = match (p.job.software, p.preread) {
        (Software::Relion, true) => preread_bytes(rows(p), p.box_size),
        _ => 0,
    };
    let per_node = working
        .saturating_add(preread)
        .saturating_mul(u64::from(n))
        // the RELION leader holds the references too
        .saturating_add(match p.job.software {
            Software::Relion => working,
            Software::Cryosparc => 0,
        });
    RamFit {
        working_bytes_per_rank: working,
        preread_bytes_per_rank: preread,
        ranks: n,
        per_node_bytes: per_node,
        request_gib: per_node.div_ceil(GIB).max(1),
        fits: p.target.ram_bytes.map(|r| per_node <= r),
        basis: match p.job.software {
            Software::Relion => "modelled: each rank (and the leader) holds its Fourier volumes in host memory too (the GPU figure); --preread_images adds N·box²·4 bytes per follower rank (3dem/relion #993)".into(),
            Software::Cryosparc => format!(
                "modelled: twice the GPU working set (a host copy plus staging), at least {} per GPU (docs/sources.md §4 minimum)",
                units::bytes_binary(RAM_PER_GPU_MIN)
            ),
        },
    }
}

fn cpu(p: &FitParams) -> CpuFit {
    let n = ranks(p);
    CpuFit {
        threads_per_rank: p.threads,
        ranks: n,
        threads: n.saturating_mul(p.threads),
        cores: p.target.cores,
        cores_per_gpu_minimum: CORES_PER_GPU_MIN,
    }
}

/// What lands on scratch, and what each pass reads from the project.
pub(crate) fn scratch(p: &FitParams, s: &Scratch) -> ScratchFit {
    let usable = s.free_bytes.saturating_sub(s.keep_free_bytes);
    let n = rows(p);
    let fill_rate_from = &p.project_tier;
    match p.job.software {
        Software::Relion => {
            // STAR order, particle by particle, float32, until only the
            // reserve is left (#494, #719, #721, #529, #959, #462).
            let per = float32_image_bytes(p.box_size);
            let set = n.saturating_mul(per);
            let on = (usable / per.max(1)).min(n);
            let on_bytes = on * per;
            let rest = n - on;
            let on_disk = u64::from(p.box_size).pow(2) * p.dtype.bytes_per_pixel();
            ScratchFit {
                rule: "relion-scratch".into(),
                free_bytes: s.free_bytes,
                keep_free_bytes: s.keep_free_bytes,
                set_bytes: set,
                particles_on_scratch: on,
                bytes_on_scratch: on_bytes,
                particles_from_project: rest,
                bytes_per_pass_from_project: rest.saturating_mul(on_disk),
                fits_whole: on == n,
                scratch_tier: s.tier.id.clone(),
                seconds_fill: storage_time::fill_seconds(fill_rate_from, &s.tier, on_bytes),
            }
        }
        Software::Cryosparc => {
            // whole stack files, as stored; all or the job waits for space
            let set = p.stack_file_bytes.unwrap_or_else(|| {
                p.particles
                    .saturating_mul(u64::from(p.box_size).pow(2) * p.dtype.bytes_per_pixel())
            });
            let fits = set <= usable;
            let on_disk = u64::from(p.box_size).pow(2) * p.dtype.bytes_per_pixel();
            ScratchFit {
                rule: "cryosparc-cache".into(),
                free_bytes: s.free_bytes,
                keep_free_bytes: s.keep_free_bytes,
                set_bytes: set,
                particles_on_scratch: if fits { p.particles } else { 0 },
                bytes_on_scratch: if fits { set } else { 0 },
                particles_from_project: if fits { 0 } else { p.particles },
                bytes_per_pass_from_project: if fits {
                    0
                } else {
                    p.particles.saturating_mul(on_disk)
                },
                fits_whole: fits,
                scratch_tier: s.tier.id.clone(),
                seconds_fill: if fits {
                    storage_time::fill_seconds(fill_rate_from, &s.tier, set)
                } else {
                    0.0
                },
            }
        }
    }
}

/// `D-HH:MM:SS`, rounded up to the minute, at least one hour.
pub(crate) fn slurm_time(seconds: f64) -> String {
    let s = if seconds.is_finite() { seconds } else { 0.0 };
    let mins = ((s / 60.0).ceil() as u64).max(60);
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    format!("{d}-{h:02}:{m:02}:00")
}

fn time(p: &FitParams, sc: Option<&ScratchFit>) -> TimeFit {
    let on_disk = u64::from(p.box_size).pow(2) * p.dtype.bytes_per_pixel();
    let n = rows(p);
    let project = &p.project_tier;
    let (first, per_pass) = if p.preread && p.job.software == Software::Relion {
        // read once, in order, into RAM; the passes read memory
        (
            storage_time::sequential_seconds(project, n.saturating_mul(on_disk)),
            0.0,
        )
    } else if let Some(sc) = sc {
        let scratch_tier = p
            .scratch
            .as_ref()
            .map(|s| &s.tier)
            .unwrap_or(&p.project_tier);
        let per = match p.job.software {
            Software::Relion => float32_image_bytes(p.box_size),
            Software::Cryosparc => on_disk,
        };
        let fast = storage_time::random_pass_seconds(scratch_tier, sc.particles_on_scratch, per);
        let slow = storage_time::random_pass_seconds(project, sc.particles_from_project, on_disk);
        (sc.seconds_fill, fast + slow)
    } else {
        (0.0, storage_time::random_pass_seconds(project, n, on_disk))
    };
    let reading = first + per_pass * f64::from(p.passes);
    let high = p.compute.as_ref().ok().map(|c| c.high);
    let total = (reading + high.unwrap_or(0.0)) * p.margin;
    TimeFit {
        project_tier: project.id.clone(),
        seconds_per_pass: per_pass,
        seconds_first: first,
        seconds_total: total,
        margin: p.margin,
        seconds_compute: p.compute.as_ref().ok().map(|c| c.seconds),
        seconds_compute_high: high,
        compute_basis: match &p.compute {
            Ok(c) => format!(
                "job-time model, {} calibration row(s)",
                c.calibrated_by.len()
            ),
            Err(why) => why.clone(),
        },
        time_limit: match (&p.time_given, high) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(_)) => Some(slurm_time(total)),
            (None, None) => None,
        },
    }
}

/// What would make a job fit that does not: for VRAM, RAM and the cache,
/// in that order.
fn remedies(p: &FitParams, v: &VramFit, ram: &RamFit, sc: Option<&ScratchFit>) -> Vec<FitRemedy> {
    let mut out = Vec::new();
    if !v.fits {
        out.extend(vram_remedies(p, v));
    }
    if ram.fits == Some(false) {
        out.extend(ram_remedies(p, ram));
    }
    if let Some(sc) = sc
        && sc.rule == "cryosparc-cache"
        && !sc.fits_whole
    {
        out.extend(cache_remedies(p, sc));
    }
    out
}

/// A remedy of kind `kind`, in words.
fn remedy(kind: &str, text: String) -> FitRemedy {
    FitRemedy {
        kind: kind.into(),
        text,
    }
}

/// What brings the VRAM per GPU within the budget: padding 1 (RELION),
/// fewer ranks per GPU, a larger MIG slice or none, a smaller box.
fn vram_remedies(p: &FitParams, v: &VramFit) -> Vec<FitRemedy> {
    let mut out = Vec::new();
    let budget = p.target.budget();
    let per_gpu =
        |box_size: u32, pad: u32, ranks: u32| vram_per_gpu(&p.job, box_size, pad, p.classes, ranks);
    if p.job.software == Software::Relion && p.pad > 1 {
        let need = per_gpu(p.box_size, 1, p.ranks_per_gpu);
        if need <= budget {
            out.push(remedy(
                "pad",
                format!(
                    "--pad 1: {} per GPU (fits; costs some interpolation accuracy)",
                    units::bytes_binary(need)
                ),
            ));
        }
    }
    if p.ranks_per_gpu > 1 {
        let fewer = (1..p.ranks_per_gpu)
            .rev()
            .find(|&r| per_gpu(p.box_size, p.pad, r) <= budget);
        if let Some(r) = fewer {
            out.push(remedy(
                "ranks_per_gpu",
                format!(
                    "--ranks-per-gpu {r}: {} per GPU",
                    units::bytes_binary(per_gpu(p.box_size, p.pad, r))
                ),
            ));
        }
    }
    if p.target.mig.is_some() {
        match &v.smallest_mig {
            Some(m) => out.push(remedy("mig", format!("a larger MIG slice: {m} holds it"))),
            None if v.per_gpu_bytes <= p.target.gpu_vram_bytes => out.push(remedy(
                "mig",
                "no MIG slice holds it: the whole GPU does (MIG off)".into(),
            )),
            None => {}
        }
    }
    if let Some(b) = v.max_box.filter(|&b| b >= super::MIN_BOX) {
        out.push(remedy(
            "fourier_crop",
            format!(
                "Fourier-crop (downsample) to box {b} or smaller: {} per GPU",
                units::bytes_binary(per_gpu(b, p.pad, p.ranks_per_gpu))
            ),
        ));
    }
    out
}

/// What brings host RAM within the node's: no pre-reading, fewer ranks.
fn ram_remedies(p: &FitParams, ram: &RamFit) -> Vec<FitRemedy> {
    let mut out = Vec::new();
    if p.preread && p.job.software == Software::Relion {
        out.push(remedy(
            "no_preread",
            format!(
                "drop --preread_images (saves {} per rank) and read from scratch",
                units::bytes_binary(ram.preread_bytes_per_rank)
            ),
        ));
    }
    if p.ranks_per_gpu > 1 {
        out.push(remedy(
            "ranks_per_gpu",
            "fewer ranks per GPU: each rank holds its own copy".into(),
        ));
    }
    out
}

/// What lets CryoSPARC's cache hold the whole set: float16 stacks, a
/// smaller box.
fn cache_remedies(p: &FitParams, sc: &ScratchFit) -> Vec<FitRemedy> {
    let mut out = Vec::new();
    let usable = sc.free_bytes.saturating_sub(sc.keep_free_bytes);
    if p.dtype == Dtype::F32 && sc.set_bytes / 2 <= usable {
        out.push(remedy(
            "float16",
            format!(
                "float16 stacks (CryoSPARC v4.4+): about {} in the cache",
                units::bytes_decimal(sc.set_bytes / 2)
            ),
        ));
    }
    let per = p.dtype.bytes_per_pixel();
    let crop = largest_even(p.box_size, |b| {
        p.particles.saturating_mul(u64::from(b).pow(2) * per) <= usable
    });
    if let Some(b) = crop {
        out.push(remedy(
            "fourier_crop",
            format!("Fourier-crop the stack to box {b} or smaller to cache it whole"),
        ));
    }
    out
}

fn notes(p: &FitParams, sc: Option<&ScratchFit>) -> Vec<String> {
    let mut n = vec![
        "VRAM: RELION at 11 B per voxel of the padded box per rank and class (1.1e-8·(2N)³ GB at --pad 2, RELION src/error.h); CryoSPARC rows as in `cryocap catalog jobs`. CUDA contexts (a few hundred MB per rank) are not in RELION's figure.".to_string(),
        "Allocators that take all free memory make a MIG slice look full whatever the box (3dem/relion #1262): size slices from these figures, not from nvidia-smi.".to_string(),
        "--time = (reading, from the tier profiles in datasets/storage.csv, + the top of the job-time model's 90 % interval for the compute) × the margin; no --time is written for a job type the model has no calibration of, unless --time is given.".to_string(),
    ];
    if p.job.software == Software::Relion {
        n.push("RELION: 2–3 ranks per GPU saturate Ampere cards (3dem/relion #846, #1074); --free_gpu_memory decides pass or fail on a card (#619).".into());
        if p.dtype == Dtype::F16 && sc.is_some() && !p.preread {
            n.push("float16 stacks are copied to scratch as float32 (3dem/relion #959): they take twice their size there.".into());
        }
        if p.job.id == "relion-refine" && ranks(p) < 2 {
            n.push("RELION auto-refine needs at least two follower ranks (one per half-set): raise --gpus or --ranks-per-gpu.".into());
        }
        if p.preread && p.scratch.is_some() {
            n.push("--preread_images reads the set into RAM: scratch is then not used.".into());
        }
    }
    if p.sym_expand > 1 {
        n.push(format!(
            "symmetry expansion ×{}: {} rows, each image read and copied once per row (3dem/relion #462)",
            p.sym_expand,
            units::group_digits(rows(p))
        ));
    }
    if p.target.mig.is_some() {
        n.push("MIG slice memory is the profile's fraction of the GPU (NVIDIA MIG user guide); the driver keeps a little back (`nvidia-smi mig -lgip`). The Slurm gres type of a slice is site configuration (gres.conf).".into());
    }
    n
}

/// The MIG profiles of the target GPU, each with whether `per_gpu` bytes
/// fit it and the largest box that does.
fn mig_rows(p: &FitParams, per_gpu: u64) -> Vec<MigRow> {
    p.target
        .mig_profiles
        .iter()
        .map(|m| {
            let bytes = m.memory_bytes(p.target.gpu_vram_bytes);
            MigRow {
                profile: m.profile.clone(),
                bytes,
                max_instances: m.max_instances,
                fits: per_gpu <= bytes,
                max_box: max_box(&p.job, bytes, p.pad, p.classes, p.ranks_per_gpu).map(|x| x.0),
            }
        })
        .collect()
}

/// The VRAM figure's formula with this job's numbers in it.
fn vram_formula(p: &FitParams) -> String {
    match p.job.software {
        Software::Relion => format!(
            "{} rank(s) × {} class(es) × 11 B × ({}·{})³",
            p.ranks_per_gpu, p.classes, p.pad, p.box_size
        ),
        Software::Cryosparc => format!(
            "datasets/vram.csv {}: {} + {} B·{}³ + {} B·{}²",
            p.job.id,
            units::bytes_decimal(p.job.vram.base_bytes as u64),
            p.job.vram.bytes_per_voxel
                + f64::from(p.classes) * p.job.vram.bytes_per_voxel_per_class,
            p.box_size,
            p.job.vram.bytes_per_pixel
                + f64::from(p.classes) * p.job.vram.bytes_per_pixel_per_class,
            p.box_size
        ),
    }
}

/// VRAM per rank and per GPU against the budget, the largest box, and
/// each MIG slice.
fn vram_fit(p: &FitParams) -> VramFit {
    let budget = p.target.budget();
    let per_gpu = vram_per_gpu(&p.job, p.box_size, p.pad, p.classes, p.ranks_per_gpu);
    let mb = max_box(&p.job, budget, p.pad, p.classes, p.ranks_per_gpu);
    let mig = mig_rows(p, per_gpu);
    let smallest_mig = mig.iter().find(|m| m.fits).map(|m| m.profile.clone());
    VramFit {
        per_rank_bytes: vram_per_rank(&p.job, p.box_size, p.pad, p.classes),
        per_gpu_bytes: per_gpu,
        fits: per_gpu <= budget,
        max_box: mb.map(|x| x.0),
        max_box_limit: mb.map(|x| limit_name(x.1).to_string()),
        formula: vram_formula(p),
        basis: p.job.vram.basis.clone(),
        source: p.job.vram.source.clone(),
        mig,
        smallest_mig,
    }
}

/// The lines to ask for the job: #SBATCH always, RELION's flags for a
/// RELION job, the cluster lane's variables for a CryoSPARC one.
fn lines(p: &FitParams, ram: &RamFit, cpu: &CpuFit, time: &TimeFit) -> FitLines {
    let lane = match p.job.software {
        Software::Cryosparc => vec![
            ("num_gpu".to_string(), u64::from(p.gpus)),
            ("num_cpu".to_string(), u64::from(cpu.threads)),
            ("ram_gb".to_string(), ram.request_gib),
        ],
        Software::Relion => Vec::new(),
    };
    FitLines {
        sbatch: sbatch_lines(p, ram, time),
        relion: (p.job.software == Software::Relion).then(|| relion_flags(p)),
        lane,
    }
}

/// The job as asked for, for the report.
fn input(p: &FitParams) -> FitInput {
    FitInput {
        job: p.job.id.clone(),
        job_label: p.job.label.clone(),
        software: match p.job.software {
            Software::Relion => "relion".into(),
            Software::Cryosparc => "cryosparc".into(),
        },
        particles: p.particles,
        box_size: p.box_size,
        dtype: p.dtype,
        sym_expand: p.sym_expand,
        from: p.from.clone(),
        pad: (p.job.software == Software::Relion).then_some(p.pad),
        classes: p.classes,
        ranks_per_gpu: p.ranks_per_gpu,
        threads: p.threads,
        preread: p.preread,
        gpus: p.gpus,
        passes: p.passes,
    }
}

/// The node (or slice) the job is sent to, for the report.
fn target(p: &FitParams) -> FitTarget {
    FitTarget {
        label: p.target.label.clone(),
        gpu: p.target.gpu.clone(),
        gpu_vram_bytes: p.target.gpu_vram_bytes,
        mig: p.target.mig.as_ref().map(|m| m.profile.clone()),
        budget_bytes: p.target.budget(),
        ram_bytes: p.target.ram_bytes,
        cores: p.target.cores,
    }
}

/// Fits `p`'s job to its target.
pub(crate) fn fit(p: &FitParams, catalog: &Catalog) -> FitReport {
    let _ = catalog;
    let v = vram_fit(p);
    let ram = ram(p, v.per_rank_bytes);
    let cpu = cpu(p);
    let sc = p.scratch.as_ref().map(|s| scratch(p, s));
    let time = time(p, sc.as_ref());
    let cache_ok = !matches!(&sc, Some(s) if s.rule == "cryosparc-cache" && !s.fits_whole);
    let fits = v.fits && ram.fits != Some(false) && cache_ok;
    let remedies = if fits {
        Vec::new()
    } else {
        remedies(p, &v, &ram, sc.as_ref())
    };
    FitReport {
        input: input(p),
        target: target(p),
        lines: lines(p, &ram, &cpu, &time),
        notes: notes(p, sc.as_ref()),
        vram: v,
        ram,
        cpu,
        scratch: sc,
        time,
        fits,
        remedies,
    }
}

mod script;
pub(crate) use script::sbatch_script;
use script::{relion_flags, sbatch_lines};

#[cfg(test)]
mod tests;
