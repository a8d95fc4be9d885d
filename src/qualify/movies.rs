//! The pre-processing measurement of `qualify`: a small set of synthetic
//! LZW TIFF movies written to a scratch directory and decoded on every core
//! by the `bench movies` engine.

use std::path::Path;

use crate::interrupt::ScratchDir;
use crate::movies::Format;
use crate::movies::bench::{self, MovieFile};
use crate::movies::create::{self, MovieSpec};
use crate::movies::decode::EerRender;
use crate::movies::synth::Dose;
use crate::results::metrics::{Better, Metric};
use crate::storage::mrc::Mode;
use crate::storage::space::Reserve;

/// Measures the LZW TIFF decode rate on all cores in file bytes per second,
/// on movies written under `dir`; `None` and a note when it cannot.
pub(crate) fn decode_rate(dir: &Path, quick: bool) -> (Option<Metric>, Vec<String>) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let side = if quick { 512 } else { 1024 };
    let spec = MovieSpec {
        format: Format::TiffLzw,
        mode: Mode::Int16,
        width: side,
        height: side,
        frames: 40,
        dose: Dose::from_total(40.0, 0.83, 40, 0.1),
        pixel_size: 0.83,
        movies: (2 * threads) as u64,
        seed: 1,
        drift: (0.0, 0.0),
    };
    let fail = |why: String| (None, vec![format!("movie decoding not measured: {why}")]);
    let scratch = match ScratchDir::new(dir, ".cryocap-qualify-movies-") {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot write under {}: {e}", dir.display())),
    };
    let written = match create::write_movies(scratch.path(), &spec, Reserve::Default, &|_| {}) {
        Ok(w) => w,
        Err(e) => return fail(e.to_string()),
    };
    let files: Vec<MovieFile> = written
        .files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tif"))
        .map(|p| MovieFile {
            path: p.clone(),
            bytes: std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            format: Format::TiffLzw,
        })
        .collect();
    let r = bench::run(&files, threads, true, None, EerRender::default(), 1 << 30);
    let _ = scratch.close();
    match r {
        Ok(t) => {
            let rate = t.file_bytes as f64 / t.seconds.max(1e-9);
            let m = Metric {
                counts: format!(
                    "{} LZW TIFF movies of {side}×{side}×40 read and decoded on {threads} threads, gain applied and summed",
                    files.len()
                ),
                ..Metric::from_samples(
                    "movie_decode",
                    "LZW TIFF movies decoded on all cores (file bytes)",
                    "bytes_per_second",
                    Better::Higher,
                    vec![rate],
                )
            };
            (Some(m), Vec::new())
        }
        Err(e) => fail(e.to_string()),
    }
}
