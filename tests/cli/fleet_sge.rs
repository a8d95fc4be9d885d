//! `fleet submit --scheduler sge` against a real Grid Engine
//! (scripts/sge-local.sh start). Without one the test is skipped, saying
//! so, unless CRYOCAP_REQUIRE_SGE=1 (set by CI) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::cryocap;
use cryocap::results::fleet::{FleetReport, Submission, TaskOutcome};
use cryocap::results::qualify::QualifyReport;

/// A directory name a shell would mangle or execute if anything were
/// unquoted ('$' and ':' are refused: qsub -o expands and splits on them).
const HOSTILE: &str = "sge dir 'single' \"double\" ;touch pwned; `touch pwned` *";

/// The first execution host, if a qmaster answers.
fn sge_node() -> Option<String> {
    let ok = Command::new("qstat").output().ok()?.status.success();
    if !ok {
        return None;
    }
    let out = Command::new("qconf").arg("-sel").output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .next()
        .map(String::from)
}

/// Deletes jobs when dropped, so that a failing test leaves none behind.
struct Qdel(Vec<u64>);

impl Drop for Qdel {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = Command::new("qdel")
                .arg(id.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn fleet_json(dir: &Path) -> (Option<i32>, FleetReport) {
    let out = cryocap()
        .args(["fleet", "report", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let r: FleetReport = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fleet report JSON: {e}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), r)
}

fn submission(dir: &Path) -> Option<Submission> {
    let text = std::fs::read_to_string(dir.join(".cryocap-fleet/submission.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The qstat state letters of a job, empty once qstat no longer lists it.
fn qstat_state(job: u64) -> String {
    let out = Command::new("qstat").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.first() == Some(&job.to_string().as_str()))
        .and_then(|c| c.get(4).map(|s| s.to_string()))
        .unwrap_or_default()
}

fn submit(
    out_dir: &Path,
    nodes: &str,
    extra: &[&str],
    qualify: &[&str],
) -> (Option<i32>, String, String) {
    let out = cryocap()
        .args(["fleet", "submit", "--scheduler", "sge", "--timeout", "5m"])
        .args(["--nodes", nodes])
        .args(extra)
        .arg("--out-dir")
        .arg(out_dir)
        .arg("--")
        .args(qualify)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One test, so that its jobs take the one-node cluster in turn.
#[test]
fn fleet_runs_on_a_real_grid_engine() {
    let Some(node) = sge_node() else {
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_SGE").is_none(),
            "CRYOCAP_REQUIRE_SGE is set but no Grid Engine answers `qstat` (start one: scripts/sge-local.sh start, then eval \"$(scripts/sge-local.sh env)\")"
        );
        eprintln!(
            "skipped: no Grid Engine answers `qstat`; start one with scripts/sge-local.sh start and eval \"$(scripts/sge-local.sh env)\""
        );
        return;
    };
    let root = tempfile::tempdir().unwrap();

    // 1. One job pinned to the node, in a hostile directory, with --time.
    let good: PathBuf = root.path().join(HOSTILE);
    let (code, stdout, stderr) = submit(
        &good,
        &node,
        &["--time", "10"],
        &["--quick", "--repeats", "1"],
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (report_code, r) = fleet_json(&good);
    assert_eq!(code, report_code, "{stdout}{stderr}");
    assert_eq!(
        code,
        Some(if r.failed() { 1 } else { 0 }),
        "{stdout}{stderr}"
    );
    assert_eq!(r.scheduler, cryocap::results::fleet::SchedulerKind::Sge);
    assert_eq!(r.tasks.len(), 1, "{stdout}{stderr}");
    let t = &r.tasks[0];
    assert_eq!(t.state.state, "COMPLETED", "{t:?}");
    assert_eq!(t.state.exit_code, "0");
    assert_eq!(t.outcome, TaskOutcome::Ran);
    assert_eq!(t.state.ran_on, node);
    assert!(r.missing.is_empty());
    assert!(r.completed_after_seconds.unwrap() > 0.0);
    let q: QualifyReport =
        serde_json::from_slice(&std::fs::read(good.join(format!("{node}.json"))).unwrap()).unwrap();
    assert!(q.quick && q.repeats == 1);
    // Grid Engine's own record: pinned to the node, with the run-time limit.
    let acct = Command::new("qacct")
        .args(["-j", &r.job_ids[0].to_string()])
        .output()
        .unwrap();
    let acct = String::from_utf8_lossy(&acct.stdout);
    assert!(acct.contains(&format!("hostname={node}")), "{acct}");
    assert!(acct.contains("h_rt=600"), "{acct}");
    assert!(
        stdout.contains("Grid Engine jobs") && stdout.contains("COMPLETED"),
        "{stdout}"
    );
    assert!(!root.path().join("pwned").exists());
    let (code, _, stderr) = submit(&good, &node, &[], &["--quick"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already holds a fleet run"), "{stderr}");

    // 1b. Two jobs with --shared-read: both run at once (no exclusive), meet
    // at the barrier and read the same stacks together.
    let stacks = root.path().join("stacks ;touch pwned; 'x'");
    std::fs::create_dir(&stacks).unwrap();
    cryocap()
        .args(["stack", "create", "--quiet", "--particles", "4000"])
        .args(["--box", "128", "--reserve", "1GB", "--dir"])
        .arg(&stacks)
        .assert()
        .success();
    let shared = root.path().join("shared read 'q'");
    let out = cryocap()
        .args(["fleet", "submit", "--scheduler", "sge", "--timeout", "5m"])
        .arg("--nodes")
        .arg(format!("{node},{node}"))
        .arg("--out-dir")
        .arg(&shared)
        .arg("--shared-read")
        .arg(&stacks)
        .args(["--", "--quick", "--repeats", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let (_, r) = fleet_json(&shared);
    assert_eq!(r.tasks.len(), 2, "{stdout}{stderr}");
    assert_eq!(r.job_ids.len(), 2);
    for t in &r.tasks {
        assert_eq!(t.state.state, "COMPLETED", "{t:?}\n{stdout}{stderr}");
        assert_eq!(t.outcome, TaskOutcome::Ran, "{t:?}");
    }
    let s = r.shared_read.expect("the report sums the shared reads");
    assert_eq!(s.tasks.len(), 2, "{s:?}");
    assert!(s.overlap_seconds > 0.0, "both jobs read at once: {s:?}");
    assert!(stdout.contains("aggregate throughput"), "{stdout}");

    // 2. A job that fails on its node: the profile does not exist there.
    let bad = root.path().join("failing");
    let (code, stdout, stderr) = submit(
        &bad,
        &node,
        &[],
        &["--quick", "--profile", "no-such-profile"],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let (_, r) = fleet_json(&bad);
    assert_eq!(r.tasks.len(), 1);
    assert_eq!(r.tasks[0].state.state, "FAILED", "{:?}", r.tasks[0]);
    assert_eq!(r.tasks[0].state.exit_code, "2");
    assert_eq!(r.tasks[0].outcome, TaskOutcome::Failed);
    assert!(
        r.tasks[0].log_tail.contains("unknown profile"),
        "{:?}",
        r.tasks[0]
    );
    assert_eq!(r.missing, vec![node.as_str()]);

    // 3. A job deleted while pending: the node is taken whole by another.
    let blocker = Command::new("qsub")
        .args(["-terse", "-b", "y", "-j", "y", "-o", "/dev/null"])
        .args(["-l", "exclusive=true", "sleep", "120"])
        .output()
        .unwrap();
    assert!(blocker.status.success(), "{blocker:?}");
    let blocker_id: u64 = String::from_utf8_lossy(&blocker.stdout)
        .trim()
        .parse()
        .unwrap();
    let _blocker = Qdel(vec![blocker_id]);
    let start = Instant::now();
    while !qstat_state(blocker_id).contains('r') {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the blocker never ran"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let cancelled = root.path().join("cancelled");
    let child = Command::new(assert_cmd::cargo::cargo_bin("cryocap"))
        .args(["fleet", "submit", "--scheduler", "sge", "--quiet"])
        .args(["--timeout", "5m", "--nodes", &node, "--out-dir"])
        .arg(&cancelled)
        .args(["--", "--quick"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let job = loop {
        if let Some(s) = submission(&cancelled)
            && let Some(&id) = s.job_ids.first()
            && qstat_state(id) == "qw"
        {
            break id;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the fleet job never showed as pending"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let _job = Qdel(vec![job]);
    // Pending after release, not merely held: the node is busy.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(qstat_state(job), "qw");
    assert!(
        Command::new("qdel")
            .arg(job.to_string())
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, r) = fleet_json(&cancelled);
    assert_eq!(r.tasks[0].state.state, "CANCELLED", "{:?}", r.tasks[0]);
    assert_eq!(r.tasks[0].outcome, TaskOutcome::NeverRan);
    assert!(r.tasks[0].state.ran_on.is_empty());
    assert_eq!(r.missing, vec![node.as_str()]);
    assert!(stdout.contains("never ran"), "{stdout}");
}
