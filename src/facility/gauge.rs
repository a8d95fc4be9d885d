//! A level over time (GPUs busy, bytes cached, jobs waiting): its integral
//! over the whole run and over each day, for means, daily timelines and
//! Little's law.

const DAY: f64 = 86_400.0;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Gauge {
    value: f64,
    since: f64,
    /// The level's integral over each whole or started day up to `until`.
    days: Vec<f64>,
    until: f64,
}

impl Gauge {
    /// A gauge at 0 over `[0, horizon)` seconds; time after the horizon is
    /// not counted.
    pub(super) fn new(horizon: f64) -> Gauge {
        Gauge {
            value: 0.0,
            since: 0.0,
            days: vec![0.0; (horizon / DAY).ceil().max(1.0) as usize],
            until: horizon,
        }
    }

    /// The level becomes `value` at time `t` (not before the last change).
    pub(super) fn set(&mut self, t: f64, value: f64) {
        self.advance(t);
        self.value = value;
    }

    pub(super) fn add(&mut self, t: f64, delta: f64) {
        let v = self.value + delta;
        self.set(t, v);
    }

    pub(super) fn value(&self) -> f64 {
        self.value
    }

    fn advance(&mut self, t: f64) {
        let mut from = self.since.min(self.until);
        let to = t.min(self.until);
        while from < to {
            let day = (from / DAY) as usize;
            let end = ((day + 1) as f64 * DAY).min(to);
            if let Some(d) = self.days.get_mut(day) {
                *d += self.value * (end - from);
            }
            from = end;
        }
        self.since = self.since.max(t);
    }

    /// Integrals up to the horizon, per day; call once at the end.
    pub(super) fn finish(mut self) -> Vec<f64> {
        let end = self.until;
        self.advance(end);
        self.days
    }

    /// The mean level of each day, given each day's integral.
    pub(super) fn day_means(integrals: &[f64], horizon: f64) -> Vec<f64> {
        integrals
            .iter()
            .enumerate()
            .map(|(d, v)| {
                let len = (horizon - d as f64 * DAY).min(DAY);
                if len > 0.0 { v / len } else { 0.0 }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrals_split_at_day_boundaries_and_stop_at_the_horizon() {
        let mut g = Gauge::new(2.5 * DAY);
        g.set(0.5 * DAY, 2.0);
        g.set(1.5 * DAY, 1.0);
        g.set(3.0 * DAY, 0.0);
        let d = g.finish();
        assert_eq!(d.len(), 3);
        assert!((d[0] - DAY).abs() < 1e-6);
        assert!((d[1] - (0.5 * DAY * 2.0 + 0.5 * DAY)).abs() < 1e-6);
        assert!((d[2] - 0.5 * DAY).abs() < 1e-6);
        let m = Gauge::day_means(&d, 2.5 * DAY);
        assert!((m[2] - 1.0).abs() < 1e-9, "{m:?}");
    }
}
