//! `cryocap qualify`: measure this node, hold it against a requirement
//! profile, and write the verdicts in every format asked for.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::{check_outputs, finish_measured, measured_outputs, now, with_machine_files};
use super::{CommandError, Outcome};
use crate::cli::QualifyArgs;
use crate::datasets::{Catalog, Profile, nearest};
use crate::progress::Progress;
use crate::qualify::{self, QualifyParams};
use crate::results::Kind;

pub(super) fn run(a: &QualifyArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let catalog = Catalog::get()?;
    let boxes = crate::cli::values::distinct(a.boxes.iter().map(|b| b.0));
    let params = QualifyParams {
        profile: profile(&a.profile, catalog)?,
        project_dir: a
            .dir
            .as_deref()
            .map(|d| existing_dir("--dir", d))
            .transpose()?,
        ssd_dir: a
            .ssd_dir
            .as_deref()
            .map(|d| existing_dir("--ssd-dir", d))
            .transpose()?,
        boxes,
        quick: a.quick,
        repeats: a.repeats,
        gpus: a.gpus,
        deployment: a.master.as_ref().map(|m| qualify::deployment::Master {
            host: m.host.clone(),
            base: m.base,
        }),
        deployment_checks: a.deployment,
        ssh: ssh_workers(a)?,
        shared_token: a.shared_token.clone(),
        ssd_quota: a.ssd_quota.map(|q| q.0),
        ssd_reserve: a.ssd_reserve.map(|r| r.0),
    };
    let profile_file: Vec<PathBuf> = [PathBuf::from(&a.profile)]
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    let output = with_machine_files(
        &a.output,
        a.openmetrics.openmetrics.as_deref(),
        a.junit.junit.as_deref(),
    );
    check_outputs(&measured_outputs(&output.files, &a.history), &profile_file)?;
    if !a.output.quiet {
        eprintln!("{}", qualify::expected_duration(&params));
    }
    crate::interrupt::cooperate();
    let report = qualify::run(&params, catalog, &Progress::new(a.output.quiet));
    if crate::interrupt::requested() {
        return Err(CommandError::Interrupted("qualify"));
    }
    let failed = report.failed();
    finish_measured(
        Kind::Qualify(report),
        started,
        &output,
        &a.history,
        Vec::new(),
        out,
    )?;
    Ok(Outcome::failed_if(failed))
}

/// `--profile`: a shipped profile's id, or a TOML file of the same form.
fn profile(text: &str, catalog: &Catalog) -> Result<Profile, CommandError> {
    let bad = |m: String| CommandError::Usage(format!("--profile: {m}"));
    if let Some(p) = catalog.profile(text) {
        return Ok(p.clone());
    }
    let path = PathBuf::from(text);
    if text.ends_with(".toml") || path.exists() {
        let body = crate::files::read_text(&path, crate::files::PROFILE_LIMIT)
            .map_err(|e| bad(format!("cannot read {text}: {}", e.reason())))?;
        let form = "see datasets/profiles/ for the form";
        let profile = Profile::from_toml(&body).map_err(|e| {
            // toml's own text spans lines (a caret under the spot): the
            // line number and the reason say the same in one
            let line = e
                .span()
                .map(|at| {
                    format!(
                        "line {}: ",
                        body[..at.start.min(body.len())].matches('\n').count() + 1
                    )
                })
                .unwrap_or_default();
            bad(format!(
                "{text} is not a requirement profile: {line}{} ({form})",
                e.message().trim()
            ))
        })?;
        profile
            .validate()
            .map_err(|e| bad(format!("{text}: {e} ({form})")))?;
        return Ok(profile);
    }
    let near = nearest(text, catalog.profiles.iter().map(|p| p.id.as_str()), 2);
    Err(bad(format!(
        "unknown profile '{text}'; shipped profiles: {}, or give a .toml file",
        near.join(", ")
    )))
}

fn existing_dir(flag: &str, p: &Path) -> Result<PathBuf, CommandError> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(p.to_path_buf()),
        Ok(_) => Err(CommandError::Usage(format!(
            "{flag}: {} is not a directory",
            p.display()
        ))),
        Err(e) => Err(CommandError::Usage(format!("{flag}: {}: {e}", p.display()))),
    }
}

/// `--workers` expanded (Slurm host-list syntax) with `--ssh-config`.
fn ssh_workers(a: &QualifyArgs) -> Result<Option<qualify::deployment::SshWorkers>, CommandError> {
    let Some(list) = &a.workers else {
        return Ok(None);
    };
    let hosts = crate::fleet::hostlist::expand(list)
        .map_err(|e| CommandError::Usage(format!("--workers: {e}")))?;
    if let Some(c) = &a.ssh_config {
        crate::files::check_input(c).map_err(|e| {
            CommandError::Usage(format!("--ssh-config {}: {}", c.display(), e.reason()))
        })?;
    }
    Ok(Some(qualify::deployment::SshWorkers {
        hosts,
        config: a.ssh_config.clone(),
        timeout: qualify::deployment::SSH_TIMEOUT,
    }))
}
