//! `cryocap calibrate`: the job-time model refitted on the shipped rows and
//! the user's own runs, written where every command that times a job reads it.

use std::io::Write;

use super::output::{Out, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::CalibrateArgs;
use crate::datasets::Catalog;
use crate::jobtime::{calibration, fit, observe, validate};
use crate::results::Kind;

pub(super) fn run(a: &CalibrateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let target = match &a.out {
        Some(p) => p.clone(),
        None if a.runs.is_empty() => {
            return Err(CommandError::Usage(
                "no runs of yours to fit: give job directories or job-run files (the model fitted to the shipped rows alone is the default already; --out FILE writes it)".into(),
            ));
        }
        None => {
            let p = calibration::default_path().ok_or_else(|| {
                CommandError::Usage(
                    "no default place for the calibration (HOME is unset): give --out FILE".into(),
                )
            })?;
            // The default place's folder is made; a folder --out names must exist.
            if let Some(dir) = p.parent().filter(|d| !d.exists()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    CommandError::Usage(format!(
                        "cannot create {} for the calibration ({e}): give --out FILE",
                        dir.display()
                    ))
                })?;
            }
            p
        }
    };
    let mut outs = result_files(&a.output.files);
    outs.push(Out::file("--out", &target));
    check_outputs(&outs, &a.runs)?;
    let catalog = Catalog::get()?;
    let (mut obs, mut unusable) = observe::shipped(catalog);
    let shipped = obs.len();
    for (i, path) in a.runs.iter().enumerate() {
        let run = if path.is_dir() {
            Box::new(crate::metadata::jobdir::read(
                path,
                &path.to_string_lossy(),
            )?)
        } else {
            let env = crate::files::read_result(path)?;
            let Kind::JobRun(run) = env.kind else {
                return Err(CommandError::Usage(format!(
                    "{}: a {} result; calibrate takes job directories and job-run results (`cryocap jobs import --json`, `cryocap bench app --json`)",
                    path.display(),
                    env.kind.name()
                )));
            };
            run
        };
        let id = format!(
            "imported-{}-{}",
            i + 1,
            crate::text::printable(&path.display().to_string())
        );
        match observe::from_run(&run, &id, catalog) {
            Ok(o) => obs.push(o),
            Err(u) => unusable.push(u),
        }
    }
    let mut basis = crate::jobtime::shipped_basis(shipped);
    if !a.runs.is_empty() {
        basis += &format!(
            " and {} of {} imported run(s)",
            obs.len() - shipped,
            a.runs.len()
        );
    }
    let model = fit::calibrate(&obs, &basis);
    let json = calibration::to_json(&model).map_err(crate::report::ReportError::from)?;
    crate::files::write(&target, json.as_bytes())
        .map_err(crate::report::writer::WriteError::from)?;
    eprintln!("cryocap calibrate: wrote {}", target.display());
    let r = validate::report_with(&model, &obs, &unusable);
    finish(Kind::JobValidate(Box::new(r)), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
