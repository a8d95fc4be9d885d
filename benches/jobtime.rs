//! The job-time model's query: 10,000 `predict` calls over every catalog
//! GPU, GPU counts, job types and boxes, as `recommend` makes them for
//! 10,000 candidate configurations. Target: under 50 ms.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cryocap::datasets::Catalog;
use cryocap::jobtime::{Device, JobQuery, jobs, shipped_model};

fn queries() -> Vec<JobQuery> {
    let catalog = Catalog::get().expect("shipped datasets parse");
    let mut out = Vec::new();
    'fill: for job in jobs::JOB_TYPES {
        for g in &catalog.gpus {
            for count in [1, 2, 4, 8] {
                for box_size in [128, 256, 360, 432, 600] {
                    out.push(JobQuery::new(
                        job,
                        1_000_000,
                        box_size,
                        Device::gpus(g, count),
                    ));
                    if out.len() == 10_000 {
                        break 'fill;
                    }
                }
            }
        }
    }
    // Repeat the set up to 10,000 if the catalog is small.
    let n = out.len();
    for i in 0..10_000usize.saturating_sub(n) {
        out.push(out[i % n].clone());
    }
    out
}

fn predict(c: &mut Criterion) {
    let model = shipped_model().expect("shipped job times");
    let qs = queries();
    assert_eq!(qs.len(), 10_000);
    c.bench_function("jobtime_predict_10000_queries", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for q in &qs {
                if let Ok(p) = model.predict(black_box(q)) {
                    sum += p.seconds;
                }
            }
            black_box(sum)
        })
    });
}

criterion_group!(benches, predict);
criterion_main!(benches);
