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
    let catalog = Catalog::get()?;
    let (facility, mut inputs) = config::read(&a.config, catalog).map_err(|e| usage(e.0))?;
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
        config: a.config.display().to_string(),
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
