//! The command line, as clap derive types only. `config` turns these into
//! validated configuration; nothing else reads them.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cryocap",
    version,
    about = "Capacity planning and benchmarking for cryo-EM processing nodes",
    long_about = "Capacity planning and benchmarking for cryo-EM processing nodes.\n\n\
                  Start with `cryocap plan --particles 2e6 --box 432`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Size a particle dataset: stack bytes, SSD cache, VRAM per job type,
    /// hours per pass on each storage tier, and the node it needs.
    Plan(Box<PlanArgs>),
    /// List the data cryocap ships: GPUs, storage tiers, datasets, VRAM job models, SSD sizes.
    Catalog(CatalogArgs),
    /// Reconstruct a 3D volume from a RELION particles STAR file and the MRC
    /// stacks it names (CPU reference: trilinear Fourier insertion).
    Reconstruct(ReconstructArgs),
    /// SSD cache planning: replay a job trace against a cache (or a range of
    /// SSD sizes), generate a workload trace, size a particle subset, and
    /// measure cache-fill copy threads.
    Cache(CacheArgs),
    /// Measure this node, hold it against a requirement profile, and report.
    Qualify(Box<QualifyArgs>),
    /// Compare results against a baseline (or the history); exit 1 on regression.
    Compare(CompareArgs),
    /// List the runs stored in a history database.
    History(HistoryArgs),
    /// Render a results JSON file again, as HTML, Markdown, CSV or a table.
    Report(ReportArgs),
    /// Qualify every node of a Slurm cluster through a job array, and merge the results.
    Fleet(FleetArgs),
    /// Write real MRC2014 particle stacks of seeded noise, or check existing ones.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Describe the storage under a path: mount, file system, device, RAID, free space, O_DIRECT.
    Probe(ProbeArgs),
    /// Measure what this node delivers.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Markdown,
    Csv,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Number of particles: 2e6, 2000000, 2,000,000 or 2M.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub particles: Option<String>,
    /// Box size in pixels (2 to 8192).
    #[arg(long = "box", allow_negative_numbers = true, value_name = "PIXELS")]
    pub box_size: Option<String>,
    /// Pixel size in Å (filled from --dataset when given there).
    #[arg(long, allow_negative_numbers = true, value_name = "Å")]
    pub pixel_size: Option<String>,
    /// Pixel type on disk: f32 (MRC mode 2) or f16 (MRC mode 12).
    #[arg(long, allow_negative_numbers = true, value_name = "f32|f16")]
    pub dtype: Option<String>,
    /// guide: the guide's (4·box² + nsymbt + header)·N; exact: real MRC files.
    #[arg(long, allow_negative_numbers = true, value_name = "guide|exact")]
    pub size_model: Option<String>,
    /// Particles per stack file in the exact model [default: 1000].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub particles_per_file: Option<String>,
    /// Extended header bytes per file in the exact model [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "BYTES")]
    pub nsymbt: Option<String>,
    /// GPUs per node [default: 4].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub gpus: Option<String>,
    /// VRAM per GPU in GB as marketed (i.e. GiB), e.g. 24; or with a unit.
    #[arg(long, allow_negative_numbers = true, value_name = "GB")]
    pub vram: Option<String>,
    /// A GPU from the catalog (`cryocap catalog gpus`), e.g. rtx-3090.
    #[arg(long, allow_negative_numbers = true, value_name = "NAME")]
    pub gpu: Option<String>,
    /// Classes for heterogeneous refinement (3D classification) [default: 4].
    #[arg(long, allow_negative_numbers = true, value_name = "K")]
    pub classes: Option<String>,
    /// Passes over the stack a processing chain makes [default: 20].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub passes: Option<String>,
    /// A public dataset (`cryocap catalog datasets`): fills particles, box, pixel size.
    #[arg(long, allow_negative_numbers = true, value_name = "EMPIAR-ID")]
    pub dataset: Option<String>,
    /// Size of the SSD to check, e.g. 1TB or 1.92TB.
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE")]
    pub ssd: Option<String>,
    /// CryoSPARC --ssdquota in MB.
    #[arg(long, allow_negative_numbers = true, value_name = "MB")]
    pub ssd_quota: Option<String>,
    /// CryoSPARC --ssdreserve in MB [default: 10000].
    #[arg(long, allow_negative_numbers = true, value_name = "MB")]
    pub ssd_reserve: Option<String>,
    /// Storage tier the SSD cache sits on [default: nvme-gen4].
    #[arg(long, allow_negative_numbers = true, value_name = "TIER")]
    pub cache_tier: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogKind {
    Gpus,
    Storage,
    Datasets,
    Jobs,
    Ssd,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// What to list.
    #[arg(value_enum)]
    pub kind: CatalogKind,
    /// Output format (table or markdown).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct QualifyArgs {
    /// Requirement profile: cryosparc-worker, cryosparc-master, or a .toml file.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Project directory on the shared storage to measure reads from.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
    /// Directory on the SSD cache drive to measure reads from.
    #[arg(long, value_name = "DIR")]
    pub ssd: Option<std::path::PathBuf>,
    /// Box sizes for the bottleneck analysis [default: 256,432].
    #[arg(long = "box", value_name = "LIST")]
    pub box_sizes: Option<String>,
    /// A short run (under a minute) with small scratch data.
    #[arg(long)]
    pub quick: bool,
    /// Repeats of each measurement [default: 3].
    #[arg(long, value_name = "N")]
    pub repeat: Option<String>,
    /// GPUs the node holds, when no driver can tell.
    #[arg(long, value_name = "N")]
    pub gpus: Option<String>,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
    /// Write the results as Markdown to FILE (e.g. a CI step summary).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<std::path::PathBuf>,
    /// Write the results as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
    /// Store this run in the SQLite history FILE (created when absent).
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
    /// Format of what is printed on stdout.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// BASELINE.json CURRENT.json, or only CURRENT.json with --history.
    #[arg(value_name = "FILES", num_args = 1..=2, required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// Change that counts, as a percentage [default: 5%].
    #[arg(long, value_name = "PERCENT")]
    pub threshold: Option<String>,
    /// Compare against the node's recent runs in this history database.
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
    /// How many recent runs make the baseline [default: 5].
    #[arg(long, value_name = "N")]
    pub last: Option<String>,
    /// Output format (table, markdown or json).
    #[arg(long, value_enum, default_value_t = FormatArg::Markdown)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history database.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Output format (table, markdown or json).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    Html,
    Markdown,
    Csv,
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results JSON file written by cryocap.
    #[arg(value_name = "RESULTS.json")]
    pub results: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Html)]
    pub format: ReportFormatArg,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Write a particle stack: MRC2014 files (mode 2 or 12) of seeded noise.
    Create(StackCreateArgs),
    /// Print MRC headers and check each file against its header.
    Info(StackInfoArgs),
}

#[derive(Debug, Args)]
pub struct StackCreateArgs {
    /// Directory to write into (must exist).
    #[arg(long, value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// Number of particles: 2e6, 2000000 or 2M.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub particles: String,
    /// Box size in pixels (2 to 8192).
    #[arg(long = "box", allow_negative_numbers = true, value_name = "PIXELS")]
    pub box_size: String,
    /// Pixel type: f32 (MRC mode 2) or f16 (MRC mode 12) [default: f32].
    #[arg(long, allow_negative_numbers = true, value_name = "f32|f16")]
    pub dtype: Option<String>,
    /// Particles per file [default: 1000].
    #[arg(long, allow_negative_numbers = true, value_name = "K")]
    pub per_file: Option<String>,
    /// Pixel size in Å, written into the cell [default: 1.0].
    #[arg(long, allow_negative_numbers = true, value_name = "Å")]
    pub pixel_size: Option<String>,
    /// Extended header bytes per file, zero-filled [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "BYTES")]
    pub nsymbt: Option<String>,
    /// Seed of the noise [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub seed: Option<String>,
    /// Free space to leave: a size (10GB) or a percentage (5%) [default: the larger of 10 GB and 5 %].
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE|PCT%")]
    pub reserve: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Output format (table, json or markdown).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct StackInfoArgs {
    /// MRC files to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
    /// Output format (table, json or markdown).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// A file or directory.
    #[arg(value_name = "PATH")]
    pub path: std::path::PathBuf,
    /// Output format (table, json or markdown).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Read whole particles from MRC stacks in refinement's patterns, like fio.
    Io(Box<BenchIoArgs>),
    /// GPU: kernels checked against the CPU reference, then device copy
    /// bandwidth and Fourier insertion throughput. Without a CUDA driver it
    /// says so and exits 0.
    Gpu(BenchGpuArgs),
}

#[derive(Debug, Args)]
pub struct BenchIoArgs {
    /// Store this run in the SQLite history FILE (created when absent).
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
    /// Read every .mrc/.mrcs file in this directory (and create the stack here with --create).
    #[arg(long, value_name = "DIR", conflicts_with = "files")]
    pub dir: Option<std::path::PathBuf>,
    /// Read these MRC files.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
    /// Read particles straight from this block device, read-only (O_RDONLY | O_DIRECT; never writes).
    #[arg(long, value_name = "DEV")]
    pub raw_device: Option<std::path::PathBuf>,
    /// Bytes of the device to read with --raw-device, from its start [default: the smaller of the device and 4 GiB].
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE")]
    pub size: Option<String>,
    /// Write a stack of N particles into --dir first (deleted afterwards); needs --box.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub create: Option<String>,
    /// Box size in pixels, for --create, or of the float32 particles read with --raw-device [default there: 256].
    #[arg(long = "box", allow_negative_numbers = true, value_name = "PIXELS")]
    pub box_size: Option<String>,
    /// Pixel type for --create: f32 or f16 [default: f32].
    #[arg(long, allow_negative_numbers = true, value_name = "f32|f16")]
    pub dtype: Option<String>,
    /// Particles per file for --create [default: 1000].
    #[arg(long, allow_negative_numbers = true, value_name = "K")]
    pub per_file: Option<String>,
    /// Free space --create must leave [default: the larger of 10 GB and 5 %].
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE|PCT%")]
    pub reserve: Option<String>,
    /// Access patterns, comma-separated: sequential, random, epochs:N, subset:F [default: sequential,random].
    #[arg(long, allow_negative_numbers = true, value_name = "LIST")]
    pub pattern: Option<String>,
    /// Reader threads [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "T")]
    pub threads: Option<String>,
    /// Reads in flight per thread (each one a reader thread doing pread) [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "Q")]
    pub queue_depth: Option<String>,
    /// Read with O_DIRECT (the default).
    #[arg(long, overrides_with = "buffered")]
    pub direct: bool,
    /// Read through the page cache, dropping the files' pages (posix_fadvise DONTNEED) before each pass.
    #[arg(long, overrides_with = "direct")]
    pub buffered: bool,
    /// O_DIRECT alignment in bytes, overriding what the kernel reports (a power of two, 512 to 1 MiB).
    #[arg(long, allow_negative_numbers = true, value_name = "BYTES")]
    pub align: Option<String>,
    /// Unrecorded reads before measuring, e.g. 1s or 0 [default: 1s].
    #[arg(long, allow_negative_numbers = true, value_name = "DURATION")]
    pub warmup: Option<String>,
    /// Passes over the particles per pattern (epochs:N makes N) [default: 1].
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "N",
        conflicts_with = "duration"
    )]
    pub passes: Option<String>,
    /// Read for this long per pattern instead of whole passes, e.g. 30s.
    #[arg(long, allow_negative_numbers = true, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Seed of the random orders [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub seed: Option<String>,
    /// Particles per second one GPU consumes: reports how many GPUs the storage keeps fed.
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub gpu_rate: Option<String>,
    /// GPUs in the node, checked against --gpu-rate.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub gpus: Option<String>,
    /// Write the equivalent fio job file here.
    #[arg(long, value_name = "FILE")]
    pub emit_fio: Option<std::path::PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

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

#[derive(Debug, Args)]
pub struct CacheSimulateArgs {
    /// Job trace CSV with header job,start_s,duration_s,stack,bytes.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    /// SSD drive size, e.g. 2TB.
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE")]
    pub ssd: Option<String>,
    /// Range of SSD sizes to simulate, e.g. 250GB..8TB.
    #[arg(long, allow_negative_numbers = true, value_name = "LO..HI")]
    pub sweep: Option<String>,
    /// Sizes in a sweep, log-spaced [default: 16].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub steps: Option<String>,
    /// Cache quota (CryoSPARC --ssdquota) in MB, or with a unit.
    #[arg(long, allow_negative_numbers = true, value_name = "MB")]
    pub quota: Option<String>,
    /// Space to keep free (CryoSPARC --ssdreserve) in MB, or with a unit [default: 10000].
    #[arg(long, allow_negative_numbers = true, value_name = "MB")]
    pub reserve: Option<String>,
    /// Bytes on the SSD held by files the cache does not own, e.g. 200GB [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE")]
    pub foreign: Option<String>,
    /// Days an unused cached file is kept [default: 30].
    #[arg(long, allow_negative_numbers = true, value_name = "D")]
    pub lifetime_days: Option<String>,
    /// Cache fill rate per job, e.g. 500MB/s [default: 500MB/s].
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub copy_rate: Option<String>,
    /// Take the copy rate from `cryocap cache copy-bench --format json` output.
    #[arg(long, value_name = "FILE")]
    pub copy_rate_from: Option<std::path::PathBuf>,
    /// How much worse than the best size a recommended size may be, in % [default: 5].
    #[arg(long, allow_negative_numbers = true, value_name = "PCT")]
    pub margin: Option<String>,
    /// Where to write the sweep's SVG chart [default: cache-sweep.svg].
    #[arg(long, value_name = "FILE")]
    pub chart: Option<std::path::PathBuf>,
    /// Threads for a sweep [default: all cores].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub threads: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct CacheWorkloadArgs {
    /// Projects in the lab [default: 6].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub projects: Option<String>,
    /// Days the projects start over [default: 60].
    #[arg(long, allow_negative_numbers = true, value_name = "D")]
    pub days: Option<String>,
    /// Random seed; the same seed gives the same trace [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub seed: Option<String>,
    /// Particles per stack file, as extraction writes them [default: 1000].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub particles_per_file: Option<String>,
    /// Write the trace here (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CacheSubsetArgs {
    /// A RELION particles .star file or a cryoSPARC .cs file.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Directory the stack paths are relative to (the RELION or CryoSPARC
    /// project directory) [default: the first of FILE's directory and its
    /// parents that holds the first stack].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Particles per file when the subset is consolidated [default: 1000].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub particles_per_file: Option<String>,
    /// Check whether the stacks and the subset fit this SSD, e.g. 1TB.
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE")]
    pub ssd: Option<String>,
    /// Cache quota in MB, or with a unit (with --ssd).
    #[arg(long, allow_negative_numbers = true, value_name = "MB")]
    pub quota: Option<String>,
    /// Space to keep free in MB, or with a unit (with --ssd) [default: 10000].
    #[arg(long, allow_negative_numbers = true, value_name = "MB")]
    pub reserve: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct CopyBenchArgs {
    /// Store this run in the SQLite history FILE (created when absent).
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
    /// Directory of stack files to copy (read only; not changed).
    #[arg(long, value_name = "DIR")]
    pub from: Option<std::path::PathBuf>,
    /// Directory on the cache SSD; copies go to a temporary folder inside it
    /// and are removed.
    #[arg(long, value_name = "DIR")]
    pub to: Option<std::path::PathBuf>,
    /// Thread counts to try [default: 1,2,4,8].
    #[arg(long, allow_negative_numbers = true, value_name = "N,N,...")]
    pub threads: Option<String>,
    /// Repeats per thread count [default: 3].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub repeats: Option<String>,
    /// Free space to leave on the --to file system [default: 1GiB].
    #[arg(long, allow_negative_numbers = true, value_name = "SIZE")]
    pub reserve: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Submit a Slurm job array that runs `cryocap qualify` once on each node,
    /// wait for it, and report.
    Submit(Box<FleetSubmitArgs>),
    /// Merge the per-node results in a shared directory into one fleet report.
    Report(FleetReportArgs),
    /// Internal: one array task's barrier and shared read (run by the job
    /// script of `fleet submit --shared-read`).
    #[command(hide = true)]
    SharedRead(FleetSharedReadArgs),
}

#[derive(Debug, Args)]
pub struct FleetSharedReadArgs {
    /// The shared results directory of the fleet run.
    #[arg(long, value_name = "DIR")]
    pub out_dir: std::path::PathBuf,
    /// The shared directory whose .mrc/.mrcs stacks every task reads.
    #[arg(long, value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// The node this task runs on, as Slurm names it.
    #[arg(long)]
    pub node: String,
    /// This task's array index.
    #[arg(long)]
    pub task: u32,
    /// How many tasks meet at the barrier.
    #[arg(long)]
    pub tasks: usize,
    /// How long to wait at the barrier for the others.
    #[arg(long, value_name = "DURATION")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct FleetSubmitArgs {
    /// Shared directory every node can write: results land in DIR/<node>.json.
    #[arg(long, value_name = "DIR")]
    pub out_dir: std::path::PathBuf,
    /// Nodes to qualify, as a Slurm host list: gpu[01-04],gpu07.
    #[arg(long, value_name = "LIST")]
    pub nodes: Option<String>,
    /// Qualify every node of this Slurm partition.
    #[arg(long, value_name = "NAME")]
    pub partition: Option<String>,
    /// GPUs each task asks for (`--gres=gpu:N`).
    #[arg(long, value_name = "N")]
    pub gpus_per_node: Option<String>,
    /// Slurm time limit of each task: 30, 00:30:00, 1-00:00:00.
    #[arg(long, value_name = "LIMIT")]
    pub time: Option<String>,
    /// How long to wait for all tasks to end [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Print the job script and the sbatch command instead of submitting.
    #[arg(long)]
    pub dry_run: bool,
    /// After qualify, every task reads the same .mrc/.mrcs stacks in this
    /// shared directory at the same moment (through a barrier); the report
    /// sums the aggregate throughput.
    #[arg(long, value_name = "DIR")]
    pub shared_read: Option<std::path::PathBuf>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Options for `cryocap qualify` on each node, after `--`.
    #[arg(last = true, value_name = "QUALIFY OPTIONS")]
    pub qualify_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FleetReportArgs {
    /// The shared directory given to `fleet submit --out-dir`.
    #[arg(value_name = "SHARED_DIR")]
    pub dir: std::path::PathBuf,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
    /// Write the report as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<std::path::PathBuf>,
    /// Write the merged results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
    /// Flag nodes more than this much worse than the fleet median [default: 20%].
    #[arg(long, value_name = "PERCENT")]
    pub margin: Option<String>,
    /// Format of what is printed on stdout (table, markdown or json).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct BenchGpuArgs {
    /// Box sizes to time insertion at [default: 128,256,432].
    #[arg(long = "box", allow_negative_numbers = true, value_name = "N,N,...")]
    pub box_sizes: Option<String>,
    /// Images per insertion launch [default: 10000].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub particles: Option<String>,
    /// Padding factors [default: 1,2].
    #[arg(long, allow_negative_numbers = true, value_name = "1,2")]
    pub pad: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct ReconstructArgs {
    /// RELION particles STAR file (_rlnImageName, _rlnAngleRot/Tilt/Psi, origins).
    #[arg(long, value_name = "FILE")]
    pub star: std::path::PathBuf,
    /// MRC volume to write (float32, ISPG 1), replaced atomically.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Insert on the CPU (the reference implementation; the default).
    #[arg(long, conflicts_with = "gpu")]
    pub cpu: bool,
    /// Insert on GPU 0 (CUDA); needs an NVIDIA driver.
    #[arg(long)]
    pub gpu: bool,
    /// Padding factor of the Fourier grid: 1 or 2 [default: 2].
    #[arg(long, allow_negative_numbers = true, value_name = "1|2")]
    pub pad: Option<String>,
    /// Insertion threads [default: cores, at most 8].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub threads: Option<String>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format for the summary.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

impl From<FormatArg> for crate::report::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => crate::report::Format::Table,
            FormatArg::Json => crate::report::Format::Json,
            FormatArg::Markdown => crate::report::Format::Markdown,
            FormatArg::Csv => crate::report::Format::Csv,
        }
    }
}
