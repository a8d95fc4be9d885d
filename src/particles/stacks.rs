//! The MRC stacks a particle list names: each opened and checked once
//! (square, even, one box for all, every image present), the pixel size and
//! the origins in pixels, and what to do with non-finite images.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::storage::mrc::{MrcError, MrcFile};

use super::list::{self, Particle, ParticlesError};

#[derive(Debug, thiserror::Error)]
pub enum StacksError {
    #[error(transparent)]
    Particles(#[from] ParticlesError),
    #[error(transparent)]
    Mrc(#[from] MrcError),
    #[error("{path}: images are {nx} x {ny} pixels; reconstruct needs square images")]
    NotSquare { path: PathBuf, nx: u32, ny: u32 },
    #[error("{path}: box {n} is odd; reconstruct needs an even box (as RELION does)")]
    OddBox { path: PathBuf, n: u32 },
    #[error(
        "{path}: box {got} differs from box {want} of {first}; all particles must share one box"
    )]
    BoxMismatch {
        path: PathBuf,
        got: u32,
        want: u32,
        first: PathBuf,
    },
    #[error("{star}:{line}: image {index} of {stack} does not exist (the stack holds {count})")]
    NoSuchImage {
        star: PathBuf,
        line: usize,
        index: u64,
        stack: PathBuf,
        count: u64,
    },
    #[error(
        "{star}:{line}: the origin is in Å but neither the STAR file (rlnImagePixelSize) nor the stack header gives a pixel size; give one with --angpix"
    )]
    NoPixelSize { star: PathBuf, line: usize },
    #[error(
        "{star}:{line}: {stack} is named without an image number (index@file), but it holds {count} images"
    )]
    Unnumbered {
        star: PathBuf,
        line: usize,
        stack: PathBuf,
        count: u64,
    },
    #[error(
        "{star}:{line}: image {index} of {stack} holds {bad} non-finite pixel(s) (NaN or infinity); mend the stack, or leave such images out with --non-finite skip"
    )]
    NonFinite {
        star: PathBuf,
        line: usize,
        index: u64,
        stack: PathBuf,
        bad: usize,
    },
    #[error(
        "a Fourier grid of box {n} at padding {pad} takes {bytes} bytes, which could not be allocated; use --pad 1 or a smaller box"
    )]
    Memory { n: usize, pad: usize, bytes: u64 },
}

/// What to do with an image holding NaN or infinite pixels (one such pixel
/// turns the whole volume NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFinite {
    /// Stop, naming the stack and image.
    Refuse,
    /// Leave the image out and count it.
    Skip,
}

/// Where the stacks are and what the STAR file may be overruled on.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Directory the STAR file's stack names are relative to.
    pub data_dir: Option<PathBuf>,
    /// Å per pixel, overriding the STAR file and the headers.
    pub angpix: Option<f64>,
}

/// The stacks a particle list names, opened and checked once.
#[derive(Debug)]
pub struct Stacks {
    pub files: Vec<MrcFile>,
    /// Index into `files` per particle.
    pub of_particle: Vec<usize>,
    pub box_size: usize,
    /// Pixel size in Å: from the STAR file where it gives one, else the
    /// first stack's header.
    pub pixel_size_a: Option<f64>,
    /// Per particle, the origin in pixels.
    pub origins: Vec<[f64; 2]>,
    /// What disagrees between the STAR file and the stacks (not fatal).
    pub notes: Vec<String>,
}

impl Stacks {
    /// Opens every stack named in `parts` and checks that every image exists
    /// and that all share one even, square box.
    pub fn open(
        star: &Path,
        parts: &[Particle],
        opts: &StackOptions,
    ) -> Result<Stacks, StacksError> {
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        let mut files: Vec<MrcFile> = Vec::new();
        let mut of_particle = Vec::with_capacity(parts.len());
        let mut origins = Vec::with_capacity(parts.len());
        let mut star_pixel = None;
        let mut notes = Vec::new();
        for p in parts {
            let i = match by_name.get(p.stack.as_str()) {
                Some(i) => *i,
                None => {
                    let path = list::resolve_stack(star, &p.stack, opts.data_dir.as_deref());
                    files.push(open_stack(&path, files.first())?);
                    by_name.insert(&p.stack, files.len() - 1);
                    files.len() - 1
                }
            };
            let f = &files[i];
            check_image(star, p, f)?;
            if let Some(ps) = p.pixel_size {
                star_pixel.get_or_insert(ps);
            }
            note_image_size(p, f, &mut notes);
            origins.push(origin_pixels(star, p, f, opts)?);
            of_particle.push(i);
        }
        let box_size = files.first().map_or(0, |f| f.header.nx as usize);
        let header_pixel = files
            .first()
            .and_then(|f| f.header.pixel_size_a())
            .map(f64::from);
        if let (Some(s), Some(h)) = (star_pixel, header_pixel)
            && opts.angpix.is_none()
            && (s - h).abs() > 0.01 * s
        {
            notes.push(format!(
                "the STAR file gives {s} Å per pixel but the first stack's header {h:.4} Å; the STAR file's was used (override with --angpix)"
            ));
        }
        let pixel_size_a = opts.angpix.or(star_pixel).or(header_pixel);
        Ok(Stacks {
            files,
            of_particle,
            box_size,
            pixel_size_a,
            origins,
            notes,
        })
    }
}

/// Opens the stack at `path` and checks its box: square, even, and that of
/// the `first` stack opened, if any.
fn open_stack(path: &Path, first: Option<&MrcFile>) -> Result<MrcFile, StacksError> {
    let f = MrcFile::open(path)?;
    let h = &f.header;
    if h.nx != h.ny {
        return Err(StacksError::NotSquare {
            path: f.path,
            nx: h.nx,
            ny: h.ny,
        });
    }
    if h.nx % 2 == 1 {
        return Err(StacksError::OddBox {
            path: f.path,
            n: h.nx,
        });
    }
    if let Some(first) = first
        && first.header.nx != h.nx
    {
        return Err(StacksError::BoxMismatch {
            path: f.path.clone(),
            got: h.nx,
            want: first.header.nx,
            first: first.path.clone(),
        });
    }
    Ok(f)
}

/// Checks that the image `p` names is in stack `f`, and that a name without
/// an image number names a stack of one image.
fn check_image(star: &Path, p: &Particle, f: &MrcFile) -> Result<(), StacksError> {
    if p.index >= u64::from(f.header.nz) {
        return Err(StacksError::NoSuchImage {
            star: star.to_path_buf(),
            line: p.line,
            index: p.index + 1,
            stack: f.path.clone(),
            count: u64::from(f.header.nz),
        });
    }
    if !p.numbered && f.header.nz != 1 {
        return Err(StacksError::Unnumbered {
            star: star.to_path_buf(),
            line: p.line,
            stack: f.path.clone(),
            count: u64::from(f.header.nz),
        });
    }
    Ok(())
}

/// Notes (the first three, once each) where the STAR file's box for `p`
/// differs from the images of its stack `f`.
fn note_image_size(p: &Particle, f: &MrcFile, notes: &mut Vec<String>) {
    if let Some(size) = p.image_size
        && size != f.header.nx
        && notes.len() < 3
    {
        let note = format!(
            "the STAR file gives box {size} (rlnImageSize) but {} holds {}-pixel images; the images were used as they are",
            f.path.display(),
            f.header.nx
        );
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
}

/// The origin of `p` in pixels: `--angpix` first, then the STAR file's
/// pixel size, then the header of its stack `f`.
fn origin_pixels(
    star: &Path,
    p: &Particle,
    f: &MrcFile,
    opts: &StackOptions,
) -> Result<[f64; 2], StacksError> {
    let header_pixel = f.header.pixel_size_a().map(f64::from);
    let mut p = p.clone();
    if let (Some(a), list::Origin::Angstrom(o, _)) = (opts.angpix, p.origin) {
        p.origin = list::Origin::Angstrom(o, Some(a));
    }
    p.origin_pixels(header_pixel)
        .ok_or_else(|| StacksError::NoPixelSize {
            star: star.to_path_buf(),
            line: p.line,
        })
}

/// Whether image `i` may be inserted: false to skip it, an error to refuse.
pub fn check_finite(
    img: &[f32],
    star: &Path,
    p: &Particle,
    stack: &Path,
    policy: NonFinite,
) -> Result<bool, StacksError> {
    let bad = img.iter().filter(|v| !v.is_finite()).count();
    match (bad, policy) {
        (0, _) => Ok(true),
        (_, NonFinite::Skip) => Ok(false),
        (bad, NonFinite::Refuse) => Err(StacksError::NonFinite {
            star: star.to_path_buf(),
            line: p.line,
            index: p.index + 1,
            stack: stack.to_path_buf(),
            bad,
        }),
    }
}
