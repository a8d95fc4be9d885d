//! Holding a measured metric against a requirement: PASS, WARN, FAIL,
//! INCONCLUSIVE or NOT MEASURED.

use crate::results::metrics::{Better, Metric};
use crate::results::plan::NodeItem;
use crate::results::qualify::{Check, Verdict};

/// Where the samples sit against one threshold (requirements are "at least").
enum Side {
    Above,
    Below,
    Straddles,
}

fn side(lo: f64, hi: f64, threshold: f64) -> Side {
    if lo >= threshold {
        Side::Above
    } else if hi < threshold {
        Side::Below
    } else {
        Side::Straddles
    }
}

/// Judges `metric` against `req`. Requirements are minimums of things where
/// higher is better (cores, bytes, bandwidth); a metric where lower is better
/// is judged by negating both sides.
pub(crate) fn judge(req: &NodeItem, metric: Option<&Metric>, note_if_missing: &str) -> Check {
    let mut check = Check {
        id: req.id.clone(),
        metric: String::new(),
        label: req.label.clone(),
        unit: req.unit.clone(),
        verdict: Verdict::NotMeasured,
        value: None,
        min: None,
        max: None,
        minimum: req.minimum,
        recommended: req.recommended,
        source: req.source.clone(),
        note: String::new(),
    };
    let Some(m) = metric.filter(|m| m.value.is_finite()) else {
        check.note = note_if_missing.to_string();
        return check;
    };
    check.value = Some(m.value);
    check.min = Some(m.min);
    check.max = Some(m.max);
    let sign = match m.better {
        Better::Higher => 1.0,
        Better::Lower => -1.0,
    };
    let (lo, hi) = {
        let (a, b) = (sign * m.min, sign * m.max);
        (a.min(b), a.max(b))
    };
    let against = |t: f64| side(lo, hi, sign * t);
    check.verdict = match (req.minimum.map(against), req.recommended.map(against)) {
        (Some(Side::Below), _) => Verdict::Fail,
        (Some(Side::Straddles), _) => Verdict::Inconclusive,
        (_, Some(Side::Below)) => Verdict::Warn,
        (_, Some(Side::Straddles)) => Verdict::Inconclusive,
        _ => Verdict::Pass,
    };
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(min: Option<f64>, rec: Option<f64>) -> NodeItem {
        NodeItem {
            id: "bw".into(),
            label: "bandwidth".into(),
            unit: "bytes_per_second".into(),
            applies_to: "per node".into(),
            minimum: min,
            recommended: rec,
            source: "test".into(),
        }
    }

    fn metric(samples: &[f64]) -> Metric {
        Metric::from_samples(
            "bw",
            "bw",
            "bytes_per_second",
            Better::Higher,
            samples.to_vec(),
        )
    }

    #[test]
    fn verdicts() {
        let r = req(Some(50.0), Some(100.0));
        let v = |s: &[f64]| judge(&r, Some(&metric(s)), "").verdict;
        assert_eq!(v(&[120.0, 130.0]), Verdict::Pass);
        assert_eq!(v(&[60.0, 70.0]), Verdict::Warn);
        assert_eq!(v(&[30.0, 40.0]), Verdict::Fail);
        assert_eq!(v(&[45.0, 55.0]), Verdict::Inconclusive);
        assert_eq!(v(&[95.0, 105.0]), Verdict::Inconclusive);
        assert_eq!(v(&[100.0]), Verdict::Pass);
        assert_eq!(judge(&r, None, "no test").verdict, Verdict::NotMeasured);
        assert_eq!(judge(&r, None, "no test").note, "no test");
    }

    #[test]
    fn only_a_recommendation() {
        let r = req(None, Some(100.0));
        assert_eq!(judge(&r, Some(&metric(&[90.0])), "").verdict, Verdict::Warn);
        assert_eq!(
            judge(&r, Some(&metric(&[110.0])), "").verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn lower_is_better_metrics_flip() {
        let r = req(Some(10.0), None); // "at most 10" expressed on a lower-is-better metric
        let mut m = metric(&[5.0]);
        m.better = Better::Lower;
        assert_eq!(judge(&r, Some(&m), "").verdict, Verdict::Pass);
        let mut m = metric(&[15.0]);
        m.better = Better::Lower;
        assert_eq!(judge(&r, Some(&m), "").verdict, Verdict::Fail);
    }
}
