//! cryocap: capacity planning and benchmarking for cryo-EM processing nodes.
//!
//! The library holds everything; the `cryocap` binary parses the command line
//! and calls [`app::run`]. See DESIGN notes in the README for the layout.

pub mod app;
pub mod cli;
pub mod config;
pub mod datasets;
pub mod gpu;
pub mod metadata;
pub mod recon;
pub mod report;
pub mod results;
pub mod sizing;
pub mod storage;
pub mod units;
