//! `cryocap probe`: the storage under a path.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::ProbeArgs;
use crate::results::Kind;

pub(super) fn run(a: &ProbeArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(
        &result_files(&a.output.files),
        std::slice::from_ref(&a.path),
    )?;
    let r = crate::storage::probe::probe(&a.path)?;
    finish(Kind::Probe(r), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
