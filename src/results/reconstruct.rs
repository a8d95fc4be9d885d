//! What `cryocap reconstruct` did.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconstructReport {
    /// The particles STAR file read.
    pub star: String,
    /// The MRC volume written (ISPG 1, float32).
    pub output: String,
    /// Where the insertion ran: "cpu" or "gpu".
    pub backend: String,
    pub particles: u64,
    /// Distinct stack files read.
    pub stacks: u64,
    pub box_size: u32,
    /// Padding factor of the Fourier grid.
    pub pad: u32,
    /// Pixel size written to the volume's header, Å (None: not known, 1 Å written).
    pub pixel_size_a: Option<f64>,
    /// CPU insertion threads (1 with --gpu: one thread reads and transforms).
    pub threads: u32,
    /// Reading, FFT and insertion of every particle, seconds (one run).
    pub seconds_insert: f64,
    /// Hermitian plane, weights, inverse 3D FFT, crop and gridding
    /// correction, seconds.
    pub seconds_finish: f64,
    /// Everything from reading the STAR file to the renamed output, seconds.
    pub seconds_total: f64,
    /// particles / seconds_insert.
    pub particles_per_second: f64,
    /// Bytes of the volume file.
    pub output_bytes: u64,
    /// Images left out for NaN or infinite pixels (`--non-finite skip`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_non_finite: u64,
    /// Where the STAR file and the stacks disagree (not fatal).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
