//! `cryocap facility`: read the facility, the job-time model and the price
//! list, run the study, output it.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::FacilityArgs;
use crate::datasets::Catalog;
use crate::facility::{Params, Study, config, study};
use crate::results::Kind;

const PRICES_LIMIT: u64 = 1 << 20;

pub(super) fn run(a: &FacilityArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let usage = CommandError::Usage;
    let Some(config_path) = &a.config else {
        return merge(a, started, out);
    };
    let catalog = Catalog::get()?;
    let (facility, mut inputs) = config::read(config_path, catalog).map_err(|e| usage(e.0))?;
    inputs.extend(a.prices.clone());
    inputs.extend(a.calibration.calibration.clone());
    check_outputs(&result_files(&a.output.files), &inputs)?;
    let model = crate::jobtime::calibration::load(a.calibration.calibration.as_deref())?;
    let book = match &a.prices {
        Some(p) => Some(prices(p, catalog)?),
        None => None,
    };
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let s = Study {
        config: config_path.display().to_string(),
        what_ifs: &a.what_if,
        model: &model,
        model_basis: format!(
            "job-time model, {}; each job carries the model's 90 % interval (`cryocap jobs validate` gives its error on held-out runs)",
            model.basis
        ),
        prices: book.as_ref(),
    };
    let p = Params {
        days: a.days,
        seed: a.seed,
        replicates: a.replicates,
        interval: a.draw_job_times,
        threads,
    };
    let report = study(&facility, &s, &p).map_err(usage)?;
    finish(Kind::Facility(Box::new(report)), started, &a.output, out)?;
    Ok(Outcome::Ok)
}

/// `--merge`: the variants of several facility results as one result.
fn merge(a: &FacilityArgs, started: u64, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    check_outputs(&result_files(&a.output.files), &a.merge)?;
    let mut parts = Vec::new();
    for p in &a.merge {
        let e = crate::files::read_result(p)?;
        match e.kind {
            Kind::Facility(r) => parts.push(*r),
            other => {
                return Err(CommandError::Usage(format!(
                    "--merge {}: a {} result, not a facility result",
                    p.display(),
                    other.name()
                )));
            }
        }
    }
    let names: Vec<String> = a.merge.iter().map(|p| p.display().to_string()).collect();
    let merged = crate::facility::merge(parts, &names).map_err(CommandError::Usage)?;
    finish(Kind::Facility(Box::new(merged)), started, &a.output, out)?;
    Ok(Outcome::Ok)
}

fn prices(
    path: &std::path::Path,
    catalog: &Catalog,
) -> Result<crate::sizing::recommend::PriceBook, CommandError> {
    let shown = format!("--prices {}", path.display());
    let text = crate::files::read_text(path, PRICES_LIMIT)
        .map_err(|e| CommandError::Usage(format!("{shown}: {}", e.reason())))?;
    let gpus: Vec<&str> = catalog.gpus.iter().map(|g| g.id.as_str()).collect();
    let tiers: Vec<&str> = catalog
        .storage_tiers
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    crate::sizing::prices::parse(&shown, &text, &gpus, &tiers)
        .map(|l| l.book)
        .map_err(CommandError::Usage)
}
