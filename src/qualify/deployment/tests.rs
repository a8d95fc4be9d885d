//! The deployment checks, on real ports, directories and texts.

use super::*;
use std::net::TcpListener;
use std::net::TcpStream;
use std::time::Instant;

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
