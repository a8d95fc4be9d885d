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
    // The default chain is CryoSPARC's, which no calibration row ran: its
    // job times are RELION's by proxy, and say so.
    assert!(out.contains("2× h100-sxm, nvme-gen4  proxy"), "{out}");
    assert!(out.contains("2× rtx-3090, nvme-gen4  proxy"), "{out}");
    assert!(out.contains("cryosparc-nu-refine"), "{out}");
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

/// docs/recommend.md's worked example: seed 003's example GPUs (Tesla V100
/// 32 GB and RTX 3090, 2 or 4 a node, reading from a PCIe SSD) for 2,000,000
/// particles at box 432 through a RELION chain. Every configuration's hours
/// per dataset are the sum of what `jobs predict` says of each job on that
/// node (the same model, asked through its own command); the V100 rows are
/// calibrated, the RTX 3090 rows extrapolated, and the GPUs, slower than
/// the SSD, are the bottleneck.
#[test]
fn recommend_times_each_job_as_jobs_predict_does() {
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
            "--chain",
            "relion-class3d:25,relion-refine3d:20",
            "--prices",
        ])
        .arg(example_prices())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let predict = |job: &str, iterations: &str, gpu: &str, gpus: &str| {
        let o = cryocap()
            .args([
                "jobs",
                "predict",
                "--job",
                job,
                "--particles",
                "2e6",
                "--box",
                "432",
            ])
            .args(["--iterations", iterations, "--gpu", gpu, "--gpus", gpus])
            .args(["--tier", "nvme-gen4", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(p["kind"], "job-predict");
        p["prediction"]["seconds"].as_f64().unwrap()
    };
    let mut hours = Vec::new();
    for r in v["ranked"].as_array().unwrap() {
        let gpu = r["gpu"].as_str().unwrap();
        let n = r["gpus_per_node"].to_string();
        let want = (predict("relion-class3d", "25", gpu, &n)
            + predict("relion-refine3d", "20", gpu, &n))
            / 3600.0;
        let got = r["hours_per_dataset"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{}: {got} vs {want}",
            r["label"]
        );
        assert!(r["hours_low"].as_f64().unwrap() < got && got < r["hours_high"].as_f64().unwrap());
        assert_eq!(r["bottleneck"], "gpu", "{}", r["label"]);
        let basis = if gpu == "tesla-v100-32gb" {
            "calibrated"
        } else {
            "extrapolated"
        };
        assert_eq!(r["gpu_rate_basis"], basis, "{}", r["label"]);
        let source = r["gpu_rate_source"].as_str().unwrap();
        assert!(
            source.contains("relion-class3d (22 rows)") && source.contains("relion-refine3d"),
            "{source}"
        );
        hours.push((r["label"].as_str().unwrap().to_string(), got));
    }
    assert_eq!(hours.len(), 4);
    // The GPU model changes the answer: each configuration takes its own time.
    for (i, a) in hours.iter().enumerate() {
        for b in &hours[i + 1..] {
            assert!((a.1 - b.1).abs() > 1e-3 * a.1, "{a:?} {b:?}");
        }
    }
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

/// A `bench gpu` result times the insertion kernel, not a job: given to
/// `--measured` or `--bench-gpu` it is refused in one line that says where
/// job times come from instead.
#[test]
fn bench_gpu_results_no_longer_set_job_speeds() {
    let stored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/bench-gpu-h100.json");
    for flag in ["--measured", "--bench-gpu"] {
        let (rc, out, _) = recommend_json(&[flag.as_ref(), stored.as_os_str()]);
        assert_eq!(rc, 2, "{out}");
        assert!(
            out.starts_with("error:") && out.contains("insertion kernel, not a job"),
            "{out}"
        );
        assert!(out.contains("cryocap calibrate"), "{out}");
        assert_eq!(out.trim_end().lines().count(), 1, "{out}");
    }
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
            "takes bench io or qualify",
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
    // Ab-initio over 10 GbE waits on the storage (CryoSPARC reads while it
    // computes): configurations tie at the same throughput.
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
        "--chain",
        "abinit:5",
        "--prices",
    ];
    let (first, out) = {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("all.json");
        let out = cryocap()
            .args(base)
            .arg(example_prices())
            .args(["--nodes", "2", "--json"])
            .arg(&json)
            .output()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        (v, out)
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = first["ranked"].as_array().unwrap();
    let most = rows
        .iter()
        .map(|r| r["fleet_datasets_per_month"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let tie = rows
        .iter()
        .filter(|r| (r["fleet_datasets_per_month"].as_f64().unwrap() - most).abs() <= 1e-9 * most)
        .count();
    assert!(tie >= 2, "{first}");
    let quickest = rows
        .iter()
        .map(|r| r["slowest_hours_per_dataset"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    let target = format!("{:.0}", most * 2.0);
    let out = cryocap()
        .args(base)
        .arg(example_prices())
        .args(["--target", target.as_str(), "--max-nodes", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "the most any configuration reaches with --max-nodes 2 is {most:.1} of {target}"
        )) && err.contains(&format!("{tie} configuration(s) reach that")),
        "{err}"
    );
    assert!(!err.contains("rtx-3090") && !err.contains("l40s"), "{err}");
    // Hours per dataset: a target under the quickest configuration's.
    let h = format!("{}h", (quickest / 2.0).max(0.1));
    let out = cryocap()
        .args(base)
        .arg(example_prices())
        .args(["--target", h.as_str()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the quickest takes {quickest:.1} h, over the")),
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
    // 2e6 particles × 5 passes = 10 million particle-passes a dataset.
    assert!((c - d / 10.0).abs() < 1e-9, "{c} {d}");
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
    // the jobs, which RAM, cores and SSD size do not change.
    let stack = 1_495_296_000_000.0;
    let mut jobs_hours = std::collections::BTreeMap::new();
    for r in v["ranked"].as_array().unwrap() {
        let fill = r["fill_hours_per_dataset"].as_f64().unwrap();
        assert!((fill - stack / 1.1e9 / 3600.0).abs() < 1e-9, "{fill}");
        let h = r["hours_per_dataset"].as_f64().unwrap() - fill;
        let prev = *jobs_hours
            .entry(r["gpus_per_node"].to_string())
            .or_insert(h);
        assert!(h > 0.0 && (h - prev).abs() < 1e-9, "{h} vs {prev}");
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
    // 2 × 350 W (RTX 3090 board power) + 400 W, for the dataset's hours, at 0.30 a kWh.
    let hours = r["hours_per_dataset"].as_f64().unwrap();
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
