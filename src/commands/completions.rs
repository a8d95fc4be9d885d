//! `cryocap completions SHELL`: the completion script clap_complete makes
//! from the same command tree the parser uses, on stdout.

use std::io::Write;

use clap_complete::Shell;

use super::{CommandError, Outcome};
use crate::cli::{CompletionsArgs, ShellArg};
use crate::report::writer::{self, Destination};

pub(super) fn run(a: &CompletionsArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let shell = match a.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    writer::write(&Destination::Stdout, &script(shell), out)?;
    Ok(Outcome::Ok)
}

/// The completion script of `shell` for the whole command tree.
fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = crate::cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cryocap", &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_names_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = String::from_utf8(script(shell)).unwrap();
            for word in ["qualify", "copy-bench", "completions", "--particles"] {
                assert!(text.contains(word), "{shell:?} lacks {word}");
            }
        }
    }
}
