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
use crate::movies::create::MovieSpec;
use crate::results::Kind;
use crate::sizing::movies::{MoviesPlanInput, default_decode_rate, report, size_of_frames};

/// The one-thread decode rate of `format` in the `bench movies` JSON given
/// with `--measured`, and where it was measured.
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
    let fractions = fractions(a, &s)?;
    let (bytes_per_pixel_frame, size_basis) = size_of_frames(&s).map_err(CommandError::Usage)?;
    let (rate, decode_basis) = match &a.measured {
        Some(p) => measured_rate(p, s.format)?,
        None => (
            default_decode_rate(s.format),
            "default: one thread of the 2-core development VM; give --measured bench-movies.json from this node".into(),
        ),
    };
    let detector = match a.shape.size {
        Some(_) => "custom".to_string(),
        None => a.shape.detector.clone(),
    };
    let report = report(&MoviesPlanInput {
        spec: &s,
        detector,
        dose_e_per_a2: a.shape.dose,
        fractions,
        movies_per_hour: a.movies_per_hour,
        session_hours: a.hours,
        duty_cycle: a.duty_cycle,
        gpus: a.gpus,
        storage_bytes: a.storage,
        bytes_per_pixel_frame,
        size_basis,
        decode_bytes_per_second_per_core: rate,
        decode_basis,
    });
    finish(Kind::MoviesPlan(report), started, &a.output, out)?;
    Ok(Outcome::Ok)
}

/// `--fractions`: the frames motion correction sees, at most the frames a
/// movie has (by default all, or 40 EER fractions).
fn fractions(a: &MoviesPlanArgs, s: &MovieSpec) -> Result<u64, CommandError> {
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
    Ok(fractions)
}
