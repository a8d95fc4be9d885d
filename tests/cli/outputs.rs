//! What cryocap writes, and what it never writes over: outputs go only
//! where nothing or a regular file is (never a device, a directory or a
//! link), never over a file the command reads, never two to one file; they
//! are checked before any work; new files take the umask, rewritten ones
//! keep their mode.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::common::{bad_input, cryocap};

fn fixture(kind: &str) -> String {
    format!(
        "{}/tests/fixtures/results/{kind}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A tiny dataset: 20 noise particles of box 16 and a STAR file naming them.
fn dataset(dir: &Path) -> (PathBuf, PathBuf) {
    cryocap()
        .args(["stack", "create", "--dir"])
        .arg(dir)
        .args([
            "--particles",
            "20",
            "--box",
            "16",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    let stack = dir.join("stack_00001.mrcs");
    let mut star = String::from(
        "data_particles\nloop_\n_rlnImageName\n_rlnAngleRot\n_rlnAngleTilt\n_rlnAnglePsi\n",
    );
    for i in 1..=20 {
        star.push_str(&format!("{i}@stack_00001.mrcs {} {} 0\n", i * 7, i * 3));
    }
    let star_path = dir.join("particles.star");
    std::fs::write(&star_path, star).unwrap();
    (star_path, stack)
}

fn is_char_device(p: &str) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

#[test]
fn devices_and_directories_are_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let (star, _) = dataset(dir.path());
    let s = star.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let plan = ["plan", "--particles", "1e6", "--box", "256"];
    let stored = fixture("plan");
    // a FIFO would block the writer's reader; a link would redirect root's write
    let fifo = dir.path().join("out.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let link = dir.path().join("out.json");
    std::os::unix::fs::symlink(&stored, &link).unwrap();
    let (fifo, link) = (fifo.to_str().unwrap(), link.to_str().unwrap());
    let cases: Vec<Vec<&str>> = vec![
        [&plan[..], &["--json", "/dev/null"]].concat(),
        [&plan[..], &["--json", fifo]].concat(),
        [&plan[..], &["--csv", link]].concat(),
        vec!["cache", "workload", "-o", "/dev/null"],
        vec!["report", &stored, "-o", "/dev/null"],
        vec!["reconstruct", "--star", s, "-o", "/dev/null"],
        vec!["qualify", "--quick", "--json", "/dev/null"],
        vec!["fleet", "report", d, "--json", "/dev/null"],
        [&plan[..], &["--html", d]].concat(),
    ];
    for args in cases {
        let line = bad_input(&args);
        assert!(
            line.contains("not a regular file") && line.contains("name a file"),
            "{args:?}: {line}"
        );
        assert!(is_char_device("/dev/null"), "{args:?} replaced /dev/null");
    }
}

#[test]
fn no_command_writes_over_its_own_input() {
    let dir = tempfile::tempdir().unwrap();
    let (star, stack) = dataset(dir.path());
    let (s, k) = (star.to_str().unwrap(), stack.to_str().unwrap());
    let before = (
        std::fs::read(&star).unwrap(),
        std::fs::read(&stack).unwrap(),
    );
    let copy = dir.path().join("plan.json");
    std::fs::copy(fixture("plan"), &copy).unwrap();
    let c = copy.to_str().unwrap();
    let q = fixture("qualify");
    let trace = crate::common::small_trace(dir.path());
    let t = trace.to_str().unwrap();
    for args in [
        vec!["reconstruct", "--star", s, "-o", s],
        vec!["reconstruct", "--star", s, "-o", k],
        vec!["reconstruct", "--star", s, "-o", "v.mrc", "--json", k],
        vec!["report", c, "-o", c],
        vec!["compare", &q, c, "--json", c],
        vec!["stack", "info", k, "--json", k],
        vec![
            "cache", "simulate", "--trace", t, "--ssd", "1TB", "--csv", t,
        ],
    ] {
        let line = bad_input(&args);
        assert!(
            line.contains("which this command reads"),
            "{args:?}: {line}"
        );
    }
    assert_eq!(std::fs::read(&star).unwrap(), before.0);
    assert_eq!(std::fs::read(&stack).unwrap(), before.1);
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        std::fs::read_to_string(fixture("plan")).unwrap()
    );
}

#[test]
fn outputs_are_checked_before_any_work_and_never_share_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x");
    let x = x.to_str().unwrap();
    let plan = ["plan", "--particles", "1e6", "--box", "256"];
    let line = bad_input(&[&plan[..], &["--json", x, "--html", x]].concat());
    assert!(line.contains("--json and --html both name"), "{line}");
    let line = bad_input(&[&plan[..], &["--json", "-"]].concat());
    assert!(
        line.contains("--json -") && line.contains("--format"),
        "{line}"
    );
    // qualify refuses at once, before a measurement of a minute or more
    let project = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let t0 = std::time::Instant::now();
    let line = bad_input(&[
        "qualify",
        "--dir",
        project.path().to_str().unwrap(),
        "--json",
        "/no/such/dir/r.json",
    ]);
    assert!(
        line.contains("/no/such/dir") && line.contains("does not exist"),
        "{line}"
    );
    assert!(t0.elapsed().as_secs() < 10, "checked only after measuring");
    assert_eq!(std::fs::read_dir(project.path()).unwrap().count(), 0);
}

#[test]
fn new_files_take_the_umask_and_rewritten_ones_keep_their_mode() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let script = format!(
        "umask 027; exec {} stack create --dir {d} --particles 10 --box 16 --reserve 0 --quiet --json {d}/r.json",
        assert_cmd::cargo::cargo_bin("cryocap").display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.path().join("stack_00001.mrcs")), 0o640);
    assert_eq!(mode(dir.path().join("r.json")), 0o640);
    // a file that is there keeps its mode when it is written again
    let r = dir.path().join("r.json");
    std::fs::set_permissions(&r, std::fs::Permissions::from_mode(0o604)).unwrap();
    cryocap()
        .args(["plan", "--particles", "1e6", "--box", "256", "--json"])
        .arg(&r)
        .assert()
        .success();
    assert_eq!(mode(r.clone()), 0o604);
    assert!(
        std::fs::read_to_string(&r)
            .unwrap()
            .contains("\"kind\": \"plan\"")
    );
}

/// A result output naming a file the command itself writes (a movie, the
/// gain reference, a stack) is refused before anything is written.
#[test]
fn an_output_may_not_name_a_file_the_command_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    for name in ["movie_00001.tif", "gain.mrc"] {
        let out = format!("{d}/{name}");
        let line = crate::common::bad_input(&[
            "movies",
            "create",
            "--dir",
            &d,
            "--size",
            "64x64",
            "--frames",
            "2",
            "--movies",
            "2",
            "--reserve",
            "0",
            "--quiet",
            "--json",
            &out,
        ]);
        assert!(line.contains("is a file this command writes"), "{line}");
    }
    let out = format!("{d}/./stack_00002.mrcs");
    let line = crate::common::bad_input(&[
        "stack",
        "create",
        "--dir",
        &d,
        "--particles",
        "10",
        "--box",
        "16",
        "--particles-per-file",
        "5",
        "--reserve",
        "0",
        "--json",
        &out,
    ]);
    assert!(line.contains("is a file this command writes"), "{line}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
