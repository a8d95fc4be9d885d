//! GPU memory a job needs at a box size, and the inverse: the largest box a
//! given amount of VRAM takes. Coefficients live in `datasets/vram.csv`.

use super::MAX_BOX;
use super::stack::largest_even;
use crate::datasets::VramJob;
use crate::results::plan::BoxLimit;

/// The classes a job runs with: the user's `--classes` for jobs that take it,
/// otherwise the job's own default.
pub fn classes_for(job: &VramJob, requested: Option<u32>) -> u32 {
    if job.takes_classes {
        requested.unwrap_or(job.default_classes)
    } else {
        job.default_classes
    }
}

/// Bytes of VRAM `job` needs at `box_size` with `classes` classes.
pub fn bytes_needed(job: &VramJob, box_size: u32, classes: u32) -> u64 {
    let n = f64::from(box_size);
    let k = f64::from(classes);
    let voxel = job.bytes_per_voxel + k * job.bytes_per_voxel_per_class;
    let pixel = job.bytes_per_pixel + k * job.bytes_per_pixel_per_class;
    (job.base_bytes + voxel * n * n * n + pixel * n * n).ceil() as u64
}

/// The largest even box `job` takes in `vram_bytes`, and what stops it there;
/// None when even box 2 does not fit.
pub fn max_box(job: &VramJob, vram_bytes: u64, classes: u32) -> Option<(u32, BoxLimit)> {
    let ceiling = job.box_cap.unwrap_or(MAX_BOX).min(MAX_BOX);
    let best = largest_even(ceiling, |b| bytes_needed(job, b, classes) <= vram_bytes)?;
    let limit = if best + 2 > ceiling {
        if job.box_cap.is_some_and(|c| c <= MAX_BOX) {
            BoxLimit::SoftwareCap
        } else {
            BoxLimit::Ceiling
        }
    } else {
        BoxLimit::Memory
    };
    Some((best, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Catalog;
    use crate::units::GIB;

    fn job(id: &str) -> VramJob {
        Catalog::get()
            .unwrap()
            .vram_jobs
            .iter()
            .find(|j| j.job == id)
            .unwrap()
            .clone()
    }

    #[test]
    fn anchors_of_reference_section_5() {
        // 12 GB: NU-refine tops out between 650 and 750, homo-refine at 1000+.
        let (nu, _) = max_box(&job("nu-refine"), 12 * GIB, 1).unwrap();
        assert!((650..=750).contains(&nu), "nu-refine at 12 GB: {nu}");
        let (homo, _) = max_box(&job("homo-refine"), 12 * GIB, 1).unwrap();
        assert!(homo >= 1000, "homo-refine at 12 GB: {homo}");
        // 11 GB: every CryoSPARC job type takes box 600.
        for j in Catalog::get().unwrap().vram_jobs.iter() {
            if j.job == "relion-refine" {
                continue;
            }
            let k = classes_for(j, None);
            assert!(bytes_needed(j, 600, k) <= 11 * GIB, "{} at 600", j.job);
        }
        // RELION: 1.1e-8·(2N)³ GB, box 450 within 8 GB.
        let relion = job("relion-refine");
        let formula = 1.1e-8 * 900f64.powi(3) * 1e9;
        assert!((bytes_needed(&relion, 450, 1) as f64 - formula).abs() < 1.0);
        assert!(bytes_needed(&relion, 450, 1) <= 8 * GIB);
    }

    #[test]
    fn homo_refine_follows_the_published_table() {
        let homo = job("homo-refine");
        for (gib, expect) in [(4u64, 682u32), (8, 872), (11, 976), (12, 1004), (16, 1110)] {
            let (b, _) = max_box(&homo, gib * GIB, 1).unwrap();
            assert!(b.abs_diff(expect) <= 4, "{gib} GiB: {b} vs {expect}");
        }
        assert_eq!(
            max_box(&homo, 80 * GIB, 1),
            Some((1126, BoxLimit::SoftwareCap))
        );
    }

    #[test]
    fn classes_raise_hetero_refine() {
        let h = job("hetero-refine");
        assert!(bytes_needed(&h, 256, 8) > bytes_needed(&h, 256, 2));
        assert_eq!(classes_for(&h, Some(8)), 8);
        assert_eq!(classes_for(&job("class2d"), Some(8)), 50);
    }

    #[test]
    fn nothing_fits_in_too_little_memory() {
        assert_eq!(max_box(&job("homo-refine"), 1000, 1), None);
    }
}
