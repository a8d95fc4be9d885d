//! `cryocap facility`: the example facility runs, a seed gives one result
//! byte for byte, what-ifs sit side by side, and bad facility files get
//! one line and exit 2.

use std::path::{Path, PathBuf};

use cryocap::results::Kind;

use crate::common::{bad_input, cryocap, envelope};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/examples/facility.toml")
}

fn csv(args: &[&str]) -> Vec<u8> {
    let out = cryocap()
        .arg("facility")
        .arg(example())
        .args(args)
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_example_runs_with_its_checks_holding_and_what_ifs_side_by_side() {
    let ex = example();
    let e = envelope(&[
        "facility",
        ex.to_str().unwrap(),
        "--replicates",
        "3",
        "--what-if",
        "gpu-nodes+=1",
        "--what-if",
        "link=100GbE",
    ]);
    let Kind::Facility(r) = e.kind else {
        panic!("not a facility result")
    };
    assert_eq!(r.variants.len(), 3);
    assert_eq!(r.variants[1].name, "gpu-nodes+=1");
    for v in &r.variants {
        assert!(v.datasets > 0 && v.finished <= v.datasets, "{}", v.name);
        assert!(v.checks.littles_law_error < 1e-9, "{:?}", v.checks);
        let (d, b) = (v.checks.bytes_demanded, v.checks.bytes_read);
        assert!((d - b).abs() <= d * 1e-9, "{d} {b}");
        assert!(v.checks.max_utilisation <= 1.0 + 1e-9);
        assert_eq!(v.labs.len(), 3);
        assert_eq!(v.timeline.len(), 30);
    }
    // One more GPU node: GPUs are busier less of the time.
    let gpu = |v: &cryocap::results::facility::Variant| v.resources[0].mean;
    assert!(gpu(&r.variants[1]) < gpu(&r.variants[0]));
}

#[test]
fn a_seed_gives_one_result_byte_for_byte_and_seeds_differ() {
    let a = csv(&["--seed", "3", "--days", "20"]);
    let b = csv(&["--seed", "3", "--days", "20"]);
    let c = csv(&["--seed", "4", "--days", "20"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// The example with `from` replaced by `to`, in `dir` beside copies of its
/// lab files.
fn edited(dir: &Path, from: &str, to: &str) -> PathBuf {
    let examples = example().parent().unwrap().to_path_buf();
    for lab in [
        "lab-structural.toml",
        "lab-membrane.toml",
        "lab-screening.toml",
    ] {
        std::fs::copy(examples.join(lab), dir.join(lab)).unwrap();
    }
    let text = std::fs::read_to_string(example()).unwrap();
    assert!(text.contains(from), "{from}");
    let p = dir.join("facility.toml");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p
}

#[test]
fn bad_facilities_get_one_line_naming_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("workload = \"lab-structural.toml\"\n", "", "no workload"),
        (
            "gpu = \"rtx-a6000\"",
            "gpu = \"rtx-9999\"",
            "unknown GPU 'rtx-9999'",
        ),
        ("share = 2", "share = 0", "share must be above 0"),
        ("\"wed 10:00 24h\"", "\"mon 20:00 24h\"", "overlaps itself"),
        (
            "policy = \"fair\"",
            "policy = \"lottery\"",
            "policy 'lottery'",
        ),
        (
            "labs = [\"screening\"]",
            "labs = [\"nobody\"]",
            "books lab 'nobody'",
        ),
    ];
    for (from, to, expect) in cases {
        let p = edited(dir.path(), from, to);
        let line = bad_input(&["facility", p.to_str().unwrap()]);
        assert!(line.contains(expect), "{from} -> {to}: {line}");
    }
    let ex = example();
    let line = bad_input(&["facility", ex.to_str().unwrap(), "--what-if", "gpus=lots"]);
    assert!(line.contains("--what-if 'gpus=lots'"), "{line}");
    let line = bad_input(&["facility", "/nonexistent/facility.toml"]);
    assert!(line.contains("/nonexistent/facility.toml"), "{line}");
}

#[test]
fn an_output_may_not_overwrite_a_lab_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = edited(dir.path(), "share = 2", "share = 2");
    let lab = dir.path().join("lab-structural.toml");
    let before = std::fs::read(&lab).unwrap();
    let out = cryocap()
        .arg("facility")
        .arg(&p)
        .arg("--json")
        .arg(&lab)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&lab).unwrap(), before);
}

#[test]
fn results_of_one_study_merge_side_by_side_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example();
    let run = |args: &[&str], json: &Path| {
        let out = cryocap()
            .arg("facility")
            .arg(&ex)
            .args(args)
            .arg("--json")
            .arg(json)
            .arg("--quiet")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    run(&["--days", "10", "--what-if", "gpu-nodes+=1"], &a);
    run(&["--days", "10", "--what-if", "prep-nodes+=1"], &b);
    run(&["--days", "11"], &c);
    let e = envelope(&[
        "facility",
        "--merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let Kind::Facility(r) = e.kind else {
        panic!("not a facility result")
    };
    let names: Vec<&str> = r.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["as configured", "gpu-nodes+=1", "prep-nodes+=1"]);
    let line = bad_input(&[
        "facility",
        "--merge",
        a.to_str().unwrap(),
        c.to_str().unwrap(),
    ]);
    assert!(line.contains("only runs of one study merge"), "{line}");
}

#[test]
fn a_bench_movies_result_sets_the_pre_processing_rate() {
    let dir = tempfile::tempdir().unwrap();
    let p = edited(
        dir.path(),
        "movies_per_hour = 600",
        "bench_movies = \"bench.json\"",
    );
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results/bench-movies.json");
    std::fs::copy(fixture, dir.path().join("bench.json")).unwrap();
    let e = envelope(&["facility", p.to_str().unwrap(), "--days", "7"]);
    let Kind::Facility(r) = e.kind else {
        panic!("not a facility result")
    };
    assert!(
        r.notes.iter().any(|n| n.contains("bench movies on")),
        "{:?}",
        r.notes
    );
    std::fs::write(dir.path().join("bench.json"), "{}").unwrap();
    let line = bad_input(&["facility", p.to_str().unwrap()]);
    assert!(line.contains("bench_movies"), "{line}");
}
