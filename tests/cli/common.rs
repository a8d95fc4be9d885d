use assert_cmd::Command;
use cryocap::results::PlanReport;

/// Where the tests' binary looks for a calibration: a file that is never
/// there, so that no test reads (or writes) one in the user's home.
pub const NO_CALIBRATION: &str =
    concat!(env!("CARGO_TARGET_TMPDIR"), "/no-such-dir/calibration.json");

pub fn cryocap() -> Command {
    let mut c = Command::cargo_bin("cryocap").expect("the cryocap binary is built");
    c.env("CRYOCAP_CALIBRATION", NO_CALIBRATION);
    c
}

/// The binary as a plain process, for tests that wire its stdout themselves.
pub fn process() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("cryocap"));
    c.env("CRYOCAP_CALIBRATION", NO_CALIBRATION);
    c
}

/// Runs `cryocap ARGS --format json`, expects success, and reads the typed result.
pub fn json<T: serde::de::DeserializeOwned>(args: &[&str]) -> T {
    let out = cryocap()
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("cryocap runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON deserialises into the results type")
}

/// Runs `cryocap ARGS --format json`, expects success, and reads the result
/// file's envelope (header and kind).
pub fn envelope(args: &[&str]) -> cryocap::results::Envelope {
    json(args)
}

/// Runs `cryocap plan ARGS --format json` and reads the typed result.
pub fn plan_json(args: &[&str]) -> PlanReport {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    json(&all)
}

/// Whether python3 can import these modules (fixtures written by other tools).
pub fn python_has(modules: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs cryocap with ARGS, expects exit 2 and one line on stderr; returns it.
pub fn bad_input(args: &[&str]) -> String {
    let out = cryocap().args(args).output().expect("cryocap runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should exit 2; stderr: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    let first = stderr.lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("error:"), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    first
}

/// A seeded one-project job trace written to `dir/jobs.csv` by `cache workload`.
pub fn small_trace(dir: &std::path::Path) -> std::path::PathBuf {
    let t = dir.join("jobs.csv");
    cryocap()
        .args(["cache", "workload", "--projects", "1", "-o"])
        .arg(&t)
        .assert()
        .success();
    t
}

/// Whether a test that needs an external `tool` runs: true when `available`;
/// otherwise it says on stderr why it is skipped, and fails instead where
/// `CRYOCAP_REQUIRE_<env>=1` (set by .ci/run) asks for the tool.
pub fn tool_or_skip(available: bool, env: &str, tool: &str, install: &str) -> bool {
    if available {
        return true;
    }
    let var = format!("CRYOCAP_REQUIRE_{env}");
    assert!(
        std::env::var_os(&var).is_none(),
        "{var} is set but {tool} is not available ({install})"
    );
    eprintln!("skipped: {tool} not found ({install})");
    false
}

/// Whether `program` runs (`program ARGS` exits, whatever its status).
pub fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}
