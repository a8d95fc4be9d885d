//! Integration tests: one test binary, driving the real `cryocap` binary.

mod common;
mod errors;
mod exact_files;
mod fio_compare;
mod io;
mod plan;
mod properties;
mod qualify;
mod snapshots;
