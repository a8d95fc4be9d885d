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
