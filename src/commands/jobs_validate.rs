//! `cryocap jobs validate`: leave-one-out error of the job-time model.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::JobsValidateArgs;
use crate::datasets::Catalog;
use crate::jobtime::{observe, validate};
use crate::results::Kind;

pub(super) fn run(a: &JobsValidateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(&result_files(&a.output.files), &[])?;
    let (obs, unusable) = observe::shipped(Catalog::get()?);
    let basis = crate::jobtime::shipped_basis(obs.len());
    let r = validate::report(&obs, &unusable, &basis);
    finish(Kind::JobValidate(Box::new(r)), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
