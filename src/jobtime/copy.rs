//! How long the copies before a job take, as the programs really copy:
//! - CryoSPARC's cache fill copies whole stack files with
//!   `CRYOSPARC_CACHE_NUM_THREADS` threads (2 by default, v4.3+), each file
//!   with a fixed cost and then at one thread's rate; users report about
//!   150–200 MB/s in all (docs/sources.md §3; a CryoSPARC forum thread measured
//!   200 MB/s where `cp` moved 22 GB/s on the same system);
//! - RELION's `--scratch_dir` copy reads particle after particle in the
//!   STAR file's order, one at a time, so each costs the storage's access
//!   latency: on network storage it is bound by read operations per second;
//! - one NFS client rarely passes about 2 GB/s whatever its link.
//!
//! Each default gives way to a measured figure where one is given.

use crate::datasets::StorageTier;

/// One CryoSPARC cache thread's copy rate, bytes/s: half of the 200 MB/s
/// users report with the default two threads.
pub const CACHE_THREAD_BYTES_PER_S: f64 = 100e6;
/// The fixed cost of each file the cache copies (open, stat, lock, fsync), s.
pub const CACHE_PER_FILE_S: f64 = 0.05;
/// Round trips RELION makes per particle it copies to scratch: it opens
/// the stack, reads the header, reads the image and closes it again.
pub const SCRATCH_OPS_PER_PARTICLE: f64 = 4.0;
/// What one NFS client reads at most, bytes/s.
pub const NFS_CLIENT_BYTES_PER_S: f64 = 2e9;

/// A tier's read rate as one client sees it: NFS tiers capped at the
/// single-client ceiling.
pub fn client_read_bytes_per_s(tier: &StorageTier) -> f64 {
    let rate = tier.seq_read_bytes_per_s();
    if tier.id.starts_with("nfs") {
        rate.min(NFS_CLIENT_BYTES_PER_S)
    } else {
        rate
    }
}

/// Seconds CryoSPARC takes to cache `files` files of `bytes` in all from
/// `source` with `threads` threads (`thread_rate`: one thread's measured
/// rate, or [`CACHE_THREAD_BYTES_PER_S`]).
pub fn cache_fill_seconds(
    source: &StorageTier,
    files: u64,
    bytes: u64,
    threads: u32,
    thread_rate: Option<f64>,
) -> f64 {
    let threads = f64::from(threads.max(1));
    let per_thread = thread_rate.unwrap_or(CACHE_THREAD_BYTES_PER_S);
    let threaded = (files as f64 * CACHE_PER_FILE_S + bytes as f64 / per_thread) / threads;
    threaded.max(bytes as f64 / client_read_bytes_per_s(source))
}

/// Seconds RELION takes to copy `particles` of `particle_bytes` each to
/// `--scratch_dir` from `source`: one particle at a time, each paying the
/// tier's access latency for every round trip, then its bytes at the
/// client's read rate.
pub fn scratch_copy_seconds(source: &StorageTier, particles: u64, particle_bytes: u64) -> f64 {
    let per = SCRATCH_OPS_PER_PARTICLE * source.access_latency_us * 1e-6
        + particle_bytes as f64 / client_read_bytes_per_s(source);
    particles as f64 * per
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Catalog;

    fn tier(id: &str) -> &'static StorageTier {
        Catalog::get().unwrap().storage_tier(id).unwrap()
    }

    #[test]
    fn cache_fill_of_1_5_tb_runs_at_the_reported_200_mb_s_not_line_rate() {
        // 1.5 TB in 1,000 files over 10 GbE with two threads.
        let s = cache_fill_seconds(tier("nfs-10gbe"), 1000, 1_500_000_000_000, 2, None);
        let by_hand = (1000.0 * 0.05 + 1.5e12 / 100e6) / 2.0;
        assert!((s - by_hand).abs() < 1e-6);
        assert!(s / 3600.0 > 2.0, "{} h", s / 3600.0);
        // Enough threads meet the link.
        let fast = cache_fill_seconds(tier("nfs-10gbe"), 1000, 1_500_000_000_000, 64, None);
        assert!((fast - 1.5e12 / 1.1e9).abs() < 1e-6);
    }

    #[test]
    fn one_nfs_client_is_capped_near_2_gb_s() {
        assert_eq!(client_read_bytes_per_s(tier("nfs-100gbe")), 2e9);
        assert_eq!(client_read_bytes_per_s(tier("nfs-10gbe")), 1.1e9);
        assert_eq!(client_read_bytes_per_s(tier("nvme-gen4")), 7.4e9);
    }

    #[test]
    fn scratch_copy_of_a_million_particles_takes_hours_on_nfs() {
        // 1.3 M particles at box 284 (float32, 322,624 B each) over 10 GbE NFS.
        let s = scratch_copy_seconds(tier("nfs-10gbe"), 1_300_000, 284 * 284 * 4);
        let by_hand = 1.3e6 * (4.0 * 500e-6 + 322_624.0 / 1.1e9);
        assert!((s - by_hand).abs() < 1e-6);
        // Users report 1-2 h for such copies; the model gives 0.83 h.
        assert!((0.5..=2.0).contains(&(s / 3600.0)), "{} h", s / 3600.0);
    }
}
