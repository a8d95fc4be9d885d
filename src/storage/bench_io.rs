//! `cryocap bench io` from end to end: find or write the stack, run each
//! pattern, delete what was written (also on error and on a signal), and gather
//! one report.

use crate::results::metrics::{Better, Metric};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::direct_io::{self, Alignment};
use super::fio::{self, FioJobs};
use super::patterns::Pattern;
use super::raw_device::{self, RawDeviceError};
use super::read_bench::{self, BenchError, RunSpec, StackSet};
use super::space::Reserve;
use super::stack_writer::{self, StackError, StackSpec};
use crate::progress::{Progress, Unit};
use crate::results::bench_io::{BenchIoReport, FeedRow, GpuFeed, StackRead};

/// Where the particles come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Every .mrc/.mrcs file in the directory.
    Dir(PathBuf),
    Files(Vec<PathBuf>),
    /// A block device read raw and read-only: float32 particles of
    /// `particle_bytes` back to back over the first `size` bytes (default:
    /// the smaller of the device and 4 GiB).
    RawDevice {
        device: PathBuf,
        particle_bytes: u64,
        size: Option<u64>,
    },
    /// Write this stack into the directory first; delete it afterwards.
    Create {
        dir: PathBuf,
        spec: StackSpec,
        reserve: Reserve,
    },
}

/// One benchmark: what to read, in which patterns, how.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchIoParams {
    pub source: Source,
    pub patterns: Vec<Pattern>,
    pub threads: u32,
    pub iodepth: u32,
    pub direct: bool,
    /// O_DIRECT alignment overriding what the kernel reports.
    pub align: Option<u64>,
    pub warmup: Duration,
    pub passes: u32,
    /// Read for this long per pattern instead of whole passes.
    pub duration: Option<Duration>,
    pub seed: u64,
    /// Particles per second one GPU consumes, and the node's GPUs.
    pub gpu_rate: Option<f64>,
    pub gpus: Option<u32>,
    /// Also describe the run as a fio job file.
    pub fio_job: bool,
}

/// A benchmark's report, and the equivalent fio job file when asked for.
#[derive(Debug, Clone)]
pub struct Measured {
    pub report: BenchIoReport,
    pub fio_job: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchIoError {
    #[error("--dir {0}: the directory does not exist")]
    NoDir(PathBuf),
    #[error("--dir {path}: cannot list it: {source}")]
    ListDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--dir {0}: no .mrc or .mrcs files there; write some with --create N --box B")]
    NoFiles(PathBuf),
    #[error("{0}: no such file")]
    NoFile(PathBuf),
    #[error(
        "{0}: is a block device; --files reads MRC files only; read the device read-only with --raw-device {0}"
    )]
    BlockDevice(PathBuf),
    #[error("{0}: not a regular file")]
    NotFile(PathBuf),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error(transparent)]
    RawDevice(#[from] RawDeviceError),
    #[error(transparent)]
    Bench(#[from] BenchError),
    #[error("--emit-fio: {0}")]
    Fio(String),
}

/// The stack written for this run: deleted when dropped (on success, error
/// or a first signal), and by the signal thread on a second signal.
#[derive(Default)]
struct Scratch {
    paths: Vec<PathBuf>,
    _registered: Vec<crate::interrupt::Scratch>,
}

impl Scratch {
    fn hold(&mut self, paths: &[PathBuf]) {
        for p in paths {
            self._registered.push(crate::interrupt::scratch(p));
            self.paths.push(p.clone());
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn is_stack_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mrcs") || e.eq_ignore_ascii_case("mrc"))
}

/// The .mrc/.mrcs files of `dir`, sorted by name.
pub fn stack_files(dir: &Path) -> Result<Vec<PathBuf>, BenchIoError> {
    let rd = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BenchIoError::NoDir(dir.to_path_buf()),
        _ => BenchIoError::ListDir {
            path: dir.to_path_buf(),
            source: e,
        },
    })?;
    let mut files = Vec::new();
    for e in rd {
        let e = e.map_err(|source| BenchIoError::ListDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = e.path();
        if is_stack_name(&p) && e.file_type().is_ok_and(|t| t.is_file()) {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(BenchIoError::NoFiles(dir.to_path_buf()));
    }
    Ok(files)
}

fn check_files(files: &[PathBuf]) -> Result<(), BenchIoError> {
    for f in files {
        let t = std::fs::metadata(f)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => BenchIoError::NoFile(f.clone()),
                _ => BenchIoError::Bench(BenchError::Open {
                    path: f.clone(),
                    source: e,
                }),
            })?
            .file_type();
        if t.is_block_device() {
            return Err(BenchIoError::BlockDevice(f.clone()));
        }
        if !t.is_file() {
            return Err(BenchIoError::NotFile(f.clone()));
        }
    }
    Ok(())
}

/// Runs the benchmark `cfg` describes.
pub fn run(cfg: &BenchIoParams, progress: &Progress) -> Result<Measured, BenchIoError> {
    let mut notes = Vec::new();
    let mut scratch = Scratch::default();
    let mut raw = None;
    let (files, created) = match &cfg.source {
        Source::Dir(d) => (stack_files(d)?, false),
        Source::Files(f) => {
            check_files(f)?;
            (f.clone(), false)
        }
        Source::RawDevice {
            device,
            particle_bytes,
            size,
        } => {
            let dev = raw_device::inspect(device)?;
            let region = raw_device::particles(&dev, *size, *particle_bytes)?;
            notes.push(format!(
                "read-only raw reads of block device {}: {} particles of {} bytes back to back \
                 over its first {} bytes (device size {} bytes, from {}); nothing was written",
                device.display(),
                region.count,
                region.particle_bytes,
                region.file_bytes,
                dev.bytes,
                dev.size_source
            ));
            raw = Some((dev, region));
            (vec![device.clone()], false)
        }
        Source::Create { dir, spec, reserve } => {
            let total = stack_writer::total_bytes(spec);
            let pb = progress.bar(total, Unit::Bytes, "writing stack");
            let written = stack_writer::write_stack(dir, spec, *reserve, &|b| pb.set_position(b))?;
            pb.finish_and_clear();
            scratch.hold(&written);
            notes.push(format!(
                "the stack was written for this run ({} files) and deleted afterwards",
                written.len()
            ));
            (written, true)
        }
    };
    let (set, mut align) = match raw {
        Some((dev, region)) => (StackSet::from_files(vec![region])?, dev.alignment),
        None => (StackSet::open(&files)?, direct_io::alignment(&files[0])),
    };
    if let Some(a) = cfg.align {
        align = Alignment {
            offset: a,
            memory: a.max(align.memory),
            source: "--align".to_string(),
        };
    }
    let fio_job = if !cfg.fio_job {
        None
    } else {
        let fio_offset = set
            .files
            .iter()
            .map(|f| f.data_offset / align.offset * align.offset)
            .min()
            .unwrap_or(0);
        fio::job_file(&FioJobs {
            files: files.clone(),
            block_bytes: set.particle_bytes().div_ceil(align.offset) * align.offset,
            offset_bytes: fio_offset,
            size_bytes: set
                .files
                .iter()
                .map(|f| (f.file_bytes - fio_offset) / align.offset * align.offset)
                .min()
                .unwrap_or(0),
            patterns: cfg.patterns.clone(),
            threads: cfg.threads,
            iodepth: cfg.iodepth,
            direct: cfg.direct,
            passes: cfg.passes,
            duration_s: cfg.duration.map(|d| d.as_secs_f64()),
        })
        .map(|job| match &cfg.source {
            Source::Create { dir, spec, .. } => format!(
                "; The stack was written for one `cryocap bench io --create` run and deleted\n\
                 ; after it; write it again first with:\n\
                 ;   cryocap stack create --dir {} --particles {} --box {} --particles-per-file {} --seed {}{}\n{job}",
                dir.display(),
                spec.particles,
                spec.box_size,
                spec.per_file,
                spec.seed,
                if spec.mode == super::mrc::Mode::Float16 { " --dtype f16" } else { "" }
            ),
            _ => job,
        })
        .map(Some)
        .map_err(BenchIoError::Fio)?
    };
    let mut runs = Vec::new();
    for pattern in &cfg.patterns {
        let passes = pattern.passes(cfg.passes);
        let planned = if cfg.duration.is_some() {
            0
        } else {
            u64::from(passes) * per_pass(set.particle_count(), pattern)
        };
        let pb = progress.bar(planned, Unit::Reads, &pattern.label());
        let spec = RunSpec {
            pattern: *pattern,
            threads: cfg.threads,
            iodepth: cfg.iodepth,
            direct: cfg.direct,
            passes: cfg.passes,
            duration: cfg.duration,
            warmup: cfg.warmup,
            seed: cfg.seed,
        };
        let r = read_bench::run(&set, &spec, &align, &|done, _| pb.set_position(done))?;
        pb.finish_and_clear();
        runs.push(r);
    }
    if let Some(r) = runs.iter().find(|r| r.direct_fallback.is_some()) {
        notes.push(format!(
            "O_DIRECT was not used: {}",
            r.direct_fallback.clone().unwrap_or_default()
        ));
    }
    if !cfg.direct {
        notes.push(
            "buffered reads: each file's cached pages were dropped (posix_fadvise DONTNEED) \
             before each pass; pages cached by other processes may still be hit"
                .to_string(),
        );
    }
    let total_bytes = set.total_particle_bytes();
    let per_pass_s = runs
        .iter()
        .map(|r| r.seconds / r.passes.max(1e-9))
        .fold(0.0, f64::max);
    if per_pass_s < 1.0 && cfg.duration.is_none() {
        notes.push(format!(
            "a pass took under a second ({:.2} s at most): figures this short are noisy; use a larger stack, more --passes or --runtime",
            per_pass_s
        ));
    }
    let feed = cfg.gpu_rate.map(|rate| GpuFeed {
        gpu_particles_per_second: rate,
        gpus: cfg.gpus,
        per_run: runs
            .iter()
            .map(|r| {
                let fed = r.particles_per_second / rate;
                FeedRow {
                    pattern: r.pattern.clone(),
                    gpus_fed: fed,
                    enough: cfg.gpus.map(|g| fed >= f64::from(g)),
                }
            })
            .collect(),
    });
    let metrics = io_metrics(&runs);
    let report = BenchIoReport {
        metrics,
        stack: StackRead {
            files: files.len(),
            particles: set.particle_count(),
            particle_bytes: set.particle_bytes(),
            bytes: total_bytes,
            created,
            alignment: align.offset,
            alignment_source: align.source.clone(),
        },
        engine: format!(
            "{} reader thread(s) (threads × iodepth), each one synchronous pread per particle",
            cfg.threads * cfg.iodepth
        ),
        runs,
        feed,
        notes,
    };
    Ok(Measured { report, fio_job })
}

/// Each run's throughput and p99 latency as one-sample metrics.
fn io_metrics(runs: &[crate::results::bench_io::IoRun]) -> Vec<Metric> {
    let mut out = Vec::new();
    for r in runs {
        out.push(
            Metric::from_samples(
                format!("io.{}.bytes_per_second", r.pattern),
                format!("{} reads", r.pattern),
                "bytes_per_second",
                Better::Higher,
                vec![r.bytes_per_second],
            )
            .counting("particle bytes delivered per second"),
        );
        out.push(Metric::from_samples(
            format!("io.{}.p99_latency", r.pattern),
            format!("{} read p99 latency", r.pattern),
            "nanoseconds",
            Better::Lower,
            vec![r.latency_ns.p99 as f64],
        ));
    }
    out
}

fn per_pass(n: u64, p: &Pattern) -> u64 {
    match p {
        Pattern::Subset(f) => ((n as f64 * f).round() as u64).clamp(1, n),
        _ => n,
    }
}
