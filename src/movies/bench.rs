//! `bench movies`: read each movie whole (O_DIRECT where the file system
//! allows, else buffered with the page cache dropped first), decode, gain
//! and sum, on 1, 2, … threads that take movies from one queue.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::Format;
use super::decode::{self, DecodeError, EerRender};
use crate::interrupt;
use crate::storage::direct_io::{self, AlignedBuf};

/// One movie to read.
#[derive(Debug, Clone)]
pub struct MovieFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub format: Format,
}

/// What a run over the movies measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTotals {
    pub threads: usize,
    pub movies: usize,
    pub seconds: f64,
    pub read_seconds: f64,
    pub decode_seconds: f64,
    pub file_bytes: u64,
    pub decoded_bytes: u64,
    pub frames: u64,
    /// Electrons counted in the decoded frames.
    pub electrons: u64,
    /// Whether every read used O_DIRECT.
    pub direct: bool,
}

/// Why the benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Decode { path: String, source: DecodeError },
    #[error("interrupted")]
    Interrupted,
}

/// Reads one file whole into an aligned buffer; returns the buffer, the
/// bytes and whether O_DIRECT was used.
fn read_whole(path: &Path, direct: bool) -> std::io::Result<(AlignedBuf, usize, bool)> {
    let align = direct_io::alignment(path);
    let f = direct_io::open_read(path, direct, &align)?;
    let len = f.file.metadata()?.len() as usize;
    let unit = align.offset.max(4096) as usize;
    let cap = len.div_ceil(unit).max(1) * unit;
    let mut buf = AlignedBuf::new(cap, align.memory.max(4096) as usize)
        .ok_or_else(|| std::io::Error::other("cannot allocate the read buffer"))?;
    if !f.direct {
        let _ = direct_io::drop_cache(&f.file);
    }
    let got = direct_io::pread_full(&f.file, buf.as_mut_slice(), 0)?;
    if got < len {
        return Err(std::io::Error::other(format!(
            "read {got} of {len} bytes: the file shrank while being read"
        )));
    }
    Ok((buf, len, f.direct))
}

/// One pass over `files` on `threads` threads.
pub fn run(
    files: &[MovieFile],
    threads: usize,
    direct: bool,
    gain: Option<&[f32]>,
    eer: EerRender,
    limit: u64,
) -> Result<RunTotals, BenchError> {
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0f64, 0f64, 0u64, 0u64, 0u64, true));
    let failure: Mutex<Option<BenchError>> = Mutex::new(None);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let (mut read_s, mut dec_s, mut decoded, mut frames, mut electrons, mut all_direct) =
                    (0f64, 0f64, 0u64, 0u64, 0u64, true);
                loop {
                    if interrupt::requested() {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(BenchError::Interrupted);
                        }
                        break;
                    }
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(m) = files.get(i) else { break };
                    let t = Instant::now();
                    let (buf, len, was_direct) = match read_whole(&m.path, direct) {
                        Ok(r) => r,
                        Err(source) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(BenchError::Read {
                                    path: m.path.display().to_string(),
                                    source,
                                });
                            }
                            break;
                        }
                    };
                    read_s += t.elapsed().as_secs_f64();
                    all_direct &= was_direct;
                    let t = Instant::now();
                    match decode::decode(&m.path, &buf.as_slice()[..len], gain, eer, limit) {
                        Ok(d) => {
                            // keep the sum alive so the work is not optimised away
                            std::hint::black_box(&d.sum);
                            decoded += d.decoded_bytes;
                            frames += d.frames;
                            electrons += d.counts;
                        }
                        Err(source) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(BenchError::Decode {
                                    path: m.path.display().to_string(),
                                    source,
                                });
                            }
                            break;
                        }
                    }
                    dec_s += t.elapsed().as_secs_f64();
                }
                if let Ok(mut t) = totals.lock() {
                    t.0 += read_s;
                    t.1 += dec_s;
                    t.2 += decoded;
                    t.3 += frames;
                    t.4 += electrons;
                    t.5 &= all_direct;
                }
            });
        }
    });
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let (read_seconds, decode_seconds, decoded_bytes, frames, electrons, all_direct) =
        totals.into_inner().unwrap_or((0.0, 0.0, 0, 0, 0, false));
    Ok(RunTotals {
        threads: threads.max(1),
        movies: files.len(),
        seconds,
        read_seconds,
        decode_seconds,
        file_bytes: files.iter().map(|f| f.bytes).sum(),
        decoded_bytes,
        frames,
        electrons,
        direct: all_direct,
    })
}
