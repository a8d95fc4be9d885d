//! CPU reference backprojector: trilinear insertion of one particle's
//! Fourier transform (already computed) into the padded grid, and the 2D FFT
//! that precedes it, at box 64 and 128. Throughput is in particles.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use cryocap::recon::euler::EulerAngles;
use cryocap::recon::fourier::ImageFft;
use cryocap::recon::{Backprojector, Phantom};
use rand::SeedableRng;

fn backproject(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu_backproject");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for n in [64usize, 128] {
        let phantom = Phantom::random(n, 12, 1);
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let rotations: Vec<_> = (0..64)
            .map(|_| EulerAngles::random(&mut rng).matrix())
            .collect();
        let mut fft = ImageFft::new(n);
        let image = phantom.project(&rotations[0], [0.0, 0.0]);
        let fourier = fft.forward(&image, [0.0, 0.0]);
        for pad in [1usize, 2] {
            let mut bp = Backprojector::new(n, pad);
            let mut i = 0;
            group.bench_function(BenchmarkId::new(format!("insert/pad{pad}"), n), |b| {
                b.iter(|| {
                    i = (i + 1) % rotations.len();
                    bp.insert(black_box(&fourier), &rotations[i]);
                })
            });
        }
        group.bench_function(BenchmarkId::new("fft2d_shift", n), |b| {
            b.iter(|| fft.forward(black_box(&image), [1.5, -0.5]))
        });
    }
    group.finish();
}

criterion_group!(benches, backproject);
criterion_main!(benches);
