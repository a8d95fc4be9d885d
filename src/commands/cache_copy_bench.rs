//! `cryocap cache copy-bench`: cache-fill copies at several thread counts,
//! and the CRYOSPARC_CACHE_NUM_THREADS to set.

use std::io::Write;

use super::output::{check_outputs, finish_measured, measured_outputs, now, with_machine_files};
use super::{CommandError, Outcome};
use crate::cache::copy_bench::{self, CopyBenchParams};
use crate::cli::CopyBenchArgs;
use crate::progress::Progress;
use crate::results::Kind;

pub(super) fn run(a: &CopyBenchArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let from = a.from.clone().ok_or_else(|| {
        CommandError::Usage("--from: give the directory of stack files to copy".into())
    })?;
    let to = a.to.clone().ok_or_else(|| {
        CommandError::Usage("--to: give a directory on the cache SSD to copy into".into())
    })?;
    let sources: Vec<_> = std::fs::read_dir(&from)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let output = with_machine_files(&a.output, a.openmetrics.openmetrics.as_deref(), None);
    check_outputs(&measured_outputs(&output.files, &a.history), &sources)?;
    let mut threads = a.threads.clone();
    threads.sort_unstable();
    threads.dedup();
    let params = CopyBenchParams {
        from,
        to,
        threads,
        repeats: a.repeats,
        reserve: a.reserve.0,
    };
    crate::interrupt::cooperate();
    let r = copy_bench::measure(&params, &Progress::new(a.output.quiet))?;
    finish_measured(
        Kind::CacheCopyBench(r),
        started,
        &output,
        &a.history,
        Vec::new(),
        out,
    )?;
    Ok(Outcome::Ok)
}
