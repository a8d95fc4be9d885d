//! cryocap: capacity planning and benchmarking for cryo-EM processing nodes.
//!
//! Layers, each importing only those below it (a test checks this):
//! `cli` (clap types and typed values) and `commands` (one file per
//! subcommand: the only place that sees `cli`, opens the command's files and
//! picks the exporter); the domain (`sizing`, `storage`, `cache`, `gpu`,
//! `recon`, `particles`, `host`, `qualify`, `fleet`, `metadata`, `datasets`,
//! `compare`, `history`), which takes its own parameter types and returns
//! plain result structs; `report`, which renders those; and `results`, a
//! leaf every other module may use. See docs/ for each command and the JSON
//! contract.

#![warn(unreachable_pub)]

pub mod cache;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod datasets;
pub mod facility;
pub mod files;
pub mod fleet;
pub mod gpu;
pub mod history;
pub mod host;
pub mod interrupt;
pub mod jobtime;
pub mod metadata;
pub mod movies;
pub mod particles;
pub(crate) mod progress;
pub mod qualify;
pub mod recon;
pub mod report;
pub mod results;
pub mod sizing;
pub mod storage;
pub mod text;
pub mod units;
