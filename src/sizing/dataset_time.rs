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
