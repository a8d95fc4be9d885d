//! `cryocap recommend` flags.

use std::path::PathBuf;

use clap::Args;

use super::values::{self, BoxSize};
use super::{DtypeArg, OutputArgs};
use crate::sizing::MAX_PARTICLES;

#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The lab's workload as TOML: [[class]] tables with name, per_month,
    /// particles, box, dtype and chain (["class2d:20", ...]); instead of the
    /// single-dataset flags.
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    // --particles, --box, --dtype: this command's own help, not a shared
    // group (see the module notes).
    /// Particles of the one recurring dataset (without --workload).
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, MAX_PARTICLES))]
    pub particles: Option<u64>,
    /// Box size of the recurring dataset, pixels.
    #[arg(long = "box", value_name = "PIXELS")]
    pub box_size: Option<BoxSize>,
    /// Pixel type on disk of the recurring dataset [default: f32].
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
    /// Datasets of that kind per month [default: 4].
    #[arg(long, value_name = "N", value_parser = values::positive(1e6))]
    pub per_month: Option<f64>,
    /// The job chain, `job:passes` comma-separated [default: class2d:20,abinit:5,homo-refine:10,nu-refine:10,hetero-refine:20,class2d:20].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub chain: Vec<String>,
    // --gpus, --ram, --cores: lists of candidates here, not a node's
    // figures as elsewhere (see the module notes).
    /// GPU models to consider (`cryocap catalog gpus`), comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', required = true)]
    pub gpus: Vec<String>,
    /// GPUs per node to consider, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "2,4,8",
          value_parser = values::count::<u32>(1, 64))]
    pub per_node: Vec<u32>,
    /// Storage tiers the nodes read stacks from (`cryocap catalog storage`), comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "nvme-gen4"
    )]
    pub tiers: Vec<String>,
    /// RAM per node to consider, comma-separated (e.g. 128GiB,256GiB): pruned
    /// below the worker profile's RAM per GPU, priced by the list's `ram-gb`.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = values::size(1))]
    pub ram: Vec<u64>,
    /// CPU cores per node to consider, comma-separated: pruned below the
    /// worker profile's cores per GPU, priced by `cpu-core`.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = values::count::<u32>(1, 4096))]
    pub cores: Vec<u32>,
    /// SSD cache sizes to consider, comma-separated (e.g. 2TB,4TB): pruned
    /// below the largest stack, priced by `ssd-tb`.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = values::size(1))]
    pub ssd: Vec<u64>,
    /// With --ssd: the storage tier the SSD cache is filled from (shared
    /// project storage) [default: nfs-10gbe, seed 003's 10 Gb/s link].
    #[arg(long, value_name = "TIER", default_value = "nfs-10gbe")]
    pub fill_from: String,
    /// Price list CSV: item,unit_price,currency,date,source (see datasets/prices-example.csv).
    #[arg(long, value_name = "FILE")]
    pub prices: PathBuf,
    /// Most the fleet may cost, in the price list's currency.
    #[arg(long, value_name = "AMOUNT", value_parser = values::positive(1e15))]
    pub budget: Option<f64>,
    /// Most nodes to buy.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = values::count::<u32>(1, 10_000))]
    pub max_nodes: u32,
    /// Exactly this many nodes (instead of as many as the target needs, up to --max-nodes).
    #[arg(long, value_name = "N", conflicts_with = "max_nodes",
          value_parser = values::count::<u32>(1, 10_000))]
    pub nodes: Option<u32>,
    /// Targets, comma-separated: datasets per month (`40` or `40/month`)
    /// and/or hours per dataset on one node (`24h`) [default: the
    /// workload's datasets per month].
    #[arg(long, value_name = "N[/month]|Hh", value_delimiter = ',', value_parser = target)]
    pub target: Vec<Target>,
    /// Years the purchase is spread over in cost per dataset.
    #[arg(long, value_name = "N", default_value_t = 5.0, value_parser = values::positive(100.0))]
    pub years: f64,
    /// Price of a kWh in the price list's currency: adds each dataset's
    /// energy (GPUs at catalog board power plus --base-power) to its cost.
    #[arg(long, value_name = "PRICE", value_parser = values::positive(1e6))]
    pub power_price: Option<f64>,
    /// Watts a node draws besides its GPUs (CPUs, RAM, disks, fans), for --power-price.
    #[arg(long, value_name = "WATTS", default_value_t = 0.0, value_parser = values::positive_or_zero(1e6))]
    pub base_power: f64,
    /// Refused: a `bench gpu` result times the insertion kernel, not a job
    /// (kept so that old scripts get that answer rather than "unknown flag").
    #[arg(long, value_name = "FILE", hide = true)]
    pub bench_gpu: Option<PathBuf>,
    #[command(flatten)]
    pub calibration: super::CalibrationArg,
    /// Results measured on candidate nodes: `bench io` or `qualify` JSON,
    /// written `TIER=FILE`, replaces that storage tier's read rate (job
    /// times come from the job-time model: see --calibration).
    #[arg(long, value_name = "[TIER=]FILE", num_args = 1..)]
    pub measured: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// One `--target`: datasets per month or hours per dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    PerMonth(f64),
    Hours(f64),
}

fn target(text: &str) -> Result<Target, String> {
    let t = text.trim();
    if let Some(n) = t.strip_suffix("/month") {
        return values::positive(1e9)(n).map(Target::PerMonth).map_err(|_| {
            format!("'{t}': datasets per month must be a number above 0 and at most 1000000000")
        });
    }
    if let Some(h) = t.strip_suffix('h') {
        return values::positive(1e6)(h).map(Target::Hours).map_err(|_| {
            format!(
                "'{t}': hours per dataset must be a number above 0 and at most 1000000, e.g. 24h"
            )
        });
    }
    values::positive(1e9)(t)
        .map(Target::PerMonth)
        .map_err(|_| format!("'{t}' is not datasets per month above 0 (e.g. 40 or 40/month) or hours per dataset (e.g. 24h)"))
}

impl RecommendArgs {
    /// `--target` as (datasets per month, hours per dataset); an error when
    /// one of them is given twice.
    pub fn targets(&self) -> Result<(Option<f64>, Option<f64>), String> {
        let (mut per_month, mut hours) = (None, None);
        for t in &self.target {
            let (slot, value, what) = match *t {
                Target::PerMonth(v) => (&mut per_month, v, "datasets per month"),
                Target::Hours(v) => (&mut hours, v, "hours per dataset"),
            };
            if slot.replace(value).is_some() {
                return Err(format!("--target: {what} given twice"));
            }
        }
        Ok((per_month, hours))
    }
}
