//! What every command does with its result: check the output files before
//! any work starts, write each file asked for atomically, print stdout in
//! the chosen format, and store measured runs in the history.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::CommandError;
use crate::cli::{CatalogFormatArg, FormatArg, HistoryArg, OutputArgs, OutputFiles};
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

pub(super) fn catalog_format(f: CatalogFormatArg) -> Format {
    match f {
        CatalogFormatArg::Table => Format::Table,
        CatalogFormatArg::Json => Format::Json,
        CatalogFormatArg::Markdown => Format::Markdown,
        CatalogFormatArg::Csv => Format::Csv,
        CatalogFormatArg::Html => Format::Html,
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

/// A file a command will write, under the flag that named it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Out<'a> {
    pub flag: &'static str,
    pub path: &'a Path,
    /// Whether `-` (stdout) may be given: where the command writes this one
    /// file and nothing else on stdout.
    pub stdout_ok: bool,
}

impl<'a> Out<'a> {
    pub(super) fn file(flag: &'static str, path: &'a Path) -> Out<'a> {
        Out {
            flag,
            path,
            stdout_ok: false,
        }
    }
    pub(super) fn or_stdout(flag: &'static str, path: &'a Path) -> Out<'a> {
        Out {
            flag,
            path,
            stdout_ok: true,
        }
    }
}

/// The result files asked for, each with its format and flag.
fn requested(files: &OutputFiles) -> Vec<(&'static str, &Path, Format)> {
    [
        ("--json", &files.json, Format::Json),
        ("--markdown", &files.markdown, Format::Markdown),
        ("--csv", &files.csv, Format::Csv),
        ("--html", &files.html, Format::Html),
        ("--openmetrics", &files.openmetrics, Format::OpenMetrics),
        ("--junit", &files.junit, Format::Junit),
    ]
    .into_iter()
    .filter_map(|(flag, p, f)| p.as_deref().map(|p| (flag, p, f)))
    .collect()
}

/// The result files of `files` as outputs to check.
pub(super) fn result_files(files: &OutputFiles) -> Vec<Out<'_>> {
    requested(files)
        .into_iter()
        .map(|(flag, path, _)| Out::file(flag, path))
        .collect()
}

/// Refuses an output that names a file the command itself writes into
/// `dir` (`is_written` says which names those are): the result would
/// replace what the command just made.
pub(super) fn check_not_written(
    outs: &[Out<'_>],
    dir: &Path,
    is_written: &dyn Fn(&str) -> bool,
) -> Result<(), CommandError> {
    let Ok(dir) = dir.canonicalize() else {
        // A directory still to be made holds no output (check_outputs
        // refuses an output in a directory that does not exist).
        return Ok(());
    };
    for o in outs.iter().filter(|o| o.path.as_os_str() != "-") {
        let parent = match o.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let (Ok(parent), Some(name)) = (parent.canonicalize(), o.path.file_name()) else {
            continue;
        };
        if parent == dir && is_written(&name.to_string_lossy()) {
            return Err(CommandError::Usage(format!(
                "{} {}: is a file this command writes into {}; name another file",
                o.flag,
                o.path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Checks every file a command will write before it does any work: each
/// is `-` where that means stdout, or a path where nothing or a regular
/// file is (never a device, a directory or a link); no two name the same
/// file; none is a file the command reads (`inputs`).
pub(super) fn check_outputs(outs: &[Out<'_>], inputs: &[PathBuf]) -> Result<(), CommandError> {
    let usage = |m: String| Err(CommandError::Usage(m));
    for (i, o) in outs.iter().enumerate() {
        let shown = o.path.display();
        if o.path.as_os_str() == "-" {
            if !o.stdout_ok {
                let or_format = match ["--json", "--markdown", "--csv", "--html"].contains(&o.flag)
                {
                    true => ", or use --format",
                    false => "",
                };
                return usage(format!(
                    "{} -: stdout carries the --format output; name a file{or_format}",
                    o.flag
                ));
            }
            continue;
        }
        crate::files::check_output(o.path)
            .map_err(|e| CommandError::Usage(format!("{} {shown}: {}", o.flag, e.reason())))?;
        if o.flag == "--history" && o.path.exists() {
            // Found unusable only after the measurement, the run would be lost.
            crate::history::History::open_existing(o.path)
                .map_err(|e| CommandError::Usage(format!("--history: {e}")))?;
        }
        for earlier in &outs[..i] {
            if earlier.path == o.path || crate::files::same_file(earlier.path, o.path) {
                return usage(format!(
                    "{} and {} both name {shown}: give each output its own file",
                    earlier.flag, o.flag
                ));
            }
        }
        if let Some(input) = inputs
            .iter()
            .find(|input| crate::files::same_file(input, o.path))
        {
            return usage(format!(
                "{} {shown}: is {}, which this command reads; name another file",
                o.flag,
                input.display()
            ));
        }
    }
    Ok(())
}

/// `output` with the files of `--openmetrics` and `--junit` added, for the
/// commands that take them.
pub(super) fn with_machine_files(
    output: &OutputArgs,
    openmetrics: Option<&Path>,
    junit: Option<&Path>,
) -> OutputArgs {
    let mut o = output.clone();
    o.files.openmetrics = openmetrics.map(Path::to_path_buf);
    o.files.junit = junit.map(Path::to_path_buf);
    o
}

/// The results files, and the history database when one is named.
pub(super) fn measured_outputs<'a>(
    files: &'a OutputFiles,
    history: &'a HistoryArg,
) -> Vec<Out<'a>> {
    let mut outs = result_files(files);
    if let Some(h) = &history.history {
        outs.push(Out::file("--history", h));
    }
    outs
}

/// Writes `result` into every file asked for, then to stdout in `format`.
pub(super) fn emit(
    result: &Envelope,
    format: FormatArg,
    files: &OutputFiles,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    // Every output is tried; one that fails does not cost the others.
    let mut lost = Vec::new();
    for (flag, path, f) in requested(files) {
        let written = report::render(result, f)
            .map_err(CommandError::from)
            .and_then(|text| {
                writer::write(&Destination::from_path(path), text.as_bytes(), out)
                    .map_err(CommandError::from)
            });
        if let Err(e) = written {
            lost.push(format!("{flag}: {e}"));
        }
    }
    let text = report::render(result, self::format(format))?;
    match writer::write(&Destination::Stdout, text.as_bytes(), out) {
        Ok(()) if lost.is_empty() => Ok(()),
        // a broken pipe alone is no failure; with lost files it is named too
        Err(e) if lost.is_empty() => Err(e.into()),
        Err(e) => {
            lost.push(format!("stdout: {e}"));
            Err(CommandError::Lost(lost.join("; ")))
        }
        Ok(()) => Err(CommandError::Lost(lost.join("; "))),
    }
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

/// [`finish`] for a run that measured: every output is tried whatever became
/// of the others (the files, stdout, then the history row), so minutes of
/// measuring are not lost to one file that could not be written. `lost`
/// holds outputs the command already failed to write (`--emit-fio`).
pub(super) fn finish_measured(
    kind: Kind,
    started: u64,
    output: &OutputArgs,
    history: &HistoryArg,
    mut lost: Vec<String>,
    out: &mut dyn Write,
) -> Result<Envelope, CommandError> {
    let result = envelope(kind, started);
    let emitted = emit(&result, output.format, &output.files, out);
    if let Err(e) = store(history, &result) {
        lost.push(format!("--history: {e}"));
    }
    match emitted {
        Ok(()) => {}
        Err(CommandError::Lost(m)) => lost.insert(0, m),
        // stdout failed (a broken pipe is no failure): said as it is
        Err(e) if lost.is_empty() => return Err(e),
        Err(e) => lost.push(format!("stdout: {e}")),
    }
    match lost.is_empty() {
        true => Ok(result),
        false => Err(CommandError::Lost(lost.join("; "))),
    }
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

/// Says on stderr which stored runs of a history could not be read (they
/// are left out; the rest is used).
pub(super) fn notice_unreadable(history: &Path, unreadable: &[String]) {
    if !unreadable.is_empty() {
        eprintln!(
            "cryocap: {}: {} stored run(s) could not be read and were left out: {}",
            history.display(),
            unreadable.len(),
            crate::text::printable(&unreadable.join("; "))
        );
    }
}

/// Stores a measured run in the history database, when one is named.
pub(super) fn store(history: &HistoryArg, result: &Envelope) -> Result<(), CommandError> {
    if let Some(path) = &history.history {
        History::open_or_create(path)?.record(result, now())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FormatArg;

    #[test]
    fn one_unwritable_output_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let history = HistoryArg {
            history: Some(dir.path().join("h.sqlite")),
        };
        let output = OutputArgs {
            format: FormatArg::Json,
            files: OutputFiles {
                json: Some(dir.path().join("gone").join("r.json")),
                csv: Some(dir.path().join("r.csv")),
                ..Default::default()
            },
            quiet: true,
        };
        let mut stdout = Vec::new();
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/results/plan.json"
        );
        let text = std::fs::read_to_string(fixture).unwrap();
        let kind = crate::results::read::parse(Path::new(fixture), &text)
            .unwrap()
            .kind;
        let earlier = vec!["--emit-fio: x".to_string()];
        let e = finish_measured(kind, 0, &output, &history, earlier, &mut stdout).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("--json") && e.contains("--emit-fio"), "{e}");
        assert!(!e.contains("--csv") && !e.contains("--history"), "{e}");
        assert!(dir.path().join("r.csv").is_file());
        assert!(!stdout.is_empty());
        let stored = crate::history::History::open_existing(&dir.path().join("h.sqlite"))
            .unwrap()
            .list()
            .unwrap();
        assert_eq!(stored.runs.len(), 1);
    }
}
