//! `cryocap compare`: a run against a baseline file or the node's recent
//! runs in the history; exit 1 on a regression.

use std::io::Write;
use std::path::Path;

use super::output::{check_outputs, emit, envelope, notice_unreadable, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::CompareArgs;
use crate::history::History;
use crate::results::Envelope;
use crate::results::Kind;
use crate::results::metrics::Metric;

pub(super) fn run(a: &CompareArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let mut inputs = a.files.clone();
    inputs.extend(a.history.iter().cloned());
    let mut files_out = a.files_out.clone();
    files_out.junit = a.junit.junit.clone();
    check_outputs(&result_files(&files_out), &inputs)?;
    let (baseline, current, baseline_label) = match (&a.history, a.files.as_slice()) {
        (Some(h), [current]) => against_history(h, current, a.last)?,
        (Some(_), _) => {
            return Err(usage(
                "with --history give only the current results file".into(),
            ));
        }
        (None, [base, current]) => against_file(base, current)?,
        (None, _) => {
            return Err(usage(
                "give BASELINE.json CURRENT.json, or CURRENT.json with --history FILE".into(),
            ));
        }
    };
    let current_label = a
        .files
        .last()
        .map_or(String::new(), |p| p.display().to_string());
    let current_metrics = metrics(&current);
    crate::compare::comparable(
        &baseline,
        &current_metrics,
        (&baseline_label, &current_label),
    )
    .map_err(usage)?;
    let c = crate::compare::compare(
        &baseline,
        &current_metrics,
        a.threshold.fraction(),
        (baseline_label, current_label),
    );
    if c.rows.is_empty() {
        // A gate that compares nothing must not pass.
        return Err(usage(format!(
            "{} and {} have no metric in common, so nothing was compared",
            c.baseline, c.current
        )));
    }
    let regressions = c.regressions();
    emit(
        &envelope(Kind::Compare(c), started),
        a.format,
        &files_out,
        out,
    )?;
    Ok(Outcome::failed_if(regressions > 0))
}

fn usage(m: String) -> CommandError {
    CommandError::Usage(m)
}

fn metrics(r: &Envelope) -> Vec<Metric> {
    r.kind.metrics().unwrap_or_default().to_vec()
}

/// `CURRENT.json --history FILE`: the baseline pooled from the node's last
/// `last` stored runs of the same kind, the current run, and the label.
fn against_history(
    h: &Path,
    current: &Path,
    last: usize,
) -> Result<(Vec<Metric>, Envelope, String), CommandError> {
    let cur = crate::files::read_measured(current)?;
    // The current run may be stored already: it is not part of its
    // own baseline while other runs are there.
    let stored = History::open_existing(h)?.last(&cur.node, cur.kind.name(), last + 1)?;
    notice_unreadable(h, &stored.unreadable);
    let (runs, only_itself) = crate::compare::baseline_runs(stored.runs, &cur, last);
    if only_itself {
        // a first run in CI: it passes, but not in silence
        eprintln!(
            "cryocap: {}: the only stored {} run of {} is this one; it is compared with itself until another is stored",
            h.display(),
            cur.kind.name(),
            cur.node
        );
    }
    if runs.is_empty() {
        return Err(usage(format!(
            "{}: no stored {} runs of node {} to compare with; store some with --history",
            h.display(),
            cur.kind.name(),
            cur.node
        )));
    }
    let pooled = crate::compare::pool(&runs.iter().map(metrics).collect::<Vec<_>>());
    let label = format!(
        "last {} {} runs of {} in {}",
        runs.len(),
        cur.kind.name(),
        cur.node,
        h.display()
    );
    Ok((pooled, cur, label))
}

/// `BASELINE.json CURRENT.json`: two runs of one kind.
fn against_file(
    base: &Path,
    current: &Path,
) -> Result<(Vec<Metric>, Envelope, String), CommandError> {
    let (b, c) = (
        crate::files::read_measured(base)?,
        crate::files::read_measured(current)?,
    );
    if b.kind.name() != c.kind.name() {
        return Err(usage(format!(
            "{} is a {} result and {} a {} result: compare runs of one kind",
            base.display(),
            b.kind.name(),
            current.display(),
            c.kind.name()
        )));
    }
    Ok((metrics(&b), c, base.display().to_string()))
}
