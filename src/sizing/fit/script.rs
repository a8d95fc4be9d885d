//! The scheduler lines and the job script `fit` writes: RELION's flags,
//! the `#SBATCH` lines, and `--emit-sbatch`'s whole script.

use super::*;

/// RELION's `--gpu` value: ranks in order, `ranks_per_gpu` on each device
/// (devices numbered from 0 as Slurm shows the allocated ones).
pub(crate) fn relion_gpu_map(gpus: u32, ranks_per_gpu: u32) -> String {
    (0..gpus)
        .flat_map(|g| std::iter::repeat_n(g, ranks_per_gpu as usize))
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(":")
}

fn quoted(s: &str) -> String {
    crate::fleet::script::shell_quote(s)
}

pub(super) fn relion_flags(p: &FitParams) -> String {
    let mut f = vec![
        "--gpu".to_string(),
        quoted(&relion_gpu_map(p.gpus, p.ranks_per_gpu)),
        "--j".into(),
        p.threads.to_string(),
        "--pad".into(),
        p.pad.to_string(),
    ];
    if p.job.takes_classes {
        f.push("--K".into());
        f.push(p.classes.to_string());
    }
    if p.preread {
        f.push("--preread_images".into());
    } else if let Some(s) = &p.scratch {
        f.push("--scratch_dir".into());
        // no directory named: the node's own temporary directory, expanded
        // by the shell (a literal of ours, not a user's path)
        f.push(match p.paths.scratch_dir.as_deref() {
            Some(d) => quoted(d),
            None => "\"${TMPDIR:-/tmp}\"".into(),
        });
        f.push("--keep_free_scratch".into());
        f.push(format!("{}", s.keep_free_bytes.div_ceil(1_000_000_000)));
    }
    f.join(" ")
}

pub(super) fn sbatch_lines(p: &FitParams, ram: &RamFit, time: &TimeFit) -> Vec<String> {
    let gres = match &p.target.mig {
        Some(m) => format!("gpu:{}:{}", m.profile, p.gpus),
        None => format!("gpu:{}", p.gpus),
    };
    let mut l = vec![format!("#SBATCH --gres={gres}")];
    match p.job.software {
        Software::Relion => {
            l.push(format!("#SBATCH --ntasks={}", ranks(p) + 1));
            l.push(format!("#SBATCH --cpus-per-task={}", p.threads));
        }
        Software::Cryosparc => {
            l.push("#SBATCH --ntasks=1".into());
            l.push(format!("#SBATCH --cpus-per-task={}", p.threads));
        }
    }
    l.push(format!("#SBATCH --mem={}G", ram.request_gib));
    if let Some(t) = &time.time_limit {
        l.push(format!("#SBATCH --time={t}"));
    }
    l
}

/// The `--emit-sbatch` script: the `#SBATCH` block and the RELION command
/// line, every path quoted as `fleet` quotes them.
pub(crate) fn sbatch_script(r: &FitReport, p: &FitParams) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# written by cryocap fit: {} at box {}, {} rank(s) per GPU\n",
        r.input.job, r.input.box_size, r.input.ranks_per_gpu
    ));
    for l in &r.lines.sbatch {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("set -euo pipefail\n");
    let program = "relion_refine_mpi";
    let mut cmd = vec![
        "srun".to_string(),
        program.to_string(),
        "--i".into(),
        quoted(p.paths.particles.as_deref().unwrap_or("particles.star")),
        "--o".into(),
        quoted(&format!("{}/run", p.paths.job_dir.trim_end_matches('/'))),
    ];
    if p.job.id == "relion-refine" {
        cmd.push("--auto_refine".into());
        cmd.push("--split_random_halves".into());
    }
    if let Some(f) = &r.lines.relion {
        cmd.push(f.clone());
    }
    s.push_str(&format!("mkdir -p -- {}\n", quoted(&p.paths.job_dir)));
    s.push_str(&cmd.join(" "));
    s.push('\n');
    s
}
