//! `cryocap stack create` and `cryocap stack info`: the writer and the MRC
//! reader turned into results.

use std::time::Instant;

use super::mrc::{MrcError, MrcFile};
use super::stack_writer::{self, StackError};
use super::{interrupt, progress};
use crate::config::{StackCreateConfig, StackInfoConfig};
use crate::results::SCHEMA_VERSION;
use crate::results::stack::{FileInfo, StackCreated, StackInfo};

pub fn create(cfg: &StackCreateConfig) -> Result<StackCreated, StackError> {
    interrupt::install();
    let total = stack_writer::total_bytes(&cfg.spec);
    let pb = progress::bar(total, true, cfg.quiet, "writing stack");
    let t0 = Instant::now();
    let files =
        stack_writer::write_stack(&cfg.dir, &cfg.spec, cfg.reserve, &|b| pb.set_position(b))?;
    let secs = t0.elapsed().as_secs_f64().max(1e-9);
    pb.finish_and_clear();
    Ok(StackCreated {
        schema_version: SCHEMA_VERSION,
        dir: cfg.dir.display().to_string(),
        files: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        particles: cfg.spec.particles,
        box_size: cfg.spec.box_size,
        mode: cfg.spec.mode.code(),
        bytes: total,
        seconds: secs,
        bytes_per_second: total as f64 / secs,
        seed: cfg.spec.seed,
    })
}

pub fn file_info(f: &MrcFile) -> FileInfo {
    let h = &f.header;
    FileInfo {
        path: f.path.display().to_string(),
        nx: h.nx,
        ny: h.ny,
        nz: h.nz,
        mode: h.mode.code(),
        mode_name: h.mode.label().to_string(),
        ispg: h.ispg,
        nsymbt: h.nsymbt,
        nversion: h.nversion,
        machine_stamp: format!(
            "{:02x} {:02x} {:02x} {:02x}",
            h.machst[0], h.machst[1], h.machst[2], h.machst[3]
        ),
        cell_a: h.cella,
        pixel_size_a: h.pixel_size_a(),
        image_bytes: h.image_bytes(),
        file_bytes: f.file_bytes,
        labels: h.labels.clone(),
    }
}

/// Reads every file; the first that is not a consistent MRC file is the error.
pub fn info(cfg: &StackInfoConfig) -> Result<StackInfo, MrcError> {
    let files = cfg
        .files
        .iter()
        .map(|p| MrcFile::open(p).map(|f| file_info(&f)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StackInfo {
        schema_version: SCHEMA_VERSION,
        files,
    })
}
