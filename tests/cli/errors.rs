//! Bad input: one clear line on stderr, exit 2, no panic.

use crate::common::bad_input;

fn plan(extra: &[&str]) -> String {
    let mut args = vec!["plan"];
    args.extend_from_slice(extra);
    bad_input(&args)
}

#[test]
fn bad_boxes() {
    for b in ["0", "-5", "8193", "abc", "1.5", ""] {
        let line = plan(&["--particles", "1e6", "--box", b]);
        assert!(line.contains("--box"), "box {b:?}: {line}");
    }
}

#[test]
fn bad_particle_counts() {
    for p in ["0", "-1", "lots", "1.5", "1e20"] {
        let line = plan(&["--particles", p, "--box", "256"]);
        assert!(line.contains("--particles"), "particles {p:?}: {line}");
    }
}

#[test]
fn missing_inputs_are_named() {
    assert!(plan(&["--box", "256"]).contains("--particles"));
    assert!(plan(&["--particles", "1e6"]).contains("--box"));
}

#[test]
fn unknown_gpu_suggests_nearest_names() {
    let line = plan(&["--particles", "1e6", "--box", "256", "--gpu", "rtx-3080"]);
    assert!(line.contains("unknown GPU 'rtx-3080'"), "{line}");
    assert!(
        line.contains("rtx-3090") || line.contains("rtx-3060"),
        "{line}"
    );
}

#[test]
fn unknown_dataset_suggests_nearest_names() {
    let line = plan(&["--dataset", "EMPIAR-10029"]);
    assert!(line.contains("unknown dataset"), "{line}");
    assert!(line.contains("EMPIAR-10028"), "{line}");
}

#[test]
fn contradictory_flags() {
    let base = ["--particles", "1e6", "--box", "256"];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        plan(&v)
    };
    assert!(with(&["--vram", "12", "--gpu", "rtx-3090"]).contains("--vram and --gpu"));
    assert!(with(&["--particles-per-file", "200"]).contains("--size-model exact"));
    assert!(with(&["--nsymbt", "0"]).contains("--size-model exact"));
    assert!(with(&["--ssd-quota", "1000"]).contains("--ssd"));
    assert!(with(&["--ssd", "5GB"]).contains("--ssd-reserve"));
}

#[test]
fn other_bad_values() {
    let base = ["--particles", "1e6", "--box", "256"];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        plan(&v)
    };
    assert!(with(&["--dtype", "f64"]).contains("--dtype"));
    assert!(with(&["--size-model", "fancy"]).contains("--size-model"));
    assert!(with(&["--ssd", "2"]).contains("unit"));
    assert!(with(&["--ssd", "2XB"]).contains("unknown unit"));
    assert!(with(&["--vram", "-3"]).contains("--vram"));
    assert!(with(&["--vram", "0.01"]).contains("--vram"));
    assert!(with(&["--gpus", "0"]).contains("--gpus"));
    assert!(with(&["--passes", "many"]).contains("--passes"));
    assert!(with(&["--classes", "0"]).contains("--classes"));
    assert!(with(&["--pixel-size", "-1"]).contains("--pixel-size"));
    assert!(with(&["--cache-tier", "floppy"]).contains("--cache-tier"));
    assert!(with(&["--format", "yaml"]).contains("yaml"));
    assert!(with(&["--no-such-flag"]).contains("--no-such-flag"));
}

#[test]
fn catalog_refuses_formats_it_cannot_write() {
    let line = bad_input(&["catalog", "gpus", "--format", "json"]);
    assert!(line.contains("--format json"), "{line}");
}
