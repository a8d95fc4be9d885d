//! `cryocap fleet submit`, the steps in order: write the job script, submit
//! it held, pin each task to its node, release, wait for every task to end
//! (keeping the submission record current), and merge the results.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::FleetError;
use super::report::{self as fleet_report, submission_path};
use super::scheduler::{Jobs, SchedulerKind, backend, wait};
use super::script::{self, JobSpec, fleet_dir, shell_quote};
use super::slurm;
use crate::progress::Progress;
use crate::results::fleet::{FLEET_STATE_VERSION, FleetReport, Submission, TaskState};

/// Which nodes a fleet run qualifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Targets {
    Nodes(Vec<String>),
    Partition(String),
}

/// The token file every node's `qualify --deployment` reads, so that
/// `fleet report` can tell whether all of them see one shared directory.
pub(crate) fn shared_token_path(out_dir: &Path) -> PathBuf {
    fleet_dir(out_dir).join("shared-token")
}

/// Writes the token once, before any task starts, when the nodes are asked
/// to read it (`--shared-token` with this run's path): one random line.
fn write_token(cfg: &FleetSubmit) -> Result<(), FleetError> {
    let path = shared_token_path(&cfg.out_dir);
    let asked = cfg
        .qualify_args
        .windows(2)
        .any(|w| w[0] == "--shared-token" && Path::new(&w[1]) == path);
    if asked {
        let line = format!("cryocap fleet token {:032x}\n", rand::random::<u128>());
        crate::files::write(&path, line.as_bytes())?;
    }
    Ok(())
}

/// One fleet run.
#[derive(Debug, Clone)]
pub(crate) struct FleetSubmit {
    /// The batch system it goes through.
    pub scheduler: SchedulerKind,
    /// Absolute path of the shared results directory.
    pub out_dir: PathBuf,
    pub targets: Targets,
    pub gpus_per_node: Option<u32>,
    /// A Slurm `--time` value, checked by [`slurm::time_limit`].
    pub time_limit: Option<String>,
    /// How long to wait for the tasks to end.
    pub timeout: Duration,
    /// Options every node passes to `cryocap qualify`.
    pub qualify_args: Vec<String>,
    /// The shared stacks directory every task reads at once (absolute).
    pub shared_read: Option<PathBuf>,
    /// The cryocap binary the nodes run.
    pub cryocap: PathBuf,
}

fn save(out_dir: &Path, s: &Submission) -> Result<(), FleetError> {
    let json = serde_json::to_string_pretty(s).map_err(|e| FleetError::Other(e.to_string()))?;
    crate::files::write(&submission_path(out_dir), (json + "\n").as_bytes())?;
    Ok(())
}

/// Refuses a directory that already holds a fleet run or results for these
/// nodes: a task that fails must not leave an old result looking new.
fn check_fresh(out_dir: &Path, nodes: &[String]) -> Result<(), FleetError> {
    let stale = |reason: String| FleetError::Dir {
        path: out_dir.to_path_buf(),
        reason,
    };
    if submission_path(out_dir).exists() {
        return Err(stale(
            "already holds a fleet run; give a new --out-dir (the old results stay where they are)"
                .into(),
        ));
    }
    if let Some(n) = nodes
        .iter()
        .find(|n| out_dir.join(format!("{n}.json")).exists())
    {
        return Err(stale(format!(
            "already holds {n}.json; give a new --out-dir so that old results cannot pass for new ones"
        )));
    }
    Ok(())
}

/// How many tasks are in each state: `1 COMPLETED, 1 RUNNING`.
fn state_counts(tasks: &[TaskState]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for t in tasks {
        match counts.iter_mut().find(|(s, _)| *s == t.state) {
            Some((_, n)) => *n += 1,
            None => counts.push((t.state.clone(), 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    parts.join(", ")
}

/// The nodes a run qualifies: those named, or a partition's as Slurm lists them.
pub(crate) fn nodes(targets: &Targets) -> Result<Vec<String>, FleetError> {
    Ok(match targets {
        Targets::Nodes(n) => n.clone(),
        Targets::Partition(p) => {
            let n = slurm::partition_nodes(p)?;
            if n.is_empty() {
                return Err(FleetError::Other(format!(
                    "--partition {p}: Slurm lists no nodes in it (see `sinfo -p {p}`)"
                )));
            }
            n
        }
    })
}

/// The job script `cfg` submits for `nodes`, and the sbatch arguments.
fn job(cfg: &FleetSubmit, nodes: &[String]) -> (JobSpec, PathBuf) {
    let spec = JobSpec {
        nodes: nodes.to_vec(),
        out_dir: cfg.out_dir.clone(),
        cryocap: cfg.cryocap.clone(),
        qualify_args: cfg.qualify_args.clone(),
        gpus_per_node: cfg.gpus_per_node,
        time_limit: cfg.time_limit.clone(),
        job_name: "cryocap-fleet".into(),
        // A task waits at the barrier as long as submit waits for the job:
        // past that the run has failed anyway.
        shared_read: cfg.shared_read.as_ref().map(|dir| script::SharedReadStep {
            dir: dir.clone(),
            barrier_timeout_s: cfg.timeout.as_secs().max(1),
        }),
    };
    (spec, fleet_dir(&cfg.out_dir).join("job.sh"))
}

/// What `--dry-run` prints: the script, and the commands that would run.
pub(crate) fn dry_run(cfg: &FleetSubmit, nodes: &[String]) -> String {
    let (spec, script_path) = job(cfg, nodes);
    backend(cfg.scheduler).dry_run(&spec, &script_path)
}

/// Runs the fleet on `nodes` through its scheduler: writes the script,
/// submits every task held and pinned to its node, releases them, waits
/// (keeping the record current), and merges what the tasks wrote.
pub(crate) fn submit(
    cfg: &FleetSubmit,
    nodes: &[String],
    progress: &Progress,
) -> Result<FleetReport, FleetError> {
    let sched = backend(cfg.scheduler);
    let nodes = nodes.to_vec();
    let (spec, script_path) = job(cfg, &nodes);
    let text = sched.job_script(&spec);

    // Nothing is created before the scheduler is known to be there.
    sched.check_client()?;
    let logs = fleet_dir(&cfg.out_dir).join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| FleetError::Dir {
        path: cfg.out_dir.clone(),
        reason: format!("cannot create it: {e}"),
    })?;
    check_fresh(&cfg.out_dir, &nodes)?;
    crate::files::write(&script_path, text.as_bytes())?;
    write_token(cfg)?;

    let jobs = sched.submit(&spec, &script_path)?;
    let submitted = Instant::now();
    let mut record = Submission {
        schema_version: FLEET_STATE_VERSION,
        kind: "fleet-submission".into(),
        job_id: jobs.first,
        scheduler: sched.kind(),
        job_ids: jobs.per_task.clone(),
        nodes: nodes.clone(),
        submitted_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        completed_after_seconds: None,
        tasks: Vec::new(),
    };
    if let Err(e) = save(&cfg.out_dir, &record) {
        let _ = sched.cancel(&jobs);
        return Err(e);
    }
    let what = jobs_phrase(sched.kind(), &jobs);
    progress.step(&format!(
        "fleet: submitted {what}: {} tasks on {}; waiting up to {}",
        nodes.len(),
        nodes.join(","),
        crate::units::duration(cfg.timeout.as_secs_f64())
    ));
    let (tasks, done) = wait(sched, &jobs, nodes.len(), cfg.timeout, &mut |t| {
        progress.step(&format!("fleet: {what}: {}", state_counts(t)))
    })?;
    record.tasks = tasks;
    if done {
        record.completed_after_seconds = Some(submitted.elapsed().as_secs_f64());
    }
    save(&cfg.out_dir, &record)?;
    if !done {
        return Err(FleetError::Other(format!(
            "--timeout: {what} had not ended after {} ({}); it stays queued: run `cryocap fleet report {}` later, or `{}`",
            crate::units::duration(cfg.timeout.as_secs_f64()),
            state_counts(&record.tasks),
            shell_quote(&cfg.out_dir.to_string_lossy()),
            sched.cancel_hint(&jobs)
        )));
    }
    Ok(fleet_report::build(&cfg.out_dir, DEFAULT_MARGIN)?)
}

/// `job 12` for a Slurm array, `Grid Engine jobs 12,13` for one job per task.
fn jobs_phrase(kind: SchedulerKind, jobs: &Jobs) -> String {
    if kind.job_per_task() {
        format!("{} jobs {}", kind.label(), jobs.list())
    } else {
        format!("job {}", jobs.first)
    }
}

/// The outlier margin `fleet submit` reports with (`fleet report --margin`
/// sets another).
pub(crate) const DEFAULT_MARGIN: f64 = 0.20;
