//! Human units at the edges: parsing counts and sizes typed by people, and
//! printing bytes, rates and durations. Everything inside the crate is bytes,
//! bytes per second and seconds.

use std::fmt::Write as _;

/// One decimal gigabyte, 10^9 bytes.
pub const GB: u64 = 1_000_000_000;
/// One binary gibibyte, 2^30 bytes.
pub const GIB: u64 = 1 << 30;
/// One binary mebibyte, 2^20 bytes.
pub const MIB: u64 = 1 << 20;

/// Why a count or size typed by a person could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("'{0}' is not a number")]
    NotANumber(String),
    #[error("'{0}' must not be negative")]
    Negative(String),
    #[error("'{0}' is not a whole number")]
    NotWhole(String),
    #[error("'{0}' is too large")]
    TooLarge(String),
    #[error("'{0}' has an unknown unit '{1}' (use e.g. kB, MB, GB, TB, MiB, GiB, TiB)")]
    UnknownUnit(String, String),
    #[error("'{0}' needs a unit, e.g. 2TB or 1920GB")]
    MissingUnit(String),
    #[error(
        "'{0}' has a comma that is not a thousands separator; decimals take a point (1.5), commas stand only between thousands (2,000,000)"
    )]
    BadComma(String),
}

/// `text` without its thousands separators and underscores, or an error
/// when a comma stands anywhere but between groups of three digits of the
/// whole part (`2,000,00`, `1,5M` and `1,92TB` are refused, not read as
/// 200,000, 15 M and 192 TB).
fn without_separators(text: &str) -> Result<String, UnitError> {
    let t = text.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let whole_len = body
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '_'))
        .unwrap_or(body.len());
    let (whole, rest) = body.split_at(whole_len);
    if rest.contains(',') {
        return Err(UnitError::BadComma(t.to_string()));
    }
    if whole.contains(',') {
        let groups: Vec<String> = whole.split(',').map(|g| g.replace('_', "")).collect();
        let ok = groups.iter().enumerate().all(|(i, g)| {
            g.chars().all(|c| c.is_ascii_digit())
                && if i == 0 {
                    (1..=3).contains(&g.len())
                } else {
                    g.len() == 3
                }
        });
        if !ok {
            return Err(UnitError::BadComma(t.to_string()));
        }
    }
    Ok(t.chars().filter(|c| *c != ',' && *c != '_').collect())
}

/// Reads a count such as `2e6`, `2000000`, `2,000,000`, `2_000_000`, `2M`,
/// `1.5k` or `3G`. The result must be a whole number.
pub fn parse_count(text: &str) -> Result<u64, UnitError> {
    let t = text.trim();
    let cleaned = without_separators(t)?;
    if cleaned.starts_with('-') {
        return Err(UnitError::Negative(t.to_string()));
    }
    let (number, multiplier) = match cleaned.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() && !cleaned[..i].ends_with(['e', 'E']) => {
            let m = match c.to_ascii_lowercase() {
                'k' => 1e3,
                'm' => 1e6,
                'g' => 1e9,
                _ => return Err(UnitError::NotANumber(t.to_string())),
            };
            (&cleaned[..i], m)
        }
        _ => (cleaned.as_str(), 1.0),
    };
    // Plain integers are read exactly; anything else goes through f64.
    if multiplier == 1.0
        && let Ok(v) = number.parse::<u64>()
    {
        return Ok(v);
    }
    let value: f64 = number
        .parse()
        .map_err(|_| UnitError::NotANumber(t.to_string()))?;
    if !value.is_finite() {
        return Err(UnitError::NotANumber(t.to_string()));
    }
    let scaled = value * multiplier;
    if scaled < 0.0 {
        return Err(UnitError::Negative(t.to_string()));
    }
    if scaled > 9.0e18 {
        return Err(UnitError::TooLarge(t.to_string()));
    }
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-6 * scaled.max(1.0) {
        return Err(UnitError::NotWhole(t.to_string()));
    }
    Ok(rounded as u64)
}

/// Reads a size in bytes with a unit: `2TB`, `1.92 TB`, `500MiB`, `4096B`.
/// Decimal (kB, MB, GB, TB, PB) and binary (KiB, MiB, GiB, TiB, PiB) units are
/// both accepted; a bare number is refused because it is ambiguous.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    parse_size_with_default(text, None)
}

/// Like [`parse_size`], but a bare number is multiplied by `bare_unit` when
/// one is given (e.g. `--vram 12` meaning 12 GiB).
pub fn parse_size_with_default(text: &str, bare_unit: Option<u64>) -> Result<u64, UnitError> {
    let t = text.trim();
    let cleaned: String = without_separators(t)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if cleaned.starts_with('-') {
        return Err(UnitError::Negative(t.to_string()));
    }
    let split = cleaned
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(cleaned.len());
    let (number, unit) = cleaned.split_at(split);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" => match bare_unit {
            Some(m) => m,
            None => return Err(UnitError::MissingUnit(t.to_string())),
        },
        "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => GB,
        "t" | "tb" => 1_000 * GB,
        "p" | "pb" => 1_000_000 * GB,
        "kib" => 1 << 10,
        "mib" => MIB,
        "gib" => GIB,
        "tib" => 1 << 40,
        "pib" => 1 << 50,
        _ => return Err(UnitError::UnknownUnit(t.to_string(), unit.to_string())),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| UnitError::NotANumber(t.to_string()))?;
    if !value.is_finite() {
        return Err(UnitError::NotANumber(t.to_string()));
    }
    if value < 0.0 {
        return Err(UnitError::Negative(t.to_string()));
    }
    let bytes = value * multiplier as f64;
    if bytes > 9.0e18 {
        return Err(UnitError::TooLarge(t.to_string()));
    }
    Ok(bytes.round() as u64)
}

/// `1495296000000` → `1,495,296,000,000`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn scaled(value: f64, base: f64, units: &[&str]) -> String {
    let mut v = value;
    let mut i = 0;
    while v.abs() >= base && i + 1 < units.len() {
        v /= base;
        i += 1;
    }
    if i == 0 {
        format!("{} {}", v.round() as i64, units[0])
    } else {
        format!("{v:.2} {}", units[i])
    }
}

/// Decimal units: `1.50 TB`.
pub fn bytes_decimal(bytes: u64) -> String {
    scaled(bytes as f64, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB"])
}

/// Decimal units for a figure that may pass what a u64 holds (a modelled
/// year of collection): `1.50 TB`, `3.20 EB`, never saturating.
pub fn bytes_decimal_f(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "n/a".to_string();
    }
    scaled(
        bytes,
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"],
    )
}

/// Binary units: `1.36 TiB`.
pub fn bytes_binary(bytes: u64) -> String {
    scaled(
        bytes as f64,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB"],
    )
}

/// Always in GiB, for comparing memory sizes in one column: `3.38 GiB`.
pub fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / GIB as f64)
}

/// A rate in decimal bytes per second: `7.40 GB/s`.
pub fn rate_decimal(bytes_per_second: f64) -> String {
    format!(
        "{}/s",
        scaled(bytes_per_second, 1000.0, &["B", "kB", "MB", "GB", "TB"])
    )
}

/// A duration a person reads at a glance: `42 s`, `12.5 min`, `3.4 h`, `2.1 d`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "n/a".to_string();
    }
    let mut out = String::new();
    if seconds < 1.0 {
        let _ = write!(out, "{:.0} ms", seconds * 1e3);
    } else if seconds < 90.0 {
        let _ = write!(out, "{seconds:.0} s");
    } else if seconds < 90.0 * 60.0 {
        let _ = write!(out, "{:.1} min", seconds / 60.0);
    } else if seconds < 48.0 * 3600.0 {
        let _ = write!(out, "{:.1} h", seconds / 3600.0);
    } else {
        let _ = write!(out, "{:.1} d", seconds / 86400.0);
    }
    out
}

/// Seconds since the Unix epoch as `2026-11-22 18:14:25 UTC` (days to
/// civil date by Howard Hinnant's algorithm).
pub fn utc_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_every_spelling() {
        for text in [
            "2e6",
            "2000000",
            "2,000,000",
            "2M",
            "2m",
            "2_000_000",
            "2.0e6",
            " 2E6 ",
        ] {
            assert_eq!(parse_count(text), Ok(2_000_000), "{text}");
        }
        assert_eq!(parse_count("1.5k"), Ok(1500));
        assert_eq!(parse_count("3G"), Ok(3_000_000_000));
        assert_eq!(parse_count("0"), Ok(0));
    }

    #[test]
    fn commas_only_as_thousands_separators() {
        assert_eq!(parse_count("2,000,000"), Ok(2_000_000));
        assert_eq!(parse_count("12,345"), Ok(12_345));
        assert_eq!(parse_size("1,920GB"), Ok(1_920_000_000_000));
        for bad in [
            "2,000,00", "1,5M", "20,00", ",100", "100,", "1,,000", "1.5,000",
        ] {
            assert!(
                matches!(parse_count(bad), Err(UnitError::BadComma(_))),
                "{bad}"
            );
        }
        assert!(matches!(parse_size("1,92TB"), Err(UnitError::BadComma(_))));
        assert!(matches!(parse_size("1,5 MiB"), Err(UnitError::BadComma(_))));
    }

    #[test]
    fn bad_counts() {
        assert!(matches!(parse_count("abc"), Err(UnitError::NotANumber(_))));
        assert!(matches!(parse_count("-5"), Err(UnitError::Negative(_))));
        assert!(matches!(parse_count("1.5"), Err(UnitError::NotWhole(_))));
        assert!(matches!(parse_count("2x"), Err(UnitError::NotANumber(_))));
        assert!(matches!(parse_count("1e30"), Err(UnitError::TooLarge(_))));
        assert!(matches!(parse_count("nan"), Err(UnitError::NotANumber(_))));
        assert!(matches!(parse_count(""), Err(UnitError::NotANumber(_))));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2TB"), Ok(2_000_000_000_000));
        assert_eq!(parse_size("1.92 TB"), Ok(1_920_000_000_000));
        assert_eq!(parse_size("500MiB"), Ok(500 * MIB));
        assert_eq!(parse_size("4096B"), Ok(4096));
        assert_eq!(parse_size("1e12B"), Ok(1_000_000_000_000));
        assert!(matches!(parse_size("2"), Err(UnitError::MissingUnit(_))));
        assert!(matches!(parse_size("2XB"), Err(UnitError::UnknownUnit(..))));
        assert!(matches!(parse_size("-1TB"), Err(UnitError::Negative(_))));
        assert_eq!(parse_size_with_default("12", Some(GIB)), Ok(12 * GIB));
        assert_eq!(parse_size_with_default("12GB", Some(GIB)), Ok(12 * GB));
    }

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_timestamp(1_795_371_265), "2026-11-22 18:14:25 UTC");
    }

    #[test]
    fn printing() {
        assert_eq!(group_digits(1_495_296_000_000), "1,495,296,000,000");
        assert_eq!(bytes_decimal_f(1.5e12), "1.50 TB");
        assert_eq!(bytes_decimal_f(3.2e19), "32.00 EB");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(bytes_decimal(1_495_296_000_000), "1.50 TB");
        assert_eq!(bytes_binary(1_495_296_000_000), "1.36 TiB");
        assert_eq!(bytes_decimal(512), "512 B");
        assert_eq!(rate_decimal(7.4e9), "7.40 GB/s");
        assert_eq!(duration(42.0), "42 s");
        assert_eq!(duration(3600.0 * 3.4), "3.4 h");
        assert_eq!(duration(86400.0 * 3.0), "3.0 d");
    }
}
