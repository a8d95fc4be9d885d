//! Runs a parsed command line: config, work, report. `main` only maps the
//! outcome to an exit code.

use std::io::Write;

use crate::cli::{CatalogArgs, CatalogKind, Cli, Command};
use crate::config::{ConfigError, PlanConfig};
use crate::datasets::{Catalog, DataError};
use crate::report::{self, Format, catalog_doc};
use crate::sizing;

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
    #[error("--format {0} is not available for this command; use table or markdown")]
    Unsupported(&'static str),
    #[error(transparent)]
    Reconstruct(#[from] crate::recon::command::ReconstructError),
    #[error(transparent)]
    Gpu(#[from] crate::gpu::GpuError),
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
        Command::Bench(crate::cli::BenchKind::Gpu(args)) => {
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
    }
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
