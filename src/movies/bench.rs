//! `bench movies`: read each movie whole (O_DIRECT where the file system
//! allows, else buffered with the page cache dropped first), decode, gain
//! and sum, on 1, 2, … threads that take movies from one queue.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::Format;
use super::decode::{self, DecodeError, EerRender};
use crate::interrupt;
use crate::results::gpu::GpuBenchReport;
use crate::results::metrics::{Better, Metric};
use crate::results::movies::{KeepUp, MovieRun};
use crate::storage::direct_io::{self, AlignedBuf};

/// One movie to read.
#[derive(Debug, Clone)]
pub struct MovieFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub format: Format,
}

/// What a run over the movies measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTotals {
    pub threads: usize,
    pub movies: usize,
    pub seconds: f64,
    pub read_seconds: f64,
    pub decode_seconds: f64,
    pub file_bytes: u64,
    pub decoded_bytes: u64,
    pub frames: u64,
    /// Electrons counted in the decoded frames.
    pub electrons: u64,
    /// Whether every read used O_DIRECT.
    pub direct: bool,
}

/// Why the benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Decode { path: String, source: DecodeError },
    #[error("interrupted")]
    Interrupted,
}

/// Reads one file whole into an aligned buffer; returns the buffer, the
/// bytes and whether O_DIRECT was used.
fn read_whole(path: &Path, direct: bool) -> std::io::Result<(AlignedBuf, usize, bool)> {
    let align = direct_io::alignment(path);
    let f = direct_io::open_read(path, direct, &align)?;
    let len = f.file.metadata()?.len() as usize;
    let unit = align.offset.max(4096) as usize;
    let cap = len.div_ceil(unit).max(1) * unit;
    let mut buf = AlignedBuf::new(cap, align.memory.max(4096) as usize)
        .ok_or_else(|| std::io::Error::other("cannot allocate the read buffer"))?;
    if !f.direct {
        let _ = direct_io::drop_cache(&f.file);
    }
    let got = direct_io::pread_full(&f.file, buf.as_mut_slice(), 0)?;
    if got < len {
        return Err(std::io::Error::other(format!(
            "read {got} of {len} bytes: the file shrank while being read"
        )));
    }
    Ok((buf, len, f.direct))
}

/// One pass over `files` on `threads` threads.
pub fn run(
    files: &[MovieFile],
    threads: usize,
    direct: bool,
    gain: Option<&[f32]>,
    eer: EerRender,
    limit: u64,
) -> Result<RunTotals, BenchError> {
    let work = Work {
        files,
        next: AtomicUsize::new(0),
        direct,
        gain,
        eer,
        limit,
        failure: Mutex::new(None),
    };
    let totals = Mutex::new(WorkerTotals::new());
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let w = work.worker();
                if let Ok(mut t) = totals.lock() {
                    t.add(&w);
                }
            });
        }
    });
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = work.failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let t = totals.into_inner().unwrap_or(WorkerTotals {
        all_direct: false,
        ..WorkerTotals::new()
    });
    Ok(RunTotals {
        threads: threads.max(1),
        movies: files.len(),
        seconds,
        read_seconds: t.read_seconds,
        decode_seconds: t.decode_seconds,
        file_bytes: files.iter().map(|f| f.bytes).sum(),
        decoded_bytes: t.decoded_bytes,
        frames: t.frames,
        electrons: t.electrons,
        direct: t.all_direct,
    })
}

/// What one worker thread (or all, summed) measured.
#[derive(Debug, Clone, Copy)]
struct WorkerTotals {
    read_seconds: f64,
    decode_seconds: f64,
    decoded_bytes: u64,
    frames: u64,
    electrons: u64,
    all_direct: bool,
}

impl WorkerTotals {
    /// Nothing measured yet (and no read that was not direct).
    fn new() -> WorkerTotals {
        WorkerTotals {
            read_seconds: 0.0,
            decode_seconds: 0.0,
            decoded_bytes: 0,
            frames: 0,
            electrons: 0,
            all_direct: true,
        }
    }

    fn add(&mut self, w: &WorkerTotals) {
        self.read_seconds += w.read_seconds;
        self.decode_seconds += w.decode_seconds;
        self.decoded_bytes += w.decoded_bytes;
        self.frames += w.frames;
        self.electrons += w.electrons;
        self.all_direct &= w.all_direct;
    }
}

/// What the worker threads of a run share: the movies and the next to
/// take, how to read and decode them, and the first failure.
struct Work<'a> {
    files: &'a [MovieFile],
    next: AtomicUsize,
    direct: bool,
    gain: Option<&'a [f32]>,
    eer: EerRender,
    limit: u64,
    failure: Mutex<Option<BenchError>>,
}

impl Work<'_> {
    /// Records `e` unless a failure is recorded already.
    fn fail(&self, e: BenchError) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
    }

    /// One worker: takes movies from the queue until none is left, one
    /// fails, or an interrupt is asked for.
    fn worker(&self) -> WorkerTotals {
        let mut w = WorkerTotals::new();
        loop {
            if interrupt::requested() {
                self.fail(BenchError::Interrupted);
                break;
            }
            if self.failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                break;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(m) = self.files.get(i) else { break };
            if let Err(e) = self.movie(m, &mut w) {
                self.fail(e);
                break;
            }
        }
        w
    }

    /// Reads movie `m` whole and decodes it, adding the times and counts
    /// to `w`.
    fn movie(&self, m: &MovieFile, w: &mut WorkerTotals) -> Result<(), BenchError> {
        let t = Instant::now();
        let (buf, len, was_direct) =
            read_whole(&m.path, self.direct).map_err(|source| BenchError::Read {
                path: m.path.display().to_string(),
                source,
            })?;
        w.read_seconds += t.elapsed().as_secs_f64();
        w.all_direct &= was_direct;
        let t = Instant::now();
        {
            let d = decode::decode(
                &m.path,
                &buf.as_slice()[..len],
                self.gain,
                self.eer,
                self.limit,
            )
            .map_err(|source| BenchError::Decode {
                path: m.path.display().to_string(),
                source,
            })?;
            // keep the sum alive so the work is not optimised away
            std::hint::black_box(&d.sum);
            w.decoded_bytes += d.decoded_bytes;
            w.frames += d.frames;
            w.electrons += d.counts;
        }
        w.decode_seconds += t.elapsed().as_secs_f64();
        Ok(())
    }
}

/// What `bench movies` runs: every format of the set on every thread count.
#[derive(Debug, Clone)]
pub struct SetParams<'a> {
    pub movies: &'a [MovieFile],
    pub threads: &'a [usize],
    /// O_DIRECT where the file system allows it.
    pub direct: bool,
    pub gain: Option<&'a [f32]>,
    pub eer: EerRender,
    /// The most bytes a movie may hold or decompress to.
    pub limit: u64,
}

/// What the runs over a set measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SetRuns {
    /// The set's formats, in the order first met.
    pub formats: Vec<Format>,
    /// Each format on each thread count, in that order.
    pub runs: Vec<MovieRun>,
    /// Whether every read used O_DIRECT (false when it was not asked for).
    pub direct: bool,
    /// What to mind when reading the figures.
    pub notes: Vec<String>,
}

impl SetRuns {
    /// The most movies an hour any run reached (0 without runs).
    pub fn best(&self) -> f64 {
        self.runs
            .iter()
            .map(|r| r.movies_per_hour)
            .fold(0.0, f64::max)
    }

    /// Frames motion correction sees per movie of the first run: EER
    /// detector frames are summed `grouping` at a time.
    pub fn fractions_per_movie(&self, grouping: u32) -> u64 {
        let frames = self
            .runs
            .first()
            .map_or(0, |r| r.frames / r.movies.max(1) as u64);
        match self.formats.first() == Some(&Format::Eer) {
            true => frames / u64::from(grouping.max(1)),
            false => frames,
        }
    }
}

/// Runs each format of the set on each thread count ([`run`]); a run on
/// more threads than one says how it scales against the one-thread run.
pub fn run_set(p: &SetParams) -> Result<SetRuns, BenchError> {
    let mut formats: Vec<Format> = Vec::new();
    for m in p.movies {
        if !formats.contains(&m.format) {
            formats.push(m.format);
        }
    }
    let mut runs = Vec::new();
    let mut direct = p.direct;
    for &format in &formats {
        let set: Vec<MovieFile> = p
            .movies
            .iter()
            .filter(|m| m.format == format)
            .cloned()
            .collect();
        let mut one_thread = None;
        for &t in p.threads {
            let r = run(&set, t, p.direct, p.gain, p.eer, p.limit)?;
            direct &= r.direct;
            let mph = r.movies as f64 / r.seconds.max(1e-9) * 3600.0;
            if t == 1 {
                one_thread = Some(mph);
            }
            runs.push(movie_run(format, &r, mph, one_thread.filter(|_| t > 1)));
        }
    }
    let mut notes = Vec::new();
    if p.threads.iter().any(|&t| t > p.movies.len()) {
        notes.push(format!(
            "fewer movies ({}) than the most threads ({}): some threads had nothing to do; give more movies for a fair scaling figure",
            p.movies.len(),
            p.threads.iter().max().copied().unwrap_or(1)
        ));
    }
    if p.direct && !direct {
        notes.push("O_DIRECT was refused by the file system: buffered reads with the page cache dropped per file were used".into());
    }
    Ok(SetRuns {
        formats,
        runs,
        direct,
        notes,
    })
}

fn movie_run(format: Format, r: &RunTotals, mph: f64, one: Option<f64>) -> MovieRun {
    MovieRun {
        format: format.name().into(),
        threads: r.threads,
        movies: r.movies,
        seconds: r.seconds,
        read_seconds: r.read_seconds,
        decode_seconds: r.decode_seconds,
        file_bytes: r.file_bytes,
        decoded_bytes: r.decoded_bytes,
        frames: r.frames,
        electrons: r.electrons,
        movies_per_hour: mph,
        read_bytes_per_second: r.file_bytes as f64 / r.seconds.max(1e-9),
        decode_bytes_per_second_per_thread: r.file_bytes as f64 / r.decode_seconds.max(1e-9),
        frames_per_second: r.frames as f64 / r.seconds.max(1e-9),
        scaling: one.map(|o| mph / o.max(1e-12)),
        bound: if r.read_seconds > r.decode_seconds {
            "read".into()
        } else {
            "decode".into()
        },
    }
}

/// Movies per hour of each run, as metrics `compare` can hold against a
/// baseline.
pub fn metrics(runs: &[MovieRun]) -> Vec<Metric> {
    runs.iter()
        .map(|r| {
            let v = r.movies_per_hour;
            Metric {
                id: format!("movies.{}.threads{}.movies_per_hour", r.format, r.threads),
                label: format!("{} movies per hour on {} thread(s)", r.format, r.threads),
                unit: "movies_per_hour".into(),
                better: Better::Higher,
                value: v,
                min: v,
                max: v,
                samples: vec![v],
                counts: "movies read, decoded, gain-corrected and summed".into(),
            }
        })
        .collect()
}

/// Whether the node keeps up with `needed` movies an hour when it reads
/// `best`, and, given the GPUs and one GPU's rate with its basis, whether
/// it feeds them.
pub fn keep_up(
    needed: f64,
    best: f64,
    gpus: Option<u32>,
    gpu_rate: Option<&(f64, String)>,
) -> KeepUp {
    let feeds = match (gpus, gpu_rate) {
        (Some(g), Some((rate, _))) => Some(best >= f64::from(g) * rate),
        _ => None,
    };
    KeepUp {
        movies_per_hour_needed: needed,
        movies_per_hour: best,
        keeps_up: best >= needed,
        gpus,
        gpu_movies_per_hour: gpu_rate.map(|g| g.0),
        gpu_rate_basis: gpu_rate.map(|g| g.1.clone()),
        feeds_gpus: feeds,
    }
}

/// The check fails: the node reads fewer movies than needed, or fewer
/// than its GPUs take.
pub fn falls_behind(k: &KeepUp) -> bool {
    !k.keeps_up || k.feeds_gpus == Some(false)
}

/// One GPU's movies per hour from a `bench gpu` result's frame alignment
/// (run on `node`): the row of this frame size, else the nearest size
/// measured, scaled by pixel-frames (FFTs and the per-pixel kernels grow
/// about linearly); with how it was had. None when the result holds no
/// frame-alignment figure.
pub fn gpu_rate(
    report: &GpuBenchReport,
    node: &str,
    width: u32,
    height: u32,
    frames: u64,
) -> Option<(f64, String)> {
    let rows: Vec<_> = report
        .devices
        .iter()
        .flat_map(|d| d.frame_alignment.iter().map(move |f| (d, f)))
        .filter(|(_, f)| f.error.is_none() && f.movies_per_hour > 0.0)
        .collect();
    let work = |w: u32, h: u32, f: u64| f64::from(w) * f64::from(h) * f.max(1) as f64;
    let mine = work(width, height, frames);
    let (d, f) = rows.into_iter().min_by(|a, b| {
        let da = (work(a.1.width, a.1.height, u64::from(a.1.frames)) / mine)
            .ln()
            .abs();
        let db = (work(b.1.width, b.1.height, u64::from(b.1.frames)) / mine)
            .ln()
            .abs();
        da.total_cmp(&db)
    })?;
    let theirs = work(f.width, f.height, u64::from(f.frames));
    let gpu = format!("GPU {} ({}) of {node}", d.device.ordinal, d.device.name);
    if (f.width, f.height, u64::from(f.frames)) == (width, height, frames) {
        return Some((
            f.movies_per_hour,
            format!("measured by bench gpu on {gpu}, {} movies", f.detector),
        ));
    }
    Some((
        f.movies_per_hour * theirs / mine,
        format!(
            "scaled by pixel-frames from bench gpu's {} movies ({}×{}×{}, {:.0} movies/h) on {gpu} to {width}×{height}×{frames}",
            f.detector, f.width, f.height, f.frames, f.movies_per_hour
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::movies::create::{self, GAIN_NAME};
    use crate::results::Kind;

    /// Two small LZW TIFF movies written into `dir`.
    fn movies(dir: &Path) -> Vec<MovieFile> {
        let spec = create::MovieSpec {
            format: Format::TiffLzw,
            mode: crate::storage::mrc::Mode::Int8,
            width: 64,
            height: 64,
            frames: 4,
            dose: crate::movies::synth::Dose::from_total(4.0, 1.0, 4, 0.1),
            pixel_size: 1.0,
            movies: 2,
            seed: 3,
            drift: (0.0, 0.0),
        };
        create::write_movies(
            dir,
            &spec,
            crate::storage::space::Reserve::Bytes(0),
            &|_| {},
        )
        .unwrap();
        let mut out: Vec<MovieFile> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().is_some_and(|n| n != GAIN_NAME))
            .map(|path| MovieFile {
                bytes: std::fs::metadata(&path).unwrap().len(),
                path,
                format: Format::TiffLzw,
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    #[test]
    fn a_set_runs_on_each_thread_count_and_says_what_to_mind() {
        let dir = tempfile::tempdir().unwrap();
        let set = movies(dir.path());
        assert_eq!(set.len(), 2);
        let p = SetParams {
            movies: &set,
            threads: &[1, 4],
            direct: false,
            gain: None,
            eer: EerRender {
                grouping: 1,
                upsample: 1,
            },
            limit: 1 << 30,
        };
        let r = run_set(&p).unwrap();
        assert_eq!(r.formats, vec![Format::TiffLzw]);
        assert_eq!(r.runs.len(), 2);
        assert_eq!((r.runs[0].threads, r.runs[0].scaling), (1, None));
        assert!(r.runs[1].scaling.is_some());
        assert_eq!(r.runs[0].frames, 8);
        assert_eq!(r.fractions_per_movie(5), 4);
        assert!(!r.direct);
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(r.notes[0].starts_with("fewer movies (2) than the most threads (4)"));
        assert!(r.best() > 0.0);
        let m = metrics(&r.runs);
        assert_eq!(m[1].id, "movies.tiff-lzw.threads4.movies_per_hour");
        assert_eq!(m[1].value, r.runs[1].movies_per_hour);
    }

    #[test]
    fn keeping_up_needs_the_rate_and_enough_for_the_gpus() {
        let rate = (100.0, "given (--gpu-rate)".to_string());
        let k = keep_up(300.0, 350.0, Some(4), Some(&rate));
        assert_eq!((k.keeps_up, k.feeds_gpus), (true, Some(false)));
        assert_eq!(k.gpu_rate_basis.as_deref(), Some("given (--gpu-rate)"));
        assert!(falls_behind(&k));
        let k = keep_up(300.0, 350.0, Some(3), Some(&rate));
        assert!(!falls_behind(&k));
        let k = keep_up(300.0, 250.0, None, Some(&rate));
        assert_eq!((k.keeps_up, k.feeds_gpus, k.gpus), (false, None, None));
        assert!(falls_behind(&k));
    }

    #[test]
    fn the_gpu_rate_is_the_nearest_measured_size_scaled_by_pixel_frames() {
        let text = include_str!("../../tests/fixtures/results/bench-gpu-align.json");
        let env = crate::results::read::parse(Path::new("align.json"), text).unwrap();
        let Kind::BenchGpu(b) = env.kind else {
            panic!("not bench gpu")
        };
        let (rate, basis) = gpu_rate(&b, "n1", 4096, 4096, 40).unwrap();
        assert_eq!(rate, 5000.0);
        assert!(
            basis.starts_with("measured by bench gpu on GPU 0 ("),
            "{basis}"
        );
        assert!(basis.ends_with(") of n1, falcon-4i movies"), "{basis}");
        let (rate, basis) = gpu_rate(&b, "n1", 4096, 4096, 20).unwrap();
        assert_eq!(rate, 10_000.0);
        assert!(basis.starts_with("scaled by pixel-frames from bench gpu's falcon-4i movies (4096×4096×40, 5000 movies/h)"), "{basis}");
        let mut none = b.clone();
        none.devices
            .iter_mut()
            .for_each(|d| d.frame_alignment.clear());
        assert_eq!(gpu_rate(&none, "n1", 4096, 4096, 40), None);
    }
}
