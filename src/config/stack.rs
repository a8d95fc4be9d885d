//! `cryocap stack create|info` and the shared pieces of `bench io --create`:
//! flags turned into a validated stack spec.

use std::path::PathBuf;

use super::{ConfigError, count};
use crate::cli::{StackCreateArgs, StackInfoArgs};
use crate::report::Format;
use crate::storage::mrc::Mode;
use crate::storage::space::Reserve;
use crate::storage::stack_writer::StackSpec;
use crate::units;

/// Largest particle count per file (MRC NZ is a signed 32-bit word).
pub const MAX_PER_FILE: u64 = i32::MAX as u64;

#[derive(Debug, Clone, PartialEq)]
pub struct StackCreateConfig {
    pub dir: PathBuf,
    pub spec: StackSpec,
    pub reserve: Reserve,
    pub quiet: bool,
    pub format: Format,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackInfoConfig {
    pub files: Vec<PathBuf>,
    pub format: Format,
}

pub(crate) fn mode(text: Option<&str>) -> Result<Mode, ConfigError> {
    match text.map(str::trim) {
        None | Some("f32" | "float32") => Ok(Mode::Float32),
        Some("f16" | "float16") => Ok(Mode::Float16),
        Some(other) => Err(ConfigError::flag(
            "--dtype",
            format!("'{other}' is not a pixel type; use f32 (MRC mode 2) or f16 (MRC mode 12)"),
        )),
    }
}

pub(crate) fn reserve(text: Option<&str>) -> Result<Reserve, ConfigError> {
    let Some(t) = text.map(str::trim) else {
        return Ok(Reserve::Default);
    };
    if let Some(p) = t.strip_suffix('%') {
        return match p.trim().parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Ok(Reserve::Percent(v)),
            _ => Err(ConfigError::flag(
                "--reserve",
                format!("'{t}' is not a percentage from 0% to 100%"),
            )),
        };
    }
    if t == "0" {
        return Ok(Reserve::Bytes(0));
    }
    units::parse_size(t)
        .map(Reserve::Bytes)
        .map_err(|e| ConfigError::flag("--reserve", format!("{e}; write e.g. 10GB, 500MiB or 5%")))
}

/// A stack spec from the flags `stack create` and `bench io --create` share.
pub(crate) fn spec(
    particles: &str,
    box_size: &str,
    dtype: Option<&str>,
    per_file: Option<&str>,
    seed: u64,
) -> Result<StackSpec, ConfigError> {
    let particles = count("--particles", particles, 1, 1_000_000_000_000)?;
    let box_size = count(
        "--box",
        box_size,
        u64::from(crate::sizing::MIN_BOX),
        u64::from(crate::sizing::MAX_BOX),
    )? as u32;
    let per_file = match per_file {
        Some(t) => count("--per-file", t, 1, MAX_PER_FILE)?,
        None => 1000,
    };
    Ok(StackSpec {
        particles,
        box_size,
        mode: mode(dtype)?,
        per_file,
        pixel_size_a: 1.0,
        nsymbt: 0,
        seed,
    })
}

impl StackCreateConfig {
    pub fn from_args(a: &StackCreateArgs) -> Result<Self, ConfigError> {
        let seed = match &a.seed {
            Some(t) => count("--seed", t, 0, u64::MAX)?,
            None => 1,
        };
        let mut spec = spec(
            &a.particles,
            &a.box_size,
            a.dtype.as_deref(),
            a.per_file.as_deref(),
            seed,
        )?;
        if let Some(t) = &a.pixel_size {
            let v: f32 = t.trim().parse().map_err(|_| {
                ConfigError::flag("--pixel-size", format!("'{t}' is not a number of Å"))
            })?;
            if !(v.is_finite() && v > 0.0 && v < 100.0) {
                return Err(ConfigError::flag(
                    "--pixel-size",
                    format!("'{t}' is out of range; give Å above 0 and below 100"),
                ));
            }
            spec.pixel_size_a = v;
        }
        if let Some(t) = &a.nsymbt {
            spec.nsymbt = count("--nsymbt", t, 0, 1 << 30)? as u32;
        }
        let format: Format = a.format.into();
        if format == Format::Csv {
            return Err(ConfigError::flag(
                "--format",
                "csv is not available for stack create; use table, json or markdown",
            ));
        }
        Ok(StackCreateConfig {
            dir: a.dir.clone(),
            spec,
            reserve: reserve(a.reserve.as_deref())?,
            quiet: a.quiet,
            format,
        })
    }
}

impl StackInfoConfig {
    pub fn from_args(a: &StackInfoArgs) -> Result<Self, ConfigError> {
        let format: Format = a.format.into();
        if format == Format::Csv {
            return Err(ConfigError::flag(
                "--format",
                "csv is not available for stack info; use table, json or markdown",
            ));
        }
        Ok(StackInfoConfig {
            files: a.files.clone(),
            format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_reads_sizes_and_percentages() {
        assert_eq!(reserve(None).unwrap(), Reserve::Default);
        assert_eq!(reserve(Some("5%")).unwrap(), Reserve::Percent(5.0));
        assert_eq!(reserve(Some("1GB")).unwrap(), Reserve::Bytes(1_000_000_000));
        assert_eq!(reserve(Some("0")).unwrap(), Reserve::Bytes(0));
        assert!(reserve(Some("150%")).is_err());
        assert!(
            reserve(Some("lots"))
                .unwrap_err()
                .to_string()
                .contains("--reserve")
        );
    }

    #[test]
    fn dtype_names_modes() {
        assert_eq!(mode(Some("f16")).unwrap(), Mode::Float16);
        assert!(
            mode(Some("f64"))
                .unwrap_err()
                .to_string()
                .contains("--dtype")
        );
    }
}
