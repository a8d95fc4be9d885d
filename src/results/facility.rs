//! `facility`: a simulated month (or `--days N`) of a whole facility, as
//! variants side by side: the facility as configured first, then each
//! `--what-if`. Times are hours; utilisations are shares of capacity, 0..1.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilityReport {
    /// The facility file as given.
    pub config: String,
    pub days: f64,
    pub seed: u64,
    pub replicates: u32,
    /// How job times were had (the job-time model's basis) and how far off
    /// they can be.
    pub job_time_basis: String,
    /// `fixed` (the model's central time) or `interval` (drawn from its
    /// prediction interval).
    pub job_time_draw: String,
    pub variants: Vec<Variant>,
    pub notes: Vec<String>,
}

/// The facility as configured, or one what-if of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// `as configured`, or the what-if as written.
    pub name: String,
    pub sessions: u64,
    pub datasets: u64,
    /// Datasets whose whole chain finished (sessions end within the horizon;
    /// their jobs run to the end).
    pub finished: u64,
    pub labs: Vec<LabTimes>,
    pub queues: Vec<QueueStats>,
    pub resources: Vec<Utilisation>,
    pub storage: StorageUse,
    /// The resource that saturates first, with the figures that show it.
    pub binding: Binding,
    /// What the variant's extra hardware costs, by the price list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// One point a day (the first replicate).
    pub timeline: Vec<DayPoint>,
    /// Quantiles 0, 5, ..., 100 % of hours from session end to final
    /// refinement, per lab (every replicate).
    pub time_to_final_cdf: Vec<LabCdf>,
    pub checks: Checks,
}

/// p50, p90 and max of a set of hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub p50: f64,
    pub p90: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabTimes {
    pub lab: String,
    pub datasets: u64,
    pub finished: u64,
    /// Session end to the first 3D job's end (None: no 3D job finished).
    pub first_map_h: Option<Spread>,
    /// Session end to the end of the dataset's chain.
    pub final_h: Option<Spread>,
    /// Waits of the lab's GPU jobs in the queue.
    pub queue_wait_h: Option<Spread>,
    /// The replicates' p50 of `final_h`: lowest and highest (spread between
    /// seeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_p50_range_h: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// `gpu` or `pre-processing`.
    pub queue: String,
    pub jobs: u64,
    pub wait_h: Option<Spread>,
    pub mean_wait_h: f64,
    /// Time-average jobs waiting over the run.
    pub mean_length: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utilisation {
    /// e.g. `gpu: a5000-nodes`, `link: storage`, `ssd: a5000-nodes`.
    pub resource: String,
    /// Mean share of capacity busy over the horizon.
    pub mean: f64,
    /// The busiest day's mean.
    pub peak_day: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageUse {
    pub capacity_bytes: u64,
    pub start_bytes: u64,
    pub end_bytes: u64,
    /// The day (from the start) storage fills, if it does.
    pub full_on_day: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub resource: String,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub amount: f64,
    pub currency: String,
    /// What is priced, item by item.
    pub what: String,
    /// Added items the price list has no price for (not in `amount`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    pub day: u32,
    pub gpu: f64,
    pub preprocessing: f64,
    pub link: f64,
    pub ssd: f64,
    pub storage: f64,
    pub gpu_queue: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabCdf {
    pub lab: String,
    pub hours: Vec<f64>,
}

/// Checks of the simulation on itself, every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    /// |time-average queue length × horizon − summed waits| over summed
    /// waits, worst queue (Little's law on the sample path).
    pub littles_law_error: f64,
    pub bytes_demanded: f64,
    pub bytes_read: f64,
    /// The highest utilisation of any resource on any day (never above 1).
    pub max_utilisation: f64,
}
