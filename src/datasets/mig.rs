use serde::Deserialize;

/// One MIG profile of `datasets/mig-profiles.csv`: a GPU instance a
/// MIG-capable GPU can be split into, as NVIDIA's MIG user guide lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct MigProfile {
    /// Catalog GPU ids (`datasets/gpus.csv`) that offer this profile,
    /// separated by spaces.
    pub gpus: String,
    /// The profile's name, e.g. `3g.40gb`.
    pub profile: String,
    /// Compute slices (the `Ng` of the name), out of 7.
    pub compute_slices: u32,
    /// Memory slices, out of 8 (the guide's "fraction of memory").
    pub memory_eighths: u32,
    /// Instances of this profile one GPU holds at most.
    pub max_instances: u32,
    pub source: String,
}

impl MigProfile {
    /// Whether catalog GPU `id` offers this profile.
    pub fn offered_by(&self, id: &str) -> bool {
        self.gpus.split_whitespace().any(|g| g == id)
    }

    /// The slice's memory on a GPU of `gpu_vram_bytes`: its fraction of the
    /// whole (the driver keeps a little back; `nvidia-smi mig -lgip` shows
    /// the exact figure).
    pub fn memory_bytes(&self, gpu_vram_bytes: u64) -> u64 {
        (u128::from(gpu_vram_bytes) * u128::from(self.memory_eighths) / 8) as u64
    }
}
