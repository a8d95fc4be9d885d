//! `cryocap plan` configuration.

use super::ConfigError;
use crate::cli::PlanArgs;
use crate::datasets::{Catalog, nearest};
use crate::report::Format;
use crate::results::plan::Dtype;
use crate::sizing::ssd::DEFAULT_RESERVE_MB;
use crate::sizing::stack::{GUIDE_NSYMBT, SizeModel};
use crate::sizing::{MAX_BOX, MAX_PARTICLES, MIN_BOX};
use crate::units::{self, GIB};

/// The VRAM the jobs are checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct VramSource {
    pub label: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanConfig {
    pub particles: u64,
    pub box_size: u32,
    pub pixel_size_a: Option<f64>,
    pub dtype: Dtype,
    pub size_model: SizeModel,
    pub gpus: u32,
    pub vram: Option<VramSource>,
    pub classes: Option<u32>,
    pub passes: u32,
    pub dataset: Option<String>,
    pub ssd_bytes: Option<u64>,
    pub ssd_quota_mb: Option<u64>,
    pub ssd_reserve_mb: u64,
    pub cache_tier: String,
    pub format: Format,
}

fn parse_box(text: &str) -> Result<u32, ConfigError> {
    let bad = || {
        ConfigError::flag(
            "--box",
            format!(
                "'{text}' is not a box size; give a whole number of pixels from {MIN_BOX} to {MAX_BOX}"
            ),
        )
    };
    let v = units::parse_count(text).map_err(|_| bad())?;
    if !(u64::from(MIN_BOX)..=u64::from(MAX_BOX)).contains(&v) {
        return Err(bad());
    }
    Ok(v as u32)
}

fn parse_particles(text: &str) -> Result<u64, ConfigError> {
    let v = units::parse_count(text).map_err(|e| {
        ConfigError::flag(
            "--particles",
            format!("{e}; write e.g. 2e6, 2000000, 2,000,000 or 2M"),
        )
    })?;
    if v == 0 {
        return Err(ConfigError::flag("--particles", "must be at least 1"));
    }
    if v > MAX_PARTICLES {
        return Err(ConfigError::flag(
            "--particles",
            format!(
                "{} is more than the {} cryocap plans for",
                units::group_digits(v),
                units::group_digits(MAX_PARTICLES)
            ),
        ));
    }
    Ok(v)
}

fn positive(flag: &'static str, text: &str, max: u64) -> Result<u64, ConfigError> {
    let v = units::parse_count(text).map_err(|e| ConfigError::flag(flag, e.to_string()))?;
    if v == 0 || v > max {
        return Err(ConfigError::flag(
            flag,
            format!("'{text}' must be a whole number from 1 to {max}"),
        ));
    }
    Ok(v)
}

fn unknown_name(
    flag: &'static str,
    what: &str,
    wanted: &str,
    names: Vec<&str>,
    list_cmd: &str,
) -> ConfigError {
    let near = nearest(wanted, names.into_iter(), 3);
    ConfigError::flag(
        flag,
        format!(
            "unknown {what} '{wanted}'; nearest: {} (see `cryocap catalog {list_cmd}`)",
            near.join(", ")
        ),
    )
}

impl PlanConfig {
    pub fn from_args(args: &PlanArgs, format: Format) -> Result<PlanConfig, ConfigError> {
        let catalog = Catalog::get()?;

        let dataset = match &args.dataset {
            Some(id) => Some(catalog.dataset(id).ok_or_else(|| {
                unknown_name(
                    "--dataset",
                    "dataset",
                    id,
                    catalog.empiar.iter().map(|d| d.id.as_str()).collect(),
                    "datasets",
                )
            })?),
            None => None,
        };

        let particles = match (&args.particles, dataset) {
            (Some(p), _) => parse_particles(p)?,
            (None, Some(d)) => d.particles,
            (None, None) => {
                return Err(ConfigError::flag(
                    "--particles",
                    "is required (or name a --dataset)",
                ));
            }
        };
        let box_size = match (&args.box_size, dataset) {
            (Some(b), _) => parse_box(b)?,
            (None, Some(d)) => d.box_size,
            (None, None) => {
                return Err(ConfigError::flag(
                    "--box",
                    "is required (or name a --dataset)",
                ));
            }
        };
        let pixel_size_a = match (&args.pixel_size, dataset) {
            (Some(p), _) => {
                let v: f64 = p.trim().parse().map_err(|_| {
                    ConfigError::flag("--pixel-size", format!("'{p}' is not a number of Å"))
                })?;
                if !(v.is_finite() && v > 0.0 && v < 100.0) {
                    return Err(ConfigError::flag(
                        "--pixel-size",
                        format!("'{p}' must be between 0 and 100 Å"),
                    ));
                }
                Some(v)
            }
            (None, Some(d)) => Some(d.pixel_size_a),
            (None, None) => None,
        };
        let dtype = match args.dtype.as_deref() {
            None => match dataset {
                Some(d) if d.dtype == "f16" => Dtype::F16,
                _ => Dtype::F32,
            },
            Some("f32" | "float32") => Dtype::F32,
            Some("f16" | "float16") => Dtype::F16,
            Some(other) => {
                return Err(ConfigError::flag(
                    "--dtype",
                    format!("'{other}' is not f32 or f16"),
                ));
            }
        };

        let size_model = match args.size_model.as_deref().unwrap_or("guide") {
            "guide" => {
                if args.particles_per_file.is_some() || args.nsymbt.is_some() {
                    return Err(ConfigError::Conflict(
                        "--particles-per-file and --nsymbt describe real files: use them with --size-model exact".into(),
                    ));
                }
                SizeModel::Guide
            }
            "exact" => SizeModel::Exact {
                particles_per_file: match &args.particles_per_file {
                    Some(t) => positive("--particles-per-file", t, MAX_PARTICLES)?,
                    None => 1000,
                },
                nsymbt: match &args.nsymbt {
                    Some(t) => units::parse_count(t)
                        .ok()
                        .filter(|v| *v <= 1 << 30)
                        .ok_or_else(|| {
                            ConfigError::flag(
                                "--nsymbt",
                                format!(
                                    "'{t}' must be a whole number of bytes from 0 to 1073741824"
                                ),
                            )
                        })?,
                    None => 0,
                },
            },
            other => {
                return Err(ConfigError::flag(
                    "--size-model",
                    format!("'{other}' is not guide or exact"),
                ));
            }
        };

        let gpus = match &args.gpus {
            Some(t) => positive("--gpus", t, 64)? as u32,
            None => 4,
        };
        let classes = match &args.classes {
            Some(t) => Some(positive("--classes", t, 1000)? as u32),
            None => None,
        };
        let passes = match &args.passes {
            Some(t) => positive("--passes", t, 100_000)? as u32,
            None => 20,
        };

        let vram = match (&args.vram, &args.gpu) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict(
                    "--vram and --gpu both set the VRAM: give one".into(),
                ));
            }
            (Some(t), None) => {
                let bytes = units::parse_size_with_default(t, Some(GIB)).map_err(|e| {
                    ConfigError::flag("--vram", format!("{e}; give GB of VRAM, e.g. --vram 24"))
                })?;
                if !(256 * (1 << 20)..=64 * 1024 * GIB).contains(&bytes) {
                    return Err(ConfigError::flag(
                        "--vram",
                        format!("'{t}' is not a GPU memory size (256 MiB to 64 TiB)"),
                    ));
                }
                Some(VramSource {
                    label: format!("--vram {t}"),
                    bytes,
                })
            }
            (None, Some(name)) => {
                let g = catalog.gpu(name).ok_or_else(|| {
                    unknown_name(
                        "--gpu",
                        "GPU",
                        name,
                        catalog.gpus.iter().map(|g| g.id.as_str()).collect(),
                        "gpus",
                    )
                })?;
                Some(VramSource {
                    label: g.name.clone(),
                    bytes: g.vram_bytes(),
                })
            }
            (None, None) => None,
        };

        let ssd_bytes = match &args.ssd {
            Some(t) => {
                let b =
                    units::parse_size(t).map_err(|e| ConfigError::flag("--ssd", e.to_string()))?;
                if b == 0 {
                    return Err(ConfigError::flag("--ssd", "must be larger than 0"));
                }
                Some(b)
            }
            None => None,
        };
        let ssd_quota_mb = match &args.ssd_quota {
            Some(t) => Some(positive("--ssd-quota", t, u64::MAX >> 21)?),
            None => None,
        };
        let ssd_reserve_mb = match &args.ssd_reserve {
            Some(t) => units::parse_count(t)
                .ok()
                .filter(|v| *v <= u64::MAX >> 21)
                .ok_or_else(|| {
                    ConfigError::flag(
                        "--ssd-reserve",
                        format!("'{t}' must be a whole number of MB"),
                    )
                })?,
            None => DEFAULT_RESERVE_MB,
        };
        if ssd_quota_mb.is_some() && ssd_bytes.is_none() {
            return Err(ConfigError::Conflict(
                "--ssd-quota limits a drive: give its size with --ssd too".into(),
            ));
        }
        if let Some(drive) = ssd_bytes
            && crate::sizing::ssd::mb_to_bytes(ssd_reserve_mb) >= drive
        {
            return Err(ConfigError::Conflict(format!(
                "--ssd-reserve {ssd_reserve_mb} MB leaves nothing of the {} drive given with --ssd",
                units::bytes_decimal(drive)
            )));
        }

        let cache_tier = args
            .cache_tier
            .clone()
            .unwrap_or_else(|| "nvme-gen4".into());
        if catalog.storage_tier(&cache_tier).is_none() {
            return Err(unknown_name(
                "--cache-tier",
                "storage tier",
                &cache_tier,
                catalog
                    .storage_tiers
                    .iter()
                    .map(|t| t.id.as_str())
                    .collect(),
                "storage",
            ));
        }

        Ok(PlanConfig {
            particles,
            box_size,
            pixel_size_a,
            dtype,
            size_model,
            gpus,
            vram,
            classes,
            passes,
            dataset: dataset.map(|d| d.id.clone()),
            ssd_bytes,
            ssd_quota_mb,
            ssd_reserve_mb,
            cache_tier,
            format,
        })
    }

    /// NSYMBT as counted: the guide's fixed 128, or the exact model's value.
    pub fn nsymbt(&self) -> u64 {
        match self.size_model {
            SizeModel::Guide => GUIDE_NSYMBT,
            SizeModel::Exact { nsymbt, .. } => nsymbt,
        }
    }
}
