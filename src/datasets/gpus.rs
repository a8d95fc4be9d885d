use serde::Deserialize;

use crate::units::GIB;

/// One GPU model of `datasets/gpus.csv`.
#[derive(Debug, Clone, Deserialize)]
pub struct GpuModel {
    pub id: String,
    pub name: String,
    /// VRAM as marketed; for GPUs "GB" means GiB.
    pub vram_gib: f64,
    pub memory_bandwidth_gb_s: f64,
    /// Peak single-precision rate at boost clock, TFLOPS.
    pub fp32_tflops: f64,
    pub compute_capability: String,
    pub architecture: String,
    /// Board power (TDP) in watts, what the card draws at full load.
    pub board_power_w: f64,
    /// Where the board power comes from.
    pub power_source: String,
    /// Where the FP32 rate comes from.
    pub fp32_source: String,
    pub source: String,
}

impl GpuModel {
    pub fn vram_bytes(&self) -> u64 {
        (self.vram_gib * GIB as f64).round() as u64
    }
}
