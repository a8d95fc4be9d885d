//! The job types the job-time model knows: what one unit of work is, the
//! defaults a job runs with when the user does not say, and how the work
//! grows with the job's inputs.

/// How a job searches orientations, which sets how its work grows with the
/// angular sampling (HEALPix order `h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// 3D: 12·4^h directions × 6·2^h in-plane angles, so 8× per order.
    ThreeD,
    /// 2D: in-plane angles only, 2× per order.
    TwoD,
    /// No orientation search (a network's training epoch, motion correction).
    None,
}

/// One job type.
#[derive(Debug, Clone, PartialEq)]
pub struct JobType {
    /// The model's name, e.g. `relion-class3d`.
    pub id: &'static str,
    pub software: &'static str,
    pub label: &'static str,
    /// What `--iterations` counts: `iteration` or `epoch`.
    pub unit: &'static str,
    pub default_iterations: f64,
    pub default_classes: u32,
    /// Whether the job's work grows with its classes.
    pub takes_classes: bool,
    pub search: Search,
    /// The HEALPix order the calibration rows ran at unless they say.
    pub default_healpix: u32,
    /// The image size the job works at, as a fraction of the box, when
    /// neither the user nor a row says: classification works at a limited
    /// resolution, refinement climbs towards Nyquist.
    pub image_fraction: f64,
    /// Whether the FFTs' n² log n cost applies (false: n² alone).
    pub fft: bool,
    /// Whether the program overlaps reading particles with computing.
    pub overlaps_io: bool,
    /// Names other commands use for it (`recommend`'s chains, `fit --job`).
    pub aliases: &'static [&'static str],
    /// While no run of this job type is calibrated, the calibrated job type
    /// it is timed as, per unit of work (flagged, its interval widened).
    pub proxy: Option<&'static str>,
}

const fn job(id: &'static str, software: &'static str, label: &'static str) -> JobType {
    JobType {
        id,
        software,
        label,
        unit: "iteration",
        default_iterations: 25.0,
        default_classes: 1,
        takes_classes: false,
        search: Search::ThreeD,
        default_healpix: 2,
        image_fraction: 0.5,
        fft: true,
        overlaps_io: false,
        aliases: &[],
        proxy: None,
    }
}

/// A cryoDRGN network's training: an epoch a unit, one pass over every
/// image at full size, no orientation search or FFTs, and reading
/// overlapped with computing.
const fn cryodrgn(
    id: &'static str,
    label: &'static str,
    aliases: &'static [&'static str],
) -> JobType {
    JobType {
        default_iterations: 1.0,
        unit: "epoch",
        search: Search::None,
        fft: false,
        image_fraction: 1.0,
        overlaps_io: true,
        aliases,
        ..job(id, "cryodrgn", label)
    }
}

/// Every job type, RELION's first.
pub static JOB_TYPES: &[JobType] = &[
    JobType {
        default_classes: 50,
        takes_classes: true,
        search: Search::TwoD,
        image_fraction: 0.4,
        aliases: &["class2d-relion", "relion-2d"],
        ..job("relion-class2d", "relion", "RELION 2D classification")
    },
    JobType {
        default_classes: 4,
        takes_classes: true,
        image_fraction: 0.3,
        aliases: &["class3d", "relion-3d"],
        ..job("relion-class3d", "relion", "RELION 3D classification")
    },
    JobType {
        image_fraction: 0.6,
        aliases: &["relion-refine", "refine3d", "auto-refine"],
        ..job("relion-refine3d", "relion", "RELION 3D auto-refine")
    },
    cryodrgn(
        "cryodrgn-train-vae",
        "cryoDRGN train_vae, default 256x3 network",
        &["cryodrgn", "train-vae"],
    ),
    cryodrgn(
        "cryodrgn-train-vae-large",
        "cryoDRGN train_vae, large 1024x3 network",
        &["cryodrgn-large"],
    ),
    cryodrgn(
        "cryodrgn-train-vae-amp",
        "cryoDRGN train_vae with mixed precision (--amp)",
        &["cryodrgn-amp"],
    ),
    JobType {
        default_iterations: 20.0,
        default_classes: 50,
        takes_classes: true,
        search: Search::TwoD,
        image_fraction: 0.4,
        overlaps_io: true,
        aliases: &["class2d", "cryosparc-class2d"],
        proxy: Some("relion-class2d"),
        ..job("cryosparc-2d", "cryosparc", "CryoSPARC 2D classification")
    },
    JobType {
        default_iterations: 5.0,
        image_fraction: 0.25,
        overlaps_io: true,
        aliases: &["abinit", "cryosparc-abinit"],
        proxy: Some("relion-class3d"),
        ..job(
            "cryosparc-ab-initio",
            "cryosparc",
            "CryoSPARC ab-initio reconstruction",
        )
    },
    JobType {
        default_iterations: 10.0,
        overlaps_io: true,
        aliases: &["homo-refine"],
        proxy: Some("relion-refine3d"),
        ..job(
            "cryosparc-homo-refine",
            "cryosparc",
            "CryoSPARC homogeneous refinement",
        )
    },
    JobType {
        default_iterations: 10.0,
        overlaps_io: true,
        aliases: &["nu-refine"],
        proxy: Some("relion-refine3d"),
        ..job(
            "cryosparc-nu-refine",
            "cryosparc",
            "CryoSPARC non-uniform refinement",
        )
    },
    JobType {
        default_iterations: 20.0,
        default_classes: 4,
        takes_classes: true,
        image_fraction: 0.3,
        overlaps_io: true,
        aliases: &["hetero-refine"],
        proxy: Some("relion-class3d"),
        ..job(
            "cryosparc-hetero-refine",
            "cryosparc",
            "CryoSPARC heterogeneous refinement",
        )
    },
    JobType {
        default_iterations: 10.0,
        overlaps_io: true,
        aliases: &["local-refine"],
        proxy: Some("relion-refine3d"),
        ..job(
            "cryosparc-local-refine",
            "cryosparc",
            "CryoSPARC local refinement",
        )
    },
    JobType {
        default_iterations: 1.0,
        image_fraction: 1.0,
        overlaps_io: true,
        aliases: &["reconstruct", "homo-reconstruct"],
        proxy: Some("relion-refine3d"),
        ..job(
            "cryosparc-reconstruct",
            "cryosparc",
            "CryoSPARC homogeneous reconstruction only",
        )
    },
];

/// The job type named `name` (its id or an alias, any case).
pub fn find(name: &str) -> Option<&'static JobType> {
    let n = name.trim().to_ascii_lowercase();
    JOB_TYPES
        .iter()
        .find(|j| j.id == n || j.aliases.contains(&n.as_str()))
}

/// The job type `--job` names, or the line that says it is unknown and
/// lists the ids.
pub fn named(name: &str) -> Result<&'static JobType, String> {
    find(name).ok_or_else(|| format!("--job {name}: unknown job; one of {}", names()))
}

/// The ids, for error messages.
pub fn names() -> String {
    JOB_TYPES
        .iter()
        .map(|j| j.id)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_aliases_are_unique_and_found() {
        let mut all: Vec<&str> = JOB_TYPES.iter().map(|j| j.id).collect();
        all.extend(JOB_TYPES.iter().flat_map(|j| j.aliases.iter().copied()));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a name is used twice");
        for name in all {
            assert!(find(name).is_some(), "{name}");
        }
        assert_eq!(find("Class3D").unwrap().id, "relion-class3d");
        assert!(find("motioncor").is_none());
    }

    #[test]
    fn every_vram_job_has_a_type() {
        for j in &crate::datasets::Catalog::get().unwrap().vram_jobs {
            assert!(find(&j.job).is_some(), "{}", j.job);
        }
    }
}
