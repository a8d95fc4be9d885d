//! Flag values turned into domain parameters, where more than one command
//! takes the same flags (the movie shape; a stack's pixel type). Commands
//! share these helpers here rather than importing each other's files.

use super::CommandError;
use crate::cli::{DtypeArg, MovieFormatArg, MovieShapeArgs};
use crate::datasets::Catalog;
use crate::movies::Format;
use crate::movies::create::MovieSpec;
use crate::movies::synth::Dose;
use crate::storage::mrc::Mode;

/// The MRC mode of a pixel type.
pub(crate) fn mode(d: DtypeArg) -> Mode {
    match d {
        DtypeArg::F32 => Mode::Float32,
        DtypeArg::F16 => Mode::Float16,
    }
}

pub(crate) fn format(f: MovieFormatArg) -> Format {
    match f {
        MovieFormatArg::TiffLzw => Format::TiffLzw,
        MovieFormatArg::Eer => Format::Eer,
        MovieFormatArg::Mrc => Format::Mrc,
        MovieFormatArg::MrcBz2 => Format::MrcBz2,
    }
}

/// The movies the shape flags describe.
pub(crate) fn spec(s: &MovieShapeArgs, movies: u64) -> Result<MovieSpec, CommandError> {
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
