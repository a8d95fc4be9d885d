//! `cryocap compare`: a run against a baseline file or the node's recent
//! runs in the history; exit 1 on a regression.

use std::io::Write;

use super::output::{check_outputs, emit, envelope, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::CompareArgs;
use crate::history::History;
use crate::results::Kind;

pub(super) fn run(a: &CompareArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let mut inputs = a.files.clone();
    inputs.extend(a.history.iter().cloned());
    check_outputs(&result_files(&a.files_out), &inputs)?;
    let usage = |m: String| CommandError::Usage(m);
    let metrics = |r: &crate::results::Envelope| r.kind.metrics().unwrap_or_default().to_vec();
    let (baseline, current, baseline_label) = match (&a.history, a.files.as_slice()) {
        (Some(h), [current]) => {
            let last = a.last;
            let cur = crate::files::read_measured(current)?;
            let runs = History::open_existing(h)?.last(&cur.node, cur.kind.name(), last)?;
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
            (pooled, cur, label)
        }
        (Some(_), _) => {
            return Err(usage(
                "with --history give only the current results file".into(),
            ));
        }
        (None, [base, current]) => (
            metrics(&crate::files::read_measured(base)?),
            crate::files::read_measured(current)?,
            base.display().to_string(),
        ),
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
    let c = crate::compare::compare(
        &baseline,
        &metrics(&current),
        a.threshold.fraction(),
        (baseline_label, current_label),
    );
    let regressions = c.regressions();
    emit(
        &envelope(Kind::Compare(c), started),
        a.format,
        &a.files_out,
        out,
    )?;
    Ok(Outcome::failed_if(regressions > 0))
}
