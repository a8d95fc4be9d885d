//! A RELION job directory: `note.txt` (the command and when it was run),
//! the last iteration's `*_itNNN_optimiser.star`, `_model.star` and
//! `_data.star`, the exit markers, and the program's `.out`/`.err`.

use std::path::Path;

use super::JobDirError;
use super::dates;
use super::relion_files::{Optimiser, apply_command, model, optimiser, out_file, particles};
use super::relion_status::{status, times};
use crate::results::job_run::JobRun;

pub(super) const TEXT_LIMIT: u64 = 64 << 20;

/// What `note.txt` holds: one block per time the job was run.
pub(super) struct Note {
    /// The dates of the first and the last block (ctime, read as UTC).
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub runs: usize,
    /// The last block's command.
    pub command: Option<String>,
}

fn read_note(text: &str) -> Note {
    let mut note = Note {
        first: None,
        last: None,
        runs: 0,
        command: None,
    };
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(date) = line.trim().strip_prefix("++++ Executing new job on") else {
            continue;
        };
        note.runs += 1;
        let t = dates::ctime(date.trim());
        note.first = note.first.or(t);
        note.last = t;
        let mut cmd = Vec::new();
        while let Some(l) = lines.next_if(|l| !l.trim().starts_with("++++ Executing")) {
            let l = l.trim();
            if l == "++++" {
                break;
            }
            if !l.starts_with("++++") && !l.is_empty() {
                cmd.push(l);
            }
        }
        note.command = (!cmd.is_empty()).then(|| cmd.join("\n"));
    }
    note
}

/// The last iteration's files: `<root>_itNNN_*` with the largest NNN.
pub(super) struct Iteration {
    pub root: String,
    pub number: u32,
}

fn last_iteration(names: &[String]) -> Option<Iteration> {
    names
        .iter()
        .filter_map(|n| {
            let stem = n.strip_suffix("_optimiser.star")?;
            let (root, it) = stem.rsplit_once("_it")?;
            let number = it.parse().ok()?;
            Some(Iteration {
                root: root.to_string(),
                number,
            })
        })
        .max_by_key(|i| i.number)
}

impl Iteration {
    pub(super) fn file(&self, what: &str) -> String {
        format!("{}_it{:03}_{what}", self.root, self.number)
    }
}

/// `note.txt`, or why there is none in `missing`.
fn load_note(dir: &Path, present: bool, run: &mut JobRun) -> Option<Note> {
    if !present {
        run.missing.push(
            "note.txt: not in the directory (RELION before 2.0 wrote none): no start time; \
             the command is the optimiser file's"
                .into(),
        );
        return None;
    }
    match crate::files::read_text(&dir.join("note.txt"), TEXT_LIMIT) {
        Ok(t) => Some(read_note(&t)),
        Err(e) => {
            run.missing.push(format!("note.txt: {}", e.reason()));
            None
        }
    }
}

/// Reads the job in `dir`, whose file names are `names`.
pub(super) fn read(dir: &Path, names: &[String]) -> Result<JobRun, JobDirError> {
    let has = |n: &str| names.iter().any(|x| x == n);
    let mut run = JobRun::new("relion-dir", "relion");
    let note = load_note(dir, has("note.txt"), &mut run);
    let iteration = last_iteration(names);
    let opt = match &iteration {
        Some(it) => optimiser(dir, it, &mut run),
        None => Optimiser::default(),
    };
    match note.as_ref().and_then(|n| n.command.clone()) {
        Some(c) => apply_command(&mut run, Some(c), false),
        None => apply_command(&mut run, opt.command.clone(), true),
    }
    if run.job.is_none() && has("job.star") {
        job_star(dir, &mut run);
    }
    match &iteration {
        Some(it) => {
            model(dir, it, &mut run);
            particles(dir, it, &mut run);
        }
        None => run.missing.push(
            "iterations, image size, particles: no *_itNNN_optimiser.star (no iteration \
             written yet, or not a refinement job)"
                .into(),
        ),
    }
    out_file(dir, names, iteration.as_ref(), &mut run);
    run.status = status(dir, names, iteration.as_ref(), &opt, &mut run);
    times(dir, names, note.as_ref(), iteration.as_ref(), &mut run);
    Ok(run)
}

/// The job type from `job.star` (`relion.class3d`, `relion.motioncorr.own`)
/// when no command names it: a job scheduled but never run.
fn job_star(dir: &Path, run: &mut JobRun) {
    let label = crate::metadata::star::StarFile::read(&dir.join("job.star"))
        .ok()
        .and_then(|f| {
            f.block("job")
                .and_then(|b| b.value("rlnJobTypeLabel"))
                .map(str::to_string)
        });
    let Some(label) = label else {
        return run
            .missing
            .push("job.star: no _rlnJobTypeLabel in its data_job block".into());
    };
    let kind = label.split('.').nth(1).unwrap_or(&label).to_lowercase();
    run.job = Some(format!("relion-{kind}"));
    run.job_label = Some(label);
}
