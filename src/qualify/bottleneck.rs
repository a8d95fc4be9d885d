//! Which part of the node bounds particle throughput at each box: the
//! project storage, the SSD cache, or the GPUs.

use crate::results::metrics::Metric;
use crate::results::plan::Dtype;
use crate::results::qualify::{Bottleneck, Stage};
use crate::sizing::stack::pixel_bytes;

fn value(metrics: &[Metric], id: &str) -> Option<f64> {
    metrics.iter().find(|m| m.id == id).map(|m| m.value)
}

/// Storage rates are measured in bytes/s with box-256 particles and taken
/// as bytes/s at every box (particles/s = bytes/s ÷ particle bytes).
/// `gpu_rate(box)` is what one GPU consumes in particles/s, when measured.
pub(crate) fn analyse(
    metrics: &[Metric],
    boxes: &[u32],
    gpus: u32,
    gpu_rate: &dyn Fn(u32) -> Option<f64>,
) -> Vec<Bottleneck> {
    let project_seq = value(metrics, "io.project.sequential.bytes_per_second");
    let project_rnd = value(metrics, "io.project.random.bytes_per_second");
    let ssd_rnd = value(metrics, "io.ssd.random.bytes_per_second");
    if project_seq.is_none() && project_rnd.is_none() && ssd_rnd.is_none() {
        return Vec::new();
    }
    boxes
        .iter()
        .map(|&b| {
            let per = pixel_bytes(b, Dtype::F32) as f64;
            let mut stages = Vec::new();
            let mut push = |label: &str, rate: Option<f64>| {
                if let Some(r) = rate {
                    stages.push(Stage {
                        label: label.to_string(),
                        particles_per_second: r,
                    });
                }
            };
            push("project storage, in order", project_seq.map(|r| r / per));
            push("project storage, random", project_rnd.map(|r| r / per));
            push("SSD cache, random", ssd_rnd.map(|r| r / per));
            let gpu_total = gpu_rate(b).map(|r| r * f64::from(gpus));
            push(&format!("{gpus} GPUs consume"), gpu_total);
            // Processing reads randomly: from the SSD when there is one.
            let (feed_label, feed) = match (ssd_rnd, project_rnd) {
                (Some(s), _) => ("SSD cache, random", Some(s / per)),
                (None, p) => ("project storage, random", p.map(|r| r / per)),
            };
            let bound_by = match (feed, gpu_total) {
                (Some(f), Some(g)) if g <= f => format!("{gpus} GPUs consume"),
                (Some(_), _) => feed_label.to_string(),
                (None, Some(_)) => format!("{gpus} GPUs consume"),
                (None, None) => "not measured".to_string(),
            };
            Bottleneck {
                box_size: b,
                bound_by,
                cache_gain: match (ssd_rnd, project_rnd) {
                    (Some(s), Some(p)) if p > 0.0 => Some(s / p),
                    _ => None,
                },
                gpus_storage_can_feed: match (feed, gpu_rate(b)) {
                    (Some(f), Some(g)) if g > 0.0 => Some(f / g),
                    _ => None,
                },
                stages,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::metrics::Better;

    fn m(id: &str, v: f64) -> Metric {
        Metric::from_samples(id, id, "bytes_per_second", Better::Higher, vec![v])
    }

    #[test]
    fn the_slowest_feed_bounds_and_the_cache_gain_is_the_ratio() {
        let metrics = [
            m("io.project.sequential.bytes_per_second", 250e6),
            m("io.project.random.bytes_per_second", 20e6),
            m("io.ssd.random.bytes_per_second", 2e9),
        ];
        let b = analyse(&metrics, &[256], 4, &|_| None);
        assert_eq!(b[0].bound_by, "SSD cache, random");
        assert!((b[0].cache_gain.unwrap() - 100.0).abs() < 1e-9);
        let per = 256.0 * 256.0 * 4.0;
        // GPUs that eat less than the SSD delivers are the bound
        let b = analyse(&metrics, &[256], 4, &|_| Some(1000.0));
        assert_eq!(b[0].bound_by, "4 GPUs consume");
        assert!((b[0].gpus_storage_can_feed.unwrap() - 2e9 / per / 1000.0).abs() < 1e-6);
        // without an SSD the random project reads are the feed
        let b = analyse(&metrics[..2], &[432], 1, &|_| Some(1e6));
        assert_eq!(b[0].bound_by, "project storage, random");
        assert!(analyse(&[], &[256], 1, &|_| None).is_empty());
    }
}
