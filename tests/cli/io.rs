//! `cryocap stack`, `cryocap probe` and `cryocap bench io` through the binary:
//! files other tools accept, JSON read back into the result types, and every
//! bad input answered with one `error:` line and exit 2.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use cryocap::results::probe::ProbeReport;
use cryocap::results::stack::{StackCreated, StackInfo};
use cryocap::storage::mrc::{Mode, MrcHeader};

use crate::common::{bad_input, cryocap, json, python_has};

fn create(dir: &Path, particles: &str, box_size: &str, extra: &[&str]) -> StackCreated {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "stack",
        "create",
        "--dir",
        d,
        "--particles",
        particles,
        "--box",
        box_size,
        "--reserve",
        "0",
    ];
    args.extend_from_slice(extra);
    json(&args)
}

#[test]
fn created_stacks_pass_mrcfile_validate() {
    let dir = tempfile::tempdir().unwrap();
    let r = create(
        dir.path(),
        "250",
        "32",
        &["--particles-per-file", "100", "--pixel-size", "1.25"],
    );
    assert_eq!(
        r.files,
        ["stack_00001.mrcs", "stack_00002.mrcs", "stack_00003.mrcs"]
    );
    assert_eq!(r.bytes, 3 * 1024 + 250 * 32 * 32 * 4);
    assert_eq!(r.mode, 2);
    let f16 = tempfile::tempdir().unwrap();
    let r16 = create(
        f16.path(),
        "40",
        "48",
        &["--dtype", "f16", "--nsymbt", "2048"],
    );
    assert_eq!(r16.bytes, 1024 + 2048 + 40 * 48 * 48 * 2);
    let sizes: Vec<u64> = r
        .files
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
        .collect();
    assert_eq!(
        sizes,
        [1024 + 100 * 4096, 1024 + 100 * 4096, 1024 + 50 * 4096]
    );

    if !python_has("mrcfile, numpy") {
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_MRCFILE").is_none(),
            "CRYOCAP_REQUIRE_MRCFILE is set but python3 cannot import mrcfile"
        );
        eprintln!("skipped the mrcfile half: python3 with mrcfile and numpy not found");
        return;
    }
    let script = r#"
import sys, mrcfile, numpy as np
for p in sys.argv[1:]:
    assert mrcfile.validate(p), p
    with mrcfile.open(p, permissive=False) as m:
        assert m.is_image_stack(), p
        d = m.data
        assert np.count_nonzero(d) > 0.99 * d.size, p
        assert -1.0 <= float(d.min()) and float(d.max()) <= 1.0, p
        assert abs(float(d.std()) - (1/3) ** 0.5) < 0.02, (p, float(d.std()))
        print(p, m.header.mode, d.shape, float(m.voxel_size.x))
"#;
    let mut paths: Vec<PathBuf> = r.files.iter().map(|f| dir.path().join(f)).collect();
    paths.extend(r16.files.iter().map(|f| f16.path().join(f)));
    let out = Std::new("python3")
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 (100, 32, 32) 1.25"), "{stdout}");
    assert!(stdout.contains("12 (40, 48, 48) 1.0"), "{stdout}");
}

#[test]
fn stack_info_reads_headers_back() {
    let dir = tempfile::tempdir().unwrap();
    create(
        dir.path(),
        "30",
        "16",
        &["--dtype", "f16", "--pixel-size", "0.8"],
    );
    let p = dir.path().join("stack_00001.mrcs");
    let info: StackInfo = json(&["stack", "info", p.to_str().unwrap()]);
    let f = &info.files[0];
    assert_eq!(
        (f.nx, f.ny, f.nz, f.mode, f.ispg, f.nversion),
        (16, 16, 30, 12, 0, 20141)
    );
    assert_eq!(f.machine_stamp, "44 44 00 00");
    assert_eq!(f.pixel_size_a, Some(0.8));
    assert_eq!(f.file_bytes, 1024 + 30 * 16 * 16 * 2);
    let text = cryocap()
        .args(["stack", "info", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("16 × 16 × 30"));
}

/// Writes a header with `edit` applied and `data` bytes after it.
fn odd_file(dir: &Path, name: &str, edit: impl Fn(&mut [u8; 1024]), data: usize) -> PathBuf {
    let mut h = MrcHeader::image_stack(8, 8, 4, Mode::Float32, 1.0).to_bytes();
    edit(&mut h);
    let mut bytes = h.to_vec();
    bytes.resize(1024 + data, 1);
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn stack_info_names_each_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let full = 4 * 8 * 8 * 4;
    let cases: Vec<(PathBuf, &str)> = vec![
        (odd_file(d, "short.mrcs", |_| {}, full - 100), "truncated"),
        (
            odd_file(d, "long.mrcs", |_| {}, full + 7),
            "wrong size for its header",
        ),
        (
            odd_file(
                d,
                "mode.mrcs",
                |h| h[12..16].copy_from_slice(&5i32.to_le_bytes()),
                full,
            ),
            "unknown MRC mode 5",
        ),
        (
            odd_file(
                d,
                "nsym.mrcs",
                |h| h[92..96].copy_from_slice(&(-8i32).to_le_bytes()),
                full,
            ),
            "bad NSYMBT",
        ),
        (
            odd_file(
                d,
                "nsym2.mrcs",
                |h| h[92..96].copy_from_slice(&100_000i32.to_le_bytes()),
                full,
            ),
            "bad NSYMBT",
        ),
        (
            {
                let p = d.join("notes.mrcs");
                std::fs::write(&p, "particles: see the STAR file\n".repeat(60)).unwrap();
                p
            },
            "not an MRC file",
        ),
        (
            {
                let p = d.join("tiny.mrc");
                std::fs::write(&p, b"MRC").unwrap();
                p
            },
            "shorter than the 1024-byte header",
        ),
        (d.join("absent.mrcs"), "cannot read"),
    ];
    for (p, what) in cases {
        let line = bad_input(&["stack", "info", p.to_str().unwrap()]);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(line.contains(name) && line.contains(what), "{name}: {line}");
    }
}

#[test]
fn stack_create_refuses_bad_targets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("nope");
    let line = bad_input(&[
        "stack",
        "create",
        "--dir",
        missing.to_str().unwrap(),
        "--particles",
        "10",
        "--box",
        "16",
    ]);
    assert!(line.contains("does not exist"), "{line}");
    let line = bad_input(&[
        "stack",
        "create",
        "--dir",
        d,
        "--particles",
        "1e12",
        "--box",
        "4096",
    ]);
    assert!(
        line.contains("not enough space") && line.contains("--reserve"),
        "{line}"
    );
    // The default reserve (at least 10 GB) counts too.
    let line = bad_input(&[
        "stack",
        "create",
        "--dir",
        d,
        "--particles",
        "10",
        "--box",
        "16",
        "--reserve",
        "100%",
    ]);
    assert!(line.contains("not enough space"), "{line}");
    let line = bad_input(&[
        "stack",
        "create",
        "--dir",
        d,
        "--particles",
        "10",
        "--box",
        "16",
        "--dtype",
        "f64",
    ]);
    assert!(line.contains("--dtype"), "{line}");
    let line = bad_input(&[
        "stack",
        "create",
        "--dir",
        d,
        "--particles",
        "0",
        "--box",
        "16",
    ]);
    assert!(line.contains("--particles"), "{line}");
    std::fs::write(dir.path().join("stack_00001.mrcs"), b"mine").unwrap();
    let line = bad_input(&[
        "stack",
        "create",
        "--dir",
        d,
        "--particles",
        "10",
        "--box",
        "16",
        "--reserve",
        "0",
    ]);
    assert!(line.contains("already exists"), "{line}");
    assert_eq!(
        std::fs::read(dir.path().join("stack_00001.mrcs")).unwrap(),
        b"mine"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing else written"
    );
}

/// Runs the binary as user `nobody` when the tests run as root (root reads
/// everything), so that permission errors can be seen.
fn as_unprivileged(args: &[&str]) -> Option<std::process::Output> {
    let bin = assert_cmd::cargo::cargo_bin("cryocap");
    if rustix::process::geteuid().is_root() {
        let ok = Std::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("skipped: running as root and setpriv is missing");
            return None;
        }
        Some(
            Std::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(bin)
                .args(args)
                .output()
                .unwrap(),
        )
    } else {
        Some(Std::new(bin).args(args).output().unwrap())
    }
}

#[test]
fn no_permission_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let top = tempfile::tempdir().unwrap();
    // A directory nobody but its owner may enter, inside one everybody may.
    std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = top.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    create(&locked, "10", "16", &[]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    let l = locked.to_str().unwrap();
    let Some(out) = as_unprivileged(&["bench", "io", "--dir", l, "--ramp-time", "0"]) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: --dir") && err.contains("ermission denied"),
        "{err}"
    );
    let Some(out) = as_unprivileged(&[
        "stack",
        "create",
        "--dir",
        l,
        "--particles",
        "5",
        "--box",
        "8",
        "--reserve",
        "0",
    ]) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write there"), "{err}");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn bench_io_reads_every_pattern_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fio = dir.path().join("job.fio");
    let env: cryocap::results::Envelope = json(&[
        "bench",
        "io",
        "--dir",
        d,
        "--create",
        "120",
        "--box",
        "64",
        "--particles-per-file",
        "50",
        "--reserve",
        "0",
        "--pattern",
        "sequential,random,epochs:3,subset:0.25",
        "--passes",
        "2",
        "--ramp-time",
        "0",
        "--threads",
        "2",
        "--iodepth",
        "2",
        "--emit-fio",
        fio.to_str().unwrap(),
        "--gpu-rate",
        "10",
        "--gpus",
        "2",
    ]);
    assert_eq!(env.schema_version, cryocap::results::SCHEMA_VERSION);
    let cryocap::results::Kind::BenchIo(r) = env.kind else {
        panic!("a bench io result")
    };
    assert!(r.stack.created);
    assert_eq!(
        (r.stack.files, r.stack.particles, r.stack.particle_bytes),
        (3, 120, 64 * 64 * 4)
    );
    let read: Vec<(String, u64)> = r
        .runs
        .iter()
        .map(|x| (x.pattern.clone(), x.particles_read))
        .collect();
    assert_eq!(
        read,
        [
            ("sequential".into(), 240),
            ("random".into(), 240),
            ("epochs:3".into(), 360),
            ("subset:0.25".into(), 60)
        ]
    );
    for x in &r.runs {
        assert_eq!(x.bytes_read, x.particles_read * 64 * 64 * 4);
        assert_eq!((x.threads, x.iodepth), (2, 2));
        assert!(x.direct || x.direct_fallback.is_some());
        let l = x.latency_ns;
        assert!(
            0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max
        );
        let rate = x.bytes_read as f64 / x.seconds;
        assert!((x.bytes_per_second - rate).abs() < 1e-6 * rate);
    }
    let feed = r.feed.unwrap();
    assert!(feed.per_run.iter().all(|f| f.enough == Some(true)));
    let job = std::fs::read_to_string(&fio).unwrap();
    assert!(
        job.contains("bs=16384") && job.contains("rw=randread") && job.contains("iodepth=2"),
        "{job}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        [std::ffi::OsString::from("job.fio")],
        "the created stack is deleted"
    );
}

#[test]
fn bench_io_says_when_storage_cannot_feed_the_gpus() {
    let dir = tempfile::tempdir().unwrap();
    create(dir.path(), "20", "16", &[]);
    let out = cryocap()
        .args([
            "bench",
            "io",
            "--dir",
            dir.path().to_str().unwrap(),
            "--ramp-time",
            "0",
            "--pattern",
            "random",
        ])
        .args(["--gpu-rate", "1e9", "--gpus", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("GPUs this storage keeps fed") && text.contains("no"),
        "{text}"
    );
}

#[test]
fn bench_io_refuses_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("nope");
    let line = bad_input(&["bench", "io", "--dir", missing.to_str().unwrap()]);
    assert!(line.contains("does not exist"), "{line}");
    let line = bad_input(&["bench", "io", "--dir", d]);
    assert!(line.contains("no .mrc or .mrcs files"), "{line}");
    let line = bad_input(&["bench", "io"]);
    assert!(line.contains("--dir"), "{line}");
    let line = bad_input(&["bench", "io", "--dir", d, "--create", "10"]);
    assert!(line.contains("--box"), "{line}");
    let line = bad_input(&[
        "bench", "io", "--dir", d, "--create", "1e12", "--box", "4096",
    ]);
    assert!(line.contains("not enough space"), "{line}");

    create(dir.path(), "20", "16", &["--particles-per-file", "10"]);
    for (flag, value) in [
        ("--align", "3000"),
        ("--align", "256"),
        ("--pattern", "zigzag"),
        ("--threads", "0"),
        ("--iodepth", "-1"),
        ("--ramp-time", "soon"),
        ("--runtime", "0"),
        ("--gpus", "2"),
    ] {
        let line = bad_input(&["bench", "io", "--dir", d, flag, value]);
        assert!(line.contains(flag), "{flag} {value}: {line}");
    }

    // A foreign file and a truncated file in the stack set are named.
    let foreign = dir.path().join("zz_notes.mrcs");
    std::fs::write(&foreign, "not particles\n".repeat(100)).unwrap();
    let line = bad_input(&["bench", "io", "--dir", d, "--ramp-time", "0"]);
    assert!(
        line.contains("zz_notes.mrcs") && line.contains("not an MRC file"),
        "{line}"
    );
    std::fs::remove_file(&foreign).unwrap();
    let f2 = dir.path().join("stack_00002.mrcs");
    let len = std::fs::metadata(&f2).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f2)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let line = bad_input(&["bench", "io", "--dir", d, "--ramp-time", "0"]);
    assert!(
        line.contains("stack_00002.mrcs") && line.contains("truncated"),
        "{line}"
    );
    let line = bad_input(&[
        "bench",
        "io",
        "--files",
        f2.to_str().unwrap(),
        dir.path().join("gone.mrcs").to_str().unwrap(),
    ]);
    assert!(
        line.contains("stack_00002.mrcs") || line.contains("gone.mrcs"),
        "{line}"
    );
    let line = bad_input(&[
        "bench",
        "io",
        "--files",
        dir.path().join("gone.mrcs").to_str().unwrap(),
    ]);
    assert!(line.contains("gone.mrcs: no such file"), "{line}");

    // Block devices are refused before anything is opened.
    if let Some(dev) = ["/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/loop0"]
        .iter()
        .find(|p| Path::new(p).exists())
    {
        let line = bad_input(&["bench", "io", "--files", dev]);
        assert!(line.contains("block device"), "{line}");
    }
}

#[test]
fn probe_describes_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let r: ProbeReport = json(&["probe", dir.path().to_str().unwrap()]);
    assert!(r.fs_type.is_some() && r.mount_point.is_some());
    assert!(r.available_bytes.unwrap() > 0);
    assert!(r.direct_io.alignment.is_power_of_two());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    if let Some(d) = &r.device {
        assert!(!d.name.is_empty());
    } else {
        assert!(r.network_fs.is_some() || r.unknown.iter().any(|u| u.starts_with("block device")));
    }
    let line = bad_input(&["probe", dir.path().join("nope").to_str().unwrap()]);
    assert!(line.contains("no such file or directory"), "{line}");
}
