//! The commands over stored results: `compare`, `history`, `report`, and
//! storing a run in the history.

use std::io::Write;
use std::path::Path;

use super::{AppError, Outcome};
use crate::cli::{CompareArgs, HistoryArgs, ReportArgs, ReportFormatArg};
use crate::compare;
use crate::history::History;
use crate::output::write_atomic;
use crate::report::{self, Document, Format, compare_doc, qualify_doc};
use crate::results::file::{self as results_file, ResultsError};
use crate::results::{GpuBenchReport, PlanReport, qualify::QualifyReport};
use crate::units;

/// Stores a results document in the history database at `path`.
pub fn store(path: &Path, json: &str) -> Result<(), AppError> {
    let run = results_file::parse(path, json)?;
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    History::open_or_create(path)?.record(&run, at)?;
    Ok(())
}

pub(super) fn render_doc(doc: &Document, format: Format) -> Option<String> {
    match format {
        Format::Table => Some(doc.to_text()),
        Format::Markdown => Some(doc.to_markdown()),
        _ => None,
    }
}

fn parse_threshold(text: Option<&str>) -> Result<f64, AppError> {
    let Some(t) = text else { return Ok(0.05) };
    let bad = || AppError::Input(format!("--threshold: '{t}' is not a percentage such as 5%"));
    let number = t.trim().trim_end_matches('%');
    let v: f64 = number.parse().map_err(|_| bad())?;
    if !(v.is_finite() && (0.0..1000.0).contains(&v)) {
        return Err(bad());
    }
    Ok(v / 100.0)
}

pub(super) fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
    let threshold = parse_threshold(args.threshold.as_deref())?;
    let (baseline, current, baseline_label) = match (&args.history, args.files.as_slice()) {
        (Some(h), [current]) => {
            let last = match &args.last {
                Some(t) => units::parse_count(t)
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| {
                        AppError::Input(format!(
                            "--last: '{t}' must be a whole number from 1 to 1000"
                        ))
                    })? as usize,
                None => 5,
            };
            let cur = results_file::load(current)?;
            let runs = History::open_existing(h)?.last(&cur.node, &cur.kind, last)?;
            if runs.is_empty() {
                return Err(AppError::Input(format!(
                    "{}: no stored {} runs of node {} to compare with; store some with --history",
                    h.display(),
                    cur.kind,
                    cur.node
                )));
            }
            let pooled = compare::pool(&runs.iter().map(|r| r.metrics.clone()).collect::<Vec<_>>());
            let label = format!(
                "last {} {} runs of {} in {}",
                runs.len(),
                cur.kind,
                cur.node,
                h.display()
            );
            (pooled, cur, label)
        }
        (Some(_), _) => {
            return Err(AppError::Input(
                "with --history give only the current results file".into(),
            ));
        }
        (None, [base, current]) => {
            let b = results_file::load(base)?;
            (
                b.metrics,
                results_file::load(current)?,
                base.display().to_string(),
            )
        }
        (None, _) => {
            return Err(AppError::Input(
                "give BASELINE.json CURRENT.json, or CURRENT.json with --history FILE".into(),
            ));
        }
    };
    if args.last.is_some() && args.history.is_none() {
        return Err(AppError::Input("--last needs --history FILE".into()));
    }
    let c = compare::compare(&baseline, &current.metrics, threshold);
    let current_label = args
        .files
        .last()
        .map_or(String::new(), |p| p.display().to_string());
    let text = match args.format.into() {
        Format::Json => serde_json::to_string_pretty(&c)? + "\n",
        Format::Csv => return Err(AppError::Unsupported("csv")),
        f => render_doc(
            &compare_doc::document(&c, &baseline_label, &current_label),
            f,
        )
        .unwrap_or_default(),
    };
    out.write_all(text.as_bytes())?;
    Ok(if c.regressions() > 0 {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    })
}

pub(super) fn history(args: &HistoryArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
    let runs = History::open_existing(&args.file)?.list()?;
    let text = match args.format.into() {
        Format::Json => serde_json::to_string_pretty(&runs)? + "\n",
        Format::Csv => return Err(AppError::Unsupported("csv")),
        f => {
            let rows = runs
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        units::utc_timestamp(r.recorded_at),
                        r.node.clone(),
                        r.kind.clone(),
                        r.metrics.to_string(),
                    ]
                })
                .collect();
            let doc = Document {
                title: format!(
                    "cryocap history {}: {} runs",
                    args.file.display(),
                    runs.len()
                ),
                sections: vec![report::Section::new("").with(report::Block::table(
                    &["run", "recorded", "node", "kind", "metrics"],
                    "rrllr",
                    rows,
                ))],
            };
            render_doc(&doc, f).unwrap_or_default()
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Outcome::Ok)
}

pub(super) fn report_cmd(args: &ReportArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
    let path: &Path = &args.results;
    let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ResultsError::NotJson {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    results_file::check_version(path, &json)?;
    let shape = |e: serde_json::Error| ResultsError::Shape {
        path: path.to_path_buf(),
        reason: format!("not a results file this cryocap can render: {e}"),
    };
    let rendered = if json.get("kind").and_then(|k| k.as_str()) == Some("qualify") {
        let r: QualifyReport = serde_json::from_value(json).map_err(shape)?;
        match args.format {
            ReportFormatArg::Html => qualify_doc::html(&r),
            ReportFormatArg::Markdown => qualify_doc::document(&r).to_markdown(),
            ReportFormatArg::Table => qualify_doc::document(&r).to_text(),
            ReportFormatArg::Csv => qualify_doc::csv(&r),
            ReportFormatArg::Json => serde_json::to_string_pretty(&r)? + "\n",
        }
    } else if json.get("devices").is_some() && json.get("not_measured").is_some() {
        // bench gpu writes no kind; its devices and not_measured say what it is
        let r: GpuBenchReport = serde_json::from_value(json).map_err(shape)?;
        let doc = report::gpu_doc::document(&r);
        match args.format {
            ReportFormatArg::Html => doc.to_html(),
            ReportFormatArg::Markdown => doc.to_markdown(),
            ReportFormatArg::Table => doc.to_text(),
            ReportFormatArg::Csv => return Err(AppError::Unsupported("csv")),
            ReportFormatArg::Json => serde_json::to_string_pretty(&r)? + "\n",
        }
    } else {
        let r: PlanReport = serde_json::from_value(json).map_err(shape)?;
        let doc = report::plan_doc::document(&r);
        match args.format {
            ReportFormatArg::Html => doc.to_html(),
            ReportFormatArg::Markdown => doc.to_markdown(),
            ReportFormatArg::Table => doc.to_text(),
            ReportFormatArg::Csv => report::render_plan(&r, Format::Csv)?,
            ReportFormatArg::Json => report::render_plan(&r, Format::Json)?,
        }
    };
    match &args.output {
        Some(p) => write_atomic(p, rendered.as_bytes())?,
        None => out.write_all(rendered.as_bytes())?,
    }
    Ok(Outcome::Ok)
}
