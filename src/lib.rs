//! cryocap: capacity planning and benchmarking for cryo-EM processing nodes.
//!
//! The library holds everything; the `cryocap` binary parses the command line
//! and calls [`app::run`]. See DESIGN notes in the README for the layout.

pub mod app;
pub mod cache;
pub mod cli;
pub mod compare;
pub mod config;
pub mod datasets;
pub mod fleet;
pub mod gpu;
pub mod history;
pub mod host;
pub mod metadata;
pub mod output;
pub mod qualify;
pub mod recon;
pub mod report;
pub mod results;
pub mod sizing;
pub mod storage;
pub mod units;
