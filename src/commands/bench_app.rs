//! `cryocap bench app -- COMMAND ARGS...`: runs a real program under the
//! monitor, writes a `job-run` result, and exits with the program's status
//! (128 + the signal where a signal ended it).

use std::io::Write;

use super::output::{check_outputs, finish_measured, measured_outputs, now, with_machine_files};
use super::{CommandError, Outcome};
use crate::cli::BenchAppArgs;
use crate::host::monitor::{self, AppRun};
use crate::results::Kind;

pub(super) fn run(a: &BenchAppArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let output = with_machine_files(&a.output, a.openmetrics.openmetrics.as_deref(), None);
    // before the program runs: a bad output path costs nothing yet
    check_outputs(&measured_outputs(&output.files, &a.history), &[])?;
    let app = AppRun {
        argv: a.command.clone(),
        interval: a.interval,
        software: a.software.clone(),
        job: a.job.clone(),
    };
    let mut run = monitor::run(&app, &|why| eprintln!("cryocap: {why}"))
        .map_err(|e| CommandError::Usage(format!("bench app: {e}")))?;
    if let Some(dir) = &a.import {
        // The program has run: a directory that cannot be read is noted, not fatal.
        match crate::metadata::jobdir::read(dir, &dir.to_string_lossy()) {
            Ok(d) => run.attach(d),
            Err(e) => {
                eprintln!("cryocap: --import: {e}");
                run.missing.push(format!("--import: {e}"));
            }
        }
    }
    let status = run
        .monitor
        .as_ref()
        .map_or(2, |m| match (m.exit_code, m.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 2,
        });
    finish_measured(
        Kind::JobRun(Box::new(run)),
        started,
        &output,
        &a.history,
        Vec::new(),
        out,
    )?;
    Ok(Outcome::Status(u8::try_from(status).unwrap_or(2)))
}
