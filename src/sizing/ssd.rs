//! SSD cache sizing: the drive to buy, the quota and reserve to give
//! `cryosparcw connect`, and what would make a stack fit a given drive.
//!
//! CryoSPARC takes `--ssdquota` and `--ssdreserve` in "MB". Which MB is not
//! documented in the sources we have; cryocap reads it as MiB (2^20 bytes),
//! the larger reading, so a reserve is never smaller than asked and a quota
//! never larger than the drive.

use serde::{Deserialize, Serialize};

use super::stack::{self, SizeModel};
use super::{MAX_BOX, MAX_PARTICLES};
use crate::datasets::SsdClass;
use crate::results::plan::{Dtype, Remedy};
use crate::units::MIB;

/// CryoSPARC's default reserve when none is given (docs/sources.md §3, secondary).
pub(crate) const DEFAULT_RESERVE_MB: u64 = 10_000;

pub(crate) fn mb_to_bytes(mb: u64) -> u64 {
    mb.saturating_mul(MIB)
}

pub(crate) fn bytes_to_mb_floor(bytes: u64) -> u64 {
    bytes / MIB
}

/// The space the cache may fill on a drive: min(quota, drive − reserve).
pub(crate) fn cache_capacity(drive_bytes: u64, quota_mb: Option<u64>, reserve_mb: u64) -> u64 {
    let after_reserve = drive_bytes.saturating_sub(mb_to_bytes(reserve_mb));
    match quota_mb {
        Some(q) => after_reserve.min(mb_to_bytes(q)),
        None => after_reserve,
    }
}

/// The `cryosparcw connect` line for a worker with this quota and reserve.
pub(crate) fn connect_command(quota_mb: u64, reserve_mb: u64) -> String {
    format!(
        "bin/cryosparcw connect --worker <worker> --master <master> --port <port> \
         --ssdpath <ssd_path> --ssdquota {quota_mb} --ssdreserve {reserve_mb}"
    )
}

/// The smallest SSD class whose smallest drive holds the stack and leaves the
/// reserve free.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SsdRecommendation {
    pub class: String,
    pub nominal_bytes: u64,
    pub smallest_bytes: u64,
    pub quota_mb: u64,
    /// How many stacks of this size the cache holds at once.
    pub stacks_held: u64,
}

pub(crate) fn recommend(
    stack_bytes: u64,
    reserve_mb: u64,
    classes: &[SsdClass],
) -> Option<SsdRecommendation> {
    classes
        .iter()
        .filter(|c| cache_capacity(c.smallest_bytes, None, reserve_mb) >= stack_bytes)
        .min_by_key(|c| c.nominal_bytes)
        .map(|c| {
            let capacity = cache_capacity(c.smallest_bytes, None, reserve_mb);
            SsdRecommendation {
                class: c.class.clone(),
                nominal_bytes: c.nominal_bytes,
                smallest_bytes: c.smallest_bytes,
                quota_mb: bytes_to_mb_floor(capacity),
                stacks_held: capacity.checked_div(stack_bytes).unwrap_or(0),
            }
        })
}

/// What the user's stack needs from a cache of `capacity` bytes.
pub(crate) fn remedies(
    particles: u64,
    box_size: u32,
    dtype: Dtype,
    model: SizeModel,
    capacity: u64,
) -> Vec<Remedy> {
    let mut out = Vec::new();
    if dtype == Dtype::F32 {
        let bytes = stack::stack_size(particles, box_size, Dtype::F16, model).bytes;
        out.push(Remedy {
            kind: "float16".into(),
            value: None,
            stack_bytes: bytes,
            fits: bytes <= capacity,
        });
    }
    if let Some(b) =
        stack::max_box_for_capacity(particles, dtype, model, capacity, box_size.min(MAX_BOX))
    {
        out.push(Remedy {
            kind: "fourier_crop".into(),
            value: Some(u64::from(b)),
            stack_bytes: stack::stack_size(particles, b, dtype, model).bytes,
            fits: true,
        });
    }
    let n = stack::max_particles_for_capacity(box_size, dtype, model, capacity, MAX_PARTICLES);
    out.push(Remedy {
        kind: "fewer_particles".into(),
        value: Some(n),
        stack_bytes: stack::stack_size(n, box_size, dtype, model).bytes,
        fits: n > 0,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Catalog;

    #[test]
    fn largest_guide_example_needs_the_2tb_class() {
        let classes = &Catalog::get().unwrap().ssd_classes;
        let r = recommend(1_495_296_000_000, DEFAULT_RESERVE_MB, classes).unwrap();
        assert_eq!(r.class, "2 TB");
        assert_eq!(r.stacks_held, 1);
        // quota + reserve never exceed the smallest drive of the class
        assert!(mb_to_bytes(r.quota_mb) + mb_to_bytes(DEFAULT_RESERVE_MB) <= r.smallest_bytes);
    }

    #[test]
    fn capacity_is_min_of_quota_and_free() {
        let tb = 1_000_000_000_000;
        assert_eq!(cache_capacity(tb, None, 0), tb);
        assert_eq!(cache_capacity(tb, Some(1000), 0), 1000 * MIB);
        assert_eq!(cache_capacity(tb, None, 10_000), tb - 10_000 * MIB);
        assert_eq!(cache_capacity(1000, None, 10_000), 0);
    }

    #[test]
    fn remedies_say_what_fits() {
        let cap = 1_000_000_000_000; // 1 TB cache, 1.5 TB stack
        let r = remedies(2_000_000, 432, Dtype::F32, SizeModel::Guide, cap);
        let f16 = r.iter().find(|r| r.kind == "float16").unwrap();
        assert!(f16.fits && f16.stack_bytes < cap);
        let crop = r.iter().find(|r| r.kind == "fourier_crop").unwrap();
        assert!(crop.value.unwrap() < 432 && crop.stack_bytes <= cap);
        let fewer = r.iter().find(|r| r.kind == "fewer_particles").unwrap();
        assert!(fewer.value.unwrap() < 2_000_000 && fewer.stack_bytes <= cap);
    }
}
