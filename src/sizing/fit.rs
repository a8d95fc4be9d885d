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

/// RELION's `--gpu` value: ranks in order, `ranks_per_gpu` on each device
/// (devices numbered from 0 as Slurm shows the allocated ones).
pub(crate) fn relion_gpu_map(gpus: u32, ranks_per_gpu: u32) -> String {
    (0..gpus)
        .flat_map(|g| std::iter::repeat_n(g, ranks_per_gpu as usize))
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(":")
}

fn quoted(s: &str) -> String {
    crate::fleet::script::shell_quote(s)
}

fn relion_flags(p: &FitParams) -> String {
    let mut f = vec![
        "--gpu".to_string(),
        quoted(&relion_gpu_map(p.gpus, p.ranks_per_gpu)),
        "--j".into(),
        p.threads.to_string(),
        "--pad".into(),
        p.pad.to_string(),
    ];
    if p.job.takes_classes {
        f.push("--K".into());
        f.push(p.classes.to_string());
    }
    if p.preread {
        f.push("--preread_images".into());
    } else if let Some(s) = &p.scratch {
        f.push("--scratch_dir".into());
        // no directory named: the node's own temporary directory, expanded
        // by the shell (a literal of ours, not a user's path)
        f.push(match p.paths.scratch_dir.as_deref() {
            Some(d) => quoted(d),
            None => "\"${TMPDIR:-/tmp}\"".into(),
        });
        f.push("--keep_free_scratch".into());
        f.push(format!("{}", s.keep_free_bytes.div_ceil(1_000_000_000)));
    }
    f.join(" ")
}

fn sbatch_lines(p: &FitParams, ram: &RamFit, time: &TimeFit) -> Vec<String> {
    let gres = match &p.target.mig {
        Some(m) => format!("gpu:{}:{}", m.profile, p.gpus),
        None => format!("gpu:{}", p.gpus),
    };
    let mut l = vec![format!("#SBATCH --gres={gres}")];
    match p.job.software {
        Software::Relion => {
            l.push(format!("#SBATCH --ntasks={}", ranks(p) + 1));
            l.push(format!("#SBATCH --cpus-per-task={}", p.threads));
        }
        Software::Cryosparc => {
            l.push("#SBATCH --ntasks=1".into());
            l.push(format!("#SBATCH --cpus-per-task={}", p.threads));
        }
    }
    l.push(format!("#SBATCH --mem={}G", ram.request_gib));
    if let Some(t) = &time.time_limit {
        l.push(format!("#SBATCH --time={t}"));
    }
    l
}

/// The `--emit-sbatch` script: the `#SBATCH` block and the RELION command
/// line, every path quoted as `fleet` quotes them.
pub(crate) fn sbatch_script(r: &FitReport, p: &FitParams) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# written by cryocap fit: {} at box {}, {} rank(s) per GPU\n",
        r.input.job, r.input.box_size, r.input.ranks_per_gpu
    ));
    for l in &r.lines.sbatch {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("set -euo pipefail\n");
    let program = "relion_refine_mpi";
    let mut cmd = vec![
        "srun".to_string(),
        program.to_string(),
        "--i".into(),
        quoted(p.paths.particles.as_deref().unwrap_or("particles.star")),
        "--o".into(),
        quoted(&format!("{}/run", p.paths.job_dir.trim_end_matches('/'))),
    ];
    if p.job.id == "relion-refine" {
        cmd.push("--auto_refine".into());
        cmd.push("--split_random_halves".into());
    }
    if let Some(f) = &r.lines.relion {
        cmd.push(f.clone());
    }
    s.push_str(&format!("mkdir -p -- {}\n", quoted(&p.paths.job_dir)));
    s.push_str(&cmd.join(" "));
    s.push('\n');
    s
}

fn remedies(p: &FitParams, v: &VramFit, ram: &RamFit, sc: Option<&ScratchFit>) -> Vec<FitRemedy> {
    let mut out = Vec::new();
    let budget = p.target.budget();
    if !v.fits {
        if p.job.software == Software::Relion && p.pad > 1 {
            let need = vram_per_gpu(&p.job, p.box_size, 1, p.classes, p.ranks_per_gpu);
            if need <= budget {
                out.push(FitRemedy {
                    kind: "pad".into(),
                    text: format!(
                        "--pad 1: {} per GPU (fits; costs some interpolation accuracy)",
                        units::bytes_binary(need)
                    ),
                });
            }
        }
        if p.ranks_per_gpu > 1 {
            let fewer = (1..p.ranks_per_gpu)
                .rev()
                .find(|&r| vram_per_gpu(&p.job, p.box_size, p.pad, p.classes, r) <= budget);
            if let Some(r) = fewer {
                out.push(FitRemedy {
                    kind: "ranks_per_gpu".into(),
                    text: format!(
                        "--ranks-per-gpu {r}: {} per GPU",
                        units::bytes_binary(vram_per_gpu(&p.job, p.box_size, p.pad, p.classes, r))
                    ),
                });
            }
        }
        if p.target.mig.is_some() {
            match &v.smallest_mig {
                Some(m) => out.push(FitRemedy {
                    kind: "mig".into(),
                    text: format!("a larger MIG slice: {m} holds it"),
                }),
                None if v.per_gpu_bytes <= p.target.gpu_vram_bytes => out.push(FitRemedy {
                    kind: "mig".into(),
                    text: "no MIG slice holds it: the whole GPU does (MIG off)".into(),
                }),
                None => {}
            }
        }
        if let Some(b) = v.max_box.filter(|&b| b >= super::MIN_BOX) {
            out.push(FitRemedy {
                kind: "fourier_crop".into(),
                text: format!(
                    "Fourier-crop (downsample) to box {b} or smaller: {} per GPU",
                    units::bytes_binary(vram_per_gpu(&p.job, b, p.pad, p.classes, p.ranks_per_gpu))
                ),
            });
        }
    }
    if ram.fits == Some(false) {
        if p.preread && p.job.software == Software::Relion {
            out.push(FitRemedy {
                kind: "no_preread".into(),
                text: format!(
                    "drop --preread_images (saves {} per rank) and read from scratch",
                    units::bytes_binary(ram.preread_bytes_per_rank)
                ),
            });
        }
        if p.ranks_per_gpu > 1 {
            out.push(FitRemedy {
                kind: "ranks_per_gpu".into(),
                text: "fewer ranks per GPU: each rank holds its own copy".into(),
            });
        }
    }
    if let Some(sc) = sc
        && sc.rule == "cryosparc-cache"
        && !sc.fits_whole
    {
        let usable = sc.free_bytes.saturating_sub(sc.keep_free_bytes);
        if p.dtype == Dtype::F32 && sc.set_bytes / 2 <= usable {
            out.push(FitRemedy {
                kind: "float16".into(),
                text: format!(
                    "float16 stacks (CryoSPARC v4.4+): about {} in the cache",
                    units::bytes_decimal(sc.set_bytes / 2)
                ),
            });
        }
        let per = p.dtype.bytes_per_pixel();
        let crop = largest_even(p.box_size, |b| {
            p.particles.saturating_mul(u64::from(b).pow(2) * per) <= usable
        });
        if let Some(b) = crop {
            out.push(FitRemedy {
                kind: "fourier_crop".into(),
                text: format!("Fourier-crop the stack to box {b} or smaller to cache it whole"),
            });
        }
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

/// Fits `p`'s job to its target.
pub(crate) fn fit(p: &FitParams, catalog: &Catalog) -> FitReport {
    let _ = catalog;
    let budget = p.target.budget();
    let per_rank = vram_per_rank(&p.job, p.box_size, p.pad, p.classes);
    let per_gpu = vram_per_gpu(&p.job, p.box_size, p.pad, p.classes, p.ranks_per_gpu);
    let mb = max_box(&p.job, budget, p.pad, p.classes, p.ranks_per_gpu);
    let mig: Vec<MigRow> = p
        .target
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
        .collect();
    let smallest_mig = mig.iter().find(|m| m.fits).map(|m| m.profile.clone());
    let formula = match p.job.software {
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
    };
    let v = VramFit {
        per_rank_bytes: per_rank,
        per_gpu_bytes: per_gpu,
        fits: per_gpu <= budget,
        max_box: mb.map(|x| x.0),
        max_box_limit: mb.map(|x| limit_name(x.1).to_string()),
        formula,
        basis: p.job.vram.basis.clone(),
        source: p.job.vram.source.clone(),
        mig,
        smallest_mig,
    };
    let ram = ram(p, per_rank);
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
    let lane = match p.job.software {
        Software::Cryosparc => vec![
            ("num_gpu".to_string(), u64::from(p.gpus)),
            ("num_cpu".to_string(), u64::from(cpu.threads)),
            ("ram_gb".to_string(), ram.request_gib),
        ],
        Software::Relion => Vec::new(),
    };
    let mut lines = FitLines {
        sbatch: sbatch_lines(p, &ram, &time),
        relion: None,
        lane,
    };
    if p.job.software == Software::Relion {
        lines.relion = Some(relion_flags(p));
    }
    let notes = notes(p, sc.as_ref());
    FitReport {
        input: FitInput {
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
        },
        target: FitTarget {
            label: p.target.label.clone(),
            gpu: p.target.gpu.clone(),
            gpu_vram_bytes: p.target.gpu_vram_bytes,
            mig: p.target.mig.as_ref().map(|m| m.profile.clone()),
            budget_bytes: budget,
            ram_bytes: p.target.ram_bytes,
            cores: p.target.cores,
        },
        vram: v,
        ram,
        cpu,
        scratch: sc,
        time,
        lines,
        fits,
        remedies,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RELION's `--keep_free_scratch` default, in its GB (10^9 bytes); the
    /// `--keep-free` flag's default.
    const DEFAULT_KEEP_FREE: u64 = 10_000_000_000;

    fn job(id: &str) -> FitJob {
        jobs(Catalog::get().unwrap())
            .into_iter()
            .find(|j| j.id == id)
            .unwrap()
    }

    fn tier(id: &str) -> StorageTier {
        Catalog::get().unwrap().storage_tier(id).unwrap().clone()
    }

    fn params(job_id: &str, box_size: u32, vram_gib: u64) -> FitParams {
        let j = job(job_id);
        let classes = classes_for(&j, None);
        FitParams {
            job: j,
            particles: 1_000_000,
            box_size,
            dtype: Dtype::F32,
            sym_expand: 1,
            stack_file_bytes: None,
            from: "flags".into(),
            pad: 2,
            classes,
            ranks_per_gpu: 1,
            threads: 4,
            preread: false,
            gpus: 1,
            passes: 20,
            target: Target {
                label: "test".into(),
                gpu: None,
                gpu_vram_bytes: vram_gib * GIB,
                mig: None,
                mig_profiles: Vec::new(),
                ram_bytes: None,
                cores: None,
            },
            scratch: None,
            project_tier: tier("nfs-10gbe"),
            margin: 1.5,
            paths: Paths {
                job_dir: "Refine3D/fit".into(),
                ..Paths::default()
            },
            compute: Err("not timed in this test".into()),
            time_given: None,
        }
    }

    /// RELION src/error.h: "about 1.1e-8 · (2N)³ GB per rank" in the last
    /// iteration (padding 2), and "box 450 just about fits in 8 GB".
    #[test]
    fn relion_anchor_per_rank_at_pad_2() {
        let r = job("relion-refine");
        for n in [128u32, 256, 432, 450, 600] {
            let want = 1.1e-8 * (2.0 * f64::from(n)).powi(3) * 1e9;
            let got = vram_per_rank(&r, n, 2, 1) as f64;
            assert!((got - want).abs() <= 1.0, "box {n}: {got} vs {want}");
        }
        let at450 = vram_per_rank(&r, 450, 2, 1);
        assert!(at450 <= 8 * GIB, "box 450 in 8 GiB: {at450}");
        let (b, _) = max_box(&r, 8 * GIB, 2, 1, 1).unwrap();
        assert!((450..=470).contains(&b), "8 GiB at pad 2 tops out at {b}");
    }

    /// 3dem/relion #654: at padding 1 RELION reaches about box 1000 in an
    /// 11 GB card, the weight array included (it adds about half).
    #[test]
    fn relion_anchor_pad_1_reaches_box_1000_in_11_gb() {
        let r = job("relion-refine");
        let (b, limit) = max_box(&r, 11 * GIB, 1, 1, 1).unwrap();
        assert_eq!(limit, BoxLimit::Memory);
        assert!((980..=1060).contains(&b), "11 GiB at pad 1: {b}");
        // pad 2 at the same card stops near half of that
        let (b2, _) = max_box(&r, 11 * GIB, 2, 1, 1).unwrap();
        assert!(b2 * 2 <= b + 4, "{b2} vs {b}");
    }

    #[test]
    fn ranks_share_the_gpu_and_mig_slices_are_fractions() {
        let r = job("relion-refine");
        assert_eq!(
            vram_per_gpu(&r, 432, 2, 1, 3),
            3 * vram_per_rank(&r, 432, 2, 1)
        );
        let c = Catalog::get().unwrap();
        let a100 = c.gpu("a100-80gb").unwrap();
        let slices = c.mig_profiles_of("a100-80gb");
        let s340 = slices.iter().find(|m| m.profile == "3g.40gb").unwrap();
        assert_eq!(s340.memory_bytes(a100.vram_bytes()), 40 * GIB);
        assert_eq!(slices.first().unwrap().profile, "1g.10gb");
    }

    #[test]
    fn relion_refine_432_on_a_3g40gb_slice() {
        let c = Catalog::get().unwrap();
        let a100 = c.gpu("a100-80gb").unwrap();
        let mut p = params("relion-refine", 432, 80);
        p.gpus = 1;
        p.ranks_per_gpu = 2;
        p.target.gpu = Some(a100.id.clone());
        p.target.mig_profiles = c
            .mig_profiles_of("a100-80gb")
            .into_iter()
            .cloned()
            .collect();
        p.target.mig = p
            .target
            .mig_profiles
            .iter()
            .find(|m| m.profile == "3g.40gb")
            .cloned();
        let r = fit(&p, c);
        assert!(r.vram.fits);
        assert_eq!(r.vram.smallest_mig.as_deref(), Some("1g.20gb"));
        assert!(
            r.lines
                .sbatch
                .contains(&"#SBATCH --gres=gpu:3g.40gb:1".to_string())
        );
        assert!(
            r.lines
                .relion
                .as_deref()
                .unwrap()
                .starts_with("--gpu 0:0 --j 4 --pad 2")
        );
        // 1g.10gb is too small for two ranks: a remedy names a larger slice
        p.target.mig = p.target.mig_profiles.first().cloned();
        let r = fit(&p, c);
        assert!(!r.fits);
        assert!(
            r.remedies
                .iter()
                .any(|m| m.kind == "mig" && m.text.contains("1g.20gb"))
        );
        assert!(r.remedies.iter().any(|m| m.kind == "ranks_per_gpu"));
        assert!(r.remedies.iter().any(|m| m.kind == "fourier_crop"));
    }

    #[test]
    fn padding_remedy_when_pad_1_fits() {
        let p = params("relion-refine", 700, 11);
        let r = fit(&p, Catalog::get().unwrap());
        assert!(!r.fits);
        assert!(
            r.remedies.iter().any(|m| m.kind == "pad"),
            "{:?}",
            r.remedies
        );
    }

    #[test]
    fn relion_scratch_fills_in_order_up_to_the_reserve_as_float32() {
        let mut p = params("relion-refine", 256, 24);
        p.dtype = Dtype::F16;
        p.scratch = Some(Scratch {
            free_bytes: 110_000_000_000,
            keep_free_bytes: DEFAULT_KEEP_FREE,
            tier: tier("nvme-gen4"),
        });
        let sc = scratch(&p, p.scratch.as_ref().unwrap());
        let per = 256u64 * 256 * 4; // float32 on scratch
        assert_eq!(sc.set_bytes, 1_000_000 * per);
        assert_eq!(sc.particles_on_scratch, 100_000_000_000 / per);
        assert_eq!(
            sc.particles_from_project,
            1_000_000 - sc.particles_on_scratch
        );
        // the rest is read as stored (float16) from the project every pass
        assert_eq!(
            sc.bytes_per_pass_from_project,
            sc.particles_from_project * 256 * 256 * 2
        );
        assert!(!sc.fits_whole);
        // symmetry expansion ×4 takes four times the space
        p.sym_expand = 4;
        let sc4 = scratch(&p, p.scratch.as_ref().unwrap());
        assert_eq!(sc4.set_bytes, 4 * sc.set_bytes);
    }

    #[test]
    fn cryosparc_cache_is_whole_files_or_nothing() {
        let mut p = params("nu-refine", 256, 24);
        p.stack_file_bytes = Some(300_000_000_000);
        p.scratch = Some(Scratch {
            free_bytes: 250_000_000_000,
            keep_free_bytes: DEFAULT_KEEP_FREE,
            tier: tier("nvme-gen4"),
        });
        let r = fit(&p, Catalog::get().unwrap());
        let sc = r.scratch.as_ref().unwrap();
        assert_eq!(sc.bytes_on_scratch, 0);
        assert!(!r.fits);
        assert!(r.remedies.iter().any(|m| m.kind == "float16"));
        p.stack_file_bytes = Some(200_000_000_000);
        let r = fit(&p, Catalog::get().unwrap());
        assert!(r.fits);
        assert_eq!(r.scratch.unwrap().bytes_on_scratch, 200_000_000_000);
    }

    #[test]
    fn preread_holds_the_set_per_rank() {
        let mut p = params("relion-refine", 256, 80);
        p.preread = true;
        p.gpus = 2;
        p.ranks_per_gpu = 2;
        p.target.ram_bytes = Some(256 * GIB);
        let r = fit(&p, Catalog::get().unwrap());
        assert_eq!(r.ram.preread_bytes_per_rank, 1_000_000 * 256 * 256 * 4);
        assert_eq!(r.ram.ranks, 4);
        assert_eq!(r.ram.fits, Some(false));
        assert!(r.remedies.iter().any(|m| m.kind == "no_preread"));
        assert_eq!(r.time.seconds_per_pass, 0.0);
    }

    #[test]
    fn time_counts_the_models_upper_bound_and_is_left_out_without_one() {
        let mut p = params("relion-refine", 256, 80);
        let r = fit(&p, Catalog::get().unwrap());
        assert_eq!(r.time.time_limit, None);
        assert!(
            !r.lines
                .sbatch
                .iter()
                .any(|l| l.starts_with("#SBATCH --time"))
        );
        p.compute = Ok(crate::jobtime::Prediction {
            seconds: 36_000.0,
            low: 20_000.0,
            high: 72_000.0,
            calibrated_by: vec!["row".into()],
            extrapolation: Vec::new(),
            proxy: None,
        });
        let r = fit(&p, Catalog::get().unwrap());
        let reading = r.time.seconds_first + r.time.seconds_per_pass * 20.0;
        let want = slurm_time((reading + 72_000.0) * 1.5);
        assert_eq!(r.time.time_limit.as_deref(), Some(want.as_str()));
        assert!(r.lines.sbatch.contains(&format!("#SBATCH --time={want}")));
        p.time_given = Some("2-00:00:00".into());
        let r = fit(&p, Catalog::get().unwrap());
        assert_eq!(r.time.time_limit.as_deref(), Some("2-00:00:00"));
    }

    #[test]
    fn slurm_time_is_rounded_up_and_at_least_an_hour() {
        assert_eq!(slurm_time(10.0), "0-01:00:00");
        assert_eq!(slurm_time(3601.0 * 30.0), "1-06:01:00");
        assert_eq!(slurm_time(f64::NAN), "0-01:00:00");
        assert_eq!(relion_gpu_map(2, 2), "0:0:1:1");
    }

    proptest! {
        /// More classes, ranks or padding never need less VRAM, and a
        /// larger budget never gives a smaller box.
        #[test]
        fn more_never_needs_less(
            b in 2u32..2000, k in 1u32..50, r in 1u32..8, budget in 1u64..200,
            id in prop::sample::select(vec!["relion-refine", "relion-class3d", "hetero-refine", "nu-refine", "class2d"]),
        ) {
            let j = job(id);
            let base = vram_per_gpu(&j, b, 1, k, r);
            prop_assert!(vram_per_gpu(&j, b, 2, k, r) >= base);
            prop_assert!(vram_per_gpu(&j, b, 1, k + 1, r) >= base);
            prop_assert!(vram_per_gpu(&j, b, 1, k, r + 1) >= base);
            prop_assert!(vram_per_gpu(&j, b + 2, 1, k, r) >= base);
            let small = max_box(&j, budget * GIB, 2, k, r).map_or(0, |x| x.0);
            let large = max_box(&j, (budget + 1) * GIB, 2, k, r).map_or(0, |x| x.0);
            prop_assert!(large >= small);
            let fewer = max_box(&j, budget * GIB, 2, k, r + 1).map_or(0, |x| x.0);
            prop_assert!(fewer <= small);
        }

        /// RAM per node grows with ranks and pre-reading; scratch never
        /// holds more than its free space less the reserve.
        #[test]
        fn ram_and_scratch_bounds(
            b in 16u32..800, n in 1u64..5_000_000, r in 1u32..4, g in 1u32..8,
            free in 11u64..2000, sym in 1u32..8,
        ) {
            let mut p = params("relion-refine", b, 80);
            p.particles = n;
            p.ranks_per_gpu = r;
            p.gpus = g;
            p.sym_expand = sym;
            let c = Catalog::get().unwrap();
            let base = fit(&p, c).ram.per_node_bytes;
            p.preread = true;
            prop_assert!(fit(&p, c).ram.per_node_bytes >= base);
            p.preread = false;
            p.ranks_per_gpu = r + 1;
            prop_assert!(fit(&p, c).ram.per_node_bytes >= base);
            let s = Scratch { free_bytes: free * 1_000_000_000, keep_free_bytes: DEFAULT_KEEP_FREE, tier: tier("nvme-gen4") };
            let sc = scratch(&p, &s);
            prop_assert!(sc.bytes_on_scratch <= s.free_bytes - s.keep_free_bytes);
            prop_assert_eq!(sc.particles_on_scratch + sc.particles_from_project, n * u64::from(sym));
        }
    }
}
