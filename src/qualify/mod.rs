//! Node qualification: measure the node, hold it against a requirement
//! profile, and say where the bottleneck is.

pub(crate) mod bottleneck;
pub(crate) mod check;
pub mod deployment;
pub(crate) mod gpu;
pub(crate) mod measure;
pub(crate) mod movies;
pub(crate) mod storage;

use std::path::PathBuf;
use std::time::Instant;

use crate::datasets::{Catalog, Profile};
use crate::host;
use crate::progress::Progress;
use crate::results::metrics::Metric;
use crate::results::qualify::{ProfileRef, QualifyReport, VramCurve};
use crate::sizing::{node, vram};
use check::judge;

/// One qualification: the profile to hold the node against and what to
/// measure.
#[derive(Debug, Clone)]
pub struct QualifyParams {
    pub profile: Profile,
    /// Project directory on the shared storage (a scratch stack goes there).
    pub project_dir: Option<PathBuf>,
    /// Directory on the SSD cache drive.
    pub ssd_dir: Option<PathBuf>,
    /// Box sizes of the bottleneck analysis.
    pub boxes: Vec<u32>,
    pub quick: bool,
    pub repeats: u32,
    /// GPUs the node holds, when no driver can tell.
    pub gpus: Option<u32>,
    /// `--deployment`: the checks of a multi-node install (master ports,
    /// user, access, shared file system, kernel, driver, visible GPUs).
    pub deployment: Option<deployment::Master>,
    pub deployment_checks: bool,
    /// `--workers`: the hosts to check password-less SSH to.
    pub ssh: Option<deployment::SshWorkers>,
    /// `--shared-token`: the token file `fleet submit` wrote.
    pub shared_token: Option<std::path::PathBuf>,
    /// `--ssd-quota` and `--ssd-reserve`, in bytes.
    pub ssd_quota: Option<u64>,
    pub ssd_reserve: Option<u64>,
}

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
        "movie_decode" => ("movie_decode", "see the notes"),
        _ => ("", "nothing in cryocap measures this yet"),
    }
}

/// What the run will take, said before it starts.
pub fn expected_duration(cfg: &QualifyParams) -> String {
    let (kind, estimate) = match (cfg.quick, cfg.project_dir.is_some()) {
        (true, _) => ("quick", "under a minute".to_string()),
        (false, false) => ("full", "about a minute".to_string()),
        (false, true) => (
            "full",
            format!(
                "a few minutes (a {} scratch stack is written and read {} times per storage)",
                crate::units::bytes_decimal(
                    storage::scratch_particles(false) * u64::from(storage::SCRATCH_BOX).pow(2) * 4
                ),
                cfg.repeats
            ),
        ),
    };
    format!(
        "cryocap qualify: {kind} run against {}, {} repeat{}{}; expected {estimate}",
        cfg.profile.id,
        cfg.repeats,
        if cfg.repeats == 1 { "" } else { "s" },
        if cfg.deployment_checks {
            " and the deployment checks"
        } else {
            ""
        }
    )
}

/// Each job type's modelled VRAM need at boxes 64 to 1152, for the chart.
fn vram_curves(catalog: &Catalog) -> Vec<VramCurve> {
    catalog
        .vram_jobs
        .iter()
        .map(|j| VramCurve {
            job: j.job.clone(),
            points: (2..=36)
                .map(|k| {
                    let b = 32 * k;
                    (b, vram::bytes_needed(j, b, vram::classes_for(j, None)))
                })
                .collect(),
        })
        .collect()
}

/// Runs the qualification described by `cfg`.
pub fn run(cfg: &QualifyParams, catalog: &Catalog, progress: &Progress) -> QualifyReport {
    let started = Instant::now();
    progress.step("qualify: reading host facts");
    let facts = host::facts();
    let mut notes = Vec::new();
    let mut metrics: Vec<Metric> = measure::host_metrics(&facts, cfg.project_dir.as_deref());
    progress.step("qualify: measuring CPU memory bandwidth");
    match measure::memory_bandwidth(cfg.quick, cfg.repeats) {
        Ok(m) => metrics.push(m),
        Err(e) => notes.push(format!("memory bandwidth not measured: {e}")),
    }

    let mut io = Vec::new();
    match &cfg.project_dir {
        Some(dir) => {
            let s = storage::measure(
                dir,
                cfg.ssd_dir.as_deref(),
                cfg.quick,
                cfg.repeats,
                progress,
            );
            metrics.extend(s.metrics);
            notes.extend(s.notes);
            io = s.io;
        }
        None if cfg.ssd_dir.is_some() => notes.push(
            "--ssd-dir is measured with a scratch stack copied from --dir: give --dir too".into(),
        ),
        None => {}
    }

    if cfg
        .profile
        .requirements
        .iter()
        .any(|r| r.id == "movie_decode")
        && !crate::interrupt::requested()
    {
        progress.step("qualify: decoding synthetic LZW TIFF movies on every core");
        let tmp = std::env::temp_dir();
        let dir = cfg.project_dir.as_deref().unwrap_or(&tmp);
        let (m, n) = movies::decode_rate(dir, cfg.quick);
        metrics.extend(m);
        notes.extend(n);
    }

    progress.step("qualify: measuring the GPUs (when a CUDA driver is present)");
    let g = if crate::interrupt::requested() {
        gpu::GpuResults::default()
    } else {
        gpu::measure(&cfg.boxes, cfg.quick)
    };
    metrics.extend(g.metrics);
    notes.extend(g.notes);
    let gpus = match (cfg.gpus, g.devices) {
        (Some(n), _) => n,
        (None, 0) => 1,
        (None, n) => n,
    };
    let insertion = g.insertion;
    let gpu_rate = |b: u32| insertion.iter().find(|(x, _)| *x == b).map(|(_, r)| *r);
    let bottlenecks = bottleneck::analyse(&metrics, &cfg.boxes, gpus, &gpu_rate);
    if !bottlenecks.is_empty() {
        notes.push(if insertion.is_empty() {
            "GPU consumption is not in the bottleneck analysis: no GPU was measured (`cryocap bench gpu` measures it on a GPU node).".into()
        } else {
            "GPU consumption is the Fourier insertion rate, an upper bound: a refinement does far more work per particle.".into()
        });
    }
    let mut checks: Vec<_> = node::requirements(&cfg.profile, gpus)
        .iter()
        .map(|req| {
            let (id, why) = metric_for(&req.id);
            // --dir was given but its storage could not be measured: the
            // notes say why; "give --dir" would be wrong.
            let why = match (id.starts_with("io.project"), &cfg.project_dir) {
                (true, Some(_)) => "the project storage could not be measured; see the notes",
                _ => why,
            };
            let mut check = judge(req, metrics.iter().find(|m| m.id == id), why);
            check.metric = id.to_string();
            check
        })
        .collect();
    let mut identity = None;
    if cfg.deployment_checks {
        progress.step("qualify: deployment checks");
        let (deployment_checks, who) = deployment::run(
            &deployment::DeploymentParams {
                master: cfg.deployment.clone(),
                project_dir: cfg.project_dir.clone(),
                ssd_dir: cfg.ssd_dir.clone(),
                ssh: cfg.ssh.clone(),
                shared_token: cfg.shared_token.clone(),
                ssd_quota: cfg.ssd_quota,
                ssd_reserve: cfg.ssd_reserve,
            },
            &facts.kernel,
            g.devices,
            g.newest_arch,
        );
        checks.extend(deployment_checks);
        identity = Some(who);
    }
    if cfg.gpus.is_none() && g.devices == 0 {
        notes.push(
            "No GPU was detected or named (--gpus): per-GPU requirements are scaled for one GPU."
                .into(),
        );
    }

    QualifyReport {
        duration_seconds: started.elapsed().as_secs_f64(),
        profile: ProfileRef {
            id: cfg.profile.id.clone(),
            title: cfg.profile.title.clone(),
            source: cfg.profile.source.clone(),
        },
        gpus,
        quick: cfg.quick,
        repeats: cfg.repeats,
        host: facts,
        metrics,
        checks,
        bottlenecks,
        io,
        vram_curves: vram_curves(catalog),
        notes,
        identity,
    }
}
