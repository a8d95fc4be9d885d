//! Measured figures in one shape, so that `compare` and the history can hold
//! any run against another: an id, a unit, which direction is better, and the
//! repeated samples behind the reported median.

use serde::{Deserialize, Serialize};

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Throughput, bandwidth, rates.
    Higher,
    /// Latency, durations.
    Lower,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Stable identifier, e.g. `memory_bandwidth` or `io.project.random.bytes_per_second`.
    pub id: String,
    pub label: String,
    /// Unit of `value` and `samples`: bytes_per_second, seconds, ...
    pub unit: String,
    pub better: Better,
    /// The median of the samples (NaN, written `null`, without any).
    #[serde(deserialize_with = "null_is_nan")]
    pub value: f64,
    #[serde(deserialize_with = "null_is_nan")]
    pub min: f64,
    #[serde(deserialize_with = "null_is_nan")]
    pub max: f64,
    /// Every repeated measurement (one element for a single reading).
    #[serde(deserialize_with = "nulls_are_nan")]
    pub samples: Vec<f64>,
    /// What the figure counts, e.g. "bytes read + written".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub counts: String,
}

/// JSON has no NaN or infinity: serde_json writes them as `null`, which is
/// read back as NaN (a figure that could not be had) rather than refused.
fn null_is_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nulls_are_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v = Vec::<Option<f64>>::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
}

/// The median of `samples` (mean of the middle two for an even count).
pub fn median(samples: &[f64]) -> f64 {
    let mut s: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

impl Metric {
    /// A metric summarising repeated samples.
    pub fn from_samples(
        id: impl Into<String>,
        label: impl Into<String>,
        unit: impl Into<String>,
        better: Better,
        samples: Vec<f64>,
    ) -> Metric {
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Metric {
            id: id.into(),
            label: label.into(),
            unit: unit.into(),
            better,
            value: median(&samples),
            min,
            max,
            samples,
            counts: String::new(),
        }
    }

    pub fn counting(mut self, what: impl Into<String>) -> Metric {
        self.counts = what.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_without_samples_reads_back() {
        let m = Metric::from_samples("x", "x", "seconds", Better::Lower, vec![]);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"value\":null"), "{json}");
        let back: Metric = serde_json::from_str(&json).unwrap();
        assert!(back.value.is_nan() && back.min.is_nan() && back.max.is_nan());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        let m = Metric::from_samples("x", "x", "s", Better::Lower, vec![5.0, 1.0, 3.0]);
        assert_eq!((m.value, m.min, m.max), (3.0, 1.0, 5.0));
    }
}
