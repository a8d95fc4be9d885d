//! Free space and the reserve a writer must leave on a file system.

use std::path::Path;

/// Default reserve: the larger of 10 GB and 5 % of the file system.
pub const DEFAULT_RESERVE_BYTES: u64 = 10_000_000_000;
pub const DEFAULT_RESERVE_PERCENT: f64 = 5.0;

/// How much free space must remain after writing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reserve {
    /// The larger of 10 GB and 5 % of the file system.
    Default,
    Bytes(u64),
    /// Percent of the file system's size.
    Percent(f64),
}

impl Reserve {
    /// The reserve in bytes on a file system of `total` bytes.
    pub fn bytes(self, total: u64) -> u64 {
        let pct = |p: f64| (total as f64 * p / 100.0).ceil() as u64;
        match self {
            Reserve::Default => DEFAULT_RESERVE_BYTES.max(pct(DEFAULT_RESERVE_PERCENT)),
            Reserve::Bytes(b) => b,
            Reserve::Percent(p) => pct(p),
        }
    }
    pub fn describe(self) -> String {
        match self {
            Reserve::Default => "the larger of 10 GB and 5 % of the file system".to_string(),
            Reserve::Bytes(b) => crate::units::bytes_decimal(b),
            Reserve::Percent(p) => format!("{p} % of the file system"),
        }
    }
}

/// Size and free space of the file system holding `path`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsSpace {
    pub total: u64,
    /// Free to an unprivileged user (f_bavail).
    pub available: u64,
}

pub fn fs_space(path: &Path) -> std::io::Result<FsSpace> {
    let s = rustix::fs::statvfs(path)?;
    Ok(FsSpace {
        total: s.f_blocks.saturating_mul(s.f_frsize),
        available: s.f_bavail.saturating_mul(s.f_frsize),
    })
}

/// Whether writing `bytes` leaves at least the reserve free; the shortfall
/// in bytes when it does not.
pub fn shortfall(space: FsSpace, bytes: u64, reserve: Reserve) -> Option<u64> {
    let need = bytes.saturating_add(reserve.bytes(space.total));
    (need > space.available).then(|| need - space.available)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_reserve_is_the_larger_of_10_gb_and_5_percent() {
        assert_eq!(Reserve::Default.bytes(100_000_000_000), 10_000_000_000);
        assert_eq!(Reserve::Default.bytes(1_000_000_000_000), 50_000_000_000);
        assert_eq!(Reserve::Percent(1.0).bytes(1000), 10);
    }

    #[test]
    fn shortfall_counts_the_reserve() {
        let s = FsSpace {
            total: 1000,
            available: 500,
        };
        assert_eq!(shortfall(s, 400, Reserve::Bytes(100)), None);
        assert_eq!(shortfall(s, 401, Reserve::Bytes(100)), Some(1));
    }
}
