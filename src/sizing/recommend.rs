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

use super::dataset_time::month;
use super::stack::{self, SizeModel};
use super::vram;
use crate::datasets::VramJob;
use crate::jobtime::Model;
use crate::results::plan::Dtype;

/// Hours a node works in a month: 365.25 · 24 / 12.
pub const HOURS_PER_MONTH: f64 = 730.5;

/// One job of a chain and how many passes over the stack it makes.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStep {
    /// A job of `datasets/vram.csv`.
    pub job: String,
    pub passes: u32,
}

/// The usual CryoSPARC chain of `cache workload`, with assumed passes per
/// job (iterations that each read the whole stack).
pub fn default_chain() -> Vec<JobStep> {
    [
        ("class2d", 20),
        ("abinit", 5),
        ("homo-refine", 10),
        ("nu-refine", 10),
        ("hetero-refine", 20),
        ("class2d", 20),
    ]
    .into_iter()
    .map(|(job, passes)| JobStep {
        job: job.to_string(),
        passes,
    })
    .collect()
}

/// One kind of dataset the lab processes every month.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetClass {
    pub name: String,
    pub per_month: f64,
    pub particles: u64,
    pub box_size: u32,
    pub dtype: Dtype,
    pub chain: Vec<JobStep>,
}

impl DatasetClass {
    pub fn passes(&self) -> u64 {
        self.chain.iter().map(|s| u64::from(s.passes)).sum()
    }

    pub fn stack_bytes(&self) -> u64 {
        stack::stack_size(self.particles, self.box_size, self.dtype, SizeModel::Guide).bytes
    }
}

/// A GPU model a node may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuOption {
    pub id: String,
    pub vram_bytes: u64,
    /// The catalog's memory bandwidth and FP32 rate: the job-time model's
    /// inputs for a GPU.
    pub memory_bandwidth_gb_s: f64,
    pub fp32_tflops: f64,
    /// Board power at full load, watts (the catalog's).
    pub board_power_w: f64,
}

/// A storage tier a node reads its stacks from.
#[derive(Debug, Clone, PartialEq)]
pub struct TierOption {
    pub id: String,
    pub read_bytes_per_s: f64,
    /// Where a measured read rate comes from; None when it is the catalog's
    /// (modelled) sequential read rate.
    pub measured: Option<String>,
}

/// The sequential read rate a storage measurement shows: the best
/// sequential run (bytes per second), or None when it has none.
pub fn measured_read_rate(runs: &[crate::results::bench_io::IoRun]) -> Option<f64> {
    runs.iter()
        .filter(|r| r.pattern == "sequential")
        .map(|r| r.bytes_per_second)
        .filter(|v| v.is_finite() && *v > 0.0)
        .max_by(f64::total_cmp)
}

/// Prices of the parts, all in one currency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceBook {
    pub currency: String,
    /// Chassis, CPUs, RAM and system disk of one node, without GPUs.
    pub node_base: f64,
    /// Per GB of RAM, per CPU core and per TB of SSD cache, when the
    /// candidates choose them (`ram-gb`, `cpu-core`, `ssd-tb`).
    pub ram_per_gb: Option<f64>,
    pub per_core: Option<f64>,
    pub ssd_per_tb: Option<f64>,
    /// Per GPU, by GPU id.
    pub gpus: Vec<(String, f64)>,
    /// Per node, by storage tier id (the SSD or the share of the link).
    pub tiers: Vec<(String, f64)>,
}

impl PriceBook {
    pub fn gpu(&self, id: &str) -> Option<f64> {
        self.gpus.iter().find(|(g, _)| g == id).map(|(_, p)| *p)
    }

    pub fn tier(&self, id: &str) -> Option<f64> {
        self.tiers.iter().find(|(t, _)| t == id).map(|(_, p)| *p)
    }

    /// Every price times `k`.
    pub fn scaled(&self, k: f64) -> PriceBook {
        PriceBook {
            currency: self.currency.clone(),
            node_base: self.node_base * k,
            ram_per_gb: self.ram_per_gb.map(|p| p * k),
            per_core: self.per_core.map(|p| p * k),
            ssd_per_tb: self.ssd_per_tb.map(|p| p * k),
            gpus: self.gpus.iter().map(|(g, p)| (g.clone(), p * k)).collect(),
            tiers: self.tiers.iter().map(|(t, p)| (t.clone(), p * k)).collect(),
        }
    }
}

/// What the buyer can spend and needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    pub budget: Option<f64>,
    pub max_nodes: u32,
    /// Exactly this many nodes (`--nodes`), instead of as many as the
    /// target needs up to `max_nodes`.
    pub nodes: Option<u32>,
    /// Datasets per month of the workload's mix.
    pub target_per_month: f64,
    /// Longest a dataset of any class may take on one node, hours.
    pub max_hours_per_dataset: Option<f64>,
    pub years: f64,
    /// The node profile's minimum RAM and CPU cores per GPU (seed 003:
    /// 32 GiB and 2 cores).
    pub min_ram_per_gpu: u64,
    pub min_cores_per_gpu: u32,
    /// Price of a kWh, in the price list's currency (`--power-price`);
    /// None leaves power out of the costs.
    pub power_price: Option<f64>,
    /// Watts a node draws besides its GPUs (`--base-power`).
    pub base_power_w: f64,
}

/// RAM, CPU cores and SSD cache of a node, where the candidates choose
/// them (None: not a choice, not checked, not priced).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NodeSpec {
    pub ram_bytes: Option<u64>,
    pub cores: Option<u32>,
    pub ssd_bytes: Option<u64>,
}

/// Filling the node's SSD cache from shared storage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// Bytes copied into the cache in a month of the workload (the cache
    /// simulator's figure for this SSD size).
    pub bytes_per_month: f64,
    /// Bytes per second the cache is filled at (the shared storage's read rate).
    pub rate: f64,
}

/// One node configuration to consider.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub gpu: GpuOption,
    pub per_node: u32,
    pub tier: TierOption,
    pub spec: NodeSpec,
    /// The cache fill, when the node has an SSD cache (`--ssd`).
    pub fill: Option<Fill>,
}

impl Candidate {
    pub fn label(&self) -> String {
        let mut s = format!("{}× {}, {}", self.per_node, self.gpu.id, self.tier.id);
        if let Some(r) = self.spec.ram_bytes {
            s += &format!(", {} RAM", crate::units::bytes_binary(r));
        }
        if let Some(c) = self.spec.cores {
            s += &format!(", {c} cores");
        }
        if let Some(b) = self.spec.ssd_bytes {
            s += &format!(", {} SSD", crate::units::bytes_decimal(b));
        }
        s
    }
}

/// What limits a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bottleneck {
    Storage,
    Gpu,
    /// Filling the SSD cache.
    Copy,
}

impl Bottleneck {
    pub fn name(self) -> &'static str {
        match self {
            Bottleneck::Storage => "storage",
            Bottleneck::Gpu => "gpu",
            Bottleneck::Copy => "copy",
        }
    }
}

/// A feasible configuration, costed.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub label: String,
    pub gpu: String,
    pub per_node: u32,
    pub tier: String,
    /// How the GPU's job times were reached: `calibrated` (rows ran on
    /// this GPU), `extrapolated` (its catalog properties) or `proxy` (a job
    /// type timed as another's), the weakest over the chain's jobs.
    pub time_basis: &'static str,
    /// The job types whose calibration timed its jobs.
    pub fitted_as: Vec<&'static str>,
    /// The slowest class's dataset, job by job.
    pub jobs: Vec<super::dataset_time::JobHours>,
    /// The 90 % interval of the mean hours per dataset.
    pub hours_low: f64,
    pub hours_high: f64,
    pub tier_read_bytes_per_s: f64,
    /// Where the tier's read rate was measured, if it was.
    pub tier_measured: Option<String>,
    /// Hours of the mean dataset spent filling the SSD cache.
    pub fill_hours_per_dataset: f64,
    pub node_price: f64,
    /// Mean hours per dataset of the mix on one node.
    pub hours_per_dataset: f64,
    pub datasets_per_month_per_node: f64,
    pub bottleneck: Bottleneck,
    /// Nodes to meet the target (capped at max_nodes).
    pub nodes: u32,
    pub fleet_price: f64,
    pub fleet_datasets_per_month: f64,
    pub cost_per_dataset: f64,
    /// Watts a node draws at full load: GPUs at board power plus the base.
    pub node_power_w: f64,
    /// Energy cost of one dataset (included in `cost_per_dataset`), when a
    /// power price is given.
    pub energy_per_dataset: Option<f64>,
    /// Cost of a million particle-passes (one particle read by one job
    /// iteration) of the workload's mix.
    pub cost_per_million_particle_passes: f64,
    /// Hours the slowest class's dataset takes on one node.
    pub slowest_hours_per_dataset: f64,
    /// Reaches the datasets per month and the hours per dataset targets.
    pub meets_target: bool,
    pub within_budget: bool,
    /// The one constraint it misses first (throughput, hours, budget), in
    /// words; None when it meets them all.
    pub misses: Option<String>,
}

/// A configuration left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Pruned {
    pub label: String,
    /// The constraint that removed it: `VRAM`, `RAM per GPU`, `cores per
    /// GPU`, `SSD`, `price`, `throughput`.
    pub constraint: &'static str,
    pub reason: String,
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Feasible configurations, cheapest per dataset first.
    pub ranked: Vec<Ranked>,
    pub pruned: Vec<Pruned>,
    /// Labels of the Pareto frontier of node price against node throughput,
    /// cheapest first.
    pub frontier: Vec<String>,
    /// Index into `ranked` of the cheapest fleet meeting the target within
    /// the budget.
    pub chosen: Option<usize>,
    /// VRAM the largest box needs, over every job of every class.
    pub vram_needed_bytes: u64,
    /// What would change the answer: the next cheaper fleet than the
    /// chosen one and the constraint it misses.
    pub change: Option<String>,
}

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
    let prune = |constraint: &'static str, reason: String| Pruned {
        label: label.clone(),
        constraint,
        reason,
    };
    if let Some((constraint, reason)) = hardware_short(c, mix, limits) {
        return Err(prune(constraint, reason));
    }
    let Some(node_price) = node_price(c, prices) else {
        return Err(prune(
            "price",
            "no price for its GPU, storage tier, RAM, cores or SSD".into(),
        ));
    };
    // Node-hours a month of the workload, and what limits most of them.
    let m = month(workload, c, times_model).map_err(|e| prune("job time", e.to_string()))?;
    // Filling the cache: jobs wait for their stack to be copied in.
    let fill_hours = c.fill.map_or(0.0, |f| f.bytes_per_month / f.rate / 3600.0);
    let (hours, low, high) = (
        m.hours + fill_hours,
        m.low + fill_hours,
        m.high + fill_hours,
    );
    let per_month = mix.per_month;
    if !(hours.is_finite() && hours > 0.0 && per_month > 0.0) {
        return Err(prune(
            "throughput",
            "no throughput (zero rate or empty workload)".into(),
        ));
    }
    let per_node = per_month * HOURS_PER_MONTH / hours;
    let nodes_needed = (limits.target_per_month / per_node).ceil().max(1.0);
    let nodes = match limits.nodes {
        Some(n) => n,
        None if nodes_needed > f64::from(limits.max_nodes) => limits.max_nodes,
        None => nodes_needed as u32,
    };
    let fleet_price = node_price * f64::from(nodes);
    let fleet = per_node * f64::from(nodes);
    let node_power_w = f64::from(c.per_node) * c.gpu.board_power_w + limits.base_power_w;
    // kWh of the mean dataset at full load, times the price.
    let energy_per_dataset = limits
        .power_price
        .map(|p| node_power_w * (hours / per_month) / 1000.0 * p);
    let cost_per_dataset =
        node_price / (per_node * 12.0 * limits.years) + energy_per_dataset.unwrap_or(0.0);
    let (reaches, quick, within_budget, misses) = first_miss(
        fleet,
        nodes,
        m.slowest_hours,
        fleet_price,
        limits,
        &prices.currency,
    );
    Ok(Ranked {
        label,
        gpu: c.gpu.id.clone(),
        per_node: c.per_node,
        tier: c.tier.id.clone(),
        time_basis: m.basis,
        fitted_as: m.fitted_as,
        jobs: m.slowest_jobs,
        hours_low: low / per_month,
        hours_high: high / per_month,
        tier_read_bytes_per_s: c.tier.read_bytes_per_s,
        tier_measured: c.tier.measured.clone(),
        fill_hours_per_dataset: fill_hours / per_month,
        node_price,
        hours_per_dataset: hours / per_month,
        datasets_per_month_per_node: per_node,
        bottleneck: if fill_hours > m.storage_hours.max(m.gpu_hours) {
            Bottleneck::Copy
        } else if m.storage_hours >= m.gpu_hours {
            Bottleneck::Storage
        } else {
            Bottleneck::Gpu
        },
        nodes,
        fleet_price,
        fleet_datasets_per_month: fleet,
        cost_per_dataset,
        node_power_w,
        energy_per_dataset,
        cost_per_million_particle_passes: cost_per_dataset / (mix.passes_per_dataset / 1e6),
        slowest_hours_per_dataset: m.slowest_hours,
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
mod tests {
    use super::*;
    use crate::datasets::Catalog;
    use proptest::prelude::*;

    fn model() -> &'static Model {
        crate::jobtime::shipped_model().unwrap()
    }

    fn gpu(id: &str, vram_gib: u64, gb_s: f64) -> GpuOption {
        GpuOption {
            id: id.into(),
            vram_bytes: vram_gib << 30,
            memory_bandwidth_gb_s: gb_s,
            fp32_tflops: Catalog::get().unwrap().gpu(id).unwrap().fp32_tflops,
            board_power_w: 300.0,
        }
    }

    fn tier(id: &str, mb_s: f64) -> TierOption {
        TierOption {
            id: id.into(),
            read_bytes_per_s: mb_s * 1e6,
            measured: None,
        }
    }

    fn workload(box_size: u32) -> Vec<DatasetClass> {
        vec![DatasetClass {
            name: "lab".into(),
            per_month: 4.0,
            particles: 2_000_000,
            box_size,
            dtype: Dtype::F32,
            chain: default_chain(),
        }]
    }

    fn candidates() -> Vec<Candidate> {
        let gpus = [
            gpu("rtx-3090", 24, 936.0),
            gpu("rtx-a4000", 16, 448.0),
            gpu("a100-80gb", 80, 1935.0),
            gpu("rtx-3060", 12, 360.0),
        ];
        let tiers = [tier("nfs-10gbe", 1100.0), tier("nvme-gen4", 7400.0)];
        let mut out = Vec::new();
        for g in &gpus {
            for n in [2, 4, 8] {
                for t in &tiers {
                    out.push(Candidate {
                        gpu: g.clone(),
                        per_node: n,
                        tier: t.clone(),
                        spec: NodeSpec::default(),
                        fill: None,
                    });
                }
            }
        }
        out
    }

    fn prices() -> PriceBook {
        PriceBook {
            currency: "USD".into(),
            node_base: 8000.0,
            gpus: vec![
                ("rtx-3090".into(), 1500.0),
                ("rtx-a4000".into(), 1000.0),
                ("a100-80gb".into(), 15000.0),
                ("rtx-3060".into(), 300.0),
            ],
            tiers: vec![("nfs-10gbe".into(), 500.0), ("nvme-gen4".into(), 1200.0)],
            ..PriceBook::default()
        }
    }

    fn limits() -> Constraints {
        Constraints {
            budget: None,
            max_nodes: 4,
            nodes: None,
            target_per_month: 4.0,
            max_hours_per_dataset: None,
            years: 5.0,
            min_ram_per_gpu: 32 << 30,
            min_cores_per_gpu: 2,
            power_price: None,
            base_power_w: 0.0,
        }
    }

    fn jobs() -> &'static [VramJob] {
        &Catalog::get().unwrap().vram_jobs
    }

    #[test]
    fn every_default_chain_job_has_a_job_time_type() {
        for step in default_chain() {
            assert!(
                crate::jobtime::jobs::find(&step.job).is_some(),
                "{}",
                step.job
            );
        }
    }

    #[test]
    fn hand_arithmetic_of_one_node() {
        // 2e6 particles at box 256, f32: (4·256² + 128 + 1024)·2e6 bytes.
        let mut class = workload(256)[0].clone();
        assert_eq!(class.stack_bytes(), (4 * 65_536 + 1152) * 2_000_000);
        class.chain = vec![JobStep {
            job: "relion-class3d".into(),
            passes: 25,
        }];
        let c = Candidate {
            gpu: gpu("rtx-3090", 24, 936.0),
            per_node: 2,
            tier: tier("nfs-10gbe", 1100.0),
            spec: NodeSpec::default(),
            fill: None,
        };
        // RELION waits for its reads: the model's compute plus 25 passes.
        let cat = Catalog::get().unwrap();
        let mut q = crate::jobtime::JobQuery::new(
            crate::jobtime::jobs::find("relion-class3d").unwrap(),
            2_000_000,
            256,
            crate::jobtime::Device::gpus(cat.gpu("rtx-3090").unwrap(), 2),
        );
        q.iterations = Some(25.0);
        let compute = model().predict(&q).unwrap().seconds;
        let read = class.stack_bytes() as f64 / 1.1e9 * 25.0;
        let t = crate::sizing::dataset_time::dataset_time(&class, &c, model()).unwrap();
        assert!((t.hours - (compute + read) / 3600.0).abs() < 1e-9);
        assert!(t.low < t.hours && t.hours < t.high);
        assert_eq!(t.jobs[0].basis, "extrapolated");
        assert_eq!(
            t.jobs[0].bottleneck,
            if compute > read { "gpu" } else { "storage" }
        );
    }

    #[test]
    fn small_vram_is_pruned_with_the_reason() {
        let r = recommend(
            &workload(800),
            &candidates(),
            &prices(),
            &limits(),
            jobs(),
            model(),
        );
        assert!(r.vram_needed_bytes > 12 << 30, "{}", r.vram_needed_bytes);
        assert!(r.pruned.iter().any(|p| p.label.contains("rtx-3060")));
        assert!(r.ranked.iter().all(|x| x.gpu != "rtx-3060"));
        assert!(r.pruned.iter().all(|p| p.reason.contains("VRAM")));
    }

    #[test]
    fn a_big_target_is_met_by_more_nodes_or_not_at_all() {
        let mut l = limits();
        l.target_per_month = 1e6;
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        assert!(r.chosen.is_none());
        assert!(r.ranked.iter().all(|x| x.nodes == 4 && !x.meets_target));
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &limits(),
            jobs(),
            model(),
        );
        let chosen = &r.ranked[r.chosen.unwrap()];
        assert!(chosen.meets_target);
        assert!(
            r.ranked
                .iter()
                .filter(|x| x.meets_target)
                .all(|x| x.fleet_price >= chosen.fleet_price)
        );
    }

    #[test]
    fn power_adds_energy_per_dataset_by_hand() {
        let mut l = limits();
        let a = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        l.power_price = Some(0.25);
        l.base_power_w = 400.0;
        let b = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        for y in &b.ranked {
            let x = a.ranked.iter().find(|x| x.label == y.label).unwrap();
            // (GPUs × 300 W + 400 W) × hours / 1000 × 0.25 per kWh
            let kwh = (f64::from(y.per_node) * 300.0 + 400.0) * y.hours_per_dataset / 1000.0;
            assert!((y.energy_per_dataset.unwrap() - kwh * 0.25).abs() < 1e-9);
            assert!((y.cost_per_dataset - x.cost_per_dataset - kwh * 0.25).abs() < 1e-9);
        }
    }

    #[test]
    fn cost_per_million_particle_passes_by_hand() {
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &limits(),
            jobs(),
            model(),
        );
        for x in &r.ranked {
            // 2e6 particles × 85 passes = 170 million particle-passes a dataset.
            assert!(
                (x.cost_per_million_particle_passes - x.cost_per_dataset / 170.0).abs() < 1e-12
            );
        }
    }

    #[test]
    fn fixed_node_count_and_hours_target() {
        let mut l = limits();
        l.nodes = Some(3);
        l.max_nodes = 3;
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        assert!(r.ranked.iter().all(|x| x.nodes == 3));
        // An hours target between the fastest and slowest configurations.
        let mut hs: Vec<f64> = r
            .ranked
            .iter()
            .map(|x| x.slowest_hours_per_dataset)
            .collect();
        hs.sort_by(f64::total_cmp);
        let cut = (hs[0] + hs[hs.len() - 1]) / 2.0;
        l.max_hours_per_dataset = Some(cut);
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        for x in &r.ranked {
            assert_eq!(
                x.meets_target,
                x.slowest_hours_per_dataset <= cut,
                "{}",
                x.label
            );
            if !x.meets_target {
                assert!(
                    x.misses
                        .as_deref()
                        .unwrap()
                        .starts_with("hours per dataset")
                );
            }
        }
        let chosen = &r.ranked[r.chosen.unwrap()];
        assert!(chosen.slowest_hours_per_dataset <= cut);
    }

    #[test]
    fn what_would_change_names_the_next_cheaper_fleet_and_its_miss() {
        // A target between the quickest and the slowest configuration.
        let mut l = limits();
        let all = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        let mut hs: Vec<f64> = all
            .ranked
            .iter()
            .map(|x| x.slowest_hours_per_dataset)
            .collect();
        hs.sort_by(f64::total_cmp);
        l.max_hours_per_dataset = Some(hs[hs.len() / 4]);
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &l,
            jobs(),
            model(),
        );
        let chosen = &r.ranked[r.chosen.unwrap()];
        let next = r
            .ranked
            .iter()
            .filter(|x| x.fleet_price < chosen.fleet_price)
            .max_by(|a, b| {
                a.fleet_price
                    .total_cmp(&b.fleet_price)
                    .then(b.label.cmp(&a.label))
            })
            .unwrap();
        let change = r.change.unwrap();
        assert!(change.contains(&next.label), "{change}");
        assert!(change.contains(next.misses.as_deref().unwrap()), "{change}");
        assert!(change.contains("misses hours per dataset"), "{change}");
    }

    #[test]
    fn pruned_configurations_are_explained_by_constraint() {
        let r = recommend(
            &workload(800),
            &candidates(),
            &prices(),
            &limits(),
            jobs(),
            model(),
        );
        let why = explain_pruned(&r.pruned);
        assert!(why.starts_with("VRAM removed 12 (2× rtx-a4000"), "{why}");
        let mut p = prices();
        p.gpus.retain(|g| g.0 != "rtx-3090");
        let r = recommend(
            &workload(800),
            &candidates(),
            &p,
            &limits(),
            jobs(),
            model(),
        );
        let why = explain_pruned(&r.pruned);
        assert!(
            why.contains("VRAM removed 12") && why.contains("price removed 6"),
            "{why}"
        );
    }

    fn with_specs() -> (Vec<Candidate>, PriceBook) {
        let mut out = Vec::new();
        for c in candidates() {
            for ram in [64u64 << 30, 256 << 30] {
                for cores in [8, 32] {
                    for ssd in [1_000_000_000_000u64, 2_000_000_000_000] {
                        let mut c = c.clone();
                        c.spec = NodeSpec {
                            ram_bytes: Some(ram),
                            cores: Some(cores),
                            ssd_bytes: Some(ssd),
                        };
                        out.push(c);
                    }
                }
            }
        }
        let mut p = prices();
        p.ram_per_gb = Some(4.0);
        p.per_core = Some(60.0);
        p.ssd_per_tb = Some(120.0);
        (out, p)
    }

    #[test]
    fn ram_cores_and_ssd_prune_with_the_constraint_named() {
        // Box 432, 2e6 particles: a 1.50 TB stack, over a 1 TB SSD.
        let (cs, p) = with_specs();
        let r = recommend(&workload(432), &cs, &p, &limits(), jobs(), model());
        for x in &r.ranked {
            let c = cs.iter().find(|c| c.label() == x.label).unwrap();
            let n = u64::from(c.per_node);
            assert!(c.spec.ram_bytes.unwrap() >= n * (32 << 30), "{}", x.label);
            assert!(c.spec.cores.unwrap() >= 2 * c.per_node, "{}", x.label);
            assert_eq!(c.spec.ssd_bytes, Some(2_000_000_000_000), "{}", x.label);
            // node-base + GPUs + tier + RAM (GB) + cores + SSD (TB)
            let want = 8000.0
                + f64::from(c.per_node) * p.gpu(&c.gpu.id).unwrap()
                + p.tier(&c.tier.id).unwrap()
                + 4.0 * c.spec.ram_bytes.unwrap() as f64 / 1e9
                + 60.0 * f64::from(c.spec.cores.unwrap())
                + 120.0 * 2.0;
            assert!(
                (x.node_price - want).abs() < 1e-6,
                "{}: {} vs {want}",
                x.label,
                x.node_price
            );
        }
        let why = explain_pruned(&r.pruned);
        for kind in [
            "RAM per GPU removed",
            "cores per GPU removed",
            "SSD removed",
        ] {
            assert!(why.contains(kind), "{why}");
        }
        assert!(
            r.pruned.iter().any(|p| p.constraint == "SSD"
                && p.reason == "SSD 1.00 TB below the largest stack, 1.50 TB")
        );
        assert_eq!(r.ranked.len() + r.pruned.len(), cs.len());
    }

    #[test]
    fn a_faster_gpu_ranks_differently_and_the_gpu_is_the_bottleneck_on_fast_storage() {
        let r = recommend(
            &workload(256),
            &candidates(),
            &prices(),
            &limits(),
            jobs(),
            model(),
        );
        let nvme: Vec<&Ranked> = r.ranked.iter().filter(|x| x.tier == "nvme-gen4").collect();
        assert!(
            nvme.iter().all(|x| x.bottleneck == Bottleneck::Gpu),
            "{nvme:?}"
        );
        let hours = |g: &str| {
            nvme.iter()
                .find(|x| x.gpu == g && x.per_node == 4)
                .unwrap()
                .hours_per_dataset
        };
        assert!(hours("a100-80gb") < hours("rtx-3090"));
        assert!(hours("rtx-3090") < hours("rtx-a4000"));
    }

    proptest! {
        #[test]
        fn price_scaling_scales_costs_and_keeps_ranking(k in 0.01f64..100.0, box_size in 64u32..700) {
            let w = workload(box_size);
            let a = recommend(&w, &candidates(), &prices(), &limits(), jobs(), model());
            let b = recommend(&w, &candidates(), &prices().scaled(k), &limits(), jobs(), model());
            prop_assert_eq!(a.ranked.len(), b.ranked.len());
            for (x, y) in a.ranked.iter().zip(&b.ranked) {
                prop_assert_eq!(&x.label, &y.label);
                prop_assert!((y.cost_per_dataset - k * x.cost_per_dataset).abs() <= 1e-9 * y.cost_per_dataset.abs().max(1.0));
                prop_assert!((y.fleet_price - k * x.fleet_price).abs() <= 1e-9 * y.fleet_price.max(1.0));
                prop_assert!((y.cost_per_million_particle_passes - k * x.cost_per_million_particle_passes).abs()
                    <= 1e-9 * y.cost_per_million_particle_passes.abs().max(1e-12));
            }
            prop_assert_eq!(a.frontier, b.frontier);
        }

        #[test]
        fn frontier_points_are_non_dominated(box_size in 64u32..700, base in 0.0f64..50_000.0) {
            let mut p = prices();
            p.node_base = base;
            let r = recommend(&workload(box_size), &candidates(), &p, &limits(), jobs(), model());
            for f in &r.frontier {
                let me = r.ranked.iter().find(|x| &x.label == f).unwrap();
                for o in &r.ranked {
                    prop_assert!(!dominates(
                        (o.node_price, o.datasets_per_month_per_node),
                        (me.node_price, me.datasets_per_month_per_node)));
                }
            }
            // Every feasible point off the frontier is dominated by one on it.
            for x in r.ranked.iter().filter(|x| !r.frontier.contains(&x.label)) {
                prop_assert!(r.ranked.iter().any(|o| dominates(
                    (o.node_price, o.datasets_per_month_per_node),
                    (x.node_price, x.datasets_per_month_per_node))));
            }
        }

        #[test]
        fn a_dominated_candidate_leaves_the_frontier(box_size in 64u32..700, slow in 0.01f64..0.99, extra in 1.0f64..10_000.0) {
            let w = workload(box_size);
            let a = recommend(&w, &candidates(), &prices(), &limits(), jobs(), model());
            // A copy of a frontier GPU that is slower and dearer.
            let Some(first) = a.ranked.iter().find(|x| a.frontier.contains(&x.label)) else {
                return Ok(());
            };
            let base = candidates().into_iter().find(|c| c.label() == first.label).unwrap();
            let mut worse = base.clone();
            worse.gpu.id = "worse-gpu".into();
            worse.gpu.memory_bandwidth_gb_s *= slow;
            worse.gpu.fp32_tflops *= slow;
            let mut p = prices();
            p.gpus.push(("worse-gpu".into(), p.gpu(&base.gpu.id).unwrap() + extra));
            let mut cs = candidates();
            cs.push(worse);
            let b = recommend(&w, &cs, &p, &limits(), jobs(), model());
            prop_assert_eq!(a.frontier, b.frontier);
        }

        #[test]
        fn no_infeasible_spec_is_listed(box_size in 64u32..1200, particles in 1_000u64..5_000_000) {
            let (cs, p) = with_specs();
            let mut w = workload(box_size);
            w[0].particles = particles;
            let r = recommend(&w, &cs, &p, &limits(), jobs(), model());
            for x in &r.ranked {
                let c = cs.iter().find(|c| c.label() == x.label).unwrap();
                prop_assert!(c.gpu.vram_bytes >= r.vram_needed_bytes);
                prop_assert!(c.spec.ram_bytes.unwrap() >= u64::from(c.per_node) * (32 << 30));
                prop_assert!(c.spec.cores.unwrap() >= 2 * c.per_node);
                prop_assert!(c.spec.ssd_bytes.unwrap() >= w[0].stack_bytes());
            }
            prop_assert_eq!(r.ranked.len() + r.pruned.len(), cs.len());
        }

        #[test]
        fn no_infeasible_configuration_is_listed(box_size in 64u32..1200) {
            let r = recommend(&workload(box_size), &candidates(), &prices(), &limits(), jobs(), model());
            for x in &r.ranked {
                let c = candidates().into_iter().find(|c| c.label() == x.label).unwrap();
                prop_assert!(c.gpu.vram_bytes >= r.vram_needed_bytes);
            }
            prop_assert_eq!(r.ranked.len() + r.pruned.len(), candidates().len());
        }
    }
}
