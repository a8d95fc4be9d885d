//! The Grid Engine client: submit, read states, delete. Its job scripts
//! and `qsub` arguments are shared with PBS (`qsub.rs`). Grid Engine
//! submission is tested against a real one-node cluster
//! (scripts/sge-local.sh, Debian's gridengine 8.1.9).
//!
//! Job states come from `qstat` while Grid Engine holds the job and from
//! `qacct -j` (exit_status, failed) once it has ended, never from qsub's
//! exit code. They are written in the words the Slurm path uses (PENDING,
//! RUNNING, COMPLETED, FAILED, CANCELLED, UNKNOWN), so that `fleet report`
//! reads both alike; the Grid Engine detail goes into the reason.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::results::fleet::TaskState;

use super::FleetError;
use super::qsub::{self, Batch, SGE_LOG_NAME};
use super::scheduler::{Jobs, Scheduler, SchedulerKind};
use super::script::JobSpec;

/// What the Sge client's errors are.
pub type SgeError = super::ClientError;

/// What to install when a tool is missing.
const INSTALL: &str =
    "install Grid Engine's client tools (Debian: gridengine-client) or run on a submit host";

fn run(tool: &str, args: &[String]) -> Result<String, SgeError> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|source| SgeError::Missing {
            prefix: "",
            tool: tool.to_string(),
            install: INSTALL,
            source,
        })?;
    if !out.status.success() {
        let mut msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if msg.is_empty() {
            // qstat and qacct say "not found" on stdout.
            msg = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        return Err(SgeError::Failed {
            command: format!("{tool} {}", args.join(" ")),
            message: if msg.is_empty() {
                format!("exit status {}", out.status)
            } else {
                crate::text::printable(msg.lines().next().unwrap_or_default())
            },
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Checks that Grid Engine's client answers (`qstat` lists this user's jobs).
pub(crate) fn check_client() -> Result<(), SgeError> {
    run("qstat", &[]).map(drop)
}

/// Reads `qsub -terse` output: `JOBID` (or `JOBID.1-4:1` for an array).
pub(crate) fn parse_job_id(output: &str) -> Option<u64> {
    let line = output.lines().map(str::trim).find(|l| !l.is_empty())?;
    line.split('.').next()?.parse().ok()
}

/// Submits one job; returns its id.
pub(crate) fn qsub(args: &[String]) -> Result<u64, SgeError> {
    let out = run("qsub", args)?;
    parse_job_id(&out).ok_or_else(|| SgeError::Unreadable {
        command: "qsub -terse".into(),
        output: crate::text::printable(out.trim()),
        reason: "expected a job id".into(),
    })
}

/// Deletes jobs (those already gone are no error worth stopping for).
pub(crate) fn qdel(jobs: &[u64]) -> Result<(), SgeError> {
    if jobs.is_empty() {
        return Ok(());
    }
    run("qdel", &[qsub::list(jobs)]).map(drop)
}

/// Releases held jobs (`qrls`).
pub(crate) fn release(jobs: &[u64]) -> Result<(), SgeError> {
    run("qrls", &[qsub::list(jobs)]).map(drop)
}

/// One job as `qstat` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QstatJob {
    pub(crate) id: u64,
    /// Grid Engine's state letters: qw, hqw, r, t, dr, Eqw, ...
    pub(crate) state: String,
    /// The host of the queue instance it runs in; empty while pending.
    pub(crate) host: String,
}

/// Reads `qstat`'s table: `job-ID prior name user state date time [queue]
/// slots [ja-task-ID]` under a two-line header. Names and users hold no
/// spaces (qsub refuses them), so the columns split on whitespace.
pub(crate) fn parse_qstat(output: &str) -> Result<Vec<QstatJob>, String> {
    let mut jobs = Vec::new();
    for line in output.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = cols.first() else { continue };
        if *first == "job-ID" || first.starts_with("---") {
            continue;
        }
        let id: u64 = first
            .parse()
            .map_err(|_| format!("'{line}' does not start with a job id"))?;
        let state = cols
            .get(4)
            .ok_or_else(|| format!("'{line}' has no state column"))?
            .to_string();
        let host = cols
            .get(7)
            .and_then(|q| q.split_once('@'))
            .map(|(_, h)| h.to_string())
            .unwrap_or_default();
        jobs.push(QstatJob { id, state, host });
    }
    Ok(jobs)
}

/// What `qacct -j ID` says about an ended job (the last record, should the
/// accounting file hold the id twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accounting {
    pub(crate) host: String,
    /// `failed`: 0, or a code and its text (`100 : assumedly after job`).
    pub(crate) failed: String,
    pub(crate) exit_status: String,
}

pub(crate) fn parse_qacct(output: &str) -> Option<Accounting> {
    let mut last: Option<Accounting> = None;
    let mut cur: Option<Accounting> = None;
    for line in output.lines() {
        if line.starts_with("====") {
            last = cur.take().or(last);
            cur = Some(Accounting {
                host: String::new(),
                failed: String::new(),
                exit_status: String::new(),
            });
            continue;
        }
        let Some(a) = cur.as_mut() else { continue };
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k, v.trim()),
            None => (line.trim(), ""),
        };
        match key {
            "hostname" => a.host = value.to_string(),
            "failed" => a.failed = value.to_string(),
            "exit_status" => a.exit_status = value.to_string(),
            _ => {}
        }
    }
    cur.or(last)
        .filter(|a| !a.failed.is_empty() && !a.exit_status.is_empty())
}

/// A job's state while qstat lists it, in the Slurm path's words.
fn listed_state(task: u32, job: &QstatJob) -> TaskState {
    let s = job.state.as_str();
    let (state, what) = if s.contains('E') {
        ("PENDING", "in an error state; see `qstat -j` for why")
    } else if s.contains('d') {
        ("RUNNING", "being deleted")
    } else if s.contains('r') || s.contains('t') || s.contains('R') {
        ("RUNNING", "")
    } else if s.contains('s') || s.contains('S') || s.contains('T') {
        ("RUNNING", "suspended")
    } else if s.contains('h') {
        ("PENDING", "held")
    } else {
        ("PENDING", "")
    };
    let reason = if what.is_empty() {
        format!("job {} {s}", job.id)
    } else {
        format!("job {} {s}: {what}", job.id)
    };
    TaskState {
        task,
        state: state.into(),
        reason,
        ran_on: job.host.clone(),
        exit_code: String::new(),
    }
}

/// A job's final state from its accounting record.
fn ended_state(task: u32, job: u64, a: &Accounting) -> TaskState {
    let failed_code = a.failed.split_whitespace().next().unwrap_or("0");
    let ok = failed_code == "0" && a.exit_status == "0";
    TaskState {
        task,
        state: if ok { "COMPLETED" } else { "FAILED" }.into(),
        reason: if failed_code == "0" {
            format!("job {job}")
        } else {
            format!("job {job}: qacct failed {}", a.failed)
        },
        ran_on: a.host.clone(),
        exit_code: a.exit_status.clone(),
    }
}

/// How long accounting may lag a job's end: the cluster's
/// `accounting_flush_time` (or `flush_time`, which it defaults to) from
/// `qconf -sconf`, plus a margin; 20 s when the configuration says neither.
pub(crate) fn accounting_grace() -> Duration {
    let margin = Duration::from_secs(5);
    let conf = run("qconf", &["-sconf".into()]).unwrap_or_default();
    let find = |key: &str| {
        conf.split(|c: char| c.is_whitespace() || c == ',')
            .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
            .and_then(hms_seconds)
    };
    match find("accounting_flush_time").or_else(|| find("flush_time")) {
        Some(s) => Duration::from_secs(s) + margin,
        None => Duration::from_secs(20),
    }
}

pub(crate) fn hms_seconds(t: &str) -> Option<u64> {
    let p: Vec<u64> = t
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    match p.as_slice() {
        [h, m, s] => h
            .checked_mul(3600)?
            .checked_add(m.checked_mul(60)?)?
            .checked_add(*s),
        [s] => Some(*s),
        _ => None,
    }
}

/// What the poller remembers between rounds: jobs seen running, and since
/// when each listed no more has had no accounting record.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    seen_running: HashMap<u64, String>,
    gone_since: HashMap<u64, Instant>,
}

/// The states of every task (task i is job `jobs[i]`). A job qstat no longer
/// lists waits for its accounting record up to `grace`; without one it was
/// deleted before it ran (CANCELLED, Grid Engine keeps no record of those),
/// or, if it was seen running, its record is lost (UNKNOWN).
pub(crate) fn task_states(
    jobs: &[u64],
    tracker: &mut Tracker,
    grace: Duration,
) -> Result<Vec<TaskState>, SgeError> {
    let out = run("qstat", &[])?;
    let listed = parse_qstat(&out).map_err(|reason| SgeError::Unreadable {
        command: "qstat".into(),
        output: crate::text::printable(out.lines().nth(2).unwrap_or_default()),
        reason,
    })?;
    let mut tasks = Vec::with_capacity(jobs.len());
    for (i, &job) in jobs.iter().enumerate() {
        let task = i as u32;
        if let Some(j) = listed.iter().find(|j| j.id == job) {
            let t = listed_state(task, j);
            if t.state == "RUNNING" {
                tracker.seen_running.insert(job, j.host.clone());
            }
            tracker.gone_since.remove(&job);
            tasks.push(t);
            continue;
        }
        let acct = run("qacct", &["-j".into(), job.to_string()])
            .ok()
            .and_then(|o| parse_qacct(&o));
        if let Some(a) = acct {
            tasks.push(ended_state(task, job, &a));
            continue;
        }
        let since = *tracker.gone_since.entry(job).or_insert_with(Instant::now);
        let ran_on = tracker.seen_running.get(&job).cloned().unwrap_or_default();
        let t = if since.elapsed() < grace {
            TaskState {
                task,
                state: "COMPLETING".into(),
                reason: format!("job {job} has left qstat; waiting for its qacct record"),
                ran_on,
                exit_code: String::new(),
            }
        } else if ran_on.is_empty() {
            TaskState {
                task,
                state: "CANCELLED".into(),
                reason: format!(
                    "job {job} left qstat without running and has no qacct record: deleted while pending (qdel)"
                ),
                ran_on,
                exit_code: String::new(),
            }
        } else {
            TaskState {
                task,
                state: "UNKNOWN".into(),
                reason: format!("job {job} ran on {ran_on} but qacct has no record of it"),
                ran_on,
                exit_code: String::new(),
            }
        };
        tasks.push(t);
    }
    Ok(tasks)
}

/// The Grid Engine backend: one job per node, pinned with `-l hostname=`,
/// submitted held and released once all are in (a node whose qsub is
/// refused leaves no other job behind).
pub(crate) struct GridEngine;

impl Scheduler for GridEngine {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Sge
    }
    fn check_options(&self, partition: bool) -> Result<(), String> {
        qsub::check_options(Batch::Sge, partition)
    }
    fn out_dir_problem(&self, dir: &Path) -> Option<&'static str> {
        qsub::log_dir_problem(qsub::Batch::Sge, dir)
    }
    fn job_script(&self, spec: &JobSpec) -> String {
        qsub::job_script(Batch::Sge, spec)
    }
    fn dry_run(&self, spec: &JobSpec, script: &Path) -> String {
        qsub::dry_run(Batch::Sge, spec, script)
    }
    fn check_client(&self) -> Result<(), FleetError> {
        Ok(check_client()?)
    }
    fn submit(&self, spec: &JobSpec, script: &Path) -> Result<Jobs, FleetError> {
        let client = qsub::Client {
            qsub: &|a| Ok(qsub(a)?),
            qdel: &|j| Ok(qdel(j)?),
            qrls: &|j| Ok(release(j)?),
        };
        qsub::submit_held(Batch::Sge, spec, script, &client)
    }
    fn task_states(
        &self,
        jobs: &Jobs,
        _: usize,
        tracker: &mut Tracker,
    ) -> Result<Vec<TaskState>, FleetError> {
        Ok(task_states(&jobs.per_task, tracker, accounting_grace())?)
    }
    fn cancel(&self, jobs: &Jobs) -> Result<(), FleetError> {
        Ok(qdel(&jobs.per_task)?)
    }
    fn cancel_hint(&self, jobs: &Jobs) -> String {
        format!("qdel {}", jobs.list())
    }
    fn log_tail(&self, logs: &Path, jobs: &Jobs, task: u32) -> Option<String> {
        log_tail(logs, *jobs.per_task.get(task as usize)?)
    }
}

/// The last non-empty line of a job's log, if it has one.
pub(crate) fn log_tail(logs: &Path, job: u64) -> Option<String> {
    super::script::last_line(&logs.join(SGE_LOG_NAME.replace("$JOB_ID", &job.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    // As qstat and qacct of Debian's gridengine 8.1.9 print them.
    const QSTAT: &str = "job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID \n\
-----------------------------------------------------------------------------------------------------------------\n\
      4 0.55500 cryocap-fl root         r     12/02/2026 16:20:01 all.q@vm                           1        \n\
      5 0.00000 cryocap-fl root         hqw   12/02/2026 16:20:02                                    1        \n\
      6 0.00000 cryocap-fl root         Eqw   12/02/2026 16:20:02                                    1        \n";
    const QACCT: &str = "==============================================================\n\
qname        all.q               \nhostname     vm                  \njobnumber    9                   \n\
failed       0    \nexit_status  2                   \n\
==============================================================\n\
qname        all.q               \nhostname     vm                  \njobnumber    9                   \n\
failed       100 : assumedly after job\nexit_status  137                 \n";

    #[test]
    fn qstat_and_qacct_give_each_job_its_state() {
        let jobs = parse_qstat(QSTAT).unwrap();
        assert_eq!(jobs.len(), 3);
        assert_eq!(
            (jobs[0].id, jobs[0].state.as_str(), jobs[0].host.as_str()),
            (4, "r", "vm")
        );
        assert_eq!((jobs[1].state.as_str(), jobs[1].host.as_str()), ("hqw", ""));
        let states: Vec<String> = jobs.iter().map(|j| listed_state(0, j).state).collect();
        assert_eq!(states, ["RUNNING", "PENDING", "PENDING"]);
        assert!(listed_state(0, &jobs[2]).reason.contains("error state"));
        assert!(parse_qstat("x y z").is_err());
        let a = parse_qacct(QACCT).unwrap();
        assert_eq!(
            (a.exit_status.as_str(), a.failed.as_str()),
            ("137", "100 : assumedly after job")
        );
        let t = ended_state(1, 9, &a);
        assert_eq!((t.state.as_str(), t.ran_on.as_str()), ("FAILED", "vm"));
        assert!(t.reason.contains("failed 100"), "{t:?}");
        let ok = Accounting {
            host: "vm".into(),
            failed: "0".into(),
            exit_status: "0".into(),
        };
        assert_eq!(ended_state(0, 1, &ok).state, "COMPLETED");
        assert_eq!(parse_qacct("error: job id 3 not found\n"), None);
        assert_eq!(parse_job_id("12\n"), Some(12));
        assert_eq!(parse_job_id("13.1-2:1\n"), Some(13));
        assert_eq!(parse_job_id("Your job 12"), None);
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever qsub, qstat or qacct print, the readers answer.
        #[test]
        fn grid_engine_output_never_panics(text in "[ -~\n=@:.]{0,400}") {
            let _ = parse_qstat(&text);
            let _ = parse_qacct(&text);
            let _ = parse_job_id(&text);
            let _ = crate::fleet::qsub::time_seconds(&text);
            let _ = hms_seconds(&text);
        }
    }
}
