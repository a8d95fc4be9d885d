//! A measured or required value in the unit a person expects for it.

use crate::units::{bytes_binary, bytes_decimal, rate_decimal};

/// `id` disambiguates bytes: memory sizes (RAM, VRAM) print in binary units,
/// storage sizes in decimal.
pub(crate) fn value(unit: &str, id: &str, v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    match unit {
        "cores" => format!("{v:.0} cores"),
        "bytes" if id.contains("ram") || id.contains("vram") => bytes_binary(v.max(0.0) as u64),
        "bytes" => bytes_decimal(v.max(0.0) as u64),
        "bytes_per_second" => rate_decimal(v),
        "bits_per_second" => format!("{:.0} Gb/s", v / 1e9),
        "hertz" => format!("{:.2} GHz", v / 1e9),
        "compute_capability" => format!("CC {v:.1}"),
        "seconds" => crate::units::duration(v),
        "nanoseconds" => format!("{:.1} µs", v / 1e3),
        "particles_per_second" => format!("{v:.0} particles/s"),
        other => format!("{v:.3} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(value("bytes", "ram", 68719476736.0), "64.00 GiB");
        assert_eq!(value("bytes", "system_storage", 250e9), "250.00 GB");
        assert_eq!(value("bytes_per_second", "bw", 50e9), "50.00 GB/s");
        assert_eq!(value("bits_per_second", "link", 10e9), "10 Gb/s");
        assert_eq!(value("cores", "c", 8.0), "8 cores");
        assert_eq!(value("hertz", "f", 2.8e9), "2.80 GHz");
    }
}
