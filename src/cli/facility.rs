//! `cryocap facility`: flags.

use std::path::PathBuf;

use clap::Args;

use super::{OutputArgs, values};
use crate::cli::jobs::CalibrationArg;

#[derive(Debug, Args)]
pub struct FacilityArgs {
    /// The facility TOML: [storage], [[microscope]], [[preprocessing]],
    /// [[workers]], [scheduler] and [[lab]] (see docs/facility.md).
    #[arg(value_name = "FACILITY.toml", required_unless_present = "merge")]
    pub config: Option<PathBuf>,
    /// Merge facility results (e.g. one per job-array task, each with its
    /// own --what-if) into one, instead of simulating: same facility, span,
    /// seed and replicates; the variants side by side.
    #[arg(long, num_args = 1.., value_name = "RESULT.json", conflicts_with_all = ["config", "what_if", "prices"])]
    pub merge: Vec<PathBuf>,
    /// Days simulated; sessions start within them and their jobs run to the end.
    #[arg(long, default_value_t = 30.0, value_parser = values::positive(3660.0))]
    pub days: f64,
    /// Runs with seeds SEED, SEED+1, ...; figures are over all of them.
    #[arg(long, default_value_t = 1, value_parser = values::count::<u32>(1, 1000))]
    pub replicates: u32,
    /// Random seed: the same seed gives the same run, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A change to compare side by side, repeatable: gpu-nodes+=1, ssd=8TB,
    /// link=100GbE, labs.b.share=2, prep-nodes+=1, workers.NAME.count=4,
    /// node-link=25GbE, storage=4PB, gpus-per-job=2, policy=fifo; several
    /// changes in one variant separated by `;`.
    #[arg(long = "what-if", value_name = "CHANGE")]
    pub what_if: Vec<String>,
    /// A price list as `recommend --prices` reads it: prices what each what-if adds.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Draw each job's time from the model's 90 % interval instead of
    /// taking its central time. The interval is the model's uncertainty
    /// (wide for a dataset new to the calibration), not run-to-run noise,
    /// so draws are a pessimistic spread.
    #[arg(long)]
    pub draw_job_times: bool,
    /// Threads running replicates and what-ifs [default: the cores].
    #[arg(long, value_name = "N", value_parser = values::count::<usize>(1, 1024))]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub calibration: CalibrationArg,
    #[command(flatten)]
    pub output: OutputArgs,
}
