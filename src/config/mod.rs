//! Parsed flags turned into plain, validated configuration. Nothing below this
//! module sees clap; everything below it can trust what it is given.

pub mod cache;
pub mod fleet;
pub mod plan;
pub mod qualify;

use crate::units;

pub use plan::{PlanConfig, VramSource};
pub use qualify::QualifyConfig;
pub mod bench_gpu;
pub mod reconstruct;

pub use reconstruct::ReconstructConfig;

/// Bad input, named so the user knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{flag}: {reason}")]
    Flag { flag: &'static str, reason: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Data(#[from] crate::datasets::DataError),
}

impl ConfigError {
    pub fn flag(flag: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Flag {
            flag,
            reason: reason.into(),
        }
    }
}

/// A whole number from `min` to `max` given to `flag` (accepts 2e6, 2M,
/// 2,000,000), or an error naming the flag and the range.
pub(crate) fn count(
    flag: &'static str,
    text: &str,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let v = units::parse_count(text).map_err(|e| {
        ConfigError::flag(
            flag,
            format!("{e}; give a whole number from {min} to {max}"),
        )
    })?;
    if !(min..=max).contains(&v) {
        return Err(ConfigError::flag(
            flag,
            format!("'{text}' is out of range; give a whole number from {min} to {max}"),
        ));
    }
    Ok(v)
}

pub mod bench_io;
pub mod stack;

pub use bench_io::BenchIoConfig;
pub use stack::{StackCreateConfig, StackInfoConfig};
