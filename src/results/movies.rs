//! What `cryocap movies create` wrote and `cryocap bench movies` measured.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoviesCreated {
    pub dir: String,
    pub files: Vec<String>,
    /// tiff-lzw, eer, mrc or mrc-bz2.
    pub format: String,
    /// MRC mode, for mrc and mrc-bz2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<i32>,
    pub width: u32,
    pub height: u32,
    /// Frames per movie (EER: detector frames).
    pub frames: u64,
    /// Mean electrons per pixel per frame.
    pub electrons_per_pixel_per_frame: f64,
    /// Total dose in e⁻/Å² and the pixel size it was converted with.
    pub dose_e_per_a2: f64,
    pub pixel_size_a: f64,
    pub specimen_contrast: f64,
    pub movies: u64,
    /// Bytes of the movies (without the gain reference).
    pub bytes: u64,
    /// Bytes the frames hold uncompressed at one byte per count.
    pub raw_bytes: u64,
    pub electrons: u64,
    /// Stage drift planted: pixels a frame, x and y (frame i sits at i times it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_px_per_frame: Option<[f64; 2]>,
    pub gain_reference: String,
    pub seconds: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoviesBenchReport {
    /// The runs as metrics, for `compare` and the history.
    #[serde(default)]
    pub metrics: Vec<super::metrics::Metric>,
    pub set: MovieSet,
    pub runs: Vec<MovieRun>,
    /// Against the microscope, when `--movies-per-hour` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_up: Option<KeepUp>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovieSet {
    pub dir: String,
    pub movies: usize,
    /// Formats found, by name.
    pub formats: Vec<String>,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Whether cryocap wrote the set for this run (and deleted it after).
    pub created: bool,
    /// Whether reads used O_DIRECT (else the page cache, dropped first).
    pub direct: bool,
    pub gain_reference: Option<String>,
    pub eer_grouping: u32,
    pub eer_upsample: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovieRun {
    pub format: String,
    pub threads: usize,
    pub movies: usize,
    /// Wall time of the run.
    pub seconds: f64,
    /// Summed over threads: time reading files, time decoding them.
    pub read_seconds: f64,
    pub decode_seconds: f64,
    pub file_bytes: u64,
    /// Bytes the frames decode to, at one byte per count.
    pub decoded_bytes: u64,
    pub frames: u64,
    /// Electrons counted in the decoded frames (a check that all were read).
    pub electrons: u64,
    pub movies_per_hour: f64,
    /// File bytes per second over the wall time.
    pub read_bytes_per_second: f64,
    /// Compressed bytes decoded per second of decoding on one thread.
    pub decode_bytes_per_second_per_thread: f64,
    /// Frames per second over the wall time.
    pub frames_per_second: f64,
    /// movies_per_hour against the one-thread run of the same format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<f64>,
    /// "read" or "decode": which took more of the threads' time.
    pub bound: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeepUp {
    pub movies_per_hour_needed: f64,
    /// The best run's movies per hour.
    pub movies_per_hour: f64,
    pub keeps_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    /// Movies per hour one GPU processes, as given or measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_movies_per_hour: Option<f64>,
    /// Where the GPU rate came from (given, or a `bench gpu` run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_rate_basis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feeds_gpus: Option<bool>,
}

/// `cryocap movies plan`: what a collection writes and what keeping up takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoviesPlanReport {
    pub detector: String,
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<i32>,
    pub width: u32,
    pub height: u32,
    pub frames: u64,
    pub fractions: u64,
    pub dose_e_per_a2: f64,
    pub pixel_size_a: f64,
    pub electrons_per_pixel_per_frame: f64,
    pub movies_per_hour: f64,
    pub session_hours: f64,
    pub duty_cycle: f64,
    /// How bytes per pixel-frame was had: measured on a synthetic movie, or exact.
    pub size_basis: String,
    pub bytes_per_pixel_frame: f64,
    pub raw_bytes_per_movie: f64,
    pub bytes_per_movie: f64,
    pub bytes_per_session: f64,
    pub bytes_per_day: f64,
    pub bytes_per_year: f64,
    pub write_bytes_per_second: f64,
    pub fractions_per_second: f64,
    pub decoded_bytes_per_second: f64,
    /// File bytes one core decodes a second, and where that figure came from.
    pub decode_bytes_per_second_per_core: f64,
    pub decode_basis: String,
    pub cores: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed_read_bytes_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_days: Option<f64>,
    pub notes: Vec<String>,
}
