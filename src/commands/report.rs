//! `cryocap report`: a stored result, of any command and any schema
//! version, rendered again from what it stores.

use std::io::Write;

use super::output::{Out, check_outputs, format};
use super::{CommandError, Outcome};
use crate::cli::{FormatArg, ReportArgs};
use crate::report::writer::{self, Destination};

/// The format `-o`'s extension names; HTML where it names none.
fn by_extension(output: Option<&std::path::Path>) -> FormatArg {
    let ext = output
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("md" | "markdown") => FormatArg::Markdown,
        Some("csv") => FormatArg::Csv,
        Some("json") => FormatArg::Json,
        Some("txt") => FormatArg::Table,
        _ => FormatArg::Html,
    }
}

pub(super) fn run(a: &ReportArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let destination = match &a.output {
        Some(p) => {
            check_outputs(&[Out::or_stdout("-o", p)], std::slice::from_ref(&a.results))?;
            Destination::from_path(p)
        }
        None => Destination::Stdout,
    };
    let result = crate::files::read_result(&a.results)?;
    let chosen = a
        .format
        .unwrap_or_else(|| by_extension(a.output.as_deref()));
    let text = crate::report::render(&result, format(chosen))?;
    writer::write(&destination, text.as_bytes(), out)?;
    Ok(Outcome::Ok)
}
