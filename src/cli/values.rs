//! Typed values of the command line. Each type or parser reads what a person
//! types (`2e6`, `2,000,000`, `1.92TB`, `500MB/s`, `5%`, `30s`), checks its
//! range once, and says what to write instead when it cannot. clap calls
//! them, so a bad value is refused before any work starts, with the flag's
//! name in the message.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::sizing::{MAX_BOX, MIN_BOX};
use crate::storage::patterns::Pattern;
use crate::storage::space::Reserve;
use crate::units::{self, GIB, MIB};

/// A box size in pixels, from [`MIN_BOX`] to [`MAX_BOX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BoxSize(pub u32);

impl FromStr for BoxSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        units::parse_count(text)
            .ok()
            .filter(|v| (u64::from(MIN_BOX)..=u64::from(MAX_BOX)).contains(v))
            .map(|v| BoxSize(v as u32))
            .ok_or_else(|| {
                format!(
                    "'{text}' is not a box size; give a whole number of pixels from {MIN_BOX} to {MAX_BOX}"
                )
            })
    }
}

impl fmt::Display for BoxSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A parser of whole numbers from `min` to `max` (written `2e6`,
/// `2,000,000` or `2M`) into any integer type they fit.
pub fn count<T>(min: u64, max: u64) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: TryFrom<u64>,
{
    move |text: &str| {
        let range = format!("give a whole number from {min} to {max}");
        let v = units::parse_count(text).map_err(|e| format!("{e}; {range}"))?;
        if !(min..=max).contains(&v) {
            return Err(format!("'{text}' is out of range; {range}"));
        }
        T::try_from(v).map_err(|_| format!("'{text}' is out of range; {range}"))
    }
}

/// A parser of sizes with a unit (`2TB`, `1.92 TB`, `500MiB`) from `min`
/// bytes up; a bare number is refused as ambiguous.
pub fn size(min: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync {
    move |text: &str| {
        let v = units::parse_size(text).map_err(|e| e.to_string())?;
        if v < min {
            return Err(format!(
                "'{text}' is too small; give at least {}",
                units::bytes_decimal(min)
            ));
        }
        Ok(v)
    }
}

/// GPU memory, and how it was written (results name it as the user did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vram {
    pub bytes: u64,
    pub text: String,
}

/// GPU memory: a bare number is GB as marketed, which is GiB (`--vram 24`);
/// units are taken as written. From 256 MiB to 64 TiB.
pub fn vram(text: &str) -> Result<Vram, String> {
    let bytes = units::parse_size_with_default(text, Some(GIB))
        .map_err(|e| format!("{e}; give GB of VRAM, e.g. --vram 24"))?;
    if !(256 * MIB..=64 * 1024 * GIB).contains(&bytes) {
        return Err(format!(
            "'{text}' is not a GPU memory size (256 MiB to 64 TiB)"
        ));
    }
    Ok(Vram {
        bytes,
        text: text.trim().to_string(),
    })
}

/// CryoSPARC's `--ssdquota` / `--ssdreserve`: a bare number is its MB (read
/// as MiB, 2^20 bytes, so that plans err on the safe side), or a size with
/// a unit. Held in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryosparcMb(pub u64);

impl FromStr for CryosparcMb {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        units::parse_size_with_default(text, Some(MIB))
            .map(CryosparcMb)
            .map_err(|e| format!("{e}; give CryoSPARC MB (e.g. 10000) or a size such as 10GB"))
    }
}

impl fmt::Display for CryosparcMb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(MIB) {
            write!(f, "{}", self.0 / MIB)
        } else {
            write!(f, "{}B", self.0)
        }
    }
}

/// A transfer rate in bytes per second: `500MB/s`, `1.2 GB/s`, `800MiB/s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub f64);

impl FromStr for Rate {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let body = t
            .strip_suffix("/s")
            .ok_or_else(|| format!("'{t}' is not a rate; write e.g. 500MB/s"))?;
        let v = units::parse_size(body).map_err(|e| format!("{e}; write e.g. 500MB/s"))?;
        if v == 0 {
            return Err("a rate must be above 0 B/s".into());
        }
        Ok(Rate(v as f64))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", exact_size(self.0.round() as u64))
    }
}

/// A size in the largest unit that writes it exactly (`500MB`, `1GiB`,
/// `4096B`), so that a default shown in `--help` reads back the same.
pub fn exact_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 8] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1 << 10, "KiB"),
        (1_000, "kB"),
    ];
    UNITS
        .iter()
        .filter(|(u, _)| bytes > 0 && bytes.is_multiple_of(*u))
        .min_by_key(|(u, _)| bytes / u)
        .map_or_else(
            || format!("{bytes}B"),
            |(u, name)| format!("{}{name}", bytes / u),
        )
}

/// A percentage, written `5%` or `5`; held as the percent value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl Percent {
    /// As a fraction: 5 % is 0.05.
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// A parser of percentages from `min` to `max` (`5%` or `5`).
pub fn percent(
    min: f64,
    max: f64,
) -> impl Fn(&str) -> Result<Percent, String> + Clone + Send + Sync {
    move |text: &str| {
        let t = text.trim();
        t.trim_end_matches('%')
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= min && *v <= max)
            .map(Percent)
            .ok_or_else(|| format!("'{t}' is not a percentage from {min}% to {max}%, such as 5%"))
    }
}

/// A parser of durations (`500ms`, `10s`, `2m` or `2min`, `1h`, `1d`, or
/// a bare number of seconds) from `min` to `max`.
pub fn duration(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync {
    move |text: &str| {
        let t = text.trim();
        let bad = || {
            format!(
                "'{t}' is not a duration from {} to {}; write e.g. 500ms, 30s, 2m or 1h",
                units::duration(min.as_secs_f64()),
                units::duration(max.as_secs_f64())
            )
        };
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let v: f64 = number.trim().parse().map_err(|_| bad())?;
        let scale = match unit.trim() {
            "" | "s" => 1.0,
            "ms" => 1e-3,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            _ => return Err(bad()),
        };
        let secs = v * scale;
        if !secs.is_finite() || secs < min.as_secs_f64() || secs > max.as_secs_f64() {
            return Err(bad());
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// Free space a writer must leave: a size (`10GB`, `0`) or a percentage of
/// the file system (`5%`).
pub fn reserve(text: &str) -> Result<Reserve, String> {
    let t = text.trim();
    if let Some(p) = t.strip_suffix('%') {
        return match p.trim().parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Ok(Reserve::Percent(v)),
            _ => Err(format!("'{t}' is not a percentage from 0% to 100%")),
        };
    }
    if t == "0" {
        return Ok(Reserve::Bytes(0));
    }
    units::parse_size(t)
        .map(Reserve::Bytes)
        .map_err(|e| format!("{e}; write e.g. 10GB, 500MiB or 5%"))
}

/// A pixel size in Å, from 0.01 to below 100.
pub fn pixel_size(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| (0.01..100.0).contains(v))
        .ok_or_else(|| format!("'{text}' is not a pixel size; give Å from 0.01 to below 100"))
}

/// A list's values each once, in the order first given (`--box
/// 256,432,256` is 256, 432).
pub fn distinct<T: PartialEq + Copy>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for v in items {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// A parser of numbers above 0 and at most `max` (days, particles per
/// second), written `30`, `2.5` or `2e3`.
pub fn positive(max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text: &str| {
        let t = text.trim();
        units::parse_count(t)
            .ok()
            .map(|v| v as f64)
            .or_else(|| t.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0 && *v <= max)
            .ok_or_else(|| format!("'{t}' is not a number above 0 and at most {max}"))
    }
}

/// A number from 0 to `max`.
pub fn positive_or_zero(max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text: &str| {
        let t = text.trim();
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0 && *v <= max)
            .ok_or_else(|| format!("'{t}' is not a number from 0 to {max}"))
    }
}

/// A read pattern of `bench io`: sequential, random, epochs:N, subset:F.
pub fn pattern(text: &str) -> Result<Pattern, String> {
    Pattern::parse(text)
}

/// A range of sizes, `LO..HI` (`250GB..8TB`), LO above 0 and below HI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeRange {
    pub lo: u64,
    pub hi: u64,
}

impl FromStr for SizeRange {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (lo, hi) = text
            .split_once("..")
            .ok_or_else(|| format!("'{text}' is not a range; write e.g. 250GB..8TB"))?;
        let lo = units::parse_size(lo).map_err(|e| e.to_string())?;
        let hi = units::parse_size(hi).map_err(|e| e.to_string())?;
        if lo == 0 || lo >= hi {
            return Err(format!(
                "'{text}': the first size must be above 0 and below the second"
            ));
        }
        Ok(SizeRange { lo, hi })
    }
}

/// `--master HOST[:BASE]`: the CryoSPARC master and the first of its 11
/// consecutive ports (39000 by default). IPv6 literals go in brackets when a
/// port follows: `[fd00::1]:39000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterAddr {
    pub host: String,
    pub base: u16,
}

/// The default first port of the master (seed 003: 39000-39010).
pub const MASTER_BASE_PORT: u16 = 39000;

impl FromStr for MasterAddr {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let form = "give HOST or HOST:BASE (e.g. master01:39000)";
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (h, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{text}' has no closing ']'; {form}"))?;
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(
                        p.strip_prefix(':')
                            .ok_or_else(|| format!("'{text}' is not HOST:BASE; {form}"))?,
                    ),
                ),
            }
        } else if text.matches(':').count() > 1 {
            (text, None) // a bare IPv6 address
        } else {
            match text.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (text, None),
            }
        };
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
        if host.is_empty() || host.len() > 253 || !host.chars().all(ok_char) {
            return Err(format!("'{text}' is not a host name or IP address; {form}"));
        }
        let base = match port {
            None => MASTER_BASE_PORT,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|b| (1..=u16::MAX - 10).contains(b))
                .ok_or_else(|| {
                    format!(
                        "'{p}' is not a base port; give 1 to {} (the master uses BASE..BASE+10)",
                        u16::MAX - 10
                    )
                })?,
        };
        Ok(MasterAddr {
            host: host.to_string(),
            base,
        })
    }
}

#[cfg(test)]
mod master_tests {
    use super::*;

    #[test]
    fn master_addresses() {
        let m = |t: &str| t.parse::<MasterAddr>();
        assert_eq!(
            m("master01"),
            Ok(MasterAddr {
                host: "master01".into(),
                base: 39000
            })
        );
        assert_eq!(m("10.0.0.5:40000").map(|a| a.base), Ok(40000));
        assert_eq!(m("[::1]:39100").map(|a| a.host), Ok("::1".into()));
        assert_eq!(m("fd00::1").map(|a| a.base), Ok(39000));
        for bad in [
            "", ":39000", "a b", "h:0", "h:65530", "h:x", "[::1", "[::1]x", "$(id)", "a\nb",
        ] {
            assert!(m(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_sizes_are_checked_once() {
        assert_eq!("432".parse::<BoxSize>(), Ok(BoxSize(432)));
        assert_eq!("2".parse::<BoxSize>(), Ok(BoxSize(2)));
        assert_eq!("8192".parse::<BoxSize>(), Ok(BoxSize(8192)));
        for bad in ["0", "1", "8193", "-5", "abc", "1.5", ""] {
            let e = bad.parse::<BoxSize>().unwrap_err();
            assert!(e.contains("box size") && e.contains("8192"), "{bad}: {e}");
        }
        assert_eq!(
            BoxSize(256).to_string().parse::<BoxSize>(),
            Ok(BoxSize(256))
        );
    }

    #[test]
    fn counts_take_every_spelling_within_their_range() {
        let gpus = count::<u32>(1, 64);
        assert_eq!(gpus("4"), Ok(4));
        assert_eq!(gpus("6.4e1"), Ok(64));
        assert!(gpus("0").unwrap_err().contains("from 1 to 64"));
        assert!(gpus("65").unwrap_err().contains("out of range"));
        assert!(gpus("lots").unwrap_err().contains("not a number"));
        let particles = count::<u64>(1, 10_000_000_000);
        assert_eq!(particles("2e6"), Ok(2_000_000));
        assert_eq!(particles("2,000,000"), Ok(2_000_000));
        assert_eq!(particles("2M"), Ok(2_000_000));
        assert!(particles("1e20").is_err());
        // A value that passes the range but not the type is refused too.
        assert!(count::<u8>(0, 1000)("300").is_err());
    }

    #[test]
    fn sizes_need_units_and_a_floor() {
        let ssd = size(1);
        assert_eq!(ssd("1.92TB"), Ok(1_920_000_000_000));
        assert!(ssd("2").unwrap_err().contains("unit"));
        assert!(ssd("2XB").unwrap_err().contains("unknown unit"));
        assert!(ssd("0B").unwrap_err().contains("too small"));
    }

    #[test]
    fn vram_reads_bare_numbers_as_gib() {
        assert_eq!(vram("24").map(|v| v.bytes), Ok(24 * GIB));
        assert_eq!(vram("12GB").map(|v| v.bytes), Ok(12_000_000_000));
        assert!(vram("0.01").is_err());
        assert!(vram("-3").is_err());
    }

    #[test]
    fn cryosparc_megabytes_and_sizes() {
        assert_eq!(
            "10000".parse::<CryosparcMb>(),
            Ok(CryosparcMb(10_000 * MIB))
        );
        assert_eq!(
            "100GB".parse::<CryosparcMb>(),
            Ok(CryosparcMb(100_000_000_000))
        );
        assert!("-1".parse::<CryosparcMb>().is_err());
        let d = CryosparcMb(10_000 * MIB);
        assert_eq!(d.to_string().parse::<CryosparcMb>(), Ok(d));
        let odd = CryosparcMb(1_000_000_001);
        assert_eq!(odd.to_string().parse::<CryosparcMb>(), Ok(odd));
    }

    #[test]
    fn rates() {
        assert_eq!("500MB/s".parse::<Rate>(), Ok(Rate(500e6)));
        assert_eq!("1GiB/s".parse::<Rate>(), Ok(Rate(1073741824.0)));
        assert!("500MB".parse::<Rate>().is_err());
        assert!("0MB/s".parse::<Rate>().is_err());
        let r = Rate(500e6);
        assert_eq!(r.to_string(), "500MB/s");
        assert_eq!(r.to_string().parse::<Rate>(), Ok(r));
        assert_eq!(exact_size(GIB), "1GiB");
        assert_eq!(exact_size(10_000_000_000), "10GB");
        assert_eq!(exact_size(4097), "4097B");
    }

    #[test]
    fn percentages() {
        let margin = percent(0.0, 100.0);
        assert_eq!(margin("5"), Ok(Percent(5.0)));
        assert_eq!(margin("20%"), Ok(Percent(20.0)));
        assert_eq!(margin("20%").unwrap().fraction(), 0.2);
        assert_eq!(margin("100"), Ok(Percent(100.0)));
        assert!(margin("100.5").is_err());
        assert!(margin("-1").is_err());
        assert!(margin("lots").is_err());
        assert_eq!(margin(&Percent(5.0).to_string()), Ok(Percent(5.0)));
    }

    #[test]
    fn durations() {
        let d = duration(Duration::ZERO, Duration::from_secs(7 * 86_400));
        assert_eq!(d("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(d("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(d("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(d("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(d("90"), Ok(Duration::from_secs(90)));
        assert_eq!(d("0"), Ok(Duration::ZERO));
        assert!(d("-1s").is_err());
        assert!(d("soon").unwrap_err().contains("not a duration"));
        assert!(d("8d").is_err());
        let at_least_a_second = duration(Duration::from_secs(1), Duration::from_secs(60));
        assert!(at_least_a_second("0").is_err());
    }

    #[test]
    fn reserves_are_sizes_or_percentages() {
        assert_eq!(reserve("5%"), Ok(Reserve::Percent(5.0)));
        assert_eq!(reserve("1GB"), Ok(Reserve::Bytes(1_000_000_000)));
        assert_eq!(reserve("0"), Ok(Reserve::Bytes(0)));
        assert!(reserve("150%").is_err());
        assert!(reserve("10").is_err(), "a bare number is ambiguous");
        assert!(reserve("lots").unwrap_err().contains("5%"));
    }

    #[test]
    fn pixel_sizes_numbers_and_ranges() {
        assert_eq!(pixel_size("1.25"), Ok(1.25));
        assert!(pixel_size("-1").is_err());
        assert!(pixel_size("100").is_err());
        assert!(pixel_size("1e-30").is_err());
        assert_eq!(positive(1e9)("2e3"), Ok(2000.0));
        assert_eq!(positive(1e9)("2.5"), Ok(2.5));
        assert!(positive(1e9)("0").is_err());
        assert!(positive(3650.0)("1e308").is_err());
        assert_eq!(distinct([256, 432, 256, 432, 128]), [256, 432, 128]);
        assert_eq!(
            "250GB..8TB".parse::<SizeRange>(),
            Ok(SizeRange {
                lo: 250_000_000_000,
                hi: 8_000_000_000_000
            })
        );
        assert!("8TB..250GB".parse::<SizeRange>().is_err());
        assert!("8TB".parse::<SizeRange>().is_err());
    }
}
