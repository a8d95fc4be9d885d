//! Hostile input through the binary (issue 12): names and files other
//! programs wrote, values typed in odd ways. Each case ends with one line
//! on stderr and exit 2, loses nothing, and never panics.

use std::path::Path;

use crate::common::{bad_input, cryocap};

/// Writes a small valid stack (10 particles, box 16) into `dir`.
fn stack(dir: &Path) -> std::path::PathBuf {
    cryocap()
        .args(["stack", "create", "--dir"])
        .arg(dir)
        .args([
            "--particles",
            "10",
            "--box",
            "16",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    dir.join("stack_00001.mrcs")
}

#[test]
fn a_file_name_fio_would_run_never_reaches_a_job_file() {
    let dir = tempfile::tempdir().unwrap();
    let made = stack(dir.path());
    let evil = dir.path().join("a\nexec_prerun=touch PWNED\n;.mrcs");
    std::fs::rename(&made, &evil).unwrap();
    let job = dir.path().join("job.fio");
    let d = dir.path().to_str().unwrap();
    let line = bad_input(&[
        "bench",
        "io",
        "--dir",
        d,
        "--emit-fio",
        job.to_str().unwrap(),
        "--ramp-time",
        "0",
    ]);
    assert!(
        line.contains("--emit-fio") && line.contains("control character"),
        "{line}"
    );
    assert!(!job.exists(), "a job file was written");
    // The same stack read without --emit-fio is fine: only fio is at risk.
    cryocap()
        .args(["bench", "io", "--dir", d, "--ramp-time", "0", "--quiet"])
        .assert()
        .success();
    // --create into a directory fio cannot name is refused before writing.
    let odd = dir.path().join("x${HOME}");
    std::fs::create_dir(&odd).unwrap();
    let line = bad_input(&[
        "bench",
        "io",
        "--dir",
        odd.to_str().unwrap(),
        "--create",
        "10",
        "--box",
        "16",
        "--reserve",
        "0",
        "--emit-fio",
        job.to_str().unwrap(),
    ]);
    assert!(line.contains("environment variable"), "{line}");
    assert_eq!(std::fs::read_dir(&odd).unwrap().count(), 0);
}

/// A STAR file naming `names` (one row each) with fixed angles.
fn star(dir: &Path, header: &str, rows: &[String]) -> std::path::PathBuf {
    let mut text = String::from(header);
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let p = dir.join("particles.star");
    std::fs::write(&p, text).unwrap();
    p
}

const PARTICLES: &str =
    "data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n";

fn rows(n: usize, stack: &str) -> Vec<String> {
    (1..=n)
        .map(|i| format!("{i}@{stack} {} {} 0", i * 7, i * 3))
        .collect()
}

fn reconstruct_json(args: &[&str]) -> serde_json::Value {
    let out = cryocap()
        .arg("reconstruct")
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn one_nan_pixel_is_named_or_skipped_never_a_nan_volume() {
    let dir = tempfile::tempdir().unwrap();
    let stack_file = stack(dir.path());
    // image 4 (1-based) gets one NaN pixel
    let mut bytes = std::fs::read(&stack_file).unwrap();
    let at = 1024 + 3 * 16 * 16 * 4 + 40;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&stack_file, bytes).unwrap();
    let s = star(dir.path(), PARTICLES, &rows(10, "stack_00001.mrcs"));
    let v = dir.path().join("v.mrc");
    let (s, v) = (s.to_str().unwrap(), v.to_str().unwrap());
    let line = bad_input(&["reconstruct", "--star", s, "-o", v]);
    assert!(
        line.contains("image 4")
            && line.contains("stack_00001.mrcs")
            && line.contains("--non-finite skip"),
        "{line}"
    );
    assert!(!Path::new(v).exists());
    let r = reconstruct_json(&["--star", s, "-o", v, "--non-finite", "skip"]);
    assert_eq!(r["skipped_non_finite"], 1);
    let vol = std::fs::read(v).unwrap();
    assert!(
        vol[1024..]
            .chunks(4)
            .all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite())
    );
}

#[test]
fn relion_30_pixel_sizes_single_image_files_and_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    stack(&data);
    // RELION 3.0: no optics block; 14 µm pixels at 70,000x are 2 Å.
    let header = "data_\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n_rlnDetectorPixelSize\n_rlnMagnification\n";
    let r30: Vec<String> = rows(10, "stack_00001.mrcs")
        .into_iter()
        .map(|r| format!("{r} 14.0 70000"))
        .collect();
    let s = star(dir.path(), header, &r30);
    let v = dir.path().join("v.mrc");
    let d = data.to_str().unwrap();
    let (s, v) = (s.to_str().unwrap(), v.to_str().unwrap());
    // the stacks are found through --data-dir only
    let line = bad_input(&["reconstruct", "--star", s, "-o", v]);
    assert!(line.contains("stack_00001.mrcs"), "{line}");
    let r = reconstruct_json(&["--star", s, "-o", v, "--data-dir", d]);
    assert_eq!(r["pixel_size_a"], 2.0);
    assert!(
        r["notes"][0].as_str().unwrap().contains("2 Å per pixel"),
        "{r}"
    );
    let r = reconstruct_json(&["--star", s, "-o", v, "--data-dir", d, "--angpix", "1.5"]);
    assert_eq!(r["pixel_size_a"], 1.5);
    // a name without index@ is a file of one image
    let one = dir.path().join("one");
    std::fs::create_dir(&one).unwrap();
    for i in 1..=4 {
        let sub = one.join(format!("p{i}"));
        std::fs::create_dir(&sub).unwrap();
        cryocap()
            .args(["stack", "create", "--dir"])
            .arg(&sub)
            .args([
                "--particles",
                "1",
                "--box",
                "16",
                "--reserve",
                "0",
                "--seed",
            ])
            .arg(i.to_string())
            .arg("--quiet")
            .assert()
            .success();
    }
    let singles: Vec<String> = (1..=4)
        .map(|i| format!("one/p{i}/stack_00001.mrcs {} 10 0", i * 20))
        .collect();
    let s1 = star(dir.path(), PARTICLES, &singles);
    let r = reconstruct_json(&["--star", s1.to_str().unwrap(), "-o", v]);
    assert_eq!(r["particles"], 4);
    // ... and a file of ten images named without a number is refused
    let bad = star(
        dir.path(),
        PARTICLES,
        &["data/stack_00001.mrcs 0 0 0".to_string()],
    );
    let line = bad_input(&["reconstruct", "--star", bad.to_str().unwrap(), "-o", v]);
    assert!(
        line.contains("without an image number") && line.contains("holds 10"),
        "{line}"
    );
    // cache subset takes single-image names too
    let out = cryocap()
        .args(["cache", "subset", s1.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_box_too_large_for_the_node_is_a_message_not_an_abort() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    cryocap()
        .args(["stack", "create", "--dir"])
        .arg(dir.path())
        .args([
            "--particles",
            "2",
            "--box",
            "1024",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    let s = star(dir.path(), PARTICLES, &rows(2, "stack_00001.mrcs"));
    let v = dir.path().join("v.mrc");
    let line = bad_input(&[
        "reconstruct",
        "--star",
        s.to_str().unwrap(),
        "-o",
        v.to_str().unwrap(),
        "--pad",
        "2",
    ]);
    assert!(
        line.contains("box 1024") && line.contains("needs about") && line.contains("available"),
        "{line}"
    );
}

#[test]
fn symmetry_expanded_rows_count_each_image_once() {
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    // every image listed three times (C3 expansion)
    let mut expanded = Vec::new();
    for r in rows(10, "stack_00001.mrcs") {
        for _ in 0..3 {
            expanded.push(r.clone());
        }
    }
    let s = star(dir.path(), PARTICLES, &expanded);
    // run from the list's own directory, named by its bare file name
    let out = cryocap()
        .current_dir(dir.path())
        .args(["cache", "subset", "particles.star", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["particles"], 30);
    assert_eq!(r["repeated_rows"], 20);
    assert_eq!(r["subset_bytes"], 10 * 16 * 16 * 4 + 1024);
    assert_eq!(r["files_measured"], 1);
    let _ = s;
}

#[test]
fn negative_cells_and_compressed_maps() {
    let dir = tempfile::tempdir().unwrap();
    let f = stack(dir.path());
    // a negative cell (some writers store it so): its size is meant
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[40..44].copy_from_slice(&(-16.0f32).to_le_bytes());
    std::fs::write(&f, &bytes).unwrap();
    let out = cryocap()
        .args(["stack", "info", f.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["files"][0]["pixel_size_a"], 1.0);
    // gzip and bzip2 maps are named as compressed
    for (name, magic) in [
        ("m.map.gz", &b"\x1f\x8b\x08\x00"[..]),
        ("m.mrc.bz2", &b"BZh9"[..]),
    ] {
        let p = dir.path().join(name);
        let mut b = magic.to_vec();
        b.resize(2048, 0);
        std::fs::write(&p, b).unwrap();
        let line = bad_input(&["stack", "info", p.to_str().unwrap()]);
        assert!(line.contains("compressed"), "{name}: {line}");
    }
}
