//! The facility TOML: `[storage]`, `[[microscope]]`, `[[preprocessing]]`,
//! `[[workers]]`, `[scheduler]` and `[[lab]]` (each lab's workload is a
//! file `recommend --workload` reads, named relative to the facility
//! file). Errors are one line naming the table and what to fix.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::calendar;
use super::model::*;
use crate::datasets::Catalog;
use crate::units::parse_size;

const FACILITY_LIMIT: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    storage: StorageToml,
    microscope: Vec<ScopeToml>,
    preprocessing: Vec<PrepToml>,
    workers: Vec<WorkersToml>,
    #[serde(default)]
    scheduler: Option<SchedulerToml>,
    lab: Vec<LabToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageToml {
    capacity: String,
    #[serde(default)]
    used: Option<String>,
    link: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeToml {
    name: String,
    detector: String,
    #[serde(default)]
    sessions_per_week: Option<f64>,
    #[serde(default)]
    arrivals: Option<String>,
    #[serde(default)]
    calendar: Option<Vec<String>>,
    movies_per_session: u64,
    movie_size: String,
    #[serde(default)]
    session_hours: Option<f64>,
    #[serde(default)]
    labs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrepToml {
    name: String,
    count: u32,
    #[serde(default)]
    movies_per_hour: Option<f64>,
    #[serde(default)]
    bench_movies: Option<String>,
    link: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkersToml {
    name: String,
    count: u32,
    gpu: String,
    gpus: u32,
    #[serde(default)]
    ssd: Option<String>,
    #[serde(default)]
    ssd_reserve: Option<f64>,
    #[serde(default)]
    ssd_read: Option<String>,
    link: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchedulerToml {
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    gpus_per_job: Option<u32>,
    #[serde(default)]
    max_gpus_per_lab: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabToml {
    name: String,
    share: f64,
    #[serde(default)]
    workload: Option<String>,
}

/// A rate: `10GbE`, `25GbE`, `100GbE` (line rate) or `2.5 GB/s`.
pub fn rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if let Some(g) = t.strip_suffix("GbE").or_else(|| t.strip_suffix("gbe")) {
        return g
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0 && *v <= 1e4)
            .map(|v| v * 1e9 / 8.0)
            .ok_or_else(|| format!("'{text}' is not a link such as 25GbE"));
    }
    let bytes = t.strip_suffix("/s").ok_or_else(|| {
        format!(
            "'{text}' is not a rate: give a link such as 25GbE or bytes a second such as 2.5 GB/s"
        )
    })?;
    match parse_size(bytes) {
        Ok(b) if b > 0 => Ok(b as f64),
        _ => Err(format!("'{text}' is not a rate such as 2.5 GB/s")),
    }
}

/// Reads `path`; workload files are found relative to it. Also returns
/// every file read (the facility file and the workloads).
pub fn read(path: &Path, catalog: &Catalog) -> Result<(Facility, Vec<PathBuf>), ConfigError> {
    let shown = path.display().to_string();
    let text = crate::files::read_text(path, FACILITY_LIMIT)
        .map_err(|e| ConfigError(format!("{shown}: {}", e.reason())))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let read = std::cell::RefCell::new(vec![path.to_path_buf()]);
    let mut f = parse(&text, &shown, catalog, &|name| {
        let p = dir.join(name);
        read.borrow_mut().push(p.clone());
        crate::sizing::workload::read(&p, catalog).map_err(|e| e.0)
    })?;
    let mut read = read.into_inner();
    for p in &mut f.prep {
        if let Some(file) = p.bench_movies.take() {
            let at = dir.join(&file);
            let (rate, basis) = measured_prep_rate(&at).map_err(|e| {
                ConfigError(format!(
                    "{shown}: preprocessing {}: bench_movies: {e}",
                    printable(&p.name)
                ))
            })?;
            p.bytes_per_s = Some(rate);
            p.rate_basis = basis;
            read.push(at);
        }
    }
    Ok((f, read))
}

type WorkloadReader<'a> =
    dyn Fn(&str) -> Result<Vec<crate::sizing::recommend::DatasetClass>, String> + 'a;

/// A facility file's text; `workload` reads a lab's workload file.
pub fn parse(
    text: &str,
    shown: &str,
    catalog: &Catalog,
    workload: &WorkloadReader<'_>,
) -> Result<Facility, ConfigError> {
    let t: FileToml = toml::from_str(text)
        .map_err(|e| ConfigError(format!("{shown}: {}", e.message().replace('\n', " "))))?;
    let at = |what: String| move |m: String| ConfigError(format!("{shown}: {what}: {m}"));
    let labs = t
        .lab
        .iter()
        .map(|l| lab(l, workload).map_err(at(format!("lab {}", printable(&l.name)))))
        .collect::<Result<Vec<_>, _>>()?;
    unique(labs.iter().map(|l| l.name.as_str()), "lab").map_err(at("[[lab]]".into()))?;
    let names: Vec<&str> = labs.iter().map(|l| l.name.as_str()).collect();
    let microscopes = t
        .microscope
        .iter()
        .map(|m| {
            scope(m, &names, catalog).map_err(at(format!("microscope {}", printable(&m.name))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let prep = t
        .preprocessing
        .iter()
        .map(|p| prep(p).map_err(at(format!("preprocessing {}", printable(&p.name)))))
        .collect::<Result<Vec<_>, _>>()?;
    let workers = t
        .workers
        .iter()
        .map(|w| workers(w, catalog).map_err(at(format!("workers {}", printable(&w.name)))))
        .collect::<Result<Vec<_>, _>>()?;
    let f = Facility {
        storage: storage(&t.storage).map_err(at("[storage]".into()))?,
        scheduler: scheduler(t.scheduler.as_ref()).map_err(at("[scheduler]".into()))?,
        microscopes,
        prep,
        workers,
        labs,
    };
    check_present(&f).map_err(|m| ConfigError(format!("{shown}: {m}")))?;
    Ok(f)
}

fn printable(s: &str) -> String {
    crate::text::printable(s)
}

fn unique<'a>(names: impl Iterator<Item = &'a str>, what: &str) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(format!("two {what}s are named '{}'", printable(n)));
        }
    }
    Ok(())
}

/// Every part the run needs is there.
pub fn check_present(f: &Facility) -> Result<(), String> {
    let need = |ok: bool, m: &str| if ok { Ok(()) } else { Err(m.to_string()) };
    need(!f.microscopes.is_empty(), "no [[microscope]]")?;
    need(!f.prep.is_empty(), "no [[preprocessing]] nodes")?;
    need(!f.workers.is_empty(), "no [[workers]] nodes")?;
    need(!f.labs.is_empty(), "no [[lab]]")
}

fn storage(s: &StorageToml) -> Result<Storage, String> {
    let capacity = parse_size(&s.capacity).map_err(|e| format!("capacity: {e}"))?;
    let used = match &s.used {
        Some(u) => parse_size(u).map_err(|e| format!("used: {e}"))?,
        None => 0,
    };
    if capacity == 0 {
        return Err("capacity must be above 0".into());
    }
    Ok(Storage {
        capacity_bytes: capacity,
        used_bytes: used,
        link_bytes_per_s: rate(&s.link).map_err(|e| format!("link: {e}"))?,
    })
}

fn scope(m: &ScopeToml, labs: &[&str], catalog: &Catalog) -> Result<Microscope, String> {
    if catalog.detector(&m.detector).is_none() {
        let names = catalog.detectors.iter().map(|d| d.id.as_str());
        return Err(crate::datasets::unknown_name(
            "detector",
            "detector",
            &m.detector,
            names,
            "detectors",
        ));
    }
    let (arrivals, per_week, hours) = calendar::arrivals(
        m.arrivals.as_deref(),
        m.sessions_per_week,
        m.calendar.as_deref(),
        m.session_hours,
    )?;
    let movie_bytes = parse_size(&m.movie_size).map_err(|e| format!("movie_size: {e}"))?;
    if movie_bytes == 0 || m.movies_per_session > 10_000_000 {
        return Err("movie_size must be above 0 and movies_per_session at most 10,000,000".into());
    }
    let lab_index = m
        .labs
        .iter()
        .map(|n| {
            labs.iter()
                .position(|l| l == n)
                .ok_or_else(|| format!("books lab '{}', which no [[lab]] names", printable(n)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Microscope {
        name: m.name.clone(),
        detector: m.detector.clone(),
        sessions_per_week: per_week,
        arrivals,
        movies_per_session: m.movies_per_session,
        movie_bytes: movie_bytes as f64,
        session_hours: hours,
        labs: lab_index,
    })
}

fn prep(p: &PrepToml) -> Result<PrepGroup, String> {
    if p.count == 0 || p.count > 10_000 {
        return Err("count must be 1 to 10000".into());
    }
    let (movies_per_hour, basis) = match (p.movies_per_hour, &p.bench_movies) {
        (Some(r), None) if r.is_finite() && r > 0.0 && r <= 1e7 => {
            (r, "given in the facility file")
        }
        (Some(_), None) => return Err("movies_per_hour must be above 0 and at most 1e7".into()),
        (None, Some(_)) => (0.0, "measured by bench movies"),
        _ => {
            return Err("give movies_per_hour (one node, e.g. from a live session) or bench_movies = \"RESULT.json\" (`cryocap bench movies` on this node type), one of them".into());
        }
    };
    Ok(PrepGroup {
        name: p.name.clone(),
        count: p.count,
        movies_per_hour,
        bytes_per_s: None,
        bench_movies: p.bench_movies.clone(),
        rate_basis: basis.into(),
        link_bytes_per_s: rate(&p.link).map_err(|e| format!("link: {e}"))?,
    })
}

/// The movie bytes a second of the best run of a `bench movies` result
/// (reading and decoding, all its threads).
pub fn measured_prep_rate(path: &Path) -> Result<(f64, String), String> {
    let e = crate::files::read_result(path).map_err(|e| e.to_string())?;
    let crate::results::Kind::BenchMovies(r) = e.kind else {
        return Err(format!(
            "{}: a {} result, not bench movies",
            path.display(),
            e.kind.name()
        ));
    };
    let best = r
        .runs
        .iter()
        .filter(|x| x.seconds > 0.0)
        .max_by(|a, b| {
            (a.file_bytes as f64 / a.seconds).total_cmp(&(b.file_bytes as f64 / b.seconds))
        })
        .ok_or_else(|| format!("{}: no run with a time", path.display()))?;
    let rate = best.file_bytes as f64 / best.seconds;
    let basis = format!(
        "bench movies on {} ({}, {} thread(s), {}): reading and decoding only; motion correction, CTF and picking may be slower",
        e.node,
        best.format,
        best.threads,
        crate::units::rate_decimal(rate)
    );
    Ok((rate, basis))
}

fn workers(w: &WorkersToml, catalog: &Catalog) -> Result<WorkerGroup, String> {
    let Some(gpu) = catalog.gpu(&w.gpu) else {
        let names = catalog.gpus.iter().map(|g| g.id.as_str());
        return Err(crate::datasets::unknown_name(
            "gpu", "GPU", &w.gpu, names, "gpus",
        ));
    };
    if w.count == 0 || w.count > 10_000 || w.gpus == 0 || w.gpus > 64 {
        return Err("count must be 1 to 10000 and gpus 1 to 64".into());
    }
    let reserve = w.ssd_reserve.unwrap_or(0.0);
    if !(0.0..1.0).contains(&reserve) {
        return Err("ssd_reserve must be 0 to below 1".into());
    }
    let nvme = catalog
        .storage_tier("nvme-gen4")
        .map_or(7.4e9, |t| t.seq_read_mb_s * 1e6);
    Ok(WorkerGroup {
        name: w.name.clone(),
        count: w.count,
        gpu: gpu.id.clone(),
        gpus: w.gpus,
        memory_bandwidth_gb_s: gpu.memory_bandwidth_gb_s,
        fp32_tflops: gpu.fp32_tflops,
        ssd_bytes: match &w.ssd {
            Some(s) => parse_size(s).map_err(|e| format!("ssd: {e}"))?,
            None => 0,
        },
        ssd_reserve: reserve,
        ssd_read_bytes_per_s: match &w.ssd_read {
            Some(r) => rate(r).map_err(|e| format!("ssd_read: {e}"))?,
            None => nvme,
        },
        link_bytes_per_s: rate(&w.link).map_err(|e| format!("link: {e}"))?,
    })
}

fn scheduler(s: Option<&SchedulerToml>) -> Result<Scheduler, String> {
    let policy = match s.and_then(|s| s.policy.as_deref()) {
        None | Some("fair") | Some("fair-share") => Policy::FairShare,
        Some("fifo") => Policy::Fifo,
        Some(p) => return Err(format!("policy '{}' is not fifo or fair", printable(p))),
    };
    let gpus_per_job = s.and_then(|s| s.gpus_per_job).unwrap_or(1);
    if !(1..=64).contains(&gpus_per_job) {
        return Err("gpus_per_job must be 1 to 64".into());
    }
    let max = s.and_then(|s| s.max_gpus_per_lab);
    if max == Some(0) {
        return Err("max_gpus_per_lab must be at least 1 (leave it out for no limit)".into());
    }
    Ok(Scheduler {
        policy,
        gpus_per_job,
        max_gpus_per_lab: max,
    })
}

fn lab(l: &LabToml, workload: &WorkloadReader<'_>) -> Result<Lab, String> {
    if !(l.share.is_finite() && l.share > 0.0 && l.share <= 1e6) {
        return Err("share must be above 0 (a lab with no share never runs)".into());
    }
    let Some(file) = &l.workload else {
        return Err(
            "no workload: give workload = \"FILE.toml\" as `recommend --workload` reads it".into(),
        );
    };
    Ok(Lab {
        name: l.name.clone(),
        share: l.share,
        classes: workload(file)?,
    })
}
