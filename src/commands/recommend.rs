//! `cryocap recommend`: a workload, candidates, a price list and constraints
//! into a ranked list of node configurations (`sizing::recommend`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::RecommendArgs;
use crate::datasets::{Catalog, nearest};
use crate::results::Kind;
use crate::results::plan::Dtype;
use crate::results::recommend::*;
use crate::sizing::prices;
use crate::sizing::recommend::{self as model, *};

const PRICES_LIMIT: u64 = 1 << 20;

fn usage(m: impl Into<String>) -> CommandError {
    CommandError::Usage(m.into())
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
    // Candidates: RAM, cores and SSD where chosen, each needing its price.
    for (given, price, item) in [
        (!a.ram.is_empty(), list.book.ram_per_gb, "ram-gb (--ram)"),
        (
            !a.cores.is_empty(),
            list.book.per_core,
            "cpu-core (--cores)",
        ),
        (!a.ssd.is_empty(), list.book.ssd_per_tb, "ssd-tb (--ssd)"),
    ] {
        if given && price.is_none() {
            return Err(usage(format!("--prices {shown}: no price for {item}")));
        }
    }
    let opt = |v: &[u64]| -> Vec<Option<u64>> {
        if v.is_empty() {
            vec![None]
        } else {
            v.iter().copied().map(Some).collect()
        }
    };
    let cores: Vec<Option<u32>> = if a.cores.is_empty() {
        vec![None]
    } else {
        a.cores.iter().copied().map(Some).collect()
    };
    let mut specs = Vec::new();
    for ram in opt(&a.ram) {
        for &c in &cores {
            for ssd in opt(&a.ssd) {
                specs.push(NodeSpec {
                    ram_bytes: ram,
                    cores: c,
                    ssd_bytes: ssd,
                });
            }
        }
    }
    // The SSD cache fill: the cache simulator over the month's trace, once
    // per SSD size; filled from --fill-from.
    let fill_rate = if a.ssd.is_empty() {
        None
    } else {
        let t = catalog.storage_tier(&a.fill_from).ok_or_else(|| {
            usage(format!(
                "--fill-from: unknown storage tier '{}'; nearest: {} (see `cryocap catalog storage`)",
                a.fill_from,
                nearest(&a.fill_from, tier_ids.iter().copied(), 3).join(", ")
            ))
        })?;
        Some(t.seq_read_bytes_per_s())
    };
    let mut month = crate::cache::fill::MonthFill::new(&workload)
        .map_err(|e| usage(format!("--workload: {e}")))?;
    let mut candidates = Vec::new();
    for name in &a.gpus {
        let g = catalog.gpu(name).ok_or_else(|| {
            usage(format!(
                "--gpus: unknown GPU '{name}'; nearest: {} (see `cryocap catalog gpus`)",
                nearest(name, gpu_ids.iter().copied(), 3).join(", ")
            ))
        })?;
        if list.book.gpu(&g.id).is_none() {
            return Err(usage(format!(
                "--prices {shown}: no price for gpu:{}",
                g.id
            )));
        }
        for t in &a.tiers {
            let tier = catalog.storage_tier(t).ok_or_else(|| {
                usage(format!(
                    "--tiers: unknown storage tier '{t}'; nearest: {} (see `cryocap catalog storage`)",
                    nearest(t, tier_ids.iter().copied(), 3).join(", ")
                ))
            })?;
            if list.book.tier(&tier.id).is_none() {
                return Err(usage(format!(
                    "--prices {shown}: no price for storage:{}",
                    tier.id
                )));
            }
            for (&n, spec) in a
                .per_node
                .iter()
                .flat_map(|n| specs.iter().map(move |s| (n, s)))
            {
                let fill = match (spec.ssd_bytes, fill_rate) {
                    (Some(ssd), Some(rate)) => Some(Fill {
                        bytes_per_month: month.bytes_per_month(ssd),
                        rate,
                    }),
                    _ => None,
                };
                candidates.push(Candidate {
                    fill,
                    spec: *spec,
                    gpu: GpuOption {
                        id: g.id.clone(),
                        vram_bytes: g.vram_bytes(),
                        memory_bandwidth_gb_s: g.memory_bandwidth_gb_s,
                        fp32_tflops: g.fp32_tflops,
                        board_power_w: g.board_power_w,
                    },
                    per_node: n,
                    tier: match found.tiers.iter().find(|m| m.0 == tier.id) {
                        Some((_, rate, fig)) => TierOption {
                            id: tier.id.clone(),
                            read_bytes_per_s: *rate,
                            measured: Some(measured_where(fig)),
                        },
                        None => TierOption {
                            id: tier.id.clone(),
                            // One NFS client plateaus near 2 GB/s whatever its link.
                            read_bytes_per_s: crate::jobtime::copy::client_read_bytes_per_s(tier),
                            measured: None,
                        },
                    },
                });
            }
        }
    }
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
    let mut report = report(a, &workload, &list, &limits, &times, rec, short.clone());
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

#[allow(clippy::too_many_arguments)]
fn report(
    a: &RecommendArgs,
    workload: &[DatasetClass],
    list: &prices::PriceList,
    limits: &Constraints,
    times: &crate::jobtime::Model,
    rec: Recommendation,
    short: Option<String>,
) -> RecommendReport {
    let placeholder = |item: String| list.placeholders.contains(&item);
    let ranked = rec
        .ranked
        .iter()
        .map(|r| {
            let source = format!(
                "job-time model: {}",
                r.fitted_as
                    .iter()
                    .map(|j| format!(
                        "{j} ({} rows)",
                        times.jobs.get(*j).map_or(0, |f| f.rows.len())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            RankedConfig {
                label: r.label.clone(),
                gpu: r.gpu.clone(),
                gpus_per_node: r.per_node,
                tier: r.tier.clone(),
                gpu_rate_basis: r.time_basis.to_string(),
                gpu_rate_source: source,
                gpu_particles_per_second: None,
                hours_low: Some(r.hours_low),
                hours_high: Some(r.hours_high),
                jobs: r
                    .jobs
                    .iter()
                    .map(|j| JobTime {
                        job: j.job.to_string(),
                        hours: j.hours,
                        low: j.low,
                        high: j.high,
                        bottleneck: j.bottleneck.to_string(),
                        basis: j.basis.to_string(),
                    })
                    .collect(),
                tier_read_bytes_per_second: Some(r.tier_read_bytes_per_s),
                fill_hours_per_dataset: (!a.ssd.is_empty()).then_some(r.fill_hours_per_dataset),
                tier_read_basis: Some(match &r.tier_measured {
                    Some(_) => "measured".into(),
                    None => "modelled".into(),
                }),
                node_price: r.node_price,
                placeholder_price: placeholder("node-base".into())
                    || placeholder(format!("gpu:{}", r.gpu))
                    || placeholder(format!("storage:{}", r.tier)),
                hours_per_dataset: r.hours_per_dataset,
                datasets_per_month_per_node: r.datasets_per_month_per_node,
                bottleneck: r.bottleneck.name().into(),
                nodes: r.nodes,
                fleet_price: r.fleet_price,
                fleet_datasets_per_month: r.fleet_datasets_per_month,
                cost_per_dataset: r.cost_per_dataset,
                node_power_w: Some(r.node_power_w),
                energy_per_dataset: r.energy_per_dataset,
                cost_per_million_particle_passes: Some(r.cost_per_million_particle_passes),
                slowest_hours_per_dataset: Some(r.slowest_hours_per_dataset),
                misses: r.misses.clone(),
                meets_target: r.meets_target,
                within_budget: r.within_budget,
            }
        })
        .collect();
    let prices_file = a.prices.display().to_string();
    RecommendReport {
        workload: workload
            .iter()
            .map(|c| WorkloadClass {
                name: c.name.clone(),
                per_month: c.per_month,
                particles: c.particles,
                box_size: c.box_size,
                dtype: c.dtype,
                chain: c.chain.iter().map(|s| format!("{}×{}", s.job, s.passes)).collect(),
                stack_bytes: c.stack_bytes(),
            })
            .collect(),
        prices: PricesUsed {
            file: prices_file.clone(),
            currency: list.book.currency.clone(),
            placeholders: list.placeholders.clone(),
        },
        constraints: ConstraintsUsed {
            budget: limits.budget,
            max_nodes: limits.max_nodes,
            nodes: limits.nodes,
            target_per_month: limits.target_per_month,
            max_hours_per_dataset: limits.max_hours_per_dataset,
            power_price: limits.power_price,
            base_power_w: limits.power_price.map(|_| limits.base_power_w),
            years: limits.years,
        },
        gpu_reference: format!("job-time model: {}", times.basis),
        vram_needed_bytes: rec.vram_needed_bytes,
        chosen: rec.chosen.map(|i| rec.ranked[i].label.clone()),
        frontier: rec.frontier,
        pruned: rec
            .pruned
            .iter()
            .map(|p| PrunedConfig { label: p.label.clone(), reason: p.reason.clone() })
            .collect(),
        ranked,
        short,
        change: rec.change.clone(),
        measured: Vec::new(),
        notes: vec![
            format!("Every price and cost comes from {prices_file}; rows marked * use a placeholder price."),
            "Each job's time = the job-time model's compute on the node's GPUs (fitted to published runs; `cryocap jobs validate` shows its error) plus reading the stack at the tier's read rate every iteration (catalog, or measured where listed), or the longer of the two where the program overlaps them (CryoSPARC, cryoDRGN).".into(),
            "job times: `calibrated` = calibration rows ran on this GPU; `extrapolated` = its speed from its catalog memory bandwidth and FP32 rate; `proxy` = no run of the job type is calibrated (CryoSPARC's jobs are timed as RELION's per unit of work), its interval widened.".into(),
            match limits.power_price {
                None => format!("Cost per dataset = node price / (datasets per month per node × 12 × {} years), at full use; power is not counted (give --power-price).", limits.years),
                Some(p) => format!("Cost per dataset = node price / (datasets per month per node × 12 × {} years) + energy: (GPUs × catalog board power + {} W base) × hours per dataset × {p} per kWh, at full load (an upper bound when the GPUs wait on storage).", limits.years, limits.base_power_w),
            },
            "A node works 730.5 h a month on the workload's mix.".into(),
            if a.ssd.is_empty() {
                "No SSD cache size chosen (--ssd): the cache fill is not counted.".into()
            } else {
                format!("With --ssd, each month's cache fill (bytes copied, from the cache simulator over the month's datasets and chains, 30-day lifetime, once per SSD size) is read from {} and added to the node's hours.", a.fill_from)
            },
        ],
    }
}

/// One `[[class]]` of a workload file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassToml {
    name: String,
    per_month: f64,
    particles: u64,
    #[serde(rename = "box")]
    box_size: u32,
    #[serde(default)]
    dtype: Option<String>,
    #[serde(default)]
    chain: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadToml {
    class: Vec<ClassToml>,
}

fn chain(flag: &str, items: &[String], catalog: &Catalog) -> Result<Vec<JobStep>, CommandError> {
    if items.is_empty() {
        return Ok(default_chain());
    }
    items
        .iter()
        .map(|item| {
            let (job, passes) = item.trim().split_once(':').ok_or_else(|| {
                usage(format!(
                    "{flag}: '{item}' is not job:passes, e.g. class2d:20"
                ))
            })?;
            if !catalog.vram_jobs.iter().any(|j| j.job == job)
                && crate::jobtime::jobs::find(job).is_none()
            {
                return Err(usage(format!(
                    "{flag}: unknown job '{job}' (see `cryocap catalog jobs`, or a job-time model job: {})",
                    crate::jobtime::jobs::names()
                )));
            }
            let passes: u32 = passes
                .parse()
                .ok()
                .filter(|p| (1..=100_000).contains(p))
                .ok_or_else(|| usage(format!("{flag}: passes of '{item}' must be 1 to 100000")))?;
            Ok(JobStep {
                job: job.to_string(),
                passes,
            })
        })
        .collect()
}

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
            chain: chain("--chain", &a.chain, catalog)?,
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
    let shown = path.display();
    let text = crate::files::read_text(path, PRICES_LIMIT)
        .map_err(|e| usage(format!("--workload {shown}: {}", e.reason())))?;
    let w: WorkloadToml = toml::from_str(&text).map_err(|e| {
        usage(format!(
            "--workload {shown}: {}",
            e.message().replace('\n', " ")
        ))
    })?;
    if w.class.is_empty() {
        return Err(usage(format!("--workload {shown}: no [[class]]")));
    }
    w.class
        .into_iter()
        .map(|c| {
            let flag = format!("--workload {shown}: class {}", c.name);
            if !(c.per_month.is_finite() && c.per_month > 0.0) {
                return Err(usage(format!("{flag}: per_month must be above 0")));
            }
            if !(1..=crate::sizing::MAX_PARTICLES).contains(&c.particles) {
                return Err(usage(format!("{flag}: particles out of range")));
            }
            if !(crate::sizing::MIN_BOX..=crate::sizing::MAX_BOX).contains(&c.box_size) {
                return Err(usage(format!("{flag}: box out of range")));
            }
            let dtype = match c.dtype.as_deref() {
                None | Some("f32") => Dtype::F32,
                Some("f16") => Dtype::F16,
                Some(d) => return Err(usage(format!("{flag}: dtype '{d}' is not f32 or f16"))),
            };
            Ok(DatasetClass {
                chain: chain(&flag, c.chain.as_deref().unwrap_or(&[]), catalog)?,
                name: c.name,
                per_month: c.per_month,
                particles: c.particles,
                box_size: c.box_size,
                dtype,
            })
        })
        .collect()
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
