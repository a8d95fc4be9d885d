//! The job-time model's results: a prediction (`jobs predict`) and the
//! leave-one-out validation of the calibration (`jobs validate`).

use serde::{Deserialize, Serialize};

/// One row, predicted without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowCheck {
    pub id: String,
    pub job: String,
    pub device: String,
    pub status: String,
    pub weight: f64,
    pub actual_seconds: f64,
    /// None when the other rows do not calibrate this job type.
    pub predicted_seconds: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// (predicted − actual) ÷ actual, percent.
    pub error_pct: Option<f64>,
    pub covered: Option<bool>,
    pub note: Option<String>,
}

/// Per job type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub job: String,
    pub rows: usize,
    /// Rows predicted (the others leave the job type uncalibrated).
    pub predicted: usize,
    pub median_abs_error_pct: Option<f64>,
    pub worst_abs_error_pct: Option<f64>,
    /// Share of predicted rows inside their interval, percent.
    pub coverage_pct: Option<f64>,
}

/// The whole validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub rows: Vec<RowCheck>,
    pub jobs: Vec<JobSummary>,
    pub unusable: Vec<UnusableRow>,
    /// Each dataset's rows predicted by the model fitted without any of
    /// them: the error a dataset new to the calibration meets.
    #[serde(default)]
    pub new_datasets: Vec<DatasetCheck>,
}

/// One job type's rows of one dataset, predicted as if the dataset were new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetCheck {
    pub job: String,
    pub dataset: String,
    pub rows: usize,
    pub median_error_pct: Option<f64>,
    pub worst_abs_error_pct: Option<f64>,
    pub coverage_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnusableRow {
    pub id: String,
    pub job: String,
    pub reason: String,
}

/// The fitted parameters, as `jobs validate` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedModel {
    /// What the model was fitted to.
    pub basis: String,
    pub bandwidth_exponent: f64,
    pub fp32_exponent: f64,
    /// How a GPU fed by fewer than two RELION followers slows: × (followers ÷ 2)^this.
    #[serde(default)]
    pub follower_exponent: f64,
    /// Throughput of one CPU core in Tesla V100s: RELION's `--cpu` path and its plain code.
    pub core_accelerated: f64,
    pub core_plain: f64,
    /// Interval half-widths (ln units) added for an uncalibrated GPU and an unknown dataset.
    pub gpu_spread: f64,
    pub dataset_spread: f64,
    pub jobs: Vec<FittedJob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedJob {
    pub job: String,
    /// ln seconds per unit of work on one Tesla V100.
    pub log_scale: f64,
    pub serial_fraction: f64,
    pub serial_fitted: bool,
    /// Half-width of the 90 % interval, ln units.
    pub spread: f64,
    /// How far a dataset new to the calibration may sit (ln units, 90 %),
    /// from leaving each of the job type's datasets out; None where it has
    /// fewer than two (the model's dataset_spread then applies).
    #[serde(default)]
    pub new_dataset_spread: Option<f64>,
    pub rows: usize,
    pub gpus: Vec<String>,
}

/// `jobs validate`: the model and its leave-one-out errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobValidateReport {
    pub model: FittedModel,
    pub validation: Validation,
}

/// One job's predicted time (`jobs predict`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub seconds: f64,
    /// The 90 % prediction interval.
    pub low: f64,
    pub high: f64,
    /// Rows that calibrate this job type.
    pub calibrated_by: Vec<String>,
    /// Where the query leaves the calibrated ground, one line each.
    pub extrapolation: Vec<String>,
    /// The calibrated job type this one was timed as, where it has no
    /// calibration of its own (a modelled figure, not a calibrated one).
    #[serde(default)]
    pub proxy: Option<String>,
}

/// `jobs predict`: the question, the answer and how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPredictReport {
    pub job: String,
    pub job_label: String,
    pub software: String,
    /// What an iteration counts: `iteration` or `epoch`.
    pub unit: String,
    pub particles: u64,
    pub box_size: u32,
    /// The image size the model took the job to work at, and whether the user gave it.
    pub image_size: f64,
    pub image_size_given: bool,
    pub classes: u32,
    pub iterations: f64,
    pub symmetry_order: u32,
    /// `4× rtx-3090` or `64 cores (--cpu)`.
    pub device: String,
    pub dataset: Option<String>,
    /// The job's compute alone (the calibrated part).
    pub compute_seconds: f64,
    /// Reading the stack every iteration from `io_tier`, where given.
    pub io_seconds: Option<f64>,
    pub io_tier: Option<String>,
    /// Whether the program reads while it computes (then the slower counts).
    pub io_overlapped: bool,
    /// The copy before the job (cache fill or scratch copy), where asked.
    pub copy_seconds: Option<f64>,
    pub copy: Option<String>,
    /// Total, with the interval widened by the I/O and copy parts as they are.
    pub prediction: Prediction,
    /// gpu, cpu, storage or copy: the part that takes longest.
    pub bottleneck: String,
    /// Where the model comes from (the shipped rows or a calibration file).
    pub basis: String,
    pub notes: Vec<String>,
}
