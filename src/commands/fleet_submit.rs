//! `cryocap fleet submit`: qualify every node of a Slurm cluster through
//! one job array (or of a Grid Engine cluster through one job per node),
//! wait, and report.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::{check_outputs, finish, now, result_files};
use super::{CommandError, Outcome};
use crate::cli::{Cli, Command, FleetSubmitArgs};
use crate::fleet::hostlist;
use crate::fleet::scheduler::backend;
use crate::fleet::slurm;
use crate::fleet::submit::{self, FleetSubmit, Targets};
use crate::progress::Progress;
use crate::report::writer::{self, Destination};
use crate::results::Kind;

pub(super) fn run(a: &FleetSubmitArgs, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let started = now();
    let usage = |m: String| CommandError::Usage(m);
    let sched = backend(a.scheduler);
    sched.check_options(a.partition.is_some()).map_err(usage)?;
    let targets = match (&a.nodes, &a.partition) {
        (Some(list), _) => {
            let nodes = hostlist::expand(list).map_err(|e| usage(format!("--nodes: {e}")))?;
            if nodes.len() > 10_000 {
                return Err(usage("--nodes: more than 10,000 nodes".into()));
            }
            let twice: Vec<&String> = nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| nodes[..*i].contains(n))
                .map(|(_, n)| n)
                .collect();
            if !twice.is_empty() && a.shared_read.is_none() {
                // Two tasks would write one <node>.json.
                return Err(usage(format!(
                    "--nodes names {} more than once; give each node once (with --shared-read a node may repeat, for more readers)",
                    twice
                        .iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Targets::Nodes(nodes)
        }
        (None, Some(p)) => {
            if p.is_empty()
                || !p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(usage(format!(
                    "--partition: '{p}' is not a partition name (letters, digits, '-', '_', '.')"
                )));
            }
            Targets::Partition(p.clone())
        }
        (None, None) => {
            return Err(usage(
                "say which nodes to qualify: --nodes LIST or --partition NAME".into(),
            ));
        }
    };
    check_qualify_args(&a.qualify_args)?;
    check_outputs(&result_files(&a.output.files), &[])?;
    let out_dir = std::path::absolute(&a.out_dir)
        .map_err(|e| usage(format!("--out-dir: {}: {e}", a.out_dir.display())))?;
    // deployment checks on every node also read a token written once into
    // the shared directory, so the report can say who sees another one
    let mut qualify_args = a.qualify_args.clone();
    if qualify_args.iter().any(|x| x == "--deployment")
        && !qualify_args.iter().any(|x| x.starts_with("--shared-token"))
    {
        qualify_args.push("--shared-token".into());
        qualify_args.push(
            submit::shared_token_path(&out_dir)
                .to_string_lossy()
                .into_owned(),
        );
    }
    let cfg = FleetSubmit {
        scheduler: a.scheduler,
        out_dir,
        targets,
        gpus_per_node: a.gpus,
        time_limit: a
            .time
            .as_deref()
            .map(slurm::time_limit)
            .transpose()
            .map_err(|e| usage(format!("--time: {e}")))?,
        timeout: a.timeout,
        qualify_args,
        shared_read: a
            .shared_read
            .as_deref()
            .map(shared_stacks_dir)
            .transpose()?,
        cryocap: std::env::current_exe()
            .map_err(|e| usage(format!("cannot find the cryocap binary itself: {e}")))?,
    };
    let nodes = submit::nodes(&cfg.targets)?;
    if let Some(why) = sched.out_dir_problem(&cfg.out_dir) {
        return Err(usage(format!(
            "--out-dir: {} {why}",
            crate::text::printable(&cfg.out_dir.display().to_string())
        )));
    }
    if a.dry_run {
        let text = submit::dry_run(&cfg, &nodes);
        writer::write(&Destination::Stdout, text.as_bytes(), out)?;
        return Ok(Outcome::Ok);
    }
    let report = submit::submit(&cfg, &nodes, &Progress::new(a.output.quiet))?;
    let failed = report.failed();
    finish(Kind::Fleet(report), started, &a.output, out)?;
    Ok(Outcome::failed_if(failed))
}

/// Checks the pass-through qualify options the way `cryocap qualify` would
/// parse them, so a typo fails here rather than on every node. Their
/// meaning (profiles, directories) is checked on each node, where local
/// paths such as an SSD directory exist.
fn check_qualify_args(args: &[String]) -> Result<(), CommandError> {
    let bad = |reason: String| CommandError::Usage(format!("qualify options after --: {reason}"));
    for a in args {
        let name = a.split('=').next().unwrap_or_default();
        if ["--json", "--quiet", "-q", "--history"].contains(&name) {
            return Err(bad(format!(
                "{name} is set by `fleet submit` itself (each node writes OUT_DIR/<node>.json)"
            )));
        }
        if ["--markdown", "--csv", "--html", "--report"].contains(&name) {
            return Err(bad(format!(
                "{name} would make every node write one file; give it to `fleet submit` (or `fleet report`), which renders all nodes"
            )));
        }
    }
    let argv: Vec<std::ffi::OsString> = ["cryocap", "qualify"]
        .into_iter()
        .map(String::from)
        .chain(args.iter().cloned())
        .map(Into::into)
        .collect();
    match crate::cli::parse_from(crate::cli::deprecated::rewrite(&argv)) {
        Ok(Cli {
            command: Command::Qualify(_),
        }) => Ok(()),
        Ok(_) => Err(bad("they do not parse as qualify options".into())),
        Err(e) => Err(bad(crate::cli::one_line(&e)
            .trim_start_matches("error: ")
            .to_string())),
    }
}

/// Checks `--shared-read DIR` here, where it must be visible as on every
/// node: a directory holding .mrc/.mrcs stacks. Returns it absolute.
fn shared_stacks_dir(dir: &Path) -> Result<PathBuf, CommandError> {
    let bad = |m: String| CommandError::Usage(format!("--shared-read: {m}"));
    let abs = std::path::absolute(dir).map_err(|e| bad(format!("{}: {e}", dir.display())))?;
    use crate::storage::bench_io::{BenchIoError, stack_files};
    let shown = abs.display();
    match stack_files(&abs) {
        Ok(_) => Ok(abs.clone()),
        Err(BenchIoError::NoDir(_)) => Err(bad(format!("{shown}: the directory does not exist"))),
        Err(BenchIoError::NoFiles(_)) => Err(bad(format!(
            "{shown}: no .mrc or .mrcs files there for the tasks to read; write some with `cryocap stack create --dir {shown}`"
        ))),
        Err(BenchIoError::ListDir { source, .. }) => {
            Err(bad(format!("{shown}: cannot list it: {source}")))
        }
        Err(other) => Err(bad(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualify_options_are_checked_as_qualify_would() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_qualify_args(&s(&["--quick", "--repeats", "1"])).is_ok());
        // Meaning is checked on the node, not here.
        assert!(check_qualify_args(&s(&["--profile", "no-such-profile"])).is_ok());
        let e = check_qualify_args(&s(&["--quik"])).unwrap_err().to_string();
        assert!(e.contains("--quik"), "{e}");
        let e = check_qualify_args(&s(&["--json", "x.json"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("set by `fleet submit`"), "{e}");
    }
}
