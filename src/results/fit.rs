//! What `cryocap fit` found: one job against one node and its scheduler.

use serde::{Deserialize, Serialize};

use super::plan::Dtype;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    pub input: FitInput,
    pub target: FitTarget,
    pub vram: VramFit,
    pub ram: RamFit,
    pub cpu: CpuFit,
    /// Absent when no scratch or cache size was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratch: Option<ScratchFit>,
    pub time: TimeFit,
    pub lines: FitLines,
    /// Whether the job fits where it is sent (VRAM, RAM, and for CryoSPARC
    /// the cache).
    pub fits: bool,
    /// What would make it fit, when it does not.
    pub remedies: Vec<FitRemedy>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInput {
    pub job: String,
    pub job_label: String,
    /// `relion` or `cryosparc`.
    pub software: String,
    pub particles: u64,
    #[serde(rename = "box")]
    pub box_size: u32,
    pub dtype: Dtype,
    /// Rows per image (symmetry expansion); 1 when not expanded.
    pub sym_expand: u32,
    /// Where the particles, box and dtype came from: `flags` or a file.
    pub from: String,
    /// RELION padding factor (`--pad`); absent for CryoSPARC jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pad: Option<u32>,
    pub classes: u32,
    pub ranks_per_gpu: u32,
    pub threads: u32,
    pub preread: bool,
    pub gpus: u32,
    pub passes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitTarget {
    /// How the target was named: a catalog GPU, `--vram 24`, a qualify file.
    pub label: String,
    /// The catalog GPU, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    pub gpu_vram_bytes: u64,
    /// The MIG profile the job is sent to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mig: Option<String>,
    /// The memory the job's ranks share on one GPU (or MIG slice).
    pub budget_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ram_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VramFit {
    pub per_rank_bytes: u64,
    pub per_gpu_bytes: u64,
    pub fits: bool,
    /// The largest even box that fits the budget with these settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_box: Option<u32>,
    /// `memory`, `software-cap` or `ceiling`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_box_limit: Option<String>,
    /// How the figure is made, e.g. `4 ranks × 11 B × (2·432)³`.
    pub formula: String,
    /// `published`, `fitted` or `modelled`.
    pub basis: String,
    pub source: String,
    /// Every MIG profile of the GPU, smallest first, when it has any.
    pub mig: Vec<MigRow>,
    /// The smallest MIG profile that holds the job's ranks on one GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smallest_mig: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigRow {
    pub profile: String,
    pub bytes: u64,
    pub max_instances: u32,
    pub fits: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_box: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RamFit {
    /// Host memory one rank (or CryoSPARC job) holds besides pre-read images.
    pub working_bytes_per_rank: u64,
    /// `--preread_images`: every rank's copy of the whole set, as float32.
    pub preread_bytes_per_rank: u64,
    /// Processes on the node that hold that memory.
    pub ranks: u32,
    pub per_node_bytes: u64,
    /// The figure for `#SBATCH --mem` and `ram_gb`, in whole GiB.
    pub request_gib: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fits: Option<bool>,
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuFit {
    pub threads_per_rank: u32,
    pub ranks: u32,
    pub threads: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    /// Cores per GPU against docs/sources.md §4's minimum of 2.
    pub cores_per_gpu_minimum: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScratchFit {
    /// How the software fills it: `relion-scratch` or `cryosparc-cache`.
    pub rule: String,
    pub free_bytes: u64,
    pub keep_free_bytes: u64,
    /// Bytes the whole set takes there (float32 for RELION; whole files for
    /// CryoSPARC).
    pub set_bytes: u64,
    pub particles_on_scratch: u64,
    pub bytes_on_scratch: u64,
    pub particles_from_project: u64,
    /// Bytes each pass reads from the slower (project) tier.
    pub bytes_per_pass_from_project: u64,
    pub fits_whole: bool,
    pub scratch_tier: String,
    pub seconds_fill: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeFit {
    pub project_tier: String,
    /// Seconds of reading in one pass over the set, where it then lies.
    pub seconds_per_pass: f64,
    /// Copying to scratch, or the one read of `--preread_images`.
    pub seconds_first: f64,
    pub seconds_total: f64,
    pub margin: f64,
    /// The job's compute from the job-time model and the top of its 90 %
    /// interval, which `--time` counts (absent without a calibrated model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_compute: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_compute_high: Option<f64>,
    /// The calibration rows behind it, or why there is no compute time.
    #[serde(default)]
    pub compute_basis: String,
    /// Slurm `--time`, `D-HH:MM:SS` (or the user's `--time`); None when the
    /// job type has no calibration and none was given.
    pub time_limit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitLines {
    pub sbatch: Vec<String>,
    /// RELION's flags for this job; absent for CryoSPARC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relion: Option<String>,
    /// CryoSPARC cluster-lane variables (`num_gpu`, `num_cpu`, `ram_gb`).
    pub lane: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRemedy {
    /// `pad`, `ranks_per_gpu`, `mig`, `fourier_crop`, `float16`, `no_preread`,
    /// `scratch`.
    pub kind: String,
    pub text: String,
}
