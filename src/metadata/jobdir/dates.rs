//! The dates job directories hold, as seconds since the Unix epoch: RELION's
//! `note.txt` header (C `ctime`, local time without a zone) and CryoSPARC's
//! `job.json` (ISO 8601, RFC 2822, or MongoDB's `{"$date": ...}`).

use std::path::Path;
use std::time::UNIX_EPOCH;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn month_number(name: &str) -> Option<i64> {
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let name = name.get(..3)?.to_ascii_lowercase();
    months.iter().position(|m| *m == name).map(|i| i as i64 + 1)
}

/// Seconds of a civil date and time, checked for range.
fn seconds(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: f64) -> Option<f64> {
    let ok = (1970..=9999).contains(&y)
        && (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..=23).contains(&h)
        && (0..=59).contains(&mi)
        && (0.0..61.0).contains(&s);
    ok.then(|| (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60) as f64 + s)
}

/// `HH:MM:SS(.frac)`.
fn clock(text: &str) -> Option<(i64, i64, f64)> {
    let mut it = text.splitn(3, ':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let s = it.next().map_or(Some(0.0), |s| s.parse().ok())?;
    Some((h, m, s))
}

/// `Tue Jun  1 14:47:32 2021` (ctime), read as if it were UTC.
pub fn ctime(text: &str) -> Option<f64> {
    let f: Vec<&str> = text.split_whitespace().collect();
    let [_, mon, day, time, year] = f.as_slice() else {
        return None;
    };
    let (h, mi, s) = clock(time)?;
    seconds(
        year.parse().ok()?,
        month_number(mon)?,
        day.parse().ok()?,
        h,
        mi,
        s,
    )
}

/// `2024-11-04T20:29:09.123Z`, `2024-11-04 20:29:09+02:00` or a date alone.
pub fn iso8601(text: &str) -> Option<f64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let (y, rest) = date.split_once('-')?;
    let (mo, d) = rest.split_once('-')?;
    let (y, mo, d) = (y.parse().ok()?, mo.parse().ok()?, d.parse().ok()?);
    let time = text.get(10..)?.trim_start_matches(['T', 't', ' ']);
    if time.is_empty() {
        return seconds(y, mo, d, 0, 0, 0.0);
    }
    let (clock_part, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], zone_offset(&time[i..])?),
        None => (time, 0.0),
    };
    let (h, mi, s) = clock(clock_part)?;
    Some(seconds(y, mo, d, h, mi, s)? - offset)
}

/// `Z`, `+HH:MM`, `-HHMM`: seconds east of UTC.
fn zone_offset(text: &str) -> Option<f64> {
    if text.eq_ignore_ascii_case("z") {
        return Some(0.0);
    }
    let sign = if text.starts_with('-') { -1.0 } else { 1.0 };
    let digits: String = text.get(1..)?.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let h: f64 = digits.get(..2)?.parse().ok()?;
    let m: f64 = digits.get(2..)?.parse().ok()?;
    Some(sign * (h * 3600.0 + m * 60.0))
}

/// `Mon, 04 Nov 2024 20:29:09 GMT` (RFC 2822, as CryoSPARC's API writes).
pub fn rfc2822(text: &str) -> Option<f64> {
    let f: Vec<&str> = text.split_whitespace().collect();
    let [_, day, mon, year, time, zone] = f.as_slice() else {
        return None;
    };
    let offset = match *zone {
        "GMT" | "UTC" | "UT" | "Z" => 0.0,
        z => zone_offset(z)?,
    };
    let (h, mi, s) = clock(time)?;
    let t = seconds(
        year.parse().ok()?,
        month_number(mon)?,
        day.parse().ok()?,
        h,
        mi,
        s,
    )?;
    Some(t - offset)
}

/// A date as `job.json` holds one: a string in either form, MongoDB's
/// `{"$date": ...}` around a string, milliseconds, or `{"$numberLong": ...}`.
pub fn json_date(v: &serde_json::Value) -> Option<f64> {
    use serde_json::Value;
    match v {
        Value::String(s) => iso8601(s).or_else(|| rfc2822(s)),
        Value::Number(n) => n.as_f64().filter(|ms| *ms > 0.0).map(|ms| ms / 1000.0),
        Value::Object(o) => o
            .get("$date")
            .or_else(|| o.get("$numberLong"))
            .and_then(|inner| match inner {
                Value::String(s) if o.contains_key("$numberLong") => {
                    s.parse::<f64>().ok().map(|ms| ms / 1000.0)
                }
                other => json_date(other),
            }),
        _ => None,
    }
}

/// A file's modification time, seconds since the epoch.
pub fn modified(path: &Path) -> Option<f64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_relion_ctime_as_utc() {
        // 2021-06-01 14:47:32 UTC
        assert_eq!(ctime("Tue Jun  1 14:47:32 2021"), Some(1_622_558_852.0));
        assert_eq!(ctime("Tue Jun 1 14:47 2021"), Some(1_622_558_820.0));
        assert_eq!(ctime("yesterday"), None);
        assert_eq!(ctime("Tue Foo 1 14:47:32 2021"), None);
    }

    #[test]
    fn reads_iso_rfc_and_mongo_dates() {
        let t = 1_730_752_149.0; // 2024-11-04 20:29:09 UTC
        assert_eq!(iso8601("2024-11-04T20:29:09Z"), Some(t));
        assert_eq!(iso8601("2024-11-04T22:29:09+02:00"), Some(t));
        assert_eq!(iso8601("2024-11-04T20:29:09.5"), Some(t + 0.5));
        assert_eq!(rfc2822("Mon, 04 Nov 2024 20:29:09 GMT"), Some(t));
        let j = |s: &str| json_date(&serde_json::from_str(s).unwrap());
        assert_eq!(j(r#"{"$date": "2024-11-04T20:29:09Z"}"#), Some(t));
        assert_eq!(j(r#"{"$date": 1730752149000}"#), Some(t));
        assert_eq!(j(r#"{"$date": {"$numberLong": "1730752149000"}}"#), Some(t));
        assert_eq!(j(r#""Mon, 04 Nov 2024 20:29:09 GMT""#), Some(t));
        assert_eq!(j("null"), None);
        assert_eq!(j(r#""2024-13-04T20:29:09Z""#), None);
    }
}
