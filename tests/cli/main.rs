//! Integration tests: one test binary, driving the real `cryocap` binary.

mod common;
mod errors;
mod exact_files;
mod fleet;
mod plan;
mod properties;
mod qualify;
mod snapshots;
