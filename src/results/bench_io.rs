//! What `cryocap bench io` measured. The JSON contract: `runs`, each with
//! pattern, threads, iodepth, direct, bytes_read, bytes_per_second,
//! particles_per_second and latency_ns; the rest adds context.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchIoReport {
    /// The runs as metrics, for `compare` and the history.
    #[serde(default)]
    pub metrics: Vec<super::metrics::Metric>,
    /// The stack that was read.
    pub stack: StackRead,
    /// How the reads were issued: what iodepth means here.
    pub engine: String,
    pub runs: Vec<IoRun>,
    /// What the storage can feed, when a GPU consumption rate was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<GpuFeed>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackRead {
    pub files: usize,
    pub particles: u64,
    /// Bytes of one particle (image), or of the largest when files differ.
    pub particle_bytes: u64,
    /// Bytes of all particles in the set.
    pub bytes: u64,
    /// Whether cryocap wrote the stack for this run (and deleted it after).
    pub created: bool,
    /// O_DIRECT offset alignment used, and where it came from.
    pub alignment: u64,
    pub alignment_source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoRun {
    pub pattern: String,
    pub threads: u32,
    pub iodepth: u32,
    /// Whether reads bypassed the page cache with O_DIRECT.
    pub direct: bool,
    /// Why O_DIRECT was not used although asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_fallback: Option<String>,
    /// Particle bytes delivered (what a job gets).
    pub bytes_read: u64,
    /// Bytes the device transferred: particles widened to aligned ranges.
    pub device_bytes: u64,
    pub particles_read: u64,
    pub passes: f64,
    pub seconds: f64,
    /// Particle bytes per second.
    pub bytes_per_second: f64,
    pub particles_per_second: f64,
    /// Read calls per second (one per particle).
    pub iops: f64,
    pub latency_ns: Latency,
}

/// Per-read latency in nanoseconds from an HDR histogram (3 significant digits).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuFeed {
    /// Particles per second one GPU consumes (--gpu-rate).
    pub gpu_particles_per_second: f64,
    /// GPUs the node has (--gpus), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    pub per_run: Vec<FeedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedRow {
    pub pattern: String,
    /// How many such GPUs this read rate keeps busy.
    pub gpus_fed: f64,
    /// Whether it keeps all --gpus busy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enough: Option<bool>,
}
