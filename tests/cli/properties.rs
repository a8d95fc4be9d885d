//! Property tests of the sizing invariants.

use cryocap::datasets::Catalog;
use cryocap::results::plan::Dtype;
use cryocap::sizing::stack::{SizeModel, pixel_bytes, stack_size};
use cryocap::sizing::vram::{bytes_needed, max_box};
use cryocap::sizing::{MAX_BOX, MAX_PARTICLES};
use proptest::prelude::*;

fn model() -> impl Strategy<Value = SizeModel> {
    prop_oneof![
        Just(SizeModel::Guide),
        (1u64..100_000, 0u64..=128).prop_map(|(p, n)| SizeModel::Exact {
            particles_per_file: p,
            nsymbt: n
        }),
    ]
}

fn dtype() -> impl Strategy<Value = Dtype> {
    prop_oneof![Just(Dtype::F32), Just(Dtype::F16)]
}

proptest! {
    #[test]
    fn sizes_grow_with_box_and_particles(
        n in 1u64..=MAX_PARTICLES / 2, b in 2u32..MAX_BOX, d in dtype(), m in model()
    ) {
        let s = stack_size(n, b, d, m).bytes;
        prop_assert!(stack_size(n, b + 1, d, m).bytes > s);
        prop_assert!(stack_size(n + 1, b, d, m).bytes > s);
    }

    #[test]
    fn f16_is_half_the_pixel_bytes(b in 2u32..=MAX_BOX) {
        prop_assert_eq!(pixel_bytes(b, Dtype::F16) * 2, pixel_bytes(b, Dtype::F32));
    }

    #[test]
    fn exact_never_exceeds_guide(
        n in 1u64..=MAX_PARTICLES, b in 2u32..=MAX_BOX, d in dtype(),
        per_file in 1u64..1_000_000, nsymbt in 0u64..=128
    ) {
        let exact = stack_size(n, b, d, SizeModel::Exact { particles_per_file: per_file, nsymbt });
        let guide = stack_size(n, b, d, SizeModel::Guide);
        prop_assert!(exact.bytes <= guide.bytes);
    }

    #[test]
    fn max_box_inverts_bytes_needed(job in 0usize..8, gib in 1u64..200, classes in 1u32..16) {
        let catalog = Catalog::get().unwrap();
        let j = &catalog.vram_jobs[job % catalog.vram_jobs.len()];
        let vram = gib << 30;
        match max_box(j, vram, classes) {
            Some((b, _)) => {
                prop_assert!(bytes_needed(j, b, classes) <= vram);
                let ceiling = j.box_cap.unwrap_or(MAX_BOX).min(MAX_BOX);
                prop_assert!(b + 2 > ceiling || bytes_needed(j, b + 2, classes) > vram);
            }
            None => prop_assert!(bytes_needed(j, 2, classes) > vram),
        }
    }

    #[test]
    fn the_box_a_job_needs_is_within_the_max_box_of_that_memory(
        job in 0usize..8, half in 1u32..=1000, classes in 1u32..16
    ) {
        let catalog = Catalog::get().unwrap();
        let j = &catalog.vram_jobs[job % catalog.vram_jobs.len()];
        let b = half * 2;
        if j.box_cap.is_none_or(|c| b <= c) {
            let (m, _) = max_box(j, bytes_needed(j, b, classes), classes).unwrap();
            prop_assert!(m >= b);
        }
    }
}
