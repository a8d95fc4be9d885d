//! Movies in TIFF containers: LZW-compressed 8-bit counts, one page per
//! frame (what SerialEM and EPU write for K2/K3), and EER (a BigTIFF with
//! one directory per detector frame, its strip holding the event code).
//! The container is read and written with the `tiff` crate; the EER code
//! itself is [`super::eer`].

use std::borrow::Cow;
use std::io::{Cursor, Seek, Write};

use tiff::decoder::{Decoder, Limits};
use tiff::encoder::{Compression, TiffEncoder, TiffKind, TiffValue, colortype};
use tiff::tags::{Tag, Type};

use super::eer::Widths;

/// TIFF compression codes of the EER variants.
pub const EER_7BIT: u16 = 65001;
pub const EER_VARIABLE: u16 = 65002;
const TAG_EER_METADATA: u16 = 65001;
const TAG_RUN_BITS: u16 = 65007;
const TAG_HORZ_BITS: u16 = 65008;
const TAG_VERT_BITS: u16 = 65009;

/// Why a TIFF or EER movie cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TiffMovieError {
    #[error("not a readable TIFF: {0}")]
    Container(String),
    #[error("page {page}: {reason}")]
    Page { page: usize, reason: String },
    #[error("{}", compression_text(*.0))]
    Compression(u16),
    #[error("{0}")]
    Write(String),
}

fn compression_text(c: u16) -> String {
    match c {
        65000 => "EER compression 65000 (the 8-bit prototype) is not read by cryocap; it reads 65001 and 65002".into(),
        1 => "an uncompressed TIFF: counting movies are LZW (5) or EER (65001, 65002)".into(),
        c => format!("compression {c} is not LZW (5) or EER (65001, 65002)"),
    }
}

/// The compression code of a TIFF's first page, if it can be read.
pub fn first_compression<R: std::io::Read + Seek>(r: R) -> Option<u16> {
    let mut d = Decoder::new(r).ok()?.with_limits(limits());
    d.find_tag_unsigned(Tag::Compression).ok().flatten()
}

fn container(e: tiff::TiffError) -> TiffMovieError {
    TiffMovieError::Container(reason(e))
}

/// A tiff crate error in words; the file ending early is called truncated.
fn reason(e: tiff::TiffError) -> String {
    match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends inside it: truncated".into()
        }
        other => other.to_string(),
    }
}

fn write_err(e: impl std::fmt::Display) -> TiffMovieError {
    TiffMovieError::Write(e.to_string())
}

/// A tag value of TIFF type UNDEFINED (7): bytes with no text meaning, as
/// EER's acquisition metadata is stored.
struct Undefined<'a>(&'a [u8]);

impl TiffValue for Undefined<'_> {
    const BYTE_LEN: u8 = 1;
    const FIELD_TYPE: Type = Type::UNDEFINED;
    fn count(&self) -> usize {
        self.0.len()
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.0)
    }
}

/// Writes 8-bit count frames as a multi-page LZW TIFF. BigTIFF when the
/// movie could pass 4 GiB uncompressed.
pub struct LzwWriter<W: Write + Seek> {
    inner: LzwInner<W>,
    width: u32,
    height: u32,
}

enum LzwInner<W: Write + Seek> {
    Classic(TiffEncoder<W>),
    Big(TiffEncoder<W, tiff::encoder::TiffKindBig>),
}

impl<W: Write + Seek> LzwWriter<W> {
    pub fn new(out: W, width: u32, height: u32, frames: u64) -> Result<Self, TiffMovieError> {
        let raw = u64::from(width) * u64::from(height) * frames;
        let inner = if raw < (3u64 << 30) {
            LzwInner::Classic(
                TiffEncoder::new(out)
                    .map_err(write_err)?
                    .with_compression(Compression::Lzw),
            )
        } else {
            LzwInner::Big(
                TiffEncoder::new_big(out)
                    .map_err(write_err)?
                    .with_compression(Compression::Lzw),
            )
        };
        Ok(LzwWriter {
            inner,
            width,
            height,
        })
    }

    pub fn frame(&mut self, counts: &[u8]) -> Result<(), TiffMovieError> {
        fn one<W: Write + Seek, K: TiffKind>(
            enc: &mut TiffEncoder<W, K>,
            w: u32,
            h: u32,
            counts: &[u8],
        ) -> Result<(), TiffMovieError> {
            enc.write_image::<colortype::Gray8>(w, h, counts)
                .map_err(write_err)
        }
        match &mut self.inner {
            LzwInner::Classic(e) => one(e, self.width, self.height, counts),
            LzwInner::Big(e) => one(e, self.width, self.height, counts),
        }
    }
}

/// Writes EER frames (already encoded by [`super::eer::encode_frame`]) into
/// a BigTIFF, compression 65002 with the widths in tags 65007–65009, and
/// the acquisition metadata tifffile looks for on the first page.
pub struct EerWriter<W: Write + Seek> {
    enc: TiffEncoder<W, tiff::encoder::TiffKindBig>,
    width: u32,
    height: u32,
    widths: Widths,
    written: u64,
    metadata: String,
}

impl<W: Write + Seek> EerWriter<W> {
    pub fn new(
        out: W,
        width: u32,
        height: u32,
        widths: Widths,
        frames: u64,
        dose_per_frame: f64,
    ) -> Result<Self, TiffMovieError> {
        let metadata = format!(
            "<metadata>\n<item name=\"numberOfFrames\">{frames}</item>\n\
             <item name=\"sensorPixelSize.width\">{width}</item>\n\
             <item name=\"sensorPixelSize.height\">{height}</item>\n\
             <item name=\"dosePerFrame\" unit=\"e/pixel\">{dose_per_frame}</item>\n\
             <item name=\"writer\">cryocap {}</item>\n</metadata>\n",
            env!("CARGO_PKG_VERSION")
        );
        Ok(EerWriter {
            enc: TiffEncoder::new_big(out).map_err(write_err)?,
            width,
            height,
            widths,
            written: 0,
            metadata,
        })
    }

    pub fn frame(&mut self, code: &[u8]) -> Result<(), TiffMovieError> {
        let mut dir = self.enc.image_directory().map_err(write_err)?;
        let offset = dir.write_data(code).map_err(write_err)?;
        dir.write_tag(Tag::ImageWidth, self.width)
            .map_err(write_err)?;
        dir.write_tag(Tag::ImageLength, self.height)
            .map_err(write_err)?;
        dir.write_tag(Tag::BitsPerSample, 1u16).map_err(write_err)?;
        dir.write_tag(Tag::Compression, EER_VARIABLE)
            .map_err(write_err)?;
        dir.write_tag(Tag::PhotometricInterpretation, 1u16)
            .map_err(write_err)?;
        dir.write_tag(Tag::StripOffsets, offset)
            .map_err(write_err)?;
        dir.write_tag(Tag::SamplesPerPixel, 1u16)
            .map_err(write_err)?;
        dir.write_tag(Tag::RowsPerStrip, self.height)
            .map_err(write_err)?;
        dir.write_tag(Tag::StripByteCounts, code.len() as u64)
            .map_err(write_err)?;
        if self.written == 0 {
            dir.write_tag(
                Tag::Unknown(TAG_EER_METADATA),
                Undefined(self.metadata.as_bytes()),
            )
            .map_err(write_err)?;
        }
        dir.write_tag(Tag::Unknown(TAG_RUN_BITS), self.widths.run_bits as u16)
            .map_err(write_err)?;
        dir.write_tag(Tag::Unknown(TAG_HORZ_BITS), self.widths.horz_bits as u16)
            .map_err(write_err)?;
        dir.write_tag(Tag::Unknown(TAG_VERT_BITS), self.widths.vert_bits as u16)
            .map_err(write_err)?;
        dir.finish().map_err(write_err)?;
        self.written += 1;
        Ok(())
    }
}

/// What a TIFF movie holds, and where each page's data is.
#[derive(Debug, Clone)]
pub struct TiffLayout {
    pub width: u32,
    pub height: u32,
    pub compression: u16,
    /// For EER: the code's bit widths.
    pub widths: Option<Widths>,
    /// For EER: the byte range of each frame's code.
    pub strips: Vec<(usize, usize)>,
    /// The frame count EER metadata declares, if any.
    pub declared_frames: Option<u64>,
    pub pages: usize,
}

fn limits() -> Limits {
    // a DE-64 super-resolution frame is 256 MiB of u8; refuse what no detector makes
    let mut l = Limits::default();
    l.decoding_buffer_size = 1 << 30;
    l.intermediate_buffer_size = 1 << 30;
    l.ifd_value_size = 64 << 20;
    l
}

/// Reads the directories of a TIFF movie held in memory.
pub fn layout(bytes: &[u8]) -> Result<TiffLayout, TiffMovieError> {
    let mut d = Decoder::new(Cursor::new(bytes))
        .map_err(container)?
        .with_limits(limits());
    let (width, height) = d.dimensions().map_err(container)?;
    let compression: u16 = d
        .find_tag_unsigned(Tag::Compression)
        .map_err(container)?
        .unwrap_or(1);
    let eer = compression == EER_7BIT || compression == EER_VARIABLE;
    if !eer && compression != 5 {
        return Err(TiffMovieError::Compression(compression));
    }
    let declared_frames = if eer {
        d.find_tag(Tag::Unknown(TAG_EER_METADATA))
            .ok()
            .flatten()
            .and_then(|v| v.into_u8_vec().ok())
            .and_then(|b| declared(&String::from_utf8_lossy(&b)))
    } else {
        None
    };
    let mut strips = Vec::new();
    let mut widths = None;
    let mut pages = 0usize;
    loop {
        let page = pages;
        check_page(&mut d, page, (width, height), compression)?;
        if eer {
            let wd = eer_widths(&mut d, page, compression)?;
            if widths.is_some_and(|x| x != wd) {
                return Err(TiffMovieError::Page {
                    page,
                    reason: "EER bit widths differ from page 0's".into(),
                });
            }
            widths = Some(wd);
            strips.push(eer_strip(&mut d, page, bytes.len())?);
        }
        pages += 1;
        if !d.more_images() {
            break;
        }
        d.next_image().map_err(|e| TiffMovieError::Page {
            page: pages,
            reason: reason(e),
        })?;
    }
    Ok(TiffLayout {
        width,
        height,
        compression,
        widths,
        strips,
        declared_frames,
        pages,
    })
}

/// An error on `page` of a TIFF movie.
fn page_error(page: usize) -> impl Fn(String) -> TiffMovieError {
    move |reason| TiffMovieError::Page { page, reason }
}

/// Checks that the current page has page 0's size and compression.
fn check_page(
    d: &mut Decoder<Cursor<&[u8]>>,
    page: usize,
    (width, height): (u32, u32),
    compression: u16,
) -> Result<(), TiffMovieError> {
    let bad = page_error(page);
    let (w, h) = d.dimensions().map_err(|e| bad(reason(e)))?;
    if (w, h) != (width, height) {
        return Err(bad(format!(
            "{w}×{h} pixels where page 0 has {width}×{height}"
        )));
    }
    let c: u16 = d
        .find_tag_unsigned(Tag::Compression)
        .map_err(|e| bad(reason(e)))?
        .unwrap_or(1);
    if c != compression {
        return Err(bad(format!(
            "compression {c} where page 0 has {compression}"
        )));
    }
    Ok(())
}

/// The EER bit widths of the current page: the standard ones for
/// compression 65001, else its tags (with the standard defaults).
fn eer_widths(
    d: &mut Decoder<Cursor<&[u8]>>,
    page: usize,
    compression: u16,
) -> Result<Widths, TiffMovieError> {
    let bad = page_error(page);
    let wd = if compression == EER_7BIT {
        Widths::STANDARD
    } else {
        let get = |d: &mut Decoder<Cursor<&[u8]>>, tag: u16, default: u32| {
            d.find_tag_unsigned::<u32>(Tag::Unknown(tag))
                .map(|v| v.unwrap_or(default))
        };
        Widths {
            run_bits: get(d, TAG_RUN_BITS, 7).map_err(|e| bad(reason(e)))?,
            horz_bits: get(d, TAG_HORZ_BITS, 2).map_err(|e| bad(reason(e)))?,
            vert_bits: get(d, TAG_VERT_BITS, 2).map_err(|e| bad(reason(e)))?,
        }
    };
    if !wd.valid() {
        return Err(bad(format!(
            "EER bit widths {}/{}/{} are outside what EER uses",
            wd.run_bits, wd.horz_bits, wd.vert_bits
        )));
    }
    Ok(wd)
}

/// The byte range of the current page's EER code (its one strip), which
/// must lie inside the file of `file_len` bytes.
fn eer_strip(
    d: &mut Decoder<Cursor<&[u8]>>,
    page: usize,
    file_len: usize,
) -> Result<(usize, usize), TiffMovieError> {
    let bad = page_error(page);
    let offsets: Vec<u64> = d
        .find_tag_unsigned_vec(Tag::StripOffsets)
        .map_err(|e| bad(reason(e)))?
        .unwrap_or_default();
    let counts: Vec<u64> = d
        .find_tag_unsigned_vec(Tag::StripByteCounts)
        .map_err(|e| bad(reason(e)))?
        .unwrap_or_default();
    if offsets.len() != 1 || counts.len() != 1 {
        return Err(bad(format!(
            "{} strips; an EER frame is one strip",
            offsets.len()
        )));
    }
    let (o, n) = (offsets[0], counts[0]);
    if o.checked_add(n).is_none_or(|end| end > file_len as u64) {
        return Err(bad(format!(
            "its code (bytes {o}..{}) lies past the end of the file ({} bytes): truncated",
            o.saturating_add(n),
            file_len
        )));
    }
    Ok((o as usize, n as usize))
}

/// The `numberOfFrames` item of EER acquisition metadata.
fn declared(xml: &str) -> Option<u64> {
    let at = xml.find("name=\"numberOfFrames\"")?;
    let rest = &xml[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    rest[start..end].trim().parse().ok()
}

/// Decodes the LZW pages of a TIFF movie in memory, calling `frame` with
/// each page's 8-bit counts (one buffer reused). `pages` selects which.
pub fn lzw_frames(
    bytes: &[u8],
    pages: impl Iterator<Item = usize>,
    mut frame: impl FnMut(usize, &[u8]),
) -> Result<(), TiffMovieError> {
    let mut d = Decoder::new(Cursor::new(bytes))
        .map_err(container)?
        .with_limits(limits());
    let mut current = 0usize;
    let mut buf = Vec::new();
    for page in pages {
        let bad = |reason: String| TiffMovieError::Page { page, reason };
        if page != current {
            d.seek_to_image(page).map_err(|e| bad(reason(e)))?;
        }
        let (w, h) = d.dimensions().map_err(|e| bad(reason(e)))?;
        let ct = d.colortype().map_err(|e| bad(reason(e)))?;
        if ct != tiff::ColorType::Gray(8) {
            return Err(bad(format!(
                "pixels are {ct:?}; counting movies hold 8-bit counts"
            )));
        }
        buf.resize(w as usize * h as usize, 0);
        d.read_image_bytes(&mut buf).map_err(|e| bad(reason(e)))?;
        frame(page, &buf);
        if d.more_images() {
            d.next_image().map_err(|e| TiffMovieError::Page {
                page: page + 1,
                reason: reason(e),
            })?;
            current = page + 1;
        } else {
            current = usize::MAX;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::eer;
    use super::*;

    #[test]
    fn lzw_pages_round_trip() {
        let mut out = Cursor::new(Vec::new());
        let mut w = LzwWriter::new(&mut out, 40, 30, 3).unwrap();
        let frames: Vec<Vec<u8>> = (0..3u8)
            .map(|f| {
                (0..1200)
                    .map(|i| ((i * 7 + usize::from(f)) % 5) as u8)
                    .collect()
            })
            .collect();
        for f in &frames {
            w.frame(f).unwrap();
        }
        let bytes = out.into_inner();
        let l = layout(&bytes).unwrap();
        assert_eq!((l.width, l.height, l.pages, l.compression), (40, 30, 3, 5));
        let mut back = Vec::new();
        lzw_frames(&bytes, 0..3, |_, f| back.push(f.to_vec())).unwrap();
        assert_eq!(back, frames);
    }

    #[test]
    fn eer_pages_round_trip_and_declare_their_frames() {
        let mut out = Cursor::new(Vec::new());
        let mut w = EerWriter::new(&mut out, 64, 64, Widths::STANDARD, 2, 0.01).unwrap();
        let codes = [
            eer::encode_frame(Widths::STANDARD, 4096, [(3, 1), (200, 5)]),
            eer::encode_frame(Widths::STANDARD, 4096, [(4095, 0)]),
        ];
        for c in &codes {
            w.frame(c).unwrap();
        }
        let bytes = out.into_inner();
        let l = layout(&bytes).unwrap();
        assert_eq!(l.pages, 2);
        assert_eq!(l.declared_frames, Some(2));
        assert_eq!(l.widths, Some(Widths::STANDARD));
        for (c, &(o, n)) in codes.iter().zip(&l.strips) {
            assert_eq!(&bytes[o..o + n], &c[..]);
        }
        // cut inside the last frame's code: named as truncated
        let cut = &bytes[..l.strips[1].0 + 2];
        assert!(layout(cut).is_err());
    }
}
