//! The one results model every output format is written from. JSON output is
//! this model serialised; scripts read it back with the same types.

pub mod bench_io;
pub mod cache;
pub mod compare;
pub mod file;
pub mod fleet;
pub mod gpu;
pub mod metrics;
pub mod plan;
pub mod qualify;
pub mod reconstruct;

pub use gpu::GpuBenchReport;
pub use plan::PlanReport;
pub use reconstruct::ReconstructReport;

/// Version of the JSON layout. Bumped when a field changes meaning or goes.
pub const SCHEMA_VERSION: u32 = 1;
pub mod probe;
pub mod stack;
