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
    /// Measure this node's hardware.
    #[command(subcommand)]
    Bench(BenchKind),
}

#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// GPU: kernels checked against the CPU reference, then device copy
    /// bandwidth and Fourier insertion throughput. Without a CUDA driver it
    /// says so and exits 0.
    Gpu(BenchGpuArgs),
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
