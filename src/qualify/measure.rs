//! Turning host facts and measurements into metrics.

use std::path::Path;

use crate::host::{self, membw};
use crate::results::metrics::{Better, Metric};
use crate::results::qualify::HostFacts;

fn single(id: &str, label: &str, unit: &str, value: f64) -> Metric {
    Metric::from_samples(id, label, unit, Better::Higher, vec![value])
}

/// Facts read from the OS, as one-sample metrics.
pub(crate) fn host_metrics(facts: &HostFacts, project_dir: Option<&Path>) -> Vec<Metric> {
    let mut out = Vec::new();
    if let Some(cores) = facts.physical_cores {
        out.push(single(
            "cpu_cores",
            "physical CPU cores",
            "cores",
            f64::from(cores),
        ));
    }
    out.push(single("ram_bytes", "RAM", "bytes", facts.ram_bytes as f64));
    if facts.cpu_mhz > 0 {
        out.push(single(
            "cpu_frequency",
            "CPU clock (as reported)",
            "hertz",
            facts.cpu_mhz as f64 * 1e6,
        ));
    }
    let dir = project_dir.unwrap_or(Path::new("/"));
    if let Some(disk) = host::disk_for(facts, dir) {
        out.push(single(
            "system_storage",
            "size of the file system holding the project dir (or /)",
            "bytes",
            disk.total_bytes as f64,
        ));
    }
    if let Some(bits) = facts.fastest_link_bits_per_second {
        out.push(single(
            "link_speed",
            "fastest network link",
            "bits_per_second",
            bits as f64,
        ));
    }
    out
}

/// CPU memory bandwidth: `repeat` triad runs of several passes each; every
/// timed pass is a sample.
pub(crate) fn memory_bandwidth(quick: bool, repeat: u32) -> Result<Metric, membw::TriadError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cfg = if quick {
        membw::TriadConfig::quick(threads)
    } else {
        membw::TriadConfig::full(threads)
    };
    let mut samples = Vec::new();
    for _ in 0..repeat.max(1) {
        samples.extend(membw::triad(cfg)?.rates);
    }
    Ok(Metric::from_samples(
        "memory_bandwidth",
        format!("CPU memory bandwidth (STREAM triad, {threads} threads)"),
        "bytes_per_second",
        Better::Higher,
        samples,
    )
    .counting("bytes read + written, STREAM convention (2 reads + 1 write per element)"))
}
