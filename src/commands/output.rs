//! What every command does with its result: check the output files before
//! any work starts, write each file asked for atomically, print stdout in
//! the chosen format, and store measured runs in the history.

use std::io::Write;
use std::path::Path;

use super::CommandError;
use crate::cli::{FormatArg, HistoryArg, ListFormatArg, OutputArgs, OutputFiles};
use crate::history::History;
use crate::report::writer::{self, Destination};
use crate::report::{self, Document, Format};
use crate::results::{Envelope, Kind};

pub(super) fn format(f: FormatArg) -> Format {
    match f {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Csv => Format::Csv,
        FormatArg::Html => Format::Html,
    }
}

pub(super) fn list_format(f: ListFormatArg) -> Format {
    match f {
        ListFormatArg::Table => Format::Table,
        ListFormatArg::Json => Format::Json,
        ListFormatArg::Markdown => Format::Markdown,
        ListFormatArg::Csv => Format::Csv,
        ListFormatArg::Html => Format::Html,
    }
}

/// Seconds since the Unix epoch.
pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A result of this run, made on this host, started at `started_at`.
pub(super) fn envelope(kind: Kind, started_at: u64) -> Envelope {
    Envelope::new(kind, crate::host::node_name(), started_at)
}

/// Refuses an output path that cannot be written (a directory, or one in
/// a directory that does not exist), before any work is done. `-` is
/// stdout.
pub(super) fn check_path(flag: &str, path: &Path) -> Result<(), CommandError> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    if path.is_dir() {
        return Err(CommandError::Usage(format!(
            "{flag} {}: is a directory; name a file to write",
            path.display()
        )));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(CommandError::Usage(format!(
            "{flag} {}: directory {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// The result files asked for, each with its format and flag.
fn requested(files: &OutputFiles) -> Vec<(&'static str, &Path, Format)> {
    [
        ("--json", &files.json, Format::Json),
        ("--markdown", &files.markdown, Format::Markdown),
        ("--csv", &files.csv, Format::Csv),
        ("--html", &files.html, Format::Html),
    ]
    .into_iter()
    .filter_map(|(flag, p, f)| p.as_deref().map(|p| (flag, p, f)))
    .collect()
}

/// Checks every output file of a command before it works.
pub(super) fn check_files(files: &OutputFiles) -> Result<(), CommandError> {
    for (flag, p, _) in requested(files) {
        check_path(flag, p)?;
    }
    Ok(())
}

/// Writes `result` into every file asked for, then to stdout in `format`.
pub(super) fn emit(
    result: &Envelope,
    format: FormatArg,
    files: &OutputFiles,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    for (_, path, f) in requested(files) {
        let text = report::render(result, f)?;
        writer::write(&Destination::from_path(path), text.as_bytes(), out)?;
    }
    let text = report::render(result, self::format(format))?;
    writer::write(&Destination::Stdout, text.as_bytes(), out)?;
    Ok(())
}

/// The result of this run, made on this host and started at `started`,
/// written where `output` says; returned for the history.
pub(super) fn finish(
    kind: Kind,
    started: u64,
    output: &OutputArgs,
    out: &mut dyn Write,
) -> Result<Envelope, CommandError> {
    let result = envelope(kind, started);
    emit(&result, output.format, &output.files, out)?;
    Ok(result)
}

/// A document that is not a result (catalog, history) in `format`.
pub(super) fn emit_document(
    doc: &Document,
    format: Format,
    command: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let text = report::render_document(doc, format).ok_or_else(|| {
        CommandError::Usage(format!(
            "--format {}: {command} writes table, markdown or html",
            match format {
                Format::Csv => "csv",
                _ => "json",
            }
        ))
    })?;
    writer::write(&Destination::Stdout, text.as_bytes(), out)?;
    Ok(())
}

/// Checks where the history database goes, before the measurement.
pub(super) fn check_history(history: &HistoryArg) -> Result<(), CommandError> {
    match &history.history {
        Some(p) => check_path("--history", p),
        None => Ok(()),
    }
}

/// Stores a measured run in the history database, when one is named.
pub(super) fn store(history: &HistoryArg, result: &Envelope) -> Result<(), CommandError> {
    if let Some(path) = &history.history {
        History::open_or_create(path)?.record(result, now())?;
    }
    Ok(())
}
