//! The read harness: whole particles read at their real offsets in a given
//! order by `threads × iodepth` synchronous readers (pread), timed one by
//! one into an HDR histogram.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::direct_io::{self, AlignedBuf, Alignment, ReadFile};
use super::mrc::{MrcError, MrcFile};
use super::patterns::{Orders, Pattern};
use crate::interrupt;
use crate::results::bench_io::{IoRun, Latency};

/// Largest latency the histogram holds (1 hour); longer reads are clamped.
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Mrc(#[from] MrcError),
    #[error("{path}: cannot open for reading: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: read failed at byte {offset}: {source}")]
    Read {
        path: PathBuf,
        offset: u64,
        source: std::io::Error,
    },
    #[error("{path}: the file ended before particle {index} (short read at byte {offset})")]
    Short {
        path: PathBuf,
        index: u64,
        offset: u64,
    },
    #[error("the stack set holds {0} particles; at most 4,294,967,295 can be benchmarked at once")]
    TooMany(u64),
    #[error("the stack set holds no particles")]
    Empty,
    #[error("cannot allocate a {0}-byte aligned read buffer")]
    Alloc(usize),
    #[error("interrupted by a signal")]
    Interrupted,
}

/// One file (or block device) of particles: where they start, how big
/// each is and how many there are, read back to back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParticleFile {
    pub path: PathBuf,
    /// Byte offset of the first particle.
    pub data_offset: u64,
    /// Bytes of one particle.
    pub particle_bytes: u64,
    pub count: u64,
    /// Bytes of the file, or of the region read on a block device.
    pub file_bytes: u64,
}

impl ParticleFile {
    fn from_mrc(f: MrcFile) -> ParticleFile {
        ParticleFile {
            data_offset: f.header.data_offset(),
            particle_bytes: f.header.image_bytes(),
            count: u64::from(f.header.nz),
            file_bytes: f.file_bytes,
            path: f.path,
        }
    }

    /// Byte offset of particle `index`.
    pub(crate) fn particle_offset(&self, index: u64) -> u64 {
        self.data_offset + index * self.particle_bytes
    }
}

/// The particle files to read, opened and checked.
#[derive(Debug)]
pub(crate) struct StackSet {
    pub files: Vec<ParticleFile>,
    /// (file, image index) of every particle, in file order.
    particles: Vec<(u32, u32)>,
}

impl StackSet {
    /// Opens every file as MRC and checks its size against its header.
    pub(crate) fn open(paths: &[PathBuf]) -> Result<StackSet, BenchError> {
        let files = paths
            .iter()
            .map(|p| MrcFile::open(p).map(ParticleFile::from_mrc))
            .collect::<Result<Vec<_>, _>>()?;
        StackSet::from_files(files)
    }

    /// Particles laid out back to back in already checked files or regions
    /// (a block device read raw: particle `i` at `i × particle_bytes`).
    pub(crate) fn from_files(files: Vec<ParticleFile>) -> Result<StackSet, BenchError> {
        let mut particles = Vec::new();
        for (fi, f) in files.iter().enumerate() {
            let total = particles.len() as u64 + f.count;
            if total > u64::from(u32::MAX) {
                return Err(BenchError::TooMany(total));
            }
            particles.extend((0..f.count as u32).map(|i| (fi as u32, i)));
        }
        if particles.is_empty() {
            return Err(BenchError::Empty);
        }
        Ok(StackSet { files, particles })
    }

    pub(crate) fn particle_count(&self) -> u64 {
        self.particles.len() as u64
    }

    pub(crate) fn particle_bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.particle_bytes)
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn total_particle_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.particle_bytes * f.count).sum()
    }
}

/// How to run one pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunSpec {
    pub pattern: Pattern,
    pub threads: u32,
    pub iodepth: u32,
    pub direct: bool,
    pub passes: u32,
    /// Stop after this long instead of after the passes (then passes are a cap).
    pub duration: Option<Duration>,
    /// Unrecorded reads in the same pattern before measuring.
    pub warmup: Duration,
    pub seed: u64,
}

/// What the progress bar is told: reads done, reads planned (0 when timed).
pub(crate) type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

struct Shared<'a> {
    set: &'a StackSet,
    handles: &'a [ReadFile],
    align: u64,
    mem_align: usize,
}

struct WorkerTotals {
    /// From the start of the stretch to the end of its last read.
    elapsed: Duration,
    hist: Histogram<u64>,
    bytes: u64,
    device_bytes: u64,
    reads: u64,
}

impl Shared<'_> {
    /// Reads particle `k` (global index) into `buf`; returns (particle
    /// bytes, device bytes).
    fn read(&self, k: u32, buf: &mut AlignedBuf) -> Result<(u64, u64), BenchError> {
        let (fi, idx) = self.set.particles[k as usize];
        let file = &self.set.files[fi as usize];
        let h = &self.handles[fi as usize];
        let offset = file.particle_offset(u64::from(idx));
        let len = file.particle_bytes;
        let (start, span) = if h.direct {
            direct_io::covering_range(offset, len, self.align)
        } else {
            (offset, len)
        };
        let dst = &mut buf.as_mut_slice()[..span as usize];
        let got =
            direct_io::pread_full(&h.file, dst, start).map_err(|source| BenchError::Read {
                path: file.path.clone(),
                offset: start,
                source,
            })?;
        if (got as u64) < offset + len - start {
            return Err(BenchError::Short {
                path: file.path.clone(),
                index: u64::from(idx),
                offset: start + got as u64,
            });
        }
        Ok((len, got as u64))
    }

    fn buffer(&self) -> Result<AlignedBuf, BenchError> {
        let len = (self.set.particle_bytes() + 2 * self.align) as usize;
        AlignedBuf::new(len, self.mem_align.max(4096)).ok_or(BenchError::Alloc(len))
    }
}

/// Reads `order` with `workers` readers until it is done, `deadline` passes
/// or a signal; records latencies when `record`.
/// One stretch of reads: an order, how many readers, when to stop.
struct Stretch<'a> {
    order: &'a [u32],
    workers: u32,
    deadline: Option<Instant>,
    record: bool,
    /// Reads done before this stretch and planned in all, for progress.
    done_before: u64,
    planned: u64,
}

fn read_order(
    shared: &Shared,
    stretch: Stretch,
    progress: Progress,
) -> Result<WorkerTotals, BenchError> {
    let Stretch {
        order,
        workers,
        deadline,
        record,
        done_before,
        planned,
    } = stretch;
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<BenchError>> = Mutex::new(None);
    let t_start = Instant::now();
    let totals = Mutex::new(WorkerTotals {
        elapsed: Duration::ZERO,
        hist: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds"),
        bytes: 0,
        device_bytes: 0,
        reads: 0,
    });
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut buf = match shared.buffer() {
                    Ok(b) => b,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert(e);
                        return;
                    }
                };
                let mut mine = WorkerTotals {
                    elapsed: Duration::ZERO,
                    hist: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds"),
                    bytes: 0,
                    device_bytes: 0,
                    reads: 0,
                };
                loop {
                    if stop.load(Ordering::Relaxed) || interrupt::requested() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&k) = order.get(i) else { break };
                    let t0 = Instant::now();
                    match shared.read(k, &mut buf) {
                        Ok((b, d)) => {
                            let ns = t0.elapsed().as_nanos() as u64;
                            if record {
                                mine.hist.saturating_record(ns.clamp(1, MAX_LATENCY_NS));
                            }
                            mine.bytes += b;
                            mine.device_bytes += d;
                            mine.reads += 1;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            first_error.lock().unwrap().get_or_insert(e);
                            break;
                        }
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                let finished = t_start.elapsed();
                let mut t = totals.lock().unwrap();
                t.elapsed = t.elapsed.max(finished);
                let _ = t.hist.add(&mine.hist);
                t.bytes += mine.bytes;
                t.device_bytes += mine.device_bytes;
                t.reads += mine.reads;
            });
        }
        if record {
            // Progress from the calling thread while the readers run.
            let total = order.len() as u64;
            loop {
                let d = done.load(Ordering::Relaxed);
                progress(done_before + d, planned);
                if d >= total || stop.load(Ordering::Relaxed) || interrupt::requested() {
                    break;
                }
                if next.load(Ordering::Relaxed) >= order.len() {
                    // Everything is claimed; the scope waits for the last reads.
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    });
    if let Some(e) = first_error.into_inner().unwrap() {
        return Err(e);
    }
    if interrupt::requested() {
        return Err(BenchError::Interrupted);
    }
    Ok(totals.into_inner().unwrap())
}

/// Runs one pattern over the set and summarises it.
pub(crate) fn run(
    set: &StackSet,
    spec: &RunSpec,
    align: &Alignment,
    progress: Progress,
) -> Result<IoRun, BenchError> {
    let n = u32::try_from(set.particle_count())
        .map_err(|_| BenchError::TooMany(set.particle_count()))?;
    let mut handles = Vec::with_capacity(set.files.len());
    for f in &set.files {
        handles.push(
            direct_io::open_read(&f.path, spec.direct, align).map_err(|source| {
                BenchError::Open {
                    path: f.path.clone(),
                    source,
                }
            })?,
        );
    }
    let shared = Shared {
        set,
        handles: &handles,
        align: align.offset,
        mem_align: align.memory as usize,
    };
    let workers = spec.threads.max(1) * spec.iodepth.max(1);
    let orders = Orders::new(spec.pattern, n, spec.seed);
    let mut order = Vec::with_capacity(orders.per_pass());

    if !spec.warmup.is_zero() {
        orders.fill(0, &mut order);
        let until = Instant::now() + spec.warmup;
        let warm = Stretch {
            order: &order,
            workers,
            deadline: Some(until),
            record: false,
            done_before: 0,
            planned: 0,
        };
        read_order(&shared, warm, progress)?;
    }

    let passes = spec.pattern.passes(spec.passes).max(1);
    let planned = if spec.duration.is_some() {
        0
    } else {
        u64::from(passes) * orders.per_pass() as u64
    };
    let deadline = spec.duration.map(|d| Instant::now() + d);
    let mut hist = Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds");
    let (mut bytes, mut device_bytes, mut reads) = (0u64, 0u64, 0u64);
    let mut elapsed = Duration::ZERO;
    let mut pass = 0u32;
    let mut passes_done = 0f64;
    loop {
        if spec.duration.is_none() && pass >= passes {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if !handles.iter().all(|h| h.direct) {
            for h in handles.iter().filter(|h| !h.direct) {
                let _ = direct_io::drop_cache(&h.file);
            }
        }
        orders.fill(pass, &mut order);
        let stretch = Stretch {
            order: &order,
            workers,
            deadline,
            record: true,
            done_before: reads,
            planned,
        };
        let t = read_order(&shared, stretch, progress)?;
        elapsed += t.elapsed;
        hist.add(&t.hist).expect("same bounds");
        bytes += t.bytes;
        device_bytes += t.device_bytes;
        reads += t.reads;
        passes_done += t.reads as f64 / order.len().max(1) as f64;
        pass = pass.wrapping_add(1);
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    let fallback = handles.iter().find_map(|h| h.fallback.clone());
    Ok(IoRun {
        pattern: spec.pattern.label(),
        threads: spec.threads,
        iodepth: spec.iodepth,
        direct: handles.iter().all(|h| h.direct),
        direct_fallback: fallback,
        bytes_read: bytes,
        device_bytes,
        particles_read: reads,
        passes: passes_done,
        seconds: secs,
        bytes_per_second: bytes as f64 / secs,
        particles_per_second: reads as f64 / secs,
        iops: reads as f64 / secs,
        latency_ns: latency(&hist),
    })
}

/// Percentiles of a latency histogram (all zero when empty).
pub(crate) fn latency(h: &Histogram<u64>) -> Latency {
    Latency {
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::mrc::Mode;
    use crate::storage::space::Reserve;
    use crate::storage::stack_writer::{StackSpec, write_stack};

    fn stack(dir: &std::path::Path) -> Vec<PathBuf> {
        let spec = StackSpec {
            particles: 50,
            box_size: 32,
            mode: Mode::Float32,
            per_file: 20,
            pixel_size_a: 1.0,
            nsymbt: 0,
            seed: 3,
        };
        write_stack(dir, &spec, Reserve::Bytes(0), &|_| {}).unwrap()
    }

    fn spec(pattern: Pattern, direct: bool) -> RunSpec {
        RunSpec {
            pattern,
            threads: 2,
            iodepth: 2,
            direct,
            passes: 2,
            duration: None,
            warmup: Duration::ZERO,
            seed: 1,
        }
    }

    #[test]
    fn every_pattern_reads_what_it_should() {
        let dir = tempfile::tempdir().unwrap();
        let set = StackSet::open(&stack(dir.path())).unwrap();
        let align = direct_io::alignment(dir.path());
        for (p, particles) in [
            (Pattern::Sequential, 100),
            (Pattern::Random, 100),
            (Pattern::Epochs(3), 150),
            (Pattern::Subset(0.2), 20),
        ] {
            for direct in [true, false] {
                let r = run(&set, &spec(p, direct), &align, &|_, _| {}).unwrap();
                assert_eq!(r.particles_read, particles, "{p:?}");
                assert_eq!(r.bytes_read, particles * 32 * 32 * 4);
                assert!(r.device_bytes >= r.bytes_read);
                assert!(r.latency_ns.p50 > 0 && r.latency_ns.max >= r.latency_ns.p99);
                assert!(r.bytes_per_second > 0.0);
                assert!(r.direct || !direct || r.direct_fallback.is_some());
            }
        }
    }

    #[test]
    fn a_truncated_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = stack(dir.path());
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&files[1])
            .unwrap();
        f.set_len(5000).unwrap();
        let e = StackSet::open(&files).unwrap_err();
        assert!(e.to_string().contains("stack_00002.mrcs"), "{e}");
        assert!(e.to_string().contains("truncated"), "{e}");
    }
}
