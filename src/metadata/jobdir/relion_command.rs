//! A RELION command line, as `note.txt` or an optimiser file's header
//! records it: the program and its flags turned into the job's name, shape
//! and layout.

use crate::results::job_run::{JobShape, RunLayout};

/// What a command line says about a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Command {
    /// The program, e.g. `relion_refine_mpi`.
    pub program: Option<String>,
    /// The job-time model's name (`relion-class3d`).
    pub job: Option<String>,
    /// RELION's own name (`Class3D`).
    pub label: Option<String>,
    pub shape: JobShape,
    pub layout: RunLayout,
    /// `--gpu` given without device numbers: GPUs used, how many unknown.
    pub gpus_unnumbered: bool,
}

/// Splits a shell line into words: quotes group, backquotes and the word
/// `which` (RELION writes `` `which relion_refine_mpi` ``) are dropped.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '`') => {}
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out.retain(|w| w != "which");
    out
}

/// The value of `--name` (the next word unless it is another flag), and
/// whether the flag is there at all.
fn flag<'a>(args: &'a [String], name: &str) -> Option<Option<&'a str>> {
    let i = args.iter().position(|a| a == name)?;
    Some(
        args.get(i + 1)
            .filter(|v| !v.starts_with("--"))
            .map(String::as_str),
    )
}

fn number<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    flag(args, name)
        .flatten()
        .and_then(|v| v.trim().parse().ok())
}

/// Reads the first line of `text` that runs a RELION program.
pub fn parse(text: &str) -> Option<Command> {
    let line = text.lines().find(|l| l.contains("relion_"))?;
    let w = words(line);
    let at = w.iter().position(|x| base(x).starts_with("relion_"))?;
    let (launcher, args) = (&w[..at], &w[at + 1..]);
    let program = base(&w[at]).to_string();
    let mut c = Command {
        program: Some(program.clone()),
        ..Default::default()
    };
    c.layout.ranks = ranks(launcher).or_else(|| (!program.ends_with("_mpi")).then_some(1));
    c.layout.threads = number(args, "--j");
    let (gpus, unnumbered) = gpus(args);
    c.layout.gpus = gpus;
    c.gpus_unnumbered = unnumbered;
    c.layout.pool = number(args, "--pool");
    c.layout.scratch_dir = flag(args, "--scratch_dir").flatten().map(str::to_string);
    c.layout.preread_images = Some(flag(args, "--preread_images").is_some());
    c.layout.cpu_accel = Some(flag(args, "--cpu").is_some());
    c.shape.classes = number(args, "--K");
    c.shape.iterations = number(args, "--iter");
    c.shape.healpix_order = number(args, "--healpix_order");
    c.shape.symmetry = flag(args, "--sym").flatten().map(str::to_string);
    c.shape.pixel_a = number(args, "--angpix");
    let (job, label) = job_of(&program, args);
    c.job = Some(job);
    c.label = output_type(args).or(label);
    Some(c)
}

/// A path's last component.
fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// `mpirun -n N`, `mpiexec -np N`, `srun -n N`, `--np N`, `-n=N`.
fn ranks(launcher: &[String]) -> Option<u32> {
    launcher.iter().enumerate().find_map(|(i, w)| {
        let (name, inline) = match w.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (w.as_str(), None),
        };
        ["-n", "-np", "--np", "--ntasks"]
            .contains(&name)
            .then(|| inline.or(launcher.get(i + 1).map(String::as_str)))
            .flatten()
            .and_then(|v| v.parse().ok())
    })
}

/// GPUs from `--gpu`: none without the flag, the distinct device numbers
/// of `"0:1,2"`, or unknown (`true`) when it names none.
fn gpus(args: &[String]) -> (Option<u32>, bool) {
    match flag(args, "--gpu") {
        None => (Some(0), false),
        Some(ids) => {
            let mut seen: Vec<&str> = ids
                .unwrap_or("")
                .split([':', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            seen.sort_unstable();
            seen.dedup();
            match seen.len() {
                0 => (None, true),
                n => (u32::try_from(n).ok(), false),
            }
        }
    }
}

/// RELION's job type from `--o Class3D/job016/run` (the first component
/// of a `Type/jobNNN/` output).
fn output_type(args: &[String]) -> Option<String> {
    let o = flag(args, "--o").flatten()?;
    let mut parts = o.split('/');
    let (kind, job) = (parts.next()?, parts.next()?);
    (job.starts_with("job") && !kind.is_empty()).then(|| kind.to_string())
}

/// The job-time model's name and RELION's label for a program and flags.
fn job_of(program: &str, args: &[String]) -> (String, Option<String>) {
    let has = |f: &str| flag(args, f).is_some();
    let name = program.trim_end_matches("_mpi");
    let (job, label) = match name {
        "relion_refine" if has("--denovo_3dref") => ("initialmodel", "InitialModel"),
        "relion_refine" if has("--auto_refine") => ("refine3d", "Refine3D"),
        "relion_refine" if has("--multibody_masks") => ("multibody", "MultiBody"),
        "relion_refine" if has("--ref") => ("class3d", "Class3D"),
        "relion_refine" => ("class2d", "Class2D"),
        "relion_run_motioncorr" => ("motioncorr", "MotionCorr"),
        "relion_run_ctffind" => ("ctffind", "CtfFind"),
        "relion_autopick" => ("autopick", "AutoPick"),
        "relion_motion_refine" => ("polish", "Polish"),
        "relion_postprocess" => ("postprocess", "PostProcess"),
        "relion_ctf_refine" => ("ctfrefine", "CtfRefine"),
        "relion_preprocess" => ("extract", "Extract"),
        _ => {
            let other =
                output_type(args).unwrap_or_else(|| name.trim_start_matches("relion_").to_string());
            return (
                format!("relion-{}", other.to_lowercase().replace('_', "-")),
                None,
            );
        }
    };
    (format!("relion-{job}"), Some(label.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(cmd: &str) -> String {
        parse(cmd).and_then(|c| c.job).unwrap_or_default()
    }

    #[test]
    fn names_refine_jobs_by_their_flags() {
        let r = "`which relion_refine_mpi` --o X/job001/run --i p.star";
        assert_eq!(job(&format!("{r} --ref m.mrc --K 4")), "relion-class3d");
        assert_eq!(
            job(&format!("{r} --ref m.mrc --auto_refine")),
            "relion-refine3d"
        );
        assert_eq!(job(&format!("{r} --ctf --K 50 --grad")), "relion-class2d");
        assert_eq!(
            job(&format!("{r} --grad --denovo_3dref --K 1")),
            "relion-initialmodel"
        );
        assert_eq!(job("relion_run_ctffind_mpi --i a"), "relion-ctffind");
        assert_eq!(job("relion_motion_refine --i a"), "relion-polish");
        assert_eq!(
            job("relion_mask_create --o MaskCreate/job020/"),
            "relion-maskcreate"
        );
        assert_eq!(job("relion_star_handler --i a"), "relion-star-handler");
        assert_eq!(parse("echo hello"), None);
    }

    #[test]
    fn reads_the_layout() {
        let c = parse(
            "mpirun -n 5 `which relion_refine_mpi` --o Class3D/job016/run --ref r.mrc \
             --K 4 --j 6 --gpu \"4:5:6:7\" --pool 30 --preread_images --scratch_dir /ssd \
             --iter 25 --healpix_order 2 --sym C1",
        )
        .unwrap();
        assert_eq!(c.layout.ranks, Some(5));
        assert_eq!(c.layout.threads, Some(6));
        assert_eq!(c.layout.gpus, Some(4));
        assert_eq!(c.layout.pool, Some(30));
        assert_eq!(c.layout.preread_images, Some(true));
        assert_eq!(c.layout.scratch_dir.as_deref(), Some("/ssd"));
        assert_eq!(c.layout.cpu_accel, Some(false));
        assert_eq!(c.shape.classes, Some(4));
        assert_eq!(c.shape.iterations, Some(25));
        assert_eq!(c.shape.healpix_order, Some(2));
        assert_eq!(c.shape.symmetry.as_deref(), Some("C1"));
        assert_eq!(c.label.as_deref(), Some("Class3D"));
    }

    #[test]
    fn gpu_without_numbers_and_cpu_runs() {
        let c = parse("relion_refine_mpi --o a --gpu --j 2").unwrap();
        assert_eq!((c.layout.gpus, c.gpus_unnumbered), (None, true));
        assert_eq!(c.layout.ranks, None, "an MPI program without its launcher");
        let c = parse("relion_refine --o a --cpu --j 2").unwrap();
        assert_eq!((c.layout.gpus, c.layout.ranks), (Some(0), Some(1)));
        assert_eq!(c.layout.cpu_accel, Some(true));
    }
}
