//! Where output goes: stdout, or a file written atomically where nothing
//! or a regular file is ([`crate::files`]); `-` names stdout wherever a
//! command takes an output file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A place to write one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    /// `-` is stdout; anything else a file.
    pub fn from_path(path: &Path) -> Destination {
        if path.as_os_str() == "-" {
            Destination::Stdout
        } else {
            Destination::File(path.to_path_buf())
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Stdout => write!(f, "stdout"),
            Destination::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write stdout: {0}")]
    Stdout(std::io::Error),
    #[error(transparent)]
    File(#[from] crate::files::FileError),
}

impl WriteError {
    /// The reader of stdout went away (`cryocap ... | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, WriteError::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Writes `bytes` to `destination`; `stdout` is what stdout means here.
pub fn write(
    destination: &Destination,
    bytes: &[u8],
    stdout: &mut dyn Write,
) -> Result<(), WriteError> {
    match destination {
        Destination::Stdout => stdout.write_all(bytes).map_err(WriteError::Stdout),
        Destination::File(p) => Ok(crate::files::write(p, bytes)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_is_stdout_and_files_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.txt");
        let mut out = Vec::new();
        write(
            &Destination::from_path(Path::new("-")),
            b"to stdout",
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"to stdout");
        write(&Destination::from_path(&p), b"one", &mut out).unwrap();
        write(&Destination::from_path(&p), b"two", &mut out).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let e = write(
            &Destination::File(dir.path().join("no/such/dir/r.txt")),
            b"x",
            &mut out,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("cannot write ") && !e.is_broken_pipe());
    }
}
