//! `cryocap bench gpu` where there is no CUDA driver (this machine, CI): one
//! line, exit 0, a `skipped` status in the JSON, never a panic.

use cryocap::gpu::probe::driver_present;
use cryocap::results::GpuBenchReport;
use cryocap::results::gpu::BenchStatus;

use crate::common::{bad_input, cryocap};

#[test]
fn without_a_driver_it_prints_one_line_and_exits_0() {
    if driver_present() {
        eprintln!("skipped: a CUDA driver is present; this test covers machines without one");
        return;
    }
    let o = cryocap().args(["bench", "gpu"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("skipped") && stdout.contains("no CUDA driver"),
        "{stdout}"
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = cryocap()
        .args([
            "bench", "gpu", "--box", "64,128", "--pad", "2", "--format", "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let r: GpuBenchReport = serde_json::from_slice(&o.stdout).expect("typed JSON");
    assert_eq!(r.status, BenchStatus::Skipped);
    assert!(r.devices.is_empty());
    assert_eq!(r.input.boxes, vec![64, 128]);
    assert_eq!(r.input.pads, vec![2]);
}

#[test]
fn job_memory_without_a_driver_is_skipped_in_one_line() {
    if driver_present() {
        eprintln!("skipped: a CUDA driver is present; this test covers machines without one");
        return;
    }
    let o = cryocap()
        .args([
            "bench",
            "gpu",
            "--job-memory",
            "--box",
            "256,432,600",
            "--ranks-per-gpu",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("skipped") && stdout.contains("no CUDA driver"),
        "{stdout}"
    );
    let o = cryocap()
        .args(["bench", "gpu", "--job-memory", "--format", "json"])
        .output()
        .unwrap();
    let r: GpuBenchReport = serde_json::from_slice(&o.stdout).expect("typed JSON");
    assert_eq!(r.status, BenchStatus::Skipped);
    assert!(r.job_memory.is_none());
}

#[test]
fn job_memory_flags_are_checked_first() {
    let l = bad_input(&["bench", "gpu", "--job-memory", "--job", "relion-refin"]);
    assert!(l.contains("relion-refine"), "{l}");
    let l = bad_input(&["bench", "gpu", "--ranks-per-gpu", "2"]);
    assert!(l.contains("--job-memory"), "{l}");
    let l = bad_input(&[
        "bench",
        "gpu",
        "--job-memory",
        "--job",
        "nu-refine",
        "--ranks-per-gpu",
        "2",
    ]);
    assert!(l.contains("CryoSPARC"), "{l}");
}

#[test]
fn bad_flags_are_named() {
    assert!(bad_input(&["bench", "gpu", "--box", "127"]).contains("--box"));
    assert!(bad_input(&["bench", "gpu", "--box", "128,x"]).contains("'x'"));
    assert!(bad_input(&["bench", "gpu", "--pad", "3"]).contains("--pad"));
    assert!(bad_input(&["bench", "gpu", "--particles", "0"]).contains("--particles"));
}

/// On a machine with a GPU (the lent H100; skipped in CI): every check
/// against the CPU reference passes and every figure is measured.
#[test]
fn with_a_gpu_every_check_passes_and_every_figure_is_measured() {
    if !driver_present() {
        eprintln!("skipped: no CUDA driver");
        return;
    }
    let o = cryocap()
        .args([
            "bench",
            "gpu",
            "--box",
            "64,128",
            "--pad",
            "1,2",
            "--particles",
            "3000",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let r: GpuBenchReport = serde_json::from_slice(&o.stdout).expect("typed JSON");
    assert_eq!(r.status, BenchStatus::Measured, "{:?}", r.reason);
    for d in &r.devices {
        assert!(
            d.checks.len() >= 10 && d.checks.iter().all(|c| c.passed),
            "{:?}",
            d.checks
        );
        assert!(d.copy.as_ref().unwrap().median_bytes_per_second > 0.0);
        assert!(d.max_box.as_ref().unwrap().by_allocation.unwrap() >= 128);
        // both kernels at both paddings
        assert_eq!(d.insertion.len(), 8);
        assert_eq!(d.end_to_end.len(), 8);
        for e in &d.end_to_end {
            assert!(e.error.is_none(), "{e:?}");
            assert!(e.median_particles_per_second > 0.0 && e.particles >= 3000);
        }
        // frame alignment, checked against the CPU reference, at K3 and
        // Falcon 4i sizes
        assert!(
            d.checks
                .iter()
                .any(|c| c.kernel.starts_with("frame alignment"))
        );
        let sizes: Vec<&str> = d
            .frame_alignment
            .iter()
            .map(|f| f.detector.as_str())
            .collect();
        assert_eq!(sizes, ["k3", "falcon-4i"]);
        for f in &d.frame_alignment {
            assert!(f.error.is_none(), "{f:?}");
            assert!(f.movies_per_hour > 0.0 && f.min_seconds <= f.median_seconds);
        }
    }
}

/// On a machine with a GPU (skipped in CI): `fit`'s per-rank working set is
/// allocated at each box and padding, and a largest box is found both ways.
#[test]
fn with_a_gpu_job_memory_finds_the_largest_box_both_ways() {
    if !driver_present() {
        eprintln!("skipped: no CUDA driver");
        return;
    }
    let o = cryocap()
        .args([
            "bench",
            "gpu",
            "--job-memory",
            "--box",
            "256,432,600",
            "--pad",
            "1,2",
        ])
        .args(["--ranks-per-gpu", "2", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: GpuBenchReport = serde_json::from_slice(&o.stdout).expect("typed JSON");
    assert_eq!(r.status, BenchStatus::Measured);
    let j = r.job_memory.expect("job memory");
    assert_eq!(j.rows.len() % 6, 0);
    assert!(
        j.rows
            .iter()
            .any(|row| row.box_size == 256 && row.allocated)
    );
    for l in &j.limits {
        assert!(l.allocated_max_box.is_some() && l.model_max_box.is_some());
    }
}

/// Writes a float16 stack directory through `stack create`.
fn stacks(dir: &std::path::Path, particles: &str, dtype: &str) {
    let o = cryocap()
        .args(["stack", "create", "--dir", dir.to_str().unwrap()])
        .args(["--particles", particles, "--box", "64", "--dtype", dtype])
        .args(["--particles-per-file", "150", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `--from-files`: the readers are timed on every machine; the GPU part runs
/// where there is one (and is then checked end to end by the test below).
#[test]
fn from_files_times_the_readers_and_says_what_the_gpu_did() {
    let dir = tempfile::tempdir().unwrap();
    stacks(dir.path(), "3000", "f16");
    for reading in [None, Some("--buffered")] {
        let o = cryocap()
            .args(["bench", "gpu", "--from-files", dir.path().to_str().unwrap()])
            .args([
                "--readers",
                "2",
                "--repeats",
                "2",
                "--pad",
                "1",
                "--format",
                "json",
            ])
            .args(reading)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let r: GpuBenchReport = serde_json::from_slice(&o.stdout).expect("typed JSON");
        let f = r.from_files.expect("a --from-files section");
        assert_eq!((f.stacks, f.particles, f.box_size), (20, 3000, 64));
        assert_eq!(f.input, "float16");
        assert_eq!(f.image_bytes, 64 * 64 * 2);
        assert_eq!((f.readers, f.repeats), (2, 2));
        assert!(f.read_min_particles_per_second > 0.0);
        assert!(f.read_min_particles_per_second <= f.read_median_particles_per_second);
        assert!(f.read_median_particles_per_second <= f.read_max_particles_per_second);
        if reading.is_some() {
            assert_eq!(f.reading, "page cache");
        } else {
            assert!(
                f.reading == "O_DIRECT" || f.direct_fallback.is_some(),
                "{f:?}"
            );
        }
        if driver_present() {
            assert_eq!(r.status, BenchStatus::Measured);
            assert_eq!(f.runs.len(), 1);
            let run = &f.runs[0];
            assert!(run.error.is_none(), "{run:?}");
            assert!(run.median_particles_per_second > 0.0 && run.of_bound.is_some());
            let s = run.split.as_ref().expect("a time split");
            assert!(s.bytes_read >= 3000 * 64 * 64 * 2 && s.gpu_insert_seconds > 0.0);
        } else {
            assert_eq!(r.status, BenchStatus::Skipped);
            assert!(r.reason.unwrap().contains("only the readers were timed"));
            assert!(f.runs.is_empty());
        }
    }
    // the table says how the stacks were read and what the readers reached
    let o = cryocap()
        .args([
            "bench",
            "gpu",
            "--from-files",
            dir.path().to_str().unwrap(),
            "--repeats",
            "1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("3,000 particles, box 64, float16"), "{text}");
    assert!(text.contains("readers alone"), "{text}");
}

#[test]
fn from_files_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let e = bad_input(&["bench", "gpu", "--from-files", d]);
    assert!(e.contains("no .mrc") || e.contains(d), "{e}");
    stacks(dir.path(), "200", "f32");
    for (flag, value) in [
        ("--box", "128"),
        ("--particles", "10"),
        ("--job", "relion-refine"),
    ] {
        let e = bad_input(&["bench", "gpu", "--from-files", d, flag, value]);
        assert!(e.contains(flag) && e.contains("--from-files"), "{e}");
    }
    let e = bad_input(&["bench", "gpu", "--readers", "2"]);
    assert!(e.contains("--from-files"), "{e}");
    let e = bad_input(&["bench", "gpu", "--from-files", d, "--job-memory"]);
    assert!(e.contains("cannot be used with"), "{e}");
    let file = dir.path().join("stack_00001.mrcs");
    let e = bad_input(&["bench", "gpu", "--from-files", file.to_str().unwrap()]);
    assert!(e.contains("not a directory"), "{e}");
    // a stack cut short is named
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(5000).unwrap();
    let e = bad_input(&["bench", "gpu", "--from-files", d]);
    assert!(e.contains("stack_00001.mrcs"), "{e}");
}
