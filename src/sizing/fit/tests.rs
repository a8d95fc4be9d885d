//! `fit`, checked on jobs, nodes and the scripts it writes.

use super::script::relion_gpu_map;
use super::*;
use proptest::prelude::*;

/// RELION's `--keep_free_scratch` default, in its GB (10^9 bytes); the
/// `--keep-free` flag's default.
const DEFAULT_KEEP_FREE: u64 = 10_000_000_000;

fn job(id: &str) -> FitJob {
    jobs(Catalog::get().unwrap())
        .into_iter()
        .find(|j| j.id == id)
        .unwrap()
}

fn tier(id: &str) -> StorageTier {
    Catalog::get().unwrap().storage_tier(id).unwrap().clone()
}

fn params(job_id: &str, box_size: u32, vram_gib: u64) -> FitParams {
    let j = job(job_id);
    let classes = classes_for(&j, None);
    FitParams {
        job: j,
        particles: 1_000_000,
        box_size,
        dtype: Dtype::F32,
        sym_expand: 1,
        stack_file_bytes: None,
        from: "flags".into(),
        pad: 2,
        classes,
        ranks_per_gpu: 1,
        threads: 4,
        preread: false,
        gpus: 1,
        passes: 20,
        target: Target {
            label: "test".into(),
            gpu: None,
            gpu_vram_bytes: vram_gib * GIB,
            mig: None,
            mig_profiles: Vec::new(),
            ram_bytes: None,
            cores: None,
        },
        scratch: None,
        project_tier: tier("nfs-10gbe"),
        margin: 1.5,
        paths: Paths {
            job_dir: "Refine3D/fit".into(),
            ..Paths::default()
        },
        compute: Err("not timed in this test".into()),
        time_given: None,
    }
}

/// RELION src/error.h: "about 1.1e-8 · (2N)³ GB per rank" in the last
/// iteration (padding 2), and "box 450 just about fits in 8 GB".
#[test]
fn relion_anchor_per_rank_at_pad_2() {
    let r = job("relion-refine");
    for n in [128u32, 256, 432, 450, 600] {
        let want = 1.1e-8 * (2.0 * f64::from(n)).powi(3) * 1e9;
        let got = vram_per_rank(&r, n, 2, 1) as f64;
        assert!((got - want).abs() <= 1.0, "box {n}: {got} vs {want}");
    }
    let at450 = vram_per_rank(&r, 450, 2, 1);
    assert!(at450 <= 8 * GIB, "box 450 in 8 GiB: {at450}");
    let (b, _) = max_box(&r, 8 * GIB, 2, 1, 1).unwrap();
    assert!((450..=470).contains(&b), "8 GiB at pad 2 tops out at {b}");
}

/// 3dem/relion #654: at padding 1 RELION reaches about box 1000 in an
/// 11 GB card, the weight array included (it adds about half).
#[test]
fn relion_anchor_pad_1_reaches_box_1000_in_11_gb() {
    let r = job("relion-refine");
    let (b, limit) = max_box(&r, 11 * GIB, 1, 1, 1).unwrap();
    assert_eq!(limit, BoxLimit::Memory);
    assert!((980..=1060).contains(&b), "11 GiB at pad 1: {b}");
    // pad 2 at the same card stops near half of that
    let (b2, _) = max_box(&r, 11 * GIB, 2, 1, 1).unwrap();
    assert!(b2 * 2 <= b + 4, "{b2} vs {b}");
}

#[test]
fn ranks_share_the_gpu_and_mig_slices_are_fractions() {
    let r = job("relion-refine");
    assert_eq!(
        vram_per_gpu(&r, 432, 2, 1, 3),
        3 * vram_per_rank(&r, 432, 2, 1)
    );
    let c = Catalog::get().unwrap();
    let a100 = c.gpu("a100-80gb").unwrap();
    let slices = c.mig_profiles_of("a100-80gb");
    let s340 = slices.iter().find(|m| m.profile == "3g.40gb").unwrap();
    assert_eq!(s340.memory_bytes(a100.vram_bytes()), 40 * GIB);
    assert_eq!(slices.first().unwrap().profile, "1g.10gb");
}

#[test]
fn relion_refine_432_on_a_3g40gb_slice() {
    let c = Catalog::get().unwrap();
    let a100 = c.gpu("a100-80gb").unwrap();
    let mut p = params("relion-refine", 432, 80);
    p.gpus = 1;
    p.ranks_per_gpu = 2;
    p.target.gpu = Some(a100.id.clone());
    p.target.mig_profiles = c
        .mig_profiles_of("a100-80gb")
        .into_iter()
        .cloned()
        .collect();
    p.target.mig = p
        .target
        .mig_profiles
        .iter()
        .find(|m| m.profile == "3g.40gb")
        .cloned();
    let r = fit(&p, c);
    assert!(r.vram.fits);
    assert_eq!(r.vram.smallest_mig.as_deref(), Some("1g.20gb"));
    assert!(
        r.lines
            .sbatch
            .contains(&"#SBATCH --gres=gpu:3g.40gb:1".to_string())
    );
    assert!(
        r.lines
            .relion
            .as_deref()
            .unwrap()
            .starts_with("--gpu 0:0 --j 4 --pad 2")
    );
    // 1g.10gb is too small for two ranks: a remedy names a larger slice
    p.target.mig = p.target.mig_profiles.first().cloned();
    let r = fit(&p, c);
    assert!(!r.fits);
    assert!(
        r.remedies
            .iter()
            .any(|m| m.kind == "mig" && m.text.contains("1g.20gb"))
    );
    assert!(r.remedies.iter().any(|m| m.kind == "ranks_per_gpu"));
    assert!(r.remedies.iter().any(|m| m.kind == "fourier_crop"));
}

#[test]
fn padding_remedy_when_pad_1_fits() {
    let p = params("relion-refine", 700, 11);
    let r = fit(&p, Catalog::get().unwrap());
    assert!(!r.fits);
    assert!(
        r.remedies.iter().any(|m| m.kind == "pad"),
        "{:?}",
        r.remedies
    );
}

#[test]
fn relion_scratch_fills_in_order_up_to_the_reserve_as_float32() {
    let mut p = params("relion-refine", 256, 24);
    p.dtype = Dtype::F16;
    p.scratch = Some(Scratch {
        free_bytes: 110_000_000_000,
        keep_free_bytes: DEFAULT_KEEP_FREE,
        tier: tier("nvme-gen4"),
    });
    let sc = scratch(&p, p.scratch.as_ref().unwrap());
    let per = 256u64 * 256 * 4; // float32 on scratch
    assert_eq!(sc.set_bytes, 1_000_000 * per);
    assert_eq!(sc.particles_on_scratch, 100_000_000_000 / per);
    assert_eq!(
        sc.particles_from_project,
        1_000_000 - sc.particles_on_scratch
    );
    // the rest is read as stored (float16) from the project every pass
    assert_eq!(
        sc.bytes_per_pass_from_project,
        sc.particles_from_project * 256 * 256 * 2
    );
    assert!(!sc.fits_whole);
    // symmetry expansion ×4 takes four times the space
    p.sym_expand = 4;
    let sc4 = scratch(&p, p.scratch.as_ref().unwrap());
    assert_eq!(sc4.set_bytes, 4 * sc.set_bytes);
}

#[test]
fn cryosparc_cache_is_whole_files_or_nothing() {
    let mut p = params("nu-refine", 256, 24);
    p.stack_file_bytes = Some(300_000_000_000);
    p.scratch = Some(Scratch {
        free_bytes: 250_000_000_000,
        keep_free_bytes: DEFAULT_KEEP_FREE,
        tier: tier("nvme-gen4"),
    });
    let r = fit(&p, Catalog::get().unwrap());
    let sc = r.scratch.as_ref().unwrap();
    assert_eq!(sc.bytes_on_scratch, 0);
    assert!(!r.fits);
    assert!(r.remedies.iter().any(|m| m.kind == "float16"));
    p.stack_file_bytes = Some(200_000_000_000);
    let r = fit(&p, Catalog::get().unwrap());
    assert!(r.fits);
    assert_eq!(r.scratch.unwrap().bytes_on_scratch, 200_000_000_000);
}

#[test]
fn preread_holds_the_set_per_rank() {
    let mut p = params("relion-refine", 256, 80);
    p.preread = true;
    p.gpus = 2;
    p.ranks_per_gpu = 2;
    p.target.ram_bytes = Some(256 * GIB);
    let r = fit(&p, Catalog::get().unwrap());
    assert_eq!(r.ram.preread_bytes_per_rank, 1_000_000 * 256 * 256 * 4);
    assert_eq!(r.ram.ranks, 4);
    assert_eq!(r.ram.fits, Some(false));
    assert!(r.remedies.iter().any(|m| m.kind == "no_preread"));
    assert_eq!(r.time.seconds_per_pass, 0.0);
}

#[test]
fn time_counts_the_models_upper_bound_and_is_left_out_without_one() {
    let mut p = params("relion-refine", 256, 80);
    let r = fit(&p, Catalog::get().unwrap());
    assert_eq!(r.time.time_limit, None);
    assert!(
        !r.lines
            .sbatch
            .iter()
            .any(|l| l.starts_with("#SBATCH --time"))
    );
    p.compute = Ok(crate::jobtime::Prediction {
        seconds: 36_000.0,
        low: 20_000.0,
        high: 72_000.0,
        calibrated_by: vec!["row".into()],
        extrapolation: Vec::new(),
        proxy: None,
    });
    let r = fit(&p, Catalog::get().unwrap());
    let reading = r.time.seconds_first + r.time.seconds_per_pass * 20.0;
    let want = slurm_time((reading + 72_000.0) * 1.5);
    assert_eq!(r.time.time_limit.as_deref(), Some(want.as_str()));
    assert!(r.lines.sbatch.contains(&format!("#SBATCH --time={want}")));
    p.time_given = Some("2-00:00:00".into());
    let r = fit(&p, Catalog::get().unwrap());
    assert_eq!(r.time.time_limit.as_deref(), Some("2-00:00:00"));
}

#[test]
fn slurm_time_is_rounded_up_and_at_least_an_hour() {
    assert_eq!(slurm_time(10.0), "0-01:00:00");
    assert_eq!(slurm_time(3601.0 * 30.0), "1-06:01:00");
    assert_eq!(slurm_time(f64::NAN), "0-01:00:00");
    assert_eq!(relion_gpu_map(2, 2), "0:0:1:1");
}

proptest! {
    /// More classes, ranks or padding never need less VRAM, and a
    /// larger budget never gives a smaller box.
    #[test]
    fn more_never_needs_less(
        b in 2u32..2000, k in 1u32..50, r in 1u32..8, budget in 1u64..200,
        id in prop::sample::select(vec!["relion-refine", "relion-class3d", "hetero-refine", "nu-refine", "class2d"]),
    ) {
        let j = job(id);
        let base = vram_per_gpu(&j, b, 1, k, r);
        prop_assert!(vram_per_gpu(&j, b, 2, k, r) >= base);
        prop_assert!(vram_per_gpu(&j, b, 1, k + 1, r) >= base);
        prop_assert!(vram_per_gpu(&j, b, 1, k, r + 1) >= base);
        prop_assert!(vram_per_gpu(&j, b + 2, 1, k, r) >= base);
        let small = max_box(&j, budget * GIB, 2, k, r).map_or(0, |x| x.0);
        let large = max_box(&j, (budget + 1) * GIB, 2, k, r).map_or(0, |x| x.0);
        prop_assert!(large >= small);
        let fewer = max_box(&j, budget * GIB, 2, k, r + 1).map_or(0, |x| x.0);
        prop_assert!(fewer <= small);
    }

    /// RAM per node grows with ranks and pre-reading; scratch never
    /// holds more than its free space less the reserve.
    #[test]
    fn ram_and_scratch_bounds(
        b in 16u32..800, n in 1u64..5_000_000, r in 1u32..4, g in 1u32..8,
        free in 11u64..2000, sym in 1u32..8,
    ) {
        let mut p = params("relion-refine", b, 80);
        p.particles = n;
        p.ranks_per_gpu = r;
        p.gpus = g;
        p.sym_expand = sym;
        let c = Catalog::get().unwrap();
        let base = fit(&p, c).ram.per_node_bytes;
        p.preread = true;
        prop_assert!(fit(&p, c).ram.per_node_bytes >= base);
        p.preread = false;
        p.ranks_per_gpu = r + 1;
        prop_assert!(fit(&p, c).ram.per_node_bytes >= base);
        let s = Scratch { free_bytes: free * 1_000_000_000, keep_free_bytes: DEFAULT_KEEP_FREE, tier: tier("nvme-gen4") };
        let sc = scratch(&p, &s);
        prop_assert!(sc.bytes_on_scratch <= s.free_bytes - s.keep_free_bytes);
        prop_assert_eq!(sc.particles_on_scratch + sc.particles_from_project, n * u64::from(sym));
    }
}
