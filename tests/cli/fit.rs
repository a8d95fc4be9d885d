//! `cryocap fit`: one job against a node and its scheduler, through the
//! real binary: the published anchors, exit 1 with remedies, bad input in
//! one line, the qualify file as a target, a particle list, and the sbatch
//! script run under bash with hostile paths.

use std::path::Path;

use cryocap::results::Kind;
use cryocap::results::fit::FitReport;

use crate::common::{bad_input, cryocap, envelope};

fn fit(args: &[&str]) -> FitReport {
    let mut all = vec!["fit"];
    all.extend_from_slice(args);
    match envelope(&all).kind {
        Kind::Fit(r) => *r,
        k => panic!("a {} result", k.name()),
    }
}

/// Runs fit expecting exit `code`; the typed result from stdout.
fn fit_exit(args: &[&str], code: i32) -> FitReport {
    let out = cryocap()
        .arg("fit")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: cryocap::results::Envelope = serde_json::from_slice(&out.stdout).unwrap();
    match e.kind {
        Kind::Fit(r) => *r,
        k => panic!("a {} result", k.name()),
    }
}

#[test]
fn relion_anchors_through_the_binary() {
    // RELION src/error.h: 1.1e-8·(2N)³ GB per rank at --pad 2; box 450
    // about fits 8 GB.
    let r = fit(&[
        "--job",
        "relion-refine",
        "--particles",
        "1e5",
        "--box",
        "450",
        "--vram",
        "8",
    ]);
    let want = 1.1e-8 * 900f64.powi(3) * 1e9;
    assert!((r.vram.per_rank_bytes as f64 - want).abs() <= 1.0);
    assert!(r.vram.fits && r.fits);
    assert!((450..=470).contains(&r.vram.max_box.unwrap()));
    // 3dem/relion #654: --pad 1 reaches about box 1000 in 11 GB, weight
    // array included.
    let r = fit(&[
        "--job",
        "relion-refine",
        "--particles",
        "1e5",
        "--box",
        "1000",
        "--vram",
        "11",
        "--pad",
        "1",
    ]);
    assert!(r.vram.fits, "{}", r.vram.per_gpu_bytes);
    assert!((1000..=1060).contains(&r.vram.max_box.unwrap()));
}

#[test]
fn a_refine_on_a_mig_slice_and_the_smallest_slice() {
    let r = fit(&[
        "--job",
        "relion-refine",
        "--particles",
        "1e6",
        "--box",
        "432",
        "--gpu",
        "a100-80gb",
        "--mig",
        "3g.40gb",
        "--ranks-per-gpu",
        "2",
        "--ram",
        "256GiB",
        "--cores",
        "32",
        "--scratch",
        "1.8TB",
    ]);
    assert!(r.fits);
    assert_eq!(r.target.mig.as_deref(), Some("3g.40gb"));
    assert_eq!(r.target.budget_bytes, 40 << 30);
    assert_eq!(r.vram.per_gpu_bytes, 2 * r.vram.per_rank_bytes);
    assert_eq!(r.vram.smallest_mig.as_deref(), Some("1g.20gb"));
    assert_eq!(r.vram.mig.len(), 6);
    assert!(
        r.lines
            .sbatch
            .iter()
            .any(|l| l == "#SBATCH --gres=gpu:3g.40gb:1")
    );
    assert!(r.lines.sbatch.iter().any(|l| l == "#SBATCH --ntasks=3"));
    let flags = r.lines.relion.unwrap();
    assert!(
        flags.contains("--gpu 0:0") && flags.contains("--pad 2"),
        "{flags}"
    );
    assert!(flags.contains("--scratch_dir") && flags.contains("--keep_free_scratch 10"));
    let sc = r.scratch.unwrap();
    assert!(sc.fits_whole);
    assert_eq!(sc.set_bytes, 1_000_000 * 432 * 432 * 4);
}

#[test]
fn not_fitting_exits_1_with_what_would_make_it_fit() {
    let r = fit_exit(
        &[
            "--job",
            "relion-refine",
            "--particles",
            "1e6",
            "--box",
            "432",
            "--gpu",
            "a100-80gb",
            "--mig",
            "1g.10gb",
            "--ranks-per-gpu",
            "2",
        ],
        1,
    );
    assert!(!r.fits);
    let kinds: Vec<&str> = r.remedies.iter().map(|m| m.kind.as_str()).collect();
    for k in ["pad", "ranks_per_gpu", "mig", "fourier_crop"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    // CryoSPARC's cache takes whole files or nothing: float16 halves them
    let r = fit_exit(
        &[
            "--job",
            "nu-refine",
            "--particles",
            "1e6",
            "--box",
            "432",
            "--gpu",
            "a100-80gb",
            "--scratch",
            "500GB",
        ],
        1,
    );
    assert_eq!(r.scratch.as_ref().unwrap().bytes_on_scratch, 0);
    assert!(r.remedies.iter().any(|m| m.kind == "float16"));
    assert_eq!(r.lines.lane.len(), 3);
    // the table says it too
    let out = cryocap()
        .args([
            "fit",
            "--job",
            "relion-refine",
            "--particles",
            "1e6",
            "--box",
            "900",
        ])
        .args(["--gpu", "rtx-3090"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("What would make it fit") && text.contains("--pad 1"),
        "{text}"
    );
}

#[test]
fn bad_input_is_one_line() {
    let base = [
        "fit",
        "--job",
        "relion-refine",
        "--particles",
        "1e6",
        "--box",
        "432",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        bad_input(&v)
    };
    let l = with(&["--gpu", "a100-80gb", "--mig", "2g.10gb"]);
    assert!(l.contains("--mig 2g.10gb") && l.contains("3g.40gb"), "{l}");
    let l = with(&["--gpu", "rtx-3090", "--mig", "1g.5gb"]);
    assert!(l.contains("no MIG profiles"), "{l}");
    let l = with(&[
        "--gpu",
        "a100-80gb",
        "--cores",
        "8",
        "--threads",
        "4",
        "--ranks-per-gpu",
        "3",
    ]);
    assert!(l.contains("--threads 4") && l.contains("8 cores"), "{l}");
    let l = with(&["--gpu", "a100-80gb", "--scratch", "5GB"]);
    assert!(l.contains("--scratch") && l.contains("--keep-free"), "{l}");
    let l = with(&[
        "--gpu",
        "a100-80gb",
        "--scratch",
        "10GB",
        "--keep-free",
        "10GB",
    ]);
    assert!(l.contains("--keep-free"), "{l}");
    let l = with(&["--vram", "24", "--mig", "3g.40gb"]);
    assert!(l.contains("--gpu"), "{l}");
    let l = with(&[]);
    assert!(l.contains("--gpu") && l.contains("--vram"), "{l}");
    let l = bad_input(&[
        "fit",
        "--job",
        "nu-refine",
        "--particles",
        "1",
        "--box",
        "64",
        "--vram",
        "8",
        "--pad",
        "1",
    ]);
    assert!(l.contains("--pad") && l.contains("CryoSPARC"), "{l}");
    let l = bad_input(&[
        "fit",
        "--job",
        "relion-refine",
        "--particles",
        "1",
        "--box",
        "64",
        "--vram",
        "8",
        "--classes",
        "3",
    ]);
    assert!(l.contains("--classes"), "{l}");
    let l = bad_input(&[
        "fit",
        "--job",
        "relion-refin",
        "--particles",
        "1",
        "--box",
        "64",
        "--vram",
        "8",
    ]);
    assert!(l.contains("relion-refine"), "{l}");
}

#[test]
fn a_qualify_file_is_the_target() {
    let q = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/qualify.json"
    );
    // that VM measured no GPU: the VRAM comes from --gpu, cores and RAM
    // from the file
    let r = fit(&[
        "--job",
        "relion-refine",
        "--particles",
        "1e5",
        "--box",
        "256",
        "--gpu",
        "a100-80gb",
        "--node",
        q,
    ]);
    assert_eq!(r.target.cores, Some(2));
    assert_eq!(r.target.ram_bytes, Some(25_275_973_632));
    assert_eq!(r.input.threads, 2);
    let l = bad_input(&[
        "fit",
        "--job",
        "relion-refine",
        "--particles",
        "1e5",
        "--box",
        "256",
        "--node",
        q,
    ]);
    assert!(l.contains("--gpu"), "{l}");
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/plan.json"
    );
    let l = bad_input(&[
        "fit",
        "--job",
        "relion-refine",
        "--particles",
        "1",
        "--box",
        "64",
        "--vram",
        "8",
        "--node",
        plan,
    ]);
    assert!(l.contains("plan result"), "{l}");
}

fn write_stack(path: &Path, n: usize, box_size: usize) {
    // an MRC2014 header: NX NY NZ, MODE 2, then zeros; MAP stamp
    let mut h = vec![0u8; 1024];
    for (i, v) in [box_size as u32, box_size as u32, n as u32, 2]
        .iter()
        .enumerate()
    {
        h[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    h[208..212].copy_from_slice(b"MAP ");
    h[212..214].copy_from_slice(&[0x44, 0x44]);
    h.resize(1024 + n * box_size * box_size * 4, 0);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, h).unwrap();
}

#[test]
fn a_star_file_gives_particles_box_and_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(&dir.path().join("Extract/job1/a.mrcs"), 100, 16);
    let star = dir.path().join("Select/job2/particles.star");
    std::fs::create_dir_all(star.parent().unwrap()).unwrap();
    std::fs::write(
        &star,
        "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImageSize\n1 16\n\n\
         data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n\
         1@Extract/job1/a.mrcs 1\n50@Extract/job1/a.mrcs 1\n",
    )
    .unwrap();
    let r = fit(&[
        "--job",
        "homo-refine",
        "--particles-file",
        star.to_str().unwrap(),
        "--vram",
        "8",
        "--scratch",
        "20GB",
    ]);
    assert_eq!((r.input.particles, r.input.box_size), (2, 16));
    // the cache copies the whole 100-image file for two particles
    assert_eq!(r.scratch.unwrap().set_bytes, 1024 + 100 * 16 * 16 * 4);
}

#[cfg(unix)]
#[test]
fn the_sbatch_script_parses_and_passes_hostile_paths_through_intact() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("scr $HOME `id` 'q' \"dq\" ;&|*");
    let job_dir = "Refine3D/a b $(id)";
    let script = dir.path().join("job.sh");
    // the particles file too: a directory with quotes and a dollar sign
    let star = dir.path().join("Select/it's $1 \"x\"/particles.star");
    std::fs::create_dir_all(star.parent().unwrap()).unwrap();
    std::fs::write(
        &star,
        "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImageSize\n1 256\n\n\
         data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a.mrcs 1\n",
    )
    .unwrap();
    fit(&[
        "--job",
        "relion-refine",
        "--particles-file",
        star.to_str().unwrap(),
        "--gpu",
        "a100-80gb",
        "--ranks-per-gpu",
        "2",
        "--gpus",
        "2",
        "--scratch",
        "1TB",
        "--scratch-dir",
        hostile.to_str().unwrap(),
        "--job-dir",
        job_dir,
        "--emit-sbatch",
        script.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("#!/bin/bash\n"));
    assert!(text.contains("#SBATCH --gres=gpu:2\n"), "{text}");
    assert!(text.contains("#SBATCH --time="), "{text}");
    let Ok(check) = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
    else {
        assert!(
            std::env::var_os("CRYOCAP_REQUIRE_BASH").is_none(),
            "bash is required"
        );
        eprintln!("skipped: no bash");
        return;
    };
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // run it with a stand-in srun that prints its arguments, one a line
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let srun = bin.join("srun");
    std::fs::write(
        &srun,
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&srun, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = std::process::Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let args: Vec<String> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let after = |flag: &str| {
        let i = args.iter().position(|a| a == flag).unwrap();
        args[i + 1].clone()
    };
    assert_eq!(after("--scratch_dir"), hostile.to_str().unwrap());
    assert_eq!(after("--i"), star.to_str().unwrap());
    assert_eq!(after("--o"), format!("{job_dir}/run"));
    assert_eq!(after("--gpu"), "0:0:1:1");
    assert!(dir.path().join(job_dir).is_dir());
    // what no quoting makes safe is refused, and nothing is written
    let nl = dir.path().join("new\nline");
    let out2 = dir.path().join("job2.sh");
    let l = bad_input(&[
        "fit",
        "--job",
        "relion-refine",
        "--particles",
        "1e5",
        "--box",
        "256",
        "--vram",
        "80",
        "--scratch",
        "1TB",
        "--scratch-dir",
        nl.to_str().unwrap(),
        "--emit-sbatch",
        out2.to_str().unwrap(),
    ]);
    assert!(l.contains("--scratch-dir"), "{l}");
    assert!(!out2.exists());
    // CryoSPARC jobs go through their lane
    let l = bad_input(&[
        "fit",
        "--job",
        "nu-refine",
        "--particles",
        "1e5",
        "--box",
        "256",
        "--vram",
        "80",
        "--emit-sbatch",
        out2.to_str().unwrap(),
    ]);
    assert!(l.contains("lane"), "{l}");
    assert!(!out2.exists());
}
