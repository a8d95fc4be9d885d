//! `cryocap fit` flags.

use std::path::PathBuf;

use clap::Args;

use super::values::{self, BoxSize};
use super::{DtypeArg, OutputArgs};
use crate::sizing::MAX_PARTICLES;

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Job type: one of `cryocap catalog jobs`, or relion-class3d.
    #[arg(long, value_name = "JOB")]
    pub job: String,
    // --particles, --box, --dtype: this command's own help, not a shared
    // group (see the module notes).
    /// Number of particles: 2e6, 2000000 or 2M (or read from --particles-file).
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, MAX_PARTICLES))]
    pub particles: Option<u64>,
    /// Box size in pixels (or read from --particles-file).
    #[arg(long = "box", value_name = "PIXELS")]
    pub box_size: Option<BoxSize>,
    /// Pixel type of the stacks on disk [default: f32, or the stack files'].
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
    /// A RELION particles STAR file or a cryoSPARC .cs file: particles, box
    /// and the stack files the cache copies.
    #[arg(long, value_name = "FILE")]
    pub particles_file: Option<PathBuf>,
    /// Rows per image of a symmetry-expanded set (RELION reads and copies
    /// each row's image).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u32>(1, 1000))]
    pub sym_expand: u32,
    /// RELION padding factor (--pad), 1 or 2.
    #[arg(long, value_name = "1|2", value_parser = values::count::<u32>(1, 2))]
    pub pad: Option<u32>,
    /// Classes (RELION 3D classification --K, CryoSPARC heterogeneous refinement).
    #[arg(long, value_name = "K", value_parser = values::count::<u32>(1, 1000))]
    pub classes: Option<u32>,
    /// RELION MPI ranks sharing one GPU.
    #[arg(long, value_name = "R", value_parser = values::count::<u32>(1, 64))]
    pub ranks_per_gpu: Option<u32>,
    /// CPU threads per rank (RELION --j; CryoSPARC num_cpu) [default: the
    /// node's cores over its ranks, at most 8; 4 when the cores are unknown].
    #[arg(long, value_name = "T", value_parser = values::count::<u32>(1, 4096))]
    pub threads: Option<u32>,
    /// RELION --preread_images: every follower rank holds the set in RAM.
    #[arg(long)]
    pub preread: bool,
    /// Free space of the scratch (RELION --scratch_dir) or cache (CryoSPARC
    /// --ssdpath) drive, e.g. 1.8TB.
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub scratch: Option<u64>,
    /// Space left free there: RELION --keep_free_scratch, CryoSPARC --ssdreserve.
    #[arg(long, value_name = "SIZE", default_value = "10GB", value_parser = values::size(0))]
    pub keep_free: u64,
    /// The scratch directory written into RELION's flags and the script.
    #[arg(long, value_name = "DIR")]
    pub scratch_dir: Option<PathBuf>,
    /// RELION's output directory in the script (--o DIR/run).
    #[arg(long, value_name = "DIR", default_value = "Refine3D/fit")]
    pub job_dir: PathBuf,
    /// Storage tier of the scratch drive (`cryocap catalog storage`).
    #[arg(long, value_name = "TIER", default_value = "nvme-gen4")]
    pub scratch_tier: String,
    /// Storage tier the particles live on.
    #[arg(long, value_name = "TIER", default_value = "nfs-10gbe")]
    pub project_tier: String,
    /// Passes over the set (iterations).
    #[arg(long, value_name = "N", default_value_t = 25,
          value_parser = values::count::<u32>(1, 100_000))]
    pub passes: u32,
    /// Slurm's --time for the job, in Slurm's syntax (30, 12:00:00,
    /// 1-12:00:00) [default: reading plus the job-time model's upper bound
    /// for the compute, times --time-margin; none for a job type without
    /// calibration].
    #[arg(long, value_name = "LIMIT", value_parser = crate::fleet::slurm::time_limit)]
    pub time: Option<String>,
    #[command(flatten)]
    pub calibration: super::CalibrationArg,
    /// Factor on reading plus compute (the top of the job-time model's 90 %
    /// interval) for Slurm's --time.
    #[arg(long, value_name = "X", default_value_t = 1.25, value_parser = values::positive(1000.0))]
    pub time_margin: f64,
    // --gpus, --gpu, --vram, --ranks-per-gpu, --ram, --cores: this
    // command's own help and default, not shared groups (see the module
    // notes).
    /// GPUs the job runs on [default: 1, or the qualify file's].
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 64))]
    pub gpus: Option<u32>,
    /// A GPU from the catalog (`cryocap catalog gpus`), e.g. a100-80gb.
    #[arg(long, value_name = "NAME")]
    pub gpu: Option<String>,
    /// VRAM per GPU in GB as marketed (i.e. GiB), or with a unit.
    #[arg(long, value_name = "GB", value_parser = values::vram)]
    pub vram: Option<values::Vram>,
    /// A MIG profile of --gpu (datasets/mig-profiles.csv), e.g. 3g.40gb.
    #[arg(long, value_name = "PROFILE")]
    pub mig: Option<String>,
    /// The node's RAM, e.g. 512GiB.
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub ram: Option<u64>,
    /// The node's CPU cores.
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 65_536))]
    pub cores: Option<u32>,
    /// A `cryocap qualify` JSON of the node: its cores, RAM, GPUs and VRAM.
    #[arg(long, value_name = "FILE")]
    pub node: Option<PathBuf>,
    /// Also write a Slurm script for this job (RELION jobs), valid shell.
    #[arg(long, value_name = "FILE")]
    pub emit_sbatch: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}
