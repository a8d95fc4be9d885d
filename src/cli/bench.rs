//! `cryocap bench io|gpu` flags. bench io speaks fio's words: --iodepth,
//! --runtime, --ramp-time, --size.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::values::{self, BoxSize};
use super::{DtypeArg, HistoryArg, OpenMetricsArg, OutputArgs, PadArg};
use crate::sizing::stack::DEFAULT_PARTICLES_PER_FILE;
use crate::storage::patterns::Pattern;
use crate::storage::space::Reserve;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Read whole particles from MRC stacks in refinement's patterns, like fio.
    Io(Box<BenchIoArgs>),
    /// GPU: kernels checked against the CPU reference, then device copy
    /// bandwidth and Fourier insertion throughput. Without a CUDA driver it
    /// says so and exits 0.
    Gpu(Box<BenchGpuArgs>),
    /// Movies: read, decode every frame, apply the gain and sum, on 1, 2, … threads.
    Movies(Box<super::BenchMoviesArgs>),
    /// Run a real program (`-- COMMAND ARGS...`, no shell) and watch it:
    /// wall and CPU time, peak memory, bytes read and written, GPU use;
    /// exits with the program's status.
    App(Box<BenchAppArgs>),
}

impl BenchCommand {
    pub fn name(&self) -> &'static str {
        match self {
            BenchCommand::Io(_) => "io",
            BenchCommand::Gpu(_) => "gpu",
            BenchCommand::Movies(_) => "movies",
            BenchCommand::App(_) => "app",
        }
    }
}

/// A week: the longest any timed phase may run.
const WEEK: Duration = Duration::from_secs(7 * 86_400);

#[derive(Debug, Args)]
pub struct BenchIoArgs {
    /// Read every .mrc/.mrcs file in this directory (and create the stack here with --create).
    #[arg(long, value_name = "DIR", conflicts_with = "files")]
    pub dir: Option<PathBuf>,
    /// Read these MRC files.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Read particles straight from this block device, read-only (O_RDONLY | O_DIRECT; never writes).
    #[arg(long, value_name = "DEV")]
    pub raw_device: Option<PathBuf>,
    /// Bytes of the device to read with --raw-device, from its start [default: the smaller of the device and 4 GiB].
    #[arg(long, value_name = "SIZE", value_parser = values::size(1))]
    pub size: Option<u64>,
    /// Write a stack of N particles into --dir first (deleted afterwards); needs --box.
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, 1_000_000_000_000))]
    pub create: Option<u64>,
    /// Box size in pixels, for --create, or of the float32 particles read with --raw-device [default there: 256].
    #[arg(long = "box", value_name = "PIXELS")]
    pub box_size: Option<BoxSize>,
    /// Pixel type for --create [default: f32].
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
    #[arg(long, value_name = "N", 
          help = format!("Particles per file for --create [default: {DEFAULT_PARTICLES_PER_FILE}]"),
          value_parser = values::count::<u64>(1, i32::MAX as u64))]
    pub particles_per_file: Option<u64>,
    /// Free space --create must leave: a size or a percentage [default: the larger of 10 GB and 5 %].
    #[arg(long, value_name = "SIZE|PCT%", value_parser = values::reserve)]
    pub reserve: Option<Reserve>,
    /// Access patterns, comma-separated: sequential, random, epochs:N, subset:F.
    #[arg(long, value_name = "LIST", value_delimiter = ',',
          default_value = "sequential,random", value_parser = values::pattern)]
    pub pattern: Vec<Pattern>,
    /// Reader threads (fio's numjobs).
    #[arg(long, value_name = "T", default_value_t = 1, value_parser = values::count::<u32>(1, 256))]
    pub threads: u32,
    /// Reads in flight per thread, each one a reader thread doing pread (fio's iodepth).
    #[arg(long, value_name = "Q", default_value_t = 1,
          value_parser = values::count::<u32>(1, 256))]
    pub iodepth: u32,
    /// Read with O_DIRECT (the default).
    #[arg(long, conflicts_with = "buffered")]
    pub direct: bool,
    /// Read through the page cache, dropping the files' pages (posix_fadvise DONTNEED) before each pass.
    #[arg(long)]
    pub buffered: bool,
    /// O_DIRECT alignment in bytes, overriding what the kernel reports (a power of two, 512 to 1 MiB).
    #[arg(long, value_name = "BYTES", value_parser = alignment)]
    pub align: Option<u64>,
    /// Unrecorded reads before measuring, e.g. 1s or 0 (fio's ramp_time).
    #[arg(long, value_name = "DURATION", default_value = "1s",
          value_parser = values::duration(Duration::ZERO, WEEK))]
    pub ramp_time: Duration,
    /// Passes over the particles per pattern (epochs:N makes N).
    #[arg(long, value_name = "N", conflicts_with = "runtime", default_value_t = 1,
          value_parser = values::count::<u32>(1, 10_000))]
    pub passes: u32,
    /// Read for this long per pattern instead of whole passes, e.g. 30s (fio's runtime).
    #[arg(long, value_name = "DURATION", 
          value_parser = values::duration(Duration::from_millis(1), WEEK))]
    pub runtime: Option<Duration>,
    /// Seed of the random orders (fio's randseed).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = values::count::<u64>(0, u64::MAX))]
    pub seed: u64,
    /// Particles per second one GPU consumes: reports how many GPUs the storage keeps fed.
    #[arg(long, value_name = "RATE", value_parser = values::positive(1e9))]
    pub gpu_rate: Option<f64>,
    /// GPUs in the node, checked against --gpu-rate.
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 1024))]
    pub gpus: Option<u32>,
    /// Write the equivalent fio job file here.
    #[arg(long, value_name = "FILE")]
    pub emit_fio: Option<PathBuf>,
    #[command(flatten)]
    pub openmetrics: OpenMetricsArg,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BenchAppArgs {
    /// Time between samples of the program's process tree and the GPUs, e.g. 1s or 500ms.
    #[arg(long, value_name = "DURATION", default_value = "1s",
          value_parser = values::duration(Duration::from_millis(50), Duration::from_secs(3600)))]
    pub interval: Duration,
    /// The software the program belongs to, stored in the result (relion, cryosparc, ...) [default: unknown].
    #[arg(long, value_name = "NAME", value_parser = label)]
    pub software: Option<String>,
    /// The job as `cryocap catalog jobs` names it (e.g. relion-class3d), stored in the result.
    #[arg(long, value_name = "JOB", value_parser = label)]
    pub job: Option<String>,
    /// The RELION or CryoSPARC job directory the program writes: read when
    /// it ends, its job, particles, box, classes, iterations and layout join
    /// the monitor's figures (the monitored wall time stays).
    #[arg(long, value_name = "DIR")]
    pub import: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub openmetrics: OpenMetricsArg,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The program and its arguments, after `--`, run as given (no shell).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// A label stored in a result: one printable word or phrase, at most 64 characters.
fn label(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 64 || t.chars().any(char::is_control) {
        return Err(format!(
            "'{}' is not a label; give a name of 1 to 64 printable characters, e.g. relion",
            crate::text::printable(t)
        ));
    }
    Ok(t.to_string())
}

/// An O_DIRECT alignment: a power of two from 512 bytes to 1 MiB.
fn alignment(text: &str) -> Result<u64, String> {
    let v = crate::units::parse_count(text)
        .or_else(|_| crate::units::parse_size(text))
        .map_err(|e| e.to_string())?;
    if !v.is_power_of_two() || !(512..=1 << 20).contains(&v) {
        return Err(format!(
            "{v} bytes is not a usable O_DIRECT alignment; give a power of two from 512 to 1048576"
        ));
    }
    Ok(v)
}

#[derive(Debug, Args)]
pub struct BenchGpuArgs {
    /// Box sizes to time insertion at, comma-separated (even, 16 to 1024)
    /// [default: 128,256,432; with --from-files the stacks' box].
    #[arg(long = "box", value_name = "LIST", value_delimiter = ',')]
    pub boxes: Vec<BoxSize>,
    /// Images per insertion launch [default: 10000; with --from-files every
    /// image of the stacks].
    #[arg(long, value_name = "N", value_parser = values::count::<u64>(1, 10_000_000))]
    pub particles: Option<u64>,
    /// Padding factors, comma-separated.
    #[arg(
        long,
        value_enum,
        value_name = "1,2",
        value_delimiter = ',',
        default_value = "1,2"
    )]
    pub pad: Vec<PadArg>,
    /// Allocate the working set `cryocap fit` predicts per rank (one CUDA
    /// context each) at each --box and --pad, and find the largest box that
    /// really allocates next to the model's; no kernels are timed.
    #[arg(long)]
    pub job_memory: bool,
    /// With --job-memory: the job type (as `cryocap fit --job`).
    #[arg(long, value_name = "JOB")]
    pub job: Option<String>,
    /// With --job-memory: ranks sharing each GPU [default: 1].
    #[arg(long, value_name = "R", value_parser = values::count::<u32>(1, 64))]
    pub ranks_per_gpu: Option<u32>,
    /// Read every image of the MRC stacks in DIR with parallel readers into
    /// a reused ring of pinned buffers and insert them on each GPU, end to
    /// end, next to what the readers alone and the host link reach; only
    /// the end-to-end path is timed.
    #[arg(long, value_name = "DIR", conflicts_with = "job_memory")]
    pub from_files: Option<std::path::PathBuf>,
    /// With --from-files: reader threads [default: the cores, at most 16].
    #[arg(long, value_name = "N", requires = "from_files",
          value_parser = values::count::<usize>(1, 256))]
    pub readers: Option<usize>,
    /// With --from-files: read through the page cache instead of with
    /// O_DIRECT (used where the file system allows it).
    #[arg(long, requires = "from_files")]
    pub buffered: bool,
    /// With --from-files: timed passes over the stacks, after one warm-up.
    #[arg(long, value_name = "N", requires = "from_files",
          value_parser = values::count::<u32>(1, 100))]
    pub repeats: Option<u32>,
    /// With --job-memory: classes of a job that takes them.
    #[arg(long, value_name = "K", value_parser = values::count::<u32>(1, 1000))]
    pub classes: Option<u32>,
    #[command(flatten)]
    pub openmetrics: OpenMetricsArg,
    #[command(flatten)]
    pub output: OutputArgs,
}
