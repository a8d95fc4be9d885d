//! Old spellings of flags, still accepted for this release (as hidden clap
//! aliases) with a one-line notice on stderr naming the new one.

use std::ffi::OsString;

/// A flag spelling that changed: in which commands (empty: every command
/// that has the new flag), the old spelling, the new one.
pub struct Rename {
    pub commands: &'static [&'static str],
    pub old: &'static str,
    pub new: &'static str,
}

/// Every renamed flag. The clap aliases in `cli` must match this table
/// (checked by a test).
pub const RENAMES: &[Rename] = &[
    Rename {
        commands: &[],
        old: "--report",
        new: "--html",
    },
    Rename {
        commands: &["qualify"],
        old: "--ssd",
        new: "--ssd-dir",
    },
    Rename {
        commands: &["qualify"],
        old: "--repeat",
        new: "--repeats",
    },
    Rename {
        commands: &["reconstruct"],
        old: "--gpu",
        new: "--backend gpu",
    },
    Rename {
        commands: &["reconstruct"],
        old: "--cpu",
        new: "--backend cpu",
    },
    Rename {
        commands: &["stack create", "bench io"],
        old: "--per-file",
        new: "--particles-per-file",
    },
    Rename {
        commands: &["bench io"],
        old: "--queue-depth",
        new: "--iodepth",
    },
    Rename {
        commands: &["bench io"],
        old: "--warmup",
        new: "--ramp-time",
    },
    Rename {
        commands: &["bench io"],
        old: "--duration",
        new: "--runtime",
    },
    Rename {
        commands: &["cache simulate", "cache subset"],
        old: "--quota",
        new: "--ssd-quota",
    },
    Rename {
        commands: &["cache simulate", "cache subset"],
        old: "--reserve",
        new: "--ssd-reserve",
    },
    Rename {
        commands: &["cache workload"],
        old: "--out",
        new: "--output",
    },
    Rename {
        commands: &["fleet submit"],
        old: "--gpus-per-node",
        new: "--gpus",
    },
];

/// The notices for the old spellings used in `argv` by the command whose
/// words are `path` (e.g. `["cache", "simulate"]`). Arguments after `--`
/// belong to another command and are not looked at.
pub fn notices(path: &[&str], argv: &[OsString]) -> Vec<String> {
    let command = path.join(" ");
    let mut out = Vec::new();
    for arg in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        if arg == "--" {
            break;
        }
        let flag = arg.split('=').next().unwrap_or_default();
        for r in RENAMES {
            if r.old == flag && (r.commands.is_empty() || r.commands.contains(&command.as_str())) {
                let line = format!(
                    "cryocap: {} is deprecated in `cryocap {command}`; use {} (the old spelling goes in a later release)",
                    r.old, r.new
                );
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn old_spellings_are_named_once_and_only_before_the_separator() {
        let n = notices(
            &["bench", "io"],
            &argv(&[
                "cryocap",
                "bench",
                "io",
                "--queue-depth",
                "2",
                "--warmup=0",
                "--queue-depth",
                "3",
            ]),
        );
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n[0].contains("--queue-depth") && n[0].contains("--iodepth"));
        let after = notices(
            &["fleet", "submit"],
            &argv(&["cryocap", "fleet", "submit", "--", "--repeat", "1"]),
        );
        assert!(after.is_empty(), "{after:?}");
        // --ssd is a size in plan: nothing to say there.
        assert!(notices(&["plan"], &argv(&["cryocap", "plan", "--ssd", "1TB"])).is_empty());
    }

    /// Every renamed flag of the table is still accepted by its commands
    /// (an alias or a hidden flag), and the new spelling exists.
    #[test]
    fn every_rename_is_an_accepted_spelling() {
        let root = crate::cli::Cli::command();
        for r in RENAMES.iter().filter(|r| !r.commands.is_empty()) {
            for c in r.commands {
                let mut cmd = &root;
                for word in c.split(' ') {
                    cmd = cmd
                        .find_subcommand(word)
                        .unwrap_or_else(|| panic!("no command {c}"));
                }
                let long = |name: &str| {
                    let name = name.trim_start_matches("--");
                    cmd.get_arguments().any(|a| {
                        a.get_long() == Some(name)
                            || a.get_all_aliases().is_some_and(|v| v.contains(&name))
                    })
                };
                assert!(long(r.old), "{c}: {} is not accepted", r.old);
                let new = r.new.split(' ').next().unwrap_or_default();
                assert!(long(new), "{c}: {new} does not exist");
            }
        }
    }

    /// The other way round: every alias in the command tree is an old
    /// spelling the table names, so that its users are told.
    #[test]
    fn every_alias_is_a_rename_with_a_notice() {
        fn walk(cmd: &clap::Command, path: &mut Vec<String>) {
            let here = path.join(" ");
            for a in cmd.get_arguments() {
                for alias in a.get_all_aliases().unwrap_or_default() {
                    let old = format!("--{alias}");
                    let known = RENAMES.iter().any(|r| {
                        r.old == old
                            && (r.commands.is_empty() || r.commands.contains(&here.as_str()))
                    });
                    assert!(
                        known,
                        "`{here}` accepts {old}, which the table does not name"
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                path.push(sub.get_name().to_string());
                walk(sub, path);
                path.pop();
            }
        }
        walk(&crate::cli::Cli::command(), &mut Vec::new());
    }
}
