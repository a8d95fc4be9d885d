//! Deployment checks (`qualify --deployment`): what a multi-node CryoSPARC
//! install needs besides hardware, as seed 003 lists it. Each check's note
//! says what was found and what to fix, in one line, with its source.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::results::qualify::{Check, Verdict};
use crate::storage::probe::{self, Mount};

/// Where the rules come from.
pub const SOURCE: &str = "seed 003 (CryoSPARC Architecture and System Requirements)";
/// The same, short, inside notes.
const SEED: &str = "seed 003";

/// How long one port may take to accept a connection.
pub const PORT_TIMEOUT: Duration = Duration::from_secs(2);

/// The master ports every worker must reach: BASE..BASE+10 (seed 003).
pub const MASTER_PORTS: u16 = 11;

#[derive(Debug, Clone)]
pub struct Master {
    pub host: String,
    pub base: u16,
}

/// The workers the master must reach by SSH without a password.
#[derive(Debug, Clone)]
pub struct SshWorkers {
    pub hosts: Vec<String>,
    /// An ssh client configuration (`ssh -F`), else the user's own.
    pub config: Option<PathBuf>,
    /// How long one host may take, connection and login together.
    pub timeout: Duration,
}

/// How long one worker's SSH login may take by default.
pub const SSH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default)]
pub struct DeploymentParams {
    pub master: Option<Master>,
    pub project_dir: Option<PathBuf>,
    pub ssd_dir: Option<PathBuf>,
    pub ssh: Option<SshWorkers>,
    /// `--shared-token`: the token file `fleet submit` wrote.
    pub shared_token: Option<PathBuf>,
    /// The SSD cache quota and reserve in bytes (CryoSPARC --ssdquota,
    /// --ssdreserve); the reserve defaults to 10,000 MB.
    pub ssd_quota: Option<u64>,
    pub ssd_reserve: Option<u64>,
}

fn check(id: &str, label: &str, verdict: Verdict, note: String) -> Check {
    Check {
        id: format!("deployment.{id}"),
        metric: String::new(),
        label: label.to_string(),
        unit: String::new(),
        verdict,
        value: None,
        min: None,
        max: None,
        minimum: None,
        recommended: None,
        source: SOURCE.to_string(),
        note,
    }
}

/// Runs every deployment check. `kernel` is the release the host facts
/// hold; `gpus_seen` the devices the CUDA driver listed (0 without one).
pub fn run(
    p: &DeploymentParams,
    kernel: &str,
    gpus_seen: u32,
    newest_arch: Option<(i32, i32)>,
) -> (Vec<Check>, crate::results::qualify::NodeIdentity) {
    let mut out = vec![master_ports(p.master.as_ref(), PORT_TIMEOUT)];
    let mut token = None;
    if let Some(t) = &p.shared_token {
        let (c, seen) = shared_token(t);
        out.push(c);
        token = seen;
    }
    out.push(ssh_workers(p.ssh.as_ref()));
    out.push(user(rustix::process::geteuid().is_root()));
    for (id, label, flag, dir) in [
        (
            "project_access",
            "project directory access",
            "--dir",
            &p.project_dir,
        ),
        (
            "ssd_access",
            "SSD cache directory access",
            "--ssd-dir",
            &p.ssd_dir,
        ),
    ] {
        out.push(match dir {
            Some(d) => access(id, label, d),
            None => check(
                id,
                label,
                Verdict::NotMeasured,
                format!("give {flag} DIR to check that this user can read and write it ({SEED})"),
            ),
        });
    }
    out.push(match &p.ssd_dir {
        Some(d) => ssd_space(
            d,
            crate::storage::space::fs_space(d).map_err(|e| e.to_string()),
            p.ssd_quota,
            p.ssd_reserve,
        ),
        None => with_source(
            check(
                "ssd_space",
                "SSD cache free space",
                Verdict::NotMeasured,
                "give --ssd-dir DIR (and --ssd-quota MB) to check the drive holds the cache's quota and reserve".into(),
            ),
            SSD_SOURCE,
        ),
    });
    out.push(match &p.project_dir {
        Some(d) => match probe::mount_of_path(d) {
            Ok(m) => shared_fs(m.as_ref()),
            Err(e) => check(
                "shared_fs",
                "shared project file system",
                Verdict::NotMeasured,
                format!("the mount of {} could not be read ({e})", d.display()),
            ),
        },
        None => check(
            "shared_fs",
            "shared project file system",
            Verdict::NotMeasured,
            format!("give --dir PROJECT_DIR to check it is on a shared file system ({SEED})"),
        ),
    });
    out.push(kernel_check(kernel));
    out.push(nvidia_driver(
        std::fs::read_to_string("/proc/driver/nvidia/version")
            .ok()
            .as_deref(),
        newest_arch,
    ));
    out.push(visible_devices(
        std::env::var("CUDA_VISIBLE_DEVICES").ok().as_deref(),
        gpus_seen,
    ));
    let identity = crate::results::qualify::NodeIdentity {
        uid: rustix::process::geteuid().as_raw(),
        token,
    };
    (out, identity)
}

/// Where the SSD cache's quota and reserve come from.
pub const SSD_SOURCE: &str = "docs/sources.md §3 (CryoSPARC cryosparcw connect --ssdquota, --ssdreserve; default reserve 10,000 MB)";

/// CryoSPARC's default `--ssdreserve`: 10,000 MB.
pub const DEFAULT_SSD_RESERVE: u64 = 10_000 * crate::units::MIB;

fn with_source(mut c: Check, source: &str) -> Check {
    c.source = source.to_string();
    c
}

/// Whether the SSD drive's free space holds the reserve the cache keeps
/// free, and on top of it the quota the cache may fill. Files the cache
/// already holds there are not counted: they are space the cache can reuse,
/// so a WARN on a drive with a warm cache may overstate the shortfall.
pub fn ssd_space(
    dir: &Path,
    space: Result<crate::storage::space::FsSpace, String>,
    quota: Option<u64>,
    reserve: Option<u64>,
) -> Check {
    use crate::units::bytes_decimal;
    let (id, label) = ("ssd_space", "SSD cache free space");
    let reserve = reserve.unwrap_or(DEFAULT_SSD_RESERVE);
    let space = match space {
        Ok(s) => s,
        Err(e) => {
            return with_source(
                check(
                    id,
                    label,
                    Verdict::NotMeasured,
                    format!("{}: free space could not be read ({e})", dir.display()),
                ),
                SSD_SOURCE,
            );
        }
    };
    let free = space.available;
    let (verdict, note) = if free <= reserve {
        (
            Verdict::Fail,
            format!(
                "{}: {} free, not more than the reserve {} the cache keeps free: the cache can hold nothing; free space on the drive or lower --ssdreserve",
                dir.display(),
                bytes_decimal(free),
                bytes_decimal(reserve)
            ),
        )
    } else {
        let room = free - reserve;
        match quota {
            Some(q) if room < q => (
                Verdict::Warn,
                format!(
                    "{}: {} free leaves the cache {} above the reserve {}, less than its quota {}; free space or lower --ssdquota to {} MB (files the cache already holds are not counted)",
                    dir.display(),
                    bytes_decimal(free),
                    bytes_decimal(room),
                    bytes_decimal(reserve),
                    bytes_decimal(q),
                    room / crate::units::MIB
                ),
            ),
            Some(q) => (
                Verdict::Pass,
                format!(
                    "{}: {} free holds the quota {} and the reserve {}",
                    dir.display(),
                    bytes_decimal(free),
                    bytes_decimal(q),
                    bytes_decimal(reserve)
                ),
            ),
            None => (
                Verdict::Pass,
                format!(
                    "{}: {} free, {} above the reserve {}; give --ssd-quota to check the quota fits too",
                    dir.display(),
                    bytes_decimal(free),
                    bytes_decimal(room),
                    bytes_decimal(reserve)
                ),
            ),
        }
    };
    with_source(check(id, label, verdict, note), SSD_SOURCE)
}

mod network;
mod system;
pub use network::*;
pub use system::*;

#[cfg(test)]
mod tests;
