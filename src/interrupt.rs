//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, `timeout`, systemd, Slurm at
//! `--time`): whichever arrives, cryocap leaves no scratch behind and exits
//! with 128 + the signal's number.
//!
//! [`install`] starts one thread that receives the three signals. A command
//! whose loops poll [`requested`] (writing, reading or copying stacks,
//! qualifying) calls [`cooperate`]: the first signal is only recorded, the
//! loop stops, removes what it wrote and returns, and `main` exits with
//! [`exit_code`]. Otherwise, and on a second signal, the thread removes
//! every path registered with [`scratch`] (the temporary files of writes in
//! progress) and exits at once.
//!
//! `bench app` runs a program instead: after [`forward`], no signal stops
//! cryocap; each one is passed on to the program ([`forward_to`]) and
//! cryocap waits for it to end, then writes its result.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithRawSiginfo;

/// The signal received, 0 while none has been.
static SIGNAL: AtomicUsize = AtomicUsize::new(0);
/// Whether the running command stops by itself when asked.
static COOPERATIVE: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<bool> = OnceLock::new();

fn registry() -> &'static Mutex<Vec<PathBuf>> {
    static PATHS: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    PATHS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Starts the signal thread once; later calls do nothing. Returns whether
/// the signals are handled.
pub fn install() -> bool {
    *INSTALLED.get_or_init(|| {
        let Ok(mut signals) = SignalsInfo::<WithRawSiginfo>::new([SIGINT, SIGTERM, SIGHUP]) else {
            return false;
        };
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for info in signals.forever() {
                    let sig = info.si_signo;
                    // SI_KERNEL: the terminal's Ctrl-C (and its kin) goes to
                    // the whole foreground process group, the program too
                    if passed_on(sig, info.si_code == libc::SI_KERNEL) {
                        continue;
                    }
                    let first = SIGNAL.swap(sig as usize, Ordering::SeqCst) == 0;
                    if first && COOPERATIVE.load(Ordering::SeqCst) {
                        continue;
                    }
                    remove_scratch();
                    eprintln!(
                        "error: stopped by {}: its scratch files were removed",
                        signal_name()
                    );
                    std::process::exit(128 + sig);
                }
            })
            .is_ok()
    })
}

/// Says that the running command polls [`requested`] and cleans up itself.
pub fn cooperate() {
    install();
    COOPERATIVE.store(true, Ordering::SeqCst);
}

/// True once a signal asked the process to stop.
pub fn requested() -> bool {
    SIGNAL.load(Ordering::Relaxed) != 0
}

/// The exit status for the signal received: 130 for SIGINT, 143 for
/// SIGTERM, 129 for SIGHUP.
pub fn exit_code() -> Option<u8> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => u8::try_from(128 + sig).ok(),
    }
}

/// The signal's name, for the message.
pub fn signal_name() -> &'static str {
    match SIGNAL.load(Ordering::SeqCst) as i32 {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// What happens to signals while `bench app` runs a program.
#[derive(Debug, Default)]
struct Forwarding {
    /// Signals are passed on rather than stopping cryocap.
    on: bool,
    /// The program's pid while it runs (not yet reaped).
    child: Option<i32>,
    /// The program has been reaped: later signals are only noted.
    ended: bool,
    /// A signal that came before the program was started, for it.
    pending: Option<i32>,
    /// What became of each signal, one line each, for the result.
    log: Vec<String>,
}

fn forwarding() -> &'static Mutex<Forwarding> {
    static F: OnceLock<Mutex<Forwarding>> = OnceLock::new();
    F.get_or_init(|| Mutex::new(Forwarding::default()))
}

fn lock_forwarding() -> std::sync::MutexGuard<'static, Forwarding> {
    forwarding()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn name_of(sig: i32) -> String {
    match sig {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        SIGHUP => "SIGHUP".into(),
        s => format!("signal {s}"),
    }
}

/// Sends `sig` to `pid`; says whether it was delivered.
fn send(pid: i32, sig: i32) -> bool {
    match (
        rustix::process::Pid::from_raw(pid),
        rustix::process::Signal::from_named_raw(sig),
    ) {
        (Some(p), Some(s)) => rustix::process::kill_process(p, s).is_ok(),
        _ => false,
    }
}

/// In forwarding mode, handles `sig` (sent by the terminal when
/// `from_terminal`) and returns true; otherwise false.
fn passed_on(sig: i32, from_terminal: bool) -> bool {
    let mut f = lock_forwarding();
    if !f.on {
        return false;
    }
    let name = name_of(sig);
    let line = match (f.child, f.ended) {
        // the program is in cryocap's process group: the terminal sent it
        // the same signal; a second copy would make it handle the signal twice
        (Some(_), _) if from_terminal => {
            format!("{name} from the terminal reached the program directly")
        }
        (Some(pid), _) => match send(pid, sig) {
            true => format!("{name} was passed on to the program"),
            false => format!("{name} could not be passed on: the program was ending"),
        },
        (None, false) => {
            // said by forward_to, which sends it
            f.pending = Some(sig);
            return true;
        }
        (None, true) => format!("{name} came after the program had ended"),
    };
    f.log.push(line);
    true
}

/// From now on, SIGINT, SIGTERM and SIGHUP no longer stop cryocap: they
/// are passed on to the program named with [`forward_to`].
pub fn forward() {
    install();
    lock_forwarding().on = true;
}

/// The program signals are passed on to, from its start until
/// [`program_ended`]; a signal that came before it started is sent now.
pub fn forward_to(pid: u32) {
    let mut f = lock_forwarding();
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    f.child = Some(pid);
    if let Some(sig) = f.pending.take() {
        let how = match send(pid, sig) {
            true => "was passed on as it started",
            false => "could not be passed on",
        };
        let line = format!(
            "{} came before the program started, and {how}",
            name_of(sig)
        );
        f.log.push(line);
    }
}

/// The program is about to be reaped: its pid may be reused, so nothing
/// is sent to it any more.
pub fn program_ended() {
    let mut f = lock_forwarding();
    f.child = None;
    f.ended = true;
}

/// What became of each signal since [`forward`], one line each.
pub fn forwarded() -> Vec<String> {
    lock_forwarding().log.clone()
}

fn remove_scratch() {
    let paths = match registry().lock() {
        Ok(p) => p.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for p in paths {
        // a link is removed, never followed
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {
                let _ = std::fs::remove_dir_all(&p);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(&p);
            }
            Err(_) => {}
        }
    }
}

/// A scratch path removed if the process is stopped by a signal while the
/// guard lives; dropping the guard forgets the path (the owner has renamed
/// or removed it).
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

/// Registers `path` as scratch until the returned guard is dropped.
pub fn scratch(path: &Path) -> Scratch {
    install();
    if let Ok(mut paths) = registry().lock() {
        paths.push(path.to_path_buf());
    }
    Scratch {
        path: path.to_path_buf(),
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut paths) = registry().lock()
            && let Some(i) = paths.iter().position(|p| *p == self.path)
        {
            paths.swap_remove(i);
        }
    }
}

/// A temporary directory named `prefix…` inside `parent`, removed when
/// dropped and, if a signal stops the process first, by the signal thread.
#[derive(Debug)]
pub struct ScratchDir {
    // the directory goes before its registration does
    dir: tempfile::TempDir,
    _guard: Scratch,
}

impl ScratchDir {
    pub fn new(parent: &Path, prefix: &str) -> std::io::Result<ScratchDir> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
        let _guard = scratch(dir.path());
        Ok(ScratchDir { dir, _guard })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Removes the directory now, saying whether that worked.
    pub fn close(self) -> std::io::Result<()> {
        let ScratchDir { dir, _guard } = self;
        dir.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_paths_are_forgotten_when_their_guard_goes() {
        let p = PathBuf::from("/nonexistent/cryocap-scratch-test");
        let g = scratch(&p);
        assert!(registry().lock().unwrap().contains(&p));
        drop(g);
        assert!(!registry().lock().unwrap().contains(&p));
        assert!(!requested() && exit_code().is_none());
    }

    #[test]
    fn a_scratch_dir_is_registered_while_it_lives() {
        let parent = tempfile::tempdir().unwrap();
        let d = ScratchDir::new(parent.path(), ".t-").unwrap();
        let path = d.path().to_path_buf();
        assert!(path.is_dir() && registry().lock().unwrap().contains(&path));
        drop(d);
        assert!(!path.exists() && !registry().lock().unwrap().contains(&path));
    }
}
