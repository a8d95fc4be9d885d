//! Job scripts and `qsub` commands for Grid Engine (SGE) and PBS, and the
//! Grid Engine client: submit, read states, delete.
//!
//! Neither scheduler can pin the tasks of one array to different nodes, so
//! a fleet run is one job per node, each submitted with the node as a
//! resource request (`-l hostname=NODE` on SGE, `-l select=1:host=NODE` on
//! PBS) and named to the script in `CRYOCAP_NODE`; the script refuses to run
//! anywhere else. Grid Engine submission is tested against a real one-node
//! cluster (scripts/sge-local.sh, Debian's gridengine 8.1.9). No PBS server
//! was reachable: PBS stays `--dry-run` only, its scripts checked with
//! `bash -n` and by running them against a stand-in cryocap.
//!
//! Job states come from `qstat` while Grid Engine holds the job and from
//! `qacct -j` (exit_status, failed) once it has ended, never from qsub's
//! exit code. They are written in the words the Slurm path uses (PENDING,
//! RUNNING, COMPLETED, FAILED, CANCELLED, UNKNOWN), so that `fleet report`
//! reads both alike; the Grid Engine detail goes into the reason.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::results::fleet::TaskState;

use super::script::{JobSpec, fleet_dir, quote_path, shell_quote};

/// The batch systems other than Slurm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Batch {
    /// (Son of / Univa / Altair) Grid Engine.
    Sge,
    /// PBS Pro / OpenPBS (`select` syntax).
    Pbs,
}

impl Batch {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Batch::Sge => "sge",
            Batch::Pbs => "pbs",
        }
    }
}

/// Why a path cannot go into `qsub -o`: both schedulers read `HOST:` before
/// a colon, and Grid Engine expands `$NAME` pseudo variables there.
pub(crate) fn log_dir_problem(dir: &Path) -> Option<&'static str> {
    let t = dir.to_string_lossy();
    if t.contains(':') {
        Some("holds ':', which qsub -o reads as HOST:PATH")
    } else if t.contains('$') {
        Some("holds '$', which Grid Engine expands in qsub -o paths")
    } else if t.chars().any(char::is_control) {
        Some("holds a control character")
    } else {
        None
    }
}

/// The job script every node's job runs (the node comes in `CRYOCAP_NODE`).
pub(crate) fn job_script(batch: Batch, spec: &JobSpec) -> String {
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    let _ = writeln!(
        s,
        "# Written by `cryocap fleet submit --scheduler {}`: one job per node runs\n\
         # `cryocap qualify`; each job names its node in CRYOCAP_NODE.",
        batch.name()
    );
    match batch {
        Batch::Sge => s.push_str("#$ -S /bin/bash\n"),
        Batch::Pbs => s.push_str("#PBS -S /bin/bash\n"),
    }
    s.push_str("set -u\n\n");
    let _ = writeln!(s, "out_dir={}", quote_path(&spec.out_dir));
    let _ = writeln!(s, "cryocap={}", quote_path(&spec.cryocap));
    let args: Vec<String> = spec.qualify_args.iter().map(|a| shell_quote(a)).collect();
    let _ = writeln!(s, "qualify_args=({})", args.join(" "));
    s.push_str(
        r#"node=${CRYOCAP_NODE:-}
# With --shared-read a node may be named more than once: CRYOCAP_TASK is this
# job's place in the run and CRYOCAP_FIRST=0 marks a node's later jobs, which
# only read (one job writes each <node>.json).
task=${CRYOCAP_TASK:-0}
first=${CRYOCAP_FIRST:-1}
if [ -z "$node" ]; then
  echo "cryocap fleet: CRYOCAP_NODE is not set; submit with qsub -v CRYOCAP_NODE=NODE" >&2
  exit 3
fi
here=$(hostname -s)
if [ "$here" != "$node" ] && [ "$(hostname)" != "$node" ]; then
  echo "cryocap fleet: this job was meant for $node but runs on $here" >&2
  exit 3
fi

# qualify writes its JSON atomically and exits 1 when the node fails a check:
# that is a result, so the job succeeds when the JSON is there. Any other
# exit (2: bad options, a crash) fails the job.
status=0
if [ "$first" = 1 ]; then
  "$cryocap" qualify --quiet --json "$out_dir/$node.json" "${qualify_args[@]}"
  status=$?
  if [ "$status" -eq 1 ] && [ -s "$out_dir/$node.json" ]; then
    echo "cryocap fleet: $node failed some checks; see $out_dir/$node.json" >&2
    status=0
  fi
fi
"#,
    );
    if let Some(r) = &spec.shared_read {
        let _ = writeln!(s, "\nshared_dir={}", quote_path(&r.dir));
        s.push_str(
            "# Every job joins the barrier, also when its qualify failed, so that the\n\
             # others are not left waiting; then all read the shared stacks at once.\n",
        );
        let _ = writeln!(
            s,
            "\"$cryocap\" fleet shared-read --out-dir \"$out_dir\" --dir \"$shared_dir\" \
             --node \"$node\" --task \"$task\" --tasks {} --timeout {}s",
            spec.nodes.len(),
            r.barrier_timeout_s
        );
        s.push_str("read_status=$?\nif [ \"$status\" -eq 0 ]; then status=$read_status; fi\n");
    }
    s.push_str("exit \"$status\"\n");
    s
}

/// A Slurm `--time` value (checked by `slurm::time_limit`) in seconds, for
/// Grid Engine's `-l h_rt=`; None for UNLIMITED. Slurm reads `M`, `M:S`,
/// `H:M:S`, `D-H`, `D-H:M` and `D-H:M:S` (sbatch(1), --time).
pub(crate) fn time_seconds(limit: &str) -> Option<u64> {
    if limit.eq_ignore_ascii_case("unlimited") || limit.eq_ignore_ascii_case("infinite") {
        return None;
    }
    let (days, rest) = match limit.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, limit),
    };
    let p: Vec<u64> = rest
        .split(':')
        .map(|x| x.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = match (limit.contains('-'), p.as_slice()) {
        (false, [m]) => (0, *m, 0),
        (false, [m, s]) => (0, *m, *s),
        (_, [h, m, s]) => (*h, *m, *s),
        (true, [h]) => (*h, 0, 0),
        (true, [h, m]) => (*h, *m, 0),
        _ => return None,
    };
    days.checked_mul(86_400)?
        .checked_add(h.checked_mul(3_600)?)?
        .checked_add(m.checked_mul(60)?)?
        .checked_add(sec)
}

/// Where a Grid Engine job's log goes: qsub expands `$JOB_ID` in `-o`.
pub(crate) const SGE_LOG_NAME: &str = "$JOB_ID.out";

/// The `qsub` arguments that submit task `task`'s job, on `spec.nodes[task]`
/// (no shell sees them).
pub(crate) fn qsub_args(batch: Batch, spec: &JobSpec, script: &Path, task: usize) -> Vec<String> {
    let node = spec.nodes.get(task).map_or("", String::as_str);
    let first = !spec.nodes[..task.min(spec.nodes.len())]
        .iter()
        .any(|n| n == node);
    let logs = fleet_dir(&spec.out_dir).join("logs");
    let log = match batch {
        Batch::Sge => logs.join(SGE_LOG_NAME),
        Batch::Pbs => logs.join(format!("{node}.out")),
    };
    let mut a: Vec<String> = vec!["-N".into(), spec.job_name.clone()];
    match batch {
        Batch::Sge => {
            a.extend(["-terse".into(), "-j".into(), "y".into()]);
            a.extend(["-l".into(), format!("hostname={node}")]);
            if let Some(t) = spec.time_limit.as_deref().and_then(time_seconds) {
                a.extend(["-l".into(), format!("h_rt={t}")]);
            }
            if spec.shared_read.is_none() {
                a.extend(["-l".into(), "exclusive=true".into()]);
            }
            if let Some(g) = spec.gpus_per_node {
                a.extend(["-l".into(), format!("gpu={g}")]);
            }
        }
        Batch::Pbs => {
            a.extend(["-j".into(), "oe".into()]);
            let gpus = spec
                .gpus_per_node
                .map(|g| format!(":ngpus={g}"))
                .unwrap_or_default();
            a.extend(["-l".into(), format!("select=1:host={node}{gpus}")]);
            if spec.shared_read.is_none() {
                a.extend(["-l".into(), "place=excl".into()]);
            }
        }
    }
    a.extend(["-o".into(), log.to_string_lossy().into_owned()]);
    // Node names hold no ',' (host lists split on it), so the list is safe.
    a.extend([
        "-v".into(),
        format!(
            "CRYOCAP_NODE={node},CRYOCAP_TASK={task},CRYOCAP_FIRST={}",
            u8::from(first)
        ),
    ]);
    a.push(script.to_string_lossy().into_owned());
    a
}

/// What `--dry-run` prints: the script, and one `qsub` per node.
pub(crate) fn dry_run(batch: Batch, spec: &JobSpec, script: &Path) -> String {
    let one_line = |t: String| crate::text::printable(&t);
    let mut s = job_script(batch, spec);
    let _ = writeln!(
        s,
        "\n# fleet submit --scheduler {} would write this to {} and run, one job per node:",
        batch.name(),
        one_line(script.display().to_string())
    );
    for task in 0..spec.nodes.len() {
        let cmd: Vec<String> = std::iter::once("qsub".to_string())
            .chain(
                qsub_args(batch, spec, script, task)
                    .iter()
                    .map(|a| shell_quote(a)),
            )
            .collect();
        let _ = writeln!(s, "#   {}", one_line(cmd.join(" ")));
    }
    if batch == Batch::Sge {
        s.push_str(
            "# each with -h (held) until every node's job is in, then released with qrls;\n\
             # states from qstat while listed, then qacct -j (exit_status, failed).\n",
        );
    }
    if batch == Batch::Pbs {
        s.push_str(
            "# Only --dry-run exists for pbs: no PBS server was reachable to test submission and\n\
             # the job states against.\n",
        );
    }
    s
}

#[derive(Debug, thiserror::Error)]
pub enum SgeError {
    #[error(
        "cannot run `{tool}`: {source}; install Grid Engine's client tools (Debian: gridengine-client) or run on a submit host"
    )]
    Missing {
        tool: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {message}")]
    Failed { command: String, message: String },
    #[error("`{command}` printed '{output}', which cryocap cannot read: {reason}")]
    Unreadable {
        command: String,
        output: String,
        reason: String,
    },
}

fn run(tool: &str, args: &[String]) -> Result<String, SgeError> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|source| SgeError::Missing {
            tool: tool.to_string(),
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
    let list = jobs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    run("qdel", &[list]).map(drop)
}

/// Releases held jobs (`qrls`).
pub(crate) fn release(jobs: &[u64]) -> Result<(), SgeError> {
    let list = jobs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    run("qrls", &[list]).map(drop)
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

fn hms_seconds(t: &str) -> Option<u64> {
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

/// Polls until every task is final or `timeout` passes; `on_change` hears
/// each new set of states. Returns the last states and whether all ended.
pub(crate) fn wait(
    jobs: &[u64],
    timeout: Duration,
    on_change: &mut dyn FnMut(&[TaskState]),
) -> Result<(Vec<TaskState>, bool), SgeError> {
    let start = Instant::now();
    let grace = accounting_grace();
    let mut tracker = Tracker::default();
    let mut last: Vec<TaskState> = Vec::new();
    loop {
        let now = task_states(jobs, &mut tracker, grace)?;
        if now != last {
            on_change(&now);
            last = now;
        }
        if last.iter().all(|t| super::slurm::is_final(&t.state)) {
            return Ok((last, true));
        }
        if start.elapsed() >= timeout {
            return Ok((last, false));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The last non-empty line of a job's log, if it has one.
pub(crate) fn log_tail(logs: &Path, job: u64) -> Option<String> {
    let text = crate::files::read_text(
        &logs.join(SGE_LOG_NAME.replace("$JOB_ID", &job.to_string())),
        crate::files::RESULT_LIMIT,
    )
    .ok()?;
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    const HOSTILE: &str = "we'ird $(touch pwned) `id` \"q\" dir";

    fn spec(out_dir: PathBuf, cryocap: PathBuf) -> JobSpec {
        JobSpec {
            nodes: vec!["gpu01".into(), "gpu02".into()],
            out_dir,
            cryocap,
            qualify_args: vec!["--quick".into(), "--dir".into(), format!("/data/{HOSTILE}")],
            gpus_per_node: Some(2),
            time_limit: None,
            job_name: "cryocap-fleet".into(),
            shared_read: None,
        }
    }

    #[test]
    fn one_job_per_node_pinned_to_it() {
        let s = spec("/shared/fleet".into(), "/opt/cryocap".into());
        let p = Path::new("/shared/fleet/.cryocap-fleet/job.sh");
        let sge = qsub_args(Batch::Sge, &s, p, 1).join(" ");
        assert!(sge.contains("-l hostname=gpu02"), "{sge}");
        assert!(sge.contains("-l exclusive=true -l gpu=2"), "{sge}");
        assert!(
            sge.contains("-v CRYOCAP_NODE=gpu02,CRYOCAP_TASK=1,CRYOCAP_FIRST=1"),
            "{sge}"
        );
        let pbs = qsub_args(Batch::Pbs, &s, p, 0).join(" ");
        assert!(
            pbs.contains("-l select=1:host=gpu01:ngpus=2 -l place=excl"),
            "{pbs}"
        );
        assert!(pbs.ends_with(
            "-v CRYOCAP_NODE=gpu01,CRYOCAP_TASK=0,CRYOCAP_FIRST=1 /shared/fleet/.cryocap-fleet/job.sh"
        ));
        let d = dry_run(Batch::Sge, &s, p);
        assert_eq!(d.matches("#   qsub ").count(), 2, "{d}");
    }

    #[test]
    fn scripts_and_dry_runs_are_valid_bash() {
        let dir = tempfile::tempdir().unwrap();
        for b in [Batch::Sge, Batch::Pbs] {
            let s = spec(PathBuf::from(format!("/x/{HOSTILE}")), "/opt/c".into());
            for (name, text) in [
                ("job.sh", job_script(b, &s)),
                ("dry.sh", dry_run(b, &s, Path::new("/x/job.sh"))),
            ] {
                let p = dir.path().join(name);
                std::fs::write(&p, text).unwrap();
                let st = Command::new("bash").arg("-n").arg(&p).status().unwrap();
                assert!(st.success(), "{b:?} {name}");
            }
        }
    }

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

    #[test]
    fn slurm_time_limits_in_seconds() {
        for (t, s) in [
            ("30", Some(1800)),
            ("5:30", Some(330)),
            ("01:00:00", Some(3600)),
            ("1-12", Some(129_600)),
            ("1-00:30", Some(88_200)),
            ("1-00:30:00", Some(88_200)),
            ("UNLIMITED", None),
            ("1:2:3:4", None),
        ] {
            assert_eq!(time_seconds(t), s, "{t}");
        }
        assert_eq!(hms_seconds("00:00:15"), Some(15));
    }

    #[test]
    fn log_dirs_qsub_cannot_take() {
        assert!(log_dir_problem(Path::new("/a:b")).is_some());
        assert!(log_dir_problem(Path::new("/a/$HOME")).is_some());
        assert!(log_dir_problem(Path::new("/a b/'c'")).is_none());
    }

    /// Runs the script as the scheduler would, on this host, in a directory
    /// with a hostile name, against a stand-in cryocap that records its
    /// arguments: each arrives verbatim and nothing in a name runs.
    #[test]
    fn the_script_passes_hostile_names_through_verbatim() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(HOSTILE);
        std::fs::create_dir(&dir).unwrap();
        let fake = dir.join("cryocap");
        std::fs::write(
            &fake,
            "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let here = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        for b in [Batch::Sge, Batch::Pbs] {
            let s = spec(dir.clone(), fake.clone());
            let script = dir.join("job.sh");
            std::fs::write(&script, job_script(b, &s)).unwrap();
            let st = Command::new("bash")
                .arg(&script)
                .current_dir(root.path())
                .env("CRYOCAP_NODE", &here)
                .status()
                .unwrap();
            assert!(st.success(), "{b:?}");
            let args = std::fs::read_to_string(dir.join("args")).unwrap();
            let want = format!(
                "qualify\n--quiet\n--json\n{}/{here}.json\n--quick\n--dir\n/data/{HOSTILE}\n",
                dir.display()
            );
            assert_eq!(args, want);
            assert!(!root.path().join("pwned").exists());
            // elsewhere: refused
            let st = Command::new("bash")
                .arg(&script)
                .env("CRYOCAP_NODE", "not-this-node")
                .status()
                .unwrap();
            assert_eq!(st.code(), Some(3));
        }
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
            let _ = time_seconds(&text);
            let _ = hms_seconds(&text);
        }
    }
}
