//! `cryocap bench io --raw-device`: read-only particle reads from a block
//! device. Bad inputs through the binary; a real read of the block device
//! under / when this machine has one that can be read (CI runs as root),
//! skipped with a printed reason otherwise.

use std::path::{Path, PathBuf};

use cryocap::results::bench_io::BenchIoReport;

use crate::common::{bad_input, cryocap};

/// The block device holding /, found by the probe.
fn root_device() -> Result<PathBuf, String> {
    let report = cryocap::storage::probe::probe(Path::new("/"))
        .map_err(|e| format!("the probe of / failed: {e}"))?;
    let dev = report
        .device
        .ok_or_else(|| "/ is not on a block device here".to_string())?;
    let path = PathBuf::from(format!("/dev/{}", dev.name));
    if !path.exists() {
        return Err(format!("{} does not exist here", path.display()));
    }
    Ok(path)
}

/// The block device holding / (or the one named by
/// CRYOCAP_TEST_RAW_DEVICE, e.g. a read-only loop device), when it can be
/// opened for reading.
fn readable_root_device() -> Result<PathBuf, String> {
    let path = match std::env::var_os("CRYOCAP_TEST_RAW_DEVICE") {
        Some(p) => PathBuf::from(p),
        None => root_device()?,
    };
    std::fs::File::open(&path).map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
    Ok(path)
}

#[test]
fn raw_device_conflicts_and_wrong_paths_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("plain.mrcs");
    std::fs::write(&file, [0u8; 4096]).unwrap();
    let f = file.to_str().unwrap();

    for extra in [
        vec!["--dir", d],
        vec!["--files", f],
        vec!["--dir", d, "--create", "10", "--box", "64"],
    ] {
        let mut args = vec!["bench", "io", "--raw-device", "/dev/null"];
        args.extend(extra);
        let line = bad_input(&args);
        assert!(line.contains("--raw-device"), "{line}");
        assert!(line.contains("cannot be used with"), "{line}");
    }

    let line = bad_input(&["bench", "io", "--raw-device", f, "--ramp-time", "0"]);
    assert!(line.contains("not a block device"), "{line}");
    assert!(line.contains(f), "{line}");
    let line = bad_input(&["bench", "io", "--raw-device", "/dev/null"]);
    assert!(line.contains("/dev/null: not a block device"), "{line}");
    let line = bad_input(&["bench", "io", "--raw-device", "/no/such/disk"]);
    assert!(line.contains("no such device"), "{line}");
    let line = bad_input(&["bench", "io", "--dir", d, "--size", "1GiB"]);
    assert!(
        line.contains("--size") && line.contains("--raw-device"),
        "{line}"
    );
    let line = bad_input(&["bench", "io", "--raw-device", "/dev/null", "--size", "lots"]);
    assert!(line.contains("--size"), "{line}");
    let line = bad_input(&["bench", "io", "--raw-device", "/dev/null", "--box", "huge"]);
    assert!(line.contains("--box"), "{line}");
    let line = bad_input(&["bench", "io", "--raw-device", "/dev/null", "--dtype", "f16"]);
    assert!(line.contains("--dtype"), "{line}");
}

#[test]
fn a_block_device_given_to_files_names_raw_device() {
    let dev = match root_device() {
        Ok(d) => d,
        Err(why) => {
            println!("skipped: no block device to name ({why})");
            return;
        }
    };
    let d = dev.to_str().unwrap();
    let line = bad_input(&["bench", "io", "--files", d]);
    assert!(line.contains("block device"), "{line}");
    assert!(line.contains(&format!("--raw-device {d}")), "{line}");
    // Where the device cannot be opened, --raw-device says so in one line.
    if let Err(why) = readable_root_device() {
        println!("{why}: checking the refusal instead of a read");
        let line = bad_input(&["bench", "io", "--raw-device", d]);
        assert!(line.contains("cannot open it read-only"), "{line}");
    }
}

#[test]
fn reads_particles_from_the_root_block_device() {
    let dev = match readable_root_device() {
        Ok(d) => d,
        Err(why) => {
            println!("skipped: no readable block device ({why})");
            return;
        }
    };
    let d = dev.to_str().unwrap();

    // A region larger than the device is refused before any read.
    let line = bad_input(&["bench", "io", "--raw-device", d, "--size", "1000PiB"]);
    assert!(
        line.contains("--size") && line.contains("larger than the device"),
        "{line}"
    );

    let out = cryocap()
        .args([
            "bench",
            "io",
            "--raw-device",
            d,
            "--box",
            "128",
            "--size",
            "32MiB",
        ])
        .args([
            "--pattern",
            "sequential,random",
            "--ramp-time",
            "0",
            "--passes",
            "2",
        ])
        .args(["--format", "json", "--quiet"])
        .assert()
        .success()
        .get_output()
        .clone();
    let r: BenchIoReport = serde_json::from_slice(&out.stdout).expect("bench io JSON");
    let particle = 128 * 128 * 4;
    assert_eq!(r.stack.files, 1);
    assert!(!r.stack.created);
    assert_eq!(r.stack.particle_bytes, particle);
    assert_eq!(r.stack.particles, (32 << 20) / particle);
    assert_eq!(r.stack.bytes, 32 << 20);
    assert!(r.stack.alignment.is_power_of_two() && r.stack.alignment >= 512);
    assert_eq!(r.runs.len(), 2);
    for run in &r.runs {
        assert_eq!(run.particles_read, 2 * r.stack.particles, "{}", run.pattern);
        assert_eq!(run.bytes_read, 2 * (32 << 20));
        assert!(run.device_bytes >= run.bytes_read);
        assert!(run.direct || run.direct_fallback.is_some());
        assert!(run.bytes_per_second > 0.0 && run.latency_ns.p50 > 0);
        assert!(run.latency_ns.max >= run.latency_ns.p999);
    }
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("read-only raw reads of block device") && n.contains(d)),
        "{:?}",
        r.notes
    );
}
