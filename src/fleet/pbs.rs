//! The PBS (PBS Pro / OpenPBS) client: submit held, release, read states,
//! delete. Its job scripts and `qsub` arguments are shared with Grid Engine
//! (`qsub.rs`).
//!
//! Untested against a real server: OpenPBS is not packaged for this
//! project's CI, so the commands follow the PBS Professional reference
//! (qsub -h, qrls, qdel, `qstat -x -f`) and the parser is tested on output
//! in the documented `Job Id:` / `attribute = value` form.
//!
//! States come from `qstat -x -f` (finished jobs too, where the server keeps
//! job history): `job_state` Q/H/W/T are pending, R/E running (E: exiting),
//! S/U suspended, F/X finished, judged by `Exit_status` (0 completed, a
//! negative value is PBS failing to start the job, 256 + N a signal N).
//! A finished job without an `exec_host` never ran (deleted while queued).

use std::path::Path;
use std::process::Command;

use crate::results::fleet::TaskState;

use super::FleetError;
use super::qsub::{self, Batch};
use super::scheduler::{Jobs, Scheduler, SchedulerKind, Tracker};
use super::script::{JobSpec, last_line};

/// What the Pbs client's errors are.
pub type PbsError = super::ClientError;

/// What to install when a tool is missing.
const INSTALL: &str =
    "install the PBS client tools (OpenPBS: openpbs-client) or run on a PBS submit host";

/// Runs a PBS tool; with `lenient`, a failing exit still returns what it
/// printed on stdout (qstat exits non-zero when one of several ids is
/// unknown, and prints the others).
fn run(tool: &str, args: &[String], lenient: bool) -> Result<String, PbsError> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|source| PbsError::Missing {
            prefix: "--scheduler pbs: ",
            tool: tool.to_string(),
            install: INSTALL,
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() || (lenient && !stdout.trim().is_empty()) {
        return Ok(stdout);
    }
    let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if lenient && msg.contains("Unknown Job Id") {
        return Ok(stdout);
    }
    Err(PbsError::Failed {
        command: format!("{tool} {}", args.join(" ")),
        message: if msg.is_empty() {
            format!("exit status {}", out.status)
        } else {
            crate::text::printable(msg.lines().next().unwrap_or_default())
        },
    })
}

fn ids(jobs: &[u64]) -> Vec<String> {
    jobs.iter().map(u64::to_string).collect()
}

/// Reads qsub's answer, `1234.server`: the number before the server name.
pub(crate) fn parse_job_id(output: &str) -> Option<u64> {
    let line = output.lines().map(str::trim).find(|l| !l.is_empty())?;
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    let rest = &line[digits.len()..];
    if rest.is_empty() || rest.starts_with('.') {
        digits.parse().ok()
    } else {
        None
    }
}

fn qsub(args: &[String]) -> Result<u64, PbsError> {
    let out = run("qsub", args, false)?;
    parse_job_id(&out).ok_or_else(|| PbsError::Unreadable {
        command: "qsub".into(),
        output: crate::text::printable(out.trim()),
        reason: "expected a job id such as 1234.server".into(),
    })
}

fn qdel(jobs: &[u64]) -> Result<(), PbsError> {
    if jobs.is_empty() {
        return Ok(());
    }
    run("qdel", &ids(jobs), false).map(drop)
}

/// One job as `qstat -x -f` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PbsJob {
    pub(crate) id: u64,
    pub(crate) state: String,
    pub(crate) exit_status: Option<i64>,
    /// The first host of `exec_host` (`node/0*2+node2/0` → `node`).
    pub(crate) host: String,
    pub(crate) comment: String,
}

/// Reads `qstat -f` output: blocks that start `Job Id: N.server`, then
/// `name = value` lines (long values continue on tab-indented lines,
/// which are ignored here).
pub(crate) fn parse_qstat_full(output: &str) -> Result<Vec<PbsJob>, String> {
    let mut jobs: Vec<PbsJob> = Vec::new();
    for line in output.lines() {
        if let Some(id) = line.trim().strip_prefix("Job Id:") {
            let id = parse_job_id(id.trim())
                .ok_or_else(|| format!("'{}' is not a job id", id.trim()))?;
            jobs.push(PbsJob {
                id,
                ..PbsJob::default()
            });
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        let Some(job) = jobs.last_mut() else {
            return Err("an attribute before any `Job Id:` line".into());
        };
        let value = value.trim();
        match key.trim() {
            "job_state" => job.state = value.to_string(),
            "Exit_status" => {
                job.exit_status = Some(
                    value
                        .parse()
                        .map_err(|_| format!("Exit_status '{value}' is not a number"))?,
                )
            }
            "exec_host" => {
                job.host = value
                    .split(['/', '+'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            }
            "comment" => job.comment = crate::text::printable(value),
            _ => {}
        }
    }
    Ok(jobs)
}

/// A task's state in the words the other backends use.
pub(crate) fn task_state(task: u32, job: &PbsJob) -> TaskState {
    let (state, what): (&str, String) = match job.state.as_str() {
        "Q" | "W" | "T" => ("PENDING", String::new()),
        "H" => ("PENDING", "held".into()),
        "R" => ("RUNNING", String::new()),
        "E" => ("RUNNING", "exiting".into()),
        "S" | "U" => ("RUNNING", "suspended".into()),
        "F" | "X" => match job.exit_status {
            Some(0) => ("COMPLETED", String::new()),
            Some(n) if n < 0 => ("FAILED", format!("PBS could not run it (Exit_status {n})")),
            Some(n) if n >= 256 => ("CANCELLED", format!("killed by signal {}", n - 256)),
            Some(n) => ("FAILED", format!("exit status {n}")),
            None if job.host.is_empty() => ("CANCELLED", "deleted before it ran".into()),
            None => ("UNKNOWN", "finished without an Exit_status".into()),
        },
        other => (
            "UNKNOWN",
            format!("job_state '{}'", crate::text::printable(other)),
        ),
    };
    let mut reason = format!("job {}", job.id);
    for part in [what.as_str(), job.comment.as_str()] {
        if !part.is_empty() {
            reason.push_str(": ");
            reason.push_str(part);
        }
    }
    TaskState {
        task,
        state: state.into(),
        reason,
        ran_on: job.host.clone(),
        exit_code: job.exit_status.map(|e| e.to_string()).unwrap_or_default(),
    }
}

fn task_states(jobs: &[u64]) -> Result<Vec<TaskState>, PbsError> {
    let mut args = vec!["-x".to_string(), "-f".to_string()];
    args.extend(ids(jobs));
    let out = run("qstat", &args, true)?;
    let listed = parse_qstat_full(&out).map_err(|reason| PbsError::Unreadable {
        command: "qstat -x -f".into(),
        output: crate::text::printable(out.lines().next().unwrap_or_default()),
        reason,
    })?;
    Ok(jobs
        .iter()
        .enumerate()
        .map(|(i, &id)| match listed.iter().find(|j| j.id == id) {
            Some(j) => task_state(i as u32, j),
            None => TaskState {
                task: i as u32,
                state: "UNKNOWN".into(),
                reason: format!(
                    "job {id}: qstat -x no longer lists it (the server keeps finished jobs only with job_history_enable)"
                ),
                ran_on: String::new(),
                exit_code: String::new(),
            },
        })
        .collect())
}

/// The PBS backend: one job per node, `-l select=1:host=NODE`.
pub(crate) struct Pbs;

impl Scheduler for Pbs {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Pbs
    }
    fn check_options(&self, partition: bool) -> Result<(), String> {
        qsub::check_options(Batch::Pbs, partition)
    }
    fn out_dir_problem(&self, dir: &Path) -> Option<&'static str> {
        qsub::log_dir_problem(qsub::Batch::Pbs, dir)
    }
    fn job_script(&self, spec: &JobSpec) -> String {
        qsub::job_script(Batch::Pbs, spec)
    }
    fn dry_run(&self, spec: &JobSpec, script: &Path) -> String {
        qsub::dry_run(Batch::Pbs, spec, script)
    }
    fn check_client(&self) -> Result<(), FleetError> {
        // `qstat -B` lists the PBS server; Grid Engine's qstat has no -B.
        run("qstat", &["-B".into()], false).map_err(|e| match e {
            PbsError::Missing { .. } => FleetError::Client(e),
            other => FleetError::Other(format!(
                "--scheduler pbs: no PBS server answers ({other}); run on a PBS submit host"
            )),
        })?;
        Ok(())
    }
    fn submit(&self, spec: &JobSpec, script: &Path) -> Result<Jobs, FleetError> {
        let client = qsub::Client {
            qsub: &|a| Ok(qsub(a)?),
            qdel: &|j| Ok(qdel(j)?),
            qrls: &|j| Ok(run("qrls", &ids(j), false).map(drop)?),
        };
        qsub::submit_held(Batch::Pbs, spec, script, &client)
    }
    fn task_states(
        &self,
        jobs: &Jobs,
        _: usize,
        _: &mut Tracker,
    ) -> Result<Vec<TaskState>, FleetError> {
        Ok(task_states(&jobs.per_task)?)
    }
    fn cancel(&self, jobs: &Jobs) -> Result<(), FleetError> {
        Ok(qdel(&jobs.per_task)?)
    }
    fn cancel_hint(&self, jobs: &Jobs) -> String {
        format!("qdel {}", ids(&jobs.per_task).join(" "))
    }
    fn log_tail(&self, logs: &Path, _: &Jobs, task: u32) -> Option<String> {
        // PBS logs are named by task (`-o LOGS/task-N.out`): qsub expands no job id there.
        last_line(&logs.join(format!("task-{task}.out")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // In the form of the PBS Professional reference guide's `qstat -f`.
    const QSTAT: &str = "Job Id: 101.pbs-server\n    Job_Name = cryocap-fleet\n    job_state = F\n    exec_host = gpu01/0*2\n    Exit_status = 0\n\nJob Id: 102.pbs-server\n    Job_Name = cryocap-fleet\n    job_state = F\n    exec_host = gpu02/0+gpu03/0\n    Exit_status = 2\n    comment = Job run at Mon Dec 07 at 10:00 on (gpu02:ncpus=1)\n\nJob Id: 103.pbs-server\n    job_state = F\n\nJob Id: 104.pbs-server\n    job_state = H\n\nJob Id: 105.pbs-server\n    job_state = F\n    exec_host = gpu05/1\n    Exit_status = 265\n\nJob Id: 106.pbs-server\n    job_state = R\n    exec_host = gpu06/0\n";

    #[test]
    fn qstat_full_gives_each_job_its_state() {
        let jobs = parse_qstat_full(QSTAT).unwrap();
        assert_eq!(jobs.len(), 6);
        let states: Vec<(String, String, String)> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let t = task_state(i as u32, j);
                (t.state, t.ran_on, t.exit_code)
            })
            .collect();
        let want = [
            ("COMPLETED", "gpu01", "0"),
            ("FAILED", "gpu02", "2"),
            ("CANCELLED", "", ""),
            ("PENDING", "", ""),
            ("CANCELLED", "gpu05", "265"),
            ("RUNNING", "gpu06", ""),
        ];
        for (got, want) in states.iter().zip(want) {
            assert_eq!((got.0.as_str(), got.1.as_str(), got.2.as_str()), want);
        }
        assert!(task_state(1, &jobs[1]).reason.contains("exit status 2"));
        assert!(task_state(4, &jobs[4]).reason.contains("signal 9"));
    }

    #[test]
    fn job_ids_are_the_number_before_the_server() {
        assert_eq!(parse_job_id("1234.pbs-server\n"), Some(1234));
        assert_eq!(parse_job_id("77"), Some(77));
        assert_eq!(parse_job_id("qsub: Unknown resource"), None);
        assert_eq!(parse_job_id("12abc"), None);
        assert!(parse_qstat_full("    job_state = R\n").is_err());
        assert!(parse_qstat_full("Job Id: 1.s\n    Exit_status = x\n").is_err());
    }

    #[test]
    fn walltime_and_the_node_go_into_qsub() {
        let spec = JobSpec {
            nodes: vec!["gpu01".into()],
            out_dir: "/shared/f".into(),
            cryocap: "/opt/cryocap".into(),
            qualify_args: vec![],
            gpus_per_node: None,
            time_limit: Some("1-00:30:00".into()),
            job_name: "cryocap-fleet".into(),
            shared_read: None,
        };
        let a = qsub::qsub_args(Batch::Pbs, &spec, Path::new("/shared/f/job.sh"), 0).join(" ");
        assert!(
            a.contains("-l select=1:host=gpu01 -l walltime=24:30:00"),
            "{a}"
        );
    }

    use proptest::prelude::*;
    proptest! {
        /// Whatever qsub or qstat print, the readers answer.
        #[test]
        fn pbs_output_never_panics(text in "[ -~\n=:.\t]{0,400}") {
            let _ = parse_job_id(&text);
            if let Ok(jobs) = parse_qstat_full(&text) {
                for (i, j) in jobs.iter().enumerate() {
                    let _ = task_state(i as u32, j);
                }
            }
        }
    }
}
