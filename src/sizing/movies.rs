//! Sizing a movie collection: bytes per movie, per session, day and year;
//! the write rate the microscope needs; the read and decode rates and the
//! cores pre-processing needs to keep up; how long storage lasts. Pure: the
//! compressed size of one pixel-frame and the per-core decode rate come in
//! as figures measured elsewhere (on a synthetic movie of this dose, and by
//! `bench movies`).

use crate::movies::Format;
use crate::movies::create::{MovieSpec, sample_bytes_per_pixel_frame};
use crate::results::movies::MoviesPlanReport;

/// Seed 003: "to saturate a 4-GPU machine during pre-processing, a
/// sustained sequential read of 1000MB/s is required": 250 MB/s a GPU.
pub const SEED_READ_PER_GPU: f64 = 1000e6 / 4.0;

/// What a collection is.
#[derive(Debug, Clone, PartialEq)]
pub struct MoviePlanParams {
    pub width: u32,
    pub height: u32,
    /// Frames written per movie (EER: detector frames).
    pub frames: u64,
    /// Frames motion correction sees per movie (EER: fractions after grouping).
    pub fractions: u64,
    /// File bytes of one pixel of one frame, measured on a synthetic movie
    /// of this dose (exact for uncompressed MRC).
    pub bytes_per_pixel_frame: f64,
    /// Bytes a file adds besides its frames (headers).
    pub bytes_per_movie_overhead: f64,
    pub movies_per_hour: f64,
    /// Hours of one session.
    pub session_hours: f64,
    /// Share of a day the microscope collects, 0..1.
    pub duty_cycle: f64,
    pub gpus: Option<u32>,
    /// File bytes one core decodes a second.
    pub decode_bytes_per_second_per_core: f64,
    pub storage_bytes: Option<u64>,
}

/// The figures of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct MoviePlan {
    /// The frames as 8-bit counts (what an uncompressed counting movie holds per byte).
    pub raw_bytes_per_movie: f64,
    pub bytes_per_movie: f64,
    /// bytes_per_movie / raw_bytes_per_movie.
    pub ratio: f64,
    pub bytes_per_session: f64,
    pub bytes_per_day: f64,
    pub bytes_per_year: f64,
    /// What the microscope writes, and pre-processing must read, to keep up.
    pub write_bytes_per_second: f64,
    /// Frames (fractions) a second motion correction must take.
    pub fractions_per_second: f64,
    /// Raw pixel bytes a second the decoders must produce.
    pub decoded_bytes_per_second: f64,
    /// Cores that decode at the given per-core rate, rounded up.
    pub cores: u64,
    /// Seed 003's sustained read for the GPUs, when given.
    pub seed_read_bytes_per_second: Option<f64>,
    /// Days of collection at the duty cycle that the storage holds.
    pub storage_days: Option<f64>,
}

/// Sizes a collection.
pub fn plan(p: &MoviePlanParams) -> MoviePlan {
    let px = f64::from(p.width) * f64::from(p.height);
    let raw = px * p.frames as f64;
    let bytes = raw * p.bytes_per_pixel_frame + p.bytes_per_movie_overhead;
    let per_hour = bytes * p.movies_per_hour;
    let per_day = per_hour * 24.0 * p.duty_cycle;
    let write = per_hour / 3600.0;
    let cores = if p.decode_bytes_per_second_per_core > 0.0 {
        (write / p.decode_bytes_per_second_per_core).ceil().max(1.0) as u64
    } else {
        0
    };
    MoviePlan {
        raw_bytes_per_movie: raw,
        bytes_per_movie: bytes,
        ratio: bytes / raw.max(1.0),
        bytes_per_session: per_hour * p.session_hours,
        bytes_per_day: per_day,
        bytes_per_year: per_day * 365.0,
        write_bytes_per_second: write,
        fractions_per_second: p.fractions as f64 * p.movies_per_hour / 3600.0,
        decoded_bytes_per_second: raw * p.movies_per_hour / 3600.0,
        cores,
        seed_read_bytes_per_second: p.gpus.map(|g| f64::from(g) * SEED_READ_PER_GPU),
        storage_days: p
            .storage_bytes
            .filter(|_| per_day > 0.0)
            .map(|s| s as f64 / per_day),
    }
}

/// File bytes one core decodes a second when no `bench movies` JSON is
/// given: one-thread `bench movies` runs on the 2-core development VM (see
/// docs/movies.md), labelled as such in the output.
pub fn default_decode_rate(f: Format) -> f64 {
    match f {
        Format::TiffLzw => 55e6,
        Format::Eer => 400e6,
        Format::Mrc => 1.0e9,
        Format::MrcBz2 => 4.5e6,
    }
}

/// File bytes per pixel-frame of `spec`'s movies and how that figure was
/// had: exact for uncompressed MRC, else measured on a synthetic movie of
/// the same dose written in memory.
pub fn size_of_frames(spec: &MovieSpec) -> Result<(f64, String), String> {
    let (bytes_per_pixel_frame, sampled) = sample_bytes_per_pixel_frame(spec)?;
    let basis = if spec.format == Format::Mrc {
        format!(
            "exact: {} bytes a pixel in mode {}",
            bytes_per_pixel_frame,
            spec.mode.code()
        )
    } else {
        format!(
            "measured: a synthetic movie of this dose written in memory ({} pixel-frames, seed {})",
            crate::units::group_digits(sampled),
            spec.seed
        )
    };
    Ok((bytes_per_pixel_frame, basis))
}

/// A collection as `movies plan` describes it: the movies, how the
/// microscope runs, and the two measured figures with where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MoviesPlanInput<'a> {
    pub spec: &'a MovieSpec,
    /// The detector's catalog name, or "custom".
    pub detector: String,
    /// Total dose, e⁻/Å².
    pub dose_e_per_a2: f64,
    pub fractions: u64,
    pub movies_per_hour: f64,
    pub session_hours: f64,
    pub duty_cycle: f64,
    pub gpus: Option<u32>,
    pub storage_bytes: Option<u64>,
    /// From [`size_of_frames`].
    pub bytes_per_pixel_frame: f64,
    pub size_basis: String,
    pub decode_bytes_per_second_per_core: f64,
    pub decode_basis: String,
}

/// Sizes the collection ([`plan`]) and says what to mind: EER counts that
/// saturate, and the space uncompressed MRC takes.
pub fn report(p: &MoviesPlanInput) -> MoviesPlanReport {
    let s = p.spec;
    let overhead = match s.format {
        Format::Mrc | Format::MrcBz2 => 1024.0,
        _ => 0.0,
    };
    let plan = plan(&MoviePlanParams {
        width: s.width,
        height: s.height,
        frames: s.frames,
        fractions: p.fractions,
        bytes_per_pixel_frame: p.bytes_per_pixel_frame,
        bytes_per_movie_overhead: overhead,
        movies_per_hour: p.movies_per_hour,
        session_hours: p.session_hours,
        duty_cycle: p.duty_cycle,
        gpus: p.gpus,
        decode_bytes_per_second_per_core: p.decode_bytes_per_second_per_core,
        storage_bytes: p.storage_bytes,
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
    MoviesPlanReport {
        detector: p.detector.clone(),
        format: s.format.name().into(),
        mode: matches!(s.format, Format::Mrc | Format::MrcBz2).then(|| s.mode.code()),
        width: s.width,
        height: s.height,
        frames: s.frames,
        fractions: p.fractions,
        dose_e_per_a2: p.dose_e_per_a2,
        pixel_size_a: s.pixel_size,
        electrons_per_pixel_per_frame: s.dose.per_pixel_per_frame,
        movies_per_hour: p.movies_per_hour,
        session_hours: p.session_hours,
        duty_cycle: p.duty_cycle,
        size_basis: p.size_basis.clone(),
        bytes_per_pixel_frame: p.bytes_per_pixel_frame,
        raw_bytes_per_movie: plan.raw_bytes_per_movie,
        bytes_per_movie: plan.bytes_per_movie,
        bytes_per_session: plan.bytes_per_session,
        bytes_per_day: plan.bytes_per_day,
        bytes_per_year: plan.bytes_per_year,
        write_bytes_per_second: plan.write_bytes_per_second,
        fractions_per_second: plan.fractions_per_second,
        decoded_bytes_per_second: plan.decoded_bytes_per_second,
        decode_bytes_per_second_per_core: p.decode_bytes_per_second_per_core,
        decode_basis: p.decode_basis.clone(),
        cores: plan.cores,
        gpus: p.gpus,
        seed_read_bytes_per_second: plan.seed_read_bytes_per_second,
        storage_bytes: p.storage_bytes,
        storage_days: plan.storage_days,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k3() -> MoviePlanParams {
        MoviePlanParams {
            width: 5760,
            height: 4092,
            frames: 50,
            fractions: 50,
            bytes_per_pixel_frame: 0.25,
            bytes_per_movie_overhead: 0.0,
            movies_per_hour: 300.0,
            session_hours: 24.0,
            duty_cycle: 1.0,
            gpus: Some(4),
            decode_bytes_per_second_per_core: 10e6,
            storage_bytes: Some(100_000_000_000_000),
        }
    }

    #[test]
    fn a_k3_session_by_hand() {
        let p = plan(&k3());
        // 5760 × 4092 × 50 = 1,178,496,000 raw bytes; a quarter of it compressed
        assert_eq!(p.raw_bytes_per_movie, 1_178_496_000.0);
        assert!((p.bytes_per_movie - 294_624_000.0).abs() < 1.0);
        // 300 an hour for 24 h: 7,200 movies, 2.12 TB
        assert!((p.bytes_per_session - 7200.0 * 294_624_000.0).abs() < 1e3);
        // 300 × 294.6 MB an hour = 24.55 MB/s; 3 cores at 10 MB/s each
        assert!((p.write_bytes_per_second - 24_552_000.0).abs() < 1.0);
        assert_eq!(p.cores, 3);
        assert_eq!(p.seed_read_bytes_per_second, Some(1e9));
        assert!((p.storage_days.unwrap() - 1e14 / p.bytes_per_day).abs() < 1e-9);
    }

    #[test]
    fn more_movies_never_need_less() {
        let a = plan(&k3());
        let b = plan(&MoviePlanParams {
            movies_per_hour: 301.0,
            ..k3()
        });
        assert!(b.write_bytes_per_second > a.write_bytes_per_second);
        assert!(b.cores >= a.cores);
        assert!(b.storage_days < a.storage_days);
    }

    fn spec(format: Format, frames: u64, dose: f64) -> MovieSpec {
        MovieSpec {
            format,
            mode: crate::storage::mrc::Mode::Int8,
            width: 512,
            height: 512,
            frames,
            dose: crate::movies::synth::Dose::from_total(dose, 1.0, frames, 0.0),
            pixel_size: 1.0,
            movies: 1,
            seed: 7,
            drift: (0.0, 0.0),
        }
    }

    fn input(spec: &MovieSpec) -> MoviesPlanInput<'_> {
        let (bytes_per_pixel_frame, size_basis) = size_of_frames(spec).unwrap();
        MoviesPlanInput {
            spec,
            detector: "custom".into(),
            dose_e_per_a2: 40.0,
            fractions: spec.frames,
            movies_per_hour: 300.0,
            session_hours: 24.0,
            duty_cycle: 0.5,
            gpus: Some(4),
            storage_bytes: Some(100_000_000_000_000),
            bytes_per_pixel_frame,
            size_basis,
            decode_bytes_per_second_per_core: default_decode_rate(spec.format),
            decode_basis: "default".into(),
        }
    }

    #[test]
    fn an_mrc_plan_is_exact_and_says_what_it_costs() {
        let s = spec(Format::Mrc, 40, 40.0);
        let r = report(&input(&s));
        assert_eq!(r.bytes_per_pixel_frame, 1.0);
        assert_eq!(r.size_basis, "exact: 1 bytes a pixel in mode 0");
        assert_eq!(r.mode, Some(0));
        assert_eq!(r.bytes_per_movie, 512.0 * 512.0 * 40.0 + 1024.0);
        assert_eq!(r.cores, 1);
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].starts_with("uncompressed MRC"), "{:?}", r.notes);
    }

    #[test]
    fn eer_counts_that_saturate_are_named() {
        let s = spec(Format::Eer, 20, 40.0);
        let i = input(&s);
        assert!(i.bytes_per_pixel_frame > 0.0, "{}", i.bytes_per_pixel_frame);
        assert!(
            i.size_basis.starts_with("measured: a synthetic movie"),
            "{}",
            i.size_basis
        );
        let r = report(&i);
        assert_eq!(r.mode, None);
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(
            r.notes[0].starts_with("2.00 electrons per pixel"),
            "{:?}",
            r.notes
        );
        let fewer = spec(Format::Eer, 400, 40.0);
        let r = report(&MoviesPlanInput {
            spec: &fewer,
            ..i.clone()
        });
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }
}
