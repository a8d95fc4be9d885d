//! Talking to Slurm: submit a held array, pin and release its tasks, read
//! each task's state, wait for all of them to end. Success is decided from
//! each task's final state, never from sbatch's exit code (`sbatch --wait`
//! returns 0 for a cancelled array).

use std::path::Path;
use std::process::Command;

use crate::results::fleet::TaskState;

use super::FleetError;
use super::scheduler::{Jobs, Scheduler, SchedulerKind, Tracker};
use super::script::{self, JobSpec, shell_quote};

/// What the Slurm client's errors are.
pub type SlurmError = super::ClientError;

/// What to install when a tool is missing.
const INSTALL: &str = "install Slurm's client tools (Debian: slurm-client) or run on a login node";

/// Checks a Slurm `--time` value: minutes, MM:SS, HH:MM:SS, D-HH,
/// D-HH:MM, D-HH:MM:SS, or UNLIMITED; returns it as Slurm takes it.
pub fn time_limit(text: &str) -> Result<String, String> {
    let t = text.trim();
    let bad = || format!("'{text}' is not a Slurm time limit such as 30, 00:30:00 or 1-12:00:00");
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("infinite") {
        return Ok("UNLIMITED".into());
    }
    let (days, rest) = match t.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, t),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    if !parts.iter().all(|p| digits(p)) || days.is_some_and(|d| !digits(d)) || parts.len() > 3 {
        return Err(bad());
    }
    Ok(t.to_string())
}

/// States after which a task will not change again.
pub fn is_final(state: &str) -> bool {
    matches!(
        state,
        "COMPLETED"
            | "FAILED"
            | "CANCELLED"
            | "TIMEOUT"
            | "NODE_FAIL"
            | "PREEMPTED"
            | "OUT_OF_MEMORY"
            | "BOOT_FAIL"
            | "DEADLINE"
            | "UNKNOWN"
    )
}

fn run(tool: &str, args: &[String]) -> Result<String, SlurmError> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|source| SlurmError::Missing {
            prefix: "",
            tool: tool.to_string(),
            install: INSTALL,
            source,
        })?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(SlurmError::Failed {
            command: format!("{tool} {}", args.join(" ")),
            message: if msg.is_empty() {
                format!("exit status {}", out.status)
            } else {
                msg
            },
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Reads `sbatch --parsable` output: `JOBID` or `JOBID;CLUSTER`.
pub fn parse_job_id(output: &str) -> Option<u64> {
    output.trim().split(';').next()?.trim().parse().ok()
}

/// Checks that Slurm's client commands answer (`sbatch --version`).
pub fn check_client() -> Result<(), SlurmError> {
    run("sbatch", &strings(&["--version"])).map(|_| ())
}

/// Submits the held array; returns its job id.
pub fn sbatch(args: &[String]) -> Result<u64, SlurmError> {
    let out = run("sbatch", args)?;
    parse_job_id(&out).ok_or_else(|| SlurmError::Unreadable {
        command: "sbatch --parsable".into(),
        output: out.trim().to_string(),
        reason: "expected a job id".into(),
    })
}

/// Pins task `task` of array `job` to `node`.
pub fn pin_task(job: u64, task: usize, node: &str) -> Result<(), SlurmError> {
    run(
        "scontrol",
        &[
            "update".into(),
            format!("JobId={job}_{task}"),
            format!("ReqNodeList={node}"),
        ],
    )
    .map(drop)
}

pub fn release(job: u64) -> Result<(), SlurmError> {
    run("scontrol", &["release".into(), job.to_string()]).map(drop)
}

pub fn cancel(job: u64) -> Result<(), SlurmError> {
    run("scancel", &[job.to_string()]).map(drop)
}

/// The nodes of a partition, one name each, in Slurm's order.
pub fn partition_nodes(partition: &str) -> Result<Vec<String>, SlurmError> {
    let out = run(
        "sinfo",
        &strings(&["-h", "-N", "-p", partition, "-o", "%N"]),
    )?;
    let mut nodes: Vec<String> = Vec::new();
    for n in out.split_whitespace() {
        if !nodes.iter().any(|m| m == n) {
            nodes.push(n.to_string());
        }
    }
    Ok(nodes)
}

/// The value of `key` in one line of `scontrol -o show job`: the first
/// `key=` token. Values before the free-text fields (Command, WorkDir,
/// StdOut, which may hold spaces) never do, so the first match is the field.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|tok| tok.strip_prefix(key)?.strip_prefix('='))
}

/// Task ids in `ArrayTaskId` of a not yet split array record: `0-3`,
/// `0,2-5`, `1-7%2` (the `%` limit is dropped).
pub fn parse_task_ids(text: &str) -> Option<Vec<u32>> {
    let text = text.split('%').next()?;
    let mut ids = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
        if b < a || b - a > 1_000_000 {
            return None;
        }
        ids.extend(a..=b);
    }
    Some(ids)
}

/// Reads `scontrol -o show job ID`: one line per task, or one line standing
/// for several tasks that have not been split off the array yet.
pub fn parse_scontrol_jobs(output: &str) -> Result<Vec<TaskState>, String> {
    let mut tasks = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let ids = field(line, "ArrayTaskId")
            .and_then(parse_task_ids)
            .ok_or_else(|| format!("no ArrayTaskId in '{line}'"))?;
        let state = field(line, "JobState")
            .ok_or_else(|| format!("no JobState in '{line}'"))?
            .to_string();
        let clean = |v: Option<&str>| match v {
            None | Some("(null)") | Some("None") => String::new(),
            Some(v) => v.to_string(),
        };
        let ran_on = clean(field(line, "NodeList"));
        for task in ids {
            tasks.push(TaskState {
                task,
                state: state.clone(),
                reason: clean(field(line, "Reason")),
                ran_on: ran_on.clone(),
                exit_code: clean(field(line, "ExitCode")),
            });
        }
    }
    tasks.sort_by_key(|t| t.task);
    Ok(tasks)
}

/// Reads `sacct -X -n -P -o JobID,State,NodeList,ExitCode` for an array:
/// `123_0|COMPLETED|n1|0:0`, `123_[1-3]|PENDING|None assigned|0:0`.
pub fn parse_sacct(output: &str) -> Result<Vec<TaskState>, String> {
    let mut tasks = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('|').collect();
        let [id, state, nodes, exit] = cols[..] else {
            return Err(format!("'{line}' does not have 4 fields"));
        };
        let Some((_, task)) = id.split_once('_') else {
            continue;
        };
        let ids = parse_task_ids(task.trim_start_matches('[').trim_end_matches(']'))
            .ok_or_else(|| format!("'{id}' is not an array task id"))?;
        // sacct says "CANCELLED by 0"; keep the state word.
        let word = state.split_whitespace().next().unwrap_or_default();
        for task in ids {
            tasks.push(TaskState {
                task,
                state: word.to_string(),
                reason: String::new(),
                ran_on: if nodes.starts_with("None") {
                    String::new()
                } else {
                    nodes.to_string()
                },
                exit_code: exit.to_string(),
            });
        }
    }
    tasks.sort_by_key(|t| t.task);
    Ok(tasks)
}

/// The states of every task of `job`: from scontrol while Slurm holds the
/// records, from sacct where accounting keeps them longer; tasks neither
/// knows are UNKNOWN.
pub fn task_states(job: u64, n_tasks: usize) -> Result<Vec<TaskState>, SlurmError> {
    let scontrol = run(
        "scontrol",
        &["-o".into(), "show".into(), "job".into(), job.to_string()],
    );
    let mut tasks = match scontrol {
        Ok(out) => parse_scontrol_jobs(&out).map_err(|reason| SlurmError::Unreadable {
            command: format!("scontrol -o show job {job}"),
            output: out.lines().next().unwrap_or_default().to_string(),
            reason,
        })?,
        Err(SlurmError::Failed { message, .. }) if message.contains("Invalid job id") => {
            let args = strings(&[
                "-X",
                "-n",
                "-P",
                "-o",
                "JobID,State,NodeList,ExitCode",
                "-j",
            ]);
            let mut args = args;
            args.push(job.to_string());
            match run("sacct", &args) {
                Ok(out) => parse_sacct(&out).unwrap_or_default(),
                Err(_) => Vec::new(),
            }
        }
        Err(e) => return Err(e),
    };
    for t in 0..n_tasks as u32 {
        if !tasks.iter().any(|s| s.task == t) {
            tasks.push(TaskState {
                task: t,
                state: "UNKNOWN".into(),
                reason: "Slurm no longer holds this job's record (and accounting is off)".into(),
                ran_on: String::new(),
                exit_code: String::new(),
            });
        }
    }
    tasks.retain(|t| (t.task as usize) < n_tasks);
    tasks.sort_by_key(|t| t.task);
    Ok(tasks)
}

/// The Slurm backend: one job array, each task pinned to its node.
pub(crate) struct Slurm;

impl Scheduler for Slurm {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Slurm
    }
    fn check_options(&self, _: bool) -> Result<(), String> {
        Ok(())
    }
    fn job_script(&self, spec: &JobSpec) -> String {
        script::job_script(spec)
    }
    fn dry_run(&self, spec: &JobSpec, script_path: &Path) -> String {
        let cmd: Vec<String> = std::iter::once("sbatch".to_string())
            .chain(
                script::sbatch_args(spec, script_path)
                    .iter()
                    .map(|a| shell_quote(a)),
            )
            .collect();
        // A line break in a path would end the comment and start a command:
        // control characters are written escaped, everything else as it is.
        let one_line = |t: String| crate::text::printable(&t);
        format!(
            "{}\n# fleet submit would write this to {} and run:\n#   {}\n# then pin task i to nodes[i] (scontrol update JobId=ID_i ReqNodeList=NODE) and release it.\n",
            script::job_script(spec),
            one_line(script_path.display().to_string()),
            one_line(cmd.join(" "))
        )
    }
    fn check_client(&self) -> Result<(), FleetError> {
        Ok(check_client()?)
    }
    fn submit(&self, spec: &JobSpec, script_path: &Path) -> Result<Jobs, FleetError> {
        let job = sbatch(&script::sbatch_args(spec, script_path))?;
        let pinned = spec
            .nodes
            .iter()
            .enumerate()
            .try_for_each(|(i, n)| pin_task(job, i, n))
            .and_then(|_| release(job));
        if let Err(e) = pinned {
            let _ = cancel(job);
            return Err(FleetError::Other(format!(
                "{e}; job {job} was cancelled before any task ran"
            )));
        }
        Ok(Jobs {
            first: job,
            per_task: Vec::new(),
        })
    }
    fn task_states(
        &self,
        jobs: &Jobs,
        tasks: usize,
        _: &mut Tracker,
    ) -> Result<Vec<TaskState>, FleetError> {
        Ok(task_states(jobs.first, tasks)?)
    }
    fn cancel(&self, jobs: &Jobs) -> Result<(), FleetError> {
        Ok(cancel(jobs.first)?)
    }
    fn cancel_hint(&self, jobs: &Jobs) -> String {
        format!("scancel {}", jobs.list())
    }
    fn log_tail(&self, logs: &Path, jobs: &Jobs, task: u32) -> Option<String> {
        log_tail(logs, jobs.first, task)
    }
}

/// Whether Slurm's client tools are installed and a controller answers.
pub fn reachable() -> bool {
    Command::new("sinfo")
        .args(["-h", "-o", "%P"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The last non-empty line of a task's log, if it has one.
pub fn log_tail(logs: &Path, job: u64, task: u32) -> Option<String> {
    script::last_line(&logs.join(format!("{job}_{task}.out")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_time_limits() {
        for ok in ["30", "00:30:00", "1-12", "1-12:00:00", "5:00", "unlimited"] {
            assert!(time_limit(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-5", "a-1", "1-", "00:30:00;id"] {
            assert!(time_limit(bad).is_err(), "{bad}");
        }
    }

    // Lines as Slurm 22.05 prints them (trimmed), with a path holding spaces.
    const SPLIT: &str = "JobId=3 ArrayJobId=2 ArrayTaskId=1 JobName=cryocap-fleet UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=2:0 ReqNodeList=vm ExcNodeList=(null) NodeList=vm Command=/tmp/a b/JobState=X StdOut=/tmp/a b/NodeList=y\n\
JobId=2 ArrayJobId=2 ArrayTaskId=0 JobName=cryocap-fleet JobState=COMPLETED Reason=None ExitCode=0:0 ReqNodeList=vm NodeList=vm\n";
    const HELD: &str = "JobId=7 ArrayJobId=7 ArrayTaskId=0-2 JobName=cryocap-fleet JobState=PENDING Reason=JobHeldUser ExitCode=0:0 ReqNodeList=(null) NodeList= \n";

    #[test]
    fn scontrol_lines_give_each_task_its_state() {
        let t = parse_scontrol_jobs(SPLIT).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0],
            TaskState {
                task: 0,
                state: "COMPLETED".into(),
                reason: String::new(),
                ran_on: "vm".into(),
                exit_code: "0:0".into()
            }
        );
        assert_eq!(
            (t[1].state.as_str(), t[1].exit_code.as_str()),
            ("FAILED", "2:0")
        );
        assert_eq!(t[1].reason, "NonZeroExitCode");
        let held = parse_scontrol_jobs(HELD).unwrap();
        assert_eq!(held.iter().map(|t| t.task).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(
            held.iter()
                .all(|t| t.state == "PENDING" && t.ran_on.is_empty())
        );
        assert!(parse_scontrol_jobs("JobId=1 JobState=PENDING").is_err());
    }

    #[test]
    fn sacct_lines_and_task_ranges() {
        let t = parse_sacct("12_0|COMPLETED|n1|0:0\n12_[1-2]|CANCELLED by 0|None assigned|0:0\n")
            .unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[2].state, "CANCELLED");
        assert!(t[2].ran_on.is_empty());
        assert_eq!(parse_task_ids("0,2-4%1"), Some(vec![0, 2, 3, 4]));
        assert_eq!(parse_task_ids("x"), None);
        assert_eq!(parse_job_id("42;cluster\n"), Some(42));
        assert_eq!(parse_job_id("Submitted"), None);
    }

    #[test]
    fn final_states() {
        assert!(is_final("CANCELLED") && is_final("COMPLETED") && is_final("TIMEOUT"));
        assert!(!is_final("PENDING") && !is_final("RUNNING") && !is_final("COMPLETING"));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever scontrol, sacct or sbatch print, the readers answer.
        #[test]
        fn scheduler_output_never_panics(text in "[ -~\n|=;_]{0,400}") {
            let _ = parse_scontrol_jobs(&text);
            let _ = parse_sacct(&text);
            let _ = parse_job_id(&text);
            let _ = parse_task_ids(&text);
            let _ = time_limit(&text);
        }
    }
}
