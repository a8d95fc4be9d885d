//! `cryocap cache simulate|workload|subset|copy-bench` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::values::{self, CryosparcMb, Percent, Rate, SizeRange};
use super::{HistoryArg, OpenMetricsArg, OutputArgs};
use crate::cache::simulate::ASSUMED_COPY_RATE;
use crate::sizing::ssd::DEFAULT_RESERVE_MB;
use crate::sizing::stack::DEFAULT_PARTICLES_PER_FILE;
use crate::storage::space::Reserve;
use crate::units::{GIB, MIB};

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Replay a job trace (CSV: job,start_s,duration_s,stack,bytes) against an
    /// SSD cache, or with --sweep against a range of SSD sizes.
    Simulate(Box<CacheSimulateArgs>),
    /// Generate a realistic job trace (seeded) when a lab has none.
    Workload(CacheWorkloadArgs),
    /// Stack files a RELION .star or cryoSPARC .cs particle list references:
    /// bytes the cache copies versus the subset alone.
    Subset(CacheSubsetArgs),
    /// Copy real stack files the way a cache fill does, with 1, 2, 4, ...
    /// threads, and recommend CRYOSPARC_CACHE_NUM_THREADS.
    CopyBench(CopyBenchArgs),
}

impl CacheCommand {
    pub fn name(&self) -> &'static str {
        match self {
            CacheCommand::Simulate(_) => "simulate",
            CacheCommand::Workload(_) => "workload",
            CacheCommand::Subset(_) => "subset",
            CacheCommand::CopyBench(_) => "copy-bench",
        }
    }
}

/// CryoSPARC's cache quota and reserve, as `cryosparcw connect` takes them.
#[derive(Debug, Clone, Args)]
pub struct CacheLimits {
    /// Cache quota (CryoSPARC --ssdquota): MB, or a size such as 900GB.
    #[arg(long, value_name = "MB")]
    pub ssd_quota: Option<CryosparcMb>,
    /// Space the cache keeps free (CryoSPARC --ssdreserve): MB, or a size such as 10GB.
    #[arg(long, value_name = "MB", 
          default_value_t = CryosparcMb(DEFAULT_RESERVE_MB * MIB))]
    pub ssd_reserve: CryosparcMb,
}

#[derive(Debug, Args)]
pub struct CacheSimulateArgs {
    /// Job trace CSV with header job,start_s,duration_s,stack,bytes.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// SSD drive size, e.g. 2TB.
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub ssd: Option<u64>,
    /// Range of SSD sizes to simulate, e.g. 250GB..8TB.
    #[arg(long, value_name = "LO..HI")]
    pub sweep: Option<SizeRange>,
    /// Sizes in a sweep, log-spaced.
    #[arg(long, value_name = "N", requires = "sweep", default_value_t = 16,
          value_parser = values::count::<usize>(2, 1000))]
    pub steps: usize,
    #[command(flatten)]
    pub limits: CacheLimits,
    /// Bytes on the SSD held by files the cache does not own, e.g. 200GB.
    #[arg(long, value_name = "SIZE", default_value = "0B", value_parser = values::size(0))]
    pub foreign: u64,
    /// Days an unused cached file is kept (at most ten years).
    #[arg(long, value_name = "D", default_value_t = 30.0, value_parser = values::positive(3650.0))]
    pub lifetime_days: f64,
    #[arg(long, value_name = "RATE", conflicts_with = "copy_rate_from",
          help = format!("Cache fill rate per job, e.g. 500MB/s [default: {}, assumed]", Rate(ASSUMED_COPY_RATE)))]
    pub copy_rate: Option<Rate>,
    /// Take the copy rate from the JSON of `cryocap cache copy-bench`.
    #[arg(long, value_name = "FILE")]
    pub copy_rate_from: Option<PathBuf>,
    /// How much worse than the best size a recommended size may be (with --sweep).
    #[arg(long, value_name = "PCT", default_value_t = Percent(5.0),
          value_parser = values::percent(0.0, 100.0), requires = "sweep")]
    pub margin: Percent,
    /// Where to write the sweep's SVG chart (with --sweep).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "cache-sweep.svg",
        requires = "sweep"
    )]
    pub chart: PathBuf,
    /// Threads for a sweep [default: all cores].
    #[arg(long, value_name = "N", value_parser = values::count::<usize>(1, 1024), requires = "sweep")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CacheWorkloadArgs {
    /// Projects in the lab.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = values::count::<u32>(1, 10_000))]
    pub projects: u32,
    /// Days the projects start over (at most ten years).
    #[arg(long, value_name = "D", default_value_t = 60.0, value_parser = values::positive(3650.0))]
    pub days: f64,
    /// Random seed; the same seed gives the same trace.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u64>(0, u64::MAX))]
    pub seed: u64,
    /// Particles per stack file, as extraction writes them.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PARTICLES_PER_FILE,
          value_parser = values::count::<u64>(1, 10_000_000))]
    pub particles_per_file: u64,
    /// Write the trace to FILE (atomically); `-` or none is stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CacheSubsetArgs {
    /// A RELION particles .star file or a cryoSPARC .cs file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Directory the stack paths are relative to (the RELION or CryoSPARC
    /// project directory) [default: the first of FILE's directory and its
    /// parents that holds the first stack].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Particles per file when the subset is consolidated.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PARTICLES_PER_FILE,
          value_parser = values::count::<u64>(1, 10_000_000))]
    pub particles_per_file: u64,
    /// Check whether the stacks and the subset fit this SSD, e.g. 1TB.
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub ssd: Option<u64>,
    #[command(flatten)]
    pub limits: CacheLimits,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CopyBenchArgs {
    /// Directory of stack files to copy (read only; not changed).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Directory on the cache SSD; copies go to a temporary folder inside it
    /// and are removed.
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Thread counts to try, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1,2,4,8",
          value_parser = values::count::<u32>(1, 256))]
    pub threads: Vec<u32>,
    /// Repeats per thread count.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = values::count::<u32>(1, 1000))]
    pub repeats: u32,
    /// Free space to leave on the --to file system: a size or a percentage.
    #[arg(long, value_name = "SIZE|PCT%", default_value_t = ReserveArg(Reserve::Bytes(GIB)),
          value_parser = reserve_arg)]
    pub reserve: ReserveArg,
    #[command(flatten)]
    pub openmetrics: OpenMetricsArg,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A [`Reserve`] that `--help` can show as its default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReserveArg(pub Reserve);

fn reserve_arg(text: &str) -> Result<ReserveArg, String> {
    values::reserve(text).map(ReserveArg)
}

impl std::fmt::Display for ReserveArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Reserve::Bytes(b) => write!(f, "{}", values::exact_size(b)),
            Reserve::Percent(p) => write!(f, "{p}%"),
            Reserve::Default => write!(f, "the larger of 10GB and 5%"),
        }
    }
}
