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
fn bad_flags_are_named() {
    assert!(bad_input(&["bench", "gpu", "--box", "127"]).contains("--box"));
    assert!(bad_input(&["bench", "gpu", "--box", "128,x"]).contains("'x'"));
    assert!(bad_input(&["bench", "gpu", "--pad", "3"]).contains("--pad"));
    assert!(bad_input(&["bench", "gpu", "--particles", "0"]).contains("--particles"));
}
