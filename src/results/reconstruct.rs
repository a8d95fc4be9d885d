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
    /// Where the time of a GPU insertion went (GPU backend only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_split: Option<GpuTimeSplit>,
}

/// Where the time of `reconstruct --backend gpu` went: parallel readers
/// filling a ring of pinned buffers, and the GPU's stages timed with CUDA
/// events. Reader and stage seconds are summed over threads and streams,
/// which overlap, so each may exceed the wall time; the wall time is
/// `seconds_insert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuTimeSplit {
    /// How particles travel to the GPU: "float16" (raw bits from mode-12
    /// stacks) or "float32".
    pub precision: String,
    pub readers: u32,
    /// Pinned host buffers in the ring, reused for every chunk.
    pub ring_buffers: u32,
    /// Particles per buffer (one copy, one FFT batch, one launch).
    pub chunk_particles: u32,
    /// "O_DIRECT" or "page cache".
    pub reading: String,
    /// Why O_DIRECT was not used where it was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_fallback: Option<String>,
    /// Bytes read from the stacks (whole aligned blocks under O_DIRECT).
    pub bytes_read: u64,
    /// In read calls, summed over the readers, seconds.
    pub read_seconds: f64,
    /// Placing, checking and (for integer modes) decoding pixels in the
    /// buffers, summed over the readers, seconds.
    pub place_seconds: f64,
    /// The GPU side waiting for a filled buffer, seconds (high: reading
    /// is the bottleneck).
    pub wait_seconds: f64,
    /// Queueing chunks on the GPU (host side), seconds.
    pub queue_seconds: f64,
    /// GPU time of host-to-device copies (and float16 conversion), seconds.
    pub gpu_copy_seconds: f64,
    /// GPU time of the batched 2D FFTs, seconds.
    pub gpu_fft_seconds: f64,
    /// GPU time of the insertion kernels, seconds.
    pub gpu_insert_seconds: f64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
