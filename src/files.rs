//! The files a command reads and writes, made safe for a tool run as root
//! on shared nodes.
//!
//! Inputs: only regular files are opened (a FIFO would block the open, a
//! device would never end) and what is read is bounded.
//!
//! Outputs: written atomically (a temporary file beside the target, then a
//! rename), so a reader never sees half a file and a failure loses nothing
//! that was there. A target must be absent or a regular file: cryocap never
//! writes over a device, a directory, a socket, a FIFO or a link. A new file
//! gets the umask's permissions (0666 & ~umask); a replaced file keeps its
//! mode (and, for root, its owner). The temporary file is removed if a
//! signal stops the process ([`crate::interrupt`]).

use std::fs::{File, Metadata};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::results::read::ResultsError;
use crate::results::{self, Envelope};

/// Why a file could not be read or written; every message names the path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: no such file")]
    Missing { path: PathBuf },
    #[error("{path}: is {what}, not a regular file; {why}")]
    NotRegular {
        path: PathBuf,
        what: &'static str,
        why: &'static str,
    },
    #[error("{path}: {size} bytes is more than the {limit} bytes cryocap reads from such a file")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl FileError {
    /// The message without the path, for errors that name it themselves.
    pub fn reason(&self) -> String {
        match self {
            FileError::Missing { .. } => "no such file".into(),
            FileError::NotRegular { what, why, .. } => {
                format!("is {what}, not a regular file; {why}")
            }
            FileError::TooLarge { size, limit, .. } => format!(
                "{size} bytes is more than the {limit} bytes cryocap reads from such a file"
            ),
            FileError::Read { source, .. } | FileError::Write { source, .. } => source.to_string(),
        }
    }
}

impl From<FileError> for std::io::Error {
    fn from(e: FileError) -> std::io::Error {
        let kind = match &e {
            FileError::Missing { .. } => std::io::ErrorKind::NotFound,
            FileError::Read { source, .. } | FileError::Write { source, .. } => source.kind(),
            _ => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e.reason())
    }
}

/// Most bytes read from a particle list or a job trace (STAR, .cs, CSV).
pub const LIST_LIMIT: u64 = 16 << 30;
/// Most bytes read from a results file.
pub const RESULT_LIMIT: u64 = 256 << 20;
/// Most bytes read from a requirement profile.
pub const PROFILE_LIMIT: u64 = 1 << 20;

/// The words for a file that is not a regular one.
fn kind_of(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Checks that `path` is a regular file (links followed) without opening it.
pub fn check_input(path: &Path) -> Result<Metadata, FileError> {
    let m = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => FileError::Missing {
            path: path.to_path_buf(),
        },
        _ => FileError::Read {
            path: path.to_path_buf(),
            source,
        },
    })?;
    if !m.is_file() {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
            what: kind_of(&m),
            why: "give the file itself",
        });
    }
    Ok(m)
}

/// Opens a regular file for reading (checked before the open).
pub fn open_input(path: &Path) -> Result<File, FileError> {
    check_input(path)?;
    File::open(path).map_err(|source| FileError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a regular file of at most `limit` bytes.
pub fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let size = check_input(path)?.len();
    if size > limit {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::new();
    File::open(path)
        // A file that grows while it is read is cut at the limit.
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|source| FileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a regular text file of at most `limit` bytes (invalid UTF-8 is
/// replaced, so that the parser names the line).
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    read_input(path, limit).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Reads a results file of any schema version (a regular file of at most
/// [`RESULT_LIMIT`] bytes).
pub fn read_result(path: &Path) -> Result<Envelope, ResultsError> {
    let text = read_text(path, RESULT_LIMIT).map_err(|e| ResultsError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    results::read::parse(path, &text)
}

/// Reads a results file that holds metrics (qualify, bench io, copy-bench).
pub fn read_measured(path: &Path) -> Result<Envelope, ResultsError> {
    results::read::measured(path, read_result(path)?)
}

/// Whether `a` and `b` are the same existing file (device and inode).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Checks that `path` may be written: nothing there, or a regular file (not
/// a link to one), in a directory that exists.
pub fn check_output(path: &Path) -> Result<(), FileError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => {}
        Ok(m) => {
            return Err(FileError::NotRegular {
                path: path.to_path_buf(),
                what: kind_of(&m),
                why: "cryocap writes only where nothing or a regular file is; name a file",
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(FileError::Write {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(FileError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("directory {} does not exist", dir.display()),
            ),
        });
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The process's umask, as the kernel reports it (0o022 where it does not).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// A file being written: a temporary file beside its target until
/// [`AtomicFile::commit`] renames it there.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    _scratch: crate::interrupt::Scratch,
}

impl AtomicFile {
    /// Starts writing `target` (checked with [`check_output`]).
    pub fn create(target: &Path) -> Result<AtomicFile, FileError> {
        check_output(target)?;
        let fail = |source| FileError::Write {
            path: target.to_path_buf(),
            source,
        };
        let tmp = tempfile::Builder::new()
            .prefix(".cryocap-")
            .permissions(std::fs::Permissions::from_mode(0o666 & !umask()))
            .tempfile_in(parent(target))
            .map_err(fail)?;
        let scratch = crate::interrupt::scratch(tmp.path());
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            _scratch: scratch,
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    fn fail(&self, source: std::io::Error) -> FileError {
        FileError::Write {
            path: self.target.clone(),
            source,
        }
    }

    /// Syncs the data and gives the file the mode (and owner) of what it
    /// replaces.
    fn seal(&self) -> Result<(), FileError> {
        let f = self.tmp.as_file();
        f.sync_all().map_err(|e| self.fail(e))?;
        if let Ok(old) = std::fs::symlink_metadata(&self.target)
            && old.file_type().is_file()
        {
            f.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o777))
                .map_err(|e| self.fail(e))?;
            if rustix::process::geteuid().is_root() {
                let (uid, gid) = (
                    rustix::fs::Uid::from_raw(old.uid()),
                    rustix::fs::Gid::from_raw(old.gid()),
                );
                rustix::fs::fchown(f, Some(uid), Some(gid))
                    .map_err(|e| self.fail(std::io::Error::from(e)))?;
            }
        }
        Ok(())
    }

    /// Puts the file in place of the target, replacing a regular file there
    /// (checked again just before the rename).
    pub fn commit(self) -> Result<(), FileError> {
        self.seal()?;
        check_output(&self.target)?;
        let target = self.target.clone();
        self.tmp.persist(&target).map_err(|e| FileError::Write {
            path: target,
            source: e.error,
        })?;
        Ok(())
    }

    /// Puts the file in place only if nothing is at the target yet.
    pub fn commit_new(self) -> Result<(), FileError> {
        self.seal()?;
        let target = self.target.clone();
        self.tmp
            .persist_noclobber(&target)
            .map_err(|e| FileError::Write {
                path: target,
                source: e.error,
            })?;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut f = AtomicFile::create(path)?;
    f.file().write_all(bytes).map_err(|e| f.fail(e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(write(&dir.path().join("no/such/dir/x"), b"x").is_err());
        // a directory, a link and a FIFO are refused and left as they were
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(matches!(
            write(&sub, b"x"),
            Err(FileError::NotRegular { .. })
        ));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(matches!(
            write(&link, b"x"),
            Err(FileError::NotRegular { .. })
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(matches!(
            write(&fifo, b"x"),
            Err(FileError::NotRegular { .. })
        ));
        assert!(matches!(
            read_input(&fifo, 10),
            Err(FileError::NotRegular { .. })
        ));
        // nothing is left behind
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 4, "{names:?}");
    }

    #[test]
    fn new_files_take_the_umask_and_old_files_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.mrc");
        write(&p, b"a").unwrap();
        let mode = std::fs::metadata(&p).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&p, b"b").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        assert_eq!(read_input(&p, 100).unwrap().len(), 100);
        assert!(matches!(
            read_input(&p, 99),
            Err(FileError::TooLarge { .. })
        ));
        assert!(matches!(
            read_input(Path::new("/dev/zero"), 1 << 30),
            Err(FileError::NotRegular { .. })
        ));
        assert!(same_file(&p, &dir.path().join(".").join("t.csv")));
        assert!(!same_file(&p, dir.path()));
    }
}
