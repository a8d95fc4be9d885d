//! How a RELION job ended and when it ran: the exit markers, `run.err`,
//! the iterations written, and the times of `note.txt` and the last files.

use std::path::Path;

use super::dates;
use super::relion::{Iteration, Note, TEXT_LIMIT};
use super::relion_files::Optimiser;
use crate::results::job_run::{JobRun, RunStatus};

const MARKERS: [(&str, RunStatus); 3] = [
    ("RELION_JOB_EXIT_SUCCESS", RunStatus::Finished),
    ("RELION_JOB_EXIT_FAILURE", RunStatus::Failed),
    ("RELION_JOB_EXIT_ABORTED", RunStatus::Killed),
];

/// The exit marker in the directory, if any.
fn marker(names: &[String]) -> Option<(&'static str, RunStatus)> {
    MARKERS
        .into_iter()
        .find(|(m, _)| names.iter().any(|n| n == m))
}

/// The first line of `run.err` (or `<root>.err`) that reports an error.
fn error_line(dir: &Path, names: &[String], it: Option<&Iteration>) -> Option<String> {
    let root_err = it.map(|i| format!("{}.err", i.root));
    let name = ["run.err".to_string()]
        .into_iter()
        .chain(root_err)
        .find(|n| names.contains(n))?;
    let text = crate::files::read_text(&dir.join(&name), TEXT_LIMIT).ok()?;
    let line = text.lines().find(|l| l.contains("ERROR"))?;
    let line: String = line.trim().chars().take(160).collect();
    Some(format!("{name}: {}", crate::text::printable(&line)))
}

/// How the job ended, as far as its files tell.
pub(super) fn status(
    dir: &Path,
    names: &[String],
    it: Option<&Iteration>,
    opt: &Optimiser,
    run: &mut JobRun,
) -> RunStatus {
    if let Some((_, s)) = marker(names) {
        return s;
    }
    if let Some(e) = error_line(dir, names, it) {
        run.missing.push(format!("status: no exit marker; {e}"));
        return RunStatus::Failed;
    }
    let done = match (it, opt.requested) {
        _ if opt.converged => Some("the refinement converged".to_string()),
        (Some(i), Some(n)) if n > 0 && i.number >= n => {
            Some(format!("all {n} iterations were written"))
        }
        _ => None,
    };
    match done {
        Some(why) => {
            run.missing.push(format!(
                "status: no RELION_JOB_EXIT_* marker (RELION before 3.1 wrote none); \
                 finished because {why}"
            ));
            RunStatus::Finished
        }
        // launched (a note or an iteration) but not ended; else never run
        None if names.iter().any(|n| n == "note.txt") || it.is_some() => RunStatus::Running,
        None => RunStatus::Unknown,
    }
}

/// The newest modification time among the last iteration's files.
fn last_write(dir: &Path, names: &[String], it: &Iteration) -> Option<f64> {
    let prefix = format!("{}_it{:03}_", it.root, it.number);
    names
        .iter()
        .filter(|n| n.starts_with(&prefix))
        .filter_map(|n| dates::modified(&dir.join(n)))
        .reduce(f64::max)
}

/// The start from `note.txt`'s first block: its header is local time
/// without a zone, so the zone is taken from the file's own time (written
/// with the last block), to the nearest quarter hour, when they are
/// within 14 hours of each other; else the header is read as UTC.
fn start(dir: &Path, note: &Note) -> Option<(f64, &'static str)> {
    let first = note.first?;
    let written = dates::modified(&dir.join("note.txt"));
    match (note.last, written) {
        (Some(last), Some(w)) if (last - w).abs() <= 14.0 * 3600.0 => {
            let zone = ((last - w) / 900.0).round() * 900.0;
            Some((
                first - zone,
                "note.txt's first run (zone from its file time)",
            ))
        }
        _ => Some((first, "note.txt's first run (read as UTC)")),
    }
}

/// When the job ran: from `note.txt` to its exit marker or, without one,
/// to the last iteration's files.
pub(super) fn times(
    dir: &Path,
    names: &[String],
    note: Option<&Note>,
    it: Option<&Iteration>,
    run: &mut JobRun,
) {
    let started = note.and_then(|n| start(dir, n));
    let ended = match (run.status, marker(names), it) {
        (RunStatus::Running, _, _) => None,
        (_, Some((m, _)), _) => dates::modified(&dir.join(m)).map(|t| (t, m.to_string())),
        (_, None, Some(i)) => {
            last_write(dir, names, i).map(|t| (t, format!("the files of iteration {}", i.number)))
        }
        _ => None,
    };
    if let Some(n) = note.filter(|n| n.runs > 1) {
        run.missing.push(format!(
            "wall time: note.txt records {} runs of this job (continued or overwritten); the \
             time spans the first to the end of the last",
            n.runs
        ));
    }
    run.started_at = started.map(|s| s.0);
    run.ended_at = ended.as_ref().map(|e| e.0);
    match (&started, &ended) {
        (Some((_, s)), Some((_, e))) => run.timed_by = Some(format!("{s} to {e}")),
        (None, _) => run.missing.push("start time: no dated note.txt".into()),
        (_, None) if run.status == RunStatus::Running => run
            .missing
            .push("end time: the job has not ended (no exit marker)".into()),
        (_, None) => run
            .missing
            .push("end time: no exit marker or iteration file".into()),
    }
}
