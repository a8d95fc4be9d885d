//! Integration tests: one test binary, driving the real `cryocap` binary.

mod cache;
mod common;
mod errors;
mod exact_files;
mod parser_fuzz;
mod plan;
mod properties;
mod snapshots;
