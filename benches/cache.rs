//! The cache simulator's speed: job-file events per second over a generated
//! 100,000-event trace (target ≥ 1 M/s), and a 32-size sweep of it (target
//! under 5 s on a 2-core machine).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cryocap::cache::simulate::{SimParams, simulate};
use cryocap::cache::sweep::{SweepParams, sizes, sweep};
use cryocap::cache::trace::{Trace, TraceBuilder};
use cryocap::cache::workload::WorkloadParams;
use cryocap::cache::workload::generate;

/// The first 100,000 rows (in start order) of a seeded 12-project workload.
fn trace_100k() -> Trace {
    let rows = generate(
        &WorkloadParams {
            projects: 12,
            days: 60.0,
            seed: 3,
            particles_per_file: 1000,
        },
        &[256, 300, 320, 360, 448],
    );
    let mut b = TraceBuilder::default();
    for r in rows.iter().take(100_000) {
        b.add(&r.job, r.start_s, r.duration_s, &r.stack, r.bytes)
            .expect("generated rows are valid");
    }
    b.finish()
}

fn bench(c: &mut Criterion) {
    let trace = trace_100k();
    let mut g = c.benchmark_group("cache");
    g.sample_size(10);
    g.throughput(Throughput::Elements(trace.events as u64));
    g.bench_function("simulate_100k_events_1.5TB", |b| {
        b.iter(|| {
            simulate(
                &trace,
                &SimParams {
                    capacity_bytes: 1_500_000_000_000,
                    lifetime_s: 30.0 * 86_400.0,
                    copy_rate: 500e6,
                },
            )
        })
    });
    let s = sizes(250_000_000_000, 8_000_000_000_000, 32);
    g.throughput(Throughput::Elements((trace.events * s.len()) as u64));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    g.bench_function("sweep_32_sizes_100k_events", |b| {
        b.iter(|| {
            sweep(
                &trace,
                &s,
                &SweepParams {
                    quota_bytes: None,
                    reserve_bytes: 10_000 << 20,
                    foreign_bytes: 0,
                    lifetime_s: 30.0 * 86_400.0,
                    copy_rate: 500e6,
                },
                threads,
                &|| {},
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
