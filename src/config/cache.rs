//! `cryocap cache ...` configuration.

use std::path::PathBuf;

use super::{ConfigError, count};
use crate::cli::{CacheSimulateArgs, CacheSubsetArgs, CacheWorkloadArgs, CopyBenchArgs};
use crate::report::Format;
use crate::results::cache::CopyBenchReport;
use crate::sizing::ssd::DEFAULT_RESERVE_MB;
use crate::units::{self, MIB};

/// Default cache fill rate when none is given or measured, bytes/s.
pub const DEFAULT_COPY_RATE: f64 = 500e6;
/// Default file lifetime, days (CryoSPARC v3.3+).
pub const DEFAULT_LIFETIME_DAYS: f64 = 30.0;
/// Most sizes a sweep takes.
pub const MAX_STEPS: u64 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum SimulateMode {
    One { ssd: u64 },
    Sweep { lo: u64, hi: u64, steps: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimulateConfig {
    pub trace: PathBuf,
    pub mode: SimulateMode,
    pub quota: Option<u64>,
    pub reserve: u64,
    pub foreign: u64,
    pub lifetime_days: f64,
    pub copy_rate: f64,
    pub copy_rate_source: String,
    pub margin: f64,
    pub chart: PathBuf,
    pub threads: usize,
    pub quiet: bool,
    pub format: Format,
}

/// A size with a unit: `2TB`.
pub fn size(flag: &'static str, text: &str) -> Result<u64, ConfigError> {
    units::parse_size(text).map_err(|e| ConfigError::flag(flag, e.to_string()))
}

/// CryoSPARC's MB (read as MiB, see sizing::ssd), or a size with a unit.
pub fn megabytes(flag: &'static str, text: &str) -> Result<u64, ConfigError> {
    units::parse_size_with_default(text, Some(MIB)).map_err(|e| {
        ConfigError::flag(
            flag,
            format!("{e}; give MB (e.g. 10000) or a size like 10GB"),
        )
    })
}

fn positive_number(flag: &'static str, text: &str) -> Result<f64, ConfigError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(ConfigError::flag(
            flag,
            format!("'{text}' is not a positive number"),
        )),
    }
}

/// `500MB/s`, `1.2 GB/s`, `800MiB/s`.
pub fn rate(flag: &'static str, text: &str) -> Result<f64, ConfigError> {
    let t = text.trim();
    let body = t.strip_suffix("/s").ok_or_else(|| {
        ConfigError::flag(flag, format!("'{t}' is not a rate; write e.g. 500MB/s"))
    })?;
    let v = units::parse_size(body)
        .map_err(|e| ConfigError::flag(flag, format!("{e}; write e.g. 500MB/s")))?;
    if v == 0 {
        return Err(ConfigError::flag(flag, "a copy rate must be above 0 B/s"));
    }
    Ok(v as f64)
}

fn reserve_or_default(text: Option<&str>) -> Result<u64, ConfigError> {
    match text {
        Some(t) => megabytes("--reserve", t),
        None => Ok(DEFAULT_RESERVE_MB * MIB),
    }
}

fn threads_default() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl SimulateConfig {
    pub fn from_args(a: &CacheSimulateArgs) -> Result<Self, ConfigError> {
        let trace = a.trace.clone().ok_or_else(|| {
            ConfigError::flag(
                "--trace",
                "give the job trace CSV to replay (`cryocap cache workload -o jobs.csv` makes one)",
            )
        })?;
        let mode = match (&a.ssd, &a.sweep) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict(
                    "--ssd and --sweep: give one SSD size or a range to sweep, not both".into(),
                ));
            }
            (None, None) => {
                return Err(ConfigError::flag(
                    "--ssd",
                    "give the SSD size (e.g. --ssd 2TB) or a range (--sweep 250GB..8TB)",
                ));
            }
            (Some(s), None) => SimulateMode::One {
                ssd: size("--ssd", s)?,
            },
            (None, Some(r)) => {
                let (lo, hi) = r.split_once("..").ok_or_else(|| {
                    ConfigError::flag(
                        "--sweep",
                        format!("'{r}' is not a range; write e.g. 250GB..8TB"),
                    )
                })?;
                let (lo, hi) = (size("--sweep", lo)?, size("--sweep", hi)?);
                if lo == 0 || lo >= hi {
                    return Err(ConfigError::flag(
                        "--sweep",
                        format!("'{r}': the first size must be above 0 and below the second"),
                    ));
                }
                let steps = match &a.steps {
                    Some(t) => count("--steps", t, 2, MAX_STEPS)? as usize,
                    None => 16,
                };
                SimulateMode::Sweep { lo, hi, steps }
            }
        };
        if a.steps.is_some() && matches!(mode, SimulateMode::One { .. }) {
            return Err(ConfigError::Conflict(
                "--steps only goes with --sweep".into(),
            ));
        }
        let (copy_rate, copy_rate_source) = match (&a.copy_rate, &a.copy_rate_from) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict(
                    "--copy-rate and --copy-rate-from: give one".into(),
                ));
            }
            (Some(r), None) => (rate("--copy-rate", r)?, "--copy-rate".to_string()),
            (None, Some(p)) => copy_rate_from(p)?,
            (None, None) => (
                DEFAULT_COPY_RATE,
                "assumed (default); measure with `cryocap cache copy-bench`".to_string(),
            ),
        };
        let lifetime_days = match &a.lifetime_days {
            Some(t) => positive_number("--lifetime-days", t)?,
            None => DEFAULT_LIFETIME_DAYS,
        };
        let margin = match &a.margin {
            Some(t) => {
                let v: f64 = t.trim().trim_end_matches('%').parse().map_err(|_| {
                    ConfigError::flag(
                        "--margin",
                        format!("'{t}' is not a percentage; write e.g. 5"),
                    )
                })?;
                if !(0.0..=100.0).contains(&v) {
                    return Err(ConfigError::flag(
                        "--margin",
                        format!("'{t}' must be from 0 to 100"),
                    ));
                }
                v / 100.0
            }
            None => 0.05,
        };
        Ok(SimulateConfig {
            trace,
            mode,
            quota: a
                .quota
                .as_deref()
                .map(|t| megabytes("--quota", t))
                .transpose()?,
            reserve: reserve_or_default(a.reserve.as_deref())?,
            foreign: a
                .foreign
                .as_deref()
                .map(|t| size("--foreign", t))
                .transpose()?
                .unwrap_or(0),
            lifetime_days,
            copy_rate,
            copy_rate_source,
            margin,
            chart: a
                .chart
                .clone()
                .unwrap_or_else(|| PathBuf::from("cache-sweep.svg")),
            threads: match &a.threads {
                Some(t) => count("--threads", t, 1, 1024)? as usize,
                None => threads_default(),
            },
            quiet: a.quiet,
            format: a.format.into(),
        })
    }
}

fn copy_rate_from(path: &std::path::Path) -> Result<(f64, String), ConfigError> {
    let bad =
        |why: String| ConfigError::flag("--copy-rate-from", format!("{}: {why}", path.display()));
    let text = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let report: CopyBenchReport = serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "not the JSON of `cryocap cache copy-bench --format json` ({e})"
        ))
    })?;
    let rate = report
        .recommended_rate()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| bad("it has no rate for its recommended thread count".into()))?;
    Ok((
        rate,
        format!(
            "measured: {} threads in {}",
            report.recommended_threads,
            path.display()
        ),
    ))
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    pub projects: u32,
    pub days: f64,
    pub seed: u64,
    pub particles_per_file: u64,
    pub out: Option<PathBuf>,
}

impl WorkloadConfig {
    pub fn from_args(a: &CacheWorkloadArgs) -> Result<Self, ConfigError> {
        Ok(WorkloadConfig {
            projects: match &a.projects {
                Some(t) => count("--projects", t, 1, 10_000)? as u32,
                None => 6,
            },
            days: match &a.days {
                Some(t) => positive_number("--days", t)?,
                None => 60.0,
            },
            seed: match &a.seed {
                Some(t) => {
                    units::parse_count(t).map_err(|e| ConfigError::flag("--seed", e.to_string()))?
                }
                None => 1,
            },
            particles_per_file: match &a.particles_per_file {
                Some(t) => count("--particles-per-file", t, 1, 10_000_000)?,
                None => 1000,
            },
            out: a.out.clone(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubsetConfig {
    pub file: PathBuf,
    pub data_dir: Option<PathBuf>,
    pub particles_per_file: u64,
    pub ssd: Option<u64>,
    pub quota: Option<u64>,
    pub reserve: u64,
    pub format: Format,
}

impl SubsetConfig {
    pub fn from_args(a: &CacheSubsetArgs) -> Result<Self, ConfigError> {
        let ssd = a.ssd.as_deref().map(|t| size("--ssd", t)).transpose()?;
        if ssd.is_none() && (a.quota.is_some() || a.reserve.is_some()) {
            return Err(ConfigError::Conflict(
                "--quota and --reserve only go with --ssd".into(),
            ));
        }
        Ok(SubsetConfig {
            file: a.file.clone(),
            data_dir: a.data_dir.clone(),
            particles_per_file: match &a.particles_per_file {
                Some(t) => count("--particles-per-file", t, 1, 10_000_000)?,
                None => 1000,
            },
            ssd,
            quota: a
                .quota
                .as_deref()
                .map(|t| megabytes("--quota", t))
                .transpose()?,
            reserve: reserve_or_default(a.reserve.as_deref())?,
            format: a.format.into(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CopyBenchConfig {
    pub history: Option<PathBuf>,
    pub from: PathBuf,
    pub to: PathBuf,
    pub threads: Vec<u32>,
    pub repeats: u32,
    pub reserve: u64,
    pub quiet: bool,
    pub format: Format,
}

impl CopyBenchConfig {
    pub fn from_args(a: &CopyBenchArgs) -> Result<Self, ConfigError> {
        let from = a.from.clone().ok_or_else(|| {
            ConfigError::flag("--from", "give the directory of stack files to copy")
        })?;
        let to = a.to.clone().ok_or_else(|| {
            ConfigError::flag("--to", "give a directory on the cache SSD to copy into")
        })?;
        let mut threads = Vec::new();
        for part in a.threads.as_deref().unwrap_or("1,2,4,8").split(',') {
            let n = count("--threads", part.trim(), 1, 256)? as u32;
            if !threads.contains(&n) {
                threads.push(n);
            }
        }
        threads.sort_unstable();
        Ok(CopyBenchConfig {
            history: a.history.clone(),
            from,
            to,
            threads,
            repeats: match &a.repeats {
                Some(t) => count("--repeats", t, 1, 1000)? as u32,
                None => 3,
            },
            reserve: match &a.reserve {
                Some(t) => size("--reserve", t)?,
                None => units::GIB,
            },
            quiet: a.quiet,
            format: a.format.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_megabytes() {
        assert_eq!(rate("--copy-rate", "500MB/s").unwrap(), 500e6);
        assert_eq!(rate("--copy-rate", "1GiB/s").unwrap(), 1073741824.0);
        assert!(rate("--copy-rate", "500MB").is_err());
        assert!(rate("--copy-rate", "0MB/s").is_err());
        assert_eq!(megabytes("--quota", "100").unwrap(), 100 * MIB);
        assert_eq!(megabytes("--quota", "100GB").unwrap(), 100_000_000_000);
        assert!(megabytes("--quota", "-1").is_err());
    }
}
