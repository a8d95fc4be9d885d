//! Regression checks: hold current metrics against a baseline, direction
//! aware. A regression is a change for the worse beyond the threshold that is
//! also beyond the noise the samples show: the current run's whole range lies
//! on the worse side of the baseline's whole range (non-overlapping ranges).

use crate::results::compare::{Change, CompareRow, Comparison};
use crate::results::metrics::{Better, Metric};

fn classify(base: &Metric, cur: &Metric, threshold: f64) -> (f64, Change) {
    let rel = if base.value != 0.0 {
        (cur.value - base.value) / base.value.abs()
    } else {
        0.0
    };
    let worse = match base.better {
        Better::Higher => cur.value < base.value,
        Better::Lower => cur.value > base.value,
    };
    if rel.abs() <= threshold {
        return (rel, Change::Unchanged);
    }
    let separated = match base.better {
        Better::Higher if worse => cur.max < base.min,
        Better::Higher => cur.min > base.max,
        Better::Lower if worse => cur.min > base.max,
        Better::Lower => cur.max < base.min,
    };
    let change = match (separated, worse) {
        (false, _) => Change::WithinNoise,
        (true, true) => Change::Regression,
        (true, false) => Change::Improvement,
    };
    (rel, change)
}

/// Why two metric lists cannot be compared: a metric id twice in one list,
/// or a metric whose unit or direction differs between the two; `labels`
/// name the lists in the line.
pub fn comparable(
    baseline: &[Metric],
    current: &[Metric],
    labels: (&str, &str),
) -> Result<(), String> {
    for (list, label) in [(baseline, labels.0), (current, labels.1)] {
        for (i, m) in list.iter().enumerate() {
            if list[..i].iter().any(|e| e.id == m.id) {
                return Err(format!(
                    "{label} has the metric '{}' twice; which one to compare is not clear",
                    crate::text::printable(&m.id)
                ));
            }
        }
    }
    for b in baseline {
        let differs = |c: &&Metric| c.id == b.id && (b.unit != c.unit || b.better != c.better);
        if let Some(c) = current.iter().find(differs) {
            return Err(format!(
                "metric '{}' is in {} in {} but in {} in {}; results in different units do not compare",
                crate::text::printable(&b.id),
                crate::text::printable(&b.unit),
                labels.0,
                crate::text::printable(&c.unit),
                labels.1
            ));
        }
    }
    Ok(())
}

/// Compares every metric of `current` with the baseline metric of the same
/// id; `labels` say what the baseline and the current run are.
pub fn compare(
    baseline: &[Metric],
    current: &[Metric],
    threshold: f64,
    labels: (String, String),
) -> Comparison {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for base in baseline {
        match current.iter().find(|m| m.id == base.id) {
            Some(cur) => {
                let (relative_change, change) = classify(base, cur, threshold);
                rows.push(CompareRow {
                    id: base.id.clone(),
                    label: base.label.clone(),
                    unit: base.unit.clone(),
                    better: base.better,
                    baseline: base.value,
                    baseline_range: (base.min, base.max),
                    current: cur.value,
                    current_range: (cur.min, cur.max),
                    relative_change,
                    change,
                });
            }
            None => missing.push(base.id.clone()),
        }
    }
    let added = current
        .iter()
        .filter(|m| !baseline.iter().any(|b| b.id == m.id))
        .map(|m| m.id.clone())
        .collect();
    Comparison {
        baseline: labels.0,
        current: labels.1,
        threshold,
        rows,
        missing,
        added,
    }
}

/// Pools several runs of the same metrics into one baseline: every sample
/// kept, the value the median of the runs' medians.
pub fn pool(runs: &[Vec<Metric>]) -> Vec<Metric> {
    let mut out: Vec<Metric> = Vec::new();
    for run in runs {
        for m in run {
            if out.iter().any(|o| o.id == m.id) {
                continue;
            }
            let same: Vec<&Metric> = runs.iter().flatten().filter(|o| o.id == m.id).collect();
            let samples: Vec<f64> = same
                .iter()
                .flat_map(|o| o.samples.iter().copied())
                .collect();
            let medians: Vec<f64> = same.iter().map(|o| o.value).collect();
            let mut pooled = Metric::from_samples(&m.id, &m.label, &m.unit, m.better, samples);
            pooled.value = crate::results::metrics::median(&medians);
            pooled.counts = m.counts.clone();
            out.push(pooled);
        }
    }
    out
}

/// The stored runs a current run is held against: the `last` newest of
/// `stored` (newest first), the current run itself left out while other
/// runs are there. The flag is true when the current run is the only one
/// stored: it is then compared with itself.
pub fn baseline_runs<T: PartialEq>(mut stored: Vec<T>, current: &T, last: usize) -> (Vec<T>, bool) {
    let mut only_itself = false;
    if stored.iter().any(|r| r != current) {
        stored.retain(|r| r != current);
    } else if !stored.is_empty() {
        only_itself = true;
    }
    stored.truncate(last);
    (stored, only_itself)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, better: Better, samples: &[f64]) -> Metric {
        Metric::from_samples(id, id, "x", better, samples.to_vec())
    }

    #[test]
    fn twenty_percent_slowdown_is_a_regression() {
        let base = [m("bw", Better::Higher, &[100.0, 101.0, 99.0])];
        let cur = [m("bw", Better::Higher, &[80.0, 81.0, 79.0])];
        let c = compare(&base, &cur, 0.05, Default::default());
        assert_eq!(c.rows[0].change, Change::Regression);
        assert_eq!(c.regressions(), 1);
    }

    #[test]
    fn noise_is_not_a_regression() {
        let base = [m("bw", Better::Higher, &[100.0, 90.0, 110.0])];
        let cur = [m("bw", Better::Higher, &[93.0, 88.0, 105.0])];
        assert_eq!(
            compare(&base, &cur, 0.05, Default::default()).rows[0].change,
            Change::WithinNoise
        );
        let cur = [m("bw", Better::Higher, &[98.0, 101.0, 99.0])];
        assert_eq!(
            compare(&base, &cur, 0.05, Default::default()).rows[0].change,
            Change::Unchanged
        );
    }

    #[test]
    fn direction_is_respected() {
        // latency going up is a regression, throughput going up is not
        let base = [
            m("lat", Better::Lower, &[10.0, 10.5]),
            m("bw", Better::Higher, &[100.0, 101.0]),
        ];
        let cur = [
            m("lat", Better::Lower, &[13.0, 13.5]),
            m("bw", Better::Higher, &[130.0, 131.0]),
        ];
        let c = compare(&base, &cur, 0.05, Default::default());
        assert_eq!(c.rows[0].change, Change::Regression);
        assert_eq!(c.rows[1].change, Change::Improvement);
    }

    #[test]
    fn missing_and_added_metrics_are_reported() {
        let base = [
            m("a", Better::Higher, &[1.0]),
            m("b", Better::Higher, &[1.0]),
        ];
        let cur = [
            m("a", Better::Higher, &[1.0]),
            m("c", Better::Higher, &[1.0]),
        ];
        let c = compare(&base, &cur, 0.05, Default::default());
        assert_eq!(c.missing, ["b"]);
        assert_eq!(c.added, ["c"]);
    }

    #[test]
    fn twice_named_and_unit_changed_metrics_are_refused() {
        let a = m("read", Better::Higher, &[1.0]);
        let mut b = a.clone();
        b.unit = "MiB/s".into();
        let e = comparable(std::slice::from_ref(&a), &[b], ("base.json", "cur.json")).unwrap_err();
        assert!(e.contains("different units"), "{e}");
        let e = comparable(
            &[a.clone(), a.clone()],
            std::slice::from_ref(&a),
            ("base.json", "cur.json"),
        );
        assert!(
            e.unwrap_err()
                .contains("base.json has the metric 'read' twice")
        );
        assert!(
            comparable(
                std::slice::from_ref(&a),
                std::slice::from_ref(&a),
                ("x", "y")
            )
            .is_ok()
        );
    }

    #[test]
    fn pooling_keeps_all_samples() {
        let runs = vec![
            vec![m("a", Better::Higher, &[1.0, 2.0])],
            vec![m("a", Better::Higher, &[3.0, 4.0])],
            vec![m("a", Better::Higher, &[5.0, 6.0])],
        ];
        let p = pool(&runs);
        assert_eq!(p[0].samples.len(), 6);
        assert_eq!(p[0].value, 3.5);
        assert_eq!((p[0].min, p[0].max), (1.0, 6.0));
    }

    #[test]
    fn the_current_run_is_not_its_own_baseline_unless_alone() {
        assert_eq!(baseline_runs(vec![3, 2, 1, 0], &3, 2), (vec![2, 1], false));
        assert_eq!(baseline_runs(vec![2, 3, 1], &3, 5), (vec![2, 1], false));
        assert_eq!(baseline_runs(vec![3, 3], &3, 1), (vec![3], true));
        assert_eq!(baseline_runs(Vec::<u8>::new(), &3, 4), (vec![], false));
    }
}
