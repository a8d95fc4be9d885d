//! `bench io --raw-device`: particles read straight from a block device,
//! read-only. The device is only ever opened O_RDONLY (with O_DIRECT for the
//! reads); nothing here writes to it. Particle `i` lies at
//! `i × particle_bytes` inside a region at the start of the device.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::direct_io::{Alignment, FALLBACK_ALIGN};
use super::read_bench::ParticleFile;

/// Region read when `--size` is not given, at most.
pub(crate) const DEFAULT_REGION: u64 = 4 << 30;

#[derive(Debug, thiserror::Error)]
pub enum RawDeviceError {
    #[error("--raw-device {0}: no such device")]
    Missing(PathBuf),
    #[error(
        "--raw-device {0}: not a block device; give a disk or partition such as /dev/sdb, or read MRC files with --dir/--files"
    )]
    NotBlockDevice(PathBuf),
    #[error(
        "--raw-device {path}: cannot open it read-only ({reason}); run as a user allowed to read the device"
    )]
    Open {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("--raw-device {path}: cannot tell the device's size ({reason})")]
    Size {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error(
        "--size {size} bytes is larger than the device {path} ({device} bytes); give at most its size"
    )]
    SizeTooLarge {
        path: PathBuf,
        size: u64,
        device: u64,
    },
    #[error(
        "--raw-device {path}: a region of {region} bytes holds no {particle} byte particle; give a larger --size or a smaller --box"
    )]
    NoParticle {
        path: PathBuf,
        region: u64,
        particle: u64,
    },
}

/// A block device opened read-only and measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawDevice {
    pub path: PathBuf,
    /// Size in bytes, and where that figure came from.
    pub bytes: u64,
    pub size_source: String,
    pub alignment: Alignment,
}

/// Checks that `path` is a readable block device and finds its size and
/// the logical block size O_DIRECT reads need. Opens it O_RDONLY only.
pub(crate) fn inspect(path: &Path) -> Result<RawDevice, RawDeviceError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RawDeviceError::Missing(path.to_path_buf()),
        _ => RawDeviceError::Open {
            path: path.to_path_buf(),
            reason: e,
        },
    })?;
    if !meta.file_type().is_block_device() {
        return Err(RawDeviceError::NotBlockDevice(path.to_path_buf()));
    }
    // File::open is O_RDONLY | O_CLOEXEC: never a write handle.
    let mut file = File::open(path).map_err(|reason| RawDeviceError::Open {
        path: path.to_path_buf(),
        reason,
    })?;
    let (major, minor) = {
        use std::os::unix::fs::MetadataExt;
        let rdev = meta.rdev();
        (rustix::fs::major(rdev), rustix::fs::minor(rdev))
    };
    let sysfs = format!("/sys/dev/block/{major}:{minor}");
    let (bytes, size_source) = match read_u64(&format!("{sysfs}/size")) {
        Some(sectors) => (sectors * 512, format!("{sysfs}/size (512-byte sectors)")),
        None => {
            let end = file
                .seek(SeekFrom::End(0))
                .map_err(|reason| RawDeviceError::Size {
                    path: path.to_path_buf(),
                    reason,
                })?;
            (end, "seek to the device's end".to_string())
        }
    };
    let alignment = match rustix::fs::ioctl_blksszget(&file) {
        Ok(v) if v > 0 => Alignment {
            offset: u64::from(v),
            memory: u64::from(v),
            source: "ioctl BLKSSZGET (logical block size)".to_string(),
        },
        _ => match read_u64(&format!("{sysfs}/queue/logical_block_size"))
            .or_else(|| read_u64(&format!("{sysfs}/../queue/logical_block_size")))
        {
            Some(v) if v > 0 => Alignment {
                offset: v,
                memory: v,
                source: "sysfs logical_block_size".to_string(),
            },
            _ => Alignment {
                offset: FALLBACK_ALIGN,
                memory: FALLBACK_ALIGN,
                source: "assumed (neither the ioctl nor sysfs told)".to_string(),
            },
        },
    };
    Ok(RawDevice {
        path: path.to_path_buf(),
        bytes,
        size_source,
        alignment,
    })
}

fn read_u64(p: &str) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// The region to read and the particles in it: `requested` (or the smaller
/// of the device and [`DEFAULT_REGION`]), rounded down to whole particles.
pub(crate) fn particles(
    dev: &RawDevice,
    requested: Option<u64>,
    particle_bytes: u64,
) -> Result<ParticleFile, RawDeviceError> {
    let region = match requested {
        Some(s) if s > dev.bytes => {
            return Err(RawDeviceError::SizeTooLarge {
                path: dev.path.clone(),
                size: s,
                device: dev.bytes,
            });
        }
        Some(s) => s,
        None => dev.bytes.min(DEFAULT_REGION),
    };
    let count = region / particle_bytes.max(1);
    if count == 0 {
        return Err(RawDeviceError::NoParticle {
            path: dev.path.clone(),
            region,
            particle: particle_bytes,
        });
    }
    Ok(ParticleFile {
        path: dev.path.clone(),
        data_offset: 0,
        particle_bytes,
        count,
        file_bytes: count * particle_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(bytes: u64) -> RawDevice {
        RawDevice {
            path: PathBuf::from("/dev/x"),
            bytes,
            size_source: "test".into(),
            alignment: Alignment {
                offset: 512,
                memory: 512,
                source: "test".into(),
            },
        }
    }

    #[test]
    fn the_default_region_is_the_smaller_of_device_and_4_gib() {
        let p = particles(&dev(1 << 20), None, 262_144).unwrap();
        assert_eq!((p.count, p.file_bytes), (4, 1 << 20));
        let p = particles(&dev(256 << 30), None, 262_144).unwrap();
        assert_eq!(p.count, DEFAULT_REGION / 262_144);
        assert_eq!(p.particle_offset(3), 3 * 262_144);
    }

    #[test]
    fn the_region_is_whole_particles_and_fits_the_device() {
        let p = particles(&dev(1 << 30), Some(1_000_000), 40_000).unwrap();
        assert_eq!((p.count, p.file_bytes), (25, 1_000_000));
        let p = particles(&dev(1 << 30), Some(1_000_001), 40_000).unwrap();
        assert_eq!(p.file_bytes, 1_000_000);
        let e = particles(&dev(1 << 20), Some(2 << 20), 4096).unwrap_err();
        assert!(e.to_string().contains("--size"), "{e}");
        let e = particles(&dev(1 << 20), Some(1000), 4096).unwrap_err();
        assert!(e.to_string().contains("--box"), "{e}");
    }

    #[test]
    fn regular_files_and_missing_paths_are_refused() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let e = inspect(f.path()).unwrap_err();
        assert!(matches!(e, RawDeviceError::NotBlockDevice(_)), "{e}");
        let e = inspect(Path::new("/nonexistent/dev")).unwrap_err();
        assert!(matches!(e, RawDeviceError::Missing(_)), "{e}");
    }
}
