//! `cryocap fleet report`: merge the per-node results of a shared directory.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files, with_machine_files};
use super::{CommandError, Outcome};
use crate::cli::FleetReportArgs;
use crate::results::Kind;

pub(super) fn run(a: &FleetReportArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    match std::fs::metadata(&a.dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(CommandError::Usage(format!(
                "SHARED_DIR: {} is not a directory",
                a.dir.display()
            )));
        }
        Err(e) => {
            return Err(CommandError::Usage(format!(
                "SHARED_DIR: {}: {e}",
                a.dir.display()
            )));
        }
    }
    let node_files: Vec<_> = std::fs::read_dir(&a.dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let output = with_machine_files(&a.output, None, a.junit.junit.as_deref());
    check_outputs(&result_files(&output.files), &node_files)?;
    let report = crate::fleet::report::build(&a.dir, a.margin.fraction())
        .map_err(crate::fleet::FleetError::from)?;
    let failed = report.failed();
    finish(Kind::Fleet(report), started, &output, out)?;
    Ok(Outcome::failed_if(failed))
}
