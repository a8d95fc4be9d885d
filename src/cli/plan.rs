//! `cryocap plan` flags.

use clap::{Args, ValueEnum};

use super::values::{self, BoxSize, CryosparcMb};
use super::{DtypeArg, OutputArgs};
use crate::sizing::MAX_PARTICLES;
use crate::sizing::ssd::DEFAULT_RESERVE_MB;
use crate::sizing::stack::DEFAULT_PARTICLES_PER_FILE;
use crate::units::MIB;

/// How the stack is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SizeModelArg {
    /// The guide's (4·box² + nsymbt + header)·N: a header per particle.
    Guide,
    /// Real MRC files: one header per file of --particles-per-file particles.
    Exact,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    // --particles, --box, --dtype: this command's own help, not a shared
    // group (see the module notes).
    /// Number of particles: 2e6, 2000000, 2,000,000 or 2M.
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, MAX_PARTICLES))]
    pub particles: Option<u64>,
    /// Box size in pixels.
    #[arg(long = "box", value_name = "PIXELS")]
    pub box_size: Option<BoxSize>,
    /// Pixel size in Å (filled from --dataset when given there).
    #[arg(long, value_name = "Å", value_parser = values::pixel_size)]
    pub pixel_size: Option<f64>,
    /// Pixel type on disk [default: f32, or the dataset's].
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
    /// How the stack size is counted.
    #[arg(long, value_enum, default_value_t = SizeModelArg::Guide)]
    pub size_model: SizeModelArg,
    #[arg(long, value_name = "N",
          help = format!("Particles per stack file, with --size-model exact [default: {DEFAULT_PARTICLES_PER_FILE}]"),
          value_parser = values::count::<u64>(1, MAX_PARTICLES))]
    pub particles_per_file: Option<u64>,
    /// Extended header bytes per file, with --size-model exact [default: 0].
    #[arg(long, value_name = "BYTES", value_parser = values::count::<u64>(0, 1 << 30))]
    pub nsymbt: Option<u64>,
    // --gpus, --gpu, --vram: this command's own help and default, not a
    // shared group (see the module notes).
    /// GPUs per node.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = values::count::<u32>(1, 64))]
    pub gpus: u32,
    /// VRAM per GPU in GB as marketed (i.e. GiB), e.g. 24; or with a unit.
    #[arg(long, value_name = "GB", value_parser = values::vram)]
    pub vram: Option<values::Vram>,
    /// A GPU from the catalog (`cryocap catalog gpus`), e.g. rtx-3090.
    #[arg(long, value_name = "NAME")]
    pub gpu: Option<String>,
    /// Classes for heterogeneous refinement (3D classification) [default: each job's own, see `cryocap catalog jobs`].
    #[arg(long, value_name = "K", value_parser = values::count::<u32>(1, 1000))]
    pub classes: Option<u32>,
    /// Jobs to time on each storage tier with the job-time model (needs
    /// --gpu), e.g. relion-class3d,relion-refine3d; each runs --passes iterations.
    #[arg(long, value_name = "JOB", value_delimiter = ',')]
    pub job: Vec<String>,
    /// Passes over the stack a processing chain makes.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = values::count::<u32>(1, 100_000))]
    pub passes: u32,
    /// A public dataset (`cryocap catalog datasets`): fills particles, box, pixel size.
    #[arg(long, value_name = "EMPIAR-ID")]
    pub dataset: Option<String>,
    /// Size of the SSD to check, e.g. 1TB or 1.92TB.
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub ssd: Option<u64>,
    /// CryoSPARC --ssdquota: MB, or a size such as 900GB.
    #[arg(long, value_name = "MB")]
    pub ssd_quota: Option<CryosparcMb>,
    /// CryoSPARC --ssdreserve: MB, or a size such as 10GB.
    #[arg(long, value_name = "MB", default_value_t = CryosparcMb(DEFAULT_RESERVE_MB * MIB))]
    pub ssd_reserve: CryosparcMb,
    /// Storage tier the SSD cache sits on (`cryocap catalog storage`).
    #[arg(long, value_name = "TIER", default_value = "nvme-gen4")]
    pub cache_tier: String,
    #[command(flatten)]
    pub output: OutputArgs,
}
