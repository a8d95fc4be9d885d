//! Runs a parsed command line: config, work, report. `main` only maps the
//! outcome to an exit code.

use std::io::Write;

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::{
    BenchCommand, CatalogArgs, CatalogKind, Cli, Command, CompareArgs, HistoryArgs, QualifyArgs,
    ReportArgs, ReportFormatArg, StackCommand,
};
use crate::compare;
use crate::config::{ConfigError, PlanConfig, QualifyConfig};
use crate::datasets::{Catalog, DataError};
use crate::history::{History, HistoryError};
use crate::output::{WriteError, write_atomic};
use crate::qualify;
use crate::report::{self, Document, Format, catalog_doc, compare_doc, qualify_doc};
use crate::results::file::{self as results_file, ResultsError};
use crate::results::{PlanReport, qualify::QualifyReport};
use crate::sizing;
use crate::units;

/// How a command ended when nothing went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// A check or comparison failed: exit 1.
    CheckFailed,
}

/// Everything that stops a command; each is exit 2.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("could not write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("could not encode the results as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Reconstruct(#[from] crate::recon::command::ReconstructError),
    #[error(transparent)]
    Gpu(#[from] crate::gpu::GpuError),
    #[error("--format {0} is not available for this command")]
    Unsupported(&'static str),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    #[error(transparent)]
    Stack(#[from] crate::storage::stack_writer::StackError),
    #[error(transparent)]
    Mrc(#[from] crate::storage::mrc::MrcError),
    #[error(transparent)]
    Probe(#[from] crate::storage::probe::ProbeError),
    #[error(transparent)]
    BenchIo(#[from] crate::storage::bench_io::BenchIoError),
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, AppError> {
    match cli.command {
        Command::Plan(args) => {
            let cfg = PlanConfig::from_args(&args, args.format.into())?;
            let catalog = Catalog::get()?;
            let report = sizing::plan::plan(&cfg, catalog);
            out.write_all(report::render_plan(&report, cfg.format)?.as_bytes())?;
            Ok(Outcome::Ok)
        }
        Command::Catalog(args) => catalog(&args, out),
        Command::Reconstruct(args) => {
            let cfg = crate::config::ReconstructConfig::from_args(&args)?;
            let r = crate::recon::command::run(&cfg)?;
            let doc = || report::reconstruct_doc::document(&r);
            let text = match cfg.format {
                Format::Table => doc().to_text(),
                Format::Markdown => doc().to_markdown(),
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                Format::Csv => report::reconstruct_doc::csv(&r),
            };
            out.write_all(text.as_bytes())?;
            Ok(Outcome::Ok)
        }
        Command::Bench(BenchCommand::Gpu(args)) => {
            use crate::results::gpu::BenchStatus;
            let (cfg, format) = crate::config::bench_gpu::from_args(&args)?;
            let r = crate::gpu::bench::run(&cfg)?;
            let skipped = r.status == BenchStatus::Skipped;
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&r)? + "\n",
                _ if skipped => report::gpu_doc::skipped_line(&r),
                Format::Table => report::gpu_doc::document(&r).to_text(),
                Format::Markdown => report::gpu_doc::document(&r).to_markdown(),
                Format::Csv => return Err(AppError::Unsupported("csv")),
            };
            out.write_all(text.as_bytes())?;
            Ok(match r.status {
                BenchStatus::CheckFailed => Outcome::CheckFailed,
                _ => Outcome::Ok,
            })
        }
        Command::Cache(args) => {
            if let crate::cli::CacheCommand::CopyBench(a) = &args.command {
                // measured here so that the run can go into the history
                let cfg = crate::config::cache::CopyBenchConfig::from_args(a)?;
                let r = crate::cache::copy_bench::measure(&cfg)?;
                if let Some(h) = &cfg.history {
                    store(h, &serde_json::to_string(&r)?)?;
                }
                crate::cache::copy_bench::print(&r, &cfg, out)?;
            } else {
                crate::cache::commands::run(&args.command, out)?;
            }
            Ok(Outcome::Ok)
        }
        Command::Qualify(args) => qualify(&args, out),
        Command::Compare(args) => compare(&args, out),
        Command::History(args) => history(&args, out),
        Command::Report(args) => report_cmd(&args, out),
        Command::Fleet(args) => fleet(&args, out),
        Command::Stack(StackCommand::Create(args)) => {
            let cfg = crate::config::StackCreateConfig::from_args(&args)?;
            let r = crate::storage::stack_cmd::create(&cfg)?;
            out.write_all(
                report::io_doc::render(&r, report::io_doc::stack_created, cfg.format)?.as_bytes(),
            )?;
            Ok(Outcome::Ok)
        }
        Command::Stack(StackCommand::Info(args)) => {
            let cfg = crate::config::StackInfoConfig::from_args(&args)?;
            let r = crate::storage::stack_cmd::info(&cfg)?;
            out.write_all(
                report::io_doc::render(&r, report::io_doc::stack_info, cfg.format)?.as_bytes(),
            )?;
            Ok(Outcome::Ok)
        }
        Command::Probe(args) => {
            let format: Format = args.format.into();
            if format == Format::Csv {
                return Err(AppError::Unsupported("csv"));
            }
            let r = crate::storage::probe::probe(&args.path)?;
            out.write_all(report::io_doc::render(&r, report::io_doc::probe, format)?.as_bytes())?;
            Ok(Outcome::Ok)
        }
        Command::Bench(BenchCommand::Io(args)) => {
            let cfg = crate::config::BenchIoConfig::from_args(&args)?;
            let r = crate::storage::bench_io::run(&cfg)?;
            if let Some(h) = &cfg.history {
                store(h, &serde_json::to_string(&r)?)?;
            }
            let text = match cfg.format {
                Format::Csv => report::io_doc::bench_io_csv(&r),
                f => report::io_doc::render(&r, report::io_doc::bench_io, f)?,
            };
            out.write_all(text.as_bytes())?;
            let short = r
                .feed
                .as_ref()
                .is_some_and(|f| f.per_run.iter().any(|x| x.enough == Some(false)));
            Ok(if short {
                Outcome::CheckFailed
            } else {
                Outcome::Ok
            })
        }
    }
}

/// Stores a results document in the history database at `path`.
pub fn store(path: &Path, json: &str) -> Result<(), AppError> {
    let run = results_file::parse(path, json)?;
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    History::open_or_create(path)?.record(&run, at)?;
    Ok(())
}

fn render_doc(doc: &Document, format: Format) -> Option<String> {
    match format {
        Format::Table => Some(doc.to_text()),
        Format::Markdown => Some(doc.to_markdown()),
        _ => None,
    }
}

fn qualify(args: &QualifyArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
    let cfg = QualifyConfig::from_args(args)?;
    let show = !cfg.quiet && std::io::stderr().is_terminal();
    if !cfg.quiet {
        eprintln!("{}", qualify::expected_duration(&cfg));
    }
    let progress = |step: &str| {
        if show {
            eprintln!("qualify: {step}");
        }
    };
    let report = qualify::run(&cfg, &progress);
    if crate::storage::interrupt::requested() {
        return Err(AppError::Input(
            "qualify: interrupted (Ctrl-C); its scratch files were removed and no results written"
                .into(),
        ));
    }
    let json = serde_json::to_string_pretty(&report)? + "\n";
    let doc = qualify_doc::document(&report);
    if let Some(p) = &args.json {
        write_atomic(p, json.as_bytes())?;
    }
    if let Some(p) = &args.markdown {
        write_atomic(p, doc.to_markdown().as_bytes())?;
    }
    if let Some(p) = &args.csv {
        write_atomic(p, qualify_doc::csv(&report).as_bytes())?;
    }
    if let Some(p) = &args.report {
        write_atomic(p, qualify_doc::html(&report).as_bytes())?;
    }
    if let Some(p) = &args.history {
        store(p, &json)?;
    }
    let text = match args.format.into() {
        Format::Json => json,
        Format::Csv => qualify_doc::csv(&report),
        f => render_doc(&doc, f).unwrap_or_default(),
    };
    out.write_all(text.as_bytes())?;
    Ok(if report.failed() {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    })
}

fn fleet(args: &crate::cli::FleetArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
    use crate::cli::FleetCommand;
    use crate::config::fleet::{FleetReportConfig, FleetSubmitConfig};
    use crate::fleet::command;
    let (outcome, text) = match &args.command {
        FleetCommand::Submit(a) => command::submit(&FleetSubmitConfig::from_args(a)?)?,
        FleetCommand::Report(a) => {
            let outputs = command::ReportOutputs {
                html: a.report.as_deref(),
                markdown: a.markdown.as_deref(),
                json: a.json.as_deref(),
                format: match a.format.into() {
                    Format::Csv => return Err(AppError::Unsupported("csv")),
                    f => f,
                },
            };
            command::report(&FleetReportConfig::from_args(a)?, &outputs)?
        }
        FleetCommand::SharedRead(a) => {
            let cfg = crate::config::fleet::FleetSharedReadConfig::from_args(a)?;
            command::shared_read(&cfg.0)?
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(outcome)
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

fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
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

fn history(args: &HistoryArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
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

fn report_cmd(args: &ReportArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
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

fn catalog(args: &CatalogArgs, out: &mut dyn Write) -> Result<Outcome, AppError> {
    let c = Catalog::get()?;
    let doc = match args.kind {
        CatalogKind::Gpus => catalog_doc::gpus(c),
        CatalogKind::Storage => catalog_doc::storage(c),
        CatalogKind::Datasets => catalog_doc::datasets(c),
        CatalogKind::Jobs => catalog_doc::jobs(c),
        CatalogKind::Ssd => catalog_doc::ssd(c),
    };
    let text = match args.format.into() {
        Format::Table => doc.to_text(),
        Format::Markdown => doc.to_markdown(),
        Format::Json => return Err(AppError::Unsupported("json")),
        Format::Csv => return Err(AppError::Unsupported("csv")),
    };
    out.write_all(text.as_bytes())?;
    Ok(Outcome::Ok)
}
