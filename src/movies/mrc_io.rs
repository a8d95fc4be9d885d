//! Movies as MRC stacks (one section per frame, mode 0/1/2/6/12), plain or
//! compressed whole with bzip2 as CryoSPARC reads them, and float32 gain
//! references.

use std::io::{Read, Write};
use std::path::Path;

use crate::storage::mrc::{HEADER_BYTES, Mode, MrcHeader};

/// The modes a counting movie can be stored in.
pub const MOVIE_MODES: [Mode; 5] = [
    Mode::Int8,
    Mode::Int16,
    Mode::Float32,
    Mode::Uint16,
    Mode::Float16,
];

/// Why an MRC movie cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MrcMovieError {
    #[error("{0}")]
    Header(String),
    #[error("bzip2: {0}")]
    Bzip2(String),
    #[error("{0}")]
    Size(String),
}

/// Writes one frame's counts in `mode`, little endian.
pub fn encode_counts(counts: &[u8], mode: Mode, out: &mut Vec<u8>) {
    out.clear();
    match mode {
        Mode::Int8 => out.extend(counts.iter().map(|&c| c.min(127))),
        Mode::Int16 | Mode::Uint16 => {
            for &c in counts {
                out.extend_from_slice(&u16::from(c).to_le_bytes());
            }
        }
        Mode::Float16 => {
            for &c in counts {
                out.extend_from_slice(&half::f16::from_f32(f32::from(c)).to_le_bytes());
            }
        }
        _ => {
            for &c in counts {
                out.extend_from_slice(&f32::from(c).to_le_bytes());
            }
        }
    }
}

/// Adds one frame's pixels, read from `raw` in `mode`, into `sum`.
pub fn add_frame(raw: &[u8], mode: Mode, sum: &mut [f32]) {
    match mode {
        Mode::Int8 => {
            for (s, &v) in sum.iter_mut().zip(raw) {
                *s += f32::from(v as i8);
            }
        }
        Mode::Int16 => {
            for (s, c) in sum.iter_mut().zip(raw.chunks_exact(2)) {
                *s += f32::from(i16::from_le_bytes([c[0], c[1]]));
            }
        }
        Mode::Uint16 => {
            for (s, c) in sum.iter_mut().zip(raw.chunks_exact(2)) {
                *s += f32::from(u16::from_le_bytes([c[0], c[1]]));
            }
        }
        Mode::Float16 => {
            for (s, c) in sum.iter_mut().zip(raw.chunks_exact(2)) {
                *s += half::f16::from_le_bytes([c[0], c[1]]).to_f32();
            }
        }
        _ => {
            for (s, c) in sum.iter_mut().zip(raw.chunks_exact(4)) {
                *s += f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
    }
}

/// The header of a movie of `frames` frames.
pub fn movie_header(
    width: u32,
    height: u32,
    frames: u32,
    mode: Mode,
    pixel_size: f32,
) -> MrcHeader {
    let mut h = MrcHeader::image_stack(width, height, frames, mode, pixel_size);
    h.labels = vec!["cryocap movies create: synthetic counting movie".into()];
    h
}

/// Decompresses a bzip2 MRC movie against the size its header declares:
/// the header first, then at most the declared bytes, so a small file that
/// inflates without end stops there and never holds more than that (and
/// never more than `limit`) in memory.
pub fn bunzip_movie(path: &Path, data: &[u8], limit: u64) -> Result<Vec<u8>, MrcMovieError> {
    let truncated =
        |e: std::io::Error| MrcMovieError::Bzip2(format!("{e} (truncated or not bzip2)"));
    let mut dec = bzip2::read::MultiBzDecoder::new(data);
    let mut head = [0u8; HEADER_BYTES as usize];
    dec.read_exact(&mut head).map_err(truncated)?;
    let header = MrcHeader::parse(path, &head)
        .map_err(|e| MrcMovieError::Header(without_path(path, &e.to_string())))?;
    let declared = header.file_bytes();
    if declared > limit {
        return Err(MrcMovieError::Size(format!(
            "the header declares {declared} bytes, more than the {limit} a movie may decompress to"
        )));
    }
    let mut out = Vec::with_capacity(declared as usize);
    out.extend_from_slice(&head);
    (&mut dec)
        .take(declared - HEADER_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(truncated)?;
    if out.len() as u64 > declared {
        return Err(MrcMovieError::Size(format!(
            "decompresses to more than the {declared} bytes its header declares"
        )));
    }
    Ok(out)
}

/// An error text of the MRC reader without its leading `path: `: callers
/// here name the file themselves.
pub fn without_path(path: &Path, text: &str) -> String {
    let prefix = format!("{}: ", path.display());
    text.strip_prefix(&prefix).unwrap_or(text).to_string()
}

/// A movie held in memory as an MRC file (decompressed if it was bzip2).
#[derive(Debug)]
pub struct MrcMovie {
    pub header: MrcHeader,
    pub data_offset: usize,
    pub frame_bytes: usize,
}

impl MrcMovie {
    /// Checks the header and that the bytes hold exactly its frames.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<MrcMovie, MrcMovieError> {
        let Some(head) = bytes.first_chunk::<1024>() else {
            return Err(MrcMovieError::Size(format!(
                "{} bytes is shorter than an MRC header (1024): truncated",
                bytes.len()
            )));
        };
        let header = MrcHeader::parse(path, head)
            .map_err(|e| MrcMovieError::Header(without_path(path, &e.to_string())))?;
        if !MOVIE_MODES.contains(&header.mode) {
            return Err(MrcMovieError::Header(format!(
                "mode {} ({}) is not a mode movies are stored in (0, 1, 2, 6, 12)",
                header.mode.code(),
                header.mode.label()
            )));
        }
        let want = header.file_bytes();
        let have = bytes.len() as u64;
        if have != want {
            return Err(MrcMovieError::Size(format!(
                "the header declares {} frames of {}×{} ({want} bytes) but the data is {have} bytes{}",
                header.nz,
                header.nx,
                header.ny,
                if have < want {
                    ": truncated"
                } else {
                    ": more frames than declared, or trailing bytes"
                }
            )));
        }
        Ok(MrcMovie {
            data_offset: (HEADER_BYTES + u64::from(header.nsymbt)) as usize,
            frame_bytes: header.image_bytes() as usize,
            header,
        })
    }

    /// The raw bytes of frame `i`.
    pub fn frame<'a>(&self, bytes: &'a [u8], i: usize) -> &'a [u8] {
        let start = self.data_offset + i * self.frame_bytes;
        &bytes[start..start + self.frame_bytes]
    }
}

/// A seeded gain reference: values near 1 with a few per cent of spread
/// and a gentle slope, never zero; float32, `width`×`height`.
pub fn synthetic_gain(width: u32, height: u32, seed: u64) -> Vec<f32> {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6a11);
    let mut g = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        let slope = 0.97 + 0.06 * f64::from(y) / f64::from(height.max(1));
        for _ in 0..width {
            g.push((slope + 0.04 * (rng.random::<f64>() - 0.5)) as f32);
        }
    }
    g
}

/// Writes a float32 gain reference.
pub fn write_gain(
    out: &mut dyn Write,
    gain: &[f32],
    width: u32,
    height: u32,
) -> std::io::Result<()> {
    let mut h = MrcHeader::image_stack(width, height, 1, Mode::Float32, 1.0);
    h.labels = vec!["cryocap movies create: synthetic gain reference".into()];
    out.write_all(&h.to_bytes())?;
    let mut buf = Vec::with_capacity(gain.len() * 4);
    for v in gain {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    out.write_all(&buf)
}

/// Reads a gain reference of `width`×`height` (any real mode, one section),
/// refusing zeros, non-finite values and another size.
pub fn read_gain(path: &Path, bytes: &[u8], width: u32, height: u32) -> Result<Vec<f32>, String> {
    let movie = MrcMovie::parse(path, bytes).map_err(|e| e.to_string())?;
    let h = &movie.header;
    if h.nz != 1 {
        return Err(format!("has {} sections; a gain reference has one", h.nz));
    }
    if (h.nx, h.ny) != (width, height) {
        return Err(format!(
            "is {}×{} but the movies are {width}×{height}",
            h.nx, h.ny
        ));
    }
    let mut g = vec![0f32; width as usize * height as usize];
    add_frame(movie.frame(bytes, 0), h.mode, &mut g);
    if let Some(i) = g.iter().position(|v| !v.is_finite() || *v <= 0.0) {
        return Err(format!(
            "pixel ({}, {}) holds {}; every gain value must be a positive number",
            i % width as usize,
            i / width as usize,
            g[i]
        ));
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_movie_mode_round_trips_counts() {
        let counts: Vec<u8> = (0..64).map(|i| (i % 9) as u8).collect();
        for mode in MOVIE_MODES {
            let h = movie_header(8, 8, 2, mode, 1.0);
            let mut bytes = h.to_bytes().to_vec();
            let mut f = Vec::new();
            for _ in 0..2 {
                encode_counts(&counts, mode, &mut f);
                bytes.extend_from_slice(&f);
            }
            let m = MrcMovie::parse(Path::new("m.mrc"), &bytes).unwrap();
            let mut sum = vec![0f32; 64];
            add_frame(m.frame(&bytes, 1), mode, &mut sum);
            add_frame(m.frame(&bytes, 0), mode, &mut sum);
            assert!(
                sum.iter()
                    .zip(&counts)
                    .all(|(s, &c)| *s == 2.0 * f32::from(c))
            );
            // one byte more or less is named
            bytes.push(0);
            assert!(MrcMovie::parse(Path::new("m.mrc"), &bytes).is_err());
            bytes.truncate(bytes.len() - 2);
            let e = MrcMovie::parse(Path::new("m.mrc"), &bytes).unwrap_err();
            assert!(e.to_string().contains("truncated"), "{e}");
        }
    }

    #[test]
    fn a_bzip2_movie_stops_at_its_declared_size() {
        let h = MrcHeader::image_stack(64, 64, 2, Mode::Int8, 1.0);
        let mut movie = h.to_bytes().to_vec();
        movie.resize(h.file_bytes() as usize, 7);
        let bz = |b: &[u8]| {
            let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            enc.write_all(b).unwrap();
            enc.finish().unwrap()
        };
        let p = Path::new("m.mrc.bz2");
        assert_eq!(bunzip_movie(p, &bz(&movie), 1 << 30).unwrap(), movie);
        // Ten times the frames the header declares: stopped, not inflated.
        let mut big = movie.clone();
        big.resize(movie.len() * 10, 0);
        let e = bunzip_movie(p, &bz(&big), 1 << 30).unwrap_err().to_string();
        assert!(e.contains("more than the"), "{e}");
        assert!(bunzip_movie(p, &bz(&movie), 100).is_err());
        assert!(bunzip_movie(p, &bz(&movie)[..40], 1 << 30).is_err());
    }

    #[test]
    fn gain_references_are_checked() {
        let g = synthetic_gain(16, 8, 1);
        assert!(g.iter().all(|v| (0.9..1.1).contains(v)));
        let mut bytes = Vec::new();
        write_gain(&mut bytes, &g, 16, 8).unwrap();
        assert_eq!(read_gain(Path::new("g.mrc"), &bytes, 16, 8).unwrap(), g);
        assert!(read_gain(Path::new("g.mrc"), &bytes, 8, 16).is_err());
        let mut zero = g.clone();
        zero[17] = 0.0;
        let mut bytes = Vec::new();
        write_gain(&mut bytes, &zero, 16, 8).unwrap();
        let e = read_gain(Path::new("g.mrc"), &bytes, 16, 8).unwrap_err();
        assert!(e.contains("(1, 1)"), "{e}");
    }
}
