//! A seeded, synthetic job trace for labs that have none.
//!
//! Assumptions (each a default, not a measurement):
//! - `projects` projects start at uniformly random times over `days` days;
//!   each processes 1 to 3 datasets one after another, 1 to 14 days apart.
//! - A dataset is an extracted particle stack: its box is drawn from the
//!   boxes of the public datasets in `datasets/empiar.csv`, its particle count
//!   log-uniformly from 300,000 to 3,000,000 (picking keeps 10–30× the
//!   particles of a final deposited stack), float32, written by extraction in
//!   files of `particles_per_file` particles sized like real MRC files
//!   (`sizing::stack`, exact model).
//! - The usual CryoSPARC chain reads the whole stack at each step (a
//!   selection still reads whole files): 2D classification, selection
//!   (reads nothing), ab-initio, homogeneous refinement, non-uniform
//!   refinement, heterogeneous refinement (3D classification), then a second
//!   2D classification; in 30% of datasets the particles are re-extracted
//!   after ab-initio (a new stack at a new box) and the refinements run on it.
//! - Compute time per step is drawn uniformly from a per-type range in hours
//!   for one million particles and scales linearly with particles (clamped to
//!   0.3–3×); a person looks at each result for an exponentially distributed
//!   0–12 h (mean 3 h) before the next step.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::datasets::Catalog;
use crate::results::plan::Dtype;
use crate::sizing::stack::{MRC_HEADER_BYTES, pixel_bytes};

/// One trace row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub job: String,
    pub start_s: f64,
    pub duration_s: f64,
    pub stack: String,
    pub bytes: u64,
}

/// The chain's steps: name, whether it reads the stack, hours per million
/// particles (low, high).
const CHAIN: [(&str, bool, f64, f64); 7] = [
    ("class2d", true, 1.0, 4.0),
    ("select2d", false, 0.05, 0.2),
    ("abinit", true, 1.0, 3.0),
    ("homo_refine", true, 1.0, 4.0),
    ("nu_refine", true, 2.0, 8.0),
    ("hetero_refine", true, 3.0, 10.0),
    ("class2d_round2", true, 0.5, 2.0),
];

struct Stack {
    files: Vec<(String, u64)>,
    particles: u64,
}

fn make_stack(project: u32, job: u32, particles: u64, box_size: u32, per_file: u64) -> Stack {
    let px = pixel_bytes(box_size, Dtype::F32);
    let n_files = particles.div_ceil(per_file);
    let files = (0..n_files)
        .map(|k| {
            let n = per_file.min(particles - k * per_file);
            (
                format!("P{project}/J{job}/extract/particles_{k:05}.mrc"),
                MRC_HEADER_BYTES + n * px,
            )
        })
        .collect();
    Stack { files, particles }
}

/// A lab to generate a trace for.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadParams {
    pub projects: u32,
    pub days: f64,
    pub seed: u64,
    pub particles_per_file: u64,
}

/// Generates the trace rows, in start order.
pub fn generate(c: &WorkloadParams, boxes: &[u32]) -> Vec<Row> {
    let mut rng = StdRng::seed_from_u64(c.seed);
    let boxes = if boxes.is_empty() {
        &[256u32][..]
    } else {
        boxes
    };
    let mut rows = Vec::new();
    let hour = 3600.0;
    for p in 1..=c.projects {
        let mut t = rng.random_range(0.0..c.days) * 86_400.0;
        let mut job_no = 0u32;
        let datasets = rng.random_range(1..=3);
        for _ in 0..datasets {
            let particles = (rng.random_range((3e5f64).ln()..(3e6f64).ln())).exp() as u64;
            let box_size = boxes[rng.random_range(0..boxes.len())];
            job_no += 1;
            t += rng.random_range(0.5..2.0) * hour; // extraction
            let mut stack = make_stack(p, job_no, particles, box_size, c.particles_per_file);
            let reextract = rng.random_bool(0.3);
            for (step, (name, reads, lo, hi)) in CHAIN.iter().enumerate() {
                if reextract && step == 3 {
                    job_no += 1;
                    let new_box = boxes[rng.random_range(0..boxes.len())];
                    t += rng.random_range(0.5..2.0) * hour;
                    stack = make_stack(p, job_no, stack.particles, new_box, c.particles_per_file);
                }
                job_no += 1;
                let scale = (stack.particles as f64 / 1e6).clamp(0.3, 3.0);
                let duration = rng.random_range(*lo..*hi) * scale * hour;
                if *reads {
                    let job = format!("P{p}-J{job_no}-{name}");
                    for (path, bytes) in &stack.files {
                        rows.push(Row {
                            job: job.clone(),
                            start_s: t.round(),
                            duration_s: duration.round(),
                            stack: path.clone(),
                            bytes: *bytes,
                        });
                    }
                }
                // the next step starts after this one and a look at it
                let look =
                    (-(1.0 - rng.random_range(0.0..1.0f64)).ln() * 3.0 * hour).min(12.0 * hour);
                t += duration + look;
            }
            t += rng.random_range(1.0..14.0) * 86_400.0;
        }
    }
    rows.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    rows
}

/// The rows as trace CSV.
pub fn to_csv(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(super::trace::COLUMNS)?;
    for r in rows {
        w.write_record([
            r.job.as_str(),
            &format!("{}", r.start_s),
            &format!("{}", r.duration_s),
            &r.stack,
            &r.bytes.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// What a trace holds: jobs, rows, distinct stack files and their bytes.
pub fn summary(rows: &[Row]) -> (usize, usize, usize, u64) {
    let mut jobs: Vec<&str> = rows.iter().map(|r| r.job.as_str()).collect();
    jobs.sort_unstable();
    jobs.dedup();
    let mut stacks: Vec<(&str, u64)> = rows.iter().map(|r| (r.stack.as_str(), r.bytes)).collect();
    stacks.sort_unstable();
    stacks.dedup();
    let distinct: u64 = stacks.iter().map(|s| s.1).sum();
    (jobs.len(), rows.len(), stacks.len(), distinct)
}

/// The distinct box sizes of the shipped public datasets.
pub fn catalog_boxes(catalog: &Catalog) -> Vec<u32> {
    let mut boxes: Vec<u32> = catalog.empiar.iter().map(|d| d.box_size).collect();
    boxes.sort_unstable();
    boxes.dedup();
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> WorkloadParams {
        WorkloadParams {
            projects: 3,
            days: 30.0,
            seed,
            particles_per_file: 1000,
        }
    }

    #[test]
    fn same_seed_same_trace_and_it_parses() {
        let a = generate(&cfg(7), &[256, 360]);
        assert_eq!(a, generate(&cfg(7), &[256, 360]));
        assert_ne!(a, generate(&cfg(8), &[256, 360]));
        let csv = to_csv(&a).unwrap();
        let t = crate::cache::trace::parse(std::path::Path::new("w.csv"), &csv).unwrap();
        assert_eq!(t.events, a.len());
        assert!(t.jobs.len() >= 3 * 6);
    }

    #[test]
    fn stack_files_are_sized_like_real_mrc_files() {
        let s = make_stack(1, 1, 2500, 256, 1000);
        assert_eq!(s.files.len(), 3);
        assert_eq!(s.files[0].1, 1024 + 1000 * 256 * 256 * 4);
        assert_eq!(s.files[2].1, 1024 + 500 * 256 * 256 * 4);
    }
}
