//! What `cryocap compare` found: each metric of a run against its baseline.

use serde::{Deserialize, Serialize};

use super::metrics::Better;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Regression,
    Improvement,
    /// Beyond the threshold, but the sample ranges overlap.
    WithinNoise,
    /// Within the threshold.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareRow {
    pub id: String,
    pub label: String,
    pub unit: String,
    pub better: Better,
    pub baseline: f64,
    pub baseline_range: (f64, f64),
    pub current: f64,
    pub current_range: (f64, f64),
    /// (current − baseline) / baseline.
    pub relative_change: f64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// What the baseline is: a file, or the last runs in a history.
    pub baseline: String,
    /// The current results file.
    pub current: String,
    /// The change that counts, as a fraction (0.05 = 5 %).
    pub threshold: f64,
    pub rows: Vec<CompareRow>,
    /// Metrics the baseline has and the current run lacks.
    pub missing: Vec<String>,
    /// Metrics only the current run has.
    pub added: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.change == Change::Regression)
            .count()
    }
}
