//! The job-time model through the binary: `jobs predict`, `jobs validate`,
//! `calibrate`, and the docs page quoting their output.

use std::path::{Path, PathBuf};

use cryocap::results::jobtime::{JobPredictReport, JobValidateReport};
use cryocap::results::{Envelope, Kind};

use crate::common::{bad_input, cryocap, json};

const A10G_BENCHMARK: &[&str] = &[
    "jobs",
    "predict",
    "--software",
    "relion",
    "--job",
    "class3d",
    "--particles",
    "105247",
    "--box",
    "360",
    "--classes",
    "6",
    "--iterations",
    "25",
    "--gpu",
    "a10g",
    "--gpus",
    "1",
    "--dataset",
    "EMPIAR-10028",
];

fn predict(args: &[&str]) -> JobPredictReport {
    let env: Envelope = json(args);
    match env.kind {
        Kind::JobPredict(r) => *r,
        other => panic!("not a job-predict result: {}", other.name()),
    }
}

/// RELION's standard 3D classification benchmark on one A10G (published:
/// 11,871 s): predicted near it, gpu-bound, calibrated by that very row.
#[test]
fn the_standard_benchmark_on_an_a10g() {
    let r = predict(A10G_BENCHMARK);
    let p = &r.prediction;
    assert!((p.seconds / 11_871.0 - 1.0).abs() < 0.25, "{}", p.seconds);
    assert!(p.low < p.seconds && p.seconds < p.high);
    assert!(
        p.calibrated_by
            .iter()
            .any(|id| id == "clusterra-ribo-class3d-a10gx1")
    );
    assert_eq!(r.job, "relion-class3d");
    assert_eq!(r.bottleneck, "gpu");
    assert_eq!(r.dataset.as_deref(), Some("empiar-10028@360"));
    assert!(p.proxy.is_none());
    // Four GPUs are faster; an uncalibrated GPU says so and widens.
    let mut four = A10G_BENCHMARK.to_vec();
    let n = four.len();
    four[n - 3] = "4";
    assert!(predict(&four).prediction.seconds < p.seconds);
    let mut other = A10G_BENCHMARK.to_vec();
    let n = other.len();
    other[n - 5] = "rtx-3090";
    let o = predict(&other);
    assert!(
        o.prediction
            .extrapolation
            .iter()
            .any(|e| e.contains("rtx-3090"))
    );
    assert!(o.prediction.high / o.prediction.seconds > p.high / p.seconds);
}

/// Reading and copying: RELION adds its reads to the compute, the copy
/// comes first, and a slow tier becomes the bottleneck.
#[test]
fn reading_and_copying_are_added_as_the_program_does() {
    let base = [
        "jobs",
        "predict",
        "--job",
        "relion-class3d",
        "--particles",
        "1e6",
        "--box",
        "256",
        "--gpu",
        "h100-sxm",
        "--gpus",
        "8",
    ];
    let alone = predict(&base);
    let mut args = base.to_vec();
    args.extend([
        "--tier",
        "nfs-10gbe",
        "--copy",
        "scratch",
        "--copy-from",
        "nfs-10gbe",
    ]);
    let r = predict(&args);
    let io = r.io_seconds.unwrap();
    let copy = r.copy_seconds.unwrap();
    assert!(io > 0.0 && copy > 0.0 && !r.io_overlapped);
    let want = alone.prediction.seconds + io + copy;
    assert!((r.prediction.seconds - want).abs() < 1e-6 * want);
    // CryoSPARC overlaps: an HDD-bound job's time is its reading.
    let r = predict(&[
        "jobs",
        "predict",
        "--job",
        "nu-refine",
        "--particles",
        "5e6",
        "--box",
        "512",
        "--gpu",
        "h100-sxm",
        "--gpus",
        "8",
        "--tier",
        "hdd",
    ]);
    assert!(r.io_overlapped);
    assert_eq!(r.bottleneck, "storage");
    assert_eq!(r.prediction.seconds, r.io_seconds.unwrap());
    assert_eq!(r.prediction.proxy.as_deref(), Some("relion-refine3d"));
}

#[test]
fn a_cpu_run_and_bad_queries_are_answered_in_one_line() {
    let r = predict(&[
        "jobs",
        "predict",
        "--job",
        "relion-refine3d",
        "--particles",
        "2e5",
        "--box",
        "256",
        "--gpus",
        "0",
        "--cores",
        "64",
    ]);
    assert_eq!(r.device, "64 CPU cores (RELION --cpu)");
    assert_eq!(r.bottleneck, "cpu");
    for (args, want) in [
        (&["--gpus", "0"][..], "--cores N"),
        (&["--gpu", "rtx-9999"][..], "not in the catalog"),
        (
            &["--gpu", "a10g", "--symmetry", "Q7"][..],
            "not a point group",
        ),
        (
            &["--gpu", "a10g", "--software", "cryosparc"][..],
            "does not run",
        ),
        (
            &["--gpu", "a10g", "--tier", "tape"][..],
            "no such storage tier",
        ),
    ] {
        let mut all = vec![
            "jobs",
            "predict",
            "--job",
            "relion-class3d",
            "--particles",
            "1e5",
            "--box",
            "256",
        ];
        all.extend_from_slice(args);
        let e = bad_input(&all);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    let e = bad_input(&[
        "jobs",
        "predict",
        "--job",
        "motioncor",
        "--particles",
        "1e5",
        "--box",
        "256",
        "--gpu",
        "a10g",
    ]);
    assert!(
        e.contains("unknown job") && e.contains("relion-class3d"),
        "{e}"
    );
}

/// `jobs validate` holds the targets the docs state: every job type with
/// five rows or more within 30 % median leave-one-out error and 80 %
/// coverage, and no row dropped.
#[test]
fn validate_reports_every_row_and_meets_the_targets() {
    let env: Envelope = json(&["jobs", "validate"]);
    let Kind::JobValidate(r) = env.kind else {
        panic!("not job-validate")
    };
    let r: JobValidateReport = *r;
    for j in r.validation.jobs.iter().filter(|j| j.rows >= 5) {
        assert!(j.median_abs_error_pct.unwrap() <= 30.0, "{j:?}");
        assert!(j.coverage_pct.unwrap() >= 80.0, "{j:?}");
    }
    let catalog = cryocap::datasets::Catalog::get().unwrap();
    assert_eq!(
        r.validation.rows.len() + r.validation.unusable.len(),
        catalog.job_times.len()
    );
    assert!(r.model.jobs.iter().any(|j| j.job == "relion-class3d"));
}

fn job_run(dir: &Path, seconds: f64) -> PathBuf {
    let p = dir.join("run.json");
    let text = format!(
        r#"{{"schema_version":2,"cryocap_version":"0.1.0","started_at":1,"node":"lab","kind":"job-run",
        "source":"relion-dir","software":"relion","job":"relion-class3d","status":"finished",
        "shape":{{"particles":200000,"box_size":256,"classes":4,"iterations":25}},
        "layout":{{"ranks":5,"gpus":2,"gpu_model":"rtx-3090"}},
        "wall_seconds":{seconds}}}"#
    );
    std::fs::write(&p, text).unwrap();
    p
}

/// `calibrate` refits on the shipped rows and a run of the user's own
/// hardware, writes the calibration file, and `--calibration` makes every
/// command use it: a run ten times slower than the model thought moves the
/// prediction for that GPU up.
#[test]
fn calibrate_writes_a_file_that_moves_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let query = [
        "jobs",
        "predict",
        "--job",
        "relion-class3d",
        "--particles",
        "2e5",
        "--box",
        "256",
        "--classes",
        "4",
        "--iterations",
        "25",
        "--gpu",
        "rtx-3090",
        "--gpus",
        "2",
    ];
    let before = predict(&query).prediction.seconds;
    let run = job_run(dir.path(), before * 10.0);
    let cal = dir.path().join("calibration.json");
    let out = cryocap()
        .arg("calibrate")
        .arg(&run)
        .arg("--out")
        .arg(&cal)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env: Envelope = serde_json::from_slice(&out.stdout).unwrap();
    let Kind::JobValidate(r) = env.kind else {
        panic!("not job-validate")
    };
    assert!(
        r.model.basis.contains("1 of 1 imported run"),
        "{}",
        r.model.basis
    );
    assert!(r.validation.rows.iter().any(|x| x.status == "imported"));
    let written = std::fs::read_to_string(&cal).unwrap();
    assert!(written.contains("\"kind\": \"cryocap-calibration\""));
    let mut with = query.to_vec();
    with.extend(["--calibration", cal.to_str().unwrap()]);
    let after = predict(&with);
    assert!(
        after.prediction.seconds > 1.5 * before,
        "{} vs {before}",
        after.prediction.seconds
    );
    assert!(after.basis.contains("imported"), "{}", after.basis);
    // The same through $CRYOCAP_CALIBRATION.
    let o = cryocap()
        .args(query)
        .args(["--format", "json"])
        .env("CRYOCAP_CALIBRATION", &cal)
        .output()
        .unwrap();
    let env: Envelope = serde_json::from_slice(&o.stdout).unwrap();
    let Kind::JobPredict(p) = env.kind else {
        panic!()
    };
    assert_eq!(p.prediction.seconds, after.prediction.seconds);
}

#[test]
fn calibrate_refuses_what_is_not_a_run_or_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results/plan.json");
    let out = dir.path().join("c.json");
    let e = bad_input(&[
        "calibrate",
        plan.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("a plan result") && e.contains("job-run"), "{e}");
    assert!(!out.exists());
    // --out a directory: refused, the directory untouched.
    let run = job_run(dir.path(), 1000.0);
    let e = bad_input(&[
        "calibrate",
        run.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(e.contains(&dir.path().display().to_string()), "{e}");
    assert!(dir.path().is_dir());
    // A calibration file that is not one.
    let e = bad_input(&[
        "jobs",
        "predict",
        "--job",
        "class3d",
        "--particles",
        "1e5",
        "--box",
        "256",
        "--gpu",
        "a10g",
        "--calibration",
        run.to_str().unwrap(),
    ]);
    assert!(e.contains("not a cryocap calibration file"), "{e}");
}

/// docs/jobtime.md, recommend.md and fit.md quote the binary's output; it
/// is regenerated by scripts/regen-docs.py and must match what this binary
/// prints.
#[test]
fn the_job_time_docs_quote_the_binary() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("python3")
        .arg(format!("{root}/scripts/regen-docs.py"))
        .arg("--check")
        .arg("--bin")
        .arg(assert_cmd::cargo::cargo_bin("cryocap"))
        .arg(format!("{root}/docs/jobtime.md"))
        .arg(format!("{root}/docs/recommend.md"))
        .arg(format!("{root}/docs/fit.md"))
        .env("CRYOCAP_CALIBRATION", crate::common::NO_CALIBRATION)
        .current_dir(root)
        .output();
    let Ok(out) = out else {
        eprintln!("python3 not found: the docs check is skipped");
        return;
    };
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
