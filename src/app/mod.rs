//! Runs a parsed command line: config, work, report. `main` only maps the
//! outcome to an exit code.

mod stored;

use std::io::{IsTerminal, Write};

use crate::cli::{BenchCommand, CatalogArgs, CatalogKind, Cli, Command, QualifyArgs, StackCommand};
use crate::config::{ConfigError, PlanConfig, QualifyConfig};
use crate::datasets::{Catalog, DataError};
use crate::history::HistoryError;
use crate::output::{WriteError, write_atomic};
use crate::qualify;
use crate::report::{self, Format, catalog_doc, qualify_doc};
use crate::results::file::ResultsError;
use crate::sizing;
pub use stored::store;
use stored::{compare, history, render_doc, report_cmd};

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
