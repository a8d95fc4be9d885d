//! `cryocap fleet submit|report` flags (and the hidden per-task step).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::values::{self, Percent};
use super::{JunitArg, OutputArgs};
use crate::fleet::submit::DEFAULT_MARGIN;
use crate::results::fleet::SchedulerKind;

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Submit a Slurm job array that runs `cryocap qualify` once on each node,
    /// wait for it, and report.
    Submit(Box<FleetSubmitArgs>),
    /// Merge the per-node results in a shared directory into one fleet report.
    Report(FleetReportArgs),
    /// Internal: one array task's barrier and shared read (run by the job
    /// script of `fleet submit --shared-read`).
    #[command(hide = true)]
    SharedRead(FleetSharedReadArgs),
}

impl FleetCommand {
    pub fn name(&self) -> &'static str {
        match self {
            FleetCommand::Submit(_) => "submit",
            FleetCommand::Report(_) => "report",
            FleetCommand::SharedRead(_) => "shared-read",
        }
    }
}

/// A wait bounded between a second and a week: `90`, `90s`, `30m`, `2h`.
pub(super) fn wait_limit(text: &str) -> Result<Duration, String> {
    values::duration(Duration::from_secs(1), Duration::from_secs(7 * 86_400))(text)
}

#[derive(Debug, Args)]
pub struct FleetSharedReadArgs {
    /// The shared results directory of the fleet run.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// The shared directory whose .mrc/.mrcs stacks every task reads.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The node this task runs on, as Slurm names it.
    #[arg(long)]
    pub node: String,
    /// This task's array index.
    #[arg(long)]
    pub task: u32,
    /// How many tasks meet at the barrier.
    #[arg(long)]
    pub tasks: usize,
    /// How long to wait at the barrier for the others.
    #[arg(long, value_name = "DURATION", value_parser = wait_limit)]
    pub timeout: Duration,
}

/// `--scheduler NAME`: one of the backends' names (slurm, sge, pbs).
fn scheduler() -> impl clap::builder::TypedValueParser<Value = SchedulerKind> {
    use clap::builder::TypedValueParser;
    let names: Vec<&'static str> = SchedulerKind::ALL.iter().map(|k| k.name()).collect();
    clap::builder::PossibleValuesParser::new(names).try_map(|s| {
        SchedulerKind::from_name(&s).ok_or_else(|| format!("'{s}' is not a scheduler"))
    })
}

#[derive(Debug, Args)]
pub struct FleetSubmitArgs {
    /// The batch system: slurm, sge (Grid Engine), or pbs (PBS Pro / OpenPBS; its submission is untested).
    #[arg(long, default_value = "slurm", value_parser = scheduler())]
    pub scheduler: SchedulerKind,
    /// Shared directory every node can write: results land in DIR/<node>.json.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Nodes to qualify, as a Slurm host list: gpu[01-04],gpu07.
    #[arg(long, value_name = "LIST", conflicts_with = "partition")]
    pub nodes: Option<String>,
    /// Qualify every node of this Slurm partition.
    #[arg(long, value_name = "NAME")]
    pub partition: Option<String>,
    /// GPUs of each node the task asks for (`--gres=gpu:N`).
    #[arg(long, value_name = "N", 
          value_parser = values::count::<u32>(1, 64))]
    pub gpus: Option<u32>,
    /// Time limit of each task, in Slurm's syntax: 30, 00:30:00, 1-00:00:00
    /// (Grid Engine gets it as -l h_rt=SECONDS).
    #[arg(long, value_name = "LIMIT")]
    pub time: Option<String>,
    /// How long to wait for all tasks to end.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = wait_limit)]
    pub timeout: Duration,
    /// Print the job script and the sbatch command instead of submitting
    /// (nothing is measured, so no results files are written).
    #[arg(long, conflicts_with_all = ["json", "markdown", "csv", "html"])]
    pub dry_run: bool,
    /// After qualify, every task reads the same .mrc/.mrcs stacks in this
    /// shared directory at the same moment (through a barrier); the report
    /// sums the aggregate throughput.
    #[arg(long, value_name = "DIR")]
    pub shared_read: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Options for `cryocap qualify` on each node, after `--`.
    #[arg(last = true, value_name = "QUALIFY OPTIONS")]
    pub qualify_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FleetReportArgs {
    /// The shared directory given to `fleet submit --out-dir`.
    #[arg(value_name = "SHARED_DIR")]
    pub dir: PathBuf,
    /// Flag nodes more than this much worse than the fleet median.
    #[arg(long, value_name = "PCT", default_value_t = Percent(100.0 * DEFAULT_MARGIN),
          value_parser = values::percent(0.0, 100.0))]
    pub margin: Percent,
    #[command(flatten)]
    pub junit: JunitArg,
    #[command(flatten)]
    pub output: OutputArgs,
}
