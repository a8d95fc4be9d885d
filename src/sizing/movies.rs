//! Sizing a movie collection: bytes per movie, per session, day and year;
//! the write rate the microscope needs; the read and decode rates and the
//! cores pre-processing needs to keep up; how long storage lasts. Pure: the
//! compressed size of one pixel-frame and the per-core decode rate come in
//! as figures measured elsewhere (on a synthetic movie of this dose, and by
//! `bench movies`).

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
}
