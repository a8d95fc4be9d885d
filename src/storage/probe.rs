//! Maps a path to its storage: mount and file system (/proc/self/mountinfo),
//! block device, rotational flag, md RAID and device-mapper layers (/sys),
//! free space (statvfs) and whether O_DIRECT works there. What cannot be
//! told is listed, not guessed.

use std::path::{Path, PathBuf};

use super::direct_io::{self, AlignedBuf};
use super::space;
use crate::results::probe::{BlockDevice, DeviceMapper, DirectIo, MdRaid, Member, ProbeReport};

/// File system types served over a network or by a parallel file system.
const NETWORK_FS: &[(&str, &str)] = &[
    ("nfs", "NFS"),
    ("nfs4", "NFS"),
    ("lustre", "Lustre"),
    ("beegfs", "BeeGFS"),
    ("gpfs", "GPFS (IBM Storage Scale)"),
    ("ceph", "CephFS"),
    ("fuse.ceph-fuse", "CephFS (FUSE)"),
    ("cifs", "SMB/CIFS"),
    ("smb3", "SMB/CIFS"),
    ("glusterfs", "GlusterFS"),
    ("fuse.glusterfs", "GlusterFS (FUSE)"),
    ("fuse.sshfs", "SSHFS"),
    ("9p", "9P"),
    ("virtiofs", "virtio-fs (host share)"),
];

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error("{path}: cannot be read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: String,
    pub fs_type: String,
    pub source: String,
}

fn unescape(s: &str) -> String {
    // mountinfo writes space, tab, newline and backslash as \ooo.
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let digit = |k: usize| u32::from(b[i + k] - b'0');
            // \400 and above are no byte: kept as written.
            let Ok(v) = u8::try_from(digit(1) * 64 + digit(2) * 8 + digit(3)) else {
                out.push(b[i]);
                i += 1;
                continue;
            };
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text (proc(5) format); malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                mount_point: unescape(l.get(4)?),
                fs_type: r.first()?.to_string(),
                source: unescape(r.get(1)?),
            })
        })
        .collect()
}

/// The mount holding `path` (absolute, canonical): the longest mount point
/// that is a path prefix; the last listed wins among equals (over-mounts).
pub fn mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| Path::new(&m.mount_point).components().count())
        .and_then(|best| {
            mounts
                .iter()
                .rev()
                .find(|m| m.mount_point == best.mount_point)
        })
}

fn read_trim(p: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn read_u64(p: impl AsRef<Path>) -> Option<u64> {
    read_trim(p).and_then(|s| s.parse().ok())
}

fn rotational(disk: &str) -> Option<bool> {
    read_trim(format!("/sys/block/{disk}/queue/rotational")).map(|s| s == "1")
}

fn members(disk: &str) -> Vec<Member> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/sys/block/{disk}/slaves"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            // A member may be a partition; its queue lives on the whole disk.
            let whole = std::fs::canonicalize(format!("/sys/class/block/{name}"))
                .ok()
                .and_then(|p| {
                    if p.join("partition").exists() {
                        p.parent()?
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                    } else {
                        None
                    }
                })
                .unwrap_or_else(|| name.clone());
            Member {
                rotational: rotational(&whole),
                name,
            }
        })
        .collect()
}

/// Describes the block device `major:minor` from /sys.
pub fn block_device(major: u32, minor: u32) -> Option<BlockDevice> {
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let name = sys.file_name()?.to_string_lossy().into_owned();
    let is_part = sys.join("partition").exists();
    let disk = if is_part {
        sys.parent()?.file_name()?.to_string_lossy().into_owned()
    } else {
        name.clone()
    };
    let base = PathBuf::from(format!("/sys/block/{disk}"));
    let md = base.join("md").exists().then(|| MdRaid {
        level: read_trim(base.join("md/level")),
        chunk_bytes: read_u64(base.join("md/chunk_size")),
        raid_disks: read_u64(base.join("md/raid_disks")).map(|v| v as u32),
    });
    let dm = base.join("dm").exists().then(|| {
        let uuid = read_trim(base.join("dm/uuid"));
        let target = match uuid.as_deref() {
            Some(u) if u.starts_with("LVM-") => "LVM",
            Some(u) if u.starts_with("CRYPT-") => "dm-crypt",
            Some(u) if u.starts_with("mpath-") => "multipath",
            _ => "other device-mapper target",
        };
        DeviceMapper {
            name: read_trim(base.join("dm/name")),
            uuid,
            target: target.to_string(),
        }
    });
    let kind = if is_part {
        "partition"
    } else if md.is_some() {
        "md"
    } else if dm.is_some() {
        "dm"
    } else if disk.starts_with("loop") {
        "loop"
    } else {
        "disk"
    };
    Some(BlockDevice {
        kind: kind.to_string(),
        model: read_trim(base.join("device/model")),
        size_bytes: read_u64(sys.join("size")).map(|s| s * 512),
        rotational: rotational(&disk),
        logical_block_bytes: read_u64(base.join("queue/logical_block_size")),
        physical_block_bytes: read_u64(base.join("queue/physical_block_size")),
        members: members(&disk),
        md,
        dm,
        name,
        disk,
    })
}

/// Tries one O_DIRECT read at `path`: of the file itself, or of a 4 KiB
/// temporary file created (and removed) in the directory.
fn direct_io_check(path: &Path, is_dir: bool, unknown: &mut Vec<String>) -> DirectIo {
    let align = direct_io::alignment(path);
    let mut result = DirectIo {
        supported: None,
        how: String::new(),
        alignment: align.offset,
        memory_alignment: align.memory,
        alignment_source: align.source.clone(),
    };
    let try_read = |file: &Path| -> std::io::Result<bool> {
        let f = direct_io::open_read(file, true, &align)?;
        if f.direct {
            let mut buf = AlignedBuf::new(align.offset as usize, align.memory.max(4096) as usize)
                .ok_or_else(|| std::io::Error::other("no memory"))?;
            direct_io::pread_full(&f.file, buf.as_mut_slice(), 0)?;
        }
        Ok(f.direct)
    };
    if !is_dir {
        result.how = "an O_DIRECT read of the file itself".to_string();
        match try_read(path) {
            Ok(ok) => result.supported = Some(ok),
            Err(e) => unknown.push(format!("O_DIRECT: the file could not be opened ({e})")),
        }
        return result;
    }
    match tempfile::Builder::new()
        .prefix(".cryocap-probe-")
        .tempfile_in(path)
    {
        Ok(mut tmp) => {
            use std::io::Write;
            let _registered = crate::interrupt::scratch(tmp.path());
            let _ = tmp
                .write_all(&vec![0x5a; 4096])
                .and_then(|_| tmp.as_file().sync_all());
            result.how = "an O_DIRECT read of a 4 KiB temporary file, removed after".to_string();
            match try_read(tmp.path()) {
                Ok(ok) => result.supported = Some(ok),
                Err(e) => unknown.push(format!("O_DIRECT: the test file could not be read ({e})")),
            }
        }
        Err(e) => {
            result.how = "not tried".to_string();
            unknown.push(format!(
                "O_DIRECT: the directory is not writable for a test file ({e}); probe a file in it instead"
            ));
        }
    }
    result
}

/// The network or cluster file system `fs_type` names, if it is one.
pub fn network_fs_name(fs_type: &str) -> Option<&'static str> {
    NETWORK_FS
        .iter()
        .find(|(t, _)| *t == fs_type)
        .map(|(_, n)| *n)
}

/// The mount holding `path` (canonicalised), from /proc/self/mountinfo.
pub fn mount_of_path(path: &Path) -> std::io::Result<Option<Mount>> {
    let canon = std::fs::canonicalize(path)?;
    let mounts = parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo")?);
    Ok(mount_of(&mounts, &canon).cloned())
}

/// Probes `path` (a file or directory).
pub fn probe(path: &Path) -> Result<ProbeReport, ProbeError> {
    let canon = std::fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ProbeError::Missing(path.to_path_buf()),
        _ => ProbeError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    let meta = std::fs::metadata(&canon).map_err(|source| ProbeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() || t.is_socket() || t.is_char_device() {
            // Opening a FIFO to test O_DIRECT would wait for a writer forever.
            return Err(ProbeError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a FIFO, socket or character device, not a regular file; give a file or directory on the storage",
                ),
            });
        }
    }
    let mut unknown = Vec::new();
    let mut notes = Vec::new();
    let mounts = match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(t) => parse_mountinfo(&t),
        Err(e) => {
            unknown.push(format!("mount: /proc/self/mountinfo unreadable ({e})"));
            Vec::new()
        }
    };
    let mount = mount_of(&mounts, &canon).cloned();
    let network_fs = mount.as_ref().and_then(|m| {
        NETWORK_FS
            .iter()
            .find(|(t, _)| *t == m.fs_type)
            .map(|(_, n)| n.to_string())
    });
    let st = rustix::fs::stat(&canon).map_err(|e| ProbeError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let (maj, min) = (rustix::fs::major(st.st_dev), rustix::fs::minor(st.st_dev));
    let device = if network_fs.is_some() {
        None
    } else {
        let d = block_device(maj, min);
        if d.is_none() {
            unknown.push(format!(
                "block device: device {maj}:{min} has no entry in /sys/dev/block (a virtual, \
                 network or multi-device file system such as tmpfs, overlay, btrfs or ZFS)"
            ));
        }
        d
    };
    if let Some(d) = &device {
        if d.rotational.is_some() {
            notes.push(
                "the rotational flag comes from the kernel; virtual disks (virtio, cloud \
                 volumes) often report it wrongly: trust `cryocap bench io` instead"
                    .to_string(),
            );
        } else {
            unknown.push("rotational: /sys does not say".to_string());
        }
        if d.model.is_none() {
            unknown.push(format!(
                "model: /sys/block/{}/device/model is absent",
                d.disk
            ));
        }
    }
    if let Some(n) = &network_fs {
        notes.push(format!(
            "{n}: throughput depends on the servers and the network; no local block device to describe"
        ));
    }
    let (total, avail) = match space::fs_space(&canon) {
        Ok(s) => (Some(s.total), Some(s.available)),
        Err(e) => {
            unknown.push(format!("free space: statvfs failed ({e})"));
            (None, None)
        }
    };
    let direct_io = direct_io_check(&canon, meta.is_dir(), &mut unknown);
    Ok(ProbeReport {
        path: canon.display().to_string(),
        mount_point: mount.as_ref().map(|m| m.mount_point.clone()),
        fs_type: mount.as_ref().map(|m| m.fs_type.clone()),
        source: mount.as_ref().map(|m| m.source.clone()),
        network_fs,
        device,
        total_bytes: total,
        available_bytes: avail,
        direct_io,
        unknown,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:25 / /mnt/my\\040data rw - nfs4 srv:/export rw,vers=4.2
31 22 0:26 / /mnt rw - tmpfs tmpfs rw
";

    #[test]
    fn mountinfo_is_parsed_with_escapes() {
        let m = parse_mountinfo(INFO);
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].mount_point, "/mnt/my data");
        assert_eq!(m[1].fs_type, "nfs4");
        assert_eq!(m[1].source, "srv:/export");
    }

    #[test]
    fn the_longest_mount_point_wins() {
        let m = parse_mountinfo(INFO);
        assert_eq!(
            mount_of(&m, Path::new("/mnt/my data/x")).unwrap().fs_type,
            "nfs4"
        );
        assert_eq!(
            mount_of(&m, Path::new("/mnt/other")).unwrap().fs_type,
            "tmpfs"
        );
        assert_eq!(mount_of(&m, Path::new("/home")).unwrap().fs_type, "ext4");
        // "/mnt/my" is not a path prefix of "/mnt/mydata".
        assert_eq!(
            mount_of(&m, Path::new("/mnt/my datax")).unwrap().fs_type,
            "tmpfs"
        );
    }

    #[test]
    fn probing_a_temp_dir_finds_its_mount_and_space() {
        let dir = tempfile::tempdir().unwrap();
        let r = probe(dir.path()).unwrap();
        assert!(r.mount_point.is_some());
        assert!(r.available_bytes.unwrap() > 0);
        assert!(r.direct_io.alignment.is_power_of_two());
        assert!(r.direct_io.supported.is_some());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "test file removed"
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any mountinfo text, octal escapes included, gives mounts or none.
        #[test]
        fn mountinfo_never_panics(text in "([0-9 /a-z\\\\-]{0,60}\n?){0,8}") {
            for m in parse_mountinfo(&text) {
                prop_assert!(!m.fs_type.contains(' '));
            }
        }
    }

    #[test]
    fn escapes_beyond_a_byte_are_kept() {
        let m = parse_mountinfo("1 2 3:4 / /a\\777b rw - ext4 /dev/x rw");
        assert_eq!(m[0].mount_point, "/a\\777b");
        let m = parse_mountinfo("1 2 3:4 / /a\\040b rw - ext4 /dev/x rw");
        assert_eq!(m[0].mount_point, "/a b");
    }
}
