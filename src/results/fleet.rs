//! What `cryocap fleet submit` records about a job and what `cryocap fleet
//! report` makes of a shared directory of per-node qualify results.

use serde::{Deserialize, Serialize};

use super::qualify::{Check, Verdict};

/// Version of the files a fleet run keeps in its shared directory
/// (`submission.json`, `*.shared-read.json`): working state, not results
/// files, versioned on their own.
pub const FLEET_STATE_VERSION: u32 = 1;

/// The batch system a fleet run went through. Stored by name (`sge`,
/// `pbs`); Slurm, the first backend, is stored as no field at all, which is
/// also how files written before the field existed read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchedulerKind {
    #[default]
    Slurm,
    /// (Son of / Univa / Altair) Grid Engine.
    Sge,
    /// PBS Pro / OpenPBS.
    Pbs,
}

impl SchedulerKind {
    /// True for Slurm: the stored files leave the field out.
    pub fn is_slurm(&self) -> bool {
        *self == SchedulerKind::Slurm
    }

    /// Its name in prose.
    pub fn label(self) -> &'static str {
        match self {
            SchedulerKind::Slurm => "Slurm",
            SchedulerKind::Sge => "Grid Engine",
            SchedulerKind::Pbs => "PBS",
        }
    }

    /// Every backend, in the order `--scheduler` lists them.
    pub const ALL: [SchedulerKind; 3] =
        [SchedulerKind::Slurm, SchedulerKind::Sge, SchedulerKind::Pbs];

    /// The backend named `name` on the command line.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its name on the command line (`--scheduler`).
    pub fn name(self) -> &'static str {
        match self {
            SchedulerKind::Slurm => "slurm",
            SchedulerKind::Sge => "sge",
            SchedulerKind::Pbs => "pbs",
        }
    }

    /// The tool that answers a submission with the job id.
    pub fn submit_tool(self) -> &'static str {
        if self.is_slurm() { "sbatch" } else { "qsub" }
    }

    /// Whether each task is a job of its own (Grid Engine, PBS) rather
    /// than a task of one array (Slurm).
    pub fn job_per_task(self) -> bool {
        !self.is_slurm()
    }
}

/// Kept in `SHARED_DIR/.cryocap-fleet/submission.json`, rewritten as the job
/// progresses, so that `fleet report` knows which nodes were asked for and
/// how each task ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub schema_version: u32,
    /// Always `fleet-submission`.
    pub kind: String,
    /// The job (Slurm: the array; Grid Engine: task 0's job).
    pub job_id: u64,
    /// `sge` or `pbs`, where each task is a job of its own; absent for
    /// Slurm (the files written before Grid Engine had none).
    #[serde(default, skip_serializing_if = "SchedulerKind::is_slurm")]
    pub scheduler: SchedulerKind,
    /// Grid Engine and PBS: task i's job id (one job per node); empty for Slurm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_ids: Vec<u64>,
    /// Task i qualifies nodes[i].
    pub nodes: Vec<String>,
    /// Seconds since the Unix epoch when sbatch accepted the job.
    pub submitted_at: u64,
    /// Seconds from sbatch's answer until every task had ended (None while
    /// waiting or after a timeout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_after_seconds: Option<f64>,
    /// Each task's last known state.
    pub tasks: Vec<TaskState>,
}

/// How one task of the job came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    /// Ran and wrote its node's results.
    Ran,
    /// Ended without a results file (failed, timed out, or completed without writing it).
    Failed,
    /// Never started: cancelled while pending, or the record is gone.
    NeverRan,
    /// Still pending or running when the report was made.
    NotFinished,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    pub task: u32,
    pub node: String,
    pub state: TaskState,
    pub outcome: TaskOutcome,
    /// The last line the task wrote to its log, for tasks that failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log_tail: String,
}

/// One node's qualify results, as merged into the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    pub node: String,
    /// The results file, relative to the shared directory.
    pub file: String,
    /// One verdict per check id in [`FleetReport::checks`], in that order;
    /// None where this node's profile has no such check.
    pub verdicts: Vec<Option<Verdict>>,
    pub failed_checks: usize,
    /// The node's own check (figure, limits, note) per check id in
    /// [`FleetReport::checks`], as `verdicts`; empty in files written before
    /// it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Option<Check>>,
}

/// A check as a column of the nodes × checks table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckColumn {
    pub id: String,
    pub label: String,
}

/// One metric across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpread {
    pub id: String,
    pub label: String,
    pub unit: String,
    /// Median over nodes of each node's median.
    pub fleet_median: f64,
    pub min: f64,
    pub max: f64,
    pub nodes: usize,
}

/// A node more than the margin worse than the fleet median on a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlier {
    pub node: String,
    pub metric: String,
    pub unit: String,
    pub value: f64,
    pub fleet_median: f64,
    /// How much worse than the median, as a fraction (0.25 = 25 % worse).
    pub shortfall: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    /// The shared directory the results came from, as given.
    pub dir: String,
    /// The job that produced them, when `fleet submit` recorded one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<u64>,
    /// `sge` or `pbs` when the run went through Grid Engine or PBS; absent for Slurm.
    #[serde(default, skip_serializing_if = "SchedulerKind::is_slurm")]
    pub scheduler: SchedulerKind,
    /// Grid Engine and PBS: each task's job id, in task order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_ids: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_after_seconds: Option<f64>,
    /// The outlier margin as a fraction of the fleet median.
    pub margin: f64,
    pub checks: Vec<CheckColumn>,
    pub nodes: Vec<NodeRow>,
    pub metrics: Vec<MetricSpread>,
    pub outliers: Vec<Outlier>,
    pub tasks: Vec<TaskRow>,
    /// Nodes the job asked for that left no results file.
    pub missing: Vec<String>,
    /// Files in the directory that are not qualify results, with why.
    pub skipped: Vec<String>,
    /// The `--shared-read` measurement, when the run made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_read: Option<SharedReadSummary>,
    /// With deployment checks: what every node saw of the shared token
    /// file and which user it ran as, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Nodes that saw another token file (or none) or ran as another UID
    /// than most nodes, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_mismatches: Vec<String>,
}

impl FleetReport {
    /// Whether anything needs a person: a failed check, a failed or
    /// unfinished task, a missing result, or an outlier.
    pub fn failed(&self) -> bool {
        self.nodes.iter().any(|n| n.failed_checks > 0)
            || self.tasks.iter().any(|t| t.outcome != TaskOutcome::Ran)
            || !self.missing.is_empty()
            || !self.outliers.is_empty()
            || !self.identity_mismatches.is_empty()
    }
}

/// What one array task read from the shared stacks in `--shared-read` mode,
/// kept in `SHARED_DIR/<node>-<task>.shared-read.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedRead {
    pub schema_version: u32,
    /// Always `fleet-shared-read`.
    pub kind: String,
    pub node: String,
    pub task: u32,
    /// The shared directory whose stacks were read.
    pub dir: String,
    pub files: usize,
    /// Bytes read from the stacks (every byte of every file, once).
    pub bytes: u64,
    /// Wall-clock start and end of the reads, in seconds since the Unix
    /// epoch (with fractions), so that windows of different nodes compare.
    pub start_unix: f64,
    pub end_unix: f64,
    /// Whether every file was read with O_DIRECT (no page cache).
    pub direct: bool,
    /// Seconds this task waited at the barrier for the others.
    pub barrier_wait_seconds: f64,
}

/// One task's row of the shared-read section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedReadRow {
    pub node: String,
    pub task: u32,
    pub bytes: u64,
    pub seconds: f64,
    /// This task's own rate: its bytes over its own read window.
    pub bytes_per_second: f64,
    /// This task's bytes as a fraction of all bytes read.
    pub share: f64,
    /// Start relative to the earliest start, in seconds.
    pub start_offset_seconds: f64,
}

/// All tasks reading the same shared stacks at once: what the shared file
/// system delivered to the partition together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedReadSummary {
    pub tasks: Vec<SharedReadRow>,
    pub total_bytes: u64,
    /// Latest end minus earliest start, in seconds.
    pub window_seconds: f64,
    /// total_bytes / window_seconds.
    pub aggregate_bytes_per_second: f64,
    /// Seconds during which every task was reading (earliest end minus
    /// latest start; negative when some windows did not overlap).
    pub overlap_seconds: f64,
    /// Whether every task read with O_DIRECT.
    pub all_direct: bool,
}

/// One array task as Slurm last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    pub task: u32,
    /// PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ... or
    /// UNKNOWN when Slurm no longer holds the record.
    pub state: String,
    /// Why a task waits or ended (Slurm's Reason), when it says one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The node it ran on; empty if it never started.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ran_on: String,
    /// Slurm's `exit:signal` of the batch script; Grid Engine's
    /// `exit_status` from qacct.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exit_code: String,
}
