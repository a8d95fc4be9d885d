//! The calibration file `cryocap calibrate` writes and every command that
//! times a job reads: the fitted [`Model`] as JSON. Where it is looked for:
//! `--calibration FILE`, else `$CRYOCAP_CALIBRATION`, else
//! `$XDG_CONFIG_HOME/cryocap/calibration.json` (`~/.config/...` when
//! XDG_CONFIG_HOME is unset) if that file exists, else the model fitted to
//! the shipped rows.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::Model;

/// What a calibration file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFile {
    pub kind: String,
    pub cryocap_version: String,
    pub model: Model,
}

pub const KIND: &str = "cryocap-calibration";
const LIMIT: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    #[error(
        "{path}: not a cryocap calibration file ({reason}); write one with `cryocap calibrate`"
    )]
    Malformed { path: PathBuf, reason: String },
    #[error(transparent)]
    Data(#[from] crate::datasets::DataError),
}

/// The default place of the calibration file.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CRYOCAP_CALIBRATION").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("cryocap").join("calibration.json"))
}

/// Reads a calibration file.
pub fn read(path: &Path) -> Result<Model, CalibrationError> {
    let text = crate::files::read_text(path, LIMIT)?;
    let bad = |reason: String| CalibrationError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let file: CalibrationFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if file.kind != KIND {
        return Err(bad(format!("its kind is `{}`", file.kind)));
    }
    let sane = file.model.jobs.values().all(|j| {
        j.log_scale.is_finite() && (0.0..=1.0).contains(&j.serial_fraction) && j.spread.is_finite()
    });
    if !sane {
        return Err(bad("a job's parameters are out of range".into()));
    }
    Ok(file.model)
}

/// The model a command uses: `explicit`, else the default file where it
/// exists, else the shipped model.
pub fn load(explicit: Option<&Path>) -> Result<Model, CalibrationError> {
    if let Some(p) = explicit {
        return read(p);
    }
    if let Some(p) = default_path().filter(|p| p.is_file()) {
        return read(&p);
    }
    Ok(super::shipped_model()?.clone())
}

/// A calibration file's bytes.
pub fn to_json(model: &Model) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&CalibrationFile {
        kind: KIND.into(),
        cryocap_version: env!("CARGO_PKG_VERSION").into(),
        model: model.clone(),
    })
}
