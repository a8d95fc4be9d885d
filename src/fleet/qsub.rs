//! Job scripts and `qsub` commands for the schedulers that run one job per
//! node, Grid Engine (SGE) and PBS.
//!
//! Neither can pin the tasks of one array to different nodes, so a fleet
//! run is one job per node, each submitted with the node as a resource
//! request (`-l hostname=NODE` on SGE, `-l select=1:host=NODE` on PBS) and
//! named to the script in `CRYOCAP_NODE`; the script refuses to run
//! anywhere else. The clients are in `gridengine.rs` and `pbs.rs`.

use std::fmt::Write as _;
use std::path::Path;

use super::FleetError;
use super::scheduler::Jobs;
use super::script::{JobSpec, fleet_dir, quote_path, shared_read_step, shell_quote};

/// The batch systems other than Slurm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Batch {
    /// (Son of / Univa / Altair) Grid Engine.
    Sge,
    /// PBS Pro / OpenPBS (`select` syntax).
    Pbs,
}

impl Batch {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Batch::Sge => "sge",
            Batch::Pbs => "pbs",
        }
    }
}

/// Why a path cannot go into `qsub -o`: both schedulers read `HOST:` before
/// a colon; Grid Engine expands `$NAME` pseudo variables there, and a PBS
/// server may pass `$` on to a shell, so neither is given one.
pub(crate) fn log_dir_problem(batch: Batch, dir: &Path) -> Option<&'static str> {
    let t = dir.to_string_lossy();
    if t.contains(':') {
        Some("holds ':', which qsub -o reads as HOST:PATH")
    } else if t.contains('$') {
        Some(match batch {
            Batch::Sge => "holds '$', which Grid Engine expands in qsub -o paths",
            Batch::Pbs => {
                "holds '$', which cryocap keeps out of PBS qsub -o paths (it may be expanded); use a path without '$'"
            }
        })
    } else if t.chars().any(char::is_control) {
        Some("holds a control character")
    } else {
        None
    }
}

/// The job script every node's job runs (the node comes in `CRYOCAP_NODE`).
pub(crate) fn job_script(batch: Batch, spec: &JobSpec) -> String {
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    let _ = writeln!(
        s,
        "# Written by `cryocap fleet submit --scheduler {}`: one job per node runs\n\
         # `cryocap qualify`; each job names its node in CRYOCAP_NODE.",
        batch.name()
    );
    match batch {
        Batch::Sge => s.push_str("#$ -S /bin/bash\n"),
        Batch::Pbs => s.push_str("#PBS -S /bin/bash\n"),
    }
    s.push_str("set -u\n\n");
    let _ = writeln!(s, "out_dir={}", quote_path(&spec.out_dir));
    let _ = writeln!(s, "cryocap={}", quote_path(&spec.cryocap));
    let args: Vec<String> = spec.qualify_args.iter().map(|a| shell_quote(a)).collect();
    let _ = writeln!(s, "qualify_args=({})", args.join(" "));
    s.push_str(
        r#"node=${CRYOCAP_NODE:-}
# With --shared-read a node may be named more than once: CRYOCAP_TASK is this
# job's place in the run and CRYOCAP_FIRST=0 marks a node's later jobs, which
# only read (one job writes each <node>.json).
task=${CRYOCAP_TASK:-0}
first=${CRYOCAP_FIRST:-1}
if [ -z "$node" ]; then
  echo "cryocap fleet: CRYOCAP_NODE is not set; submit with qsub -v CRYOCAP_NODE=NODE" >&2
  exit 3
fi
here=$(hostname -s)
if [ "$here" != "$node" ] && [ "$(hostname)" != "$node" ]; then
  echo "cryocap fleet: this job was meant for $node but runs on $here" >&2
  exit 3
fi

# qualify writes its JSON atomically and exits 1 when the node fails a check:
# that is a result, so the job succeeds when the JSON is there. Any other
# exit (2: bad options, a crash) fails the job.
status=0
if [ "$first" = 1 ]; then
  "$cryocap" qualify --quiet --json "$out_dir/$node.json" "${qualify_args[@]}"
  status=$?
  if [ "$status" -eq 1 ] && [ -s "$out_dir/$node.json" ]; then
    echo "cryocap fleet: $node failed some checks; see $out_dir/$node.json" >&2
    status=0
  fi
fi
"#,
    );
    if let Some(r) = &spec.shared_read {
        shared_read_step(&mut s, r, spec.nodes.len(), "job", "$task");
    }
    s.push_str("exit \"$status\"\n");
    s
}

/// A Slurm `--time` value (checked by `slurm::time_limit`) in seconds, for
/// Grid Engine's `-l h_rt=`; None for UNLIMITED. Slurm reads `M`, `M:S`,
/// `H:M:S`, `D-H`, `D-H:M` and `D-H:M:S` (sbatch(1), --time).
pub(crate) fn time_seconds(limit: &str) -> Option<u64> {
    if limit.eq_ignore_ascii_case("unlimited") || limit.eq_ignore_ascii_case("infinite") {
        return None;
    }
    let (days, rest) = match limit.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, limit),
    };
    let p: Vec<u64> = rest
        .split(':')
        .map(|x| x.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = match (limit.contains('-'), p.as_slice()) {
        (false, [m]) => (0, *m, 0),
        (false, [m, s]) => (0, *m, *s),
        (_, [h, m, s]) => (*h, *m, *s),
        (true, [h]) => (*h, 0, 0),
        (true, [h, m]) => (*h, *m, 0),
        _ => return None,
    };
    days.checked_mul(86_400)?
        .checked_add(h.checked_mul(3_600)?)?
        .checked_add(m.checked_mul(60)?)?
        .checked_add(sec)
}

/// Refuses what a one-job-per-node scheduler cannot do.
pub(crate) fn check_options(batch: Batch, partition: bool) -> Result<(), String> {
    if partition {
        return Err(format!(
            "--scheduler {}: --partition (a Slurm partition) works with --scheduler slurm only; give --nodes",
            batch.name()
        ));
    }
    Ok(())
}

/// Job ids as qdel and qrls take them: `12,13,14`.
pub(crate) fn list(jobs: &[u64]) -> String {
    jobs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The client calls a one-job-per-node submission makes.
pub(crate) struct Client<'a> {
    /// Submits one job; its id.
    pub qsub: &'a dyn Fn(&[String]) -> Result<u64, FleetError>,
    pub qdel: &'a dyn Fn(&[u64]) -> Result<(), FleetError>,
    pub qrls: &'a dyn Fn(&[u64]) -> Result<(), FleetError>,
}

/// Submits one held job per task (`-h`, before the script path, which
/// stays last) and releases them once all are in; when a qsub or the
/// release is refused, deletes the jobs already in, so a failed submission
/// leaves nothing behind.
pub(crate) fn submit_held(
    batch: Batch,
    spec: &JobSpec,
    script: &Path,
    client: &Client<'_>,
) -> Result<Jobs, FleetError> {
    let mut jobs: Vec<u64> = Vec::with_capacity(spec.nodes.len());
    for task in 0..spec.nodes.len() {
        let mut args = qsub_args(batch, spec, script, task);
        args.insert(args.len() - 1, "-h".into());
        match (client.qsub)(&args) {
            Ok(id) => jobs.push(id),
            Err(e) => {
                let _ = (client.qdel)(&jobs);
                return Err(FleetError::Other(format!(
                    "{e}; the {} job(s) already submitted were deleted before any ran",
                    jobs.len()
                )));
            }
        }
    }
    if let Err(e) = (client.qrls)(&jobs) {
        let _ = (client.qdel)(&jobs);
        return Err(FleetError::Other(format!(
            "{e}; jobs {} were deleted before any ran",
            list(&jobs)
        )));
    }
    Ok(Jobs {
        first: jobs.first().copied().unwrap_or_default(),
        per_task: jobs,
    })
}

/// Where a Grid Engine job's log goes: qsub expands `$JOB_ID` in `-o`.
pub(crate) const SGE_LOG_NAME: &str = "$JOB_ID.out";

/// The `qsub` arguments that submit task `task`'s job, on `spec.nodes[task]`
/// (no shell sees them).
pub(crate) fn qsub_args(batch: Batch, spec: &JobSpec, script: &Path, task: usize) -> Vec<String> {
    let node = spec.nodes.get(task).map_or("", String::as_str);
    let first = !spec.nodes[..task.min(spec.nodes.len())]
        .iter()
        .any(|n| n == node);
    let logs = fleet_dir(&spec.out_dir).join("logs");
    let log = match batch {
        Batch::Sge => logs.join(SGE_LOG_NAME),
        Batch::Pbs => logs.join(format!("task-{task}.out")),
    };
    let mut a: Vec<String> = vec!["-N".into(), spec.job_name.clone()];
    match batch {
        Batch::Sge => {
            a.extend(["-terse".into(), "-j".into(), "y".into()]);
            a.extend(["-l".into(), format!("hostname={node}")]);
            if let Some(t) = spec.time_limit.as_deref().and_then(time_seconds) {
                a.extend(["-l".into(), format!("h_rt={t}")]);
            }
            if spec.shared_read.is_none() {
                a.extend(["-l".into(), "exclusive=true".into()]);
            }
            if let Some(g) = spec.gpus_per_node {
                a.extend(["-l".into(), format!("gpu={g}")]);
            }
        }
        Batch::Pbs => {
            a.extend(["-j".into(), "oe".into()]);
            let gpus = spec
                .gpus_per_node
                .map(|g| format!(":ngpus={g}"))
                .unwrap_or_default();
            a.extend(["-l".into(), format!("select=1:host={node}{gpus}")]);
            if let Some(t) = spec.time_limit.as_deref().and_then(time_seconds) {
                let (h, m, sec) = (t / 3600, t / 60 % 60, t % 60);
                a.extend(["-l".into(), format!("walltime={h}:{m:02}:{sec:02}")]);
            }
            if spec.shared_read.is_none() {
                a.extend(["-l".into(), "place=excl".into()]);
            }
        }
    }
    a.extend(["-o".into(), log.to_string_lossy().into_owned()]);
    // Node names hold no ',' (host lists split on it), so the list is safe.
    a.extend([
        "-v".into(),
        format!(
            "CRYOCAP_NODE={node},CRYOCAP_TASK={task},CRYOCAP_FIRST={}",
            u8::from(first)
        ),
    ]);
    a.push(script.to_string_lossy().into_owned());
    a
}

/// What `--dry-run` prints: the script, and one `qsub` per node.
pub(crate) fn dry_run(batch: Batch, spec: &JobSpec, script: &Path) -> String {
    let one_line = |t: String| crate::text::printable(&t);
    let mut s = job_script(batch, spec);
    let _ = writeln!(
        s,
        "\n# fleet submit --scheduler {} would write this to {} and run, one job per node:",
        batch.name(),
        one_line(script.display().to_string())
    );
    for task in 0..spec.nodes.len() {
        let cmd: Vec<String> = std::iter::once("qsub".to_string())
            .chain(
                qsub_args(batch, spec, script, task)
                    .iter()
                    .map(|a| shell_quote(a)),
            )
            .collect();
        let _ = writeln!(s, "#   {}", one_line(cmd.join(" ")));
    }
    s.push_str("# each with -h (held) until every node's job is in, then released with qrls;\n");
    match batch {
        Batch::Sge => {
            s.push_str("# states from qstat while listed, then qacct -j (exit_status, failed).\n")
        }
        Batch::Pbs => s.push_str(
            "# states from qstat -x -f (job_state, Exit_status). PBS submission is untested:\n\
             # no PBS server was reachable; its scripts and qstat parsing are tested.\n",
        ),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    const HOSTILE: &str = "we'ird $(touch pwned) `id` \"q\" dir";

    fn spec(out_dir: PathBuf, cryocap: PathBuf) -> JobSpec {
        JobSpec {
            nodes: vec!["gpu01".into(), "gpu02".into()],
            out_dir,
            cryocap,
            qualify_args: vec!["--quick".into(), "--dir".into(), format!("/data/{HOSTILE}")],
            gpus_per_node: Some(2),
            time_limit: None,
            job_name: "cryocap-fleet".into(),
            shared_read: None,
        }
    }

    #[test]
    fn one_job_per_node_pinned_to_it() {
        let s = spec("/shared/fleet".into(), "/opt/cryocap".into());
        let p = Path::new("/shared/fleet/.cryocap-fleet/job.sh");
        let sge = qsub_args(Batch::Sge, &s, p, 1).join(" ");
        assert!(sge.contains("-l hostname=gpu02"), "{sge}");
        assert!(sge.contains("-l exclusive=true -l gpu=2"), "{sge}");
        assert!(
            sge.contains("-v CRYOCAP_NODE=gpu02,CRYOCAP_TASK=1,CRYOCAP_FIRST=1"),
            "{sge}"
        );
        let pbs = qsub_args(Batch::Pbs, &s, p, 0).join(" ");
        assert!(
            pbs.contains("-l select=1:host=gpu01:ngpus=2 -l place=excl"),
            "{pbs}"
        );
        assert!(pbs.ends_with(
            "-v CRYOCAP_NODE=gpu01,CRYOCAP_TASK=0,CRYOCAP_FIRST=1 /shared/fleet/.cryocap-fleet/job.sh"
        ));
        let d = dry_run(Batch::Sge, &s, p);
        assert_eq!(d.matches("#   qsub ").count(), 2, "{d}");
    }

    #[test]
    fn scripts_and_dry_runs_are_valid_bash() {
        let dir = tempfile::tempdir().unwrap();
        for b in [Batch::Sge, Batch::Pbs] {
            let s = spec(PathBuf::from(format!("/x/{HOSTILE}")), "/opt/c".into());
            for (name, text) in [
                ("job.sh", job_script(b, &s)),
                ("dry.sh", dry_run(b, &s, Path::new("/x/job.sh"))),
            ] {
                let p = dir.path().join(name);
                std::fs::write(&p, text).unwrap();
                let st = Command::new("bash").arg("-n").arg(&p).status().unwrap();
                assert!(st.success(), "{b:?} {name}");
            }
        }
    }

    #[test]
    fn slurm_time_limits_in_seconds() {
        for (t, s) in [
            ("30", Some(1800)),
            ("5:30", Some(330)),
            ("01:00:00", Some(3600)),
            ("1-12", Some(129_600)),
            ("1-00:30", Some(88_200)),
            ("1-00:30:00", Some(88_200)),
            ("UNLIMITED", None),
            ("1:2:3:4", None),
        ] {
            assert_eq!(time_seconds(t), s, "{t}");
        }
        assert_eq!(crate::fleet::gridengine::hms_seconds("00:00:15"), Some(15));
    }

    #[test]
    fn log_dirs_qsub_cannot_take() {
        assert!(log_dir_problem(Batch::Sge, Path::new("/a:b")).is_some());
        assert!(log_dir_problem(Batch::Pbs, Path::new("/a/$HOME")).is_some());
        assert!(log_dir_problem(Batch::Sge, Path::new("/a b/'c'")).is_none());
    }

    /// Runs the script as the scheduler would, on this host, in a directory
    /// with a hostile name, against a stand-in cryocap that records its
    /// arguments: each arrives verbatim and nothing in a name runs.
    #[test]
    fn the_script_passes_hostile_names_through_verbatim() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(HOSTILE);
        std::fs::create_dir(&dir).unwrap();
        let fake = dir.join("cryocap");
        std::fs::write(
            &fake,
            "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let here = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        for b in [Batch::Sge, Batch::Pbs] {
            let s = spec(dir.clone(), fake.clone());
            let script = dir.join("job.sh");
            std::fs::write(&script, job_script(b, &s)).unwrap();
            let st = Command::new("bash")
                .arg(&script)
                .current_dir(root.path())
                .env("CRYOCAP_NODE", &here)
                .status()
                .unwrap();
            assert!(st.success(), "{b:?}");
            let args = std::fs::read_to_string(dir.join("args")).unwrap();
            let want = format!(
                "qualify\n--quiet\n--json\n{}/{here}.json\n--quick\n--dir\n/data/{HOSTILE}\n",
                dir.display()
            );
            assert_eq!(args, want);
            assert!(!root.path().join("pwned").exists());
            // elsewhere: refused
            let st = Command::new("bash")
                .arg(&script)
                .env("CRYOCAP_NODE", "not-this-node")
                .status()
                .unwrap();
            assert_eq!(st.code(), Some(3));
        }
    }
}
