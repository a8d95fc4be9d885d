//! `--openmetrics` (qualify, bench io, bench gpu, cache copy-bench) and `--junit`: the files other tools read. OpenMetrics
//! text is checked by Prometheus' own `promtool check metrics` (CI installs
//! Debian's `prometheus` package and sets CRYOCAP_REQUIRE_PROMTOOL=1); JUnit
//! XML is read by the `junitparser` Python package, an independent reader
//! (CI pip-installs it and sets CRYOCAP_REQUIRE_JUNITPARSER=1). Both files
//! are refused, before any work, where any other output would be.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{cryocap, runs, tool_or_skip};

const QUALIFY_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/results/qualify.json"
);

/// `promtool check metrics` on `text`: Ok, or what it said.
fn promtool(text: &str) -> Option<Result<(), String>> {
    let available = runs("promtool", &["--version"]);
    if !tool_or_skip(available, "PROMTOOL", "promtool", "apt install prometheus") {
        return None;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(match out.status.success() && said.trim().is_empty() {
        true => Ok(()),
        false => Err(said),
    })
}

fn assert_promtool_accepts(text: &str) {
    if let Some(Err(said)) = promtool(text) {
        panic!("promtool check metrics: {said}\n{text}");
    }
}

/// The test cases junitparser reads from `file`, one line each:
/// `suite|classname|name|result` where result is passed, failure or skipped
/// with its message.
fn junitparser(file: &Path) -> Option<Vec<String>> {
    let available = Command::new("python3")
        .args(["-c", "import junitparser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !tool_or_skip(
        available,
        "JUNITPARSER",
        "python3 with junitparser",
        "pip install junitparser",
    ) {
        return None;
    }
    let program = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped, Error
xml = JUnitXml.fromfile(sys.argv[1])
total = 0
for suite in xml:
    counted = (suite.tests, suite.failures, suite.skipped, suite.errors)
    cases = list(suite)
    seen = (len(cases),
            sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result)),
            sum(1 for c in cases if any(isinstance(r, Skipped) for r in c.result)),
            sum(1 for c in cases if any(isinstance(r, Error) for r in c.result)))
    assert counted == seen, (suite.name, counted, seen)
    total += len(cases)
    for c in cases:
        r = c.result
        what = "passed" if not r else type(r[0]).__name__.lower() + ":" + (r[0].message or "")
        print("|".join([suite.name, c.classname, c.name, what]))
assert xml.tests == total, (xml.tests, total)
"#;
    let out = Command::new("python3")
        .args(["-c", program])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn qualify_writes_gauges_promtool_accepts_and_junit_junitparser_reads() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("cryocap.prom");
    let xml = dir.path().join("qualify.xml");
    let json = dir.path().join("qualify.json");
    let out = cryocap()
        .args(["qualify", "--quick", "--repeats", "1", "--quiet"])
        .arg("--json")
        .arg(&json)
        .arg("--openmetrics")
        .arg(&prom)
        .arg("--junit")
        .arg(&xml)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE cryocap_memory_bandwidth gauge")
            && text.contains("cryocap_ram_bytes{node=\"")
            && text.contains("unit=\"bytes\",verdict=\""),
        "{text}"
    );
    // a check nothing measured here is there, NaN, so an alert can see it
    assert!(text.contains("verdict=\"NOT_MEASURED\"} NaN"), "{text}");
    assert_promtool_accepts(&text);

    let Some(cases) = junitparser(&xml) else {
        return;
    };
    let stored = cryocap::files::read_result(&json).unwrap();
    let cryocap::results::Kind::Qualify(q) = &stored.kind else {
        panic!("qualify")
    };
    assert_eq!(cases.len(), q.checks.len(), "{cases:?}");
    for (case, check) in cases.iter().zip(&q.checks) {
        let want = match check.verdict {
            cryocap::results::qualify::Verdict::Fail => "failure:",
            cryocap::results::qualify::Verdict::NotMeasured => "skipped:",
            _ => "passed",
        };
        assert!(case.contains(&format!("({})|{want}", check.id)), "{case}");
        if want == "failure:" {
            // the figure and the limit
            assert!(
                case.contains("measured ") && case.contains("minimum "),
                "{case}"
            );
        }
    }
}

#[test]
fn bench_io_and_bench_gpu_write_gauges() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let prom = dir.path().join("io.prom");
    cryocap()
        .args([
            "bench",
            "io",
            "--create",
            "64",
            "--box",
            "64",
            "--ramp-time",
            "0",
        ])
        .args(["--reserve", "0", "--quiet", "--dir"])
        .arg(&data)
        .arg("--openmetrics")
        .arg(&prom)
        .assert()
        .success();
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("# TYPE cryocap_io_sequential_bytes_per_second gauge")
            || text.contains("bytes_per_second{node="),
        "{text}"
    );
    assert!(
        !text.contains("verdict="),
        "bench io judges nothing: {text}"
    );
    assert_promtool_accepts(&text);

    // without a CUDA driver bench gpu says so; the gauges say 0 GPUs
    let gpu = dir.path().join("gpu.prom");
    let out = cryocap()
        .args([
            "bench",
            "gpu",
            "--box",
            "64",
            "--particles",
            "100",
            "--quiet",
        ])
        .arg("--openmetrics")
        .arg(&gpu)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&gpu).unwrap();
    assert!(text.contains("cryocap_gpu_devices{node="), "{text}");
    assert_promtool_accepts(&text);

    // the cache-fill copy benchmark too
    let src = dir.path().join("src");
    let dst = dir.path().join("dst");
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&dst).unwrap();
    for i in 0..2 {
        std::fs::write(src.join(format!("p{i}.mrcs")), vec![7u8; 1_000_000]).unwrap();
    }
    let copy = dir.path().join("copy.prom");
    cryocap()
        .args(["cache", "copy-bench", "--threads", "1", "--repeats", "1"])
        .args(["--reserve", "1MB", "--quiet", "--from"])
        .arg(&src)
        .arg("--to")
        .arg(&dst)
        .arg("--openmetrics")
        .arg(&copy)
        .assert()
        .success();
    let text = std::fs::read_to_string(&copy).unwrap();
    assert!(text.contains("unit=\"bytes_per_second\"}"), "{text}");
    assert_promtool_accepts(&text);
}

#[test]
fn machine_files_are_refused_like_any_output_before_work() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.prom");
    std::fs::write(&target, "keep").unwrap();
    let link = dir.path().join("link.prom");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fixture = PathBuf::from(QUALIFY_FIXTURE);
    let cases: Vec<(Vec<&str>, &str, PathBuf)> = vec![
        (vec!["qualify", "--quick"], "--openmetrics", link.clone()),
        (vec!["qualify", "--quick"], "--junit", fifo.clone()),
        (
            vec!["qualify", "--quick"],
            "--openmetrics",
            "/dev/null".into(),
        ),
        (vec!["qualify", "--quick"], "--junit", "-".into()),
        (vec!["bench", "gpu"], "--openmetrics", link.clone()),
        (
            vec!["bench", "io", "--create", "8", "--box", "64"],
            "--openmetrics",
            fifo.clone(),
        ),
        (
            vec!["compare", QUALIFY_FIXTURE, QUALIFY_FIXTURE],
            "--junit",
            fixture.clone(),
        ),
        (vec!["fleet", "report", "."], "--junit", link.clone()),
    ];
    for (args, flag, path) in cases {
        let out = cryocap()
            .args(&args)
            .arg(flag)
            .arg(&path)
            .args(
                ["--dir"]
                    .iter()
                    .filter(|_| args[0] == "bench" && args[1] == "io"),
            )
            .args(
                [dir.path().to_str().unwrap()]
                    .iter()
                    .filter(|_| args[0] == "bench" && args[1] == "io"),
            )
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {flag}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(flag) && err.lines().count() == 1,
            "{args:?} {flag}: {err}"
        );
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    // the flags exist only where they mean something
    cryocap()
        .args(["plan", "--openmetrics", "x.prom"])
        .assert()
        .code(2);
    cryocap()
        .args(["bench", "io", "--junit", "x.xml"])
        .assert()
        .code(2);
}

/// A copy of the qualify fixture as node `name`, with the memory bandwidth
/// scaled, in `dir`.
fn write_node(dir: &Path, name: &str, bandwidth_scale: f64) -> PathBuf {
    let mut r = cryocap::files::read_result(Path::new(QUALIFY_FIXTURE)).unwrap();
    r.node = name.into();
    let cryocap::results::Kind::Qualify(q) = &mut r.kind else {
        panic!("a qualify fixture")
    };
    for m in &mut q.metrics {
        if m.id == "memory_bandwidth" {
            m.value *= bandwidth_scale;
            m.min *= bandwidth_scale;
            m.max *= bandwidth_scale;
            for s in &mut m.samples {
                *s *= bandwidth_scale;
            }
        }
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    path
}

#[test]
fn compare_and_fleet_report_write_junit() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = dir.path().join("fleet");
    std::fs::create_dir(&nodes).unwrap();
    let base = write_node(&nodes, "gpu01", 1.0);
    let slow = write_node(&nodes, "gpu02", 0.5);
    // names XML must escape reach the file as text
    write_node(&nodes, "gpu<3>&\"q\"", 1.0);

    let xml = dir.path().join("compare.xml");
    cryocap()
        .arg("compare")
        .args([&base, &slow])
        .arg("--junit")
        .arg(&xml)
        .assert()
        .code(1);
    let fleet_xml = dir.path().join("fleet.xml");
    cryocap()
        .args(["fleet", "report", "--quiet"])
        .arg(&nodes)
        .arg("--junit")
        .arg(&fleet_xml)
        .assert()
        .code(1);

    let Some(cases) = junitparser(&xml) else {
        return;
    };
    let bw: Vec<&String> = cases
        .iter()
        .filter(|c| c.contains("(memory_bandwidth)"))
        .collect();
    assert_eq!(bw.len(), 1, "{cases:?}");
    assert!(
        bw[0].contains("|failure:") && bw[0].contains("-50.0%") && bw[0].contains("baseline "),
        "{}",
        bw[0]
    );
    assert!(
        cases.iter().filter(|c| c.ends_with("|passed")).count() >= 1,
        "{cases:?}"
    );

    let Some(cases) = junitparser(&fleet_xml) else {
        return;
    };
    // one suite per node, one case per check of each node
    let checks = 7;
    let per_node = |n: &str| {
        cases
            .iter()
            .filter(|c| c.starts_with(&format!("cryocap fleet: {n}|")))
            .count()
    };
    assert!(per_node("gpu01") >= checks, "{cases:?}");
    assert!(per_node("gpu<3>&\"q\"") >= checks, "{cases:?}");
    let ram = cases
        .iter()
        .find(|c| c.starts_with("cryocap fleet: gpu02|") && c.contains("(ram)"))
        .unwrap();
    assert!(
        ram.contains("|failure:") && ram.contains("measured ") && ram.contains("minimum "),
        "{ram}"
    );
    assert!(
        cases
            .iter()
            .any(|c| c.starts_with("cryocap fleet: gpu01|") && c.contains("|skipped:")),
        "{cases:?}"
    );
}
