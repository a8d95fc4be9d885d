//! What pre-processing does to a movie before motion correction: decode
//! every frame, multiply by the gain reference and sum (EER: frames grouped
//! into fractions first, rendered at 4K or 8K). One movie per call; callers
//! run one call per thread.

use std::borrow::Cow;
use std::path::Path;

use super::Format;
use super::eer::{self, Widths};
use super::mrc_io::{self, MrcMovie};
use super::tiff_io;

/// How EER frames are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EerRender {
    /// Detector frames summed into one fraction.
    pub grouping: u32,
    /// 1: the sensor's pixels; 2: twice as many per axis.
    pub upsample: u32,
}

impl Default for EerRender {
    fn default() -> Self {
        EerRender {
            grouping: 32,
            upsample: 1,
        }
    }
}

/// What decoding one movie gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub format: Format,
    /// Rendered size (EER at 2× is twice the sensor's).
    pub width: u32,
    pub height: u32,
    /// Frames in the file (EER: detector frames).
    pub frames: u64,
    /// Frames after EER grouping (the frame count otherwise).
    pub fractions: u64,
    /// Bytes of pixels the frames decode to, at one byte per count.
    pub decoded_bytes: u64,
    /// Electrons counted (the sum of every frame's counts).
    pub counts: u64,
    /// The gain-corrected sum of all frames.
    pub sum: Vec<f32>,
}

/// Why a movie cannot be decoded; the caller adds the file's name.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{0}")]
    Bad(String),
    #[error("gain reference {0}")]
    Gain(String),
}

fn bad(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Bad(e.to_string())
}

/// The size a gain reference must have for `bytes` rendered with `eer`:
/// `(width, height)`, or an error naming what is wrong with the movie.
pub fn rendered_size(path: &Path, bytes: &[u8], eer: EerRender) -> Result<(u32, u32), DecodeError> {
    match Format::sniff(bytes) {
        Some(Format::Eer) => {
            let l = tiff_io::layout(bytes).map_err(bad)?;
            Ok((l.width * eer.upsample, l.height * eer.upsample))
        }
        Some(Format::TiffLzw) => {
            let l = tiff_io::layout(bytes).map_err(bad)?;
            Ok((l.width, l.height))
        }
        Some(Format::Mrc) => {
            let m = MrcMovie::parse(path, bytes).map_err(bad)?;
            Ok((m.header.nx, m.header.ny))
        }
        Some(Format::MrcBz2) => {
            // the header is in the first block: decompress just enough
            let mut head = Vec::new();
            use std::io::Read;
            let _ = bzip2::read::MultiBzDecoder::new(bytes)
                .take(1024)
                .read_to_end(&mut head);
            let h = head
                .first_chunk::<1024>()
                .ok_or_else(|| bad("bzip2 data too short to hold an MRC header: truncated"))?;
            let h = crate::storage::mrc::MrcHeader::parse(path, h)
                .map_err(|e| bad(mrc_io::without_path(path, &e.to_string())))?;
            Ok((h.nx, h.ny))
        }
        None => Err(unknown(bytes)),
    }
}

fn unknown(bytes: &[u8]) -> DecodeError {
    bad(format!(
        "neither TIFF, EER, MRC nor bzip2 (it starts {:02x?})",
        &bytes[..bytes.len().min(4)]
    ))
}

/// Decodes one movie held in memory. `gain` must match the rendered size
/// when given; without it every pixel's gain is 1 (the work is the same).
/// `limit` bounds what bzip2 may decompress to.
pub fn decode(
    path: &Path,
    bytes: &[u8],
    gain: Option<&[f32]>,
    eer: EerRender,
    limit: u64,
) -> Result<Decoded, DecodeError> {
    let format = Format::sniff(bytes).ok_or_else(|| unknown(bytes))?;
    let gain_for = |w: u32, h: u32| -> Result<Cow<'_, [f32]>, DecodeError> {
        let n = w as usize * h as usize;
        match gain {
            Some(g) if g.len() == n => Ok(Cow::Borrowed(g)),
            Some(g) => Err(DecodeError::Gain(format!(
                "holds {} pixels but the movie renders {w}×{h} = {n}",
                g.len()
            ))),
            None => Ok(Cow::Owned(vec![1.0; n])),
        }
    };
    match format {
        Format::TiffLzw => {
            let l = tiff_io::layout(bytes).map_err(bad)?;
            let g = gain_for(l.width, l.height)?;
            // 8-bit counts add into 16-bit ones: a third of the memory
            // traffic of a float sum per frame
            let mut acc = vec![0u16; g.len()];
            tiff_io::lzw_frames(bytes, 0..l.pages, |_, f| {
                for (a, &c) in acc.iter_mut().zip(f) {
                    *a = a.saturating_add(u16::from(c));
                }
            })
            .map_err(bad)?;
            let (sum, counts) = gained(&acc, &g);
            let px = u64::from(l.width) * u64::from(l.height);
            Ok(Decoded {
                format,
                width: l.width,
                height: l.height,
                frames: l.pages as u64,
                fractions: l.pages as u64,
                decoded_bytes: px * l.pages as u64,
                counts,
                sum,
            })
        }
        Format::Eer => decode_eer(bytes, &gain_for, eer),
        Format::Mrc => decode_mrc(path, bytes, &gain_for, format),
        Format::MrcBz2 => {
            let plain = mrc_io::bunzip_movie(path, bytes, limit).map_err(bad)?;
            decode_mrc(path, &plain, &gain_for, format)
        }
    }
}

/// The gain-corrected sum of summed counts (the gain is linear: applying it
/// to the sum is applying it to every frame), and the electrons counted.
fn gained(acc: &[u16], gain: &[f32]) -> (Vec<f32>, u64) {
    let mut counts = 0u64;
    let sum = acc
        .iter()
        .zip(gain)
        .map(|(&a, &g)| {
            counts += u64::from(a);
            g * f32::from(a)
        })
        .collect();
    (sum, counts)
}

fn decode_mrc<'a>(
    path: &Path,
    bytes: &[u8],
    gain_for: &dyn Fn(u32, u32) -> Result<Cow<'a, [f32]>, DecodeError>,
    format: Format,
) -> Result<Decoded, DecodeError> {
    let m = MrcMovie::parse(path, bytes).map_err(bad)?;
    let (w, h, n) = (m.header.nx, m.header.ny, m.header.nz);
    let g = gain_for(w, h)?;
    let mut sum = vec![0f32; g.len()];
    for i in 0..n as usize {
        mrc_io::add_frame(m.frame(bytes, i), m.header.mode, &mut sum);
    }
    let mut counts = 0f64;
    for (s, gv) in sum.iter_mut().zip(g.iter()) {
        counts += f64::from(*s);
        *s *= gv;
    }
    let px = u64::from(w) * u64::from(h);
    Ok(Decoded {
        format,
        width: w,
        height: h,
        frames: u64::from(n),
        fractions: u64::from(n),
        decoded_bytes: px * u64::from(n),
        counts: counts.max(0.0) as u64,
        sum,
    })
}

fn decode_eer<'a>(
    bytes: &[u8],
    gain_for: &dyn Fn(u32, u32) -> Result<Cow<'a, [f32]>, DecodeError>,
    r: EerRender,
) -> Result<Decoded, DecodeError> {
    let l = tiff_io::layout(bytes).map_err(bad)?;
    if let Some(d) = l.declared_frames
        && d != l.pages as u64
    {
        return Err(bad(format!(
            "its metadata declares {d} frames but it holds {}{}",
            l.pages,
            if (l.pages as u64) > d {
                ": more frames than declared"
            } else {
                ": truncated"
            }
        )));
    }
    let widths: Widths = l.widths.unwrap_or(Widths::STANDARD);
    let up = r.upsample.clamp(1, 2);
    let (w, h) = (l.width * up, l.height * up);
    let g = gain_for(w, h)?;
    let mut sum = vec![0f32; g.len()];
    let mut fraction = vec![0u16; g.len()];
    let mut counts = 0u64;
    let mut fractions = 0u64;
    let grouping = r.grouping.max(1) as usize;
    for (i, &(o, n)) in l.strips.iter().enumerate() {
        counts += eer::render_frame(
            widths,
            l.width,
            l.height,
            up,
            &bytes[o..o + n],
            &mut fraction,
        )
        .map_err(|e| bad(format!("frame {i}: {e}")))?;
        if (i + 1) % grouping == 0 || i + 1 == l.strips.len() {
            for ((s, gv), c) in sum.iter_mut().zip(g.iter()).zip(fraction.iter_mut()) {
                *s += gv * f32::from(*c);
                *c = 0;
            }
            fractions += 1;
        }
    }
    Ok(Decoded {
        format: Format::Eer,
        width: w,
        height: h,
        frames: l.pages as u64,
        fractions,
        decoded_bytes: u64::from(l.width) * u64::from(l.height) * l.pages as u64,
        counts,
        sum,
    })
}
