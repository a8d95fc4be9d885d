//! `cryocap completions` and `cryocap manpages` flags.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Shells `cryocap completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

#[derive(Debug, Args)]
pub struct ManpagesArgs {
    /// Existing directory to write one man page per command into
    /// (cryocap.1, cryocap-plan.1, cryocap-bench-io.1, ...).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}
