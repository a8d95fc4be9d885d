//! The program itself: started without a shell, waited for without being
//! reaped until the monitor has stopped signalling it, then reaped with
//! whatever it left behind; and the CPU time its whole tree used.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc::{self, Receiver};

use rustix::process::{Pid, WaitId, WaitIdOptions, WaitOptions};

use super::MonitorError;

/// Starts `argv` as given (no shell), with cryocap's stdin, stdout, stderr,
/// environment and process group (so that a terminal's Ctrl-C reaches it).
pub(super) fn spawn(argv: &[OsString]) -> Result<Child, MonitorError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(MonitorError::NoCommand);
    };
    Command::new(program).args(args).spawn().map_err(|e| {
        let program = crate::text::printable(&program.to_string_lossy());
        match e.kind() {
            std::io::ErrorKind::NotFound => MonitorError::NotFound { program },
            _ => MonitorError::Spawn {
                program,
                reason: e.to_string(),
            },
        }
    })
}

/// Whether `path` is a file with an execute bit (root too needs one).
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Checks that `program` names an executable file, looked for as the
/// start will look: a name with a `/` as a path, any other in PATH's
/// directories (/bin and /usr/bin where PATH is unset; an empty entry is
/// the current directory). Whether it then runs is the start's to say.
pub(super) fn check_program(program: &OsStr) -> Result<(), MonitorError> {
    let shown = || crate::text::printable(&program.to_string_lossy());
    if program.as_encoded_bytes().contains(&b'/') {
        let p = Path::new(program);
        return match (p.exists(), executable(p)) {
            (_, true) => Ok(()),
            (true, false) => Err(MonitorError::Spawn {
                program: shown(),
                reason:
                    "not an executable file (give a program, or run a script with its interpreter)"
                        .into(),
            }),
            (false, _) => Err(MonitorError::NotFound { program: shown() }),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/bin:/usr/bin"));
    let found = !program.is_empty()
        && std::env::split_paths(&path).any(|dir| {
            let dir = match dir.as_os_str().is_empty() {
                true => PathBuf::from("."),
                false => dir,
            };
            executable(&dir.join(program))
        });
    match found {
        true => Ok(()),
        false => Err(MonitorError::NotFound { program: shown() }),
    }
}

/// A thread that says (once) when `pid` has ended, leaving it a zombie so
/// that its pid cannot be reused while signals may still be sent to it.
pub(super) fn ended(pid: u32) -> Receiver<()> {
    let (tx, rx) = mpsc::channel();
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw);
    let spawned = std::thread::Builder::new()
        .name("wait".into())
        .spawn(move || {
            if let Some(pid) = pid {
                while let Err(rustix::io::Errno::INTR) = rustix::process::waitid(
                    WaitId::Pid(pid),
                    WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
                ) {}
            }
            let _ = tx.send(());
        });
    // without the thread the sender is gone: the channel says "ended" at
    // once and the caller's wait blocks instead, which is still correct
    drop(spawned);
    rx
}

/// Reaps the program (after [`ended`] said so).
pub(super) fn reap(child: &mut Child) -> Result<ExitStatus, MonitorError> {
    child.wait().map_err(|e| MonitorError::Wait(e.to_string()))
}

/// Reaps every child that has ended which the program left to cryocap
/// (cryocap is their subreaper), so that their CPU time and I/O count.
pub(super) fn reap_orphans() {
    while let Ok(Some(_)) = rustix::process::waitpid(None, WaitOptions::NOHANG) {}
}

/// Makes cryocap the reaper of the processes its program leaves behind:
/// an orphan stays in the tree the monitor sees, instead of going to init.
pub(super) fn become_subreaper() {
    // any pid turns it on (prctl's argument is a flag); where the kernel
    // refuses, orphans go to init and only their figures until then count
    let _ = rustix::process::set_child_subreaper(Some(Pid::INIT));
}

/// User and system CPU seconds, and the largest resident set, of every
/// reaped descendant (getrusage RUSAGE_CHILDREN: a process's counts
/// include those of the children it reaped, so the whole tree is in).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct ChildrenUsage {
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// The largest single process, not the tree's sum, bytes.
    pub max_rss_bytes: u64,
}

pub(super) fn children_usage() -> ChildrenUsage {
    // rustix has no getrusage; libc's is called once here.
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, u.as_mut_ptr()) };
    if rc != 0 {
        return ChildrenUsage::default();
    }
    // SAFETY: zeroed, then filled by getrusage.
    let u = unsafe { u.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    ChildrenUsage {
        user_seconds: secs(u.ru_utime),
        system_seconds: secs(u.ru_stime),
        // kilobytes on Linux
        max_rss_bytes: u64::try_from(u.ru_maxrss).unwrap_or(0) * 1024,
    }
}
