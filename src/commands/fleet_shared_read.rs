//! `cryocap fleet shared-read` (hidden): one array task's barrier and shared
//! read, run by the job script of `fleet submit --shared-read`; its line
//! goes to the task's log.

use std::io::Write;

use super::{CommandError, Outcome};
use crate::cli::FleetSharedReadArgs;
use crate::fleet::shared_read::{self, TaskSpec};
use crate::report::writer::{self, Destination};
use crate::units;

pub(super) fn run(a: &FleetSharedReadArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    if a.tasks == 0 || a.task as usize >= a.tasks {
        return Err(CommandError::Usage(format!(
            "--task: task {} is not one of {} tasks",
            a.task, a.tasks
        )));
    }
    let spec = TaskSpec {
        out_dir: a.out_dir.clone(),
        dir: a.dir.clone(),
        node: a.node.clone(),
        task: a.task,
        tasks: a.tasks,
        timeout: a.timeout,
    };
    let r = shared_read::run_task(&spec).map_err(crate::fleet::FleetError::from)?;
    let secs = r.end_unix - r.start_unix;
    let line = format!(
        "fleet shared-read: {} task {}: {} from {} files in {} ({}, {}), after {} at the barrier\n",
        r.node,
        r.task,
        units::bytes_decimal(r.bytes),
        r.files,
        units::duration(secs),
        units::rate_decimal(if secs > 0.0 {
            r.bytes as f64 / secs
        } else {
            0.0
        }),
        if r.direct { "O_DIRECT" } else { "buffered" },
        units::duration(r.barrier_wait_seconds)
    );
    writer::write(&Destination::Stdout, line.as_bytes(), out)?;
    Ok(Outcome::Ok)
}
