//! Fitting the model to timed runs: weighted least squares on the log of
//! the time, by coordinate descent over a few parameters each with a closed
//! form or a grid (the data are tens of rows, so a grid is exact enough and
//! cannot diverge).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{JobFit, Model, PredictError, Prediction, UNNAMED};
use super::observe::Observation;
use super::query::Device;

const SERIAL_GRID: std::ops::RangeInclusive<u32> = 0..=60; // hundredths
const ROUNDS: usize = 4;
/// Serial fraction where no software has a fitted one.
const DEFAULT_SERIAL: f64 = 0.05;
/// The narrowest interval half-width, ln units (±10 %).
const MIN_SPREAD: f64 = 0.1;

fn ln_residual(m: &Model, log_scale: f64, s: f64, o: &Observation) -> f64 {
    let offset = m.offset_of(&o.query);
    let pred = log_scale + offset + o.query.work().ln() - m.throughput_of(&o.query, s).ln();
    o.seconds.ln() - pred
}

/// Each dataset's correction per job type: its rows' weighted mean
/// residual without one, shrunk by n ÷ (n + 1).
fn fit_datasets(m: &mut Model, by_job: &BTreeMap<&str, Vec<&Observation>>) {
    m.datasets.clear();
    let mut next: BTreeMap<String, BTreeMap<String, (f64, f64)>> = BTreeMap::new();
    for (job, rows) in by_job {
        let Some(f) = m.jobs.get(*job) else { continue };
        let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for o in rows {
            let d = o.query.dataset.as_deref().unwrap_or(UNNAMED);
            let e = sums.entry(d).or_default();
            e.0 += o.weight * ln_residual(m, f.log_scale, f.serial_fraction, o);
            e.1 += o.weight;
        }
        for (d, (sum, w)) in sums {
            if w > 0.0 {
                next.entry(job.to_string())
                    .or_default()
                    .insert(d.to_string(), (sum / w * w / (w + 1.0), w));
            }
        }
    }
    m.datasets = next;
}

/// RMS of the dataset corrections: how far an unknown dataset may sit.
fn dataset_spread(m: &Model) -> f64 {
    let v: Vec<f64> = m
        .datasets
        .values()
        .flat_map(|d| d.values().map(|x| x.0))
        .collect();
    if v.len() < 2 {
        return 0.5;
    }
    let rms = (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
    (rms * 1.645).max(0.2)
}

/// The weighted mean ln(seconds × throughput ÷ work): the best log scale.
fn best_scale(m: &Model, s: f64, rows: &[&Observation]) -> Option<f64> {
    let (mut sum, mut w) = (0.0, 0.0);
    for o in rows {
        sum += o.weight * ln_residual(m, 0.0, s, o);
        w += o.weight;
    }
    (w > 0.0).then(|| sum / w)
}

fn sse(m: &Model, log_scale: f64, s: f64, rows: &[&Observation]) -> f64 {
    rows.iter()
        .map(|o| o.weight * ln_residual(m, log_scale, s, o).powi(2))
        .sum()
}

fn gpu_counts(rows: &[&Observation]) -> BTreeSet<u32> {
    rows.iter()
        .filter(|o| o.weight > 0.0)
        .filter_map(|o| match o.query.device {
            Device::Gpu { count, .. } => Some(count),
            Device::Cpu { .. } => None,
        })
        .collect()
}

/// Scale and serial fraction of one job type; `s` fixed unless the rows
/// span two GPU counts.
fn fit_job(m: &Model, rows: &[&Observation], fallback_s: f64) -> Option<(f64, f64, bool)> {
    if gpu_counts(rows).len() < 2 {
        return Some((best_scale(m, fallback_s, rows)?, fallback_s, false));
    }
    let mut best: Option<(f64, f64, f64)> = None;
    for h in SERIAL_GRID {
        let s = f64::from(h) / 100.0;
        let scale = best_scale(m, s, rows)?;
        let e = sse(m, scale, s, rows);
        if best.is_none_or(|b| e < b.0) {
            best = Some((e, scale, s));
        }
    }
    best.map(|(_, scale, s)| (scale, s, true))
}

/// ln core rates of the CPU rows given the job scales.
fn fit_cores(m: &mut Model, by_job: &BTreeMap<&str, Vec<&Observation>>) {
    for accelerated in [true, false] {
        let (mut sum, mut w) = (0.0, 0.0);
        for (job, rows) in by_job {
            let Some(fit) = m.jobs.get(*job) else {
                continue;
            };
            for o in rows {
                if let Device::Cpu {
                    cores,
                    accelerated: a,
                } = o.query.device
                    && a == accelerated
                {
                    let r = fit.log_scale + o.query.work().ln()
                        - f64::from(cores.max(1)).ln()
                        - o.seconds.ln();
                    sum += o.weight * r;
                    w += o.weight;
                }
            }
        }
        if w > 0.0 {
            if accelerated {
                m.log_core_accelerated = sum / w;
            } else {
                m.log_core_plain = sum / w;
            }
        }
    }
}

fn total_sse(m: &Model, by_job: &BTreeMap<&str, Vec<&Observation>>) -> f64 {
    by_job
        .iter()
        .filter_map(|(job, rows)| {
            let f = m.jobs.get(*job)?;
            let scale = best_scale(m, f.serial_fraction, rows)?;
            Some(sse(m, scale, f.serial_fraction, rows))
        })
        .sum()
}

fn try_exponents(
    m: &mut Model,
    by_job: &BTreeMap<&str, Vec<&Observation>>,
    best: &mut (f64, f64, f64),
    a: f64,
    b: f64,
) {
    if !(0.0..=2.0).contains(&a) || !(0.0..=1.0).contains(&b) {
        return;
    }
    m.bandwidth_exponent = a;
    m.fp32_exponent = b;
    let e = total_sse(m, by_job);
    if e < best.0 - 1e-12 {
        *best = (e, a, b);
    }
}

/// The GPU exponents on a grid (coarse, then fine around the best), each
/// job's scale refitted at every point.
fn fit_exponents(m: &mut Model, by_job: &BTreeMap<&str, Vec<&Observation>>) {
    let mut best = (f64::INFINITY, m.bandwidth_exponent, m.fp32_exponent);
    for a in 0..=10 {
        for b in 0..=4 {
            try_exponents(
                m,
                by_job,
                &mut best,
                f64::from(a) * 0.2,
                f64::from(b) * 0.25,
            );
        }
    }
    let (a0, b0) = (best.1, best.2);
    for da in -4..=4 {
        for db in -2..=2 {
            let (a, b) = (a0 + f64::from(da) * 0.05, b0 + f64::from(db) * 0.1);
            try_exponents(m, by_job, &mut best, a, b);
        }
    }
    m.bandwidth_exponent = best.1;
    m.fp32_exponent = best.2;
    let mut best_f = (f64::INFINITY, m.follower_exponent);
    for g in 0..=10 {
        m.follower_exponent = f64::from(g) * 0.1;
        let e = total_sse(m, by_job);
        if e < best_f.0 - 1e-12 {
            best_f = (e, m.follower_exponent);
        }
    }
    m.follower_exponent = best_f.1;
}

fn software_serial(m: &Model, software: &str, by_job: &BTreeMap<&str, Vec<&Observation>>) -> f64 {
    let mut v: Vec<f64> = by_job
        .iter()
        .filter(|(_, rows)| rows[0].query.job.software == software)
        .filter_map(|(job, _)| m.jobs.get(*job))
        .filter(|f| f.serial_fitted)
        .map(|f| f.serial_fraction)
        .collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(DEFAULT_SERIAL)
}

fn empty_model(basis: &str) -> Model {
    Model {
        jobs: BTreeMap::new(),
        bandwidth_exponent: 1.0,
        fp32_exponent: 0.0,
        follower_exponent: 0.0,
        log_core_accelerated: (0.02f64).ln(),
        log_core_plain: (0.01f64).ln(),
        gpu_spread: 0.25,
        datasets: BTreeMap::new(),
        dataset_spread: 0.5,
        basis: basis.to_string(),
    }
}

fn job_entry(rows: &[&Observation], (scale, s, fitted): (f64, f64, bool)) -> JobFit {
    let mut gpus = BTreeSet::new();
    let mut max_gpus = 0;
    let mut cpu_rows = 0;
    for o in rows {
        match &o.query.device {
            Device::Gpu { model, count, .. } => {
                gpus.insert(model.clone());
                max_gpus = max_gpus.max(*count);
            }
            Device::Cpu { .. } => cpu_rows += 1,
        }
    }
    JobFit {
        log_scale: scale,
        serial_fraction: s,
        serial_fitted: fitted,
        spread: MIN_SPREAD,
        rows: rows.iter().map(|o| o.id.clone()).collect(),
        gpus: gpus.into_iter().collect(),
        max_gpus,
        cpu_rows,
        new_dataset_spread: None,
    }
}

/// The 90th percentile of |ln residual| of `rows`, widened for the
/// parameters spent on them; None with too few rows to tell.
fn spread_of(m: &Model, f: &JobFit, rows: &[&Observation]) -> Option<f64> {
    let mut r: Vec<f64> = rows
        .iter()
        .filter(|o| o.weight > 0.0)
        .map(|o| ln_residual(m, f.log_scale, f.serial_fraction, o).abs())
        .collect();
    let params = if f.serial_fitted { 2 } else { 1 };
    if r.len() <= params {
        return None;
    }
    r.sort_by(f64::total_cmp);
    let q = r[((r.len() as f64 * 0.9).ceil() as usize).clamp(1, r.len()) - 1];
    let n = r.len() as f64;
    Some((q * (n / (n - params as f64)).sqrt()).max(MIN_SPREAD))
}

fn set_spreads(m: &mut Model, by_job: &BTreeMap<&str, Vec<&Observation>>) {
    let mut pooled: Vec<f64> = Vec::new();
    let mut own = BTreeMap::new();
    for (job, rows) in by_job {
        let Some(f) = m.jobs.get(*job) else { continue };
        if let Some(s) = spread_of(m, f, rows) {
            own.insert(job.to_string(), s);
            pooled.push(s);
        }
    }
    pooled.sort_by(f64::total_cmp);
    let fallback = pooled.last().copied().unwrap_or(0.5).max(0.3) * 1.5;
    m.gpu_spread = pooled
        .get(pooled.len() / 2)
        .copied()
        .unwrap_or(0.25)
        .max(0.15);
    for (job, f) in m.jobs.iter_mut() {
        f.spread = own.get(job).copied().unwrap_or(fallback);
    }
}

/// The model fitted to `obs` (rows of weight 0 are carried in `rows` but
/// do not move the fit).
pub fn fit(obs: &[Observation], basis: &str) -> Model {
    let mut by_job: BTreeMap<&str, Vec<&Observation>> = BTreeMap::new();
    for o in obs.iter().filter(|o| o.weight > 0.0) {
        by_job.entry(o.query.job.id).or_default().push(o);
    }
    let mut m = empty_model(basis);
    for _ in 0..ROUNDS {
        let mut fitted = BTreeMap::new();
        for (job, rows) in &by_job {
            let s = software_serial(&m, rows[0].query.job.software, &by_job);
            if let Some(p) = fit_job(&m, rows, s) {
                fitted.insert(job.to_string(), job_entry(rows, p));
            }
        }
        m.jobs = fitted;
        fit_cores(&mut m, &by_job);
        fit_exponents(&mut m, &by_job);
        fit_datasets(&mut m, &by_job);
    }
    for (job, rows) in &by_job {
        let Some(s) = m.jobs.get(*job).map(|f| f.serial_fraction) else {
            continue;
        };
        let scale = best_scale(&m, s, rows);
        if let (Some(scale), Some(f)) = (scale, m.jobs.get_mut(*job)) {
            f.log_scale = scale;
        }
    }
    set_spreads(&mut m, &by_job);
    m.dataset_spread = dataset_spread(&m);
    m
}

/// Each observation predicted by the model fitted to all the others, with
/// the in-sample spread that model gave its job type (None where the
/// others do not calibrate it).
pub fn leave_one_out(obs: &[Observation]) -> Vec<Result<(Prediction, f64), PredictError>> {
    (0..obs.len())
        .map(|i| {
            let rest: Vec<Observation> = obs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| o.clone())
                .collect();
            let m = fit(&rest, "leave-one-out");
            let p = m.predict(&obs[i].query)?;
            let spread = m.jobs.get(obs[i].query.job.id).map_or(0.0, |f| f.spread);
            Ok((p, spread))
        })
        .collect()
}

/// The 90th percentile of |ln(actual ÷ predicted)| of the leave-one-out
/// predictions of `job`'s weighted rows, leaving out row `skip`; None
/// with fewer than 3 such rows.
pub fn loo_spread(
    obs: &[Observation],
    loo: &[Result<(Prediction, f64), PredictError>],
    job: &str,
    skip: Option<usize>,
) -> Option<f64> {
    let mut r: Vec<f64> = obs
        .iter()
        .zip(loo)
        .enumerate()
        .filter(|(i, (o, _))| Some(*i) != skip && o.weight > 0.0 && o.query.job.id == job)
        .filter_map(|(_, (o, p))| {
            p.as_ref()
                .ok()
                .map(|(p, _)| (o.seconds / p.seconds).ln().abs())
        })
        .collect();
    if r.len() < 3 {
        return None;
    }
    r.sort_by(f64::total_cmp);
    let k = ((r.len() as f64 * 0.9).ceil() as usize).clamp(1, r.len()) - 1;
    Some(r[k].max(MIN_SPREAD))
}

/// One job type's rows of one dataset, each predicted by the model fitted
/// without any row of that dataset (for that job type).
pub struct DatasetOut {
    pub job: String,
    pub dataset: String,
    /// Index into the observations, and its prediction.
    pub predictions: Vec<(usize, Result<Prediction, PredictError>)>,
}

/// The job types' datasets, each with the indices of its weighted rows,
/// where the job type has rows of two datasets or more.
fn datasets_of(obs: &[Observation]) -> BTreeMap<(&str, &str), Vec<usize>> {
    let mut all: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, o) in obs.iter().enumerate().filter(|(_, o)| o.weight > 0.0) {
        if let Some(d) = o.query.dataset.as_deref() {
            all.entry((o.query.job.id, d)).or_default().push(i);
        }
    }
    let jobs: Vec<&str> = all.keys().map(|k| k.0).collect();
    all.retain(|k, _| jobs.iter().filter(|j| **j == k.0).count() >= 2);
    all
}

/// Leave one dataset out: what a dataset new to the calibration meets.
pub fn leave_dataset_out(obs: &[Observation]) -> Vec<DatasetOut> {
    datasets_of(obs)
        .into_iter()
        .map(|((job, dataset), idx)| {
            let rest: Vec<Observation> = obs
                .iter()
                .enumerate()
                .filter(|(i, _)| !idx.contains(i))
                .map(|(_, o)| o.clone())
                .collect();
            let m = fit(&rest, "leave-one-dataset-out");
            DatasetOut {
                job: job.to_string(),
                dataset: dataset.to_string(),
                predictions: idx.iter().map(|&i| (i, m.predict(&obs[i].query))).collect(),
            }
        })
        .collect()
}

/// The 90th percentile of |ln(actual ÷ predicted)| over `outs`' rows
/// (of one job type, or all): the spread a new dataset meets.
fn new_dataset_spread<'a>(
    obs: &[Observation],
    outs: impl Iterator<Item = &'a DatasetOut>,
) -> Option<f64> {
    let mut r: Vec<f64> = outs
        .flat_map(|d| d.predictions.iter())
        .filter_map(|(i, p)| {
            p.as_ref()
                .ok()
                .map(|p| (obs[*i].seconds / p.seconds).ln().abs())
        })
        .collect();
    if r.len() < 3 {
        return None;
    }
    r.sort_by(f64::total_cmp);
    let k = ((r.len() as f64 * 0.9).ceil() as usize).clamp(1, r.len()) - 1;
    Some(r[k].max(MIN_SPREAD))
}

/// The model fitted to `obs` whose intervals are the spread of its own
/// leave-one-out errors (where a job type has 3 rows or more), and whose
/// allowance for a new dataset is the spread of its leave-one-dataset-out
/// errors.
pub fn calibrate(obs: &[Observation], basis: &str) -> Model {
    let mut m = fit(obs, basis);
    let outs = leave_dataset_out(obs);
    if let Some(all) = new_dataset_spread(obs, outs.iter()) {
        m.dataset_spread = all;
    }
    for (job, f) in m.jobs.iter_mut() {
        f.new_dataset_spread = new_dataset_spread(obs, outs.iter().filter(|d| &d.job == job));
    }
    let loo = leave_one_out(obs);
    let jobs: Vec<String> = m.jobs.keys().cloned().collect();
    for job in jobs {
        if let (Some(s), Some(f)) = (loo_spread(obs, &loo, &job, None), m.jobs.get_mut(&job)) {
            f.spread = s;
        }
    }
    m
}
