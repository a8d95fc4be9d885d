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
