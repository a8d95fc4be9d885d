//! `cryocap fleet submit` and `cryocap fleet report` configuration.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser as _;

use super::{ConfigError, count};
use crate::cli::{Cli, Command, FleetReportArgs, FleetSharedReadArgs, FleetSubmitArgs};
use crate::fleet::hostlist;

/// Which nodes a fleet run qualifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    Nodes(Vec<String>),
    Partition(String),
}

#[derive(Debug, Clone)]
pub struct FleetSubmitConfig {
    /// Absolute path of the shared results directory.
    pub out_dir: PathBuf,
    pub targets: Targets,
    pub gpus_per_node: Option<u32>,
    pub time_limit: Option<String>,
    /// How long `submit` waits for the tasks to end.
    pub timeout: Duration,
    pub dry_run: bool,
    pub qualify_args: Vec<String>,
    /// `--shared-read`: the shared stacks directory every task reads at once (absolute).
    pub shared_read: Option<PathBuf>,
    pub quiet: bool,
}

/// The internal per-task `fleet shared-read` step.
#[derive(Debug, Clone)]
pub struct FleetSharedReadConfig(pub crate::fleet::shared_read::TaskSpec);

#[derive(Debug, Clone)]
pub struct FleetReportConfig {
    pub dir: PathBuf,
    /// Outlier margin as a fraction of the fleet median.
    pub margin: f64,
}

/// Reads a wait limit: `90`, `90s`, `30m`, `2h`.
pub fn parse_timeout(flag: &'static str, text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, 1.0),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .map(|v| v * scale)
        .filter(|s| s.is_finite() && *s >= 1.0 && *s <= 7.0 * 86400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            ConfigError::flag(
                flag,
                format!("'{text}' is not a duration from 1s to 7 days such as 90s, 30m or 2h"),
            )
        })
}

/// Checks a Slurm `--time` value: minutes, MM:SS, HH:MM:SS, D-HH,
/// D-HH:MM, D-HH:MM:SS, or UNLIMITED.
pub fn parse_time_limit(text: &str) -> Result<String, ConfigError> {
    let t = text.trim();
    let bad = || {
        ConfigError::flag(
            "--time",
            format!("'{text}' is not a Slurm time limit such as 30, 00:30:00 or 1-12:00:00"),
        )
    };
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("infinite") {
        return Ok("UNLIMITED".into());
    }
    let (days, rest) = match t.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, t),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    if !parts.iter().all(|p| digits(p)) || days.is_some_and(|d| !digits(d)) {
        return Err(bad());
    }
    if parts.len() > 3 || (days.is_none() && parts.is_empty()) {
        return Err(bad());
    }
    Ok(t.to_string())
}

/// Checks the pass-through qualify options the way `cryocap qualify` would
/// parse them, so a typo fails here rather than on every node. Their
/// meaning (profiles, directories) is checked on each node, where local
/// paths such as an SSD directory exist.
pub fn check_qualify_args(args: &[String]) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::flag("qualify options after --", reason);
    for a in args {
        let name = a.split('=').next().unwrap_or_default();
        if ["--json", "--quiet", "-q", "--history"].contains(&name) {
            return Err(bad(format!(
                "{name} is set by `fleet submit` itself (each node writes OUT_DIR/<node>.json)"
            )));
        }
    }
    let argv = ["cryocap", "qualify"]
        .into_iter()
        .map(String::from)
        .chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Command::Qualify(_),
        }) => Ok(()),
        Ok(_) => Err(bad("they do not parse as qualify options".into())),
        Err(e) => {
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            Err(bad(first))
        }
    }
}

impl FleetSubmitConfig {
    pub fn from_args(args: &FleetSubmitArgs) -> Result<FleetSubmitConfig, ConfigError> {
        let targets = match (&args.nodes, &args.partition) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict(
                    "give --nodes or --partition, not both".into(),
                ));
            }
            (Some(list), None) => {
                let nodes = hostlist::expand(list)
                    .map_err(|e| ConfigError::flag("--nodes", e.to_string()))?;
                if nodes.len() > 10_000 {
                    return Err(ConfigError::flag("--nodes", "more than 10,000 nodes"));
                }
                Targets::Nodes(nodes)
            }
            (None, Some(p)) => {
                if p.is_empty()
                    || !p
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(ConfigError::flag(
                        "--partition",
                        format!("'{p}' is not a partition name (letters, digits, '-', '_', '.')"),
                    ));
                }
                Targets::Partition(p.clone())
            }
            (None, None) => {
                return Err(ConfigError::Conflict(
                    "say which nodes to qualify: --nodes LIST or --partition NAME".into(),
                ));
            }
        };
        let gpus_per_node = match &args.gpus_per_node {
            Some(t) => Some(count("--gpus-per-node", t, 1, 64)? as u32),
            None => None,
        };
        check_qualify_args(&args.qualify_args)?;
        let out_dir = std::path::absolute(&args.out_dir).map_err(|e| {
            ConfigError::flag("--out-dir", format!("{}: {e}", args.out_dir.display()))
        })?;
        Ok(FleetSubmitConfig {
            out_dir,
            targets,
            gpus_per_node,
            time_limit: args.time.as_deref().map(parse_time_limit).transpose()?,
            timeout: match &args.timeout {
                Some(t) => parse_timeout("--timeout", t)?,
                None => Duration::from_secs(3600),
            },
            dry_run: args.dry_run,
            qualify_args: args.qualify_args.clone(),
            shared_read: args
                .shared_read
                .as_deref()
                .map(shared_stacks_dir)
                .transpose()?,
            quiet: args.quiet,
        })
    }
}

/// Checks `--shared-read DIR` here, where it must be visible as on every
/// node: a directory holding .mrc/.mrcs stacks. Returns it absolute.
fn shared_stacks_dir(dir: &std::path::Path) -> Result<PathBuf, ConfigError> {
    let abs = std::path::absolute(dir)
        .map_err(|e| ConfigError::flag("--shared-read", format!("{}: {e}", dir.display())))?;
    crate::storage::bench_io::stack_files(&abs).map_err(|e| {
        ConfigError::flag(
            "--shared-read",
            e.to_string().trim_start_matches("--dir ").to_string(),
        )
    })?;
    Ok(abs)
}

impl FleetSharedReadConfig {
    pub fn from_args(args: &FleetSharedReadArgs) -> Result<FleetSharedReadConfig, ConfigError> {
        if args.tasks == 0 || args.task as usize >= args.tasks {
            return Err(ConfigError::flag(
                "--task",
                format!("task {} is not one of {} tasks", args.task, args.tasks),
            ));
        }
        Ok(FleetSharedReadConfig(crate::fleet::shared_read::TaskSpec {
            out_dir: args.out_dir.clone(),
            dir: args.dir.clone(),
            node: args.node.clone(),
            task: args.task,
            tasks: args.tasks,
            timeout: parse_timeout("--timeout", &args.timeout)?,
        }))
    }
}

impl FleetReportConfig {
    pub fn from_args(args: &FleetReportArgs) -> Result<FleetReportConfig, ConfigError> {
        let margin = match &args.margin {
            Some(t) => t
                .trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..100.0).contains(v))
                .map(|v| v / 100.0)
                .ok_or_else(|| {
                    ConfigError::flag(
                        "--margin",
                        format!("'{t}' is not a percentage from 0% to 100% such as 20%"),
                    )
                })?,
            None => 0.20,
        };
        match std::fs::metadata(&args.dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ConfigError::flag(
                    "SHARED_DIR",
                    format!("{} is not a directory", args.dir.display()),
                ));
            }
            Err(e) => {
                return Err(ConfigError::flag(
                    "SHARED_DIR",
                    format!("{}: {e}", args.dir.display()),
                ));
            }
        }
        Ok(FleetReportConfig {
            dir: args.dir.clone(),
            margin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("t", "90").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_timeout("t", "30m").unwrap(),
            Duration::from_secs(1800)
        );
        assert_eq!(parse_timeout("t", "2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_timeout("t", "0").is_err());
        assert!(parse_timeout("t", "soon").is_err());
        assert!(parse_timeout("t", "30d").is_err());
    }

    #[test]
    fn slurm_time_limits() {
        for ok in ["30", "00:30:00", "1-12", "1-12:00:00", "5:00", "unlimited"] {
            assert!(parse_time_limit(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-5", "a-1", "1-", "00:30:00;id"] {
            assert!(parse_time_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn qualify_options_are_checked_as_qualify_would() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_qualify_args(&s(&["--quick", "--repeat", "1"])).is_ok());
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
