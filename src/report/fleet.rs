//! The fleet report as a document: nodes × checks, outliers, the spread of
//! each metric, and what became of every Slurm or Grid Engine task.

use super::document::{Align, Block, Document, Section};
use super::values::value;
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::fleet::{FleetReport, TaskOutcome};

impl Render for FleetReport {
    fn document(&self, _: &Envelope) -> Document {
        document(self)
    }
    /// Each node's verdict per check, each metric's spread, the outliers and
    /// the tasks' outcomes.
    fn csv(&self, w: &mut LongCsv) {
        for n in &self.nodes {
            for (c, v) in self.checks.iter().zip(&n.verdicts) {
                if let Some(v) = v {
                    w.add("node", &n.node, &c.id, v.label(), "");
                }
            }
            w.add("node", &n.node, "failed_checks", n.failed_checks, "checks");
        }
        for (i, line) in self.identity_mismatches.iter().enumerate() {
            w.add("identity", &i.to_string(), "mismatch", line, "");
        }
        for m in &self.metrics {
            w.add("metric", &m.id, "fleet_median", m.fleet_median, &m.unit);
            w.add("metric", &m.id, "min", m.min, &m.unit);
            w.add("metric", &m.id, "max", m.max, &m.unit);
            w.add("metric", &m.id, "nodes", m.nodes, "nodes");
        }
        for o in &self.outliers {
            w.add("outlier", &o.node, &o.metric, o.value, &o.unit);
        }
        for t in &self.tasks {
            let item = format!("task {}", t.task);
            w.add("task", &item, "node", &t.node, "");
            w.add("task", &item, "state", &t.state.state, "");
            w.add("task", &item, "outcome", outcome_label(t.outcome), "");
        }
        if let Some(s) = &self.shared_read {
            for t in &s.tasks {
                let item = format!("task {} {}", t.task, t.node);
                w.add("shared_read_task", &item, "bytes", t.bytes, "bytes");
                w.add("shared_read_task", &item, "seconds", t.seconds, "s");
                w.add(
                    "shared_read_task",
                    &item,
                    "bytes_per_second",
                    t.bytes_per_second,
                    "bytes/s",
                );
            }
            w.add(
                "shared_read",
                "",
                "aggregate_bytes_per_second",
                s.aggregate_bytes_per_second,
                "bytes/s",
            );
            w.add("shared_read", "", "total_bytes", s.total_bytes, "bytes");
            w.add("shared_read", "", "window_seconds", s.window_seconds, "s");
        }
    }
}

fn outcome_label(o: TaskOutcome) -> &'static str {
    match o {
        TaskOutcome::Ran => "ran",
        TaskOutcome::Failed => "FAILED",
        TaskOutcome::NeverRan => "never ran",
        TaskOutcome::NotFinished => "not finished",
    }
}

fn percent(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

fn title(r: &FleetReport) -> String {
    let job = if r.scheduler.job_per_task() {
        let ids: Vec<String> = r.job_ids.iter().map(u64::to_string).collect();
        format!(", {} jobs {}", r.scheduler.label(), ids.join(","))
    } else {
        r.job_id
            .map_or(String::new(), |j| format!(", Slurm job {j}"))
    };
    format!("cryocap fleet report: {} node results{job}", r.nodes.len())
}

fn summary(r: &FleetReport) -> Section {
    let count = |o: TaskOutcome| r.tasks.iter().filter(|t| t.outcome == o).count();
    let mut pairs = vec![("results from".to_string(), r.dir.clone())];
    if !r.tasks.is_empty() {
        pairs.push((
            "tasks".into(),
            format!(
                "{} asked, {} ran, {} failed, {} never ran, {} not finished",
                r.tasks.len(),
                count(TaskOutcome::Ran),
                count(TaskOutcome::Failed),
                count(TaskOutcome::NeverRan),
                count(TaskOutcome::NotFinished)
            ),
        ));
    }
    if let Some(s) = r.completed_after_seconds {
        pairs.push((
            "submission to completion".into(),
            format!(
                "{} ({}'s answer until every task had ended)",
                crate::units::duration(s),
                r.scheduler.submit_tool()
            ),
        ));
    }
    pairs.push((
        "nodes failing a check".into(),
        format!(
            "{} of {}",
            r.nodes.iter().filter(|n| n.failed_checks > 0).count(),
            r.nodes.len()
        ),
    ));
    pairs.push((
        "outliers".into(),
        format!(
            "{} (more than {} worse than the fleet median)",
            r.outliers.len(),
            percent(r.margin)
        ),
    ));
    Section::new("").with(Block::Pairs(pairs))
}

fn checks_table(r: &FleetReport) -> Section {
    let mut headers = vec!["node".to_string()];
    headers.extend(r.checks.iter().map(|c| c.label.clone()));
    headers.push("file".into());
    let rows = r
        .nodes
        .iter()
        .map(|n| {
            let mut row = vec![n.node.clone()];
            row.extend(
                n.verdicts
                    .iter()
                    .map(|v| v.map_or("-".to_string(), |v| v.label().to_string())),
            );
            row.push(n.file.clone());
            row
        })
        .collect();
    let align = vec![Align::Left; headers.len()];
    Section::new("Nodes by checks").with(Block::Table {
        headers,
        align,
        rows,
    })
}

fn outliers(r: &FleetReport) -> Section {
    let title = format!(
        "Outliers: more than {} worse than the fleet median",
        percent(r.margin)
    );
    if r.outliers.is_empty() {
        return Section::new(title).with(Block::Text(
            "None: every node is within the margin on every speed metric.".into(),
        ));
    }
    let rows = r
        .outliers
        .iter()
        .map(|o| {
            vec![
                o.node.clone(),
                o.metric.clone(),
                value(&o.unit, &o.metric, o.value),
                value(&o.unit, &o.metric, o.fleet_median),
                percent(o.shortfall),
            ]
        })
        .collect();
    Section::new(title).with(Block::table(
        &["node", "metric", "node's value", "fleet median", "worse by"],
        "llrrr",
        rows,
    ))
}

fn metrics(r: &FleetReport) -> Section {
    let rows = r
        .metrics
        .iter()
        .map(|m| {
            vec![
                m.label.clone(),
                m.nodes.to_string(),
                value(&m.unit, &m.id, m.fleet_median),
                value(&m.unit, &m.id, m.min),
                value(&m.unit, &m.id, m.max),
            ]
        })
        .collect();
    Section::new("Metrics across the fleet (each node's median)")
        .with(Block::table(&["metric", "nodes", "fleet median", "lowest", "highest"], "lrrrr", rows))
        .with(Block::Text(
            "Outliers are judged on speed metrics only (rates and times), not on sizes such as cores or disk.".into(),
        ))
}

fn tasks(r: &FleetReport) -> Option<Section> {
    if r.tasks.is_empty() {
        return None;
    }
    let rows = r
        .tasks
        .iter()
        .map(|t| {
            let note = if !t.log_tail.is_empty() {
                t.log_tail.clone()
            } else {
                t.state.reason.clone()
            };
            vec![
                t.task.to_string(),
                t.node.clone(),
                t.state.state.clone(),
                if t.state.exit_code.is_empty() {
                    "-".into()
                } else {
                    t.state.exit_code.clone()
                },
                outcome_label(t.outcome).to_string(),
                note,
            ]
        })
        .collect();
    let (section, state) = if r.scheduler.job_per_task() {
        (
            format!("{} jobs (one per task)", r.scheduler.label()),
            "state",
        )
    } else {
        ("Slurm tasks".to_string(), "Slurm state")
    };
    Some(Section::new(section).with(Block::table(
        &[
            "task",
            "node",
            state,
            "exit",
            "outcome",
            "reason / last log line",
        ],
        "rllrll",
        rows,
    )))
}

/// All tasks reading the shared stacks at once: the aggregate the shared
/// file system delivered, and each task's rate and share of it.
fn shared_read(r: &FleetReport) -> Option<Section> {
    let s = r.shared_read.as_ref()?;
    use crate::units::{bytes_decimal, rate_decimal};
    // Reads of a few seconds: whole seconds would hide the skew that matters.
    let duration = |secs: f64| format!("{secs:.2} s");
    let overlap = if s.overlap_seconds > 0.0 {
        format!(
            "{} (every task reading at once)",
            duration(s.overlap_seconds)
        )
    } else {
        "none: the read windows did not overlap, so the aggregate understates what the file system can do together".into()
    };
    let pairs = vec![
        (
            "aggregate throughput".to_string(),
            format!(
                "{} ({} read by {} task(s) in {}, earliest start to latest end)",
                rate_decimal(s.aggregate_bytes_per_second),
                bytes_decimal(s.total_bytes),
                s.tasks.len(),
                duration(s.window_seconds)
            ),
        ),
        ("overlap of all read windows".to_string(), overlap),
        (
            "reads".to_string(),
            if s.all_direct {
                "O_DIRECT (no page cache)".to_string()
            } else {
                "some buffered (the file system refused O_DIRECT): tasks on one node may share its page cache".to_string()
            },
        ),
    ];
    let rows = s
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.task.to_string(),
                t.node.clone(),
                bytes_decimal(t.bytes),
                format!("+{:.3} s", t.start_offset_seconds),
                duration(t.seconds),
                rate_decimal(t.bytes_per_second),
                percent(t.share),
            ]
        })
        .collect();
    Some(
        Section::new("Shared storage under load: all tasks reading the same stacks at once")
            .with(Block::Pairs(pairs))
            .with(Block::table(&["task", "node", "read", "start", "took", "node's rate", "share"], "rlrrrrr", rows))
            .with(Block::Text(
                "Each task's rate is its bytes over its own window; the aggregate is all bytes over the window from the first start to the last end, the rate the shared file system fed the partition at.".into(),
            )),
    )
}

fn document(r: &FleetReport) -> Document {
    let mut sections = vec![summary(r), checks_table(r), outliers(r), metrics(r)];
    if let Some(line) = &r.identity {
        let mut sec = Section::new("Shared directory and user").with(Block::Text(line.clone()));
        if !r.identity_mismatches.is_empty() {
            sec = sec.with(Block::Bullets(r.identity_mismatches.clone()));
        }
        sections.push(sec);
    }
    sections.extend(shared_read(r));
    sections.extend(tasks(r));
    if !r.missing.is_empty() {
        sections
            .push(Section::new("Nodes without results").with(Block::Bullets(r.missing.clone())));
    }
    if !r.skipped.is_empty() {
        sections.push(Section::new("Files skipped").with(Block::Bullets(r.skipped.clone())));
    }
    Document {
        title: title(r),
        sections,
    }
}
