//! A year of a facility with 4 microscopes, 20 four-GPU worker nodes and
//! 10 labs, one replicate on one thread: the acceptance target is under
//! 5 s on the 2-core development VM.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cryocap::datasets::Catalog;
use cryocap::facility::{Params, Study, config, study};
use cryocap::jobtime::shipped_model;

/// The facility file: microscopes with calendars and Poisson sessions,
/// 20 worker nodes, 10 labs.
fn facility_toml() -> String {
    let mut t =
        String::from("[storage]\ncapacity = \"5 PB\"\nused = \"1 PB\"\nlink = \"100GbE\"\n\n");
    for m in 0..4 {
        t += &format!(
            "[[microscope]]\nname = \"scope{m}\"\ndetector = \"k3\"\nsessions_per_week = 4\narrivals = \"poisson\"\nsession_hours = 24\nmovies_per_session = 10000\nmovie_size = \"600 MB\"\n\n"
        );
    }
    t += "[[preprocessing]]\nname = \"prep\"\ncount = 4\nmovies_per_hour = 800\nlink = \"25GbE\"\n\n";
    t += "[[workers]]\nname = \"w\"\ncount = 20\ngpu = \"rtx-a6000\"\ngpus = 4\nssd = \"8 TB\"\nlink = \"25GbE\"\n\n";
    t += "[scheduler]\npolicy = \"fair\"\ngpus_per_job = 2\n\n";
    for l in 0..10 {
        t += &format!(
            "[[lab]]\nname = \"lab{l}\"\nshare = {}\nworkload = \"lab{}.toml\"\n\n",
            1 + l % 3,
            l % 2
        );
    }
    t
}

const LABS: [&str; 2] = [
    "[[class]]\nname = \"a\"\nper_month = 3\nparticles = 800000\nbox = 320\nchain = [\"relion-class2d:25\", \"relion-class3d:25\", \"relion-refine3d:1\"]\n",
    "[[class]]\nname = \"b\"\nper_month = 5\nparticles = 300000\nbox = 256\nchain = [\"class2d:20\", \"homo-refine:10\"]\n",
];

fn year(c: &mut Criterion) {
    let catalog = Catalog::get().expect("shipped datasets parse");
    let f = config::parse(&facility_toml(), "bench.toml", catalog, &|name| {
        let i = usize::from(name == "lab1.toml");
        cryocap::sizing::workload::parse(LABS[i], name, catalog).map_err(|e| e.0)
    })
    .expect("the bench facility parses");
    let model = shipped_model().expect("shipped job times");
    let s = Study {
        config: "bench.toml".into(),
        what_ifs: &[],
        model,
        model_basis: String::new(),
        prices: None,
    };
    let p = Params {
        days: 365.0,
        seed: 1,
        replicates: 1,
        interval: false,
        threads: 1,
    };
    let mut g = c.benchmark_group("facility");
    g.sample_size(10);
    g.bench_function("year_4_scopes_20_nodes_10_labs", |b| {
        b.iter(|| black_box(study(&f, &s, &p).expect("runs")))
    });
    g.finish();
}

criterion_group!(benches, year);
criterion_main!(benches);
