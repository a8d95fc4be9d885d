//! How a microscope's sessions come: `sessions_per_week` evenly spaced or
//! as a Poisson process, or a weekly `calendar` of slots such as
//! `"mon 08:00 48h"`. Slots may not overlap, also across the week's end.

use super::model::Arrivals;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEK_H: f64 = 168.0;

/// One slot: its start in seconds from Monday 00:00, and its hours.
fn slot(text: &str) -> Result<(f64, f64), String> {
    let bad = || {
        format!(
            "calendar slot '{}' is not like \"mon 08:00 24h\"",
            crate::text::printable(text)
        )
    };
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [day, clock, hours] = parts.as_slice() else {
        return Err(bad());
    };
    let d = DAYS
        .iter()
        .position(|x| day.eq_ignore_ascii_case(x))
        .ok_or_else(bad)?;
    let (h, m) = clock.split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().ok().filter(|h| *h < 24).ok_or_else(bad)?;
    let m: u32 = m.parse().ok().filter(|m| *m < 60).ok_or_else(bad)?;
    let len: f64 = hours
        .strip_suffix('h')
        .and_then(|x| x.parse().ok())
        .filter(|x: &f64| x.is_finite() && *x > 0.0 && *x <= WEEK_H)
        .ok_or_else(bad)?;
    let start_h = d as f64 * 24.0 + f64::from(h) + f64::from(m) / 60.0;
    Ok((start_h, len))
}

/// The slots sorted, or the first overlap named.
pub fn weekly(slots: &[String]) -> Result<Vec<(f64, f64)>, String> {
    let mut s = slots
        .iter()
        .map(|t| slot(t))
        .collect::<Result<Vec<_>, _>>()?;
    if s.is_empty() {
        return Err("calendar has no slots".into());
    }
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    for i in 0..s.len() {
        let (start, len) = s[i];
        let next = if i + 1 < s.len() {
            s[i + 1].0
        } else {
            s[0].0 + WEEK_H
        };
        if start + len > next + 1e-9 {
            return Err(format!(
                "calendar overlaps itself: the slot at hour {start} of the week runs {len} h, into the next at hour {}",
                next % WEEK_H
            ));
        }
    }
    Ok(s.into_iter().map(|(a, h)| (a * 3600.0, h)).collect())
}

/// The arrivals, sessions a week and session hours a microscope's fields
/// give.
pub fn arrivals(
    kind: Option<&str>,
    per_week: Option<f64>,
    calendar: Option<&[String]>,
    hours: Option<f64>,
) -> Result<(Arrivals, f64, f64), String> {
    if let Some(c) = calendar {
        if per_week.is_some() || kind.is_some() || hours.is_some() {
            return Err("give either calendar or sessions_per_week (with arrivals and session_hours), not both".into());
        }
        let slots = weekly(c)?;
        let n = slots.len() as f64;
        let mean_h = slots.iter().map(|s| s.1).sum::<f64>() / n;
        return Ok((Arrivals::Calendar(slots), n, mean_h));
    }
    let per_week = per_week.ok_or("give sessions_per_week or a calendar")?;
    if !(per_week.is_finite() && per_week > 0.0 && per_week <= 1000.0) {
        return Err("sessions_per_week must be above 0 and at most 1000".into());
    }
    let hours = hours.unwrap_or(24.0);
    if !(hours.is_finite() && (0.0..=WEEK_H).contains(&hours)) {
        return Err("session_hours must be 0 to 168".into());
    }
    if kind != Some("poisson") && hours > WEEK_H / per_week {
        return Err(format!(
            "{per_week} sessions a week of {hours} h overlap: at most {:.1} h each",
            WEEK_H / per_week
        ));
    }
    let a = match kind {
        None | Some("regular") => Arrivals::Regular,
        Some("poisson") => Arrivals::Poisson,
        Some(k) => {
            return Err(format!(
                "arrivals '{}' is not regular or poisson",
                crate::text::printable(k)
            ));
        }
    };
    Ok((a, per_week, hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_read_and_overlaps_are_refused() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let w = weekly(&s(&["wed 08:00 24h", "mon 08:00 48h"])).unwrap();
        assert_eq!(w[0], (8.0 * 3600.0, 48.0));
        assert_eq!(w[1].0, (48.0 + 8.0) * 3600.0);
        let e = weekly(&s(&["mon 08:00 49h", "wed 08:00 24h"])).unwrap_err();
        assert!(e.contains("overlaps itself"), "{e}");
        // Sunday into Monday wraps.
        let e = weekly(&s(&["sun 20:00 24h", "mon 08:00 8h"])).unwrap_err();
        assert!(e.contains("overlaps"), "{e}");
        assert!(weekly(&s(&["someday 08:00 2h"])).is_err());
        assert!(weekly(&s(&["mon 25:00 2h"])).is_err());
        assert!(arrivals(None, Some(2.0), Some(&s(&["mon 08:00 8h"])), None).is_err());
        assert_eq!(
            arrivals(Some("poisson"), Some(3.0), None, None).unwrap().0,
            Arrivals::Poisson
        );
    }
}
