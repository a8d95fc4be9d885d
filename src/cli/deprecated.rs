//! Old spellings of flags, still accepted for this release with a one-line
//! notice on stderr naming the new one. They are not clap aliases (clap
//! would suggest them for typos): [`rewrite`] puts the new spelling in their
//! place before parsing. reconstruct's `--gpu`/`--cpu` switches stay hidden
//! flags, as their new spelling takes a value.

use std::ffi::OsString;

/// A flag spelling that changed: in which commands (empty: every command
/// that has the new flag), the old spelling, the new one.
pub struct Rename {
    pub commands: &'static [&'static str],
    pub old: &'static str,
    pub new: &'static str,
}

/// Every renamed flag.
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

impl Rename {
    /// Whether the old spelling means the new one in `command` (its words,
    /// e.g. `cache simulate`): a command it names, or when it names none,
    /// one that has the new flag.
    fn applies_to(&self, command: &str) -> bool {
        if !self.commands.is_empty() {
            return self.commands.contains(&command);
        }
        let root = crate::cli::command();
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some(cmd) = crate::cli::find_command(&root, &words) else {
            return false;
        };
        let long = self.new.trim_start_matches("--");
        cmd.get_arguments().any(|a| a.get_long() == Some(long))
    }
}

/// `argv` with each old spelling of its command (before any `--`)
/// replaced by the new one, `--old=value` included.
pub fn rewrite(argv: &[OsString]) -> Vec<OsString> {
    let command = crate::cli::command_words(argv).join(" ");
    let mut out = Vec::with_capacity(argv.len());
    let mut done = false;
    for arg in argv {
        let text = arg.to_string_lossy();
        if done || text == "--" {
            done = true;
            out.push(arg.clone());
            continue;
        }
        let (flag, value) = match text.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (text.as_ref(), None),
        };
        let rename = RENAMES
            .iter()
            .find(|r| r.old == flag && !r.new.contains(' ') && r.applies_to(&command));
        match (rename, value) {
            (Some(r), Some(v)) => out.push(format!("{}={v}", r.new).into()),
            (Some(r), None) => out.push(r.new.into()),
            (None, _) => out.push(arg.clone()),
        }
    }
    out
}

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
            if r.old == flag && r.applies_to(&command) {
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

    #[test]
    fn old_spellings_are_rewritten_for_their_commands_only() {
        let words = |v: Vec<OsString>| -> Vec<String> {
            v.iter().map(|a| a.to_string_lossy().into_owned()).collect()
        };
        let r = rewrite(&argv(&[
            "cryocap",
            "bench",
            "io",
            "--queue-depth",
            "2",
            "--warmup=0",
            "--",
            "--warmup",
        ]));
        assert_eq!(
            words(r),
            [
                "cryocap",
                "bench",
                "io",
                "--iodepth",
                "2",
                "--ramp-time=0",
                "--",
                "--warmup"
            ]
        );
        // --ssd is a size in plan and stays; in qualify it is a directory
        let plan = argv(&["cryocap", "plan", "--ssd", "1TB"]);
        assert_eq!(rewrite(&plan), plan);
        let q = rewrite(&argv(&[
            "cryocap", "qualify", "--ssd", "d", "--report", "r.html",
        ]));
        assert_eq!(
            words(q),
            ["cryocap", "qualify", "--ssd-dir", "d", "--html", "r.html"]
        );
        // reconstruct's switches are hidden flags, not rewritten
        let g = argv(&["cryocap", "reconstruct", "--gpu"]);
        assert_eq!(rewrite(&g), g);
        // --report is --html only where there is an --html
        let w = argv(&["cryocap", "cache", "workload", "--report", "x"]);
        assert_eq!(rewrite(&w), w);
        assert!(notices(&["cache", "workload"], &w).is_empty());
    }

    /// Every rename names commands that exist, and a new flag each of them has.
    #[test]
    fn every_rename_names_real_commands_and_flags() {
        let root = crate::cli::command();
        for r in RENAMES.iter().filter(|r| !r.commands.is_empty()) {
            for c in r.commands {
                let mut cmd = &root;
                for word in c.split(' ') {
                    cmd = cmd
                        .find_subcommand(word)
                        .unwrap_or_else(|| panic!("no command {c}"));
                }
                let has = |name: &str| {
                    let name = name.trim_start_matches("--");
                    cmd.get_arguments().any(|a| a.get_long() == Some(name))
                };
                let new = r.new.split(' ').next().unwrap_or_default();
                assert!(has(new), "{c}: {new} does not exist");
                if r.new.contains(' ') {
                    assert!(has(r.old), "{c}: the hidden {} is gone", r.old);
                }
            }
        }
    }

    /// No clap alias anywhere: an alias would be offered for typos.
    #[test]
    fn no_command_has_an_alias() {
        fn walk(cmd: &clap::Command) {
            for a in cmd.get_arguments() {
                assert!(a.get_all_aliases().is_none(), "{} has aliases", a.get_id());
            }
            cmd.get_subcommands().for_each(walk);
        }
        walk(&crate::cli::Cli::command());
    }
}
