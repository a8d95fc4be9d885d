//! `cryocap bench movies`: read, decode, gain and sum movies on 1, 2, …
//! threads; say whether the node keeps up with the microscope and its GPUs.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::convert::spec;
use super::output::{check_outputs, finish_measured, measured_outputs, now, with_machine_files};
use super::{CommandError, Outcome};
use crate::cli::{BenchMoviesArgs, MovieShapeArgs};
use crate::files;
use crate::interrupt::{self, ScratchDir};
use crate::movies::Format;
use crate::movies::bench::{self, MovieFile, RunTotals};
use crate::movies::create::{self, GAIN_NAME};
use crate::movies::decode::{self, EerRender};
use crate::movies::mrc_io;
use crate::results::Kind;
use crate::results::metrics::{Better, Metric};
use crate::results::movies::{KeepUp, MovieRun, MovieSet, MoviesBenchReport};
use crate::storage::space::Reserve;

/// The largest movie read into memory, and what bzip2 may decompress to.
const MOVIE_LIMIT: u64 = 64 << 30;

fn is_movie(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [".tif", ".tiff", ".eer", ".mrc", ".mrc.bz2", ".mrcs"]
        .iter()
        .any(|e| n.ends_with(e))
        && n != GAIN_NAME
}

fn listed(dir: &Path) -> Result<Vec<PathBuf>, CommandError> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        CommandError::Usage(format!(
            "--dir {}: {e}",
            crate::text::printable(&dir.display().to_string())
        ))
    })?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_movie(p))
        .collect();
    v.sort();
    Ok(v)
}

/// Reads each file's header to learn its format, checking it is a regular
/// file of a size cryocap will read.
fn movie_files(paths: &[PathBuf]) -> Result<Vec<MovieFile>, CommandError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = files::check_input(p).map_err(|e| CommandError::Usage(e.to_string()))?;
        if meta.len() > MOVIE_LIMIT {
            return Err(CommandError::Usage(format!(
                "{}: {} bytes is more than the {} cryocap reads into memory",
                p.display(),
                meta.len(),
                MOVIE_LIMIT
            )));
        }
        let format = Format::sniff_file(p)
            .map_err(|e| CommandError::Usage(format!("{}: cannot read: {e}", p.display())))?
            .ok_or_else(|| {
                CommandError::Usage(format!(
                    "{}: not a movie cryocap reads (LZW TIFF, EER, MRC or bzip2 MRC)",
                    p.display()
                ))
            })?;
        // a broken movie is named by the first run that decodes it
        out.push(MovieFile {
            path: p.clone(),
            bytes: meta.len(),
            format,
        });
    }
    Ok(out)
}

pub(super) fn run(a: &BenchMoviesArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let inputs: Vec<PathBuf> = match (&a.dir, a.create) {
        (Some(d), None) => listed(d)?,
        (None, _) => a.files.clone(),
        (Some(_), Some(_)) => Vec::new(),
    };
    let mut check_in = inputs.clone();
    check_in.extend(a.gain.iter().cloned());
    let output = with_machine_files(&a.output, a.openmetrics.openmetrics.as_deref(), None);
    check_outputs(&measured_outputs(&output.files, &a.history), &check_in)?;
    if a.dir.is_none() && a.files.is_empty() {
        return Err(CommandError::Usage(
            "give --dir DIR, --files FILE..., or --dir DIR --create N".into(),
        ));
    }
    if a.create.is_none() && a.shape != MovieShapeArgs::defaults() {
        return Err(CommandError::Usage(
            "--movie-format, --detector, --size, --frames, --dose and the other shape flags shape the movies --create writes; give --create N or drop them".into(),
        ));
    }
    interrupt::cooperate();
    // --create: the set lives in a scratch directory inside --dir
    let mut scratch = None;
    let (paths, created_gain) = match (&a.dir, a.create) {
        (Some(dir), Some(n)) => {
            let s = spec(&a.shape, n)?;
            let sd = ScratchDir::new(dir, ".cryocap-movies-").map_err(|e| {
                CommandError::Usage(format!("--dir {}: cannot write there: {e}", dir.display()))
            })?;
            create::write_movies(
                sd.path(),
                &s,
                a.reserve.unwrap_or(Reserve::Default),
                &|_| {},
            )?;
            let p = listed(sd.path())?;
            let g = sd.path().join(GAIN_NAME);
            scratch = Some(sd);
            (p, Some(g))
        }
        _ => (inputs, None),
    };
    if paths.is_empty() {
        return Err(CommandError::Usage(
            "no movies (.tif, .tiff, .eer, .mrc, .mrcs, .mrc.bz2) to read there".into(),
        ));
    }
    let movies = movie_files(&paths)?;
    let eer = EerRender {
        grouping: a.eer_grouping,
        upsample: a.eer_upsample,
    };
    let first = std::fs::read(&movies[0].path)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", movies[0].path.display())))?;
    let (w, h) = decode::rendered_size(&movies[0].path, &first, eer)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", movies[0].path.display())))?;
    let gain_path = a.gain.clone().or(created_gain);
    let gain = match &gain_path {
        Some(g) => {
            let bytes = files::read_input(g, MOVIE_LIMIT).map_err(|e| {
                CommandError::Usage(format!("--gain {}: {}", g.display(), e.reason()))
            })?;
            Some(
                mrc_io::read_gain(g, &bytes, w, h)
                    .map_err(|e| CommandError::Usage(format!("--gain {}: {e}", g.display())))?,
            )
        }
        None => None,
    };
    let mut formats: Vec<Format> = Vec::new();
    for m in &movies {
        if !formats.contains(&m.format) {
            formats.push(m.format);
        }
    }
    let mut runs = Vec::new();
    let mut notes = Vec::new();
    let mut direct = !a.buffered;
    for &format in &formats {
        let set: Vec<MovieFile> = movies
            .iter()
            .filter(|m| m.format == format)
            .cloned()
            .collect();
        let mut one_thread = None;
        for &t in &a.threads {
            let r = bench::run(&set, t, !a.buffered, gain.as_deref(), eer, MOVIE_LIMIT).map_err(
                |e| match e {
                    bench::BenchError::Interrupted => CommandError::Interrupted("bench movies"),
                    other => CommandError::Usage(other.to_string()),
                },
            )?;
            direct &= r.direct;
            let mph = r.movies as f64 / r.seconds.max(1e-9) * 3600.0;
            if t == 1 {
                one_thread = Some(mph);
            }
            runs.push(movie_run(format, &r, mph, one_thread.filter(|_| t > 1)));
        }
    }
    if set_exceeds(&movies, &a.threads) {
        notes.push(format!(
            "fewer movies ({}) than the most threads ({}): some threads had nothing to do; give more movies for a fair scaling figure",
            movies.len(),
            a.threads.iter().max().copied().unwrap_or(1)
        ));
    }
    if !a.buffered && !direct {
        notes.push("O_DIRECT was refused by the file system: buffered reads with the page cache dropped per file were used".into());
    }
    let best = runs.iter().map(|r| r.movies_per_hour).fold(0.0, f64::max);
    let gpu_rate = match (&a.gpu_measured, a.gpu_rate) {
        (Some(path), _) => {
            let frames = runs
                .first()
                .map_or(0, |r| r.frames / r.movies.max(1) as u64);
            let fractions = match formats.first() == Some(&Format::Eer) {
                true => frames / u64::from(a.eer_grouping.max(1)),
                false => frames,
            };
            let (rate, basis) = measured_gpu_rate(path, w, h, fractions)?;
            Some((rate, basis))
        }
        (None, Some(rate)) => Some((rate, "given (--gpu-rate)".to_string())),
        (None, None) => None,
    };
    let keep_up = a.movies_per_hour.map(|need| {
        let feeds = match (a.gpus, &gpu_rate) {
            (Some(g), Some((rate, _))) => Some(best >= f64::from(g) * rate),
            _ => None,
        };
        KeepUp {
            movies_per_hour_needed: need,
            movies_per_hour: best,
            keeps_up: best >= need,
            gpus: a.gpus,
            gpu_movies_per_hour: gpu_rate.as_ref().map(|g| g.0),
            gpu_rate_basis: gpu_rate.as_ref().map(|g| g.1.clone()),
            feeds_gpus: feeds,
        }
    });
    let failed = keep_up
        .as_ref()
        .is_some_and(|k| !k.keeps_up || k.feeds_gpus == Some(false));
    let metrics = runs
        .iter()
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
        .collect();
    let report = MoviesBenchReport {
        metrics,
        set: MovieSet {
            dir: a
                .dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "(files given)".into()),
            movies: movies.len(),
            formats: formats.iter().map(|f| f.name().to_string()).collect(),
            width: w,
            height: h,
            bytes: movies.iter().map(|m| m.bytes).sum(),
            created: scratch.is_some(),
            direct,
            gain_reference: gain_path.as_ref().map(|g| {
                if scratch.is_some() {
                    "synthetic, written with the movies".to_string()
                } else {
                    g.display().to_string()
                }
            }),
            eer_grouping: a.eer_grouping,
            eer_upsample: a.eer_upsample,
        },
        runs,
        keep_up,
        notes,
    };
    if let Some(sd) = scratch {
        sd.close().map_err(|e| {
            CommandError::Usage(format!(
                "could not remove the movies written for this run: {e}"
            ))
        })?;
    }
    finish_measured(
        Kind::BenchMovies(report),
        started,
        &output,
        &a.history,
        Vec::new(),
        out,
    )?;
    Ok(Outcome::failed_if(failed))
}

fn set_exceeds(movies: &[MovieFile], threads: &[usize]) -> bool {
    threads.iter().any(|&t| t > movies.len())
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

/// One GPU's movies per hour from a `bench gpu` JSON's frame alignment: the
/// row of this frame size, else the nearest size measured, scaled by
/// pixel-frames (FFTs and the per-pixel kernels grow about linearly).
fn measured_gpu_rate(
    path: &std::path::Path,
    width: u32,
    height: u32,
    frames: u64,
) -> Result<(f64, String), CommandError> {
    let bad =
        |why: String| CommandError::Usage(format!("--gpu-measured {}: {why}", path.display()));
    let (report, node) = match crate::files::read_result(path) {
        Ok(env) => match env.kind {
            crate::results::Kind::BenchGpu(b) => (b, env.node),
            other => {
                return Err(bad(format!(
                    "a {} result, not the JSON of `cryocap bench gpu`",
                    other.name()
                )));
            }
        },
        Err(e) => return Err(bad(format!("not the JSON of `cryocap bench gpu` ({e})"))),
    };
    let rows: Vec<_> = report
        .devices
        .iter()
        .flat_map(|d| d.frame_alignment.iter().map(move |f| (d, f)))
        .filter(|(_, f)| f.error.is_none() && f.movies_per_hour > 0.0)
        .collect();
    let work = |w: u32, h: u32, f: u64| f64::from(w) * f64::from(h) * f.max(1) as f64;
    let mine = work(width, height, frames);
    let Some((d, f)) = rows.into_iter().min_by(|a, b| {
        let da = (work(a.1.width, a.1.height, u64::from(a.1.frames)) / mine)
            .ln()
            .abs();
        let db = (work(b.1.width, b.1.height, u64::from(b.1.frames)) / mine)
            .ln()
            .abs();
        da.total_cmp(&db)
    }) else {
        return Err(bad(
            "holds no frame-alignment figure; run `cryocap bench gpu` on a node with a GPU".into(),
        ));
    };
    let theirs = work(f.width, f.height, u64::from(f.frames));
    let gpu = format!("GPU {} ({}) of {node}", d.device.ordinal, d.device.name);
    if (f.width, f.height, u64::from(f.frames)) == (width, height, frames) {
        return Ok((
            f.movies_per_hour,
            format!("measured by bench gpu on {gpu}, {} movies", f.detector),
        ));
    }
    Ok((
        f.movies_per_hour * theirs / mine,
        format!(
            "scaled by pixel-frames from bench gpu's {} movies ({}×{}×{}, {:.0} movies/h) on {gpu} to {width}×{height}×{frames}",
            f.detector, f.width, f.height, f.frames, f.movies_per_hour
        ),
    ))
}
