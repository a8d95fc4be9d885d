//! What the read harness adds to each particle read: generating the access
//! pattern and recording the latency in the HDR histogram, next to the cost
//! of the thing they wrap, one 256 KiB O_DIRECT read. The goal is under 1 %.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cryocap::storage::direct_io::{self, AlignedBuf};
use cryocap::storage::patterns::{Orders, Pattern};
use hdrhistogram::Histogram;

const PARTICLES: u32 = 100_000;
const READ: usize = 256 * 1024;

fn overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("per_particle");
    g.throughput(Throughput::Elements(u64::from(PARTICLES)));
    for p in [Pattern::Random, Pattern::Epochs(2), Pattern::Subset(1.0)] {
        g.bench_function(format!("order_{}", p.label()), |b| {
            let mut out = Vec::new();
            b.iter(|| {
                let o = Orders::new(p, PARTICLES, 7);
                o.fill(1, &mut out);
                black_box(&out);
            })
        });
    }
    g.bench_function("histogram_record", |b| {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        let mut v = 150_000u64;
        b.iter(|| {
            for _ in 0..PARTICLES {
                v = v
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407)
                    % 5_000_000
                    + 1;
                h.saturating_record(black_box(v));
            }
        })
    });
    g.finish();

    // The read these costs sit next to: 256 KiB with O_DIRECT at random
    // aligned offsets of a 64 MiB file beside the build.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("read.bin");
    std::fs::write(&path, vec![0x3c; 64 << 20]).unwrap();
    let align = direct_io::alignment(&path);
    let f = direct_io::open_read(&path, true, &align).unwrap();
    eprintln!("256 KiB reads: direct = {} ({:?})", f.direct, f.fallback);
    let mut buf = AlignedBuf::new(READ, 4096).unwrap();
    let blocks = (64 << 20) / READ as u64;
    let mut k = 1u64;
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Bytes(READ as u64));
    g.bench_function("pread_256KiB", |b| {
        b.iter(|| {
            k = k.wrapping_mul(2862933555777941757).wrapping_add(3037000493);
            let off = (k >> 33) % blocks * READ as u64;
            black_box(direct_io::pread_full(&f.file, buf.as_mut_slice(), off).unwrap());
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = overhead
}
criterion_main!(benches);
