//! `recommend` at scale: 10,000 candidate configurations (every catalog
//! GPU × 1/2/4/8 per node × every storage tier × RAM, cores and SSD
//! choices) ranked for a two-class workload, with the SSD cache fill
//! simulated once per SSD size and every job of every chain timed by the
//! job-time model. Target: under 2 s.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cryocap::cache::fill::MonthFill;
use cryocap::datasets::Catalog;
use cryocap::results::plan::Dtype;
use cryocap::sizing::recommend::*;

fn workload() -> Vec<DatasetClass> {
    vec![
        DatasetClass {
            name: "soluble".into(),
            per_month: 6.0,
            particles: 1_500_000,
            box_size: 256,
            dtype: Dtype::F32,
            chain: default_chain(),
        },
        DatasetClass {
            name: "membrane".into(),
            per_month: 2.0,
            particles: 3_000_000,
            box_size: 432,
            dtype: Dtype::F16,
            chain: default_chain(),
        },
    ]
}

fn setup() -> (Vec<Candidate>, PriceBook) {
    let catalog = Catalog::get().expect("shipped datasets parse");
    let mut out = Vec::new();
    for g in &catalog.gpus {
        let gpu = GpuOption {
            id: g.id.clone(),
            vram_bytes: g.vram_bytes(),
            memory_bandwidth_gb_s: g.memory_bandwidth_gb_s,
            fp32_tflops: g.fp32_tflops,
            board_power_w: g.board_power_w,
        };
        for per_node in [1, 2, 4, 8] {
            for t in &catalog.storage_tiers {
                let tier = TierOption {
                    id: t.id.clone(),
                    read_bytes_per_s: t.seq_read_bytes_per_s(),
                    measured: None,
                };
                for ram in [256u64 << 30, 512 << 30] {
                    for cores in [32, 64] {
                        for ssd in [2_000_000_000_000u64, 4_000_000_000_000, 8_000_000_000_000] {
                            out.push(Candidate {
                                gpu: gpu.clone(),
                                per_node,
                                tier: tier.clone(),
                                spec: NodeSpec {
                                    ram_bytes: Some(ram),
                                    cores: Some(cores),
                                    ssd_bytes: Some(ssd),
                                },
                                fill: None,
                            });
                        }
                    }
                }
            }
        }
    }
    out.truncate(10_000);
    assert_eq!(out.len(), 10_000, "the catalog gives too few candidates");
    let prices = PriceBook {
        currency: "USD".into(),
        node_base: 10_000.0,
        ram_per_gb: Some(4.0),
        per_core: Some(60.0),
        ssd_per_tb: Some(120.0),
        gpus: catalog
            .gpus
            .iter()
            .map(|g| (g.id.clone(), 2_000.0))
            .collect(),
        tiers: catalog
            .storage_tiers
            .iter()
            .map(|t| (t.id.clone(), 800.0))
            .collect(),
    };
    (out, prices)
}

fn rank(c: &mut Criterion) {
    let catalog = Catalog::get().expect("shipped datasets parse");
    let (candidates, prices) = setup();
    let times = cryocap::jobtime::shipped_model().expect("shipped job times");
    let w = workload();
    let limits = Constraints {
        budget: Some(200_000.0),
        max_nodes: 4,
        nodes: None,
        target_per_month: 40.0,
        max_hours_per_dataset: Some(24.0),
        years: 5.0,
        min_ram_per_gpu: 32 << 30,
        min_cores_per_gpu: 2,
        power_price: Some(0.25),
        base_power_w: 400.0,
    };
    let mut group = c.benchmark_group("recommend");
    group.sample_size(10);
    group.bench_function("rank_10000_candidates_with_cache_fill", |b| {
        b.iter(|| {
            let mut month = MonthFill::new(&w).expect("trace");
            let mut cs = candidates.clone();
            for cand in &mut cs {
                if let Some(ssd) = cand.spec.ssd_bytes {
                    cand.fill = Some(Fill {
                        bytes_per_month: month.bytes_per_month(ssd),
                        rate: 1.1e9,
                    });
                }
            }
            let r = recommend(
                black_box(&w),
                black_box(&cs),
                &prices,
                &limits,
                &catalog.vram_jobs,
                times,
            );
            assert_eq!(month.simulations, 3);
            black_box(r)
        })
    });
    group.finish();
}

criterion_group!(benches, rank);
criterion_main!(benches);
