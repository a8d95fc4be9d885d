//! `fleet submit --shared-read DIR`: every array task meets the others at a
//! barrier in the shared directory, then all read the same stacks in DIR at
//! the same moment, so that the shared file system serves the whole
//! partition at once; `fleet report` sums what it delivered.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::script::fleet_dir;
use crate::results::fleet::{FLEET_STATE_VERSION, SharedRead, SharedReadRow, SharedReadSummary};
use crate::storage::bench_io::{BenchIoError, stack_files};
use crate::storage::direct_io::{self, AlignedBuf};

/// How each task's result file name ends.
pub const RESULT_SUFFIX: &str = ".shared-read.json";

/// Bytes asked for by each read.
const CHUNK: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SharedReadError {
    #[error("{path}: cannot use the barrier directory: {source}")]
    Barrier {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the barrier in {path} timed out after {waited}: {arrived} of {expected} tasks arrived; the others never started (busy partition?) or failed before reading; give a longer --timeout"
    )]
    BarrierTimeout {
        path: PathBuf,
        waited: String,
        arrived: usize,
        expected: usize,
    },
    #[error("--shared-read: {0}")]
    Stacks(#[from] BenchIoError),
    #[error("{path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] crate::files::FileError),
}

/// Where the tasks meet.
pub fn barrier_dir(out_dir: &Path) -> PathBuf {
    fleet_dir(out_dir).join("barrier")
}

/// One task's result file.
pub fn result_path(out_dir: &Path, node: &str, task: u32) -> PathBuf {
    out_dir.join(format!("{node}-{task}{RESULT_SUFFIX}"))
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Marks this task as arrived (`<dir>/<node>-<task>`) and waits until
/// `expected` tasks have; returns the seconds waited.
pub fn wait_at_barrier(
    dir: &Path,
    node: &str,
    task: u32,
    expected: usize,
    timeout: Duration,
) -> Result<f64, SharedReadError> {
    let err = |source| SharedReadError::Barrier {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    std::fs::write(dir.join(format!("{node}-{task}")), b"").map_err(err)?;
    let start = Instant::now();
    loop {
        let arrived = std::fs::read_dir(dir)
            .map_err(err)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .count();
        if arrived >= expected {
            return Ok(start.elapsed().as_secs_f64());
        }
        if start.elapsed() >= timeout {
            return Err(SharedReadError::BarrierTimeout {
                path: dir.to_path_buf(),
                waited: crate::units::duration(timeout.as_secs_f64()),
                arrived,
                expected,
            });
        }
        // Short enough that tasks leave the barrier within milliseconds of
        // each other; a directory listing every 10 ms costs nothing.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads every byte of every stack in `dir` once, in name order, with
/// O_DIRECT where the file system allows it (else buffered after dropping
/// the file's cached pages). Returns (files, bytes, all direct).
pub fn read_stacks(dir: &Path) -> Result<(usize, u64, bool), SharedReadError> {
    let files = stack_files(dir)?;
    let mut bytes = 0u64;
    let mut all_direct = true;
    for path in &files {
        let rerr = |source| SharedReadError::Read {
            path: path.clone(),
            source,
        };
        let align = direct_io::alignment(path);
        let f = direct_io::open_read(path, true, &align).map_err(rerr)?;
        if !f.direct {
            all_direct = false;
            let _ = direct_io::drop_cache(&f.file);
        }
        let mut buf = AlignedBuf::new(CHUNK, align.memory.max(4096) as usize)
            .ok_or_else(|| rerr(std::io::Error::other("cannot allocate a read buffer")))?;
        let size = f.file.metadata().map_err(rerr)?.len();
        let mut offset = 0u64;
        // One pread per chunk, never re-asked from an unaligned offset: the
        // read that crosses the end of the file comes back short, and that
        // is the end (O_DIRECT refuses the unaligned follow-up pread_full
        // would make).
        while offset < size {
            let n = loop {
                match rustix::io::pread(&f.file, buf.as_mut_slice(), offset) {
                    Err(rustix::io::Errno::INTR) => continue,
                    other => break other.map_err(|e| rerr(e.into()))?,
                }
            };
            if n == 0 {
                break;
            }
            offset += n as u64;
            if n < CHUNK && offset < size {
                // A short read before the end: only a buffered handle does
                // that, and it may simply be asked again.
                if f.direct {
                    return Err(rerr(std::io::Error::other(format!(
                        "a direct read stopped short at byte {offset} of {size}"
                    ))));
                }
            }
        }
        bytes += offset;
    }
    Ok((files.len(), bytes, all_direct))
}

/// What the internal `fleet shared-read` step of one task does.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub out_dir: PathBuf,
    pub dir: PathBuf,
    pub node: String,
    pub task: u32,
    pub tasks: usize,
    pub timeout: Duration,
}

/// Barrier, reads, and the task's result written atomically.
pub fn run_task(spec: &TaskSpec) -> Result<SharedRead, SharedReadError> {
    // Fail on a missing or empty directory before making the others wait.
    stack_files(&spec.dir)?;
    let waited = wait_at_barrier(
        &barrier_dir(&spec.out_dir),
        &spec.node,
        spec.task,
        spec.tasks,
        spec.timeout,
    )?;
    let start_unix = now_unix();
    let (files, bytes, direct) = read_stacks(&spec.dir)?;
    let end_unix = now_unix();
    let r = SharedRead {
        schema_version: FLEET_STATE_VERSION,
        kind: "fleet-shared-read".into(),
        node: spec.node.clone(),
        task: spec.task,
        dir: spec.dir.display().to_string(),
        files,
        bytes,
        start_unix,
        end_unix,
        direct,
        barrier_wait_seconds: waited,
    };
    let json = serde_json::to_string_pretty(&r).expect("plain struct serialises") + "\n";
    crate::files::write(
        &result_path(&spec.out_dir, &spec.node, spec.task),
        json.as_bytes(),
    )?;
    Ok(r)
}

/// Sums the tasks' reads: aggregate throughput over the window from the
/// earliest start to the latest end, and each task's rate and share.
pub fn summarise(reads: &[SharedRead]) -> Option<SharedReadSummary> {
    let first_start = reads.iter().map(|r| r.start_unix).reduce(f64::min)?;
    let last_end = reads.iter().map(|r| r.end_unix).reduce(f64::max)?;
    let last_start = reads.iter().map(|r| r.start_unix).reduce(f64::max)?;
    let first_end = reads.iter().map(|r| r.end_unix).reduce(f64::min)?;
    let total: u64 = reads.iter().map(|r| r.bytes).sum();
    let window = last_end - first_start;
    let rate = |bytes: u64, secs: f64| {
        if secs > 0.0 { bytes as f64 / secs } else { 0.0 }
    };
    let mut tasks: Vec<SharedReadRow> = reads
        .iter()
        .map(|r| SharedReadRow {
            node: r.node.clone(),
            task: r.task,
            bytes: r.bytes,
            seconds: r.end_unix - r.start_unix,
            bytes_per_second: rate(r.bytes, r.end_unix - r.start_unix),
            share: if total > 0 {
                r.bytes as f64 / total as f64
            } else {
                0.0
            },
            start_offset_seconds: r.start_unix - first_start,
        })
        .collect();
    tasks.sort_by_key(|t| t.task);
    Some(SharedReadSummary {
        tasks,
        total_bytes: total,
        window_seconds: window,
        aggregate_bytes_per_second: rate(total, window),
        overlap_seconds: first_end - last_start,
        all_direct: reads.iter().all(|r| r.direct),
    })
}

/// Reads every `*.shared-read.json` in the shared directory; files that do
/// not parse come back as skipped lines.
pub fn read_results(out_dir: &Path) -> (Vec<SharedRead>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(out_dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(RESULT_SUFFIX) && !n.starts_with('.'))
        .collect();
    names.sort();
    let (mut reads, mut skipped) = (Vec::new(), Vec::new());
    for name in names {
        let parsed = crate::files::read_text(&out_dir.join(&name), crate::files::RESULT_LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<SharedRead>(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(r) if r.kind == "fleet-shared-read" && r.schema_version == FLEET_STATE_VERSION => {
                reads.push(r)
            }
            Ok(r) => skipped.push(format!(
                "{name}: a {} file of schema {}, not a shared-read result of schema {FLEET_STATE_VERSION}",
                r.kind, r.schema_version
            )),
            Err(e) => skipped.push(format!("{name}: not a shared-read result ({e})")),
        }
    }
    (reads, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(node: &str, task: u32, bytes: u64, start: f64, end: f64) -> SharedRead {
        SharedRead {
            schema_version: FLEET_STATE_VERSION,
            kind: "fleet-shared-read".into(),
            node: node.into(),
            task,
            dir: "/shared/stacks".into(),
            files: 2,
            bytes,
            start_unix: start,
            end_unix: end,
            direct: true,
            barrier_wait_seconds: 0.1,
        }
    }

    #[test]
    fn aggregate_is_total_bytes_over_the_whole_window() {
        // a reads 600 MB in 1000.0..1002.0, b 400 MB in 1000.5..1004.0.
        let s = summarise(&[
            read("b", 1, 400_000_000, 1000.5, 1004.0),
            read("a", 0, 600_000_000, 1000.0, 1002.0),
        ])
        .unwrap();
        assert_eq!(s.total_bytes, 1_000_000_000);
        assert!((s.window_seconds - 4.0).abs() < 1e-9);
        assert!((s.aggregate_bytes_per_second - 250e6).abs() < 1e-3);
        assert!((s.overlap_seconds - 1.5).abs() < 1e-9);
        assert_eq!(s.tasks[0].node, "a");
        assert!((s.tasks[0].bytes_per_second - 300e6).abs() < 1e-3);
        assert!((s.tasks[0].share - 0.6).abs() < 1e-12);
        assert!((s.tasks[1].bytes_per_second - 400e6 / 3.5).abs() < 1e-3);
        assert!((s.tasks[1].share - 0.4).abs() < 1e-12);
        assert!((s.tasks[1].start_offset_seconds - 0.5).abs() < 1e-9);
        assert!(s.all_direct);
    }

    #[test]
    fn disjoint_windows_show_a_negative_overlap_and_nothing_gives_none() {
        let mut late = read("b", 1, 10, 20.0, 21.0);
        late.direct = false;
        let s = summarise(&[read("a", 0, 10, 10.0, 11.0), late]).unwrap();
        assert!((s.overlap_seconds + 9.0).abs() < 1e-9);
        assert!(!s.all_direct);
        assert!(summarise(&[]).is_none());
        // A zero-length window divides by nothing.
        let z = summarise(&[read("a", 0, 0, 5.0, 5.0)]).unwrap();
        assert_eq!(z.aggregate_bytes_per_second, 0.0);
    }

    #[test]
    fn barrier_opens_when_all_arrive_and_times_out_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join("barrier");
        let b2 = b.clone();
        let other = std::thread::spawn(move || {
            wait_at_barrier(&b2, "n", 1, 2, Duration::from_secs(10)).unwrap()
        });
        std::thread::sleep(Duration::from_millis(100));
        wait_at_barrier(&b, "n", 0, 2, Duration::from_secs(10)).unwrap();
        assert!(other.join().unwrap() >= 0.05);

        let lonely = dir.path().join("lonely");
        let e = wait_at_barrier(&lonely, "n", 0, 2, Duration::from_millis(50))
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 of 2 tasks arrived"), "{e}");
    }

    #[test]
    fn reads_every_byte_of_every_stack_and_writes_its_result() {
        let stacks = tempfile::tempdir().unwrap();
        // Sizes that are not multiples of the chunk or of a sector.
        std::fs::write(stacks.path().join("a.mrcs"), vec![1u8; CHUNK + 4097]).unwrap();
        std::fs::write(stacks.path().join("b.mrc"), vec![2u8; 1000]).unwrap();
        std::fs::write(stacks.path().join("notes.txt"), b"not a stack").unwrap();
        let out = tempfile::tempdir().unwrap();
        let spec = TaskSpec {
            out_dir: out.path().to_path_buf(),
            dir: stacks.path().to_path_buf(),
            node: "n1".into(),
            task: 0,
            tasks: 1,
            timeout: Duration::from_secs(5),
        };
        let r = run_task(&spec).unwrap();
        assert_eq!((r.files, r.bytes), (2, CHUNK as u64 + 4097 + 1000));
        assert!(r.end_unix >= r.start_unix && r.start_unix > 1.6e9);
        let (back, skipped) = read_results(out.path());
        // serde_json may round a float's last bit; compare the rest exactly.
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].bytes, &back[0].node, back[0].task),
            (r.bytes, &r.node, 0)
        );
        assert!((back[0].start_unix - r.start_unix).abs() < 1e-6);
        assert!(skipped.is_empty());
        assert!(barrier_dir(out.path()).join("n1-0").exists());

        let empty = tempfile::tempdir().unwrap();
        let e = run_task(&TaskSpec {
            dir: empty.path().to_path_buf(),
            ..spec
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("no .mrc or .mrcs files"), "{e}");
    }
}
