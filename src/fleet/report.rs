//! Merging `SHARED_DIR/<node>.json` qualify results into one fleet report:
//! nodes × checks, each metric's spread, outliers below the fleet median,
//! and what became of every task of the job.

use std::path::{Path, PathBuf};

use super::scheduler::{Jobs, SchedulerKind, Tracker, backend, is_final};
use super::script::fleet_dir;
use crate::results::Kind;
use crate::results::fleet::TaskState;
use crate::results::fleet::{
    CheckColumn, FleetReport, MetricSpread, NodeRow, Outlier, Submission, TaskOutcome, TaskRow,
};
use crate::results::metrics::{Better, median};
use crate::results::qualify::Verdict;
use crate::results::qualify::{NodeIdentity, QualifyReport};

#[derive(Debug, thiserror::Error)]
pub enum FleetReportError {
    #[error("{path}: cannot read the shared directory: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot read the fleet submission record: {reason}")]
    Submission { path: PathBuf, reason: String },
    #[error(
        "{path} holds no qualify results (*.json) and no fleet submission; give the --out-dir of `cryocap fleet submit`"
    )]
    Empty { path: PathBuf },
}

/// The submission record's path inside a shared directory.
pub fn submission_path(out_dir: &Path) -> PathBuf {
    fleet_dir(out_dir).join("submission.json")
}

pub fn read_submission(out_dir: &Path) -> Result<Option<Submission>, FleetReportError> {
    let path = submission_path(out_dir);
    let text = match crate::files::read_text(&path, crate::files::RESULT_LIMIT) {
        Ok(t) => t,
        Err(crate::files::FileError::Missing { .. }) => return Ok(None),
        Err(e) => {
            return Err(FleetReportError::Submission {
                path,
                reason: e.reason(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| FleetReportError::Submission {
            path,
            reason: e.to_string(),
        })
}

/// One node's qualify results, read from the shared directory.
#[derive(Debug, Clone)]
pub struct NodeResult {
    /// The results file, relative to the shared directory.
    pub file: String,
    /// The node it ran on, as the file records it.
    pub node: String,
    pub report: QualifyReport,
}

/// Qualify results by file name, and the files skipped with why.
pub type DirResults = (Vec<NodeResult>, Vec<String>);

/// Reads every `*.json` in the directory that is a qualify result; other
/// files are listed as skipped with the reason.
pub fn read_results(out_dir: &Path) -> Result<DirResults, FleetReportError> {
    let dir_err = |source| FleetReportError::Dir {
        path: out_dir.to_path_buf(),
        source,
    };
    let mut names: Vec<String> = std::fs::read_dir(out_dir)
        .map_err(dir_err)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".json")
                && !n.starts_with('.')
                && !n.ends_with(super::shared_read::RESULT_SUFFIX)
        })
        .collect();
    names.sort();
    let (mut results, mut skipped) = (Vec::new(), Vec::new());
    for name in names {
        match crate::files::read_result(&out_dir.join(&name)) {
            Ok(r) => match r.kind {
                Kind::Qualify(report) => results.push(NodeResult {
                    file: name,
                    node: r.node,
                    report,
                }),
                other => skipped.push(format!(
                    "{name}: a {} result, not qualify results",
                    other.name()
                )),
            },
            Err(e) => skipped.push(format!("{name}: not qualify results ({e})")),
        }
    }
    Ok((results, skipped))
}

/// How a task came out, from its final state and whether its node's
/// results file is there.
pub fn outcome(state: &TaskState, has_result: bool) -> TaskOutcome {
    if !is_final(&state.state) {
        TaskOutcome::NotFinished
    } else if state.state == "COMPLETED" && has_result {
        TaskOutcome::Ran
    } else if state.ran_on.is_empty() && state.state != "COMPLETED" {
        TaskOutcome::NeverRan
    } else {
        TaskOutcome::Failed
    }
}

/// Metrics that say how fast a node is (not facts such as core counts or
/// disk sizes, where "below the median" is a different node, not a slow one).
fn is_performance(unit: &str) -> bool {
    matches!(
        unit,
        "bytes_per_second" | "seconds" | "particles_per_second" | "flops" | "bits_per_second"
    )
}

/// The checks any node ran, in first-seen order.
fn check_columns(results: &[NodeResult]) -> Vec<CheckColumn> {
    let mut checks: Vec<CheckColumn> = Vec::new();
    for r in results.iter().map(|n| &n.report) {
        for c in &r.checks {
            if !checks.iter().any(|k| k.id == c.id) {
                checks.push(CheckColumn {
                    id: c.id.clone(),
                    label: c.label.clone(),
                });
            }
        }
    }
    checks
}

/// One row per node: its verdict and details in each check's column.
fn node_rows(results: &[NodeResult], checks: &[CheckColumn]) -> Vec<NodeRow> {
    results
        .iter()
        .map(|n| {
            let find = |k: &CheckColumn| n.report.checks.iter().find(|c| c.id == k.id);
            NodeRow {
                node: n.node.clone(),
                file: n.file.clone(),
                verdicts: checks.iter().map(|k| find(k).map(|c| c.verdict)).collect(),
                failed_checks: n
                    .report
                    .checks
                    .iter()
                    .filter(|c| c.verdict == Verdict::Fail)
                    .count(),
                details: checks.iter().map(|k| find(k).cloned()).collect(),
            }
        })
        .collect()
}

/// Each metric's spread over the nodes, and the nodes more than `margin`
/// worse than the fleet median on a performance metric.
fn spreads(results: &[NodeResult], margin: f64) -> (Vec<MetricSpread>, Vec<Outlier>) {
    let mut metrics = Vec::new();
    let mut outliers = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for r in results.iter().map(|n| &n.report) {
        for m in &r.metrics {
            if !ids.contains(&m.id.as_str()) {
                ids.push(&m.id);
            }
        }
    }
    for id in ids {
        let per_node: Vec<(&str, &crate::results::metrics::Metric)> = results
            .iter()
            .filter_map(|n| {
                n.report
                    .metrics
                    .iter()
                    .find(|m| m.id == id && m.value.is_finite())
                    .map(|m| (n.node.as_str(), m))
            })
            .collect();
        let Some((_, first)) = per_node.first() else {
            continue;
        };
        let values: Vec<f64> = per_node.iter().map(|(_, m)| m.value).collect();
        let fleet_median = median(&values);
        metrics.push(MetricSpread {
            id: id.to_string(),
            label: first.label.clone(),
            unit: first.unit.clone(),
            fleet_median,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            nodes: values.len(),
        });
        if !is_performance(&first.unit) || per_node.len() < 2 || fleet_median == 0.0 {
            continue;
        }
        for (node, m) in &per_node {
            let shortfall = match m.better {
                Better::Higher => (fleet_median - m.value) / fleet_median,
                Better::Lower => (m.value - fleet_median) / fleet_median,
            };
            if shortfall > margin {
                outliers.push(Outlier {
                    node: node.to_string(),
                    metric: id.to_string(),
                    unit: m.unit.clone(),
                    value: m.value,
                    fleet_median,
                    shortfall,
                });
            }
        }
    }
    (metrics, outliers)
}

/// Each task of the job with how it came out, and the nodes asked for that
/// wrote no results.
fn task_rows(
    s: &Submission,
    results: &[NodeResult],
    logs: &dyn Fn(u64, u32) -> Option<String>,
) -> (Vec<TaskRow>, Vec<String>) {
    // Tasks write `<node>.json` under the name the scheduler knows the node
    // by, which may differ from the host name qualify records inside.
    let has_result = |node: &str| {
        let file = format!("{node}.json");
        results.iter().any(|n| n.file == file)
    };
    let tasks: Vec<TaskRow> = s
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let state = s
                .tasks
                .iter()
                .find(|t| t.task as usize == i)
                .cloned()
                .unwrap_or(TaskState {
                    task: i as u32,
                    state: "UNKNOWN".into(),
                    reason: "not in the submission record".into(),
                    ran_on: String::new(),
                    exit_code: String::new(),
                });
            let outcome = outcome(&state, has_result(node));
            let log_tail = match outcome {
                TaskOutcome::Failed => logs(s.job_id, i as u32).unwrap_or_default(),
                _ => String::new(),
            };
            TaskRow {
                task: i as u32,
                node: node.clone(),
                state,
                outcome,
                log_tail,
            }
        })
        .collect();
    let mut missing: Vec<String> = Vec::new();
    for n in &s.nodes {
        if !has_result(n) && !missing.contains(n) {
            missing.push(n.clone());
        }
    }
    (tasks, missing)
}

/// Merges the nodes' results and the job record into the report.
pub fn merge(
    dir: &str,
    results: &[NodeResult],
    submission: Option<&Submission>,
    logs: &dyn Fn(u64, u32) -> Option<String>,
    margin: f64,
    skipped: Vec<String>,
) -> FleetReport {
    let checks = check_columns(results);
    let nodes = node_rows(results, &checks);
    let (metrics, outliers) = spreads(results, margin);
    let (tasks, missing) =
        submission.map_or((Vec::new(), Vec::new()), |s| task_rows(s, results, logs));
    let seen: Vec<(&str, &NodeIdentity)> = results
        .iter()
        .filter_map(|n| n.report.identity.as_ref().map(|i| (n.node.as_str(), i)))
        .collect();
    let (identity, identity_mismatches) = compare_identities(&seen);
    FleetReport {
        dir: dir.to_string(),
        job_id: submission.map(|s| s.job_id),
        scheduler: submission.map(|s| s.scheduler).unwrap_or_default(),
        job_ids: submission.map(|s| s.job_ids.clone()).unwrap_or_default(),
        completed_after_seconds: submission.and_then(|s| s.completed_after_seconds),
        margin,
        checks,
        nodes,
        metrics,
        outliers,
        tasks,
        missing,
        skipped,
        shared_read: None,
        identity,
        identity_mismatches,
    }
}

/// The most common value of `key` over `items` (the first seen on ties).
fn most_common<T, K: PartialEq + Clone>(items: &[T], key: impl Fn(&T) -> K) -> Option<K> {
    let mut counts: Vec<(K, usize)> = Vec::new();
    for i in items {
        let k = key(i);
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(k, _)| k)
}

/// Compares what the nodes' deployment checks saw: the same token file
/// (inode and content; device numbers are per client on NFS, so they are
/// shown, not compared) and the same UID as most nodes. Returns the
/// fleet's line and one line per node that differs.
pub fn compare_identities(nodes: &[(&str, &NodeIdentity)]) -> (Option<String>, Vec<String>) {
    if nodes.is_empty() {
        return (None, Vec::new());
    }
    let token_key =
        |(_, i): &(&str, &NodeIdentity)| i.token.as_ref().map(|t| (t.inode, t.content.clone()));
    let uid = most_common(nodes, |(_, i)| i.uid);
    let token = most_common(nodes, token_key).flatten();
    let mut odd = Vec::new();
    for n in nodes {
        let (name, i) = n;
        match (&i.token, &token) {
            (None, Some(_)) => odd.push(format!(
                "{name}: could not read the shared token file: it does not see the shared directory"
            )),
            (Some(t), Some((inode, content))) if (t.inode, &t.content) != (*inode, content) => {
                odd.push(format!(
                    "{name}: sees another file at {} (inode {}, token {}) than most nodes (inode {inode}): a different file system is mounted there",
                    t.path, t.inode, t.content
                ))
            }
            _ => {}
        }
        if Some(i.uid) != uid {
            odd.push(format!(
                "{name}: ran as UID {} where most nodes ran as UID {}: the user must have one UID on every node (seed 003)",
                i.uid,
                uid.unwrap_or_default()
            ));
        }
    }
    let line = match &token {
        Some((inode, _)) => format!(
            "{} of {} node(s) see the shared token file as inode {inode} and run as UID {}",
            nodes
                .iter()
                .filter(|n| token_key(n).as_ref().map(|k| k.0) == Some(*inode))
                .count(),
            nodes.len(),
            uid.unwrap_or_default()
        ),
        None => format!(
            "no node read a shared token file; {} node(s) run as UID {}",
            nodes.len(),
            uid.unwrap_or_default()
        ),
    };
    (Some(line), odd)
}

/// The jobs a submission record names.
fn jobs_of(s: &Submission) -> Jobs {
    Jobs {
        first: s.job_id,
        per_task: s.job_ids.clone(),
    }
}

/// Reads a shared directory and merges it. Task states come from the
/// submission record; where it still shows unfinished tasks (submit timed
/// out or was interrupted) and Slurm answers, they are read again.
pub fn build(out_dir: &Path, margin: f64) -> Result<FleetReport, FleetReportError> {
    let (results, mut skipped) = read_results(out_dir)?;
    let (reads, unread) = super::shared_read::read_results(out_dir);
    skipped.extend(unread);
    let mut submission = read_submission(out_dir)?;
    if let Some(s) = submission.as_mut()
        && s.tasks.iter().any(|t| !is_final(&t.state))
    {
        let now = backend(s.scheduler)
            .task_states(&jobs_of(s), s.nodes.len(), &mut Tracker::default())
            .ok();
        if let Some(now) = now {
            s.tasks = now;
        }
    }
    if results.is_empty() && submission.is_none() && reads.is_empty() {
        return Err(FleetReportError::Empty {
            path: out_dir.to_path_buf(),
        });
    }
    let logs_dir = fleet_dir(out_dir).join("logs");
    let mut report = merge(
        &out_dir.display().to_string(),
        &results,
        submission.as_ref(),
        &|job, task| match submission.as_ref() {
            Some(s) => backend(s.scheduler).log_tail(&logs_dir, &jobs_of(s), task),
            None => backend(SchedulerKind::Slurm).log_tail(
                &logs_dir,
                &Jobs {
                    first: job,
                    per_task: Vec::new(),
                },
                task,
            ),
        },
        margin,
        skipped,
    );
    report.shared_read = super::shared_read::summarise(&reads);
    Ok(report)
}

#[cfg(test)]
mod tests {

    #[test]
    fn nodes_that_see_another_token_or_uid_are_named() {
        use crate::results::qualify::TokenSeen;
        let who = |uid: u32, inode: Option<u64>| NodeIdentity {
            uid,
            token: inode.map(|inode| TokenSeen {
                path: "/shared/out/.cryocap-fleet/shared-token".into(),
                inode,
                device: "0:52".into(),
                content: if inode == 7 {
                    "cryocap fleet token ab"
                } else {
                    "other"
                }
                .into(),
            }),
        };
        let (a, b, c, d) = (
            who(1000, Some(7)),
            who(1000, Some(7)),
            who(1001, Some(9)),
            who(1000, None),
        );
        let (line, odd) =
            compare_identities(&[("gpu01", &a), ("gpu02", &b), ("gpu03", &c), ("gpu04", &d)]);
        assert_eq!(
            line.unwrap(),
            "2 of 4 node(s) see the shared token file as inode 7 and run as UID 1000"
        );
        assert_eq!(odd.len(), 3, "{odd:?}");
        assert!(odd[0].starts_with("gpu03: sees another file") && odd[0].contains("inode 9"));
        assert!(odd[1].starts_with("gpu03: ran as UID 1001 where most nodes ran as UID 1000"));
        assert!(odd[2].starts_with("gpu04: could not read the shared token file"));
        // all alike: one line, nothing flagged
        let (line, odd) = compare_identities(&[("gpu01", &a), ("gpu02", &b)]);
        assert!(line.unwrap().starts_with("2 of 2 node(s)"));
        assert!(odd.is_empty());
        assert_eq!(compare_identities(&[]), (None, Vec::new()));
    }
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/qualify-vm.json");

    fn node(name: &str, bandwidth_scale: f64) -> NodeResult {
        let env = crate::results::read::parse(Path::new("q.json"), FIXTURE).unwrap();
        let Kind::Qualify(mut report) = env.kind else {
            panic!("a qualify fixture")
        };
        for m in &mut report.metrics {
            if m.id == "memory_bandwidth" {
                m.value *= bandwidth_scale;
            }
        }
        NodeResult {
            file: format!("{name}.json"),
            node: name.into(),
            report,
        }
    }

    fn task(i: u32, state: &str, ran_on: &str) -> TaskState {
        TaskState {
            task: i,
            state: state.into(),
            reason: String::new(),
            ran_on: ran_on.into(),
            exit_code: "0:0".into(),
        }
    }

    #[test]
    fn slow_node_is_an_outlier_and_tasks_are_classified() {
        let results = vec![node("a", 1.0), node("b", 1.02), node("c", 0.7)];
        let sub = Submission {
            schema_version: crate::results::fleet::FLEET_STATE_VERSION,
            kind: "fleet-submission".into(),
            job_id: 9,
            scheduler: SchedulerKind::Slurm,
            job_ids: Vec::new(),
            nodes: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
            submitted_at: 0,
            completed_after_seconds: Some(3.0),
            tasks: vec![
                task(0, "COMPLETED", "a"),
                task(1, "COMPLETED", "b"),
                task(2, "COMPLETED", "c"),
                task(3, "FAILED", "d"),
                task(4, "CANCELLED", ""),
            ],
        };
        let logs = |job: u64, t: u32| Some(format!("log of {job}_{t}"));
        let r = merge("dir", &results, Some(&sub), &logs, 0.2, vec![]);
        assert_eq!(r.nodes.len(), 3);
        assert_eq!(r.checks.len(), results[0].report.checks.len());
        assert_eq!(r.outliers.len(), 1, "{:?}", r.outliers);
        assert_eq!(
            (r.outliers[0].node.as_str(), r.outliers[0].metric.as_str()),
            ("c", "memory_bandwidth")
        );
        assert!((r.outliers[0].shortfall - 0.3).abs() < 1e-9);
        let outcomes: Vec<TaskOutcome> = r.tasks.iter().map(|t| t.outcome).collect();
        assert_eq!(
            outcomes,
            [
                TaskOutcome::Ran,
                TaskOutcome::Ran,
                TaskOutcome::Ran,
                TaskOutcome::Failed,
                TaskOutcome::NeverRan
            ]
        );
        assert_eq!(r.tasks[3].log_tail, "log of 9_3");
        assert_eq!(r.missing, ["d", "e"]);
        assert!(r.failed());
        // Core counts and disk sizes differ between node types; never outliers.
        assert!(
            r.outliers
                .iter()
                .all(|o| o.unit != "cores" && o.unit != "bytes")
        );
        // A wider margin lets the slow node pass.
        let wide = merge("dir", &results, None, &logs, 0.35, vec![]);
        assert!(wide.outliers.is_empty() && wide.tasks.is_empty());
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            outcome(&task(0, "RUNNING", "a"), false),
            TaskOutcome::NotFinished
        );
        assert_eq!(
            outcome(&task(0, "COMPLETED", "a"), false),
            TaskOutcome::Failed
        );
        assert_eq!(outcome(&task(0, "TIMEOUT", "a"), true), TaskOutcome::Failed);
        assert_eq!(
            outcome(&task(0, "UNKNOWN", ""), false),
            TaskOutcome::NeverRan
        );
    }

    #[test]
    fn reads_only_qualify_results() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n1.json"), FIXTURE).unwrap();
        std::fs::write(dir.path().join("junk.json"), "{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let (res, skipped) = read_results(dir.path()).unwrap();
        assert_eq!(res.len(), 1);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].starts_with("junk.json: not qualify results"));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            build(empty.path(), 0.2),
            Err(FleetReportError::Empty { .. })
        ));
    }
}
