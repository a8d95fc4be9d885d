//! One file per subcommand. Each turns its typed flags (`cli`) into the
//! domain's parameters, runs the work, and hands the result to the report
//! layer through [`output`]. This is the only layer that sees `cli`; the
//! domain below never sees clap, output formats or files to write.

mod bench_app;
mod bench_gpu;
mod bench_io;
mod bench_movies;
mod cache_copy_bench;
mod cache_simulate;
mod cache_subset;
mod cache_workload;
mod calibrate;
mod catalog;
mod compare;
mod completions;
mod convert;
mod facility;
mod fit;
mod fleet_report;
mod fleet_shared_read;
mod fleet_submit;
mod history;
mod jobs_import;
mod jobs_predict;
mod jobs_validate;
mod manpages;
mod movies_create;
mod movies_plan;
mod output;
mod plan;
mod probe;
mod qualify;
mod recommend;
mod reconstruct;
mod report;
mod stack_create;
mod stack_info;

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{
    BenchCommand, CacheCommand, Cli, Command, FleetCommand, JobsCommand, MoviesCommand,
    StackCommand,
};

/// How a command ended when nothing went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// A check or comparison failed: exit 1.
    CheckFailed,
    /// The status of a program cryocap ran for the user (`bench app`).
    Status(u8),
}

impl Outcome {
    /// `CheckFailed` when `failed`.
    pub fn failed_if(failed: bool) -> Outcome {
        if failed {
            Outcome::CheckFailed
        } else {
            Outcome::Ok
        }
    }
}

/// Everything that stops a command; each is exit 2 with one line.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Flags that do not go together, or a value the domain refuses.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Data(#[from] crate::datasets::DataError),
    #[error(transparent)]
    Write(#[from] crate::report::writer::WriteError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Results(#[from] crate::results::read::ResultsError),
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Gpu(#[from] crate::gpu::GpuError),
    #[error(
        "--backend gpu: insertion on the GPU could not run: {0} (run with --backend cpu instead)"
    )]
    GpuReconstruct(#[from] crate::gpu::reconstruct::GpuReconError),
    #[error(transparent)]
    Particles(#[from] crate::particles::list::ParticlesError),
    #[error(transparent)]
    Stacks(#[from] crate::particles::stacks::StacksError),
    #[error(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    #[error(transparent)]
    Stack(#[from] crate::storage::stack_writer::StackError),
    #[error(transparent)]
    Mrc(#[from] crate::storage::mrc::MrcError),
    #[error(transparent)]
    Probe(#[from] crate::storage::probe::ProbeError),
    #[error(transparent)]
    Calibration(#[from] crate::jobtime::calibration::CalibrationError),
    #[error(transparent)]
    Predict(#[from] crate::jobtime::PredictError),
    #[error(transparent)]
    JobDir(#[from] crate::metadata::jobdir::JobDirError),
    #[error(transparent)]
    BenchIo(#[from] crate::storage::bench_io::BenchIoError),
    #[error("-o {path}: could not write the volume: {source}")]
    Volume {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("some outputs could not be written (the others were): {0}")]
    Lost(String),
    #[error("{0}: interrupted; its scratch files were removed and no results written")]
    Interrupted(&'static str),
}

impl CommandError {
    /// The reader of stdout went away (`cryocap ... | head`): exit 0.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CommandError::Write(e) if e.is_broken_pipe())
    }
}

/// Runs a parsed command line; `out` is stdout.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    match cli.command {
        Command::Plan(a) => plan::run(&a, out),
        Command::Fit(a) => fit::run(&a, out),
        Command::Catalog(a) => catalog::run(&a, out),
        Command::Reconstruct(a) => reconstruct::run(&a, out),
        Command::Recommend(a) => recommend::run(&a, out),
        Command::Facility(a) => facility::run(&a, out),
        Command::Cache(CacheCommand::Simulate(a)) => cache_simulate::run(&a, out),
        Command::Cache(CacheCommand::Workload(a)) => cache_workload::run(&a, out),
        Command::Cache(CacheCommand::Subset(a)) => cache_subset::run(&a, out),
        Command::Cache(CacheCommand::CopyBench(a)) => cache_copy_bench::run(&a, out),
        Command::Qualify(a) => qualify::run(&a, out),
        Command::Compare(a) => compare::run(&a, out),
        Command::History(a) => history::run(&a, out),
        Command::Report(a) => report::run(&a, out),
        Command::Fleet(FleetCommand::Submit(a)) => fleet_submit::run(&a, out),
        Command::Fleet(FleetCommand::Report(a)) => fleet_report::run(&a, out),
        Command::Fleet(FleetCommand::SharedRead(a)) => fleet_shared_read::run(&a, out),
        Command::Stack(StackCommand::Create(a)) => stack_create::run(&a, out),
        Command::Stack(StackCommand::Info(a)) => stack_info::run(&a, out),
        Command::Movies(MoviesCommand::Create(a)) => movies_create::run(&a, out),
        Command::Movies(MoviesCommand::Plan(a)) => movies_plan::run(&a, out),
        Command::Probe(a) => probe::run(&a, out),
        Command::Calibrate(a) => calibrate::run(&a, out),
        Command::Jobs(JobsCommand::Predict(a)) => jobs_predict::run(&a, out),
        Command::Jobs(JobsCommand::Validate(a)) => jobs_validate::run(&a, out),
        Command::Jobs(JobsCommand::Import(a)) => jobs_import::run(&a, out),
        Command::Bench(BenchCommand::Io(a)) => bench_io::run(&a, out),
        Command::Bench(BenchCommand::Gpu(a)) => bench_gpu::run(&a, out),
        Command::Bench(BenchCommand::Movies(a)) => bench_movies::run(&a, out),
        Command::Bench(BenchCommand::App(a)) => bench_app::run(&a, out),
        Command::Completions(a) => completions::run(&a, out),
        Command::Manpages(a) => manpages::run(&a, out),
    }
}
