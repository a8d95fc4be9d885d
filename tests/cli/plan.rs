//! The figures `plan` must give, checked through the binary.

use crate::common::{cryocap, envelope, plan_json};
use cryocap::results::SCHEMA_VERSION;
use cryocap::units::GIB;

#[test]
fn guide_examples_of_the_caching_guide() {
    let r = plan_json(&["--particles", "1e6", "--box", "256"]);
    assert_eq!(r.stack.bytes, 263_296_000_000);
    assert_eq!(
        envelope(&["plan", "--particles", "2e6", "--box", "432"]).schema_version,
        SCHEMA_VERSION
    );
    let r = plan_json(&["--particles", "2e6", "--box", "432"]);
    assert_eq!(r.stack.bytes, 1_495_296_000_000);
    assert_eq!(r.stack.bytes_per_particle, 747_648.0);
    assert_eq!(r.ssd.recommended_class.as_deref(), Some("2 TB"));
    assert_eq!(r.ssd.recommended_bytes, Some(2_000_000_000_000));
}

#[test]
fn every_spelling_of_a_count_gives_the_same_stack() {
    for p in ["2e6", "2000000", "2,000,000", "2M"] {
        let r = plan_json(&["--particles", p, "--box", "432"]);
        assert_eq!(r.stack.bytes, 1_495_296_000_000, "{p}");
    }
}

#[test]
fn float16_halves_the_pixels() {
    let f32 = plan_json(&["--particles", "1e6", "--box", "256"]);
    let f16 = plan_json(&["--particles", "1e6", "--box", "256", "--dtype", "f16"]);
    assert_eq!(
        f16.stack.pixel_bytes_per_particle * 2,
        f32.stack.pixel_bytes_per_particle
    );
    assert_eq!(f16.stack.bytes, (2 * 256 * 256 + 1152) * 1_000_000);
}

#[test]
fn connect_line_carries_quota_and_reserve() {
    let r = plan_json(&[
        "--particles",
        "2e6",
        "--box",
        "432",
        "--ssd-reserve",
        "5000",
    ]);
    let cmd = r.ssd.connect_command.unwrap();
    assert!(cmd.contains("--ssdreserve 5000"), "{cmd}");
    let quota = r.ssd.quota_mb.unwrap();
    assert!(cmd.contains(&format!("--ssdquota {quota}")), "{cmd}");
    // quota + reserve stay within the smallest 2 TB-class drive (1.92 TB)
    assert!((quota + 5000) * (1 << 20) <= 1_920_000_000_000);
}

#[test]
fn a_small_ssd_gets_remedies_that_fit() {
    let r = plan_json(&["--particles", "2e6", "--box", "432", "--ssd", "1TB"]);
    let given = r.ssd.given.expect("the given SSD is checked");
    assert!(!given.fits);
    let kinds: Vec<&str> = given.remedies.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["float16", "fourier_crop", "fewer_particles"]);
    for m in &given.remedies {
        assert!(m.fits, "{m:?}");
        assert!(m.stack_bytes <= given.capacity_bytes, "{m:?}");
    }
    let crop = &given.remedies[1];
    assert!(crop.value.unwrap() < 432);

    let r = plan_json(&[
        "--particles",
        "2e6",
        "--box",
        "432",
        "--ssd",
        "4TB",
        "--ssd-quota",
        "2000000",
    ]);
    let given = r.ssd.given.unwrap();
    assert!(given.fits && given.remedies.is_empty());
    assert_eq!(given.capacity_bytes, 2_000_000 * (1 << 20));
}

#[test]
fn vram_anchors_through_the_binary() {
    let r = plan_json(&["--particles", "1e5", "--box", "600", "--vram", "12"]);
    let row = |job: &str| r.vram.iter().find(|v| v.job == job).unwrap().clone();
    let nu = row("nu-refine").max_box.unwrap();
    assert!(
        (650..=750).contains(&nu),
        "nu-refine max box at 12 GB: {nu}"
    );
    assert!(row("homo-refine").max_box.unwrap() >= 1000);

    let r = plan_json(&["--particles", "1e5", "--box", "600", "--vram", "11"]);
    for v in r.vram.iter().filter(|v| v.job != "relion-refine") {
        assert_eq!(v.fits, Some(true), "{} at box 600 on 11 GB", v.job);
    }
    let r = plan_json(&["--particles", "1e5", "--box", "450", "--vram", "8"]);
    let relion = r.vram.iter().find(|v| v.job == "relion-refine").unwrap();
    assert_eq!(relion.fits, Some(true));
    assert!(relion.bytes_needed <= 8 * GIB);
    let formula = 1.1e-8 * 900f64.powi(3) * 1e9;
    assert!((relion.bytes_needed as f64 - formula).abs() <= 1.0);
}

#[test]
fn without_a_gpu_the_catalog_gpus_that_fit_are_listed() {
    let r = plan_json(&["--particles", "1e5", "--box", "900"]);
    assert!(r.vram_target.is_none());
    let nu = r.vram.iter().find(|v| v.job == "nu-refine").unwrap();
    assert!(nu.max_box.is_none() && nu.fits.is_none());
    let names = nu.fits_gpus.as_ref().unwrap();
    assert!(names.contains(&"a100-80gb".to_string()));
    assert!(!names.contains(&"rtx-2080-ti".to_string()));
}

#[test]
fn a_catalog_gpu_sets_the_vram() {
    let r = plan_json(&["--particles", "1e5", "--box", "432", "--gpu", "RTX 3090"]);
    let t = r.vram_target.unwrap();
    assert_eq!(t.bytes, 24 * GIB);
    assert!(t.label.contains("3090"));
}

#[test]
fn classes_grow_heterogeneous_refinement() {
    let two = plan_json(&["--particles", "1e5", "--box", "400", "--classes", "2"]);
    let eight = plan_json(&["--particles", "1e5", "--box", "400", "--classes", "8"]);
    let h = |r: &cryocap::results::PlanReport| {
        r.vram
            .iter()
            .find(|v| v.job == "hetero-refine")
            .unwrap()
            .bytes_needed
    };
    assert!(h(&eight) > h(&two));
}

#[test]
fn storage_rows_cover_every_tier_and_random_hdd_is_slower() {
    let r = plan_json(&["--particles", "2e6", "--box", "432", "--passes", "10"]);
    let tiers: Vec<&str> = r.storage.iter().map(|s| s.tier.as_str()).collect();
    assert_eq!(
        tiers,
        [
            "hdd",
            "raid6",
            "sata-ssd",
            "nvme-gen4",
            "nvme-gen5",
            "nfs-10gbe",
            "nfs-25gbe",
            "nfs-100gbe"
        ]
    );
    let hdd = &r.storage[0];
    assert!(hdd.seconds_per_pass_random > 4.0 * hdd.seconds_per_pass_sequential);
    assert!((hdd.seconds_all_passes_random - 10.0 * hdd.seconds_per_pass_random).abs() < 1e-6);
    // on a disk, filling the cache once beats ten random passes
    assert!(hdd.seconds_all_passes_cached < hdd.seconds_all_passes_random / 5.0);
}

#[test]
fn node_scales_with_gpus() {
    let r = plan_json(&["--particles", "1e5", "--box", "256", "--gpus", "2"]);
    let cores = r
        .requirements
        .items
        .iter()
        .find(|i| i.id == "cpu_cores")
        .unwrap();
    assert_eq!((cores.minimum, cores.recommended), (Some(4.0), Some(8.0)));
    let ram = r.requirements.items.iter().find(|i| i.id == "ram").unwrap();
    assert_eq!(ram.recommended, Some(128.0 * GIB as f64));
}

#[test]
fn a_dataset_fills_particles_box_and_pixel_size() {
    let r = plan_json(&["--dataset", "EMPIAR-10028"]);
    assert_eq!((r.input.particles, r.input.box_size), (105_247, 360));
    assert_eq!(r.input.pixel_size_a, Some(1.34));
    // explicit flags win over the dataset's values
    let r = plan_json(&["--dataset", "10028", "--box", "256"]);
    assert_eq!((r.input.particles, r.input.box_size), (105_247, 256));
}

#[test]
fn json_has_the_documented_contract() {
    let out = cryocap()
        .args([
            "plan",
            "--particles",
            "2e6",
            "--box",
            "432",
            "--vram",
            "24",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["kind"], "plan");
    assert_eq!(v["stack"]["bytes"], 1_495_296_000_000u64);
    assert!(v["stack"]["bytes_per_particle"].is_number());
    assert_eq!(v["ssd"]["recommended_bytes"], 2_000_000_000_000u64);
    for row in v["vram"].as_array().unwrap() {
        for key in ["job", "bytes_needed", "max_box", "fits"] {
            assert!(row.get(key).is_some(), "vram row lacks {key}: {row}");
        }
    }
    for row in v["storage"].as_array().unwrap() {
        for key in [
            "tier",
            "seconds_per_pass_sequential",
            "seconds_per_pass_random",
        ] {
            assert!(row.get(key).is_some(), "storage row lacks {key}: {row}");
        }
    }
}

#[test]
fn csv_parses_and_carries_the_stack_bytes() {
    let out = cryocap()
        .args([
            "plan",
            "--particles",
            "2e6",
            "--box",
            "432",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["section", "item", "metric", "value", "unit"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let bytes = rows
        .iter()
        .find(|r| &r[0] == "stack" && &r[2] == "bytes")
        .unwrap();
    assert_eq!(&bytes[3], "1495296000000");
    assert!(
        rows.iter()
            .any(|r| &r[0] == "storage" && &r[1] == "nfs-100gbe")
    );
}

#[test]
fn broken_pipe_exits_zero() {
    use std::process::Stdio;
    let mut child = crate::common::process()
        .args(["catalog", "gpus"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the writer writes
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn catalog_lists_the_shipped_data() {
    let out = cryocap().args(["catalog", "gpus"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("rtx-3090") && text.contains("936 GB/s"));
    let out = cryocap().args(["catalog", "datasets"]).output().unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("EMPIAR-10028")
    );
}

/// `plan --job` times each named job on every storage tier with the
/// job-time model: the GPU-bound tiers agree with `jobs predict`, a slow
/// tier adds its reads, and `--job` without `--gpu` is one line, exit 2.
#[test]
fn plan_times_named_jobs_on_every_tier() {
    let r = crate::common::plan_json(&[
        "--particles",
        "5e5",
        "--box",
        "256",
        "--gpus",
        "2",
        "--gpu",
        "rtx-3090",
        "--passes",
        "25",
        "--job",
        "relion-class3d,nu-refine",
    ]);
    let tiers = cryocap::datasets::Catalog::get()
        .unwrap()
        .storage_tiers
        .len();
    assert_eq!(r.job_times.len(), 2 * tiers);
    let nvme = r
        .job_times
        .iter()
        .find(|j| j.job == "relion-class3d" && j.tier == "nvme-gen4")
        .unwrap();
    let hdd = r
        .job_times
        .iter()
        .find(|j| j.job == "relion-class3d" && j.tier == "hdd")
        .unwrap();
    assert!(hdd.seconds > nvme.seconds, "{hdd:?} {nvme:?}");
    assert_eq!(nvme.device, "2× rtx-3090");
    assert_eq!(nvme.basis, "extrapolated");
    assert!(
        r.job_times
            .iter()
            .filter(|j| j.job == "cryosparc-nu-refine")
            .all(|j| j.basis == "proxy")
    );
    let env: cryocap::results::Envelope = crate::common::json(&[
        "jobs",
        "predict",
        "--job",
        "relion-class3d",
        "--particles",
        "5e5",
        "--box",
        "256",
        "--gpu",
        "rtx-3090",
        "--gpus",
        "2",
        "--iterations",
        "25",
        "--tier",
        "nvme-gen4",
    ]);
    let cryocap::results::Kind::JobPredict(p) = env.kind else {
        panic!()
    };
    assert!((p.prediction.seconds - nvme.seconds).abs() < 1e-6 * nvme.seconds);
    let e = crate::common::bad_input(&[
        "plan",
        "--particles",
        "5e5",
        "--box",
        "256",
        "--job",
        "relion-class3d",
    ]);
    assert!(e.contains("--gpu"), "{e}");
}
