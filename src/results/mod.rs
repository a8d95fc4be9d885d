//! The one results model every output format is written from. Every result
//! file is an [`Envelope`]: a header (`schema_version`, `cryocap_version`,
//! `started_at`, `node`) and one [`Kind`] of result, tagged by `kind`. JSON
//! output is the envelope serialised; `cryocap report` and scripts read it
//! back with the same types. This module is a leaf: it imports nothing else
//! of the crate, so every other module may use it.

pub mod bench_io;
pub mod cache;
pub mod compare;
pub mod facility;
pub mod fit;
pub mod fleet;
pub mod gpu;
pub mod job_run;
pub mod jobtime;
pub mod metrics;
pub mod movies;
pub mod plan;
pub mod probe;
pub mod qualify;
pub mod read;
pub mod recommend;
pub mod reconstruct;
pub mod stack;
mod upgrade;

use serde::{Deserialize, Serialize};

pub use gpu::GpuBenchReport;
pub use plan::PlanReport;
pub use reconstruct::{GpuTimeSplit, ReconstructReport};

/// Version of the JSON layout. Bumped when a field changes meaning or goes;
/// files of every earlier version are still read ([`read`]).
///
/// 1: each command's own top-level fields (some with `kind`, `node`).
/// 2: the envelope; plan's `node` is `requirements`; compare has a
///    `schema_version` and its labels.
pub const SCHEMA_VERSION: u32 = 2;

/// One result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub schema_version: u32,
    /// The cryocap that wrote it (`unknown` for schema 1 files without it).
    pub cryocap_version: String,
    /// Seconds since the Unix epoch when the command started (absent in
    /// schema 1 files that did not record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    /// The host the command ran on (`unknown` for schema 1 files without it).
    pub node: String,
    #[serde(flatten)]
    pub kind: Kind,
}

/// What a result file holds, tagged in JSON by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Kind {
    Plan(PlanReport),
    BenchIo(bench_io::BenchIoReport),
    BenchGpu(GpuBenchReport),
    CacheSimulate(cache::SimulationReport),
    CacheSweep(cache::SweepReport),
    CacheSubset(cache::SubsetReport),
    CacheCopyBench(cache::CopyBenchReport),
    Reconstruct(ReconstructReport),
    Qualify(qualify::QualifyReport),
    Fleet(fleet::FleetReport),
    Compare(compare::Comparison),
    StackCreate(stack::StackCreated),
    MoviesPlan(movies::MoviesPlanReport),
    MoviesCreate(movies::MoviesCreated),
    BenchMovies(movies::MoviesBenchReport),
    StackInfo(stack::StackInfo),
    Probe(probe::ProbeReport),
    Fit(Box<fit::FitReport>),
    Recommend(Box<recommend::RecommendReport>),
    JobRun(Box<job_run::JobRun>),
    JobPredict(Box<jobtime::JobPredictReport>),
    JobValidate(Box<jobtime::JobValidateReport>),
    Facility(Box<facility::FacilityReport>),
}

impl Kind {
    /// The `kind` tag as written in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Plan(_) => "plan",
            Kind::BenchIo(_) => "bench-io",
            Kind::BenchGpu(_) => "bench-gpu",
            Kind::CacheSimulate(_) => "cache-simulate",
            Kind::CacheSweep(_) => "cache-sweep",
            Kind::CacheSubset(_) => "cache-subset",
            Kind::CacheCopyBench(_) => "cache-copy-bench",
            Kind::Reconstruct(_) => "reconstruct",
            Kind::Qualify(_) => "qualify",
            Kind::Fleet(_) => "fleet",
            Kind::Compare(_) => "compare",
            Kind::StackCreate(_) => "stack-create",
            Kind::MoviesPlan(_) => "movies-plan",
            Kind::MoviesCreate(_) => "movies-create",
            Kind::BenchMovies(_) => "bench-movies",
            Kind::StackInfo(_) => "stack-info",
            Kind::Probe(_) => "probe",
            Kind::Fit(_) => "fit",
            Kind::Recommend(_) => "recommend",
            Kind::JobRun(_) => "job-run",
            Kind::JobPredict(_) => "job-predict",
            Kind::JobValidate(_) => "job-validate",
            Kind::Facility(_) => "facility",
        }
    }

    /// Measured metrics, for kinds that `compare` and the history hold
    /// against each other.
    pub fn metrics(&self) -> Option<&[metrics::Metric]> {
        match self {
            Kind::Qualify(r) => Some(&r.metrics),
            Kind::BenchIo(r) => Some(&r.metrics),
            Kind::CacheCopyBench(r) => Some(&r.metrics),
            Kind::BenchMovies(r) => Some(&r.metrics),
            _ => None,
        }
    }
}

impl Envelope {
    /// A result of this version of cryocap, made on `node`.
    pub fn new(kind: Kind, node: impl Into<String>, started_at: u64) -> Envelope {
        Envelope {
            schema_version: SCHEMA_VERSION,
            cryocap_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: Some(started_at),
            node: node.into(),
            kind,
        }
    }
}
