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

#[test]
fn a_write_error_on_stdout_is_one_line_and_exit_2() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    for format in ["csv", "json", "table", "markdown", "html"] {
        let out = crate::common::process()
            .args([
                "plan",
                "--particles",
                "2e6",
                "--box",
                "432",
                "--format",
                format,
            ])
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {err}");
        assert_eq!(err.lines().count(), 1, "{format}: {err}");
        assert!(
            err.starts_with("error: cannot write stdout") && err.contains("No space left"),
            "{format}: {err}"
        );
    }
}

#[test]
fn old_flag_spellings_still_work_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let made = crate::common::cryocap()
        .args([
            "stack",
            "create",
            "--dir",
            d,
            "--particles",
            "40",
            "--box",
            "16",
        ])
        .args(["--per-file", "20", "--reserve", "0", "--quiet"])
        .output()
        .unwrap();
    assert!(made.status.success());
    let notice = String::from_utf8_lossy(&made.stderr);
    assert!(
        notice.contains("--per-file is deprecated") && notice.contains("--particles-per-file"),
        "{notice}"
    );
    let out = crate::common::cryocap()
        .args([
            "bench",
            "io",
            "--dir",
            d,
            "--warmup",
            "0",
            "--queue-depth",
            "2",
            "--quiet",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("use --ramp-time") && err.contains("use --iodepth"),
        "{err}"
    );
    let r: cryocap::results::Envelope = serde_json::from_slice(&out.stdout).unwrap();
    let cryocap::results::Kind::BenchIo(io) = r.kind else {
        panic!("a bench io result")
    };
    assert!(io.runs.iter().all(|x| x.iodepth == 2));
}

#[test]
fn a_command_without_its_subcommand_names_them() {
    let line = bad_input(&["cache"]);
    assert_eq!(
        line,
        "error: `cryocap cache` needs a command: simulate, workload, subset, copy-bench; see cryocap cache --help"
    );
    assert!(bad_input(&[]).contains("plan, catalog"));
}

#[test]
fn flags_that_would_do_nothing_are_refused() {
    for (args, says) in [
        (vec!["qualify", "--ssd-dir", "/tmp"], "--dir"),
        (
            vec![
                "cache", "simulate", "--trace", "t.csv", "--ssd", "1TB", "--chart", "c.svg",
            ],
            "--sweep",
        ),
        (
            vec![
                "cache", "simulate", "--trace", "t.csv", "--ssd", "1TB", "--margin", "10%",
            ],
            "--sweep",
        ),
        (
            vec!["bench", "io", "--files", "a.mrcs", "--box", "256"],
            "--box only applies",
        ),
        (
            vec![
                "fleet",
                "submit",
                "--nodes",
                "n1",
                "--out-dir",
                "o",
                "--dry-run",
                "--json",
                "f.json",
            ],
            "cannot be used with",
        ),
        (
            vec![
                "fleet",
                "submit",
                "--nodes",
                "n1",
                "--out-dir",
                "o",
                "--dry-run",
                "--",
                "--html",
                "r.html",
            ],
            "every node write one file",
        ),
    ] {
        let line = bad_input(&args);
        assert!(line.contains(says), "{args:?}: {line}");
    }
}
