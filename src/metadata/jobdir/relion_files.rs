//! The files of a RELION job directory besides `note.txt`, each read into
//! the result or named in its `missing`.

use std::io::Read;
use std::path::Path;

use super::relion::{Iteration, TEXT_LIMIT};
use super::relion_command;
use crate::metadata::star::{self, StarFile};
use crate::results::job_run::JobRun;

/// What the last optimiser file says.
#[derive(Debug, Default)]
pub(super) struct Optimiser {
    /// Its header's command line (flags only: the program is not recorded).
    pub command: Option<String>,
    pub requested: Option<u32>,
    pub converged: bool,
}

fn num<T: std::str::FromStr>(v: Option<&str>) -> Option<T> {
    v.and_then(|v| v.trim().parse().ok())
}

/// Reads `<root>_itNNN_optimiser.star`: iterations, version, command.
pub(super) fn optimiser(dir: &Path, it: &Iteration, run: &mut JobRun) -> Optimiser {
    let name = it.file("optimiser.star");
    let path = dir.join(&name);
    let text = match crate::files::read_text(&path, TEXT_LIMIT) {
        Ok(t) => t,
        Err(e) => {
            run.missing.push(format!("{name}: {}", e.reason()));
            return Optimiser::default();
        }
    };
    let mut out = Optimiser::default();
    for line in text.lines().take(4) {
        if let Some(v) = line.split_once("; version ").map(|(_, v)| v.trim()) {
            run.version = Some(v.to_string());
        } else if let Some(c) = line.strip_prefix("# --") {
            out.command = Some(format!("--{}", c.trim()));
        }
    }
    match star::parse(&path, &text) {
        Ok(f) => {
            let b = f.block("optimiser_general");
            let v = |k| b.and_then(|b| b.value(k));
            run.shape.iterations = num(v("rlnCurrentIteration")).or(Some(it.number));
            out.requested = num(v("rlnNumberOfIterations"));
            out.converged = num::<u32>(v("rlnHasConverged")) == Some(1);
        }
        Err(e) => {
            run.shape.iterations = Some(it.number);
            run.missing.push(format!("{name}: {e}"));
        }
    }
    out
}

/// Takes the job's name, shape and layout from its command line
/// (`from_header`: the optimiser file's flags, which name no program).
pub(super) fn apply_command(run: &mut JobRun, command: Option<String>, from_header: bool) {
    let Some(command) = command else {
        run.missing.push(
            "command: neither note.txt nor an optimiser file records it: job type and layout \
             unknown"
                .into(),
        );
        return;
    };
    let parsed = match from_header {
        true => relion_command::parse(&format!("relion_refine {command}")).map(|mut c| {
            c.layout.ranks = None;
            c
        }),
        false => relion_command::parse(&command),
    };
    run.command = Some(command.clone());
    let Some(c) = parsed else {
        let head: String = command.chars().take(80).collect();
        run.missing
            .push(format!("command: '{head}' runs no relion_ program"));
        return;
    };
    run.job = c.job;
    run.job_label = c.label;
    let iterations = run.shape.iterations;
    run.shape = c.shape;
    run.shape.iterations = iterations;
    run.layout = c.layout;
    if c.gpus_unnumbered {
        run.missing.push(
            "GPUs: --gpu names no devices (RELION then uses all it sees): how many is unknown"
                .into(),
        );
    }
}

/// Reads the last iteration's model: box, image size, resolution, classes.
pub(super) fn model(dir: &Path, it: &Iteration, run: &mut JobRun) {
    let name = [it.file("model.star"), it.file("half1_model.star")]
        .into_iter()
        .find(|n| dir.join(n).is_file());
    let Some(name) = name else {
        run.missing.push(format!(
            "box, image size, resolution: no {} in the directory",
            it.file("model.star")
        ));
        return;
    };
    let f = match StarFile::read(&dir.join(&name)) {
        Ok(f) => f,
        Err(e) => return run.missing.push(format!("{name}: {e}")),
    };
    let Some(b) = f.block("model_general") else {
        return run
            .missing
            .push(format!("{name}: no data_model_general block"));
    };
    let s = &mut run.shape;
    s.box_size = num(b.value("rlnOriginalImageSize"));
    s.image_size = num(b.value("rlnCurrentImageSize"));
    s.resolution_a = num(b.value("rlnCurrentResolution"));
    s.classes = num(b.value("rlnNrClasses")).or(s.classes);
    s.pixel_a = num(b.value("rlnPixelSize")).or(s.pixel_a);
}

/// Counts the particles of the last iteration's data file, streaming.
pub(super) fn particles(dir: &Path, it: &Iteration, run: &mut JobRun) {
    let name = it.file("data.star");
    let path = dir.join(&name);
    if !path.is_file() {
        return run
            .missing
            .push(format!("particles: no {name} in the directory"));
    }
    match star::count_rows(&path, "rlnImageName") {
        Ok(n) => run.shape.particles = Some(n),
        Err(e) => run.missing.push(format!("particles: {e}")),
    }
}

/// The first MiB of a text file (a `.out` holds megabytes of progress).
fn head(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    let f = crate::files::open_input(path).ok()?;
    f.take(1 << 20).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `run.out` (or `<root>.out`): RELION's version and the MPI setup it
/// prints, for the ranks, threads and host when the command did not say; then names what is
/// still unknown of the layout.
pub(super) fn out_file(dir: &Path, names: &[String], it: Option<&Iteration>, run: &mut JobRun) {
    let root_out = it.map(|i| format!("{}.out", i.root));
    let out = ["run.out".to_string()]
        .into_iter()
        .chain(root_out)
        .find(|n| names.contains(n))
        .and_then(|n| head(&dir.join(n)));
    for line in out.as_deref().unwrap_or("").lines().take(200) {
        if let Some(v) = line.trim().strip_prefix("RELION version:") {
            run.version.get_or_insert_with(|| v.trim().to_string());
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key.ends_with("Number of MPI processes") {
            run.layout.ranks = run.layout.ranks.or(value.parse().ok());
        } else if key.ends_with("Number of threads per MPI process") {
            run.layout.threads = run.layout.threads.or(value.parse().ok());
        } else if key.contains("(0) runs on host") {
            run.layout.host = Some(value.to_string());
        }
    }
    if run.layout.ranks.is_none() {
        run.missing.push(
            "MPI ranks: the command shows no launcher (mpirun -n) and no run.out says".into(),
        );
    }
}
