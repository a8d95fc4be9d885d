//! What `cryocap qualify` measured and decided.

use serde::{Deserialize, Serialize};

use super::bench_io::IoRun;
use super::metrics::Metric;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualifyReport {
    pub duration_seconds: f64,
    pub profile: ProfileRef,
    pub gpus: u32,
    pub quick: bool,
    pub repeats: u32,
    pub host: HostFacts,
    pub metrics: Vec<Metric>,
    pub checks: Vec<Check>,
    pub bottlenecks: Vec<Bottleneck>,
    /// Storage read runs behind the io.* metrics, for charts.
    #[serde(default)]
    pub io: Vec<StorageIo>,
    /// VRAM each job type needs against box size, from the VRAM model of
    /// this cryocap (for the HTML chart; absent in schema 1 files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vram_curves: Vec<VramCurve>,
    pub notes: Vec<String>,
    /// With `--deployment`: who ran it and which shared token file it saw,
    /// for `fleet report` to compare across nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<NodeIdentity>,
}

/// The user a node's qualify ran as and the shared token file it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeIdentity {
    pub uid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenSeen>,
}

/// The token file `fleet submit` writes once into the shared directory, as
/// one node sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSeen {
    pub path: String,
    pub inode: u64,
    /// major:minor of the file system as this node numbers it (NFS clients
    /// number their mounts independently, so it is shown, not compared).
    pub device: String,
    /// The token's first line (random, written once).
    pub content: String,
}

/// One job type's modelled VRAM need at a series of box sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VramCurve {
    pub job: String,
    /// (box size, bytes) pairs.
    pub points: Vec<(u32, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRef {
    pub id: String,
    pub title: String,
    pub source: String,
}

/// Particles per second each part of the node can deliver or consume at one box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    #[serde(rename = "box")]
    pub box_size: u32,
    /// (stage label, particles/s) pairs: storage tiers deliver, GPUs consume.
    pub stages: Vec<Stage>,
    /// The slowest stage.
    pub bound_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_gain: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus_storage_can_feed: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub label: String,
    pub particles_per_second: f64,
}

impl QualifyReport {
    /// Whether any check failed (exit 1).
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.verdict == Verdict::Fail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Meets the recommendation (or the minimum where there is none).
    Pass,
    /// Meets the minimum, not the recommendation.
    Warn,
    /// Below the minimum.
    Fail,
    /// The spread of repeated samples straddles a threshold.
    Inconclusive,
    /// Nothing measured it on this node.
    NotMeasured,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::NotMeasured => "NOT MEASURED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub id: String,
    /// The id of the metric that answers this check (measured or not);
    /// empty where nothing in cryocap measures it, and in files written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub metric: String,
    pub label: String,
    pub unit: String,
    pub verdict: Verdict,
    /// The measured median, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended: Option<f64>,
    /// Where the thresholds come from.
    pub source: String,
    /// Why a check could not be made, or what the value means.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskFact {
    pub mount_point: String,
    pub device: String,
    pub file_system: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
    /// `ssd`, `hdd` or `unknown`, as the kernel reports it (virtual disks
    /// often misreport).
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    pub cpu_model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_cores: Option<u32>,
    pub logical_cpus: u32,
    /// Base or current clock of the first CPU in MHz, as the OS reports it.
    pub cpu_mhz: u64,
    pub ram_bytes: u64,
    pub os: String,
    pub kernel: String,
    pub disks: Vec<DiskFact>,
    /// Fastest non-loopback network link in bits/s, where the kernel knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fastest_link_bits_per_second: Option<u64>,
}

/// What one storage location delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageIo {
    /// `project` or `ssd`.
    pub storage: String,
    pub path: String,
    /// Bytes of one scratch particle.
    pub particle_bytes: u64,
    /// Every run of every repeat (patterns `sequential` and `random`).
    pub runs: Vec<IoRun>,
    pub notes: Vec<String>,
}
