//! `cryocap jobs validate`: leave-one-out error of the job-time model.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::JobsValidateArgs;
use crate::datasets::Catalog;
use crate::jobtime::{calibration, observe, validate};
use crate::results::Kind;

pub(super) fn run(a: &JobsValidateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let inputs: Vec<_> = a.calibration.calibration.iter().cloned().collect();
    check_outputs(&result_files(&a.output.files), &inputs)?;
    let (obs, unusable) = observe::shipped(Catalog::get()?);
    let basis = match &a.calibration.calibration {
        Some(p) => {
            // Only checked here: leave-one-out refits on the rows themselves.
            calibration::read(p)?;
            format!(
                "the {} usable shipped rows (the calibration file's own runs are not in the table)",
                obs.len()
            )
        }
        None => crate::jobtime::shipped_basis(obs.len()),
    };
    let r = validate::report(&obs, &unusable, &basis);
    finish(Kind::JobValidate(Box::new(r)), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
