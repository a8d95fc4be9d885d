//! What `cryocap qualify` measured and decided.

use serde::{Deserialize, Serialize};

use super::metrics::Metric;
use crate::host::HostFacts;
use crate::qualify::check::{Check, Verdict};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualifyReport {
    pub schema_version: u32,
    /// Always `qualify`: tells this file from other results files.
    pub kind: String,
    pub cryocap_version: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: u64,
    pub duration_seconds: f64,
    pub node: String,
    pub profile: ProfileRef,
    pub gpus: u32,
    pub quick: bool,
    pub repeat: u32,
    pub host: HostFacts,
    pub metrics: Vec<Metric>,
    pub checks: Vec<Check>,
    pub bottlenecks: Vec<Bottleneck>,
    /// Storage read runs behind the io.* metrics, for charts.
    #[serde(default)]
    pub io: Vec<crate::qualify::storage::StorageIo>,
    pub notes: Vec<String>,
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
