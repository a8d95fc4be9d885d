//! Writes particle stacks: real MRC2014 image stacks (mode 2 or 12, ISPG 0)
//! filled with seeded uniform noise in [-1, 1), so that files compress and
//! deduplicate like real particles do (not at all) and are never sparse.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::mrc::{HEADER_BYTES, Mode, MrcHeader};
use super::space::{self, Reserve};
use crate::files::{AtomicFile, FileError};
use crate::interrupt;

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSpec {
    pub particles: u64,
    pub box_size: u32,
    /// Float32 (mode 2) or Float16 (mode 12).
    pub mode: Mode,
    pub per_file: u64,
    pub pixel_size_a: f32,
    /// Extended header bytes per file (zero-filled).
    pub nsymbt: u32,
    pub seed: u64,
}

/// One file of the set: its name and how many particles it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub name: String,
    pub particles: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("--dir {0}: the directory does not exist; create it first")]
    NoDir(PathBuf),
    #[error("--dir {0}: not a directory")]
    NotDir(PathBuf),
    #[error("--dir {path}: cannot write there: {source}")]
    Unwritable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--dir {path}: not enough space: {detail}")]
    NoSpace { path: PathBuf, detail: String },
    #[error("{0}: already exists; cryocap does not overwrite files, choose another --dir")]
    Exists(PathBuf),
    #[error("{path}: write failed: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("interrupted; the {0} file(s) written so far were deleted")]
    Interrupted(usize),
}

/// File names and particle counts, in order: `stack_00001.mrcs`, ...
pub fn plan_files(spec: &StackSpec) -> Vec<PlannedFile> {
    let per = spec.per_file.max(1);
    let n = spec.particles.div_ceil(per);
    (0..n)
        .map(|i| PlannedFile {
            name: format!("stack_{:05}.mrcs", i + 1),
            particles: per.min(spec.particles - i * per),
        })
        .collect()
}

pub fn header_for(spec: &StackSpec, particles: u64) -> MrcHeader {
    let mut h = MrcHeader::image_stack(
        spec.box_size,
        spec.box_size,
        particles as u32,
        spec.mode,
        spec.pixel_size_a,
    );
    h.nsymbt = spec.nsymbt;
    if spec.nsymbt > 0 {
        // MRC2014 asks for a known EXTTYP when there is an extended header;
        // "MRCO" (MRC-format extended header) is the neutral one.
        h.exttyp = *b"MRCO";
    }
    h.labels = vec![format!(
        "cryocap stack create: seeded noise, seed {}",
        spec.seed
    )];
    h
}

/// Bytes the whole set takes on disk.
pub fn total_bytes(spec: &StackSpec) -> u64 {
    let per = spec.per_file.max(1);
    let (full, rest) = (spec.particles / per, spec.particles % per);
    let file = |n: u64| header_for(spec, n).file_bytes();
    let mut total = full.saturating_mul(file(per));
    if rest > 0 {
        total = total.saturating_add(file(rest));
    }
    total
}

/// Fills `out` with noise pixels encoded in `mode`.
pub fn fill_noise(rng: &mut StdRng, mode: Mode, out: &mut [u8]) {
    const SCALE: f32 = 1.0 / (1u32 << 23) as f32;
    let sample = |r: &mut StdRng| (r.next_u32() >> 8) as f32 * SCALE - 1.0;
    match mode {
        Mode::Float16 => {
            for c in out.chunks_exact_mut(2) {
                c.copy_from_slice(&half::f16::from_f32(sample(rng)).to_le_bytes());
            }
        }
        _ => {
            for c in out.chunks_exact_mut(4) {
                c.copy_from_slice(&sample(rng).to_le_bytes());
            }
        }
    }
}

/// Checks that `dir` exists, is a writable directory, and keeps the reserve
/// free after `bytes` are written.
pub fn check_target(dir: &Path, bytes: u64, reserve: Reserve) -> Result<(), StackError> {
    let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StackError::NoDir(dir.to_path_buf()),
        _ => StackError::Unwritable {
            path: dir.to_path_buf(),
            source: e,
        },
    })?;
    if !meta.is_dir() {
        return Err(StackError::NotDir(dir.to_path_buf()));
    }
    rustix::fs::access(
        dir,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .map_err(|e| StackError::Unwritable {
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    let space = space::fs_space(dir).map_err(|e| StackError::Unwritable {
        path: dir.to_path_buf(),
        source: e,
    })?;
    if let Some(short) = space::shortfall(space, bytes, reserve) {
        use crate::units::bytes_decimal;
        return Err(StackError::NoSpace {
            path: dir.to_path_buf(),
            detail: format!(
                "the stack needs {} and {} must stay free ({}), but only {} is available; \
                 free {} or lower --reserve",
                bytes_decimal(bytes),
                bytes_decimal(reserve.bytes(space.total)),
                reserve.describe(),
                bytes_decimal(space.available),
                bytes_decimal(short)
            ),
        });
    }
    Ok(())
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// Writes the stack into `dir` (checked first with [`check_target`]); each
/// file appears atomically (temporary file, then rename). `progress` is told
/// the bytes written so far. On error or a signal every file written by
/// this call is deleted (by the signal thread on a second signal, while the
/// stack is being written).
pub fn write_stack(
    dir: &Path,
    spec: &StackSpec,
    reserve: Reserve,
    progress: &dyn Fn(u64),
) -> Result<Vec<PathBuf>, StackError> {
    check_target(dir, total_bytes(spec), reserve)?;
    let planned = plan_files(spec);
    for f in &planned {
        let p = dir.join(&f.name);
        if p.exists() {
            return Err(StackError::Exists(p));
        }
    }
    let mut written = Vec::new();
    let mut registered = Vec::new();
    let mut done = 0u64;
    for (i, f) in planned.iter().enumerate() {
        let path = dir.join(&f.name);
        match write_file(&path, spec, f.particles, i as u64, &mut done, progress) {
            Ok(()) => {
                registered.push(interrupt::scratch(&path));
                written.push(path);
            }
            Err(e) => {
                remove_all(&written);
                return Err(match e {
                    StackError::Interrupted(_) => StackError::Interrupted(written.len()),
                    other => other,
                });
            }
        }
    }
    Ok(written)
}

fn write_file(
    path: &Path,
    spec: &StackSpec,
    particles: u64,
    file_index: u64,
    done: &mut u64,
    progress: &dyn Fn(u64),
) -> Result<(), StackError> {
    let werr = |source: std::io::Error| StackError::Write {
        path: path.to_path_buf(),
        source,
    };
    let header = header_for(spec, particles);
    let mut out = AtomicFile::create(path).map_err(|e| werr(e.into()))?;
    let tmp = out.file();
    let mut head = header.to_bytes().to_vec();
    head.resize((HEADER_BYTES + u64::from(spec.nsymbt)) as usize, 0);
    tmp.write_all(&head).map_err(werr)?;
    *done += head.len() as u64;
    let image = header.image_bytes() as usize;
    let per_chunk = (8 << 20) / image.max(1);
    let per_chunk = per_chunk.max(1) as u64;
    let mut rng = StdRng::seed_from_u64(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ file_index);
    let mut buf = Vec::new();
    let mut left = particles;
    while left > 0 {
        if interrupt::requested() {
            return Err(StackError::Interrupted(0));
        }
        let n = per_chunk.min(left);
        buf.resize(n as usize * image, 0);
        fill_noise(&mut rng, spec.mode, &mut buf);
        tmp.write_all(&buf).map_err(werr)?;
        left -= n;
        *done += buf.len() as u64;
        progress(*done);
    }
    out.commit_new().map_err(|e| match e {
        FileError::Write { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            StackError::Exists(path.to_path_buf())
        }
        other => werr(other.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::mrc::MrcFile;

    fn spec(particles: u64, per_file: u64, mode: Mode) -> StackSpec {
        StackSpec {
            particles,
            box_size: 16,
            mode,
            per_file,
            pixel_size_a: 1.1,
            nsymbt: 0,
            seed: 7,
        }
    }

    #[test]
    fn files_split_the_particles() {
        let f = plan_files(&spec(25, 10, Mode::Float32));
        let counts: Vec<u64> = f.iter().map(|f| f.particles).collect();
        assert_eq!(counts, [10, 10, 5]);
        assert_eq!(f[2].name, "stack_00003.mrcs");
        assert_eq!(
            total_bytes(&spec(25, 10, Mode::Float32)),
            3 * 1024 + 25 * 16 * 16 * 4
        );
    }

    #[test]
    fn written_files_open_and_hold_noise() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(25, 10, Mode::Float16);
        let files = write_stack(dir.path(), &s, Reserve::Bytes(0), &|_| {}).unwrap();
        assert_eq!(files.len(), 3);
        let f = MrcFile::open(&files[0]).unwrap();
        assert_eq!(f.header.nz, 10);
        assert_eq!(f.header.mode, Mode::Float16);
        let mut file = std::fs::File::open(&files[0]).unwrap();
        let px = f.read_image(&mut file, 9).unwrap();
        assert!(px.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert!(px.iter().filter(|v| **v == 0.0).count() < 3);
        // Same seed, same bytes; no temporary files left.
        let again = tempfile::tempdir().unwrap();
        let files2 = write_stack(again.path(), &s, Reserve::Bytes(0), &|_| {}).unwrap();
        assert_eq!(
            std::fs::read(&files[1]).unwrap(),
            std::fs::read(&files2[1]).unwrap()
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn existing_files_are_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack_00002.mrcs"), b"mine").unwrap();
        let e = write_stack(
            dir.path(),
            &spec(25, 10, Mode::Float32),
            Reserve::Bytes(0),
            &|_| {},
        )
        .unwrap_err();
        assert!(matches!(e, StackError::Exists(_)));
        assert_eq!(
            std::fs::read(dir.path().join("stack_00002.mrcs")).unwrap(),
            b"mine"
        );
    }
}
