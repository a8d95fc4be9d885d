//! `recommend` through the binary: the answer, exit 1 when nothing meets the
//! target, one-line errors on bad prices and catalog names.

use std::path::PathBuf;

use crate::common::cryocap;

fn example_prices() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/prices-example.csv")
}

fn run(extra: &[&str], prices: &std::path::Path) -> (i32, String, String) {
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "256",
            "--gpus",
            "rtx-3090,h100-sxm",
        ])
        .args([
            "--per-node",
            "2,4",
            "--tiers",
            "nfs-10gbe,nvme-gen4",
            "--prices",
        ])
        .arg(prices)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn recommends_and_labels_measured_and_placeholder_figures() {
    let (rc, out, err) = run(&["--target", "8"], &example_prices());
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("cheapest meeting the target"), "{out}");
    // The H100 SXM is the GPU the stored bench ran on: measured, the others scaled.
    assert!(out.contains("2× h100-sxm, nvme-gen4  measured"), "{out}");
    assert!(out.contains("2× rtx-3090, nvme-gen4  scaled"), "{out}");
    assert!(out.contains("placeholder"), "{out}");
}

#[test]
fn json_names_the_chosen_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let (rc, _, err) = run(&["--json", json.to_str().unwrap()], &example_prices());
    assert_eq!(rc, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["kind"], "recommend");
    let chosen = v["chosen"].as_str().unwrap();
    let ranked = v["ranked"].as_array().unwrap();
    let row = ranked.iter().find(|r| r["label"] == chosen).unwrap();
    assert_eq!(row["meets_target"], true);
    for r in ranked
        .iter()
        .filter(|r| r["meets_target"] == true && r["within_budget"] == true)
    {
        assert!(r["fleet_price"].as_f64() >= row["fleet_price"].as_f64());
    }
}

#[test]
fn exit_1_says_what_is_short() {
    let (rc, out, err) = run(&["--target", "1e6", "--max-nodes", "2"], &example_prices());
    assert_eq!(rc, 1, "{out}{err}");
    assert!(
        err.contains("reaches") && err.contains("--max-nodes 2"),
        "{err}"
    );
    let (rc, _, err) = run(&["--target", "8", "--budget", "100"], &example_prices());
    assert_eq!(rc, 1);
    assert!(err.contains("over the budget"), "{err}");
}

#[test]
fn bad_input_is_one_line_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let head = "item,unit_price,currency,date,source\nnode-base,1000,USD,d,s\nstorage:nvme-gen4,1,USD,d,s\nstorage:nfs-10gbe,1,USD,d,s\n";
    for (rows, want) in [
        ("gpu:rtx-3090,-5,USD,d,s\ngpu:h100-sxm,1,USD,d,s\n", "≥ 0"),
        ("gpu:rtx-3090,NaN,USD,d,s\ngpu:h100-sxm,1,USD,d,s\n", "≥ 0"),
        (
            "gpu:rtx-3090,5,EUR,d,s\ngpu:h100-sxm,1,USD,d,s\n",
            "currency",
        ),
        ("gpu:rtx-3090,5,USD,d,s\n", "no price for gpu:h100-sxm"),
        ("gpu:quantum-9000,5,USD,d,s\n", "unknown GPU 'quantum-9000'"),
    ] {
        let p = dir.path().join("p.csv");
        std::fs::write(&p, format!("{head}{rows}")).unwrap();
        let (rc, out, err) = run(&[], &p);
        assert_eq!(rc, 2, "{rows}: {out}{err}");
        assert!(
            err.starts_with("error:") && err.contains(want),
            "{rows}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "256",
            "--gpus",
            "rtx-9999",
            "--prices",
        ])
        .arg(example_prices())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown GPU 'rtx-9999'"));
}

/// docs/recommend.md's worked example: seed 003's example systems (4×
/// Tesla V100 32 GB and 2× RTX 3090, each reading from a PCIe SSD cache)
/// for 2,000,000 particles at box 432, checked against the hand arithmetic
/// written out there.
#[test]
fn seed_example_systems_match_the_hand_arithmetic() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "432",
            "--gpus",
            "tesla-v100-32gb,rtx-3090",
            "--per-node",
            "2,4",
            "--tiers",
            "nvme-gen4",
            "--target",
            "40",
            "--max-nodes",
            "2",
            "--prices",
        ])
        .arg(example_prices())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let row = |label: &str| {
        v["ranked"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == label)
            .unwrap_or_else(|| panic!("no {label}"))
            .clone()
    };
    let close = |got: &serde_json::Value, want: f64| {
        let g = got.as_f64().unwrap();
        assert!((g - want).abs() <= 1e-6 * want.abs(), "{g} vs {want}");
    };
    // By hand: stack (4·432² + 128 + 1024)·2e6 = 1,495,296,000,000 B; one
    // pass from NVMe Gen4 at 7.4 GB/s = 202.067 s; 85 passes = 4.771 h.
    let stack: f64 = (4.0 * 432.0 * 432.0 + 1152.0) * 2e6;
    assert_eq!(stack, 1_495_296_000_000.0);
    let hours = stack / 7.4e9 * 85.0 / 3600.0;
    assert!((hours - 4.771_027).abs() < 1e-6);
    // The GPUs are faster than that: H100 SXM measured 43,324.77 particles/s
    // at box 432; scaled by memory bandwidth, 2× RTX 3090 (936 GB/s) take
    // 2e6 / (2 · 43,324.77 · 936/3350) = 82.6 s a pass and 4× V100 (900
    // GB/s) 43.0 s: both wait on the SSD.
    let h100 = 43_324.767_935_815_275;
    assert!(2e6 / (2.0 * h100 * 936.0 / 3350.0) < stack / 7.4e9);
    assert!(2e6 / (4.0 * h100 * 900.0 / 3350.0) < stack / 7.4e9);
    let per_month = 730.5 / hours; // 153.11
    for (label, price) in [
        // node-base 10,000 + 2 × 1,499 + NVMe 800
        ("2× rtx-3090, nvme-gen4", 13_798.0),
        // node-base 10,000 + 4 × 9,000 (placeholder) + NVMe 800
        ("4× tesla-v100-32gb, nvme-gen4", 46_800.0),
    ] {
        let r = row(label);
        assert_eq!(r["bottleneck"], "storage", "{label}");
        close(&r["hours_per_dataset"], hours);
        close(&r["datasets_per_month_per_node"], per_month);
        close(&r["node_price"], price);
        assert_eq!(r["nodes"], 1, "{label}");
        close(&r["cost_per_dataset"], price / (per_month * 12.0 * 5.0));
    }
    // 1.50 and 5.09 USD per dataset, as the docs say.
    assert!((13_798.0 / (per_month * 60.0) - 1.502).abs() < 1e-3);
    assert!((46_800.0 / (per_month * 60.0) - 5.094).abs() < 1e-3);
    assert_eq!(v["chosen"], "2× rtx-3090, nvme-gen4");
}

/// The HTML report holds the Pareto frontier as an SVG chart with one
/// circle per frontier configuration, and `report` draws it again from the
/// JSON.
#[test]
fn html_charts_the_frontier_one_point_each() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "256",
            "--gpus",
            "rtx-3060,rtx-3090,h100-sxm",
            "--per-node",
            "2,4",
            "--tiers",
            "nfs-10gbe,nvme-gen4",
            "--prices",
        ])
        .arg(example_prices())
        .arg("--html")
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let frontier: Vec<&str> = v["frontier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(frontier.len() >= 2, "{frontier:?}");
    let h = std::fs::read_to_string(&html).unwrap();
    let start = h.find("<svg").expect("an <svg> in the HTML");
    let end = h[start..].find("</svg>").unwrap() + start;
    let svg = &h[start..end];
    assert_eq!(svg.matches("<circle").count(), frontier.len(), "{svg}");
    for f in &frontier {
        assert!(svg.contains(f), "{f} not labelled");
    }
    // Re-rendered from the JSON: the same chart.
    let again = dir.path().join("again.html");
    let out = cryocap()
        .arg("report")
        .arg(&json)
        .arg("-o")
        .arg(&again)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h2 = std::fs::read_to_string(&again).unwrap();
    assert_eq!(h2.matches("<circle").count(), frontier.len());
}

fn json_rows(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["ranked"].as_array().unwrap().clone()
}

fn recommend_json(extra: &[&std::ffi::OsStr]) -> (i32, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "432",
            "--gpus",
            "rtx-3090,h100-sxm",
            "--per-node",
            "2,4",
            "--tiers",
            "nfs-10gbe,nvme-gen4",
            "--prices",
        ])
        .arg(example_prices())
        .arg("--json")
        .arg(&json)
        .args(extra)
        .output()
        .unwrap();
    let stdout =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let v = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), stdout, v)
}

/// A measured `bench gpu` result (the stored H100 run, its rates halved as
/// if from a slower demo node) replaces the GPU rate of exactly the GPU it
/// ran on; the output says which figure, from which host and when.
#[test]
fn measured_bench_gpu_changes_exactly_that_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let stored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/bench-gpu-h100.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stored).unwrap()).unwrap();
    v["kind"] = "bench-gpu".into();
    v["schema_version"] = 2.into();
    v["cryocap_version"] = "0.1.0".into();
    v["node"] = "vendor-demo-01".into();
    v["started_at"] = 1_796_205_588u64.into();
    for r in v["devices"][0]["end_to_end"].as_array_mut().unwrap() {
        let rate = r["median_particles_per_second"].as_f64().unwrap();
        r["median_particles_per_second"] = (rate / 2.0).into();
    }
    let half = dir.path().join("demo-bench-gpu.json");
    std::fs::write(&half, v.to_string()).unwrap();

    let (rc, _, before) = recommend_json(&[]);
    assert_eq!(rc, 0);
    let (rc, out, after) = recommend_json(&["--measured".as_ref(), half.as_os_str()]);
    assert_eq!(rc, 0, "{out}");
    let rows_before = json_rows(&before);
    let rows_after = json_rows(&after);
    assert_eq!(rows_before.len(), rows_after.len());
    for b in &rows_before {
        let a = rows_after
            .iter()
            .find(|a| a["label"] == b["label"])
            .unwrap();
        let (rb, ra) = (
            b["gpu_particles_per_second"].as_f64().unwrap(),
            a["gpu_particles_per_second"].as_f64().unwrap(),
        );
        if b["gpu"] == "h100-sxm" {
            assert!(
                (ra - rb / 2.0).abs() < 1e-6 * rb,
                "{}: {rb} -> {ra}",
                b["label"]
            );
            assert_eq!(a["gpu_rate_basis"], "measured");
            let src = a["gpu_rate_source"].as_str().unwrap();
            assert!(
                src.contains("vendor-demo-01") && src.contains("demo-bench-gpu.json"),
                "{src}"
            );
        } else {
            assert_eq!(ra, rb, "{} changed", b["label"]);
            assert_eq!(a["gpu_rate_source"], b["gpu_rate_source"]);
        }
        assert_eq!(
            a["tier_read_bytes_per_second"],
            b["tier_read_bytes_per_second"]
        );
    }
    let m = &after["measured"][0];
    assert_eq!(m["figure"], "gpu rate");
    assert_eq!(m["node_type"], "h100-sxm");
    assert_eq!(m["host"], "vendor-demo-01");
    assert_eq!(m["started_at"], 1_796_205_588u64);
    assert_eq!(m["applies_to"], 4);
    // The table says it too: which figure, where and when.
    let (rc, out, _) = recommend_json(&["--measured".as_ref(), half.as_os_str()]);
    assert_eq!(rc, 0);
    let line = out
        .lines()
        .find(|l| l.contains("measured: gpu rate of h100-sxm"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("on host vendor-demo-01") && line.contains("2026-12-02 09:59:48 UTC"),
        "{line}"
    );
    // The stored run itself records no host or time, and says so.
    let (rc, out, _) = recommend_json(&["--measured".as_ref(), stored.as_os_str()]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("on host unknown, time not recorded"), "{out}");
}

/// A `bench io` or `qualify` result, named with its tier, replaces that
/// tier's read rate only; without a tier, or of another kind, it is refused.
#[test]
fn measured_storage_changes_exactly_that_tier() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results");
    let io = fixture.join("bench-io.json");
    let named = std::ffi::OsString::from(format!("nvme-gen4={}", io.display()));
    let (rc, out, v) = recommend_json(&["--measured".as_ref(), named.as_os_str()]);
    assert_eq!(rc, 0, "{out}");
    for r in json_rows(&v) {
        let rate = r["tier_read_bytes_per_second"].as_f64().unwrap();
        if r["tier"] == "nvme-gen4" {
            assert!((rate - 200_258_006.561758).abs() < 1e-3, "{rate}");
            assert_eq!(r["tier_read_basis"], "measured");
        } else {
            assert_eq!(rate, 1.1e9);
            assert_eq!(r["tier_read_basis"], "modelled");
        }
    }
    assert_eq!(v["measured"][0]["figure"], "storage read rate");
    assert_eq!(v["measured"][0]["kind"], "bench io");
    let q = std::ffi::OsString::from(format!(
        "nfs-10gbe={}",
        fixture.join("qualify.json").display()
    ));
    let (rc, out, v) = recommend_json(&["--measured".as_ref(), q.as_os_str()]);
    assert_eq!(rc, 0, "{out}");
    assert_eq!(v["measured"][0]["node_type"], "nfs-10gbe");
    assert_eq!(v["measured"][0]["host"], "vm");
    for (value, want) in [
        (
            io.clone().into_os_string(),
            "name the tier it was measured on",
        ),
        (
            fixture.join("plan.json").into_os_string(),
            "takes bench gpu, bench io or qualify",
        ),
        (
            std::ffi::OsString::from(format!("rtx-3090={}", io.display())),
            "name the tier",
        ),
    ] {
        let (rc, out, _) = recommend_json(&["--measured".as_ref(), value.as_os_str()]);
        assert_eq!(rc, 2, "{out}");
        assert!(out.starts_with("error:") && out.contains(want), "{out}");
        assert_eq!(out.trim_end().lines().count(), 1, "{out}");
    }
}

/// Exit 1 says what is short without naming one of several configurations
/// that tie; `--nodes` fixes the fleet; `--target` takes hours per dataset.
#[test]
fn short_targets_nodes_and_hours() {
    // Every configuration reads from 10 GbE: all tie at the same throughput.
    let base = [
        "recommend",
        "--particles",
        "2e6",
        "--box",
        "432",
        "--gpus",
        "rtx-3090,l40s",
        "--per-node",
        "2,4",
        "--tiers",
        "nfs-10gbe",
        "--prices",
    ];
    let out = cryocap()
        .args(base)
        .arg(example_prices())
        .args(["--target", "60", "--max-nodes", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the most any configuration reaches with --max-nodes 2 is 45.5 of 60")
            && err.contains("4 configuration(s) reach that"),
        "{err}"
    );
    assert!(!err.contains("rtx-3090") && !err.contains("l40s"), "{err}");
    // Hours per dataset: 32.1 h over 10 GbE.
    let out = cryocap()
        .args(base)
        .arg(example_prices())
        .args(["--target", "24h"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the quickest takes 32.1 h, over the 24 h target"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args(base)
        .arg(example_prices())
        .args(["--target", "40h,10/month", "--nodes", "3", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["constraints"]["nodes"], 3);
    assert_eq!(v["constraints"]["max_hours_per_dataset"], 40.0);
    assert!(
        v["ranked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["nodes"] == 3)
    );
    let c = v["ranked"][0]["cost_per_million_particle_passes"]
        .as_f64()
        .unwrap();
    let d = v["ranked"][0]["cost_per_dataset"].as_f64().unwrap();
    assert!((c - d / 170.0).abs() < 1e-9, "{c} {d}");
    // --nodes with --max-nodes, and a bad target: one line, exit 2.
    for extra in [
        &["--nodes", "2", "--max-nodes", "3"][..],
        &["--target", "5x"][..],
        &["--target", "3h,4h"][..],
    ] {
        let out = cryocap()
            .args(base)
            .arg(example_prices())
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error:"), "{err}");
    }
}

/// An empty feasible set says which constraint removed what.
#[test]
fn empty_feasible_set_is_explained() {
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "900",
            "--gpus",
            "rtx-3060",
            "--per-node",
            "2,4",
            "--tiers",
            "nfs-10gbe",
            "--prices",
        ])
        .arg(example_prices())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: no feasible configuration of 2: VRAM removed 2 (2× rtx-3060, nfs-10gbe, 4× rtx-3060, nfs-10gbe)"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
}

/// `--ram`, `--cores` and `--ssd` add node choices, pruned below the
/// worker profile per GPU and the largest stack; each needs its price.
#[test]
fn ram_cores_and_ssd_choices() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let base = [
        "recommend",
        "--particles",
        "2e6",
        "--box",
        "432",
        "--gpus",
        "rtx-3090",
        "--per-node",
        "2,4",
        "--tiers",
        "nvme-gen4",
        "--prices",
    ];
    let out = cryocap()
        .args(base)
        .arg(example_prices())
        .args([
            "--ram",
            "64GiB,128GiB",
            "--cores",
            "6,16",
            "--ssd",
            "1TB,2TB",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let ranked: Vec<&str> = v["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    // 64 GiB feeds two GPUs (32 GiB each), not four; 6 cores feed two (2
    // each), not four; a 1 TB SSD holds no 1.50 TB stack.
    assert!(ranked.contains(&"2× rtx-3090, nvme-gen4, 64.00 GiB RAM, 6 cores, 2.00 TB SSD"));
    assert!(ranked.contains(&"4× rtx-3090, nvme-gen4, 128.00 GiB RAM, 16 cores, 2.00 TB SSD"));
    assert_eq!(ranked.len(), 5, "{ranked:?}");
    // The cache fill: each month's datasets copied once into the SSD (the
    // cache simulator's bytes), read from 10 GbE NFS at 1.1 GB/s, on top of
    // the 85 passes from NVMe at 7.4 GB/s.
    let stack = 1_495_296_000_000.0;
    for r in v["ranked"].as_array().unwrap() {
        let fill = r["fill_hours_per_dataset"].as_f64().unwrap();
        assert!((fill - stack / 1.1e9 / 3600.0).abs() < 1e-9, "{fill}");
        let h = r["hours_per_dataset"].as_f64().unwrap();
        assert!(
            (h - (stack / 7.4e9 * 85.0 / 3600.0 + fill)).abs() < 1e-9,
            "{h}"
        );
    }
    let reasons: Vec<&str> = v["pruned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("RAM per GPU 16.0 GiB below")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("cores per GPU 1.5 below")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("SSD 1.00 TB below the largest stack")),
        "{reasons:?}"
    );
    // Without an ssd-tb price: one line, exit 2.
    let p = dir.path().join("p.csv");
    let text = std::fs::read_to_string(example_prices()).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("ssd-tb"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&p, kept).unwrap();
    let out = cryocap()
        .args(base)
        .arg(&p)
        .args(["--ssd", "2TB"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error:") && err.contains("no price for ssd-tb"),
        "{err}"
    );
}

/// `--power-price` adds each dataset's energy at catalog board power: the
/// seed's 2-GPU system, by hand.
#[test]
fn power_price_adds_energy_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args([
            "recommend",
            "--particles",
            "2e6",
            "--box",
            "432",
            "--gpus",
            "rtx-3090",
            "--per-node",
            "2",
            "--tiers",
            "nvme-gen4",
            "--power-price",
            "0.30",
            "--base-power",
            "400",
            "--prices",
        ])
        .arg(example_prices())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let r = &v["ranked"][0];
    // 2 × 350 W (RTX 3090 board power) + 400 W, for 4.771 h, at 0.30 a kWh.
    let hours = 1_495_296_000_000.0 / 7.4e9 * 85.0 / 3600.0;
    let energy = (2.0 * 350.0 + 400.0) * hours / 1000.0 * 0.30;
    assert_eq!(r["node_power_w"], 1100.0);
    assert!((r["energy_per_dataset"].as_f64().unwrap() - energy).abs() < 1e-9);
    let purchase = 13_798.0 / (730.5 / hours * 60.0);
    assert!((r["cost_per_dataset"].as_f64().unwrap() - (purchase + energy)).abs() < 1e-9);
    assert_eq!(v["constraints"]["power_price"], 0.30);
}

#[test]
fn a_measured_file_for_an_unknown_tier_is_named_as_such() {
    let prices = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/prices-example.csv");
    let io = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/bench-io.json"
    );
    let e = crate::common::bad_input(&[
        "recommend",
        "--particles",
        "2e6",
        "--box",
        "432",
        "--gpus",
        "rtx-3090",
        "--per-node",
        "2",
        "--tiers",
        "nvme-gen4",
        "--prices",
        prices,
        "--measured",
        &format!("nvme-gen9={io}"),
    ]);
    assert!(
        e.contains("'nvme-gen9' is not a GPU or storage tier"),
        "{e}"
    );
}
