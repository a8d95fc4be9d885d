//! Job directories people already have, read into a `job-run` result:
//! RELION's (`note.txt`, the last iteration's optimiser, model and data
//! STAR files, the `RELION_JOB_EXIT_*` markers, `run.out`/`run.err`) and
//! CryoSPARC's (`job.json`, `events.bson` left aside). What a directory
//! does not hold is named in the result's `missing`, never guessed.

mod cryosparc;
pub mod dates;
mod relion;
pub mod relion_command;
mod relion_files;
mod relion_status;

use std::path::{Path, PathBuf};

use crate::results::job_run::JobRun;

/// Why a directory could not be read at all (a partial directory is no
/// error: what it lacks is listed in the result).
#[derive(Debug, thiserror::Error)]
pub enum JobDirError {
    #[error("{path}: cannot read the job directory: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: is not a directory; give the job's directory (e.g. Class3D/job016 or J42)")]
    NotADirectory { path: PathBuf },
    #[error(
        "{path}: holds no note.txt, job.star, *_optimiser.star (RELION) or job.json (CryoSPARC); \
         give a job's own directory"
    )]
    NotAJob { path: PathBuf },
    #[error("{path}: cannot be read as CryoSPARC's job document: {reason}")]
    JobJson { path: PathBuf, reason: String },
}

/// Which program wrote a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Software {
    Relion,
    CryoSparc,
}

/// The names in `dir` that are valid UTF-8 (others are no job file).
fn names(dir: &Path) -> Result<Vec<String>, JobDirError> {
    let unreadable = |source| JobDirError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        if let Ok(name) = entry.file_name().into_string() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Which program wrote `dir`, from the files it holds.
pub fn detect(dir: &Path) -> Result<Software, JobDirError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(JobDirError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(JobDirError::Unreadable {
                path: dir.to_path_buf(),
                source,
            });
        }
        Ok(_) => {}
    }
    let names = names(dir)?;
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("job.json") {
        Ok(Software::CryoSparc)
    } else if has("note.txt")
        || has("job.star")
        || has("job_pipeline.star")
        || names.iter().any(|n| n.ends_with("_optimiser.star"))
    {
        Ok(Software::Relion)
    } else {
        Err(JobDirError::NotAJob {
            path: dir.to_path_buf(),
        })
    }
}

/// Reads the job in `dir` (named in the result as `shown`, the way the
/// user gave it).
pub fn read(dir: &Path, shown: &str) -> Result<JobRun, JobDirError> {
    let mut run = match detect(dir)? {
        Software::Relion => relion::read(dir, &names(dir)?)?,
        Software::CryoSparc => cryosparc::read(dir)?,
    };
    run.dir = Some(shown.to_string());
    if let (Some(s), Some(e)) = (run.started_at, run.ended_at) {
        run.wall_seconds = (e >= s).then_some(e - s);
        if e < s {
            run.missing.push(format!(
                "wall time: the end ({e:.0}) is before the start ({s:.0}); the files' times \
                 were changed (copied without keeping them?)"
            ));
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests;
