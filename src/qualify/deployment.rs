//! Deployment checks (`qualify --deployment`): what a multi-node CryoSPARC
//! install needs besides hardware, as seed 003 lists it. Each check's note
//! says what was found and what to fix, in one line, with its source.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// Connects to each of the master's 11 ports at once, each bounded by
/// `timeout`; nothing beyond those ports is tried.
pub fn master_ports(master: Option<&Master>, timeout: Duration) -> Check {
    let (id, label) = ("master_ports", "master ports reachable");
    let Some(m) = master else {
        return check(
            id,
            label,
            Verdict::NotMeasured,
            format!(
                "give --master HOST[:BASE] to check TCP access to the master's 11 ports ({SEED})"
            ),
        );
    };
    let last = m.base.saturating_add(MASTER_PORTS - 1);
    let started = Instant::now();
    let addr: Option<SocketAddr> = match (m.host.as_str(), m.base).to_socket_addrs() {
        Ok(mut a) => a.next(),
        Err(_) => None,
    };
    let Some(addr) = addr else {
        return check(
            id,
            label,
            Verdict::Fail,
            format!(
                "{} does not resolve from this node: add it to DNS or /etc/hosts ({SEED}: \
                 workers need TCP access to the master)",
                m.host
            ),
        );
    };
    let closed: Vec<u16> = std::thread::scope(|s| {
        let tries: Vec<_> = (m.base..=last)
            .map(|port| {
                s.spawn(move || {
                    let mut a = addr;
                    a.set_port(port);
                    (port, TcpStream::connect_timeout(&a, timeout).is_ok())
                })
            })
            .collect();
        tries
            .into_iter()
            .filter_map(|t| match t.join() {
                Ok((_, true)) => None,
                Ok((port, false)) => Some(port),
                Err(_) => None,
            })
            .collect()
    });
    let took = started.elapsed().as_secs_f64();
    let range = format!("{}:{}-{}", m.host, m.base, last);
    if closed.is_empty() {
        check(
            id,
            label,
            Verdict::Pass,
            format!("all 11 ports {range} accept TCP connections ({took:.2} s)"),
        )
    } else {
        let list: Vec<String> = closed.iter().map(u16::to_string).collect();
        check(
            id,
            label,
            Verdict::Fail,
            format!(
                "{} of 11 ports on {range} refused or timed out after {:.0} s: {} ({took:.2} s in all); \
                 start the master or open these ports to the workers in its firewall ({SEED}: \
                 workers need TCP access to 11 consecutive ports)",
                closed.len(),
                timeout.as_secs_f64(),
                list.join(", ")
            ),
        )
    }
}

/// What one `ssh -o BatchMode=yes HOST true` said: Ok(seconds) or the
/// reason, bounded by `timeout` (the child is killed past it).
fn ssh_login(host: &str, config: Option<&Path>, timeout: Duration) -> Result<f64, String> {
    use std::process::{Command, Stdio};
    let started = Instant::now();
    let mut cmd = Command::new("ssh");
    if let Some(c) = config {
        cmd.arg("-F").arg(c);
    }
    // BatchMode: a password or passphrase prompt is a failure, not a hang;
    // `--` so that a host can never be read as an option
    cmd.args(["-o", "BatchMode=yes", "-o"])
        .arg(format!("ConnectTimeout={}", timeout.as_secs().max(1)))
        .args(["-T", "--", host, "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("no ssh client on this node (install openssh-client)".into());
        }
        Err(e) => return Err(format!("ssh could not start: {e}")),
    };
    // stderr is drained while ssh runs, so that a chatty ssh cannot fill
    // the pipe and stall until the timeout; a process ssh leaves behind
    // (a ControlPersist master) may hold it open, so it is waited for only
    // briefly once ssh has exited
    let (tx, drained) = std::sync::mpsc::channel::<String>();
    if let Some(mut e) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
            let _ = tx.send(err);
        });
    }
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let err = drained
                    .recv_timeout(Duration::from_secs(1))
                    .unwrap_or_default();
                let took = started.elapsed().as_secs_f64();
                if status.success() {
                    return Ok(took);
                }
                // the last line ssh printed says why (warnings come first)
                let why = err
                    .lines()
                    .map(str::trim)
                    .rfind(|l| !l.is_empty())
                    .map_or_else(|| format!("ssh exited with {status}"), |l| l.to_string());
                return Err(crate::text::printable(&why).to_string());
            }
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no login within {:.0} s", timeout.as_secs_f64()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for ssh failed: {e}")),
        }
    }
}

/// Password-less SSH from this node (the master) to every worker, all at
/// once, each bounded: PASS, or FAIL naming each host that did not let
/// `ssh -o BatchMode=yes` in and why.
pub fn ssh_workers(ssh: Option<&SshWorkers>) -> Check {
    let (id, label) = ("ssh_workers", "password-less SSH to the workers");
    let Some(w) = ssh else {
        return check(
            id,
            label,
            Verdict::NotMeasured,
            format!(
                "on the master, give --workers HOSTS to check password-less SSH to each ({SEED})"
            ),
        );
    };
    let started = Instant::now();
    let results: Vec<(String, Result<f64, String>)> = std::thread::scope(|s| {
        let tries: Vec<_> = w
            .hosts
            .iter()
            .map(|h| {
                let config = w.config.as_deref();
                (h, s.spawn(move || ssh_login(h, config, w.timeout)))
            })
            .collect();
        tries
            .into_iter()
            .map(|(h, t)| {
                let r = t
                    .join()
                    .unwrap_or_else(|_| Err("the check's thread failed".into()));
                (h.clone(), r)
            })
            .collect()
    });
    let took = started.elapsed().as_secs_f64();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(h, r)| r.as_ref().err().map(|why| format!("{h} ({why})")))
        .collect();
    if failed.is_empty() {
        let slowest = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .fold(0.0f64, |a, &b| a.max(b));
        check(
            id,
            label,
            Verdict::Pass,
            format!(
                "{} worker(s) let this user in with ssh -o BatchMode=yes (slowest {slowest:.2} s)",
                results.len()
            ),
        )
    } else {
        check(
            id,
            label,
            Verdict::Fail,
            format!(
                "{} of {} worker(s) refused a password-less login: {} ({took:.1} s in all); \
                 put this user's public key in each worker's authorized_keys and its host key \
                 in known_hosts ({SEED}: the master reaches workers by SSH without a password)",
                failed.len(),
                results.len(),
                failed.join("; ")
            ),
        )
    }
}

/// Most bytes a token file may hold (`fleet submit` writes one short line).
const TOKEN_LIMIT: u64 = 4096;

/// Reads the shared token file `fleet submit` wrote: PASS with what this
/// node sees (inode, device, content), or FAIL when it cannot be read (the
/// directory is not shared with this node).
pub fn shared_token(path: &Path) -> (Check, Option<crate::results::qualify::TokenSeen>) {
    use std::os::unix::fs::MetadataExt;
    let (id, label) = ("shared_token", "shared directory token");
    // only a small regular file is read: a FIFO or a device named here
    // must not hang the check or fill memory
    let seen = crate::files::read_input(path, TOKEN_LIMIT).and_then(|bytes| {
        let m = crate::files::check_input(path)?;
        Ok((m, String::from_utf8_lossy(&bytes).into_owned()))
    });
    match seen {
        Ok((m, text)) => {
            let content = crate::text::printable(text.lines().next().unwrap_or("").trim())
                .chars()
                .take(200)
                .collect::<String>();
            let token = crate::results::qualify::TokenSeen {
                path: path.display().to_string(),
                inode: m.ino(),
                device: format!(
                    "{}:{}",
                    rustix::fs::major(m.dev()),
                    rustix::fs::minor(m.dev())
                ),
                content,
            };
            let note = format!(
                "{}: inode {} on device {}; `fleet report` compares it with every other node's ({SEED}: all nodes share a file system)",
                token.path, token.inode, token.device
            );
            (check(id, label, Verdict::Pass, note), Some(token))
        }
        Err(e) => (
            check(
                id,
                label,
                Verdict::Fail,
                format!(
                    "{}: {}: this node does not see the directory `fleet submit` wrote the token into; mount the shared file system here at the same path ({SEED}: all nodes share a file system)",
                    path.display(),
                    e.reason()
                ),
            ),
            None,
        ),
    }
}

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
fn kernel_version(release: &str) -> Option<(u32, u32)> {
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
fn driver_version(text: &str) -> Option<String> {
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
const DRIVER_SOURCE: &str = "NVIDIA CUDA Toolkit Release Notes, CUDA Toolkit and Corresponding Driver Versions (Linux x86_64)";

/// The Linux driver cryocap's own GPU code needs: its bindings are those of
/// CUDA 12.8 (cudarc's `cuda-12080`), whose GA release needs 570.26.
const BUILD_DRIVER: (&str, &str) = ("570.26", "cryocap's GPU code (CUDA 12.8 driver API)");

/// The oldest driver of the first CUDA release that supports compute
/// capability `cc`, for the architectures cryo-EM nodes use.
fn arch_driver((major, minor): (i32, i32)) -> Option<(&'static str, &'static str)> {
    match (major, minor) {
        (10.., _) => Some(("570.26", "Blackwell (first supported by CUDA 12.8)")),
        (9, 0) | (8, 9) => Some(("520.61.05", "Hopper and Ada (first supported by CUDA 11.8)")),
        (8, _) => Some(("450.51.05", "Ampere (first supported by CUDA 11.0)")),
        _ => None,
    }
}

/// A dotted version as numbers, for comparing.
fn version_key(v: &str) -> Vec<u32> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn kernels() {
        assert_eq!(
            kernel_check("3.10.0-1160.el7.x86_64").verdict,
            Verdict::Warn
        );
        assert_eq!(kernel_check("2.6.32").verdict, Verdict::Warn);
        assert_eq!(kernel_check("4.18.0-513.el8").verdict, Verdict::Pass);
        assert_eq!(kernel_check("6.1.0-18-amd64").verdict, Verdict::Pass);
        assert_eq!(kernel_check("unknown").verdict, Verdict::NotMeasured);
        assert!(kernel_check("3.10.0").note.contains("CentOS 7"));
    }

    #[test]
    fn drivers() {
        let text = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 07:09:35 UTC 2025\nGCC version:  gcc version 12.2.0\n";
        let c = nvidia_driver(Some(text), Some((9, 0)));
        assert_eq!(c.verdict, Verdict::Pass, "{}", c.note);
        assert!(
            c.note.contains("580.65.06") && c.note.contains("Hopper"),
            "{}",
            c.note
        );
        assert!(c.source.contains("Release Notes"), "{}", c.source);
        // 550 runs a Hopper, but not cryocap's CUDA 12.8 build
        let old = text.replace("580.65.06", "550.127.08");
        let c = nvidia_driver(Some(&old), Some((9, 0)));
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(
            c.note.contains("older than 570.26 for cryocap's GPU code"),
            "{}",
            c.note
        );
        assert!(!c.note.contains("Hopper"), "{}", c.note);
        // versions compare as numbers, not text
        let newer = text.replace("580.65.06", "1000.1");
        assert_eq!(
            nvidia_driver(Some(&newer), Some((12, 0))).verdict,
            Verdict::Pass
        );
        let c = nvidia_driver(Some(&text.replace("580.65.06", "570.26")), Some((10, 0)));
        assert_eq!(c.verdict, Verdict::Pass, "{}", c.note);
        assert_eq!(nvidia_driver(None, None).verdict, Verdict::NotMeasured);
        assert_eq!(
            nvidia_driver(Some("garbage"), None).verdict,
            Verdict::NotMeasured
        );
    }

    #[test]
    fn visible_gpus() {
        assert_eq!(visible_devices(None, 0).verdict, Verdict::Pass);
        assert_eq!(visible_devices(Some(""), 0).verdict, Verdict::Fail);
        assert_eq!(visible_devices(Some("-1"), 4).verdict, Verdict::Fail);
        assert_eq!(visible_devices(Some("0,1"), 2).verdict, Verdict::Pass);
        assert_eq!(visible_devices(Some("0,1,7"), 2).verdict, Verdict::Fail);
        assert_eq!(
            visible_devices(Some("GPU-abc"), 0).verdict,
            Verdict::NotMeasured
        );
    }

    #[test]
    fn file_systems() {
        let m = |t: &str| Mount {
            mount_point: "/data".into(),
            fs_type: t.into(),
            source: "srv:/export".into(),
        };
        assert_eq!(shared_fs(Some(&m("nfs4"))).verdict, Verdict::Pass);
        assert_eq!(shared_fs(Some(&m("lustre"))).verdict, Verdict::Pass);
        assert_eq!(shared_fs(Some(&m("ext4"))).verdict, Verdict::Warn);
        assert_eq!(shared_fs(None).verdict, Verdict::NotMeasured);
    }

    #[test]
    fn ssd_space_against_quota_and_reserve() {
        use crate::storage::space::FsSpace;
        const GB: u64 = 1_000_000_000;
        let d = Path::new("/ssd");
        let fs = |free: u64| {
            Ok(FsSpace {
                total: 2000 * GB,
                available: free,
            })
        };
        let v = |free, q, r| ssd_space(d, fs(free), q, r).verdict;
        assert_eq!(v(300 * GB, Some(250 * GB), Some(5 * GB)), Verdict::Pass);
        assert_eq!(v(300 * GB, Some(296 * GB), Some(5 * GB)), Verdict::Warn);
        assert_eq!(v(5 * GB, None, Some(5 * GB)), Verdict::Fail);
        // The default reserve is 10,000 MB.
        assert_eq!(v(10_000 * crate::units::MIB, None, None), Verdict::Fail);
        assert_eq!(v(11 * GB, None, None), Verdict::Pass);
        let w = ssd_space(d, fs(300 * GB), Some(296 * GB), Some(5 * GB));
        assert!(w.note.contains("lower --ssdquota"), "{}", w.note);
        assert!(w.source.contains("--ssdquota"));
        let e = ssd_space(d, Err("EIO".into()), None, None);
        assert_eq!(e.verdict, Verdict::NotMeasured);
    }

    #[test]
    fn root_fails() {
        assert_eq!(user(true).verdict, Verdict::Fail);
        assert!(user(true).note.contains("regular"));
        assert_eq!(user(false).verdict, Verdict::Pass);
    }

    /// 11 consecutive loopback ports, some listening and some closed.
    #[test]
    fn master_ports_name_the_closed_ones() {
        // find 11 free consecutive ports: bind them all, then drop some
        let (base, mut held) = (20_000u16..60_000)
            .step_by(97)
            .find_map(|b| {
                let ls: Vec<TcpListener> = (b..b + MASTER_PORTS)
                    .filter_map(|p| TcpListener::bind(("127.0.0.1", p)).ok())
                    .collect();
                (ls.len() == usize::from(MASTER_PORTS)).then_some((b, ls))
            })
            .expect("11 free consecutive loopback ports");
        let m = Master {
            host: "127.0.0.1".into(),
            base,
        };
        let all = master_ports(Some(&m), Duration::from_secs(2));
        assert_eq!(all.verdict, Verdict::Pass, "{}", all.note);
        // close base+3 and base+7
        held.remove(7);
        held.remove(3);
        let some = master_ports(Some(&m), Duration::from_secs(2));
        assert_eq!(some.verdict, Verdict::Fail);
        assert!(
            some.note
                .contains(&format!("2 of 11 ports on 127.0.0.1:{base}-{}", base + 10)),
            "{}",
            some.note
        );
        assert!(
            some.note.contains(&format!("{}, {}", base + 3, base + 7)),
            "{}",
            some.note
        );
        drop(held);
        assert_eq!(
            master_ports(None, PORT_TIMEOUT).verdict,
            Verdict::NotMeasured
        );
    }

    #[test]
    fn an_unresolvable_master_fails() {
        let m = Master {
            host: "no-such-host.invalid".into(),
            base: 39000,
        };
        assert_eq!(master_ports(Some(&m), PORT_TIMEOUT).verdict, Verdict::Fail);
    }

    #[test]
    fn access_is_tried_for_real() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(access("a", "a", d.path()).verdict, Verdict::Pass);
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            0,
            "nothing left"
        );
        let missing = d.path().join("missing");
        assert_eq!(access("a", "a", &missing).verdict, Verdict::Fail);
        use std::os::unix::fs::PermissionsExt;
        let ro = d.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let c = access("a", "a", &ro);
        if rustix::process::geteuid().is_root() {
            // root writes through mode bits: the check says so by passing
            eprintln!(
                "running as root: a mode-0555 directory is writable; the FAIL case is checked as non-root only"
            );
            assert_eq!(c.verdict, Verdict::Pass);
        } else {
            assert_eq!(c.verdict, Verdict::Fail, "{}", c.note);
            assert!(c.note.contains("no file can be created"), "{}", c.note);
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A real sshd on a loopback port with keys made for the test, and the
    /// client configuration that reaches it as `worker` (authorised key),
    /// `stranger` (a key sshd does not know) and `closed` (nothing
    /// listening). Needs root and sshd; CI sets CRYOCAP_REQUIRE_SSHD=1.
    struct LocalSshd {
        child: std::process::Child,
        dir: tempfile::TempDir,
    }

    impl Drop for LocalSshd {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port")
    }

    fn local_sshd() -> Option<LocalSshd> {
        use std::process::{Command, Stdio};
        let required = std::env::var_os("CRYOCAP_REQUIRE_SSHD").is_some();
        let usable = rustix::process::geteuid().is_root()
            && Path::new("/usr/sbin/sshd").exists()
            && Command::new("ssh-keygen")
                .arg("-?")
                .stderr(Stdio::null())
                .status()
                .is_ok();
        if !usable {
            assert!(
                !required,
                "CRYOCAP_REQUIRE_SSHD is set but sshd, ssh-keygen or root is missing"
            );
            eprintln!(
                "skipped: needs root, /usr/sbin/sshd and ssh-keygen (apt-get install openssh-server)"
            );
            return None;
        }
        let user = std::env::var("CRYOCAP_TEST_USER").unwrap_or_else(|_| "root".into());
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for key in ["host", "client", "stranger"] {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))
                .status()
                .unwrap()
                .success();
            assert!(ok, "ssh-keygen failed");
        }
        std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
        // sshd reads authorized_keys as the user logging in
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let port = free_port();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host\nAuthorizedKeysFile {0}/authorized_keys\n\
                 StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nAllowUsers {user}\nPidFile {0}/sshd.pid\n",
                d.display()
            ),
        )
        .unwrap();
        let host_key = std::fs::read_to_string(d.join("host.pub")).unwrap();
        let key_type_and_body: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}\n", key_type_and_body.join(" ")),
        )
        .unwrap();
        let closed = free_port();
        let host = |name: &str, port: u16, key: &str| {
            format!(
                "Host {name}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {0}/{key}\n  \
                 IdentitiesOnly yes\n  UserKnownHostsFile {0}/known_hosts\n  StrictHostKeyChecking yes\n",
                d.display()
            )
        };
        std::fs::write(
            d.join("ssh_config"),
            [
                host("worker", port, "client"),
                host("stranger", port, "stranger"),
                host("closed", closed, "client"),
            ]
            .concat(),
        )
        .unwrap();
        // sshd wants its privilege-separation directory
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(LocalSshd { child, dir })
    }

    #[test]
    fn a_token_that_is_not_a_small_regular_file_is_refused_without_reading_it() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // a FIFO with no writer would block a plain read forever
        let (c, seen) = shared_token(&fifo);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.note.contains("not a regular file"), "{}", c.note);
        assert!(seen.is_none());
        let big = d.path().join("big");
        std::fs::write(&big, vec![b'x'; 10_000]).unwrap();
        assert_eq!(shared_token(&big).0.verdict, Verdict::Fail);
        let ok = d.path().join("token");
        std::fs::write(&ok, "cryocap fleet token 1f\nmore\n").unwrap();
        let (c, seen) = shared_token(&ok);
        assert_eq!(c.verdict, Verdict::Pass, "{}", c.note);
        assert_eq!(seen.unwrap().content, "cryocap fleet token 1f");
    }

    #[test]
    fn ssh_to_workers_against_a_real_sshd() {
        let Some(sshd) = local_sshd() else { return };
        let config = Some(sshd.dir.path().join("ssh_config"));
        let workers = |hosts: &[&str]| SshWorkers {
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            config: config.clone(),
            timeout: Duration::from_secs(10),
        };
        let ok = ssh_workers(Some(&workers(&["worker", "worker"])));
        assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.note);
        assert!(ok.note.contains("2 worker(s)"), "{}", ok.note);
        let bad = ssh_workers(Some(&workers(&["worker", "stranger", "closed"])));
        assert_eq!(bad.verdict, Verdict::Fail);
        assert!(bad.note.starts_with("2 of 3 worker(s)"), "{}", bad.note);
        assert!(
            bad.note.contains("stranger (") && bad.note.contains("Permission denied"),
            "{}",
            bad.note
        );
        assert!(
            bad.note.contains("closed (") && bad.note.contains("refused"),
            "{}",
            bad.note
        );
        assert!(!bad.note.contains("worker ("), "{}", bad.note);
        // a host that would be an option to ssh is only ever a host
        let odd = ssh_workers(Some(&workers(&["-oProxyCommand=touch /tmp/x"])));
        assert_eq!(odd.verdict, Verdict::Fail);
        assert_eq!(ssh_workers(None).verdict, Verdict::NotMeasured);
    }

    #[test]
    fn a_login_that_hangs_is_cut_off() {
        // a listener that accepts and never speaks: ssh waits for a banner
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("ssh_config");
        std::fs::write(
            &cfg,
            format!("Host silent\n  HostName 127.0.0.1\n  Port {port}\n"),
        )
        .unwrap();
        let w = SshWorkers {
            hosts: vec!["silent".into()],
            config: Some(cfg),
            timeout: Duration::from_secs(2),
        };
        let started = Instant::now();
        let c = ssh_workers(Some(&w));
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(started.elapsed() < Duration::from_secs(8), "not bounded");
        assert!(c.note.contains("silent ("), "{}", c.note);
        drop(l);
    }
}
