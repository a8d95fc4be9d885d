//! `cryocap movies create`: synthetic counting-mode movies and a gain reference.

use std::io::Write;
use std::time::Instant;

use super::convert::spec;
use super::output::{check_not_written, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::MoviesCreateArgs;
use crate::interrupt;
use crate::movies::Format;
use crate::movies::create::{self, GAIN_NAME};
use crate::progress::{Progress, Unit};
use crate::results::Kind;
use crate::results::movies::MoviesCreated;
use crate::storage::space::Reserve;

/// Whether `name` is one of the movies `spec` writes (`movie_NNNNN.ext`).
fn is_movie(name: &str, spec: &create::MovieSpec) -> bool {
    let number = name
        .strip_prefix("movie_")
        .and_then(|r| r.split('.').next())
        .and_then(|d| d.parse::<u64>().ok());
    number.is_some_and(|i| (1..=spec.movies).contains(&i) && spec.name(i) == name)
}

pub(super) fn run(a: &MoviesCreateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let outs = result_files(&a.output.files);
    check_outputs(&outs, &[])?;
    let spec = spec(&a.shape, a.movies)?;
    check_not_written(&outs, &a.dir, &|n| n == GAIN_NAME || is_movie(n, &spec))?;
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
