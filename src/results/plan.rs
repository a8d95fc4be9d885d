//! What `cryocap plan` found.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    pub input: PlanInput,
    pub stack: StackReport,
    pub ssd: SsdReport,
    /// The GPU the VRAM rows were checked against, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vram_target: Option<VramTarget>,
    pub vram: Vec<VramRow>,
    /// GPUs in the catalog the VRAM rows were checked against (absent in
    /// schema 1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_gpus: Option<u32>,
    /// The tier the SSD cache lives on in the storage rows' cached columns.
    pub cache_tier: String,
    pub storage: Vec<StorageRow>,
    /// What the node needs (the requirement profile scaled to --gpus).
    pub requirements: NodeReport,
    /// Hours of each job named with `--job` on each storage tier, from the
    /// job-time model (absent without `--job`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_times: Vec<PlanJobTime>,
    /// Caveats a reader must see next to the figures.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInput {
    pub particles: u64,
    #[serde(rename = "box")]
    pub box_size: u32,
    pub dtype: Dtype,
    /// `guide` or `exact`.
    pub size_model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub particles_per_file: Option<u64>,
    pub nsymbt: u64,
    pub gpus: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<u32>,
    pub passes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_size_a: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackReport {
    pub bytes: u64,
    /// Average bytes per particle, headers shared out.
    pub bytes_per_particle: f64,
    /// Bytes of one particle's pixels: what one particle read moves.
    pub pixel_bytes_per_particle: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    /// The formula behind `bytes`, written out.
    pub formula: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsdReport {
    /// Bytes the cache must hold: the whole stack.
    pub needed_bytes: u64,
    pub reserve_mb: u64,
    /// Nominal size of the recommended class (absent past the largest class).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended_class: Option<String>,
    /// The smallest drive sold in that class, which the check used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended_smallest_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacks_held: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_command: Option<String>,
    /// The drive named with `--ssd`, checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<SsdGiven>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsdGiven {
    pub drive_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_mb: Option<u64>,
    /// min(quota, drive − reserve).
    pub capacity_bytes: u64,
    pub fits: bool,
    pub connect_command: String,
    /// Ways to make the stack fit, when it does not.
    pub remedies: Vec<Remedy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VramTarget {
    pub label: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VramRow {
    pub job: String,
    pub label: String,
    /// `published`, `fitted` or `modelled`.
    pub basis: String,
    pub classes: u32,
    pub bytes_needed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_box: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_box_limit: Option<BoxLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fits: Option<bool>,
    /// Catalog GPUs with enough VRAM, when no GPU was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fits_gpus: Option<Vec<String>>,
    /// The one of those with the least VRAM (absent in schema 1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smallest_fit: Option<GpuRef>,
    pub source: String,
}

/// A catalog GPU, named with its VRAM as marketed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuRef {
    pub id: String,
    /// VRAM in GiB (the figure vendors market as "GB").
    pub vram_gib: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageRow {
    pub tier: String,
    pub label: String,
    pub seq_bytes_per_second: f64,
    pub random_particles_per_second: f64,
    pub seconds_per_pass_sequential: f64,
    pub seconds_per_pass_random: f64,
    /// `passes` passes in random order, read from this tier.
    pub seconds_all_passes_random: f64,
    /// Copying the stack from this tier to the cache drive.
    pub seconds_fill_cache: f64,
    /// Filling the cache once, then `passes` random passes from the cache.
    pub seconds_all_passes_cached: f64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub profile: String,
    pub gpus: u32,
    pub items: Vec<NodeItem>,
    pub examples: Vec<String>,
}

/// Pixel type of a stack on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// float32, MRC mode 2.
    F32,
    /// float16, MRC mode 12 (CryoSPARC v4.4+ can save particles this way).
    F16,
}

impl Dtype {
    pub fn bytes_per_pixel(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
        }
    }
    pub fn mrc_mode(self) -> u32 {
        match self {
            Dtype::F32 => 2,
            Dtype::F16 => 12,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
        }
    }
}

/// One requirement, scaled to the node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeItem {
    pub id: String,
    pub label: String,
    /// cores, bytes, bytes_per_second, bits_per_second, compute_capability, hertz.
    pub unit: String,
    /// `per node` or `each GPU`.
    pub applies_to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended: Option<f64>,
    pub source: String,
}

/// One way to make a stack fit a cache that is too small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remedy {
    /// `float16`, `fourier_crop` or `fewer_particles`.
    pub kind: String,
    /// The new box (fourier_crop) or particle count (fewer_particles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    pub stack_bytes: u64,
    pub fits: bool,
}

/// What stops a job from going to a larger box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxLimit {
    /// The next even box needs more VRAM than there is.
    Memory,
    /// The software caps the box here (e.g. CryoSPARC refinement at 1126).
    SoftwareCap,
    /// cryocap's own ceiling (box 8192): memory is not the limit.
    Ceiling,
}

/// One job on one storage tier (`plan --job`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanJobTime {
    pub job: String,
    pub tier: String,
    /// `4× rtx-3090`.
    pub device: String,
    pub iterations: f64,
    pub seconds: f64,
    /// The 90 % interval.
    pub low: f64,
    pub high: f64,
    /// `gpu` or `storage`.
    pub bottleneck: String,
    /// `calibrated`, `extrapolated` or `proxy`.
    pub basis: String,
}
