//! `cryocap movies plan`: what a collection writes and what keeping up with
//! it takes, with the compressed size measured on a synthetic movie of the
//! same dose.

use std::io::Write;
use std::path::Path;

use super::convert::spec;
use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::MoviesPlanArgs;
use crate::movies::Format;
use crate::movies::create::sample_bytes_per_pixel_frame;
use crate::results::Kind;
use crate::results::movies::MoviesPlanReport;
use crate::sizing::movies::{MoviePlanParams, plan};

/// File bytes one core decodes a second when no `bench movies` JSON is
/// given: one-thread `bench movies` runs on the 2-core development VM (see
/// docs/movies.md), labelled as such in the output.
fn default_decode_rate(f: Format) -> f64 {
    match f {
        Format::TiffLzw => 55e6,
        Format::Eer => 400e6,
        Format::Mrc => 1.0e9,
        Format::MrcBz2 => 4.5e6,
    }
}

fn measured_rate(path: &Path, format: Format) -> Result<(f64, String), CommandError> {
    let bad = |why: String| CommandError::Usage(format!("--measured {}: {why}", path.display()));
    let r = match crate::files::read_result(path) {
        Ok(env) => match env.kind {
            Kind::BenchMovies(b) => (b, env.node),
            other => {
                return Err(bad(format!(
                    "a {} result, not the JSON of `cryocap bench movies`",
                    other.name()
                )));
            }
        },
        Err(e) => return Err(bad(format!("not the JSON of `cryocap bench movies` ({e})"))),
    };
    let (report, node) = r;
    let run = report
        .runs
        .iter()
        .find(|x| x.format == format.name() && x.threads == 1)
        .ok_or_else(|| {
            bad(format!(
                "holds no one-thread run of {} (it has: {}); run `cryocap bench movies` on {} movies with --threads 1",
                format.name(),
                report
                    .runs
                    .iter()
                    .map(|x| format!("{} on {} thread(s)", x.format, x.threads))
                    .collect::<Vec<_>>()
                    .join(", "),
                format.name()
            ))
        })?;
    Ok((
        run.decode_bytes_per_second_per_thread,
        format!("measured by bench movies on {node}, one thread"),
    ))
}

pub(super) fn run(a: &MoviesPlanArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let inputs: Vec<_> = a.measured.iter().cloned().collect();
    check_outputs(&result_files(&a.output.files), &inputs)?;
    let s = spec(&a.shape, 1)?;
    let fractions = a.fractions.unwrap_or(if s.format == Format::Eer {
        40.min(s.frames)
    } else {
        s.frames
    });
    if fractions > s.frames {
        return Err(CommandError::Usage(format!(
            "--fractions {fractions}: more than the {} frames a movie has",
            s.frames
        )));
    }
    let (bytes_per_pixel_frame, sampled) =
        sample_bytes_per_pixel_frame(&s).map_err(CommandError::Usage)?;
    let size_basis = if s.format == Format::Mrc {
        format!(
            "exact: {} bytes a pixel in mode {}",
            bytes_per_pixel_frame,
            s.mode.code()
        )
    } else {
        format!(
            "measured: a synthetic movie of this dose written in memory ({} pixel-frames, seed {})",
            crate::units::group_digits(sampled),
            s.seed
        )
    };
    let (rate, decode_basis) = match &a.measured {
        Some(p) => measured_rate(p, s.format)?,
        None => (
            default_decode_rate(s.format),
            "default: one thread of the 2-core development VM; give --measured bench-movies.json from this node".into(),
        ),
    };
    let overhead = match s.format {
        Format::Mrc | Format::MrcBz2 => 1024.0,
        _ => 0.0,
    };
    let p = plan(&MoviePlanParams {
        width: s.width,
        height: s.height,
        frames: s.frames,
        fractions,
        bytes_per_pixel_frame,
        bytes_per_movie_overhead: overhead,
        movies_per_hour: a.movies_per_hour,
        session_hours: a.hours,
        duty_cycle: a.duty_cycle,
        gpus: a.gpus,
        decode_bytes_per_second_per_core: rate,
        storage_bytes: a.storage,
    });
    let mut notes = Vec::new();
    if s.dose.per_pixel_per_frame > 1.0 && s.format == Format::Eer {
        notes.push(format!(
            "{:.2} electrons per pixel per detector frame: EER records at most one event per pixel per frame, so counts saturate; give more --frames",
            s.dose.per_pixel_per_frame
        ));
    }
    if s.format == Format::Mrc {
        notes.push("uncompressed MRC: seed 003 notes LZW TIFF (ungained counts) or EER hold the same frames in a fraction of the space".into());
    }
    let detector = match a.shape.size {
        Some(_) => "custom".to_string(),
        None => a.shape.detector.clone(),
    };
    let report = MoviesPlanReport {
        detector,
        format: s.format.name().into(),
        mode: matches!(s.format, Format::Mrc | Format::MrcBz2).then(|| s.mode.code()),
        width: s.width,
        height: s.height,
        frames: s.frames,
        fractions,
        dose_e_per_a2: a.shape.dose,
        pixel_size_a: s.pixel_size,
        electrons_per_pixel_per_frame: s.dose.per_pixel_per_frame,
        movies_per_hour: a.movies_per_hour,
        session_hours: a.hours,
        duty_cycle: a.duty_cycle,
        size_basis,
        bytes_per_pixel_frame,
        raw_bytes_per_movie: p.raw_bytes_per_movie,
        bytes_per_movie: p.bytes_per_movie,
        bytes_per_session: p.bytes_per_session,
        bytes_per_day: p.bytes_per_day,
        bytes_per_year: p.bytes_per_year,
        write_bytes_per_second: p.write_bytes_per_second,
        fractions_per_second: p.fractions_per_second,
        decoded_bytes_per_second: p.decoded_bytes_per_second,
        decode_bytes_per_second_per_core: rate,
        decode_basis,
        cores: p.cores,
        gpus: a.gpus,
        seed_read_bytes_per_second: p.seed_read_bytes_per_second,
        storage_bytes: a.storage,
        storage_days: p.storage_days,
        notes,
    };
    finish(Kind::MoviesPlan(report), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
