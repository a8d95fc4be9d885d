//! Integration tests: one test binary, driving the real `cryocap` binary.

mod bench_gpu;
mod cache;
mod common;
mod errors;
mod exact_files;
mod fio_compare;
mod fit;
mod fleet;
mod hostile;
mod io;
mod json_contract;
mod layers;
mod machine_formats;
mod movies;
mod no_panic;
mod outputs;
mod parser_fuzz;
mod plan;
mod properties;
mod qualify;
mod raw_device;
mod reconstruct;
mod report_kinds;
mod shell;
mod signals;
mod snapshots;
