//! `cryocap jobs import DIR...`: RELION and CryoSPARC job directories read
//! into `job-run` results. One directory: the usual outputs. Several: one
//! result each on stdout, one after the other (JSON: one document a line),
//! each stored in the history; the result files take one directory.

use std::io::Write;

use super::output::{check_outputs, emit, envelope, finish_measured, measured_outputs, now, store};
use super::{CommandError, Outcome};
use crate::cli::{FormatArg, JobsImportArgs, OutputFiles};
use crate::metadata::jobdir;
use crate::report::writer::{self, Destination};
use crate::results::Kind;

pub(super) fn run(a: &JobsImportArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(&measured_outputs(&a.output.files, &a.history), &[])?;
    let files = &a.output.files;
    let any_file = [&files.json, &files.markdown, &files.csv, &files.html]
        .iter()
        .any(|f| f.is_some());
    if a.dirs.len() > 1 && any_file {
        return Err(CommandError::Usage(format!(
            "--json, --markdown, --csv and --html hold one result, and {} directories were \
             given: import one DIR per file, or read them all from stdout (--format json \
             prints one document a line)",
            a.dirs.len()
        )));
    }
    // Every directory is read before anything is written.
    let runs = a
        .dirs
        .iter()
        .map(|d| jobdir::read(d, &d.to_string_lossy()))
        .collect::<Result<Vec<_>, _>>()?;
    if let [run] = runs.as_slice() {
        let kind = Kind::JobRun(Box::new(run.clone()));
        finish_measured(kind, started, &a.output, &a.history, Vec::new(), out)?;
        return Ok(Outcome::Ok);
    }
    for run in runs {
        let result = envelope(Kind::JobRun(Box::new(run)), started);
        match a.output.format {
            FormatArg::Json => {
                let line = serde_json::to_string(&result)
                    .map_err(|e| CommandError::Usage(format!("cannot write JSON: {e}")))?;
                writer::write(&Destination::Stdout, format!("{line}\n").as_bytes(), out)?;
            }
            f => emit(&result, f, &OutputFiles::default(), out)?,
        }
        store(&a.history, &result)?;
    }
    Ok(Outcome::Ok)
}
