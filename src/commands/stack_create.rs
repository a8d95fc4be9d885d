//! `cryocap stack create`: real MRC2014 particle stacks of seeded noise.

use std::io::Write;
use std::time::Instant;

use super::convert::mode;
use super::output::{check_not_written, check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::StackCreateArgs;
use crate::interrupt;
use crate::progress::{Progress, Unit};
use crate::results::Kind;
use crate::results::stack::StackCreated;
use crate::storage::space::Reserve;
use crate::storage::stack_writer::{self, StackSpec};

/// Whether `name` is one of the files `spec` writes (`stack_NNNNN.mrcs`),
/// read from the name rather than listed (1e12 particles are many files).
fn is_stack_file(name: &str, spec: &StackSpec) -> bool {
    let files = spec.particles.div_ceil(spec.per_file.max(1));
    let number = name
        .strip_prefix("stack_")
        .and_then(|r| r.strip_suffix(".mrcs"))
        .filter(|d| d.len() >= 5 && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok());
    number.is_some_and(|i| (1..=files).contains(&i) && format!("stack_{i:05}.mrcs") == name)
}

pub(super) fn run(a: &StackCreateArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let outs = result_files(&a.output.files);
    check_outputs(&outs, &[])?;
    let spec = StackSpec {
        particles: a.particles,
        box_size: a.box_size.0,
        mode: mode(a.dtype),
        per_file: a.particles_per_file,
        pixel_size_a: a.pixel_size as f32,
        nsymbt: a.nsymbt,
        seed: a.seed,
    };
    check_not_written(&outs, &a.dir, &|n| is_stack_file(n, &spec))?;
    interrupt::cooperate();
    let total = stack_writer::total_bytes(&spec);
    let bar = Progress::new(a.output.quiet).bar(total, Unit::Bytes, "writing stack");
    let t0 = Instant::now();
    let files =
        stack_writer::write_stack(&a.dir, &spec, a.reserve.unwrap_or(Reserve::Default), &|b| {
            bar.set_position(b)
        })?;
    let secs = t0.elapsed().as_secs_f64().max(1e-9);
    bar.finish_and_clear();
    let created = StackCreated {
        dir: a.dir.display().to_string(),
        files: files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        particles: spec.particles,
        box_size: spec.box_size,
        mode: spec.mode.code(),
        bytes: total,
        seconds: secs,
        bytes_per_second: total as f64 / secs,
        seed: spec.seed,
    };
    finish(Kind::StackCreate(created), started, &a.output, out)?;
    Ok(Outcome::Ok)
}
