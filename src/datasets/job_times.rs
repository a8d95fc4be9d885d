//! `datasets/job-times.csv`: published run times of real jobs, one run a
//! row with its source, the job-time model's calibration data.

use serde::Deserialize;

/// One published run.
#[derive(Debug, Clone, Deserialize)]
pub struct JobTimeRow {
    pub id: String,
    pub software: String,
    pub version: Option<String>,
    /// The model's job name (`relion-class3d`, ...).
    pub job: String,
    pub dataset: String,
    pub particles: Option<u64>,
    #[serde(rename = "box")]
    pub box_size: Option<u32>,
    pub pixel_a: Option<f64>,
    /// The image size the job worked at, where the source says.
    pub image_size: Option<u32>,
    pub classes: Option<u32>,
    /// A count, `auto` (RELION auto-refine), or text such as `1 of 25`.
    pub iterations: Option<String>,
    pub healpix_order: Option<u32>,
    pub symmetry: Option<String>,
    /// Catalog GPU id; empty for a CPU run.
    pub gpu: Option<String>,
    /// GPUs per node (0 for a CPU run).
    pub gpus: Option<u32>,
    pub nodes: Option<u32>,
    pub ranks: Option<u32>,
    pub threads: Option<u32>,
    pub cpu_accel: Option<bool>,
    pub cpu_model: Option<String>,
    pub cores: Option<u32>,
    pub wall_seconds: f64,
    /// whole-command, whole-stage, expectation-step, per-iteration,
    /// per-epoch or whole-workflow.
    pub timed: String,
    /// published, derived, anomalous or anecdotal.
    pub status: String,
    pub source_url: String,
    pub source_quote: String,
    pub notes: Option<String>,
}
