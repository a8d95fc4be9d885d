//! The SSD cache planner: the policy model, trace replay, size sweeps,
//! workload generation, subset sizing and the copy benchmark.

pub(crate) mod copy_bench;
pub mod fill;
pub(crate) mod policy;
pub mod replay;
pub mod simulate;
pub(crate) mod subset;
pub mod sweep;
pub mod trace;
pub mod workload;

/// Everything that stops a cache command (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Trace(#[from] trace::TraceError),
    #[error(transparent)]
    Star(#[from] crate::metadata::star::StarError),
    #[error(transparent)]
    Cs(#[from] crate::metadata::cs::CsError),
    #[error("{0}")]
    Subset(String),
    #[error("{0}")]
    CopyBench(String),
}
