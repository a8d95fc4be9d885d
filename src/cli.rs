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
