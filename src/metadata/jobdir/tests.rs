//! The readers on the shipped fixtures (tests/fixtures/jobs/), and on
//! copies of them changed the way real directories differ.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use super::read;
use crate::results::job_run::RunStatus;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jobs")
        .join(name)
}

/// A copy of a fixture in a temporary directory.
fn copy(name: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for e in fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), t.path().join(e.file_name())).unwrap();
    }
    t
}

fn touch(path: &Path, secs: u64) {
    let f = File::options()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn relion_1_3_class2d_is_read_from_its_optimiser_model_data_and_out() {
    let r = read(&fixture("relion/class2d-relion13-tutorial"), "C").unwrap();
    assert_eq!(r.job.as_deref(), Some("relion-class2d"));
    assert_eq!(r.job_label.as_deref(), Some("Class2D"));
    assert_eq!(r.status, RunStatus::Finished);
    let s = &r.shape;
    assert_eq!(
        s.particles,
        Some(201),
        "the fixture keeps 201 of 1,098 rows"
    );
    assert_eq!((s.iterations, s.classes), (Some(25), Some(10)));
    assert_eq!((s.box_size, s.image_size), (Some(100), Some(68)));
    assert_eq!((s.pixel_a, s.resolution_a), (Some(3.54), Some(14.75)));
    let l = &r.layout;
    assert_eq!((l.ranks, l.threads, l.gpus), (Some(11), Some(4), Some(0)));
    assert_eq!(l.host.as_deref(), Some("fmb193.lmb.internal"));
    assert!(
        r.command
            .as_deref()
            .unwrap()
            .starts_with("--o Class2D/manual")
    );
    assert_eq!(r.wall_seconds, None, "RELION 1.3 wrote no note.txt");
    assert!(r.missing.iter().any(|m| m.starts_with("note.txt: not in")));
}

#[test]
fn a_note_and_a_success_marker_time_the_run() {
    let t = copy("relion/class2d-relion13-tutorial");
    let note = " ++++ Executing new job on Tue Jun  1 14:47:32 2021\n ++++ with the following \
                command(s): \nmpirun -n 3 `which relion_refine_mpi` --o Class2D/job008/run \
                --ctf --K 10 --iter 25 --j 4 --gpu \"0:1\"\n ++++ \n";
    fs::write(t.path().join("note.txt"), note).unwrap();
    // the note written at 16:47:32 by the clock: the header is UTC+2
    touch(&t.path().join("note.txt"), 1_622_558_852 - 7200);
    touch(
        &t.path().join("RELION_JOB_EXIT_SUCCESS"),
        1_622_558_852 - 7200 + 5400,
    );
    let out = "RELION version: 4.0.1-commit-ex417f\n === RELION MPI setup ===\n \
               + Number of MPI processes             = 3\n \
               + Leader      (0) runs on host            = gpu17\n";
    fs::write(t.path().join("run.out"), out).unwrap();
    let r = read(t.path(), "job008").unwrap();
    assert_eq!(r.version.as_deref(), Some("4.0.1-commit-ex417f"));
    assert_eq!(r.layout.host.as_deref(), Some("gpu17"));
    assert_eq!(r.status, RunStatus::Finished);
    assert_eq!(r.wall_seconds, Some(5400.0));
    assert_eq!(r.layout.ranks, Some(3), "the note's command, not run.out");
    assert_eq!(r.layout.gpus, Some(2));
    assert_eq!(r.dir.as_deref(), Some("job008"));
    assert!(r.timed_by.unwrap().contains("RELION_JOB_EXIT_SUCCESS"));
}

#[test]
fn a_relion_4_note_without_iterations_is_a_running_partial_job() {
    let r = read(&fixture("relion/class3d-relion4-note"), "J").unwrap();
    assert_eq!(r.job.as_deref(), Some("relion-class3d"));
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!((r.shape.classes, r.shape.healpix_order), (Some(4), Some(2)));
    assert_eq!(r.shape.symmetry.as_deref(), Some("C1"));
    assert_eq!(
        (r.layout.threads, r.layout.gpus, r.layout.pool),
        (Some(6), Some(4), Some(30))
    );
    assert_eq!(r.layout.preread_images, Some(true));
    assert_eq!((r.shape.particles, r.wall_seconds), (None, None));
    assert!(
        r.missing
            .iter()
            .any(|m| m.starts_with("end time: the job has not ended"))
    );
}

#[test]
fn failure_and_abort_markers_and_run_err_say_so() {
    for (marker, status) in [
        ("RELION_JOB_EXIT_FAILURE", RunStatus::Failed),
        ("RELION_JOB_EXIT_ABORTED", RunStatus::Killed),
    ] {
        let t = copy("relion/class3d-relion4-note");
        touch(&t.path().join(marker), 1_700_000_000);
        assert_eq!(read(t.path(), "x").unwrap().status, status, "{marker}");
    }
    let t = copy("relion/class3d-relion4-note");
    fs::write(
        t.path().join("run.err"),
        "in: ml_optimiser.cpp\nERROR: out of memory\n",
    )
    .unwrap();
    let r = read(t.path(), "x").unwrap();
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.missing
            .iter()
            .any(|m| m.contains("run.err: ERROR: out of memory"))
    );
}

#[test]
fn cryosparc_job_json_gives_type_particles_gpus_and_wall_time() {
    let r = read(&fixture("cryosparc/nu-refine-constructed"), "J42").unwrap();
    assert_eq!(r.job.as_deref(), Some("cryosparc-nu-refine"));
    assert_eq!(r.job_label.as_deref(), Some("nonuniform_refine_new"));
    assert_eq!(r.status, RunStatus::Finished);
    assert_eq!(r.shape.particles, Some(41_123));
    assert_eq!(r.shape.symmetry.as_deref(), Some("D2"));
    let w = r.wall_seconds.unwrap();
    assert!((w - 6077.562).abs() < 1e-3, "{w}");
    let l = &r.layout;
    assert_eq!((l.gpus, l.threads), (Some(1), Some(4)));
    assert_eq!(l.gpu_model.as_deref(), Some("NVIDIA A100-SXM4-80GB"));
    assert_eq!(l.host.as_deref(), Some("gpu-node-01"));
    assert_eq!(
        l.cpu_model.as_deref(),
        Some("AMD EPYC 7543 32-Core Processor")
    );
    assert_eq!(r.version.as_deref(), Some("v4.4.1"));
}

#[test]
fn cryosparc_failed_and_running_jobs_keep_their_figures() {
    let t = copy("cryosparc/nu-refine-constructed");
    let p = t.path().join("job.json");
    let text = fs::read_to_string(&p).unwrap();
    let failed = text
        .replace("\"status\": \"completed\"", "\"status\": \"failed\"")
        .replace(
            "\"failed_at\": null",
            "\"failed_at\": {\"$date\": \"2024-03-11T09:15:52.341Z\"}",
        );
    fs::write(&p, failed).unwrap();
    let r = read(t.path(), "J42").unwrap();
    assert_eq!((r.status, r.wall_seconds), (RunStatus::Failed, Some(600.0)));
    assert_eq!(r.shape.particles, Some(41_123));
    fs::write(
        &p,
        text.replace("\"status\": \"completed\"", "\"status\": \"running\""),
    )
    .unwrap();
    let r = read(t.path(), "J42").unwrap();
    assert_eq!((r.status, r.wall_seconds), (RunStatus::Running, None));
}

#[test]
fn a_job_star_alone_names_a_job_that_never_ran() {
    let t = tempfile::tempdir().unwrap();
    let star = "data_job\n\n_rlnJobTypeLabel             relion.motioncorr.own\n\
                _rlnJobIsContinue                       0\n";
    fs::write(t.path().join("job.star"), star).unwrap();
    let r = read(t.path(), "MotionCorr/job002").unwrap();
    assert_eq!(r.job.as_deref(), Some("relion-motioncorr"));
    assert_eq!(r.job_label.as_deref(), Some("relion.motioncorr.own"));
    assert_eq!(
        r.status,
        RunStatus::Unknown,
        "no note, no iteration: never launched"
    );
    assert!(r.missing.iter().any(|m| m.starts_with("command: neither")));
}

#[test]
fn an_auto_refine_that_converged_is_finished_and_reads_its_half_model() {
    let t = copy("relion/class2d-relion13-tutorial");
    let opt = t.path().join("manual_it025_optimiser.star");
    let text = fs::read_to_string(&opt).unwrap();
    let text = text
        .replace(
            "_rlnNumberOfIterations                                          25",
            "_rlnNumberOfIterations                                         999",
        )
        .replace(
            "_rlnHasConverged                                                 0",
            "_rlnHasConverged                                                 1",
        );
    fs::write(&opt, text).unwrap();
    let model = t.path().join("manual_it025_model.star");
    fs::rename(&model, t.path().join("manual_it025_half1_model.star")).unwrap();
    let r = read(t.path(), "x").unwrap();
    assert_eq!(r.status, RunStatus::Finished);
    assert!(
        r.missing
            .iter()
            .any(|m| m.contains("the refinement converged"))
    );
    assert_eq!(r.shape.image_size, Some(68));
}

#[test]
fn unreadable_directories_are_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let e = read(t.path(), "x").unwrap_err().to_string();
    assert!(e.contains("holds no note.txt"), "{e}");
    fs::write(t.path().join("job.json"), "{\"job_type\": ").unwrap();
    let e = read(t.path(), "x").unwrap_err().to_string();
    assert!(
        e.contains("job.json: cannot be read as CryoSPARC's job document"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

mod properties {
    use super::super::{dates, relion_command};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_the_parsers(s in "\\PC{0,200}") {
            let _ = relion_command::parse(&s);
            let _ = dates::ctime(&s);
            let _ = dates::iso8601(&s);
            let _ = dates::rfc2822(&s);
        }

        #[test]
        fn arbitrary_bytes_never_panic_a_directory_read(
            note in proptest::collection::vec(any::<u8>(), 0..400),
            json in proptest::collection::vec(any::<u8>(), 0..400),
            optimiser in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let t = tempfile::tempdir().unwrap();
            std::fs::write(t.path().join("note.txt"), &note).unwrap();
            std::fs::write(t.path().join("run_it003_optimiser.star"), &optimiser).unwrap();
            std::fs::write(t.path().join("run_it003_model.star"), &optimiser).unwrap();
            std::fs::write(t.path().join("run_it003_data.star"), &optimiser).unwrap();
            let _ = super::read(t.path(), "r");
            std::fs::write(t.path().join("job.json"), &json).unwrap();
            let _ = super::read(t.path(), "c");
        }

        #[test]
        fn truncated_fixtures_never_panic(cut in 0usize..6000, which in 0usize..3) {
            let name = ["manual_it025_optimiser.star", "manual_it025_model.star",
                        "manual_it025_data.star"][which];
            let t = super::copy("relion/class2d-relion13-tutorial");
            let p = t.path().join(name);
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, &bytes[..cut.min(bytes.len())]).unwrap();
            let _ = super::read(t.path(), "r");
            let c = super::copy("cryosparc/nu-refine-constructed");
            let p = c.path().join("job.json");
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, &bytes[..cut.min(bytes.len())]).unwrap();
            let _ = super::read(c.path(), "c");
        }
    }
}
