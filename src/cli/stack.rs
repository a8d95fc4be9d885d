//! `cryocap stack create|info` and `cryocap probe` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::values::{self, BoxSize};
use super::{DtypeArg, OutputArgs};
use crate::sizing::stack::DEFAULT_PARTICLES_PER_FILE;
use crate::storage::space::Reserve;

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Write a particle stack: MRC2014 files (mode 2 or 12) of seeded noise.
    Create(Box<StackCreateArgs>),
    /// Print MRC headers and check each file against its header.
    Info(StackInfoArgs),
}

impl StackCommand {
    pub fn name(&self) -> &'static str {
        match self {
            StackCommand::Create(_) => "create",
            StackCommand::Info(_) => "info",
        }
    }
}

#[derive(Debug, Args)]
pub struct StackCreateArgs {
    /// Directory to write into (must exist).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    // --particles, --box, --dtype: this command's own help, not a shared
    // group (see the module notes).
    /// Number of particles: 2e6, 2000000 or 2M.
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, 1_000_000_000_000))]
    pub particles: u64,
    /// Box size in pixels.
    #[arg(long = "box", value_name = "PIXELS")]
    pub box_size: BoxSize,
    /// Pixel type.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,
    /// Particles per file.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PARTICLES_PER_FILE,
          value_parser = values::count::<u64>(1, i32::MAX as u64))]
    pub particles_per_file: u64,
    /// Pixel size in Å, written into the cell.
    #[arg(long, value_name = "Å", default_value_t = 1.0, value_parser = values::pixel_size)]
    pub pixel_size: f64,
    /// Extended header bytes per file, zero-filled.
    #[arg(long, value_name = "BYTES", default_value_t = 0, value_parser = values::count::<u32>(0, 1 << 30))]
    pub nsymbt: u32,
    /// Seed of the noise.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u64>(0, u64::MAX))]
    pub seed: u64,
    /// Free space to leave: a size (10GB) or a percentage (5%) [default: the larger of 10 GB and 5 %].
    #[arg(long, value_name = "SIZE|PCT%", value_parser = values::reserve)]
    pub reserve: Option<Reserve>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StackInfoArgs {
    /// MRC files to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// A file or directory.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}
