//! Cache fill for `cryocap recommend`: how many bytes a node copies into
//! its SSD cache in a month of the workload, by replaying the month as a
//! trace through the simulator, once per SSD size.
//!
//! The trace: each class's datasets of the month (rounded up), interleaved
//! class by class, one after another on one node; each dataset's chain is
//! one job after another, every job reading the dataset's whole stack (one
//! file). Jobs are given a nominal hour: one node runs them in turn, so the
//! timing only matters to the 30-day lifetime, which a month never reaches.
//! Bytes copied are scaled back from the rounded-up count to the month's
//! datasets.

use std::collections::HashMap;

use super::simulate::{ASSUMED_COPY_RATE, SimParams, simulate};
use super::trace::{Trace, TraceBuilder};
use crate::sizing::recommend::DatasetClass;

/// CryoSPARC's cache file lifetime (seed 000: files not accessed in 30
/// days are removed).
const LIFETIME_S: f64 = 30.0 * 86_400.0;

/// The month's trace and the factor from its datasets to the month's.
pub struct MonthFill {
    trace: Trace,
    scale: f64,
    by_size: HashMap<u64, f64>,
    /// Simulations run (one per SSD size asked).
    pub simulations: usize,
}

impl MonthFill {
    pub fn new(workload: &[DatasetClass]) -> Result<MonthFill, String> {
        let mut b = TraceBuilder::default();
        let counts: Vec<u64> = workload
            .iter()
            .map(|c| c.per_month.ceil().max(1.0) as u64)
            .collect();
        let in_trace: u64 = counts.iter().sum();
        let per_month: f64 = workload.iter().map(|c| c.per_month).sum();
        let most = counts.iter().copied().max().unwrap_or(0);
        let mut t = 0.0;
        for round in 0..most {
            for (i, class) in workload.iter().enumerate() {
                if round >= counts[i] {
                    continue;
                }
                let stack = format!("{}/dataset-{round}", class.name);
                let bytes = class.stack_bytes();
                for (k, step) in class.chain.iter().enumerate() {
                    let job = format!("{stack}/{k}-{}", step.job);
                    b.add(&job, t, 3600.0, &stack, bytes)?;
                    t += 3600.0;
                }
            }
        }
        Ok(MonthFill {
            trace: b.finish(),
            scale: if in_trace > 0 {
                per_month / in_trace as f64
            } else {
                0.0
            },
            by_size: HashMap::new(),
            simulations: 0,
        })
    }

    /// Bytes copied into an SSD cache of `capacity` bytes in a month,
    /// simulated once per size and remembered.
    pub fn bytes_per_month(&mut self, capacity: u64) -> f64 {
        if let Some(&b) = self.by_size.get(&capacity) {
            return b;
        }
        let stats = simulate(
            &self.trace,
            &SimParams {
                capacity_bytes: capacity,
                lifetime_s: LIFETIME_S,
                copy_rate: ASSUMED_COPY_RATE,
            },
        );
        self.simulations += 1;
        let b = stats.bytes_copied as f64 * self.scale;
        self.by_size.insert(capacity, b);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::plan::Dtype;
    use crate::sizing::recommend::default_chain;

    fn class(name: &str, per_month: f64, particles: u64) -> DatasetClass {
        DatasetClass {
            name: name.into(),
            per_month,
            particles,
            box_size: 256,
            dtype: Dtype::F32,
            chain: default_chain(),
        }
    }

    #[test]
    fn each_dataset_is_copied_once_when_it_fits() {
        let w = vec![class("a", 4.0, 1_000_000), class("b", 1.5, 2_000_000)];
        let mut f = MonthFill::new(&w).unwrap();
        let want = 4.0 * w[0].stack_bytes() as f64 + 1.5 * w[1].stack_bytes() as f64;
        // 4 of a and 2 of b in the trace; b's second dataset scaled back.
        let got = f.bytes_per_month(4_000_000_000_000);
        let scale = 5.5 / 6.0;
        let in_trace = 4.0 * w[0].stack_bytes() as f64 + 2.0 * w[1].stack_bytes() as f64;
        assert!((got - in_trace * scale).abs() < 1.0, "{got} vs {want}");
        // Remembered per size: no second simulation.
        f.bytes_per_month(4_000_000_000_000);
        assert_eq!(f.simulations, 1);
        f.bytes_per_month(8_000_000_000_000);
        assert_eq!(f.simulations, 2);
    }
}
