//! Job scripts and `qsub` commands for Grid Engine (SGE) and PBS, for
//! `fleet submit --scheduler sge|pbs --dry-run`.
//!
//! Neither scheduler can pin the tasks of one array to different nodes, so
//! a fleet run is one job per node, each submitted with the node as a
//! resource request (`-l hostname=NODE` on SGE, `-l select=1:host=NODE` on
//! PBS) and named to the script in `CRYOCAP_NODE`; the script refuses to run
//! anywhere else. No SGE or PBS server was reachable when this was written:
//! the scripts are checked with `bash -n` and by running them against a
//! stand-in cryocap, not by a scheduler.

use std::fmt::Write as _;
use std::path::Path;

use super::script::{JobSpec, fleet_dir, quote_path, shell_quote};

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
/// a colon, and Grid Engine expands `$NAME` pseudo variables there.
pub(crate) fn log_dir_problem(dir: &Path) -> Option<&'static str> {
    let t = dir.to_string_lossy();
    if t.contains(':') {
        Some("holds ':', which qsub -o reads as HOST:PATH")
    } else if t.contains('$') {
        Some("holds '$', which Grid Engine expands in qsub -o paths")
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
"$cryocap" qualify --quiet --json "$out_dir/$node.json" "${qualify_args[@]}"
status=$?
if [ "$status" -eq 1 ] && [ -s "$out_dir/$node.json" ]; then
  echo "cryocap fleet: $node failed some checks; see $out_dir/$node.json" >&2
  status=0
fi
exit "$status"
"#,
    );
    s
}

/// The `qsub` arguments that submit `node`'s job (no shell sees them).
pub(crate) fn qsub_args(batch: Batch, spec: &JobSpec, script: &Path, node: &str) -> Vec<String> {
    let log = fleet_dir(&spec.out_dir)
        .join("logs")
        .join(format!("{node}.out"));
    let mut a: Vec<String> = vec!["-N".into(), spec.job_name.clone()];
    match batch {
        Batch::Sge => {
            a.extend(["-terse".into(), "-j".into(), "y".into()]);
            a.extend(["-l".into(), format!("hostname={node}")]);
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
            if spec.shared_read.is_none() {
                a.extend(["-l".into(), "place=excl".into()]);
            }
        }
    }
    a.extend(["-o".into(), log.to_string_lossy().into_owned()]);
    a.extend(["-v".into(), format!("CRYOCAP_NODE={node}")]);
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
    for node in &spec.nodes {
        let cmd: Vec<String> = std::iter::once("qsub".to_string())
            .chain(
                qsub_args(batch, spec, script, node)
                    .iter()
                    .map(|a| shell_quote(a)),
            )
            .collect();
        let _ = writeln!(s, "#   {}", one_line(cmd.join(" ")));
    }
    let _ = writeln!(
        s,
        "# Only --dry-run exists for {}: no {} server was reachable to test submission and\n\
         # the job states (qstat/qacct) against.",
        batch.name(),
        match batch {
            Batch::Sge => "Grid Engine",
            Batch::Pbs => "PBS",
        }
    );
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
        let sge = qsub_args(Batch::Sge, &s, p, "gpu02").join(" ");
        assert!(sge.contains("-l hostname=gpu02"), "{sge}");
        assert!(sge.contains("-l exclusive=true -l gpu=2"), "{sge}");
        assert!(sge.contains("-v CRYOCAP_NODE=gpu02"), "{sge}");
        let pbs = qsub_args(Batch::Pbs, &s, p, "gpu01").join(" ");
        assert!(
            pbs.contains("-l select=1:host=gpu01:ngpus=2 -l place=excl"),
            "{pbs}"
        );
        assert!(pbs.ends_with("-v CRYOCAP_NODE=gpu01 /shared/fleet/.cryocap-fleet/job.sh"));
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
    fn log_dirs_qsub_cannot_take() {
        assert!(log_dir_problem(Path::new("/a:b")).is_some());
        assert!(log_dir_problem(Path::new("/a/$HOME")).is_some());
        assert!(log_dir_problem(Path::new("/a b/'c'")).is_none());
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
