//! `cryocap recommend`: which node configuration to buy for a lab's monthly
//! workload, a price list and constraints. Pure: the catalog rows, the GPU
//! rates and the prices come in as values; nothing here reads a file.
//!
//! Model (docs/sources.md §11, §5, §7):
//! - each job of a dataset's chain takes the job-time model's time on the
//!   node's GPUs (`crate::jobtime`: calibrated on published runs) plus
//!   reading the stack from the node's storage tier every iteration, or
//!   the longer of the two where the program overlaps them
//!   ([`super::dataset_time`]);
//! - a dataset takes its chain's jobs, one after another;
//! - a node works 730.5 hours a month (365.25 · 24 / 12) on the workload's mix;
//! - cost per dataset = the purchase spread over `years` of datasets at the
//!   node's full throughput.

use std::collections::BTreeSet;

use super::dataset_time::{Month, month};
use super::vram;
use crate::datasets::VramJob;
use crate::jobtime::Model;

mod types;
pub use types::*;

/// Bytes of VRAM the workload's most demanding job needs.
pub fn vram_needed(workload: &[DatasetClass], jobs: &[VramJob]) -> u64 {
    workload
        .iter()
        .flat_map(|c| {
            c.chain.iter().filter_map(move |s| {
                // A VRAM job by its name, or by the job-time model's type
                // (relion-refine3d is the VRAM model's relion-refine).
                let ty = crate::jobtime::jobs::find(&s.job).map(|t| t.id);
                let j = jobs.iter().find(|j| {
                    j.job == s.job
                        || ty.is_some() && crate::jobtime::jobs::find(&j.job).map(|t| t.id) == ty
                })?;
                Some(vram::bytes_needed(
                    j,
                    c.box_size,
                    vram::classes_for(j, None),
                ))
            })
        })
        .max()
        .unwrap_or(0)
}

/// Whether `a` dominates `b`: no dearer, no slower, and better in one.
fn dominates(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 <= b.0 && a.1 >= b.1 && (a.0 < b.0 || a.1 > b.1)
}

/// The Pareto frontier of (price, throughput) points: labels of points no
/// other point dominates, cheapest first.
pub fn frontier(points: &[(String, f64, f64)]) -> Vec<String> {
    let mut front: Vec<&(String, f64, f64)> = points
        .iter()
        .filter(|p| !points.iter().any(|q| dominates((q.1, q.2), (p.1, p.2))))
        .collect();
    front.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    front.iter().map(|p| p.0.clone()).collect()
}

/// What every candidate is judged against: the workload's needs.
struct Mix {
    /// VRAM the largest box needs.
    need: u64,
    per_month: f64,
    largest_stack: u64,
    /// Particle-passes of the mean dataset of the mix.
    passes_per_dataset: f64,
}

impl Mix {
    fn of(workload: &[DatasetClass], jobs: &[VramJob]) -> Mix {
        let per_month: f64 = workload.iter().map(|c| c.per_month).sum();
        let passes_per_dataset = if per_month > 0.0 {
            workload
                .iter()
                .map(|c| c.per_month * c.particles as f64 * c.passes() as f64)
                .sum::<f64>()
                / per_month
        } else {
            0.0
        };
        Mix {
            need: vram_needed(workload, jobs),
            per_month,
            largest_stack: workload.iter().map(|c| c.stack_bytes()).max().unwrap_or(0),
            passes_per_dataset,
        }
    }
}

/// The hardware limit a candidate fails, if any: VRAM for the largest box,
/// the profile's RAM and cores per GPU, an SSD that holds the largest stack.
fn hardware_short(
    c: &Candidate,
    mix: &Mix,
    limits: &Constraints,
) -> Option<(&'static str, String)> {
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let n = u64::from(c.per_node);
    if c.gpu.vram_bytes < mix.need {
        return Some((
            "VRAM",
            format!(
                "VRAM {:.1} GiB below the {:.1} GiB the largest box needs",
                gib(c.gpu.vram_bytes),
                gib(mix.need)
            ),
        ));
    }
    if let Some(ram) = c.spec.ram_bytes
        && ram < limits.min_ram_per_gpu.saturating_mul(n)
    {
        return Some((
            "RAM per GPU",
            format!(
                "RAM per GPU {:.1} GiB below the profile's {:.1} GiB",
                gib(ram) / n as f64,
                gib(limits.min_ram_per_gpu)
            ),
        ));
    }
    if let Some(cores) = c.spec.cores
        && cores < limits.min_cores_per_gpu.saturating_mul(c.per_node)
    {
        return Some((
            "cores per GPU",
            format!(
                "cores per GPU {:.1} below the profile's {}",
                f64::from(cores) / n as f64,
                limits.min_cores_per_gpu
            ),
        ));
    }
    if let Some(ssd) = c.spec.ssd_bytes
        && ssd < mix.largest_stack
    {
        return Some((
            "SSD",
            format!(
                "SSD {} below the largest stack, {}",
                crate::units::bytes_decimal(ssd),
                crate::units::bytes_decimal(mix.largest_stack)
            ),
        ));
    }
    None
}

/// The node's price: base, GPUs, tier, and the RAM, cores and SSD chosen;
/// None where one of them has no price.
fn node_price(c: &Candidate, prices: &PriceBook) -> Option<f64> {
    let spec = match (
        c.spec
            .ram_bytes
            .map(|r| prices.ram_per_gb.map(|p| p * r as f64 / 1e9)),
        c.spec
            .cores
            .map(|k| prices.per_core.map(|p| p * f64::from(k))),
        c.spec
            .ssd_bytes
            .map(|s| prices.ssd_per_tb.map(|p| p * s as f64 / 1e12)),
    ) {
        (Some(None), _, _) | (_, Some(None), _) | (_, _, Some(None)) => None,
        (r, k, s) => Some(
            r.flatten().unwrap_or(0.0) + k.flatten().unwrap_or(0.0) + s.flatten().unwrap_or(0.0),
        ),
    }?;
    let gpu = prices.gpu(&c.gpu.id)?;
    let tier = prices.tier(&c.tier.id)?;
    Some(prices.node_base + f64::from(c.per_node) * gpu + tier + spec)
}

/// The first target a fleet misses, in words: throughput, hours per
/// dataset, budget.
fn first_miss(
    fleet: f64,
    nodes: u32,
    slowest: f64,
    fleet_price: f64,
    limits: &Constraints,
    cur: &str,
) -> (bool, bool, bool, Option<String>) {
    let reaches = fleet >= limits.target_per_month * (1.0 - 1e-12);
    let quick = limits
        .max_hours_per_dataset
        .is_none_or(|h| slowest <= h * (1.0 + 1e-12));
    let within_budget = limits.budget.is_none_or(|b| fleet_price <= b);
    let misses = if !reaches {
        Some(format!(
            "throughput: {fleet:.1} of {} datasets/month with {nodes} node(s)",
            limits.target_per_month
        ))
    } else if !quick {
        Some(format!(
            "hours per dataset: {slowest:.1} h, over the {} h target",
            limits.max_hours_per_dataset.unwrap_or_default()
        ))
    } else if !within_budget {
        Some(format!(
            "budget: {} {cur}, over {} {cur}",
            money(fleet_price),
            money(limits.budget.unwrap_or_default())
        ))
    } else {
        None
    };
    (reaches, quick, within_budget, misses)
}

/// A month of the workload on one node of a candidate: the job-time
/// model's month, the hours the cache fill adds, and the totals with it.
struct NodeMonth {
    month: Month,
    fill_hours: f64,
    /// Node-hours with the fill, and their 90 % interval.
    hours: f64,
    low: f64,
    high: f64,
}

impl NodeMonth {
    /// What takes most of the node's hours: the cache fill, reading, or
    /// the GPUs.
    fn bottleneck(&self) -> Bottleneck {
        let m = &self.month;
        if self.fill_hours > m.storage_hours.max(m.gpu_hours) {
            Bottleneck::Copy
        } else if m.storage_hours >= m.gpu_hours {
            Bottleneck::Storage
        } else {
            Bottleneck::Gpu
        }
    }
}

/// Node-hours a month of `workload` takes on one node of `c`, the cache
/// fill added; or the constraint that removes `c` and why.
fn node_month(
    c: &Candidate,
    workload: &[DatasetClass],
    per_month: f64,
    times_model: &Model,
) -> Result<NodeMonth, (&'static str, String)> {
    let m = month(workload, c, times_model).map_err(|e| ("job time", e.to_string()))?;
    // Filling the cache: jobs wait for their stack to be copied in.
    let fill_hours = c.fill.map_or(0.0, |f| f.bytes_per_month / f.rate / 3600.0);
    let hours = m.hours + fill_hours;
    if !(hours.is_finite() && hours > 0.0 && per_month > 0.0) {
        return Err((
            "throughput",
            "no throughput (zero rate or empty workload)".into(),
        ));
    }
    Ok(NodeMonth {
        low: m.low + fill_hours,
        high: m.high + fill_hours,
        month: m,
        fill_hours,
        hours,
    })
}

/// Nodes in the fleet: `--nodes`, else as many as the target needs at
/// `per_node` datasets a month each, at most `--max-nodes`.
fn fleet_nodes(per_node: f64, limits: &Constraints) -> u32 {
    let nodes_needed = (limits.target_per_month / per_node).ceil().max(1.0);
    match limits.nodes {
        Some(n) => n,
        None if nodes_needed > f64::from(limits.max_nodes) => limits.max_nodes,
        None => nodes_needed as u32,
    }
}

/// A node's power draw at full load, watts, and the price of the energy
/// the mean dataset takes (with `--power-price`).
fn power(c: &Candidate, hours_per_dataset: f64, limits: &Constraints) -> (f64, Option<f64>) {
    let node_power_w = f64::from(c.per_node) * c.gpu.board_power_w + limits.base_power_w;
    // kWh of the mean dataset at full load, times the price.
    let energy = limits
        .power_price
        .map(|p| node_power_w * hours_per_dataset / 1000.0 * p);
    (node_power_w, energy)
}

/// One candidate ranked, or the constraint that removes it.
fn rank(
    c: &Candidate,
    label: String,
    mix: &Mix,
    workload: &[DatasetClass],
    prices: &PriceBook,
    limits: &Constraints,
    times_model: &Model,
) -> Result<Ranked, Pruned> {
    let prune = |(constraint, reason): (&'static str, String)| Pruned {
        label: label.clone(),
        constraint,
        reason,
    };
    if let Some(short) = hardware_short(c, mix, limits) {
        return Err(prune(short));
    }
    let Some(node_price) = node_price(c, prices) else {
        return Err(prune((
            "price",
            "no price for its GPU, storage tier, RAM, cores or SSD".into(),
        )));
    };
    let per_month = mix.per_month;
    let nm = node_month(c, workload, per_month, times_model).map_err(prune)?;
    let per_node = per_month * HOURS_PER_MONTH / nm.hours;
    let nodes = fleet_nodes(per_node, limits);
    let fleet_price = node_price * f64::from(nodes);
    let fleet = per_node * f64::from(nodes);
    let (node_power_w, energy_per_dataset) = power(c, nm.hours / per_month, limits);
    let cost_per_dataset =
        node_price / (per_node * 12.0 * limits.years) + energy_per_dataset.unwrap_or(0.0);
    let slowest = nm.month.slowest_hours;
    let bottleneck = nm.bottleneck();
    let (reaches, quick, within_budget, misses) =
        first_miss(fleet, nodes, slowest, fleet_price, limits, &prices.currency);
    Ok(Ranked {
        label,
        gpu: c.gpu.id.clone(),
        per_node: c.per_node,
        tier: c.tier.id.clone(),
        time_basis: nm.month.basis,
        fitted_as: nm.month.fitted_as,
        jobs: nm.month.slowest_jobs,
        hours_low: nm.low / per_month,
        hours_high: nm.high / per_month,
        tier_read_bytes_per_s: c.tier.read_bytes_per_s,
        tier_measured: c.tier.measured.clone(),
        fill_hours_per_dataset: nm.fill_hours / per_month,
        node_price,
        hours_per_dataset: nm.hours / per_month,
        datasets_per_month_per_node: per_node,
        bottleneck,
        nodes,
        fleet_price,
        fleet_datasets_per_month: fleet,
        cost_per_dataset,
        node_power_w,
        energy_per_dataset,
        cost_per_million_particle_passes: cost_per_dataset / (mix.passes_per_dataset / 1e6),
        slowest_hours_per_dataset: slowest,
        meets_target: reaches && quick,
        within_budget,
        misses,
    })
}

/// The cheapest fleet that meets the target within budget.
fn choose(ranked: &[Ranked]) -> Option<usize> {
    ranked
        .iter()
        .enumerate()
        .filter(|(_, r)| r.meets_target && r.within_budget)
        .min_by(|(_, a), (_, b)| {
            a.fleet_price
                .total_cmp(&b.fleet_price)
                .then(a.cost_per_dataset.total_cmp(&b.cost_per_dataset))
        })
        .map(|(i, _)| i)
}

/// What would change the answer: the dearest fleet cheaper than the chosen
/// one (label breaks ties), and what it misses.
fn change_line(ranked: &[Ranked], chosen: usize, currency: &str) -> String {
    let c = &ranked[chosen];
    let next = ranked
        .iter()
        .filter(|r| r.fleet_price < c.fleet_price)
        .max_by(|a, b| {
            a.fleet_price
                .total_cmp(&b.fleet_price)
                .then(b.label.cmp(&a.label))
        });
    match next {
        Some(n) => format!(
            "the next cheaper option, {} × ({}) for {} {}, misses {}",
            n.nodes,
            n.label,
            money(n.fleet_price),
            currency,
            n.misses.as_deref().unwrap_or("nothing")
        ),
        None => "no feasible fleet is cheaper".into(),
    }
}

/// Ranks every candidate for `workload`.
pub fn recommend(
    workload: &[DatasetClass],
    candidates: &[Candidate],
    prices: &PriceBook,
    limits: &Constraints,
    jobs: &[VramJob],
    times_model: &Model,
) -> Recommendation {
    let mix = Mix::of(workload, jobs);
    let mut ranked = Vec::new();
    let mut pruned = Vec::new();
    let mut seen = BTreeSet::new();
    for c in candidates {
        let label = c.label();
        if !seen.insert(label.clone()) {
            continue;
        }
        match rank(c, label, &mix, workload, prices, limits, times_model) {
            Ok(r) => ranked.push(r),
            Err(p) => pruned.push(p),
        }
    }
    ranked.sort_by(|a, b| {
        a.cost_per_dataset
            .total_cmp(&b.cost_per_dataset)
            .then(
                b.datasets_per_month_per_node
                    .total_cmp(&a.datasets_per_month_per_node),
            )
            .then(a.label.cmp(&b.label))
    });
    let points: Vec<(String, f64, f64)> = ranked
        .iter()
        .map(|r| (r.label.clone(), r.node_price, r.datasets_per_month_per_node))
        .collect();
    let chosen = choose(&ranked);
    let change = chosen.map(|i| change_line(&ranked, i, &prices.currency));
    Recommendation {
        frontier: frontier(&points),
        ranked,
        pruned,
        chosen,
        vram_needed_bytes: mix.need,
        change,
    }
}

/// The CryoSPARC worker profile's minimum per GPU of requirement `id` (0
/// when the profile lacks it): `ram` and `cpu_cores` bound the candidates'
/// RAM and cores.
pub fn worker_minimum_per_gpu(catalog: &crate::datasets::Catalog, id: &str) -> f64 {
    catalog
        .profile("cryosparc-worker")
        .and_then(|p| p.requirements.iter().find(|r| r.id == id))
        .and_then(|r| r.minimum)
        .unwrap_or(0.0)
}

fn money(v: f64) -> String {
    crate::units::group_digits(v.round().max(0.0) as u64)
}

/// Which constraint removed how many configurations, for an empty feasible
/// set: `VRAM: 4 (2× rtx-3060, ...)`, one part per kind of reason.
pub fn explain_pruned(pruned: &[Pruned]) -> String {
    let mut kinds: Vec<&'static str> = Vec::new();
    for p in pruned {
        if !kinds.contains(&p.constraint) {
            kinds.push(p.constraint);
        }
    }
    kinds
        .iter()
        .map(|kind| {
            let of: Vec<&Pruned> = pruned.iter().filter(|p| p.constraint == *kind).collect();
            let labels: Vec<&str> = of.iter().map(|p| p.label.as_str()).collect();
            format!(
                "{kind} removed {} ({}), e.g. {}",
                of.len(),
                labels.join(", "),
                of.first().map_or("", |p| p.reason.as_str())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
