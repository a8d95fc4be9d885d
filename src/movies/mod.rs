//! Movies: the formats detectors write (LZW TIFF, EER, MRC, bzip2 MRC),
//! synthetic counting exposures to fill them, and the decoding that
//! pre-processing does before motion correction (decode, gain, sum).

pub mod align;
pub mod bench;
pub mod create;
pub mod decode;
pub mod eer;
pub mod mrc_io;
pub mod synth;
pub mod tiff_io;

use crate::storage::mrc::Mode;

/// A movie file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Multi-page TIFF of 8-bit counts, LZW per strip.
    TiffLzw,
    /// Electron Event Representation (BigTIFF, one directory per detector frame).
    Eer,
    /// MRC, one section per frame.
    Mrc,
    /// MRC compressed whole with bzip2.
    MrcBz2,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::TiffLzw, Format::Eer, Format::Mrc, Format::MrcBz2];

    /// The file name ending.
    pub fn extension(self) -> &'static str {
        match self {
            Format::TiffLzw => "tif",
            Format::Eer => "eer",
            Format::Mrc => "mrc",
            Format::MrcBz2 => "mrc.bz2",
        }
    }

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Format::TiffLzw => "tiff-lzw",
            Format::Eer => "eer",
            Format::Mrc => "mrc",
            Format::MrcBz2 => "mrc-bz2",
        }
    }

    /// Which format bytes hold, from their first bytes (and for TIFF, the
    /// compression of the first page).
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        Format::classify(bytes, || {
            tiff_io::first_compression(std::io::Cursor::new(bytes))
        })
    }

    /// [`Format::sniff`] of a file, reading only its header (and a TIFF's
    /// first directory), not the whole movie.
    pub fn sniff_file(path: &std::path::Path) -> std::io::Result<Option<Format>> {
        use std::io::{Read, Seek};
        let mut f = std::fs::File::open(path)?;
        let mut head = Vec::with_capacity(1024);
        (&mut f).take(1024).read_to_end(&mut head)?;
        f.rewind()?;
        Ok(Format::classify(&head, || {
            tiff_io::first_compression(std::io::BufReader::new(f))
        }))
    }

    /// The format a file's first bytes name; `compression` reads a TIFF's
    /// first page's compression (EER variants are 65000..65002).
    fn classify(head: &[u8], compression: impl FnOnce() -> Option<u16>) -> Option<Format> {
        if head.starts_with(b"BZh") {
            return Some(Format::MrcBz2);
        }
        if head.starts_with(b"II*\0") || head.starts_with(b"II+\0") || head.starts_with(b"MM\0") {
            return match compression() {
                Some(65000..=65002) => Some(Format::Eer),
                _ => Some(Format::TiffLzw),
            };
        }
        if head.len() >= 1024 && &head[208..211] == b"MAP" {
            return Some(Format::Mrc);
        }
        None
    }
}

/// The MRC modes a movie may be written in, by their MRC2014 codes.
pub fn movie_mode(code: i32) -> Option<Mode> {
    Mode::from_code(code).filter(|m| mrc_io::MOVIE_MODES.contains(m))
}
