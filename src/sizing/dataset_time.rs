//! How long one dataset of a workload class takes on one node: each job of
//! its chain timed by the job-time model on the node's GPUs, with reading
//! the stack from the node's storage tier every iteration, overlapped with
//! compute where the program overlaps it.

use std::collections::BTreeSet;

use super::recommend::{Candidate, DatasetClass};
use crate::jobtime::{Device, JobQuery, Model, PredictError, jobs};

/// One job of a chain on one node.
#[derive(Debug, Clone, PartialEq)]
pub struct JobHours {
    pub job: &'static str,
    pub hours: f64,
    pub low: f64,
    pub high: f64,
    /// `gpu` or `storage`: the longer of its compute and its reading.
    pub bottleneck: &'static str,
    /// `calibrated`, `extrapolated` (its GPU known only by catalog
    /// properties) or `proxy` (its job type timed as another's).
    pub basis: &'static str,
}

/// A dataset's time on one node.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetTime {
    pub hours: f64,
    pub low: f64,
    pub high: f64,
    /// Hours spent computing and reading, each where it is the longer.
    pub gpu_hours: f64,
    pub storage_hours: f64,
    pub jobs: Vec<JobHours>,
    /// The job types whose calibration timed its jobs.
    pub fitted_as: BTreeSet<&'static str>,
}

fn query(
    class: &DatasetClass,
    c: &Candidate,
    job: &'static jobs::JobType,
    passes: u32,
) -> JobQuery {
    let device = Device::Gpu {
        model: c.gpu.id.clone(),
        memory_bandwidth_gb_s: c.gpu.memory_bandwidth_gb_s,
        fp32_tflops: c.gpu.fp32_tflops,
        count: c.per_node,
    };
    let mut q = JobQuery::new(job, class.particles, class.box_size, device);
    q.iterations = Some(f64::from(passes));
    q
}

/// `class`'s dataset on one node of `c`.
pub fn dataset_time(
    class: &DatasetClass,
    c: &Candidate,
    model: &Model,
) -> Result<DatasetTime, PredictError> {
    let read_pass_s = class.stack_bytes() as f64 / c.tier.read_bytes_per_s;
    let mut t = DatasetTime {
        hours: 0.0,
        low: 0.0,
        high: 0.0,
        gpu_hours: 0.0,
        storage_hours: 0.0,
        jobs: Vec::new(),
        fitted_as: BTreeSet::new(),
    };
    for step in &class.chain {
        let job =
            jobs::find(&step.job).ok_or_else(|| PredictError::Uncalibrated(step.job.clone()))?;
        let p = model.estimate(&query(class, c, job, step.passes))?;
        let io = read_pass_s * f64::from(step.passes);
        let total = |compute: f64| if job.overlaps_io { compute.max(io) } else { compute + io } / 3600.0;
        let (hours, low, high) = (total(p.seconds), total(p.low), total(p.high));
        let storage_bound = io > p.seconds;
        if job.overlaps_io {
            if storage_bound {
                t.storage_hours += hours
            } else {
                t.gpu_hours += hours
            }
        } else {
            t.gpu_hours += p.seconds / 3600.0;
            t.storage_hours += io / 3600.0;
        }
        t.hours += hours;
        t.low += low;
        t.high += high;
        t.fitted_as.insert(p.fitted_as);
        t.jobs.push(JobHours {
            job: job.id,
            hours,
            low,
            high,
            bottleneck: if storage_bound { "storage" } else { "gpu" },
            basis: crate::jobtime::predict::basis(&p),
        });
    }
    Ok(t)
}

/// A node's month of a workload: node-hours per month of each class's
/// datasets, summed.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    /// Node-hours the month's datasets take, and their 90 % interval.
    pub hours: f64,
    pub low: f64,
    pub high: f64,
    pub gpu_hours: f64,
    pub storage_hours: f64,
    /// Hours of the slowest class's dataset, job by job.
    pub slowest_hours: f64,
    pub slowest_jobs: Vec<JobHours>,
    /// The weakest basis over the jobs: `proxy`, `extrapolated` or `calibrated`.
    pub basis: &'static str,
    /// The job types whose calibration timed the jobs.
    pub fitted_as: Vec<&'static str>,
}

const BASES: [&str; 3] = ["proxy", "extrapolated", "calibrated"];

/// `workload`'s month on one node of `c`.
pub fn month(
    workload: &[DatasetClass],
    c: &Candidate,
    model: &Model,
) -> Result<Month, PredictError> {
    let mut m = Month {
        hours: 0.0,
        low: 0.0,
        high: 0.0,
        gpu_hours: 0.0,
        storage_hours: 0.0,
        slowest_hours: 0.0,
        slowest_jobs: Vec::new(),
        basis: "calibrated",
        fitted_as: Vec::new(),
    };
    let mut fitted = BTreeSet::new();
    for class in workload {
        let t = dataset_time(class, c, model)?;
        let n = class.per_month;
        m.hours += n * t.hours;
        m.low += n * t.low;
        m.high += n * t.high;
        m.storage_hours += n * t.storage_hours;
        m.gpu_hours += n * t.gpu_hours;
        if m.slowest_jobs.is_empty() || t.hours > m.slowest_hours {
            m.slowest_hours = t.hours;
            m.slowest_jobs = t.jobs.clone();
        }
        for j in &t.jobs {
            let rank = |b: &str| BASES.iter().position(|x| *x == b);
            if rank(j.basis) < rank(m.basis) {
                m.basis = j.basis;
            }
        }
        fitted.extend(t.fitted_as);
    }
    m.fitted_as = fitted.into_iter().collect();
    Ok(m)
}
