//! `cryocap bench gpu` configuration.

use super::{ConfigError, count};
use crate::cli::BenchGpuArgs;
use crate::gpu::bench::BenchGpuConfig;
use crate::report::Format;
use crate::units;

fn list(
    flag: &'static str,
    text: &str,
    ok: impl Fn(u64) -> bool,
    what: &str,
) -> Result<Vec<u32>, ConfigError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let v = units::parse_count(part)
            .ok()
            .filter(|v| ok(*v))
            .ok_or_else(|| ConfigError::flag(flag, format!("'{part}' is not {what}")))?;
        if !out.contains(&(v as u32)) {
            out.push(v as u32);
        }
    }
    Ok(out)
}

pub fn from_args(a: &BenchGpuArgs) -> Result<(BenchGpuConfig, Format), ConfigError> {
    let boxes = list(
        "--box",
        a.box_sizes.as_deref().unwrap_or("128,256,432"),
        |v| (16..=1024).contains(&v) && v % 2 == 0,
        "an even box size from 16 to 1024 (give e.g. 128,256,432)",
    )?;
    let pads = list(
        "--pad",
        a.pad.as_deref().unwrap_or("1,2"),
        |v| v == 1 || v == 2,
        "a padding factor; use 1, 2 or 1,2",
    )?;
    let particles = match &a.particles {
        None => 10_000,
        Some(t) => count("--particles", t, 1, 10_000_000)?,
    };
    Ok((
        BenchGpuConfig {
            boxes,
            pads,
            particles,
        },
        a.format.into(),
    ))
}
