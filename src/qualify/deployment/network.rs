//! The checks that reach other hosts or the shared directory: the
//! master's ports, SSH to the workers, the shared token file.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

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
pub(super) fn ssh_login(
    host: &str,
    config: Option<&Path>,
    timeout: Duration,
) -> Result<f64, String> {
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
pub(super) const TOKEN_LIMIT: u64 = 4096;

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
