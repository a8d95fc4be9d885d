//! `qualify`, `report`, `compare` and `history` through the binary.

use std::path::Path;

use crate::common::{bad_input, cryocap};
use cryocap::results::Kind;
use cryocap::results::metrics::Metric;
use cryocap::results::qualify::QualifyReport;
use cryocap::results::qualify::Verdict;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/qualify-vm.json"
);

/// The qualify result in a results file (any schema version).
fn read_report(p: &Path) -> QualifyReport {
    let r = cryocap::files::read_result(p).expect("qualify JSON deserialises");
    match r.kind {
        Kind::Qualify(q) => q,
        other => panic!("a {} result, not qualify", other.name()),
    }
}

#[test]
fn quick_qualify_writes_every_format() {
    let dir = tempfile::tempdir().unwrap();
    // scratch stacks go on disk next to the build, not a RAM-backed /tmp
    let project = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ssd = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let f = |name: &str| dir.path().join(name);
    let out = cryocap()
        .args([
            "qualify",
            "--quick",
            "--repeats",
            "2",
            "--gpus",
            "1",
            "--dir",
        ])
        .arg(project.path())
        .arg("--ssd-dir")
        .arg(ssd.path())
        .arg("--json")
        .arg(f("r.json"))
        .arg("--markdown")
        .arg(f("r.md"))
        .arg("--csv")
        .arg(f("r.csv"))
        .arg("--html")
        .arg(f("r.html"))
        .arg("--history")
        .arg(f("h.sqlite"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("expected under a minute"), "{stderr}");

    let env = cryocap::files::read_result(&f("r.json")).unwrap();
    assert_eq!(env.kind.name(), "qualify");
    let r = read_report(&f("r.json"));
    assert_eq!(out.status.code(), Some(if r.failed() { 1 } else { 0 }));
    let bw = r
        .metrics
        .iter()
        .find(|m| m.id == "memory_bandwidth")
        .unwrap();
    assert!(bw.samples.len() >= 3 && bw.value > 1e8, "{bw:?}");
    assert!(bw.min <= bw.value && bw.value <= bw.max);
    // every requirement of the profile gets a verdict, GPU ones NOT MEASURED here
    assert_eq!(r.checks.len(), 7);
    // storage: both directories read in order and at random, twice each
    for id in [
        "io.project.sequential.bytes_per_second",
        "io.project.random.bytes_per_second",
        "io.project.random.p99_latency",
        "io.ssd.random.bytes_per_second",
        "cache.copy.bytes_per_second",
    ] {
        let m = r
            .metrics
            .iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("no {id}: {:?}", r.notes));
        assert!(m.value > 0.0 && m.samples.len() == 2, "{m:?}");
    }
    let seq = r.checks.iter().find(|c| c.id == "sequential_read").unwrap();
    assert_ne!(seq.verdict, Verdict::NotMeasured);
    assert_eq!(r.bottlenecks.len(), 2, "boxes 256 and 432");
    assert_eq!(r.bottlenecks[0].bound_by, "SSD cache, random");
    assert!(r.bottlenecks[0].cache_gain.is_some());
    // the scratch stacks are gone
    assert_eq!(std::fs::read_dir(project.path()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(ssd.path()).unwrap().count(), 0);
    let vram = r.checks.iter().find(|c| c.id == "gpu_vram").unwrap();
    assert_eq!(vram.verdict, Verdict::NotMeasured);
    assert!(!vram.note.is_empty());

    let md = std::fs::read_to_string(f("r.md")).unwrap();
    assert!(md.contains("| check | verdict | measured |"), "{md}");
    let mut csv = csv::Reader::from_path(f("r.csv")).unwrap();
    // The one long form of every CSV (qualify's was kind,id,field,value,unit).
    assert_eq!(
        csv.headers().unwrap(),
        vec!["section", "item", "metric", "value", "unit"]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert!(
        rows.iter()
            .any(|r| &r[0] == "metric" && &r[1] == "memory_bandwidth" && &r[2] == "median")
    );
    let html = std::fs::read_to_string(f("r.html")).unwrap();
    for chart in [
        "VRAM needed per job type",
        "Storage reads: in order against random",
        "Read latency percentiles",
        "Bottleneck: particles/s per stage",
    ] {
        assert!(html.contains(chart), "HTML lacks the chart {chart}");
    }
    assert!(html.matches("<svg").count() >= 4);
    assert!(html.contains("class=\"r\""));

    // the run was stored; comparing it with itself finds nothing
    let listed = cryocap()
        .arg("history")
        .arg(f("h.sqlite"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("1 runs"));
    let same = cryocap()
        .arg("compare")
        .arg(f("r.json"))
        .arg("--history")
        .arg(f("h.sqlite"))
        .args(["--last", "3"])
        .output()
        .unwrap();
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
}

#[test]
fn report_renders_a_stored_run_the_same_way() {
    let md = cryocap()
        .args(["report", FIXTURE, "--format", "markdown"])
        .output()
        .unwrap();
    assert!(md.status.success());
    insta::assert_snapshot!(String::from_utf8(md.stdout).unwrap());
    let html = cryocap().args(["report", FIXTURE]).output().unwrap();
    assert!(String::from_utf8_lossy(&html.stdout).contains("<figure><svg"));
}

/// Writes the fixture with its memory-bandwidth samples replaced by
/// `median·scale` with ±1 % jitter, and without the metric `drop`.
fn variant(dir: &Path, name: &str, scale: f64, drop: Option<&str>) -> std::path::PathBuf {
    let mut env = cryocap::files::read_result(Path::new(FIXTURE)).unwrap();
    let Kind::Qualify(r) = &mut env.kind else {
        panic!("a qualify fixture")
    };
    for m in r.metrics.iter_mut().filter(|m| m.id == "memory_bandwidth") {
        let median = m.value;
        let samples = (0..m.samples.len())
            .map(|i| median * scale * [1.0, 1.01, 0.99][i % 3])
            .collect();
        *m = Metric::from_samples(&m.id, &m.label, &m.unit, m.better, samples);
    }
    if let Some(id) = drop {
        r.metrics.retain(|m| m.id != id);
    }
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(&env).unwrap()).unwrap();
    p
}

#[test]
fn compare_flags_a_twenty_percent_slowdown_and_not_noise() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = variant(dir.path(), "baseline.json", 1.0, None);
    let slower = variant(dir.path(), "slower.json", 0.8, None);
    let noisy = variant(dir.path(), "noisy.json", 0.995, None);

    let out = cryocap()
        .arg("compare")
        .arg(&baseline)
        .arg(&slower)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("REGRESSION") && text.contains("-20.0%"),
        "{text}"
    );

    let out = cryocap()
        .arg("compare")
        .arg(&baseline)
        .arg(&noisy)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // faster is not a regression
    let out = cryocap()
        .arg("compare")
        .arg(&slower)
        .arg(&baseline)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("improvement"));

    // a metric missing from the current run is reported
    let missing = variant(dir.path(), "missing.json", 1.0, Some("ram_bytes"));
    let out = cryocap()
        .arg("compare")
        .arg(&baseline)
        .arg(&missing)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("missing from the current run: ram_bytes")
    );
}

#[test]
fn qualify_and_compare_bad_input() {
    let line = bad_input(&["qualify", "--quick", "--profile", "cryosparc-workr"]);
    assert!(
        line.contains("unknown profile") && line.contains("cryosparc-worker"),
        "{line}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad_toml = dir.path().join("p.toml");
    std::fs::write(&bad_toml, "id = 3\n").unwrap();
    let line = bad_input(&[
        "qualify",
        "--quick",
        "--profile",
        bad_toml.to_str().unwrap(),
    ]);
    assert!(line.contains("is not a requirement profile"), "{line}");
    let line = bad_input(&["qualify", "--quick", "--dir", "/no/such/dir"]);
    assert!(line.contains("--dir"), "{line}");

    // A file from a newer cryocap is refused, naming its version.
    let other = dir.path().join("v3.json");
    std::fs::write(&other, r#"{"schema_version": 3, "metrics": []}"#).unwrap();
    let line = bad_input(&["compare", FIXTURE, other.to_str().unwrap()]);
    assert!(line.contains("schema_version 3"), "{line}");
    let line = bad_input(&["report", other.to_str().unwrap()]);
    assert!(line.contains("schema_version 3"), "{line}");

    let corrupt = dir.path().join("h.sqlite");
    std::fs::write(&corrupt, vec![b'x'; 4096]).unwrap();
    let line = bad_input(&["history", corrupt.to_str().unwrap()]);
    assert!(line.contains("not a cryocap history database"), "{line}");
    let line = bad_input(&["compare", FIXTURE, "--history", corrupt.to_str().unwrap()]);
    assert!(line.contains("not a cryocap history database"), "{line}");
    let line = bad_input(&["compare", FIXTURE, "--threshold", "lots"]);
    assert!(line.contains("--threshold"), "{line}");
}

#[test]
fn bench_runs_go_into_the_history_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let to = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let h = dir.path().join("h.sqlite");
    cryocap()
        .args([
            "stack",
            "create",
            "--particles",
            "64",
            "--box",
            "64",
            "--reserve",
            "0",
            "-q",
            "--dir",
        ])
        .arg(data.path())
        .assert()
        .success();
    for name in ["a.json", "b.json"] {
        let out = cryocap()
            .args(["bench", "io", "--quiet", "--format", "json", "--dir"])
            .arg(data.path())
            .arg("--history")
            .arg(&h)
            .assert()
            .success()
            .get_output()
            .clone();
        std::fs::write(dir.path().join(name), &out.stdout).unwrap();
    }
    cryocap()
        .args([
            "cache",
            "copy-bench",
            "--threads",
            "1,2",
            "--repeats",
            "2",
            "--quiet",
            "--from",
        ])
        .arg(data.path())
        .arg("--to")
        .arg(to.path())
        .arg("--history")
        .arg(&h)
        .assert()
        .success();

    let listed = cryocap()
        .arg("history")
        .arg(&h)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let runs: Vec<cryocap::history::RunSummary> = serde_json::from_slice(&listed.stdout).unwrap();
    let kinds: Vec<&str> = runs.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["bench-io", "bench-io", "cache-copy-bench"]);
    assert!(runs.iter().all(|r| r.metrics >= 2));

    // two bench io results compare metric by metric (exit 0 or 1, never 2)
    let cmp = cryocap()
        .arg("compare")
        .arg(dir.path().join("a.json"))
        .arg(dir.path().join("b.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert!(
        matches!(cmp.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    assert!(
        text.contains("random reads") && text.contains("sequential read p99 latency"),
        "{text}"
    );
}

/// Binds 11 consecutive loopback ports; returns the base and the listeners.
fn eleven_ports() -> (u16, Vec<std::net::TcpListener>) {
    (21_000u16..60_000)
        .step_by(89)
        .find_map(|b| {
            let ls: Vec<_> = (b..b + 11)
                .filter_map(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok())
                .collect();
            (ls.len() == 11).then_some((b, ls))
        })
        .expect("11 free consecutive loopback ports")
}

fn deployment_check<'a>(r: &'a QualifyReport, id: &str) -> &'a cryocap::results::qualify::Check {
    r.checks
        .iter()
        .find(|c| c.id == format!("deployment.{id}"))
        .unwrap_or_else(|| panic!("no deployment.{id} check"))
}

/// `qualify --deployment` against real sockets and directories: the closed
/// master ports are named, the user and access checks hold, and every
/// format carries the checks.
#[test]
fn deployment_checks_real_ports_and_dirs() {
    let (base, mut held) = eleven_ports();
    held.remove(9);
    held.remove(2);
    let dir = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let f = |name: &str| dir.path().join(name);
    std::fs::write(f("token"), "cryocap fleet token 0123abcd\n").unwrap();
    let out = cryocap()
        .args([
            "qualify",
            "--quick",
            "--repeats",
            "1",
            "--deployment",
            "--master",
        ])
        .arg(format!("127.0.0.1:{base}"))
        .arg("--shared-token")
        .arg(f("token"))
        .arg("--dir")
        .arg(project.path())
        .arg("--ssd-dir")
        .arg(project.path())
        // a petabyte quota: no test disk holds it
        .args(["--ssd-quota", "1000000000", "--ssd-reserve", "5000"])
        .arg("--json")
        .arg(f("r.json"))
        .arg("--csv")
        .arg(f("r.csv"))
        .arg("--quiet")
        .env("CUDA_VISIBLE_DEVICES", "0,1")
        .output()
        .unwrap();
    // a closed port is a FAIL: exit 1, results written
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = read_report(&f("r.json"));
    let ports = deployment_check(&r, "master_ports");
    assert_eq!(ports.verdict, Verdict::Fail);
    assert!(
        ports
            .note
            .contains(&format!("2 of 11 ports on 127.0.0.1:{base}-{}", base + 10))
            && ports
                .note
                .contains(&format!(": {}, {} (", base + 2, base + 9)),
        "{}",
        ports.note
    );
    let root = rustix::process::geteuid().is_root();
    let user = deployment_check(&r, "user");
    assert_eq!(
        user.verdict,
        if root { Verdict::Fail } else { Verdict::Pass }
    );
    assert_eq!(
        deployment_check(&r, "project_access").verdict,
        Verdict::Pass
    );
    assert_eq!(deployment_check(&r, "ssd_access").verdict, Verdict::Pass);
    // statvfs of the real directory, against the quota and reserve given
    let space = deployment_check(&r, "ssd_space");
    assert_eq!(space.verdict, Verdict::Warn, "{}", space.note);
    assert!(
        space.note.contains("1.05 PB") && space.note.contains("5.24 GB"),
        "{}",
        space.note
    );
    assert!(space.note.contains("lower --ssdquota"), "{}", space.note);
    assert!(space.source.contains("--ssdreserve"), "{}", space.source);
    assert_ne!(deployment_check(&r, "shared_fs").verdict, Verdict::Fail);
    assert_ne!(deployment_check(&r, "kernel").verdict, Verdict::NotMeasured);
    assert!(deployment_check(&r, "visible_gpus").note.contains("'0,1'"));
    assert_eq!(
        std::fs::read_dir(project.path()).unwrap().count(),
        0,
        "scratch left behind"
    );
    let csv = std::fs::read_to_string(f("r.csv")).unwrap();
    assert!(csv.contains("deployment.master_ports"), "{csv}");
    // the token as this node sees it, and who ran
    use std::os::unix::fs::MetadataExt;
    assert_eq!(deployment_check(&r, "shared_token").verdict, Verdict::Pass);
    let who = r.identity.as_ref().expect("deployment records who ran");
    assert_eq!(who.uid, rustix::process::geteuid().as_raw());
    let t = who.token.as_ref().expect("the token was read");
    assert_eq!(t.inode, std::fs::metadata(f("token")).unwrap().ino());
    assert_eq!(t.content, "cryocap fleet token 0123abcd");

    // every port open: PASS, within the bounded timeouts
    drop(held);
    let (base, _held) = eleven_ports();
    let t0 = std::time::Instant::now();
    cryocap()
        .args([
            "qualify",
            "--quick",
            "--repeats",
            "1",
            "--deployment",
            "--quiet",
            "--master",
        ])
        .arg(format!("127.0.0.1:{base}"))
        .arg("--json")
        .arg(f("p.json"))
        .assert()
        .code(if root { 1 } else { 0 });
    // a token this node cannot read is a FAIL of its own
    cryocap()
        .args([
            "qualify",
            "--quick",
            "--repeats",
            "1",
            "--deployment",
            "--quiet",
        ])
        .arg("--shared-token")
        .arg(f("no-such-token"))
        .arg("--json")
        .arg(f("t.json"))
        .assert()
        .code(1);
    let t = read_report(&f("t.json"));
    let c = deployment_check(&t, "shared_token");
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.note.contains("does not see the directory"), "{}", c.note);
    assert!(t0.elapsed() < std::time::Duration::from_secs(120));
    let r = read_report(&f("p.json"));
    assert_eq!(deployment_check(&r, "master_ports").verdict, Verdict::Pass);
    assert_eq!(
        deployment_check(&r, "project_access").verdict,
        Verdict::NotMeasured
    );
    assert_eq!(
        deployment_check(&r, "ssd_space").verdict,
        Verdict::NotMeasured
    );
}

/// Access as a regular user: run as root (as CI does), the binary runs as
/// `nobody` against a directory only root may write, and one it owns.
#[test]
fn deployment_access_as_a_regular_user() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run the binary as another user (CI runs as root)");
        return;
    }
    const NOBODY: u32 = 65534;
    let open =
        |d: &Path| std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tempfile::tempdir().unwrap();
    open(out.path());
    std::os::unix::fs::chown(out.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let roots = tempfile::tempdir().unwrap(); // root's, mode 0755
    open(roots.path());
    let owned = tempfile::tempdir().unwrap();
    open(owned.path());
    std::os::unix::fs::chown(owned.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let mut cmd = crate::common::process();
    cmd.uid(NOBODY)
        .gid(NOBODY)
        .env("HOME", out.path())
        .args([
            "qualify",
            "--quick",
            "--repeats",
            "1",
            "--quiet",
            "--deployment",
            "--dir",
        ])
        .arg(roots.path())
        .arg("--ssd-dir")
        .arg(owned.path())
        .arg("--json")
        .arg(out.path().join("r.json"));
    let res = match cmd.output() {
        Ok(o) if o.status.code() != Some(126) => o,
        other => {
            eprintln!("skipped: the binary cannot run as uid {NOBODY} here ({other:?})");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&res.stderr);
    if !out.path().join("r.json").exists() {
        eprintln!("skipped: the binary as uid {NOBODY} wrote no results: {stderr}");
        return;
    }
    assert_eq!(res.status.code(), Some(1), "{stderr}");
    let r = read_report(&out.path().join("r.json"));
    assert_eq!(deployment_check(&r, "user").verdict, Verdict::Pass);
    let p = deployment_check(&r, "project_access");
    assert_eq!(p.verdict, Verdict::Fail);
    assert!(
        p.note.contains("no file can be created") && p.note.contains("seed 003"),
        "{}",
        p.note
    );
    assert_eq!(deployment_check(&r, "ssd_access").verdict, Verdict::Pass);
}

#[test]
fn deployment_bad_master() {
    for bad in ["a b", "host:0", "host:65530", "[::1", "$(id)"] {
        cryocap()
            .args(["qualify", "--deployment", "--master", bad])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--master"));
    }
    // --master needs --deployment
    cryocap()
        .args(["qualify", "--master", "m1"])
        .assert()
        .code(2);
}

#[test]
fn ssh_worker_flags_are_checked_before_anything_runs() {
    let e = bad_input(&["qualify", "--deployment", "--workers", "gpu[01-"]);
    assert!(e.contains("--workers"), "{e}");
    let e = bad_input(&[
        "qualify",
        "--deployment",
        "--workers",
        "gpu[01-02]",
        "--ssh-config",
        "/nonexistent/ssh_config",
    ]);
    assert!(e.contains("--ssh-config"), "{e}");
    let e = bad_input(&["qualify", "--workers", "gpu01"]);
    assert!(e.contains("--deployment"), "{e}");
    let e = bad_input(&["qualify", "--deployment", "--ssh-config", "c"]);
    assert!(e.contains("--workers"), "{e}");
}
