//! The machine cryocap runs on: CPU, memory, disks, network links, and its
//! CPU memory bandwidth (measured).

pub(crate) mod membw;
pub mod monitor;

use crate::results::qualify::{DiskFact, HostFacts};
use sysinfo::{Disks, System};

/// Memory a new allocation can have now, bytes: the kernel's MemAvailable,
/// or less where this process's cgroup (a Slurm job's memory limit, a
/// container) leaves less; 0 when unknown.
pub fn available_memory() -> u64 {
    let mut sys = System::new();
    sys.refresh_memory();
    let host = sys.available_memory();
    match cgroup_headroom() {
        Some(left) if host == 0 => left,
        Some(left) => host.min(left),
        None => host,
    }
}

/// What this process's cgroup memory limit leaves: the limit less the
/// usage, from cgroup v2 (`memory.max`, `memory.current`) or v1
/// (`memory.limit_in_bytes`, `memory.usage_in_bytes`); None without a limit.
/// In a container the cgroup's own directory is mounted at the root, so
/// the root is tried when the listed path is not there.
fn cgroup_headroom() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let root = std::path::Path::new("/sys/fs/cgroup");
    let (mount, rel, max, current) = match own.lines().find_map(|l| {
        let (_, rest) = l.split_once(':')?;
        rest.strip_prefix("memory:")
    }) {
        Some(rel) => (
            root.join("memory"),
            rel,
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
        ),
        None => {
            let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?;
            (root.to_path_buf(), rel, "memory.max", "memory.current")
        }
    };
    let listed = mount.join(rel.trim_start_matches('/'));
    [listed, mount].iter().find_map(|dir| {
        headroom(
            &std::fs::read_to_string(dir.join(max)).ok()?,
            &std::fs::read_to_string(dir.join(current)).ok()?,
        )
    })
}

/// `max - current` from the two files' text; None for `max` (v2's "no
/// limit"; v1 writes a huge number, which no host reaches).
fn headroom(max: &str, current: &str) -> Option<u64> {
    let max: u64 = max.trim().parse().ok()?;
    let current: u64 = current.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// This host's name, as results files record it.
pub fn node_name() -> String {
    System::host_name().unwrap_or_else(|| "unknown".into())
}

/// Reads the host's facts; nothing here needs root.
pub fn facts() -> HostFacts {
    let mut sys = System::new();
    sys.refresh_memory();
    sys.refresh_cpu_all();
    let cpus = sys.cpus();
    let disks = Disks::new_with_refreshed_list();
    HostFacts {
        hostname: System::host_name().unwrap_or_else(|| "unknown".into()),
        cpu_model: cpus
            .first()
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown".into()),
        physical_cores: System::physical_core_count().map(|n| n as u32),
        logical_cpus: cpus.len() as u32,
        cpu_mhz: cpus.first().map_or(0, |c| c.frequency()),
        ram_bytes: sys.total_memory(),
        os: System::long_os_version().unwrap_or_else(|| "unknown".into()),
        kernel: System::kernel_version().unwrap_or_else(|| "unknown".into()),
        disks: disks
            .list()
            .iter()
            .map(|d| DiskFact {
                mount_point: d.mount_point().to_string_lossy().into_owned(),
                device: d.name().to_string_lossy().into_owned(),
                file_system: d.file_system().to_string_lossy().into_owned(),
                total_bytes: d.total_space(),
                available_bytes: d.available_space(),
                kind: match d.kind() {
                    sysinfo::DiskKind::SSD => "ssd".into(),
                    sysinfo::DiskKind::HDD => "hdd".into(),
                    _ => "unknown".into(),
                },
            })
            .collect(),
        fastest_link_bits_per_second: fastest_link(),
    }
}

/// The fastest link speed under /sys/class/net (Mb/s there), skipping the
/// loopback and links that report no speed (virtual NICs often do).
fn fastest_link() -> Option<u64> {
    let entries = std::fs::read_dir("/sys/class/net").ok()?;
    entries
        .flatten()
        .filter(|e| e.file_name() != "lo")
        .filter_map(|e| std::fs::read_to_string(e.path().join("speed")).ok())
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .filter(|mbps| *mbps > 0)
        .max()
        .map(|mbps| mbps as u64 * 1_000_000)
}

/// The disk whose mount point is the longest prefix of `path`.
pub fn disk_for<'a>(facts: &'a HostFacts, path: &std::path::Path) -> Option<&'a DiskFact> {
    let canonical = std::fs::canonicalize(path).ok()?;
    facts
        .disks
        .iter()
        .filter(|d| canonical.starts_with(&d.mount_point))
        .max_by_key(|d| d.mount_point.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cgroup_limit_leaves_its_headroom() {
        assert_eq!(headroom("8589934592\n", "1073741824\n"), Some(7 << 30));
        assert_eq!(headroom("max\n", "1073741824\n"), None);
        assert_eq!(headroom("100", "200"), Some(0));
    }

    #[test]
    fn this_machine_has_cpus_memory_and_a_root_disk() {
        let f = facts();
        assert!(f.logical_cpus >= 1);
        assert!(f.ram_bytes > 0);
        assert!(disk_for(&f, std::path::Path::new("/")).is_some() || f.disks.is_empty());
    }
}
