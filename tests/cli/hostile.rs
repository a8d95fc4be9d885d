//! Hostile input through the binary (issue 12): names and files other
//! programs wrote, values typed in odd ways. Each case ends with one line
//! on stderr and exit 2, loses nothing, and never panics.

use std::path::Path;

use crate::common::{bad_input, cryocap};

/// Writes a small valid stack (10 particles, box 16) into `dir`.
fn stack(dir: &Path) -> std::path::PathBuf {
    cryocap()
        .args(["stack", "create", "--dir"])
        .arg(dir)
        .args([
            "--particles",
            "10",
            "--box",
            "16",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    dir.join("stack_00001.mrcs")
}

#[test]
fn a_file_name_fio_would_run_never_reaches_a_job_file() {
    let dir = tempfile::tempdir().unwrap();
    let made = stack(dir.path());
    let evil = dir.path().join("a\nexec_prerun=touch PWNED\n;.mrcs");
    std::fs::rename(&made, &evil).unwrap();
    let job = dir.path().join("job.fio");
    let d = dir.path().to_str().unwrap();
    let line = bad_input(&[
        "bench",
        "io",
        "--dir",
        d,
        "--emit-fio",
        job.to_str().unwrap(),
        "--ramp-time",
        "0",
    ]);
    assert!(
        line.contains("--emit-fio") && line.contains("control character"),
        "{line}"
    );
    assert!(!job.exists(), "a job file was written");
    // The same stack read without --emit-fio is fine: only fio is at risk.
    cryocap()
        .args(["bench", "io", "--dir", d, "--ramp-time", "0", "--quiet"])
        .assert()
        .success();
    // --create into a directory fio cannot name is refused before writing.
    let odd = dir.path().join("x${HOME}");
    std::fs::create_dir(&odd).unwrap();
    let line = bad_input(&[
        "bench",
        "io",
        "--dir",
        odd.to_str().unwrap(),
        "--create",
        "10",
        "--box",
        "16",
        "--reserve",
        "0",
        "--emit-fio",
        job.to_str().unwrap(),
    ]);
    assert!(line.contains("environment variable"), "{line}");
    assert_eq!(std::fs::read_dir(&odd).unwrap().count(), 0);
}

/// A STAR file naming `names` (one row each) with fixed angles.
fn star(dir: &Path, header: &str, rows: &[String]) -> std::path::PathBuf {
    let mut text = String::from(header);
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let p = dir.join("particles.star");
    std::fs::write(&p, text).unwrap();
    p
}

const PARTICLES: &str =
    "data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n";

fn rows(n: usize, stack: &str) -> Vec<String> {
    (1..=n)
        .map(|i| format!("{i}@{stack} {} {} 0", i * 7, i * 3))
        .collect()
}

fn reconstruct_json(args: &[&str]) -> serde_json::Value {
    let out = cryocap()
        .arg("reconstruct")
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn one_nan_pixel_is_named_or_skipped_never_a_nan_volume() {
    let dir = tempfile::tempdir().unwrap();
    let stack_file = stack(dir.path());
    // image 4 (1-based) gets one NaN pixel
    let mut bytes = std::fs::read(&stack_file).unwrap();
    let at = 1024 + 3 * 16 * 16 * 4 + 40;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&stack_file, bytes).unwrap();
    let s = star(dir.path(), PARTICLES, &rows(10, "stack_00001.mrcs"));
    let v = dir.path().join("v.mrc");
    let (s, v) = (s.to_str().unwrap(), v.to_str().unwrap());
    let line = bad_input(&["reconstruct", "--star", s, "-o", v]);
    assert!(
        line.contains("image 4")
            && line.contains("stack_00001.mrcs")
            && line.contains("--non-finite skip"),
        "{line}"
    );
    assert!(!Path::new(v).exists());
    let r = reconstruct_json(&["--star", s, "-o", v, "--non-finite", "skip"]);
    assert_eq!(r["skipped_non_finite"], 1);
    let vol = std::fs::read(v).unwrap();
    assert!(
        vol[1024..]
            .chunks(4)
            .all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite())
    );
}

#[test]
fn relion_30_pixel_sizes_single_image_files_and_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    stack(&data);
    // RELION 3.0: no optics block; 14 µm pixels at 70,000x are 2 Å.
    let header = "data_\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n_rlnDetectorPixelSize\n_rlnMagnification\n";
    let r30: Vec<String> = rows(10, "stack_00001.mrcs")
        .into_iter()
        .map(|r| format!("{r} 14.0 70000"))
        .collect();
    let s = star(dir.path(), header, &r30);
    let v = dir.path().join("v.mrc");
    let d = data.to_str().unwrap();
    let (s, v) = (s.to_str().unwrap(), v.to_str().unwrap());
    // the stacks are found through --data-dir only
    let line = bad_input(&["reconstruct", "--star", s, "-o", v]);
    assert!(line.contains("stack_00001.mrcs"), "{line}");
    let r = reconstruct_json(&["--star", s, "-o", v, "--data-dir", d]);
    assert_eq!(r["pixel_size_a"], 2.0);
    assert!(
        r["notes"][0].as_str().unwrap().contains("2 Å per pixel"),
        "{r}"
    );
    let r = reconstruct_json(&["--star", s, "-o", v, "--data-dir", d, "--angpix", "1.5"]);
    assert_eq!(r["pixel_size_a"], 1.5);
    // a name without index@ is a file of one image
    let one = dir.path().join("one");
    std::fs::create_dir(&one).unwrap();
    for i in 1..=4 {
        let sub = one.join(format!("p{i}"));
        std::fs::create_dir(&sub).unwrap();
        cryocap()
            .args(["stack", "create", "--dir"])
            .arg(&sub)
            .args([
                "--particles",
                "1",
                "--box",
                "16",
                "--reserve",
                "0",
                "--seed",
            ])
            .arg(i.to_string())
            .arg("--quiet")
            .assert()
            .success();
    }
    let singles: Vec<String> = (1..=4)
        .map(|i| format!("one/p{i}/stack_00001.mrcs {} 10 0", i * 20))
        .collect();
    let s1 = star(dir.path(), PARTICLES, &singles);
    let r = reconstruct_json(&["--star", s1.to_str().unwrap(), "-o", v]);
    assert_eq!(r["particles"], 4);
    // ... and a file of ten images named without a number is refused
    let bad = star(
        dir.path(),
        PARTICLES,
        &["data/stack_00001.mrcs 0 0 0".to_string()],
    );
    let line = bad_input(&["reconstruct", "--star", bad.to_str().unwrap(), "-o", v]);
    assert!(
        line.contains("without an image number") && line.contains("holds 10"),
        "{line}"
    );
    // cache subset takes single-image names too
    let out = cryocap()
        .args(["cache", "subset", s1.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_box_too_large_for_the_node_is_a_message_not_an_abort() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    cryocap()
        .args(["stack", "create", "--dir"])
        .arg(dir.path())
        .args([
            "--particles",
            "1",
            "--box",
            "4096",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    // box 4096 at padding 2 needs terabytes: more than any node this runs on
    let s = star(dir.path(), PARTICLES, &rows(1, "stack_00001.mrcs"));
    let v = dir.path().join("v.mrc");
    let line = bad_input(&[
        "reconstruct",
        "--star",
        s.to_str().unwrap(),
        "-o",
        v.to_str().unwrap(),
        "--pad",
        "2",
    ]);
    assert!(
        line.contains("box 4096") && line.contains("needs about") && line.contains("available"),
        "{line}"
    );
}

#[test]
fn symmetry_expanded_rows_count_each_image_once() {
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    // every image listed three times (C3 expansion)
    let mut expanded = Vec::new();
    for r in rows(10, "stack_00001.mrcs") {
        for _ in 0..3 {
            expanded.push(r.clone());
        }
    }
    star(dir.path(), PARTICLES, &expanded);
    // run from the list's own directory, named by its bare file name
    let out = cryocap()
        .current_dir(dir.path())
        .args(["cache", "subset", "particles.star", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["particles"], 30);
    assert_eq!(r["repeated_rows"], 20);
    assert_eq!(r["subset_bytes"], 10 * 16 * 16 * 4 + 1024);
    assert_eq!(r["files_measured"], 1);
}

#[test]
fn negative_cells_and_compressed_maps() {
    let dir = tempfile::tempdir().unwrap();
    let f = stack(dir.path());
    // a negative cell (some writers store it so): its size is meant
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[40..44].copy_from_slice(&(-16.0f32).to_le_bytes());
    std::fs::write(&f, &bytes).unwrap();
    let out = cryocap()
        .args(["stack", "info", f.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["files"][0]["pixel_size_a"], 1.0);
    // gzip and bzip2 maps are named as compressed
    for (name, magic) in [
        ("m.map.gz", &b"\x1f\x8b\x08\x00"[..]),
        ("m.mrc.bz2", &b"BZh9"[..]),
    ] {
        let p = dir.path().join(name);
        let mut b = magic.to_vec();
        b.resize(2048, 0);
        std::fs::write(&p, b).unwrap();
        let line = bad_input(&["stack", "info", p.to_str().unwrap()]);
        assert!(line.contains("compressed"), "{name}: {line}");
    }
}

/// Runs cryocap with a time limit; a hang is a failure, not a stuck suite.
fn bounded(args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let mut child = crate::common::process()
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("{args:?} hung for {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

#[test]
fn fifos_and_devices_are_refused_where_a_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.json");
    fifo(&f);
    let p = f.to_str().unwrap();
    let fleet_dir = tempfile::tempdir().unwrap();
    fifo(&fleet_dir.path().join("gpu01.json"));
    let fd = fleet_dir.path().to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["stack", "info", p],
        vec!["report", p],
        vec!["history", p],
        vec!["compare", p, p],
        vec!["probe", p],
        vec!["cache", "simulate", "--trace", p, "--ssd", "1TB"],
        vec!["cache", "subset", p],
        vec!["qualify", "--quick", "--profile", p],
        vec!["reconstruct", "--star", p, "-o", "v.mrc"],
        vec!["report", "/dev/zero"],
        vec!["cache", "simulate", "--trace", "/dev/zero", "--ssd", "1TB"],
        vec!["cache", "subset", "/dev/zero"],
        vec!["qualify", "--quick", "--profile", "/dev/zero"],
        vec!["stack", "info", "/dev/zero"],
        vec![
            "fit",
            "--job",
            "relion-refine",
            "--vram",
            "8",
            "--particles-file",
            p,
        ],
        vec![
            "fit",
            "--job",
            "relion-refine",
            "--particles",
            "1",
            "--box",
            "64",
            "--node",
            p,
        ],
        vec![
            "fit",
            "--job",
            "relion-refine",
            "--particles",
            "1",
            "--box",
            "64",
            "--node",
            "/dev/zero",
        ],
    ];
    for args in cases {
        let out = bounded(&args, std::time::Duration::from_secs(20));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("FIFO")
                || err.contains("character device")
                || err.contains("regular file"),
            "{args:?}: {err}"
        );
    }
    // fleet report skips the FIFO and says so; it does not hang on it
    let out = bounded(
        &["fleet", "report", fd, "--format", "json"],
        std::time::Duration::from_secs(20),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
}

#[test]
fn commas_stand_only_between_thousands() {
    for bad in ["2,000,00", "1,5M"] {
        let line = bad_input(&["plan", "--particles", bad, "--box", "256"]);
        assert!(line.contains("thousands separator"), "{bad}: {line}");
    }
    let line = bad_input(&[
        "plan",
        "--particles",
        "1e6",
        "--box",
        "256",
        "--ssd",
        "1,92TB",
    ]);
    assert!(line.contains("thousands separator"), "{line}");
    cryocap()
        .args([
            "plan",
            "--particles",
            "2,000,000",
            "--box",
            "432",
            "--ssd",
            "1,920GB",
        ])
        .assert()
        .success();
}

#[test]
fn a_cs_header_nested_thirty_thousand_deep_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut header = "[".repeat(30_000);
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    let p = dir.path().join("deep.cs");
    std::fs::write(&p, bytes).unwrap();
    let line = bad_input(&["cache", "subset", p.to_str().unwrap()]);
    assert!(line.contains("nests too deeply"), "{line}");
}

#[test]
fn compare_refuses_gates_that_compare_nothing() {
    let q = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/qualify.json"
    );
    let io = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/bench-io.json"
    );
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/plan.json"
    );
    let line = bad_input(&["compare", q, io]);
    assert!(line.contains("compare runs of one kind"), "{line}");
    let line = bad_input(&["compare", plan, plan]);
    assert!(line.contains("holds no measured metrics"), "{line}");
    // one kind, but no metric in common
    let dir = tempfile::tempdir().unwrap();
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(io).unwrap()).unwrap();
    for m in other["metrics"].as_array_mut().unwrap() {
        m["id"] = format!("renamed.{}", m["id"].as_str().unwrap()).into();
    }
    let o = dir.path().join("o.json");
    std::fs::write(&o, other.to_string()).unwrap();
    let line = bad_input(&["compare", io, o.to_str().unwrap()]);
    assert!(line.contains("no metric in common"), "{line}");
}

#[test]
fn a_cache_of_nothing_is_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let t = crate::common::small_trace(dir.path());
    let t = t.to_str().unwrap();
    let sim = ["cache", "simulate", "--trace", t];
    for extra in [
        vec!["--ssd", "0B"],
        vec!["--ssd", "5GB", "--ssd-reserve", "10GB"],
        vec!["--ssd", "1TB", "--foreign", "2TB"],
        vec!["--ssd", "1TB", "--ssd-quota", "0"],
        vec!["--sweep", "5GB..1TB"],
    ] {
        let line = bad_input(&[&sim[..], &extra[..]].concat());
        assert!(
            line.contains("leaves") || line.contains("too small"),
            "{extra:?}: {line}"
        );
    }
    let star = dir.path().join("p.star");
    std::fs::write(&star, format!("{PARTICLES}1@a.mrcs 0 0 0\n")).unwrap();
    let line = bad_input(&["cache", "subset", star.to_str().unwrap(), "--ssd", "5GB"]);
    assert!(line.contains("leaves nothing"), "{line}");
}

#[test]
fn custom_profiles_are_checked_before_any_measurement() {
    let dir = tempfile::tempdir().unwrap();
    let line = |body: &str| {
        let p = dir.path().join("p.toml");
        std::fs::write(
            &p,
            format!("id = \"mine\"\ntitle = \"t\"\nsource = \"s\"\n{body}"),
        )
        .unwrap();
        let t0 = std::time::Instant::now();
        let l = bad_input(&["qualify", "--profile", p.to_str().unwrap()]);
        assert!(t0.elapsed().as_secs() < 5, "validated after measuring");
        l
    };
    let req = |id: &str, unit: &str, min: &str, rec: &str| {
        format!(
            "[[requirement]]\nid = \"{id}\"\nlabel = \"x\"\nunit = \"{unit}\"\nscale = \"per_node\"\nminimum = {min}\nrecommended = {rec}\nsource = \"s\"\n"
        )
    };
    assert!(line(&req("ram", "furlongs", "1", "2")).contains("unknown unit"));
    assert!(
        line(&(req("ram", "bytes", "1", "2") + &req("ram", "bytes", "1", "2"))).contains("twice")
    );
    assert!(line(&req("ram", "bytes", "nan", "2")).contains("not a number at or above 0"));
    assert!(line(&req("ram", "bytes", "-1", "2")).contains("not a number at or above 0"));
    assert!(line(&req("ram", "bytes", "3", "2")).contains("above recommended"));
    assert!(line(&req("ram", "cores", "1", "2")).contains("measured in bytes"));
    let bad_scale = req("ram", "bytes", "1", "2").replace("per_node", "sideways");
    let l = line(&bad_scale);
    assert!(
        l.contains("line 8") && l.contains("unknown variant `sideways`"),
        "{l}"
    );
}

#[test]
fn fleet_checks_the_scheduler_before_it_creates_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("fleet");
    let out = crate::common::process()
        .env("PATH", "/nonexistent")
        .args(["fleet", "submit", "--nodes", "gpu01", "--out-dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("sbatch"), "{err}");
    assert!(!out_dir.exists(), "created before sbatch was found");
    // a line break in --out-dir stays inside the dry run's comments
    let odd = dir.path().join("a\nrm -rf x");
    let out = cryocap()
        .args([
            "fleet",
            "submit",
            "--nodes",
            "gpu01",
            "--dry-run",
            "--out-dir",
        ])
        .arg(&odd)
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    let comment = script
        .split_once("# fleet submit would write")
        .map(|x| x.1)
        .unwrap();
    assert!(
        comment.lines().skip(1).all(|l| l.starts_with('#')),
        "a path broke the comment:\n{comment}"
    );
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .unwrap();
    assert!(check.status.success());
}

#[test]
fn messages_stay_one_line_and_conflicts_are_refused() {
    let line = bad_input(&["plan", "--dataset", "EMPIAR\nrm -rf x"]);
    assert!(line.contains("EMPIAR\\nrm"), "{line}");
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    let line = bad_input(&[
        "bench",
        "io",
        "--dir",
        dir.path().to_str().unwrap(),
        "--direct",
        "--buffered",
    ]);
    assert!(line.contains("cannot be used with"), "{line}");
    // HTML in a node name is escaped in Markdown as in HTML
    let fleet = tempfile::tempdir().unwrap();
    let mut q: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/results/qualify.json"
        ))
        .unwrap(),
    )
    .unwrap();
    q["node"] = "<img src=x onerror=alert(1)>".into();
    std::fs::write(fleet.path().join("n1.json"), q.to_string()).unwrap();
    let out = cryocap()
        .args([
            "fleet",
            "report",
            fleet.path().to_str().unwrap(),
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("&lt;img") && !md.contains("<img"), "{md}");
}

/// Reads the stacks in `stacks` once with bench io, storing the run in the
/// history `h`.
fn bench_into(stacks: &Path, h: &Path) -> std::process::Output {
    cryocap()
        .args([
            "bench",
            "io",
            "--dir",
            stacks.to_str().unwrap(),
            "--ramp-time",
            "0",
            "-q",
        ])
        .arg("--history")
        .arg(h)
        .output()
        .unwrap()
}

/// A history `h.sqlite` holding one bench io run of a small stack (the
/// directories, and the history's path), or None without python3's sqlite3,
/// which the history tests use as the other program.
fn history_with_a_run() -> Option<(tempfile::TempDir, tempfile::TempDir, std::path::PathBuf)> {
    if !crate::common::python_has("sqlite3") {
        eprintln!("skipped: no python3 sqlite3");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.sqlite");
    let stacks = tempfile::tempdir().unwrap();
    stack(stacks.path());
    assert!(bench_into(stacks.path(), &h).status.success());
    Some((dir, stacks, h))
}

#[test]
fn a_history_with_a_bad_row_is_still_read() {
    let Some((_dir, stacks, h)) = history_with_a_run() else {
        return;
    };
    // a second run through bench io, then a row no reader can parse
    assert!(bench_into(stacks.path(), &h).status.success());
    let script = format!(
        "import sqlite3; c = sqlite3.connect({:?}); c.execute(\"INSERT INTO cryocap_runs (recorded_at, node, kind, schema_version, json) VALUES (1, 'n', 'bench-io', 2, '{{broken')\"); c.commit()",
        h.to_str().unwrap()
    );
    assert!(
        std::process::Command::new("python3")
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
    let out = cryocap().arg("history").arg(&h).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 runs"));
    assert!(err.contains("1 stored run(s) could not be read"), "{err}");
}

#[test]
fn a_locked_history_is_waited_on() {
    let Some((_dir, stacks, h)) = history_with_a_run() else {
        return;
    };
    // another writer holds the database for two seconds
    let script = format!(
        "import sqlite3, sys, time\nc = sqlite3.connect({:?}, isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(2)\nc.execute('COMMIT')",
        h.to_str().unwrap()
    );
    let mut holder = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let out = bench_into(stacks.path(), &h);
    assert!(holder.wait().unwrap().success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let out = cryocap().arg("history").arg(&h).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 runs"));
}

#[test]
fn a_node_named_twice_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("fleet");
    let line = bad_input(&[
        "fleet",
        "submit",
        "--dry-run",
        "--nodes",
        "gpu[01-03],gpu02",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(line.contains("gpu02 more than once"), "{line}");
    assert!(!out_dir.exists());
}

#[test]
fn values_at_the_ends_of_their_ranges_are_accepted() {
    // --margin 100% and a reserve in percent parse; what is refused is the
    // missing input, named
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let line = bad_input(&["fleet", "report", d, "--margin", "100%"]);
    assert!(!line.contains("--margin"), "{line}");
    let line = bad_input(&["cache", "copy-bench", "--reserve", "5%"]);
    assert!(
        line.contains("--from") && !line.contains("--reserve"),
        "{line}"
    );
}

#[test]
fn qualify_says_why_the_project_storage_was_not_measured() {
    // /proc/self takes no scratch directory, not even from root
    let out = cryocap()
        .args([
            "qualify",
            "--quick",
            "--repeats",
            "1",
            "--dir",
            "/proc/self",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("project storage could not be measured"), "{md}");
    assert!(md.contains("cannot write into /proc/self"), "{md}");
    assert!(
        !md.contains("give --dir") && !md.contains("--reserve"),
        "{md}"
    );
}

#[test]
fn a_list_in_a_job_directory_finds_stacks_in_the_project_above() {
    // cryoSPARC and RELION name stacks from the project directory; the list
    // lives in a job directory below it, and is named from there
    let project = tempfile::tempdir().unwrap();
    stack(project.path());
    let job = project.path().join("J12");
    std::fs::create_dir(&job).unwrap();
    star(&job, PARTICLES, &rows(10, "stack_00001.mrcs"));
    let out = cryocap()
        .current_dir(&job)
        .args(["cache", "subset", "particles.star", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["files_measured"], 1);
    assert_eq!(r["subset_bytes"], 10 * 16 * 16 * 4 + 1024);
}
