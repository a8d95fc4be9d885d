//! Fleet qualification through Slurm, Grid Engine or PBS, each a backend of
//! one interface (`scheduler.rs`): one task per node (a Slurm array task,
//! or a Grid Engine or PBS job pinned to its host) runs
//! `cryocap qualify` and writes `SHARED_DIR/<node>.json`; the results are
//! merged into one fleet report. The scheduler does the distribution;
//! cryocap only writes the script, submits it, reads the task states and
//! merges.

pub mod gridengine;
pub(crate) mod hostlist;
pub mod pbs;
pub(crate) mod qsub;
pub mod report;
pub(crate) mod scheduler;
pub(crate) mod script;
pub mod shared_read;
pub mod slurm;
pub(crate) mod submit;

/// Everything that stops a fleet command (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Slurm(#[from] slurm::SlurmError),
    #[error(transparent)]
    Sge(#[from] gridengine::SgeError),
    #[error(transparent)]
    Pbs(#[from] pbs::PbsError),
    #[error(transparent)]
    Report(#[from] report::FleetReportError),
    #[error(transparent)]
    Write(#[from] crate::files::FileError),
    #[error("{path}: {reason}")]
    Dir {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error(transparent)]
    SharedRead(#[from] shared_read::SharedReadError),
    #[error("{0}")]
    Other(String),
}
