//! The one interface every fleet path goes through: script rendering,
//! submission (held, then released), task states, cancellation and logs.
//! Slurm ([`super::slurm`]), Grid Engine ([`super::gridengine`]) and PBS
//! ([`super::pbs`]) are its backends; [`backend`] is the only place that
//! chooses between them.

use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) use crate::results::fleet::SchedulerKind;
use crate::results::fleet::TaskState;

use super::FleetError;
use super::script::JobSpec;

/// The jobs one fleet run submitted: one array (Slurm) or one job per task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Jobs {
    /// The id the record and the report name first: the array, or task 0's job.
    pub first: u64,
    /// Task i's job where each task is a job of its own; empty for an array.
    pub per_task: Vec<u64>,
}

impl Jobs {
    /// The ids as the scheduler's tools take a list: `12` or `12,13,14`.
    pub(crate) fn list(&self) -> String {
        if self.per_task.is_empty() {
            return self.first.to_string();
        }
        self.per_task
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Poller state a backend keeps between rounds (Grid Engine remembers which
/// jobs it saw running and since when a job left its queue listing).
pub(crate) type Tracker = super::gridengine::Tracker;

/// A batch system that can run one `cryocap qualify` task per node.
pub(crate) trait Scheduler: Sync {
    fn kind(&self) -> SchedulerKind;
    /// Refuses the options this backend cannot honour, naming the flag.
    fn check_options(&self, partition: bool) -> Result<(), String>;
    /// Why the shared directory cannot go into this scheduler's log
    /// option, if it cannot.
    fn out_dir_problem(&self, _dir: &Path) -> Option<&'static str> {
        None
    }
    /// The job script every task runs.
    fn job_script(&self, spec: &JobSpec) -> String;
    /// What `--dry-run` prints: the script and the commands that would run.
    fn dry_run(&self, spec: &JobSpec, script: &Path) -> String;
    /// Checks the client tools answer, before anything is created.
    fn check_client(&self) -> Result<(), FleetError>;
    /// Submits every task held, pins each to its node, and releases them
    /// all; on any failure deletes what it submitted and says so.
    fn submit(&self, spec: &JobSpec, script: &Path) -> Result<Jobs, FleetError>;
    /// Each task's state, in the words `fleet report` reads (PENDING,
    /// RUNNING, COMPLETED, FAILED, CANCELLED, UNKNOWN, ...).
    fn task_states(
        &self,
        jobs: &Jobs,
        tasks: usize,
        tracker: &mut Tracker,
    ) -> Result<Vec<TaskState>, FleetError>;
    /// Deletes the jobs.
    fn cancel(&self, jobs: &Jobs) -> Result<(), FleetError>;
    /// The command a user runs to delete the jobs: `scancel 12`.
    fn cancel_hint(&self, jobs: &Jobs) -> String;
    /// The last non-empty line of task `task`'s log.
    fn log_tail(&self, logs: &Path, jobs: &Jobs, task: u32) -> Option<String>;
}

/// The backend of `kind`.
pub(crate) fn backend(kind: SchedulerKind) -> &'static dyn Scheduler {
    match kind {
        SchedulerKind::Slurm => &super::slurm::Slurm,
        SchedulerKind::Sge => &super::gridengine::GridEngine,
        SchedulerKind::Pbs => &super::pbs::Pbs,
    }
}

/// States after which a task will not change again, whatever the backend
/// (each writes its states in these words).
pub(crate) fn is_final(state: &str) -> bool {
    super::slurm::is_final(state)
}

/// Polls until every task is final or `timeout` passes; `on_change` hears
/// each new set of states. Returns the last states and whether all ended.
pub(crate) fn wait(
    s: &dyn Scheduler,
    jobs: &Jobs,
    tasks: usize,
    timeout: Duration,
    on_change: &mut dyn FnMut(&[TaskState]),
) -> Result<(Vec<TaskState>, bool), FleetError> {
    let start = Instant::now();
    let mut tracker = Tracker::default();
    let mut last: Vec<TaskState> = Vec::new();
    loop {
        let now = s.task_states(jobs, tasks, &mut tracker)?;
        if now != last {
            on_change(&now);
            last = now;
        }
        if last.iter().all(|t| is_final(&t.state)) {
            return Ok((last, true));
        }
        if start.elapsed() >= timeout {
            return Ok((last, false));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_backend_and_a_list_reads_as_the_tools_take_it() {
        for k in [SchedulerKind::Slurm, SchedulerKind::Sge, SchedulerKind::Pbs] {
            assert_eq!(backend(k).kind(), k);
        }
        let array = Jobs {
            first: 12,
            per_task: vec![],
        };
        assert_eq!(array.list(), "12");
        let each = Jobs {
            first: 12,
            per_task: vec![12, 13, 15],
        };
        assert_eq!(each.list(), "12,13,15");
        assert_eq!(
            backend(SchedulerKind::Slurm).cancel_hint(&array),
            "scancel 12"
        );
        assert_eq!(
            backend(SchedulerKind::Sge).cancel_hint(&each),
            "qdel 12,13,15"
        );
    }
}
