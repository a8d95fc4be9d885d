//! What `recommend` ranks and returns: the workload (dataset classes and
//! their job chains), the candidates (GPU, tier, node spec, cache fill),
//! the price book and constraints, and each configuration ranked or
//! pruned with its reason.

use crate::results::plan::Dtype;
use crate::sizing::stack::{self, SizeModel};

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
    pub jobs: Vec<crate::sizing::dataset_time::JobHours>,
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
