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
use crate::movies::bench::{self, BenchError, MovieFile, SetParams, SetRuns};
use crate::movies::create::{self, GAIN_NAME};
use crate::movies::decode::{self, EerRender};
use crate::movies::mrc_io;
use crate::results::Kind;
use crate::results::movies::{MovieSet, MoviesBenchReport};
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
    check_flags(a)?;
    interrupt::cooperate();
    // --create: the set lives in a scratch directory inside --dir
    let (scratch, paths, created_gain) = match (&a.dir, a.create) {
        (Some(dir), Some(n)) => {
            let (sd, paths, gain) = create_set(a, dir, n)?;
            (Some(sd), paths, Some(gain))
        }
        _ => (None, inputs, None),
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
    let (w, h) = frame_size(&movies[0].path, eer)?;
    let gain_path = a.gain.clone().or(created_gain);
    let gain = match &gain_path {
        Some(g) => Some(read_gain(g, w, h)?),
        None => None,
    };
    let set = measure(a, &movies, gain.as_deref(), eer)?;
    let gpu_rate = gpu_rate(a, &set, w, h)?;
    let keep_up = a
        .movies_per_hour
        .map(|need| bench::keep_up(need, set.best(), a.gpus, gpu_rate.as_ref()));
    let failed = keep_up.as_ref().is_some_and(bench::falls_behind);
    let described = Described {
        movies: &movies,
        size: (w, h),
        created: scratch.is_some(),
        gain: gain_path.as_deref(),
    };
    let report = MoviesBenchReport {
        metrics: bench::metrics(&set.runs),
        set: movie_set(a, &set, &described),
        runs: set.runs,
        keep_up,
        notes: set.notes,
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

/// Flags that do not go together with how the movies are given.
fn check_flags(a: &BenchMoviesArgs) -> Result<(), CommandError> {
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
    Ok(())
}

/// `--dir DIR --create N`: N movies of the shape flags and their gain
/// reference, written into a scratch directory inside DIR (removed on
/// every way out); returns it with the movies and the gain reference.
fn create_set(
    a: &BenchMoviesArgs,
    dir: &Path,
    n: u64,
) -> Result<(ScratchDir, Vec<PathBuf>, PathBuf), CommandError> {
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
    let paths = listed(sd.path())?;
    let gain = sd.path().join(GAIN_NAME);
    Ok((sd, paths, gain))
}

/// The frame size the first movie decodes to (EER as rendered).
fn frame_size(path: &Path, eer: EerRender) -> Result<(u32, u32), CommandError> {
    let first =
        std::fs::read(path).map_err(|e| CommandError::Usage(format!("{}: {e}", path.display())))?;
    decode::rendered_size(path, &first, eer)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", path.display())))
}

/// The gain reference at `g`, which must match the frames' size.
fn read_gain(g: &Path, w: u32, h: u32) -> Result<Vec<f32>, CommandError> {
    let bytes = files::read_input(g, MOVIE_LIMIT)
        .map_err(|e| CommandError::Usage(format!("--gain {}: {}", g.display(), e.reason())))?;
    mrc_io::read_gain(g, &bytes, w, h)
        .map_err(|e| CommandError::Usage(format!("--gain {}: {e}", g.display())))
}

/// Each format of the set on each `--threads` count.
fn measure(
    a: &BenchMoviesArgs,
    movies: &[MovieFile],
    gain: Option<&[f32]>,
    eer: EerRender,
) -> Result<SetRuns, CommandError> {
    bench::run_set(&SetParams {
        movies,
        threads: &a.threads,
        direct: !a.buffered,
        gain,
        eer,
        limit: MOVIE_LIMIT,
    })
    .map_err(|e| match e {
        BenchError::Interrupted => CommandError::Interrupted("bench movies"),
        other => CommandError::Usage(other.to_string()),
    })
}

/// One GPU's movies per hour, from `--gpu-measured` (at the fractions a
/// movie of the set has) or `--gpu-rate`, with how it was had.
fn gpu_rate(
    a: &BenchMoviesArgs,
    set: &SetRuns,
    w: u32,
    h: u32,
) -> Result<Option<(f64, String)>, CommandError> {
    Ok(match (&a.gpu_measured, a.gpu_rate) {
        (Some(path), _) => Some(measured_gpu_rate(
            path,
            w,
            h,
            set.fractions_per_movie(a.eer_grouping),
        )?),
        (None, Some(rate)) => Some((rate, "given (--gpu-rate)".to_string())),
        (None, None) => None,
    })
}

/// What the report says of the movies read.
struct Described<'a> {
    movies: &'a [MovieFile],
    /// Width and height of a frame.
    size: (u32, u32),
    /// Written by --create for this run.
    created: bool,
    gain: Option<&'a Path>,
}

fn movie_set(a: &BenchMoviesArgs, set: &SetRuns, d: &Described) -> MovieSet {
    MovieSet {
        dir: a
            .dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "(files given)".into()),
        movies: d.movies.len(),
        formats: set.formats.iter().map(|f| f.name().to_string()).collect(),
        width: d.size.0,
        height: d.size.1,
        bytes: d.movies.iter().map(|m| m.bytes).sum(),
        created: d.created,
        direct: set.direct,
        gain_reference: d.gain.map(|g| {
            if d.created {
                "synthetic, written with the movies".to_string()
            } else {
                g.display().to_string()
            }
        }),
        eer_grouping: a.eer_grouping,
        eer_upsample: a.eer_upsample,
    }
}

/// One GPU's movies per hour from the `bench gpu` JSON of `--gpu-measured`
/// ([`bench::gpu_rate`]).
fn measured_gpu_rate(
    path: &Path,
    width: u32,
    height: u32,
    frames: u64,
) -> Result<(f64, String), CommandError> {
    let bad =
        |why: String| CommandError::Usage(format!("--gpu-measured {}: {why}", path.display()));
    let (report, node) = match crate::files::read_result(path) {
        Ok(env) => match env.kind {
            Kind::BenchGpu(b) => (b, env.node),
            other => {
                return Err(bad(format!(
                    "a {} result, not the JSON of `cryocap bench gpu`",
                    other.name()
                )));
            }
        },
        Err(e) => return Err(bad(format!("not the JSON of `cryocap bench gpu` ({e})"))),
    };
    bench::gpu_rate(&report, &node, width, height, frames).ok_or_else(|| {
        bad("holds no frame-alignment figure; run `cryocap bench gpu` on a node with a GPU".into())
    })
}
