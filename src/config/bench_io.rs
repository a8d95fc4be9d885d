//! `cryocap bench io` configuration: where the particles are, which patterns,
//! how many readers, direct or buffered, and for how long.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::count;
use super::stack::{reserve, spec};
use crate::cli::BenchIoArgs;
use crate::report::Format;
use crate::storage::patterns::Pattern;
use crate::storage::space::Reserve;
use crate::storage::stack_writer::StackSpec;

/// Where the particles come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Every .mrc/.mrcs file in the directory.
    Dir(PathBuf),
    Files(Vec<PathBuf>),
    /// A block device read raw and read-only: float32 particles of
    /// `particle_bytes` back to back over the first `size` bytes (default:
    /// the smaller of the device and 4 GiB).
    RawDevice {
        device: PathBuf,
        particle_bytes: u64,
        size: Option<u64>,
    },
    /// Write this stack into the directory first; delete it afterwards.
    Create {
        dir: PathBuf,
        spec: StackSpec,
        reserve: Reserve,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BenchIoConfig {
    pub source: Source,
    pub patterns: Vec<Pattern>,
    pub threads: u32,
    pub queue_depth: u32,
    pub direct: bool,
    pub align: Option<u64>,
    pub warmup: Duration,
    pub passes: u32,
    pub duration: Option<Duration>,
    pub seed: u64,
    pub gpu_rate: Option<f64>,
    pub gpus: Option<u32>,
    pub emit_fio: Option<PathBuf>,
    pub history: Option<PathBuf>,
    pub quiet: bool,
    pub format: Format,
}

/// Reads `10s`, `500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(flag: &'static str, text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    let bad = || {
        ConfigError::flag(
            flag,
            format!("'{t}' is not a duration; write e.g. 500ms, 10s, 2m or 0"),
        )
    };
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let secs = v * scale;
    if !secs.is_finite() || !(0.0..=86_400.0 * 7.0).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn patterns(text: Option<&str>) -> Result<Vec<Pattern>, ConfigError> {
    let Some(t) = text else {
        return Ok(vec![Pattern::Sequential, Pattern::Random]);
    };
    let v: Result<Vec<Pattern>, String> = t
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Pattern::parse)
        .collect();
    let v = v.map_err(|e| ConfigError::flag("--pattern", e))?;
    if v.is_empty() {
        return Err(ConfigError::flag(
            "--pattern",
            "no pattern given; use sequential, random, epochs:N or subset:F",
        ));
    }
    Ok(v)
}

impl BenchIoConfig {
    pub fn from_args(a: &BenchIoArgs) -> Result<Self, ConfigError> {
        let seed = match &a.seed {
            Some(t) => count("--seed", t, 0, u64::MAX)?,
            None => 1,
        };
        if a.size.is_some() && a.raw_device.is_none() {
            return Err(ConfigError::flag(
                "--size",
                "only applies with --raw-device (the bytes of the device to read)",
            ));
        }
        let source = if let Some(dev) = &a.raw_device {
            raw_device_source(a, dev)?
        } else {
            file_source(a, seed)?
        };
        if a.create.is_none() && (a.dtype.is_some() || a.per_file.is_some() || a.reserve.is_some())
        {
            return Err(ConfigError::Conflict(
                "--dtype, --per-file and --reserve only apply with --create".to_string(),
            ));
        }
        let align = match &a.align {
            None => None,
            Some(t) => {
                let v = units_count("--align", t)?;
                if !v.is_power_of_two() || !(512..=1 << 20).contains(&v) {
                    return Err(ConfigError::flag(
                        "--align",
                        format!(
                            "{v} bytes is not a usable O_DIRECT alignment; give a power of two from 512 to 1048576"
                        ),
                    ));
                }
                Some(v)
            }
        };
        let gpu_rate = match &a.gpu_rate {
            None => None,
            Some(t) => {
                let v = crate::units::parse_count(t)
                    .ok()
                    .map(|v| v as f64)
                    .or_else(|| t.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .ok_or_else(|| {
                        ConfigError::flag(
                            "--gpu-rate",
                            format!("'{t}' is not a rate; give particles per second one GPU consumes, e.g. 2000"),
                        )
                    })?;
                Some(v)
            }
        };
        let gpus = match &a.gpus {
            None => None,
            Some(t) => Some(count("--gpus", t, 1, 1024)? as u32),
        };
        if gpus.is_some() && gpu_rate.is_none() {
            return Err(ConfigError::flag(
                "--gpus",
                "needs --gpu-rate (particles per second one GPU consumes) to say whether the storage keeps them fed",
            ));
        }
        let format: Format = a.format.into();
        Ok(BenchIoConfig {
            source,
            patterns: patterns(a.pattern.as_deref())?,
            threads: match &a.threads {
                Some(t) => count("--threads", t, 1, 256)? as u32,
                None => 1,
            },
            queue_depth: match &a.queue_depth {
                Some(t) => count("--queue-depth", t, 1, 256)? as u32,
                None => 1,
            },
            direct: !a.buffered,
            align,
            warmup: match &a.warmup {
                Some(t) => parse_duration("--warmup", t)?,
                None => Duration::from_secs(1),
            },
            passes: match &a.passes {
                Some(t) => count("--passes", t, 1, 10_000)? as u32,
                None => 1,
            },
            duration: match &a.duration {
                Some(t) => {
                    let d = parse_duration("--duration", t)?;
                    if d.is_zero() {
                        return Err(ConfigError::flag("--duration", "must be longer than 0"));
                    }
                    Some(d)
                }
                None => None,
            },
            seed,
            gpu_rate,
            gpus,
            emit_fio: a.emit_fio.clone(),
            history: a.history.clone(),
            quiet: a.quiet,
            format,
        })
    }
}

/// `--raw-device DEV [--box B] [--size SIZE]`, alone.
fn raw_device_source(a: &BenchIoArgs, dev: &std::path::Path) -> Result<Source, ConfigError> {
    if a.dir.is_some() || !a.files.is_empty() || a.create.is_some() {
        return Err(ConfigError::Conflict(
            "--raw-device reads a block device; it cannot be used with --dir, --files or --create"
                .to_string(),
        ));
    }
    let box_size = match &a.box_size {
        Some(t) => count(
            "--box",
            t,
            u64::from(crate::sizing::MIN_BOX),
            u64::from(crate::sizing::MAX_BOX),
        )?,
        None => 256,
    };
    let size = match &a.size {
        None => None,
        Some(t) => {
            let v = crate::units::parse_size(t)
                .map_err(|e| ConfigError::flag("--size", format!("{e}")))?;
            if v == 0 {
                return Err(ConfigError::flag("--size", "must be larger than 0"));
            }
            Some(v)
        }
    };
    Ok(Source::RawDevice {
        device: dev.to_path_buf(),
        particle_bytes: box_size * box_size * 4,
        size,
    })
}

/// `--dir`, `--files` or `--dir --create`.
fn file_source(a: &BenchIoArgs, seed: u64) -> Result<Source, ConfigError> {
    Ok(match (&a.dir, a.files.is_empty(), &a.create) {
        (None, true, _) => {
            return Err(ConfigError::Conflict(
                    "say what to read: --dir DIR (with --create N --box B to write a stack first) or --files FILE...".to_string(),
                ));
        }
        (Some(_), false, _) => {
            return Err(ConfigError::Conflict(
                "--dir and --files cannot be used together".to_string(),
            ));
        }
        (None, false, Some(_)) => {
            return Err(ConfigError::Conflict(
                "--create writes into --dir; give --dir instead of --files".to_string(),
            ));
        }
        (None, false, None) => Source::Files(a.files.clone()),
        (Some(d), true, None) => {
            if a.box_size.is_some() {
                return Err(ConfigError::Conflict(
                    "--box only applies with --create or --raw-device".to_string(),
                ));
            }
            Source::Dir(d.clone())
        }
        (Some(d), true, Some(n)) => {
            let b = a.box_size.as_deref().ok_or_else(|| {
                ConfigError::flag("--create", "needs --box PIXELS for the particles to write")
            })?;
            let mut s = spec(n, b, a.dtype.as_deref(), a.per_file.as_deref(), seed).map_err(
                |e| match e {
                    ConfigError::Flag {
                        flag: "--particles",
                        reason,
                    } => ConfigError::Flag {
                        flag: "--create",
                        reason,
                    },
                    other => other,
                },
            )?;
            s.pixel_size_a = 1.0;
            Source::Create {
                dir: d.clone(),
                spec: s,
                reserve: reserve(a.reserve.as_deref())?,
            }
        }
    })
}

fn units_count(flag: &'static str, t: &str) -> Result<u64, ConfigError> {
    crate::units::parse_count(t)
        .or_else(|_| crate::units::parse_size(t))
        .map_err(|e| ConfigError::flag(flag, format!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("--x", "500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_duration("--x", "2m").unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(parse_duration("--x", "0").unwrap(), Duration::ZERO);
        assert!(parse_duration("--x", "-1s").is_err());
        assert!(
            parse_duration("--x", "soon")
                .unwrap_err()
                .to_string()
                .contains("--x")
        );
    }

    #[test]
    fn pattern_lists() {
        assert_eq!(
            patterns(Some("sequential,epochs:2")).unwrap(),
            vec![Pattern::Sequential, Pattern::Epochs(2)]
        );
        assert!(patterns(Some(",")).is_err());
    }
}
