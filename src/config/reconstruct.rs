//! `cryocap reconstruct` configuration.

use std::path::PathBuf;

use super::ConfigError;
use crate::cli::ReconstructArgs;
use crate::report::Format;
use crate::units;

#[derive(Debug, Clone, PartialEq)]
pub struct ReconstructConfig {
    pub star: PathBuf,
    pub output: PathBuf,
    /// 1 or 2.
    pub pad: usize,
    pub threads: usize,
    pub quiet: bool,
    /// Insert on the GPU rather than the CPU.
    pub gpu: bool,
    pub format: Format,
}

/// Most insertion threads used by default (each holds a padded grid).
pub const DEFAULT_MAX_THREADS: usize = 8;

impl ReconstructConfig {
    pub fn from_args(a: &ReconstructArgs) -> Result<ReconstructConfig, ConfigError> {
        let pad = match a.pad.as_deref().map(str::trim) {
            None | Some("2") => 2,
            Some("1") => 1,
            Some(other) => {
                return Err(ConfigError::flag(
                    "--pad",
                    format!("'{other}' is not a padding factor; use 1 or 2"),
                ));
            }
        };
        let threads = match &a.threads {
            None => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(DEFAULT_MAX_THREADS),
            Some(t) => {
                let v = units::parse_count(t).map_err(|e| {
                    ConfigError::flag(
                        "--threads",
                        format!("{e}; give a whole number from 1 to 256"),
                    )
                })?;
                if !(1..=256).contains(&v) {
                    return Err(ConfigError::flag(
                        "--threads",
                        format!("{v} is out of range; give a whole number from 1 to 256"),
                    ));
                }
                v as usize
            }
        };
        if !a.star.is_file() {
            return Err(ConfigError::flag(
                "--star",
                format!("{} is not a readable file", a.star.display()),
            ));
        }
        if a.output.is_dir() {
            return Err(ConfigError::flag(
                "-o",
                format!(
                    "{} is a directory; name the volume file to write",
                    a.output.display()
                ),
            ));
        }
        let parent = a
            .output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !parent.is_dir() {
            return Err(ConfigError::flag(
                "-o",
                format!("directory {} does not exist", parent.display()),
            ));
        }
        Ok(ReconstructConfig {
            star: a.star.clone(),
            output: a.output.clone(),
            pad,
            threads,
            quiet: a.quiet,
            gpu: a.gpu,
            format: a.format.into(),
        })
    }
}
