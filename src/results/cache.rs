//! What the `cryocap cache` commands found: simulation, sweep, subset and
//! copy benchmark results. JSON output is these types serialised.

use serde::{Deserialize, Serialize};

/// The cache configuration a simulation ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSetup {
    /// Drive size in bytes.
    pub ssd_bytes: u64,
    /// The cache quota in bytes (`--quota`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_bytes: Option<u64>,
    /// Space kept free on the drive (`--reserve`), bytes.
    pub reserve_bytes: u64,
    /// Bytes on the drive held by files the cache does not own.
    pub foreign_bytes: u64,
    /// min(quota, drive − reserve − foreign), bytes.
    pub capacity_bytes: u64,
    pub lifetime_days: f64,
    /// Bytes per second one job's cache fill copies at.
    pub copy_rate: f64,
    /// Where the copy rate came from (flag, default or a copy-bench file).
    pub copy_rate_source: String,
}

/// A job that could not run, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedJob {
    pub job: String,
    /// Bytes of the distinct files the job reads.
    pub bytes: u64,
    pub reason: String,
}

/// What the cache did over a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SimStats {
    pub jobs: u64,
    /// Job-file reads in the trace.
    pub events: u64,
    /// Bytes copied into the cache.
    pub bytes_copied: u64,
    /// Job-file reads served from the cache.
    pub hits: u64,
    /// Of the hits, reads that waited for another job's copy of the file.
    pub shared_copies: u64,
    /// Job-file reads that had to copy the file.
    pub misses: u64,
    pub evictions: u64,
    pub bytes_evicted: u64,
    /// Files removed because they were not used for the lifetime.
    pub expirations: u64,
    /// Jobs that waited for copies (their own or another job's).
    pub jobs_waited_copy: u64,
    /// Jobs that waited for space (for a running job to end).
    pub jobs_waited_space: u64,
    pub copy_wait_seconds: f64,
    pub space_wait_seconds: f64,
    /// copy_wait_seconds + space_wait_seconds.
    pub wait_seconds: f64,
    /// The longest wait of one job, seconds.
    pub max_job_wait_seconds: f64,
    /// Most bytes the cache held at once.
    pub peak_bytes: u64,
    /// When the last job ended, seconds from the trace's time zero.
    pub makespan_seconds: f64,
    pub failed_jobs: Vec<FailedJob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationReport {
    pub trace: String,
    pub setup: CacheSetup,
    #[serde(flatten)]
    pub stats: SimStats,
}

/// One SSD size of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub ssd_bytes: u64,
    pub capacity_bytes: u64,
    #[serde(flatten)]
    pub stats: SimStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecommendation {
    pub ssd_bytes: u64,
    /// The fraction a size may be worse than the best and still count as
    /// equal (e.g. 0.05).
    pub margin: f64,
    /// Waiting below this many seconds in total counts as equal too.
    pub wait_tolerance_seconds: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub trace: String,
    /// The setup of the first size; `ssd_bytes` and `capacity_bytes` vary.
    pub setup: CacheSetup,
    pub points: Vec<SweepPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<SweepRecommendation>,
    /// Where the SVG chart was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
}

/// One thread count of the copy benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyBenchRow {
    pub threads: u32,
    /// Bytes copied per second of wall time (source bytes; each is also
    /// written once), median over repeats.
    pub median_bytes_per_s: f64,
    pub min_bytes_per_s: f64,
    pub max_bytes_per_s: f64,
    /// Every repeat's rate, bytes per second, in the order run.
    pub samples: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyBenchReport {
    /// Rates per thread count as metrics, for `compare` and the history.
    #[serde(default)]
    pub metrics: Vec<super::metrics::Metric>,
    pub from: String,
    pub to: String,
    pub files: u64,
    /// Bytes one repeat copies (all source files).
    pub bytes_per_repeat: u64,
    pub repeats: u32,
    /// Whether the sources were dropped from the page cache before each
    /// repeat (posix_fadvise DONTNEED succeeded for every file).
    pub source_evicted: bool,
    pub rows: Vec<CopyBenchRow>,
    pub recommended_threads: u32,
    pub reason: String,
}

impl CopyBenchReport {
    /// The median rate at the recommended thread count.
    pub fn recommended_rate(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.threads == self.recommended_threads)
            .map(|r| r.median_bytes_per_s)
    }
}

/// One stack file a particle list references.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetStack {
    pub path: String,
    /// Particles of the list in this file.
    pub particles: u64,
    /// Bytes of the whole file (what the cache copies).
    pub bytes: u64,
    /// `file` when measured on disk, `metadata` when estimated from the list.
    pub bytes_from: String,
}

/// What an SSD of a given size holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetFit {
    pub ssd_bytes: u64,
    pub capacity_bytes: u64,
    pub stacks_fit: bool,
    pub subset_fits: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetReport {
    pub file: String,
    /// `star` or `cs`.
    pub format: String,
    pub particles: u64,
    pub stack_files: u64,
    /// Bytes of the whole stack files referenced: what the cache copies.
    pub stack_bytes: u64,
    /// Bytes of the subset alone once consolidated into new stacks (pixels
    /// plus one MRC header per file of `particles_per_file`).
    pub subset_bytes: u64,
    /// stack_bytes − subset_bytes.
    pub saving_bytes: u64,
    /// Stack files measured on disk versus estimated from metadata.
    pub files_measured: u64,
    pub files_estimated: u64,
    /// Rows naming an image another row names too (symmetry expansion);
    /// the subset counts each image once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeated_rows: u64,
    pub stacks: Vec<SubsetStack>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssd: Option<SubsetFit>,
    pub notes: Vec<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
