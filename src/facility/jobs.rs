//! What each GPU job of each lab's chain takes on each kind of worker node:
//! the job-time model's time and interval, timed once before the run. The
//! engine draws each run's time from it.

use rand::RngExt;
use rand::rngs::StdRng;

use super::model::Facility;
use crate::jobtime::{Device, JobQuery, Model, PredictError, jobs};

/// How a job's time is drawn from its prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Draw {
    /// The central time, every run.
    Fixed,
    /// Log-normal whose 90 % interval is the model's: `sigma` of ln(time).
    LogNormal { sigma: f64 },
    /// Exponential with the central time as mean (for checks against
    /// queueing theory).
    Exponential,
}

/// 1.645: the z of a two-sided 90 % interval.
const Z90: f64 = 1.644_853_6;

impl Draw {
    /// A run's seconds for a job of `mean` seconds.
    pub fn sample(self, mean: f64, rng: &mut StdRng) -> f64 {
        match self {
            Draw::Fixed => mean,
            Draw::LogNormal { sigma } => {
                let z = normal(rng);
                mean * (sigma * z).exp()
            }
            Draw::Exponential => -mean * (1.0 - rng.random::<f64>()).ln(),
        }
    }
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One job of a chain on one kind of node.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTime {
    pub job: &'static str,
    pub seconds: f64,
    pub draw: Draw,
    /// Passes over the stack the job reads.
    pub passes: u32,
    /// Whether reading overlaps computing (else they add).
    pub overlaps_io: bool,
    /// A 3D job: its end is the dataset's first map when it is the first.
    pub three_d: bool,
}

/// A class's stack and its chain on every worker kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassJobs {
    pub stack_bytes: f64,
    /// `steps[group][i]`: step i of the chain on worker group `group`.
    pub steps: Vec<Vec<JobTime>>,
}

/// `table[lab][class]`.
pub type JobTable = Vec<Vec<ClassJobs>>;

/// Times every lab's chains on every worker kind with `model`; `interval`
/// draws each run from the model's interval instead of its central time.
pub fn table(f: &Facility, model: &Model, interval: bool) -> Result<JobTable, PredictError> {
    f.labs
        .iter()
        .map(|lab| {
            lab.classes
                .iter()
                .map(|class| {
                    let steps = f
                        .workers
                        .iter()
                        .map(|w| {
                            let gpus = f.scheduler.gpus_per_job.min(w.gpus).max(1);
                            class
                                .chain
                                .iter()
                                .map(|step| {
                                    let job = jobs::find(&step.job).ok_or_else(|| {
                                        PredictError::Uncalibrated(step.job.clone())
                                    })?;
                                    let device = Device::Gpu {
                                        model: w.gpu.clone(),
                                        memory_bandwidth_gb_s: w.memory_bandwidth_gb_s,
                                        fp32_tflops: w.fp32_tflops,
                                        count: gpus,
                                    };
                                    let mut q =
                                        JobQuery::new(job, class.particles, class.box_size, device);
                                    q.iterations = Some(f64::from(step.passes));
                                    let e = model.estimate(&q)?;
                                    Ok(job_time(job, step.passes, e.seconds, e.high, interval))
                                })
                                .collect::<Result<Vec<_>, PredictError>>()
                        })
                        .collect::<Result<Vec<_>, PredictError>>()?;
                    Ok(ClassJobs {
                        stack_bytes: class.stack_bytes() as f64,
                        steps,
                    })
                })
                .collect()
        })
        .collect()
}

fn job_time(
    job: &'static jobs::JobType,
    passes: u32,
    seconds: f64,
    high: f64,
    interval: bool,
) -> JobTime {
    let sigma = if high > seconds && seconds > 0.0 {
        (high / seconds).ln() / Z90
    } else {
        0.0
    };
    JobTime {
        job: job.id,
        seconds,
        draw: if interval {
            Draw::LogNormal { sigma }
        } else {
            Draw::Fixed
        },
        passes,
        overlaps_io: job.overlaps_io,
        three_d: !job.id.contains("2d"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_have_the_asked_mean_and_interval() {
        let mut rng = StdRng::seed_from_u64(7);
        let n = 200_000;
        let mean: f64 = (0..n)
            .map(|_| Draw::Exponential.sample(2.0, &mut rng))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 2.0).abs() < 0.03, "{mean}");
        let sigma = (3.0f64).ln() / Z90;
        let mut v: Vec<f64> = (0..n)
            .map(|_| Draw::LogNormal { sigma }.sample(1.0, &mut rng))
            .collect();
        v.sort_by(f64::total_cmp);
        let p95 = v[n * 95 / 100];
        assert!((p95 - 3.0).abs() < 0.08, "{p95}");
        assert_eq!(Draw::Fixed.sample(5.0, &mut rng), 5.0);
    }
}
