//! `cryocap fleet submit` and `cryocap fleet report`: the steps in order.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::FleetError;
use super::report::{self as fleet_report, submission_path};
use super::script::{self, JobSpec, fleet_dir, shell_quote};
use super::slurm;
use crate::app::Outcome;
use crate::config::fleet::{FleetReportConfig, FleetSubmitConfig, Targets};
use crate::output::write_atomic;
use crate::report::fleet_doc;
use crate::results::SCHEMA_VERSION;
use crate::results::fleet::TaskState;
use crate::results::fleet::{FleetReport, Submission};

fn outcome(r: &FleetReport) -> Outcome {
    if r.failed() {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    }
}

fn save(out_dir: &Path, s: &Submission) -> Result<(), FleetError> {
    let json = serde_json::to_string_pretty(s).map_err(|e| FleetError::Other(e.to_string()))?;
    write_atomic(&submission_path(out_dir), (json + "\n").as_bytes())?;
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

fn state_line(job: u64, tasks: &[TaskState]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for t in tasks {
        match counts.iter_mut().find(|(s, _)| *s == t.state) {
            Some((_, n)) => *n += 1,
            None => counts.push((t.state.clone(), 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!("fleet: job {job}: {}", parts.join(", "))
}

/// Runs the fleet; returns the outcome and what to print on stdout (the
/// script on `--dry-run`, else the fleet report).
pub fn submit(cfg: &FleetSubmitConfig) -> Result<(Outcome, String), FleetError> {
    let nodes = match &cfg.targets {
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
    };
    let cryocap = std::env::current_exe()
        .map_err(|e| FleetError::Other(format!("cannot find the cryocap binary itself: {e}")))?;
    let spec = JobSpec {
        nodes: nodes.clone(),
        out_dir: cfg.out_dir.clone(),
        cryocap,
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
    let script_path = fleet_dir(&cfg.out_dir).join("job.sh");
    let text = script::job_script(&spec);
    let sbatch_args = script::sbatch_args(&spec, &script_path);

    if cfg.dry_run {
        let cmd: Vec<String> = std::iter::once("sbatch".to_string())
            .chain(sbatch_args.iter().map(|a| shell_quote(a)))
            .collect();
        let printed = format!(
            "{text}\n# fleet submit would write this to {} and run:\n#   {}\n# then pin task i to nodes[i] (scontrol update JobId=ID_i ReqNodeList=NODE) and release it.\n",
            script_path.display(),
            cmd.join(" ")
        );
        return Ok((Outcome::Ok, printed));
    }

    let logs = fleet_dir(&cfg.out_dir).join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| FleetError::Dir {
        path: cfg.out_dir.clone(),
        reason: format!("cannot create it: {e}"),
    })?;
    check_fresh(&cfg.out_dir, &nodes)?;
    write_atomic(&script_path, text.as_bytes())?;

    let show = !cfg.quiet && std::io::stderr().is_terminal();
    let job = slurm::sbatch(&sbatch_args)?;
    let submitted = Instant::now();
    let mut record = Submission {
        schema_version: SCHEMA_VERSION,
        kind: "fleet-submission".into(),
        job_id: job,
        nodes: nodes.clone(),
        submitted_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        completed_after_seconds: None,
        tasks: Vec::new(),
    };
    save(&cfg.out_dir, &record)?;
    if !cfg.quiet {
        eprintln!(
            "fleet: submitted job {job}: {} tasks on {}; waiting up to {}",
            nodes.len(),
            nodes.join(","),
            crate::units::duration(cfg.timeout.as_secs_f64())
        );
    }
    let pinned = nodes
        .iter()
        .enumerate()
        .try_for_each(|(i, n)| slurm::pin_task(job, i, n))
        .and_then(|_| slurm::release(job));
    if let Err(e) = pinned {
        let _ = slurm::cancel(job);
        return Err(FleetError::Other(format!(
            "{e}; job {job} was cancelled before any task ran"
        )));
    }

    let (tasks, done) = slurm::wait(job, nodes.len(), cfg.timeout, &mut |t| {
        if show {
            eprintln!("{}", state_line(job, t));
        }
    })?;
    record.tasks = tasks;
    if done {
        record.completed_after_seconds = Some(submitted.elapsed().as_secs_f64());
    }
    save(&cfg.out_dir, &record)?;
    if !done {
        return Err(FleetError::Other(format!(
            "--timeout: job {job} had not ended after {} ({}); it stays queued: run `cryocap fleet report {}` later, or `scancel {job}`",
            crate::units::duration(cfg.timeout.as_secs_f64()),
            state_line(job, &record.tasks).trim_start_matches("fleet: "),
            shell_quote(&cfg.out_dir.to_string_lossy())
        )));
    }
    let report = fleet_report::build(&cfg.out_dir, 0.20)?;
    Ok((outcome(&report), fleet_doc::document(&report).to_text()))
}

/// What `fleet report` writes where.
pub struct ReportOutputs<'a> {
    pub html: Option<&'a Path>,
    pub markdown: Option<&'a Path>,
    pub json: Option<&'a Path>,
    pub format: crate::report::Format,
}

pub fn report(
    cfg: &FleetReportConfig,
    outputs: &ReportOutputs,
) -> Result<(Outcome, String), FleetError> {
    let r = fleet_report::build(&cfg.dir, cfg.margin)?;
    let doc = fleet_doc::document(&r);
    let json =
        serde_json::to_string_pretty(&r).map_err(|e| FleetError::Other(e.to_string()))? + "\n";
    if let Some(p) = outputs.html {
        write_atomic(p, doc.to_html().as_bytes())?;
    }
    if let Some(p) = outputs.markdown {
        write_atomic(p, doc.to_markdown().as_bytes())?;
    }
    if let Some(p) = outputs.json {
        write_atomic(p, json.as_bytes())?;
    }
    let text = match outputs.format {
        crate::report::Format::Json => json,
        crate::report::Format::Markdown => doc.to_markdown(),
        _ => doc.to_text(),
    };
    Ok((outcome(&r), text))
}

/// One task's barrier and shared read; the line it prints goes to the
/// task's log.
pub fn shared_read(spec: &super::shared_read::TaskSpec) -> Result<(Outcome, String), FleetError> {
    let r = super::shared_read::run_task(spec)?;
    let secs = r.end_unix - r.start_unix;
    Ok((
        Outcome::Ok,
        format!(
            "fleet shared-read: {} task {}: {} from {} files in {} ({}, {}), after {} at the barrier\n",
            r.node,
            r.task,
            crate::units::bytes_decimal(r.bytes),
            r.files,
            crate::units::duration(secs),
            crate::units::rate_decimal(if secs > 0.0 {
                r.bytes as f64 / secs
            } else {
                0.0
            }),
            if r.direct { "O_DIRECT" } else { "buffered" },
            crate::units::duration(r.barrier_wait_seconds)
        ),
    ))
}
