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

/// Why a scheduler's client tool gave no usable answer; the same for every
/// backend, each naming its own tools to install.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{prefix}cannot run `{tool}`: {source}; {install}")]
    Missing {
        /// Put before the line (`--scheduler pbs: `), or empty.
        prefix: &'static str,
        tool: String,
        /// What to install or where to run instead.
        install: &'static str,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {message}")]
    Failed { command: String, message: String },
    #[error("`{command}` printed '{output}', which cryocap cannot read: {reason}")]
    Unreadable {
        command: String,
        output: String,
        reason: String,
    },
}

/// Everything that stops a fleet command (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Client(#[from] ClientError),
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
