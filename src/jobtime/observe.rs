//! Calibration rows and imported runs as observations the model is fitted
//! to: a query and the seconds it took. A row the model cannot use says
//! why, and is listed, never dropped in silence.

use super::jobs;
use super::query::{Device, JobQuery, dataset_key, symmetry_order};
use crate::datasets::{Catalog, JobTimeRow};

/// One timed run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub id: String,
    pub query: JobQuery,
    pub seconds: f64,
    /// How much the fit listens to it: published 1, derived 0.5,
    /// anecdotal 0.25, anomalous 0 (predicted and listed, never fitted);
    /// halved for a whole stage (more than the command); imported runs of
    /// the user's own hardware weigh 2.
    pub weight: f64,
    pub status: String,
    pub source: String,
}

/// A row the model cannot use, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unusable {
    pub id: String,
    pub job: String,
    pub reason: String,
}

pub fn status_weight(status: &str) -> f64 {
    match status {
        "published" => 1.0,
        "derived" => 0.5,
        "anecdotal" => 0.25,
        "imported" => 2.0,
        _ => 0.0,
    }
}

/// The iteration count a row states: a number, or the first number of
/// `1 of 25` or `1 epoch`; None for `auto` and blanks.
fn iterations(text: Option<&str>) -> Option<f64> {
    let t = text?.trim();
    let first = t.split_whitespace().next()?;
    first.parse::<f64>().ok().filter(|v| *v > 0.0)
}

fn device(row: &JobTimeRow, catalog: &Catalog) -> Result<Device, String> {
    match row.gpu.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        Some(id) => {
            let g = catalog
                .gpu(id)
                .ok_or_else(|| format!("GPU `{id}` is not in datasets/gpus.csv"))?;
            Ok(Device::Gpu {
                model: g.id.clone(),
                memory_bandwidth_gb_s: g.memory_bandwidth_gb_s,
                fp32_tflops: g.fp32_tflops,
                count: row.gpus.unwrap_or(1).max(1) * row.nodes.unwrap_or(1).max(1),
            })
        }
        None => {
            if row.gpus.unwrap_or(0) > 0 {
                return Err("the GPU model is not stated".into());
            }
            let cores = row
                .cores
                .or_else(|| Some(row.ranks? * row.threads?))
                .ok_or("a CPU run without its cores (or ranks × threads)")?;
            Ok(Device::Cpu {
                cores,
                accelerated: row.cpu_accel.unwrap_or(true),
            })
        }
    }
}

/// RELION followers per GPU of a row: ranks less the leader (one process
/// without MPI) over its GPUs.
fn followers_per_gpu(row: &JobTimeRow, job: &jobs::JobType) -> Option<f64> {
    if job.software != "relion" {
        return None;
    }
    let gpus = row.gpus.filter(|&g| g > 0)? * row.nodes.unwrap_or(1).max(1);
    let followers = row.ranks?.saturating_sub(1).max(1);
    Some(f64::from(followers) / f64::from(gpus))
}

/// The observation a shipped row makes.
pub fn from_row(row: &JobTimeRow, catalog: &Catalog) -> Result<Observation, Unusable> {
    let bad = |reason: String| Unusable {
        id: row.id.clone(),
        job: row.job.clone(),
        reason,
    };
    let job = jobs::find(&row.job)
        .ok_or_else(|| bad(format!("the model has no job type `{}`", row.job)))?;
    let particles = row
        .particles
        .filter(|&p| p > 0)
        .ok_or_else(|| bad("the particle count is not stated".into()))?;
    let box_size = row
        .box_size
        .filter(|&b| b >= 2)
        .ok_or_else(|| bad("the box size is not stated".into()))?;
    if job.takes_classes && row.classes.is_none() {
        return Err(bad("the class count is not stated".into()));
    }
    let symmetry = match row.symmetry.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(s) => symmetry_order(s).ok_or_else(|| bad(format!("unknown symmetry `{s}`")))?,
    };
    let device = device(row, catalog).map_err(bad)?;
    let per_unit = matches!(row.timed.as_str(), "per-iteration" | "per-epoch");
    let stated = iterations(row.iterations.as_deref());
    let mut weight = status_weight(&row.status);
    if row.timed == "whole-stage" || row.timed == "whole-workflow" {
        weight *= 0.5;
    }
    Ok(Observation {
        id: row.id.clone(),
        query: JobQuery {
            job,
            particles,
            box_size,
            image_size: row.image_size,
            classes: row.classes,
            iterations: if per_unit { Some(1.0) } else { stated },
            healpix_order: row.healpix_order,
            symmetry_order: symmetry,
            followers_per_gpu: followers_per_gpu(row, job),
            device,
            dataset: Some(format!("{}@{box_size}", dataset_key(&row.dataset))),
        },
        seconds: row.wall_seconds,
        weight,
        status: row.status.clone(),
        source: row.source_url.clone(),
    })
}

/// The device an imported run ran on: its GPUs, or its ranks × threads.
fn run_device(
    l: &crate::results::job_run::RunLayout,
    gpus: u32,
    catalog: &Catalog,
) -> Result<Device, String> {
    if gpus == 0 {
        let (Some(r), Some(t)) = (l.ranks, l.threads) else {
            return Err("a CPU run without its ranks and threads".into());
        };
        return Ok(Device::Cpu {
            cores: r * t,
            accelerated: l.cpu_accel.unwrap_or(true),
        });
    }
    let name = l.gpu_model.as_deref().ok_or("its GPU model is unknown")?;
    let g = catalog
        .gpu(name)
        .ok_or_else(|| format!("GPU `{name}` is not in datasets/gpus.csv"))?;
    Ok(Device::gpus(g, gpus))
}

/// The observation an imported run makes (`jobs import`, `bench app`):
/// a finished run whose job, particles, box, GPUs and time are known.
pub fn from_run(
    run: &crate::results::job_run::JobRun,
    id: &str,
    catalog: &Catalog,
) -> Result<Observation, Unusable> {
    use crate::results::job_run::RunStatus;
    let job_name = run.job.clone().unwrap_or_else(|| "unknown".into());
    let bad = |reason: String| Unusable {
        id: id.to_string(),
        job: job_name.clone(),
        reason,
    };
    if run.status != RunStatus::Finished {
        return Err(bad(format!(
            "the run is {}, not finished",
            run.status.label()
        )));
    }
    let job = jobs::find(&job_name)
        .ok_or_else(|| bad(format!("the model has no job type `{job_name}`")))?;
    let s = &run.shape;
    let l = &run.layout;
    let particles = s
        .particles
        .filter(|&p| p > 0)
        .ok_or_else(|| bad("its particle count is unknown".into()))?;
    let box_size = s
        .box_size
        .filter(|&b| b >= 2)
        .ok_or_else(|| bad("its box size is unknown".into()))?;
    let seconds = run
        .wall_seconds
        .filter(|w| w.is_finite() && *w > 0.0)
        .ok_or_else(|| bad("its wall time is unknown".into()))?;
    let gpus = l
        .gpus
        .ok_or_else(|| bad("its GPU count is unknown".into()))?;
    let device = run_device(l, gpus, catalog).map_err(bad)?;
    let symmetry = match s.symmetry.as_deref() {
        None => 1,
        Some(g) => symmetry_order(g).ok_or_else(|| bad(format!("unknown symmetry `{g}`")))?,
    };
    Ok(Observation {
        id: id.to_string(),
        query: JobQuery {
            job,
            particles,
            box_size,
            image_size: s.image_size,
            classes: s.classes,
            iterations: s.iterations.filter(|&i| i > 0).map(f64::from),
            healpix_order: s.healpix_order,
            symmetry_order: symmetry,
            followers_per_gpu: (job.software == "relion" && gpus > 0)
                .then(|| {
                    l.ranks
                        .map(|r| f64::from(r.saturating_sub(1).max(1)) / f64::from(gpus))
                })
                .flatten(),
            device,
            dataset: None,
        },
        seconds,
        weight: status_weight("imported"),
        status: "imported".into(),
        source: run.dir.clone().unwrap_or_else(|| run.source.clone()),
    })
}

/// Every shipped row, split into observations and the rows the model
/// cannot use.
pub fn shipped(catalog: &Catalog) -> (Vec<Observation>, Vec<Unusable>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for row in &catalog.job_times {
        match from_row(row, catalog) {
            Ok(o) if o.seconds > 0.0 && o.seconds.is_finite() => good.push(o),
            Ok(o) => bad.push(Unusable {
                id: o.id,
                job: row.job.clone(),
                reason: "its time is not a positive number of seconds".into(),
            }),
            Err(u) => bad.push(u),
        }
    }
    (good, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_text() {
        assert_eq!(iterations(Some("25")), Some(25.0));
        assert_eq!(iterations(Some("1 of 25")), Some(1.0));
        assert_eq!(iterations(Some("1 epoch")), Some(1.0));
        assert_eq!(iterations(Some("auto")), None);
        assert_eq!(iterations(None), None);
        assert_eq!(iterations(Some("0")), None);
    }

    #[test]
    fn an_imported_run_without_particles_or_time_is_listed_not_fitted() {
        use crate::results::job_run::{JobRun, RunStatus};
        let c = Catalog::get().unwrap();
        let mut run = JobRun::new("relion-dir", "relion");
        run.job = Some("relion-class3d".into());
        run.status = RunStatus::Finished;
        run.shape.particles = Some(0);
        run.shape.box_size = Some(256);
        run.layout.gpus = Some(1);
        run.layout.gpu_model = Some("rtx-3090".into());
        run.wall_seconds = Some(3600.0);
        let u = from_run(&run, "r", c).unwrap_err();
        assert!(u.reason.contains("particle count"), "{}", u.reason);
        run.shape.particles = Some(1000);
        run.wall_seconds = Some(f64::NAN);
        assert!(
            from_run(&run, "r", c)
                .unwrap_err()
                .reason
                .contains("wall time")
        );
        run.wall_seconds = Some(3600.0);
        let o = from_run(&run, "r", c).unwrap();
        assert_eq!(o.weight, 2.0);
        assert!(o.query.work() > 0.0);
    }

    #[test]
    fn every_shipped_row_is_used_or_says_why() {
        let c = Catalog::get().unwrap();
        let (good, bad) = shipped(c);
        assert_eq!(good.len() + bad.len(), c.job_times.len());
        assert!(good.len() >= 10, "{}", good.len());
        for b in &bad {
            assert!(!b.reason.is_empty());
        }
    }
}
