//! Storage and cache-copy measurements for `qualify`: a scratch stack of
//! box-256 particles is written into the project directory, read back in
//! order and in random order with O_DIRECT (`bench io`), optionally copied to
//! the SSD directory the way a cache fill does (`cache copy-bench`) and read
//! there too; everything written is removed afterwards.

use std::path::Path;
use std::time::Duration;

use crate::cache::copy_bench::{self, CopyBenchParams};
use crate::interrupt::ScratchDir;
use crate::progress::Progress;
use crate::results::metrics::{Better, Metric};
use crate::results::qualify::StorageIo;
use crate::storage::bench_io::{self, BenchIoParams, Source};
use crate::storage::mrc::Mode;
use crate::storage::patterns::Pattern;
use crate::storage::space::Reserve;
use crate::storage::stack_writer::{self, StackSpec};

/// Box of the scratch particles (256 KiB each in float32).
pub(crate) const SCRATCH_BOX: u32 = 256;

impl StorageIo {
    fn rates(&self, pattern: &str) -> Vec<f64> {
        self.runs
            .iter()
            .filter(|r| r.pattern == pattern)
            .map(|r| r.bytes_per_second)
            .collect()
    }

    /// Metrics: bytes/s per pattern and random-read p99 latency.
    pub fn metrics(&self) -> Vec<Metric> {
        let s = &self.storage;
        let mut out = Vec::new();
        for pattern in ["sequential", "random"] {
            let rates = self.rates(pattern);
            if !rates.is_empty() {
                out.push(
                    Metric::from_samples(
                        format!("io.{s}.{pattern}.bytes_per_second"),
                        format!("{} storage, {pattern} reads", label(s)),
                        "bytes_per_second",
                        Better::Higher,
                        rates,
                    )
                    .counting("particle bytes delivered per second, O_DIRECT, 1 thread, iodepth 1"),
                );
            }
        }
        let p99: Vec<f64> = self
            .runs
            .iter()
            .filter(|r| r.pattern == "random")
            .map(|r| r.latency_ns.p99 as f64)
            .collect();
        if !p99.is_empty() {
            out.push(
                Metric::from_samples(
                    format!("io.{s}.random.p99_latency"),
                    format!("{} storage, random read p99 latency", label(s)),
                    "nanoseconds",
                    Better::Lower,
                    p99,
                )
                .counting("per 256 KiB particle read"),
            );
        }
        out
    }
}

fn label(storage: &str) -> &str {
    match storage {
        "ssd" => "SSD",
        other => other,
    }
}

/// How big the scratch stack is.
pub(crate) fn scratch_particles(quick: bool) -> u64 {
    if quick { 256 } else { 4096 }
}

fn bench_params(dir: &Path) -> BenchIoParams {
    BenchIoParams {
        source: Source::Dir(dir.to_path_buf()),
        patterns: vec![Pattern::Sequential, Pattern::Random],
        threads: 1,
        iodepth: 1,
        direct: true,
        align: None,
        warmup: Duration::ZERO,
        passes: 1,
        duration: None,
        seed: 1,
        gpu_rate: None,
        gpus: None,
        fio_job: false,
    }
}

fn read(
    storage: &str,
    dir: &Path,
    scratch: &Path,
    repeat: u32,
    progress: &Progress,
) -> Result<StorageIo, String> {
    let mut runs = Vec::new();
    let mut notes = Vec::new();
    let mut particle_bytes = 0;
    for _ in 0..repeat.max(1) {
        let r = bench_io::run(&bench_params(scratch), progress)
            .map_err(|e| e.to_string())?
            .report;
        particle_bytes = r.stack.particle_bytes;
        runs.extend(r.runs);
        for n in r.notes {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
    }
    Ok(StorageIo {
        storage: storage.to_string(),
        path: dir.display().to_string(),
        particle_bytes,
        runs,
        notes,
    })
}

/// Everything the storage part of `qualify` measured.
#[derive(Debug, Default)]
pub(crate) struct StorageResults {
    pub io: Vec<StorageIo>,
    pub metrics: Vec<Metric>,
    pub notes: Vec<String>,
}

/// Measures the project directory and, when given, the SSD directory and the
/// copy rate between them.
pub(crate) fn measure(
    project: &Path,
    ssd: Option<&Path>,
    quick: bool,
    repeat: u32,
    progress: &Progress,
) -> StorageResults {
    let mut out = StorageResults::default();
    // A signal stops the loops below, which then remove their scratch files.
    let scratch = match ScratchDir::new(project, ".cryocap-qualify-") {
        Ok(d) => d,
        Err(e) => {
            out.notes.push(format!(
                "storage not measured: cannot write into {}: {e}",
                project.display()
            ));
            return out;
        }
    };
    let spec = StackSpec {
        particles: scratch_particles(quick),
        box_size: SCRATCH_BOX,
        mode: Mode::Float32,
        per_file: 256,
        pixel_size_a: 1.0,
        nsymbt: 0,
        seed: 1,
    };
    progress.step(&format!(
        "qualify: writing a {} scratch stack in {}",
        crate::units::bytes_decimal(stack_writer::total_bytes(&spec)),
        project.display()
    ));
    if let Err(e) = stack_writer::write_stack(scratch.path(), &spec, Reserve::Default, &|_| {}) {
        let why = match e {
            // qualify has no --reserve: say what it leaves free, and what helps.
            stack_writer::StackError::NoSpace { path, .. } => format!(
                "{} has too little free space for the {} scratch stack (qualify leaves the larger of 10 GB and 5 % free); free some space{}",
                path.display(),
                crate::units::bytes_decimal(stack_writer::total_bytes(&spec)),
                if quick {
                    ""
                } else {
                    ", or measure with --quick"
                }
            ),
            other => other.to_string(),
        };
        out.notes.push(format!("storage not measured: {why}"));
        return out;
    }
    progress.step("qualify: reading the project storage");
    match read("project", project, scratch.path(), repeat, progress) {
        Ok(io) => {
            out.metrics.extend(io.metrics());
            out.io.push(io);
        }
        Err(e) => out.notes.push(format!("project storage not measured: {e}")),
    }
    if let Some(ssd) = ssd {
        progress.step("qualify: copying to the SSD (cache fill) and reading it");
        let copy = CopyBenchParams {
            from: scratch.path().to_path_buf(),
            to: ssd.to_path_buf(),
            threads: if quick { vec![2] } else { vec![1, 2, 4] },
            repeats: repeat.max(1),
            reserve: Reserve::Bytes(10_000_000_000),
        };
        match copy_bench::measure(&copy, progress) {
            Ok(r) => {
                if let Some(row) = r
                    .rows
                    .iter()
                    .find(|row| row.threads == r.recommended_threads)
                {
                    out.metrics.push(
                        Metric::from_samples(
                            "cache.copy.bytes_per_second",
                            format!("cache fill copy, {} threads", row.threads),
                            "bytes_per_second",
                            Better::Higher,
                            row.samples.clone(),
                        )
                        .counting("source bytes copied per second (each also written once), fsync per file"),
                    );
                }
                out.notes.push(format!(
                    "cache copy: set CRYOSPARC_CACHE_NUM_THREADS={} ({})",
                    r.recommended_threads, r.reason
                ));
            }
            Err(e) => out.notes.push(format!("cache copy not measured: {e}")),
        }
        match ScratchDir::new(ssd, ".cryocap-qualify-") {
            Ok(ssd_scratch) => {
                let copied = std::fs::read_dir(scratch.path())
                    .map(|entries| {
                        entries.flatten().all(|e| {
                            std::fs::copy(e.path(), ssd_scratch.path().join(e.file_name())).is_ok()
                        })
                    })
                    .unwrap_or(false);
                if copied {
                    match read("ssd", ssd, ssd_scratch.path(), repeat, progress) {
                        Ok(io) => {
                            out.metrics.extend(io.metrics());
                            out.io.push(io);
                        }
                        Err(e) => out.notes.push(format!("SSD not measured: {e}")),
                    }
                } else {
                    out.notes.push(format!(
                        "SSD not measured: cannot copy the scratch stack into {}",
                        ssd.display()
                    ));
                }
            }
            Err(e) => out.notes.push(format!(
                "SSD not measured: cannot write into {}: {e}",
                ssd.display()
            )),
        }
    }
    out
}
