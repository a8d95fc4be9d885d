//! `bench app -- COMMAND`: real programs run under the monitor. Their exit
//! status passes through, signals sent to cryocap reach them and the
//! result is still written, and the figures (bytes written and read,
//! peak memory) are checked against what the programs did.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use cryocap::results::Kind;
use cryocap::results::job_run::{JobRun, Monitor, RunStatus};
use rustix::process::{Pid, Signal, kill_process};

use crate::common::{cryocap, process, python_has, tool_or_skip};

/// A scratch directory on the disk the target directory is on (not tmpfs,
/// where nothing reaches storage).
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// The `job-run` result in `path`.
fn job_run(path: &Path) -> JobRun {
    let env = cryocap::files::read_result(path).unwrap();
    match env.kind {
        Kind::JobRun(j) => *j,
        other => panic!("{path:?} holds a {} result", other.name()),
    }
}

fn monitor(j: &JobRun) -> &Monitor {
    j.monitor
        .as_ref()
        .expect("bench app stores the monitor's figures")
}

/// Runs `cryocap bench app --json DIR/r.json --quiet -- PROGRAM...`;
/// returns the output and the result.
fn app(dir: &Path, program: &[&str]) -> (Output, JobRun) {
    let json = dir.join("r.json");
    let out = cryocap()
        .args(["bench", "app", "--quiet", "--format", "json", "--json"])
        .arg(&json)
        .arg("--")
        .args(program)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{program:?}: {err}");
    assert!(json.is_file(), "{program:?} wrote no result: {err}");
    let j = job_run(&json);
    // stdout carries the same result
    let printed: cryocap::results::Envelope = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed.kind.name(), "job-run");
    (out, j)
}

#[test]
fn the_programs_exit_status_passes_through() {
    let dir = scratch();
    let (out, j) = app(dir.path(), &["sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(j.status, RunStatus::Failed);
    assert_eq!(j.source, "bench-app");
    assert_eq!(j.software, "unknown");
    assert_eq!(j.timed_by.as_deref(), Some("monitored"));
    assert_eq!(j.command.as_deref(), Some("sh -c 'exit 3'"));
    let m = monitor(&j);
    assert_eq!((m.exit_code, m.signal), (Some(3), None));
    assert!(m.samples >= 1 && m.wall_seconds > 0.0 && m.wall_seconds < 30.0);

    let (out, j) = app(dir.path(), &["true"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(j.status, RunStatus::Finished);
}

#[test]
fn a_program_killed_by_a_signal_makes_cryocap_exit_128_plus_it() {
    let dir = scratch();
    for (sig, n) in [("KILL", 9), ("TERM", 15)] {
        let (out, j) = app(dir.path(), &["sh", "-c", &format!("kill -{sig} $$")]);
        assert_eq!(out.status.code(), Some(128 + n), "SIG{sig}");
        assert_eq!(j.status, RunStatus::Killed);
        let m = monitor(&j);
        assert_eq!((m.exit_code, m.signal), (None, Some(n)));
    }
}

#[test]
fn labels_are_stored_and_the_arguments_after_the_dashes_reach_the_program_as_given() {
    let dir = scratch();
    let seen = dir.path().join("seen");
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args(["bench", "app", "-q", "--software", "relion", "--job"])
        .args(["relion-class3d", "--json"])
        .arg(&json)
        .args(["--", "sh", "-c", "printf '%s|' \"$@\" > \"$0\""])
        .arg(&seen)
        .args(["--json", "a b", "*"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "--json|a b|*|");
    let j = job_run(&json);
    assert_eq!(j.software, "relion");
    assert_eq!(j.job.as_deref(), Some("relion-class3d"));
}

/// Starts `cryocap bench app` on a shell that traps INT, TERM and HUP
/// (writing the signal's name to `mark`), sends `sig` to cryocap once the
/// trap is set, and returns cryocap's status, its stderr and the result.
fn signalled(dir: &Path, sig: Signal, name: &str) -> (Option<i32>, String, JobRun) {
    let ready = dir.join("ready");
    let mark = dir.join("mark");
    let json = dir.join("r.json");
    let script = r#"
        for s in INT TERM HUP; do trap "echo $s > '$1'; kill \$! 2>/dev/null; exit 5" $s; done
        : > "$0"
        sleep 60 & wait
        exit 9
    "#;
    let child = process()
        .args(["bench", "app", "-q", "--interval", "100ms", "--json"])
        .arg(&json)
        .args(["--", "sh", "-c", script])
        .arg(&ready)
        .arg(&mark)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !ready.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the program never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    kill_process(Pid::from_raw(child.id() as i32).unwrap(), sig).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        std::fs::read_to_string(&mark).unwrap_or_default().trim(),
        name,
        "{name} did not reach the program: {err}"
    );
    (out.status.code(), err, job_run(&json))
}

#[test]
fn a_signal_sent_to_cryocap_reaches_the_program_and_the_result_is_still_written() {
    for (sig, name) in [
        (Signal::INT, "INT"),
        (Signal::TERM, "TERM"),
        (Signal::HUP, "HUP"),
    ] {
        let dir = scratch();
        let (code, err, j) = signalled(dir.path(), sig, name);
        // the program's status, not cryocap's own 128 + signal
        assert_eq!(code, Some(5), "SIG{name}: {err}");
        assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
        assert_eq!(j.status, RunStatus::Failed);
        let m = monitor(&j);
        assert_eq!(m.exit_code, Some(5));
        assert!(
            m.notes
                .iter()
                .any(|n| n == &format!("SIG{name} was passed on to the program")),
            "{:?}",
            m.notes
        );
    }
}

/// The file system type of `dir` (statfs f_type).
#[allow(clippy::unnecessary_cast)] // f_type's type differs between architectures
fn fs_magic(dir: &Path) -> i64 {
    rustix::fs::statfs(dir).map_or(0, |s| s.f_type as i64)
}

#[test]
fn bytes_written_and_read_are_counted_for_the_whole_tree() {
    const TMPFS: i64 = 0x0102_1994;
    const OVERLAY: i64 = 0x794c_7630;
    const N: u64 = 8 << 20;
    let dir = scratch();
    let f = dir.path().join("data");
    let fs = fs_magic(dir.path());
    // dd under sh: the counters of a grandchild reach cryocap through its
    // parent; status=none keeps dd's own writes to the N bytes
    let write = format!(
        "dd if=/dev/zero of='{}' bs=1M count=8 conv=fsync status=none",
        f.display()
    );
    let (out, j) = app(dir.path(), &["sh", "-c", &write]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = monitor(&j);
    // everything through write calls, exactly: cryocap's own /proc reads
    // are not the program's, and sh and dd write nothing else
    assert_eq!(m.wchar, N, "{m:?}");
    // N from /dev/zero, plus what the loader reads of sh's and dd's libraries
    assert!(m.rchar >= N && m.rchar < N + (1 << 20), "{m:?}");
    let direct = format!(
        "dd if='{}' of=/dev/null bs=1M iflag=direct status=none",
        f.display()
    );
    let (out2, j2) = app(dir.path(), &["sh", "-c", &direct]);
    let m2 = monitor(&j2);
    if fs == TMPFS || fs == OVERLAY || !out2.status.success() {
        // no block device under the file (or no O_DIRECT): storage counters
        // say nothing; what went through read calls still counts
        eprintln!("skipped: storage counters on file system {fs:#x}; checked rchar/wchar only");
        return;
    }
    assert!(m.write_bytes >= N, "write_bytes {m:?}");
    // O_DIRECT reads go to the device, past the page cache
    assert!(m2.read_bytes >= N, "read_bytes {m2:?}");
    assert!(m2.rchar >= N, "{m2:?}");
}

#[test]
fn own_reads_of_proc_are_not_counted_as_the_programs() {
    // many samples of a program that reads nothing itself: what cryocap
    // reads of /proc for them would dwarf the program's own rchar
    let dir = scratch();
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args(["bench", "app", "-q", "--interval", "50ms", "--json"])
        .arg(&json)
        .args(["--", "sleep", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let j = job_run(&json);
    let m = monitor(&j);
    assert!(m.samples >= 10, "{m:?}");
    assert_eq!(m.wchar, 0, "{m:?}");
    // the loader's reads of sleep's libraries and locale, a few kB
    assert!(m.rchar < 64 << 10, "{m:?}");
}

#[test]
fn peak_memory_of_a_program_that_holds_200_mb_is_at_least_that() {
    if !tool_or_skip(
        python_has("time"),
        "PYTHON",
        "python3",
        "apt install python3",
    ) {
        return;
    }
    let dir = scratch();
    let (out, j) = app(
        dir.path(),
        &[
            "python3",
            "-c",
            "b=bytearray(200_000_000); import time; time.sleep(2)",
        ],
    );
    assert!(out.status.success());
    let m = monitor(&j);
    assert!(m.peak_rss_bytes >= 200_000_000, "{m:?}");
    assert!(m.peak_rss_bytes < 400_000_000, "{m:?}");
    assert!(m.samples >= 2 && m.wall_seconds >= 2.0, "{m:?}");
    assert!(m.system_cpu_seconds + m.user_cpu_seconds > 0.0, "{m:?}");
}

#[test]
fn a_missing_program_is_one_line_and_exit_2() {
    for program in ["no-such-program-cryocap", "./no/such/path"] {
        let out = cryocap()
            .args(["bench", "app", "--", program, "x"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(program), "{err}");
        assert!(out.stdout.is_empty());
    }
    let out = cryocap().args(["bench", "app"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // a file that is there but cannot be run says so, in one line too
    let dir = scratch();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a program\n").unwrap();
    let out = cryocap()
        .args(["bench", "app", "--"])
        .arg(&text)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not an executable file"), "{err}");
}

#[test]
fn a_bad_output_path_is_refused_before_the_program_runs() {
    let dir = scratch();
    let ran = dir.path().join("ran");
    let out = cryocap()
        .args(["bench", "app", "--json"])
        .arg(dir.path())
        .args(["--", "touch"])
        .arg(&ran)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--json"), "{err}");
    assert!(
        !ran.exists(),
        "the program ran although the result could not be written"
    );
}

#[test]
fn without_an_nvidia_driver_the_result_says_why_there_are_no_gpu_figures() {
    let dir = scratch();
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args(["bench", "app", "--json"])
        .arg(&json)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let m = monitor(&job_run(&json)).clone();
    let err = String::from_utf8_lossy(&out.stderr);
    match &m.gpu_note {
        Some(note) => {
            assert!(m.gpus.is_empty());
            assert!(note.ends_with("GPU figures not taken"), "{note}");
            // said once on stderr too
            assert_eq!(err.matches(note.as_str()).count(), 1, "{err}");
            if !Path::new("/dev/nvidiactl").exists()
                && !PathBuf::from("/proc/driver/nvidia").exists()
            {
                assert!(note.contains("libnvidia-ml.so.1 not found"), "{note}");
            }
        }
        None => assert!(!m.gpus.is_empty(), "no GPU figures and no note: {m:?}"),
    }
    // the table says it too
    let table = String::from_utf8_lossy(&out.stdout);
    if let Some(note) = &m.gpu_note {
        assert!(table.contains(note.as_str()), "{table}");
    }
}

/// Runs cryocap on a pseudo-terminal (python3's pty), types Ctrl-C once
/// `ready` exists, and returns cryocap's exit status.
const ON_A_TERMINAL: &str = r#"
import os, pty, sys, time
argv, ready = sys.argv[1:-1], sys.argv[-1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
t0 = time.time()
while not os.path.exists(ready):
    if time.time() - t0 > 60:
        sys.exit("never ready")
    time.sleep(0.02)
time.sleep(0.2)
os.write(fd, b"\x03")
while True:
    try:
        if not os.read(fd, 4096):
            break
    except OSError:
        break
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#;

#[test]
fn ctrl_c_on_a_terminal_reaches_the_program_once() {
    if !tool_or_skip(
        python_has("pty"),
        "PYTHON",
        "python3",
        "apt install python3",
    ) {
        return;
    }
    let dir = scratch();
    let (ready, mark, json) = (
        dir.path().join("ready"),
        dir.path().join("mark"),
        dir.path().join("r.json"),
    );
    // the terminal's SIGINT goes to the whole foreground group; a copy
    // passed on by cryocap as well would be a second line in `mark`
    let script = r#"
        trap 'echo INT >> "$1"' INT
        : > "$0"
        while [ ! -s "$1" ]; do sleep 0.05; done
        sleep 0.5
        exit 5
    "#;
    let out = std::process::Command::new("python3")
        .args(["-c", ON_A_TERMINAL])
        .arg(assert_cmd::cargo::cargo_bin("cryocap"))
        .args(["bench", "app", "-q", "--interval", "100ms", "--json"])
        .arg(&json)
        .args(["--", "sh", "-c", script])
        .arg(&ready)
        .arg(&mark)
        .arg(&ready)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.trim(), "5", "cryocap's status");
    assert_eq!(std::fs::read_to_string(&mark).unwrap(), "INT\n");
    let j = job_run(&json);
    assert_eq!(
        monitor(&j).notes,
        ["SIGINT from the terminal reached the program directly"]
    );
}

/// `--import DIR` joins the job directory the program wrote: RELION's
/// job, particles and classes come from it, the wall time stays the
/// monitor's; a directory that cannot be read is noted and the result and
/// the program's status are kept.
#[test]
fn import_joins_the_job_directory_the_program_wrote() {
    let dir = scratch();
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jobs/relion/class2d-relion13-tutorial");
    let job = dir.path().join("Class2D");
    std::fs::create_dir(&job).unwrap();
    for e in std::fs::read_dir(&fixture).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), job.join(e.file_name())).unwrap();
    }
    let json = dir.path().join("r.json");
    let out = cryocap()
        .args(["bench", "app", "--quiet", "--json"])
        .arg(&json)
        .arg("--import")
        .arg(&job)
        .args(["--", "sh", "-c", "exit 0"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = job_run(&json);
    assert_eq!(j.job.as_deref(), Some("relion-class2d"));
    assert_eq!(j.shape.particles, Some(201));
    assert_eq!(j.shape.classes, Some(10));
    assert_eq!(j.timed_by.as_deref(), Some("monitored"));
    assert_eq!(j.status, RunStatus::Finished);
    assert!(j.monitor.is_some());
    // A directory that is not there: noted, the program's status kept.
    let out = cryocap()
        .args(["bench", "app", "--quiet", "--json"])
        .arg(&json)
        .arg("--import")
        .arg(dir.path().join("nowhere"))
        .args(["--", "sh", "-c", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let j = job_run(&json);
    assert!(
        j.missing.iter().any(|m| m.starts_with("--import:")),
        "{:?}",
        j.missing
    );
}
