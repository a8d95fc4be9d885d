//! `cryocap qualify` configuration.

use std::path::PathBuf;

use super::{ConfigError, count};
use crate::cli::QualifyArgs;
use crate::datasets::{Catalog, Profile, nearest};
use crate::sizing::{MAX_BOX, MIN_BOX};
use crate::units;

#[derive(Debug, Clone)]
pub struct QualifyConfig {
    pub profile: Profile,
    pub project_dir: Option<PathBuf>,
    pub ssd_dir: Option<PathBuf>,
    pub boxes: Vec<u32>,
    pub quick: bool,
    pub repeat: u32,
    pub gpus: Option<u32>,
    pub quiet: bool,
}

/// Reads `--profile`: a shipped profile's id, or a TOML file of the same form.
pub fn resolve_profile(text: &str) -> Result<Profile, ConfigError> {
    let catalog = Catalog::get()?;
    if let Some(p) = catalog.profile(text) {
        return Ok(p.clone());
    }
    let path = PathBuf::from(text);
    if text.ends_with(".toml") || path.exists() {
        let body = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::flag("--profile", format!("cannot read {text}: {e}")))?;
        return Profile::from_toml(&body).map_err(|e| {
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            ConfigError::flag(
                "--profile",
                format!("{text} is not a requirement profile: {first} (see datasets/profiles/ for the form)"),
            )
        });
    }
    let near = nearest(text, catalog.profiles.iter().map(|p| p.id.as_str()), 2);
    Err(ConfigError::flag(
        "--profile",
        format!(
            "unknown profile '{text}'; shipped profiles: {}, or give a .toml file",
            near.join(", ")
        ),
    ))
}

fn existing_dir(flag: &'static str, p: &PathBuf) -> Result<PathBuf, ConfigError> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(p.clone()),
        Ok(_) => Err(ConfigError::flag(
            flag,
            format!("{} is not a directory", p.display()),
        )),
        Err(e) => Err(ConfigError::flag(flag, format!("{}: {e}", p.display()))),
    }
}

/// Reads a comma-separated box list such as `256,432`.
pub fn parse_boxes(flag: &'static str, text: &str) -> Result<Vec<u32>, ConfigError> {
    let mut boxes = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v = units::parse_count(part)
            .ok()
            .filter(|v| (u64::from(MIN_BOX)..=u64::from(MAX_BOX)).contains(v))
            .ok_or_else(|| {
                ConfigError::flag(
                    flag,
                    format!("'{part}' is not a box size from {MIN_BOX} to {MAX_BOX}"),
                )
            })?;
        boxes.push(v as u32);
    }
    if boxes.is_empty() {
        return Err(ConfigError::flag(
            flag,
            "give at least one box size, e.g. 256,432",
        ));
    }
    Ok(boxes)
}

impl QualifyConfig {
    pub fn from_args(args: &QualifyArgs) -> Result<QualifyConfig, ConfigError> {
        let profile = resolve_profile(args.profile.as_deref().unwrap_or("cryosparc-worker"))?;
        let repeat = match &args.repeat {
            Some(t) => count("--repeat", t, 1, 100)? as u32,
            None => 3,
        };
        let gpus = match &args.gpus {
            Some(t) => Some(count("--gpus", t, 1, 64)? as u32),
            None => None,
        };
        Ok(QualifyConfig {
            profile,
            project_dir: args
                .dir
                .as_ref()
                .map(|d| existing_dir("--dir", d))
                .transpose()?,
            ssd_dir: args
                .ssd
                .as_ref()
                .map(|d| existing_dir("--ssd", d))
                .transpose()?,
            boxes: parse_boxes("--box", args.box_sizes.as_deref().unwrap_or("256,432"))?,
            quick: args.quick,
            repeat,
            gpus,
            quiet: args.quiet,
        })
    }
}
