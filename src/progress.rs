//! Progress on stderr for long work: bars (indicatif) and one-line steps.
//! Commands make a [`Progress`] from `--quiet`; the domain reports to it and
//! never prints. It shows nothing with `--quiet` or when stderr is not a
//! terminal, so results on stdout are never mixed with it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a bar counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    /// Particle reads; a length of 0 is an open-ended spinner.
    Reads,
    Particles,
    /// Anything else counted in steps (sizes simulated, copies made).
    Steps,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    shown: bool,
}

impl Progress {
    /// Shown unless `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            shown: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Shows nothing (tests, nested measurements).
    pub fn hidden() -> Progress {
        Progress { shown: false }
    }

    /// A bar of `len` units labelled `message`; finish it with
    /// `finish_and_clear`.
    pub fn bar(&self, len: u64, unit: Unit, message: &str) -> ProgressBar {
        if !self.shown {
            return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        }
        let template = match unit {
            Unit::Bytes => "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            Unit::Reads if len == 0 => "{msg} {spinner} {pos} reads {per_sec} {elapsed}",
            Unit::Reads => "{msg} [{bar:30}] {pos}/{len} reads {per_sec} eta {eta}",
            Unit::Particles => "{msg} [{bar:40}] {pos}/{len} particles ({per_sec}, {eta})",
            Unit::Steps => "{msg} [{bar:30}] {pos}/{len} {elapsed}",
        };
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_string());
        bar
    }

    /// A line saying what the work does next.
    pub fn step(&self, what: &str) {
        if self.shown {
            eprintln!("{what}");
        }
    }
}
