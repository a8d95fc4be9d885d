//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, `timeout`, systemd, Slurm at
//! `--time`) stop every command that makes scratch files: the scratch is
//! removed and the exit status is 128 + the signal.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::common::{cryocap, process};

const SIGNALS: [(Signal, i32); 3] = [(Signal::INT, 2), (Signal::TERM, 15), (Signal::HUP, 1)];

/// Files and directories in `dir`, hidden ones included.
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// Starts `args`, waits until `started` holds (the scratch exists), sends
/// `sigs` one right after the other, and returns the exit status and stderr.
fn stop(args: &[&str], started: &dyn Fn() -> bool, sigs: &[Signal]) -> (Option<i32>, String) {
    let mut child: Child = process()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !started() {
        if let Some(status) = child.try_wait().unwrap() {
            let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
            panic!("{args:?} ended ({status}) before it made scratch: {err}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{args:?} never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    for sig in sigs {
        kill_process(Pid::from_raw(child.id() as i32).unwrap(), *sig).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check(args: &[&str], scratch: &Path, sig: (Signal, i32)) {
    let (code, err) = stop(args, &|| entries(scratch) > 0, &[sig.0]);
    assert_eq!(code, Some(128 + sig.1), "{args:?} {sig:?}: {err}");
    assert!(err.contains("stopped by SIG"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(entries(scratch), 0, "{args:?} left scratch after {sig:?}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn stack_create_removes_its_files() {
    for sig in SIGNALS {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let d = dir.path().to_str().unwrap();
        check(
            &[
                "stack",
                "create",
                "--dir",
                d,
                "--particles",
                "40000",
                "--box",
                "256",
                "--reserve",
                "0",
            ],
            dir.path(),
            sig,
        );
    }
}

#[test]
fn bench_io_removes_the_stack_it_created() {
    for sig in SIGNALS {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let d = dir.path().to_str().unwrap();
        let args = [
            "bench",
            "io",
            "--dir",
            d,
            "--create",
            "400",
            "--box",
            "128",
            "--reserve",
            "0",
            "--pattern",
            "random",
            "--runtime",
            "60s",
            "--ramp-time",
            "0",
            "--buffered",
        ];
        check(&args, dir.path(), sig);
    }
}

#[test]
fn copy_bench_removes_its_copies() {
    let from = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    cryocap()
        .args(["stack", "create", "--dir"])
        .arg(from.path())
        .args([
            "--particles",
            "2000",
            "--box",
            "128",
            "--reserve",
            "0",
            "--quiet",
        ])
        .assert()
        .success();
    let f = from.path().to_str().unwrap();
    for sig in SIGNALS {
        let to = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let t = to.path().to_str().unwrap();
        let args = [
            "cache",
            "copy-bench",
            "--from",
            f,
            "--to",
            t,
            "--threads",
            "1",
            "--repeats",
            "1000",
            "--reserve",
            "0",
        ];
        check(&args, to.path(), sig);
        assert_eq!(entries(from.path()), 2, "the sources stay");
    }
}

#[test]
fn qualify_removes_its_scratch_stacks() {
    for sig in SIGNALS {
        let project = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let p = project.path().to_str().unwrap();
        let args = [
            "qualify",
            "--quick",
            "--dir",
            p,
            "--repeats",
            "4",
            "--gpus",
            "1",
            "--quiet",
        ];
        check(&args, project.path(), sig);
    }
}

/// A second signal does not wait for the command to clean up: the signal
/// thread removes the registered scratch itself and exits at once.
#[test]
fn a_second_signal_still_removes_everything() {
    for command in ["bench io", "qualify"] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let d = dir.path().to_str().unwrap();
        let args: Vec<&str> = match command {
            "bench io" => vec![
                "bench",
                "io",
                "--dir",
                d,
                "--create",
                "400",
                "--box",
                "128",
                "--reserve",
                "0",
                "--pattern",
                "random",
                "--runtime",
                "60s",
                "--ramp-time",
                "0",
                "--buffered",
            ],
            _ => vec![
                "qualify",
                "--quick",
                "--dir",
                d,
                "--repeats",
                "4",
                "--gpus",
                "1",
                "--quiet",
            ],
        };
        let (code, err) = stop(
            &args,
            &|| entries(dir.path()) > 0,
            &[Signal::INT, Signal::TERM],
        );
        assert!(matches!(code, Some(130 | 143)), "{command}: {code:?} {err}");
        assert!(err.contains("stopped by SIG"), "{command}: {err}");
        assert_eq!(
            entries(dir.path()),
            0,
            "{command} left scratch after two signals"
        );
    }
}

#[test]
fn movies_create_and_bench_movies_remove_their_files() {
    for sig in SIGNALS {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let d = dir.path().to_str().unwrap();
        check(
            &[
                "movies",
                "create",
                "--dir",
                d,
                "--detector",
                "k3",
                "--frames",
                "40",
                "--movies",
                "20",
                "--reserve",
                "0",
            ],
            dir.path(),
            sig,
        );
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path().to_str().unwrap();
    check(
        &[
            "bench",
            "movies",
            "--dir",
            d,
            "--create",
            "20",
            "--detector",
            "k3",
            "--frames",
            "40",
            "--reserve",
            "0",
        ],
        dir.path(),
        SIGNALS[1],
    );
}
