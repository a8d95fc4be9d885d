//! A run's samples into the figures a director reads: time from session to
//! map per lab, queue waits, utilisation of every resource, the binding
//! resource, and the run's checks on itself.

use super::engine::{Engine, Tally};
use super::gauge::Gauge;
use crate::results::facility::{
    Binding, Checks, DayPoint, LabCdf, LabTimes, QueueStats, Spread, StorageUse, Utilisation,
    Variant,
};

const HOUR: f64 = 3600.0;

/// What one run leaves: per lab the hours to first map and to final, and
/// its waits; the levels over time.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub sessions: u64,
    pub first_map: Vec<Vec<f64>>,
    pub finals: Vec<Vec<f64>>,
    pub datasets: Vec<u64>,
    pub gpu_waits: Vec<Vec<f64>>,
    pub prep_waits: Vec<f64>,
    pub levels: Levels,
    pub checks: Checks,
    pub storage_full_at: Option<f64>,
    pub storage_end: f64,
}

/// Daily means of each level, as shares of capacity (storage: of its
/// capacity), and the whole-run means.
#[derive(Debug, Clone)]
pub(crate) struct Levels {
    /// (resource, daily shares)
    pub series: Vec<(String, Vec<f64>)>,
    pub gpu_queue: Vec<f64>,
    pub mean_gpu_queue: f64,
    pub mean_prep_queue: f64,
}

/// p50, p90, max of `v` (None when empty); `v` is sorted in place.
pub(super) fn spread(v: &mut [f64]) -> Option<Spread> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    Some(Spread {
        p50: q(0.5),
        p90: q(0.9),
        max: v[v.len() - 1],
    })
}

/// The samples of a finished engine.
pub(super) fn of(e: Engine<'_>) -> Run {
    let labs = e.f.labs.len();
    let mut first_map = vec![Vec::new(); labs];
    let mut finals = vec![Vec::new(); labs];
    let mut datasets = vec![0; labs];
    for d in &e.datasets {
        datasets[d.lab] += 1;
        if let Some(t) = d.first_map {
            first_map[d.lab].push((t - d.session_end) / HOUR);
        }
        if let Some(t) = d.done {
            finals[d.lab].push((t - d.session_end) / HOUR);
        }
    }
    let mut gpu_waits = vec![Vec::new(); labs];
    for &(lab, a, s) in &e.tally.gpu_waits {
        gpu_waits[lab].push((s - a) / HOUR);
    }
    let prep_waits = e
        .tally
        .prep_waits
        .iter()
        .map(|(a, s)| (s - a) / HOUR)
        .collect();
    let (levels, max_utilisation, little) = levels(&e);
    let t = &e.tally;
    Run {
        sessions: e.sessions.len() as u64,
        first_map,
        finals,
        datasets,
        gpu_waits,
        prep_waits,
        checks: Checks {
            littles_law_error: little,
            bytes_demanded: t.bytes_demanded,
            bytes_read: t.bytes_read,
            max_utilisation,
        },
        storage_full_at: t.storage_full_at,
        storage_end: t.storage.value(),
        levels,
    }
}

/// Little's law on the sample path: the queue-length integral over the
/// horizon against the waits cut at the horizon; the relative gap.
fn little_gap(integral: f64, waits: impl Iterator<Item = (f64, f64)>, horizon: f64) -> f64 {
    let summed: f64 = waits
        .map(|(a, s)| (s.min(horizon) - a.min(horizon)).max(0.0))
        .sum();
    if summed <= 0.0 && integral <= 0.0 {
        0.0
    } else {
        (integral - summed).abs() / summed.max(integral)
    }
}

fn levels(e: &Engine<'_>) -> (Levels, f64, f64) {
    let h = e.horizon;
    let t: Tally = e.tally.clone();
    let mut series = Vec::new();
    let mut max_u: f64 = 0.0;
    let mut push = |name: String, g: Gauge, cap: f64, series: &mut Vec<(String, Vec<f64>)>| {
        let days: Vec<f64> = Gauge::day_means(&g.finish(), h)
            .into_iter()
            .map(|v| if cap > 0.0 { v / cap } else { 0.0 })
            .collect();
        max_u = days.iter().copied().fold(max_u, f64::max);
        series.push((name, days));
    };
    for (g, (busy, ssd)) in t.gpu_busy.into_iter().zip(t.ssd_used).enumerate() {
        let w = &e.f.workers[g];
        let gpus = f64::from(w.count * w.gpus);
        push(format!("gpu: {}", w.name), busy, gpus, &mut series);
        let cap: f64 = e
            .workers
            .iter()
            .filter(|n| n.group == g)
            .map(|n| n.ssd.capacity())
            .sum();
        if cap > 0.0 {
            push(format!("ssd: {}", w.name), ssd, cap, &mut series);
        }
    }
    let prep_nodes = e.prep_nodes.len() as f64;
    push(
        "pre-processing nodes".into(),
        t.prep_busy,
        prep_nodes,
        &mut series,
    );
    push(
        "link: storage".into(),
        t.link_rate,
        e.f.storage.link_bytes_per_s,
        &mut series,
    );
    let storage_cap = e.f.storage.capacity_bytes as f64;
    let mut storage_days = Gauge::day_means(&t.storage.finish(), h);
    for v in &mut storage_days {
        *v /= storage_cap;
    }
    series.push(("storage capacity".into(), storage_days));
    let gq = t.gpu_queue.finish();
    let pq = t.prep_queue.finish();
    let little = little_gap(
        gq.iter().sum(),
        e.tally.gpu_waits.iter().map(|w| (w.1, w.2)),
        h,
    )
    .max(little_gap(
        pq.iter().sum(),
        e.tally.prep_waits.iter().copied(),
        h,
    ));
    let levels = Levels {
        series,
        gpu_queue: Gauge::day_means(&gq, h),
        mean_gpu_queue: gq.iter().sum::<f64>() / h,
        mean_prep_queue: pq.iter().sum::<f64>() / h,
    };
    (levels, max_u, little)
}

/// Replicate runs of one variant into its result.
pub(super) fn variant(
    name: &str,
    runs: &[Run],
    lab_names: &[String],
    capacity: u64,
    start: u64,
) -> Variant {
    let labs = lab_times(runs, lab_names);
    let first = &runs[0];
    let mut all_gpu: Vec<f64> = runs.iter().flat_map(|r| r.gpu_waits.concat()).collect();
    let mut all_prep: Vec<f64> = runs.iter().flat_map(|r| r.prep_waits.clone()).collect();
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let n = runs.len() as f64;
    let queues = vec![
        QueueStats {
            queue: "gpu".into(),
            jobs: all_gpu.len() as u64,
            mean_wait_h: mean(&all_gpu),
            wait_h: spread(&mut all_gpu),
            mean_length: runs.iter().map(|r| r.levels.mean_gpu_queue).sum::<f64>() / n,
        },
        QueueStats {
            queue: "pre-processing".into(),
            jobs: all_prep.len() as u64,
            mean_wait_h: mean(&all_prep),
            wait_h: spread(&mut all_prep),
            mean_length: runs.iter().map(|r| r.levels.mean_prep_queue).sum::<f64>() / n,
        },
    ];
    let resources = utilisation(runs);
    let storage = StorageUse {
        capacity_bytes: capacity,
        start_bytes: start,
        end_bytes: first.storage_end.min(u64::MAX as f64) as u64,
        full_on_day: first.storage_full_at.map(|t| t / 86_400.0),
    };
    let binding = binding(&resources, &queues, &storage);
    Variant {
        name: name.to_string(),
        sessions: runs.iter().map(|r| r.sessions).sum::<u64>() / runs.len() as u64,
        datasets: runs
            .iter()
            .map(|r| r.datasets.iter().sum::<u64>())
            .sum::<u64>()
            / runs.len() as u64,
        finished: runs
            .iter()
            .map(|r| r.finals.iter().map(|v| v.len() as u64).sum::<u64>())
            .sum::<u64>()
            / runs.len() as u64,
        timeline: timeline(first),
        time_to_final_cdf: cdf(runs, lab_names),
        checks: worst_checks(runs),
        labs,
        queues,
        resources,
        storage,
        binding,
        cost: None,
    }
}

fn lab_times(runs: &[Run], lab_names: &[String]) -> Vec<LabTimes> {
    lab_names
        .iter()
        .enumerate()
        .map(|(l, name)| {
            let mut first: Vec<f64> = runs.iter().flat_map(|r| r.first_map[l].clone()).collect();
            let mut fin: Vec<f64> = runs.iter().flat_map(|r| r.finals[l].clone()).collect();
            let mut waits: Vec<f64> = runs.iter().flat_map(|r| r.gpu_waits[l].clone()).collect();
            let p50s: Vec<f64> = runs
                .iter()
                .filter_map(|r| spread(&mut r.finals[l].clone()).map(|s| s.p50))
                .collect();
            let range = (runs.len() > 1 && !p50s.is_empty()).then(|| {
                let lo = p50s.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = p50s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi)
            });
            LabTimes {
                lab: name.clone(),
                datasets: runs.iter().map(|r| r.datasets[l]).sum::<u64>() / runs.len() as u64,
                finished: fin.len() as u64 / runs.len() as u64,
                first_map_h: spread(&mut first),
                final_h: spread(&mut fin),
                queue_wait_h: spread(&mut waits),
                final_p50_range_h: range,
            }
        })
        .collect()
}

fn utilisation(runs: &[Run]) -> Vec<Utilisation> {
    let names: Vec<&String> = runs[0].levels.series.iter().map(|s| &s.0).collect();
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.as_str() != "storage capacity")
        .map(|(i, name)| {
            let per_run: Vec<&Vec<f64>> = runs.iter().map(|r| &r.levels.series[i].1).collect();
            let days = per_run[0].len().max(1) as f64;
            let mean = per_run
                .iter()
                .map(|d| d.iter().sum::<f64>() / days)
                .sum::<f64>()
                / per_run.len() as f64;
            let peak = per_run
                .iter()
                .flat_map(|d| d.iter().copied())
                .fold(0.0, f64::max);
            Utilisation {
                resource: name.to_string(),
                mean,
                peak_day: peak,
            }
        })
        .collect()
}

/// What holds datasets back most: storage when it fills; the storage link
/// when it runs above 70 % (reads slow every job); else the queue whose
/// jobs wait longest on average (pre-processing nodes, or the busiest GPU
/// group); "none" when jobs wait under 3 minutes on average.
fn binding(res: &[Utilisation], queues: &[QueueStats], storage: &StorageUse) -> Binding {
    if let Some(day) = storage.full_on_day {
        return Binding {
            resource: "storage capacity".into(),
            evidence: format!("storage fills on day {day:.0}"),
        };
    }
    let mean_wait = |q: &str| {
        queues
            .iter()
            .find(|x| x.queue == q)
            .map_or(0.0, |x| x.mean_wait_h)
    };
    let (gpu_wait, prep_wait) = (mean_wait("gpu"), mean_wait("pre-processing"));
    let use_of = |name: &str| res.iter().find(|u| u.resource == name);
    let busiest_gpu = res
        .iter()
        .filter(|u| u.resource.starts_with("gpu:"))
        .max_by(|a, b| a.mean.total_cmp(&b.mean));
    let waits = format!("mean waits: GPU jobs {gpu_wait:.2} h, pre-processing {prep_wait:.2} h");
    let busy = |u: &Utilisation| {
        format!(
            "busy {:.0} % on average, {:.0} % on the busiest day",
            u.mean * 100.0,
            u.peak_day * 100.0
        )
    };
    let pick = match use_of("link: storage") {
        Some(link) if link.mean > 0.7 => Some(link),
        _ if gpu_wait.max(prep_wait) < 0.05 => None,
        _ if prep_wait >= gpu_wait => use_of("pre-processing nodes"),
        _ => busiest_gpu,
    };
    match pick {
        Some(u) => Binding {
            resource: u.resource.clone(),
            evidence: format!("{}; {waits}", busy(u)),
        },
        None => Binding {
            resource: "none".into(),
            evidence: format!(
                "jobs rarely wait ({waits}); time to structure is the jobs' own time"
            ),
        },
    }
}

fn timeline(r: &Run) -> Vec<DayPoint> {
    let find = |prefix: &str| -> Vec<&Vec<f64>> {
        r.levels
            .series
            .iter()
            .filter(|s| s.0.starts_with(prefix))
            .map(|s| &s.1)
            .collect()
    };
    let avg = |v: &[&Vec<f64>], d: usize| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().map(|s| s[d]).sum::<f64>() / v.len() as f64
        }
    };
    let (gpu, ssd, prep, link, storage) = (
        find("gpu:"),
        find("ssd:"),
        find("pre-"),
        find("link:"),
        find("storage"),
    );
    (0..r.levels.gpu_queue.len())
        .map(|d| DayPoint {
            day: d as u32,
            gpu: avg(&gpu, d),
            preprocessing: avg(&prep, d),
            link: avg(&link, d),
            ssd: avg(&ssd, d),
            storage: avg(&storage, d),
            gpu_queue: r.levels.gpu_queue[d],
        })
        .collect()
}

fn cdf(runs: &[Run], lab_names: &[String]) -> Vec<LabCdf> {
    lab_names
        .iter()
        .enumerate()
        .filter_map(|(l, name)| {
            let mut v: Vec<f64> = runs.iter().flat_map(|r| r.finals[l].clone()).collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
            Some(LabCdf {
                lab: name.clone(),
                hours: (0..=20).map(|i| q(f64::from(i) / 20.0)).collect(),
            })
        })
        .collect()
}

fn worst_checks(runs: &[Run]) -> Checks {
    Checks {
        littles_law_error: runs
            .iter()
            .map(|r| r.checks.littles_law_error)
            .fold(0.0, f64::max),
        bytes_demanded: runs.iter().map(|r| r.checks.bytes_demanded).sum(),
        bytes_read: runs.iter().map(|r| r.checks.bytes_read).sum(),
        max_utilisation: runs
            .iter()
            .map(|r| r.checks.max_utilisation)
            .fold(0.0, f64::max),
    }
}
