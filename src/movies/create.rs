//! Writes a set of synthetic movies and their gain reference into a
//! directory: each file atomically (temporary file, then rename), the
//! reserve kept free, and everything written so far removed on an error or
//! a signal, as `stack create` does.

use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use super::Format;
use super::eer::{self, Widths};
use super::mrc_io;
use super::synth::{Dose, Exposure};
use super::tiff_io::{EerWriter, LzwWriter};
use crate::files::{AtomicFile, FileError};
use crate::interrupt;
use crate::storage::mrc::Mode;
use crate::storage::space::Reserve;
use crate::storage::stack_writer::{StackError, check_target};

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieSpec {
    pub format: Format,
    /// MRC mode for `mrc` and `mrc-bz2`.
    pub mode: Mode,
    pub width: u32,
    pub height: u32,
    /// Frames per movie (EER: detector frames).
    pub frames: u64,
    pub dose: Dose,
    pub pixel_size: f64,
    pub movies: u64,
    pub seed: u64,
    /// Stage drift: the specimen moves this many pixels a frame.
    pub drift: (f64, f64),
}

impl MovieSpec {
    fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// An upper bound of one movie's bytes, for the space check.
    pub fn movie_bytes_bound(&self) -> u64 {
        let px_frames = self.pixels().saturating_mul(self.frames);
        match self.format {
            // LZW can grow incompressible data by up to 12/8; counts never are
            Format::TiffLzw => px_frames.saturating_mul(3) / 2 + self.frames * 4096,
            Format::Eer => {
                let events = (self.dose.per_pixel_per_frame.min(1.0) * px_frames as f64) as u64;
                // 11 bits an event, a 7-bit run per 127 empty pixels, word padding
                events.saturating_mul(2) + px_frames / 100 + self.frames * 4096
            }
            Format::Mrc | Format::MrcBz2 => {
                1024 + self.mode.bytes_for(px_frames).saturating_mul(101) / 100 + 4096
            }
        }
    }

    /// The file name of movie `i` (from 1).
    pub fn name(&self, i: u64) -> String {
        format!("movie_{i:05}.{}", self.format.extension())
    }
}

/// The gain reference's file name.
pub const GAIN_NAME: &str = "gain.mrc";

/// Writes one movie into `out`; returns electrons written.
pub fn write_movie<W: Write + Seek>(spec: &MovieSpec, index: u64, out: W) -> Result<u64, String> {
    let mut exp = Exposure::new(
        spec.width,
        spec.height,
        spec.dose,
        spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index,
    )
    .with_drift(
        spec.drift.0,
        spec.drift.1,
        spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index,
    );
    match spec.format {
        Format::TiffLzw => write_lzw(spec, &mut exp, out),
        Format::Eer => write_eer(spec, &mut exp, out),
        Format::Mrc | Format::MrcBz2 => write_mrc(spec, &mut exp, out),
    }
}

/// Writes the frames of `exp` as an LZW TIFF; returns electrons written.
fn write_lzw<W: Write + Seek>(spec: &MovieSpec, exp: &mut Exposure, out: W) -> Result<u64, String> {
    let mut electrons = 0u64;
    let mut w =
        LzwWriter::new(out, spec.width, spec.height, spec.frames).map_err(|e| e.to_string())?;
    let mut f = vec![0u8; exp.pixels()];
    for _ in 0..spec.frames {
        stop_if_asked()?;
        exp.counts(&mut f);
        electrons += f.iter().map(|&c| u64::from(c)).sum::<u64>();
        w.frame(&f).map_err(|e| e.to_string())?;
    }
    Ok(electrons)
}

/// Writes the events of `exp` as EER (standard bit widths); returns
/// electrons written.
fn write_eer<W: Write + Seek>(spec: &MovieSpec, exp: &mut Exposure, out: W) -> Result<u64, String> {
    let mut electrons = 0u64;
    let widths = Widths::STANDARD;
    let mut w = EerWriter::new(
        out,
        spec.width,
        spec.height,
        widths,
        spec.frames,
        spec.dose.per_pixel_per_frame,
    )
    .map_err(|e| e.to_string())?;
    let mut ev = Vec::new();
    for _ in 0..spec.frames {
        stop_if_asked()?;
        exp.events(widths.horz_bits + widths.vert_bits, &mut ev);
        electrons += ev.len() as u64;
        let code = eer::encode_frame(widths, spec.pixels(), ev.iter().copied());
        w.frame(&code).map_err(|e| e.to_string())?;
    }
    Ok(electrons)
}

/// Writes the frames of `exp` as an MRC movie in `spec.mode`, through bzip2
/// for `mrc-bz2`; returns electrons written (counts clipped to the mode).
fn write_mrc<W: Write + Seek>(spec: &MovieSpec, exp: &mut Exposure, out: W) -> Result<u64, String> {
    let mut electrons = 0u64;
    let header = mrc_io::movie_header(
        spec.width,
        spec.height,
        u32::try_from(spec.frames).map_err(|_| "too many frames for MRC")?,
        spec.mode,
        spec.pixel_size as f32,
    );
    let mut sink: Box<dyn Write> = if spec.format == Format::MrcBz2 {
        Box::new(bzip2::write::BzEncoder::new(
            BufWriter::new(out),
            bzip2::Compression::best(),
        ))
    } else {
        Box::new(BufWriter::new(out))
    };
    let io = |e: std::io::Error| e.to_string();
    sink.write_all(&header.to_bytes()).map_err(io)?;
    let mut f = vec![0u8; exp.pixels()];
    let mut raw = Vec::new();
    for _ in 0..spec.frames {
        stop_if_asked()?;
        exp.counts(&mut f);
        electrons += f
            .iter()
            .map(|&c| u64::from(c.min(if spec.mode == Mode::Int8 { 127 } else { 255 })))
            .sum::<u64>();
        mrc_io::encode_counts(&f, spec.mode, &mut raw);
        sink.write_all(&raw).map_err(io)?;
    }
    sink.flush().map_err(io)?;
    // the bzip2 stream ends when the encoder is dropped; drop it here
    // so a write error at the end is not lost
    drop(sink);
    Ok(electrons)
}

/// File bytes per pixel-frame of `format` at this dose, measured by writing
/// a synthetic movie of the same per-frame dose into memory (a 512×512
/// crop; 1024×1024 and up to 128 detector frames for EER, whose size
/// follows the events). Uncompressed MRC is exact. Also returns the
/// pixel-frames the sample held.
pub fn sample_bytes_per_pixel_frame(spec: &MovieSpec) -> Result<(f64, u64), String> {
    let (side, frames) = match spec.format {
        Format::Eer => (
            1024u32.min(spec.width.max(spec.height)),
            spec.frames.min(128),
        ),
        _ => (512u32, spec.frames.min(8)),
    };
    let sample = MovieSpec {
        width: side.min(spec.width),
        height: side.min(spec.height),
        frames,
        movies: 1,
        ..spec.clone()
    };
    let pixel_frames = sample.pixels() * sample.frames;
    if spec.format == Format::Mrc {
        return Ok((spec.mode.bytes_for(1) as f64, pixel_frames));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    write_movie(&sample, 1, &mut out)?;
    let header = match spec.format {
        Format::MrcBz2 => 0.0,
        _ => 16.0,
    };
    Ok((
        (out.get_ref().len() as f64 - header) / pixel_frames as f64,
        pixel_frames,
    ))
}

fn stop_if_asked() -> Result<(), String> {
    if interrupt::requested() {
        Err(INTERRUPTED.into())
    } else {
        Ok(())
    }
}

const INTERRUPTED: &str = "interrupted";

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    pub electrons: u64,
}

/// Writes `spec.movies` movies and a gain reference into `dir`.
pub fn write_movies(
    dir: &Path,
    spec: &MovieSpec,
    reserve: Reserve,
    progress: &dyn Fn(u64),
) -> Result<Written, StackError> {
    let gain_bytes = 1024 + spec.pixels() * 4;
    let bound = spec
        .movie_bytes_bound()
        .saturating_mul(spec.movies)
        .saturating_add(gain_bytes);
    check_target(dir, bound, reserve)?;
    let mut names: Vec<String> = (1..=spec.movies).map(|i| spec.name(i)).collect();
    names.push(GAIN_NAME.into());
    for n in &names {
        let p = dir.join(n);
        if p.symlink_metadata().is_ok() {
            return Err(StackError::Exists(p));
        }
    }
    let mut written = Written {
        files: Vec::new(),
        bytes: 0,
        electrons: 0,
    };
    let mut registered = Vec::new();
    let fail = |written: &Written, e: StackError| {
        for p in &written.files {
            let _ = std::fs::remove_file(p);
        }
        match e {
            StackError::Interrupted(_) => StackError::Interrupted(written.files.len()),
            other => other,
        }
    };
    for (i, name) in names.iter().enumerate() {
        let path = dir.join(name);
        let result = if name == GAIN_NAME {
            write_one(&path, |f| {
                let g = mrc_io::synthetic_gain(spec.width, spec.height, spec.seed);
                let mut w = BufWriter::new(f);
                mrc_io::write_gain(&mut w, &g, spec.width, spec.height)
                    .and_then(|_| w.flush())
                    .map_err(|e| e.to_string())?;
                Ok(0)
            })
        } else {
            write_one(&path, |f| write_movie(spec, i as u64 + 1, f))
        };
        match result {
            Ok((bytes, electrons)) => {
                registered.push(interrupt::scratch(&path));
                written.files.push(path);
                written.bytes += bytes;
                written.electrons += electrons;
                progress(i as u64 + 1);
            }
            Err(e) => return Err(fail(&written, e)),
        }
    }
    // the files stay: they are the command's output, no longer scratch
    drop(registered);
    Ok(written)
}

fn write_one(
    path: &Path,
    body: impl FnOnce(&mut std::fs::File) -> Result<u64, String>,
) -> Result<(u64, u64), StackError> {
    let werr = |source: std::io::Error| StackError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut out = AtomicFile::create(path).map_err(|e| werr(e.into()))?;
    let electrons = match body(out.file()) {
        Ok(n) => n,
        Err(e) if e == INTERRUPTED => return Err(StackError::Interrupted(0)),
        Err(e) => return Err(werr(std::io::Error::other(e))),
    };
    let bytes = out.file().stream_position().map_err(werr)?;
    out.commit_new().map_err(|e| match e {
        FileError::Write { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            StackError::Exists(path.to_path_buf())
        }
        other => werr(other.into()),
    })?;
    Ok((bytes, electrons))
}

#[cfg(test)]
mod tests {
    use super::super::decode::{self, EerRender};
    use super::*;

    fn spec(format: Format) -> MovieSpec {
        MovieSpec {
            format,
            mode: Mode::Int16,
            width: 96,
            height: 64,
            frames: if format == Format::Eer { 60 } else { 6 },
            dose: Dose::from_total(30.0, 1.0, if format == Format::Eer { 60 } else { 6 }, 0.2),
            pixel_size: 1.0,
            movies: 2,
            seed: 4,
            drift: (0.0, 0.0),
        }
    }

    #[test]
    fn every_format_decodes_to_the_electrons_written() {
        for format in Format::ALL {
            let dir = tempfile::tempdir().unwrap();
            let s = spec(format);
            let w = write_movies(dir.path(), &s, Reserve::Bytes(0), &|_| {}).unwrap();
            assert_eq!(w.files.len(), 3);
            let mut electrons = 0;
            for f in &w.files[..2] {
                let bytes = std::fs::read(f).unwrap();
                assert_eq!(Format::sniff(&bytes), Some(format));
                let d = decode::decode(f, &bytes, None, EerRender::default(), 1 << 30).unwrap();
                assert_eq!((d.width, d.height, d.frames), (96, 64, s.frames));
                electrons += d.counts;
                let total: f64 = d.sum.iter().map(|&v| f64::from(v)).sum();
                assert!((total - d.counts as f64).abs() < 1e-3 * total.max(1.0));
            }
            assert_eq!(electrons, w.electrons, "{format:?}");
            assert!(w.bytes <= s.movie_bytes_bound() * 2 + 1024 + 96 * 64 * 4);
        }
    }

    #[test]
    fn existing_files_stop_the_run_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(GAIN_NAME), b"mine").unwrap();
        let e = write_movies(dir.path(), &spec(Format::Mrc), Reserve::Bytes(0), &|_| {});
        assert!(matches!(e, Err(StackError::Exists(_))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
