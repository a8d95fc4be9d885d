//! What `cryocap recommend` found: feasible node configurations ranked by
//! cost per dataset, those left out and why, the Pareto frontier of node
//! price against throughput, and the cheapest fleet meeting the target.

use serde::{Deserialize, Serialize};

use super::plan::Dtype;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendReport {
    pub workload: Vec<WorkloadClass>,
    pub prices: PricesUsed,
    pub constraints: ConstraintsUsed,
    /// The measured GPU every other GPU's rate is scaled from.
    pub gpu_reference: String,
    /// VRAM the workload's largest box needs in its most demanding job.
    pub vram_needed_bytes: u64,
    /// Feasible configurations, cheapest per dataset first.
    pub ranked: Vec<RankedConfig>,
    pub pruned: Vec<PrunedConfig>,
    /// Labels of the Pareto frontier, cheapest node first.
    pub frontier: Vec<String>,
    /// Label of the cheapest fleet meeting the target within the budget.
    pub chosen: Option<String>,
    /// What no configuration reaches, when none is chosen.
    pub short: Option<String>,
    /// What would change the answer: the next cheaper fleet and the
    /// constraint it misses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// Figures taken from `--measured` results instead of the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measured: Vec<MeasuredFigure>,
    pub notes: Vec<String>,
}

/// A figure measured on a candidate node type (`--measured`), which
/// replaces the modelled one for exactly that GPU model or storage tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredFigure {
    /// `gpu rate` or `storage read rate`.
    pub figure: String,
    /// The catalog GPU or storage tier it applies to.
    pub node_type: String,
    /// Particles per second per GPU at `at_box`, or bytes per second.
    pub value: f64,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_box: Option<u32>,
    /// The results file and the kind of result it is.
    pub file: String,
    pub kind: String,
    /// The host it was measured on (`unknown` when the file does not say).
    pub host: String,
    /// When, seconds since the Unix epoch (absent when the file does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    /// Ranked configurations it applies to.
    pub applies_to: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadClass {
    pub name: String,
    pub per_month: f64,
    pub particles: u64,
    pub box_size: u32,
    pub dtype: Dtype,
    /// `job×passes` for each job of the chain.
    pub chain: Vec<String>,
    pub stack_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricesUsed {
    /// The price list every cost derives from.
    pub file: String,
    pub currency: String,
    /// Items whose price is a placeholder, not a public price.
    pub placeholders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintsUsed {
    pub budget: Option<f64>,
    pub max_nodes: u32,
    /// `--nodes`: exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    pub target_per_month: f64,
    /// Longest a dataset may take on one node, hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hours_per_dataset: Option<f64>,
    /// Price of a kWh (`--power-price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_price: Option<f64>,
    /// Watts per node besides the GPUs, when power is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_power_w: Option<f64>,
    pub years: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedConfig {
    pub label: String,
    pub gpu: String,
    pub gpus_per_node: u32,
    pub tier: String,
    /// How its job times were reached: `calibrated` (calibration rows ran
    /// on this GPU), `extrapolated` (from its catalog bandwidth and FP32),
    /// `proxy` (a job type timed as another's). Files written before the
    /// job-time model say `measured` or `scaled` (a bench gpu rate).
    pub gpu_rate_basis: String,
    /// Where its job times come from, in words (the calibration rows).
    pub gpu_rate_source: String,
    /// One GPU's insertion rate, in files written before the job-time model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_particles_per_second: Option<f64>,
    /// The 90 % interval of the hours per dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_high: Option<f64>,
    /// The slowest class's dataset, job by job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<JobTime>,
    /// The storage tier's sequential read rate used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_read_bytes_per_second: Option<f64>,
    /// Hours of the mean dataset spent filling the SSD cache (with `--ssd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_hours_per_dataset: Option<f64>,
    /// `measured` or `modelled` (absent in files written before `--measured`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_read_basis: Option<String>,
    pub node_price: f64,
    /// Whether the node's price uses a placeholder item.
    pub placeholder_price: bool,
    pub hours_per_dataset: f64,
    pub datasets_per_month_per_node: f64,
    /// `gpu`, `storage` or `copy` (filling the SSD cache).
    pub bottleneck: String,
    pub nodes: u32,
    pub fleet_price: f64,
    pub fleet_datasets_per_month: f64,
    pub cost_per_dataset: f64,
    /// Watts a node draws at full load (GPUs at board power plus the base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_power_w: Option<f64>,
    /// Energy cost of one dataset, included in cost_per_dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_per_dataset: Option<f64>,
    /// Cost of a million particle-passes of the workload's mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_million_particle_passes: Option<f64>,
    /// Hours the slowest class's dataset takes on one node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowest_hours_per_dataset: Option<f64>,
    /// The constraint it misses, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misses: Option<String>,
    pub meets_target: bool,
    pub within_budget: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrunedConfig {
    pub label: String,
    pub reason: String,
}

/// One job of a dataset's chain on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobTime {
    pub job: String,
    pub hours: f64,
    pub low: f64,
    pub high: f64,
    /// `gpu` or `storage`.
    pub bottleneck: String,
    /// `calibrated`, `extrapolated` or `proxy`.
    pub basis: String,
}
