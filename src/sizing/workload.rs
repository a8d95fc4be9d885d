//! The datasets a facility processes in a month: a workload TOML
//! (`[[class]]` tables: name, per_month, particles, box, dtype, chain) and
//! the `job:passes` chains of `--chain`. `recommend` reads it today; the
//! facility simulator reads the same file.

use std::path::Path;

use serde::Deserialize;

use super::recommend::{DatasetClass, JobStep, default_chain};
use crate::datasets::Catalog;
use crate::results::plan::Dtype;

/// The largest workload file read (a few hundred classes fit in far less).
const WORKLOAD_LIMIT: u64 = 1 << 20;

/// The most datasets a month a class may have: the bound of `--per-month`.
pub const MAX_PER_MONTH: f64 = 1e6;

/// Why a workload or a chain cannot be read: one line naming the flag or
/// the file and class, and what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct WorkloadError(pub String);

/// One `[[class]]` of a workload file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassToml {
    name: String,
    per_month: f64,
    particles: u64,
    #[serde(rename = "box")]
    box_size: u32,
    #[serde(default)]
    dtype: Option<String>,
    #[serde(default)]
    chain: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadToml {
    class: Vec<ClassToml>,
}

/// `class2d:20,nu-refine:10` items into steps; none gives the default
/// chain. `flag` names where they came from in the error.
pub fn parse_chain(
    flag: &str,
    items: &[String],
    catalog: &Catalog,
) -> Result<Vec<JobStep>, WorkloadError> {
    let bad = |m: String| WorkloadError(m);
    if items.is_empty() {
        return Ok(default_chain());
    }
    items
        .iter()
        .map(|item| {
            let (job, passes) = item.trim().split_once(':').ok_or_else(|| {
                bad(format!("{flag}: '{item}' is not job:passes, e.g. class2d:20"))
            })?;
            if !catalog.vram_jobs.iter().any(|j| j.job == job)
                && crate::jobtime::jobs::find(job).is_none()
            {
                return Err(bad(format!(
                    "{flag}: unknown job '{job}' (see `cryocap catalog jobs`, or a job-time model job: {})",
                    crate::jobtime::jobs::names()
                )));
            }
            let passes: u32 = passes
                .parse()
                .ok()
                .filter(|p| (1..=100_000).contains(p))
                .ok_or_else(|| bad(format!("{flag}: passes of '{item}' must be 1 to 100000")))?;
            Ok(JobStep {
                job: job.to_string(),
                passes,
            })
        })
        .collect()
}

/// Reads a workload file; errors name it as `--workload PATH`.
pub fn read(path: &Path, catalog: &Catalog) -> Result<Vec<DatasetClass>, WorkloadError> {
    let shown = format!("--workload {}", path.display());
    let text = crate::files::read_text(path, WORKLOAD_LIMIT)
        .map_err(|e| WorkloadError(format!("{shown}: {}", e.reason())))?;
    parse(&text, &shown, catalog)
}

/// A workload file's text into its dataset classes; `shown` names the file
/// in errors.
pub fn parse(
    text: &str,
    shown: &str,
    catalog: &Catalog,
) -> Result<Vec<DatasetClass>, WorkloadError> {
    let w: WorkloadToml = toml::from_str(text)
        .map_err(|e| WorkloadError(format!("{shown}: {}", e.message().replace('\n', " "))))?;
    if w.class.is_empty() {
        return Err(WorkloadError(format!("{shown}: no [[class]]")));
    }
    for (i, c) in w.class.iter().enumerate() {
        if w.class[..i].iter().any(|e| e.name == c.name) {
            return Err(WorkloadError(format!(
                "{shown}: two classes are named {}; give each its own name",
                crate::text::printable(&c.name)
            )));
        }
    }
    w.class
        .into_iter()
        .map(|c| class(c, shown, catalog))
        .collect()
}

fn class(c: ClassToml, shown: &str, catalog: &Catalog) -> Result<DatasetClass, WorkloadError> {
    let flag = format!("{shown}: class {}", crate::text::printable(&c.name));
    let bad = |m: &str| WorkloadError(format!("{flag}: {m}"));
    if !(c.per_month.is_finite() && c.per_month > 0.0 && c.per_month <= MAX_PER_MONTH) {
        return Err(bad(
            "per_month must be above 0 and at most 1000000 (as --per-month)",
        ));
    }
    if c.chain.as_ref().is_some_and(|v| v.is_empty()) {
        return Err(bad(
            "chain = [] names no job; leave chain out for the default chain, or list job:passes items",
        ));
    }
    if !(1..=super::MAX_PARTICLES).contains(&c.particles) {
        return Err(bad("particles out of range"));
    }
    if !(super::MIN_BOX..=super::MAX_BOX).contains(&c.box_size) {
        return Err(bad("box out of range"));
    }
    let dtype = match c.dtype.as_deref() {
        None | Some("f32") => Dtype::F32,
        Some("f16") => Dtype::F16,
        Some(d) => return Err(bad(&format!("dtype '{d}' is not f32 or f16"))),
    };
    Ok(DatasetClass {
        chain: parse_chain(&flag, c.chain.as_deref().unwrap_or(&[]), catalog)?,
        name: c.name,
        per_month: c.per_month,
        particles: c.particles,
        box_size: c.box_size,
        dtype,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> &'static Catalog {
        Catalog::get().unwrap()
    }

    #[test]
    fn classes_read_with_their_chains_and_defaults() {
        let text = r#"
[[class]]
name = "ribosome"
per_month = 4
particles = 105247
box = 360
chain = ["class3d:25"]

[[class]]
name = "small"
per_month = 0.5
particles = 2000000
box = 256
dtype = "f16"
"#;
        let c = parse(text, "--workload w.toml", cat()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].chain.len(), 1);
        assert_eq!(c[0].passes(), 25);
        assert_eq!(c[1].dtype, Dtype::F16);
        assert_eq!(c[1].chain, default_chain());
    }

    #[test]
    fn each_fault_is_one_line_naming_the_class() {
        let one = |body: &str| {
            let t = format!("[[class]]\nname = \"a\"\n{body}");
            parse(&t, "--workload w.toml", cat()).unwrap_err().0
        };
        let e = one("per_month = 0\nparticles = 10\nbox = 64\n");
        assert!(e.contains("class a: per_month"), "{e}");
        let e = one("per_month = 1\nparticles = 10\nbox = 1\n");
        assert!(e.contains("box out of range"), "{e}");
        let e = one("per_month = 1\nparticles = 10\nbox = 64\ndtype = \"f64\"\n");
        assert!(e.contains("'f64'"), "{e}");
        let e = one("per_month = 1\nparticles = 10\nbox = 64\nchain = [\"nojob:3\"]\n");
        assert!(e.contains("unknown job 'nojob'"), "{e}");
        let e = one("per_month = 1e8\nparticles = 10\nbox = 64\n");
        assert!(e.contains("at most 1000000"), "{e}");
        let e = one("per_month = 1\nparticles = 10\nbox = 64\nchain = []\n");
        assert!(e.contains("chain = []"), "{e}");
        let twice = "[[class]]\nname = \"a\"\nper_month = 1\nparticles = 10\nbox = 64\n";
        let e = parse(&twice.repeat(2), "--workload w.toml", cat())
            .unwrap_err()
            .0;
        assert!(e.contains("two classes are named a"), "{e}");
        let e = one("per_month = 1\nparticles = 10\nbox = 64\ncolour = 3\n");
        assert!(e.contains("colour"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = parse("", "--workload w.toml", cat()).unwrap_err().0;
        assert!(e.starts_with("--workload w.toml:"), "{e}");
    }

    #[test]
    fn chains_take_job_colon_passes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let c = parse_chain("--chain", &s(&["class2d:20", "nu-refine:10"]), cat()).unwrap();
        assert_eq!(c.iter().map(|x| x.passes).sum::<u32>(), 30);
        assert!(parse_chain("--chain", &s(&["class2d"]), cat()).is_err());
        assert!(parse_chain("--chain", &s(&["class2d:0"]), cat()).is_err());
        assert!(parse_chain("--chain", &s(&["class2d:100001"]), cat()).is_err());
    }

    use proptest::prelude::*;
    proptest! {
        /// Whatever the file holds, the reader answers with classes or one line.
        #[test]
        fn any_text_is_read_or_refused_in_one_line(text in "[ -~\n\\[\\]=\"]{0,300}") {
            if let Err(e) = parse(&text, "--workload w.toml", cat()) {
                prop_assert!(!e.0.contains('\n'));
            }
        }
    }
}
