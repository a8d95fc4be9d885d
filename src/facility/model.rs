//! A facility as the simulator sees it: microscopes, storage and its
//! shared link, pre-processing and GPU worker nodes, the scheduler, labs.
//! Read from a facility TOML by [`super::config`]; what-ifs edit it.

use crate::sizing::recommend::DatasetClass;

/// How a microscope's sessions arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// Evenly spaced, `sessions_per_week` a week.
    Regular,
    /// A Poisson process at `sessions_per_week` a week.
    Poisson,
    /// The same weekly slots every week: (start, hours), the start in
    /// seconds from Monday 00:00.
    Calendar(Vec<(f64, f64)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Microscope {
    pub name: String,
    pub detector: String,
    pub sessions_per_week: f64,
    pub arrivals: Arrivals,
    pub movies_per_session: u64,
    pub movie_bytes: f64,
    pub session_hours: f64,
    /// The labs that book it (indices into `Facility::labs`); all when empty.
    pub labs: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub capacity_bytes: u64,
    pub used_bytes: u64,
    /// The shared file system's link: every node's reads share it.
    pub link_bytes_per_s: f64,
}

/// Nodes that run a session's motion correction, CTF and picking.
#[derive(Debug, Clone, PartialEq)]
pub struct PrepGroup {
    pub name: String,
    pub count: u32,
    /// Movies one node finishes an hour, as given (0 when measured).
    pub movies_per_hour: f64,
    /// Movie bytes one node reads and decodes a second, as `bench movies`
    /// measured it (`bench_movies` in the file); used instead of
    /// `movies_per_hour` when set.
    pub bytes_per_s: Option<f64>,
    /// The `bench movies` result to take `bytes_per_s` from, still to read.
    pub bench_movies: Option<String>,
    /// How the rate was had.
    pub rate_basis: String,
    pub link_bytes_per_s: f64,
}

/// GPU worker nodes of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerGroup {
    pub name: String,
    pub count: u32,
    pub gpu: String,
    pub gpus: u32,
    pub memory_bandwidth_gb_s: f64,
    pub fp32_tflops: f64,
    pub ssd_bytes: u64,
    /// Share of the SSD kept free (CryoSPARC's reserve), 0..1.
    pub ssd_reserve: f64,
    pub ssd_read_bytes_per_s: f64,
    pub link_bytes_per_s: f64,
}

/// Which queued job starts next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// In order of submission; the head waits for room.
    Fifo,
    /// The lab with the least GPU time charged per share goes first.
    FairShare,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    pub policy: Policy,
    /// GPUs one job takes (a node with fewer gives all it has).
    pub gpus_per_job: u32,
    /// GPUs one lab may hold at once (None: no limit).
    pub max_gpus_per_lab: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lab {
    pub name: String,
    pub share: f64,
    /// Its workload as `recommend --workload` reads it; `per_month` weighs
    /// which class a session's dataset is.
    pub classes: Vec<DatasetClass>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    pub microscopes: Vec<Microscope>,
    pub storage: Storage,
    pub prep: Vec<PrepGroup>,
    pub workers: Vec<WorkerGroup>,
    pub scheduler: Scheduler,
    pub labs: Vec<Lab>,
}
