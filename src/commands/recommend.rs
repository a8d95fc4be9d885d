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
use crate::results::recommend::*;
use crate::sizing::candidates;
use crate::sizing::prices;
use crate::sizing::recommend::{self as model, *};
use crate::sizing::recommend_report;
use crate::sizing::workload;

const PRICES_LIMIT: u64 = 1 << 20;

fn usage(m: impl ToString) -> CommandError {
    CommandError::Usage(m.to_string())
}

pub(super) fn run(a: &RecommendArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let mut inputs = vec![a.prices.clone()];
    inputs.extend(a.workload.clone());
    inputs.extend(a.bench_gpu.clone());
    inputs.extend(a.calibration.calibration.clone());
    inputs.extend(
        a.measured
            .iter()
            .map(|m| PathBuf::from(measured_path(m, &[]).1)),
    );
    check_outputs(&result_files(&a.output.files), &inputs)?;
    let catalog = Catalog::get()?;
    let workload = workload(a, catalog)?;
    let gpu_ids: Vec<&str> = catalog.gpus.iter().map(|g| g.id.as_str()).collect();
    let tier_ids: Vec<&str> = catalog
        .storage_tiers
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    let shown = a.prices.display().to_string();
    let text = crate::files::read_text(&a.prices, PRICES_LIMIT)
        .map_err(|e| usage(format!("--prices {shown}: {}", e.reason())))?;
    let list =
        prices::parse(&format!("--prices {shown}"), &text, &gpu_ids, &tier_ids).map_err(usage)?;
    if let Some(p) = &a.bench_gpu {
        return Err(usage(format!(
            "--bench-gpu {}: a bench gpu result times the insertion kernel, not a job, and no longer sets job speeds; calibrate job times on real runs with `cryocap calibrate` and give --calibration FILE",
            p.display()
        )));
    }
    let cat: Vec<(String, f64, f64)> = catalog
        .gpus
        .iter()
        .map(|g| (g.id.clone(), g.vram_gib, g.memory_bandwidth_gb_s))
        .collect();
    let times = crate::jobtime::calibration::load(a.calibration.calibration.as_deref())?;
    let mut known: Vec<&str> = gpu_ids.clone();
    known.extend(tier_ids.iter().copied());
    let found = measured(&a.measured, &known, &cat)?;
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
    // The SSD cache fill: the cache simulator over the month's trace, once
    // per SSD size.
    let mut month = crate::cache::fill::MonthFill::new(&workload)
        .map_err(|e| usage(format!("--workload: {e}")))?;
    let candidates = candidates::expand(
        &space,
        catalog,
        &list.book,
        &format!("--prices {shown}"),
        &measured_tiers,
        &mut |ssd| month.bytes_per_month(ssd),
    )
    .map_err(usage)?;
    let per_month: f64 = workload.iter().map(|c| c.per_month).sum();
    let (target_per_month, max_hours) = a.targets().map_err(usage)?;
    let limits = Constraints {
        budget: a.budget,
        max_nodes: a.nodes.unwrap_or(a.max_nodes),
        nodes: a.nodes,
        target_per_month: target_per_month.unwrap_or(per_month),
        max_hours_per_dataset: max_hours,
        years: a.years,
        min_ram_per_gpu: per_gpu_minimum(catalog, "ram") as u64,
        min_cores_per_gpu: per_gpu_minimum(catalog, "cpu_cores") as u32,
        power_price: a.power_price,
        base_power_w: a.base_power,
    };
    let rec = model::recommend(
        &workload,
        &candidates,
        &list.book,
        &limits,
        &catalog.vram_jobs,
        &times,
    );
    if rec.ranked.is_empty() {
        return Err(usage(format!(
            "no feasible configuration of {}: {}",
            rec.pruned.len(),
            explain_pruned(&rec.pruned)
        )));
    }
    let short = rec
        .chosen
        .is_none()
        .then(|| short_of(&rec, &limits, &list.book.currency));
    let mut figures: Vec<MeasuredFigure> = found.tiers.into_iter().map(|m| m.2).collect();
    for f in &mut figures {
        f.applies_to = rec.ranked.iter().filter(|r| r.tier == f.node_type).count() as u32;
    }
    let how = recommend_report::Context {
        workload: &workload,
        prices: &list,
        prices_file: &a.prices.display().to_string(),
        limits: &limits,
        times: &times,
        ssd_chosen: !a.ssd.is_empty(),
        fill_from: &a.fill_from,
    };
    let mut report = recommend_report::build(&how, rec, short.clone());
    report.measured = figures;
    finish(Kind::Recommend(Box::new(report)), started, &a.output, out)?;
    if let Some(s) = &short {
        eprintln!("cryocap recommend: no configuration meets the target: {s}");
    }
    Ok(Outcome::failed_if(short.is_some()))
}

/// What is short when no configuration is chosen, without picking one of
/// several that tie: the best any reaches of each constraint it misses.
fn short_of(rec: &Recommendation, k: &Constraints, cur: &str) -> String {
    let nodes = match k.nodes {
        Some(n) => format!("--nodes {n}"),
        None => format!("--max-nodes {}", k.max_nodes),
    };
    let mut parts = Vec::new();
    let most = rec
        .ranked
        .iter()
        .map(|r| r.fleet_datasets_per_month)
        .fold(0.0, f64::max);
    if most < k.target_per_month * (1.0 - 1e-12) {
        let tie = rec
            .ranked
            .iter()
            .filter(|r| (r.fleet_datasets_per_month - most).abs() <= 1e-9 * most)
            .count();
        parts.push(format!(
            "throughput: the most any configuration reaches with {nodes} is {most:.1} of {} datasets/month ({tie} configuration(s) reach that)",
            k.target_per_month
        ));
    }
    if let Some(h) = k.max_hours_per_dataset {
        let quickest = rec
            .ranked
            .iter()
            .map(|r| r.slowest_hours_per_dataset)
            .fold(f64::INFINITY, f64::min);
        if quickest > h * (1.0 + 1e-12) {
            parts.push(format!(
                "hours per dataset: the quickest takes {quickest:.1} h, over the {h} h target"
            ));
        }
    }
    if parts.is_empty() {
        // Every constraint but the budget can be met: by the cheapest such fleet.
        let cheapest = rec
            .ranked
            .iter()
            .filter(|r| r.meets_target)
            .map(|r| r.fleet_price)
            .fold(f64::INFINITY, f64::min);
        if cheapest.is_finite() {
            parts.push(format!(
                "budget: the cheapest fleet that meets the target costs {} {cur}, over the budget of {} {cur}",
                crate::units::group_digits(cheapest.round().max(0.0) as u64),
                crate::units::group_digits(k.budget.unwrap_or_default().round().max(0.0) as u64)
            ));
        } else {
            parts.push(
                "no single configuration meets both the datasets per month and the hours per dataset targets".into(),
            );
        }
    }
    parts.join("; ")
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

fn measured(
    values: &[String],
    known: &[&str],
    catalog: &[(String, f64, f64)],
) -> Result<Found, CommandError> {
    let mut found = Found { tiers: Vec::new() };
    for value in values {
        let (ty, file) = measured_path(value, known);
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
        let is_gpu = |t: &str| catalog.iter().any(|g| g.0 == t);
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

/// The CryoSPARC worker profile's minimum per GPU of requirement `id` (0
/// when the profile lacks it).
fn per_gpu_minimum(catalog: &Catalog, id: &str) -> f64 {
    catalog
        .profile("cryosparc-worker")
        .and_then(|p| p.requirements.iter().find(|r| r.id == id))
        .and_then(|r| r.minimum)
        .unwrap_or(0.0)
}
