//! `fleet submit` and `fleet report` through the binary. The Slurm test runs
//! against a real cluster (scripts/slurm-local.sh start); without one it is
//! skipped, saying so, unless CRYOCAP_REQUIRE_SLURM=1 (set by CI) makes that
//! a failure.

use assert_cmd::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bad_input, cryocap};
use cryocap::results::Kind;
use cryocap::results::fleet::{FleetReport, SharedRead, Submission, TaskOutcome};
use cryocap::results::qualify::QualifyReport;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/qualify-vm.json"
);

/// A directory name a shell would mangle or execute if anything were unquoted.
const HOSTILE: &str = "fleet dir 'single' \"double\" $HOME $(touch pwned) `id`";

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

#[test]
fn dry_run_prints_a_quoted_array_script_and_submits_nothing() {
    let root = tempfile::tempdir().unwrap();
    let out_dir = root.path().join(HOSTILE);
    let out = cryocap()
        .current_dir(root.path())
        .args([
            "fleet",
            "submit",
            "--dry-run",
            "--nodes",
            "gpu[01-02]",
            "--gpus",
            "4",
        ])
        .args(["--time", "00:20:00", "--out-dir"])
        .arg(&out_dir)
        .args(["--", "--quick", "--dir", "/data/$(touch pwned)"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("#SBATCH --array=0-1\n"), "{text}");
    assert!(text.contains("#SBATCH --gres=gpu:4\n"));
    assert!(text.contains("#SBATCH --time=00:20:00\n"));
    assert!(text.contains("nodes=(gpu01 gpu02)\n"));
    assert!(text.contains("'/data/$(touch pwned)'"), "{text}");
    assert!(text.contains("# then pin task i to nodes[i]"));
    // bash reads the quoted directory back verbatim, and the script parses.
    let line = text.lines().find(|l| l.starts_with("out_dir=")).unwrap();
    let read = Command::new("bash")
        .args(["-c", &format!("{line}\nprintf '%s' \"$out_dir\"")])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&read.stdout),
        out_dir.to_str().unwrap()
    );
    Command::new("bash")
        .args(["-n", "-c", &text])
        .assert()
        .success();
    assert!(!out_dir.exists(), "a dry run created the results directory");
    assert!(!root.path().join("pwned").exists());
}

#[test]
fn bad_fleet_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let e = bad_input(&["fleet", "submit", "--out-dir", d]);
    assert!(e.contains("--nodes LIST or --partition"), "{e}");
    let e = bad_input(&["fleet", "submit", "--out-dir", d, "--nodes", "a;rm -rf b"]);
    assert!(e.contains("--nodes") && e.contains("';'"), "{e}");
    let e = bad_input(&[
        "fleet",
        "submit",
        "--out-dir",
        d,
        "--nodes",
        "a",
        "--",
        "--quik",
    ]);
    assert!(e.contains("qualify options") && e.contains("--quik"), "{e}");
    let e = bad_input(&[
        "fleet",
        "submit",
        "--out-dir",
        d,
        "--nodes",
        "a",
        "--time",
        "1h",
    ]);
    assert!(e.contains("--time"), "{e}");
    let e = bad_input(&[
        "fleet",
        "submit",
        "--out-dir",
        d,
        "--nodes",
        "a",
        "--timeout",
        "soon",
    ]);
    assert!(e.contains("--timeout"), "{e}");
    let e = bad_input(&[
        "fleet",
        "submit",
        "--out-dir",
        d,
        "--nodes",
        "a",
        "--shared-read",
        "/no/such/stacks",
    ]);
    assert!(
        e.contains("--shared-read") && e.contains("/no/such/stacks"),
        "{e}"
    );
    let e = bad_input(&[
        "fleet",
        "submit",
        "--out-dir",
        d,
        "--nodes",
        "a",
        "--shared-read",
        d,
    ]);
    assert!(e.contains("no .mrc or .mrcs files"), "{e}");
    let e = bad_input(&["fleet", "report", d]);
    assert!(e.contains("holds no qualify results"), "{e}");
    let e = bad_input(&["fleet", "report", "/no/such/dir"]);
    assert!(e.contains("/no/such/dir"), "{e}");
    let e = bad_input(&["fleet", "report", d, "--margin", "200%"]);
    assert!(e.contains("--margin"), "{e}");
}

fn write_node(dir: &Path, name: &str, bandwidth_scale: f64) {
    let mut r = cryocap::files::read_result(Path::new(FIXTURE)).unwrap();
    r.node = name.into();
    let Kind::Qualify(q) = &mut r.kind else {
        panic!("a qualify fixture")
    };
    for m in &mut q.metrics {
        if m.id == "memory_bandwidth" {
            m.value *= bandwidth_scale;
        }
    }
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(&r).unwrap(),
    )
    .unwrap();
}

#[test]
fn report_merges_stored_results_and_flags_the_slow_node() {
    let dir = tempfile::tempdir().unwrap();
    write_node(dir.path(), "gpu01", 1.0);
    write_node(dir.path(), "gpu02", 1.05);
    write_node(dir.path(), "gpu03", 0.6);
    let html = dir.path().join("out").join("fleet.html");
    std::fs::create_dir(html.parent().unwrap()).unwrap();
    let md = dir.path().join("out").join("fleet.md");
    let out = cryocap()
        .args(["fleet", "report"])
        .arg(dir.path())
        .arg("--html")
        .arg(&html)
        .arg("--markdown")
        .arg(&md)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the fixture node fails checks");
    let text = String::from_utf8(out.stdout).unwrap();
    let shown = text.replace(dir.path().to_str().unwrap(), "[DIR]");
    insta::assert_snapshot!("fleet_report_table", shown);
    let h = std::fs::read_to_string(&html).unwrap();
    assert!(h.starts_with("<!DOCTYPE html>") && h.contains("<td>gpu03</td>"));
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .contains("## Outliers")
    );

    let (_, r) = fleet_json(dir.path());
    assert_eq!(r.nodes.len(), 3);
    assert_eq!(r.outliers.len(), 1);
    assert_eq!(r.outliers[0].node, "gpu03");
    let (code, wide) = {
        let out = cryocap()
            .args(["fleet", "report", "--format", "json", "--margin", "50%"])
            .arg(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            serde_json::from_slice::<FleetReport>(&out.stdout).unwrap(),
        )
    };
    assert!(wide.outliers.is_empty());
    assert_eq!(code, Some(1), "still failing checks");
}

// ---- against a real Slurm cluster ----

fn slurm_node() -> Option<String> {
    let out = Command::new("sinfo")
        .args(["-h", "-N", "-o", "%N"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .next()
        .map(String::from)
}

/// Cancels a job when dropped, so that a failing test leaves no job behind.
struct JobGuard(Option<u64>);

impl Drop for JobGuard {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            let _ = Command::new("scancel").arg(id.to_string()).status();
        }
    }
}

fn submission(dir: &Path) -> Option<Submission> {
    let text = std::fs::read_to_string(dir.join(".cryocap-fleet/submission.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn squeue_state(job: u64) -> String {
    let out = Command::new("squeue")
        .args(["-h", "-r", "-t", "all", "-o", "%T", "-j"])
        .arg(job.to_string())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn submit(out_dir: &Path, nodes: &str, qualify: &[&str]) -> (Option<i32>, String, String) {
    let out = cryocap()
        .args([
            "fleet",
            "submit",
            "--timeout",
            "5m",
            "--nodes",
            nodes,
            "--out-dir",
        ])
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
fn fleet_runs_on_a_real_slurm_cluster() {
    let Some(node) = slurm_node() else {
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_SLURM").is_none(),
            "CRYOCAP_REQUIRE_SLURM is set but no Slurm cluster answers `sinfo` (start one: scripts/slurm-local.sh start)"
        );
        eprintln!(
            "skipped: no Slurm cluster answers `sinfo`; start one with scripts/slurm-local.sh start"
        );
        return;
    };
    let root = tempfile::tempdir().unwrap();

    // 1. A node named twice would have two tasks write one <node>.json:
    // refused (with --shared-read, below, a node may repeat).
    let good: PathBuf = root.path().join(HOSTILE);
    let (code, _, stderr) = submit(&good, &format!("{node},{node}"), &["--quick"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("more than once"), "{stderr}");
    assert!(!good.exists(), "nothing is created for a refused run");
    // An array on the local node, in a hostile directory.
    let (code, stdout, stderr) = submit(&good, &node, &["--quick", "--repeats", "1"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (report_code, r) = fleet_json(&good);
    assert_eq!(code, report_code, "{stdout}{stderr}");
    assert_eq!(
        code,
        Some(if r.failed() { 1 } else { 0 }),
        "{stdout}{stderr}"
    );
    assert_eq!(r.tasks.len(), 1, "{stdout}{stderr}");
    for t in &r.tasks {
        assert_eq!(t.state.state, "COMPLETED", "{t:?}");
        assert_eq!(t.outcome, TaskOutcome::Ran);
        assert_eq!(t.state.ran_on, node);
    }
    assert!(r.missing.is_empty());
    assert_eq!(r.nodes.len(), 1);
    assert!(r.completed_after_seconds.unwrap() > 0.0);
    let q: QualifyReport =
        serde_json::from_slice(&std::fs::read(good.join(format!("{node}.json"))).unwrap()).unwrap();
    assert!(q.quick && q.repeats == 1);
    assert!(
        stdout.contains("Slurm tasks") && stdout.contains("COMPLETED"),
        "{stdout}"
    );
    assert!(!root.path().join("pwned").exists());
    // The same directory is not reused: old results must not pass for new ones.
    let (code, _, stderr) = submit(&good, &node, &["--quick"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already holds a fleet run"), "{stderr}");

    // 1b. --shared-read: both tasks run at once (no --exclusive), meet at
    // the barrier and read the same stacks together.
    let stacks = root.path().join("stacks $(touch pwned) 'x'");
    std::fs::create_dir(&stacks).unwrap();
    cryocap()
        .args([
            "stack",
            "create",
            "--quiet",
            "--particles",
            "4000",
            "--box",
            "128",
        ])
        .args(["--reserve", "1GB", "--dir"])
        .arg(&stacks)
        .assert()
        .success();
    let shared = root.path().join("shared read 'q' $X");
    let out = cryocap()
        .args(["fleet", "submit", "--timeout", "5m", "--nodes"])
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
    for t in &r.tasks {
        assert_eq!(t.outcome, TaskOutcome::Ran, "{t:?}\n{stdout}{stderr}");
    }
    let stack_bytes: u64 = std::fs::read_dir(&stacks)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let reads: Vec<SharedRead> = (0..2)
        .map(|i| {
            let p = shared.join(format!("{node}-{i}.shared-read.json"));
            serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
        })
        .collect();
    for (i, rd) in reads.iter().enumerate() {
        assert_eq!((rd.task, rd.node.as_str()), (i as u32, node.as_str()));
        assert_eq!(rd.bytes, stack_bytes, "every byte of every stack, once");
        assert!(rd.end_unix > rd.start_unix);
    }
    // The read windows overlap: both tasks were reading at the same time.
    let latest_start = reads[0].start_unix.max(reads[1].start_unix);
    let earliest_end = reads[0].end_unix.min(reads[1].end_unix);
    assert!(latest_start < earliest_end, "{reads:?}");
    let s = r.shared_read.expect("the report sums the shared reads");
    assert_eq!(s.total_bytes, 2 * stack_bytes);
    let window =
        reads[0].end_unix.max(reads[1].end_unix) - reads[0].start_unix.min(reads[1].start_unix);
    assert!((s.window_seconds - window).abs() < 1e-6);
    assert!((s.aggregate_bytes_per_second - 2.0 * stack_bytes as f64 / window).abs() < 1.0);
    assert!(s.overlap_seconds > 0.0);
    assert!((s.tasks.iter().map(|t| t.share).sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    assert!(stdout.contains("aggregate throughput"), "{stdout}");
    assert!(!root.path().join("pwned").exists());

    // 2. A task that fails on its node: the profile does not exist there.
    let bad = root.path().join("failing");
    let (code, stdout, stderr) = submit(&bad, &node, &["--quick", "--profile", "no-such-profile"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let (_, r) = fleet_json(&bad);
    assert_eq!(r.tasks.len(), 1);
    assert_eq!(r.tasks[0].state.state, "FAILED");
    assert_eq!(r.tasks[0].state.exit_code, "2:0");
    assert_eq!(r.tasks[0].outcome, TaskOutcome::Failed);
    assert!(
        r.tasks[0].log_tail.contains("unknown profile"),
        "{:?}",
        r.tasks[0]
    );
    assert_eq!(r.missing, vec![node.as_str()]);

    // 3. A job cancelled while pending: the node is taken by another job.
    let blocker = Command::new("sbatch")
        .args([
            "--parsable",
            "--exclusive",
            "--output=/dev/null",
            "--wrap",
            "sleep 120",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let blocker_id: u64 = String::from_utf8_lossy(&blocker.stdout)
        .trim()
        .parse()
        .unwrap();
    let _blocker = JobGuard(Some(blocker_id));
    let cancelled = root.path().join("cancelled");
    let child = Command::new(assert_cmd::cargo::cargo_bin("cryocap"))
        .args([
            "fleet",
            "submit",
            "--quiet",
            "--timeout",
            "5m",
            "--nodes",
            &node,
            "--out-dir",
        ])
        .arg(&cancelled)
        .args(["--", "--quick"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let job = loop {
        if let Some(s) = submission(&cancelled)
            && squeue_state(s.job_id) == "PENDING"
        {
            break s.job_id;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the fleet job never showed as pending"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let _job = JobGuard(Some(job));
    // Pending after release, not merely held: the node is busy.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(squeue_state(job), "PENDING");
    assert!(
        Command::new("scancel")
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
    assert_eq!(r.tasks[0].state.state, "CANCELLED");
    assert_eq!(r.tasks[0].outcome, TaskOutcome::NeverRan);
    assert!(r.tasks[0].state.ran_on.is_empty());
    assert_eq!(r.missing, vec![node.as_str()]);
    assert!(stdout.contains("never ran"), "{stdout}");
}

/// `--scheduler sge|pbs --dry-run`: one qsub per node, pinned to it, the
/// script quoted and valid bash, --time as each one's run-time limit;
/// --partition is refused for both (no PBS server to test real submission
/// against; Grid Engine's is tested in fleet_sge.rs).
#[test]
fn sge_and_pbs_dry_runs_pin_one_job_per_node() {
    let root = tempfile::tempdir().unwrap();
    let out_dir = root.path().join("fleet dir 'x'");
    for (sched, pin) in [
        ("sge", "-l hostname=gpu02 -l exclusive=true -l gpu=2"),
        ("pbs", "-l select=1:host=gpu02:ngpus=2 -l place=excl"),
    ] {
        let out = cryocap()
            .current_dir(root.path())
            .args(["fleet", "submit", "--dry-run", "--scheduler", sched])
            .args(["--nodes", "gpu[01-02]", "--gpus", "2", "--out-dir"])
            .arg(&out_dir)
            .args([
                "--",
                "--quick",
                "--deployment",
                "--dir",
                "/data/$(touch pwned)",
            ])
            .assert()
            .success()
            .get_output()
            .clone();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.matches("#   qsub ").count(), 2, "{text}");
        assert!(text.contains(pin), "{sched}: {text}");
        assert!(text.contains("-v CRYOCAP_NODE=gpu01"), "{text}");
        assert!(text.contains("'/data/$(touch pwned)'"), "{text}");
        // --deployment: every node also reads the run's shared token
        assert!(
            text.contains("--shared-token ") && text.contains(".cryocap-fleet/shared-token"),
            "{text}"
        );
        assert_eq!(
            text.contains("PBS submission is untested"),
            sched == "pbs",
            "{text}"
        );
        Command::new("bash")
            .args(["-n", "-c", &text])
            .assert()
            .success();
        assert!(!root.path().join("pwned").exists());
        assert!(!out_dir.exists(), "a dry run writes nothing");
    }
    for (sched, extra) in [
        // PBS submits through the same interface; with no PBS server here
        // its client check fails, naming the scheduler.
        ("pbs", &["--nodes", "gpu01"][..]),
        ("sge", &["--partition", "p", "--dry-run"][..]),
        ("pbs", &["--partition", "p", "--dry-run"][..]),
    ] {
        cryocap()
            .args(["fleet", "submit", "--scheduler", sched, "--out-dir"])
            .arg(root.path().join("o"))
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!("--scheduler {sched}")));
    }
    // --time becomes Grid Engine's hard run-time limit, in seconds.
    let out = cryocap()
        .args(["fleet", "submit", "--scheduler", "sge", "--dry-run"])
        .args(["--nodes", "gpu01", "--time", "1-00:30:00", "--out-dir"])
        .arg(&out_dir)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("-l h_rt=88200 "), "{text}");
    assert!(text.contains("/logs/$JOB_ID.out'"), "{text}");
    let out = cryocap()
        .args(["fleet", "submit", "--scheduler", "pbs", "--dry-run"])
        .args(["--nodes", "gpu01", "--time", "1-00:30:00", "--out-dir"])
        .arg(&out_dir)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("-l walltime=24:30:00 "), "{text}");
    cryocap()
        .args([
            "fleet",
            "submit",
            "--scheduler",
            "pbs",
            "--dry-run",
            "--nodes",
            "n1",
        ])
        .args(["--out-dir", "/shared/a:b"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("HOST:PATH"));
}
