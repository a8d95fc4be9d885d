//! What `cryocap probe` found out about a path's storage. Fields it could
//! not determine are `null`, and `unknown` says why.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub path: String,
    pub mount_point: Option<String>,
    pub fs_type: Option<String>,
    /// The mount's source: a device, `server:/export`, ...
    pub source: Option<String>,
    /// Set for network and parallel file systems (NFS, Lustre, BeeGFS, GPFS, CephFS, ...).
    pub network_fs: Option<String>,
    pub device: Option<BlockDevice>,
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub direct_io: DirectIo,
    /// What could not be told, each with the reason.
    pub unknown: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockDevice {
    /// Kernel name, e.g. nvme0n1p2, md0, dm-1.
    pub name: String,
    /// The whole disk when `name` is a partition.
    pub disk: String,
    /// disk, partition, md, dm, loop, ...
    pub kind: String,
    pub model: Option<String>,
    pub size_bytes: Option<u64>,
    /// /sys/block/*/queue/rotational; virtual disks often misreport it.
    pub rotational: Option<bool>,
    pub logical_block_bytes: Option<u64>,
    pub physical_block_bytes: Option<u64>,
    pub md: Option<MdRaid>,
    pub dm: Option<DeviceMapper>,
    /// Devices underneath (md members, dm slaves), with their rotational flag.
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdRaid {
    pub level: Option<String>,
    pub chunk_bytes: Option<u64>,
    pub raid_disks: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceMapper {
    pub name: Option<String>,
    pub uuid: Option<String>,
    /// LVM, dm-crypt, multipath or other, from the dm UUID prefix.
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub rotational: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectIo {
    /// Whether an O_DIRECT read succeeded; null when it could not be tried.
    pub supported: Option<bool>,
    /// How it was tested.
    pub how: String,
    /// Offset/length alignment O_DIRECT needs, in bytes.
    pub alignment: u64,
    pub memory_alignment: u64,
    pub alignment_source: String,
}
