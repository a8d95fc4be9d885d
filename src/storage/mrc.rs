//! MRC2014 files (ccpem.ac.uk/mrc_format/mrc2014.php): the 1024-byte main
//! header, image offsets, and reading and writing image data. Little-endian
//! files only (machine stamp 0x44 0x44 or 0x44 0x41), as every current writer
//! produces.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::results::stack::FileInfo;

/// Main header length in bytes.
pub const HEADER_BYTES: u64 = 1024;
/// MRC2014 format version written into NVERSION.
pub const NVERSION: i32 = 20141;

/// Pixel modes of MRC2014.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Int8,
    Int16,
    Float32,
    Complex32,
    Complex64,
    Uint16,
    Float16,
    Packed4Bit,
}

impl Mode {
    pub fn from_code(code: i32) -> Option<Mode> {
        Some(match code {
            0 => Mode::Int8,
            1 => Mode::Int16,
            2 => Mode::Float32,
            3 => Mode::Complex32,
            4 => Mode::Complex64,
            6 => Mode::Uint16,
            12 => Mode::Float16,
            101 => Mode::Packed4Bit,
            _ => return None,
        })
    }
    pub fn code(self) -> i32 {
        match self {
            Mode::Int8 => 0,
            Mode::Int16 => 1,
            Mode::Float32 => 2,
            Mode::Complex32 => 3,
            Mode::Complex64 => 4,
            Mode::Uint16 => 6,
            Mode::Float16 => 12,
            Mode::Packed4Bit => 101,
        }
    }
    /// Bytes for `n` pixels (mode 101 packs two pixels per byte).
    /// Saturates at `u64::MAX` for dimensions no file can hold.
    pub fn bytes_for(self, n: u64) -> u64 {
        match self {
            Mode::Int8 => n,
            Mode::Int16 | Mode::Uint16 | Mode::Float16 => n.saturating_mul(2),
            Mode::Float32 | Mode::Complex32 => n.saturating_mul(4),
            Mode::Complex64 => n.saturating_mul(8),
            Mode::Packed4Bit => n.div_ceil(2),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Mode::Int8 => "int8",
            Mode::Int16 => "int16",
            Mode::Float32 => "float32",
            Mode::Complex32 => "complex int16",
            Mode::Complex64 => "complex float32",
            Mode::Uint16 => "uint16",
            Mode::Float16 => "float16",
            Mode::Packed4Bit => "4-bit packed",
        }
    }
}

/// Why an MRC file could not be used. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum MrcError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an MRC file ({reason})")]
    NotMrc { path: PathBuf, reason: String },
    #[error(
        "{path}: a {format}-compressed file; decompress it first ({tool}), then read the MRC file"
    )]
    Compressed {
        path: PathBuf,
        format: &'static str,
        tool: &'static str,
    },
    #[error(
        "{path}: big-endian MRC files are not supported; convert with e.g. `mrcfile` or `e2proc2d.py`"
    )]
    BigEndian { path: PathBuf },
    #[error("{path}: unknown MRC mode {mode} (known: 0, 1, 2, 3, 4, 6, 12, 101)")]
    UnknownMode { path: PathBuf, mode: i32 },
    #[error(
        "{path}: bad NSYMBT {nsymbt}: the extended header must be 0 or more bytes and fit in the file"
    )]
    BadNsymbt { path: PathBuf, nsymbt: i64 },
    #[error("{path}: truncated: the header describes {expected} bytes but the file has {actual}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("{path}: wrong size for its header: {expected} bytes expected, the file has {actual}")]
    WrongSize {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("{path}: image {index} is past the last image ({count} in the file)")]
    NoSuchImage {
        path: PathBuf,
        index: u64,
        count: u64,
    },
    #[error("{path}: mode {mode} images cannot be read as real numbers here")]
    UnreadableMode { path: PathBuf, mode: &'static str },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> MrcError + '_ {
    move |source| MrcError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The fields of the MRC2014 main header cryocap reads and writes.
#[derive(Debug, Clone, PartialEq)]
pub struct MrcHeader {
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub mode: Mode,
    pub mx: u32,
    pub my: u32,
    pub mz: u32,
    /// Cell dimensions in Å.
    pub cella: [f32; 3],
    pub ispg: u32,
    pub nsymbt: u32,
    pub exttyp: [u8; 4],
    pub nversion: i32,
    pub origin: [f32; 3],
    pub machst: [u8; 4],
    pub dmin: f32,
    pub dmax: f32,
    pub dmean: f32,
    pub rms: f32,
    pub labels: Vec<String>,
}

fn word_i32(b: &[u8], word: usize) -> i32 {
    let i = (word - 1) * 4;
    i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn word_f32(b: &[u8], word: usize) -> f32 {
    f32::from_bits(word_i32(b, word) as u32)
}

fn put_i32(b: &mut [u8], word: usize, v: i32) {
    let i = (word - 1) * 4;
    b[i..i + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_f32(b: &mut [u8], word: usize, v: f32) {
    put_i32(b, word, v.to_bits() as i32);
}

impl MrcHeader {
    /// A header for an image stack (ISPG 0) of `nz` images of `nx`×`ny`.
    pub fn image_stack(nx: u32, ny: u32, nz: u32, mode: Mode, pixel_size_a: f32) -> MrcHeader {
        MrcHeader {
            nx,
            ny,
            nz,
            mode,
            mx: nx,
            my: ny,
            mz: 1,
            cella: [
                nx as f32 * pixel_size_a,
                ny as f32 * pixel_size_a,
                pixel_size_a,
            ],
            ispg: 0,
            nsymbt: 0,
            exttyp: *b"\0\0\0\0",
            nversion: NVERSION,
            origin: [0.0; 3],
            machst: [0x44, 0x44, 0, 0],
            // "undetermined" statistics, as MRC2014 allows
            dmin: 0.0,
            dmax: -1.0,
            dmean: -2.0,
            rms: -1.0,
            labels: vec!["cryocap".to_string()],
        }
    }

    /// A header for a cubic volume (ISPG 1) of `n`³ float32 voxels.
    pub fn volume(n: u32, pixel_size_a: f32) -> MrcHeader {
        let mut h = MrcHeader::image_stack(n, n, n, Mode::Float32, pixel_size_a);
        h.mz = n;
        h.cella = [n as f32 * pixel_size_a; 3];
        h.ispg = 1;
        h
    }

    /// Reads the 1024 header bytes of the file at `path`.
    pub fn parse(path: &Path, b: &[u8; 1024]) -> Result<MrcHeader, MrcError> {
        let not_mrc = |reason: &str| MrcError::NotMrc {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        compressed(path, b)?;
        let map = &b[208..212];
        let machst = [b[212], b[213], b[214], b[215]];
        if map != b"MAP " {
            // Old-style files have no MAP word; accept them only when the
            // dimensions and mode are plausible.
            let plausible = (1..=1 << 20).contains(&word_i32(b, 1))
                && (1..=1 << 20).contains(&word_i32(b, 2))
                && (1..=1 << 28).contains(&word_i32(b, 3))
                && Mode::from_code(word_i32(b, 4)).is_some();
            if !plausible {
                return Err(not_mrc("no 'MAP ' identifier at byte 208"));
            }
        } else if machst[0] == 0x11 {
            return Err(MrcError::BigEndian {
                path: path.to_path_buf(),
            });
        }
        let dims = [word_i32(b, 1), word_i32(b, 2), word_i32(b, 3)];
        if dims.iter().any(|d| *d <= 0) {
            return Err(not_mrc(&format!(
                "dimensions {} x {} x {} are not positive",
                dims[0], dims[1], dims[2]
            )));
        }
        let mode_code = word_i32(b, 4);
        let mode = Mode::from_code(mode_code).ok_or_else(|| MrcError::UnknownMode {
            path: path.to_path_buf(),
            mode: mode_code,
        })?;
        let nsymbt = word_i32(b, 24);
        if nsymbt < 0 {
            return Err(MrcError::BadNsymbt {
                path: path.to_path_buf(),
                nsymbt: i64::from(nsymbt),
            });
        }
        let nlabl = word_i32(b, 56).clamp(0, 10) as usize;
        let labels = (0..nlabl)
            .map(|i| {
                let s = &b[224 + 80 * i..224 + 80 * (i + 1)];
                String::from_utf8_lossy(s)
                    .trim_end_matches(['\0', ' '])
                    .to_string()
            })
            .collect();
        Ok(MrcHeader {
            nx: dims[0] as u32,
            ny: dims[1] as u32,
            nz: dims[2] as u32,
            mode,
            mx: word_i32(b, 8).max(0) as u32,
            my: word_i32(b, 9).max(0) as u32,
            mz: word_i32(b, 10).max(0) as u32,
            cella: [word_f32(b, 11), word_f32(b, 12), word_f32(b, 13)],
            ispg: word_i32(b, 23).max(0) as u32,
            nsymbt: nsymbt as u32,
            exttyp: [b[104], b[105], b[106], b[107]],
            nversion: word_i32(b, 28),
            origin: [word_f32(b, 50), word_f32(b, 51), word_f32(b, 52)],
            machst,
            dmin: word_f32(b, 20),
            dmax: word_f32(b, 21),
            dmean: word_f32(b, 22),
            rms: word_f32(b, 55),
            labels,
        })
    }

    /// The 1024 header bytes.
    pub fn to_bytes(&self) -> [u8; 1024] {
        let mut b = [0u8; 1024];
        put_i32(&mut b, 1, self.nx as i32);
        put_i32(&mut b, 2, self.ny as i32);
        put_i32(&mut b, 3, self.nz as i32);
        put_i32(&mut b, 4, self.mode.code());
        put_i32(&mut b, 8, self.mx as i32);
        put_i32(&mut b, 9, self.my as i32);
        put_i32(&mut b, 10, self.mz as i32);
        for (i, c) in self.cella.iter().enumerate() {
            put_f32(&mut b, 11 + i, *c);
            put_f32(&mut b, 14 + i, 90.0);
        }
        put_i32(&mut b, 17, 1);
        put_i32(&mut b, 18, 2);
        put_i32(&mut b, 19, 3);
        put_f32(&mut b, 20, self.dmin);
        put_f32(&mut b, 21, self.dmax);
        put_f32(&mut b, 22, self.dmean);
        put_i32(&mut b, 23, self.ispg as i32);
        put_i32(&mut b, 24, self.nsymbt as i32);
        b[104..108].copy_from_slice(&self.exttyp);
        put_i32(&mut b, 28, self.nversion);
        for (i, o) in self.origin.iter().enumerate() {
            put_f32(&mut b, 50 + i, *o);
        }
        b[208..212].copy_from_slice(b"MAP ");
        b[212..216].copy_from_slice(&self.machst);
        put_f32(&mut b, 55, self.rms);
        let labels: Vec<&String> = self
            .labels
            .iter()
            .filter(|l| !l.trim().is_empty())
            .take(10)
            .collect();
        put_i32(&mut b, 56, labels.len() as i32);
        for (i, l) in labels.iter().enumerate() {
            let bytes = l.as_bytes();
            let n = bytes.len().min(80);
            b[224 + 80 * i..224 + 80 * i + n].copy_from_slice(&bytes[..n]);
        }
        b
    }

    /// Byte offset of the first image.
    pub fn data_offset(&self) -> u64 {
        HEADER_BYTES + u64::from(self.nsymbt)
    }

    /// Bytes of one image (one section).
    pub fn image_bytes(&self) -> u64 {
        self.mode.bytes_for(u64::from(self.nx) * u64::from(self.ny))
    }

    /// Byte offset of image `index` (0-based).
    /// Saturates at `u64::MAX` for headers no file can hold.
    pub fn image_offset(&self, index: u64) -> u64 {
        self.data_offset()
            .saturating_add(index.saturating_mul(self.image_bytes()))
    }

    /// The size the file must have.
    pub fn file_bytes(&self) -> u64 {
        self.image_offset(u64::from(self.nz))
    }

    /// Pixel size in Å along x, from the cell and the sampling.
    /// Å per pixel: the cell over the sampling. Some writers store the cell
    /// negative; its size is what is meant.
    pub fn pixel_size_a(&self) -> Option<f32> {
        let cell = self.cella[0].abs();
        (self.mx > 0 && cell.is_finite() && cell > 0.0).then(|| cell / self.mx as f32)
    }
}

/// A compressed map (.map.gz, .mrc.bz2, which mrcfile opens) is said to be
/// one, rather than "not an MRC file".
fn compressed(path: &Path, start: &[u8]) -> Result<(), MrcError> {
    for (magic, format, tool) in [
        (&b"\x1f\x8b"[..], "gzip", "gunzip"),
        (&b"BZh"[..], "bzip2", "bunzip2"),
        (&b"\xfd7zXZ\x00"[..], "xz", "unxz"),
        (&b"\x28\xb5\x2f\xfd"[..], "zstd", "unzstd"),
    ] {
        if start.starts_with(magic) {
            return Err(MrcError::Compressed {
                path: path.to_path_buf(),
                format,
                tool,
            });
        }
    }
    Ok(())
}

/// An MRC file whose header was read and whose size was checked.
#[derive(Debug, Clone)]
pub struct MrcFile {
    pub path: PathBuf,
    pub header: MrcHeader,
    pub file_bytes: u64,
}

impl MrcFile {
    /// The header and size as `stack info` reports them.
    pub fn info(&self) -> FileInfo {
        let h = &self.header;
        FileInfo {
            path: self.path.display().to_string(),
            nx: h.nx,
            ny: h.ny,
            nz: h.nz,
            mode: h.mode.code(),
            mode_name: h.mode.label().to_string(),
            ispg: h.ispg,
            nsymbt: h.nsymbt,
            nversion: h.nversion,
            machine_stamp: format!(
                "{:02x} {:02x} {:02x} {:02x}",
                h.machst[0], h.machst[1], h.machst[2], h.machst[3]
            ),
            cell_a: h.cella,
            pixel_size_a: h.pixel_size_a(),
            image_bytes: h.image_bytes(),
            file_bytes: self.file_bytes,
            labels: h.labels.clone(),
        }
    }

    /// Opens `path`, reads its header and checks the file's size against it.
    pub fn open(path: &Path) -> Result<MrcFile, MrcError> {
        let mut f = crate::files::open_input(path).map_err(|e| io_err(path)(e.into()))?;
        let actual = f.metadata().map_err(io_err(path))?.len();
        if actual < HEADER_BYTES {
            let mut start = Vec::new();
            (&mut f)
                .take(8)
                .read_to_end(&mut start)
                .map_err(io_err(path))?;
            compressed(path, &start)?;
            return Err(MrcError::NotMrc {
                path: path.to_path_buf(),
                reason: format!("{actual} bytes is shorter than the 1024-byte header"),
            });
        }
        let mut buf = [0u8; 1024];
        f.read_exact(&mut buf).map_err(io_err(path))?;
        let header = MrcHeader::parse(path, &buf)?;
        check_size(path, &header, actual)?;
        Ok(MrcFile {
            path: path.to_path_buf(),
            header,
            file_bytes: actual,
        })
    }

    /// Reads image `index` (0-based) as float32 pixels, row by row.
    pub fn read_image(&self, file: &mut File, index: u64) -> Result<Vec<f32>, MrcError> {
        let h = &self.header;
        if index >= u64::from(h.nz) {
            return Err(MrcError::NoSuchImage {
                path: self.path.clone(),
                index,
                count: u64::from(h.nz),
            });
        }
        let mut raw = vec![0u8; h.image_bytes() as usize];
        file.seek(SeekFrom::Start(h.image_offset(index)))
            .map_err(io_err(&self.path))?;
        file.read_exact(&mut raw).map_err(io_err(&self.path))?;
        decode_pixels(&raw, h.mode).ok_or_else(|| MrcError::UnreadableMode {
            path: self.path.clone(),
            mode: h.mode.label(),
        })
    }
}

/// Checks a file of `actual` bytes against what its header describes: the
/// extended header must fit, and the images must fill the file exactly.
pub fn check_size(path: &Path, header: &MrcHeader, actual: u64) -> Result<(), MrcError> {
    if header.data_offset() > actual {
        return Err(MrcError::BadNsymbt {
            path: path.to_path_buf(),
            nsymbt: i64::from(header.nsymbt),
        });
    }
    let expected = header.file_bytes();
    if actual < expected {
        return Err(MrcError::Truncated {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(MrcError::WrongSize {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(())
}

/// Decodes little-endian pixels of a real-valued mode into f32.
pub fn decode_pixels(raw: &[u8], mode: Mode) -> Option<Vec<f32>> {
    let mut out = vec![0.0; (raw.len() as u64 / mode.bytes_for(1).max(1)) as usize];
    decode_into(raw, mode, &mut out).then_some(out)
}

/// Decodes little-endian pixels of a real-valued mode into `out` (one value
/// per pixel, as many as both hold); false for a mode that holds no real
/// values.
pub fn decode_into(raw: &[u8], mode: Mode, out: &mut [f32]) -> bool {
    match mode {
        Mode::Float32 => {
            for (o, c) in out.iter_mut().zip(raw.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        Mode::Float16 => {
            for (o, c) in out.iter_mut().zip(raw.chunks_exact(2)) {
                *o = half::f16::from_le_bytes([c[0], c[1]]).to_f32();
            }
        }
        Mode::Int8 => {
            for (o, v) in out.iter_mut().zip(raw) {
                *o = f32::from(*v as i8);
            }
        }
        Mode::Int16 => {
            for (o, c) in out.iter_mut().zip(raw.chunks_exact(2)) {
                *o = f32::from(i16::from_le_bytes([c[0], c[1]]));
            }
        }
        Mode::Uint16 => {
            for (o, c) in out.iter_mut().zip(raw.chunks_exact(2)) {
                *o = f32::from(u16::from_le_bytes([c[0], c[1]]));
            }
        }
        _ => return false,
    }
    true
}

/// Encodes f32 pixels as little-endian bytes of `mode` (float32 or float16).
pub fn encode_pixels(pixels: &[f32], mode: Mode, out: &mut Vec<u8>) {
    match mode {
        Mode::Float16 => {
            for p in pixels {
                out.extend_from_slice(&half::f16::from_f32(*p).to_le_bytes());
            }
        }
        _ => {
            for p in pixels {
                out.extend_from_slice(&p.to_le_bytes());
            }
        }
    }
}

/// Writes a cubic float32 volume atomically (temporary file, then rename).
pub fn write_volume(path: &Path, data: &[f32], n: u32, pixel_size_a: f32) -> std::io::Result<()> {
    let mut header = MrcHeader::volume(n, pixel_size_a);
    let (mut min, mut max, mut sum, mut sq) = (f32::INFINITY, f32::NEG_INFINITY, 0f64, 0f64);
    for v in data {
        min = min.min(*v);
        max = max.max(*v);
        sum += f64::from(*v);
        sq += f64::from(*v) * f64::from(*v);
    }
    if !data.is_empty() {
        let mean = sum / data.len() as f64;
        header.dmin = min;
        header.dmax = max;
        header.dmean = mean as f32;
        header.rms = (sq / data.len() as f64 - mean * mean).max(0.0).sqrt() as f32;
    }
    let mut out = crate::files::AtomicFile::create(path)?;
    let mut w = std::io::BufWriter::new(out.file());
    w.write_all(&header.to_bytes())?;
    // In slices, so that a large volume is not copied whole into memory.
    let mut bytes = Vec::with_capacity(1 << 20);
    for chunk in data.chunks(1 << 18) {
        bytes.clear();
        encode_pixels(chunk, Mode::Float32, &mut bytes);
        w.write_all(&bytes)?;
    }
    w.flush()?;
    drop(w);
    out.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = MrcHeader::image_stack(64, 64, 100, Mode::Float16, 1.5);
        let b = h.to_bytes();
        let back = MrcHeader::parse(Path::new("x"), &b).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.image_bytes(), 64 * 64 * 2);
        assert_eq!(back.file_bytes(), 1024 + 100 * 64 * 64 * 2);
        assert_eq!(back.pixel_size_a(), Some(1.5));
    }

    #[test]
    fn garbage_is_not_mrc() {
        let b = [0xabu8; 1024];
        assert!(matches!(
            MrcHeader::parse(Path::new("x"), &b),
            Err(MrcError::NotMrc { .. })
        ));
    }

    #[test]
    fn unknown_mode_is_named() {
        let mut b = MrcHeader::image_stack(8, 8, 1, Mode::Float32, 1.0).to_bytes();
        put_i32(&mut b, 4, 7);
        assert!(matches!(
            MrcHeader::parse(Path::new("x"), &b),
            Err(MrcError::UnknownMode { mode: 7, .. })
        ));
    }

    #[test]
    fn pixels_round_trip_through_float16() {
        let px = [0.5f32, -1.25, 3.0];
        let mut raw = Vec::new();
        encode_pixels(&px, Mode::Float16, &mut raw);
        assert_eq!(decode_pixels(&raw, Mode::Float16).unwrap(), px);
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn written_volume_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.mrc");
        let n = 8u32;
        let data: Vec<f32> = (0..n * n * n).map(|i| i as f32 * 0.5).collect();
        write_volume(&p, &data, n, 1.2).unwrap();
        let f = MrcFile::open(&p).unwrap();
        assert_eq!(f.header.ispg, 1);
        assert_eq!(f.file_bytes, 1024 + 4 * 512);
        let mut file = File::open(&p).unwrap();
        let first = f.read_image(&mut file, 1).unwrap();
        assert_eq!(first[0], 64.0 * 0.5);
    }
}

/// The header reader on arbitrary bytes: it must answer with a header or an
/// error, never panic. Cases default to 2,000; set CRYOCAP_MRC_FUZZ_CASES
/// (e.g. 1000000) for a long run.
#[cfg(test)]
mod fuzz_tests {
    use super::*;
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("CRYOCAP_MRC_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000)
    }

    /// Random bytes, half the time on top of a valid header so the deeper
    /// checks (mode, NSYMBT, sizes) are reached too.
    fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
        let valid = MrcHeader::image_stack(64, 64, 10, Mode::Float32, 1.0).to_bytes();
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 1024),
            proptest::collection::vec((0usize..1024, any::<u8>()), 1..24).prop_map(move |edits| {
                let mut b = valid.to_vec();
                for (i, v) in edits {
                    b[i] = v;
                }
                b
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: cases(),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn any_header_bytes_give_a_header_or_an_error(bytes in header_bytes(), actual in any::<u64>()) {
            let b: [u8; 1024] = bytes.as_slice().try_into().unwrap();
            if let Ok(h) = MrcHeader::parse(Path::new("fuzz.mrc"), &b) {
                let _ = check_size(Path::new("fuzz.mrc"), &h, actual);
                let _ = check_size(Path::new("fuzz.mrc"), &h, h.file_bytes());
                prop_assert!(h.image_offset(u64::from(h.nz)) >= h.data_offset());
                let again = MrcHeader::parse(Path::new("fuzz.mrc"), &h.to_bytes());
                // Old-style files (no MAP word) may carry a big-endian stamp
                // that the rewritten MAP header then declares.
                prop_assert!(again.is_ok() || h.machst[0] == 0x11, "{:?}", again);
            }
        }
    }
}
