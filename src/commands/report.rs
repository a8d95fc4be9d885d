//! `cryocap report`: a stored result, of any command and any schema
//! version, rendered again from what it stores.

use std::io::Write;

use super::output::{Out, check_outputs, format};
use super::{CommandError, Outcome};
use crate::cli::ReportArgs;
use crate::report::writer::{self, Destination};

pub(super) fn run(a: &ReportArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let destination = match &a.output {
        Some(p) => {
            check_outputs(&[Out::or_stdout("-o", p)], std::slice::from_ref(&a.results))?;
            Destination::from_path(p)
        }
        None => Destination::Stdout,
    };
    let result = crate::files::read_result(&a.results)?;
    let text = crate::report::render(&result, format(a.format))?;
    writer::write(&destination, text.as_bytes(), out)?;
    Ok(Outcome::Ok)
}
