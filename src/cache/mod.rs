//! The SSD cache planner: the policy model, trace replay, size sweeps and
//! their chart, workload generation, subset sizing and the copy benchmark.

use std::path::PathBuf;

pub mod chart;
pub mod commands;
pub mod copy_bench;
pub mod output;
pub mod policy;
pub mod simulate;
pub mod subset;
pub mod sweep;
pub mod trace;
pub mod workload;

/// Everything that stops a cache command (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Trace(#[from] trace::TraceError),
    #[error(transparent)]
    Star(#[from] crate::metadata::star::StarError),
    #[error(transparent)]
    Cs(#[from] crate::metadata::cs::CsError),
    #[error("{0}")]
    Subset(String),
    #[error("{0}")]
    Chart(String),
    #[error("{0}")]
    CopyBench(String),
    #[error("{path}: cannot write it: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Data(#[from] crate::datasets::DataError),
    #[error("could not write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("could not encode the results as JSON: {0}")]
    Json(#[from] serde_json::Error),
}
