use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cryocap::datasets::Catalog;
use cryocap::results::plan::Dtype;
use cryocap::sizing::stack::{SizeModel, max_box_for_capacity, stack_size};
use cryocap::sizing::{storage_time, vram};
use cryocap::units::GIB;

fn sizing(c: &mut Criterion) {
    let catalog = Catalog::get().expect("shipped datasets parse");
    let nu = catalog
        .vram_jobs
        .iter()
        .find(|j| j.job == "nu-refine")
        .unwrap();
    let hdd = catalog.storage_tier("hdd").unwrap();
    let exact = SizeModel::Exact {
        particles_per_file: 1000,
        nsymbt: 0,
    };

    c.bench_function("stack_size/guide", |b| {
        b.iter(|| {
            stack_size(
                black_box(2_000_000),
                black_box(432),
                Dtype::F32,
                SizeModel::Guide,
            )
        })
    });
    c.bench_function("stack_size/exact", |b| {
        b.iter(|| stack_size(black_box(2_000_000), black_box(432), Dtype::F32, exact))
    });
    c.bench_function("max_box_for_capacity", |b| {
        b.iter(|| {
            max_box_for_capacity(
                black_box(2_000_000),
                Dtype::F32,
                exact,
                black_box(1_000_000_000_000),
                8192,
            )
        })
    });
    c.bench_function("vram/bytes_needed", |b| {
        b.iter(|| vram::bytes_needed(nu, black_box(432), 1))
    });
    c.bench_function("vram/max_box", |b| {
        b.iter(|| vram::max_box(nu, black_box(12 * GIB), 1))
    });
    c.bench_function("storage/random_pass", |b| {
        b.iter(|| storage_time::random_pass_seconds(hdd, black_box(2_000_000), black_box(746_496)))
    });
}

criterion_group!(benches, sizing);
criterion_main!(benches);
