//! `movies create` and `bench movies` through the binary, checked by the
//! independent readers: tifffile (with imagecodecs for LZW and EER) and
//! mrcfile. CI installs them and sets CRYOCAP_REQUIRE_TIFFFILE=1 so these
//! cannot be skipped there.

use std::path::Path;

use crate::common::{bad_input, cryocap, json, python_has};
use cryocap::results::movies::{MoviesBenchReport, MoviesCreated};

fn readers_present() -> bool {
    if python_has("tifffile, imagecodecs, mrcfile, numpy") {
        return true;
    }
    assert!(
        std::env::var_os("CRYOCAP_REQUIRE_TIFFFILE").is_none(),
        "CRYOCAP_REQUIRE_TIFFFILE is set but python3 cannot import tifffile, imagecodecs, mrcfile"
    );
    eprintln!(
        "skipped: python3 with tifffile, imagecodecs and mrcfile not found (pip install tifffile imagecodecs mrcfile)"
    );
    false
}

fn create(dir: &Path, format: &str, extra: &[&str]) -> MoviesCreated {
    let mut args = vec![
        "movies",
        "create",
        "--dir",
        dir.to_str().unwrap(),
        "--movie-format",
        format,
        "--size",
        "96x80",
        "--movies",
        "2",
        "--reserve",
        "0",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    json(&args)
}

fn python(script: &str, args: &[&Path]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Reads every movie in a directory with the independent readers and
/// prints one line per movie: frames, height, width, and the counts of
/// every frame (EER: events per frame), comma-separated.
const READ_ALL: &str = r#"
import sys, glob, numpy as np, tifffile, mrcfile
for f in sorted(glob.glob(sys.argv[1] + "/movie_*")):
    if f.endswith((".tif", ".eer")):
        with tifffile.TiffFile(f) as t:
            a = t.series[0].asarray()
    else:
        with mrcfile.open(f, permissive=False) as m:
            a = np.asarray(m.data)
    per = [int(x) for x in a.reshape(a.shape[0], -1).astype(np.int64).sum(axis=1)]
    print(a.shape[0], a.shape[1], a.shape[2], ",".join(map(str, per)))
"#;

#[test]
fn every_format_is_read_by_the_independent_readers_with_the_same_counts() {
    if !readers_present() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for (format, mode) in [
        ("tiff-lzw", "1"),
        ("mrc", "0"),
        ("mrc", "1"),
        ("mrc", "2"),
        ("mrc", "6"),
        ("mrc", "12"),
        ("mrc-bz2", "1"),
    ] {
        let dir = root.path().join(format!("{format}-{mode}"));
        std::fs::create_dir(&dir).unwrap();
        let made = create(
            &dir,
            format,
            &["--frames", "6", "--mode", mode, "--dose", "20"],
        );
        let out = python(READ_ALL, &[&dir]);
        let total: u64 = out
            .lines()
            .flat_map(|l| l.split(' ').nth(3).unwrap().split(','))
            .map(|v| v.parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, made.electrons, "{format} mode {mode}");
        lines.push(out);
    }
    // same seed, same counts: every format holds the same frames, frame for frame
    assert!(lines.windows(2).all(|w| w[0] == w[1]), "{lines:#?}");
    assert_eq!(
        lines[0].lines().next().unwrap().split(' ').nth(2),
        Some("96")
    );

    // EER: tifffile sees an EER file with 300 frames whose events add up
    let dir = root.path().join("eer");
    std::fs::create_dir(&dir).unwrap();
    let made = create(&dir, "eer", &["--frames", "300", "--dose", "20"]);
    let out = python(READ_ALL, &[&dir]);
    let mut total = 0u64;
    for l in out.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(&f[..3], &["300", "80", "96"]);
        total += f[3]
            .split(',')
            .map(|v| v.parse::<u64>().unwrap())
            .sum::<u64>();
    }
    assert_eq!(total, made.electrons);
    // ... and cryocap decodes the same number from the same files
    let bench: MoviesBenchReport = json(&[
        "bench",
        "movies",
        "--dir",
        dir.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ]);
    assert_eq!(bench.runs[0].electrons, made.electrons);
    // rendered at 8K by tifffile, the events stay the events
    let super_res = python(
        r#"
import sys, tifffile, numpy as np
with tifffile.TiffFile(sys.argv[1], superres=1) as t:
    a = t.series[0].asarray()
print(a.shape[1], a.shape[2], int(a.astype(np.int64).sum()))
"#,
        &[&dir.join("movie_00001.eer")],
    );
    let f: Vec<&str> = super_res.split_whitespace().collect();
    assert_eq!(&f[..2], &["160", "192"]);
}

#[test]
fn bench_movies_reads_movies_written_by_tifffile_and_mrcfile() {
    if !readers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = python(
        r#"
import sys, numpy as np, tifffile, mrcfile, bz2
rng = np.random.default_rng(5)
a = rng.poisson(1.3, size=(7, 64, 72)).astype(np.uint8)
d = sys.argv[1]
tifffile.imwrite(d + "/lzw.tif", a, compression="lzw")
with mrcfile.new(d + "/plain.mrc") as m:
    m.set_data(a.astype(np.int16))
with open(d + "/plain.mrc", "rb") as f:
    raw = f.read()
with open(d + "/packed.mrc.bz2", "wb") as f:
    f.write(bz2.compress(raw))
print(int(a.astype(np.int64).sum()))
"#,
        &[dir.path()],
    );
    let want: u64 = out.trim().parse().unwrap();
    let r: MoviesBenchReport = json(&[
        "bench",
        "movies",
        "--dir",
        dir.path().to_str().unwrap(),
        "--threads",
        "1,2",
        "--quiet",
    ]);
    let mut formats: Vec<&str> = r.set.formats.iter().map(|s| s.as_str()).collect();
    formats.sort();
    assert_eq!(formats, ["mrc", "mrc-bz2", "tiff-lzw"]);
    for run in &r.runs {
        assert_eq!(run.electrons, want, "{}", run.format);
        assert_eq!(run.frames, 7);
        assert!(run.movies_per_hour > 0.0);
    }
}

#[test]
fn bench_movies_creates_measures_and_removes_its_set() {
    let dir = tempfile::tempdir().unwrap();
    let r: MoviesBenchReport = json(&[
        "bench",
        "movies",
        "--dir",
        dir.path().to_str().unwrap(),
        "--create",
        "3",
        "--movie-format",
        "eer",
        "--size",
        "128x128",
        "--frames",
        "64",
        "--threads",
        "1,2",
        "--eer-grouping",
        "16",
        "--reserve",
        "0",
        "--quiet",
    ]);
    assert!(r.set.created);
    assert_eq!(r.runs.len(), 2);
    assert!(r.runs[1].scaling.is_some());
    assert!(r.runs.iter().all(|x| x.frames == 3 * 64));
    assert_eq!(r.runs[0].electrons, r.runs[1].electrons);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // ten million 4K-frame movies an hour outrun this node: exit 1
    cryocap()
        .args(["bench", "movies", "--dir"])
        .arg(dir.path())
        .args([
            "--create",
            "1",
            "--size",
            "1024x1024",
            "--frames",
            "10",
            "--threads",
            "1",
            "--movies-per-hour",
            "1e7",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("FALLS BEHIND"));
}

/// The movie of `format` in `dir`, written first if there is none.
fn one_movie(dir: &Path, format: &str, frames: &str) -> std::path::PathBuf {
    let find = || {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("movie_")
            })
    };
    if let Some(p) = find() {
        return p;
    }
    cryocap()
        .args(["movies", "create", "--dir"])
        .arg(dir)
        .args([
            "--movie-format",
            format,
            "--size",
            "64x48",
            "--frames",
            frames,
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    find().unwrap()
}

fn bench_file(path: &Path, extra: &[&str]) -> String {
    let mut args = vec!["bench", "movies", "--threads", "1", "--quiet", "--files"];
    let p = path.to_str().unwrap().to_string();
    args.push(&p);
    args.extend_from_slice(extra);
    bad_input(&args)
}

#[test]
fn broken_movies_are_named_in_one_line() {
    let root = tempfile::tempdir().unwrap();
    for (format, frames) in [
        ("tiff-lzw", "3"),
        ("eer", "20"),
        ("mrc-bz2", "3"),
        ("mrc", "3"),
    ] {
        let dir = root.path().join(format);
        std::fs::create_dir(&dir).unwrap();
        let movie = one_movie(&dir, format, frames);
        let bytes = std::fs::read(&movie).unwrap();
        // truncated
        let cut = dir.join(format!(
            "cut-{}",
            movie.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let e = bench_file(&cut, &[]);
        assert!(e.contains("cut-"), "{format}: {e}");
        // the gain reference of another size, and one with a zero
        let e = bench_file(
            &movie,
            &["--gain", root.path().join("none.mrc").to_str().unwrap()],
        );
        assert!(e.contains("none.mrc"), "{e}");
    }
    // MRC with a frame more than its header declares
    let mrc = root.path().join("mrc");
    let movie = one_movie(&mrc, "mrc", "3");
    let mut bytes = std::fs::read(&movie).unwrap();
    bytes.extend(vec![0u8; 64 * 48 * 2]);
    let extra = mrc.join("extra.mrc");
    std::fs::write(&extra, &bytes).unwrap();
    let e = bench_file(&extra, &[]);
    assert!(e.contains("more frames than declared"), "{e}");
    // EER whose metadata declares another frame count
    let eer = root.path().join("eer");
    let movie = one_movie(&eer, "eer", "20");
    let bytes = std::fs::read(&movie).unwrap();
    let text = b"<item name=\"numberOfFrames\">20<";
    let at = bytes.windows(text.len()).position(|w| w == text).unwrap();
    let mut lied = bytes.clone();
    lied[at + text.len() - 3..at + text.len() - 1].copy_from_slice(b"19");
    let p = eer.join("lied.eer");
    std::fs::write(&p, &lied).unwrap();
    let e = bench_file(&p, &[]);
    assert!(e.contains("declares 19 frames but it holds 20"), "{e}");
    // an EER of another version (compression 65000, the 8-bit prototype)
    let mut proto = bytes.clone();
    let code = 65002u16.to_le_bytes();
    let tag = [0x03, 0x01, 0x03, 0x00]; // tag 259 (Compression), type SHORT
    let mut i = 0;
    while let Some(k) = proto[i..].windows(4).position(|w| w == tag) {
        let v = i + k + 4 + 8; // BigTIFF entry: tag, type, count (8), value
        if proto[v..v + 2] == code {
            proto[v..v + 2].copy_from_slice(&65000u16.to_le_bytes());
        }
        i += k + 4;
    }
    let p = eer.join("proto.eer");
    std::fs::write(&p, &proto).unwrap();
    let e = bench_file(&p, &[]);
    assert!(e.contains("65000"), "{e}");
    // a gain reference with a zero in it
    let gain = eer.join("gain.mrc");
    let mut g = std::fs::read(&gain).unwrap();
    g[1024 + 4 * 70..1024 + 4 * 71].copy_from_slice(&0f32.to_le_bytes());
    let zero = eer.join("zero-gain.mrc");
    std::fs::write(&zero, &g).unwrap();
    let e = bench_file(&movie, &["--gain", zero.to_str().unwrap()]);
    assert!(e.contains("(6, 1) holds 0"), "{e}");
    // and of another size
    let other = root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    cryocap()
        .args(["movies", "create", "--dir"])
        .arg(&other)
        .args([
            "--movie-format",
            "mrc",
            "--size",
            "32x32",
            "--frames",
            "1",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    let e = bench_file(
        &movie,
        &["--gain", other.join("gain.mrc").to_str().unwrap()],
    );
    assert!(e.contains("32×32 but the movies are 64×48"), "{e}");
}

#[test]
fn movies_create_refuses_what_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let e = bad_input(&["movies", "create", "--dir", d, "--detector", "k9"]);
    assert!(e.contains("k3"), "{e}");
    let e = bad_input(&[
        "movies",
        "create",
        "--dir",
        d,
        "--detector",
        "falcon-4",
        "--super-resolution",
    ]);
    assert!(e.contains("no super-resolution"), "{e}");
    let e = bad_input(&["movies", "create", "--dir", d, "--mode", "4"]);
    assert!(e.contains("0, 1, 2, 6 or 12"), "{e}");
    // flags that would do nothing are refused
    let e = bad_input(&["movies", "create", "--dir", d, "--mode", "12"]);
    assert!(e.contains("not tiff-lzw"), "{e}");
    let e = bad_input(&["bench", "movies", "--dir", d, "--frames", "10"]);
    assert!(e.contains("give --create N or drop them"), "{e}");
    // a K3 super-resolution set cannot pass an impossible reserve
    let e = bad_input(&[
        "movies",
        "create",
        "--dir",
        d,
        "--super-resolution",
        "--movies",
        "1000",
        "--reserve",
        "99%",
    ]);
    assert!(e.contains("--reserve"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn movies_plan_sizes_a_k3_session_and_a_falcon_eer_one() {
    use cryocap::results::movies::MoviesPlanReport;
    let k3: MoviesPlanReport = json(&[
        "movies",
        "plan",
        "--detector",
        "k3",
        "--frames",
        "50",
        "--movies-per-hour",
        "300",
        "--hours",
        "24",
        "--gpus",
        "4",
        "--storage",
        "500TB",
    ]);
    assert_eq!((k3.width, k3.height, k3.frames), (5760, 4092, 50));
    assert_eq!(k3.raw_bytes_per_movie, 5760.0 * 4092.0 * 50.0);
    // LZW of sparse counts: well under the 8-bit frames, not a guessed ratio
    assert!(k3.bytes_per_movie < 0.5 * k3.raw_bytes_per_movie);
    assert!(k3.size_basis.starts_with("measured"));
    assert!((k3.bytes_per_session - 7200.0 * k3.bytes_per_movie).abs() < 1.0);
    assert!((k3.write_bytes_per_second - 300.0 * k3.bytes_per_movie / 3600.0).abs() < 1e-3);
    assert_eq!(k3.seed_read_bytes_per_second, Some(1e9));
    assert!(k3.storage_days.unwrap() > 0.0);
    // more dose, more events: EER grows with the electrons, not the frames
    let eer = |dose: &str, frames: &str| -> MoviesPlanReport {
        json(&[
            "movies",
            "plan",
            "--detector",
            "falcon-4i",
            "--movie-format",
            "eer",
            "--frames",
            frames,
            "--dose",
            dose,
            "--pixel-size",
            "0.73",
        ])
    };
    let a = eer("40", "1000");
    let b = eer("80", "1000");
    let c = eer("40", "2000");
    assert!(b.bytes_per_movie > 1.8 * a.bytes_per_movie);
    assert!(c.bytes_per_movie < 1.2 * a.bytes_per_movie);
    assert_eq!(a.fractions, 40);
    // uncompressed MRC is exact
    let m: MoviesPlanReport = json(&[
        "movies",
        "plan",
        "--movie-format",
        "mrc",
        "--mode",
        "1",
        "--size",
        "100x50",
        "--frames",
        "10",
    ]);
    assert_eq!(m.bytes_per_movie, 1024.0 + 100.0 * 50.0 * 10.0 * 2.0);
    // a measured bench movies JSON replaces the default per-core rate
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("bench.json");
    cryocap()
        .args(["bench", "movies", "--dir"])
        .arg(dir.path())
        .args([
            "--create",
            "1",
            "--size",
            "256x256",
            "--frames",
            "8",
            "--threads",
            "1",
            "--reserve",
            "0",
            "--quiet",
            "--json",
        ])
        .arg(&bench)
        .assert()
        .success();
    let measured: MoviesPlanReport = json(&[
        "movies",
        "plan",
        "--detector",
        "k3",
        "--measured",
        bench.to_str().unwrap(),
    ]);
    assert!(
        measured
            .decode_basis
            .starts_with("measured by bench movies")
    );
    let e = bad_input(&[
        "movies",
        "plan",
        "--movie-format",
        "eer",
        "--detector",
        "falcon-4",
        "--measured",
        bench.to_str().unwrap(),
    ]);
    assert!(e.contains("no one-thread run of eer"), "{e}");
    let e = bad_input(&["movies", "plan", "--frames", "10", "--fractions", "20"]);
    assert!(e.contains("--fractions 20"), "{e}");
}

#[test]
fn a_drift_planted_by_movies_create_is_found_by_the_alignment_reference() {
    use cryocap::movies::{align::align, tiff_io};
    let dir = tempfile::tempdir().unwrap();
    let made: MoviesCreated = json(&[
        "movies",
        "create",
        "--dir",
        dir.path().to_str().unwrap(),
        "--size",
        "384x384",
        "--frames",
        "10",
        "--dose",
        "200",
        "--pixel-size",
        "1",
        "--contrast",
        "0.8",
        "--drift",
        "0.3,-0.2",
        "--movies",
        "1",
        "--reserve",
        "0",
        "--quiet",
    ]);
    assert_eq!(made.drift_px_per_frame, Some([0.3, -0.2]));
    let bytes = std::fs::read(dir.path().join(&made.files[0])).unwrap();
    let mut frames = Vec::new();
    tiff_io::lzw_frames(&bytes, 0..10, |_, f| {
        frames.push(f.iter().map(|&c| f32::from(c)).collect::<Vec<f32>>())
    })
    .unwrap();
    let found = align(&frames, 384, 384, 50.0, 3);
    for (i, f) in found.iter().enumerate() {
        let t = i as f64 - 4.5;
        assert!(
            (f.0 - 0.3 * t).abs() < 0.1 && (f.1 + 0.2 * t).abs() < 0.1,
            "frame {i}: found {f:?}"
        );
    }
}

/// `--gpu-measured`: the frame-alignment rate of a `bench gpu` run (a
/// fixture with made-up figures) feeds the GPU check, scaled by
/// pixel-frames from the nearest size measured, and says so.
#[test]
fn bench_movies_takes_the_gpu_rate_from_a_bench_gpu_run() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/bench-gpu-align.json"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let base = [
        "bench",
        "movies",
        "--dir",
        d,
        "--create",
        "2",
        "--size",
        "256x256",
        "--frames",
        "10",
        "--threads",
        "1",
        "--reserve",
        "0",
        "--movies-per-hour",
        "100",
        "--gpus",
        "2",
    ];
    let o = cryocap()
        .args([&base[..], &["--gpu-measured", fixture, "--format", "json"]].concat())
        .output()
        .unwrap();
    let r: MoviesBenchReport = serde_json::from_slice(&o.stdout).expect("typed JSON");
    let k = r.keep_up.expect("a keep-up check");
    // two GPUs at millions of these small movies an hour are not fed: exit 1
    assert_eq!(
        o.status.code(),
        Some(if k.feeds_gpus == Some(true) { 0 } else { 1 })
    );
    // the Falcon 4i row (4096²×40) is nearer 256²×10 than the K3 one
    let want = 5000.0 * (4096.0 * 4096.0 * 40.0) / (256.0 * 256.0 * 10.0);
    let got = k.gpu_movies_per_hour.unwrap();
    assert!((got - want).abs() < 1e-6 * want, "{got} vs {want}");
    let basis = k.gpu_rate_basis.unwrap();
    assert!(
        basis.contains("scaled by pixel-frames") && basis.contains("falcon-4i"),
        "{basis}"
    );
    assert_eq!(k.feeds_gpus, Some(k.movies_per_hour >= 2.0 * want));
    // the wrong kind of file, both sources, and GPUs with nothing to check
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/plan.json"
    );
    let e = bad_input(&[&base[..], &["--gpu-measured", plan]].concat());
    assert!(e.contains("not the JSON of `cryocap bench gpu`"), "{e}");
    let e = bad_input(&[&base[..], &["--gpu-measured", fixture, "--gpu-rate", "5"]].concat());
    assert!(e.contains("cannot be used with"), "{e}");
    let e = bad_input(&[
        "bench",
        "movies",
        "--dir",
        d,
        "--gpus",
        "2",
        "--gpu-rate",
        "5",
    ]);
    assert!(e.contains("--movies-per-hour"), "{e}");
}
