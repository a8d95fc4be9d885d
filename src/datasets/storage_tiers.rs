use serde::Deserialize;

/// One storage tier profile of `datasets/storage.csv` (vendor figures, not
/// measurements; `cryocap bench io` measures the real thing).
#[derive(Debug, Clone, Deserialize)]
pub struct StorageTier {
    pub id: String,
    pub label: String,
    pub seq_read_mb_s: f64,
    /// Time to reach a random particle: seek + rotation for disks, device or
    /// network round trip for flash and NFS.
    pub access_latency_us: f64,
    /// Independent requests the tier serves at once (spindles, flash queues).
    pub parallel_requests: u32,
    pub seq_write_mb_s: f64,
    pub source: String,
}

impl StorageTier {
    pub fn seq_read_bytes_per_s(&self) -> f64 {
        self.seq_read_mb_s * 1e6
    }
    pub fn seq_write_bytes_per_s(&self) -> f64 {
        self.seq_write_mb_s * 1e6
    }
}
