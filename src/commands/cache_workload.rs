//! `cryocap cache workload`: a seeded synthetic job trace, as CSV on stdout
//! or in a file.

use std::io::Write;

use super::output::{Out, check_outputs};
use super::{CommandError, Outcome};
use crate::cache::workload::{self, WorkloadParams};
use crate::cli::CacheWorkloadArgs;
use crate::datasets::Catalog;
use crate::report::writer::{self, Destination};
use crate::units;

pub(super) fn run(a: &CacheWorkloadArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let destination = match &a.output {
        Some(p) => {
            check_outputs(&[Out::or_stdout("-o", p)], &[])?;
            Destination::from_path(p)
        }
        None => Destination::Stdout,
    };
    let params = WorkloadParams {
        projects: a.projects,
        days: a.days,
        seed: a.seed,
        particles_per_file: a.particles_per_file,
    };
    let rows = workload::generate(&params, &workload::catalog_boxes(Catalog::get()?));
    let bytes = workload::to_csv(&rows).map_err(crate::report::ReportError::from)?;
    writer::write(&destination, &bytes, out)?;
    if let Destination::File(path) = &destination {
        let (jobs, n_rows, stacks, distinct) = workload::summary(&rows);
        let line = format!(
            "wrote {}: {jobs} jobs, {} job-file rows, {} distinct stack files ({}), seed {}\n",
            path.display(),
            units::group_digits(n_rows as u64),
            units::group_digits(stacks as u64),
            units::bytes_decimal(distinct),
            a.seed
        );
        writer::write(&Destination::Stdout, line.as_bytes(), out)?;
    }
    Ok(Outcome::Ok)
}
