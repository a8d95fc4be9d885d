//! The ranking, checked on small workloads and the shipped model.

use super::*;
use crate::datasets::Catalog;
use crate::results::plan::Dtype;
use proptest::prelude::*;

fn model() -> &'static Model {
    crate::jobtime::shipped_model().unwrap()
}

fn gpu(id: &str, vram_gib: u64, gb_s: f64) -> GpuOption {
    GpuOption {
        id: id.into(),
        vram_bytes: vram_gib << 30,
        memory_bandwidth_gb_s: gb_s,
        fp32_tflops: Catalog::get().unwrap().gpu(id).unwrap().fp32_tflops,
        board_power_w: 300.0,
    }
}

fn tier(id: &str, mb_s: f64) -> TierOption {
    TierOption {
        id: id.into(),
        read_bytes_per_s: mb_s * 1e6,
        measured: None,
    }
}

fn workload(box_size: u32) -> Vec<DatasetClass> {
    vec![DatasetClass {
        name: "lab".into(),
        per_month: 4.0,
        particles: 2_000_000,
        box_size,
        dtype: Dtype::F32,
        chain: default_chain(),
    }]
}

fn candidates() -> Vec<Candidate> {
    let gpus = [
        gpu("rtx-3090", 24, 936.0),
        gpu("rtx-a4000", 16, 448.0),
        gpu("a100-80gb", 80, 1935.0),
        gpu("rtx-3060", 12, 360.0),
    ];
    let tiers = [tier("nfs-10gbe", 1100.0), tier("nvme-gen4", 7400.0)];
    let mut out = Vec::new();
    for g in &gpus {
        for n in [2, 4, 8] {
            for t in &tiers {
                out.push(Candidate {
                    gpu: g.clone(),
                    per_node: n,
                    tier: t.clone(),
                    spec: NodeSpec::default(),
                    fill: None,
                });
            }
        }
    }
    out
}

fn prices() -> PriceBook {
    PriceBook {
        currency: "USD".into(),
        node_base: 8000.0,
        gpus: vec![
            ("rtx-3090".into(), 1500.0),
            ("rtx-a4000".into(), 1000.0),
            ("a100-80gb".into(), 15000.0),
            ("rtx-3060".into(), 300.0),
        ],
        tiers: vec![("nfs-10gbe".into(), 500.0), ("nvme-gen4".into(), 1200.0)],
        ..PriceBook::default()
    }
}

fn limits() -> Constraints {
    Constraints {
        budget: None,
        max_nodes: 4,
        nodes: None,
        target_per_month: 4.0,
        max_hours_per_dataset: None,
        years: 5.0,
        min_ram_per_gpu: 32 << 30,
        min_cores_per_gpu: 2,
        power_price: None,
        base_power_w: 0.0,
    }
}

fn jobs() -> &'static [VramJob] {
    &Catalog::get().unwrap().vram_jobs
}

#[test]
fn every_default_chain_job_has_a_job_time_type() {
    for step in default_chain() {
        assert!(
            crate::jobtime::jobs::find(&step.job).is_some(),
            "{}",
            step.job
        );
    }
}

#[test]
fn hand_arithmetic_of_one_node() {
    // 2e6 particles at box 256, f32: (4·256² + 128 + 1024)·2e6 bytes.
    let mut class = workload(256)[0].clone();
    assert_eq!(class.stack_bytes(), (4 * 65_536 + 1152) * 2_000_000);
    class.chain = vec![JobStep {
        job: "relion-class3d".into(),
        passes: 25,
    }];
    let c = Candidate {
        gpu: gpu("rtx-3090", 24, 936.0),
        per_node: 2,
        tier: tier("nfs-10gbe", 1100.0),
        spec: NodeSpec::default(),
        fill: None,
    };
    // RELION waits for its reads: the model's compute plus 25 passes.
    let cat = Catalog::get().unwrap();
    let mut q = crate::jobtime::JobQuery::new(
        crate::jobtime::jobs::find("relion-class3d").unwrap(),
        2_000_000,
        256,
        crate::jobtime::Device::gpus(cat.gpu("rtx-3090").unwrap(), 2),
    );
    q.iterations = Some(25.0);
    let compute = model().predict(&q).unwrap().seconds;
    let read = class.stack_bytes() as f64 / 1.1e9 * 25.0;
    let t = crate::sizing::dataset_time::dataset_time(&class, &c, model()).unwrap();
    assert!((t.hours - (compute + read) / 3600.0).abs() < 1e-9);
    assert!(t.low < t.hours && t.hours < t.high);
    assert_eq!(t.jobs[0].basis, "extrapolated");
    assert_eq!(
        t.jobs[0].bottleneck,
        if compute > read { "gpu" } else { "storage" }
    );
}

#[test]
fn small_vram_is_pruned_with_the_reason() {
    let r = recommend(
        &workload(800),
        &candidates(),
        &prices(),
        &limits(),
        jobs(),
        model(),
    );
    assert!(r.vram_needed_bytes > 12 << 30, "{}", r.vram_needed_bytes);
    assert!(r.pruned.iter().any(|p| p.label.contains("rtx-3060")));
    assert!(r.ranked.iter().all(|x| x.gpu != "rtx-3060"));
    assert!(r.pruned.iter().all(|p| p.reason.contains("VRAM")));
}

#[test]
fn a_big_target_is_met_by_more_nodes_or_not_at_all() {
    let mut l = limits();
    l.target_per_month = 1e6;
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    assert!(r.chosen.is_none());
    assert!(r.ranked.iter().all(|x| x.nodes == 4 && !x.meets_target));
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &limits(),
        jobs(),
        model(),
    );
    let chosen = &r.ranked[r.chosen.unwrap()];
    assert!(chosen.meets_target);
    assert!(
        r.ranked
            .iter()
            .filter(|x| x.meets_target)
            .all(|x| x.fleet_price >= chosen.fleet_price)
    );
}

#[test]
fn power_adds_energy_per_dataset_by_hand() {
    let mut l = limits();
    let a = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    l.power_price = Some(0.25);
    l.base_power_w = 400.0;
    let b = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    for y in &b.ranked {
        let x = a.ranked.iter().find(|x| x.label == y.label).unwrap();
        // (GPUs × 300 W + 400 W) × hours / 1000 × 0.25 per kWh
        let kwh = (f64::from(y.per_node) * 300.0 + 400.0) * y.hours_per_dataset / 1000.0;
        assert!((y.energy_per_dataset.unwrap() - kwh * 0.25).abs() < 1e-9);
        assert!((y.cost_per_dataset - x.cost_per_dataset - kwh * 0.25).abs() < 1e-9);
    }
}

#[test]
fn cost_per_million_particle_passes_by_hand() {
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &limits(),
        jobs(),
        model(),
    );
    for x in &r.ranked {
        // 2e6 particles × 85 passes = 170 million particle-passes a dataset.
        assert!((x.cost_per_million_particle_passes - x.cost_per_dataset / 170.0).abs() < 1e-12);
    }
}

#[test]
fn fixed_node_count_and_hours_target() {
    let mut l = limits();
    l.nodes = Some(3);
    l.max_nodes = 3;
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    assert!(r.ranked.iter().all(|x| x.nodes == 3));
    // An hours target between the fastest and slowest configurations.
    let mut hs: Vec<f64> = r
        .ranked
        .iter()
        .map(|x| x.slowest_hours_per_dataset)
        .collect();
    hs.sort_by(f64::total_cmp);
    let cut = (hs[0] + hs[hs.len() - 1]) / 2.0;
    l.max_hours_per_dataset = Some(cut);
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    for x in &r.ranked {
        assert_eq!(
            x.meets_target,
            x.slowest_hours_per_dataset <= cut,
            "{}",
            x.label
        );
        if !x.meets_target {
            assert!(
                x.misses
                    .as_deref()
                    .unwrap()
                    .starts_with("hours per dataset")
            );
        }
    }
    let chosen = &r.ranked[r.chosen.unwrap()];
    assert!(chosen.slowest_hours_per_dataset <= cut);
}

#[test]
fn what_would_change_names_the_next_cheaper_fleet_and_its_miss() {
    // A target between the quickest and the slowest configuration.
    let mut l = limits();
    let all = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    let mut hs: Vec<f64> = all
        .ranked
        .iter()
        .map(|x| x.slowest_hours_per_dataset)
        .collect();
    hs.sort_by(f64::total_cmp);
    l.max_hours_per_dataset = Some(hs[hs.len() / 4]);
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &l,
        jobs(),
        model(),
    );
    let chosen = &r.ranked[r.chosen.unwrap()];
    let next = r
        .ranked
        .iter()
        .filter(|x| x.fleet_price < chosen.fleet_price)
        .max_by(|a, b| {
            a.fleet_price
                .total_cmp(&b.fleet_price)
                .then(b.label.cmp(&a.label))
        })
        .unwrap();
    let change = r.change.unwrap();
    assert!(change.contains(&next.label), "{change}");
    assert!(change.contains(next.misses.as_deref().unwrap()), "{change}");
    assert!(change.contains("misses hours per dataset"), "{change}");
}

#[test]
fn pruned_configurations_are_explained_by_constraint() {
    let r = recommend(
        &workload(800),
        &candidates(),
        &prices(),
        &limits(),
        jobs(),
        model(),
    );
    let why = explain_pruned(&r.pruned);
    assert!(why.starts_with("VRAM removed 12 (2× rtx-a4000"), "{why}");
    let mut p = prices();
    p.gpus.retain(|g| g.0 != "rtx-3090");
    let r = recommend(
        &workload(800),
        &candidates(),
        &p,
        &limits(),
        jobs(),
        model(),
    );
    let why = explain_pruned(&r.pruned);
    assert!(
        why.contains("VRAM removed 12") && why.contains("price removed 6"),
        "{why}"
    );
}

fn with_specs() -> (Vec<Candidate>, PriceBook) {
    let mut out = Vec::new();
    for c in candidates() {
        for ram in [64u64 << 30, 256 << 30] {
            for cores in [8, 32] {
                for ssd in [1_000_000_000_000u64, 2_000_000_000_000] {
                    let mut c = c.clone();
                    c.spec = NodeSpec {
                        ram_bytes: Some(ram),
                        cores: Some(cores),
                        ssd_bytes: Some(ssd),
                    };
                    out.push(c);
                }
            }
        }
    }
    let mut p = prices();
    p.ram_per_gb = Some(4.0);
    p.per_core = Some(60.0);
    p.ssd_per_tb = Some(120.0);
    (out, p)
}

#[test]
fn ram_cores_and_ssd_prune_with_the_constraint_named() {
    // Box 432, 2e6 particles: a 1.50 TB stack, over a 1 TB SSD.
    let (cs, p) = with_specs();
    let r = recommend(&workload(432), &cs, &p, &limits(), jobs(), model());
    for x in &r.ranked {
        let c = cs.iter().find(|c| c.label() == x.label).unwrap();
        let n = u64::from(c.per_node);
        assert!(c.spec.ram_bytes.unwrap() >= n * (32 << 30), "{}", x.label);
        assert!(c.spec.cores.unwrap() >= 2 * c.per_node, "{}", x.label);
        assert_eq!(c.spec.ssd_bytes, Some(2_000_000_000_000), "{}", x.label);
        // node-base + GPUs + tier + RAM (GB) + cores + SSD (TB)
        let want = 8000.0
            + f64::from(c.per_node) * p.gpu(&c.gpu.id).unwrap()
            + p.tier(&c.tier.id).unwrap()
            + 4.0 * c.spec.ram_bytes.unwrap() as f64 / 1e9
            + 60.0 * f64::from(c.spec.cores.unwrap())
            + 120.0 * 2.0;
        assert!(
            (x.node_price - want).abs() < 1e-6,
            "{}: {} vs {want}",
            x.label,
            x.node_price
        );
    }
    let why = explain_pruned(&r.pruned);
    for kind in [
        "RAM per GPU removed",
        "cores per GPU removed",
        "SSD removed",
    ] {
        assert!(why.contains(kind), "{why}");
    }
    assert!(r.pruned.iter().any(
        |p| p.constraint == "SSD" && p.reason == "SSD 1.00 TB below the largest stack, 1.50 TB"
    ));
    assert_eq!(r.ranked.len() + r.pruned.len(), cs.len());
}

#[test]
fn a_faster_gpu_ranks_differently_and_the_gpu_is_the_bottleneck_on_fast_storage() {
    let r = recommend(
        &workload(256),
        &candidates(),
        &prices(),
        &limits(),
        jobs(),
        model(),
    );
    let nvme: Vec<&Ranked> = r.ranked.iter().filter(|x| x.tier == "nvme-gen4").collect();
    assert!(
        nvme.iter().all(|x| x.bottleneck == Bottleneck::Gpu),
        "{nvme:?}"
    );
    let hours = |g: &str| {
        nvme.iter()
            .find(|x| x.gpu == g && x.per_node == 4)
            .unwrap()
            .hours_per_dataset
    };
    assert!(hours("a100-80gb") < hours("rtx-3090"));
    assert!(hours("rtx-3090") < hours("rtx-a4000"));
}

proptest! {
    #[test]
    fn price_scaling_scales_costs_and_keeps_ranking(k in 0.01f64..100.0, box_size in 64u32..700) {
        let w = workload(box_size);
        let a = recommend(&w, &candidates(), &prices(), &limits(), jobs(), model());
        let b = recommend(&w, &candidates(), &prices().scaled(k), &limits(), jobs(), model());
        prop_assert_eq!(a.ranked.len(), b.ranked.len());
        for (x, y) in a.ranked.iter().zip(&b.ranked) {
            prop_assert_eq!(&x.label, &y.label);
            prop_assert!((y.cost_per_dataset - k * x.cost_per_dataset).abs() <= 1e-9 * y.cost_per_dataset.abs().max(1.0));
            prop_assert!((y.fleet_price - k * x.fleet_price).abs() <= 1e-9 * y.fleet_price.max(1.0));
            prop_assert!((y.cost_per_million_particle_passes - k * x.cost_per_million_particle_passes).abs()
                <= 1e-9 * y.cost_per_million_particle_passes.abs().max(1e-12));
        }
        prop_assert_eq!(a.frontier, b.frontier);
    }

    #[test]
    fn frontier_points_are_non_dominated(box_size in 64u32..700, base in 0.0f64..50_000.0) {
        let mut p = prices();
        p.node_base = base;
        let r = recommend(&workload(box_size), &candidates(), &p, &limits(), jobs(), model());
        for f in &r.frontier {
            let me = r.ranked.iter().find(|x| &x.label == f).unwrap();
            for o in &r.ranked {
                prop_assert!(!dominates(
                    (o.node_price, o.datasets_per_month_per_node),
                    (me.node_price, me.datasets_per_month_per_node)));
            }
        }
        // Every feasible point off the frontier is dominated by one on it.
        for x in r.ranked.iter().filter(|x| !r.frontier.contains(&x.label)) {
            prop_assert!(r.ranked.iter().any(|o| dominates(
                (o.node_price, o.datasets_per_month_per_node),
                (x.node_price, x.datasets_per_month_per_node))));
        }
    }

    #[test]
    fn a_dominated_candidate_leaves_the_frontier(box_size in 64u32..700, slow in 0.01f64..0.99, extra in 1.0f64..10_000.0) {
        let w = workload(box_size);
        let a = recommend(&w, &candidates(), &prices(), &limits(), jobs(), model());
        // A copy of a frontier GPU that is slower and dearer.
        let Some(first) = a.ranked.iter().find(|x| a.frontier.contains(&x.label)) else {
            return Ok(());
        };
        let base = candidates().into_iter().find(|c| c.label() == first.label).unwrap();
        let mut worse = base.clone();
        worse.gpu.id = "worse-gpu".into();
        worse.gpu.memory_bandwidth_gb_s *= slow;
        worse.gpu.fp32_tflops *= slow;
        let mut p = prices();
        p.gpus.push(("worse-gpu".into(), p.gpu(&base.gpu.id).unwrap() + extra));
        let mut cs = candidates();
        cs.push(worse);
        let b = recommend(&w, &cs, &p, &limits(), jobs(), model());
        prop_assert_eq!(a.frontier, b.frontier);
    }

    #[test]
    fn no_infeasible_spec_is_listed(box_size in 64u32..1200, particles in 1_000u64..5_000_000) {
        let (cs, p) = with_specs();
        let mut w = workload(box_size);
        w[0].particles = particles;
        let r = recommend(&w, &cs, &p, &limits(), jobs(), model());
        for x in &r.ranked {
            let c = cs.iter().find(|c| c.label() == x.label).unwrap();
            prop_assert!(c.gpu.vram_bytes >= r.vram_needed_bytes);
            prop_assert!(c.spec.ram_bytes.unwrap() >= u64::from(c.per_node) * (32 << 30));
            prop_assert!(c.spec.cores.unwrap() >= 2 * c.per_node);
            prop_assert!(c.spec.ssd_bytes.unwrap() >= w[0].stack_bytes());
        }
        prop_assert_eq!(r.ranked.len() + r.pruned.len(), cs.len());
    }

    #[test]
    fn no_infeasible_configuration_is_listed(box_size in 64u32..1200) {
        let r = recommend(&workload(box_size), &candidates(), &prices(), &limits(), jobs(), model());
        for x in &r.ranked {
            let c = candidates().into_iter().find(|c| c.label() == x.label).unwrap();
            prop_assert!(c.gpu.vram_bytes >= r.vram_needed_bytes);
        }
        prop_assert_eq!(r.ranked.len() + r.pruned.len(), candidates().len());
    }
}
