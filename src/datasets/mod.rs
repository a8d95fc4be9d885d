//! The curated data cryocap ships in `datasets/`, embedded into the binary at
//! build time and parsed once. Every row carries its source.

mod detectors;
mod empiar;
mod gpus;
mod job_times;
mod mig;
mod profiles;
mod ssd_sizes;
mod storage_tiers;
mod vram_jobs;

pub use detectors::Detector;
pub use empiar::EmpiarDataset;
pub use gpus::GpuModel;
pub use job_times::JobTimeRow;
pub use mig::MigProfile;
pub use profiles::{ExampleSystem, Profile, Requirement, Scale};
pub use ssd_sizes::SsdClass;
pub use storage_tiers::StorageTier;
pub use vram_jobs::VramJob;

use std::sync::OnceLock;

/// Why shipped data could not be read. Only a broken build produces this; the
/// unit tests parse every file.
#[derive(Debug, thiserror::Error)]
#[error("shipped data file datasets/{file} is malformed: {reason}")]
pub struct DataError {
    pub file: &'static str,
    pub reason: String,
}

/// Everything in `datasets/`, parsed.
#[derive(Debug)]
pub struct Catalog {
    pub gpus: Vec<GpuModel>,
    pub storage_tiers: Vec<StorageTier>,
    pub ssd_classes: Vec<SsdClass>,
    pub vram_jobs: Vec<VramJob>,
    pub mig_profiles: Vec<MigProfile>,
    pub empiar: Vec<EmpiarDataset>,
    pub detectors: Vec<Detector>,
    pub profiles: Vec<Profile>,
    pub job_times: Vec<JobTimeRow>,
}

fn read_csv<T: serde::de::DeserializeOwned>(
    file: &'static str,
    text: &str,
) -> Result<Vec<T>, DataError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| DataError {
            file,
            reason: e.to_string(),
        })
}

impl Catalog {
    fn parse() -> Result<Catalog, DataError> {
        Ok(Catalog {
            gpus: read_csv("gpus.csv", include_str!("../../datasets/gpus.csv"))?,
            storage_tiers: read_csv("storage.csv", include_str!("../../datasets/storage.csv"))?,
            ssd_classes: read_csv(
                "ssd_sizes.csv",
                include_str!("../../datasets/ssd_sizes.csv"),
            )?,
            vram_jobs: read_csv("vram.csv", include_str!("../../datasets/vram.csv"))?,
            mig_profiles: read_csv(
                "mig-profiles.csv",
                include_str!("../../datasets/mig-profiles.csv"),
            )?,
            empiar: read_csv("empiar.csv", include_str!("../../datasets/empiar.csv"))?,
            detectors: read_csv(
                "detectors.csv",
                include_str!("../../datasets/detectors.csv"),
            )?,
            profiles: profiles::parse_all()?,
            job_times: read_csv(
                "job-times.csv",
                include_str!("../../datasets/job-times.csv"),
            )?,
        })
    }

    /// The shipped catalog, parsed on first use.
    pub fn get() -> Result<&'static Catalog, DataError> {
        static CATALOG: OnceLock<Result<Catalog, String>> = OnceLock::new();
        match CATALOG.get_or_init(|| Catalog::parse().map_err(|e| e.to_string())) {
            Ok(c) => Ok(c),
            Err(reason) => Err(DataError {
                file: "*",
                reason: reason.clone(),
            }),
        }
    }

    /// A detector by id or name, ignoring case.
    pub fn detector(&self, name: &str) -> Option<&Detector> {
        self.detectors
            .iter()
            .find(|d| d.id.eq_ignore_ascii_case(name) || d.name.eq_ignore_ascii_case(name))
    }

    pub fn gpu(&self, name: &str) -> Option<&GpuModel> {
        let key = normalise(name);
        self.gpus
            .iter()
            .find(|g| normalise(&g.id) == key || normalise(&g.name) == key)
    }

    pub fn dataset(&self, id: &str) -> Option<&EmpiarDataset> {
        let key = normalise(id);
        self.empiar
            .iter()
            .find(|d| normalise(&d.id) == key || normalise(&d.id) == format!("empiar{key}"))
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// The MIG profiles catalog GPU `gpu_id` offers, smallest memory first.
    pub fn mig_profiles_of(&self, gpu_id: &str) -> Vec<&MigProfile> {
        let mut v: Vec<&MigProfile> = self
            .mig_profiles
            .iter()
            .filter(|m| m.offered_by(gpu_id))
            .collect();
        v.sort_by_key(|m| (m.memory_eighths, m.compute_slices));
        v
    }

    pub fn storage_tier(&self, id: &str) -> Option<&StorageTier> {
        self.storage_tiers.iter().find(|t| t.id == id)
    }
}

/// Lower case, letters and digits only: `RTX-3090`, `rtx 3090` and
/// `NVIDIA GeForce RTX 3090` compare on their letters.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The one line for a name the catalog lacks, with the nearest it has:
/// "--gpu: unknown GPU 'x'; nearest: a, b, c (see `cryocap catalog gpus`)".
pub fn unknown_name<'a>(
    flag: &str,
    what: &str,
    wanted: &str,
    names: impl Iterator<Item = &'a str>,
    list: &str,
) -> String {
    format!(
        "{flag}: unknown {what} '{}'; nearest: {} (see `cryocap catalog {list}`)",
        crate::text::printable(wanted),
        nearest(wanted, names, 3).join(", ")
    )
}

/// The catalog's names closest to `wanted`, best first (Jaro-Winkler on
/// lower-case names without separators, a containing name first).
pub fn nearest<'a>(
    wanted: &str,
    names: impl Iterator<Item = &'a str>,
    count: usize,
) -> Vec<&'a str> {
    let key = normalise(wanted);
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| {
            let n_key = normalise(n);
            let mut score = strsim::jaro_winkler(&key, &n_key);
            if !key.is_empty() && n_key.contains(&key) {
                score += 0.5;
            }
            (score, n)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(count).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_parses_and_has_sources() {
        let c = Catalog::parse().expect("datasets parse");
        assert!(c.gpus.len() >= 15, "gpus.csv needs at least 15 GPUs");
        assert!(c.empiar.len() >= 6, "empiar.csv needs at least 6 datasets");
        assert_eq!(c.storage_tiers.len(), 8);
        assert_eq!(c.vram_jobs.len(), 8);
        assert!(c.gpus.iter().all(|g| !g.source.trim().is_empty()));
        assert!(c.storage_tiers.iter().all(|t| !t.source.trim().is_empty()));
        assert!(c.empiar.iter().all(|d| !d.source.trim().is_empty()));
        assert!(c.vram_jobs.iter().all(|j| !j.source.trim().is_empty()));
        assert!(c.mig_profiles.iter().all(|m| !m.source.trim().is_empty()));
        // every MIG row names catalog GPUs, and A100 40/80, H100 80/94 and
        // H200 each have their six profiles
        for m in &c.mig_profiles {
            for g in m.gpus.split_whitespace() {
                assert!(c.gpu(g).is_some(), "{g} of {}", m.profile);
            }
        }
        for g in ["a100-40gb", "a100-80gb", "h100-sxm", "h100-nvl", "h200"] {
            assert_eq!(c.mig_profiles_of(g).len(), 6, "{g}");
        }
        assert!(c.profile("cryosparc-worker").is_some());
        assert!(c.profile("cryosparc-master").is_some());
    }

    #[test]
    fn every_gpu_the_seeds_name_is_in_the_catalog() {
        let c = Catalog::parse().unwrap();
        for name in [
            "rtx-3090",
            "a100-80gb",
            "rtx-a4000",
            "tesla-v100-32gb",
            "rtx-2080-ti",
            "quadro-gv100",
            "quadro-rtx-8000",
        ] {
            assert!(c.gpu(name).is_some(), "{name}");
        }
    }

    #[test]
    fn lookups_forgive_spelling() {
        let c = Catalog::parse().unwrap();
        assert_eq!(c.gpu("RTX 3090").unwrap().id, "rtx-3090");
        assert_eq!(c.gpu("NVIDIA GeForce RTX 3090").unwrap().id, "rtx-3090");
        assert!(c.gpu("rtx 9999").is_none());
        let near = nearest("rtx3080", c.gpus.iter().map(|g| g.id.as_str()), 3);
        assert!(
            near.contains(&"rtx-3090") || near.contains(&"rtx-3060"),
            "{near:?}"
        );
    }
}
