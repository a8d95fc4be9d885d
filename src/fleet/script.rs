//! The sbatch job-array script one fleet run submits, and the shell quoting
//! that keeps node names, paths and options from ever being read as code.
//!
//! Slurm cannot give each task of one array its own `--nodelist`, so the
//! array is submitted held, each task is pinned to its node with
//! `scontrol update JobId=ID_i ReqNodeList=NODE`, and then released (see
//! `slurm.rs`). The script itself maps `SLURM_ARRAY_TASK_ID` to the node it
//! was meant for and refuses to run anywhere else.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Quotes `word` for a POSIX shell: unchanged when it holds only characters
/// no shell treats specially, otherwise in single quotes (inside which
/// nothing is special), with each `'` written as `'\''`.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Quotes a path; paths that are not UTF-8 are written lossily (Slurm's own
/// tools would not accept them either).
pub(crate) fn quote_path(p: &Path) -> String {
    shell_quote(&p.to_string_lossy())
}

/// Escapes `%` for Slurm's `--output` file patterns, where `%A`, `%a`, `%j`
/// are replaced and `%%` stands for one `%`.
pub(crate) fn slurm_pattern_escape(text: &str) -> String {
    text.replace('%', "%%")
}

/// Everything the job script says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobSpec {
    /// One array task per entry, in task order.
    pub nodes: Vec<String>,
    /// The shared directory results go to (absolute).
    pub out_dir: PathBuf,
    /// The cryocap binary every node runs (absolute, on shared storage).
    pub cryocap: PathBuf,
    /// Options passed through to `cryocap qualify`.
    pub qualify_args: Vec<String>,
    pub gpus_per_node: Option<u32>,
    /// Slurm `--time` value, already validated.
    pub time_limit: Option<String>,
    pub job_name: String,
    /// `--shared-read`: after qualify, every task meets the others at a
    /// barrier and reads these stacks at the same moment.
    pub shared_read: Option<SharedReadStep>,
}

/// The shared-read step of each task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SharedReadStep {
    /// The shared stacks directory (absolute).
    pub dir: PathBuf,
    /// Seconds a task waits at the barrier before it fails.
    pub barrier_timeout_s: u64,
}

/// The `--shared-read` step of a job script: every `unit` (task or job)
/// meets the others at the barrier, then reads the shared stacks; its
/// status becomes the script's where qualify succeeded. `task` is the
/// shell expression of this one's number.
pub(crate) fn shared_read_step(
    s: &mut String,
    r: &SharedReadStep,
    tasks: usize,
    unit: &str,
    task: &str,
) {
    let _ = writeln!(s, "\nshared_dir={}", quote_path(&r.dir));
    let _ = writeln!(
        s,
        "# Every {unit} joins the barrier, also when its qualify failed, so that the\n\
         # others are not left waiting; then all read the shared stacks at once."
    );
    let _ = writeln!(
        s,
        "\"$cryocap\" fleet shared-read --out-dir \"$out_dir\" --dir \"$shared_dir\" \
         --node \"$node\" --task \"{task}\" --tasks {tasks} --timeout {}s",
        r.barrier_timeout_s
    );
    s.push_str("read_status=$?\nif [ \"$status\" -eq 0 ]; then status=$read_status; fi\n");
}

/// The last non-empty line of a log file, if it has one.
pub(crate) fn last_line(path: &Path) -> Option<String> {
    let text = crate::files::read_text(path, crate::files::RESULT_LIMIT).ok()?;
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// Where a fleet run keeps its own files inside the shared directory.
pub(crate) fn fleet_dir(out_dir: &Path) -> PathBuf {
    out_dir.join(".cryocap-fleet")
}

/// The `sbatch` options given on the command line rather than as `#SBATCH`
/// lines (paths with spaces cannot be written safely there). No shell sees
/// them: they are passed as separate arguments.
pub(crate) fn sbatch_args(spec: &JobSpec, script: &Path) -> Vec<String> {
    let logs = fleet_dir(&spec.out_dir).join("logs");
    let pattern = slurm_pattern_escape(&logs.to_string_lossy()) + "/%A_%a.out";
    vec![
        "--parsable".into(),
        "--hold".into(),
        format!("--output={pattern}"),
        script.to_string_lossy().into_owned(),
    ]
}

/// The job-array script.
pub(crate) fn job_script(spec: &JobSpec) -> String {
    let mut s = String::new();
    let n = spec.nodes.len();
    s.push_str("#!/bin/bash\n");
    s.push_str("# Written by `cryocap fleet submit`: one task per node runs `cryocap qualify`.\n");
    let _ = writeln!(s, "#SBATCH --job-name={}", spec.job_name);
    let _ = writeln!(s, "#SBATCH --array=0-{}", n.saturating_sub(1));
    s.push_str("#SBATCH --nodes=1\n#SBATCH --ntasks=1\n");
    if spec.shared_read.is_some() {
        s.push_str(
            "# No --exclusive: with --shared-read every task must be running at once to\n\
             # pass the barrier, and two tasks meant for the same node (or a node shared\n\
             # with other jobs) would otherwise wait for each other forever.\n",
        );
    } else {
        s.push_str("#SBATCH --exclusive\n");
    }
    if let Some(g) = spec.gpus_per_node {
        let _ = writeln!(s, "#SBATCH --gres=gpu:{g}");
    }
    if let Some(t) = &spec.time_limit {
        let _ = writeln!(s, "#SBATCH --time={t}");
    }
    s.push_str("set -u\n\n");
    s.push_str("# Task i qualifies nodes[i]; cryocap pins each task there before release.\n");
    let nodes: Vec<String> = spec.nodes.iter().map(|n| shell_quote(n)).collect();
    let _ = writeln!(s, "nodes=({})", nodes.join(" "));
    // A node named again (only with --shared-read, for more readers) is
    // qualified by its first task only: one task writes each <node>.json.
    let first: Vec<&str> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if spec.nodes[..i].contains(n) {
                "0"
            } else {
                "1"
            }
        })
        .collect();
    let _ = writeln!(s, "first=({})", first.join(" "));
    let _ = writeln!(s, "out_dir={}", quote_path(&spec.out_dir));
    let _ = writeln!(s, "cryocap={}", quote_path(&spec.cryocap));
    let args: Vec<String> = spec.qualify_args.iter().map(|a| shell_quote(a)).collect();
    let _ = writeln!(s, "qualify_args=({})", args.join(" "));
    s.push_str(
        r#"node=${nodes[$SLURM_ARRAY_TASK_ID]}
here=${SLURMD_NODENAME:-$(hostname -s)}
if [ "$here" != "$node" ]; then
  echo "cryocap fleet: task $SLURM_ARRAY_TASK_ID was meant for $node but runs on $here" >&2
  exit 3
fi

# qualify writes its JSON atomically and exits 1 when the node fails a check:
# that is a result, so the task succeeds when the JSON is there. Any other
# exit (2: bad options, a crash) fails the task.
"#,
    );
    let qualify = r#"status=0
if [ "${first[$SLURM_ARRAY_TASK_ID]}" = 1 ]; then
  "$cryocap" qualify --quiet --json "$out_dir/$node.json" "${qualify_args[@]}"
  status=$?
  if [ "$status" -eq 1 ] && [ -s "$out_dir/$node.json" ]; then
    echo "cryocap fleet: $node failed some checks; see $out_dir/$node.json" >&2
    status=0
  fi
fi
"#;
    s.push_str(qualify);
    if let Some(r) = &spec.shared_read {
        shared_read_step(&mut s, r, n, "task", "$SLURM_ARRAY_TASK_ID");
    }
    s.push_str("exit \"$status\"\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use assert_cmd::prelude::*;
    use std::process::Command;

    #[test]
    fn quoting_leaves_plain_words_and_wraps_the_rest() {
        assert_eq!(shell_quote("node01"), "node01");
        assert_eq!(shell_quote("--repeat=3"), "--repeat=3");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
    }

    /// The shell itself reads the quoted words back unchanged.
    #[test]
    fn bash_reads_quoted_words_back_verbatim() {
        let nasty = [
            "dir with spaces",
            "it's \"quoted\"",
            "$HOME `id` $(touch pwned) ; rm -rf x",
            "back\\slash\nnewline",
            "*?[glob]",
            "",
        ];
        let words: Vec<String> = nasty.iter().map(|w| shell_quote(w)).collect();
        let script = format!(
            "for w in {}; do printf '%s\\0' \"$w\"; done",
            words.join(" ")
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        assert!(out.status.success());
        let back: Vec<&str> = std::str::from_utf8(&out.stdout)
            .unwrap()
            .split_terminator('\0')
            .collect();
        assert_eq!(back, nasty);
    }

    fn spec() -> JobSpec {
        JobSpec {
            nodes: vec!["gpu01".into(), "gpu02".into()],
            out_dir: PathBuf::from("/shared/fleet 'q' $X"),
            cryocap: PathBuf::from("/opt/cryocap/bin/cryocap"),
            qualify_args: vec!["--quick".into(), "--dir".into(), "/data/$(x)".into()],
            gpus_per_node: Some(4),
            time_limit: Some("00:30:00".into()),
            job_name: "cryocap-fleet".into(),
            shared_read: None,
        }
    }

    #[test]
    fn script_has_one_task_per_node_and_quotes_everything() {
        let s = job_script(&spec());
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("#SBATCH --array=0-1\n"), "{s}");
        assert!(s.contains("#SBATCH --exclusive\n"));
        assert!(s.contains("#SBATCH --gres=gpu:4\n"));
        assert!(s.contains("#SBATCH --time=00:30:00\n"));
        assert!(s.contains("nodes=(gpu01 gpu02)\n"));
        assert!(s.contains(r"out_dir='/shared/fleet '\''q'\'' $X'"), "{s}");
        assert!(
            s.contains("qualify_args=(--quick --dir '/data/$(x)')"),
            "{s}"
        );
        let plain = job_script(&JobSpec {
            gpus_per_node: None,
            time_limit: None,
            ..spec()
        });
        assert!(!plain.contains("--gres") && !plain.contains("--time"));
    }

    #[test]
    fn shared_read_drops_exclusive_and_quotes_the_stacks_dir() {
        let s = job_script(&JobSpec {
            shared_read: Some(SharedReadStep {
                dir: PathBuf::from("/shared/stacks $(x) 'q'"),
                barrier_timeout_s: 600,
            }),
            ..spec()
        });
        assert!(!s.contains("#SBATCH --exclusive"), "{s}");
        assert!(s.contains("# No --exclusive:"));
        assert!(
            s.contains(r"shared_dir='/shared/stacks $(x) '\''q'\'''"),
            "{s}"
        );
        assert!(s.contains("--tasks 2 --timeout 600s"), "{s}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.sh");
        std::fs::write(&p, &s).unwrap();
        let out = Command::new("bash").arg("-n").arg(&p).output().unwrap();
        assert!(out.status.success());
    }

    #[test]
    fn script_is_valid_bash() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.sh");
        std::fs::write(&p, job_script(&spec())).unwrap();
        Command::new("bash").arg("-n").arg(&p).assert().success();
    }

    #[test]
    fn output_pattern_escapes_percent() {
        let mut s = spec();
        s.out_dir = PathBuf::from("/shared/100%");
        let args = sbatch_args(&s, Path::new("/shared/100%/.cryocap-fleet/job.sh"));
        assert_eq!(
            args[2],
            "--output=/shared/100%%/.cryocap-fleet/logs/%A_%a.out"
        );
        assert_eq!(args[3], "/shared/100%/.cryocap-fleet/job.sh");
    }
}

#[cfg(test)]
mod run_tests {
    use super::*;
    use std::process::Command;

    /// Runs the generated script as Slurm would (task 0 on its node) against
    /// a stand-in `cryocap` that records its arguments, in a directory whose
    /// name holds spaces, quotes and `$`: every argument arrives verbatim and
    /// nothing in a name is executed.
    #[test]
    fn a_task_passes_hostile_names_through_verbatim() {
        let root = tempfile::tempdir().unwrap();
        let out_dir = root
            .path()
            .join("fleet dir 'single' \"double\" $HOME $(touch pwned)");
        std::fs::create_dir(&out_dir).unwrap();
        let recorder = root.path().join("fake-cryocap");
        std::fs::write(
            &recorder,
            "#!/bin/bash\nprintf '%s\\0' \"$@\" > \"$RECORD\"\n\
             for ((i=1;i<=$#;i++)); do if [ \"${!i}\" = --json ]; then j=$((i+1)); echo '{}' > \"${!j}\"; fi; done\nexit 1\n",
        )
        .unwrap();
        let mut perm = std::fs::metadata(&recorder).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&recorder, perm).unwrap();
        let spec = JobSpec {
            nodes: vec!["n1".into()],
            out_dir: out_dir.clone(),
            cryocap: recorder,
            qualify_args: vec!["--dir".into(), "/x/$(touch pwned2)/`id`".into()],
            gpus_per_node: None,
            time_limit: None,
            job_name: "cryocap-fleet".into(),
            shared_read: None,
        };
        let script = root.path().join("job.sh");
        std::fs::write(&script, job_script(&spec)).unwrap();
        let record = root.path().join("args");
        // task 0 of the array, on `node`, as Slurm starts it
        let run_task = |script: &Path, node: &str| {
            Command::new("bash")
                .arg(script)
                .current_dir(root.path())
                .env("SLURM_ARRAY_TASK_ID", "0")
                .env("SLURMD_NODENAME", node)
                .env("RECORD", &record)
                .output()
                .unwrap()
        };
        let out = run_task(&script, "n1");
        // qualify's exit 1 with its JSON written counts as a task that ran.
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let args = std::fs::read_to_string(&record).unwrap();
        let args: Vec<&str> = args.split_terminator('\0').collect();
        let json = out_dir.join("n1.json");
        assert_eq!(
            args,
            [
                "qualify",
                "--quiet",
                "--json",
                json.to_str().unwrap(),
                "--dir",
                "/x/$(touch pwned2)/`id`"
            ]
        );
        assert!(json.exists());
        assert!(!root.path().join("pwned").exists() && !root.path().join("pwned2").exists());

        // With --shared-read the last step gets the stacks directory and
        // the task's place verbatim.
        let stacks = root.path().join("stacks $(touch pwned3) 'x'");
        let shared = root.path().join("shared.sh");
        std::fs::write(
            &shared,
            job_script(&JobSpec {
                shared_read: Some(SharedReadStep {
                    dir: stacks.clone(),
                    barrier_timeout_s: 60,
                }),
                ..spec.clone()
            }),
        )
        .unwrap();
        let out = run_task(&shared, "n1");
        // The stand-in exits 1 for shared-read too: that fails the task.
        assert_eq!(out.status.code(), Some(1));
        let args = std::fs::read_to_string(&record).unwrap();
        let args: Vec<&str> = args.split_terminator('\0').collect();
        assert_eq!(
            args,
            [
                "fleet",
                "shared-read",
                "--out-dir",
                out_dir.to_str().unwrap(),
                "--dir",
                stacks.to_str().unwrap(),
                "--node",
                "n1",
                "--task",
                "0",
                "--tasks",
                "1",
                "--timeout",
                "60s"
            ]
        );
        assert!(!root.path().join("pwned3").exists());

        // On the wrong node the task refuses to run.
        let out = run_task(&script, "other");
        assert_eq!(out.status.code(), Some(3));
    }
}
