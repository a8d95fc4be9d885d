//! `cryocap cache ...` through the binary: the issue's known answers, the
//! sweep and its chart, workload generation, subset sizing of STAR and
//! cryoSPARC .cs files (written by cryosparc-tools), the copy benchmark, and
//! bad input. CI installs cryosparc-tools and sets CRYOCAP_REQUIRE_CSTOOLS=1
//! so the .cs test cannot be skipped there.

use assert_cmd::prelude::*;
use std::path::Path;
use std::process::Command as Process;

use cryocap::results::cache::{SimulationReport, SubsetReport, SweepReport};
use cryocap::results::{Envelope, Kind};
use cryocap::storage::mrc::{Mode, MrcHeader};

use crate::common::{bad_input, cryocap, json, python_has};

const GB: u64 = 1_000_000_000;

/// The issue's example: stacks A 60 GB, B 50 GB, C 30 GB; four jobs one
/// after another reading A, B, A, C.
fn issue_trace(dir: &Path) -> String {
    let p = dir.join("jobs.csv");
    std::fs::write(
        &p,
        format!(
            "job,start_s,duration_s,stack,bytes\n\
             j1,0,600,A.mrcs,{a}\nj2,3600,600,B.mrcs,{b}\nj3,7200,600,A.mrcs,{a}\nj4,10800,600,C.mrcs,{c}\n",
            a = 60 * GB,
            b = 50 * GB,
            c = 30 * GB
        ),
    )
    .unwrap();
    p.display().to_string()
}

#[test]
fn issue_known_answers_quota_100_and_120_gb() {
    let dir = tempfile::tempdir().unwrap();
    let t = issue_trace(dir.path());
    let base = [
        "cache",
        "simulate",
        "--trace",
        &t,
        "--ssd",
        "2TB",
        "--copy-rate",
        "1TB/s",
    ];
    let mut args = base.to_vec();
    args.extend(["--ssd-quota", "100GB"]);
    let r: SimulationReport = json(&args);
    assert_eq!(r.stats.bytes_copied, 200 * GB);
    assert_eq!((r.stats.hits, r.stats.misses, r.stats.evictions), (0, 4, 2));
    assert_eq!(r.setup.capacity_bytes, 100 * GB);
    let mut args = base.to_vec();
    args.extend(["--ssd-quota", "120GB"]);
    let r: SimulationReport = json(&args);
    assert_eq!(r.stats.bytes_copied, 140 * GB);
    assert_eq!((r.stats.hits, r.stats.evictions), (1, 1));
    assert!(r.stats.failed_jobs.is_empty());
}

#[test]
fn reserve_and_foreign_files_shrink_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let t = issue_trace(dir.path());
    // 200 GB drive − 40 GB reserve − 50 GB foreign = 110 GB: A and B fit
    // together, so the second A is a hit; C then evicts B.
    let r: SimulationReport = json(&[
        "cache",
        "simulate",
        "--trace",
        &t,
        "--ssd",
        "200GB",
        "--ssd-reserve",
        "40GB",
        "--foreign",
        "50GB",
    ]);
    assert_eq!(r.setup.capacity_bytes, 110 * GB);
    assert_eq!(
        (r.stats.bytes_copied, r.stats.hits, r.stats.evictions),
        (140 * GB, 1, 1)
    );
    // 100 GB drive, 30 GB reserve: 70 GB holds one stack at a time: B
    // evicts A, A evicts B, and C (30 GB) evicts A once more
    let r: SimulationReport = json(&[
        "cache",
        "simulate",
        "--trace",
        &t,
        "--ssd",
        "100GB",
        "--ssd-reserve",
        "30GB",
    ]);
    assert_eq!((r.stats.bytes_copied, r.stats.evictions), (200 * GB, 3));
    // 50 GB: A (60 GB) can never fit: both its jobs fail, with the reason;
    // B (50 GB) fits exactly
    let r: SimulationReport = json(&[
        "cache",
        "simulate",
        "--trace",
        &t,
        "--ssd",
        "60GB",
        "--ssd-reserve",
        "10GB",
    ]);
    assert_eq!(r.stats.failed_jobs.len(), 2, "{:?}", r.stats.failed_jobs);
    assert_eq!(r.stats.bytes_copied, 80 * GB);
    assert!(r.stats.failed_jobs[0].reason.contains("never fit"));
}

#[test]
fn simulate_table_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let t = issue_trace(dir.path());
    let out = cryocap()
        .current_dir(dir.path())
        .args([
            "cache",
            "simulate",
            "--trace",
            "jobs.csv",
            "--ssd",
            "2TB",
            "--ssd-quota",
            "120GB",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let _ = t;
    insta::assert_snapshot!("cache_simulate_table", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn workload_is_seeded_and_sweep_writes_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    for p in [&a, &b] {
        cryocap()
            .args(["cache", "workload", "--projects", "3", "--seed", "42", "-o"])
            .arg(p)
            .assert()
            .success();
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let chart = dir.path().join("sweep.svg");
    let r: SweepReport = json(&[
        "cache",
        "simulate",
        "--trace",
        a.to_str().unwrap(),
        "--sweep",
        "250GB..8TB",
        "--steps",
        "8",
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert_eq!(r.points.len(), 8);
    assert_eq!(r.points[0].ssd_bytes, 250 * GB);
    // the largest cache fails no job that the smallest ran
    let last = &r.points[7].stats;
    assert!(last.failed_jobs.len() <= r.points[0].stats.failed_jobs.len());
    let rec = r.recommendation.expect("a recommendation");
    let fewest_failed = r
        .points
        .iter()
        .map(|p| p.stats.failed_jobs.len())
        .min()
        .unwrap();
    let best = r
        .points
        .iter()
        .filter(|p| p.stats.failed_jobs.len() == fewest_failed)
        .map(|p| p.stats.bytes_copied)
        .min()
        .unwrap();
    let picked = r
        .points
        .iter()
        .find(|p| p.ssd_bytes == rec.ssd_bytes)
        .unwrap();
    assert_eq!(picked.stats.failed_jobs.len(), fewest_failed);
    assert!(picked.stats.bytes_copied as f64 <= best as f64 * 1.05);
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("SSD size") && svg.contains("recommended"));
}

#[test]
fn copy_bench_copies_real_files_and_removes_them() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for i in 0..4 {
        std::fs::write(src.path().join(format!("p{i}.mrcs")), vec![7u8; 2_000_000]).unwrap();
    }
    let env: Envelope = json(&[
        "cache",
        "copy-bench",
        "--from",
        src.path().to_str().unwrap(),
        "--to",
        dst.path().to_str().unwrap(),
        "--threads",
        "1,2",
        "--repeats",
        "2",
        "--reserve",
        "1MB",
    ]);
    let Kind::CacheCopyBench(r) = &env.kind else {
        panic!("a copy-bench result")
    };
    assert_eq!((r.files, r.bytes_per_repeat), (4, 8_000_000));
    assert_eq!(r.rows.len(), 2);
    assert!(
        r.rows
            .iter()
            .all(|x| x.samples.len() == 2 && x.min_bytes_per_s <= x.median_bytes_per_s)
    );
    assert!([1, 2].contains(&r.recommended_threads));
    assert_eq!(
        std::fs::read_dir(dst.path()).unwrap().count(),
        0,
        "copies left behind"
    );
    // the simulator takes its copy rate from this report
    let bench = dst.path().join("bench.json");
    std::fs::write(&bench, serde_json::to_vec(&env).unwrap()).unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let t = issue_trace(d2.path());
    let s: SimulationReport = json(&[
        "cache",
        "simulate",
        "--trace",
        &t,
        "--ssd",
        "1TB",
        "--copy-rate-from",
        bench.to_str().unwrap(),
    ]);
    assert_eq!(Some(s.setup.copy_rate), r.recommended_rate());
    assert!(s.setup.copy_rate_source.starts_with("measured"));
}

fn write_stack(path: &Path, n: u32, box_size: u32) {
    let h = MrcHeader::image_stack(box_size, box_size, n, Mode::Float32, 1.0);
    let mut bytes = h.to_bytes().to_vec();
    bytes.resize(1024 + (n * box_size * box_size * 4) as usize, 0);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn subset_of_a_star_file_measures_present_stacks() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(&dir.path().join("Extract/job1/a.mrcs"), 100, 16);
    let star = dir.path().join("Select/job2/particles.star");
    std::fs::create_dir_all(star.parent().unwrap()).unwrap();
    std::fs::write(
        &star,
        "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImageSize\n1 16\n\n\
         data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n\
         1@Extract/job1/a.mrcs 1\n50@Extract/job1/a.mrcs 1\n5@Extract/job1/b.mrcs 1\n",
    )
    .unwrap();
    let r: SubsetReport = json(&["cache", "subset", star.to_str().unwrap(), "--ssd", "1TB"]);
    assert_eq!((r.particles, r.stack_files), (3, 2));
    assert_eq!((r.files_measured, r.files_estimated), (1, 1));
    let px = 16 * 16 * 4;
    assert_eq!(r.stack_bytes, (1024 + 100 * px) + (1024 + 5 * px));
    assert_eq!(r.subset_bytes, 3 * px + 1024);
    assert_eq!(r.saving_bytes, r.stack_bytes - r.subset_bytes);
    assert!(r.ssd.unwrap().stacks_fit);
}

#[test]
fn subset_of_cs_files_written_by_cryosparc_tools() {
    if !python_has("cryosparc.dataset, mrcfile") {
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_CSTOOLS").is_none(),
            "CRYOCAP_REQUIRE_CSTOOLS is set but python3 cannot import cryosparc.dataset and mrcfile"
        );
        eprintln!(
            "skipped: python3 cannot import cryosparc-tools (pip install cryosparc-tools mrcfile)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/write_cs.py");
    Process::new("python3")
        .arg(script)
        .arg(dir.path())
        .assert()
        .success();
    let cs = dir.path().join("J3/particles.cs");
    let r: SubsetReport = json(&["cache", "subset", cs.to_str().unwrap()]);
    assert_eq!(r.format, "cs");
    assert_eq!((r.particles, r.stack_files, r.files_measured), (4, 2, 2));
    let px = 32 * 32 * 4;
    assert_eq!(r.stack_bytes, (1024 + 10 * px) + (1024 + 4 * px));
    assert_eq!(r.subset_bytes, 4 * px + 1024);
    // without the stacks, sizes come from blob/shape and blob/idx
    let elsewhere = tempfile::tempdir().unwrap();
    let r: SubsetReport = json(&[
        "cache",
        "subset",
        cs.to_str().unwrap(),
        "--data-dir",
        elsewhere.path().to_str().unwrap(),
    ]);
    assert_eq!(r.files_estimated, 2);
    assert_eq!(r.stack_bytes, (1024 + 10 * px) + (1024 + 3 * px));
    let line = bad_input(&[
        "cache",
        "subset",
        dir.path().join("J3/particles_csdat.cs").to_str().unwrap(),
    ]);
    assert!(
        line.contains("CSDAT") && line.contains("format=1"),
        "{line}"
    );
}

#[test]
fn bad_input_is_one_line_naming_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let t = issue_trace(dir.path());
    assert!(bad_input(&["cache", "simulate", "--ssd", "1TB"]).contains("--trace"));
    assert!(bad_input(&["cache", "simulate", "--trace", &t]).contains("--ssd"));
    assert!(bad_input(&["cache", "simulate", "--trace", &t, "--ssd", "2"]).contains("--ssd"));
    assert!(
        bad_input(&["cache", "simulate", "--trace", &t, "--sweep", "8TB..1TB"]).contains("--sweep")
    );
    assert!(
        bad_input(&[
            "cache",
            "simulate",
            "--trace",
            &t,
            "--ssd",
            "1TB",
            "--copy-rate",
            "fast"
        ])
        .contains("--copy-rate")
    );
    assert!(
        bad_input(&[
            "cache", "simulate", "--trace", &t, "--ssd", "1TB", "--sweep", "1TB..2TB"
        ])
        .contains("--ssd and --sweep")
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "job,start_s,duration_s,stack,bytes\nj,0,1,a,10\nj,0,1,b,ten\n",
    )
    .unwrap();
    let line = bad_input(&[
        "cache",
        "simulate",
        "--trace",
        bad.to_str().unwrap(),
        "--ssd",
        "1TB",
    ]);
    assert!(
        line.contains("bad.csv:3:") && line.contains("bytes 'ten'"),
        "{line}"
    );
    let missing = dir.path().join("missing.csv");
    assert!(
        bad_input(&[
            "cache",
            "simulate",
            "--trace",
            missing.to_str().unwrap(),
            "--ssd",
            "1TB"
        ])
        .contains("missing.csv")
    );
    // foreign and truncated particle lists
    let png = dir.path().join("x.cs");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n....").unwrap();
    assert!(bad_input(&["cache", "subset", png.to_str().unwrap()]).contains("NumPy magic"));
    let star = dir.path().join("p.star");
    std::fs::write(&star, "data_\nloop_\n_rlnImageName\n0@a.mrcs\n").unwrap();
    let line = bad_input(&["cache", "subset", star.to_str().unwrap()]);
    assert!(
        line.contains("p.star:4:") && line.contains("start at 1"),
        "{line}"
    );
    let line = bad_input(&[
        "cache",
        "copy-bench",
        "--from",
        dir.path().join("nope").to_str().unwrap(),
        "--to",
        ".",
    ]);
    assert!(line.contains("--from"), "{line}");
}
