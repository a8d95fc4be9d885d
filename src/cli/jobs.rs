//! `cryocap jobs ...` flags: the times of real jobs.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{HistoryArg, OutputArgs};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Read RELION or CryoSPARC job directories into job-run results: the
    /// job, its particles, box, classes, iterations, layout and wall time.
    Import(JobsImportArgs),
}

impl JobsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            JobsCommand::Import(_) => "import",
        }
    }
}

#[derive(Debug, Args)]
pub struct JobsImportArgs {
    /// Job directories (e.g. Class3D/job016, or CryoSPARC's J42); which
    /// program wrote each is read from its files. Several: one result each,
    /// printed one after the other (with --format json, one JSON document
    /// per line); --json/--markdown/--csv/--html take one directory.
    #[arg(value_name = "DIR", required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
}
