//! Ctrl-C: one process-wide flag that long loops poll, so they can stop,
//! delete the files they created and exit with an error instead of dying
//! half-way with scratch files left behind.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Installs the Ctrl-C handler once; later calls do nothing. Returns whether
/// a handler is in place (another library may already own SIGINT).
pub(crate) fn install() -> bool {
    *INSTALLED
        .get_or_init(|| ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)).is_ok())
}

/// True once the user pressed Ctrl-C.
pub(crate) fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
