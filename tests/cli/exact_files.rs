//! `--size-model exact` equals the bytes real MRC files take on disk, written
//! by another tool (Python `mrcfile`). CI installs mrcfile and sets
//! CRYOCAP_REQUIRE_MRCFILE=1 so that this test cannot be skipped there.

use assert_cmd::prelude::*;
use std::process::Command;

use crate::common::{plan_json, python_has};

fn written_bytes(particles: u64, box_size: u32, per_file: u64, dtype: &str, nsymbt: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/write_mrc_stacks.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .args([
            particles.to_string(),
            box_size.to_string(),
            per_file.to_string(),
        ])
        .arg(dtype)
        .arg(nsymbt.to_string())
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn exact_model_equals_files_written_by_mrcfile() {
    if !python_has("mrcfile, numpy") {
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_MRCFILE").is_none(),
            "CRYOCAP_REQUIRE_MRCFILE is set but python3 cannot import mrcfile"
        );
        eprintln!("skipped: python3 with mrcfile and numpy not found (pip install mrcfile)");
        return;
    }
    for (n, b, per_file, dtype, nsymbt) in [
        (2500u64, 64u32, 1000u64, "f32", 0u64),
        (1000, 48, 1000, "f16", 0),
        (777, 32, 100, "f32", 0),
        (300, 40, 128, "f32", 1024),
    ] {
        let expect = written_bytes(n, b, per_file, dtype, nsymbt);
        let r = plan_json(&[
            "--particles",
            &n.to_string(),
            "--box",
            &b.to_string(),
            "--dtype",
            dtype,
            "--size-model",
            "exact",
            "--particles-per-file",
            &per_file.to_string(),
            "--nsymbt",
            &nsymbt.to_string(),
        ]);
        assert_eq!(
            r.stack.bytes, expect,
            "{n} particles, box {b}, {per_file}/file, {dtype}, nsymbt {nsymbt}"
        );
        assert_eq!(r.stack.files, Some(n.div_ceil(per_file)));
    }
}
