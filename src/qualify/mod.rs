//! Node qualification: measure the node, hold it against a requirement
//! profile, and say where the bottleneck is.

pub mod check;
pub mod measure;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::config::QualifyConfig;
use crate::host;
use crate::results::SCHEMA_VERSION;
use crate::results::metrics::Metric;
use crate::results::qualify::{ProfileRef, QualifyReport};
use crate::sizing::node;
use check::judge;

/// Which metric answers which requirement, and what to say when none does.
fn metric_for(requirement: &str) -> (&'static str, &'static str) {
    match requirement {
        "cpu_cores" => ("cpu_cores", "the OS did not report physical cores"),
        "ram" => ("ram_bytes", ""),
        "memory_bandwidth" => ("memory_bandwidth", "not run"),
        "cpu_frequency" => ("cpu_frequency", "the OS did not report a CPU clock"),
        "system_storage" => ("system_storage", "no disk found for the directory"),
        "storage_link" => (
            "link_speed",
            "no network link reports a speed (virtual NICs often do not); check with the switch or ethtool",
        ),
        "gpu_vram" => (
            "gpu_vram",
            "no CUDA driver found: GPU checks need `cryocap bench gpu` on a GPU node",
        ),
        "gpu_compute_capability" => (
            "gpu_compute_capability",
            "no CUDA driver found: GPU checks need `cryocap bench gpu` on a GPU node",
        ),
        "sequential_read" => (
            "io.project.sequential.bytes_per_second",
            "give --dir PROJECT_DIR to measure the project storage",
        ),
        _ => ("", "nothing in cryocap measures this yet"),
    }
}

/// What the run will take, said before it starts.
pub fn expected_duration(cfg: &QualifyConfig) -> String {
    let (kind, estimate) = if cfg.quick {
        ("quick", "under a minute")
    } else {
        ("full", "a few minutes")
    };
    format!(
        "cryocap qualify: {kind} run against {}, {} repeats; expected {estimate}",
        cfg.profile.id, cfg.repeat
    )
}

/// Runs the qualification described by `cfg`.
pub fn run(cfg: &QualifyConfig, progress: &dyn Fn(&str)) -> QualifyReport {
    let started = Instant::now();
    let started_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    progress("reading host facts");
    let facts = host::facts();
    let mut notes = Vec::new();
    let mut metrics: Vec<Metric> = measure::host_metrics(&facts, cfg.project_dir.as_deref());
    progress("measuring CPU memory bandwidth");
    match measure::memory_bandwidth(cfg.quick, cfg.repeat) {
        Ok(m) => metrics.push(m),
        Err(e) => notes.push(format!("memory bandwidth not measured: {e}")),
    }

    let gpus = cfg.gpus.unwrap_or(1);
    let checks = node::requirements(&cfg.profile, gpus)
        .iter()
        .map(|req| {
            let (id, why) = metric_for(&req.id);
            judge(req, metrics.iter().find(|m| m.id == id), why)
        })
        .collect();
    if cfg.gpus.is_none() {
        notes.push(
            "No GPU was detected or named (--gpus): per-GPU requirements are scaled for one GPU."
                .into(),
        );
    }

    QualifyReport {
        schema_version: SCHEMA_VERSION,
        kind: "qualify".into(),
        cryocap_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        duration_seconds: started.elapsed().as_secs_f64(),
        node: facts.hostname.clone(),
        profile: ProfileRef {
            id: cfg.profile.id.clone(),
            title: cfg.profile.title.clone(),
            source: cfg.profile.source.clone(),
        },
        gpus,
        quick: cfg.quick,
        repeat: cfg.repeat,
        host: facts,
        metrics,
        checks,
        bottlenecks: Vec::new(),
        notes,
    }
}
