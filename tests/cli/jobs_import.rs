//! `cryocap jobs import`: real job directories through the binary, whole,
//! partial, running, failed, empty and oddly named.

use std::fs;
use std::path::{Path, PathBuf};

use cryocap::results::job_run::{JobRun, RunStatus};
use cryocap::results::{Envelope, Kind};

use crate::common::{bad_input, cryocap, envelope};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jobs")
        .join(name)
}

/// A copy of a fixture at `to`.
fn copy(name: &str, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn job_run(e: Envelope) -> JobRun {
    match e.kind {
        Kind::JobRun(r) => *r,
        other => panic!("not a job-run: {}", other.name()),
    }
}

fn import(dir: &Path) -> JobRun {
    job_run(envelope(&["jobs", "import", dir.to_str().unwrap()]))
}

#[test]
fn a_real_relion_class2d_directory() {
    let r = import(&fixture("relion/class2d-relion13-tutorial"));
    assert_eq!(r.job.as_deref(), Some("relion-class2d"));
    assert_eq!(r.status, RunStatus::Finished);
    assert_eq!(r.shape.particles, Some(201));
    assert_eq!((r.shape.iterations, r.shape.classes), (Some(25), Some(10)));
    assert_eq!(
        (r.shape.box_size, r.shape.image_size),
        (Some(100), Some(68))
    );
    assert_eq!((r.layout.ranks, r.layout.threads), (Some(11), Some(4)));
    let table = cryocap()
        .args(["jobs", "import"])
        .arg(fixture("relion/class2d-relion13-tutorial"))
        .assert()
        .success();
    let text = String::from_utf8_lossy(&table.get_output().stdout).to_string();
    assert!(text.contains("relion relion-class2d (Class2D)"), "{text}");
    assert!(
        text.contains("11 rank(s) × 4 thread(s), 0 GPU(s)"),
        "{text}"
    );
}

#[test]
fn a_cryosparc_directory_times_the_run_from_job_json() {
    let r = import(&fixture("cryosparc/nu-refine-constructed"));
    assert_eq!(r.job.as_deref(), Some("cryosparc-nu-refine"));
    assert_eq!(r.software, "cryosparc");
    assert_eq!(r.shape.particles, Some(41_123));
    assert_eq!((r.layout.gpus, r.layout.threads), (Some(1), Some(4)));
    let w = r.wall_seconds.unwrap();
    assert!((w - 6077.562).abs() < 1e-3, "{w}");
}

#[test]
fn a_running_job_says_so_and_keeps_what_it_has() {
    let r = import(&fixture("relion/class3d-relion4-note"));
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!((r.shape.classes, r.layout.gpus), (Some(4), Some(4)));
    assert_eq!(r.wall_seconds, None);
    let out = cryocap()
        .args(["jobs", "import"])
        .arg(fixture("relion/class3d-relion4-note"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("running (or stopped without a trace)"),
        "{text}"
    );
    assert!(text.contains("end time: the job has not ended"), "{text}");
}

#[test]
fn a_failed_job_is_failed_with_its_figures() {
    let t = tempfile::tempdir().unwrap();
    copy("relion/class2d-relion13-tutorial", t.path());
    fs::write(t.path().join("RELION_JOB_EXIT_FAILURE"), "").unwrap();
    let r = import(t.path());
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.shape.particles, Some(201));
}

#[test]
fn files_missing_give_a_partial_result_naming_them() {
    let t = tempfile::tempdir().unwrap();
    copy("relion/class2d-relion13-tutorial", t.path());
    fs::remove_file(t.path().join("manual_it025_data.star")).unwrap();
    fs::remove_file(t.path().join("manual_it025_model.star")).unwrap();
    let r = import(t.path());
    assert_eq!((r.shape.particles, r.shape.image_size), (None, None));
    assert_eq!(r.shape.iterations, Some(25), "the optimiser is still read");
    let said = r.missing.join("\n");
    assert!(
        said.contains("particles: no manual_it025_data.star"),
        "{said}"
    );
    assert!(said.contains("no manual_it025_model.star"), "{said}");
}

#[test]
fn an_empty_directory_is_one_line_and_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let line = bad_input(&["jobs", "import", t.path().to_str().unwrap()]);
    assert!(line.contains("holds no note.txt"), "{line}");
    let line = bad_input(&["jobs", "import", "/no/such/job"]);
    assert!(line.contains("cannot read the job directory"), "{line}");
}

#[test]
fn hostile_directory_names_stay_on_one_line() {
    let t = tempfile::tempdir().unwrap();
    let odd = t.path().join("Class2D\n\u{1b}[31mjob 'x\"");
    copy("relion/class2d-relion13-tutorial", &odd);
    let out = cryocap()
        .args(["jobs", "import"])
        .arg(&odd)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("directory")).unwrap();
    assert!(line.contains("Class2D\\n\\u{1b}[31mjob 'x\""), "{line}");
    assert!(!text.contains('\u{1b}'));
    let gone = t.path().join("gone\nerror: fake");
    let line = bad_input(&["jobs", "import", gone.to_str().unwrap()]);
    assert!(line.contains("gone\\nerror: fake"), "{line}");
}

#[test]
fn several_directories_print_one_json_document_a_line() {
    let db = tempfile::tempdir().unwrap();
    let history = db.path().join("h.sqlite");
    let out = cryocap()
        .args(["jobs", "import", "--format", "json", "--history"])
        .arg(&history)
        .arg(fixture("relion/class2d-relion13-tutorial"))
        .arg(fixture("cryosparc/nu-refine-constructed"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let jobs: Vec<String> = text
        .lines()
        .map(|l| job_run(serde_json::from_str(l).unwrap()).job.unwrap())
        .collect();
    assert_eq!(jobs, ["relion-class2d", "cryosparc-nu-refine"]);
    let listed = cryocap().arg("history").arg(&history).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout)
            .matches("job-run")
            .count(),
        2
    );
    let line = bad_input(&[
        "jobs",
        "import",
        "--json",
        db.path().join("r.json").to_str().unwrap(),
        "a",
        "b",
    ]);
    assert!(
        line.contains("hold one result, and 2 directories were given"),
        "{line}"
    );
}
