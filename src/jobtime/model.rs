//! The fitted model and what it predicts for one job.
//!
//! seconds = scale(job) × work ÷ throughput(device), where
//! - work is [`JobQuery::work`]: iterations × particles × classes × the
//!   cost of one image at the size the job works at × the orientations searched;
//! - a GPU's throughput is (bandwidth ÷ 900 GB/s)^a × (FP32 ÷ 14 TFLOPS)^b
//!   (a Tesla V100 is 1), times Amdahl's speed-up over the node's GPUs with
//!   the job type's serial fraction s: 1 ÷ (s + (1 − s) ÷ GPUs);
//! - a CPU run's throughput is its cores × a per-core rate, one for RELION's
//!   accelerated `--cpu` path and one for its plain code.
//!
//! scale, s, a, b and the two core rates are fitted ([`super::fit`]); the
//! prediction interval is the spread of the calibration's leave-one-out
//! errors, widened where the query leaves the calibrated ground.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::query::{Device, JobQuery};

/// A Tesla V100's memory bandwidth and FP32 rate: throughput 1.
pub const REFERENCE_GB_S: f64 = 900.0;
pub const REFERENCE_TFLOPS: f64 = 14.0;
/// RELION followers per GPU that keep it busy (2–3 saturate an Ampere
/// card: RELION issues 846 and 1074).
pub const SATURATING_FOLLOWERS: f64 = 2.0;

/// The dataset key of calibration runs that name no dataset.
pub const UNNAMED: &str = "(runs naming no dataset)";

/// What was fitted for one job type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFit {
    /// ln of seconds per unit of work on one reference GPU.
    pub log_scale: f64,
    /// Amdahl serial fraction over GPUs.
    pub serial_fraction: f64,
    /// Whether the serial fraction was fitted (rows at two or more GPU
    /// counts) or borrowed from the software's other jobs.
    pub serial_fitted: bool,
    /// Half-width of the 90 % interval, in ln units.
    pub spread: f64,
    /// The rows it was fitted to, by id.
    pub rows: Vec<String>,
    /// GPU models and counts among them.
    pub gpus: Vec<String>,
    pub max_gpus: u32,
    pub cpu_rows: usize,
    /// How far (ln units, 90 %) a dataset new to the calibration sat from
    /// its prediction when each of this job type's datasets was left out
    /// in turn; None where it has fewer than two datasets.
    #[serde(default)]
    pub new_dataset_spread: Option<f64>,
}

/// The whole fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub jobs: BTreeMap<String, JobFit>,
    /// Exponent of memory bandwidth in a GPU's throughput.
    pub bandwidth_exponent: f64,
    /// Exponent of the FP32 rate.
    pub fp32_exponent: f64,
    /// How a GPU fed by fewer than [`SATURATING_FOLLOWERS`] RELION followers
    /// slows: its throughput × (followers ÷ 2)^this.
    #[serde(default)]
    pub follower_exponent: f64,
    /// ln throughput of one core, accelerated `--cpu` path and plain code.
    pub log_core_accelerated: f64,
    pub log_core_plain: f64,
    /// Added (in ln units) to the spread for a GPU model no row of the job
    /// type ran on.
    pub gpu_spread: f64,
    /// ln correction of a dataset the calibration knows, by job type and
    /// dataset: what its rows share that the work formula misses (shrunk
    /// towards 0 by its rows' weight n as n ÷ (n + 1)), with n.
    pub datasets: BTreeMap<String, BTreeMap<String, (f64, f64)>>,
    /// Spread of those corrections (ln units): how far a dataset the
    /// calibration does not know may sit from the formula.
    pub dataset_spread: f64,
    /// The rows it was fitted to, all job types, and where they came from.
    pub basis: String,
}

/// Why the model will not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    #[error(
        "no calibration for {0}: no published or imported run of this job type; import real runs (`cryocap jobs import`) and refit with `cryocap calibrate`, or set the time yourself"
    )]
    Uncalibrated(String),
    #[error("{0} needs GPU figures this model cannot use: {1}")]
    BadDevice(String, String),
}

pub use crate::results::jobtime::Prediction;

impl Model {
    /// Throughput of the query's device, in reference-GPU units.
    pub fn throughput_of(&self, q: &JobQuery, serial: f64) -> f64 {
        let fed = match (q.followers_per_gpu, &q.device) {
            (Some(f), Device::Gpu { .. }) => {
                (f.min(SATURATING_FOLLOWERS) / SATURATING_FOLLOWERS).powf(self.follower_exponent)
            }
            _ => 1.0,
        };
        self.throughput(&q.device, serial) * fed
    }

    /// Throughput of a device, in reference-GPU units.
    pub fn throughput(&self, device: &Device, serial: f64) -> f64 {
        match device {
            Device::Gpu {
                memory_bandwidth_gb_s,
                fp32_tflops,
                count,
                ..
            } => {
                let one = (memory_bandwidth_gb_s / REFERENCE_GB_S).powf(self.bandwidth_exponent)
                    * (fp32_tflops / REFERENCE_TFLOPS).powf(self.fp32_exponent);
                one * amdahl(serial, *count)
            }
            Device::Cpu { cores, accelerated } => {
                let per_core = if *accelerated {
                    self.log_core_accelerated
                } else {
                    self.log_core_plain
                };
                f64::from((*cores).max(1)) * per_core.exp()
            }
        }
    }

    /// The ln correction of the query's dataset, where the calibration
    /// knows it. A query that names no dataset takes the correction of the
    /// calibration's runs that named none ([`UNNAMED`]: your own imported
    /// runs, as a rule), where there are such.
    pub fn dataset_offset(&self, q: &JobQuery) -> Option<f64> {
        let d = q.dataset.as_deref().unwrap_or(UNNAMED);
        self.datasets.get(q.job.id)?.get(d).map(|x| x.0)
    }

    /// The correction of a dataset the calibration does not know: the
    /// unweighted mean of the job type's dataset corrections, so a new
    /// dataset sits between the calibrated ones rather than next to the
    /// one with the most rows.
    pub fn dataset_centre(&self, job: &str) -> f64 {
        let Some(d) = self.datasets.get(job) else {
            return 0.0;
        };
        let named = d.iter().filter(|(k, _)| *k != UNNAMED);
        let (sum, n) = named.fold((0.0, 0usize), |(s, n), (_, x)| (s + x.0, n + 1));
        if n == 0 { 0.0 } else { sum / n as f64 }
    }

    /// How far (ln units, 90 %) a dataset the calibration does not know
    /// may sit from its prediction: the job type's leave-one-dataset-out
    /// spread where calibration measured one, else the spread over all job
    /// types.
    pub fn new_dataset_spread(&self, job: &str) -> f64 {
        self.jobs
            .get(job)
            .and_then(|f| f.new_dataset_spread)
            .unwrap_or(self.dataset_spread)
    }

    /// The correction the query's time carries: its dataset's, or the
    /// centre of the job type's datasets for one the calibration does not know.
    pub fn offset_of(&self, q: &JobQuery) -> f64 {
        self.dataset_offset(q)
            .unwrap_or_else(|| self.dataset_centre(q.job.id))
    }

    /// The weight of the rows behind the query's dataset correction.
    fn dataset_weight(&self, q: &JobQuery) -> Option<f64> {
        let d = q.dataset.as_deref().unwrap_or(UNNAMED);
        self.datasets.get(q.job.id)?.get(d).map(|x| x.1)
    }

    /// Seconds the job computes, without the interval.
    pub fn seconds(&self, fit: &JobFit, q: &JobQuery) -> f64 {
        let offset = if self.jobs.contains_key(q.job.id) {
            self.offset_of(q)
        } else {
            0.0
        };
        (fit.log_scale + offset).exp() * q.work() / self.throughput_of(q, fit.serial_fraction)
    }

    /// The fit that times `q`'s job: its own, or its proxy's (named).
    fn fit_for(&self, q: &JobQuery) -> Result<(&JobFit, Option<&'static str>), PredictError> {
        if let Some(f) = self.jobs.get(q.job.id) {
            return Ok((f, None));
        }
        q.job
            .proxy
            .and_then(|p| self.jobs.get(p).map(|f| (f, Some(p))))
            .ok_or_else(|| PredictError::Uncalibrated(q.job.id.to_string()))
    }

    /// The job's time and interval without words or row names: what
    /// `recommend` asks thousands of times.
    pub fn estimate(&self, q: &JobQuery) -> Result<Estimate, PredictError> {
        let (fit, proxy) = self.fit_for(q)?;
        if let Device::Gpu {
            model,
            memory_bandwidth_gb_s,
            fp32_tflops,
            ..
        } = &q.device
            && (*memory_bandwidth_gb_s <= 0.0 || *fp32_tflops <= 0.0)
        {
            return Err(PredictError::BadDevice(
                model.clone(),
                "its memory bandwidth and FP32 rate must be above zero".into(),
            ));
        }
        let seconds = self.seconds(fit, q);
        let w = self.widening(fit, q);
        // Another program's per-unit cost: as uncertain as an unknown GPU, twice.
        let proxy_extra = if proxy.is_some() {
            2.0 * self.gpu_spread
        } else {
            0.0
        };
        let half = fit.spread + w.extra + proxy_extra;
        Ok(Estimate {
            seconds,
            low: seconds * (-half).exp(),
            high: seconds * half.exp(),
            fitted_as: proxy.unwrap_or(q.job.id),
            proxy: proxy.is_some(),
            gpu_calibrated: !w.uncalibrated_device,
            widening: w,
        })
    }

    /// The job's time with its interval, what calibrates it, and in words
    /// where the query leaves the calibrated ground.
    pub fn predict(&self, q: &JobQuery) -> Result<Prediction, PredictError> {
        let e = self.estimate(q)?;
        let fit = self
            .jobs
            .get(e.fitted_as)
            .ok_or_else(|| PredictError::Uncalibrated(q.job.id.to_string()))?;
        let mut why = Vec::new();
        if e.proxy {
            why.push(format!(
                "no run of {} is calibrated: it is timed as {} per unit of work (modelled, not calibrated)",
                q.job.id, e.fitted_as
            ));
        }
        let w = &e.widening;
        if w.unknown_dataset {
            why.push(self.unknown_dataset_words(q.job.id));
        }
        match &q.device {
            Device::Gpu { model, count, .. } => {
                if w.uncalibrated_device {
                    why.push(format!(
                        "no calibration row of {} ran on GPU {model}: its speed comes from its catalog bandwidth and FP32 rate",
                        q.job.id
                    ));
                }
                if w.beyond_gpus {
                    why.push(format!(
                        "{count} GPUs is more than the {} of any calibration row: Amdahl's law is extended past them",
                        fit.max_gpus
                    ));
                }
                if !fit.serial_fitted && *count > 1 {
                    why.push(format!(
                        "{}'s serial fraction is borrowed from the other jobs of its software (no rows at two GPU counts)",
                        q.job.id
                    ));
                }
            }
            Device::Cpu { .. } if w.uncalibrated_device => why.push(format!(
                "no CPU run of {} is calibrated: the core rate comes from other job types' CPU runs",
                q.job.id
            )),
            Device::Cpu { .. } => {}
        }
        Ok(Prediction {
            seconds: e.seconds,
            low: e.low,
            high: e.high,
            calibrated_by: fit.rows.clone(),
            extrapolation: why,
            proxy: e.proxy.then(|| e.fitted_as.to_string()),
        })
    }

    /// Why a dataset the calibration does not know widens the interval,
    /// and how to narrow it.
    fn unknown_dataset_words(&self, job: &str) -> String {
        let known: Vec<&str> = self
            .datasets
            .get(job)
            .map(|d| {
                d.keys()
                    .map(String::as_str)
                    .filter(|k| *k != UNNAMED)
                    .collect()
            })
            .unwrap_or_default();
        if known.is_empty() {
            return format!(
                "no calibration row of {job} names its dataset: the interval adds the spread between datasets"
            );
        }
        format!(
            "no calibration row of {job} ran on this dataset: it is timed at the centre of the {} calibrated one(s) ({}), and the interval allows ×{:.1} either way for how far a new dataset may sit (measured by leaving each calibrated dataset out in turn); name the calibrated dataset it most resembles with --dataset, or import a run of it",
            known.len(),
            known.join(", "),
            self.new_dataset_spread(job).exp()
        )
    }

    /// Extra interval width (ln units) and where the query leaves the ground.
    fn widening(&self, fit: &JobFit, q: &JobQuery) -> Widening {
        let mut w = Widening::default();
        if let Some(n) = self.dataset_weight(q) {
            // The correction is itself estimated from n rows.
            w.extra += fit.spread * ((1.0 + 1.0 / n.max(0.25)).sqrt() - 1.0);
        } else {
            let d = self.new_dataset_spread(q.job.id);
            w.extra += (fit.spread.powi(2) + d * d).sqrt() - fit.spread;
            w.unknown_dataset = true;
        }
        match &q.device {
            Device::Gpu { model, count, .. } => {
                if !fit.gpus.iter().any(|g| g == model) {
                    w.extra += self.gpu_spread;
                    w.uncalibrated_device = true;
                }
                if *count > fit.max_gpus {
                    w.extra += 0.1 * (f64::from(*count) / f64::from(fit.max_gpus.max(1))).log2();
                    w.beyond_gpus = true;
                }
            }
            Device::Cpu { .. } => {
                if fit.cpu_rows == 0 {
                    w.extra += self.gpu_spread;
                    w.uncalibrated_device = true;
                }
            }
        }
        w
    }
}

/// Where a query leaves the calibrated ground, and how much wider its
/// interval is for it (ln units).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Widening {
    pub extra: f64,
    pub unknown_dataset: bool,
    /// No row of the job type ran on this GPU model (or on a CPU).
    pub uncalibrated_device: bool,
    pub beyond_gpus: bool,
}

/// A prediction without words: the time, its 90 % interval, and how it
/// was reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub seconds: f64,
    pub low: f64,
    pub high: f64,
    /// The job type whose fit timed it: the query's own, or its proxy.
    pub fitted_as: &'static str,
    pub proxy: bool,
    /// Whether rows of that job type ran on this device.
    pub gpu_calibrated: bool,
    pub widening: Widening,
}

/// Amdahl's speed-up on `n` workers with serial fraction `s`.
pub fn amdahl(s: f64, n: u32) -> f64 {
    let n = f64::from(n.max(1));
    1.0 / (s + (1.0 - s) / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amdahl_by_hand() {
        assert_eq!(amdahl(0.0, 4), 4.0);
        assert_eq!(amdahl(1.0, 4), 1.0);
        assert!((amdahl(0.1, 4) - 1.0 / (0.1 + 0.9 / 4.0)).abs() < 1e-12);
        assert_eq!(amdahl(0.2, 0), 1.0);
    }
}
