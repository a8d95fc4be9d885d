//! Progress bars on stderr: hidden when stderr is not a terminal or with
//! `--quiet`, so results on stdout are never mixed with them.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` units (bytes when `bytes`), or a hidden one.
pub fn bar(len: u64, bytes: bool, quiet: bool, message: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let template = if bytes {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else if len == 0 {
        "{msg} {spinner} {pos} reads {per_sec} {elapsed}"
    } else {
        "{msg} [{bar:30}] {pos}/{len} reads {per_sec} eta {eta}"
    };
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(message.to_string());
    pb
}
