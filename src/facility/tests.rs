//! The simulator against queueing theory and against itself.

use super::jobs::{ClassJobs, Draw, JobTable, JobTime};
use super::model::*;
use super::*;
use crate::results::plan::Dtype;
use crate::sizing::recommend::{DatasetClass, JobStep};

/// One lab, one microscope with Poisson sessions of no length, instant
/// pre-processing, `nodes` one-GPU workers: the GPU queue alone is an
/// M/G/c queue with arrival rate `per_hour`.
pub(super) fn queue(per_hour: f64, nodes: u32) -> Facility {
    Facility {
        microscopes: vec![Microscope {
            name: "m".into(),
            detector: "k3".into(),
            sessions_per_week: per_hour * 168.0,
            arrivals: Arrivals::Poisson,
            movies_per_session: 0,
            movie_bytes: 1.0,
            session_hours: 0.0,
            labs: vec![],
        }],
        storage: Storage {
            capacity_bytes: u64::MAX,
            used_bytes: 0,
            link_bytes_per_s: 1e9,
        },
        prep: vec![PrepGroup {
            name: "p".into(),
            count: 1,
            movies_per_hour: 1e6,
            bytes_per_s: None,
            bench_movies: None,
            rate_basis: "test".into(),
            link_bytes_per_s: 1e9,
        }],
        workers: vec![WorkerGroup {
            name: "w".into(),
            count: nodes,
            gpu: "rtx-a5000".into(),
            gpus: 1,
            memory_bandwidth_gb_s: 768.0,
            fp32_tflops: 27.8,
            ssd_bytes: 0,
            ssd_reserve: 0.0,
            ssd_read_bytes_per_s: 7e9,
            link_bytes_per_s: 1e9,
        }],
        scheduler: Scheduler {
            policy: Policy::Fifo,
            gpus_per_job: 1,
            max_gpus_per_lab: None,
        },
        labs: vec![Lab {
            name: "a".into(),
            share: 1.0,
            classes: vec![DatasetClass {
                name: "c".into(),
                per_month: 1.0,
                particles: 100_000,
                box_size: 256,
                dtype: Dtype::F32,
                chain: vec![JobStep {
                    job: "class3d".into(),
                    passes: 1,
                }],
            }],
        }],
    }
}

pub(super) fn tiny() -> Facility {
    queue(0.1, 2)
}

/// One job a dataset of `seconds`, drawn by `draw`, reading `stack` bytes.
fn table(seconds: f64, draw: Draw, stack: f64, groups: usize) -> JobTable {
    let job = JobTime {
        job: "relion-class3d",
        seconds,
        draw,
        passes: 2,
        overlaps_io: true,
        three_d: true,
    };
    vec![vec![ClassJobs {
        stack_bytes: stack,
        steps: vec![vec![job]; groups],
    }]]
}

/// Mean GPU queue wait in hours over `reps` replicates of `days`.
fn mean_wait(f: &Facility, t: &JobTable, days: f64, reps: u64) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for seed in 0..reps {
        let r = run_once(f, t, days, 1000 + seed);
        for w in r.gpu_waits.concat() {
            sum += w;
            n += 1;
        }
    }
    sum / n as f64
}

#[test]
fn mm1_mean_wait_is_rho_over_mu_minus_lambda() {
    // λ = 0.5/h, μ = 1/h: Wq = ρ/(μ − λ) = 1 h.
    let f = queue(0.5, 1);
    let t = table(3600.0, Draw::Exponential, 0.0, 1);
    let w = mean_wait(&f, &t, 4000.0, 6);
    eprintln!("M/M/1: simulated mean wait {w:.4} h, theory 1 h");
    assert!((w - 1.0).abs() < 0.05, "M/M/1 mean wait {w} h, theory 1 h");
}

/// Erlang C: the M/M/c mean wait (hours) at offered load `a` = λ/μ.
fn mmc_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / f64::from(k);
        sum += term;
    }
    let last = term * a / f64::from(c) / (1.0 - rho);
    let erlang_c = last / (sum + last);
    erlang_c / (f64::from(c) * mu - lambda)
}

#[test]
fn mdc_mean_wait_matches_cosmetatos() {
    // M/D/4 at ρ = 0.75 (λ = 3/h, D = 1 h): Cosmetatos' correction of
    // half the M/M/c wait (docs/sources.md §13).
    let (lambda, mu, c) = (3.0, 1.0, 4u32);
    let rho = lambda / (mu * f64::from(c));
    let cf = f64::from(c);
    let theory = 0.5
        * mmc_wait(lambda, mu, c)
        * (1.0 + (1.0 - rho) * (cf - 1.0) * ((4.0 + 5.0 * cf).sqrt() - 2.0) / (16.0 * rho * cf));
    let f = queue(lambda, c);
    let t = table(3600.0, Draw::Fixed, 0.0, 1);
    let w = mean_wait(&f, &t, 1500.0, 6);
    eprintln!("M/D/4: simulated mean wait {w:.4} h, Cosmetatos {theory:.4} h");
    assert!(
        (w - theory).abs() / theory < 0.05,
        "M/D/4 mean wait {w} h, theory {theory} h"
    );
}

/// A facility with reading: stacks over a shared link, SSD caches on half
/// the nodes, a fair-share scheduler.
fn with_reading() -> (Facility, JobTable) {
    let mut f = queue(0.4, 3);
    f.workers.push(WorkerGroup {
        name: "ssd".into(),
        ssd_bytes: 2_000_000_000_000,
        ssd_reserve: 0.1,
        ..f.workers[0].clone()
    });
    f.storage.link_bytes_per_s = 1.0e9;
    f.scheduler.policy = Policy::FairShare;
    f.microscopes[0].movies_per_session = 1000;
    f.microscopes[0].movie_bytes = 5e8;
    f.microscopes[0].session_hours = 2.0;
    f.prep[0].movies_per_hour = 800.0;
    let t = table(3600.0, Draw::LogNormal { sigma: 0.4 }, 3e11, 2);
    (f, t)
}

#[test]
fn littles_law_bytes_and_utilisation_hold_on_every_run() {
    let (f, t) = with_reading();
    for seed in 0..4 {
        let r = run_once(&f, &t, 60.0, seed);
        assert!(r.checks.littles_law_error < 1e-9, "{:?}", r.checks);
        let (d, b) = (r.checks.bytes_demanded, r.checks.bytes_read);
        assert!(d > 0.0 && (d - b).abs() / d < 1e-9, "{d} {b}");
        assert!(r.checks.max_utilisation <= 1.0 + 1e-9, "{:?}", r.checks);
        assert!(r.finals[0].iter().all(|h| *h >= 0.0));
    }
}

#[test]
fn a_seed_gives_one_run_and_seeds_differ() {
    let (f, t) = with_reading();
    let a = run_once(&f, &t, 30.0, 5);
    let b = run_once(&f, &t, 30.0, 5);
    let c = run_once(&f, &t, 30.0, 6);
    assert_eq!(a.finals, b.finals);
    assert_eq!(a.checks, b.checks);
    assert_ne!(a.finals, c.finals);
}

#[test]
fn more_nodes_shorten_the_wait_when_gpus_bind() {
    let f = queue(2.5, 3);
    let t = table(3600.0, Draw::Fixed, 0.0, 1);
    let slow = mean_wait(&f, &t, 60.0, 2);
    let g = whatif::apply(&f, "gpu-nodes+=1").unwrap();
    let fast = mean_wait(&g, &t, 60.0, 2);
    assert!(fast < slow / 2.0, "{slow} -> {fast}");
}
