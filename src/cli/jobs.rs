//! `cryocap jobs` flags: predict a job's time, validate the model.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::values::{self, BoxSize};
use super::{HistoryArg, OutputArgs};
use crate::sizing::MAX_PARTICLES;

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// How long a job takes on a GPU model and count (or CPU cores), with
    /// its 90 % interval, the bottleneck and the rows that calibrate it.
    Predict(Box<JobsPredictArgs>),
    /// Leave-one-out error of the job-time model against every calibration
    /// row, per job type, and the fitted parameters.
    Validate(JobsValidateArgs),
    /// Read RELION or CryoSPARC job directories into job-run results: the
    /// job, its particles, box, classes, iterations, layout and wall time.
    Import(JobsImportArgs),
}

impl JobsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            JobsCommand::Predict(_) => "predict",
            JobsCommand::Validate(_) => "validate",
            JobsCommand::Import(_) => "import",
        }
    }
}

/// The copy a job makes before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopyArg {
    /// CryoSPARC's SSD cache fill (whole stack files, --cache-threads threads).
    Cache,
    /// RELION's --scratch_dir copy (particle by particle, in STAR order).
    Scratch,
}

/// The calibration a command's job times come from.
#[derive(Debug, Clone, Default, Args)]
pub struct CalibrationArg {
    /// A calibration file written by `cryocap calibrate` [default: the
    /// model fitted to the shipped rows, datasets/job-times.csv].
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct JobsPredictArgs {
    /// The job: relion-class2d, relion-class3d, relion-refine3d,
    /// cryosparc-2d, cryosparc-nu-refine, cryodrgn-train-vae, ... (`cryocap jobs validate` lists the calibrated ones).
    #[arg(long, value_name = "JOB")]
    pub job: String,
    /// The software, checked against the job's (relion, cryosparc, cryodrgn).
    #[arg(long, value_name = "NAME")]
    pub software: Option<String>,
    // --particles, --box, --gpu, --gpus, --ranks-per-gpu, --cores: this
    // command's own help, defaults and ranges, not shared groups (see the
    // module notes).
    /// Number of particles: 105247, 1e5 or 2M.
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, MAX_PARTICLES))]
    pub particles: u64,
    /// Box size in pixels.
    #[arg(long = "box", value_name = "PIXELS")]
    pub box_size: BoxSize,
    /// The image size the job works at (RELION's current image size) [default: the job type's share of the box].
    #[arg(long, value_name = "PIXELS", value_parser = values::count::<u32>(2, 8192))]
    pub image_size: Option<u32>,
    /// Classes (--K) [default: the job type's].
    #[arg(long, value_name = "K", value_parser = values::count::<u32>(1, 1000))]
    pub classes: Option<u32>,
    /// Iterations, or epochs for a network [default: the job type's].
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 100_000))]
    pub iterations: Option<u32>,
    /// Angular sampling as a HEALPix order (RELION --healpix_order) [default: 2].
    #[arg(long, value_name = "ORDER", value_parser = values::count::<u32>(0, 8))]
    pub healpix_order: Option<u32>,
    /// Point group (RELION --sym): C1, C4, D2, T, O, I.
    #[arg(long, value_name = "GROUP", default_value = "C1")]
    pub symmetry: String,
    /// The dataset, where the calibration may know it (e.g. EMPIAR-10028).
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
    /// A GPU from the catalog (`cryocap catalog gpus`), e.g. a10g.
    #[arg(long, value_name = "NAME")]
    pub gpu: Option<String>,
    /// GPUs the job runs on; 0 for a CPU run (then --cores).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u32>(0, 1024))]
    pub gpus: u32,
    /// RELION MPI followers per GPU (recorded; the calibration rows ran 1 to 2.5).
    #[arg(long, value_name = "R", value_parser = values::count::<u32>(1, 64))]
    pub ranks_per_gpu: Option<u32>,
    /// CPU cores for a CPU run (--gpus 0).
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 1_000_000))]
    pub cores: Option<u32>,
    /// A CPU run without RELION's accelerated --cpu path.
    #[arg(long)]
    pub plain_cpu: bool,
    /// Storage tier the particles are read from every iteration (`cryocap catalog storage`).
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
    /// The copy before the job: CryoSPARC's cache fill or RELION's scratch copy, from --copy-from.
    #[arg(long, value_enum, requires = "copy_from")]
    pub copy: Option<CopyArg>,
    /// Storage tier the copy reads from.
    #[arg(long, value_name = "TIER", requires = "copy")]
    pub copy_from: Option<String>,
    /// Stack files the cache copies.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = values::count::<u64>(1, 100_000_000))]
    pub files: u64,
    /// CRYOSPARC_CACHE_NUM_THREADS.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = values::count::<u32>(1, 1024))]
    pub cache_threads: u32,
    #[command(flatten)]
    pub calibration: CalibrationArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `jobs validate` refits on the shipped rows, one left out at a time;
/// `calibrate RUN...` prints the same for the shipped rows and your runs.
#[derive(Debug, Args)]
pub struct JobsValidateArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Your own runs: RELION or CryoSPARC job directories, or `job-run`
    /// results (`cryocap jobs import --json`, `cryocap bench app --json`);
    /// finished ones are fitted with the shipped rows, weighing twice as much.
    #[arg(value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Where to write the calibration [default: $CRYOCAP_CALIBRATION, else
    /// $XDG_CONFIG_HOME/cryocap/calibration.json, else ~/.config/cryocap/calibration.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct JobsImportArgs {
    /// Job directories (e.g. Class3D/job016, or CryoSPARC's J42); which
    /// program wrote each is read from its files. Several: one result each,
    /// printed one after the other (with --format json, one JSON document
    /// per line); --json/--markdown/--csv/--html take one directory.
    #[arg(value_name = "DIR", required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
}
