//! Integration tests: one test binary, driving the real `cryocap` binary.

mod bench_gpu;
mod common;
mod errors;
mod exact_files;
mod plan;
mod properties;
mod reconstruct;
mod snapshots;
