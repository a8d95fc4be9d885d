//! `cryocap recommend`: a workload, candidates, a price list and constraints
//! into a ranked list of node configurations (`sizing::recommend`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::RecommendArgs;
use crate::datasets::Catalog;
use crate::results::Kind;
use crate::results::plan::Dtype;
use crate::results::recommend::MeasuredFigure;
use crate::sizing::candidates;
use crate::sizing::prices;
use crate::sizing::recommend::{
    Candidate, Constraints, DatasetClass, measured_read_rate, worker_minimum_per_gpu,
};
use crate::sizing::recommend_report;
use crate::sizing::workload;

const PRICES_LIMIT: u64 = 1 << 20;

fn usage(m: impl ToString) -> CommandError {
    CommandError::Usage(m.to_string())
}

/// Reads the workload, prices, calibration and measured results, ranks
/// the candidates the flags list (`sizing::recommend_report::recommend`)
/// and writes the result; exit 1 when no configuration meets the target.
pub(super) fn run(a: &RecommendArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(&result_files(&a.output.files), &inputs(a))?;
    let catalog = Catalog::get()?;
    let workload = workload(a, catalog)?;
    let list = price_list(&a.prices, catalog)?;
    if let Some(p) = &a.bench_gpu {
        return Err(usage(format!(
            "--bench-gpu {}: a bench gpu result times the insertion kernel, not a job, and no longer sets job speeds; calibrate job times on real runs with `cryocap calibrate` and give --calibration FILE",
            p.display()
        )));
    }
    let times = crate::jobtime::calibration::load(a.calibration.calibration.as_deref())?;
    let found = measured(&a.measured, catalog)?;
    let candidates = priced_candidates(a, catalog, &workload, &list, &found)?;
    let limits = constraints(a, catalog, &workload)?;
    let how = recommend_report::Context {
        workload: &workload,
        prices: &list,
        prices_file: &a.prices.display().to_string(),
        limits: &limits,
        times: &times,
        ssd_chosen: !a.ssd.is_empty(),
        fill_from: &a.fill_from,
    };
    let figures = found.tiers.into_iter().map(|m| m.2).collect();
    let report = recommend_report::recommend(&how, &candidates, &catalog.vram_jobs, figures)
        .map_err(usage)?;
    let short = report.short.clone();
    finish(Kind::Recommend(Box::new(report)), started, &a.output, out)?;
    if let Some(s) = &short {
        eprintln!("cryocap recommend: no configuration meets the target: {s}");
    }
    Ok(Outcome::failed_if(short.is_some()))
}

/// The files the run reads, which no output may overwrite.
fn inputs(a: &RecommendArgs) -> Vec<PathBuf> {
    let mut inputs = vec![a.prices.clone()];
    inputs.extend(a.workload.clone());
    inputs.extend(a.bench_gpu.clone());
    inputs.extend(a.calibration.calibration.clone());
    inputs.extend(
        a.measured
            .iter()
            .map(|m| PathBuf::from(measured_path(m, &[]).1)),
    );
    inputs
}

/// `--prices`, read and parsed against the catalog's GPUs and tiers.
fn price_list(path: &Path, catalog: &Catalog) -> Result<prices::PriceList, CommandError> {
    let shown = path.display().to_string();
    let text = crate::files::read_text(path, PRICES_LIMIT)
        .map_err(|e| usage(format!("--prices {shown}: {}", e.reason())))?;
    prices::parse(
        &format!("--prices {shown}"),
        &text,
        &gpu_ids(catalog),
        &tier_ids(catalog),
    )
    .map_err(usage)
}

/// The catalog's GPU ids.
fn gpu_ids(catalog: &Catalog) -> Vec<&str> {
    catalog.gpus.iter().map(|g| g.id.as_str()).collect()
}

/// The catalog's storage tier ids.
fn tier_ids(catalog: &Catalog) -> Vec<&str> {
    catalog
        .storage_tiers
        .iter()
        .map(|t| t.id.as_str())
        .collect()
}

/// The configurations the flags list, priced, with the measured tiers'
/// read rates and, with `--ssd`, the month's cache fill from the cache
/// simulator over the workload's trace (once per SSD size).
fn priced_candidates(
    a: &RecommendArgs,
    catalog: &Catalog,
    workload: &[DatasetClass],
    list: &prices::PriceList,
    found: &Found,
) -> Result<Vec<Candidate>, CommandError> {
    let measured_tiers: Vec<candidates::MeasuredTier> = found
        .tiers
        .iter()
        .map(|(id, rate, fig)| (id.clone(), *rate, measured_where(fig)))
        .collect();
    let space = candidates::Space {
        gpus: &a.gpus,
        tiers: &a.tiers,
        per_node: &a.per_node,
        ram: &a.ram,
        cores: &a.cores,
        ssd: &a.ssd,
        fill_from: &a.fill_from,
    };
    let mut month = crate::cache::fill::MonthFill::new(workload)
        .map_err(|e| usage(format!("--workload: {e}")))?;
    candidates::expand(
        &space,
        catalog,
        &list.book,
        &format!("--prices {}", a.prices.display()),
        &measured_tiers,
        &mut |ssd| month.bytes_per_month(ssd),
    )
    .map_err(usage)
}

/// Budget, nodes, targets, years and power from the flags; the RAM and
/// cores per GPU from the CryoSPARC worker profile.
fn constraints(
    a: &RecommendArgs,
    catalog: &Catalog,
    workload: &[DatasetClass],
) -> Result<Constraints, CommandError> {
    let per_month: f64 = workload.iter().map(|c| c.per_month).sum();
    let (target_per_month, max_hours) = a.targets().map_err(usage)?;
    Ok(Constraints {
        budget: a.budget,
        max_nodes: a.nodes.unwrap_or(a.max_nodes),
        nodes: a.nodes,
        target_per_month: target_per_month.unwrap_or(per_month),
        max_hours_per_dataset: max_hours,
        years: a.years,
        min_ram_per_gpu: worker_minimum_per_gpu(catalog, "ram") as u64,
        min_cores_per_gpu: worker_minimum_per_gpu(catalog, "cpu_cores") as u32,
        power_price: a.power_price,
        base_power_w: a.base_power,
    })
}

/// The datasets: one class from the flags, or the classes of --workload.
fn workload(a: &RecommendArgs, catalog: &Catalog) -> Result<Vec<DatasetClass>, CommandError> {
    let Some(path) = &a.workload else {
        let particles = a
            .particles
            .ok_or_else(|| usage("--particles: is required (or give --workload)"))?;
        let box_size = a
            .box_size
            .map(|b| b.0)
            .ok_or_else(|| usage("--box: is required (or give --workload)"))?;
        return Ok(vec![DatasetClass {
            name: "dataset".into(),
            per_month: a.per_month.unwrap_or(4.0),
            particles,
            box_size,
            dtype: a.dtype.map_or(Dtype::F32, Dtype::from),
            chain: workload::parse_chain("--chain", &a.chain, catalog).map_err(usage)?,
        }]);
    };
    if a.particles.is_some()
        || a.box_size.is_some()
        || a.dtype.is_some()
        || a.per_month.is_some()
        || !a.chain.is_empty()
    {
        return Err(usage(
            "--workload describes the datasets: leave out --particles, --box, --dtype, --per-month and --chain",
        ));
    }
    workload::read(path, catalog).map_err(usage)
}

const STORAGE_FIGURE: &str = "storage read rate";

/// Figures `--measured` gave: per GPU id its rate, per tier id its read
/// rate, each with the figure the output lists.
struct Found {
    tiers: Vec<(String, f64, MeasuredFigure)>,
}

/// `TYPE=FILE` into (TYPE, FILE) when TYPE is one of `known`; otherwise the
/// whole value is the file.
fn measured_path<'a>(value: &'a str, known: &[&str]) -> (Option<&'a str>, &'a str) {
    match value.split_once('=') {
        Some((ty, file)) if known.contains(&ty) => (Some(ty), file),
        Some((ty, file)) if known.is_empty() && !ty.contains('/') => (Some(ty), file),
        _ => (None, value),
    }
}

/// Where and when a figure was measured, in words.
fn measured_where(f: &MeasuredFigure) -> String {
    format!(
        "{} {} on {}, {}",
        f.kind,
        f.file,
        f.host,
        f.started_at
            .map_or("time not recorded".into(), crate::units::utc_timestamp)
    )
}

/// The results `--measured` names, read: each storage result's read rate
/// for the tier it names.
fn measured(values: &[String], catalog: &Catalog) -> Result<Found, CommandError> {
    let mut known = gpu_ids(catalog);
    known.extend(tier_ids(catalog));
    let mut found = Found { tiers: Vec::new() };
    for value in values {
        let (ty, file) = measured_path(value, &known);
        if let (None, Some((left, _))) = (ty, value.split_once('='))
            && !Path::new(value).exists()
        {
            return Err(usage(format!(
                "--measured '{value}': '{}' is not a GPU or storage tier of the catalog (see `cryocap catalog`), and no file has that name",
                crate::text::printable(left)
            )));
        }
        if file.is_empty() {
            return Err(usage(format!("--measured '{value}': no file")));
        }
        let flag = format!("--measured {file}");
        let env = crate::files::read_result(Path::new(file))
            .map_err(|e| usage(format!("--measured {e}")))?;
        let host = env.node.clone();
        let is_gpu = |t: &str| catalog.gpus.iter().any(|g| g.id == t);
        let figure = |figure: &str, node_type: &str, value: f64, unit: &str, at_box, kind: &str| {
            MeasuredFigure {
                figure: figure.into(),
                node_type: node_type.into(),
                value,
                unit: unit.into(),
                at_box,
                file: file.to_string(),
                kind: kind.into(),
                host: host.clone(),
                started_at: env.started_at,
                applies_to: 0,
            }
        };
        match &env.kind {
            Kind::BenchGpu(_) => {
                return Err(usage(format!(
                    "{flag}: a bench gpu result times the insertion kernel, not a job, and no longer sets job speeds; calibrate job times on real runs with `cryocap calibrate` and give --calibration FILE"
                )));
            }
            Kind::BenchIo(b) => {
                let fig = storage(&flag, file, ty, "bench io", &b.runs, &found, &is_gpu)?;
                let fig = figure(STORAGE_FIGURE, &fig.0, fig.1, "bytes/s", None, "bench io");
                found.tiers.push((fig.node_type.clone(), fig.value, fig));
            }
            Kind::Qualify(q) => {
                let io =
                    q.io.iter()
                        .find(|s| s.storage == "ssd")
                        .or_else(|| q.io.first())
                        .ok_or_else(|| {
                            usage(format!("{flag}: the qualify result holds no storage runs"))
                        })?;
                let fig = storage(&flag, file, ty, "qualify", &io.runs, &found, &is_gpu)?;
                let fig = figure(STORAGE_FIGURE, &fig.0, fig.1, "bytes/s", None, "qualify");
                found.tiers.push((fig.node_type.clone(), fig.value, fig));
            }
            other => {
                return Err(usage(format!(
                    "{flag}: a {} result; --measured takes bench io or qualify results",
                    other.name()
                )));
            }
        }
    }
    Ok(found)
}

/// The tier a storage result was measured on and its read rate.
fn storage(
    flag: &str,
    file: &str,
    ty: Option<&str>,
    kind: &str,
    runs: &[crate::results::bench_io::IoRun],
    found: &Found,
    is_gpu: &dyn Fn(&str) -> bool,
) -> Result<(String, f64), CommandError> {
    let Some(tier) = ty.filter(|t| !is_gpu(t)) else {
        return Err(usage(format!(
            "{flag}: a {kind} result measures storage: name the tier it was measured on, e.g. --measured nvme-gen4={file}"
        )));
    };
    let rate = measured_read_rate(runs)
        .ok_or_else(|| usage(format!("{flag}: no sequential read run with a rate")))?;
    if found.tiers.iter().any(|t| t.0 == tier) {
        return Err(usage(format!(
            "{flag}: storage tier {tier} is measured twice"
        )));
    }
    Ok((tier.to_string(), rate))
}
