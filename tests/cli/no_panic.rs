//! No command ever panics: every flag of every command, given values
//! people mistype or tools mangle, ends with a result or one error line.

use std::process::Stdio;
use std::time::{Duration, Instant};

/// Values that have broken parsers elsewhere.
const GARBAGE: [&str; 9] = [
    "",
    "-1",
    "1e400",
    "a\nb",
    "/dev/zero",
    "2,000,00",
    "%s%n${HOME}$(id)",
    "[[[[[[[[",
    "\u{202e}\u{7}",
];

/// Every subcommand path and each of its flags that takes a value.
fn flags() -> Vec<(Vec<String>, String)> {
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        if cmd.get_subcommands().next().is_none() {
            for a in cmd.get_arguments() {
                if let Some(long) = a.get_long()
                    && a.get_action().takes_values()
                {
                    out.push((path.clone(), format!("--{long}")));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            path.push(sub.get_name().to_string());
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&cryocap::cli::command(), &mut Vec::new(), &mut out);
    out
}

/// Flags that keep a command short when a hostile value is accepted (a
/// history file named `-1` is a fine name): the run measures, but briefly.
fn brief(path: &[String]) -> &'static [&'static str] {
    match path {
        [q] if q == "qualify" => &["--quick", "--repeats", "1"],
        _ => &[],
    }
}

#[test]
fn no_flag_of_any_command_makes_it_panic() {
    let all = flags();
    assert!(all.len() > 100, "{}", all.len());
    let cwd = tempfile::tempdir().unwrap();
    let mut slow = Vec::new();
    for (path, flag) in &all {
        // the hidden task step waits at a barrier by design
        if path.iter().any(|w| w == "shared-read") || path.iter().any(|w| w == "help") {
            continue;
        }
        for value in GARBAGE {
            let extra = brief(path);
            let extra = if extra.contains(&flag.as_str()) {
                &[][..]
            } else {
                extra
            };
            let mut child = crate::common::process()
                .current_dir(cwd.path())
                // never reach a real scheduler
                .env("SLURM_CONF", cwd.path().join("no-slurm.conf"))
                .args(path)
                .args(extra)
                .arg(flag)
                .arg(value)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let t0 = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if t0.elapsed() > Duration::from_secs(60) {
                    let _ = child.kill();
                    panic!("{path:?} {flag} {value:?} ran for a minute");
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            slow.push((t0.elapsed(), format!("{path:?} {flag} {value:?}")));
            let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
            assert!(
                !err.contains("panicked"),
                "{path:?} {flag} {value:?}: {err}"
            );
            assert!(
                matches!(status.code(), Some(0..=2)),
                "{path:?} {flag} {value:?}: {status:?} {err}"
            );
            let errors = err.lines().filter(|l| l.starts_with("error")).count();
            assert!(errors <= 1, "{path:?} {flag} {value:?}: {err}");
        }
    }
    eprintln!(
        "{} runs: {} flags × {} values",
        slow.len(),
        all.len(),
        GARBAGE.len()
    );
    slow.sort();
    for (t, what) in slow.iter().rev().take(5) {
        eprintln!("{t:?} {what}");
    }
}
