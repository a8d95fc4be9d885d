//! `cryocap cache subset`: the stack files a particle list references,
//! against the subset alone, and whether either fits an SSD.

use std::io::Write;

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cache::subset;
use crate::cli::CacheSubsetArgs;
use crate::results::Kind;

pub(super) fn run(a: &CacheSubsetArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    check_outputs(
        &result_files(&a.output.files),
        std::slice::from_ref(&a.file),
    )?;
    if let Some(ssd) = a.ssd {
        crate::cache::policy::usable_capacity(
            ssd,
            a.limits.ssd_quota.map(|q| q.0),
            a.limits.ssd_reserve.0,
            0,
        )
        .map_err(CommandError::Usage)?;
    }
    let list = subset::read_list(&a.file)?;
    let data_dir = subset::data_dir(&a.file, &list, a.data_dir.as_deref())?;
    let mut r = subset::analyse(
        &a.file.display().to_string(),
        &list,
        &data_dir,
        a.particles_per_file,
    );
    if let Some(ssd) = a.ssd {
        r.ssd = Some(subset::fit(
            &r,
            ssd,
            a.limits.ssd_quota.map(|q| q.0),
            a.limits.ssd_reserve.0,
        ));
    }
    finish(Kind::CacheSubset(r), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
