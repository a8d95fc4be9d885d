//! How long one pass over a stack takes on each storage tier, read in order
//! and in random particle order, and how long filling the SSD cache takes.
//!
//! Random reads: each particle read costs the tier's access latency plus its
//! transfer at the tier's per-request share of bandwidth, with as many
//! requests in flight as the tier serves at once (spindles, flash queues),
//! and never faster than sequential. At 256 KiB on one 7,200 rpm disk this
//! gives ~79 reads/s, the ~80 IOPS of docs/sources.md §7.

use crate::datasets::StorageTier;

/// Particles per second read in random order from `tier`.
pub fn random_particles_per_second(tier: &StorageTier, particle_bytes: u64) -> f64 {
    let seq = tier.seq_read_bytes_per_s();
    let bytes = particle_bytes.max(1) as f64;
    let parallel = f64::from(tier.parallel_requests.max(1));
    let per_request_rate = seq / parallel;
    let service_time = tier.access_latency_us * 1e-6 + bytes / per_request_rate;
    (parallel / service_time).min(seq / bytes)
}

/// Seconds to read `stack_bytes` in order.
pub fn sequential_seconds(tier: &StorageTier, stack_bytes: u64) -> f64 {
    stack_bytes as f64 / tier.seq_read_bytes_per_s()
}

/// Seconds to read every particle once in random order.
pub fn random_pass_seconds(tier: &StorageTier, particles: u64, particle_bytes: u64) -> f64 {
    particles as f64 / random_particles_per_second(tier, particle_bytes)
}

/// Seconds to copy the stack from `source` onto the `cache` drive.
pub fn fill_seconds(source: &StorageTier, cache: &StorageTier, stack_bytes: u64) -> f64 {
    let rate = source
        .seq_read_bytes_per_s()
        .min(cache.seq_write_bytes_per_s());
    stack_bytes as f64 / rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Catalog;

    fn tier(id: &str) -> &'static StorageTier {
        Catalog::get().unwrap().storage_tier(id).unwrap()
    }

    #[test]
    fn hdd_random_256k_is_about_80_iops() {
        let iops = random_particles_per_second(tier("hdd"), 256 * 1024);
        assert!((75.0..=85.0).contains(&iops), "{iops}");
    }

    #[test]
    fn flash_random_is_near_sequential() {
        for id in ["sata-ssd", "nvme-gen4", "nvme-gen5"] {
            let t = tier(id);
            let bytes = 746_496;
            let random = random_particles_per_second(t, bytes) * bytes as f64;
            assert!(random >= 0.9 * t.seq_read_bytes_per_s(), "{id}");
        }
    }

    #[test]
    fn random_is_never_faster_than_sequential() {
        for t in &Catalog::get().unwrap().storage_tiers {
            for bytes in [4096u64, 65_536, 746_496, 16 << 20] {
                let r = random_particles_per_second(t, bytes) * bytes as f64;
                assert!(
                    r <= t.seq_read_bytes_per_s() * (1.0 + 1e-9),
                    "{} {bytes}",
                    t.id
                );
            }
        }
    }
}
