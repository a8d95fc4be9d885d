//! `cryocap reconstruct` through the binary: phantom projections written as
//! MRC stacks with a RELION STAR file, reconstructed, and compared with the
//! phantom. The volume is also validated by Python's `mrcfile` when present
//! (CI requires it with CRYOCAP_REQUIRE_MRCFILE=1).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command as Std;

use cryocap::recon::euler::EulerAngles;
use cryocap::recon::fsc::{correlation, fsc};
use cryocap::recon::{Phantom, Volume};
use cryocap::results::ReconstructReport;
use cryocap::storage::mrc::{Mode, MrcFile, MrcHeader, encode_pixels};
use rand::{RngExt, SeedableRng};

use crate::common::{bad_input, cryocap};

fn write_stack(path: &Path, images: &[Vec<f32>], n: u32, mode: Mode, pixel: f32) {
    let h = MrcHeader::image_stack(n, n, images.len() as u32, mode, pixel);
    let mut bytes = h.to_bytes().to_vec();
    for img in images {
        encode_pixels(img, mode, &mut bytes);
    }
    std::fs::write(path, bytes).unwrap();
}

/// Writes `count` projections of `phantom` into stacks of `per_stack` in
/// `dir`, and a STAR file naming them; returns the STAR path.
/// `angst`: RELION 3.1 (optics table, origins in Å) or older (pixels).
fn write_dataset(
    dir: &Path,
    phantom: &Phantom,
    count: usize,
    per_stack: usize,
    mode: Mode,
    angst: bool,
) -> std::path::PathBuf {
    let n = phantom.n;
    let pixel = 1.5f64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut star = String::new();
    if angst {
        star.push_str(
            "# version 30001\n\ndata_optics\n\nloop_\n_rlnOpticsGroup #1\n_rlnImagePixelSize #2\n\
             _rlnImageSize #3\n1 1.5 64\n\n# version 30001\n\ndata_particles\n\nloop_\n\
             _rlnImageName #1\n_rlnAngleRot #2\n_rlnAngleTilt #3\n_rlnAnglePsi #4\n\
             _rlnOriginXAngst #5\n_rlnOriginYAngst #6\n_rlnOpticsGroup #7\n",
        );
    } else {
        star.push_str(
            "data_\n\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n\
             _rlnOriginX\n_rlnOriginY\n",
        );
    }
    std::fs::create_dir_all(dir.join("Extract")).unwrap();
    for s in 0..count.div_ceil(per_stack) {
        let name = format!("Extract/stack{s:03}.mrcs");
        let mut images = Vec::new();
        for i in 0..per_stack.min(count - s * per_stack) {
            let e = EulerAngles::random(&mut rng);
            // the particle sits at -origin; the origin re-centres it
            let origin = [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)];
            images.push(phantom.project(&e.matrix(), [-origin[0], -origin[1]]));
            let (ox, oy) = if angst {
                (origin[0] * pixel, origin[1] * pixel)
            } else {
                (origin[0], origin[1])
            };
            let _ = write!(
                star,
                "{:06}@{name} {:.6} {:.6} {:.6} {ox:.6} {oy:.6}",
                i + 1,
                e.rot,
                e.tilt,
                e.psi
            );
            star.push_str(if angst { " 1\n" } else { "\n" });
        }
        write_stack(&dir.join(&name), &images, n as u32, mode, pixel as f32);
    }
    let path = dir.join("particles.star");
    std::fs::write(&path, star).unwrap();
    path
}

fn read_volume(path: &Path) -> Volume {
    let f = MrcFile::open(path).expect("the volume is a valid MRC file");
    assert_eq!(f.header.ispg, 1, "a volume has ISPG 1");
    assert_eq!(f.header.mode, Mode::Float32);
    let n = f.header.nx as usize;
    let mut file = std::fs::File::open(path).unwrap();
    let data = (0..n as u64)
        .flat_map(|z| f.read_image(&mut file, z).unwrap())
        .collect();
    Volume { n, data }
}

fn reconstruct(star: &Path, out: &Path, extra: &[&str]) -> ReconstructReport {
    // run from the dataset's directory: RELION names stacks relative to the project
    let o = cryocap()
        .current_dir(star.parent().unwrap())
        .arg("reconstruct")
        .arg("--star")
        .arg(star)
        .arg("-o")
        .arg(out)
        .args(extra)
        .args(["--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    serde_json::from_slice(&o.stdout).expect("JSON deserialises into ReconstructReport")
}

fn mrcfile_validates(path: &Path) -> Option<bool> {
    let o = Std::new("python3")
        .args([
            "-c",
            "import sys, mrcfile; sys.exit(0 if mrcfile.validate(sys.argv[1]) else 1)",
        ])
        .arg(path)
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    if stderr.contains("No module named") {
        return None;
    }
    Some(o.status.success())
}

#[test]
fn box_64_from_2000_particles_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let phantom = Phantom::random(64, 12, 2024);
    let star = write_dataset(dir.path(), &phantom, 2000, 500, Mode::Float32, true);
    let out = dir.path().join("volume.mrc");
    let r = reconstruct(&star, &out, &["--pad", "2"]);
    assert_eq!((r.particles, r.stacks, r.box_size, r.pad), (2000, 4, 64, 2));
    assert_eq!(r.pixel_size_a, Some(1.5));
    assert_eq!(r.output_bytes, 1024 + 4 * 64 * 64 * 64);
    let vol = read_volume(&out);
    let truth = phantom.volume();
    let c = correlation(&vol.data, &truth.data);
    assert!(c >= 0.95, "correlation {c}");
    let curve = fsc(&vol, &truth);
    for (shell, v) in curve.iter().enumerate().take(17).skip(1) {
        assert!(*v > 0.9, "FSC at shell {shell} is {v}: {curve:?}");
    }
    let header = MrcFile::open(&out).unwrap().header;
    assert_eq!(header.pixel_size_a(), Some(1.5));
    match mrcfile_validates(&out) {
        Some(ok) => assert!(ok, "mrcfile.validate() rejected the volume"),
        None => {
            assert!(
                std::env::var_os("CRYOCAP_REQUIRE_MRCFILE").is_none(),
                "CRYOCAP_REQUIRE_MRCFILE is set but python3 cannot import mrcfile"
            );
            eprintln!("skipped mrcfile.validate: python3 with mrcfile not found");
        }
    }
}

#[test]
fn float16_stacks_with_pixel_origins_and_padding_1() {
    let dir = tempfile::tempdir().unwrap();
    let phantom = Phantom::random(32, 8, 7);
    let star = write_dataset(dir.path(), &phantom, 700, 300, Mode::Float16, false);
    let out = dir.path().join("v.mrc");
    let r = reconstruct(
        &star,
        &out,
        &["--pad", "1", "--threads", "1", "--backend", "cpu"],
    );
    assert_eq!((r.particles, r.stacks, r.pad, r.threads), (700, 3, 1, 1));
    let c = correlation(&read_volume(&out).data, &phantom.volume().data);
    assert!(c >= 0.9, "correlation {c}");
}

#[test]
fn wrong_shifts_make_it_worse() {
    // guards the origin sign: the same data with origins negated must not match
    let dir = tempfile::tempdir().unwrap();
    let phantom = Phantom::random(32, 8, 8);
    let star = write_dataset(dir.path(), &phantom, 600, 600, Mode::Float32, false);
    let text = std::fs::read_to_string(&star).unwrap();
    let flipped: String = text
        .lines()
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            if t.len() == 6 && t[0].contains('@') {
                let neg = |v: &str| format!("{}", -v.parse::<f64>().unwrap());
                format!(
                    "{} {} {} {} {} {}\n",
                    t[0],
                    t[1],
                    t[2],
                    t[3],
                    neg(t[4]),
                    neg(t[5])
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let bad_star = dir.path().join("flipped.star");
    std::fs::write(&bad_star, flipped).unwrap();
    reconstruct(&star, &dir.path().join("good.mrc"), &[]);
    reconstruct(&bad_star, &dir.path().join("bad.mrc"), &[]);
    let truth = phantom.volume();
    let good = correlation(&read_volume(&dir.path().join("good.mrc")).data, &truth.data);
    let bad = correlation(&read_volume(&dir.path().join("bad.mrc")).data, &truth.data);
    assert!(
        good > 0.95 && bad < good - 0.1,
        "good {good}, flipped {bad}"
    );
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let phantom = Phantom::random(16, 3, 1);
    let star = write_dataset(d, &phantom, 4, 4, Mode::Float32, false);
    let s = star.to_str().unwrap();
    let out = d.join("v.mrc");
    let o = out.to_str().unwrap();

    let e = bad_input(&["reconstruct", "--star", s, "-o", o, "--pad", "3"]);
    assert!(e.contains("--pad"), "{e}");
    let e = bad_input(&["reconstruct", "--star", "/nonexistent.star", "-o", o]);
    assert!(e.contains("--star"), "{e}");
    let e = bad_input(&["reconstruct", "--star", s, "-o", d.to_str().unwrap()]);
    assert!(e.contains("is a directory"), "{e}");

    // an image past the end of its stack
    let text = std::fs::read_to_string(&star)
        .unwrap()
        .replace("000004@", "000009@");
    let past = d.join("past.star");
    std::fs::write(&past, text).unwrap();
    let e = bad_input(&["reconstruct", "--star", past.to_str().unwrap(), "-o", o]);
    assert!(e.contains("image 9") && e.contains("holds 4"), "{e}");

    // a truncated stack
    let stack = d.join("Extract/stack000.mrcs");
    let bytes = std::fs::read(&stack).unwrap();
    std::fs::write(&stack, &bytes[..bytes.len() - 100]).unwrap();
    let e = bad_input(&["reconstruct", "--star", s, "-o", o]);
    assert!(
        e.contains("truncated") && e.contains("stack000.mrcs"),
        "{e}"
    );

    // a missing stack
    std::fs::remove_file(&stack).unwrap();
    let e = bad_input(&["reconstruct", "--star", s, "-o", o]);
    assert!(e.contains("stack000.mrcs"), "{e}");

    // not a STAR file
    let junk = d.join("junk.star");
    std::fs::write(&junk, "hello\n").unwrap();
    let e = bad_input(&["reconstruct", "--star", junk.to_str().unwrap(), "-o", o]);
    assert!(e.contains("junk.star"), "{e}");
    assert!(!out.exists(), "nothing is written on failure");
}

#[test]
fn particles_written_by_another_tool_reconstruct() {
    // stacks from Python's mrcfile, angles and projections from numpy with
    // RELION's convention written out independently of cryocap
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/write_projections.py"
    );
    match Std::new("python3")
        .arg(script)
        .arg(dir.path())
        .args(["48", "1500", "500", "3"])
        .output()
    {
        Ok(o) if o.status.success() => {}
        other => {
            assert!(
                std::env::var_os("CRYOCAP_REQUIRE_MRCFILE").is_none(),
                "CRYOCAP_REQUIRE_MRCFILE is set but the fixture writer failed: {other:?}"
            );
            eprintln!("skipped: python3 with numpy and mrcfile not found");
            return;
        }
    }
    let out = dir.path().join("volume.mrc");
    let r = reconstruct(&dir.path().join("particles.star"), &out, &[]);
    assert_eq!((r.particles, r.stacks, r.box_size), (1500, 3, 48));
    assert_eq!(r.pixel_size_a, Some(1.2));
    let truth = read_volume(&dir.path().join("truth.mrc"));
    let vol = read_volume(&out);
    let c = correlation(&vol.data, &truth.data);
    assert!(c >= 0.95, "correlation {c}");
    let curve = fsc(&vol, &truth);
    for (shell, v) in curve.iter().enumerate().take(13).skip(1) {
        assert!(*v > 0.9, "FSC at shell {shell} is {v}: {curve:?}");
    }
}

#[test]
fn gpu_without_a_driver_is_a_clear_error() {
    if cryocap::gpu::probe::driver_present() {
        eprintln!("skipped: a CUDA driver is present");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let star = write_dataset(
        dir.path(),
        &Phantom::random(16, 3, 1),
        4,
        4,
        Mode::Float32,
        false,
    );
    let out = dir.path().join("v.mrc");
    let e = bad_input(&[
        "reconstruct",
        "--star",
        star.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--backend",
        "gpu",
    ]);
    assert!(
        e.contains("--backend gpu") && e.contains("no CUDA driver") && e.contains("--backend cpu"),
        "{e}"
    );
    assert!(!out.exists());
    let e = bad_input(&[
        "reconstruct",
        "--star",
        star.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--gpu",
        "--cpu",
    ]);
    assert!(e.contains("cannot be used with"), "{e}");
}

#[test]
fn buffered_reading_is_only_for_the_gpu_backend() {
    let e = bad_input(&[
        "reconstruct",
        "--star",
        "p.star",
        "-o",
        "v.mrc",
        "--buffered",
    ]);
    assert!(
        e.contains("--buffered") && e.contains("--backend gpu"),
        "{e}"
    );
}

/// The time split of a GPU run (a fixture: its figures are made up to
/// exercise the rendering) is shown as a table with each stage's share.
#[test]
fn a_gpu_run_shows_its_time_split() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/reconstruct-gpu.json"
    );
    let out = cryocap()
        .args(["report", fixture, "--format", "table"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Time split (GPU)"), "{text}");
    for stage in ["read", "place", "wait", "queue", "copy", "FFT", "insert"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(stage)),
            "{stage}: {text}"
        );
    }
    assert!(
        text.contains("O_DIRECT") && text.contains("float16"),
        "{text}"
    );
    let out = cryocap()
        .args(["report", fixture, "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.contains("reconstruct,gpu,gpu_insert_seconds,"), "{csv}");
}

/// On a machine with a GPU (the lent H100; skipped in CI): the GPU path
/// (copy, cuFFT, insertion with shifts) gives the CPU reference's volume,
/// from float32 and float16 stacks and at both paddings.
#[test]
fn gpu_reconstruction_matches_the_cpu_one() {
    if !cryocap::gpu::probe::driver_present() {
        eprintln!("skipped: no CUDA driver");
        return;
    }
    let phantom = Phantom::random(48, 6, 5);
    // float32 through O_DIRECT, raw float16 bits through the page cache
    for (mode, pad, reading) in [
        (Mode::Float32, "2", None),
        (Mode::Float16, "1", Some("--buffered")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let star = write_dataset(dir.path(), &phantom, 1200, 500, mode, true);
        let (cpu, gpu) = (dir.path().join("cpu.mrc"), dir.path().join("gpu.mrc"));
        reconstruct(&star, &cpu, &["--backend", "cpu", "--pad", pad, "-q"]);
        let mut args = vec!["--backend", "gpu", "--pad", pad, "--threads", "3", "-q"];
        args.extend(reading);
        let r = reconstruct(&star, &gpu, &args);
        assert_eq!(r.particles, 1200);
        let split = r
            .gpu_split
            .as_ref()
            .expect("a GPU run reports its time split");
        assert_eq!(split.readers, 3);
        let want = if mode == Mode::Float16 {
            "float16"
        } else {
            "float32"
        };
        assert_eq!(split.precision, want);
        assert!(split.bytes_read >= 1200 * 48 * 48 * mode.bytes_for(1));
        assert!(split.gpu_insert_seconds > 0.0 && split.gpu_fft_seconds > 0.0);
        assert_eq!(
            split.reading == "page cache",
            reading.is_some() || split.direct_fallback.is_some()
        );
        let (c, g) = (read_volume(&cpu), read_volume(&gpu));
        let (mut diff, mut norm) = (0f64, 0f64);
        for (a, b) in g.data.iter().zip(&c.data) {
            diff += f64::from(a - b).powi(2);
            norm += f64::from(*b).powi(2);
        }
        let rel = (diff / norm).sqrt();
        assert!(
            rel < 1e-4,
            "{mode:?} pad {pad}: GPU volume differs by {rel:.2e}"
        );
        let truth = phantom.volume();
        assert!(correlation(&g.data, &truth.data) >= 0.95);
    }
}
