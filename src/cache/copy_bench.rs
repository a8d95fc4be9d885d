//! The copy benchmark: whole-file copies the way a cache fill makes them
//! (each file read from the start and written to the cache directory, then
//! fsync'd), with the sources dropped from the page cache first
//! (posix_fadvise DONTNEED, which a regular user may do), for each thread
//! count, repeated. Copies go to a temporary directory inside --to, removed
//! after each repeat, on error and on SIGINT, SIGTERM or SIGHUP.

use crate::interrupt;
use crate::results::metrics::{Better, Metric, median};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rustix::fs::{Advice, fadvise, statvfs};

use super::CacheError;
use crate::progress::{Progress, Unit};
use crate::results::cache::{CopyBenchReport, CopyBenchRow};
use crate::storage::space::Reserve;
use crate::units;

const BUFFER: usize = 4 << 20;
/// A thread count within this fraction of the best median counts as equal.
pub(crate) const NEAR_BEST: f64 = 0.10;

fn err(msg: String) -> CacheError {
    CacheError::CopyBench(msg)
}

/// Regular files in `dir` (not recursive), sorted by name, with sizes.
pub(crate) fn source_files(dir: &Path) -> Result<Vec<(PathBuf, u64)>, CacheError> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| err(format!("--from {}: cannot list it: {e}", dir.display())))?;
    let mut files = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| err(format!("--from {}: {e}", dir.display())))?;
        let meta = entry
            .metadata()
            .map_err(|e| err(format!("{}: {e}", entry.path().display())))?;
        if meta.is_file() && meta.len() > 0 {
            files.push((entry.path(), meta.len()));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(err(format!(
            "--from {}: no non-empty files to copy; point it at a directory of stack files (.mrc/.mrcs)",
            dir.display()
        )));
    }
    Ok(files)
}

/// Drops a file's cached pages; false when the kernel refused.
fn evict(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| fadvise(&f, 0, None, Advice::DontNeed).is_ok())
}

fn copy_one(src: &Path, dst: &Path, buf: &mut [u8]) -> std::io::Result<u64> {
    let mut from = File::open(src)?;
    let mut to = File::create(dst)?;
    let mut total = 0u64;
    loop {
        if interrupt::requested() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "interrupted",
            ));
        }
        let n = from.read(buf)?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n])?;
        total += n as u64;
    }
    to.sync_all()?;
    Ok(total)
}

/// Copies every file into `dest` with `threads` threads pulling from one
/// queue; returns the seconds it took.
fn copy_all(files: &[(PathBuf, u64)], dest: &Path, threads: u32) -> Result<f64, CacheError> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut buf = vec![0u8; BUFFER];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((src, _)) = files.get(i) else {
                            return Ok(());
                        };
                        let dst = dest.join(format!("{i:06}"));
                        copy_one(src, &dst, &mut buf).map_err(|e| {
                            format!("copying {} to {}: {e}", src.display(), dest.display())
                        })?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a copy thread panicked".into()))
            })
            .collect()
    });
    let secs = start.elapsed().as_secs_f64();
    if interrupt::requested() {
        return Err(err("interrupted; the copies were removed".into()));
    }
    for r in results {
        r.map_err(err)?;
    }
    Ok(secs)
}

/// The fewest threads whose median is within [`NEAR_BEST`] of the best.
pub(crate) fn recommend(rows: &[CopyBenchRow]) -> (u32, String) {
    let best = rows
        .iter()
        .map(|r| r.median_bytes_per_s)
        .fold(0.0, f64::max);
    let pick = rows
        .iter()
        .filter(|r| r.median_bytes_per_s >= best * (1.0 - NEAR_BEST))
        .min_by_key(|r| r.threads);
    let most = rows.iter().map(|r| r.threads).max().unwrap_or(0);
    match pick {
        Some(r) => (
            r.threads,
            if r.threads == most && rows.len() > 1 {
                format!(
                    "{} threads, the most tried, copy fastest ({} median); try more with --threads",
                    r.threads,
                    units::rate_decimal(r.median_bytes_per_s)
                )
            } else if r.median_bytes_per_s >= best {
                format!(
                    "{} thread(s) copy fastest ({} median); more threads do not help here",
                    r.threads,
                    units::rate_decimal(r.median_bytes_per_s)
                )
            } else {
                format!(
                    "{} thread(s) copy at {} (median), within {:.0}% of the best median ({}); more threads add little here",
                    r.threads,
                    units::rate_decimal(r.median_bytes_per_s),
                    NEAR_BEST * 100.0,
                    units::rate_decimal(best)
                )
            },
        ),
        None => (2, "no measurement; CryoSPARC's default is 2".into()),
    }
}

/// One copy benchmark.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CopyBenchParams {
    /// Directory of stack files to copy (read only).
    pub from: PathBuf,
    /// Directory on the cache drive; copies go to a scratch folder in it.
    pub to: PathBuf,
    /// Thread counts to try, ascending.
    pub threads: Vec<u32>,
    pub repeats: u32,
    /// Free space to leave on the `to` file system.
    pub reserve: Reserve,
}

/// Copies the files of `--from` into a scratch directory under `--to` at
/// each thread count, and removes the copies.
pub(crate) fn measure(
    c: &CopyBenchParams,
    progress: &Progress,
) -> Result<CopyBenchReport, CacheError> {
    let files = source_files(&c.from)?;
    let total: u64 = files.iter().map(|f| f.1).sum();
    if !c.to.is_dir() {
        return Err(err(format!("--to {}: not a directory", c.to.display())));
    }
    let vfs = statvfs(&c.to).map_err(|e| {
        err(format!(
            "--to {}: cannot read free space: {e}",
            c.to.display()
        ))
    })?;
    let free = vfs.f_bavail.saturating_mul(vfs.f_frsize);
    let reserve = c.reserve.bytes(vfs.f_blocks.saturating_mul(vfs.f_frsize));
    if free < total.saturating_add(reserve) {
        return Err(err(format!(
            "--to {}: {} free, but one repeat copies {} and {} must stay free (--reserve); use fewer or smaller files in --from",
            c.to.display(),
            units::bytes_decimal(free),
            units::bytes_decimal(total),
            units::bytes_decimal(reserve)
        )));
    }
    let scratch = interrupt::ScratchDir::new(&c.to, ".cryocap-copy-bench-").map_err(|e| {
        err(format!(
            "--to {}: cannot create a scratch directory: {e}",
            c.to.display()
        ))
    })?;
    let runs = u64::from(c.repeats) * c.threads.len() as u64 + 1;
    let bar = progress.bar(runs, Unit::Steps, "copying");
    let mut evicted_all = true;
    let mut one = |threads: u32, tag: &str| -> Result<f64, CacheError> {
        for (p, _) in &files {
            evicted_all &= evict(p);
        }
        let dest = scratch.path().join(tag);
        std::fs::create_dir(&dest).map_err(|e| err(format!("{}: {e}", dest.display())))?;
        let secs = copy_all(&files, &dest, threads);
        let removed = std::fs::remove_dir_all(&dest);
        let secs = secs?;
        removed.map_err(|e| {
            err(format!(
                "could not remove the copies in {}: {e}",
                dest.display()
            ))
        })?;
        bar.inc(1);
        Ok(total as f64 / secs.max(1e-9))
    };
    // warm-up: one untimed copy (metadata, allocator, device wake-up)
    one(c.threads[0], "warmup")?;
    let mut rows = Vec::new();
    for &t in &c.threads {
        let mut samples = Vec::new();
        for rep in 0..c.repeats {
            samples.push(one(t, &format!("t{t}-r{rep}"))?);
        }
        rows.push(CopyBenchRow {
            threads: t,
            median_bytes_per_s: median(&samples),
            min_bytes_per_s: samples.iter().copied().fold(f64::INFINITY, f64::min),
            max_bytes_per_s: samples.iter().copied().fold(0.0, f64::max),
            samples,
        });
    }
    bar.finish_and_clear();
    scratch.close().map_err(|e| {
        err(format!(
            "could not remove the scratch directory in {}: {e}",
            c.to.display()
        ))
    })?;
    let (recommended_threads, reason) = recommend(&rows);
    let metrics = rows
        .iter()
        .map(|r| {
            Metric::from_samples(
                format!("cache.copy.t{}.bytes_per_second", r.threads),
                format!("cache fill copy, {} threads", r.threads),
                "bytes_per_second",
                Better::Higher,
                r.samples.clone(),
            )
            .counting("source bytes copied per second (each also written once)")
        })
        .collect();
    Ok(CopyBenchReport {
        metrics,
        from: c.from.display().to_string(),
        to: c.to.display().to_string(),
        files: files.len() as u64,
        bytes_per_repeat: total,
        repeats: c.repeats,
        source_evicted: evicted_all,
        rows,
        recommended_threads,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(threads: u32, median: f64) -> CopyBenchRow {
        CopyBenchRow {
            threads,
            median_bytes_per_s: median,
            min_bytes_per_s: median,
            max_bytes_per_s: median,
            samples: vec![median],
        }
    }

    #[test]
    fn recommends_fewest_threads_near_the_best() {
        let rows = [row(1, 200e6), row(2, 380e6), row(4, 400e6), row(8, 390e6)];
        assert_eq!(recommend(&rows).0, 2);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn copies_are_byte_identical_and_removed() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        for (i, n) in [100_000usize, 5_000_001, 7].iter().enumerate() {
            let data: Vec<u8> = (0..*n).map(|k| (k * 31 + i) as u8).collect();
            std::fs::write(src.path().join(format!("s{i}.mrcs")), data).unwrap();
        }
        let files = source_files(src.path()).unwrap();
        assert_eq!(files.len(), 3);
        let dest = dst.path().join("x");
        std::fs::create_dir(&dest).unwrap();
        copy_all(&files, &dest, 2).unwrap();
        for (i, (p, _)) in files.iter().enumerate() {
            assert_eq!(
                std::fs::read(p).unwrap(),
                std::fs::read(dest.join(format!("{i:06}"))).unwrap()
            );
        }
    }
}
