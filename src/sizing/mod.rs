//! Pure sizing functions: no I/O, no clap, no printing. Bytes in, bytes out.

pub mod candidates;
pub mod dataset_time;
pub(crate) mod fit;
pub(crate) mod lookup;
pub mod movies;
pub(crate) mod node;
pub(crate) mod plan;
pub mod prices;
pub mod recommend;
pub mod recommend_report;
pub(crate) mod ssd;
pub mod stack;
pub mod storage_time;
pub mod vram;
pub mod workload;

/// Limits the rest of the crate enforces on input, so that every figure here
/// fits in a u64.
pub const MAX_BOX: u32 = 8192;
pub const MIN_BOX: u32 = 2;
pub const MAX_PARTICLES: u64 = 10_000_000_000;
