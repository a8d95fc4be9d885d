//! `recommend`'s ranking as the result the outputs read: each configuration
//! with its job times, the workload, the prices and constraints used, what
//! falls short when none is chosen, and the method in words.

use super::prices::PriceList;
use super::recommend::{
    Candidate, Constraints, DatasetClass, Ranked, Recommendation, explain_pruned,
};
use crate::datasets::VramJob;
use crate::jobtime::Model;
use crate::results::recommend::{
    ConstraintsUsed, JobTime, MeasuredFigure, PricesUsed, PrunedConfig, RankedConfig,
    RecommendReport, WorkloadClass,
};

/// What the ranking was made from, for the report's inputs and notes.
pub struct Context<'a> {
    pub workload: &'a [DatasetClass],
    pub prices: &'a PriceList,
    /// The price list as the user named it.
    pub prices_file: &'a str,
    pub limits: &'a Constraints,
    pub times: &'a Model,
    /// Whether SSD sizes were among the candidates (the fill is counted).
    pub ssd_chosen: bool,
    /// The tier an SSD cache is filled from.
    pub fill_from: &'a str,
}

/// Ranks `candidates` (`jobs` are the VRAM models) into the result of one
/// `recommend` run; `measured` are the figures `--measured` gave, each
/// counted against the ranked configurations it applies to. An error when
/// no configuration is feasible, saying what removed them.
pub fn recommend(
    c: &Context<'_>,
    candidates: &[Candidate],
    jobs: &[VramJob],
    mut measured: Vec<MeasuredFigure>,
) -> Result<RecommendReport, String> {
    let rec = super::recommend::recommend(
        c.workload,
        candidates,
        &c.prices.book,
        c.limits,
        jobs,
        c.times,
    );
    if rec.ranked.is_empty() {
        return Err(format!(
            "no feasible configuration of {}: {}",
            rec.pruned.len(),
            explain_pruned(&rec.pruned)
        ));
    }
    let short = rec
        .chosen
        .is_none()
        .then(|| short_of(&rec, c.limits, &c.prices.book.currency));
    for f in &mut measured {
        f.applies_to = rec.ranked.iter().filter(|r| r.tier == f.node_type).count() as u32;
    }
    let mut report = build(c, rec, short);
    report.measured = measured;
    Ok(report)
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
        parts.push(budget_short(rec, k, cur));
    }
    parts.join("; ")
}

/// What is short when every constraint but the budget can be met: the
/// cheapest fleet that meets the target, or that none meets both targets.
fn budget_short(rec: &Recommendation, k: &Constraints, cur: &str) -> String {
    let cheapest = rec
        .ranked
        .iter()
        .filter(|r| r.meets_target)
        .map(|r| r.fleet_price)
        .fold(f64::INFINITY, f64::min);
    if cheapest.is_finite() {
        format!(
            "budget: the cheapest fleet that meets the target costs {} {cur}, over the budget of {} {cur}",
            crate::units::group_digits(cheapest.round().max(0.0) as u64),
            crate::units::group_digits(k.budget.unwrap_or_default().round().max(0.0) as u64)
        )
    } else {
        "no single configuration meets both the datasets per month and the hours per dataset targets".into()
    }
}

/// The result of one `recommend` run.
pub fn build(c: &Context<'_>, rec: Recommendation, short: Option<String>) -> RecommendReport {
    let limits = c.limits;
    RecommendReport {
        workload: c.workload.iter().map(workload_class).collect(),
        prices: PricesUsed {
            file: c.prices_file.to_string(),
            currency: c.prices.book.currency.clone(),
            placeholders: c.prices.placeholders.clone(),
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
        gpu_reference: format!("job-time model: {}", c.times.basis),
        vram_needed_bytes: rec.vram_needed_bytes,
        chosen: rec.chosen.map(|i| rec.ranked[i].label.clone()),
        frontier: rec.frontier.clone(),
        pruned: rec
            .pruned
            .iter()
            .map(|p| PrunedConfig {
                label: p.label.clone(),
                reason: p.reason.clone(),
            })
            .collect(),
        ranked: rec.ranked.iter().map(|r| ranked_config(c, r)).collect(),
        short,
        change: rec.change.clone(),
        measured: Vec::new(),
        notes: notes(c),
    }
}

fn workload_class(c: &DatasetClass) -> WorkloadClass {
    WorkloadClass {
        name: c.name.clone(),
        per_month: c.per_month,
        particles: c.particles,
        box_size: c.box_size,
        dtype: c.dtype,
        chain: c
            .chain
            .iter()
            .map(|s| format!("{}×{}", s.job, s.passes))
            .collect(),
        stack_bytes: c.stack_bytes(),
    }
}

/// The job-time rows behind a configuration's times, by job type.
fn time_source(c: &Context<'_>, r: &Ranked) -> String {
    let jobs: Vec<String> = r
        .fitted_as
        .iter()
        .map(|j| {
            let rows = c.times.jobs.get(*j).map_or(0, |f| f.rows.len());
            format!("{j} ({rows} rows)")
        })
        .collect();
    format!("job-time model: {}", jobs.join(", "))
}

fn ranked_config(c: &Context<'_>, r: &Ranked) -> RankedConfig {
    let placeholder = |item: String| c.prices.placeholders.contains(&item);
    RankedConfig {
        label: r.label.clone(),
        gpu: r.gpu.clone(),
        gpus_per_node: r.per_node,
        tier: r.tier.clone(),
        gpu_rate_basis: r.time_basis.to_string(),
        gpu_rate_source: time_source(c, r),
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
        fill_hours_per_dataset: c.ssd_chosen.then_some(r.fill_hours_per_dataset),
        tier_read_basis: Some(
            if r.tier_measured.is_some() {
                "measured"
            } else {
                "modelled"
            }
            .into(),
        ),
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
}

/// The method, in the words the report prints under Notes.
fn notes(c: &Context<'_>) -> Vec<String> {
    let limits = c.limits;
    vec![
        format!(
            "Every price and cost comes from {}; rows marked * use a placeholder price.",
            c.prices_file
        ),
        "Each job's time = the job-time model's compute on the node's GPUs (fitted to published runs; `cryocap jobs validate` shows its error) plus reading the stack at the tier's read rate every iteration (catalog, or measured where listed), or the longer of the two where the program overlaps them (CryoSPARC, cryoDRGN).".into(),
        "job times: `calibrated` = calibration rows ran on this GPU; `extrapolated` = its speed from its catalog memory bandwidth and FP32 rate; `proxy` = no run of the job type is calibrated (CryoSPARC's jobs are timed as RELION's per unit of work), its interval widened.".into(),
        match limits.power_price {
            None => format!(
                "Cost per dataset = node price / (datasets per month per node × 12 × {} years), at full use; power is not counted (give --power-price).",
                limits.years
            ),
            Some(p) => format!(
                "Cost per dataset = node price / (datasets per month per node × 12 × {} years) + energy: (GPUs × catalog board power + {} W base) × hours per dataset × {p} per kWh, at full load (an upper bound when the GPUs wait on storage).",
                limits.years, limits.base_power_w
            ),
        },
        "A node works 730.5 h a month on the workload's mix.".into(),
        if c.ssd_chosen {
            format!(
                "With --ssd, each month's cache fill (bytes copied, from the cache simulator over the month's datasets and chains, 30-day lifetime, once per SSD size) is read from {} and added to the node's hours.",
                c.fill_from
            )
        } else {
            "No SSD cache size chosen (--ssd): the cache fill is not counted.".into()
        },
    ]
}
