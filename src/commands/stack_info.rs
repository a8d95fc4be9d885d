//! `cryocap stack info`: MRC headers, each file checked against its header.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::StackInfoArgs;
use crate::results::Kind;
use crate::results::stack::StackInfo;
use crate::storage::mrc::MrcFile;

pub(super) fn run(a: &StackInfoArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(&result_files(&a.output.files), &a.files)?;
    // The first file that is not a consistent MRC file is the error.
    let files = a
        .files
        .iter()
        .map(|p| MrcFile::open(p).map(|f| f.info()))
        .collect::<Result<Vec<_>, _>>()?;
    finish(
        Kind::StackInfo(StackInfo { files }),
        started,
        &a.output,
        out,
    )?;
    Ok(Outcome::Ok)
}
