//! The checks of this host: the user, directory access, the shared file
//! system, the kernel, the NVIDIA driver and the visible GPUs.

use std::path::Path;

use super::*;

/// Root is a FAIL: the seed's rule for the install and every job.
pub fn user(is_root: bool) -> Check {
    let name = std::env::var("USER").unwrap_or_default();
    let uid = rustix::process::geteuid().as_raw();
    if is_root {
        check(
            "user",
            "regular (non-root) user",
            Verdict::Fail,
            format!(
                "running as root (uid 0): install and run the worker as a regular UNIX user such \
                 as cryosparcuser ({SEED}: must be installed and run as a regular user, not root)"
            ),
        )
    } else {
        check(
            "user",
            "regular (non-root) user",
            Verdict::Pass,
            format!(
                "running as {} (uid {uid}), not root",
                if name.is_empty() { "this user" } else { &name }
            ),
        )
    }
}

/// Whether this user can list `dir` and create, write and remove a file in
/// it: tried for real, so root's bypass of mode bits and read-only mounts
/// are both seen as they are.
pub fn access(id: &str, label: &str, dir: &Path) -> Check {
    let fix = |what: &str| {
        check(
            id,
            label,
            Verdict::Fail,
            format!(
                "{}: {what}; make it readable and writable by the user that runs CryoSPARC \
                 ({SEED}: all input and output locations must be readable and writable by it)",
                dir.display()
            ),
        )
    };
    if let Err(e) = std::fs::read_dir(dir) {
        return fix(&format!("cannot be listed ({e})"));
    }
    match tempfile::Builder::new()
        .prefix(".cryocap-access-")
        .tempfile_in(dir)
    {
        Ok(mut f) => {
            use std::io::Write;
            if let Err(e) = f.write_all(b"cryocap").and_then(|()| f.flush()) {
                return fix(&format!("a file could be made but not written ({e})"));
            }
            if let Err(e) = f.close() {
                return fix(&format!("a file could be written but not removed ({e})"));
            }
            check(
                id,
                label,
                Verdict::Pass,
                format!(
                    "{}: listed, and a file created, written and removed",
                    dir.display()
                ),
            )
        }
        Err(e) => fix(&format!("no file can be created there ({e})")),
    }
}

/// Whether the project directory's mount is a network or cluster file system.
pub fn shared_fs(mount: Option<&Mount>) -> Check {
    let (id, label) = ("shared_fs", "shared project file system");
    let Some(m) = mount else {
        return check(
            id,
            label,
            Verdict::NotMeasured,
            "the project directory's mount is not in /proc/self/mountinfo".into(),
        );
    };
    match probe::network_fs_name(&m.fs_type) {
        Some(name) => check(
            id,
            label,
            Verdict::Pass,
            format!(
                "on {name} ({} from {} at {})",
                m.fs_type, m.source, m.mount_point
            ),
        ),
        None => check(
            id,
            label,
            Verdict::Warn,
            format!(
                "on a local {} file system ({} at {}): fine for one workstation; for workers, put \
                 projects on a file system every node mounts ({SEED}: all nodes share a file system)",
                m.fs_type, m.source, m.mount_point
            ),
        ),
    }
}

/// (major, minor) of a kernel release such as `3.10.0-1160.el7.x86_64`.
pub(super) fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// WARN on 3.10-era kernels and older (seed 003: CentOS 7's 3.10).
pub fn kernel_check(release: &str) -> Check {
    let (id, label) = ("kernel", "Linux kernel");
    match kernel_version(release) {
        None => check(
            id,
            label,
            Verdict::NotMeasured,
            format!("the kernel release '{release}' could not be read"),
        ),
        Some(v) if v <= (3, 10) => check(
            id,
            label,
            Verdict::Warn,
            format!(
                "kernel {release}: move to a current distribution (e.g. Ubuntu 22.04) ({SEED}: \
                 CUDA on older kernels such as CentOS 7's 3.10 gives sporadic cufftInvalidPlan \
                 and cuMemHostAlloc failures)"
            ),
        ),
        Some(_) => check(
            id,
            label,
            Verdict::Pass,
            format!("kernel {release}, newer than the 3.10 the seed warns about"),
        ),
    }
}

/// The loaded NVIDIA kernel module's version, from /proc/driver/nvidia/version.
pub(super) fn driver_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("Kernel Module"))?;
    line.split_whitespace()
        .find(|w| {
            w.contains('.')
                && w.chars().all(|c| c.is_ascii_digit() || c == '.')
                && w.starts_with(|c: char| c.is_ascii_digit())
        })
        .map(str::to_string)
}

/// Where the driver minimums come from.
pub(super) const DRIVER_SOURCE: &str = "NVIDIA CUDA Toolkit Release Notes, CUDA Toolkit and Corresponding Driver Versions (Linux x86_64)";

/// The Linux driver cryocap's own GPU code needs: its bindings are those of
/// CUDA 12.8 (cudarc's `cuda-12080`), whose GA release needs 570.26.
pub(super) const BUILD_DRIVER: (&str, &str) =
    ("570.26", "cryocap's GPU code (CUDA 12.8 driver API)");

/// The oldest driver of the first CUDA release that supports compute
/// capability `cc`, for the architectures cryo-EM nodes use.
pub(super) fn arch_driver((major, minor): (i32, i32)) -> Option<(&'static str, &'static str)> {
    match (major, minor) {
        (10.., _) => Some(("570.26", "Blackwell (first supported by CUDA 12.8)")),
        (9, 0) | (8, 9) => Some(("520.61.05", "Hopper and Ada (first supported by CUDA 11.8)")),
        (8, _) => Some(("450.51.05", "Ampere (first supported by CUDA 11.0)")),
        _ => None,
    }
}

/// A dotted version as numbers, for comparing.
pub(super) fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Which NVIDIA driver is loaded, graded against what cryocap's CUDA build
/// and the newest GPU architecture (`newest_arch`, when a driver listed the
/// GPUs) need: FAIL below the larger minimum, naming it.
pub fn nvidia_driver(proc_version: Option<&str>, newest_arch: Option<(i32, i32)>) -> Check {
    let (id, label) = ("nvidia_driver", "NVIDIA driver");
    let Some(text) = proc_version else {
        return check(
            id,
            label,
            Verdict::NotMeasured,
            format!(
                "no NVIDIA driver loaded (/proc/driver/nvidia/version is absent): on a worker, \
                 install at least {} for {} ({SEED}: recent NVIDIA drivers)",
                BUILD_DRIVER.0, BUILD_DRIVER.1
            ),
        );
    };
    let Some(v) = driver_version(text) else {
        return check(
            id,
            label,
            Verdict::NotMeasured,
            "a driver is loaded but /proc/driver/nvidia/version names no version".into(),
        );
    };
    let mut needs = vec![BUILD_DRIVER];
    needs.extend(newest_arch.and_then(arch_driver));
    let short: Vec<String> = needs
        .iter()
        .filter(|(min, _)| version_key(&v) < version_key(min))
        .map(|(min, why)| format!("{min} for {why}"))
        .collect();
    let mut c = if short.is_empty() {
        let list: Vec<String> = needs.iter().map(|(m, w)| format!("{m} for {w}")).collect();
        check(
            id,
            label,
            Verdict::Pass,
            format!(
                "driver {v} loaded, at least {} ({SEED}: recent NVIDIA drivers)",
                list.join(" and ")
            ),
        )
    } else {
        check(
            id,
            label,
            Verdict::Fail,
            format!(
                "driver {v} is older than {}: install a newer NVIDIA driver ({SEED}: recent NVIDIA drivers)",
                short.join(" and ")
            ),
        )
    };
    c.source = format!("{SOURCE}; {DRIVER_SOURCE}");
    c
}

/// What `CUDA_VISIBLE_DEVICES` gives this process, against what the CUDA
/// driver listed (`seen`, 0 when no driver).
pub fn visible_devices(value: Option<&str>, seen: u32) -> Check {
    let (id, label) = ("visible_gpus", "GPUs given (CUDA_VISIBLE_DEVICES)");
    let Some(v) = value else {
        return check(
            id,
            label,
            Verdict::Pass,
            "CUDA_VISIBLE_DEVICES is not set: this process may use every GPU of the node".into(),
        );
    };
    let given: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if given.is_empty()
        || given
            .iter()
            .any(|g| g.starts_with('-') || *g == "NoDevFiles")
    {
        return check(
            id,
            label,
            Verdict::Fail,
            format!(
                "CUDA_VISIBLE_DEVICES='{}' hides every GPU: ask the scheduler for GPUs \
                 (e.g. --gres=gpu:N) ({SEED}: workers run on NVIDIA GPUs)",
                v.escape_debug()
            ),
        );
    }
    if seen > 0 && seen as usize != given.len() {
        return check(
            id,
            label,
            Verdict::Fail,
            format!(
                "CUDA_VISIBLE_DEVICES='{}' names {} GPUs but the driver shows {seen}: \
                 an entry names no GPU of this node; fix the scheduler's GPU binding ({SEED})",
                v.escape_debug(),
                given.len()
            ),
        );
    }
    check(
        id,
        label,
        if seen > 0 {
            Verdict::Pass
        } else {
            Verdict::NotMeasured
        },
        if seen > 0 {
            format!(
                "CUDA_VISIBLE_DEVICES='{}': the {seen} GPUs given are the ones seen",
                v.escape_debug()
            )
        } else {
            format!(
                "CUDA_VISIBLE_DEVICES='{}' gives {} GPUs; no CUDA driver here to see them",
                v.escape_debug(),
                given.len()
            )
        },
    )
}
