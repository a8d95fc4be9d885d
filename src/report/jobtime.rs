//! `jobs predict` and `jobs validate` as documents and CSV.

use super::document::{Block, Document, Section};
use super::{LongCsv, Render};
use crate::results::Envelope;
use crate::results::jobtime::{JobPredictReport, JobValidateReport, RowCheck};
use crate::units::{duration, group_digits};

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:+.0} %"))
        .unwrap_or_else(|| "–".into())
}

fn abs_pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0} %")).unwrap_or_else(|| "–".into())
}

fn secs(v: Option<f64>) -> String {
    v.map(duration).unwrap_or_else(|| "–".into())
}

impl Render for JobPredictReport {
    fn document(&self, _: &Envelope) -> Document {
        let r = self;
        let p = &r.prediction;
        let mut pairs = vec![
            (
                "job".to_string(),
                format!(
                    "{} ({}): {} particles, box {}, working at {:.0} px{}",
                    r.job,
                    r.job_label,
                    group_digits(r.particles),
                    r.box_size,
                    r.image_size,
                    if r.image_size_given {
                        ""
                    } else {
                        " (the job type's default share of the box)"
                    }
                ),
            ),
            (
                "work".to_string(),
                format!(
                    "{} class(es), {} {}(s), symmetry order {}",
                    r.classes, r.iterations, r.unit, r.symmetry_order
                ),
            ),
            ("on".to_string(), r.device.clone()),
            (
                "time".to_string(),
                format!(
                    "{} (90 % interval {} to {})",
                    duration(p.seconds),
                    duration(p.low),
                    duration(p.high)
                ),
            ),
            ("compute".to_string(), duration(r.compute_seconds)),
        ];
        if let (Some(s), Some(t)) = (r.io_seconds, &r.io_tier) {
            pairs.push((
                "reading".to_string(),
                format!(
                    "{} from {t} ({})",
                    duration(s),
                    if r.io_overlapped {
                        "overlapped with compute"
                    } else {
                        "added to compute"
                    }
                ),
            ));
        }
        if let (Some(s), Some(c)) = (r.copy_seconds, &r.copy) {
            pairs.push(("copy first".to_string(), format!("{} ({c})", duration(s))));
        }
        pairs.push(("bottleneck".to_string(), r.bottleneck.clone()));
        pairs.push(("model".to_string(), r.basis.clone()));
        pairs.push(("calibrated by".to_string(), p.calibrated_by.join(", ")));
        let mut sec = Section::new("Prediction").with(Block::Pairs(pairs));
        let mut notes = p.extrapolation.clone();
        notes.extend(r.notes.iter().cloned());
        if !notes.is_empty() {
            sec.blocks.push(Block::Bullets(notes));
        }
        Document {
            title: format!("cryocap jobs predict: {} on {}", r.job, r.device),
            sections: vec![sec],
        }
    }

    fn csv(&self, w: &mut LongCsv) {
        let p = &self.prediction;
        for (metric, v) in [
            ("seconds", p.seconds),
            ("low", p.low),
            ("high", p.high),
            ("compute_seconds", self.compute_seconds),
        ] {
            w.add("prediction", &self.job, metric, v.to_string(), "s");
        }
        if let Some(s) = self.io_seconds {
            w.add("prediction", &self.job, "io_seconds", s.to_string(), "s");
        }
        if let Some(s) = self.copy_seconds {
            w.add("prediction", &self.job, "copy_seconds", s.to_string(), "s");
        }
    }
}

fn row_cells(r: &RowCheck) -> Vec<String> {
    vec![
        r.id.clone(),
        r.device.clone(),
        r.status.clone(),
        duration(r.actual_seconds),
        secs(r.predicted_seconds),
        pct(r.error_pct),
        match r.covered {
            Some(true) => "yes".into(),
            Some(false) => "NO".into(),
            None => r.note.clone().unwrap_or_default(),
        },
    ]
}

fn model_section(r: &JobValidateReport) -> Section {
    let m = &r.model;
    let rows = m
        .jobs
        .iter()
        .map(|j| {
            vec![
                j.job.clone(),
                j.rows.to_string(),
                format!("{:.3}", j.log_scale),
                format!(
                    "{:.2}{}",
                    j.serial_fraction,
                    if j.serial_fitted { "" } else { " (borrowed)" }
                ),
                format!("×/÷ {:.2}", j.spread.exp()),
                format!(
                    "×/÷ {:.1}",
                    j.new_dataset_spread.unwrap_or(m.dataset_spread).exp()
                ),
                j.gpus.join(" "),
            ]
        })
        .collect();
    Section::new("Fitted model")
        .with(Block::Pairs(vec![
            ("fitted to".to_string(), m.basis.clone()),
            (
                "GPU throughput".to_string(),
                format!(
                    "(bandwidth ÷ 900 GB/s)^{:.2} × (FP32 ÷ 14 TFLOPS)^{:.2} × (RELION followers ÷ 2, at most 1)^{:.2}",
                    m.bandwidth_exponent, m.fp32_exponent, m.follower_exponent
                ),
            ),
            (
                "one CPU core".to_string(),
                format!(
                    "{:.4} V100 (RELION --cpu), {:.4} V100 (plain code)",
                    m.core_accelerated, m.core_plain
                ),
            ),
            (
                "interval widening".to_string(),
                format!(
                    "uncalibrated GPU +{:.2}, a dataset new to a job type without its own leave-one-dataset-out figure {:.2} (ln units)",
                    m.gpu_spread, m.dataset_spread
                ),
            ),
        ]))
        .with(Block::table(
            &[
                "job",
                "rows",
                "ln scale",
                "serial",
                "90 % interval",
                "new dataset",
                "GPUs calibrated",
            ],
            "lrrrrrl",
            rows,
        ))
}

/// One row of a leave-out error table: its leading cells, its median
/// error as printed, its worst |error| and the share of its rows inside the
/// interval.
struct ErrorRow {
    lead: Vec<String>,
    median: String,
    worst: Option<f64>,
    coverage: Option<f64>,
}

/// A table of leave-out errors: the leading columns (headed `lead`,
/// aligned `lead_align`), then the median error (headed `median`), worst
/// |error| and in-interval columns every such table ends with.
fn errors_table(lead: &[&str], lead_align: &str, median: &str, rows: Vec<ErrorRow>) -> Block {
    let mut headers = lead.to_vec();
    headers.extend([median, "worst |error|", "in interval"]);
    let rows = rows
        .into_iter()
        .map(|r| {
            let mut cells = r.lead;
            cells.extend([r.median, abs_pct(r.worst), abs_pct(r.coverage)]);
            cells
        })
        .collect();
    Block::table(&headers, &format!("{lead_align}rrr"), rows)
}

/// Leave one dataset out: what a dataset new to the calibration meets.
fn new_datasets_section(v: &crate::results::jobtime::Validation) -> Section {
    let rows = v
        .new_datasets
        .iter()
        .map(|d| ErrorRow {
            lead: vec![d.job.clone(), d.dataset.clone(), d.rows.to_string()],
            median: pct(d.median_error_pct),
            worst: d.worst_abs_error_pct,
            coverage: d.coverage_pct,
        })
        .collect();
    Section::new("A dataset new to the calibration (leave one dataset out)")
        .with(Block::Text(
            "Each dataset's rows predicted by the model fitted without any of them, as `jobs predict` times a dataset it does not know: at the centre of the job type's other datasets, with the interval widened for the spread between datasets.".into(),
        ))
        .with(errors_table(&["job", "dataset", "rows"], "llr", "median error", rows))
}

impl Render for JobValidateReport {
    fn document(&self, _: &Envelope) -> Document {
        let v = &self.validation;
        let summary = v
            .jobs
            .iter()
            .map(|j| ErrorRow {
                lead: vec![j.job.clone(), j.rows.to_string(), j.predicted.to_string()],
                median: abs_pct(j.median_abs_error_pct),
                worst: j.worst_abs_error_pct,
                coverage: j.coverage_pct,
            })
            .collect();
        let lead = ["job", "rows", "predicted"];
        let mut sections = vec![
            Section::new("Leave-one-out error by job type").with(errors_table(
                &lead,
                "lrr",
                "median |error|",
                summary,
            )),
        ];
        if !v.new_datasets.is_empty() {
            sections.push(new_datasets_section(v));
        }
        let mut jobs: Vec<&str> = v.rows.iter().map(|r| r.job.as_str()).collect();
        jobs.dedup();
        jobs.sort();
        jobs.dedup();
        for job in jobs {
            let rows = v
                .rows
                .iter()
                .filter(|r| r.job == job)
                .map(row_cells)
                .collect();
            sections.push(Section::new(format!("Rows of {job}")).with(Block::table(
                &[
                    "row",
                    "device",
                    "status",
                    "actual",
                    "predicted",
                    "error",
                    "in interval",
                ],
                "lllrrrl",
                rows,
            )));
        }
        if !v.unusable.is_empty() {
            sections.push(
                Section::new("Rows the model cannot use").with(Block::Bullets(
                    v.unusable
                        .iter()
                        .map(|u| format!("{} ({}): {}", u.id, u.job, u.reason))
                        .collect(),
                )),
            );
        }
        sections.push(model_section(self));
        Document {
            title: "cryocap jobs validate: each row predicted by the model fitted to the others"
                .into(),
            sections,
        }
    }

    fn csv(&self, w: &mut LongCsv) {
        for j in &self.validation.jobs {
            if let Some(m) = j.median_abs_error_pct {
                w.add("job", &j.job, "median_abs_error", m.to_string(), "%");
            }
            if let Some(c) = j.coverage_pct {
                w.add("job", &j.job, "coverage", c.to_string(), "%");
            }
        }
        for d in &self.validation.new_datasets {
            let id = format!("{}/{}", d.job, d.dataset);
            if let Some(m) = d.median_error_pct {
                w.add("new_dataset", &id, "median_error", m.to_string(), "%");
            }
            if let Some(c) = d.coverage_pct {
                w.add("new_dataset", &id, "coverage", c.to_string(), "%");
            }
        }
        for r in &self.validation.rows {
            w.add(
                "row",
                &r.id,
                "actual_seconds",
                r.actual_seconds.to_string(),
                "s",
            );
            if let Some(p) = r.predicted_seconds {
                w.add("row", &r.id, "predicted_seconds", p.to_string(), "s");
            }
        }
    }
}
