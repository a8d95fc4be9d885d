//! `cryocap movies create`: synthetic counting-mode movies and a gain reference.

use std::io::Write;
use std::time::Instant;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::{MovieFormatArg, MovieShapeArgs, MoviesCreateArgs};
use crate::datasets::Catalog;
use crate::interrupt;
use crate::movies::Format;
use crate::movies::create::{self, GAIN_NAME, MovieSpec};
use crate::movies::synth::Dose;
use crate::progress::{Progress, Unit};
use crate::results::Kind;
use crate::results::movies::MoviesCreated;
use crate::storage::space::Reserve;

pub(super) fn format(f: MovieFormatArg) -> Format {
    match f {
        MovieFormatArg::TiffLzw => Format::TiffLzw,
        MovieFormatArg::Eer => Format::Eer,
        MovieFormatArg::Mrc => Format::Mrc,
        MovieFormatArg::MrcBz2 => Format::MrcBz2,
    }
}

/// The movies the shape flags describe.
pub(super) fn spec(s: &MovieShapeArgs, movies: u64) -> Result<MovieSpec, CommandError> {
    let format = format(s.movie_format);
    if !matches!(format, Format::Mrc | Format::MrcBz2) && s.mode != MovieShapeArgs::defaults().mode
    {
        return Err(CommandError::Usage(format!(
            "--mode {}: an MRC mode; it applies to --movie-format mrc or mrc-bz2, not {}",
            s.mode,
            format.name()
        )));
    }
    let (width, height) = match s.size {
        Some(wh) => wh,
        None => {
            let catalog = Catalog::get()?;
            let d = catalog.detector(&s.detector).ok_or_else(|| {
                CommandError::Usage(format!(
                    "--detector {}: not in the catalog; known: {}",
                    crate::text::printable(&s.detector),
                    catalog
                        .detectors
                        .iter()
                        .map(|d| d.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if s.super_resolution {
                match (d.superres_width, d.superres_height) {
                    (Some(w), Some(h)) => (w, h),
                    _ => {
                        return Err(CommandError::Usage(format!(
                            "--super-resolution: the {} has no super-resolution mode; drop the flag",
                            d.name
                        )));
                    }
                }
            } else {
                (d.width, d.height)
            }
        }
    };
    if format == Format::Eer && s.super_resolution {
        return Err(CommandError::Usage(
            "--super-resolution: EER keeps sub-pixel positions in its events at the sensor's size; render 8K with --eer-upsample 2 instead".into(),
        ));
    }
    let frames = s
        .frames
        .unwrap_or(if format == Format::Eer { 400 } else { 40 });
    let pixel_size = if s.super_resolution {
        s.pixel_size / 2.0
    } else {
        s.pixel_size
    };
    Ok(MovieSpec {
        format,
        mode: crate::movies::movie_mode(s.mode).unwrap_or(crate::storage::mrc::Mode::Int16),
        width,
        height,
        frames,
        dose: Dose::from_total(s.dose, pixel_size, frames, s.contrast),
        pixel_size,
        movies,
        seed: s.seed,
        drift: s.drift.unwrap_or((0.0, 0.0)),
    })
}

pub(super) fn run(a: &MoviesCreateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(&result_files(&a.output.files), &[])?;
    let spec = spec(&a.shape, a.movies)?;
    interrupt::cooperate();
    let bar = Progress::new(a.output.quiet).bar(a.movies + 1, Unit::Steps, "writing movies");
    let t0 = Instant::now();
    let written =
        create::write_movies(&a.dir, &spec, a.reserve.unwrap_or(Reserve::Default), &|n| {
            bar.set_position(n)
        })?;
    let seconds = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let names: Vec<String> = written
        .files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| n != GAIN_NAME)
        .collect();
    let gain_bytes = 1024 + u64::from(spec.width) * u64::from(spec.height) * 4;
    let created = MoviesCreated {
        dir: a.dir.display().to_string(),
        files: names,
        format: spec.format.name().into(),
        mode: matches!(spec.format, Format::Mrc | Format::MrcBz2).then(|| spec.mode.code()),
        width: spec.width,
        height: spec.height,
        frames: spec.frames,
        electrons_per_pixel_per_frame: spec.dose.per_pixel_per_frame,
        dose_e_per_a2: a.shape.dose,
        pixel_size_a: spec.pixel_size,
        specimen_contrast: spec.dose.contrast,
        movies: spec.movies,
        bytes: written.bytes.saturating_sub(gain_bytes),
        raw_bytes: u64::from(spec.width) * u64::from(spec.height) * spec.frames * spec.movies,
        electrons: written.electrons,
        drift_px_per_frame: a.shape.drift.map(|(x, y)| [x, y]),
        gain_reference: GAIN_NAME.into(),
        seconds,
        seed: spec.seed,
    };
    finish(Kind::MoviesCreate(created), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
