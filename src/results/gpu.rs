//! What `cryocap bench gpu` measured (or why it did not).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchStatus {
    /// Kernels checked and timed.
    Measured,
    /// Nothing ran: no CUDA driver or no GPU (`reason` says which).
    Skipped,
    /// A kernel disagreed with the CPU reference; its speed is not reported.
    CheckFailed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuBenchReport {
    pub status: BenchStatus,
    pub reason: Option<String>,
    pub input: GpuBenchInput,
    pub devices: Vec<GpuDeviceResult>,
    /// Figures the issue asks for that this version does not measure yet.
    pub not_measured: Vec<String>,
    /// `--job-memory`: `fit`'s working set allocated rank by rank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_memory: Option<JobMemory>,
    /// `--from-files`: real stacks read by parallel readers into a pinned
    /// ring and inserted on each GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_files: Option<FromFiles>,
}

/// `bench gpu --from-files DIR`: every image of the stacks in a directory,
/// read by the readers alone (into host buffers) and end to end (readers,
/// pinned ring, copy, FFT, insertion) on each GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FromFiles {
    pub dir: String,
    pub stacks: u64,
    pub particles: u64,
    pub box_size: u32,
    /// "float16" (raw bits of mode-12 stacks) or "float32".
    pub input: String,
    pub readers: u32,
    /// "O_DIRECT" or "page cache" (what the reads really used).
    pub reading: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_fallback: Option<String>,
    /// Bytes of one particle's image as stored.
    pub image_bytes: u64,
    /// Timed passes over all particles (after one warm-up pass).
    pub repeats: u32,
    /// The readers alone: particles/s median, min, max.
    pub read_median_particles_per_second: f64,
    pub read_min_particles_per_second: f64,
    pub read_max_particles_per_second: f64,
    /// One row per GPU and padding.
    pub runs: Vec<FromFilesRun>,
}

/// Stacks on disk through one GPU, end to end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FromFilesRun {
    pub device: usize,
    pub pad: u32,
    pub median_particles_per_second: f64,
    pub min_particles_per_second: f64,
    pub max_particles_per_second: f64,
    /// Particles/s the measured pinned host-to-device bandwidth carries.
    pub host_link_bound: Option<f64>,
    /// The median over min(read rate, host link bound): the target
    /// is 0.8.
    pub of_bound: Option<f64>,
    /// Where the time of the median run went.
    pub split: Option<crate::results::GpuTimeSplit>,
    /// Set when this case could not run.
    pub error: Option<String>,
}

/// `bench gpu --job-memory`: the per-rank working set `fit` predicts,
/// allocated in one CUDA context per rank (as RELION's MPI ranks each hold
/// one), next to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMemory {
    pub job: String,
    pub ranks_per_gpu: u32,
    pub classes: u32,
    /// Each box asked for, per device and padding.
    pub rows: Vec<JobMemoryRow>,
    /// The largest box per device and padding: allocated and modelled.
    pub limits: Vec<JobMemoryLimit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMemoryRow {
    pub device: usize,
    pub pad: u32,
    #[serde(rename = "box")]
    pub box_size: u32,
    /// What `fit` predicts one rank needs.
    pub per_rank_bytes: u64,
    /// Whether every rank's context and working set were allocated.
    pub allocated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMemoryLimit {
    pub device: usize,
    pub pad: u32,
    pub vram_bytes: u64,
    /// Largest even box whose ranks all allocated (None: not even box 2).
    pub allocated_max_box: Option<u32>,
    /// Largest even box the model allows in `vram_bytes`.
    pub model_max_box: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuBenchInput {
    pub boxes: Vec<u32>,
    pub pads: Vec<u32>,
    /// Images per insertion launch.
    pub particles: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub ordinal: usize,
    pub name: String,
    /// e.g. (9, 0)
    pub compute_capability: (i32, i32),
    pub vram_bytes: u64,
    pub sm_count: u32,
    /// CUDA driver API version, e.g. 13000 for 13.0.
    pub driver_version: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuDeviceResult {
    pub device: DeviceInfo,
    pub checks: Vec<KernelCheck>,
    /// Device-to-device copy by cryocap's kernel.
    pub copy: Option<Bandwidth>,
    /// The same copy by the driver (cuMemcpyDtoDAsync).
    #[serde(default)]
    pub copy_memcpy: Option<Bandwidth>,
    /// Pinned host memory to the GPU.
    pub host_to_device: Option<Bandwidth>,
    /// The GPU to pinned host memory.
    pub device_to_host: Option<Bandwidth>,
    pub max_box: Option<MaxBox>,
    pub fft: Vec<FftResult>,
    pub insertion: Vec<InsertionResult>,
    /// Particles in pinned host memory through copy, FFT and insertion.
    #[serde(default)]
    pub end_to_end: Vec<EndToEndResult>,
    /// Frame alignment of whole movies (whole frame, then patches).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frame_alignment: Vec<FrameAlignResult>,
}

/// Frame alignment of one detector's movies on one GPU: 8-bit counts copied
/// from host memory, widened, aligned as whole frames and then as P×P
/// patches (each `iterations` times), as motion correction does per movie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameAlignResult {
    /// Detector id from the catalog (`k3`, `falcon-4i`).
    pub detector: String,
    pub width: u32,
    pub height: u32,
    /// Frames (or EER fractions) per movie.
    pub frames: u32,
    /// P of the P×P patches.
    pub patches: u32,
    pub iterations: u32,
    pub repeats: u32,
    /// Seconds per movie: median, min, max.
    pub median_seconds: f64,
    pub min_seconds: f64,
    pub max_seconds: f64,
    /// 3600 / median_seconds.
    pub movies_per_hour: f64,
    /// Set when this case could not run (e.g. the GPU's memory).
    pub error: Option<String>,
}

impl GpuDeviceResult {
    /// A device with its checks and nothing timed (a check failed, or as a
    /// base for filling in the timings).
    pub fn checks_only(device: DeviceInfo, checks: Vec<KernelCheck>) -> GpuDeviceResult {
        GpuDeviceResult {
            device,
            checks,
            copy: None,
            copy_memcpy: None,
            host_to_device: None,
            device_to_host: None,
            max_box: None,
            fft: Vec::new(),
            insertion: Vec::new(),
            end_to_end: Vec::new(),
            frame_alignment: Vec::new(),
        }
    }
}

/// A kernel compared with the CPU reference on fresh random inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelCheck {
    pub kernel: String,
    pub box_size: u32,
    pub pad: u32,
    pub images: u64,
    /// ‖gpu − cpu‖ / ‖cpu‖ over the Fourier grid and weights.
    pub relative_error: f64,
    pub limit: f64,
    pub passed: bool,
}

/// A bandwidth over repeated runs, timed with CUDA events after a warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bandwidth {
    /// What a byte counts, e.g. "bytes read + written".
    pub counts: String,
    pub bytes_per_run: u64,
    pub repeats: u32,
    pub median_bytes_per_second: f64,
    pub min_bytes_per_second: f64,
    pub max_bytes_per_second: f64,
}

/// Insertion of Fourier images already on the GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsertionResult {
    /// The kernel timed (`insert_trilinear` or `insert_tiled`).
    #[serde(default)]
    pub kernel: String,
    pub box_size: u32,
    pub pad: u32,
    /// Images per launch.
    pub particles: u64,
    pub repeats: u32,
    pub median_particles_per_second: f64,
    pub min_particles_per_second: f64,
    pub max_particles_per_second: f64,
    /// Set when this case could not run (e.g. the grid did not fit).
    pub error: Option<String>,
}

/// Real-space particles in pinned host memory through the whole GPU path:
/// copy to the GPU, float16 to float32 there (float16 input), batched FFT,
/// insertion; chunks spread over streams so that copies overlap compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndToEndResult {
    pub box_size: u32,
    pub pad: u32,
    /// "float32", or "float16" as MRC mode 12 stores particles.
    pub input: String,
    /// The insertion kernel used: the faster one measured at this box and
    /// padding.
    #[serde(default)]
    pub kernel: String,
    /// Particles per timed run.
    pub particles: u64,
    /// Particles per chunk (one copy, one FFT batch, one insertion launch).
    pub chunk: u64,
    pub streams: u32,
    pub repeats: u32,
    pub median_particles_per_second: f64,
    pub min_particles_per_second: f64,
    pub max_particles_per_second: f64,
    /// Particles/s the measured pinned host-to-device bandwidth could carry
    /// at this box and precision (the bound for this path).
    pub host_link_bound: Option<f64>,
    /// Set when this case could not run.
    pub error: Option<String>,
}

/// The largest box that fits, measured and modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxBox {
    pub pad: u32,
    /// Largest even box whose working set (padded float4 grid, one batch of
    /// images) could be allocated; None when not even box 2.
    pub by_allocation: Option<u32>,
    /// Bytes of that working set.
    pub working_set_bytes: u64,
    /// What `cryocap plan`'s `reconstruct` VRAM model says for this GPU.
    pub plan_model_reconstruct: Option<u32>,
}

/// Batched 2D real-to-complex FFTs (cuFFT) of images already on the GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FftResult {
    pub box_size: u32,
    /// Images per batched transform.
    pub images: u64,
    pub repeats: u32,
    pub median_images_per_second: f64,
    pub min_images_per_second: f64,
    pub max_images_per_second: f64,
    /// Set when this case could not run.
    pub error: Option<String>,
}

impl FftResult {
    /// Median, min and max images per second.
    pub fn rates(&self) -> [f64; 3] {
        [
            self.median_images_per_second,
            self.min_images_per_second,
            self.max_images_per_second,
        ]
    }
}

impl InsertionResult {
    /// Median, min and max particles per second.
    pub fn rates(&self) -> [f64; 3] {
        [
            self.median_particles_per_second,
            self.min_particles_per_second,
            self.max_particles_per_second,
        ]
    }
}

impl EndToEndResult {
    /// Median, min and max particles per second.
    pub fn rates(&self) -> [f64; 3] {
        [
            self.median_particles_per_second,
            self.min_particles_per_second,
            self.max_particles_per_second,
        ]
    }
}
